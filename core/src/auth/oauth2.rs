//! OAuth2 password and client-credentials grants, with refresh.
//!
//! Tokens are fetched from the token URL with a form-encoded body. The client
//! authenticates with HTTP basic when it has a secret (RFC 6749 §2.3.1: every
//! server must accept that), else it sends `client_id` in the body as a public
//! client. A relative token URL (`/oauth/token` in DRACOON's spec) is resolved
//! against the service's base URL, so it lands on the tenant's host.

use base64::Engine as _;
use serde_json::Value;

use super::Host;
use super::Secret;
use super::session::{Session, endpoint, exchange};
use crate::error::{Error, Result};
use crate::model::Method;
use crate::wire::{Pair, Payload, Request};

/// Which grant obtains the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum GrantKind {
    /// `grant_type=password` with the configured user.
    Password {
        /// The username.
        username: String,
        /// The password.
        password: Secret,
    },
    /// `grant_type=client_credentials`.
    ClientCredentials,
}

/// Everything needed to fetch a token, decided without network I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) kind: GrantKind,
    /// Absolute, or relative to the base URL.
    pub(crate) token_url: String,
    pub(crate) client_id: Option<String>,
    pub(crate) client_secret: Option<Secret>,
    /// The scopes of the security requirement, joined by spaces when sent.
    pub(crate) scopes: Vec<String>,
}

/// Fetches a new token with the grant.
pub(crate) async fn fetch(ctx: &dyn Host, service: &str, grant: &Grant) -> Result<Session> {
    let mut form: Vec<(&str, String)> = Vec::new();
    match &grant.kind {
        GrantKind::Password { username, password } => {
            form.push(("grant_type", "password".into()));
            form.push(("username", username.clone()));
            form.push(("password", password.expose().to_owned()));
        }
        GrantKind::ClientCredentials => form.push(("grant_type", "client_credentials".into())),
    }
    if !grant.scopes.is_empty() {
        form.push(("scope", grant.scopes.join(" ")));
    }
    let answer = post(ctx, service, grant, form).await?;
    session_from(service, grant, answer.0, &answer.1, None)
}

/// Trades the session's refresh token for a new one; `None` when there is no
/// refresh token or the server refused it (the caller then fetches anew).
pub(crate) async fn refresh(ctx: &dyn Host, service: &str, grant: &Grant, old: &Session) -> Option<Session> {
    let token = old.refresh.as_ref()?;
    let form = vec![("grant_type", "refresh_token".to_owned()), ("refresh_token", token.expose().to_owned())];
    let (status, body) = post(ctx, service, grant, form).await.ok()?;
    session_from(service, grant, status, &body, Some(token)).ok()
}

async fn post(ctx: &dyn Host, service: &str, grant: &Grant, mut form: Vec<(&str, String)>) -> Result<(u16, Value)> {
    let url = endpoint(ctx, service, &grant.token_url, true)?;
    let mut request = Request::new(format!("{service} oauth2 token"), Method::Post, url);
    request.headers.push(Pair::plain("Accept", "application/json"));
    match (&grant.client_id, &grant.client_secret) {
        (Some(id), Some(secret)) => {
            let pair = format!("{}:{}", form_encode(id), form_encode(secret.expose()));
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            request.headers.push(Pair::secret("Authorization", format!("Basic {encoded}")));
        }
        (Some(id), None) => form.push(("client_id", id.clone())),
        _ => {}
    }
    // The serializer is not `Send`, so it must be gone before the await.
    let encoded = {
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &form {
            body.append_pair(k, v);
        }
        body.finish()
    };
    request.body =
        Payload::Bytes { content_type: "application/x-www-form-urlencoded".into(), data: encoded.into_bytes().into() };
    let answer = exchange(ctx, service, &request).await?;
    Ok((answer.status, answer.body))
}

/// RFC 6749 §2.3.1 form-encodes the client id and secret before basic auth.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn session_from(service: &str, grant: &Grant, status: u16, body: &Value, keep: Option<&Secret>) -> Result<Session> {
    let fail = |message: String| Error::Auth { service: service.to_owned(), message };
    if !(200..300).contains(&status) {
        // The `error` code is defined by RFC 6749 and never holds a credential.
        let code = body.get("error").and_then(Value::as_str).map(|c| format!(" ({c})")).unwrap_or_default();
        return Err(fail(format!("the token endpoint {} answered http status {status}{code}", grant.token_url)));
    }
    let access = body.get("access_token").and_then(Value::as_str).filter(|t| !t.is_empty());
    let Some(access) = access else {
        return Err(fail(format!("the token endpoint {} answered without an access_token", grant.token_url)));
    };
    let refresh = body.get("refresh_token").and_then(Value::as_str).map(Secret::new).or_else(|| keep.cloned());
    let expires_in = body.get("expires_in").and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()));
    Ok(Session::new(Secret::new(access), refresh, expires_in))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grant() -> Grant {
        Grant {
            kind: GrantKind::ClientCredentials,
            token_url: "/oauth/token".into(),
            client_id: Some("id".into()),
            client_secret: None,
            scopes: Vec::new(),
        }
    }

    #[test]
    fn token_responses_give_access_refresh_and_expiry() {
        let body = json!({"access_token": "a", "refresh_token": "r", "expires_in": "3600"});
        let s = session_from("dracoon", &grant(), 200, &body, None).expect("session");
        assert_eq!((s.access.expose(), s.refresh.as_ref().map(Secret::expose)), ("a", Some("r")));
        assert!(s.renew_at.is_some() && s.is_fresh());
        let kept = Secret::new("old-refresh");
        let s = session_from("dracoon", &grant(), 200, &json!({"access_token": "b"}), Some(&kept)).expect("session");
        assert_eq!(s.refresh.as_ref().map(Secret::expose), Some("old-refresh"));
    }

    #[test]
    fn refused_grants_name_the_endpoint_and_the_error_code_only() {
        let body = json!({"error": "invalid_grant", "error_description": "user x"});
        let err = session_from("dracoon", &grant(), 400, &body, None).expect_err("refused");
        assert_eq!(
            err.to_string(),
            "authentication for service `dracoon` failed: the token endpoint /oauth/token answered http status 400 \
             (invalid_grant)"
        );
    }
}
