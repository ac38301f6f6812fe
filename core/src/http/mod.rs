//! The wire: requests as opdeck builds them, responses as transports return
//! them, and the [`Transport`] trait that moves one to the other.
//!
//! A [`Request`] is plain data built from an operation's meta and input. The
//! same value is sent by reqwest ([`client`]), answered by the simulator
//! (`mock`), and rendered as a curl command for `--dry-run`, so the three can
//! never disagree about what would be sent. Headers and query pairs carry a
//! `sensitive` flag set by the auth layer; every rendering redacts them.

use std::fmt;
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::error::Result;
use crate::operation::Method;

pub mod body;
pub mod client;
pub mod curl;
pub mod operation;
pub mod params;
pub mod request;
pub mod response;
pub mod retry;
pub mod sse;

/// What the redacted form of a secret looks like everywhere.
pub const REDACTED: &str = "<redacted>";

/// One header or query pair.
#[derive(Clone, PartialEq, Eq)]
pub struct Pair {
    /// The name (headers keep the spec's case; HTTP ignores it).
    pub name: String,
    /// The value, not yet percent-encoded for the query.
    pub value: String,
    /// Whether the value is a credential that must never be shown.
    pub sensitive: bool,
}

impl Pair {
    /// A pair that may be shown.
    pub fn plain(name: impl Into<String>, value: impl Into<String>) -> Self {
        Pair { name: name.into(), value: value.into(), sensitive: false }
    }

    /// A pair whose value is a secret.
    pub fn secret(name: impl Into<String>, value: impl Into<String>) -> Self {
        Pair { name: name.into(), value: value.into(), sensitive: true }
    }

    /// The value, or [`REDACTED`] when it is sensitive.
    pub fn shown(&self) -> &str {
        if self.sensitive { REDACTED } else { &self.value }
    }
}

impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}", self.name, self.shown())
    }
}

/// The data of one multipart part.
#[derive(Debug, Clone, PartialEq)]
pub enum PartData {
    /// In-memory bytes (text fields, JSON fields, small uploads).
    Bytes(Bytes),
    /// A file streamed from disk when the request is sent.
    File(PathBuf),
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// The form field name.
    pub name: String,
    /// The filename sent for file parts.
    pub filename: Option<String>,
    /// The part's content type, when one is sent.
    pub content_type: Option<String>,
    /// The part's data.
    pub data: PartData,
}

/// A request body, ready to send.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    /// No body.
    Empty,
    /// Bytes with their content type (JSON, form, text, small binaries).
    Bytes {
        /// The `Content-Type` header value.
        content_type: String,
        /// The encoded body.
        data: Bytes,
    },
    /// A file streamed from disk as the whole body.
    File {
        /// The `Content-Type` header value.
        content_type: String,
        /// The file to stream.
        path: PathBuf,
    },
    /// A `multipart/form-data` body; the boundary is chosen when sending.
    Multipart(Vec<Part>),
}

impl Payload {
    /// The content type the payload is sent with, if it has a body.
    pub fn content_type(&self) -> Option<&str> {
        match self {
            Payload::Empty => None,
            Payload::Bytes { content_type, .. } | Payload::File { content_type, .. } => Some(content_type),
            Payload::Multipart(_) => Some("multipart/form-data"),
        }
    }
}

/// A request as opdeck sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The operation id, for errors and logs.
    pub operation: String,
    /// The method.
    pub method: Method,
    /// The base URL joined with the expanded path, without the query.
    pub url: url::Url,
    /// Query pairs in order, values not yet encoded.
    pub query: Vec<Pair>,
    /// Whether each query value may keep reserved characters (`allowReserved`).
    /// Holds the names of those parameters.
    pub query_reserved: Vec<String>,
    /// Names of query pairs whose name and value [`request::build`] already
    /// percent-encoded by their style, so that delimiters stay literal
    /// (`color=a%2Cb,c`); every other pair is encoded when the URL is rendered.
    pub query_encoded: Vec<String>,
    /// Headers in order, cookies included as one `Cookie` header.
    pub headers: Vec<Pair>,
    /// The body.
    pub body: Payload,
}

impl Request {
    /// An empty request of `method` to `url` for `operation`.
    pub fn new(operation: impl Into<String>, method: Method, url: url::Url) -> Self {
        Request {
            operation: operation.into(),
            method,
            url,
            query: Vec::new(),
            query_reserved: Vec::new(),
            query_encoded: Vec::new(),
            headers: Vec::new(),
            body: Payload::Empty,
        }
    }

    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&Pair> {
        self.headers.iter().find(|p| p.name.eq_ignore_ascii_case(name))
    }

    /// Sets a header, replacing any with the same name.
    pub fn set_header(&mut self, pair: Pair) {
        self.headers.retain(|p| !p.name.eq_ignore_ascii_case(&pair.name));
        self.headers.push(pair);
    }

    /// The encoded query string (without `?`); sensitive values become
    /// [`REDACTED`] when `redact` is set. Every rendering of a request
    /// (transport, curl, simulator) goes through here so they agree.
    pub fn query_string(&self, redact: bool) -> String {
        if self.query.is_empty() {
            return String::new();
        }
        let mut out = String::with_capacity(self.query.iter().map(|p| p.name.len() + p.value.len() + 2).sum());
        for p in &self.query {
            if !out.is_empty() {
                out.push('&');
            }
            if redact && p.sensitive {
                out.push_str(&params::encode(&p.name));
                out.push('=');
                out.push_str(REDACTED);
            } else if self.query_encoded.contains(&p.name) {
                out.push_str(&p.name);
                out.push('=');
                out.push_str(&p.value);
            } else {
                let enc = if self.query_reserved.contains(&p.name) { params::encode_reserved } else { params::encode };
                out.push_str(&params::encode(&p.name));
                out.push('=');
                out.push_str(&enc(&p.value));
            }
        }
        out
    }

    /// The URL with the query appended, as it goes on the wire.
    pub fn full_url(&self) -> url::Url {
        let mut url = self.url.clone();
        let q = self.query_string(false);
        url.set_query(if q.is_empty() { None } else { Some(&q) });
        url
    }

    /// The URL as text with sensitive query values shown as [`REDACTED`].
    pub fn redacted_url(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        let q = self.query_string(true);
        if q.is_empty() { url.to_string() } else { format!("{url}?{q}") }
    }
}

/// A response body: whole, or a stream for downloads and events.
pub enum ResponseBody {
    /// The whole body in memory.
    Full(Bytes),
    /// The body as it arrives.
    Stream(BoxStream<'static, Result<Bytes>>),
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseBody::Full(b) => write!(f, "Full({} bytes)", b.len()),
            ResponseBody::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// A response as a transport returns it.
#[derive(Debug)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Headers, names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: ResponseBody,
}

impl Response {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Whether a response body should be kept in memory or streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Delivery {
    /// Read the whole body, up to the configured cap.
    #[default]
    Buffered,
    /// Hand the body over as a stream (downloads, server-sent events).
    Streamed,
}

/// Something that sends requests: reqwest over the network, or the simulator.
#[async_trait]
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends one request once. Retries, auth and decoding happen above.
    async fn send(&self, request: &Request, delivery: Delivery) -> Result<Response>;
}
