//! The loopback test server itself: recording, chunked bodies, queues, faults.

use std::io::{Read, Write};

use crate::support::{Reply, TestServer};

fn raw_roundtrip(url: &str, request: &[u8]) -> Vec<u8> {
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.write_all(request).expect("write");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn records_raw_bytes_and_dechunks_bodies() {
    let srv = TestServer::always(Reply::text("ok")).await;
    let url = srv.url();
    let raw = b"POST /a/b?x=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    let answer = tokio::task::spawn_blocking(move || raw_roundtrip(&url, raw)).await.expect("join");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok"), "{answer}");
    let req = srv.last();
    assert_eq!(req.method, "POST");
    assert_eq!(req.target, "/a/b?x=1");
    assert_eq!(req.path(), "/a/b");
    assert_eq!(req.query(), "x=1");
    assert_eq!(req.body, b"abcde");
    assert_eq!(req.raw, raw.to_vec());
    assert_eq!(req.header("HOST"), Some("h"));
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_answers_in_order_and_repeats_the_last() {
    let srv = TestServer::queue(vec![Reply::status(503), Reply::json(serde_json::json!({"n": 1}))]).await;
    let client = reqwest::Client::new();
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(client.get(srv.url()).body("xy").send().await.expect("send").status().as_u16());
    }
    assert_eq!(statuses, [503, 200, 200]);
    assert_eq!(srv.hits(), 3);
    assert!(srv.requests().iter().all(|r| r.body == b"xy"));
}

#[tokio::test(flavor = "multi_thread")]
async fn close_mid_body_breaks_the_read() {
    let srv = TestServer::always(Reply::text("0123456789").close_mid_body()).await;
    let resp = reqwest::get(srv.url()).await.expect("headers arrive");
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.bytes().await.is_err());
}
