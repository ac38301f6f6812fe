//! Loading the real-world specs of `tests/specs`: counts, names, schemas, warnings.

use std::collections::HashSet;
use std::path::PathBuf;

use opdeck::catalog::build::{RECIPES, Tool, read_tools};
use opdeck::model::{Location, OperationMeta, Style};
use opdeck::schema::Validator;
use opdeck::spec::{Document, LoadOptions, load_path};
use opdeck::{Registry, Source};
use rstest::rstest;
use serde_json::json;

/// The specs the tests read: the project's own copies, without their prose,
/// written by `opdeck catalog strip` (checked by `test_inputs`).
pub fn specs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/specs")
}

/// One spec of [`specs_dir`] loaded as `service`.
pub fn load_spec(file: &str, service: &str) -> Document {
    let path = specs_dir().join(file);
    load_path(&path, service, &LoadOptions::default()).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The DRACOON tools of seed 001 with their markers, as the data file of
/// [`specs_dir`] keeps them.
pub fn dracoon_tools() -> Vec<Tool> {
    let markers = RECIPES.iter().find(|r| r.service == "dracoon").and_then(|r| r.markers).expect("dracoon's markers");
    read_tools(&specs_dir().join(markers.file)).expect("the tools file reads")
}

fn op<'a>(doc: &'a Document, method: &str, path: &str) -> &'a OperationMeta {
    doc.operations
        .iter()
        .find(|o| o.method.as_str() == method && o.path == path)
        .unwrap_or_else(|| panic!("no {method} {path}"))
}

#[rstest]
#[case("seald-dashboard-v2.openapi.yaml", "seald", 109, "openapi 3.0.3")]
#[case("dracoon-4.42.openapi.json", "dracoon", 297, "openapi 3.0.1")]
#[case("dracoon-4.26.7.openapi.json", "dracoon", 283, "openapi 3.0.1")]
#[case("selfprivacy-1.2.0.openapi.yaml", "selfprivacy", 48, "openapi 3.0.3")]
#[case("selfprivacy-1.2.0.swagger2.json", "selfprivacy", 49, "swagger 2.0")]
#[case("wildduck-1.37.0.openapi.yml", "wildduck", 106, "openapi 3.0.0")]
#[case("wildduck-1.46.1.openapi.json", "wildduck", 117, "openapi 3.0.0")]
#[case("kitsu-zou-1.0.97.openapi.json", "kitsu", 853, "openapi 3.0.2")]
fn every_spec_loads_with_unique_ids_and_compiling_schemas(
    #[case] file: &str,
    #[case] service: &str,
    #[case] count: usize,
    #[case] format: &str,
) {
    let doc = load_spec(file, service);
    assert_eq!(doc.operations.len(), count, "{file}");
    assert_eq!(doc.format, format);
    let ids: HashSet<&str> = doc.operations.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(ids.len(), count, "ids are unique in {file}");
    let aliases: HashSet<&str> = doc.operations.iter().map(|o| o.alias.as_str()).collect();
    assert_eq!(aliases.len(), count, "aliases are unique in {file}");
    for o in &doc.operations {
        assert_eq!(o.id, format!("{service}.{}.{}", o.group, o.name));
        assert!(o.alias.len() <= 64 && o.alias.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        Validator::new(o).unwrap_or_else(|e| panic!("{}: {e}", o.id));
        if let Some(out) = o.output_schema() {
            Validator::for_schema(&o.id, &out).unwrap_or_else(|e| panic!("{} output: {e}", o.id));
        }
    }
    // No prose survives conversion.
    let text = serde_json::to_string(doc.definitions.map()).expect("serializes");
    assert!(!text.contains("\"description\":\""), "{file} keeps a description");
}

#[test]
fn every_dracoon_tool_of_seed_001_resolves() {
    let names: Vec<String> = dracoon_tools().into_iter().map(|t| t.name).collect();
    assert_eq!(names.len(), 297);
    let doc = load_spec("dracoon-4.42.openapi.json", "dracoon");
    let registry = Registry::new();
    registry.register(&opdeck::engine::OpenApiSource::new(doc, "dracoon-4.42")).expect("registers");
    let missing: Vec<&String> = names.iter().filter(|n| registry.get(&format!("dracoon.{n}")).is_err()).collect();
    assert!(missing.is_empty(), "unresolved: {missing:?}");
}

#[test]
fn wildduck_path_and_query_parameters() {
    let doc = load_spec("wildduck-1.37.0.openapi.yml", "wildduck");
    let o = op(&doc, "GET", "/users/{user}/addresses");
    let user = o.parameter("user").expect("user");
    assert_eq!((user.location, user.required, user.style), (Location::Path, true, Style::Simple));
    let query: Vec<&str> =
        o.parameters.iter().filter(|p| p.location == Location::Query).map(|p| p.key.as_str()).collect();
    assert!(!query.is_empty());
    let schema = o.input_schema();
    assert_eq!(schema["additionalProperties"], json!(false));
    assert!(schema["required"].as_array().expect("required").contains(&json!("user")));
    let v = Validator::new(o).expect("compiles");
    assert!(v.violations(&json!({"user": "59fc66a03e54454869460e45"})).is_empty());
    assert!(!v.violations(&json!({})).is_empty());
    assert!(!v.violations(&json!({"user": "x", "nope": 1})).is_empty());
}

#[test]
fn dracoon_auth_token_header_parameter() {
    let doc = load_spec("dracoon-4.42.openapi.json", "dracoon");
    let o = doc.operations.iter().find(|o| o.name == "requestUserInfo").expect("requestUserInfo");
    let token = o.parameter("X-Sds-Auth-Token").expect("header param");
    assert_eq!((token.location, token.style, token.required), (Location::Header, Style::Simple, false));
    assert_eq!(token.schema["type"], "string");
    assert!(matches!(doc.security_schemes.first().map(|(_, s)| s), Some(opdeck::model::SecurityScheme::OAuth2 { .. })));
}

#[test]
fn kitsu_form_data_and_hybrid_warnings() {
    let doc = load_spec("kitsu-zou-1.0.97.openapi.json", "kitsu");
    let o = op(&doc, "POST", "/import/csv/persons");
    let body = o.body.as_ref().expect("body");
    assert_eq!(body.media[0].content_type, "multipart/form-data");
    assert_eq!(body.media[0].schema["properties"]["file"], json!({"type": "string", "format": "binary"}));
    assert!(body.required);
    let v = Validator::new(o).expect("compiles");
    assert!(v.violations(&json!({"body": {"file": {"path": "/tmp/p.csv"}}})).is_empty());
    assert!(!v.violations(&json!({"body": {}})).is_empty());
    let count = |needle: &str| doc.warnings.iter().filter(|w| w.message.contains(needle)).count();
    assert_eq!(count("no operationId"), 853);
    assert_eq!(count("`in: formData`"), 19);
    assert_eq!(count("`in: body`"), 2);
    assert!(doc.warnings.iter().any(|w| w.pointer == "/host"));
    assert!(doc.warnings.iter().any(|w| w.pointer == "/basePath"));
    assert_eq!(doc.servers[0].url, "http://localhost:8080/api");
    // Synthesized names read like the route.
    let persons = op(&doc, "GET", "/data/persons");
    assert_eq!(persons.name, "getDataPersons");
    let person = op(&doc, "GET", "/data/persons/{instance_id}");
    assert_eq!(person.name, "getDataPersonsByInstanceId");
}

#[test]
fn selfprivacy_delete_with_json_body_and_swagger_required_property() {
    let doc = load_spec("selfprivacy-1.2.0.openapi.yaml", "selfprivacy");
    let deletes: Vec<&OperationMeta> =
        doc.operations.iter().filter(|o| o.method.as_str() == "DELETE" && o.body.is_some()).collect();
    assert_eq!(deletes.len(), 2);
    for o in deletes {
        let body = o.body.as_ref().expect("body");
        assert_eq!(body.media[0].content_type, "application/json");
        let schema = o.input_schema();
        assert!(schema["properties"]["body"].is_object(), "{}", o.id);
    }
    let swagger = load_spec("selfprivacy-1.2.0.swagger2.json", "selfprivacy");
    assert!(swagger.warnings.iter().any(|w| w.message.contains("`required: true` on a property")));
    let o = op(&swagger, "DELETE", "/auth/tokens");
    let body = &o.body.as_ref().expect("body").media[0].schema;
    assert_eq!(body["required"], json!(["token"]));
    let v = Validator::new(o).expect("compiles");
    assert!(v.violations(&json!({"body": {"token": "t"}})).is_empty());
    assert!(!v.violations(&json!({"body": {}})).is_empty());
}

#[test]
fn kitsu_names_collide_rarely_and_say_so() {
    let doc = load_spec("kitsu-zou-1.0.97.openapi.json", "kitsu");
    let suffixed: Vec<&OperationMeta> = doc.operations.iter().filter(|o| o.name.ends_with('2')).collect();
    let warned = doc.warnings.iter().filter(|w| w.message.contains("is taken")).count();
    assert_eq!(suffixed.len(), warned);
    // Only routes that differ by a parameter inside the path, or by `-`/`_`, collide.
    assert!(warned <= 6, "{warned} collisions");
    let casting = op(&doc, "PUT", "/data/projects/{project_id}/entities/casting");
    assert_eq!(casting.id, "kitsu.breakdown.putDataProjectsEntitiesCasting2");
}

#[test]
fn the_source_registers_http_operations() {
    let doc = load_spec("selfprivacy-1.2.0.openapi.yaml", "selfprivacy");
    let source = opdeck::engine::OpenApiSource::new(doc, "selfprivacy.yaml");
    assert_eq!((source.service(), source.origin().as_str()), ("selfprivacy", "selfprivacy.yaml"));
    let registry = Registry::new();
    let ids = registry.register(&source).expect("registers");
    assert_eq!(ids.len(), 48);
    let op = registry.get(&ids[0]).expect("by id");
    assert!(registry.get(&op.meta().alias).is_ok());
}
