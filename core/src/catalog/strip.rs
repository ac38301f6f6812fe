//! The test inputs opdeck ships in `tests/specs/`, written from the originals.
//!
//! The tests read real specs, but the project keeps only what a test or the
//! catalog build can use: each spec with its prose left out (`description`
//! strings, summaries, the summaries and descriptions of examples, the
//! wording of OAuth2 scopes, `x-*` extensions), its structure, names,
//! schemas, enums, defaults and examples kept, in its own format. Beside
//! them sit the tools of the services with version markers (DRACOON's seed
//! 001) as a small JSON file.
//!
//! What is left out is what the loader leaves out anyway (the spec reader's
//! lean pass), plus summaries, so a stripped spec loads into the same
//! operations as its original, summaries aside, and the catalogs rebuilt
//! from the stripped files are the committed ones. The one description
//! OpenAPI requires, a response's, is kept empty. [`write_test_inputs`] is
//! `opdeck catalog strip`; a test regenerates the files where the originals
//! are present and compares them byte for byte.

use std::path::Path;

use serde_json::{Map, Value};

use super::build::{RECIPES, read_seed, seed_tools, tools_text, write_file};
use crate::error::{Error, Result};
use crate::spec::{Lean, parse};

/// The specs the tests read, by file name (the same in the folder of
/// originals and in `tests/specs`).
pub const SPECS: [&str; 8] = [
    "seald-dashboard-v2.openapi.yaml",
    "dracoon-4.42.openapi.json",
    "dracoon-4.26.7.openapi.json",
    "selfprivacy-1.2.0.openapi.yaml",
    "selfprivacy-1.2.0.swagger2.json",
    "wildduck-1.37.0.openapi.yml",
    "wildduck-1.46.1.openapi.json",
    "kitsu-zou-1.0.97.openapi.json",
];

/// The format a spec file is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON, one line per member down to the level of operations and models.
    Json,
    /// YAML, written by `serde-saphyr`.
    Yaml,
}

impl Format {
    /// The format of a file, by its name's extension.
    pub fn of(name: &str) -> Result<Format> {
        match Path::new(name).extension().and_then(|e| e.to_str()) {
            Some("json") => Ok(Format::Json),
            Some("yaml" | "yml") => Ok(Format::Yaml),
            _ => Err(Error::usage(format!("`{name}` is neither .json nor .yaml/.yml"))),
        }
    }
}

/// A spec without its prose, in `format`.
///
/// The result is checked before it is returned: read back by the loader's
/// own reader it must give exactly the stripped document, so no value can
/// change on the way through the text (a YAML string that would read as a
/// number, say).
pub fn strip_spec(bytes: &[u8], format: Format) -> Result<Vec<u8>> {
    // The lean reader already leaves out `description` strings and `x-*`.
    let mut doc = parse(bytes)?;
    // Swagger 2's `examples` map media types to bare values, which are data.
    let example_objects = doc.get("openapi").is_some();
    strip(&mut doc, Lean::Node, example_objects);
    // What the loader reads is `doc`; what is written also keeps the
    // descriptions OpenAPI requires, empty, so that other readers (Prism)
    // take the file as the spec it was.
    let mut written = doc.clone();
    required_descriptions(&mut written, Lean::Node);
    let text = match format {
        Format::Json => {
            let mut text = String::with_capacity(bytes.len() / 2);
            write_json(&written, 0, &mut text)?;
            text.push('\n');
            text
        }
        Format::Yaml => serde_saphyr::to_string(&written).map_err(|e| encode_error(&e))?,
    };
    if parse(text.as_bytes())? != doc {
        return Err(Error::usage(format!("the stripped spec does not read back as written ({format:?})")));
    }
    Ok(text.into_bytes())
}

/// How deep objects are spread over lines: the document's members, the
/// entries of `paths` and of `components`, and the members of each path item
/// and component map get a line each; anything deeper (an operation, a
/// schema) stays on one line, so the files stay small and diffs readable.
const JSON_LINE_DEPTH: usize = 3;

/// Writes `value` as JSON, its objects spread over lines down to
/// [`JSON_LINE_DEPTH`], each level indented by two spaces.
fn write_json(value: &Value, depth: usize, out: &mut String) -> Result<()> {
    match value {
        Value::Object(map) if depth < JSON_LINE_DEPTH && !map.is_empty() => {
            out.push('{');
            for (i, (key, member)) in map.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                push_indent(out, depth + 1);
                out.push_str(&serde_json::to_string(key).map_err(|e| encode_error(&e))?);
                out.push_str(": ");
                write_json(member, depth + 1, out)?;
            }
            out.push('\n');
            push_indent(out, depth);
            out.push('}');
        }
        _ => out.push_str(&serde_json::to_string(value).map_err(|e| encode_error(&e))?),
    }
    Ok(())
}

fn push_indent(out: &mut String, depth: usize) {
    out.extend(std::iter::repeat_n("  ", depth));
}

/// Leaves out the prose the lean reader keeps, from `value` read as `lean`.
fn strip(value: &mut Value, lean: Lean, example_objects: bool) {
    match value {
        Value::Object(map) => {
            if lean == Lean::Node {
                // The summaries of operations, path items and the info object.
                map.retain(|key, v| !(key == "summary" && v.is_string()));
                // `examples` is data to the reader, but in OpenAPI 3 its
                // entries are Example objects with prose beside the value.
                if let Some(Value::Object(examples)) = map.get_mut("examples")
                    && example_objects
                {
                    examples.values_mut().filter_map(Value::as_object_mut).for_each(strip_example);
                }
                // OAuth2 scopes: the names stay, their wording goes.
                if let Some(Value::Object(scopes)) = map.get_mut("scopes") {
                    scopes.values_mut().filter(|v| v.is_string()).for_each(|v| *v = Value::String(String::new()));
                }
            }
            for (key, member) in map.iter_mut() {
                let lean = lean.member(key);
                if lean != Lean::Verbatim {
                    strip(member, lean, example_objects);
                }
            }
        }
        Value::Array(items) => {
            let element = if lean == Lean::Names { Lean::Node } else { lean };
            for item in items {
                strip(item, element, example_objects);
            }
        }
        _ => {}
    }
}

/// Gives every Response object an empty `description`, the one description
/// both OpenAPI 3 and Swagger 2 require (Prism finds no response without
/// it). A `$ref` stays as it is.
fn required_descriptions(value: &mut Value, lean: Lean) {
    match value {
        Value::Object(map) => {
            if lean == Lean::Node
                && let Some(Value::Object(responses)) = map.get_mut("responses")
            {
                for response in responses.values_mut() {
                    if let Value::Object(r) = response
                        && !r.contains_key("$ref")
                        && !r.contains_key("description")
                    {
                        r.shift_insert(0, "description".to_owned(), Value::String(String::new()));
                    }
                }
            }
            for (key, member) in map.iter_mut() {
                let lean = lean.member(key);
                if lean != Lean::Verbatim {
                    required_descriptions(member, lean);
                }
            }
        }
        Value::Array(items) => {
            let element = if lean == Lean::Names { Lean::Node } else { lean };
            items.iter_mut().for_each(|item| required_descriptions(item, element));
        }
        _ => {}
    }
}

/// An Example object without its summary, description and extensions. An
/// entry with other members is not an Example object and stays whole.
fn strip_example(example: &mut Map<String, Value>) {
    let example_member = |key: &str| {
        matches!(key, "summary" | "description" | "value" | "externalValue" | "$ref") || key.starts_with("x-")
    };
    if example.keys().all(|k| example_member(k)) {
        example.retain(|key, v| {
            !(key.starts_with("x-") || (matches!(key.as_str(), "summary" | "description") && v.is_string()))
        });
    }
}

/// The test inputs written from the original specs in `specs` and the seeds
/// in `seeds`: each of [`SPECS`] stripped, and the tools data file of every
/// service with markers. Each as its file name and content, in that order.
pub fn test_inputs(specs: &Path, seeds: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::with_capacity(SPECS.len() + 1);
    for name in SPECS {
        let path = specs.join(name);
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let stripped = strip_spec(&bytes, Format::of(name)?).map_err(|e| in_file(&path, &e))?;
        out.push((name.to_owned(), stripped));
    }
    for markers in RECIPES.iter().filter_map(|r| r.markers) {
        let tools = seed_tools(&read_seed(seeds, markers.seed)?);
        out.push((markers.file.to_owned(), tools_text(&tools)?.into_bytes()));
    }
    Ok(out)
}

/// Writes [`test_inputs`] into `out` (`tests/specs`), each file replaced
/// whole, and returns their names.
pub fn write_test_inputs(specs: &Path, seeds: &Path, out: &Path) -> Result<Vec<String>> {
    let inputs = test_inputs(specs, seeds)?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut names = Vec::with_capacity(inputs.len());
    for (name, bytes) in inputs {
        write_file(out, &name, &bytes)?;
        names.push(name);
    }
    Ok(names)
}

fn in_file(path: &Path, e: &Error) -> Error {
    Error::usage(format!("{}: {e}", path.display()))
}

fn encode_error(e: &dyn std::fmt::Display) -> Error {
    Error::usage(format!("cannot write the stripped spec: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_goes_and_names_and_data_stay() {
        let spec = br#"{"openapi": "3.0.3", "info": {"title": "T", "version": "1", "summary": "s", "description": "d"},
            "paths": {"/a": {"summary": "s", "get": {"operationId": "getA", "summary": "Get an a", "x-internal": 1,
                "parameters": [{"name": "q", "in": "query", "description": "d", "example": {"summary": "kept"},
                    "schema": {"type": "string", "enum": ["x"], "default": "x"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"summary": {"type": "string"}}},
                    "examples": {"one": {"summary": "s", "description": "d", "x-e": 1, "value": {"summary": "kept"}},
                        "data": {"value": 1, "other": "kept"}}}}}}}}},
            "components": {"securitySchemes": {"o": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "/t", "scopes": {"read": "Reads everything"}}}}}}}"#;
        let out = strip_spec(spec, Format::Json).expect("strips");
        let doc: Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(
            doc,
            serde_json::json!({"openapi": "3.0.3", "info": {"title": "T", "version": "1"},
            "paths": {"/a": {"get": {"operationId": "getA",
                "parameters": [{"name": "q", "in": "query", "example": {"summary": "kept"},
                    "schema": {"type": "string", "enum": ["x"], "default": "x"}}],
                "responses": {"200": {"description": "", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"summary": {"type": "string"}}},
                    "examples": {"one": {"value": {"summary": "kept"}}, "data": {"value": 1, "other": "kept"}}}}}}}}},
            "components": {"securitySchemes": {"o": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "/t", "scopes": {"read": ""}}}}}}})
        );
        assert!(out.ends_with(b"}\n"));
    }

    #[test]
    fn swagger_examples_are_data() {
        let spec = br#"{"swagger": "2.0", "paths": {"/a": {"get": {"responses": {"200": {"description": "ok",
            "examples": {"application/json": {"summary": "kept"}}}}}}}}"#;
        let doc: Value = serde_json::from_slice(&strip_spec(spec, Format::Json).expect("strips")).expect("json");
        assert_eq!(doc["paths"]["/a"]["get"]["responses"]["200"]["examples"]["application/json"]["summary"], "kept");
    }

    #[test]
    fn yaml_stays_yaml_and_reads_back_the_same() {
        let spec = b"openapi: 3.0.0\ninfo:\n  title: T\n  version: '1.0'\n  description: prose\npaths:\n  /a:\n    get:\n      \
            summary: prose\n      responses:\n        200:\n          description: ok\n          content:\n            \
            text/plain:\n              example: 'yes'\ncomponents:\n  schemas:\n    N:\n      type: number\n      \
            default: 1.5\n      enum: [1.5, '2', null, true, 'null']\n";
        let out = strip_spec(spec, Format::Yaml).expect("strips");
        let text = std::str::from_utf8(&out).expect("utf-8");
        assert!(text.starts_with("openapi:"), "{text}");
        assert!(!text.contains("prose"), "{text}");
        let doc = parse(&out).expect("reads");
        assert_eq!(doc["info"]["version"], "1.0");
        assert_eq!(doc["paths"]["/a"]["get"]["responses"]["200"]["content"]["text/plain"]["example"], "yes");
        assert_eq!(doc["components"]["schemas"]["N"]["enum"], serde_json::json!([1.5, "2", null, true, "null"]));
    }

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(Format::of("a.openapi.json").expect("json"), Format::Json);
        assert_eq!(Format::of("a.yml").expect("yml"), Format::Yaml);
        assert_eq!(Format::of("a.yaml").expect("yaml"), Format::Yaml);
        assert!(Format::of("a.txt").is_err());
    }
}
