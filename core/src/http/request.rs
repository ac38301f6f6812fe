//! From an operation's meta and a JSON input to a [`Request`].
//!
//! Building is pure (no I/O) so that `--dry-run`, the simulator and the
//! network all see the same request. The base URL decides scheme, host and
//! port; parameters only ever fill path segments, query pairs, headers and
//! cookies, and the result is checked against the base before it is returned.

use serde_json::{Map, Value};
use url::Url;

use crate::context::CallOptions;
use crate::error::{Error, Result, Violation};
use crate::http::{Pair, Request, body, params};
use crate::operation::{Location, OperationMeta, Parameter};
use crate::schema::BODY_KEY;

/// Parses a configured base URL once; a trailing `/` is dropped so that
/// `https://host/api/` and `https://host/api` prefix paths alike.
pub fn parse_base(service: &str, base: &str) -> Result<Url> {
    let mut url = Url::parse(base.trim())
        .map_err(|e| Error::config(format!("base url of service `{service}` is not a valid url: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::config(format!("base url of service `{service}` must be http or https")));
    }
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn invalid(meta: &OperationMeta, path: String, message: String) -> Error {
    Error::Validation { operation: meta.id.clone(), violations: vec![Violation { path, message }] }
}

/// What [`build`] needs of an operation that does not change from call to
/// call: the path template split at its placeholders, the query parameter
/// names already encoded, and the `Accept` header. An operation makes it
/// once ([`Plan::new`]) and builds every request from it.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The path template in order: literal text and placeholders.
    pieces: Vec<Piece>,
    /// The percent-encoded name of each parameter (by index) that goes in
    /// the query; empty for the others.
    query_names: Vec<String>,
    /// How many parameters go in the query and in headers.
    queries: usize,
    headers: usize,
    /// The `Accept` header, from the success response's media types.
    accept: Option<String>,
}

/// A piece of a path template.
#[derive(Debug, Clone)]
enum Piece {
    /// Literal text, as a byte range of the template.
    Text(std::ops::Range<usize>),
    /// A `{name}` placeholder (the range of `name`) and the index of the
    /// path parameter of that name, if there is one.
    Param(std::ops::Range<usize>, Option<usize>),
    /// A `{` that is never closed.
    Unclosed,
}

impl Plan {
    /// Prepares the parts of `meta`'s requests that are the same every call.
    pub fn new(meta: &OperationMeta) -> Plan {
        let template = meta.path.as_str();
        let mut pieces = Vec::new();
        let mut at = 0;
        loop {
            let rest = &template[at..];
            let Some(start) = rest.find('{') else {
                if !rest.is_empty() {
                    pieces.push(Piece::Text(at..template.len()));
                }
                break;
            };
            if start > 0 {
                pieces.push(Piece::Text(at..at + start));
            }
            let name_at = at + start + 1;
            let Some(end) = template[name_at..].find('}') else {
                pieces.push(Piece::Unclosed);
                break;
            };
            let name = &template[name_at..name_at + end];
            let param = meta.parameters.iter().position(|p| p.location == Location::Path && p.name == name);
            pieces.push(Piece::Param(name_at..name_at + end, param));
            at = name_at + end + 1;
        }
        let query_names = meta
            .parameters
            .iter()
            .map(|p| if p.location == Location::Query { params::encode(&p.name) } else { String::new() })
            .collect();
        let count = |l: Location| meta.parameters.iter().filter(|p| p.location == l).count();
        Plan {
            pieces,
            query_names,
            queries: count(Location::Query),
            headers: count(Location::Header),
            accept: accept(meta),
        }
    }
}

/// The last URL an operation built, with the base and the path it was
/// built from, so that the next call to the same path (every call of an
/// operation without path parameters, and repeated calls with the same path
/// values) clones it instead of parsing the path into the base URL again.
#[derive(Debug, Default)]
pub struct LastUrl(std::sync::RwLock<Option<LastUrlEntry>>);

#[derive(Debug)]
struct LastUrlEntry {
    base: String,
    path: String,
    url: Url,
}

impl LastUrl {
    /// `base` with its path set to `path`, from the cache when it holds them.
    fn get(&self, base: &Url, path: &str) -> Url {
        if let Some(last) = self.0.read().unwrap_or_else(|e| e.into_inner()).as_ref()
            && last.path == path
            && last.base == base.as_str()
        {
            return last.url.clone();
        }
        let mut url = base.clone();
        url.set_path(path);
        let entry = LastUrlEntry { base: base.as_str().to_owned(), path: path.to_owned(), url: url.clone() };
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(entry);
        url
    }
}

/// `obj.get(key)`: a short scan for the few keys an input usually has,
/// which costs less than hashing the key.
fn lookup<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if obj.len() <= 8 { obj.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v) } else { obj.get(key) }
}

/// Builds the request `input` describes. Missing required parameters and
/// unsafe values are validation errors, never panics.
pub fn build(meta: &OperationMeta, input: &Value, base_url: &Url, options: &CallOptions) -> Result<Request> {
    build_with(&Plan::new(meta), &LastUrl::default(), meta, input, base_url, options)
}

/// [`build`] with the operation's [`Plan`] made beforehand and the URL it
/// built last.
pub fn build_with(
    plan: &Plan,
    last_url: &LastUrl,
    meta: &OperationMeta,
    input: &Value,
    base_url: &Url,
    options: &CallOptions,
) -> Result<Request> {
    let empty = Map::new();
    let obj = match input {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => return Err(invalid(meta, String::new(), "input must be an object".into())),
    };
    let present = |p: &Parameter| lookup(obj, &p.key).filter(|v| !v.is_null());
    for p in &meta.parameters {
        if p.required && present(p).is_none() {
            return Err(invalid(
                meta,
                format!("/{}", p.key),
                format!("{} parameter `{}` is required", p.location.as_str(), p.name),
            ));
        }
    }

    let base_path = base_url.path().trim_end_matches('/');
    let mut full_path = String::with_capacity(base_path.len() + meta.path.len() + 32);
    full_path.push_str(base_path);
    expand_path(plan, meta, obj, &mut full_path)?;
    let url = last_url.get(base_url, &full_path);
    check_origin(meta, base_url, &url)?;

    let mut req = Request::new(meta.id.clone(), meta.method, url);
    req.query = Vec::with_capacity(plan.queries);
    req.query_encoded = Vec::with_capacity(plan.queries);
    req.headers = Vec::with_capacity(plan.headers + 2);
    let mut cookies = Vec::new();
    for (i, p) in meta.parameters.iter().enumerate() {
        let Some(v) = present(p) else { continue };
        match p.location {
            Location::Path => {}
            Location::Query => match params::single_query_value(p, v) {
                Some(value) => push_pair(&mut req, &plan.query_names[i], value),
                None => push_query(&mut req, p, v),
            },
            Location::Header => {
                let value = params::header_value(p, v);
                if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                    return Err(invalid(
                        meta,
                        format!("/{}", p.key),
                        format!("header parameter `{}` must not contain line breaks", p.name),
                    ));
                }
                req.headers.push(Pair::plain(p.name.clone(), value));
            }
            Location::Cookie => cookies.extend(params::cookie_pairs(p, v)),
        }
    }
    if meta.open_query {
        for (k, v) in obj {
            if k != BODY_KEY && !v.is_null() && meta.parameter(k).is_none() {
                push_query(&mut req, &params::open_query_param(k), v);
            }
        }
    }
    if !cookies.is_empty() {
        req.headers.push(Pair::plain("Cookie", cookies.join("; ")));
    }
    if let Some(accept) = &plan.accept
        && req.header("accept").is_none()
    {
        req.headers.push(Pair::plain("Accept", accept.as_str()));
    }
    req.body = body::encode(meta, lookup(obj, BODY_KEY), options)?;
    Ok(req)
}

fn push_query(req: &mut Request, p: &Parameter, v: &Value) {
    for (name, value) in params::query_pairs(p, v) {
        if !req.query_encoded.contains(&name) {
            req.query_encoded.push(name.clone());
        }
        req.query.push(Pair::plain(name, value));
    }
}

/// Adds one query pair whose name and value are already encoded.
fn push_pair(req: &mut Request, name: &str, value: String) {
    if !req.query_encoded.iter().any(|n| n == name) {
        req.query_encoded.push(name.to_owned());
    }
    req.query.push(Pair { name: name.to_owned(), value, sensitive: false });
}

/// The `Accept` header: the success response's media types, JSON first.
fn accept(meta: &OperationMeta) -> Option<String> {
    let media = &meta.success_response()?.media;
    if let [only] = media.as_slice() {
        return Some(only.content_type.clone()).filter(|t| !t.is_empty());
    }
    let mut types: Vec<&str> = media.iter().map(|m| m.content_type.as_str()).filter(|t| !t.is_empty()).collect();
    types.dedup();
    if types.is_empty() { None } else { Some(types.join(", ")) }
}

/// Appends the path template with its `{name}` placeholders filled to `out`.
fn expand_path(plan: &Plan, meta: &OperationMeta, obj: &Map<String, Value>, out: &mut String) -> Result<()> {
    let template = meta.path.as_str();
    let start = out.len();
    for piece in &plan.pieces {
        match piece {
            Piece::Text(range) => out.push_str(&template[range.clone()]),
            Piece::Param(range, param) => {
                let param = param.map(|i| &meta.parameters[i]);
                match param.and_then(|p| lookup(obj, &p.key).filter(|v| !v.is_null()).map(|v| (p, v))) {
                    Some((p, v)) => params::push_path_value(out, p, v),
                    None => {
                        let name = &template[range.clone()];
                        let key = param.map_or(name, |p| p.key.as_str());
                        return Err(invalid(meta, format!("/{key}"), format!("path parameter `{name}` is required")));
                    }
                }
            }
            Piece::Unclosed => {
                return Err(Error::spec(
                    format!("#/operations/{}", meta.id),
                    format!("unclosed `{{` in path `{template}`"),
                ));
            }
        }
    }
    if !out[start..].starts_with('/') {
        out.insert(start, '/');
    }
    for segment in out[start..].split('/').skip(1) {
        // Only a short run of `.` and `%2e` can mean `.` or `..`; anything
        // else is skipped without allocating.
        if segment.len() > 6 || !segment.bytes().all(|b| matches!(b, b'.' | b'%' | b'2' | b'e' | b'E')) {
            continue;
        }
        let lower = segment.to_ascii_lowercase().replace("%2e", ".");
        if lower == "." || lower == ".." {
            return Err(invalid(meta, String::new(), format!("path `{template}` would contain a `{lower}` segment")));
        }
    }
    Ok(())
}

/// The built URL must have the base's scheme, host and port and stay under its path.
fn check_origin(meta: &OperationMeta, base: &Url, url: &Url) -> Result<()> {
    let same = url.scheme() == base.scheme()
        && url.host_str() == base.host_str()
        && url.port_or_known_default() == base.port_or_known_default()
        && url.path().starts_with(base.path().trim_end_matches('/'));
    if same { Ok(()) } else { Err(invalid(meta, String::new(), "parameters would change the request's origin".into())) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(path: &str, params: Value) -> OperationMeta {
        serde_json::from_value(json!({
            "id": "t.g.op", "service": "t", "group": "g", "name": "op", "alias": "op",
            "method": "GET", "path": path, "parameters": params
        }))
        .expect("meta")
    }

    fn base() -> Url {
        parse_base("t", "https://h.example:8443/api/").expect("base")
    }

    #[test]
    fn base_path_is_kept_as_prefix() {
        let m = meta(
            "/users/{id}",
            json!([{"name": "id", "key": "id", "in": "path", "required": true, "style": "simple"}]),
        );
        let r = build(&m, &json!({"id": "a/../b"}), &base(), &CallOptions::default()).expect("build");
        assert_eq!(r.full_url().as_str(), "https://h.example:8443/api/users/a%2F..%2Fb");
    }

    #[test]
    fn dot_segments_are_rejected() {
        let m = meta(
            "/users/{id}",
            json!([{"name": "id", "key": "id", "in": "path", "required": true, "style": "simple"}]),
        );
        for v in ["..", "."] {
            let err = build(&m, &json!({"id": v}), &base(), &CallOptions::default());
            assert!(matches!(err, Err(Error::Validation { .. })), "{v}: {err:?}");
        }
    }

    #[test]
    fn missing_required_parameter_is_a_validation_error() {
        let m = meta("/q", json!([{"name": "x", "key": "x", "in": "query", "required": true, "style": "form"}]));
        let err = build(&m, &json!({}), &base(), &CallOptions::default()).expect_err("missing");
        assert!(err.to_string().contains("query parameter `x` is required"), "{err}");
    }

    #[test]
    fn non_http_base_urls_are_refused() {
        assert!(parse_base("t", "file:///etc").is_err());
        assert!(parse_base("t", "not a url").is_err());
    }
}
