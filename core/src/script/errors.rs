//! Errors across the script boundary.
//!
//! Inside a script, a failed call is a catchable error object: the same
//! fields as [`Error::to_json`] (`kind`, `message`, `operation`, `status`,
//! `body`, ...), so `try { .. } catch (e) { e.status }` reads naturally.
//! Outside, an uncaught error becomes one [`Error`]: limits become
//! [`Error::Limit`] named like the [`Limits`] field, everything else
//! [`Error::Script`] with the script's file, line and column in front and the
//! failing call's id and status kept.

use rhai::{Dynamic, EvalAltResult, Map, ParseError, Position};

use super::convert;
use super::limits::{Limits, MEMORY_TOKEN, WALL_TIME_TOKEN};
use crate::error::Error;

/// The error object a script sees for `err`.
pub(crate) fn to_dynamic(err: &Error) -> Dynamic {
    convert::to_dynamic(err.to_json())
}

/// `err` raised as a catchable Rhai error.
pub(crate) fn throw(err: &Error) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(to_dynamic(err), Position::NONE).into()
}

/// Raised when the wall time ran out during a call; not catchable, like
/// Rhai's own limit errors.
pub(crate) fn wall_time_exceeded() -> Box<EvalAltResult> {
    EvalAltResult::ErrorTerminated(Dynamic::from(WALL_TIME_TOKEN), Position::NONE).into()
}

fn location(file: &str, pos: Position) -> String {
    match (pos.line(), pos.position()) {
        (Some(line), Some(col)) => format!("{file}:{line}:{col}"),
        (Some(line), None) => format!("{file}:{line}"),
        _ => file.to_owned(),
    }
}

/// A script that did not compile.
pub(crate) fn from_parse(err: ParseError, file: &str) -> Error {
    let ParseError(kind, pos) = err;
    Error::Script { message: format!("{}: syntax error: {kind}", location(file, pos)), operation: None, status: None }
}

/// An uncaught Rhai error as opdeck's error.
pub(crate) fn from_eval(err: Box<EvalAltResult>, file: &str, limits: &Limits) -> Error {
    // Walk down the call chain: the innermost frame says where it failed,
    // the outer ones which functions it went through.
    let mut err = err;
    let mut pos = Position::NONE;
    let mut frames = Vec::new();
    loop {
        if !err.position().is_none() {
            pos = err.position();
        }
        match *err {
            EvalAltResult::ErrorInFunctionCall(name, _, inner, _) => {
                frames.push(name);
                err = inner;
            }
            EvalAltResult::ErrorInModule(_, inner, _) => err = inner,
            _ => break,
        }
    }
    let at = location(file, pos);
    let via = if frames.is_empty() { String::new() } else { format!(" (in function `{}`)", frames.join("` → `")) };
    let limit = |name: &str, what: String| Error::Limit {
        limit: name.to_owned(),
        detail: format!("{what}, configured {}, at {at}", limits.describe(name)),
    };
    match *err {
        EvalAltResult::ErrorTooManyOperations(_) => limit("max_operations", "too many operations".into()),
        EvalAltResult::ErrorStackOverflow(_) => limit("max_call_depth", "calls nested too deep".into()),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let name = if what.contains("string") {
                "max_string_size"
            } else if what.contains("array") {
                "max_array_size"
            } else {
                "max_map_size"
            };
            limit(name, format!("{} too large", what.to_lowercase()))
        }
        EvalAltResult::ErrorTerminated(token, _)
            if token.clone().into_string().ok().as_deref() == Some(WALL_TIME_TOKEN) =>
        {
            limit("wall_time", "the script ran out of time".into())
        }
        EvalAltResult::ErrorTerminated(token, _)
            if token.clone().into_string().ok().as_deref() == Some(MEMORY_TOKEN) =>
        {
            limit("max_memory", "the script's values take too much memory".into())
        }
        EvalAltResult::ErrorRuntime(value, _) => from_thrown(value, &at, &via),
        mut other => {
            let _ = other.take_position();
            let message = lowercase_first(&other.to_string());
            Error::Script { message: format!("{at}: {message}{via}"), operation: None, status: None }
        }
    }
}

/// A thrown value: one of opdeck's error objects keeps its operation and
/// status; anything else the script threw is shown as it is.
fn from_thrown(value: Dynamic, at: &str, via: &str) -> Error {
    if let Some(map) = value.read_lock::<Map>()
        && map.contains_key("kind")
        && let Some(message) = map.get("message").and_then(|m| m.clone().into_string().ok())
    {
        let operation = map.get("operation").and_then(|o| o.clone().into_string().ok());
        let status = map.get("status").and_then(|s| s.as_int().ok()).and_then(|s| u16::try_from(s).ok());
        return Error::Script { message: format!("{at}: {message}{via}"), operation, status };
    }
    let shown = match value.clone().into_string() {
        Ok(s) => s,
        Err(_) => value.to_string(),
    };
    Error::Script { message: format!("{at}: script error: {shown}{via}"), operation: None, status: None }
}

fn lowercase_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thrown_status_error_keeps_operation_status_and_position() {
        let err = Error::Status {
            operation: "x.y.z".into(),
            status: 404,
            body: Box::new(serde_json::json!({"message": "gone"})),
            request_id: None,
            headers: Box::default(),
        };
        let mut thrown = throw(&err);
        thrown.set_position(Position::new(3, 9));
        let out = from_eval(thrown, "job.rhai", &Limits::default());
        match out {
            Error::Script { message, operation, status } => {
                assert_eq!(message, "job.rhai:3:9: `x.y.z` failed with http status 404: gone");
                assert_eq!(operation.as_deref(), Some("x.y.z"));
                assert_eq!(status, Some(404));
            }
            other => panic!("expected a script error, got {other:?}"),
        }
    }

    #[test]
    fn limit_errors_name_the_limit_and_its_value() {
        let limits = Limits { max_operations: 77, ..Limits::default() };
        let err = from_eval(EvalAltResult::ErrorTooManyOperations(Position::new(2, 1)).into(), "a.rhai", &limits);
        assert_eq!(
            err.to_string(),
            "limit exceeded: max_operations (too many operations, configured 77, at a.rhai:2:1)"
        );
    }
}
