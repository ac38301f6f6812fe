//! OpenAPI / Swagger schemas to JSON Schema 2020-12.
//!
//! The output is what [`crate::schema::Validator`] compiles: every `$ref`
//! becomes `#/$defs/<name>` and its target is converted once into the
//! document's definitions, so recursive and shared models cost one copy.
//! Only keywords that constrain values survive; prose (`title`,
//! `description`), examples, `x-*` extensions, `xml`, `externalDocs` and
//! `discriminator` are dropped, which keeps catalogs small and free of the
//! spec's text. The dialect differences handled here:
//!
//! * OpenAPI 3.0 `nullable: true` (and Swagger's `x-nullable`) adds `"null"`
//!   to `type` (and to `enum`), or becomes `anyOf [schema, {type: null}]` when
//!   the schema has no type or is a `$ref`;
//! * boolean `exclusiveMinimum` / `exclusiveMaximum` (3.0, 2.0) become the
//!   numeric 2020-12 form;
//! * Swagger's `type: file` becomes `{type: string, format: binary}`;
//! * `items` given as an array becomes `prefixItems`;
//! * `required: true` on a property (invalid, but found in generated specs)
//!   makes the property required in its parent, with a warning;
//! * schemas no value satisfies are repaired where the intent is plain
//!   (see `repair`).
//!
//! Definition names are the component name for `#/components/schemas/X` and
//! `#/definitions/X`, otherwise the pointer; either is reduced to
//! `[A-Za-z0-9_.-]` and made unique with a `_2`, `_3` suffix in the order the
//! refs are met, which is the spec's order, so the output is deterministic.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::doc::Doc;
use super::load::{Dialect, clip};
use super::refs::local_pointer;
use super::repair;
use super::warnings::{Warnings, escape};
use crate::error::{Error, Result};

const TYPES: [&str; 7] = ["string", "number", "integer", "boolean", "array", "object", "null"];

/// Converts the schemas of one document, collecting the definitions their
/// refs reach.
pub(crate) struct Converter<'a> {
    doc: &'a Doc<'a>,
    dialect: Dialect,
    defs: Map<String, Value>,
    names: HashMap<String, String>,
    used: HashSet<String>,
    pending: Vec<(String, String)>,
    /// Where the schema being converted is, as a JSON pointer.
    path: String,
    nullable_seen: usize,
}

impl<'a> Converter<'a> {
    pub(crate) fn new(doc: &'a Doc<'a>, dialect: Dialect) -> Self {
        Converter {
            doc,
            dialect,
            defs: Map::new(),
            names: HashMap::new(),
            used: HashSet::new(),
            pending: Vec::new(),
            path: String::new(),
            nullable_seen: 0,
        }
    }

    /// Converts the schema at pointer `at`.
    pub(crate) fn convert(&mut self, schema: &Value, at: &str, warnings: &mut Warnings) -> Result<Value> {
        self.path.clear();
        self.path.push_str(at);
        self.schema(schema, warnings)
    }

    /// Converts a Swagger 2 parameter or header, whose schema keywords sit
    /// beside `name` and `in`; its `required` is about presence, not properties.
    pub(crate) fn convert_inline(&mut self, object: &Value, at: &str, warnings: &mut Warnings) -> Result<Value> {
        let Some(map) = object.as_object() else { return Ok(Value::Object(Map::new())) };
        let mut copy = Map::new();
        for (k, v) in map {
            if !matches!(k.as_str(), "name" | "in" | "required" | "collectionFormat" | "allowEmptyValue") {
                copy.insert(k.clone(), v.clone());
            }
        }
        self.convert(&Value::Object(copy), at, warnings)
    }

    /// Converts every definition the converted schemas reached, and returns
    /// them by name.
    pub(crate) fn finish(mut self, warnings: &mut Warnings) -> Result<Map<String, Value>> {
        while let Some((pointer, name)) = self.pending.pop() {
            let target = self.target(&pointer)?;
            let converted = match self.pure_ref_chain_end(&target, &pointer, warnings)? {
                Some(end) => end,
                None => {
                    self.path.clear();
                    self.path.push_str(&pointer);
                    self.schema(&target, warnings)?
                }
            };
            self.defs.insert(name, converted);
        }
        if self.nullable_seen > 0 && self.dialect == Dialect::OpenApi31 {
            warnings.push(
                "",
                format!(
                    "{} schemas use `nullable`, which openapi 3.1 dropped; treated as a null type",
                    self.nullable_seen
                ),
            );
        }
        // Sorted by name, so the same spec always gives the same text.
        self.defs.sort_keys();
        Ok(self.defs)
    }

    /// The schema at `pointer`, parsed for this use only when it sits in a
    /// lazy part of the document: each model is converted once.
    fn target(&self, pointer: &str) -> Result<Cow<'a, Value>> {
        self.doc.lookup_owned(pointer).ok_or_else(|| Error::spec(pointer, "a $ref points here, but nothing is here"))
    }

    /// A definition that is only a ref to another becomes a ref to the end of
    /// the chain; a chain that loops becomes the empty schema, with a warning,
    /// since no value could ever be checked against it.
    fn pure_ref_chain_end(&mut self, target: &Value, pointer: &str, warnings: &mut Warnings) -> Result<Option<Value>> {
        let Some(first) = pure_ref(target, self.dialect) else { return Ok(None) };
        let mut reference = first.to_owned();
        let mut seen = vec![pointer.to_owned()];
        let mut at = pointer.to_owned();
        loop {
            let next = local_pointer(&reference, &at)?;
            if seen.contains(&next) {
                warnings.push(pointer, "a cycle of schema refs that never reaches a schema; accepting any value");
                return Ok(Some(Value::Object(Map::new())));
            }
            let value = self.target(&next)?;
            seen.push(next.clone());
            match pure_ref(&value, self.dialect) {
                Some(r) => {
                    reference = r.to_owned();
                    at = next;
                }
                None => {
                    let name = self.def_name(&next);
                    return Ok(Some(ref_to(&name)));
                }
            }
        }
    }

    /// The definition name of the schema at `pointer`, queued for conversion
    /// on first use.
    fn def_name(&mut self, pointer: &str) -> String {
        if let Some(name) = self.names.get(pointer) {
            return name.clone();
        }
        let base = sanitize(component_name(pointer).unwrap_or(pointer.trim_start_matches('/')));
        let mut name = base.clone();
        let mut n = 2;
        while !self.used.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.names.insert(pointer.to_owned(), name.clone());
        self.pending.push((pointer.to_owned(), name.clone()));
        name
    }

    fn reference(&mut self, reference: &str) -> Result<Value> {
        let at = format!("{}/$ref", self.path);
        let pointer = local_pointer(reference, &at)?;
        if !self.doc.exists(&pointer) {
            return Err(Error::spec(at, format!("$ref `{}` points at nothing", clip(reference))));
        }
        let name = self.def_name(&pointer);
        Ok(ref_to(&name))
    }

    /// Converts one schema value at `self.path`.
    fn schema(&mut self, schema: &Value, warnings: &mut Warnings) -> Result<Value> {
        let map = match schema {
            Value::Object(map) => map,
            Value::Bool(b) => return Ok(Value::Bool(*b)),
            _ => return Ok(Value::Object(Map::new())),
        };
        let nullable = map.get("nullable").and_then(Value::as_bool).unwrap_or(false)
            || map.get("x-nullable").and_then(Value::as_bool).unwrap_or(false);
        if nullable {
            self.nullable_seen += 1;
        }
        let mut out = Map::new();
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            let r = self.reference(reference)?;
            if self.dialect != Dialect::OpenApi31 {
                // Siblings of a $ref are ignored before 3.1.
                return Ok(if nullable { any_of_null(r) } else { r });
            }
            if let Value::Object(r) = r {
                out.extend(r);
            }
        }
        for (key, value) in map {
            self.keyword(key, value, &mut out, warnings)?;
        }
        repair::array_enum(&mut out, &self.path, warnings);
        repair::overlapping_one_of(&mut out, &self.path, warnings);
        exclusive_bounds(map, &mut out);
        if !nullable {
            return Ok(Value::Object(out));
        }
        match out.get_mut("type") {
            Some(Value::String(t)) => {
                let t = std::mem::take(t);
                out.insert("type".into(), Value::Array(vec![Value::String(t), "null".into()]));
            }
            Some(Value::Array(types)) => {
                if !types.iter().any(|t| t == "null") {
                    types.push("null".into());
                }
            }
            _ => return Ok(any_of_null(Value::Object(out))),
        }
        if let Some(Value::Array(values)) = out.get_mut("enum")
            && !values.contains(&Value::Null)
        {
            values.push(Value::Null);
        }
        Ok(Value::Object(out))
    }

    fn sub(&mut self, token: &str, value: &Value, warnings: &mut Warnings) -> Result<Value> {
        let len = self.path.len();
        self.path.push('/');
        self.path.push_str(&escape(token));
        let out = self.schema(value, warnings);
        self.path.truncate(len);
        out
    }

    fn keyword(
        &mut self,
        key: &str,
        value: &Value,
        out: &mut Map<String, Value>,
        warnings: &mut Warnings,
    ) -> Result<()> {
        match key {
            "type" => {
                if let Some(t) = convert_type(value, self.dialect) {
                    out.insert("type".into(), t);
                    if value == "file" {
                        out.insert("format".into(), "binary".into());
                    }
                }
            }
            "format" if value.is_string() && !out.contains_key("format") => {
                out.insert(key.into(), value.clone());
            }
            "pattern" | "contentMediaType" | "contentEncoding" if value.is_string() => {
                out.insert(key.into(), value.clone());
            }
            "enum" if value.is_array() => {
                out.insert(key.into(), value.clone());
            }
            "const" | "default" => {
                out.insert(key.into(), value.clone());
            }
            "multipleOf" if value.as_f64().is_some_and(|n| n > 0.0) => {
                out.insert(key.into(), value.clone());
            }
            "maximum" | "minimum" if value.is_number() => {
                out.insert(key.into(), value.clone());
            }
            "maxLength" | "minLength" | "maxItems" | "minItems" | "maxProperties" | "minProperties" | "minContains"
            | "maxContains" => {
                let whole = value.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as u64);
                if let Some(n) = value.as_u64().or(whole) {
                    out.insert(key.into(), n.into());
                }
            }
            "uniqueItems" | "readOnly" | "writeOnly" | "deprecated" if value.is_boolean() => {
                out.insert(key.into(), value.clone());
            }
            "required" => {
                if let Some(names) = value.as_array() {
                    let names: Vec<Value> = names.iter().filter(|n| n.is_string()).cloned().collect();
                    merge_required(out, names);
                }
            }
            "dependentRequired" if value.is_object() => {
                out.insert(key.into(), value.clone());
            }
            "items" => match value {
                Value::Array(items) if self.dialect != Dialect::OpenApi31 || !items.is_empty() => {
                    let mut converted = Vec::with_capacity(items.len());
                    for (i, item) in items.iter().enumerate() {
                        converted.push(self.sub(&format!("items/{i}"), item, warnings)?);
                    }
                    out.insert("prefixItems".into(), Value::Array(converted));
                }
                Value::Object(_) | Value::Bool(_) => {
                    let converted = self.sub(key, value, warnings)?;
                    out.insert(key.into(), converted);
                }
                _ => {}
            },
            "additionalProperties"
            | "not"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else"
            | "unevaluatedProperties"
            | "unevaluatedItems"
                if value.is_object() || value.is_boolean() =>
            {
                let converted = self.sub(key, value, warnings)?;
                out.insert(key.into(), converted);
            }
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Some(items) = value.as_array().filter(|a| !a.is_empty()) {
                    let mut converted = Vec::with_capacity(items.len());
                    let len = self.path.len();
                    self.path.push('/');
                    self.path.push_str(key);
                    for (i, item) in items.iter().enumerate() {
                        converted.push(self.sub(&i.to_string(), item, warnings)?);
                    }
                    self.path.truncate(len);
                    out.insert(key.into(), Value::Array(converted));
                }
            }
            "properties" | "patternProperties" | "dependentSchemas" => {
                let Some(props) = value.as_object() else { return Ok(()) };
                let mut converted = Map::with_capacity(props.len());
                let mut required = Vec::new();
                let len = self.path.len();
                self.path.push('/');
                self.path.push_str(key);
                for (name, prop) in props {
                    if key == "properties" && prop.get("required") == Some(&Value::Bool(true)) {
                        warnings.push(
                            format!("{}/{}/required", self.path, escape(name)),
                            "`required: true` on a property is not valid; the property is made required in its parent",
                        );
                        required.push(Value::String(name.clone()));
                    }
                    converted.insert(name.clone(), self.sub(name, prop, warnings)?);
                }
                self.path.truncate(len);
                out.insert(key.into(), Value::Object(converted));
                if !required.is_empty() {
                    merge_required(out, required);
                }
            }
            // Prose, examples, extensions, `xml`, `discriminator`, `nullable`
            // (handled above) and anything unknown are dropped.
            _ => {}
        }
        Ok(())
    }
}

/// The target of a schema that is nothing but a ref (siblings are ignored
/// before 3.1, so there a ref with siblings is also pure).
fn pure_ref(value: &Value, dialect: Dialect) -> Option<&str> {
    let map = value.as_object()?;
    let reference = map.get("$ref")?.as_str()?;
    let nullable = map.get("nullable").and_then(Value::as_bool).unwrap_or(false);
    let pure = if dialect == Dialect::OpenApi31 { map.len() == 1 } else { !nullable };
    pure.then_some(reference)
}

fn ref_to(name: &str) -> Value {
    let mut map = Map::with_capacity(1);
    map.insert("$ref".into(), Value::String(format!("#/$defs/{name}")));
    Value::Object(map)
}

fn any_of_null(schema: Value) -> Value {
    serde_json::json!({"anyOf": [schema, {"type": "null"}]})
}

fn merge_required(out: &mut Map<String, Value>, names: Vec<Value>) {
    let entry = out.entry("required").or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = entry {
        for n in names {
            if !list.contains(&n) {
                list.push(n);
            }
        }
    }
}

/// `type` as 2020-12 accepts it: known names only, `file` as `string`.
fn convert_type(value: &Value, dialect: Dialect) -> Option<Value> {
    let known = |t: &str| -> Option<&'static str> {
        if t == "file" {
            return Some("string");
        }
        TYPES.iter().copied().find(|k| *k == t)
    };
    match value {
        Value::String(t) => known(t).map(Value::from),
        Value::Array(list) if dialect == Dialect::OpenApi31 || !list.is_empty() => {
            let mut types: Vec<Value> = Vec::new();
            for t in list.iter().filter_map(Value::as_str).filter_map(known) {
                if !types.iter().any(|x| x == t) {
                    types.push(t.into());
                }
            }
            (!types.is_empty()).then_some(Value::Array(types))
        }
        _ => None,
    }
}

/// Boolean `exclusiveMinimum` / `exclusiveMaximum` (before 3.1) move the
/// bound into the exclusive keyword; numeric ones are kept as they are.
fn exclusive_bounds(map: &Map<String, Value>, out: &mut Map<String, Value>) {
    for (exclusive, bound) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        match map.get(exclusive) {
            Some(Value::Bool(true)) => {
                if let Some(n) = out.remove(bound) {
                    out.insert(exclusive.into(), n);
                }
            }
            Some(n @ Value::Number(_)) => {
                out.insert(exclusive.into(), n.clone());
            }
            _ => {}
        }
    }
}

/// `X` of `/components/schemas/X` or `/definitions/X` (also inside bundled
/// external files).
fn component_name(pointer: &str) -> Option<&str> {
    let rest = pointer
        .strip_prefix("/components/schemas/")
        .or_else(|| pointer.strip_prefix("/definitions/"))
        .or_else(|| pointer.split_once("/components/schemas/").map(|(_, r)| r))
        .or_else(|| pointer.split_once("/definitions/").map(|(_, r)| r))?;
    (!rest.is_empty() && !rest.contains('/')).then_some(rest)
}

fn sanitize(name: &str) -> String {
    let decoded = crate::schema::decode_pointer_token(name);
    let out: String = decoded
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' })
        .collect();
    if out.is_empty() { "_".into() } else { out }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn convert(dialect: Dialect, root: Value, at: &str) -> (Value, Map<String, Value>, Vec<String>) {
        let mut warnings = Warnings::default();
        let schema = root.pointer(at).cloned().unwrap_or_default();
        let doc = Doc::from_value(root);
        let mut c = Converter::new(&doc, dialect);
        let out = c.convert(&schema, at, &mut warnings).expect("converts");
        let defs = c.finish(&mut warnings).expect("finishes");
        (out, defs, warnings.0.into_iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn nullable_and_exclusive_bounds_become_2020_12() {
        let root = json!({"s": {
            "type": "object",
            "description": "prose",
            "x-internal": true,
            "example": {"a": 1},
            "properties": {
                "a": {"type": "string", "nullable": true, "enum": ["x"], "title": "t"},
                "b": {"type": "integer", "minimum": 1, "exclusiveMinimum": true, "maximum": 9, "exclusiveMaximum": false},
                "c": {"$ref": "#/components/schemas/C", "nullable": true},
                "d": {"type": "file"},
                "description": {"type": "string"}
            }
        }, "components": {"schemas": {"C": {"type": "string"}}}});
        let (out, defs, _) = convert(Dialect::OpenApi30, root, "/s");
        assert_eq!(
            out,
            json!({"type": "object", "properties": {
                "a": {"type": ["string", "null"], "enum": ["x", null]},
                "b": {"type": "integer", "exclusiveMinimum": 1, "maximum": 9},
                "c": {"anyOf": [{"$ref": "#/$defs/C"}, {"type": "null"}]},
                "d": {"type": "string", "format": "binary"},
                "description": {"type": "string"}
            }})
        );
        assert_eq!(defs, json!({"C": {"type": "string"}}).as_object().cloned().unwrap_or_default());
    }

    #[test]
    fn required_on_a_property_moves_to_the_parent_with_a_warning() {
        let root = json!({"s": {"type": "object", "required": ["a"], "properties": {"a": {}, "b": {"type": "string", "required": true}}}});
        let (out, _, warnings) = convert(Dialect::Swagger2, root, "/s");
        assert_eq!(out["required"], json!(["a", "b"]));
        assert_eq!(out["properties"]["b"], json!({"type": "string"}));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("/s/properties/b/required: "), "{warnings:?}");
    }

    #[test]
    fn cycles_and_chains_are_stored_once() {
        let root = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/components/schemas/Node"}, "alias": {"$ref": "#/components/schemas/A"}}},
            "A": {"$ref": "#/components/schemas/B"},
            "B": {"$ref": "#/components/schemas/Node"},
            "L1": {"$ref": "#/components/schemas/L2"},
            "L2": {"$ref": "#/components/schemas/L1"}
        }}, "s": {"anyOf": [{"$ref": "#/components/schemas/Node"}, {"$ref": "#/components/schemas/L1"}]}});
        let (out, defs, warnings) = convert(Dialect::OpenApi30, root, "/s");
        assert_eq!(out, json!({"anyOf": [{"$ref": "#/$defs/Node"}, {"$ref": "#/$defs/L1"}]}));
        assert_eq!(defs["A"], json!({"$ref": "#/$defs/Node"}));
        assert_eq!(defs["L1"], json!({}));
        assert_eq!(defs["Node"]["properties"]["next"], json!({"$ref": "#/$defs/Node"}));
        assert!(warnings.iter().any(|w| w.contains("cycle")), "{warnings:?}");
    }

    #[test]
    fn openapi_31_keeps_type_arrays_and_ref_siblings() {
        let root = json!({"s": {"type": ["string", "null", "bogus"], "examples": ["a"]}, "t": {"$ref": "#/s", "minLength": 2}});
        let (out, _, _) = convert(Dialect::OpenApi31, root.clone(), "/s");
        assert_eq!(out, json!({"type": ["string", "null"]}));
        let (out, defs, _) = convert(Dialect::OpenApi31, root, "/t");
        assert_eq!(out, json!({"$ref": "#/$defs/s", "minLength": 2}));
        assert!(defs.contains_key("s"));
    }

    #[test]
    fn odd_names_and_dangling_refs() {
        let root = json!({"definitions": {"Page«User»": {"type": "object"}}, "s": {"items": {"$ref": "#/definitions/Page%C2%ABUser%C2%BB"}}, "bad": {"$ref": "#/nope"}});
        let (out, defs, _) = convert(Dialect::Swagger2, root.clone(), "/s");
        assert_eq!(out, json!({"items": {"$ref": "#/$defs/Page_User_"}}));
        assert!(defs.contains_key("Page_User_"));
        let doc = Doc::from_value(root.clone());
        let mut c = Converter::new(&doc, Dialect::Swagger2);
        let err = c.convert(&root["bad"], "/bad", &mut Warnings::default()).expect_err("dangling");
        assert!(matches!(err, Error::Spec { ref pointer, .. } if pointer == "/bad/$ref"), "{err}");
    }
}
