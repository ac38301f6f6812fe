//! Bytes to a JSON value, and which dialect the value speaks.
//!
//! JSON is parsed with `serde_json` and YAML with `serde-saphyr`, both into
//! `serde_json::Value` with the document's key order kept, so everything
//! downstream (operation order, collision suffixes) follows the spec's order.

use serde_json::Value;

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

/// Parses JSON or YAML bytes into a value, keeping key order.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    match first {
        None => Err(Error::spec("", "the document is empty")),
        Some(b'{') | Some(b'[') => serde_json::from_slice(bytes).map_err(|e| {
            Error::spec("", format!("invalid json at line {} column {}: {}", e.line(), e.column(), json_reason(&e)))
        }),
        Some(_) => {
            let text =
                std::str::from_utf8(bytes).map_err(|e| Error::spec("", format!("the document is not utf-8: {e}")))?;
            serde_saphyr::from_str::<Value>(text)
                .map_err(|e| Error::spec("", format!("invalid yaml: {}", first_line(&e.to_string()))))
        }
    }
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
    fn yaml_keeps_key_order_and_numeric_keys() {
        let doc = parse(b"openapi: 3.0.0\npaths:\n  /b: {}\n  /a: {}\nresponses:\n  200: {}\n").expect("parses");
        let keys: Vec<&String> = doc["paths"].as_object().expect("object").keys().collect();
        assert_eq!(keys, ["/b", "/a"]);
        assert!(doc["responses"].get("200").is_some());
    }
}
