//! The one error type of the crate.
//!
//! Every failure a caller can see is a variant of [`Error`]. Bindings map each
//! [`ErrorKind`] to their own exception class, so the kinds are stable and the
//! enum is `#[non_exhaustive]`. Messages are lowercase and never contain a
//! secret: URLs are stripped of their query string before they are stored, and
//! credential values never enter an error.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

/// A `Result` whose error is opdeck's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One rule of an input or request that was broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Where in the input the rule was broken, as a JSON pointer (`""` is the root).
    pub path: String,
    /// What is wrong, in lowercase words.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        write!(f, "{path}: {}", self.message)
    }
}

/// Everything that can go wrong in opdeck.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No operation has this id; `suggestions` holds the closest known ids.
    #[error("unknown operation `{id}`{}", suggest(.suggestions))]
    UnknownOperation {
        /// The id that was asked for.
        id: String,
        /// Known ids that are close to it, best first.
        suggestions: Vec<String>,
    },
    /// A service name that no source registered.
    #[error("unknown service `{service}`{}", suggest(.suggestions))]
    UnknownService {
        /// The service that was asked for.
        service: String,
        /// Known services that are close to it.
        suggestions: Vec<String>,
    },
    /// An API description that cannot be used, with the JSON pointer of the fault.
    #[error("unusable spec at {}: {message}", if .pointer.is_empty() { "/" } else { .pointer })]
    Spec {
        /// JSON pointer into the document (`""` is the root).
        pointer: String,
        /// What is wrong there.
        message: String,
    },
    /// The input of an operation broke its schema. Every violation is listed.
    #[error("invalid input for `{operation}`: {}", join(.violations))]
    Validation {
        /// The operation id.
        operation: String,
        /// Every broken rule, not only the first.
        violations: Vec<Violation>,
    },
    /// The server answered with a status outside 2xx. The message ends with
    /// the server's own reason when its body gives one ([`server_message`]).
    #[error("`{operation}` failed with http status {status}{}", reason(.body))]
    Status {
        /// The operation id.
        operation: String,
        /// The HTTP status code.
        status: u16,
        /// The decoded response body (JSON, or a string for text), boxed so
        /// that every `Result` of the crate stays small.
        body: Box<Value>,
        /// The request id the server gave, if any (`X-Request-Id` and similar).
        request_id: Option<String>,
        /// The response headers (lowercase names, repeated values joined),
        /// credentials never among them: servers do not echo request headers.
        headers: Box<serde_json::Map<String, Value>>,
    },
    /// The request could not be sent or the response could not be read.
    #[error("`{operation}`: transport error: {message}")]
    Transport {
        /// The operation id.
        operation: String,
        /// What failed, with no URL query and no credential in it.
        message: String,
    },
    /// The connect timeout or the call's deadline ran out. The message
    /// states the real time the call took and how many tries it made.
    #[error("`{operation}` timed out after {} ({}; the limit is {})", secs(.elapsed), count_tries(*.tries), secs(.after))]
    Timeout {
        /// The operation id.
        operation: String,
        /// The limit that ran out: the call's deadline, or the connect or
        /// per-try timeout when it ran out first.
        after: Duration,
        /// How many times the request was sent (retries included).
        tries: u32,
        /// How long the call ran, from its start to the timeout.
        elapsed: Duration,
    },
    /// Credentials are missing, rejected, or a login flow failed.
    #[error("authentication for service `{service}` failed: {message}")]
    Auth {
        /// The service whose credentials are at fault.
        service: String,
        /// What went wrong; never the secret itself.
        message: String,
    },
    /// A response body did not match its declared content type.
    #[error("`{operation}`: cannot decode response: {message}")]
    Decode {
        /// The operation id.
        operation: String,
        /// What could not be decoded.
        message: String,
    },
    /// Configuration (file, profile or environment) is missing or wrong.
    #[error("configuration error: {message}")]
    Config {
        /// What is missing or wrong, and where.
        message: String,
    },
    /// The caller used the API wrongly (bad argument, wrong context).
    #[error("{message}")]
    Usage {
        /// What was wrong with the call.
        message: String,
    },
    /// Reading or writing a local file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A Rhai script failed; the position is the script's own.
    #[error("{message}")]
    Script {
        /// The message, already carrying file, line and column.
        message: String,
        /// The operation that failed inside the script, if one did.
        operation: Option<String>,
        /// The HTTP status of that failure, if any.
        status: Option<u16>,
    },
    /// An operation a host registered (a Python or Lua function, a native
    /// closure) failed. `cause` is the host's own error, for the host that
    /// registered it to raise again as it was (a binding downcasts it).
    #[error("`{operation}` failed: {message}")]
    Plugin {
        /// The operation id.
        operation: String,
        /// What the host's error says, already without secrets.
        message: String,
        /// The host's error itself.
        #[source]
        cause: std::sync::Arc<dyn std::error::Error + Send + Sync>,
    },
    /// A policy of the deck refused the call before anything was sent.
    #[error("`{operation}` was refused by policy: {rule}")]
    Policy {
        /// The operation id.
        operation: String,
        /// The rule that refused it, as configured (`deny kitsu.*.delete*`, `read-only`).
        rule: String,
    },
    /// opdeck itself failed (a runtime that would not start, a task that
    /// panicked): not the caller's fault, and worth a bug report.
    #[error("internal error: {message}")]
    Internal {
        /// What failed.
        message: String,
    },
    /// A script or pagination exceeded a configured limit.
    #[error("limit exceeded: {limit} ({detail})")]
    Limit {
        /// The limit's name, as it is configured.
        limit: String,
        /// The value that was exceeded.
        detail: String,
    },
}

/// The kind of an [`Error`], stable for bindings and exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`Error::UnknownOperation`] and [`Error::UnknownService`].
    NotFound,
    /// See [`Error::Spec`].
    Spec,
    /// See [`Error::Validation`].
    Validation,
    /// See [`Error::Status`].
    Status,
    /// See [`Error::Transport`].
    Transport,
    /// See [`Error::Timeout`].
    Timeout,
    /// See [`Error::Auth`].
    Auth,
    /// See [`Error::Decode`].
    Decode,
    /// See [`Error::Config`].
    Config,
    /// See [`Error::Usage`].
    Usage,
    /// See [`Error::Io`].
    Io,
    /// See [`Error::Script`] and [`Error::Plugin`].
    Script,
    /// See [`Error::Limit`].
    Limit,
    /// See [`Error::Policy`].
    Policy,
    /// See [`Error::Internal`].
    Internal,
}

impl Error {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnknownOperation { .. } | Error::UnknownService { .. } => ErrorKind::NotFound,
            Error::Spec { .. } => ErrorKind::Spec,
            Error::Validation { .. } => ErrorKind::Validation,
            Error::Status { .. } => ErrorKind::Status,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Auth { .. } => ErrorKind::Auth,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::Config { .. } => ErrorKind::Config,
            Error::Usage { .. } => ErrorKind::Usage,
            Error::Io { .. } => ErrorKind::Io,
            Error::Script { .. } | Error::Plugin { .. } => ErrorKind::Script,
            Error::Limit { .. } => ErrorKind::Limit,
            Error::Policy { .. } => ErrorKind::Policy,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// Whether a timeout ended the call.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            Error::Script { status, .. } => *status,
            _ => None,
        }
    }

    /// The operation id the error belongs to, when there is one.
    pub fn operation(&self) -> Option<&str> {
        match self {
            Error::UnknownOperation { id: operation, .. }
            | Error::Validation { operation, .. }
            | Error::Status { operation, .. }
            | Error::Transport { operation, .. }
            | Error::Timeout { operation, .. }
            | Error::Decode { operation, .. }
            | Error::Policy { operation, .. }
            | Error::Plugin { operation, .. } => Some(operation),
            Error::Script { operation, .. } => operation.as_deref(),
            _ => None,
        }
    }

    /// The decoded body of an error answer.
    pub fn body(&self) -> Option<&Value> {
        match self {
            Error::Status { body, .. } => Some(body),
            _ => None,
        }
    }

    /// The headers of an error answer.
    pub fn headers(&self) -> Option<&serde_json::Map<String, Value>> {
        match self {
            Error::Status { headers, .. } => Some(headers),
            _ => None,
        }
    }

    /// Every broken rule of an invalid input (empty for other errors).
    pub fn violations(&self) -> &[Violation] {
        match self {
            Error::Validation { violations, .. } => violations,
            _ => &[],
        }
    }

    /// The closest known names to an unknown one (empty for other errors).
    pub fn suggestions(&self) -> &[String] {
        match self {
            Error::UnknownOperation { suggestions, .. } | Error::UnknownService { suggestions, .. } => suggestions,
            _ => &[],
        }
    }

    /// A JSON description of the error, as the CLI prints it on stderr.
    pub fn to_json(&self) -> Value {
        let mut out = serde_json::json!({
            "kind": self.kind(),
            "message": self.to_string(),
        });
        let obj = out.as_object_mut().expect("json! object literal");
        if let Some(op) = self.operation() {
            obj.insert("operation".into(), op.into());
        }
        match self {
            Error::Status { status, body, request_id, .. } => {
                obj.insert("status".into(), (*status).into());
                obj.insert("body".into(), (**body).clone());
                if let Some(id) = request_id {
                    obj.insert("request_id".into(), id.clone().into());
                }
            }
            Error::Validation { violations, .. } => {
                obj.insert("violations".into(), serde_json::to_value(violations).unwrap_or_default());
            }
            Error::UnknownOperation { suggestions, .. } | Error::UnknownService { suggestions, .. } => {
                obj.insert("suggestions".into(), suggestions.clone().into());
            }
            _ => {}
        }
        out
    }

    /// Shorthand for a [`Error::Usage`].
    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage { message: message.into() }
    }

    /// Shorthand for an [`Error::Internal`].
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal { message: message.into() }
    }

    /// Shorthand for a [`Error::Config`].
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config { message: message.into() }
    }

    /// Shorthand for a [`Error::Spec`].
    pub fn spec(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Spec { pointer: pointer.into(), message: message.into() }
    }

    /// A spec error that names the file or URL it came from (`source`, as
    /// it may be shown: a URL redacted); other errors are returned as they are.
    pub fn in_spec_source(self, source: &str) -> Self {
        match self {
            Error::Spec { pointer, message } => Error::Spec { pointer, message: format!("{message} (in {source})") },
            other => other,
        }
    }

    /// Shorthand for an [`Error::Io`] on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

impl Error {
    /// A timeout of one try of `operation` after `after` (the call fills in
    /// the real tries and elapsed time when the error leaves it).
    pub fn timeout(operation: impl Into<String>, after: Duration) -> Self {
        Error::Timeout { operation: operation.into(), after, tries: 1, elapsed: after }
    }
}

/// The longest server message an error carries, in characters.
const MAX_SERVER_MESSAGE: usize = 200;

/// The server's own reason in an error answer, on one line and at most 200
/// characters: the first of its JSON `message`, `error`, `detail`, `title`,
/// `error_description` (or `error.message`, `errors[0].message`) that is
/// text, else a text body that is not an HTML page. Servers put prose there
/// for people ("Wrong email or password."), never the request's credentials.
pub fn server_message(body: &Value) -> Option<String> {
    let text = match body {
        Value::String(s) => {
            let head = s.trim_start().get(..15).unwrap_or_default().to_ascii_lowercase();
            if head.starts_with("<!doctype html") || head.starts_with("<html") {
                return None;
            }
            s.as_str()
        }
        Value::Object(map) => {
            let nested = |key: &str| match map.get(key) {
                Some(Value::Object(inner)) => inner.get("message").and_then(Value::as_str),
                Some(Value::Array(items)) => items.first().and_then(|i| i.get("message")).and_then(Value::as_str),
                _ => None,
            };
            ["message", "error", "detail", "title", "error_description"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str).filter(|s| !s.trim().is_empty()))
                .or_else(|| nested("error"))
                .or_else(|| nested("errors"))?
        }
        _ => return None,
    };
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        return None;
    }
    if line.chars().count() <= MAX_SERVER_MESSAGE {
        return Some(line);
    }
    let cut: String = line.chars().take(MAX_SERVER_MESSAGE - 1).collect();
    Some(format!("{}…", cut.trim_end()))
}

fn reason(body: &Value) -> String {
    server_message(body).map(|m| format!(": {m}")).unwrap_or_default()
}

/// A duration in seconds, as people read it (`5s`, `0.25s`, `180.2s`).
fn secs(d: &Duration) -> String {
    let s = d.as_secs_f64();
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if s < 10.0 {
        format!("{s:.2}s")
    } else {
        format!("{s:.1}s")
    }
}

fn count_tries(n: u32) -> String {
    if n == 1 { "1 try".to_owned() } else { format!("{n} tries") }
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", "))
    }
}

fn join(violations: &[Violation]) -> String {
    violations.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_operation_names_the_id_and_suggestions() {
        let err = Error::UnknownOperation {
            id: "wildduck.users.getUser".into(),
            suggestions: vec!["wildduck.users.getUsers".into()],
        };
        assert_eq!(
            err.to_string(),
            "unknown operation `wildduck.users.getUser`; did you mean `wildduck.users.getUsers`?"
        );
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    #[test]
    fn validation_lists_every_violation_with_its_path() {
        let err = Error::Validation {
            operation: "x.y.z".into(),
            violations: vec![
                Violation { path: "/body/name".into(), message: "is required".into() },
                Violation { path: "".into(), message: "unknown key `foo`".into() },
            ],
        };
        assert_eq!(err.to_string(), "invalid input for `x.y.z`: /body/name: is required; /: unknown key `foo`");
        assert_eq!(err.to_json()["violations"][0]["path"], "/body/name");
    }

    #[test]
    fn status_error_json_carries_operation_status_and_body() {
        let err = Error::Status {
            operation: "kitsu.projects.get".into(),
            status: 404,
            body: Box::new(serde_json::json!({"message": "not found"})),
            request_id: Some("abc".into()),
            headers: Box::default(),
        };
        let json = err.to_json();
        assert_eq!(json["operation"], "kitsu.projects.get");
        assert_eq!(json["status"], 404);
        assert_eq!(json["body"]["message"], "not found");
        assert_eq!(json["request_id"], "abc");
        assert_eq!(err.status(), Some(404));
        assert_eq!(err.to_string(), "`kitsu.projects.get` failed with http status 404: not found");
    }

    /// Issue 14, finding 3: the error line carries the server's own reason.
    #[test]
    fn the_server_message_is_found_where_servers_put_it_and_kept_short() {
        let m = |v: Value| server_message(&v);
        assert_eq!(
            m(serde_json::json!({"error": true, "message": "Wrong email or password."})).as_deref(),
            Some("Wrong email or password.")
        );
        assert_eq!(m(serde_json::json!({"error": "invalid_grant"})).as_deref(), Some("invalid_grant"));
        assert_eq!(m(serde_json::json!({"detail": "Not found."})).as_deref(), Some("Not found."));
        assert_eq!(m(serde_json::json!({"title": "Bad Request", "status": 400})).as_deref(), Some("Bad Request"));
        assert_eq!(m(serde_json::json!({"error": {"code": 7, "message": "quota"}})).as_deref(), Some("quota"));
        assert_eq!(
            m(serde_json::json!({"errors": [{"message": "first"}, {"message": "second"}]})).as_deref(),
            Some("first")
        );
        assert_eq!(m(Value::String("  upstream\n timed   out ".into())).as_deref(), Some("upstream timed out"));
        assert_eq!(m(Value::String("<!DOCTYPE html><html>…".into())), None);
        assert_eq!(m(serde_json::json!({"id": 3})), None);
        assert_eq!(m(Value::Null), None);
        let long = m(Value::String("é".repeat(500))).expect("text");
        assert_eq!(long.chars().count(), MAX_SERVER_MESSAGE);
        assert!(long.ends_with('…'));
    }
}
