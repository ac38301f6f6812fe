//! The simulator on hand-built operations: routing, each class of invalid
//! request, and deterministic, schema-valid answers.

use std::sync::Arc;

use bytes::Bytes;
use opdeck::Operation;
use opdeck::Registry;
use opdeck::engine::HttpOperation;
use opdeck::mock::{MockTransport, SIMULATED_HEADER, base_url};
use opdeck::model::{Method, OperationMeta, SecurityScheme};
use opdeck::wire::{Delivery, Pair, Part, PartData, Payload, Request, ResponseBody, Transport};
use rstest::rstest;
use serde_json::{Value, json};

fn op(id: &str, method: &str, path: &str, extra: Value) -> OperationMeta {
    let mut base = json!({
        "id": format!("shop.{id}"), "service": "shop", "group": "items", "name": id, "alias": id,
        "method": method, "path": path,
    });
    for (k, v) in extra.as_object().expect("object literal") {
        base[k] = v.clone();
    }
    serde_json::from_value(base).expect("operation literal")
}

fn item_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "name", "kind", "created", "owner"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "name": {"type": "string", "minLength": 3, "maxLength": 8},
            "kind": {"type": "string", "enum": ["book", "pen"]},
            "created": {"type": "string", "format": "date-time"},
            "owner": {"$ref": "#/$defs/User"},
            "price": {"type": "number", "minimum": 1, "maximum": 5},
            "count": {"type": "integer", "format": "int32", "minimum": 10, "maximum": 12},
            "code": {"type": "string", "pattern": "^[A-F0-9]{6}-[a-z]{2,3}$"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": true},
            "parent": {"anyOf": [{"$ref": "#/$defs/Item"}, {"type": "null"}]}
        }
    })
}

fn definitions() -> opdeck::model::Definitions {
    let mut defs = serde_json::Map::new();
    defs.insert(
        "User".into(),
        json!({"type": "object", "required": ["email", "site"], "properties": {
            "email": {"type": "string", "format": "email"},
            "site": {"type": "string", "format": "uri"},
            "friend": {"$ref": "#/$defs/User"}
        }}),
    );
    defs.insert("Item".into(), item_schema());
    opdeck::model::Definitions::new(defs)
}

fn shop() -> Arc<Registry> {
    let defs = Arc::new(definitions());
    let mut schemes = indexmap::IndexMap::new();
    schemes.insert(
        "key".to_owned(),
        SecurityScheme::ApiKey { name: "X-Key".into(), location: opdeck::model::Location::Header },
    );
    schemes.insert("token".to_owned(), SecurityScheme::Http { scheme: "bearer".into(), bearer_format: None });
    let schemes = Arc::new(schemes);
    let ok =
        |schema: Value| json!([{"status": "200", "media": [{"content_type": "application/json", "schema": schema}]}]);
    let metas = vec![
        op(
            "get",
            "GET",
            "/items/{id}",
            json!({
                "parameters": [{"name": "id", "key": "id", "in": "path", "required": true, "style": "simple", "schema": {"type": "integer"}}],
                "responses": ok(json!({"$ref": "#/$defs/Item"})),
            }),
        ),
        op("mine", "GET", "/items/mine", json!({"responses": ok(json!({"type": "string", "enum": ["mine"]}))})),
        op(
            "list",
            "GET",
            "/items",
            json!({
                "parameters": [
                    {"name": "limit", "key": "limit", "in": "query", "required": true, "style": "form", "schema": {"type": "integer", "maximum": 50}},
                    {"name": "kind", "key": "kind", "in": "query", "style": "form", "schema": {"type": "string", "enum": ["book", "pen"]}},
                    {"name": "ids", "key": "ids", "in": "query", "style": "form", "schema": {"type": "array", "items": {"type": "integer"}}},
                    {"name": "X-Trace", "key": "X-Trace", "in": "header", "required": true, "style": "simple", "schema": {"type": "string"}},
                    {"name": "sid", "key": "sid", "in": "cookie", "style": "form", "schema": {"type": "integer"}}
                ],
                "responses": ok(json!({"type": "object", "required": ["results", "nextCursor", "total"], "properties": {
                    "results": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
                    "nextCursor": {"oneOf": [{"type": "string"}, {"type": "boolean"}]},
                    "total": {"type": "integer", "minimum": 0}
                }}))
            }),
        ),
        op(
            "create",
            "POST",
            "/items",
            json!({
                "body": {"required": true, "media": [{"content_type": "application/json", "schema": {
                    "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "count": {"type": "integer"}}
                }}]},
                "responses": [
                    {"status": "400"},
                    {"status": "201", "media": [{"content_type": "application/json", "schema": {"$ref": "#/$defs/Item"},
                        "example": {"id": "fixed", "next_cursor": "string"}}]}
                ],
                "security": [[["key", []]], [["token", []]]]
            }),
        ),
        op(
            "upload",
            "POST",
            "/items/{id}/files",
            json!({
                "parameters": [{"name": "id", "key": "id", "in": "path", "required": true, "style": "simple", "schema": {"type": "string"}}],
                "body": {"required": true, "media": [{"content_type": "multipart/form-data", "schema": {
                    "type": "object", "required": ["file", "n"], "properties": {"file": {"type": "string", "format": "binary"}, "n": {"type": "integer"}}
                }}]},
                "responses": [{"status": "204"}]
            }),
        ),
    ];
    let ops: Vec<Arc<dyn Operation>> = metas
        .into_iter()
        .map(|mut m| {
            m.definitions = defs.clone();
            m.security_schemes = schemes.clone();
            Arc::new(HttpOperation::new(m)) as Arc<dyn Operation>
        })
        .collect();
    let registry = Arc::new(Registry::new());
    registry.register_operations("shop", "test".into(), ops).expect("registers");
    registry
}

fn request(method: Method, path_and_query: &str) -> Request {
    let url = url::Url::parse(&format!("{}{path_and_query}", base_url("shop"))).expect("url");
    Request::new("shop.items.x", method, url)
}

fn json_body(req: &mut Request, body: &str) {
    req.body = Payload::Bytes { content_type: "application/json".into(), data: Bytes::from(body.to_owned()) };
}

struct Answer {
    status: u16,
    headers: http::HeaderMap,
    body: Value,
    raw: Bytes,
}

fn send(mock: &MockTransport, req: &Request) -> Answer {
    let response = mock.respond(req).expect("the simulator answers");
    let ResponseBody::Full(raw) = response.body else { panic!("a buffered body") };
    let body = if raw.is_empty() { Value::Null } else { serde_json::from_slice(&raw).expect("json body") };
    Answer { status: response.status, headers: response.headers, body, raw }
}

fn valid_list() -> Request {
    let mut req = request(Method::Get, "/items?limit=5&kind=pen&ids=1&ids=2");
    req.headers.push(Pair::plain("X-Trace", "t1"));
    req.headers.push(Pair::plain("Cookie", "sid=4"));
    req
}

#[rstest]
#[case::literal_beats_template("/items/mine", 200, Some(json!("mine")))]
#[case::template_when_no_literal("/items/7", 200, None)]
#[case::encoded_value_is_decoded("/items/%37", 200, None)]
#[case::trailing_slash_is_significant("/items/7/", 404, None)]
#[case::no_path("/nothing/here", 404, None)]
#[case::too_deep("/items/7/8/9", 404, None)]
fn routes_match_like_prism(#[case] path: &str, #[case] status: u16, #[case] body: Option<Value>) {
    let mock = MockTransport::new(shop(), 1);
    let answer = send(&mock, &request(Method::Get, path));
    assert_eq!(answer.status, status, "{path}: {}", answer.body);
    if let Some(body) = body {
        assert_eq!(answer.body, body);
    }
    assert_eq!(answer.headers.get(SIMULATED_HEADER).map(|v| v.as_bytes()), Some(&b"true"[..]));
}

#[test]
fn a_path_without_the_method_is_405_with_allow() {
    let mock = MockTransport::new(shop(), 1);
    let answer = send(&mock, &request(Method::Delete, "/items"));
    assert_eq!(answer.status, 405);
    let allow = answer.headers.get("allow").and_then(|v| v.to_str().ok());
    assert_eq!(allow, Some("GET, POST"));
}

#[test]
fn a_wrong_path_type_is_422_naming_the_parameter() {
    let mock = MockTransport::new(shop(), 1);
    let answer = send(&mock, &request(Method::Get, "/items/abc"));
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["validation"][0]["location"], json!(["path", "id"]));
    assert_eq!(answer.body["validation"][0]["code"], "type");
}

#[test]
fn every_parameter_violation_is_listed() {
    let mock = MockTransport::new(shop(), 1);
    assert_eq!(send(&mock, &valid_list()).status, 200);
    let mut req = request(Method::Get, "/items?kind=car&ids=1&ids=x");
    req.headers.push(Pair::plain("Cookie", "sid=abc"));
    let answer = send(&mock, &req);
    assert_eq!(answer.status, 422);
    let mut locations: Vec<String> = answer.body["validation"]
        .as_array()
        .expect("validation list")
        .iter()
        .map(|i| {
            format!(
                "{}:{}",
                i["location"]
                    .as_array()
                    .expect("list")
                    .iter()
                    .map(|s| s.as_str().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("/"),
                i["code"].as_str().unwrap_or("")
            )
        })
        .collect();
    locations.sort();
    assert_eq!(
        locations,
        ["cookie/sid:type", "header/X-Trace:required", "query/ids/1:type", "query/kind:enum", "query/limit:required"]
    );
}

#[test]
fn secret_values_are_never_quoted_in_violations() {
    let mock = MockTransport::new(shop(), 1);
    let mut req = valid_list();
    req.headers.push(Pair::secret("Cookie", "sid=hunter2-secret"));
    req.headers.retain(|h| h.name != "Cookie" || h.sensitive);
    let answer = send(&mock, &req);
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["validation"][0]["location"], json!(["cookie", "sid"]));
    assert!(!String::from_utf8_lossy(&answer.raw).contains("hunter2"), "{}", answer.body);
}

#[test]
fn limits_in_query_are_checked_after_coercion() {
    let mock = MockTransport::new(shop(), 1);
    let mut req = valid_list();
    req.remove_query("limit");
    req.push_query("limit", "51");
    let answer = send(&mock, &req);
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["validation"][0]["code"], "maximum");
}

#[rstest]
#[case::no_credentials(vec![], None, 401)]
#[case::api_key(vec![Pair::secret("x-key", "k")], Some(r#"{"name":"a"}"#), 201)]
#[case::bearer(vec![Pair::secret("Authorization", "Bearer t")], Some(r#"{"name":"a"}"#), 201)]
#[case::basic_is_not_bearer(vec![Pair::secret("Authorization", "Basic dTpw")], Some(r#"{"name":"a"}"#), 401)]
#[case::missing_body(vec![Pair::secret("x-key", "k")], None, 400)]
#[case::body_breaks_schema(vec![Pair::secret("x-key", "k")], Some(r#"{"count":"x"}"#), 400)]
#[case::body_not_json(vec![Pair::secret("x-key", "k")], Some("{"), 400)]
fn creates_check_credentials_then_body(#[case] headers: Vec<Pair>, #[case] body: Option<&str>, #[case] status: u16) {
    let mock = MockTransport::new(shop(), 1);
    let mut req = request(Method::Post, "/items");
    req.headers = headers;
    if let Some(body) = body {
        json_body(&mut req, body);
    }
    let answer = send(&mock, &req);
    assert_eq!(answer.status, status, "{}", answer.body);
    if status == 401 {
        let challenge = answer.headers.get("www-authenticate").and_then(|v| v.to_str().ok());
        assert!(challenge.is_some_and(|v| v.contains("Bearer")), "{challenge:?}");
    }
    if status == 400 {
        assert!(!answer.body["validation"].as_array().expect("validation list").is_empty());
    }
    if status == 201 {
        // A new record: a fresh id, not the spec's example, with the posted
        // name laid over it. (This spec's item path takes integers while its
        // ids are uuids, so the record cannot be read back by its path here;
        // mock_state reads records back on the real specs.)
        assert_ne!(answer.body["id"], json!("fixed"));
        assert!(answer.body["id"].as_str().is_some_and(|id| id.len() == 36), "{}", answer.body);
        assert_eq!(answer.body["name"], json!("a"));
    }
}

#[test]
fn bodies_need_a_media_type_the_operation_takes() {
    let mock = MockTransport::new(shop(), 1);
    let mut req = request(Method::Post, "/items");
    req.headers.push(Pair::secret("x-key", "k"));
    req.body = Payload::Bytes { content_type: "text/plain".into(), data: Bytes::from_static(b"name=a") };
    // The operation declares a 400, which Prism prefers over its own 415.
    assert_eq!(send(&mock, &req).status, 400);
    let mut get = request(Method::Get, "/items/mine");
    json_body(&mut get, "{}");
    assert_eq!(send(&mock, &get).status, 415);
}

#[rstest]
#[case::json("application/json", 200)]
#[case::any("text/html, */*;q=0.1", 200)]
#[case::range("application/*", 200)]
#[case::none_offered("image/png", 406)]
fn accept_headers_are_negotiated(#[case] accept: &str, #[case] status: u16) {
    let mock = MockTransport::new(shop(), 1);
    let mut req = request(Method::Get, "/items/mine");
    req.headers.push(Pair::plain("Accept", accept.to_owned()));
    assert_eq!(send(&mock, &req).status, status);
}

#[test]
fn multipart_parts_are_typed_and_checked() {
    let mock = MockTransport::new(shop(), 1);
    let part = |name: &str, data: &'static [u8], filename: Option<&str>| Part {
        name: name.into(),
        filename: filename.map(str::to_owned),
        content_type: None,
        data: PartData::Bytes(Bytes::from_static(data)),
    };
    let mut req = request(Method::Post, "/items/a%20b/files");
    req.body = Payload::Multipart(vec![part("file", b"\x00\x01", Some("a.bin")), part("n", b"3", None)]);
    let answer = send(&mock, &req);
    assert_eq!((answer.status, answer.raw.len()), (204, 0));
    req.body = Payload::Multipart(vec![part("n", b"three", None)]);
    let answer = send(&mock, &req);
    assert_eq!(answer.status, 422);
    assert_eq!(answer.body["validation"].as_array().map(Vec::len), Some(2), "{}", answer.body);
}

#[test]
fn answers_are_deterministic_per_seed_and_request() {
    let registry = shop();
    let a = MockTransport::new(registry.clone(), 7);
    let b = MockTransport::new(registry.clone(), 7);
    let req = request(Method::Get, "/items/3");
    assert_eq!(send(&a, &req).raw, send(&b, &req).raw);
    let bodies: std::collections::HashSet<Bytes> =
        (0..8).map(|seed| send(&MockTransport::new(registry.clone(), seed), &req).raw).collect();
    assert!(bodies.len() > 1, "different seeds should vary the values");
}

#[test]
fn generated_answers_follow_the_response_schema() {
    let registry = shop();
    let meta = registry.get("shop.get").expect("op").meta().clone();
    let schema = meta.output_schema().expect("a response schema");
    let validator = jsonschema::draft202012::options().should_validate_formats(true).build(&schema).expect("compiles");
    for seed in 0..40 {
        let mock = MockTransport::new(registry.clone(), seed);
        let answer = send(&mock, &request(Method::Get, &format!("/items/{seed}")));
        let errors: Vec<String> = validator.iter_errors(&answer.body).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "seed {seed}: {errors:?} in {}", answer.body);
        assert!(["book", "pen"].contains(&answer.body["kind"].as_str().unwrap_or("")));
        assert!(answer.body["owner"]["email"].as_str().is_some_and(|e| e.contains('@')));
    }
}

#[test]
fn list_envelopes_end_paging() {
    let registry = shop();
    let mock = MockTransport::new(registry.clone(), 3);
    let answer = send(&mock, &valid_list());
    assert_eq!(answer.body["nextCursor"], json!(false));
    let items = answer.body["results"].as_array().map(Vec::len).expect("results");
    assert_eq!(answer.body["total"], json!(items));
}

#[tokio::test]
async fn streamed_delivery_yields_the_same_bytes() {
    use futures::StreamExt;
    let mock = MockTransport::new(shop(), 1);
    let req = request(Method::Get, "/items/mine");
    let response = mock.send(&req, Delivery::Streamed).await.expect("answers");
    let ResponseBody::Stream(mut stream) = response.body else { panic!("a stream") };
    let chunk = stream.next().await.expect("one chunk").expect("ok");
    assert_eq!(&chunk[..], b"\"mine\"");
}

#[test]
fn an_unknown_service_is_a_typed_error() {
    let mock = MockTransport::new(shop(), 1);
    let url = url::Url::parse(&format!("{}/items", base_url("shoq"))).expect("url");
    let err = mock.respond(&Request::new("shoq.x.y", Method::Get, url)).expect_err("unknown service");
    assert_eq!(err.kind(), opdeck::ErrorKind::NotFound);
    assert!(err.to_string().contains("shop"), "{err}");
}
