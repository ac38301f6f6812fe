//! Transport on the wire: redirects and credentials, retries, timeouts, downloads, errors, events.

use std::time::{Duration, Instant};

use futures::StreamExt;
use opdeck::model::Method;
use opdeck::wire::client::HttpTransport;
use opdeck::wire::{Delivery, Pair, Payload, Request, Transport};
use opdeck::{Body, CallOptions, Error};
use serde_json::json;

use crate::support::call::quick_settings;
use crate::support::{Harness, Reply, TestServer, meta};

fn request_with_secrets(method: Method, url: &str) -> Request {
    let mut r = Request::new("t.g.op", method, url::Url::parse(url).expect("url"));
    r.headers.push(Pair::secret("Authorization", "Bearer TOKEN"));
    r.headers.push(Pair::plain("Cookie", "sid=COOKIE"));
    r.headers.push(Pair::secret("X-Api-Key", "KEY"));
    r.headers.push(Pair::plain("X-Trace", "t1"));
    r.set_secret_query("access_token", "QTOKEN");
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn same_origin_redirects_keep_credentials() {
    let srv =
        TestServer::start(|r| if r.path() == "/a" { Reply::redirect(302, "/b") } else { Reply::text("ok") }).await;
    let transport = HttpTransport::with_settings(&quick_settings()).expect("transport");
    let resp =
        transport.send(&request_with_secrets(Method::Get, &format!("{}/a", srv.url())), Delivery::Buffered).await;
    assert_eq!(resp.expect("sent").status, 200);
    let second = &srv.requests()[1];
    assert_eq!(second.target, "/b");
    assert_eq!(second.header("authorization"), Some("Bearer TOKEN"));
    assert_eq!(second.header("cookie"), Some("sid=COOKIE"));
    assert_eq!(second.header("x-api-key"), Some("KEY"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_origin_redirects_drop_credentials() {
    let other = TestServer::always(Reply::text("landed")).await;
    let target = format!("{}/elsewhere?access_token=QTOKEN&page=2", other.url());
    let first = TestServer::always(Reply::redirect(307, &target)).await;
    let transport = HttpTransport::with_settings(&quick_settings()).expect("transport");
    let mut req = request_with_secrets(Method::Put, &format!("{}/a", first.url()));
    req.body = Payload::Bytes { content_type: "application/json".into(), data: bytes::Bytes::from("{\"x\":1}") };
    let resp = transport.send(&req, Delivery::Buffered).await.expect("sent");
    assert_eq!(resp.status, 200);
    assert_eq!(first.last().target, "/a?access_token=QTOKEN");
    let landed = other.last();
    assert_eq!(landed.method, "PUT", "307 keeps the method");
    assert_eq!(landed.body, b"{\"x\":1}", "307 keeps the body");
    assert_eq!(landed.target, "/elsewhere?page=2");
    for h in ["authorization", "cookie", "x-api-key"] {
        assert_eq!(landed.header(h), None, "{h} crossed origins");
    }
    assert_eq!(landed.header("x-trace"), Some("t1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn see_other_turns_into_a_get_without_body() {
    let srv =
        TestServer::start(|r| if r.path() == "/a" { Reply::redirect(303, "/b") } else { Reply::text("ok") }).await;
    let transport = HttpTransport::with_settings(&quick_settings()).expect("transport");
    let mut req = Request::new("t.g.op", Method::Post, url::Url::parse(&format!("{}/a", srv.url())).expect("url"));
    req.body = Payload::Bytes { content_type: "text/plain".into(), data: bytes::Bytes::from("payload") };
    transport.send(&req, Delivery::Buffered).await.expect("sent");
    let second = &srv.requests()[1];
    assert_eq!((second.method.as_str(), second.body.len()), ("GET", 0));
    assert_eq!(second.header("content-type"), None);
    let srv =
        TestServer::start(|r| if r.path() == "/a" { Reply::redirect(308, "/b") } else { Reply::text("ok") }).await;
    let mut req = req.clone();
    req.url = url::Url::parse(&format!("{}/a", srv.url())).expect("url");
    transport.send(&req, Delivery::Buffered).await.expect("sent");
    let second = &srv.requests()[1];
    assert_eq!((second.method.as_str(), second.body.as_slice()), ("POST", b"payload".as_slice()));
}

#[tokio::test(flavor = "multi_thread")]
async fn redirect_loops_stop() {
    let srv = TestServer::always(Reply::redirect(302, "/again")).await;
    let err = Harness::quick(meta(json!({"path": "/x"})), &srv.url()).call(json!({})).await.expect_err("loop");
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    assert_eq!(srv.hits(), 11, "a redirect loop is not retried");
}

#[tokio::test(flavor = "multi_thread")]
async fn idempotent_calls_retry_on_503_until_success() {
    let srv = TestServer::queue(vec![Reply::status(503), Reply::status(503), Reply::json(json!({"ok": true}))]).await;
    let out = Harness::quick(meta(json!({"path": "/x"})), &srv.url()).call(json!({})).await.expect("third try");
    assert_eq!(out.body, Body::Json(json!({"ok": true})));
    assert_eq!(srv.hits(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_give_up_after_the_configured_count() {
    let srv = TestServer::always(Reply::status(502)).await;
    let err = Harness::quick(meta(json!({"path": "/x"})), &srv.url()).call(json!({})).await.expect_err("gives up");
    assert_eq!(err.status(), Some(502));
    assert_eq!(srv.hits(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_are_not_retried_unless_forced() {
    let srv = TestServer::queue(vec![Reply::status(503), Reply::status(503), Reply::status(204)]).await;
    let h = Harness::quick(meta(json!({"method": "POST", "path": "/x"})), &srv.url());
    assert_eq!(h.call(json!({})).await.expect_err("no retry").status(), Some(503));
    assert_eq!(srv.hits(), 1);
    let h = h.with_options(CallOptions { force_retry: true, ..Default::default() });
    assert_eq!(h.call(json!({})).await.expect("forced retries").status, 204);
    assert_eq!(srv.hits(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn gets_the_profile_marks_unsafe_are_not_retried() {
    let srv = TestServer::queue(vec![Reply::status(503), Reply::status(204)]).await;
    let m = meta(json!({"id": "selfprivacy.system.reboot", "service": "selfprivacy", "path": "/system/reboot"}));
    let err = Harness::quick(m, &srv.url()).call(json!({})).await.expect_err("not retried");
    assert_eq!(err.status(), Some(503));
    assert_eq!(srv.hits(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn retry_after_is_honoured_and_capped() {
    let srv = TestServer::queue(vec![Reply::status(429).header("retry-after", "1"), Reply::status(204)]).await;
    let h = Harness::quick(meta(json!({"path": "/x"})), &srv.url());
    let start = Instant::now();
    assert_eq!(h.call(json!({})).await.expect("after waiting").status, 204);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(950), "waited only {waited:?}");

    let srv = TestServer::queue(vec![Reply::status(503).header("retry-after", "3600"), Reply::status(204)]).await;
    let mut settings = quick_settings();
    settings.max_backoff = Duration::from_millis(200);
    let h = Harness::new(meta(json!({"path": "/x"})), &srv.url(), settings);
    let start = Instant::now();
    assert_eq!(h.call(json!({})).await.expect("capped wait").status, 204);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(190) && waited < Duration::from_secs(3), "waited {waited:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_server_hits_the_total_timeout() {
    let srv = TestServer::always(Reply::text("late").delay(Duration::from_secs(3))).await;
    let mut settings = quick_settings();
    settings.timeout = Duration::from_millis(300);
    settings.retries = 0;
    let start = Instant::now();
    let err =
        Harness::new(meta(json!({"path": "/x"})), &srv.url(), settings).call(json!({})).await.expect_err("timeout");
    assert!(matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(300)), "{err}");
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_backlog_hits_the_connect_timeout() {
    // A listener that never accepts, with its backlog filled, leaves new SYNs unanswered.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
    let addr = socket.local_addr().expect("addr");
    let _listener = socket.listen(1).expect("listen");
    let mut fillers = Vec::new();
    for _ in 0..8 {
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(100), tokio::net::TcpStream::connect(addr)).await
        {
            fillers.push(s);
        }
    }
    let mut settings = quick_settings();
    settings.connect_timeout = Duration::from_millis(300);
    settings.retries = 0;
    let err = Harness::new(meta(json!({"path": "/x"})), &format!("http://{addr}"), settings)
        .call(json!({}))
        .await
        .expect_err("connect timeout");
    assert!(matches!(err, Error::Timeout { after, .. } if after == Duration::from_millis(300)), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn transport_errors_never_show_the_url_or_its_secrets() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let transport = HttpTransport::with_settings(&quick_settings()).expect("transport");
    let req = request_with_secrets(Method::Get, &format!("http://127.0.0.1:{port}/x"));
    let err = transport.send(&req, Delivery::Buffered).await.expect_err("refused");
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    let text = format!("{err} {err:?}");
    assert!(!text.contains("QTOKEN") && !text.contains("TOKEN") && !text.contains("/x"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn non_2xx_is_a_typed_error_with_body_and_request_id() {
    let srv = TestServer::always(
        Reply::json(json!({"error": "no such user"})).with_status(404).header("x-request-id", "req-42"),
    )
    .await;
    let err = Harness::quick(meta(json!({"path": "/x"})), &srv.url()).call(json!({})).await.expect_err("404");
    let Error::Status { operation, status, body, request_id, .. } = err else { panic!("status error expected") };
    assert_eq!((operation.as_str(), status), ("t.g.op", 404));
    assert_eq!(*body, json!({"error": "no such user"}));
    assert_eq!(request_id.as_deref(), Some("req-42"));

    let srv = TestServer::always(Reply::text("plain failure").with_status(500).header("x-correlation-id", "c-1")).await;
    let mut settings = quick_settings();
    settings.retries = 0;
    let err = Harness::new(meta(json!({"path": "/x"})), &srv.url(), settings).call(json!({})).await.expect_err("500");
    assert!(
        matches!(&err, Error::Status { body, request_id: Some(id), .. } if **body == "plain failure" && id == "c-1")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn responses_decode_by_content_type() {
    let srv = TestServer::queue(vec![
        Reply::text("hello"),
        Reply::status(200).header("content-type", "application/octet-stream").body(vec![0u8, 159, 146, 150]),
        Reply::status(204),
        Reply::status(200).header("content-type", "application/json").body("{broken"),
    ])
    .await;
    let h = Harness::quick(meta(json!({"path": "/x"})), &srv.url());
    assert_eq!(h.call(json!({})).await.expect("text").body, Body::Text("hello".into()));
    assert_eq!(
        h.call(json!({})).await.expect("bytes").body,
        Body::Bytes(bytes::Bytes::from_static(&[0, 159, 146, 150]))
    );
    assert_eq!(h.call(json!({})).await.expect("empty").body, Body::Empty);
    let err = h.call(json!({})).await.expect_err("bad json");
    assert!(matches!(&err, Error::Decode { operation, .. } if operation == "t.g.op"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_over_the_cap_are_refused_with_a_hint() {
    let srv = TestServer::always(Reply::text(&"x".repeat(5000))).await;
    let mut settings = quick_settings();
    settings.max_body_bytes = 1000;
    let err = Harness::new(meta(json!({"path": "/x"})), &srv.url(), settings).call(json!({})).await.expect_err("cap");
    assert!(matches!(err, Error::Limit { .. }), "{err}");
    assert!(err.to_string().contains("--out"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn downloads_stream_into_place() {
    let content: Vec<u8> = (0..2_000_000u32).map(|i| (i % 253) as u8).collect();
    let srv =
        TestServer::always(Reply::status(200).header("content-type", "application/zip").body(content.clone())).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("archive.zip");
    let mut settings = quick_settings();
    settings.max_body_bytes = 1000; // the cap is for memory; downloads bypass it
    let h = Harness::new(meta(json!({"path": "/x"})), &srv.url(), settings)
        .with_options(CallOptions { download_to: Some(target.clone()), ..Default::default() });
    let out = h.call(json!({})).await.expect("download");
    assert_eq!(out.body, Body::File { path: target.clone(), bytes: content.len() as u64 });
    assert!(std::fs::read(&target).expect("file") == content);
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 1, "no temp file left");
}

#[tokio::test(flavor = "multi_thread")]
async fn interrupted_downloads_leave_nothing_behind() {
    let srv = TestServer::always(Reply::status(200).body(vec![7u8; 100_000]).close_mid_body()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let target = dir.path().join("part.bin");
    let mut settings = quick_settings();
    settings.retries = 0;
    let h = Harness::new(meta(json!({"path": "/x"})), &srv.url(), settings)
        .with_options(CallOptions { download_to: Some(target.clone()), ..Default::default() });
    let err = h.call(json!({})).await.expect_err("interrupted");
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(!target.exists());
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "a temp file was left");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_arrive_as_parsed_server_sent_events() {
    let wire = "id: 1\nevent: message\ndata: {\"n\":1}\n\n: keepalive\n\ndata: two\ndata: lines\n\n";
    let srv = TestServer::always(Reply::status(200).header("content-type", "text/event-stream").body(wire)).await;
    let h = Harness::quick(
        meta(json!({"path": "/users/{user}/updates",
        "parameters": [{"name": "user", "key": "user", "in": "path", "required": true, "style": "simple"}]})),
        &srv.url(),
    );
    let events: Vec<_> = h.op.events(&h.ctx, json!({"user": "u1"})).await.expect("stream").collect().await;
    let events: Vec<_> = events.into_iter().map(|e| e.expect("event")).collect();
    assert_eq!(events.len(), 2);
    assert_eq!((events[0].id.as_deref(), events[0].data.as_str()), (Some("1"), "{\"n\":1}"));
    assert_eq!(events[1].data, "two\nlines");
    let req = srv.last();
    assert_eq!(req.target, "/users/u1/updates");
    assert_eq!(req.header("accept"), Some("text/event-stream"));
}

#[tokio::test(flavor = "multi_thread")]
async fn prepare_matches_what_invoke_sends_and_renders_as_curl() {
    let srv = TestServer::always(Reply::json(json!({}))).await;
    let m = meta(json!({"method": "POST", "path": "/items/{id}",
        "parameters": [
            {"name": "id", "key": "id", "in": "path", "required": true, "style": "simple"},
            {"name": "q", "key": "q", "in": "query", "style": "form", "explode": true}
        ],
        "body": {"media": [{"content_type": "application/json"}]}}));
    let h = Harness::quick(m, &srv.url());
    let input = json!({"id": "a b", "q": "x", "body": {"k": 1}});
    let prepared = h.op.prepare(&h.ctx, &input).await.expect("prepare");
    assert_eq!(srv.hits(), 0);
    h.call(input).await.expect("invoke");
    let sent = srv.last();
    assert_eq!(prepared.url.as_str(), format!("{}{}", srv.url(), sent.target));
    let cmd = opdeck::wire::curl::render(&prepared);
    assert!(cmd.contains(&format!("'{}/items/a%20b?q=x'", srv.url())), "{cmd}");
    assert!(cmd.contains("--data-binary '{\"k\":1}'"), "{cmd}");
}

fn api_key_meta(path: &str) -> opdeck::OperationMeta {
    let mut m = meta(json!({"path": path, "security": [[["key", []]]]}));
    let scheme =
        opdeck::model::SecurityScheme::ApiKey { name: "api_key".into(), location: opdeck::model::Location::Query };
    m.security_schemes = std::sync::Arc::new([("key".to_owned(), scheme)].into_iter().collect());
    m
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_go_on_the_wire_but_never_into_dry_runs_or_other_origins() {
    let other = TestServer::always(Reply::text("landed")).await;
    let srv = TestServer::start({
        let to = format!("{}/landing?api_key=S3CRET&x=1", other.url());
        move |r| if r.path() == "/away" { Reply::redirect(302, &to) } else { Reply::json(json!({})) }
    })
    .await;
    let service = opdeck::config::ServiceConfig {
        base_url: Some(srv.url()),
        token: Some(opdeck::auth::Secret::new("S3CRET")),
        ..Default::default()
    };
    let h = Harness::with_service(api_key_meta("/items"), service.clone(), quick_settings());
    h.call(json!({})).await.expect("call");
    assert_eq!(srv.last().target, "/items?api_key=S3CRET");

    let prepared = h.op.prepare(&h.ctx, &json!({})).await.expect("prepare");
    let cmd = opdeck::wire::curl::render(&prepared);
    assert!(!cmd.contains("S3CRET") && cmd.contains("api_key=<redacted>"), "{cmd}");
    assert!(!format!("{prepared:?}").contains("S3CRET"));

    let h = Harness::with_service(api_key_meta("/away"), service, quick_settings());
    h.call(json!({})).await.expect("redirected call");
    assert_eq!(srv.last().target, "/away?api_key=S3CRET");
    assert_eq!(other.last().target, "/landing?x=1");
}

/// A harness whose operation is registered, so calls go through
/// `Context::call` (the one call every front end ends in).
fn registered(meta_fields: serde_json::Value, base_url: &str, settings: opdeck::config::HttpSettings) -> Harness {
    let h = Harness::new(meta(meta_fields.clone()), base_url, settings);
    let op: std::sync::Arc<dyn opdeck::Operation> =
        std::sync::Arc::new(opdeck::engine::HttpOperation::new(meta(meta_fields)));
    h.ctx.registry().register_operations("t", "test".into(), vec![op]).expect("registered");
    h
}

/// A server that sends a chunked body one byte every `pause`, for a minute.
async fn drip(pause: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let head =
                    "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n";
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..600 {
                    tokio::time::sleep(pause).await;
                    if stream.write_all(b"1\r\na\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// Finding 4 (issue 16): with `--out`, the timeout bounded each read only,
/// so a drip of one byte per read ran far past it. The configured timeout is
/// now the whole call's deadline, download included, and nothing partial is
/// left behind.
#[tokio::test(flavor = "multi_thread")]
async fn finding_4_the_deadline_bounds_a_dripping_download() {
    let url = drip(Duration::from_millis(50)).await;
    let dir = tempfile::tempdir().expect("dir");
    let target = dir.path().join("out.bin");
    let mut settings = quick_settings();
    settings.timeout = Duration::from_millis(800);
    let h = registered(json!({"path": "/file"}), &url, settings)
        .with_options(CallOptions { download_to: Some(target.clone()), ..Default::default() });
    let start = Instant::now();
    let err = h.ctx.call("t.g.op", json!({})).await.expect_err("the deadline");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(3), "ran {took:?}");
    let Error::Timeout { after, tries, elapsed, .. } = &err else { panic!("not a timeout: {err}") };
    assert_eq!((*after, *tries), (Duration::from_millis(800), 1), "{err}");
    assert!(*elapsed >= Duration::from_millis(800), "{err}");
    assert!(!target.exists(), "no partial file");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "no temporary file left");
}

/// Finding 10 (issue 16): the timeout error said "timed out after 60s"
/// after 180 s of tries. It now states the real elapsed time and the tries.
#[tokio::test(flavor = "multi_thread")]
async fn finding_10_a_timeout_states_the_real_time_and_the_tries() {
    let srv = TestServer::queue(vec![
        Reply::status(503),
        Reply::status(503),
        Reply::text("late").delay(Duration::from_secs(5)),
    ])
    .await;
    let mut settings = quick_settings();
    settings.timeout = Duration::from_millis(600);
    let h = registered(json!({"path": "/x"}), &srv.url(), settings);
    let err = h.ctx.call("t.g.op", json!({})).await.expect_err("the deadline");
    let Error::Timeout { tries, elapsed, .. } = &err else { panic!("not a timeout: {err}") };
    assert_eq!(*tries, 3, "{err}");
    assert!(*elapsed >= Duration::from_millis(600), "{err}");
    let text = err.to_string();
    assert!(text.contains("3 tries") && text.contains("the limit is 0.60s"), "{text}");

    // A per-call deadline (CLI --timeout) wins over the configured one.
    let srv = TestServer::always(Reply::text("late").delay(Duration::from_secs(3))).await;
    let h = registered(json!({"path": "/x"}), &srv.url(), quick_settings())
        .with_options(CallOptions { timeout: Some(Duration::from_millis(300)), ..Default::default() });
    let start = Instant::now();
    let err = h.ctx.call("t.g.op", json!({})).await.expect_err("the deadline");
    assert!(start.elapsed() < Duration::from_secs(2) && err.is_timeout(), "{err}");
}
