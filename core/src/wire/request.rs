//! From an operation's meta and a JSON input to a [`Request`].
//!
//! Building is pure (no I/O) so that `--dry-run`, the simulator and the
//! network all see the same request. The base URL decides scheme, host and
//! port; parameters only ever fill path segments, query pairs, headers and
//! cookies, and the result is checked against the base before it is returned.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value};
use url::Url;

use crate::error::{Error, Result, Violation};
use crate::model::CallOptions;
use crate::model::{Location, OperationMeta};
use crate::schema::BODY_KEY;
use crate::wire::{Pair, Request, body, params};

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
    /// The operation id, shared by every request.
    id: Arc<str>,
    /// The path template in order: literal text and placeholders.
    pieces: Vec<Piece>,
    /// The percent-encoded name of each parameter (by index) that goes in
    /// the query; empty for the others.
    query_names: Vec<String>,
    /// How many parameters go in headers.
    headers: usize,
    /// The `Accept` header, from the success response's media types.
    accept: Option<Cow<'static, str>>,
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
        Plan {
            id: meta.id.as_str().into(),
            pieces,
            query_names,
            headers: meta.parameters.iter().filter(|p| p.location == Location::Header).count(),
            accept: accept(meta),
        }
    }
}

/// The last URL an operation built, with the base and the path and query it
/// was built from, so that the next call with the same values (every call of
/// an operation without parameters, a loop over the same page) clones it
/// instead of parsing them into the base URL again.
#[derive(Debug, Default)]
pub struct LastUrl(std::sync::RwLock<Option<LastUrlEntry>>);

#[derive(Debug)]
struct LastUrlEntry {
    base: String,
    target: String,
    url: Url,
}

impl LastUrl {
    /// `base` with its path and query set from `target` (the path up to
    /// `path_end`, then `?` and the encoded query if any), checked by
    /// `check` when it is not the URL built last.
    fn get(&self, base: &Url, target: &str, path_end: usize, check: impl FnOnce(&Url) -> Result<()>) -> Result<Url> {
        if let Some(last) = self.0.read().unwrap_or_else(|e| e.into_inner()).as_ref()
            && last.target == target
            && last.base == base.as_str()
        {
            return Ok(last.url.clone());
        }
        let mut url = base.clone();
        url.set_path(&target[..path_end]);
        url.set_query(target.get(path_end + 1..).filter(|q| !q.is_empty()));
        check(&url)?;
        let entry = LastUrlEntry { base: base.as_str().to_owned(), target: target.to_owned(), url: url.clone() };
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Some(entry);
        Ok(url)
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

    // The path and the query are written into one string, encoded as they
    // go on the wire, and parsed into the base URL only when they differ
    // from the last call's.
    let base_path = base_url.path().trim_end_matches('/');
    let mut target = String::with_capacity(base_path.len() + meta.path.len() + 64);
    target.push_str(base_path);
    expand_path(plan, meta, obj, &mut target)?;
    let path_end = target.len();

    let mut headers = Vec::with_capacity(plan.headers + 2);
    let mut cookies = Vec::new();
    for (i, p) in meta.parameters.iter().enumerate() {
        if p.location == Location::Path {
            continue; // filled in by `expand_path`
        }
        let Some(v) = lookup(obj, &p.key).filter(|v| !v.is_null()) else {
            if p.required {
                return Err(invalid(
                    meta,
                    format!("/{}", p.key),
                    format!("{} parameter `{}` is required", p.location.as_str(), p.name),
                ));
            }
            continue;
        };
        match p.location {
            Location::Path => {}
            Location::Query => {
                let mark = target.len();
                target.push(if mark == path_end { '?' } else { '&' });
                target.push_str(&plan.query_names[i]);
                target.push('=');
                if !params::push_query_value(&mut target, p, v) {
                    target.truncate(mark);
                    push_pairs(&mut target, path_end, params::query_pairs(p, v));
                }
            }
            Location::Header => {
                let value = params::header_value(p, v);
                if let Some(bad) = value.bytes().find(|b| matches!(b, b'\r' | b'\n' | 0)) {
                    let what = if bad == 0 { "a NUL byte" } else { "line breaks" };
                    return Err(invalid(
                        meta,
                        format!("/{}", p.key),
                        format!("header parameter `{}` must not contain {what}", p.name),
                    ));
                }
                headers.push(Pair::plain(p.name.clone(), value));
            }
            Location::Cookie => cookies.extend(params::cookie_pairs(p, v)),
        }
    }
    if meta.open_query {
        for (k, v) in obj {
            if k != BODY_KEY && !v.is_null() && meta.parameter(k).is_none() {
                push_pairs(&mut target, path_end, params::query_pairs(&params::open_query_param(k), v));
            }
        }
    }
    // A URL built before from the same text passed these checks then.
    let url = last_url.get(base_url, &target, path_end, |url| {
        check_segments(meta, &target[base_path.len()..path_end])?;
        check_origin(meta, base_url, url)
    })?;
    drop(target);

    let mut req = Request::new(plan.id.clone(), meta.method, url);
    req.headers = headers;
    if !cookies.is_empty() {
        req.headers.push(Pair::plain("Cookie", cookies.join("; ")));
    }
    if let Some(accept) = &plan.accept
        && req.header("accept").is_none()
    {
        req.headers.push(Pair::plain("Accept", accept.clone()));
    }
    req.body = body::encode(meta, lookup(obj, BODY_KEY), options)?;
    Ok(req)
}

/// Appends query pairs whose names and values are already encoded.
fn push_pairs(target: &mut String, path_end: usize, pairs: Vec<(String, String)>) {
    for (name, value) in pairs {
        target.push(if target.len() == path_end { '?' } else { '&' });
        target.push_str(&name);
        target.push('=');
        target.push_str(&value);
    }
}

/// The `Accept` header: the success response's media types, JSON first.
/// The usual single `application/json` is shared rather than copied per call.
fn accept(meta: &OperationMeta) -> Option<Cow<'static, str>> {
    const JSON: &str = "application/json";
    let media = &meta.success_response()?.media;
    if let [only] = media.as_slice() {
        return match only.content_type.as_str() {
            "" => None,
            JSON => Some(Cow::Borrowed(JSON)),
            other => Some(Cow::Owned(other.to_owned())),
        };
    }
    let mut types: Vec<&str> = media.iter().map(|m| m.content_type.as_str()).filter(|t| !t.is_empty()).collect();
    types.dedup();
    if types.is_empty() { None } else { Some(Cow::Owned(types.join(", "))) }
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
    Ok(())
}

/// The expanded path must not hold a `.` or `..` segment, which a server
/// or proxy would resolve into another path.
fn check_segments(meta: &OperationMeta, path: &str) -> Result<()> {
    for segment in path.split('/').skip(1) {
        // Only a short run of `.` and `%2e` can mean `.` or `..`; anything
        // else is skipped without allocating.
        if segment.len() > 6 || !segment.bytes().all(|b| matches!(b, b'.' | b'%' | b'2' | b'e' | b'E')) {
            continue;
        }
        let lower = segment.to_ascii_lowercase().replace("%2e", ".");
        if lower == "." || lower == ".." {
            let template = &meta.path;
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
        assert_eq!(r.url.as_str(), "https://h.example:8443/api/users/a%2F..%2Fb");
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
    fn the_last_url_is_reused_only_for_the_same_path_and_query() {
        let m = meta(
            "/users/{id}",
            json!([
                {"name": "id", "key": "id", "in": "path", "required": true, "style": "simple"},
                {"name": "page", "key": "page", "in": "query", "style": "form", "explode": true}
            ]),
        );
        let (plan, last, base, options) = (Plan::new(&m), LastUrl::default(), base(), CallOptions::default());
        let url = |input: Value| build_with(&plan, &last, &m, &input, &base, &options).map(|r| r.url.to_string());
        let first = "https://h.example:8443/api/users/a?page=1";
        assert_eq!(url(json!({"id": "a", "page": 1})).expect("first"), first);
        assert_eq!(url(json!({"id": "a", "page": 1})).expect("again"), first);
        assert_eq!(url(json!({"id": "a", "page": 2})).expect("next page"), "https://h.example:8443/api/users/a?page=2");
        assert!(url(json!({"id": ".."})).is_err(), "a dot segment is checked on every new path");
        assert_eq!(url(json!({"id": "b"})).expect("no query"), "https://h.example:8443/api/users/b");
        let other = parse_base("t", "https://other.example/v2").expect("base");
        let moved = build_with(&plan, &last, &m, &json!({"id": "b"}), &other, &options).expect("other base");
        assert_eq!(moved.url.as_str(), "https://other.example/v2/users/b");
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
