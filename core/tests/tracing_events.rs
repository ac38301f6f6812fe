//! Tracing events in a process of their own: which callsites are enabled is
//! decided process-wide, so a test that records events must not share its
//! process with tests running on other threads without a subscriber.

use std::sync::Arc;
use std::time::Duration;

use opdeck::{Builtins, CallOptions, Deck};

#[allow(dead_code)]
#[path = "support/server.rs"]
mod server;
use serde_json::json;

const PETS: &str = r#"{"openapi": "3.0.3", "info": {"title": "pets", "version": "1"},
  "paths": {"/pets": {"get": {"operationId": "listPets", "tags": ["pets"],
    "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
    "responses": {"200": {"description": "ok"}}}}}}"#;

/// Records every field of every event, as text.
#[derive(Default, Clone)]
struct Recorder(Arc<std::sync::Mutex<Vec<String>>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl tracing::Subscriber for Recorder {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut line = String::new();
        event.record(&mut Fields(&mut line));
        self.0.lock().expect("lock").push(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Findings 7 and 8 (issue 16), tracing: the per-call event of
/// `Context::call` carries no credential of the base URL.
#[tokio::test]
async fn finding_7_tracing_events_carry_no_secret() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let deck = Deck::builder().builtins(Builtins::None).build().expect("deck");
    deck.add_source("pets", PETS, Some("http://admin:SECRETPW@127.0.0.1:9")).await.expect("pets");
    let short = CallOptions { timeout: Some(Duration::from_secs(5)), ..CallOptions::default() };
    let _ = deck.call_with("pets.pets.listPets", json!({"limit": 2}), &short).await.expect_err("nothing listens");
    let events = recorder.0.lock().expect("lock").clone();
    assert!(events.iter().any(|e| e.contains("pets.pets.listPets")), "{events:?}");
    assert!(!events.iter().any(|e| e.contains("SECRETPW")), "{events:?}");
}

/// Issue 14, `-v`: each try emits an `opdeck::wire` "request" event with
/// the headers as every rendering shows them (the token redacted) and a
/// "response" event with the status and the answer's headers.
#[tokio::test]
async fn each_try_emits_its_headers_redacted() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    // The test's own runtime: the recorder is this thread's subscriber.
    let deck = Deck::builder()
        .builtins(Builtins::None)
        .runtime(tokio::runtime::Handle::current())
        .mock(true)
        .token("pets", "SECRET-KEY-1")
        .build()
        .expect("deck");
    let spec = PETS.replace(r#""responses""#, r#""security": [{"key": []}], "responses""#).replace(
        r#""paths""#,
        r#""components": {"securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}}, "paths""#,
    );
    deck.add_source("pets", &spec, None).await.expect("pets");
    let _ = deck.call("pets.pets.listPets", json!({"limit": 2})).await.expect("simulated");
    let events = recorder.0.lock().expect("lock").clone();
    let request =
        events.iter().find(|e| e.contains("message=request")).unwrap_or_else(|| panic!("a request event: {events:?}"));
    assert!(request.contains("method=\"GET\"") && request.contains("/pets?limit=2"), "{request}");
    assert!(request.contains("X-Api-Key: <redacted>"), "{request}");
    let response = events.iter().find(|e| e.contains("message=response")).expect("a response event");
    assert!(response.contains("status=200"), "{response}");
    assert!(!events.iter().any(|e| e.contains("SECRET-KEY-1")), "{events:?}");
}

/// `-v` shows the login a call makes, as it shows the call: the login
/// request and its answer, with the password (in the body) never shown.
#[tokio::test]
async fn a_login_emits_its_request_and_response_events() {
    let server = server::TestServer::start(|req| match req.path() {
        "/auth/login" => server::Reply::json(json!({"access_token": "TOKEN-1", "refresh_token": "r1"})),
        _ => server::Reply::json(json!([])),
    })
    .await;
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let deck = Deck::builder()
        .builtins(Builtins::Only(vec!["kitsu".into()]))
        .runtime(tokio::runtime::Handle::current())
        .base_url("kitsu", &server.url())
        .login("kitsu", "admin@example.com", "PASSWORD-1")
        .build()
        .expect("deck");
    deck.call("kitsu.projects.list", json!({})).await.expect("listed");
    let events = recorder.0.lock().expect("lock").clone();
    let requests: Vec<&String> = events.iter().filter(|e| e.contains("message=request")).collect();
    assert_eq!(requests.len(), 2, "{events:?}");
    assert!(requests[0].contains("method=\"POST\"") && requests[0].contains("/auth/login"), "{events:?}");
    assert!(requests[1].contains("kitsu.projects.list"), "{events:?}");
    assert_eq!(events.iter().filter(|e| e.contains("message=response")).count(), 2, "{events:?}");
    assert!(!events.iter().any(|e| e.contains("PASSWORD-1") || e.contains("TOKEN-1")), "{events:?}");
}
