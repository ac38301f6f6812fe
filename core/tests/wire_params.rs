//! Parameters on the wire: every OAS style × explode × shape × location, and path safety.

use opdeck::Error;
use rstest::rstest;
use serde_json::{Value, json};

use crate::support::{Harness, RecordedRequest, Reply, TestServer, meta};

fn s() -> Value {
    json!("blue")
}
fn a() -> Value {
    json!(["blue", "black", "brown"])
}
fn o() -> Value {
    json!({"R": 100, "G": 200, "B": 150})
}

/// Sends one parameter `color` and returns what the server received.
async fn send_one(location: &str, style: &str, explode: bool, value: Value) -> RecordedRequest {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let name = if location == "header" { "X-Color" } else { "color" };
    let path = if location == "path" { "/p/{color}" } else { "/p" };
    let m = meta(json!({
        "path": path,
        "parameters": [{"name": name, "key": "color", "in": location, "required": true, "style": style, "explode": explode}]
    }));
    let h = Harness::quick(m, &srv.url());
    h.call(json!({ "color": value })).await.expect("call succeeds");
    srv.last()
}

#[rstest]
#[case("simple", false, s(), "/p/blue")]
#[case("simple", false, a(), "/p/blue,black,brown")]
#[case("simple", false, o(), "/p/R,100,G,200,B,150")]
#[case("simple", true, s(), "/p/blue")]
#[case("simple", true, a(), "/p/blue,black,brown")]
#[case("simple", true, o(), "/p/R=100,G=200,B=150")]
#[case("label", false, s(), "/p/.blue")]
#[case("label", false, a(), "/p/.blue.black.brown")]
#[case("label", false, o(), "/p/.R.100.G.200.B.150")]
#[case("label", true, s(), "/p/.blue")]
#[case("label", true, a(), "/p/.blue.black.brown")]
#[case("label", true, o(), "/p/.R=100.G=200.B=150")]
#[case("matrix", false, s(), "/p/;color=blue")]
#[case("matrix", false, a(), "/p/;color=blue,black,brown")]
#[case("matrix", false, o(), "/p/;color=R,100,G,200,B,150")]
#[case("matrix", true, s(), "/p/;color=blue")]
#[case("matrix", true, a(), "/p/;color=blue;color=black;color=brown")]
#[case("matrix", true, o(), "/p/;R=100;G=200;B=150")]
#[tokio::test(flavor = "multi_thread")]
async fn path_styles(#[case] style: &str, #[case] explode: bool, #[case] value: Value, #[case] target: &str) {
    assert_eq!(send_one("path", style, explode, value).await.target, target);
}

#[rstest]
#[case("form", false, s(), "color=blue")]
#[case("form", false, a(), "color=blue,black,brown")]
#[case("form", false, o(), "color=R,100,G,200,B,150")]
#[case("form", true, s(), "color=blue")]
#[case("form", true, a(), "color=blue&color=black&color=brown")]
#[case("form", true, o(), "R=100&G=200&B=150")]
#[case("spaceDelimited", false, a(), "color=blue%20black%20brown")]
#[case("spaceDelimited", false, o(), "color=R%20100%20G%20200%20B%20150")]
#[case("spaceDelimited", true, a(), "color=blue&color=black&color=brown")]
#[case("pipeDelimited", false, a(), "color=blue|black|brown")]
#[case("pipeDelimited", false, o(), "color=R|100|G|200|B|150")]
#[case("pipeDelimited", true, a(), "color=blue&color=black&color=brown")]
#[case("deepObject", true, o(), "color[R]=100&color[G]=200&color[B]=150")]
#[case("form", true, json!(5), "color=5")]
#[case("form", true, json!(1.0), "color=1")]
#[case("form", true, json!(2.5), "color=2.5")]
#[case("form", true, json!(true), "color=true")]
#[case("form", true, json!("a b&c=d+é"), "color=a%20b%26c%3Dd%2B%C3%A9")]
#[case("form", false, json!(["a,b", "c"]), "color=a%2Cb,c")]
#[tokio::test(flavor = "multi_thread")]
async fn query_styles(#[case] style: &str, #[case] explode: bool, #[case] value: Value, #[case] query: &str) {
    let req = send_one("query", style, explode, value).await;
    assert_eq!(req.target, format!("/p?{query}"));
}

#[rstest]
#[case(false, s(), "blue")]
#[case(false, a(), "blue,black,brown")]
#[case(false, o(), "R,100,G,200,B,150")]
#[case(true, s(), "blue")]
#[case(true, a(), "blue,black,brown")]
#[case(true, o(), "R=100,G=200,B=150")]
#[tokio::test(flavor = "multi_thread")]
async fn header_styles(#[case] explode: bool, #[case] value: Value, #[case] header: &str) {
    let req = send_one("header", "simple", explode, value).await;
    assert_eq!(req.header("x-color"), Some(header));
}

#[rstest]
#[case(false, s(), "color=blue")]
#[case(false, a(), "color=blue,black,brown")]
#[case(false, o(), "color=R,100,G,200,B,150")]
#[case(true, s(), "color=blue")]
#[case(true, a(), "color=blue; color=black; color=brown")]
#[case(true, o(), "R=100; G=200; B=150")]
#[tokio::test(flavor = "multi_thread")]
async fn cookie_styles(#[case] explode: bool, #[case] value: Value, #[case] cookie: &str) {
    let req = send_one("cookie", "form", explode, value).await;
    assert_eq!(req.header("cookie"), Some(cookie));
}

#[rstest]
#[case("../admin", "/api/p/..%2Fadmin")]
#[case("a/b", "/api/p/a%2Fb")]
#[case("x?y=1#z", "/api/p/x%3Fy%3D1%23z")]
#[case("100%", "/api/p/100%25")]
#[case("two words", "/api/p/two%20words")]
#[case("naïve/ü", "/api/p/na%C3%AFve%2F%C3%BC")]
#[case("@evil.example:80", "/api/p/%40evil.example%3A80")]
#[case("%2E%2e", "/api/p/%252E%252e")]
#[tokio::test(flavor = "multi_thread")]
async fn path_values_stay_in_their_segment_under_the_base_path(#[case] value: &str, #[case] target: &str) {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let m = meta(json!({
        "path": "/p/{id}",
        "parameters": [{"name": "id", "key": "id", "in": "path", "required": true, "style": "simple"}]
    }));
    let h = Harness::quick(m, &format!("{}/api/", srv.url()));
    h.call(json!({ "id": value })).await.expect("call succeeds");
    assert_eq!(srv.last().target, target);
}

#[rstest]
#[case("simple", "..")]
#[case("simple", ".")]
#[case("label", ".")]
#[tokio::test(flavor = "multi_thread")]
async fn dot_segments_are_refused_before_sending(#[case] style: &str, #[case] value: &str) {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let m = meta(json!({
        "path": "/p/{id}",
        "parameters": [{"name": "id", "key": "id", "in": "path", "required": true, "style": style}]
    }));
    let err = Harness::quick(m, &srv.url()).call(json!({ "id": value })).await.expect_err("refused");
    assert!(matches!(err, Error::Validation { .. }), "{err}");
    assert_eq!(srv.hits(), 0);
}

#[rstest]
#[case("a\r\nX-Injected: 1")]
#[case("a\nb")]
#[case("a\rb")]
#[tokio::test(flavor = "multi_thread")]
async fn header_line_breaks_are_rejected_naming_the_parameter(#[case] value: &str) {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let m = meta(json!({
        "path": "/h",
        "parameters": [{"name": "X-Note", "key": "note", "in": "header", "style": "simple"}]
    }));
    let err = Harness::quick(m, &srv.url()).call(json!({ "note": value })).await.expect_err("rejected");
    let Error::Validation { violations, .. } = &err else { panic!("validation error expected, got {err}") };
    assert_eq!(violations[0].path, "/note");
    assert!(violations[0].message.contains("X-Note"), "{err}");
    assert_eq!(srv.hits(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_reserved_and_open_query_and_omitted_optionals() {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let m = meta(json!({
        "path": "/q",
        "open_query": true,
        "parameters": [
            {"name": "filter", "key": "filter", "in": "query", "style": "form", "explode": true, "allow_reserved": true},
            {"name": "absent", "key": "absent", "in": "query", "style": "form", "explode": true}
        ]
    }));
    let h = Harness::quick(m, &srv.url());
    h.call(json!({"filter": "a/b:c,d", "project_id": "p 1", "done": false})).await.expect("call");
    assert_eq!(srv.last().target, "/q?filter=a/b:c,d&project_id=p%201&done=false");
}
