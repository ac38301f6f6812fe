//! Spec loading edge cases on hand-written fixtures: refs, cycles, dialects, forms, external refs.

use std::path::PathBuf;

use opdeck::Error;
use opdeck::model::{Location, OperationMeta, SecurityScheme, Style};
use opdeck::schema::Validator;
use opdeck::spec::{Document, LoadOptions, load, load_path};
use serde_json::json;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/specs").join(name)
}

fn load_fixture(name: &str) -> Document {
    load_path(&fixture(name), "edge", &LoadOptions::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn by_name<'a>(doc: &'a Document, name: &str) -> &'a OperationMeta {
    doc.operations.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("no {name}"))
}

fn spec_error(result: opdeck::Result<Document>) -> (String, String) {
    match result {
        Err(Error::Spec { pointer, message }) => (pointer, message),
        Err(other) => panic!("expected a spec error, got {other}"),
        Ok(_) => panic!("expected a spec error, got a document"),
    }
}

#[test]
fn refs_to_refs_and_recursive_models() {
    let doc = load_fixture("refs30.yaml");
    assert_eq!(doc.servers[0].url, "https://{tenant}.example.test/api");
    assert_eq!(doc.servers[0].variables["tenant"].default, "demo");
    let get = by_name(&doc, "getNode");
    assert_eq!(get.group, "nodeTree");
    assert_eq!(get.id, "edge.nodeTree.getNode");
    // Path-level `id` (path, via a chain of refs) and the operation's `trace`
    // header override; the query `id` and `body` get location-qualified keys.
    let keys: Vec<(&str, Location)> = get.parameters.iter().map(|p| (p.key.as_str(), p.location)).collect();
    assert_eq!(
        keys,
        [
            ("id", Location::Path),
            ("trace", Location::Header),
            ("query.id", Location::Query),
            ("query.body", Location::Query)
        ]
    );
    assert!(get.parameter("trace").is_some_and(|p| p.required));
    assert_eq!(get.parameter("id").map(|p| &p.schema), Some(&json!({"$ref": "#/$defs/NodeId"})));
    assert_eq!(get.parameter("query.id").map(|p| &p.schema), Some(&json!({"type": "integer", "exclusiveMinimum": 0})));
    let defs = doc.definitions.map();
    assert_eq!(defs["NodeAlias"], json!({"$ref": "#/$defs/Node"}));
    assert_eq!(defs["Node"]["properties"]["parent"], json!({"$ref": "#/$defs/Node"}));
    assert_eq!(defs["Node"]["properties"]["name"], json!({"type": ["string", "null"]}));
    assert!(defs["Node"].get("description").is_none());
    // The response went through two refs; its schema and header survive.
    let ok = &get.responses[0];
    assert_eq!((ok.status.as_str(), &ok.media[0].schema), ("200", &json!({"$ref": "#/$defs/Node"})));
    assert_eq!(ok.headers["X-Rate"], json!({"type": "integer"}));
    // The recursive input validates real values.
    let put = by_name(&doc, "getNode2");
    let body = put.body.as_ref().expect("body");
    assert!(body.required);
    let media: Vec<&str> = body.media.iter().map(|m| m.content_type.as_str()).collect();
    assert_eq!(media, ["application/json", "application/x-www-form-urlencoded"]);
    let v = Validator::new(put).expect("compiles");
    let good = json!({"id": "abc", "body": {"name": null, "parent": {"name": "p", "children": [{"name": "c"}]}}});
    assert!(v.violations(&good).is_empty(), "{:?}", v.violations(&good));
    let bad = json!({"id": "ABC", "body": {"parent": {"name": 3}}});
    let paths: Vec<String> = v.violations(&bad).into_iter().map(|x| x.path).collect();
    assert!(paths.contains(&"/id".to_owned()), "{paths:?}");
    assert!(paths.iter().any(|p| p.starts_with("/body")), "{paths:?}");
}

#[test]
fn faults_become_warnings_with_pointers() {
    let doc = load_fixture("refs30.yaml");
    let has =
        |pointer: &str, needle: &str| doc.warnings.iter().any(|w| w.pointer == pointer && w.message.contains(needle));
    assert!(
        has("/paths/~1nodes~1{id}/put/operationId", "also used at /paths/~1nodes~1{id}/get"),
        "{:#?}",
        doc.warnings
    );
    assert!(has("/paths/~1nodes~1{id}/get/parameters/3/in", "unknown parameter location `matrix`"));
    assert!(has("/paths/~1nodes/get", "no responses"));
    assert!(has("/paths/~1nodes/get", "no operationId"));
    assert!(has("/paths/~1nodes~1", "`/nodes/` and `/nodes` are both declared"));
    assert!(has("/paths/~1nodes~1/get", "is taken; this operation is `edge.nodeTree.getNodes2`"));
}

#[test]
fn ref_cycles_are_errors_naming_the_pointer() {
    let text = r##"{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": {
        "parameters": [{"$ref": "#/components/parameters/A"}], "responses": {"200": {"description": "ok"}}}}},
        "components": {"parameters": {"A": {"$ref": "#/components/parameters/B"}, "B": {"$ref": "#/components/parameters/A"}}}}"##;
    let (pointer, message) = spec_error(load(text.as_bytes(), "t", &LoadOptions::default()));
    assert!(pointer.starts_with("/components/parameters/"), "{pointer}");
    assert!(message.contains("cycle"), "{message}");
}

#[test]
fn openapi_31_type_arrays_validate_null() {
    let doc = load_fixture("types31.yaml");
    assert_eq!(doc.format, "openapi 3.1.0");
    assert_eq!(doc.version, "2");
    let op = by_name(&doc, "patchItem");
    let filter = op.parameter("filter").expect("filter");
    assert_eq!(filter.content_type.as_deref(), Some("application/json"));
    assert_eq!((filter.style, filter.explode), (Style::Form, true));
    let v = Validator::new(op).expect("compiles");
    assert!(v.violations(&json!({"id": 1, "body": {"label": null, "score": 9.5}})).is_empty());
    assert!(v.violations(&json!({"id": 1, "body": {"label": "short"}})).is_empty());
    assert!(!v.violations(&json!({"id": 1, "body": {"label": 5}})).is_empty());
    assert!(!v.violations(&json!({"id": 1, "body": {"label": "too long"}})).is_empty());
    assert!(!v.violations(&json!({"id": 1, "body": {"score": 10}})).is_empty());
}

#[test]
fn swagger_2_forms_bodies_and_collection_formats() {
    let doc = load_fixture("swagger-forms.json");
    let urls: Vec<&str> = doc.servers.iter().map(|s| s.url.as_str()).collect();
    assert_eq!(urls, ["https://files.example.test/v1", "http://files.example.test/v1"]);
    assert_eq!(doc.security_schemes["basic"], SecurityScheme::Http { scheme: "basic".into(), bearer_format: None });
    assert!(
        matches!(&doc.security_schemes["oauth"], SecurityScheme::OAuth2 { password_token_url: Some(u), .. } if u.ends_with("/token"))
    );
    let upload = by_name(&doc, "uploadFile");
    assert_eq!(upload.id, "edge.files.uploadFile");
    let body = upload.body.as_ref().expect("body");
    assert_eq!(body.media[0].content_type, "multipart/form-data");
    assert_eq!(body.media[0].schema["properties"]["file"], json!({"type": "string", "format": "binary"}));
    assert_eq!(body.media[0].schema["properties"]["note"], json!({"type": ["string", "null"]}));
    let styles: Vec<(Style, bool)> = upload.parameters.iter().map(|p| (p.style, p.explode)).collect();
    assert_eq!(styles, [(Style::Form, true), (Style::PipeDelimited, false), (Style::Form, false)]);
    assert!(doc.warnings.iter().any(|w| w.message.contains("`tsv`")));
    assert_eq!(upload.security.len(), 1);
    assert_eq!(upload.responses[0].headers["Location"], json!({"type": "string"}));
    let list = by_name(&doc, "listFiles");
    assert!(list.security.is_empty(), "`security: []` means none");
    let media: Vec<&str> = list.responses[0].media.iter().map(|m| m.content_type.as_str()).collect();
    assert_eq!(media, ["application/json", "text/csv"]);
    assert_eq!(list.parameter("limit").map(|p| &p.schema), Some(&json!({"type": "integer", "exclusiveMaximum": 100})));
    // `in: body` and `in: formData` together: both media types are offered.
    let replace = by_name(&doc, "replaceFile");
    let media: Vec<&str> = replace.body.as_ref().expect("body").media.iter().map(|m| m.content_type.as_str()).collect();
    assert_eq!(media, ["application/json", "application/x-www-form-urlencoded"]);
    assert_eq!(replace.body.as_ref().expect("body").media[0].schema, json!({"$ref": "#/$defs/File"}));
    let remove = by_name(&doc, "removeFile");
    let body = remove.body.as_ref().expect("body");
    assert_eq!((body.media[0].content_type.as_str(), body.required), ("application/x-www-form-urlencoded", true));
    assert_eq!(doc.definitions.map()["File"]["properties"]["blob"], json!({"type": "string", "format": "binary"}));
    for op in &doc.operations {
        Validator::new(op).unwrap_or_else(|e| panic!("{}: {e}", op.id));
    }
}

#[test]
fn external_refs_are_off_by_default_and_fenced_when_on() {
    let (pointer, message) = spec_error(load_path(&fixture("external/root.yaml"), "ext", &LoadOptions::default()));
    assert_eq!(pointer, "/paths/~1pets/get/parameters/0");
    assert!(message.contains("not allowed"), "{message}");
    let (_, message) = spec_error(load_path(&fixture("url-ref.yaml"), "ext", &LoadOptions::default()));
    assert!(message.contains("http://127.0.0.1:9/schema.json"), "{message}");

    let allowed = LoadOptions { external_dir: Some(fixture("external")), base_dir: None, crud: None };
    let doc = load_path(&fixture("external/root.yaml"), "ext", &allowed).expect("bundles");
    let op = by_name(&doc, "listPets");
    assert_eq!(op.parameter("limit").map(|p| &p.schema), Some(&json!({"type": "integer", "maximum": 50})));
    let v = Validator::for_schema(&op.id, &op.output_schema().expect("output")).expect("compiles");
    assert!(v.violations(&json!([{"name": "rex", "owner": {"pets": [{"name": "rex"}]}}])).is_empty());
    assert!(!v.violations(&json!([{"owner": {}}])).is_empty());

    let (pointer, message) = spec_error(load_path(&fixture("external/escape.yaml"), "ext", &allowed));
    assert_eq!(pointer, "/paths/~1x/get/parameters/0/$ref");
    assert!(message.contains("cannot be opened") || message.contains("leaves the directory"), "{message}");
    let allowed_root = LoadOptions { external_dir: Some(fixture("")), base_dir: None, crud: None };
    let (_, message) = spec_error(load_path(&fixture("url-ref.yaml"), "ext", &allowed_root));
    assert!(message.contains("urls are never fetched"), "{message}");
    let passwd = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      responses:\n        '200': {$ref: '/etc/passwd'}\n";
    let (_, message) = spec_error(load(passwd.as_bytes(), "ext", &allowed));
    assert!(message.contains("leaves the directory"), "{message}");
}

#[test]
fn garbage_never_panics() {
    let seeds: [&[u8]; 6] = [
        br#"{"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": [1, {"in": "query"}, {"name": "x", "in": "query", "schema": 7}], "responses": []}}}}"#,
        br#"{"openapi": "3.0.0", "paths": {"/a": 5, "/b": {"get": "x", "post": {"requestBody": {"content": {"a/b": 1}}, "responses": {"200": {"content": 3}}}}}}"#,
        br#"{"swagger": "2.0", "paths": {"/a": {"get": {"parameters": [{"name": "f", "in": "formData", "type": 3}], "responses": {"200": {"schema": {"$ref": 5}}}}}}}"#,
        br#"{"openapi": "3.1.0", "paths": {"/a": {"get": {"responses": {"200": {"content": {"x/y": {"schema": {"type": 1, "properties": [], "items": "x", "allOf": {}}}}}}}}}}"#,
        br#"{"openapi": "3.0.0", "paths": []}"#,
        b"openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        200:\n          $ref: '#/nowhere'\n",
    ];
    for seed in seeds {
        for cut in (0..=seed.len()).step_by(7) {
            // Truncated or odd documents load or fail cleanly, never panic.
            let _ = load(&seed[..cut], "g", &LoadOptions::default());
        }
        if let Ok(doc) = load(seed, "g", &LoadOptions::default()) {
            for op in &doc.operations {
                Validator::new(op).unwrap_or_else(|e| panic!("{}: {e}", op.id));
            }
        }
    }
    let (pointer, _) = spec_error(load(br#"{"openapi": "3.0.0", "paths": []}"#, "g", &LoadOptions::default()));
    assert_eq!(pointer, "/paths");
}

#[test]
fn a_model_nested_beyond_the_parser_limit_fails_the_load_at_its_pointer() {
    let mut deep = json!({"type": "string"});
    for _ in 0..300 {
        deep = json!({"type": "array", "items": deep});
    }
    let spec = json!({
        "openapi": "3.0.3", "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {"description": "ok",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Deep"}}}}}}}},
        "components": {"schemas": {"Deep": deep}}
    });
    let (pointer, message) = spec_error(load(spec.to_string().as_bytes(), "t", &LoadOptions::default()));
    assert_eq!(pointer, "/components/schemas/Deep");
    assert!(message.contains("recursion limit"), "{message}");
}
