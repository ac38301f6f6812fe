//! A word's text as its schema's type, and the schemas the words are typed
//! by: a parameter's, or a body property's found through core's resolution
//! of `$ref`s (`Definitions::resolve`) and `schema::body_input_schema`.

use std::path::Path;

use opdeck::model::{Definitions, Location, Media, Style};
use opdeck::schema::{body_input_schema, is_json};
use opdeck::{Error, OperationMeta, Result};
use serde_json::Value;

use super::field::{Field, Kind};

/// The separator of an array parameter's single value: `,` for `form`
/// without explode and `simple`, a space or `|` for the delimited styles.
pub(super) fn separator(location: Location, style: Style, explode: bool) -> Option<char> {
    match style {
        Style::Form if !explode => Some(','),
        Style::Simple if location != Location::Query => Some(','),
        Style::SpaceDelimited => Some(' '),
        Style::PipeDelimited => Some('|'),
        _ => None,
    }
}

/// The value of a field for `schema`.
pub(super) fn value(
    defs: &Definitions,
    schema: Option<&Value>,
    field: &Field<'_>,
    separator: Option<char>,
) -> Result<Value> {
    match field.kind {
        Kind::Json => {
            json(field.value).map_err(|e| Error::usage(format!("`{}`: not JSON after `:=`: {e}", field.word)))
        }
        Kind::JsonFile => {
            let text = read_text(field.value)?;
            json(&text).map_err(|e| Error::usage(format!("`{}`: {} is not JSON: {e}", field.word, field.value)))
        }
        Kind::Text => Ok(Value::String(read_text(field.value)?)),
        Kind::Upload => {
            let path = Path::new(field.value);
            if !path.is_file() {
                return Err(Error::io(
                    path,
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such file to upload"),
                ));
            }
            Ok(serde_json::json!({ "path": field.value }))
        }
        Kind::Typed => typed(defs, schema, field.value, separator).map_err(|why| {
            Error::usage(format!("`{}`: {why} (write {}:=<json> for a raw JSON value)", field.word, field.name))
        }),
    }
}

fn json(text: &str) -> std::result::Result<Value, serde_json::Error> {
    serde_json::from_str(text)
}

pub(super) fn read_text(path: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// The first JSON type a schema names (`null` last), looking into `anyOf`,
/// `oneOf` and `allOf` when it names none; `string` wins when an
/// alternative is text, since text is what a word is.
pub(super) fn type_of<'a>(defs: &'a Definitions, schema: &'a Value) -> Option<&'a str> {
    let schema = defs.resolve(schema);
    match schema.get("type") {
        Some(Value::String(t)) => return Some(t),
        Some(Value::Array(types)) => {
            let names: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
            if names.contains(&"string") {
                return Some("string");
            }
            return names.iter().copied().find(|t| *t != "null").or(names.first().copied());
        }
        _ => {}
    }
    let mut found = None;
    for key in ["anyOf", "oneOf", "allOf"] {
        for alt in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            match type_of(defs, alt) {
                Some("string") => return Some("string"),
                Some("null") | None => {}
                Some(t) => found = found.or(Some(t)),
            }
        }
    }
    if found.is_none() && (schema.get("properties").is_some()) {
        return Some("object");
    }
    found
}

/// A word's text as the schema's type.
fn typed(
    defs: &Definitions,
    schema: Option<&Value>,
    text: &str,
    separator: Option<char>,
) -> std::result::Result<Value, String> {
    let Some(schema) = schema else { return Ok(Value::String(text.to_owned())) };
    match type_of(defs, schema) {
        Some("integer") => match (text.trim().parse::<i64>(), text.trim().parse::<u64>()) {
            (Ok(n), _) => Ok(n.into()),
            (_, Ok(n)) => Ok(n.into()),
            _ => Err(format!("`{text}` is not an integer")),
        },
        Some("number") => {
            if let Ok(n) = text.trim().parse::<i64>() {
                return Ok(n.into());
            }
            text.trim()
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| format!("`{text}` is not a number"))
        }
        Some("boolean") => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not a boolean (true or false)")),
        },
        Some("null") if text == "null" || text.is_empty() => Ok(Value::Null),
        Some("array") => {
            let items = defs.resolve(schema).get("items");
            let parts: Vec<&str> = match separator {
                Some(sep) if !text.is_empty() => text.split(sep).collect(),
                _ => vec![text],
            };
            parts
                .into_iter()
                .map(|p| typed(defs, items, p, None))
                .collect::<std::result::Result<_, _>>()
                .map(Value::Array)
        }
        Some("object") => match json(text) {
            Ok(v @ Value::Object(_)) => Ok(v),
            _ => Err("an object is wanted".to_owned()),
        },
        _ => Ok(Value::String(text.to_owned())),
    }
}

/// The schema of property `name` of an object schema: its `properties`, an
/// `allOf` member's, or `additionalProperties`.
pub(super) fn property<'a>(defs: &'a Definitions, schema: &'a Value, name: &str) -> Option<&'a Value> {
    let schema = defs.resolve(schema);
    if let Some(p) = schema.get("properties").and_then(|p| p.get(name)) {
        return Some(p);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for alt in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
            if let Some(p) = property(defs, alt, name) {
                return Some(p);
            }
        }
    }
    schema.get("additionalProperties").filter(|a| a.is_object())
}

/// The body's schema in the media type the call sends (`--content-type`, or
/// JSON when offered, else the first), as the input takes it: binary fields
/// are file inputs.
pub(super) fn body_schema(meta: &OperationMeta, content_type: Option<&str>) -> Option<Value> {
    let media = &meta.body.as_ref()?.media;
    let base = |ct: &str| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let chosen: Option<&Media> = match content_type {
        Some(wanted) => media.iter().find(|m| base(&m.content_type) == base(wanted)),
        None => media.iter().find(|m| is_json(&m.content_type) && m.content_type != "*/*").or(media.first()),
    };
    chosen.map(|m| body_input_schema(&meta.definitions, m))
}
