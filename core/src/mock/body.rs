//! Request bodies off the wire, turned back into JSON for the schema check.
//!
//! JSON is parsed; URL-encoded forms and multipart bodies become objects
//! whose fields are typed by the body schema (repeated fields become lists,
//! and so does a form field the encoding joins with a separator).
//! File parts and raw bodies are not read: their content is opaque to a
//! schema, so they stand in as a short string.

use serde_json::{Map, Value};

use crate::model::{Definitions, Media};
use crate::schema::{is_form, is_json};
use crate::wire::{PartData, Payload};

use super::params::{scalar, types};

/// What stands in for file content in the value that is checked.
const FILE_STAND_IN: &str = "<file>";

/// The media type without parameters, lowercase.
pub(crate) fn essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Whether a request content type is one a media entry offers
/// (`*/*` and `type/*` entries accept their whole range).
pub(crate) fn offers(offered: &str, sent: &str) -> bool {
    let offered = essence(offered);
    offered == sent
        || offered == "*/*"
        || offered.strip_suffix("/*").is_some_and(|ty| sent.split('/').next() == Some(ty))
}

/// Whether the payload carries any bytes at all.
pub(crate) fn is_present(body: &Payload) -> bool {
    match body {
        Payload::Empty => false,
        Payload::Bytes { data, .. } => !data.is_empty(),
        Payload::File { .. } | Payload::Multipart(_) => true,
    }
}

/// The body as a JSON value, or the reason it cannot be read.
pub(crate) fn decode(defs: &Definitions, media: &Media, sent: &str, body: &Payload) -> Result<Option<Value>, String> {
    match body {
        Payload::Empty | Payload::File { .. } => Ok(None),
        Payload::Multipart(parts) => {
            let fields = parts.iter().map(|p| {
                let text = match &p.data {
                    PartData::Bytes(b) if p.filename.is_none() => String::from_utf8_lossy(b).into_owned(),
                    _ => FILE_STAND_IN.to_owned(),
                };
                (p.name.clone(), text, p.content_type.clone())
            });
            Ok(Some(fields_to_object(defs, media, fields, Joined::Kept)))
        }
        Payload::Bytes { content_type, data } => {
            if is_json(sent) {
                return serde_json::from_slice(data).map(Some).map_err(|e| format!("the body is not valid json: {e}"));
            }
            if is_form(sent) {
                let fields = url::form_urlencoded::parse(data).map(|(k, v)| (k.into_owned(), v.into_owned(), None));
                return Ok(Some(fields_to_object(defs, media, fields, Joined::Split)));
            }
            if sent == "multipart/form-data" {
                let boundary = boundary(content_type).ok_or("the multipart body has no boundary")?;
                let fields = multipart_fields(data, &boundary)?;
                return Ok(Some(fields_to_object(defs, media, fields.into_iter(), Joined::Kept)));
            }
            Ok(None)
        }
    }
}

/// Whether an array field the encoding joins into one value (`explode:
/// false`, which applies to URL-encoded forms) is split at its separator.
#[derive(Clone, Copy, PartialEq)]
enum Joined {
    Split,
    Kept,
}

fn fields_to_object(
    defs: &Definitions,
    media: &Media,
    fields: impl Iterator<Item = (String, String, Option<String>)>,
    joined: Joined,
) -> Value {
    let resolved = defs.resolve(&media.schema);
    let props = resolved.get("properties").and_then(Value::as_object);
    let mut out = Map::new();
    for (name, text, content_type) in fields {
        let prop = props.and_then(|p| p.get(&name)).unwrap_or(&Value::Bool(true));
        let is_array = types(defs, prop).contains(&"array");
        let item_schema = if is_array { defs.resolve(prop).get("items").unwrap_or(&Value::Bool(true)) } else { prop };
        let typed = |text: &str| {
            if content_type.as_deref().is_some_and(is_json) {
                serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
            } else {
                scalar(defs, item_schema, text)
            }
        };
        let separator =
            (is_array && joined == Joined::Split).then(|| media.encoding(&name).array_separator()).flatten();
        if let Some(sep) = separator {
            // `a,b` is two items, and an empty value an empty array.
            let items = text.split(sep).filter(|_| !text.is_empty()).map(typed);
            match out.entry(name).or_insert_with(|| Value::Array(Vec::new())) {
                Value::Array(list) => list.extend(items),
                other => *other = Value::Array(items.collect()),
            }
            continue;
        }
        let value = typed(&text);
        match out.get_mut(&name) {
            Some(Value::Array(list)) if is_array => list.push(value),
            _ if is_array => {
                out.insert(name, Value::Array(vec![value]));
            }
            _ => {
                out.insert(name, value);
            }
        }
    }
    Value::Object(out)
}

fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary").then(|| v.trim_matches('"').to_owned())
    })
}

/// The fields of an encoded multipart body: name, text (or the file stand-in)
/// and the part's content type.
fn multipart_fields(data: &[u8], boundary: &str) -> Result<Vec<(String, String, Option<String>)>, String> {
    let delimiter = format!("--{boundary}");
    let text = String::from_utf8_lossy(data);
    let mut out = Vec::new();
    let mut sections = text.split(delimiter.as_str());
    sections.next();
    for section in sections {
        if section.starts_with("--") {
            return Ok(out);
        }
        let section = section.strip_prefix("\r\n").unwrap_or(section);
        let (head, body) = section.split_once("\r\n\r\n").ok_or("a multipart part has no header end")?;
        let body = body.strip_suffix("\r\n").unwrap_or(body);
        let mut name = None;
        let mut filename = false;
        let mut content_type = None;
        for line in head.split("\r\n") {
            let Some((h, v)) = line.split_once(':') else { continue };
            if h.trim().eq_ignore_ascii_case("content-disposition") {
                for attr in v.split(';').skip(1) {
                    match attr.trim().split_once('=') {
                        Some(("name", n)) => name = Some(n.trim_matches('"').to_owned()),
                        Some(("filename", _)) => filename = true,
                        _ => {}
                    }
                }
            } else if h.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(v.trim().to_owned());
            }
        }
        let name = name.ok_or("a multipart part has no name")?;
        let value = if filename { FILE_STAND_IN.to_owned() } else { body.to_owned() };
        out.push((name, value, content_type));
    }
    Err("the multipart body has no closing boundary".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use serde_json::json;

    #[test]
    fn offered_ranges_accept_their_subtypes() {
        assert!(offers("application/json; charset=utf-8", "application/json"));
        assert!(offers("image/*", "image/png"));
        assert!(offers("*/*", "text/plain"));
        assert!(!offers("application/json", "text/plain"));
    }

    #[test]
    fn encoded_multipart_becomes_typed_fields() {
        let defs = Definitions::new(Map::new());
        let schema = json!({"type": "object", "properties": {
            "n": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}
        }});
        let data = "--XY\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\n7\r\n--XY\r\n\
                    Content-Disposition: form-data; name=\"tags\"\r\n\r\na\r\n--XY\r\n\
                    Content-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n\r\n\x01\r\n--XY--\r\n";
        let body = Payload::Bytes { content_type: "multipart/form-data; boundary=XY".into(), data: Bytes::from(data) };
        let media = Media { schema, ..form_media(json!({})) };
        let value = decode(&defs, &media, "multipart/form-data", &body).expect("parses");
        assert_eq!(value, Some(json!({"n": 7, "tags": ["a"], "f": FILE_STAND_IN})));
    }

    fn form_media(encoding: Value) -> Media {
        serde_json::from_value(json!({
            "content_type": "application/x-www-form-urlencoded",
            "schema": {"type": "object", "properties": {
                "ids": {"type": "array", "items": {"type": "integer"}},
                "tags": {"type": "array", "items": {"type": "string"}},
                "note": {"type": "string"}
            }},
            "encoding": encoding
        }))
        .expect("media")
    }

    fn form(data: &'static str) -> Payload {
        Payload::Bytes { content_type: "application/x-www-form-urlencoded".into(), data: Bytes::from(data) }
    }

    #[test]
    fn a_joined_form_array_is_split_at_its_separator() {
        let defs = Definitions::new(Map::new());
        let sent = "application/x-www-form-urlencoded";
        let media = form_media(json!({
            "ids": {"explode": false}, "tags": {"explode": false, "style": "pipeDelimited"}, "note": {"explode": false}
        }));
        let decoded = decode(&defs, &media, sent, &form("ids=1%2C2&tags=a+b%7Cc&note=x%2Cy")).expect("parses");
        // The note is not an array: its comma is text.
        assert_eq!(decoded, Some(json!({"ids": [1, 2], "tags": ["a b", "c"], "note": "x,y"})));
        let empty = decode(&defs, &media, sent, &form("ids=&tags=a")).expect("parses");
        assert_eq!(empty, Some(json!({"ids": [], "tags": ["a"]})));
        // Exploded (the default), the same commas stay inside one item.
        let exploded = decode(&defs, &form_media(json!({})), sent, &form("tags=a%2Cb&tags=c")).expect("parses");
        assert_eq!(exploded, Some(json!({"tags": ["a,b", "c"]})));
    }

    #[test]
    fn a_form_the_client_encodes_reads_back_as_its_body() {
        let defs = Definitions::new(Map::new());
        let media =
            form_media(json!({"ids": {"explode": false}, "tags": {"explode": false, "style": "spaceDelimited"}}));
        let meta: crate::model::OperationMeta = serde_json::from_value(json!({
            "id": "t.g.op", "service": "t", "group": "g", "name": "op", "alias": "op", "method": "POST", "path": "/x",
            "body": {"required": true, "media": [media.clone()]}
        }))
        .expect("meta");
        let body = json!({"ids": [3, 4, 5], "tags": ["red", "blue"], "note": "hi, there"});
        let sent =
            crate::wire::body::encode(&meta, Some(&body), &crate::model::CallOptions::default()).expect("encodes");
        let decoded = decode(&defs, &media, "application/x-www-form-urlencoded", &sent).expect("parses");
        assert_eq!(decoded, Some(body));
    }

    #[test]
    fn forms_and_broken_json() {
        let defs = Definitions::new(Map::new());
        let schema = json!({"type": "object", "properties": {"a": {"type": "boolean"}}});
        let form = Payload::Bytes {
            content_type: "application/x-www-form-urlencoded".into(),
            data: Bytes::from("a=true&b=x"),
        };
        let sent = "application/x-www-form-urlencoded";
        let media = Media { schema, ..form_media(json!({})) };
        assert_eq!(decode(&defs, &media, sent, &form), Ok(Some(json!({"a": true, "b": "x"}))));
        let json_body = Payload::Bytes { content_type: "application/json".into(), data: Bytes::from("{") };
        assert!(decode(&defs, &media, "application/json", &json_body).is_err());
    }
}
