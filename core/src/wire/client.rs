//! The network transport: one pooled reqwest client on the shared runtime.
//!
//! Redirects are followed here rather than by reqwest, because only the
//! [`Request`] knows which headers and query pairs are credentials: when a
//! redirect leaves the origin (scheme, host or port), those are dropped along
//! with `Authorization` and `Cookie`, so a credential never reaches a host it
//! was not meant for.

use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use futures::stream::BoxStream;
use url::Url;

use crate::config::HttpSettings;
use crate::error::{Error, Result};
use crate::model::Method;
use crate::wire::{Delivery, Pair, PartData, Payload, Request, Response, ResponseBody, Transport};

/// How many redirects one send follows.
pub const MAX_REDIRECTS: usize = 10;

/// Sends requests over the network with one pooled reqwest client.
///
/// The client is built on the first request, not with the transport: building
/// it loads the system's root certificates, which costs more than listing the
/// whole deck, and discovery commands never send anything.
///
/// Time limits are enforced here, not by the client: a buffered exchange runs
/// under one total timer (redirects and body included) and a streamed body
/// gets one timer per read. A client-wide read timeout would add two more
/// timers to every call, which on a loopback server is a measurable share of
/// the whole call.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: Arc<OnceLock<std::result::Result<reqwest::Client, String>>>,
    /// Names this transport (and its clones) among the clients of threads
    /// that drive their own calls; once the last clone is dropped, the next
    /// client such a thread builds drops this one's.
    token: Arc<()>,
    settings: HttpSettings,
}

/// How long an idle connection of the shared pool is kept (reqwest's default).
/// Its task runs all the time, so a connection the server closes leaves the
/// pool at once.
const SHARED_IDLE: Duration = Duration::from_secs(90);

/// How long an idle connection of a thread's own pool is reused. Its task
/// only runs while the thread drives a call, so a close by the server is not
/// seen until the next request has been written to the dead connection (a
/// non-idempotent call would fail). Servers close idle connections after 2 s
/// (gunicorn, which serves Zou) to 75 s (nginx); a connection idle for longer
/// than this is not reused.
const THREAD_IDLE: Duration = Duration::from_secs(1);

/// The clients of the transports a thread has driven calls for in
/// [`crate::runtime::block_on_here`], and the process they were built in.
struct ThreadClients {
    pid: u32,
    /// Each transport's token (dead once its last clone is dropped) and client.
    clients: Vec<(Weak<()>, reqwest::Client)>,
}

thread_local! {
    static HERE: RefCell<ThreadClients> = const { RefCell::new(ThreadClients { pid: 0, clients: Vec::new() }) };
}

impl HttpTransport {
    /// A transport with default settings.
    pub fn new() -> Result<Self> {
        HttpTransport::with_settings(&HttpSettings::default())
    }

    /// A transport with these timeouts and body cap.
    pub fn with_settings(settings: &HttpSettings) -> Result<Self> {
        Ok(HttpTransport { client: Default::default(), token: Default::default(), settings: settings.clone() })
    }

    fn build_client(&self, idle: Duration) -> std::result::Result<reqwest::Client, String> {
        reqwest::Client::builder()
            .pool_idle_timeout(idle)
            .connect_timeout(self.settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("opdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the http client: {}", e.without_url()))
    }

    /// The client for the runtime the call runs on: the pool shared by every
    /// runtime thread, or, for a thread that drives its own call, that
    /// thread's (a connection only makes progress on the runtime it opened on).
    fn client(&self) -> Result<reqwest::Client> {
        if crate::runtime::driven_here() {
            return self.client_here();
        }
        let built = self.client.get_or_init(|| self.build_client(SHARED_IDLE));
        built.clone().map_err(Error::config)
    }

    fn client_here(&self) -> Result<reqwest::Client> {
        HERE.with(|here| {
            let here = &mut *here.borrow_mut();
            // Inherited by a fork: the connections are the parent's.
            crate::runtime::leak_if_inherited(&mut here.pid, &mut here.clients);
            let mine = Arc::as_ptr(&self.token);
            if let Some((_, client)) = here.clients.iter().find(|(t, _)| t.as_ptr() == mine) {
                return Ok(client.clone());
            }
            here.clients.retain(|(t, _)| t.strong_count() > 0);
            let client = self.build_client(THREAD_IDLE).map_err(Error::config)?;
            here.clients.push((Arc::downgrade(&self.token), client.clone()));
            Ok(client)
        })
    }

    /// The settings the transport was built with.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    fn map_err(&self, operation: &str, e: reqwest::Error) -> Error {
        map_reqwest_err(&self.settings, operation, e)
    }

    /// The request of one hop to `url`, with its headers and, unless it is
    /// read from files, its body.
    fn builder(&self, hop: &Hop<'_>, url: Url) -> Result<reqwest::RequestBuilder> {
        let mut builder = self.client()?.request(reqwest_method(hop.method), url);
        for h in hop.headers.iter() {
            builder = builder.header(&*h.name, &*h.value);
        }
        if hop.with_body
            && let Payload::Bytes { content_type, data } = &hop.request.body
        {
            builder = builder.header("content-type", content_type).body(data.clone());
        }
        Ok(builder)
    }

    /// [`HttpTransport::builder`] for a body read from files, which are
    /// opened anew for every hop and attempt.
    async fn builder_with_files(&self, hop: &Hop<'_>, url: Url) -> Result<reqwest::RequestBuilder> {
        attach_files(self.builder(hop, url)?, &hop.request.body).await
    }

    /// Sends one hop to `url`. Only the request's future is held while it
    /// is on its way, so a plain call's future stays small; a body read from
    /// files is attached in a future of its own.
    async fn send_hop(&self, hop: &Hop<'_>, url: Url, delivery: Delivery) -> Result<reqwest::Response> {
        let op: &str = &hop.request.operation;
        let builder = if hop.with_body && matches!(hop.request.body, Payload::File { .. } | Payload::Multipart(_)) {
            Box::pin(self.builder_with_files(hop, url)).await?
        } else {
            self.builder(hop, url)?
        };
        let pending = builder.send();
        let result = match delivery {
            // A buffered call runs under the total timer of `send`; a streamed
            // one only has to start in time, then each read has its own limit.
            Delivery::Buffered => pending.await,
            Delivery::Streamed => match Box::pin(tokio::time::timeout(self.settings.timeout, pending)).await {
                Ok(r) => r,
                Err(_) => return Err(Error::timeout(op, self.settings.timeout)),
            },
        };
        result.map_err(|e| self.map_err(op, e))
    }

    /// Reads a whole body under the in-memory cap. A body that arrives in
    /// one chunk (most JSON answers) is handed over without a copy.
    async fn read_body(&self, operation: &str, resp: &mut reqwest::Response) -> Result<Bytes> {
        let cap = self.settings.max_body_bytes;
        if resp.content_length().is_some_and(|n| n > cap) {
            return Err(too_big(operation, cap));
        }
        let mut first: Option<Bytes> = None;
        let mut joined = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.map_err(operation, e))? {
            let so_far = if joined.is_empty() { first.as_ref().map_or(0, Bytes::len) } else { joined.len() };
            if (so_far + chunk.len()) as u64 > cap {
                return Err(too_big(operation, cap));
            }
            match &first {
                None => first = Some(chunk),
                Some(head) => {
                    if joined.is_empty() {
                        joined.extend_from_slice(head);
                    }
                    joined.extend_from_slice(&chunk);
                }
            }
        }
        Ok(if joined.is_empty() { first.unwrap_or_default() } else { joined.freeze() })
    }

    /// A streamed body where every read must arrive within the timeout.
    fn timed_stream(&self, operation: &str, resp: reqwest::Response) -> BoxStream<'static, Result<Bytes>> {
        let settings = self.settings.clone();
        let operation = operation.to_owned();
        futures::stream::unfold(Some(resp), move |state| {
            let settings = settings.clone();
            let operation = operation.clone();
            async move {
                let mut resp = state?;
                match tokio::time::timeout(settings.timeout, resp.chunk()).await {
                    Ok(Ok(Some(chunk))) => Some((Ok(chunk), Some(resp))),
                    Ok(Ok(None)) => None,
                    Ok(Err(e)) => Some((Err(map_reqwest_err(&settings, &operation, e)), None)),
                    Err(_) => Some((Err(Error::timeout(operation, settings.timeout)), None)),
                }
            }
        })
        .boxed()
    }

    /// Sends through the redirects; the caller bounds the time it takes.
    async fn exchange(&self, request: &Request, delivery: Delivery) -> Result<Response> {
        let mut hop = Hop {
            request,
            method: request.method,
            headers: Cow::Borrowed(&request.headers),
            with_body: !matches!(request.body, Payload::Empty),
        };
        let mut url = request.url.clone();
        let mut redirects = 0;
        loop {
            // The URL moves into the request; a redirect is resolved against
            // the response's URL, which is the one sent (reqwest follows none).
            let mut resp = self.send_hop(&hop, url, delivery).await?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308)
                && let Some(location) = resp.headers().get("location").and_then(|v| v.to_str().ok())
            {
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(Error::Limit {
                        limit: "redirects".into(),
                        detail: format!("`{}` was redirected more than {MAX_REDIRECTS} times", request.operation),
                    });
                }
                let next = resp.url().join(location).map_err(|e| Error::Transport {
                    operation: request.operation.to_string(),
                    message: format!("bad redirect location: {e}"),
                })?;
                url = redirect(&mut hop, next, status)?;
                continue;
            }
            // The headers are taken after the body is read, so the future
            // does not hold them while it waits.
            return Ok(match delivery {
                Delivery::Buffered => {
                    let body = ResponseBody::Full(self.read_body(&request.operation, &mut resp).await?);
                    Response { status, headers: std::mem::take(resp.headers_mut()), body }
                }
                Delivery::Streamed => {
                    let headers = std::mem::take(resp.headers_mut());
                    Response {
                        status,
                        headers,
                        body: ResponseBody::Stream(self.timed_stream(&request.operation, resp)),
                    }
                }
            });
        }
    }
}

/// A reqwest error as opdeck's: timeouts say which limit ran out, and the URL
/// (which may hold a credential) is left out of the message.
fn map_reqwest_err(settings: &HttpSettings, operation: &str, e: reqwest::Error) -> Error {
    if e.is_timeout() {
        let after = if e.is_connect() { settings.connect_timeout } else { settings.timeout };
        return Error::timeout(operation, after);
    }
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Error::Transport { operation: operation.to_owned(), message }
}

fn reqwest_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Put => reqwest::Method::PUT,
        Method::Post => reqwest::Method::POST,
        Method::Delete => reqwest::Method::DELETE,
        Method::Options => reqwest::Method::OPTIONS,
        Method::Head => reqwest::Method::HEAD,
        Method::Patch => reqwest::Method::PATCH,
        Method::Trace => reqwest::Method::TRACE,
    }
}

/// Points `hop` at a redirect target and returns the URL to send it to.
/// Leaving the origin (scheme, host or port) drops every credential header
/// and credential query pair; a 303, or a 301/302 after a POST, turns the
/// request into a bodiless GET.
fn redirect(hop: &mut Hop<'_>, next: Url, status: u16) -> Result<Url> {
    let request = hop.request;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(Error::Transport {
            operation: request.operation.to_string(),
            message: "redirect to a non-http url".into(),
        });
    }
    let mut url = next;
    if !same_origin(&url, &request.url) {
        hop.headers.to_mut().retain(|p| !is_credential_header(p));
        if !request.secret_query.is_empty() {
            // The next URL comes from the server; a credential the
            // auth layer put in the query must not follow it.
            let kept: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| !request.is_secret_query(k))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            url.set_query(None);
            if !kept.is_empty() {
                url.query_pairs_mut().extend_pairs(kept);
            }
        }
    }
    let to_get = status == 303 || (matches!(status, 301 | 302) && hop.method == Method::Post);
    if to_get {
        if hop.method != Method::Head {
            hop.method = Method::Get;
        }
        hop.with_body = false;
        hop.headers.to_mut().retain(|p| !p.name.eq_ignore_ascii_case("content-type"));
    }
    Ok(url)
}

/// The error for a body over `max_body_bytes`.
pub fn too_big(operation: &str, cap: u64) -> Error {
    Error::Limit {
        limit: "max_body_bytes".into(),
        detail: format!(
            "the response of `{operation}` is larger than {cap} bytes; stream it to a file with --out (download_to)"
        ),
    }
}

/// One hop of a request through its redirects (its URL travels apart).
struct Hop<'a> {
    request: &'a Request,
    method: Method,
    /// The request's own headers until a redirect has to drop some.
    headers: Cow<'a, [Pair]>,
    with_body: bool,
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

fn is_credential_header(p: &Pair) -> bool {
    p.sensitive || ["authorization", "cookie", "proxy-authorization"].iter().any(|n| p.name.eq_ignore_ascii_case(n))
}

async fn open_file(path: &std::path::Path) -> Result<(reqwest::Body, u64)> {
    let file = tokio::fs::File::open(path).await.map_err(|e| Error::io(path, e))?;
    let len = file.metadata().await.map_err(|e| Error::io(path, e))?.len();
    let stream = tokio_util::io::ReaderStream::new(file);
    Ok((reqwest::Body::wrap_stream(stream), len))
}

/// Attaches a body read from files: one file as the whole body, or a
/// multipart form whose file parts are streamed. Other payloads are left to
/// [`HttpTransport::builder`].
async fn attach_files(builder: reqwest::RequestBuilder, payload: &Payload) -> Result<reqwest::RequestBuilder> {
    Ok(match payload {
        Payload::Empty | Payload::Bytes { .. } => builder,
        Payload::File { content_type, path } => {
            let (body, len) = open_file(path).await?;
            builder.header("content-type", content_type).header("content-length", len).body(body)
        }
        Payload::Multipart(parts) => {
            let mut form = reqwest::multipart::Form::new();
            for part in parts {
                let mut p = match &part.data {
                    PartData::Bytes(b) => reqwest::multipart::Part::bytes(b.to_vec()),
                    PartData::File(path) => {
                        let (body, len) = open_file(path).await?;
                        reqwest::multipart::Part::stream_with_length(body, len)
                    }
                };
                if let Some(f) = &part.filename {
                    p = p.file_name(f.clone());
                }
                if let Some(ct) = &part.content_type {
                    p = p
                        .mime_str(ct)
                        .map_err(|_| Error::usage(format!("bad content type `{ct}` of part `{}`", part.name)))?;
                }
                form = form.part(part.name.clone(), p);
            }
            builder.multipart(form)
        }
    })
}

#[async_trait]
impl Transport for HttpTransport {
    async fn send(&self, request: &Request, delivery: Delivery) -> Result<Response> {
        match delivery {
            // The whole exchange, redirects and body included, under one timer.
            Delivery::Buffered => {
                match tokio::time::timeout(self.settings.timeout, self.exchange(request, delivery)).await {
                    Ok(result) => result,
                    Err(_) => Err(timeout(request, self.settings.timeout)),
                }
            }
            Delivery::Streamed => self.exchange(request, delivery).await,
        }
    }
}

fn timeout(request: &Request, after: Duration) -> Error {
    Error::timeout(request.operation.to_string(), after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A loopback server that answers one request with `head`, then sends
    /// each of `chunks` after `pause`.
    async fn server(head: &'static str, chunks: Vec<&'static str>, pause: Duration) -> Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            let _ = stream.write_all(head.as_bytes()).await;
            for chunk in chunks {
                tokio::time::sleep(pause).await;
                if stream.write_all(chunk.as_bytes()).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        });
        Url::parse(&format!("http://{addr}/x")).expect("url")
    }

    fn transport(timeout: Duration, max_body_bytes: u64) -> HttpTransport {
        let settings = HttpSettings { timeout, max_body_bytes, retries: 0, ..HttpSettings::default() };
        HttpTransport::with_settings(&settings).expect("transport")
    }

    const CHUNKED: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n";

    #[tokio::test]
    async fn a_body_in_several_chunks_is_joined_and_capped() {
        let chunks = vec!["3\r\nabc\r\n", "4\r\ndefg\r\n", "0\r\n\r\n"];
        let url = server(CHUNKED, chunks.clone(), Duration::from_millis(20)).await;
        let request = Request::new("t.g.op", Method::Get, url);
        let resp = transport(Duration::from_secs(5), 100).send(&request, Delivery::Buffered).await.expect("send");
        match resp.body {
            ResponseBody::Full(b) => assert_eq!(&b[..], b"abcdefg"),
            other => panic!("not buffered: {other:?}"),
        }

        let url = server(CHUNKED, chunks, Duration::from_millis(20)).await;
        let request = Request::new("t.g.op", Method::Get, url);
        let err = transport(Duration::from_secs(5), 5).send(&request, Delivery::Buffered).await.expect_err("cap");
        assert!(matches!(&err, Error::Limit { limit, .. } if limit == "max_body_bytes"), "{err}");
    }

    #[tokio::test]
    async fn a_stalled_stream_times_out_per_read() {
        // Each read arrives within the limit, though the whole body does not;
        // then the server stalls and the next read times out.
        let chunks = vec!["1\r\na\r\n", "1\r\nb\r\n", "1\r\nc\r\n", "1\r\nd\r\n"];
        let url = server(CHUNKED, chunks, Duration::from_millis(150)).await;
        let request = Request::new("t.g.op", Method::Get, url);
        let limit = Duration::from_millis(400);
        let resp = transport(limit, 100).send(&request, Delivery::Streamed).await.expect("send");
        let ResponseBody::Stream(mut stream) = resp.body else { panic!("not streamed") };
        let mut got = Vec::new();
        let err = loop {
            match stream.next().await {
                Some(Ok(chunk)) => got.extend_from_slice(&chunk),
                Some(Err(e)) => break e,
                None => panic!("the stream ended without the timeout"),
            }
        };
        assert_eq!(got, b"abcd");
        assert!(matches!(err, Error::Timeout { after, .. } if after == limit), "{err}");
        assert!(stream.next().await.is_none(), "a timed-out stream ends");
    }

    #[tokio::test]
    async fn redirects_share_one_total_timeout() {
        // Each hop answers in 250 ms, within the 400 ms limit; the two together do not.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(250)).await;
                        let reply: &[u8] = if buf[..n].starts_with(b"GET /next") {
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                        } else {
                            b"HTTP/1.1 302 Found\r\nlocation: /next\r\ncontent-length: 0\r\n\r\n"
                        };
                        if stream.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        let request = Request::new("t.g.op", Method::Get, Url::parse(&format!("http://{addr}/x")).expect("url"));
        let limit = Duration::from_millis(400);
        let err = transport(limit, 100).send(&request, Delivery::Buffered).await.expect_err("total timeout");
        assert!(matches!(err, Error::Timeout { after, .. } if after == limit), "{err}");
        let resp = transport(Duration::from_secs(5), 100).send(&request, Delivery::Buffered).await.expect("redirected");
        assert_eq!(resp.status, 200);
    }

    #[tokio::test]
    async fn a_slow_buffered_body_hits_the_total_timeout() {
        let chunks = vec!["1\r\na\r\n", "1\r\nb\r\n", "1\r\nc\r\n", "1\r\nd\r\n", "0\r\n\r\n"];
        let url = server(CHUNKED, chunks, Duration::from_millis(150)).await;
        let request = Request::new("t.g.op", Method::Get, url);
        let limit = Duration::from_millis(400);
        let err = transport(limit, 100).send(&request, Delivery::Buffered).await.expect_err("total timeout");
        assert!(matches!(err, Error::Timeout { after, .. } if after == limit), "{err}");
    }
}
