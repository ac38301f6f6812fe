//! The loopback HTTP/1.1 server on 127.0.0.1.
//!
//! It records the exact bytes of every request (so tests can assert what went
//! on the wire) and answers from a script: a queue of [`Reply`]s or a closure.
//! Faults a real network produces (slow answers, connections closed mid-body)
//! are part of the script, so transport error paths are testable offline.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query exactly as sent on the request line.
    pub target: String,
    /// Headers in arrival order, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// The raw bytes: request line, headers and body as received.
    pub raw: Vec<u8>,
}

impl RecordedRequest {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The path part of the target.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query part of the target (`""` when there is none).
    pub fn query(&self) -> &str {
        self.target.split_once('?').map_or("", |(_, q)| q)
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How a reply misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Announce the full Content-Length, send half the body, close.
    CloseMidBody,
    /// Close the connection without answering.
    CloseImmediately,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers to send (Content-Length is added).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Option<Duration>,
    /// Misbehave this way.
    pub fault: Option<Fault>,
}

impl Reply {
    /// An empty reply with `status`.
    pub fn status(status: u16) -> Self {
        Reply { status, headers: Vec::new(), body: Vec::new(), delay: None, fault: None }
    }

    /// A 200 with a JSON body.
    pub fn json(value: serde_json::Value) -> Self {
        Reply::status(200).header("content-type", "application/json").body(value.to_string())
    }

    /// A 200 with a text body.
    pub fn text(text: &str) -> Self {
        Reply::status(200).header("content-type", "text/plain; charset=utf-8").body(text)
    }

    /// A redirect to `location`.
    pub fn redirect(status: u16, location: &str) -> Self {
        Reply::status(status).header("location", location)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets the status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Waits before answering.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Closes the connection halfway through the body.
    pub fn close_mid_body(mut self) -> Self {
        self.fault = Some(Fault::CloseMidBody);
        self
    }

    /// Closes the connection without answering.
    pub fn close_immediately(mut self) -> Self {
        self.fault = Some(Fault::CloseImmediately);
        self
    }
}

type Responder = dyn Fn(&RecordedRequest) -> Reply + Send + Sync;

struct State {
    requests: Mutex<Vec<RecordedRequest>>,
    hits: AtomicUsize,
    connections: AtomicUsize,
    /// A connection left idle this long is closed, as servers do with keep-alive.
    idle_close: Option<Duration>,
    responder: Box<Responder>,
}

/// A running loopback server; it stops when dropped.
pub struct TestServer {
    addr: std::net::SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    /// Starts a server that answers every request with `responder`.
    pub async fn start(responder: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static) -> TestServer {
        TestServer::serving(None, Box::new(responder)).await
    }

    /// [`TestServer::start`], closing every connection left idle for `idle`
    /// (gunicorn does so after 2 s).
    pub async fn closing_idle(
        idle: Duration,
        responder: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        TestServer::serving(Some(idle), Box::new(responder)).await
    }

    async fn serving(idle_close: Option<Duration>, responder: Box<Responder>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(State {
            requests: Mutex::new(Vec::new()),
            hits: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            idle_close,
            responder,
        });
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                st.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, st.clone()));
            }
        });
        TestServer { addr, state, task }
    }

    /// Starts a server that answers with `replies` in order, repeating the last.
    pub async fn queue(replies: Vec<Reply>) -> TestServer {
        let replies = Mutex::new(std::collections::VecDeque::from(replies));
        TestServer::start(move |_| {
            let mut q = replies.lock().expect("queue lock");
            if q.len() > 1 { q.pop_front() } else { q.front().cloned() }.unwrap_or_else(|| Reply::status(404))
        })
        .await
    }

    /// Starts a server that answers every request with the same reply.
    pub async fn always(reply: Reply) -> TestServer {
        TestServer::start(move |_| reply.clone()).await
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().expect("requests lock").clone()
    }

    /// The last request received.
    pub fn last(&self) -> RecordedRequest {
        self.requests().pop().expect("the server received no request")
    }

    /// How many requests arrived.
    pub fn hits(&self) -> usize {
        self.state.hits.load(Ordering::SeqCst)
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }
}

async fn serve(mut stream: TcpStream, state: Arc<State>) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let next = read_request(&mut stream, &mut buf);
        let req = match state.idle_close {
            None => next.await,
            Some(idle) => tokio::time::timeout(idle, next).await.ok().flatten(),
        };
        let Some(req) = req else { return };
        state.hits.fetch_add(1, Ordering::SeqCst);
        state.requests.lock().expect("requests lock").push(req.clone());
        let reply = (state.responder)(&req);
        if let Some(d) = reply.delay {
            tokio::time::sleep(d).await;
        }
        if reply.fault == Some(Fault::CloseImmediately) {
            return;
        }
        let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
        for (n, v) in &reply.headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", reply.body.len()));
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        if reply.fault == Some(Fault::CloseMidBody) {
            let _ = stream.write_all(&reply.body[..reply.body.len() / 2]).await;
            let _ = stream.flush().await;
            return;
        }
        if stream.write_all(&reply.body).await.is_err() {
            return;
        }
        let _ = stream.flush().await;
        if req.header("connection").is_some_and(|c| c.eq_ignore_ascii_case("close")) {
            return;
        }
    }
}

/// Reads until `buf` holds `n` bytes; false when the peer closed first.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, n: usize) -> bool {
    let mut chunk = [0u8; 8192];
    while buf.len() < n {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
        }
    }
    true
}

/// Reads until `needle` is in `buf` from `from`; returns its index.
async fn fill_until(stream: &mut TcpStream, buf: &mut Vec<u8>, from: usize, needle: &[u8]) -> Option<usize> {
    loop {
        if let Some(i) = buf[from.min(buf.len())..].windows(needle.len()).position(|w| w == needle) {
            return Some(from + i);
        }
        let want = buf.len() + 1;
        if !fill(stream, buf, want).await {
            return None;
        }
    }
}

async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<RecordedRequest> {
    let end = fill_until(stream, buf, 0, b"\r\n\r\n").await?;
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let get = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let body_start = end + 4;
    let (body, consumed) = if get("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        let mut body = Vec::new();
        let mut pos = body_start;
        loop {
            let line_end = fill_until(stream, buf, pos, b"\r\n").await?;
            let size_text = String::from_utf8_lossy(&buf[pos..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            pos = line_end + 2;
            if size == 0 {
                let trailer_end = fill_until(stream, buf, pos, b"\r\n").await?;
                pos = trailer_end + 2;
                break;
            }
            if !fill(stream, buf, pos + size + 2).await {
                return None;
            }
            body.extend_from_slice(&buf[pos..pos + size]);
            pos += size + 2;
        }
        (body, pos)
    } else {
        let len: usize = get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        if !fill(stream, buf, body_start + len).await {
            return None;
        }
        (buf[body_start..body_start + len].to_vec(), body_start + len)
    };
    let raw: Vec<u8> = buf.drain(..consumed).collect();
    Some(RecordedRequest { method, target, headers, body, raw })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
