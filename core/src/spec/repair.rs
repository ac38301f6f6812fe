//! Schemas no value can satisfy, made satisfiable.
//!
//! Some generated specs state a constraint in a way that, read literally,
//! refuses every value, so neither opdeck nor a validating server (Prism)
//! would let a request through. Two shapes are common and their intent is
//! plain, so they are rewritten, each with a warning at the keyword:
//!
//! * an array whose own `enum` lists scalars (DRACOON's `grantTypes`): an
//!   array never equals a string, so the `enum` is meant for the items and
//!   moves into `items` (or is dropped when `items` already has one);
//! * a `oneOf` with two branches that plainly accept the same values (two
//!   `{type: string}`, as in WildDuck): such a value matches both and is
//!   refused, so the `oneOf` is read as `anyOf`.
//!
//! The overlap test is deliberately narrow and needs no ref resolution: two
//! branches overlap when both carry only `type`, `format` and annotations,
//! their types share one (`integer` counts as a `number`), and they do not
//! name two different formats. Anything else (refs, `enum`, `const`,
//! `required`, `pattern`, bounds, nested schemas) may tell the branches
//! apart, and is left as written.

use serde_json::{Map, Value};

use super::warnings::Warnings;

/// Keywords that do not narrow which values a branch accepts, beyond its
/// `type` and `format`.
const NEUTRAL: [&str; 6] = ["type", "format", "default", "readOnly", "writeOnly", "deprecated"];

/// Moves an array-level `enum` of scalars into `items`. `at` is the schema's
/// pointer.
pub(super) fn array_enum(out: &mut Map<String, Value>, at: &str, warnings: &mut Warnings) {
    let types = types_of(out.get("type"));
    let only_array = types.contains(&"array") && types.iter().all(|t| matches!(*t, "array" | "null"));
    let scalars = out
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|v| !v.is_empty() && v.iter().all(|x| x.is_string() || x.is_number() || x.is_boolean()));
    if !only_array || !scalars {
        return;
    }
    let Some(values) = out.remove("enum") else { return };
    let pointer = format!("{at}/enum");
    match out.get_mut("items") {
        Some(Value::Object(items)) if items.contains_key("enum") => {
            warnings
                .push(pointer, "an array's `enum` lists scalars, which no array equals; dropped, as `items` has one");
        }
        Some(Value::Object(items)) => {
            items.insert("enum".into(), values);
            warnings.push(pointer, "an array's `enum` lists scalars, which no array equals; moved to `items`");
        }
        Some(Value::Bool(false)) => {
            warnings.push(pointer, "an array's `enum` lists scalars, which no array equals; dropped");
        }
        _ => {
            let mut items = Map::new();
            items.insert("enum".into(), values);
            out.insert("items".into(), Value::Object(items));
            warnings.push(pointer, "an array's `enum` lists scalars, which no array equals; moved to `items`");
        }
    }
}

/// Reads a `oneOf` whose branches plainly overlap as `anyOf`. `at` is the
/// schema's pointer.
pub(super) fn overlapping_one_of(out: &mut Map<String, Value>, at: &str, warnings: &mut Warnings) {
    let Some(branches) = out.get("oneOf").and_then(Value::as_array) else { return };
    let Some((i, j)) = first_overlap(branches) else { return };
    let Some(branches) = out.remove("oneOf") else { return };
    warnings.push(
        format!("{at}/oneOf"),
        format!("`oneOf` branches {i} and {j} accept the same values, which would then be refused; read as `anyOf`"),
    );
    if !out.contains_key("anyOf") {
        out.insert("anyOf".into(), branches);
        return;
    }
    // Both keywords must hold, so the second `anyOf` joins an `allOf`.
    let mut wrapped = Map::new();
    wrapped.insert("anyOf".into(), branches);
    match out.get_mut("allOf") {
        Some(Value::Array(all)) => all.push(Value::Object(wrapped)),
        _ => {
            out.insert("allOf".into(), Value::Array(vec![Value::Object(wrapped)]));
        }
    }
}

/// The first pair of branches that plainly accept a common value.
fn first_overlap(branches: &[Value]) -> Option<(usize, usize)> {
    let plain: Vec<Option<Plain<'_>>> = branches.iter().map(Plain::of).collect();
    for (i, a) in plain.iter().enumerate() {
        let Some(a) = a else { continue };
        for (j, b) in plain.iter().enumerate().skip(i + 1) {
            if b.as_ref().is_some_and(|b| a.overlaps(b)) {
                return Some((i, j));
            }
        }
    }
    None
}

/// A branch constrained only by its types and format.
struct Plain<'a> {
    types: Vec<&'a str>,
    format: Option<&'a str>,
}

impl<'a> Plain<'a> {
    fn of(branch: &'a Value) -> Option<Self> {
        let map = branch.as_object()?;
        if !map.keys().all(|k| NEUTRAL.contains(&k.as_str())) {
            return None;
        }
        let types = types_of(map.get("type"));
        if types.is_empty() {
            return None;
        }
        let format = match map.get("format") {
            None => None,
            Some(Value::String(f)) => Some(f.as_str()),
            Some(_) => return None,
        };
        Some(Plain { types, format })
    }

    fn overlaps(&self, other: &Plain<'_>) -> bool {
        let numeric = |t: &str| matches!(t, "integer" | "number");
        let shared = self.types.iter().any(|a| other.types.iter().any(|b| a == b || (numeric(a) && numeric(b))));
        let formats_agree = match (self.format, other.format) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        shared && formats_agree
    }
}

/// The type names of a `type` keyword (a name or a list of names).
fn types_of(value: Option<&Value>) -> Vec<&str> {
    match value {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn repaired(schema: Value) -> (Value, Vec<String>) {
        let mut warnings = Warnings::default();
        let Value::Object(mut map) = schema else { panic!("an object schema") };
        array_enum(&mut map, "/s", &mut warnings);
        overlapping_one_of(&mut map, "/s", &mut warnings);
        (Value::Object(map), warnings.0.into_iter().map(|w| w.to_string()).collect())
    }

    #[rstest::rstest]
    #[case::moved(
        json!({"type": "array", "items": {"type": "string"}, "enum": ["a", "b"]}),
        json!({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}),
        "/s/enum: an array's `enum` lists scalars, which no array equals; moved to `items`"
    )]
    #[case::items_has_one(
        json!({"type": "array", "items": {"type": "string", "enum": ["a"]}, "enum": ["a", "b"]}),
        json!({"type": "array", "items": {"type": "string", "enum": ["a"]}}),
        "/s/enum: an array's `enum` lists scalars, which no array equals; dropped, as `items` has one"
    )]
    #[case::no_items(
        json!({"type": ["array", "null"], "enum": [1, 2]}),
        json!({"type": ["array", "null"], "items": {"enum": [1, 2]}}),
        "/s/enum: an array's `enum` lists scalars, which no array equals; moved to `items`"
    )]
    #[case::two_strings(
        json!({"oneOf": [{"type": "string"}, {"type": "string", "format": "email"}]}),
        json!({"anyOf": [{"type": "string"}, {"type": "string", "format": "email"}]}),
        "/s/oneOf: `oneOf` branches 0 and 1 accept the same values, which would then be refused; read as `anyOf`"
    )]
    #[case::integer_in_number(
        json!({"anyOf": [{}], "oneOf": [{"type": "boolean"}, {"type": "number"}, {"type": ["integer", "null"]}]}),
        json!({"anyOf": [{}], "allOf": [{"anyOf": [{"type": "boolean"}, {"type": "number"}, {"type": ["integer", "null"]}]}]}),
        "/s/oneOf: `oneOf` branches 1 and 2 accept the same values, which would then be refused; read as `anyOf`"
    )]
    fn impossible_schemas_are_repaired(#[case] schema: Value, #[case] expected: Value, #[case] warning: &str) {
        let (out, warnings) = repaired(schema);
        assert_eq!(out, expected);
        assert_eq!(warnings, [warning]);
    }

    #[rstest::rstest]
    #[case::array_of_arrays(json!({"type": "array", "enum": [["a"], ["b"]]}))]
    #[case::string_or_array(json!({"type": ["array", "string"], "enum": ["a"]}))]
    #[case::null_in_enum(json!({"type": ["array", "null"], "enum": ["a", null]}))]
    #[case::disjoint_types(json!({"oneOf": [{"type": "string"}, {"type": "boolean"}, {"type": "array"}]}))]
    #[case::different_formats(json!({"oneOf": [{"type": "string", "format": "uuid"}, {"type": "string", "format": "email"}]}))]
    #[case::enum_tells_apart(json!({"oneOf": [{"type": "string"}, {"type": "string", "enum": ["x"]}]}))]
    #[case::pattern_tells_apart(json!({"oneOf": [{"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^b"}]}))]
    #[case::refs_are_not_inspected(json!({"oneOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/B"}]}))]
    #[case::untyped(json!({"oneOf": [{}, {"type": "string"}]}))]
    #[case::objects_with_required(json!({"oneOf": [{"type": "object", "required": ["a"]}, {"type": "object", "required": ["b"]}]}))]
    fn satisfiable_schemas_are_left_alone(#[case] schema: Value) {
        let (out, warnings) = repaired(schema.clone());
        assert_eq!((out, warnings), (schema, Vec::<String>::new()));
    }
}
