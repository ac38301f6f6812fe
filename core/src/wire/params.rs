//! Parameter serialization: OpenAPI `style` and `explode` for path, query,
//! header and cookie values.
//!
//! Values are percent-encoded item by item and then joined with their style's
//! delimiter, so the delimiters stay literal (`color=blue,black`) while a
//! delimiter inside a value is encoded (`a%2Cb`) and the two stay
//! distinguishable, as RFC 6570 expansion does. Path values are encoded so
//! that nothing they hold can leave their segment.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::model::{Location, Parameter, Style};

/// Everything but RFC 3986 unreserved characters is encoded.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// With `allowReserved`, RFC 3986 reserved characters stay as they are,
/// except the ones that would end the query or the URL.
const RESERVED_OK: &AsciiSet = &COMPONENT
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'[')
    .remove(b']')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// Characters a cookie value cannot hold unencoded (RFC 6265 cookie-octet).
const COOKIE: &AsciiSet =
    &percent_encoding::CONTROLS.add(b' ').add(b'"').add(b',').add(b';').add(b'\\').add(b'%').add(b'=');

// Encoding goes through `Cow` rather than `Display`: a value with nothing to
// encode (most ids and numbers) is then one copy, without the formatting
// machinery, on every call's hot path.

/// Percent-encodes a path or query component (unreserved characters stay).
pub fn encode(s: &str) -> String {
    Cow::from(utf8_percent_encode(s, COMPONENT)).into_owned()
}

/// Percent-encodes a query value that may keep reserved characters.
pub fn encode_reserved(s: &str) -> String {
    Cow::from(utf8_percent_encode(s, RESERVED_OK)).into_owned()
}

/// Appends `s` percent-encoded as a path or query component to `out`.
pub fn encode_into(out: &mut String, s: &str) {
    out.extend(utf8_percent_encode(s, COMPONENT));
}

/// Appends `s` percent-encoded as a query value that may keep reserved characters.
pub fn encode_reserved_into(out: &mut String, s: &str) {
    out.extend(utf8_percent_encode(s, RESERVED_OK));
}

fn encode_cookie(s: &str) -> String {
    Cow::from(utf8_percent_encode(s, COOKIE)).into_owned()
}

/// A primitive as text: strings as they are, integers without `.0`,
/// booleans `true`/`false`, null empty, nested values as JSON.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Appends an integer in decimal, as [`scalar`] writes it, without the
/// formatting machinery. Returns `false` (and appends nothing) for other numbers.
fn push_integer(out: &mut String, n: &serde_json::Number) -> bool {
    let (negative, mut magnitude) = match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => (false, u),
        (None, Some(i)) => (true, i.unsigned_abs()),
        _ => return false,
    };
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (magnitude % 10) as u8;
        magnitude /= 10;
        if magnitude == 0 {
            break;
        }
    }
    if negative {
        out.push('-');
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
    true
}

/// Appends a primitive (not an array or object) as [`scalar`] renders it,
/// percent-encoded by `encode_into`; digits and `-` need no encoding.
fn push_scalar_encoded(out: &mut String, v: &Value, encode_into: fn(&mut String, &str)) {
    match v {
        Value::String(s) => encode_into(out, s),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Null => {}
        Value::Number(n) => {
            if !push_integer(out, n) {
                encode_into(out, &scalar(v));
            }
        }
        other => encode_into(out, &scalar(other)),
    }
}

/// Whether a value is serialized as one scalar item by every style: a
/// primitive of a parameter described by a schema (not by `content`).
fn is_plain_scalar(param: &Parameter, v: &Value) -> bool {
    param.content_type.is_none() && !matches!(v, Value::Array(_) | Value::Object(_))
}

/// Appends the encoded text that replaces `{name}` in the path to `out`:
/// [`path_value`] without its intermediate strings for the common case.
pub fn push_path_value(out: &mut String, param: &Parameter, v: &Value) {
    if !matches!(param.style, Style::Label | Style::Matrix) && is_plain_scalar(param, v) {
        push_scalar_encoded(out, v, encode_into);
    } else {
        out.push_str(&path_value(param, v));
    }
}

/// Appends the encoded value of a query parameter that makes one pair to
/// `out` and returns `true`; returns `false` (appending nothing) when it
/// makes several or none (arrays, objects, `content` parameters): then
/// [`query_pairs`] gives them.
pub fn push_query_value(out: &mut String, param: &Parameter, v: &Value) -> bool {
    if !is_plain_scalar(param, v) {
        return false;
    }
    let e: fn(&mut String, &str) = if param.allow_reserved { encode_reserved_into } else { encode_into };
    push_scalar_encoded(out, v, e);
    true
}

/// A value reduced to the three shapes the style table knows.
enum Shape {
    Scalar(String),
    Array(Vec<String>),
    Object(Vec<(String, String)>),
}

fn shape(param: &Parameter, v: &Value) -> Shape {
    if param.content_type.is_some() {
        return Shape::Scalar(v.to_string());
    }
    match v {
        Value::Array(items) => Shape::Array(items.iter().map(scalar).collect()),
        Value::Object(map) => Shape::Object(map.iter().map(|(k, v)| (k.clone(), scalar(v))).collect()),
        other => Shape::Scalar(scalar(other)),
    }
}

fn join(items: &[String], enc: fn(&str) -> String, sep: &str) -> String {
    items.iter().map(|s| enc(s)).collect::<Vec<_>>().join(sep)
}

fn join_kv(pairs: &[(String, String)], enc: fn(&str) -> String, kv: &str, sep: &str) -> String {
    pairs.iter().map(|(k, v)| format!("{}{kv}{}", enc(k), enc(v))).collect::<Vec<_>>().join(sep)
}

/// The encoded text that replaces `{name}` in the path.
pub fn path_value(param: &Parameter, v: &Value) -> String {
    let name = encode(&param.name);
    let e: fn(&str) -> String = encode;
    match (param.style, shape(param, v)) {
        (Style::Label, Shape::Scalar(s)) => format!(".{}", e(&s)),
        (Style::Label, Shape::Array(a)) => format!(".{}", join(&a, e, ".")),
        (Style::Label, Shape::Object(o)) if param.explode => format!(".{}", join_kv(&o, e, "=", ".")),
        (Style::Label, Shape::Object(o)) => format!(".{}", join_kv(&o, e, ".", ".")),
        (Style::Matrix, Shape::Scalar(s)) if s.is_empty() => format!(";{name}"),
        (Style::Matrix, Shape::Scalar(s)) => format!(";{name}={}", e(&s)),
        (Style::Matrix, Shape::Array(a)) if a.is_empty() => format!(";{name}"),
        (Style::Matrix, Shape::Array(a)) if param.explode => {
            a.iter().map(|s| format!(";{name}={}", e(s))).collect::<Vec<_>>().concat()
        }
        (Style::Matrix, Shape::Array(a)) => format!(";{name}={}", join(&a, e, ",")),
        (Style::Matrix, Shape::Object(o)) if param.explode => format!(";{}", join_kv(&o, e, "=", ";")),
        (Style::Matrix, Shape::Object(o)) => format!(";{name}={}", join_kv(&o, e, ",", ",")),
        (_, Shape::Scalar(s)) => e(&s),
        (_, Shape::Array(a)) => join(&a, e, ","),
        (_, Shape::Object(o)) if param.explode => join_kv(&o, e, "=", ","),
        (_, Shape::Object(o)) => join_kv(&o, e, ",", ","),
    }
}

/// The query pairs of a parameter, name and value already percent-encoded.
pub fn query_pairs(param: &Parameter, v: &Value) -> Vec<(String, String)> {
    let e: fn(&str) -> String = if param.allow_reserved { encode_reserved } else { encode };
    let name = encode(&param.name);
    let delimiter = match param.style {
        Style::SpaceDelimited => "%20",
        Style::PipeDelimited => "|",
        _ => ",",
    };
    match (param.style, shape(param, v)) {
        (_, Shape::Scalar(s)) => vec![(name, e(&s))],
        (Style::DeepObject, _) => {
            let mut out = Vec::new();
            deep(&param.name, v, e, &mut out);
            out
        }
        (_, Shape::Array(a)) if param.explode => a.iter().map(|s| (name.clone(), e(s))).collect(),
        (_, Shape::Array(a)) => vec![(name, join(&a, e, delimiter))],
        (_, Shape::Object(o)) if param.explode => o.iter().map(|(k, v)| (encode(k), e(v))).collect(),
        (_, Shape::Object(o)) => vec![(name, join_kv(&o, e, delimiter, delimiter))],
    }
}

/// `name[key][sub]=value` pairs; arrays repeat their key.
fn deep(prefix: &str, v: &Value, e: fn(&str) -> String, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                deep(&format!("{prefix}[{k}]"), v, e, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push((encode_deep_name(prefix), e(&scalar(item))));
            }
        }
        other => out.push((encode_deep_name(prefix), e(&scalar(other)))),
    }
}

/// Encodes a deepObject name but keeps its brackets literal, as the style shows them.
fn encode_deep_name(name: &str) -> String {
    encode(name).replace("%5B", "[").replace("%5D", "]")
}

/// The header value of a parameter (`simple` style, not percent-encoded).
pub fn header_value(param: &Parameter, v: &Value) -> String {
    let raw: fn(&str) -> String = |s| s.to_owned();
    match shape(param, v) {
        Shape::Scalar(s) => s,
        Shape::Array(a) => join(&a, raw, ","),
        Shape::Object(o) if param.explode => join_kv(&o, raw, "=", ","),
        Shape::Object(o) => join_kv(&o, raw, ",", ","),
    }
}

/// The `name=value` cookie pairs of a parameter (`form` style).
pub fn cookie_pairs(param: &Parameter, v: &Value) -> Vec<String> {
    let e: fn(&str) -> String = encode_cookie;
    let name = encode_cookie(&param.name);
    match shape(param, v) {
        Shape::Scalar(s) => vec![format!("{name}={}", e(&s))],
        Shape::Array(a) if param.explode => a.iter().map(|s| format!("{name}={}", e(s))).collect(),
        Shape::Array(a) => vec![format!("{name}={}", join(&a, e, ","))],
        Shape::Object(o) if param.explode => o.iter().map(|(k, v)| format!("{}={}", e(k), e(v))).collect(),
        Shape::Object(o) => vec![format!("{name}={}", join_kv(&o, e, ",", ","))],
    }
}

/// A form-style parameter for extra query keys (`open_query` operations).
pub fn open_query_param(key: &str) -> Parameter {
    Parameter::new(key, Location::Query, Style::Form, true, Value::Object(Default::default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param(style: Style, explode: bool) -> Parameter {
        Parameter { style, explode, ..open_query_param("color") }
    }

    #[test]
    fn integers_render_without_a_fraction() {
        assert_eq!(scalar(&json!(1.0)), "1");
        assert_eq!(scalar(&json!(1.5)), "1.5");
        assert_eq!(scalar(&json!(-7)), "-7");
        assert_eq!(scalar(&json!(true)), "true");
        assert_eq!(scalar(&json!(null)), "");
        assert_eq!(scalar(&json!({"a": 1})), r#"{"a":1}"#);
    }

    #[test]
    fn path_values_cannot_leave_their_segment() {
        let p = param(Style::Simple, false);
        assert_eq!(path_value(&p, &json!("../a/b?c#d%e f")), "..%2Fa%2Fb%3Fc%23d%25e%20f");
        assert_eq!(path_value(&p, &json!("é")), "%C3%A9");
    }

    #[test]
    fn delimiters_inside_values_are_encoded() {
        let p = param(Style::Form, false);
        assert_eq!(query_pairs(&p, &json!(["a,b", "c"])), vec![("color".into(), "a%2Cb,c".into())]);
        let p = param(Style::PipeDelimited, false);
        assert_eq!(query_pairs(&p, &json!(["a|b", "c"])), vec![("color".into(), "a%7Cb|c".into())]);
    }

    #[test]
    fn allow_reserved_keeps_reserved_but_not_the_fragment() {
        let mut p = param(Style::Form, true);
        p.allow_reserved = true;
        assert_eq!(query_pairs(&p, &json!("a/b:c#d e")), vec![("color".into(), "a/b:c%23d%20e".into())]);
    }

    #[test]
    fn deep_objects_nest_and_repeat_arrays() {
        let p = param(Style::DeepObject, true);
        let pairs = query_pairs(&p, &json!({"a": {"b": 1}, "c": [1, 2]}));
        let text: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(text, ["color[a][b]=1", "color[c]=1", "color[c]=2"]);
    }

    #[test]
    fn content_parameters_are_json() {
        let mut p = param(Style::Form, true);
        p.content_type = Some("application/json".into());
        assert_eq!(query_pairs(&p, &json!({"a": 1})), vec![("color".into(), "%7B%22a%22%3A1%7D".into())]);
    }

    #[test]
    fn fast_paths_match_the_style_table() {
        let values = [
            json!("a b/c?d%é"),
            json!(""),
            json!(0),
            json!(-42),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(3.0),
            json!(-2.5),
            json!(1e20),
            json!(true),
            json!(false),
            json!(null),
            json!(["x", "y"]),
            json!({"k": "v"}),
        ];
        let styles = [Style::Simple, Style::Form, Style::Label, Style::Matrix, Style::DeepObject, Style::PipeDelimited];
        for style in styles {
            for explode in [false, true] {
                for reserved in [false, true] {
                    for content in [None, Some("application/json".to_owned())] {
                        let mut p = param(style, explode);
                        p.allow_reserved = reserved;
                        p.content_type = content.clone();
                        for v in &values {
                            let mut out = String::from("/x");
                            push_path_value(&mut out, &p, v);
                            assert_eq!(out, format!("/x{}", path_value(&p, v)), "{style:?} {v}");
                            let mut single = String::new();
                            if push_query_value(&mut single, &p, v) {
                                assert_eq!(query_pairs(&p, v), vec![(encode(&p.name), single)], "{style:?} {v}");
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn cookies_encode_separators() {
        let p = param(Style::Form, false);
        assert_eq!(cookie_pairs(&p, &json!("a;b c")), ["color=a%3Bb%20c"]);
        assert_eq!(cookie_pairs(&p, &json!(["x", "y"])), ["color=x,y"]);
    }
}
