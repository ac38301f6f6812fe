//! Dry runs (`Deck::prepare`, what every binding's `prepare` returns): secrets by schema and by name, no invented credentials, placeholder base URLs.

use opdeck::{Config, Deck};
use serde_json::json;

/// A service whose secrets are marked only by their schemas.
const VAULT: &str = r##"{
  "openapi": "3.0.3", "info": {"title": "vault", "version": "1"},
  "components": {
    "schemas": {"Pin": {"type": "string", "writeOnly": true}},
    "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Vault-Key"}}
  },
  "security": [{"key": []}],
  "paths": {
    "/accounts": {
      "post": {"operationId": "open", "tags": ["accounts"],
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
          "owner": {"type": "string"},
          "word": {"type": "string", "format": "password"},
          "pin": {"$ref": "#/components/schemas/Pin"},
          "extra": {"type": "array", "items": {"type": "object", "properties": {"answer": {"type": "string", "writeOnly": true}}}},
          "clientSecret": {"type": "string"}
        }}}}},
        "responses": {"201": {"description": "made"}}}
    }
  }
}"##;

fn vault(config: Config) -> Deck {
    let deck = Deck::empty(config).expect("deck");
    deck.add_document("vault", VAULT.as_bytes(), "test", Some("http://127.0.0.1:9")).expect("added");
    deck
}

fn input() -> serde_json::Value {
    json!({"body": {"owner": "ann", "word": "W0RD-1", "pin": "PIN-2", "extra": [{"answer": "ANSWER-3"}], "clientSecret": "CS-4"}})
}

#[test]
fn secrets_marked_by_schema_or_named_like_secrets_are_redacted_in_the_prepared_request() {
    let deck = vault(Config::default());
    let request = deck.prepare("vault.accounts.open", &input()).expect("prepared");
    let shown = format!("{}\n{request:?}", request.curl());
    for secret in ["W0RD-1", "PIN-2", "ANSWER-3", "CS-4"] {
        assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
    }
    assert!(shown.contains(r#""owner":"ann""#), "{shown}");
}

#[test]
fn prepare_validates_the_real_input_not_the_redacted_one() {
    let deck = vault(Config::default());
    let err = deck.prepare("vault.accounts.open", &json!({"body": {"word": 7}})).expect_err("a number is no string");
    assert_eq!(err.kind(), opdeck::ErrorKind::Validation, "{err}");
}

#[test]
fn no_credential_header_is_shown_when_none_is_configured() {
    let request = vault(Config::default()).prepare("vault.accounts.open", &input()).expect("prepared");
    assert!(!request.curl().contains("X-Vault-Key"), "{}", request.curl());
}

#[test]
fn a_configured_credential_is_shown_redacted() {
    let mut config = Config::default();
    config.services.entry("vault".into()).or_default().token = Some(opdeck::Secret::new("KEY-5"));
    let request = vault(config).prepare("vault.accounts.open", &input()).expect("prepared");
    let curl = request.curl();
    assert!(curl.contains("X-Vault-Key: <redacted>") && !curl.contains("KEY-5"), "{curl}");
}

#[test]
fn a_builtin_service_without_a_url_is_prepared_against_its_placeholder() {
    let deck = Deck::builtin(Config::default()).expect("deck");
    let request = deck.prepare("dracoon.users.requestUsers", &json!({})).expect("prepared without a url");
    assert!(request.curl().contains("https://tenant.example/api/v4/users"), "{}", request.curl());
    // A real call still says the url is missing.
    let err = deck.call_blocking("dracoon.users.requestUsers", json!({})).expect_err("no url");
    assert!(err.to_string().contains("no base url"), "{err}");
}
