//! Request bodies on the wire: JSON, forms, multipart with streamed files, raw files, text.

use std::io::Write;

use opdeck::{CallOptions, Error};
use serde_json::{Value, json};

use crate::support::{Harness, Reply, TestServer, meta};

fn post(media: Value) -> opdeck::OperationMeta {
    meta(json!({"method": "POST", "path": "/up", "body": {"required": true, "media": media}}))
}

async fn send(media: Value, body: Value, options: CallOptions) -> crate::support::RecordedRequest {
    let srv = TestServer::always(Reply::status(204)).await;
    let h = Harness::quick(post(media), &srv.url()).with_options(options);
    h.call(json!({ "body": body })).await.expect("call succeeds");
    srv.last()
}

fn temp_file(name: &str, content: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    std::fs::File::create(&path).and_then(|mut f| f.write_all(content)).expect("write fixture");
    (dir, path)
}

#[tokio::test(flavor = "multi_thread")]
async fn json_bodies_are_sent_as_json() {
    let req =
        send(json!([{"content_type": "application/json"}]), json!({"name": "x", "n": 1}), CallOptions::default()).await;
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.body_text(), r#"{"name":"x","n":1}"#);
    assert_eq!(req.header("content-length"), Some("18"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_caller_picks_among_offered_types() {
    let media = json!([{"content_type": "application/json"}, {"content_type": "application/x-www-form-urlencoded"}]);
    let options = CallOptions { content_type: Some("application/x-www-form-urlencoded".into()), ..Default::default() };
    let req = send(media.clone(), json!({"a": "b c", "list": [1, 2]}), options).await;
    assert_eq!(req.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(req.body_text(), "a=b+c&list=1&list=2");

    let srv = TestServer::always(Reply::status(204)).await;
    let options = CallOptions { content_type: Some("text/csv".into()), ..Default::default() };
    let h = Harness::quick(post(media), &srv.url()).with_options(options);
    let err = h.call(json!({"body": {"a": 1}})).await.expect_err("not offered");
    assert!(matches!(err, Error::Usage { .. }), "{err}");
    assert!(err.to_string().contains("application/json, application/x-www-form-urlencoded"), "{err}");
    assert_eq!(srv.hits(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn text_bodies_are_sent_verbatim() {
    let req = send(json!([{"content_type": "text/plain"}]), json!("héllo\nworld"), CallOptions::default()).await;
    assert_eq!(req.header("content-type"), Some("text/plain"));
    assert_eq!(req.body, "héllo\nworld".as_bytes());
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_binary_from_a_string_or_a_streamed_file() {
    let media = json!([{"content_type": "application/octet-stream", "schema": {"type": "string", "format": "binary"}}]);
    let req = send(media.clone(), json!("raw bytes"), CallOptions::default()).await;
    assert_eq!(req.header("content-type"), Some("application/octet-stream"));
    assert_eq!(req.body, b"raw bytes");

    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (_dir, path) = temp_file("blob.bin", &content);
    let req = send(media, json!({"path": path}), CallOptions::default()).await;
    assert_eq!(req.header("content-length"), Some("300000"));
    assert_eq!(req.body.len(), content.len());
    assert!(req.body == content, "file bytes differ on the wire");

    let (_dir, path) = temp_file("photo.png", b"\x89PNG");
    let req = send(json!([{"content_type": "image/*"}]), json!({"path": path}), CallOptions::default()).await;
    assert_eq!(req.header("content-type"), Some("image/png"));
    assert_eq!(req.body, b"\x89PNG");
}

#[tokio::test(flavor = "multi_thread")]
async fn multipart_streams_files_and_types_each_part() {
    let (_dir, path) = temp_file("report.txt", b"line one\nline two\n");
    let media = json!([{
        "content_type": "multipart/form-data",
        "schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"},
            "inline": {"type": "string", "format": "binary"},
            "title": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "count": {"type": "integer"}
        }},
        "encoding": {"inline": {"contentType": "image/png"}}
    }]);
    let body = json!({
        "file": {"path": path},
        "inline": "PNGDATA",
        "title": "Q3 report",
        "tags": ["a", "b"],
        "count": 3
    });
    let req = send(media, body, CallOptions::default()).await;
    let ct = req.header("content-type").expect("content type").to_owned();
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").expect("boundary");
    let part = |headers: &str, data: &str| format!("--{boundary}\r\n{headers}\r\n\r\n{data}\r\n");
    let expected = [
        part(
            "Content-Disposition: form-data; name=\"file\"; filename=\"report.txt\"\r\nContent-Type: text/plain",
            "line one\nline two\n",
        ),
        part(
            "Content-Disposition: form-data; name=\"inline\"; filename=\"inline\"\r\nContent-Type: image/png",
            "PNGDATA",
        ),
        part("Content-Disposition: form-data; name=\"title\"", "Q3 report"),
        part("Content-Disposition: form-data; name=\"tags\"\r\nContent-Type: application/json", "[\"a\",\"b\"]"),
        part("Content-Disposition: form-data; name=\"count\"", "3"),
        format!("--{boundary}--\r\n"),
    ]
    .concat();
    assert_eq!(req.body_text(), expected);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_upload_fails_before_sending() {
    let srv = TestServer::always(Reply::status(204)).await;
    let h = Harness::quick(post(json!([{"content_type": "application/octet-stream"}])), &srv.url());
    let err = h.call(json!({"body": {"path": "/nonexistent/opdeck/file.bin"}})).await.expect_err("missing file");
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert_eq!(srv.hits(), 0);
}

/// Finding 1 (issue 16): a response of arrays nested 100 deep, under the
/// body cap, took 150× its size to decode. Over the JSON budget it is a
/// decode error naming the operation.
#[test]
fn finding_1_a_json_response_over_the_budget_is_a_decode_error() {
    let nest = format!("{}{}", "[".repeat(100), "]".repeat(100));
    let body = bytes::Bytes::from(format!("[{}]", vec![nest.as_str(); 20_000].join(",")));
    // Parsed, or handed over raw for a binding to parse: the budget holds for both.
    for raw_json in [false, true] {
        let err = opdeck::wire::response::decode_body("t.g.op", Some("application/json"), body.clone(), raw_json)
            .expect_err("over budget");
        assert!(
            matches!(&err, opdeck::Error::Decode { operation, message } if operation == "t.g.op" && message.contains("budget")),
            "{err}"
        );
    }
    let fine = bytes::Bytes::from(r#"[[1],[2]]"#);
    let parsed = opdeck::wire::response::decode_body("t.g.op", Some("application/json"), fine.clone(), false);
    assert_eq!(parsed.expect("parsed"), opdeck::Body::Json(serde_json::json!([[1], [2]])));
    let raw = opdeck::wire::response::decode_body("t.g.op", Some("application/json"), fine.clone(), true);
    assert_eq!(raw.expect("raw"), opdeck::Body::RawJson(fine));
}
