//! `serde_json::Value` ↔ `rhai::Dynamic`.
//!
//! Written by hand rather than through Rhai's serde support so that every
//! case is decided here: integers that do not fit an `i64` become floats,
//! floats that JSON cannot hold (NaN, infinities) are an error instead of a
//! silent `null`, and values with no JSON form (function pointers, custom
//! types) are named in the error.

use rhai::{Array, Dynamic, ImmutableString, Map};
use serde_json::{Number, Value};

use crate::error::{Error, Result};

/// How deep a value may nest. Rhai cannot build cycles out of plain values,
/// but shared values (closures) can; the bound keeps a conversion finite.
const MAX_DEPTH: usize = 256;

/// A JSON value as Rhai values: objects become object maps, arrays arrays,
/// `null` becomes `()`.
pub fn to_dynamic(value: Value) -> Dynamic {
    match value {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => b.into(),
        Value::Number(n) => number(&n),
        Value::String(s) => s.into(),
        Value::Array(items) => Dynamic::from_array(items.into_iter().map(to_dynamic).collect()),
        Value::Object(map) => {
            Dynamic::from_map(map.into_iter().map(|(k, v)| (k.into(), to_dynamic(v))).collect::<Map>())
        }
    }
}

fn number(n: &Number) -> Dynamic {
    match n.as_i64() {
        Some(i) => i.into(),
        None => n.as_f64().unwrap_or(f64::NAN).into(),
    }
}

/// A Rhai value as JSON. `what` names the value in the error (`the input of
/// \`x.y.z\``).
pub fn to_value(value: &Dynamic, what: &str) -> Result<Value> {
    convert(value, &|| what.to_owned(), 0)
}

/// [`to_value`] with the name made only when there is an error to report,
/// for hot paths (each input of a `parallel` batch).
pub(crate) fn to_value_named(value: &Dynamic, what: &dyn Fn() -> String) -> Result<Value> {
    convert(value, what, 0)
}

fn convert(value: &Dynamic, what: &dyn Fn() -> String, depth: usize) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(Error::usage(format!("{} nests deeper than {MAX_DEPTH} levels", what())));
    }
    if value.is_shared() {
        let inner = value.flatten_clone();
        return convert(&inner, what, depth + 1);
    }
    if value.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = value.as_int() {
        return Ok(Value::from(i));
    }
    if let Ok(f) = value.as_float() {
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| Error::usage(format!("{} holds the number {f}, which JSON cannot represent", what())));
    }
    if let Ok(c) = value.as_char() {
        return Ok(Value::String(c.to_string()));
    }
    if let Some(s) = value.read_lock::<ImmutableString>() {
        return Ok(Value::String(s.to_string()));
    }
    if let Some(items) = value.read_lock::<Array>() {
        return items.iter().map(|v| convert(v, what, depth + 1)).collect::<Result<Vec<_>>>().map(Value::Array);
    }
    if let Some(map) = value.read_lock::<Map>() {
        let mut out = serde_json::Map::with_capacity(map.len());
        for (k, v) in map.iter() {
            out.insert(k.to_string(), convert(v, what, depth + 1)?);
        }
        return Ok(Value::Object(out));
    }
    if let Some(blob) = value.read_lock::<rhai::Blob>() {
        return Ok(Value::Array(blob.iter().map(|b| Value::from(*b)).collect()));
    }
    Err(Error::usage(format!("{} holds a value of type `{}`, which has no JSON form", what(), value.type_name())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_round_trips_through_rhai() {
        let value = json!({"a": [1, 2.5, "x", true, null], "b": {"c": -7}});
        let back = to_value(&to_dynamic(value.clone()), "test").expect("converts back");
        assert_eq!(back, value);
    }

    #[test]
    fn big_unsigned_integers_become_floats() {
        let d = to_dynamic(json!(u64::MAX));
        assert!(d.is_float());
    }

    #[test]
    fn nan_and_function_pointers_are_errors_that_say_where() {
        let err = to_value(&Dynamic::from(f64::NAN), "the input of `x.y.z`").expect_err("nan has no json form");
        assert!(err.to_string().contains("the input of `x.y.z`"), "{err}");
        let ptr = Dynamic::from(rhai::FnPtr::new("f").expect("valid name"));
        let err = to_value(&ptr, "the result").expect_err("fn ptr has no json form");
        assert!(err.to_string().contains("Fn"), "{err}");
    }

    #[test]
    fn chars_and_blobs_become_strings_and_byte_arrays() {
        assert_eq!(to_value(&Dynamic::from('z'), "t").expect("char"), json!("z"));
        let blob: rhai::Blob = vec![1, 255];
        assert_eq!(to_value(&Dynamic::from_blob(blob), "t").expect("blob"), json!([1, 255]));
    }
}
