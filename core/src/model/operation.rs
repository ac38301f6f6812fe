//! What an operation is: its description ([`OperationMeta`]), what listings
//! read of it ([`Head`]) and what a call returns ([`Output`]). The trait that
//! runs one, [`Operation`](crate::Operation), lives with the engine.
//!
//! The model is the single shape every source is converted into: OpenAPI 3.0,
//! 3.1 and Swagger 2.0 documents, compiled catalogs, and native Rust
//! operations all end up as an `OperationMeta`. Schemas inside it are JSON
//! Schema (2020-12 dialect) whose `$ref`s point at `#/$defs/<name>` in the
//! operation's shared [`Definitions`], so recursive models stay finite and a
//! service's models are stored once, not once per operation.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Result;

/// An HTTP method, as the spec names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// `GET`
    Get,
    /// `PUT`
    Put,
    /// `POST`
    Post,
    /// `DELETE`
    Delete,
    /// `OPTIONS`
    Options,
    /// `HEAD`
    Head,
    /// `PATCH`
    Patch,
    /// `TRACE`
    Trace,
}

impl Method {
    /// Every method, in the order OpenAPI lists them in a path item.
    pub const ALL: [Method; 8] = [
        Method::Get,
        Method::Put,
        Method::Post,
        Method::Delete,
        Method::Options,
        Method::Head,
        Method::Patch,
        Method::Trace,
    ];

    /// The upper-case name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Post => "POST",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
            Method::Head => "HEAD",
            Method::Patch => "PATCH",
            Method::Trace => "TRACE",
        }
    }

    /// Parses a method name in any case (`get`, `GET`).
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether HTTP calls the method idempotent, which is what makes a retry
    /// safe unless a service profile says otherwise.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Put | Method::Delete | Method::Options | Method::Trace)
    }

    /// Whether the method only reads (the `read-only` filter of listings).
    pub fn is_read_only(self) -> bool {
        matches!(self, Method::Get | Method::Head | Method::Options)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a parameter goes in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// A segment of the path template.
    Path,
    /// The query string.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
}

impl Location {
    /// The lowercase name, as OpenAPI's `in` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Path => "path",
            Location::Query => "query",
            Location::Header => "header",
            Location::Cookie => "cookie",
        }
    }

    /// The style OpenAPI uses when a parameter names none.
    pub fn default_style(self) -> Style {
        match self {
            Location::Path | Location::Header => Style::Simple,
            Location::Query | Location::Cookie => Style::Form,
        }
    }
}

/// OpenAPI's serialization style of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Style {
    /// `simple`: comma-separated (path and header default).
    Simple,
    /// `form`: `name=value` (query and cookie default).
    Form,
    /// `label`: `.`-prefixed path values.
    Label,
    /// `matrix`: `;name=value` path values.
    Matrix,
    /// `spaceDelimited`: array items joined by spaces.
    SpaceDelimited,
    /// `pipeDelimited`: array items joined by `|`.
    PipeDelimited,
    /// `deepObject`: `name[key]=value`.
    DeepObject,
}

/// One parameter of an operation, in the order the spec declares them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// The name on the wire.
    pub name: String,
    /// The key in the operation's input. Usually `name`; when two locations
    /// use the same name, the later ones become `<location>.<name>`.
    pub key: String,
    /// Where the parameter goes.
    #[serde(rename = "in")]
    pub location: Location,
    /// Whether the caller must give it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// How the value is serialized.
    pub style: Style,
    /// Whether arrays and objects are exploded.
    #[serde(default, skip_serializing_if = "is_false")]
    pub explode: bool,
    /// Whether reserved characters may stay unencoded in the query.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_reserved: bool,
    /// Whether the spec deprecates the parameter.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// The value's JSON Schema.
    #[serde(default = "empty_schema")]
    pub schema: Value,
    /// For parameters declared with `content` instead of `schema`: the media
    /// type the value is serialized as (usually `application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl Parameter {
    /// An input key of a native operation. It has no wire; the query is the
    /// plainest place to say it is a top-level input key.
    pub fn input(name: impl Into<String>, required: bool, schema: Value) -> Self {
        Parameter { required, ..Parameter::new(name, Location::Query, Style::Form, true, schema) }
    }

    /// A parameter serialized with `style` and `explode`, keyed by its name,
    /// optional, not deprecated, with reserved characters encoded.
    pub fn new(name: impl Into<String>, location: Location, style: Style, explode: bool, schema: Value) -> Self {
        let name = name.into();
        Parameter {
            key: name.clone(),
            name,
            location,
            required: false,
            style,
            explode,
            allow_reserved: false,
            deprecated: false,
            schema,
            content_type: None,
        }
    }
}

/// How one property of a form or multipart body is encoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PartEncoding {
    /// The part's content type, when the spec fixes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// The style of a form field (as for query parameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub style: Option<Style>,
    /// Whether arrays and objects are exploded into repeated fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explode: Option<bool>,
}

impl PartEncoding {
    /// What joins the items of an array field into one value: `None` when
    /// the array is exploded into one field per item (the default for
    /// forms), else `,`, or ` ` and `|` for the delimited styles.
    pub fn array_separator(&self) -> Option<&'static str> {
        if self.explode.unwrap_or(true) {
            return None;
        }
        Some(match self.style {
            Some(Style::SpaceDelimited) => " ",
            Some(Style::PipeDelimited) => "|",
            _ => ",",
        })
    }
}

/// One media type a request or response body can take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Media {
    /// The media type, e.g. `application/json` or `multipart/form-data`.
    pub content_type: String,
    /// The body's JSON Schema.
    #[serde(default = "empty_schema")]
    pub schema: Value,
    /// Per-property encoding for form and multipart bodies.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub encoding: Map<String, Value>,
    /// An example body from the spec, if it gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Example>,
}

impl Media {
    /// The encoding of property `field`, as the spec writes it
    /// (`contentType`, `style`, `explode`); the default when it gives none.
    pub fn encoding(&self, field: &str) -> PartEncoding {
        let Some(e) = self.encoding.get(field) else { return PartEncoding::default() };
        PartEncoding {
            content_type: e
                .get("contentType")
                .or_else(|| e.get("content_type"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            style: e.get("style").and_then(|s| serde_json::from_value(s.clone()).ok()),
            explode: e.get("explode").and_then(Value::as_bool),
        }
    }
}

/// An example body, kept as compact JSON text and shared between the
/// operations that refer to the same one: large specs repeat big examples
/// (api.github.com's take 1.5 MB as text, several times that as values).
#[derive(Clone)]
pub struct Example(Arc<serde_json::value::RawValue>);

impl Example {
    /// An example holding `value`.
    pub fn new(value: &Value) -> Example {
        // A `Value` always serializes, and to valid JSON.
        let text = serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned());
        Example(serde_json::value::RawValue::from_string(text).map_or_else(|_| Example::null(), Arc::from))
    }

    fn null() -> Arc<serde_json::value::RawValue> {
        Arc::from(serde_json::value::RawValue::NULL.to_owned())
    }

    /// The example as a value.
    pub fn value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    /// The example as compact JSON text.
    pub fn text(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for Example {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl fmt::Debug for Example {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Example({} bytes)", self.text().len())
    }
}

impl Serialize for Example {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Example {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|v| Example::new(&v))
    }
}

/// The request body an operation accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodySpec {
    /// Whether a body must be sent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// The media types offered, the spec's preferred one first.
    pub media: Vec<Media>,
}

/// One declared response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseSpec {
    /// `200`, `2XX` or `default`, as the spec writes it.
    pub status: String,
    /// The media types of the body; empty when there is none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
    /// Response headers the spec declares, with their schemas.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub headers: Map<String, Value>,
}

/// One way to satisfy an operation's security: all the named schemes at once.
/// An operation's `security` is a list of such alternatives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct SecurityRequirement(pub Vec<(String, Vec<String>)>);

/// A security scheme a service declares (OpenAPI `securitySchemes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum SecurityScheme {
    /// An API key in a header, the query or a cookie.
    ApiKey {
        /// The header, query or cookie name.
        name: String,
        /// Where it goes.
        #[serde(rename = "in")]
        location: Location,
    },
    /// HTTP authentication (`bearer`, `basic`, ...).
    Http {
        /// The scheme, lowercase (`bearer`, `basic`).
        scheme: String,
        /// A hint of the token's format, e.g. `JWT`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bearer_format: Option<String>,
    },
    /// OAuth2, with the flows the spec declares.
    #[serde(rename = "oauth2")]
    OAuth2 {
        /// Token URL of the password grant, if declared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        password_token_url: Option<String>,
        /// Token URL of the client-credentials grant, if declared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_credentials_token_url: Option<String>,
        /// Authorization URL of the code flow, if declared (not run by opdeck).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authorization_url: Option<String>,
        /// Refresh URL, if declared.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        refresh_url: Option<String>,
    },
    /// OpenID Connect discovery (recorded, not run).
    OpenIdConnect {
        /// The discovery URL.
        url: String,
    },
}

/// The JSON Schema models a service shares between its operations,
/// addressed as `#/$defs/<name>` from every schema in its operations.
///
/// A compiled catalog keeps them as raw JSON and parses them on first use, so
/// listing operations never pays for models it does not read.
pub struct Definitions {
    raw: Option<Box<str>>,
    parsed: OnceLock<Map<String, Value>>,
}

impl Definitions {
    /// Definitions that are already parsed.
    pub fn new(map: Map<String, Value>) -> Self {
        Definitions { raw: None, parsed: OnceLock::from(map) }
    }

    /// Definitions kept as JSON text until first used.
    pub fn lazy(raw: Box<str>) -> Self {
        Definitions { raw: Some(raw), parsed: OnceLock::new() }
    }

    /// No definitions.
    pub fn empty() -> Arc<Self> {
        static EMPTY: OnceLock<Arc<Definitions>> = OnceLock::new();
        EMPTY.get_or_init(|| Arc::new(Definitions::new(Map::new()))).clone()
    }

    /// All definitions by name.
    pub fn map(&self) -> &Map<String, Value> {
        self.parsed.get_or_init(|| {
            // The raw text was produced by `serde_json` from a `Map` when the
            // catalog was built, so it parses; an empty map is the safe fallback.
            self.raw.as_deref().and_then(|raw| serde_json::from_str(raw).ok()).unwrap_or_default()
        })
    }

    /// One definition by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map().get(name)
    }

    /// Follows `schema` while it is a `{"$ref": "#/$defs/<name>"}`, with a bound
    /// on chain length so that a ref cycle cannot loop.
    pub fn resolve<'a>(&'a self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..64 {
            match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
                Some(name) => match self.get(name) {
                    Some(next) => schema = next,
                    None => return schema,
                },
                None => return schema,
            }
        }
        schema
    }
}

impl fmt::Debug for Definitions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.parsed.get() {
            Some(map) => write!(f, "Definitions({} parsed)", map.len()),
            None => write!(f, "Definitions(lazy, {} bytes)", self.raw.as_ref().map_or(0, |r| r.len())),
        }
    }
}

impl Serialize for Definitions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.map().serialize(s)
    }
}

/// Everything known about an operation without running it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperationMeta {
    /// `<service>.<group>.<name>`.
    pub id: String,
    /// The service, e.g. `wildduck`.
    pub service: String,
    /// The group, from the first tag or path segment.
    pub group: String,
    /// The name, from the operationId or synthesized.
    pub name: String,
    /// A short id matching `^[A-Za-z0-9_-]{1,64}$` for tool-calling clients.
    pub alias: String,
    /// A short label of what the operation does.
    #[serde(default)]
    pub summary: String,
    /// The HTTP method (native operations use the closest one).
    pub method: Method,
    /// The path template as the spec writes it, e.g. `/users/{user}`.
    pub path: String,
    /// Parameters in declaration order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<Parameter>,
    /// The request body, if the operation takes one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<BodySpec>,
    /// Declared responses, in the spec's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub responses: Vec<ResponseSpec>,
    /// Whether the spec deprecates the operation.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// The service version that introduced it, when known (`4.30.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The service version that deprecated it, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_since: Option<String>,
    /// Alternatives of security requirements; empty means no auth.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<SecurityRequirement>,
    /// The tags, in the spec's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Ids the operation had before its service named it otherwise (Kitsu's
    /// `kitsu.crud.postDataPersons`, now `kitsu.persons.create`): they and
    /// their aliases still resolve, but listings show only `id`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_ids: Vec<String>,
    /// Whether top-level input keys the spec does not declare are sent as
    /// query parameters (Kitsu's list routes filter on any field this way).
    /// Everywhere else an unknown key is a validation error.
    #[serde(default, skip_serializing_if = "is_false")]
    pub open_query: bool,
    /// The service's shared models that schemas here refer to.
    #[serde(skip, default = "Definitions::empty")]
    pub definitions: Arc<Definitions>,
    /// The security schemes of the service, by the names `security` uses.
    #[serde(skip, default)]
    pub security_schemes: Arc<indexmap::IndexMap<String, SecurityScheme>>,
}

impl OperationMeta {
    /// The description of an operation that runs in-process: no path, no
    /// body, `POST`, its input keys as `parameters` (see [`Parameter::input`]).
    pub fn native(service: &str, group: &str, name: &str, parameters: Vec<Parameter>) -> OperationMeta {
        let id = if service == group { format!("{service}.{name}") } else { format!("{service}.{group}.{name}") };
        OperationMeta {
            alias: id.replace('.', "_"),
            id,
            service: service.into(),
            group: group.into(),
            name: name.into(),
            summary: String::new(),
            method: Method::Post,
            path: String::new(),
            parameters,
            body: None,
            responses: Vec::new(),
            deprecated: false,
            since: None,
            deprecated_since: None,
            security: Vec::new(),
            tags: Vec::new(),
            former_ids: Vec::new(),
            open_query: false,
            definitions: Definitions::empty(),
            security_schemes: Default::default(),
        }
    }

    /// The parameter whose input key is `key`.
    pub fn parameter(&self, key: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.key == key)
    }

    /// The lowest 2xx response that has a body (200 before 204, whatever
    /// order the spec lists them in), else the lowest 2xx, else `default`.
    pub fn success_response(&self) -> Option<&ResponseSpec> {
        let lowest = |with_body: bool| {
            self.responses
                .iter()
                .filter(|r| r.status.starts_with('2') && (!with_body || !r.media.is_empty()))
                .min_by_key(|r| r.status.parse::<u16>().unwrap_or(299))
        };
        lowest(true).or_else(|| lowest(false)).or_else(|| self.responses.iter().find(|r| r.status == "default"))
    }
}

/// The body of an operation's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Body {
    /// No body (204, HEAD, or an empty 200).
    Empty,
    /// A JSON document.
    Json(Value),
    /// A JSON document as it arrived, checked against the JSON budget but
    /// not parsed, for a call made with
    /// [`CallOptions::raw_json`](crate::model::CallOptions::raw_json).
    RawJson(#[serde(serialize_with = "raw_json")] bytes::Bytes),
    /// A text document.
    Text(String),
    /// Any other content, as raw bytes.
    Bytes(#[serde(serialize_with = "bytes_len")] bytes::Bytes),
    /// The body was streamed to this file.
    File {
        /// Where the file was written.
        path: std::path::PathBuf,
        /// How many bytes were written.
        bytes: u64,
    },
}

impl Body {
    /// The body as a JSON value: JSON as is, text as a string, bytes as a
    /// `{"bytes": <len>}` summary, a file as `{"path", "bytes"}`.
    pub fn into_value(self) -> Value {
        match self {
            Body::Empty => Value::Null,
            Body::Json(v) => v,
            Body::RawJson(b) => json_or_text(&b),
            Body::Text(t) => Value::String(t),
            Body::Bytes(b) => serde_json::json!({ "bytes": b.len() }),
            Body::File { path, bytes } => serde_json::json!({ "path": path, "bytes": bytes }),
        }
    }
}

/// A body as JSON when it parses, else as a string: an error body (within
/// the JSON budget), and a [`Body::RawJson`] that the server sent broken.
pub fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn raw_json<S: serde::Serializer>(b: &bytes::Bytes, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&json_or_text(b), s)
}

fn bytes_len<S: serde::Serializer>(b: &bytes::Bytes, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&serde_json::json!({ "bytes": b.len() }), s)
}

/// The structured result of an operation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Output {
    /// The HTTP status (200 for native operations).
    pub status: u16,
    /// Response headers as the server sent them (names are case-insensitive).
    #[serde(serialize_with = "serialize_headers")]
    pub headers: http::HeaderMap,
    /// The decoded body.
    pub body: Body,
}

impl Output {
    /// A 200 output with a JSON body, as native operations return.
    pub fn json(body: Value) -> Self {
        Output { status: 200, headers: http::HeaderMap::new(), body: Body::Json(body) }
    }

    /// The first value of the header with this name (case-insensitive), if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The output as one JSON value `{status, headers, body}`.
    pub fn into_value(self) -> Value {
        let headers = headers_json(&self.headers);
        serde_json::json!({ "status": self.status, "headers": headers, "body": self.body.into_value() })
    }
}

/// Headers as a JSON object of lowercase names; a header sent several times
/// has its values joined with `, `, as HTTP combines repeated fields.
pub fn headers_json(headers: &http::HeaderMap) -> Map<String, Value> {
    let mut out = Map::new();
    for name in headers.keys() {
        let mut joined = String::new();
        for value in headers.get_all(name) {
            if !joined.is_empty() {
                joined.push_str(", ");
            }
            joined.push_str(&String::from_utf8_lossy(value.as_bytes()));
        }
        out.insert(name.as_str().to_owned(), Value::String(joined));
    }
    out
}

fn serialize_headers<S: serde::Serializer>(headers: &http::HeaderMap, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&headers_json(headers), s)
}

/// What listings, filters and searches read of an operation.
///
/// A catalog operation can hand this out without parsing its parameters and
/// schemas, which is what keeps listing the whole deck cheap.
#[derive(Debug, Clone, PartialEq)]
pub struct Head<'a> {
    /// `<service>.<group>.<name>`.
    pub id: &'a str,
    /// The short id for tool-calling clients.
    pub alias: &'a str,
    /// The service.
    pub service: &'a str,
    /// The group.
    pub group: &'a str,
    /// The name.
    pub name: &'a str,
    /// The short label.
    pub summary: &'a str,
    /// The HTTP method.
    pub method: Method,
    /// The path template.
    pub path: &'a str,
    /// Whether the operation is deprecated.
    pub deprecated: bool,
    /// The version that introduced it, when known.
    pub since: Option<&'a str>,
    /// The names of its parameters, for searches.
    pub parameters: Vec<&'a str>,
    /// Ids it had before a rename, which still resolve.
    pub former_ids: &'a [String],
}

impl<'a> Head<'a> {
    /// The head of a full description.
    pub fn of(m: &'a OperationMeta) -> Self {
        Head {
            id: &m.id,
            alias: &m.alias,
            service: &m.service,
            group: &m.group,
            name: &m.name,
            summary: &m.summary,
            method: m.method,
            path: &m.path,
            deprecated: m.deprecated,
            since: m.since.as_deref(),
            parameters: m.parameters.iter().map(|p| p.name.as_str()).collect(),
            former_ids: &m.former_ids,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn empty_schema() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_headers_are_joined_in_json() {
        let mut headers = http::HeaderMap::new();
        headers.append("set-cookie", http::HeaderValue::from_static("a=1"));
        headers.append("set-cookie", http::HeaderValue::from_static("b=2"));
        headers.insert("content-type", http::HeaderValue::from_static("text/plain"));
        let out = Output { status: 201, headers, body: Body::Text("hi".into()) };
        assert_eq!(out.header("Content-Type"), Some("text/plain"));
        let value = out.into_value();
        assert_eq!(value["headers"], serde_json::json!({"set-cookie": "a=1, b=2", "content-type": "text/plain"}));
        assert_eq!(value["status"], 201);
    }

    #[test]
    fn method_parses_any_case_and_knows_idempotence() {
        assert_eq!(Method::parse("get"), Some(Method::Get));
        assert_eq!(Method::parse("PATCH"), Some(Method::Patch));
        assert_eq!(Method::parse("fetch"), None);
        assert!(Method::Put.is_idempotent());
        assert!(!Method::Post.is_idempotent());
        assert!(!Method::Patch.is_idempotent());
    }

    #[test]
    fn definitions_resolve_chains_and_stop_on_cycles() {
        let mut map = Map::new();
        map.insert("A".into(), serde_json::json!({"$ref": "#/$defs/B"}));
        map.insert("B".into(), serde_json::json!({"type": "string"}));
        map.insert("C".into(), serde_json::json!({"$ref": "#/$defs/C"}));
        let defs = Definitions::new(map);
        let start = serde_json::json!({"$ref": "#/$defs/A"});
        assert_eq!(defs.resolve(&start), &serde_json::json!({"type": "string"}));
        let cyclic = serde_json::json!({"$ref": "#/$defs/C"});
        assert_eq!(defs.resolve(&cyclic), &serde_json::json!({"$ref": "#/$defs/C"}));
    }

    #[test]
    fn lazy_definitions_parse_on_first_use() {
        let defs = Definitions::lazy(r#"{"User":{"type":"object"}}"#.into());
        assert!(format!("{defs:?}").contains("lazy"));
        assert_eq!(defs.get("User"), Some(&serde_json::json!({"type": "object"})));
        assert!(format!("{defs:?}").contains("parsed"));
    }
}
