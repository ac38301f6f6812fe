//! Parameter values off the wire, turned back into JSON by their style.
//!
//! The wire carries text; a schema says whether that text is a number, a
//! list or a map. Values are coerced only when the text really is of the
//! declared type (`"5"` → `5`, never `"abc"` → `0`), so a wrong value stays
//! a string and the schema check reports it, as a real server would.

use serde_json::{Map, Number, Value};

use crate::model::{Definitions, Location, Parameter, Style};

/// The JSON types a schema allows, looking through `$ref`, `allOf`,
/// `oneOf` and `anyOf` one level deep.
pub(crate) fn types<'a>(defs: &'a Definitions, schema: &'a Value) -> Vec<&'a str> {
    let s = defs.resolve(schema);
    let mut out: Vec<&str> = Vec::new();
    let mut add = |t: Option<&'a Value>| match t {
        Some(Value::String(t)) => out.push(t.as_str()),
        Some(Value::Array(ts)) => out.extend(ts.iter().filter_map(Value::as_str)),
        _ => {}
    };
    add(s.get("type"));
    if s.get("type").is_none() {
        for key in ["allOf", "oneOf", "anyOf"] {
            for branch in s.get(key).and_then(Value::as_array).into_iter().flatten() {
                add(defs.resolve(branch).get("type"));
            }
        }
    }
    if out.is_empty() && s.get("properties").is_some() {
        out.push("object");
    } else if out.is_empty() && s.get("items").is_some() {
        out.push("array");
    }
    out
}

fn has(types: &[&str], t: &str) -> bool {
    types.contains(&t)
}

/// One scalar from text, typed by what the schema allows.
pub(crate) fn scalar(defs: &Definitions, schema: &Value, text: &str) -> Value {
    let ts = types(defs, schema);
    if has(&ts, "integer")
        && let Ok(n) = text.parse::<i64>()
    {
        return Value::Number(n.into());
    }
    if has(&ts, "number")
        && let Some(n) = text.parse::<f64>().ok().and_then(Number::from_f64)
    {
        return Value::Number(n);
    }
    if has(&ts, "boolean") && (text == "true" || text == "false") {
        return Value::Bool(text == "true");
    }
    if has(&ts, "null") && (text.is_empty() || text == "null") && !has(&ts, "string") {
        return Value::Null;
    }
    Value::String(text.to_owned())
}

/// The schema of an array's items, or of an object's property.
fn items<'a>(defs: &'a Definitions, schema: &'a Value) -> &'a Value {
    defs.resolve(schema).get("items").unwrap_or(&Value::Bool(true))
}

fn property<'a>(defs: &'a Definitions, schema: &'a Value, name: &str) -> &'a Value {
    let s = defs.resolve(schema);
    s.get("properties")
        .and_then(|p| p.get(name))
        .or_else(|| s.get("additionalProperties"))
        .unwrap_or(&Value::Bool(true))
}

/// A list or map from already-split text.
fn shaped(defs: &Definitions, schema: &Value, parts: &[&str], explode_pairs: bool) -> Value {
    let ts = types(defs, schema);
    if has(&ts, "array") {
        let item = items(defs, schema);
        return Value::Array(parts.iter().map(|p| scalar(defs, item, p)).collect());
    }
    if has(&ts, "object") {
        let mut map = Map::new();
        if explode_pairs {
            for p in parts {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                map.insert(k.to_owned(), scalar(defs, property(defs, schema, k), v));
            }
        } else {
            for kv in parts.chunks(2) {
                let v = kv.get(1).copied().unwrap_or("");
                map.insert(kv[0].to_owned(), scalar(defs, property(defs, schema, kv[0]), v));
            }
        }
        return Value::Object(map);
    }
    scalar(defs, schema, &parts.join(","))
}

/// A path or header value (`simple`, `label`, `matrix` styles).
pub(crate) fn single(defs: &Definitions, p: &Parameter, text: &str) -> Value {
    if p.content_type.is_some() {
        return serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()));
    }
    let ts = types(defs, &p.schema);
    let composite = has(&ts, "array") || has(&ts, "object");
    let (body, sep) = match p.style {
        Style::Label => {
            let t = text.strip_prefix('.').unwrap_or(text);
            (t.to_owned(), if p.explode { '.' } else { ',' })
        }
        Style::Matrix => {
            let prefix = format!(";{}=", p.name);
            if p.explode && composite && has(&ts, "array") {
                let joined = text.split(&prefix).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(",");
                (joined, ',')
            } else if p.explode && has(&ts, "object") {
                (text.trim_start_matches(';').replace(';', ","), ',')
            } else {
                (text.strip_prefix(&prefix).unwrap_or(text).to_owned(), ',')
            }
        }
        _ => (text.to_owned(), ','),
    };
    if !composite {
        return scalar(defs, &p.schema, &body);
    }
    let parts: Vec<&str> = body.split(sep).collect();
    shaped(defs, &p.schema, &parts, p.explode)
}

/// A query or cookie value from every pair the request carries, or `None`
/// when the parameter is absent.
pub(crate) fn from_pairs(defs: &Definitions, p: &Parameter, pairs: &[(&str, &str)]) -> Option<Value> {
    let named: Vec<&str> = pairs.iter().filter(|(n, _)| *n == p.name).map(|(_, v)| *v).collect();
    if p.content_type.is_some() {
        let text = named.first()?;
        return Some(serde_json::from_str(text).unwrap_or_else(|_| Value::String((*text).to_owned())));
    }
    let ts = types(defs, &p.schema);
    if has(&ts, "object") && !has(&ts, "array") {
        return object_from_pairs(defs, p, pairs, &named);
    }
    if has(&ts, "array") {
        let sep = match p.style {
            Style::SpaceDelimited => ' ',
            Style::PipeDelimited => '|',
            _ => ',',
        };
        if named.is_empty() {
            return None;
        }
        let parts: Vec<&str> =
            if p.explode && p.style == Style::Form { named } else { named.iter().flat_map(|v| v.split(sep)).collect() };
        return Some(shaped(defs, &p.schema, &parts, false));
    }
    let first = named.first()?;
    Some(scalar(defs, &p.schema, first))
}

fn object_from_pairs(defs: &Definitions, p: &Parameter, pairs: &[(&str, &str)], named: &[&str]) -> Option<Value> {
    let mut map = Map::new();
    if p.style == Style::DeepObject {
        let prefix = format!("{}[", p.name);
        for (n, v) in pairs {
            if let Some(key) = n.strip_prefix(&prefix).and_then(|k| k.strip_suffix(']')) {
                map.insert(key.to_owned(), scalar(defs, property(defs, &p.schema, key), v));
            }
        }
    } else if p.explode && p.location == Location::Query {
        let schema = defs.resolve(&p.schema);
        let props = schema.get("properties").and_then(Value::as_object);
        for (n, v) in pairs {
            if props.is_some_and(|ps| ps.contains_key(*n)) {
                map.insert((*n).to_owned(), scalar(defs, property(defs, &p.schema, n), v));
            }
        }
    } else {
        let first = named.first()?;
        let parts: Vec<&str> = first.split(',').collect();
        return Some(shaped(defs, &p.schema, &parts, false));
    }
    (!map.is_empty()).then_some(Value::Object(map))
}

/// The `name=value` pairs of a `Cookie` header.
pub(crate) fn cookies(header: &str) -> Vec<(&str, &str)> {
    header
        .split(';')
        .filter_map(|c| {
            let (n, v) = c.trim().split_once('=')?;
            Some((n.trim(), v.trim()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn param(style: Style, explode: bool, schema: Value) -> Parameter {
        serde_json::from_value(json!({
            "name": "f", "key": "f", "in": "query", "style": style, "explode": explode, "schema": schema
        }))
        .expect("parameter literal")
    }

    #[test]
    fn scalars_coerce_only_when_the_text_fits() {
        let defs = Definitions::new(Map::new());
        assert_eq!(scalar(&defs, &json!({"type": "integer"}), "5"), json!(5));
        assert_eq!(scalar(&defs, &json!({"type": "integer"}), "abc"), json!("abc"));
        assert_eq!(scalar(&defs, &json!({"type": ["boolean", "null"]}), "true"), json!(true));
    }

    #[test]
    fn query_arrays_follow_style_and_explode() {
        let defs = Definitions::new(Map::new());
        let ints = json!({"type": "array", "items": {"type": "integer"}});
        let pairs = [("f", "1"), ("f", "2"), ("g", "x")];
        assert_eq!(from_pairs(&defs, &param(Style::Form, true, ints.clone()), &pairs), Some(json!([1, 2])));
        assert_eq!(from_pairs(&defs, &param(Style::Form, false, ints.clone()), &[("f", "1,2")]), Some(json!([1, 2])));
        assert_eq!(
            from_pairs(&defs, &param(Style::PipeDelimited, false, ints.clone()), &[("f", "1|x")]),
            Some(json!([1, "x"]))
        );
        assert_eq!(from_pairs(&defs, &param(Style::Form, true, ints), &[("g", "1")]), None);
    }

    #[test]
    fn deep_objects_gather_bracketed_keys() {
        let defs = Definitions::new(Map::new());
        let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
        let p = param(Style::DeepObject, true, schema);
        assert_eq!(from_pairs(&defs, &p, &[("f[a]", "3"), ("f[b]", "x")]), Some(json!({"a": 3, "b": "x"})));
    }

    #[test]
    fn cookies_split_on_semicolons() {
        assert_eq!(cookies("a=1; sessionid=x=y"), vec![("a", "1"), ("sessionid", "x=y")]);
    }
}
