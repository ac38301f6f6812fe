//! Non-fatal findings about a document, each at a JSON pointer.
//!
//! Real specs are often slightly wrong (a `required: true` on a property,
//! Swagger 2 leftovers in an OpenAPI 3 file, missing operationIds). opdeck
//! loads them anyway and says what it assumed, so a user can see why an
//! operation is named or shaped the way it is.

use serde::Serialize;

/// One finding about a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Where, as a JSON pointer into the document (`""` is the root).
    pub pointer: String,
    /// What was found and what opdeck did about it, in lowercase words.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{pointer}: {}", self.message)
    }
}

/// Collects warnings in the order they are found.
#[derive(Debug, Default)]
pub(crate) struct Warnings(pub(crate) Vec<Warning>);

impl Warnings {
    pub(crate) fn push(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.0.push(Warning { pointer: pointer.into(), message: message.into() });
    }
}

/// Escapes one JSON pointer token (`~` → `~0`, `/` → `~1`).
pub(crate) fn escape(token: &str) -> String {
    if token.contains(['~', '/']) { token.replace('~', "~0").replace('/', "~1") } else { token.to_owned() }
}

/// `base` extended by one token.
pub(crate) fn join(base: &str, token: &str) -> String {
    let mut out = String::with_capacity(base.len() + token.len() + 1);
    out.push_str(base);
    out.push('/');
    out.push_str(&escape(token));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_slashes_and_tildes() {
        assert_eq!(join("/paths", "/users/{id}"), "/paths/~1users~1{id}");
        assert_eq!(join("", "a~b"), "/a~0b");
        let w = Warning { pointer: String::new(), message: "x".into() };
        assert_eq!(w.to_string(), "/: x");
    }
}
