//! Credentials as values: [`Secret`], a credential that cannot leak by
//! accident, and [`LoginFlow`], how a service turns a username and password
//! into a token. Configuration and service profiles hold them; the auth
//! layer uses them.
//!
//! Configuration and sessions hold tokens and passwords for the whole life of
//! a deck, and both get printed (`{:?}` in a panic, a log line, an error). A
//! secret's value is therefore only reachable through [`Secret::expose`], a
//! name that stands out in review, and every formatting prints [`REDACTED`].

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{Method, REDACTED};

/// A credential (token, password, client secret).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::from(value.into()))
    }

    /// The credential itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the credential is the empty string (an unset value).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

/// Which call a flow makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An operation of the registry, by id; its method and path are used.
    Operation(String),
    /// A method and a path under the service's base URL.
    Path(Method, String),
}

/// Where the token is found in the login (or refresh) response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// A JSON pointer into the response body (`/access_token`).
    Json(String),
    /// A cookie the response sets (`sessionid`).
    Cookie(String),
}

/// Where the token goes in each later request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A header, the token after `prefix` (`Authorization`, `Bearer `).
    Header {
        /// The header name.
        name: String,
        /// What comes before the token, e.g. `Bearer `; empty for none.
        prefix: String,
    },
    /// A cookie of this name.
    Cookie(String),
}

/// A response that means the session is over and a new login is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    /// The HTTP status.
    pub status: u16,
    /// Text that must appear in a string of the JSON body (Zou answers 422
    /// with `Signature has expired`); `None` matches any body.
    pub message: Option<String>,
}

impl Expiry {
    /// Whether `status` and `body` match.
    pub fn matches(&self, status: u16, body: &Value) -> bool {
        status == self.status && self.message.as_deref().is_none_or(|m| contains_text(body, m))
    }
}

fn contains_text(body: &Value, needle: &str) -> bool {
    match body {
        Value::String(s) => s.contains(needle),
        Value::Array(items) => items.iter().any(|v| contains_text(v, needle)),
        Value::Object(map) => map.values().any(|v| contains_text(v, needle)),
        _ => false,
    }
}

/// How a service turns a username and password into a credential.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginFlow {
    /// The login call.
    pub login: Route,
    /// The JSON body key the username goes into (`email` for Kitsu).
    pub username_field: String,
    /// The JSON body key the password goes into.
    pub password_field: String,
    /// Fixed keys added to the login body (`{"authType": "basic"}`).
    pub extra: Map<String, Value>,
    /// Where the access token is in the login response.
    pub token: TokenSource,
    /// JSON pointer of a refresh token in the login response, if one is given.
    pub refresh_token: Option<String>,
    /// The call that trades the refresh token (sent where the access token
    /// goes) for a new access token, found at `token` in its response.
    pub refresh: Option<Route>,
    /// Where the token goes in later requests.
    pub placement: Placement,
    /// Responses that mean the session expired.
    pub expired: Vec<Expiry>,
    /// The security schemes this flow satisfies, by name; empty means all of
    /// the service's schemes.
    pub schemes: Vec<String>,
}

impl LoginFlow {
    /// A flow that posts `{"username", "password"}` to `login`, reads the
    /// token at `token` and sends it as `placement`; 401 means expired.
    pub fn new(login: Route, token: TokenSource, placement: Placement) -> Self {
        LoginFlow {
            login,
            username_field: "username".into(),
            password_field: "password".into(),
            extra: Map::new(),
            token,
            refresh_token: None,
            refresh: None,
            placement,
            expired: vec![Expiry { status: 401, message: None }],
            schemes: Vec::new(),
        }
    }

    /// Whether the flow can stand in for the scheme named `scheme`.
    pub fn covers(&self, scheme: &str) -> bool {
        self.schemes.is_empty() || self.schemes.iter().any(|s| s == scheme)
    }

    /// Whether a response means the session expired.
    pub fn is_expired(&self, status: u16, body: &Value) -> bool {
        self.expired.iter().any(|e| e.matches(status, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expiry_matches_status_and_message_anywhere_in_the_body() {
        let zou = Expiry { status: 422, message: Some("Signature has expired".into()) };
        assert!(zou.matches(422, &json!({"msg": "Signature has expired"})));
        assert!(!zou.matches(422, &json!({"msg": "bad input"})));
        assert!(!zou.matches(401, &json!({"msg": "Signature has expired"})));
        assert!(Expiry { status: 401, message: None }.matches(401, &Value::Null));
    }

    #[test]
    fn formatting_never_shows_the_value() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{:?}", Some(s.clone())), format!("Some({REDACTED})"));
        assert_eq!(s.expose(), "hunter2");
    }
}
