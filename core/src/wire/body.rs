//! Request bodies: choosing the media type and encoding the input's `body`.
//!
//! Files are never read here: a file input becomes a path in the
//! [`Payload`], and the transport streams it from disk on each attempt, so a
//! retried upload re-reads the file and a large one never sits in memory.

use std::path::PathBuf;

use bytes::Bytes;
use serde_json::Value;

use crate::error::{Error, Result, Violation};
use crate::model::CallOptions;
use crate::model::{Media, OperationMeta, Style};
use crate::schema::{is_binary, is_form, is_json};
use crate::wire::{Part, PartData, Payload, params};

/// Encodes `body` for `meta`, in the media type the caller chose or the
/// spec's first one we can encode (JSON preferred).
pub fn encode(meta: &OperationMeta, body: Option<&Value>, options: &CallOptions) -> Result<Payload> {
    let Some(spec) = &meta.body else { return Ok(Payload::Empty) };
    let body = body.filter(|v| !v.is_null());
    let Some(body) = body else {
        if spec.required {
            return Err(Error::Validation {
                operation: meta.id.clone(),
                violations: vec![Violation { path: "/body".into(), message: "a request body is required".into() }],
            });
        }
        return Ok(Payload::Empty);
    };
    let media = choose(meta, &spec.media, options.content_type.as_deref())?;
    let ct = media.content_type.as_str();
    if ct.starts_with("multipart/") {
        multipart(meta, media, body).map(Payload::Multipart)
    } else if is_form(ct) {
        Ok(Payload::Bytes { content_type: ct.to_owned(), data: Bytes::from(form(meta, media, body)?) })
    } else if is_json(ct) {
        let content_type = if ct == "*/*" { "application/json" } else { ct };
        Ok(Payload::Bytes { content_type: content_type.to_owned(), data: Bytes::from(body.to_string()) })
    } else if ct.starts_with("text/") {
        let text = match body {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Ok(Payload::Bytes { content_type: ct.to_owned(), data: Bytes::from(text) })
    } else {
        raw(meta, ct, body)
    }
}

fn base_type(ct: &str) -> String {
    ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

fn choose<'a>(meta: &OperationMeta, media: &'a [Media], wanted: Option<&str>) -> Result<&'a Media> {
    if let Some(wanted) = wanted {
        let w = base_type(wanted);
        return media.iter().find(|m| base_type(&m.content_type) == w).ok_or_else(|| {
            let offered: Vec<&str> = media.iter().map(|m| m.content_type.as_str()).collect();
            Error::usage(format!(
                "`{}` does not accept content type `{wanted}`; it offers {}",
                meta.id,
                offered.join(", ")
            ))
        });
    }
    media
        .iter()
        .find(|m| is_json(&m.content_type) && m.content_type != "*/*")
        .or_else(|| media.first())
        .ok_or_else(|| Error::spec(format!("#/operations/{}", meta.id), "request body offers no media type"))
}

fn not_object(meta: &OperationMeta, ct: &str) -> Error {
    Error::Validation {
        operation: meta.id.clone(),
        violations: vec![Violation { path: "/body".into(), message: format!("a `{ct}` body must be an object") }],
    }
}

/// `application/x-www-form-urlencoded`: arrays repeat their field unless the
/// encoding says `explode: false`; nested objects are JSON unless `deepObject`.
fn form(meta: &OperationMeta, media: &Media, body: &Value) -> Result<String> {
    let Value::Object(map) = body else { return Err(not_object(meta, &media.content_type)) };
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in map {
        let enc = media.encoding(k);
        match v {
            Value::Null => {}
            Value::Array(items) => match enc.array_separator() {
                None => {
                    for item in items {
                        out.append_pair(k, &params::scalar(item));
                    }
                }
                Some(sep) => {
                    out.append_pair(k, &items.iter().map(params::scalar).collect::<Vec<_>>().join(sep));
                }
            },
            Value::Object(inner) if enc.style == Some(Style::DeepObject) => {
                for (ik, iv) in inner {
                    out.append_pair(&format!("{k}[{ik}]"), &params::scalar(iv));
                }
            }
            other => {
                out.append_pair(k, &params::scalar(other));
            }
        }
    }
    Ok(out.finish())
}

/// The schema of property `field` of the media's (resolved) schema.
fn property_schema<'a>(meta: &'a OperationMeta, media: &'a Media, field: &str) -> Option<&'a Value> {
    let defs = &meta.definitions;
    defs.resolve(&media.schema).get("properties")?.get(field).map(|p| defs.resolve(p))
}

fn is_file_field(meta: &OperationMeta, schema: Option<&Value>, v: &Value) -> bool {
    let defs = &meta.definitions;
    let binary = schema.is_some_and(|s| is_binary(defs, s) || s.get("items").is_some_and(|i| is_binary(defs, i)));
    binary || file_object(v)
}

fn file_object(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.get("path").is_some_and(Value::is_string) && o.len() <= 3)
}

fn multipart(meta: &OperationMeta, media: &Media, body: &Value) -> Result<Vec<Part>> {
    let Value::Object(map) = body else { return Err(not_object(meta, &media.content_type)) };
    let mut parts = Vec::new();
    for (k, v) in map {
        let enc = media.encoding(k);
        let schema = property_schema(meta, media, k);
        if v.is_null() {
            continue;
        }
        if is_file_field(meta, schema, v) {
            let items: Vec<&Value> = match v {
                Value::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            for item in items {
                parts.push(file_part(meta, k, item, enc.content_type.as_deref())?);
            }
            continue;
        }
        let part = match v {
            Value::Object(_) | Value::Array(_) => Part {
                name: k.clone(),
                filename: None,
                content_type: Some(enc.content_type.clone().unwrap_or_else(|| "application/json".into())),
                data: PartData::Bytes(Bytes::from(v.to_string())),
            },
            other => Part {
                name: k.clone(),
                filename: None,
                content_type: enc.content_type.clone(),
                data: PartData::Bytes(Bytes::from(params::scalar(other))),
            },
        };
        parts.push(part);
    }
    Ok(parts)
}

/// A file input: a string is the content, `{path, filename?, content_type?}` a file on disk.
fn file_part(meta: &OperationMeta, field: &str, v: &Value, enc_type: Option<&str>) -> Result<Part> {
    match v {
        Value::Object(o) => {
            let path = PathBuf::from(o.get("path").and_then(Value::as_str).unwrap_or_default());
            check_file(&path)?;
            let filename = o
                .get("filename")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| path.file_name().map(|n| n.to_string_lossy().into_owned()));
            let content_type = o
                .get("content_type")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| enc_type.filter(|t| !t.contains('*') && !t.contains(',')).map(str::to_owned))
                .unwrap_or_else(|| guess_type(&path).to_owned());
            Ok(Part { name: field.to_owned(), filename, content_type: Some(content_type), data: PartData::File(path) })
        }
        other => {
            let content = match other {
                Value::String(s) => s.clone(),
                _ => {
                    return Err(Error::Validation {
                        operation: meta.id.clone(),
                        violations: vec![Violation {
                            path: format!("/body/{field}"),
                            message: "a file is a string (its content) or an object with `path`".into(),
                        }],
                    });
                }
            };
            let content_type = enc_type.filter(|t| !t.contains('*')).unwrap_or("application/octet-stream");
            Ok(Part {
                name: field.to_owned(),
                filename: Some(field.to_owned()),
                content_type: Some(content_type.to_owned()),
                data: PartData::Bytes(Bytes::from(content)),
            })
        }
    }
}

/// Raw bodies (`application/octet-stream`, `image/*`, ...).
fn raw(meta: &OperationMeta, ct: &str, body: &Value) -> Result<Payload> {
    let concrete = |ct: &str| if ct.contains('*') { None } else { Some(ct.to_owned()) };
    match body {
        Value::String(s) => Ok(Payload::Bytes {
            content_type: concrete(ct).unwrap_or_else(|| "application/octet-stream".into()),
            data: Bytes::from(s.clone()),
        }),
        v if file_object(v) => {
            let path = PathBuf::from(v.get("path").and_then(Value::as_str).unwrap_or_default());
            check_file(&path)?;
            let content_type = v
                .get("content_type")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| concrete(ct))
                .unwrap_or_else(|| guess_type(&path).to_owned());
            Ok(Payload::File { content_type, path })
        }
        _ => Err(Error::Validation {
            operation: meta.id.clone(),
            violations: vec![Violation {
                path: "/body".into(),
                message: format!("a `{ct}` body is a string or an object with `path`"),
            }],
        }),
    }
}

fn check_file(path: &std::path::Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(Error::io(path, std::io::Error::other("not a regular file"))),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// A content type from the file extension, for uploads that name none.
pub fn guess_type(path: &std::path::Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "json" => "application/json",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "html" | "htm" => "text/html",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "svg" => "image/svg+xml",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "zip" => "application/zip",
        "mp4" => "video/mp4",
        "mov" => "video/quicktime",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn meta(media: Value) -> OperationMeta {
        serde_json::from_value(json!({
            "id": "t.g.op", "service": "t", "group": "g", "name": "op", "alias": "op",
            "method": "POST", "path": "/x", "body": {"required": true, "media": media}
        }))
        .expect("meta")
    }

    #[test]
    fn json_is_preferred_and_unknown_types_list_the_offered_ones() {
        let m = meta(json!([{"content_type": "application/xml"}, {"content_type": "application/json"}]));
        let p = encode(&m, Some(&json!({"a": 1})), &CallOptions::default()).expect("encode");
        assert_eq!(p, Payload::Bytes { content_type: "application/json".into(), data: Bytes::from(r#"{"a":1}"#) });
        let opts = CallOptions { content_type: Some("text/csv".into()), ..Default::default() };
        let err = encode(&m, Some(&json!({})), &opts).expect_err("unknown type");
        assert!(err.to_string().contains("offers application/xml, application/json"), "{err}");
    }

    #[test]
    fn missing_required_body_is_a_validation_error() {
        let m = meta(json!([{"content_type": "application/json"}]));
        assert!(matches!(encode(&m, None, &CallOptions::default()), Err(Error::Validation { .. })));
    }

    #[test]
    fn form_repeats_arrays_unless_told_otherwise() {
        let m = meta(json!([{"content_type": "application/x-www-form-urlencoded",
            "encoding": {"b": {"explode": false}, "c": {"style": "deepObject"}}}]));
        let body = json!({"a": [1, 2], "b": ["x y", "z"], "c": {"k": true}, "d": {"n": 1}});
        let Payload::Bytes { data, .. } = encode(&m, Some(&body), &CallOptions::default()).expect("encode") else {
            panic!("bytes expected")
        };
        assert_eq!(data, "a=1&a=2&b=x+y%2Cz&c%5Bk%5D=true&d=%7B%22n%22%3A1%7D");
    }

    #[test]
    fn missing_upload_file_is_an_io_error() {
        let m = meta(json!([{"content_type": "application/octet-stream"}]));
        let err = encode(&m, Some(&json!({"path": "/nonexistent/opdeck-x"})), &CallOptions::default());
        assert!(matches!(err, Err(Error::Io { .. })), "{err:?}");
    }
}
