//! The `openapi.previewSpec` and `openapi.addSource` meta-operations beside a native Rust operation.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use opdeck::Operation;
use opdeck::model::{Method, OperationMeta, Output};
use opdeck::{Config, Context, Deck, Error, Registry, Result, Source};
use serde_json::{Value, json};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/specs").join(name).display().to_string()
}

/// A native operation that echoes its input.
struct Echo(OperationMeta);

#[async_trait]
impl Operation for Echo {
    fn meta(&self) -> &OperationMeta {
        &self.0
    }

    async fn invoke(&self, _ctx: &Context, input: Value) -> Result<Output> {
        Ok(Output::json(json!({ "echo": input })))
    }
}

fn echo() -> Arc<dyn Operation> {
    native("native.tools.echo")
}

/// A native operation of the `native` service with this id.
fn native(id: &str) -> Arc<dyn Operation> {
    let name = id.rsplit('.').next().unwrap_or(id);
    let meta: OperationMeta = serde_json::from_value(json!({
        "id": id, "service": "native", "group": "tools", "name": name,
        "alias": id.replace('.', "_"), "method": "POST", "path": ""
    }))
    .expect("meta");
    Arc::new(Echo(meta))
}

fn deck() -> Deck {
    let registry = Arc::new(Registry::new());
    registry.register(&opdeck::engine::meta_source()).expect("meta source");
    registry.register_operations("native", "rust".into(), vec![echo()]).expect("native");
    let transport = Arc::new(opdeck::wire::client::HttpTransport::new().expect("transport"));
    Deck::new(registry, transport, Config::default())
}

#[test]
fn meta_operations_have_two_part_ids_and_real_schemas() {
    let ops = opdeck::engine::meta_source().operations().expect("ops");
    let ids: Vec<(&str, &str, &str)> =
        ops.iter().map(|o| (o.meta().id.as_str(), o.meta().group.as_str(), o.meta().name.as_str())).collect();
    assert_eq!(ids, [("openapi.previewSpec", "openapi", "previewSpec"), ("openapi.addSource", "openapi", "addSource")]);
    let schema = ops[1].meta().input_schema();
    assert_eq!(schema["required"], json!(["spec", "service"]));
    assert_eq!(schema["additionalProperties"], json!(false));
    assert_eq!(ops[0].meta().method, Method::Post);
}

#[test]
fn preview_reports_the_header_without_registering() {
    let deck = deck();
    let out = deck
        .call_blocking("openapi.previewSpec", json!({"spec": fixture("swagger-forms.json")}))
        .expect("preview")
        .into_value();
    assert_eq!(out["title"], "Forms");
    assert_eq!(out["format"], "swagger 2.0");
    assert_eq!(out["operationCount"], 4);
    assert_eq!(out["servers"][0]["url"], "https://files.example.test/v1");
    assert_eq!(out["securitySchemes"]["key"], json!({"type": "apiKey", "name": "X-Key", "in": "header"}));
    assert_eq!(out["tags"], json!(["Files"]));
    assert!(
        out["warnings"]
            .as_array()
            .expect("warnings")
            .iter()
            .any(|w| w["message"].as_str().unwrap_or("").contains("tsv"))
    );
    assert_eq!(deck.registry().services().len(), 2);
    // Inline text works too.
    let text = std::fs::read_to_string(fixture("types31.yaml")).expect("fixture");
    let out = deck.call_blocking("openapi.previewSpec", json!({"spec": text})).expect("inline").into_value();
    assert_eq!(out["format"], "openapi 3.1.0");
}

#[test]
fn add_source_registers_beside_native_operations() {
    let deck = deck();
    let out = deck
        .call_blocking(
            "openapi.addSource",
            json!({"spec": fixture("swagger-forms.json"), "service": "files", "baseUrl": "http://127.0.0.1:1/v1"}),
        )
        .expect("added")
        .into_value();
    assert_eq!(out["service"], "files");
    assert_eq!(
        out["ids"],
        json!(["files.files.listFiles", "files.files.uploadFile", "files.files.replaceFile", "files.files.removeFile"])
    );
    let names: Vec<String> = deck.registry().services().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["openapi", "native", "files"]);
    assert!(deck.registry().get("files_files_listFiles").is_ok());
    assert_eq!(deck.context().base_url("files").expect("base url"), "http://127.0.0.1:1/v1");
    let echoed = deck.call_blocking("native.tools.echo", json!({"a": 1})).expect("native").into_value();
    assert_eq!(echoed, json!({"echo": {"a": 1}}));
}

#[test]
fn meta_inputs_are_validated() {
    let deck = deck();
    let err = deck.call_blocking("openapi.addSource", json!({"spec": fixture("types31.yaml")})).expect_err("missing");
    assert!(matches!(&err, Error::Validation { violations, .. } if !violations.is_empty()), "{err}");
    let err = deck.call_blocking("openapi.previewSpec", json!({"spec": "x", "extra": 1})).expect_err("extra key");
    assert!(matches!(err, Error::Validation { .. }), "{err}");
    let err = deck
        .call_blocking("openapi.addSource", json!({"spec": fixture("types31.yaml"), "service": "openapi"}))
        .expect_err("reserved");
    assert!(err.to_string().contains("reserved"), "{err}");
    let err = deck.call_blocking("openapi.previewSpec", json!({"spec": "/nonexistent/spec.yaml"})).expect_err("io");
    assert_eq!(err.kind(), opdeck::ErrorKind::Io);
    assert_eq!(deck.registry().services().len(), 2, "nothing was half registered");
}

#[test]
fn lookups_follow_registrations_and_removals() {
    let registry = Registry::new();
    registry.register(&opdeck::engine::meta_source()).expect("meta source");
    registry.register_operations("native", "rust".into(), vec![native("native.tools.echo")]).expect("first");
    assert!(registry.get("native.tools.echo").is_ok());
    // Registering a service again replaces all it had, aliases included.
    registry.register_operations("native", "rust".into(), vec![native("native.tools.shout")]).expect("again");
    assert!(registry.get("native_tools_shout").is_ok());
    let Err(err) = registry.get("native.tools.echo") else { panic!("the old id outlived its service's replacement") };
    assert!(
        matches!(&err, Error::UnknownOperation { suggestions, .. } if suggestions.contains(&"native.tools.shout".to_owned())),
        "{err}"
    );
    assert!(registry.get("native_tools_echo").is_err());
    assert!(registry.unregister("native"));
    assert!(registry.get("native.tools.shout").is_err());
    assert!(registry.get("openapi.addSource").is_ok(), "other services stay");
    assert!(!registry.unregister("native"));
}

/// Finding 5 (issue 16): `opdeck spec preview /dev/zero` grew without bound,
/// since a device reports size 0. Spec files are read with a cap on the
/// bytes actually read, and the error names the file.
#[test]
fn finding_5_a_device_as_a_spec_stops_at_the_spec_cap() {
    let err = opdeck::spec::read_capped(std::path::Path::new("/dev/zero"), 1000, "max_spec_bytes").expect_err("capped");
    assert!(
        matches!(&err, Error::Limit { limit, detail } if limit == "max_spec_bytes" && detail.contains("/dev/zero")),
        "{err}"
    );
    let deck = Deck::builder().builtins(opdeck::Builtins::None).build().expect("deck");
    let err = deck.call_blocking("openapi.previewSpec", json!({"spec": "/dev/zero"})).expect_err("capped");
    assert!(matches!(&err, Error::Limit { detail, .. } if detail.contains("/dev/zero")), "{err}");
}

/// Finding 10 (issue 16): spec errors read `unusable spec at : …`, with an
/// empty pointer and no file. They now show `/` for the root and name the file.
#[test]
fn finding_10_a_spec_error_names_the_file_and_a_pointer() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("broken.json");
    std::fs::write(&path, b"{\"openapi\": ").expect("written");
    let deck = Deck::builder().builtins(opdeck::Builtins::None).build().expect("deck");
    let err =
        deck.call_blocking("openapi.previewSpec", json!({"spec": path.display().to_string()})).expect_err("broken");
    let text = err.to_string();
    assert!(text.starts_with("unusable spec at /: invalid json"), "{text}");
    assert!(text.contains("broken.json"), "{text}");
    let err = deck.add_document("b", b"openapi: [1]", "https://u:PW@h.example/b.yaml", None).expect_err("broken");
    let text = err.to_string();
    assert!(text.contains("at /openapi") && text.contains("h.example/b.yaml") && !text.contains("PW"), "{text}");
}

/// Finding 10 (issue 16): a spec URL that never answered waited 300 s, then
/// said only "error sending request". The fetch has a connect and a total
/// timeout, and the error names the URL and how long it waited.
#[tokio::test]
async fn finding_10_a_spec_url_that_never_answers_times_out_naming_it() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let url = format!("http://{addr}/spec.json?private_token=PT");
    let start = std::time::Instant::now();
    let short = std::time::Duration::from_millis(300);
    let err = opdeck::engine::fetch_within(&url, short, short).await.expect_err("no answer");
    assert!(start.elapsed() < std::time::Duration::from_secs(3));
    let text = err.to_string();
    assert!(text.contains(&format!("http://{addr}/spec.json")) && text.contains("did not answer within"), "{text}");
    assert!(!text.contains("PT&") && !text.ends_with("=PT"), "{text}");
    assert_eq!(opdeck::engine::FETCH_TIMEOUT, std::time::Duration::from_secs(60));
}

/// Finding 10 (issue 16): a NUL byte in a header value was reported as "line
/// breaks".
#[test]
fn finding_10_a_nul_byte_in_a_header_is_reported_as_one() {
    let spec = r#"{"openapi": "3.0.3", "info": {"title": "h", "version": "1"}, "paths": {"/x": {"get": {
        "operationId": "getX", "tags": ["x"],
        "parameters": [{"name": "X-Tag", "in": "header", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok"}}}}}}"#;
    let deck = Deck::builder().builtins(opdeck::Builtins::None).build().expect("deck");
    deck.add_document("h", spec.as_bytes(), "inline", Some("http://127.0.0.1:9")).expect("added");
    let err = deck.prepare("h.x.getX", &json!({"X-Tag": "a\u{0}b"})).expect_err("refused");
    assert!(err.to_string().contains("must not contain a NUL byte"), "{err}");
    let err = deck.prepare("h.x.getX", &json!({"X-Tag": "a\nb"})).expect_err("refused");
    assert!(err.to_string().contains("line breaks"), "{err}");
}

/// Arrays nested 100 deep, `copies` times, as one JSON array: about 80× its
/// bytes once parsed into a tree.
fn nested_json(copies: usize) -> String {
    let nest = format!("{}{}", "[".repeat(100), "]".repeat(100));
    format!("[{}]", vec![nest.as_str(); copies].join(","))
}

/// Finding 1 (issue 16): JSON had no decoding budget (60 MB of arrays nested
/// 100 deep took 7.85 GB to add as a spec). Specs over the budget are a spec
/// error naming the source, before anything is parsed.
#[test]
fn finding_1_a_spec_over_the_json_budget_is_refused_naming_it() {
    let doc = format!(
        r#"{{"openapi": "3.0.3", "info": {{"title": "t", "version": "1"}}, "paths": {{}}, "x": {}}}"#,
        nested_json(20_000)
    );
    let deck = Deck::builder().builtins(opdeck::Builtins::None).build().expect("deck");
    let err = deck.add_document("deep", doc.as_bytes(), "deep.json", None).expect_err("over budget");
    let text = err.to_string();
    assert!(
        matches!(err, Error::Spec { .. }) && text.contains("json decoding budget") && text.contains("deep.json"),
        "{text}"
    );
}

#[rstest::rstest]
#[case(r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},
    "servers":[{"url":"https://{region}.api.example/v{major}","variables":{"region":{"default":"eu"},"major":{"default":"2"}}},
               {"url":"http://second.example"}]}"#, None, Some("https://eu.api.example/v2"))]
#[case(r#"{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{},"host":"h.example:8080","basePath":"/api","schemes":["http","https"]}"#,
    None, Some("http://h.example:8080/api"))]
#[case(
    r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},"servers":[{"url":"/api/v3"}]}"#,
    Some("https://specs.example/petstore/openapi.json"),
    Some("https://specs.example/api/v3")
)]
#[case(
    r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},"servers":[{"url":"/api/v3"}]}"#,
    Some("./petstore.json"),
    None
)]
#[case(r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{}}"#, None, None)]
fn a_documents_base_url_is_its_first_server(
    #[case] spec: &str,
    #[case] origin: Option<&str>,
    #[case] expected: Option<&str>,
) {
    let doc = opdeck::spec::load(spec.as_bytes(), "t", &opdeck::spec::LoadOptions::default()).expect("loads");
    assert_eq!(doc.server_url(origin).as_deref(), expected);
}

#[test]
fn an_added_document_without_a_base_url_calls_its_first_server() {
    let deck = Deck::empty(Config::default()).expect("deck");
    let spec = r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"servers":[{"url":"http://127.0.0.1:4010"}],
        "paths":{"/pets":{"get":{"operationId":"listPets","tags":["pets"],"responses":{"200":{"description":"ok"}}}}}}"#;
    deck.add_document("pets", spec.as_bytes(), "inline", None).expect("added");
    assert_eq!(deck.context().base_url("pets").expect("a base url"), "http://127.0.0.1:4010");
    // Given, it wins; added again without one and without servers, there is none.
    deck.add_document("pets", spec.as_bytes(), "inline", Some("http://127.0.0.1:9")).expect("added");
    assert_eq!(deck.context().base_url("pets").expect("a base url"), "http://127.0.0.1:9");
    let bare = spec.replace(r#""servers":[{"url":"http://127.0.0.1:4010"}],"#, "");
    deck.add_document("pets", bare.as_bytes(), "inline", None).expect("added");
    assert!(deck.context().base_url("pets").is_err());
}
