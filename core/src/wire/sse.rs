//! Server-sent events (`text/event-stream`), parsed as bytes arrive.
//!
//! The parser keeps partial lines between chunks and handles a `\r\n` split
//! across two chunks, so events come out the same whatever the network's
//! chunking (WildDuck's `/users/{user}/updates` is such a stream).

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use serde::Serialize;

use crate::error::Result;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The last event id the stream set, if any.
    pub id: Option<String>,
    /// The event type (`message` when the server names none).
    pub event: String,
    /// The data lines, joined with `\n`.
    pub data: String,
    /// The reconnection delay in milliseconds the server asked for, if any.
    pub retry: Option<u64>,
}

/// An incremental parser of the event-stream format.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    after_cr: bool,
    data: String,
    has_data: bool,
    event: String,
    id: Option<String>,
    retry: Option<u64>,
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Parser::default()
    }

    /// Feeds a chunk and returns the events it completed.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        for &b in chunk {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\r' => {
                    self.after_cr = true;
                    self.end_line(&mut out);
                }
                b'\n' => self.end_line(&mut out),
                _ => self.line.push(b),
            }
        }
        out
    }

    fn end_line(&mut self, out: &mut Vec<Event>) {
        let line = std::mem::take(&mut self.line);
        let line = String::from_utf8_lossy(&line);
        if line.is_empty() {
            if self.has_data {
                out.push(Event {
                    id: self.id.clone(),
                    event: if self.event.is_empty() { "message".into() } else { self.event.clone() },
                    data: std::mem::take(&mut self.data),
                    retry: self.retry,
                });
            }
            self.data.clear();
            self.has_data = false;
            self.event.clear();
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = value.to_owned(),
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            "retry" => {
                if let Ok(ms) = value.parse() {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
    }
}

/// Turns a byte stream into a stream of events.
pub fn events(bytes: BoxStream<'static, Result<Bytes>>) -> BoxStream<'static, Result<Event>> {
    bytes
        .scan(Parser::new(), |parser, chunk| {
            let items: Vec<Result<Event>> = match chunk {
                Ok(b) => parser.feed(&b).into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            futures::future::ready(Some(futures::stream::iter(items)))
        })
        .flatten()
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIRE: &str = ": hello\r\nid: 1\r\nevent: mail\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\ndata:plain\n\nretry: 500\ndata: é\r\rid\ndata\n\n";

    fn expected() -> Vec<Event> {
        vec![
            Event { id: Some("1".into()), event: "mail".into(), data: "{\"a\":\n1}".into(), retry: None },
            Event { id: Some("1".into()), event: "message".into(), data: "plain".into(), retry: None },
            Event { id: Some("1".into()), event: "message".into(), data: "é".into(), retry: Some(500) },
            Event { id: Some("".into()), event: "message".into(), data: "".into(), retry: Some(500) },
        ]
    }

    #[test]
    fn parses_in_one_chunk() {
        assert_eq!(Parser::new().feed(WIRE.as_bytes()), expected());
    }

    #[test]
    fn any_chunking_gives_the_same_events() {
        let bytes = WIRE.as_bytes();
        for size in 1..8 {
            let mut p = Parser::new();
            let got: Vec<Event> = bytes.chunks(size).flat_map(|c| p.feed(c)).collect();
            assert_eq!(got, expected(), "chunk size {size}");
        }
        // Split exactly between the `\r` and `\n` of a blank line, and inside `é`.
        let cut = WIRE.find("1}\r\n\r\n").expect("marker") + 5;
        let mut p = Parser::new();
        let mut got = p.feed(&bytes[..cut]);
        got.extend(p.feed(&bytes[cut..]));
        assert_eq!(got, expected());
    }

    #[tokio::test]
    async fn streams_events_and_passes_errors_through() {
        let chunks = vec![
            Ok(Bytes::from("data: a\n")),
            Ok(Bytes::from("\ndata: b\n\n")),
            Err(crate::error::Error::usage("boom")),
        ];
        let got: Vec<Result<Event>> = events(futures::stream::iter(chunks).boxed()).collect().await;
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].as_ref().expect("first").data, "a");
        assert_eq!(got[1].as_ref().expect("second").data, "b");
        assert!(got[2].is_err());
    }
}
