//! Input and output schemas of operations, and input validation.
//!
//! An operation's input is one JSON object: parameters by their key at the
//! top level, the request body under `body`. Its schema is assembled here from
//! the operation's parameters and body, with only the shared definitions it
//! reaches copied under `$defs`, so that each schema stands alone and can be
//! handed to a tool-calling client or a validator as is.
//!
//! File inputs (`format: binary` fields of multipart and octet-stream bodies)
//! accept a string (the content) or `{"path", "filename"?, "content_type"?}`
//! (a file streamed from disk).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result, Violation};
use crate::model::{Definitions, Media, OperationMeta};

/// The key of the request body in an operation's input.
pub const BODY_KEY: &str = "body";

/// The schema a file input accepts.
pub fn file_schema() -> Value {
    json!({
        "anyOf": [
            {"type": "string"},
            {
                "type": "object",
                "required": ["path"],
                "properties": {
                    "path": {"type": "string"},
                    "filename": {"type": "string"},
                    "content_type": {"type": "string"}
                },
                "additionalProperties": false
            }
        ]
    })
}

/// Whether a schema describes raw bytes (`type: string, format: binary`).
pub fn is_binary(defs: &Definitions, schema: &Value) -> bool {
    let s = defs.resolve(schema);
    s.get("format").and_then(Value::as_str) == Some("binary")
}

/// Whether a media type carries files: multipart forms or raw bytes.
fn carries_files(content_type: &str) -> bool {
    content_type.starts_with("multipart/")
        || !(is_json(content_type) || is_form(content_type) || content_type.starts_with("text/"))
}

/// Whether a media type is JSON (`application/json`, `application/*+json`).
pub fn is_json(content_type: &str) -> bool {
    if content_type == "application/json" {
        return true;
    }
    let ct = content_type.split(';').next().unwrap_or("").trim();
    ct == "application/json" || ct.ends_with("+json") || ct == "*/*"
}

/// Whether a media type is a URL-encoded form.
pub fn is_form(content_type: &str) -> bool {
    content_type.starts_with("application/x-www-form-urlencoded")
}

/// The schema of one body media type as the input takes it: binary fields
/// become [`file_schema`].
pub fn body_input_schema(defs: &Definitions, media: &Media) -> Value {
    if !carries_files(&media.content_type) {
        return media.schema.clone();
    }
    if is_binary(defs, &media.schema) || media.schema.as_object().is_none_or(Map::is_empty) {
        return file_schema();
    }
    let resolved = defs.resolve(&media.schema);
    let Some(props) = resolved.get("properties").and_then(Value::as_object) else {
        return media.schema.clone();
    };
    let mut out = resolved.clone();
    let mut new_props = Map::new();
    for (name, prop) in props {
        let item = defs.resolve(prop);
        let converted = if is_binary(defs, prop) {
            file_schema()
        } else if item.get("type").and_then(Value::as_str) == Some("array")
            && item.get("items").is_some_and(|i| is_binary(defs, i))
        {
            json!({"type": "array", "items": file_schema()})
        } else {
            prop.clone()
        };
        new_props.insert(name.clone(), converted);
    }
    out["properties"] = Value::Object(new_props);
    out
}

/// Builds the input schema of `meta`.
pub fn input_schema(meta: &OperationMeta) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for p in &meta.parameters {
        properties.insert(p.key.clone(), p.schema.clone());
        if p.required {
            required.push(Value::String(p.key.clone()));
        }
    }
    if let Some(body) = &meta.body {
        let schemas: Vec<Value> = body.media.iter().map(|m| body_input_schema(&meta.definitions, m)).collect();
        let mut unique: Vec<Value> = Vec::new();
        for s in schemas {
            if !unique.contains(&s) {
                unique.push(s);
            }
        }
        let schema = match unique.len() {
            0 => json!({}),
            1 => unique.remove(0),
            _ => json!({ "anyOf": unique }),
        };
        properties.insert(BODY_KEY.into(), schema);
        if body.required {
            required.push(Value::String(BODY_KEY.into()));
        }
    }
    let mut schema = json!({
        "type": "object",
        "properties": properties,
        "additionalProperties": if meta.open_query {
            json!({"type": ["string", "number", "integer", "boolean"]})
        } else {
            Value::Bool(false)
        },
    });
    if !required.is_empty() {
        schema["required"] = Value::Array(required);
    }
    attach_defs(&meta.definitions, schema)
}

/// The schema of the success response's body, when the spec gives one.
pub fn output_schema(meta: &OperationMeta) -> Option<Value> {
    // The JSON media when there are several: what a client reads, and what
    // the simulator answers with.
    let media = &meta.success_response()?.media;
    let media = media.iter().find(|m| is_json(&m.content_type)).or(media.first())?;
    Some(attach_defs(&meta.definitions, media.schema.clone()))
}

/// Copies into `schema.$defs` every definition it reaches, transitively.
pub fn attach_defs(defs: &Definitions, mut schema: Value) -> Value {
    let mut wanted = BTreeSet::new();
    let mut queue = Vec::new();
    collect_refs(&schema, &mut queue);
    while let Some(name) = queue.pop() {
        if wanted.insert(name.clone())
            && let Some(def) = defs.get(&name)
        {
            collect_refs(def, &mut queue);
        }
    }
    if wanted.is_empty() {
        return schema;
    }
    let found: Map<String, Value> = wanted.into_iter().filter_map(|n| defs.get(&n).map(|d| (n, d.clone()))).collect();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("$defs".into(), Value::Object(found));
    }
    schema
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
                out.push(decode_pointer_token(name));
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Undoes JSON pointer escaping (`~1` is `/`, `~0` is `~`).
pub fn decode_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// A compiled input validator.
pub struct Validator {
    operation: String,
    inner: jsonschema::Validator,
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Validator({})", self.operation)
    }
}

impl Validator {
    /// Compiles the input schema of `meta`.
    pub fn new(meta: &OperationMeta) -> Result<Self> {
        Self::for_schema(&meta.id, &meta.input_schema())
    }

    /// Compiles any JSON Schema (2020-12) for the operation `operation`.
    pub fn for_schema(operation: &str, schema: &Value) -> Result<Self> {
        let inner = jsonschema::draft202012::options().build(schema).map_err(|e| {
            Error::spec(
                format!("{}", e.schema_path()),
                format!("the input schema of `{operation}` does not compile: {e}"),
            )
        })?;
        Ok(Validator { operation: operation.to_owned(), inner })
    }

    /// Every violation of `input`, each with its path.
    pub fn violations(&self, input: &Value) -> Vec<Violation> {
        self.inner
            .iter_errors(input)
            .map(|e| Violation { path: e.instance_path().to_string(), message: e.to_string() })
            .collect()
    }

    /// Fails with [`Error::Validation`] listing every violation.
    pub fn validate(&self, input: &Value) -> Result<()> {
        // The common case, a valid input, is checked without collecting
        // errors, which is several times cheaper; the full walk runs only to
        // report what is wrong.
        if self.inner.is_valid(input) {
            return Ok(());
        }
        let violations = self.violations(input);
        if violations.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation { operation: self.operation.clone(), violations })
        }
    }
}

impl OperationMeta {
    /// The input JSON Schema: parameters by key at the top level, the request
    /// body under `body`, and the definitions the schema reaches under `$defs`.
    pub fn input_schema(&self) -> Value {
        input_schema(self)
    }

    /// The schema of the success response's body, when the spec gives one.
    pub fn output_schema(&self) -> Option<Value> {
        output_schema(self)
    }

    /// Everything known about the operation as one JSON value: the
    /// description plus `input_schema` and, when known, `output_schema`.
    /// What `opdeck describe --json`, scripts and bindings show.
    pub fn describe(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        if let Value::Object(map) = &mut value {
            map.insert("input_schema".into(), self.input_schema());
            if let Some(output) = self.output_schema() {
                map.insert("output_schema".into(), output);
            }
        }
        value
    }
}
