//! Bytes to a JSON value, and which dialect the value speaks.
//!
//! JSON is parsed with `serde_json` and YAML with `serde-saphyr`, both into
//! `serde_json::Value` with the document's key order kept, so everything
//! downstream (operation order, collision suffixes) follows the spec's order.
//!
//! Both go through [`Lean`], which leaves out what no later step reads:
//! prose `description` strings and `x-*` extensions (all but `x-nullable`).
//! On large specs that is a fifth of the content and of the allocations,
//! and it never changes a result: the schema converter drops both anyway.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::doc::Doc;
use crate::error::{Error, Result};

/// The dialect of an API description.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Swagger 2.0.
    Swagger2,
    /// OpenAPI 3.0.x.
    OpenApi30,
    /// OpenAPI 3.1.x.
    OpenApi31,
}

/// Reads a document for building: a JSON object as a [`Doc`] whose large
/// maps are parsed on demand, anything else (YAML, a JSON array) fully.
pub(super) fn read(bytes: &[u8]) -> Result<Doc<'_>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().copied().find(|b| !b.is_ascii_whitespace()) == Some(b'{') {
        super::budget::check_size(bytes).map_err(|m| Error::spec("", m))?;
        return Doc::from_json(utf8(bytes)?).map_err(|e| json_error(&e));
    }
    parse(bytes).map(Doc::from_value)
}

/// Parses JSON or YAML bytes into a value, keeping key order.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Some(first) = bytes.iter().copied().find(|b| !b.is_ascii_whitespace()) else {
        return Err(Error::spec("", "the document is empty"));
    };
    let text = utf8(bytes)?;
    if matches!(first, b'{' | b'[') {
        super::budget::check(bytes).map_err(|m| Error::spec("", m))?;
        return parse_lean(Lean::Node, text).map_err(|e| json_error(&e));
    }
    serde_saphyr::from_str::<LeanValue>(text)
        .map(|v| v.0)
        .map_err(|e| Error::spec("", format!("invalid yaml: {}", first_line(&e.to_string()))))
}

/// The document as text: checked once here, so the parsers need not check again.
fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|e| Error::spec("", format!("the document is not utf-8: {e}")))
}

/// One JSON value read as `lean`: a whole document, or a member or entry
/// of a [`Doc`].
pub(super) fn parse_lean(lean: Lean, text: &str) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = lean.deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// How the members of the JSON value being read are treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lean {
    /// A spec object: string `description`s and `x-*` members are dropped.
    Node,
    /// A map whose keys are names (properties, schemas, paths, responses…):
    /// every key is kept, whatever it is; each value is a `Node`.
    Names,
    /// Data (`enum`, `default`, examples…): kept exactly.
    Verbatim,
}

impl Lean {
    /// The treatment of the value under `key` of a map read as `self`.
    pub(crate) fn member(self, key: &str) -> Lean {
        match self {
            Lean::Verbatim => Lean::Verbatim,
            Lean::Names => Lean::Node,
            Lean::Node => match key {
                "properties"
                | "patternProperties"
                | "dependentSchemas"
                | "definitions"
                | "$defs"
                | "schemas"
                | "parameters"
                | "responses"
                | "headers"
                | "content"
                | "encoding"
                | "paths"
                | "securitySchemes"
                | "securityDefinitions"
                | "requestBodies"
                | "callbacks"
                | "links"
                | "pathItems"
                | "variables"
                | "scopes"
                | "mapping"
                | "webhooks" => Lean::Names,
                "enum" | "const" | "default" | "example" | "examples" | "value" | "security" | "x-nullable" => {
                    Lean::Verbatim
                }
                _ => Lean::Node,
            },
        }
    }

    /// Whether the member `key` of a map read as `self` is left out without
    /// looking at its value.
    pub(super) fn skips(self, key: &str) -> bool {
        self == Lean::Node && key.starts_with("x-") && key != "x-nullable"
    }
}

impl<'de> DeserializeSeed<'de> for Lean {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> std::result::Result<Value, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Lean {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Value, A::Error> {
        let element = if self == Lean::Names { Lean::Node } else { self };
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(element)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(Key)? {
            if self.skips(&key) {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let member = self.member(&key);
            let value = if self == Lean::Node && key == "description" {
                match map.next_value_seed(Prose)? {
                    Some(value) => value,
                    None => continue,
                }
            } else {
                map.next_value_seed(member)?
            };
            out.insert(key.into_owned(), value);
        }
        Ok(Value::Object(out))
    }
}

/// A whole document read through [`Lean`], for parsers that take a type
/// rather than a seed (YAML).
struct LeanValue(Value);

impl<'de> serde::Deserialize<'de> for LeanValue {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> std::result::Result<Self, D::Error> {
        Lean::Node.deserialize(de).map(LeanValue)
    }
}

/// A map key, borrowed from the input when it has no escapes, so a
/// member that is left out costs no allocation. YAML keys may be numbers
/// or booleans (`200:`); they become their text.
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> std::result::Result<Cow<'de, str>, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }

    fn visit_i64<E>(self, v: i64) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// A `description` member: prose (a string) is read without being kept;
/// anything else is a property named `description` and kept.
struct Prose;

impl<'de> DeserializeSeed<'de> for Prose {
    type Value = Option<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> std::result::Result<Option<Value>, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Prose {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_str<E>(self, _: &str) -> std::result::Result<Option<Value>, E> {
        Ok(None)
    }

    fn visit_bool<E>(self, v: bool) -> std::result::Result<Option<Value>, E> {
        Ok(Some(Value::Bool(v)))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Option<Value>, E> {
        Lean::Node.visit_i64(v).map(Some)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Option<Value>, E> {
        Lean::Node.visit_u64(v).map(Some)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Option<Value>, E> {
        Lean::Node.visit_f64(v).map(Some)
    }

    fn visit_unit<E>(self) -> std::result::Result<Option<Value>, E> {
        Ok(Some(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<Option<Value>, A::Error> {
        Lean::Node.visit_seq(seq).map(Some)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Option<Value>, A::Error> {
        Lean::Node.visit_map(map).map(Some)
    }
}

fn json_error(e: &serde_json::Error) -> Error {
    Error::spec("", format!("invalid json at line {} column {}: {}", e.line(), e.column(), json_reason(e)))
}

fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // serde_json appends " at line L column C", which the message already says.
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// Which dialect `doc` is written in, and its label (`openapi 3.0.3`,
/// `swagger 2.0`).
pub fn detect(doc: &Value) -> Result<(Dialect, String)> {
    let Some(root) = doc.as_object() else {
        return Err(Error::spec("", "the document is not an object"));
    };
    if let Some(v) = root.get("openapi") {
        let Some(version) = v.as_str() else {
            return Err(Error::spec("/openapi", "the openapi version is not a string"));
        };
        let dialect = if version.starts_with("3.0.") || version == "3.0" {
            Dialect::OpenApi30
        } else if version.starts_with("3.1.") || version == "3.1" {
            Dialect::OpenApi31
        } else {
            return Err(Error::spec(
                "/openapi",
                format!("openapi version `{}` is not supported (3.0.x and 3.1.x are)", clip(version)),
            ));
        };
        return Ok((dialect, format!("openapi {version}")));
    }
    if let Some(v) = root.get("swagger") {
        return match v.as_str() {
            Some("2.0") => Ok((Dialect::Swagger2, "swagger 2.0".into())),
            Some(other) => Err(Error::spec("/swagger", format!("swagger version `{}` is not 2.0", clip(other)))),
            None => Err(Error::spec("/swagger", "the swagger version is not a string")),
        };
    }
    Err(Error::spec("/openapi", "missing: the document declares neither `openapi` nor `swagger`"))
}

/// At most 40 characters of untrusted text, for error messages.
pub(crate) fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rstest::rstest]
    #[case(br#"{"openapi": "3.0.3"}"#, Dialect::OpenApi30, "openapi 3.0.3")]
    #[case(b"openapi: 3.1.0\n", Dialect::OpenApi31, "openapi 3.1.0")]
    #[case(b"\xEF\xBB\xBFswagger: '2.0'\n", Dialect::Swagger2, "swagger 2.0")]
    fn dialects_are_detected(#[case] bytes: &[u8], #[case] dialect: Dialect, #[case] label: &str) {
        let doc = parse(bytes).expect("parses");
        assert_eq!(detect(&doc).expect("detects"), (dialect, label.to_owned()));
    }

    #[rstest::rstest]
    #[case(b"", "")]
    #[case(b"{\"openapi\": ", "")]
    #[case(b"[1, 2]", "")]
    #[case(b"openapi: 4.0.0", "/openapi")]
    #[case(b"openapi: [1]", "/openapi")]
    #[case(b"swagger: '1.2'", "/swagger")]
    #[case(b"info: {}", "/openapi")]
    #[case(b"key: [unclosed", "")]
    #[case(b"\xff\xfe\x00garbage", "")]
    #[case(b"- a\n- b", "")]
    #[case(b"42", "")]
    fn garbage_is_a_spec_error_with_a_pointer(#[case] bytes: &[u8], #[case] pointer: &str) {
        let err = parse(bytes).and_then(|d| detect(&d).map(|_| ())).expect_err("must fail");
        match err {
            Error::Spec { pointer: p, message } => {
                assert_eq!(p, pointer, "{message}");
                assert!(!message.is_empty());
            }
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn json_leaves_out_prose_and_extensions_but_never_names_or_data() {
        let doc = parse(
            br#"{"openapi": "3.0.3", "info": {"title": "T", "description": "prose", "x-logo": {"url": "u"}},
            "x-tagGroups": [1],
            "components": {"schemas": {"x-model": {"type": "object", "description": "prose", "x-go": "s",
                "x-nullable": true,
                "properties": {"description": {"type": "string"}, "x-id": {"type": "integer"}},
                "enum": [{"x-kept": 1, "description": "kept"}], "default": {"description": "kept"}}}}}"#,
        )
        .expect("parses");
        assert_eq!(
            doc,
            serde_json::json!({"openapi": "3.0.3", "info": {"title": "T"},
            "components": {"schemas": {"x-model": {"type": "object", "x-nullable": true,
                "properties": {"description": {"type": "string"}, "x-id": {"type": "integer"}},
                "enum": [{"x-kept": 1, "description": "kept"}], "default": {"description": "kept"}}}}})
        );
    }

    #[test]
    fn yaml_is_read_as_leanly_as_json() {
        let yaml = parse(b"openapi: 3.0.3\ninfo:\n  title: T\n  description: prose\n  x-logo: {url: u}\nx-tags: [1]\n")
            .expect("parses");
        assert_eq!(yaml, serde_json::json!({"openapi": "3.0.3", "info": {"title": "T"}}));
    }

    #[test]
    fn yaml_keeps_key_order_and_numeric_keys() {
        let doc = parse(b"openapi: 3.0.0\npaths:\n  /b: {}\n  /a: {}\nresponses:\n  200: {}\n").expect("parses");
        let keys: Vec<&String> = doc["paths"].as_object().expect("object").keys().collect();
        assert_eq!(keys, ["/b", "/a"]);
        assert!(doc["responses"].get("200").is_some());
    }
}
