//! The wire: requests as opdeck builds them, responses as transports return
//! them, and the [`Transport`] trait that moves one to the other.
//!
//! A [`Request`] is plain data built from an operation's meta and input. The
//! same value is sent by reqwest ([`client`]), answered by the simulator
//! (`mock`), and rendered as a curl command for `--dry-run`, so the three can
//! never disagree about what would be sent. Headers and query pairs carry a
//! `sensitive` flag set by the auth layer; every rendering redacts them.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::error::Result;
use crate::model::Method;

pub mod body;
pub mod client;
pub mod curl;
pub mod params;
pub mod redact;
pub mod request;
pub mod response;
pub mod retry;
pub mod sse;

/// The domain under which every service has its simulated host.
pub const MOCK_DOMAIN: &str = "mock.opdeck.invalid";

/// The base URL of `service` in the simulator, e.g.
/// `http://wildduck.mock.opdeck.invalid`. `.invalid` can never resolve, so a
/// request that reaches the network by mistake fails instead of leaking.
pub fn simulator_url(service: &str) -> String {
    format!("http://{service}.{MOCK_DOMAIN}")
}

/// The service a simulator URL is for, when `url` is one.
pub fn simulated_service(url: &url::Url) -> Option<&str> {
    url.host_str()?.strip_suffix(MOCK_DOMAIN)?.strip_suffix('.').filter(|s| !s.is_empty())
}

pub use crate::model::REDACTED;
pub use redact::{is_secret_name, redact_text, redact_url};

/// One header.
#[derive(Clone, PartialEq, Eq)]
pub struct Pair {
    /// The name (headers keep the spec's case; HTTP ignores it).
    pub name: Cow<'static, str>,
    /// The value.
    pub value: Cow<'static, str>,
    /// Whether the value is a credential that must never be shown.
    pub sensitive: bool,
}

impl Pair {
    /// A pair that may be shown.
    pub fn plain(name: impl Into<Cow<'static, str>>, value: impl Into<Cow<'static, str>>) -> Self {
        Pair { name: name.into(), value: value.into(), sensitive: false }
    }

    /// A pair whose value is a secret.
    pub fn secret(name: impl Into<Cow<'static, str>>, value: impl Into<Cow<'static, str>>) -> Self {
        Pair { name: name.into(), value: value.into(), sensitive: true }
    }

    /// The value, or [`REDACTED`] when it is sensitive or its name is a
    /// credential's ([`redact::is_secret_header`]).
    pub fn shown(&self) -> &str {
        if redact::is_secret_header(&self.name, self.sensitive) { REDACTED } else { &self.value }
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
///
/// The URL is the one that goes on the wire, query included, encoded once by
/// [`request::build`] with each parameter's style. Query pairs that hold
/// credentials are named in `secret_query`, and every rendering other than
/// the wire shows their values as [`REDACTED`].
#[derive(Clone, PartialEq)]
pub struct Request {
    /// The operation id, for errors and logs.
    pub operation: Arc<str>,
    /// The method.
    pub method: Method,
    /// The base URL joined with the expanded path and the encoded query.
    pub url: url::Url,
    /// The names (decoded) of query pairs whose values are credentials.
    pub secret_query: Vec<String>,
    /// Headers in order, cookies included as one `Cookie` header.
    pub headers: Vec<Pair>,
    /// The body.
    pub body: Payload,
}

impl Request {
    /// The request as a `curl` command, credentials as `<redacted>`: what
    /// `--dry-run` prints.
    pub fn curl(&self) -> String {
        curl::render(self)
    }

    /// An empty request of `method` to `url` for `operation`.
    pub fn new(operation: impl Into<Arc<str>>, method: Method, url: url::Url) -> Self {
        Request {
            operation: operation.into(),
            method,
            url,
            secret_query: Vec::new(),
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

    /// The query as it goes on the wire, without `?` (empty when there is none).
    pub fn query(&self) -> &str {
        self.url.query().unwrap_or("")
    }

    /// The query pairs as a server decodes them.
    pub fn query_pairs(&self) -> url::form_urlencoded::Parse<'_> {
        url::form_urlencoded::parse(self.query().as_bytes())
    }

    /// Appends `name=value`, both percent-encoded.
    pub fn push_query(&mut self, name: &str, value: &str) {
        let mut query = self.query().to_owned();
        if !query.is_empty() {
            query.push('&');
        }
        params::encode_into(&mut query, name);
        query.push('=');
        params::encode_into(&mut query, value);
        self.url.set_query(Some(&query));
    }

    /// Removes every query pair named `name`.
    pub fn remove_query(&mut self, name: &str) {
        let kept: Vec<&str> = self.query().split('&').filter(|raw| !raw.is_empty() && pair_name(raw) != name).collect();
        let query = kept.join("&");
        self.url.set_query(if query.is_empty() { None } else { Some(&query) });
    }

    /// Sets a credential in the query, replacing pairs of the same name;
    /// renderings other than the wire show its value as [`REDACTED`].
    pub fn set_secret_query(&mut self, name: &str, value: &str) {
        self.remove_query(name);
        self.push_query(name, value);
        if !self.is_secret_query(name) {
            self.secret_query.push(name.to_owned());
        }
    }

    /// Whether the query pair `name` holds a credential.
    pub fn is_secret_query(&self, name: &str) -> bool {
        self.secret_query.iter().any(|n| n == name)
    }

    /// The query with credential values shown as [`REDACTED`]: the pairs
    /// flagged in `secret_query` and those named like a credential.
    pub fn redacted_query(&self) -> Cow<'_, str> {
        redact::redact_query(self.query(), &self.secret_query)
    }

    /// The URL as text with userinfo and credential query values shown as
    /// [`REDACTED`] (see [`redact`]).
    pub fn redacted_url(&self) -> String {
        redact::redact_url_with(&self.url, &self.secret_query)
    }
}

impl fmt::Debug for Request {
    /// The URL is shown redacted: it may hold a credential in its query.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("operation", &self.operation)
            .field("method", &self.method)
            .field("url", &self.redacted_url())
            .field("headers", &self.headers)
            .field("body", &self.body)
            .finish()
    }
}

use redact::pair_name;

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
    /// The headers as the server sent them.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: ResponseBody,
}

impl Response {
    /// The first value of the header with this name (case-insensitive), if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> Request {
        Request::new("t.g.op", Method::Get, url::Url::parse(url).expect("url"))
    }

    #[test]
    fn query_pairs_are_encoded_once_and_decode_as_a_server_reads_them() {
        let mut r = request("https://h.example/x?a=1");
        r.push_query("q", "a b&c=d+é");
        assert_eq!(r.query(), "a=1&q=a%20b%26c%3Dd%2B%C3%A9");
        let pairs: Vec<(String, String)> = r.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        assert_eq!(pairs, [("a".into(), "1".into()), ("q".into(), "a b&c=d+é".into())]);
        r.remove_query("a");
        assert_eq!(r.url.as_str(), "https://h.example/x?q=a%20b%26c%3Dd%2B%C3%A9");
        r.remove_query("q");
        assert_eq!(r.url.as_str(), "https://h.example/x");
    }

    #[test]
    fn secret_query_values_show_only_on_the_wire() {
        let mut r = request("https://h.example/x?page=2&api%20key=old");
        r.set_secret_query("api key", "s3cret");
        r.set_secret_query("api key", "n3w");
        assert_eq!(r.query(), "page=2&api%20key=n3w", "replaced, not repeated");
        assert_eq!(r.redacted_query(), format!("page=2&api%20key={REDACTED}"));
        assert_eq!(r.redacted_url(), format!("https://h.example/x?page=2&api%20key={REDACTED}"));
        let debug = format!("{r:?}");
        assert!(!debug.contains("n3w") && debug.contains(REDACTED), "{debug}");
    }
}
