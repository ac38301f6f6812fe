//! Specs repaired on load: undeclared path variables, impossible schemas, response examples.

use std::path::PathBuf;
use std::sync::Arc;

use opdeck::engine::OpenApiSource;
use opdeck::mock::{MockTransport, base_url};
use opdeck::model::{Location, Method, OperationMeta, Style};
use opdeck::schema::Validator;
use opdeck::spec::{Document, LoadOptions, load, load_path};
use opdeck::wire::{Request, ResponseBody};
use opdeck::{Error, Registry};
use serde_json::{Value, json};

use crate::spec_ingest::load_spec;
use crate::support::{Reply, TestServer};

fn repairs() -> Document {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/specs/repairs30.yaml");
    load_path(&path, "repairs", &LoadOptions::default()).unwrap_or_else(|e| panic!("repairs30.yaml: {e}"))
}

fn by_name<'a>(doc: &'a Document, name: &str) -> &'a OperationMeta {
    doc.operations.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("no {name}"))
}

fn op<'a>(doc: &'a Document, method: &str, path: &str) -> &'a OperationMeta {
    doc.operations
        .iter()
        .find(|o| o.method.as_str() == method && o.path == path)
        .unwrap_or_else(|| panic!("no {method} {path}"))
}

fn warnings_at<'a>(doc: &'a Document, pointer: &str) -> Vec<&'a str> {
    doc.warnings.iter().filter(|w| w.pointer == pointer).map(|w| w.message.as_str()).collect()
}

/// Sends `input` through `meta` to a loopback server and returns the target it received.
async fn target_of(meta: &OperationMeta, input: Value) -> String {
    let srv = TestServer::always(Reply::json(json!({"id": "t-1"}))).await;
    let harness = crate::support::Harness::quick(meta.clone(), &srv.url());
    harness.call(input).await.unwrap_or_else(|e| panic!("{}: {e}", meta.id));
    srv.last().target
}

#[tokio::test(flavor = "multi_thread")]
async fn undeclared_path_variables_become_required_strings() {
    let doc = repairs();
    for name in ["getTemplate", "deleteTemplate"] {
        let o = by_name(&doc, name);
        assert_eq!(o.parameters.len(), 1, "{name}");
        let p = &o.parameters[0];
        assert_eq!(
            (p.name.as_str(), p.key.as_str(), p.location, p.required, p.style, p.explode),
            ("instance_id", "instance_id", Location::Path, true, Style::Simple, false)
        );
        assert_eq!(p.schema, json!({"type": "string"}));
        let v = Validator::new(o).expect("compiles");
        assert!(v.violations(&json!({"instance_id": "t-1"})).is_empty());
        assert!(!v.violations(&json!({})).is_empty());
    }
    // One warning for the path item, though two operations share it.
    assert_eq!(
        warnings_at(&doc, "/paths/~1templates~1{instance_id}"),
        ["path variable `instance_id` is not declared as a parameter; read as a required string"]
    );
    let get = by_name(&doc, "getTemplate");
    assert_eq!(target_of(get, json!({"instance_id": "t 1"})).await, "/templates/t%201");
}

#[tokio::test(flavor = "multi_thread")]
async fn declared_path_parameters_outside_the_template_are_not_sent() {
    let doc = repairs();
    let o = by_name(&doc, "getFilter");
    let keys: Vec<&str> = o.parameters.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["filter_id", "q"]);
    assert_eq!(
        warnings_at(&doc, "/paths/~1filters~1{filter_id}/parameters/0"),
        ["path parameter `other_id` is not in the path `/filters/{filter_id}`; not sent"]
    );
    assert_eq!(target_of(o, json!({"filter_id": 7, "q": "x"})).await, "/filters/7?q=x");
    let harness = crate::support::Harness::quick(o.clone(), "http://127.0.0.1:9");
    let err = harness.call(json!({"filter_id": 7, "other_id": 3})).await.expect_err("an unknown key");
    assert!(matches!(err, Error::Validation { .. }), "{err}");
}

#[test]
fn impossible_schemas_become_satisfiable() {
    let doc = repairs();
    let o = by_name(&doc, "createClient");
    let v = Validator::new(o).expect("compiles");
    let good = json!({"body": {"grantTypes": ["password", "refresh_token"], "username": "a@example.test"}});
    assert!(v.violations(&good).is_empty(), "{:?}", v.violations(&good));
    let bad = json!({"body": {"grantTypes": ["implicit"], "username": "a"}});
    let paths: Vec<String> = v.violations(&bad).into_iter().map(|x| x.path).collect();
    assert!(paths.iter().any(|p| p.starts_with("/body/grantTypes")), "{paths:?}");
    let client = &doc.definitions.map()["Client"];
    assert_eq!(
        client["properties"]["grantTypes"],
        json!({"type": "array", "items": {"type": "string", "enum": ["password", "refresh_token"]}})
    );
    assert_eq!(client["properties"]["username"], json!({"anyOf": [{"type": "string"}, {"type": "string"}]}));
    assert_eq!(
        warnings_at(&doc, "/components/schemas/Client/properties/grantTypes/enum"),
        ["an array's `enum` lists scalars, which no array equals; moved to `items`"]
    );
    assert_eq!(
        warnings_at(&doc, "/components/schemas/Client/properties/username/oneOf"),
        ["`oneOf` branches 0 and 1 accept the same values, which would then be refused; read as `anyOf`"]
    );
}

#[test]
fn response_examples_are_kept_and_answered_by_the_simulator() {
    let doc = repairs();
    let example = |name: &str| by_name(&doc, name).responses[0].media[0].example.as_ref().map(|e| e.value());
    assert_eq!(example("getTemplate"), Some(json!({"id": "t-1"})));
    // The first of `examples`, through its ref; its summary stays behind.
    assert_eq!(example("getFilter"), Some(json!({"id": 1})));
    // Error and request examples are not kept.
    assert_eq!(by_name(&doc, "getTemplate").responses[1].media[0].example, None);
    let create = by_name(&doc, "createClient");
    assert_eq!(create.body.as_ref().map(|b| b.media[0].example.clone()), Some(None));

    let registry = Arc::new(Registry::new());
    registry.register(&OpenApiSource::new(doc, "repairs30.yaml")).expect("registers");
    let mock = MockTransport::new(registry, 1);
    let url = url::Url::parse(&format!("{}/templates/abc", base_url("repairs"))).expect("url");
    let response = mock.respond(&Request::new("repairs.x.getTemplate", Method::Get, url)).expect("answers");
    let ResponseBody::Full(raw) = response.body else { panic!("a buffered body") };
    assert_eq!((response.status, serde_json::from_slice::<Value>(&raw).ok()), (200, Some(json!({"id": "t-1"}))));
}

#[test]
fn swagger_2_examples_are_keyed_by_media_type() {
    let spec = json!({
        "swagger": "2.0",
        "info": {"title": "s", "version": "1"},
        "produces": ["application/json", "text/plain"],
        "paths": {"/ping": {"get": {"operationId": "ping", "responses": {"200": {
            "description": "ok",
            "schema": {"type": "object"},
            "examples": {"application/json": {"pong": true}}
        }}}}}
    });
    let doc = load(spec.to_string().as_bytes(), "s", &LoadOptions::default()).expect("loads");
    let media = &doc.operations[0].responses[0].media;
    let examples: Vec<(&str, Option<Value>)> =
        media.iter().map(|m| (m.content_type.as_str(), m.example.as_ref().map(|e| e.value()))).collect();
    assert_eq!(examples, [("application/json", Some(json!({"pong": true}))), ("text/plain", None)]);
}

#[test]
fn the_real_specs_are_repaired() {
    let kitsu = load_spec("kitsu-zou-1.0.97.openapi.json", "kitsu");
    let o = op(&kitsu, "GET", "/data/project-templates/{instance_id}");
    assert!(o.parameter("instance_id").is_some_and(|p| p.required && p.location == Location::Path));
    let undeclared = kitsu.warnings.iter().filter(|w| w.message.starts_with("path variable")).count();
    let outside = kitsu.warnings.iter().filter(|w| w.message.contains("is not in the path")).count();
    // 45 variables of 27 path items, 37 operations.
    assert_eq!((undeclared, outside), (45, 1));
    let filters = op(&kitsu, "GET", "/data/user/filter-groups/{filter_group_id}");
    let keys: Vec<&str> = filters.parameters.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["filter_group_id"]);
    for o in &kitsu.operations {
        let mut rest = o.path.as_str();
        while let Some((_, after)) = rest.split_once('{') {
            let (name, tail) = after.split_once('}').unwrap_or((after, ""));
            assert!(o.parameters.iter().any(|p| p.location == Location::Path && p.name == name), "{}", o.id);
            rest = tail;
        }
    }

    let dracoon = load_spec("dracoon-4.42.openapi.json", "dracoon");
    let o = op(&dracoon, "POST", "/v4/system/config/oauth/clients");
    let schema = dracoon.definitions.map()["CreateOAuthClientRequest"]["properties"]["grantTypes"].clone();
    assert!(schema.get("enum").is_none() && schema["items"]["enum"].is_array(), "{schema}");
    let v = Validator::new(o).expect("compiles");
    let body = opdeck::mock::example_input(o);
    assert!(v.violations(&body).is_empty(), "{:?}", v.violations(&body));

    let wildduck = load_spec("wildduck-1.46.1.openapi.json", "wildduck");
    let o = op(&wildduck, "GET", "/addresses/resolve/{address}");
    assert_eq!(
        o.parameter("address").map(|p| &p.schema),
        Some(&json!({"anyOf": [{"type": "string"}, {"type": "string"}]}))
    );
    let v = Validator::new(o).expect("compiles");
    assert!(v.violations(&json!({"address": "user@example.test"})).is_empty());
    let read_as_any = wildduck.warnings.iter().filter(|w| w.message.contains("read as `anyOf`")).count();
    assert_eq!(read_as_any, 6);
}
