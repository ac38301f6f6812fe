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

/// Builds the request `input` describes. Missing required parameters and
/// unsafe values are validation errors, never panics.
pub fn build(meta: &OperationMeta, input: &Value, base_url: &Url, options: &CallOptions) -> Result<Request> {
    let empty = Map::new();
    let obj = match input {
        Value::Object(map) => map,
        Value::Null => &empty,
        _ => return Err(invalid(meta, String::new(), "input must be an object".into())),
    };
    let present = |p: &Parameter| obj.get(&p.key).filter(|v| !v.is_null());
    for p in &meta.parameters {
        if p.required && present(p).is_none() {
            return Err(invalid(
                meta,
                format!("/{}", p.key),
                format!("{} parameter `{}` is required", p.location.as_str(), p.name),
            ));
        }
    }

    let path = expand_path(meta, obj)?;
    let mut url = base_url.clone();
    let full_path = format!("{}{}", base_url.path().trim_end_matches('/'), path);
    url.set_path(&full_path);
    check_origin(meta, base_url, &url)?;

    let mut req = Request::new(meta.id.clone(), meta.method, url);
    let mut cookies = Vec::new();
    for p in &meta.parameters {
        let Some(v) = present(p) else { continue };
        match p.location {
            Location::Path => {}
            Location::Query => push_query(&mut req, p, v),
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
    if req.header("accept").is_none()
        && let Some(accept) = accept(meta)
    {
        req.headers.push(Pair::plain("Accept", accept));
    }
    req.body = body::encode(meta, obj.get(BODY_KEY), options)?;
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

/// Fills `{name}` placeholders of the path template.
fn expand_path(meta: &OperationMeta, obj: &Map<String, Value>) -> Result<String> {
    let template = &meta.path;
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template.as_str();
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else {
            return Err(Error::spec(
                format!("#/operations/{}", meta.id),
                format!("unclosed `{{` in path `{template}`"),
            ));
        };
        let name = &after[..end];
        let param = meta.parameters.iter().find(|p| p.location == Location::Path && p.name == name);
        let value = param.and_then(|p| obj.get(&p.key).filter(|v| !v.is_null()).map(|v| (p, v)));
        match value {
            Some((p, v)) => out.push_str(&params::path_value(p, v)),
            None => {
                let key = param.map_or(name, |p| p.key.as_str());
                return Err(invalid(meta, format!("/{key}"), format!("path parameter `{name}` is required")));
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    for segment in out.split('/').skip(1) {
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
    Ok(out)
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
