//! [`Doc`]: a parsed document whose large name maps stay JSON text until read.
//!
//! A JSON spec is mostly its paths and its components. Parsing all of it into
//! `serde_json::Value` costs about eight times the file in memory (13 MB of
//! api.github.com.json became 90 MB), although the build reads each path
//! item once and each model once. So a JSON document is read in two levels:
//! its small members (`openapi`, `info`, `servers`, `tags`, …) are parsed at
//! once, and the entries of its large maps (`paths`, `components.schemas`,
//! `components.examples`, …) are kept as raw slices of the input, each parsed
//! when it is read:
//!
//! * [`Doc::lookup`] parses an entry once and keeps it (parameters,
//!   responses and request bodies that refs share);
//! * [`Doc::lookup_owned`] parses it for the caller only, so path items,
//!   models and examples, which are read once, are freed right after use.
//!
//! Syntax is checked for the whole document before anything is built (raw
//! slices are validated while they are skipped), so a lazy parse never meets
//! broken JSON. YAML, and documents with external refs bundled in, are held
//! as one `Value`; every method works the same on both.

use std::borrow::Cow;
use std::cell::{OnceCell, RefCell};

use indexmap::IndexMap;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::load::{Lean, parse_lean};
use super::warnings::join;
use crate::error::Error;
use crate::schema::decode_pointer_token;

/// The name maps kept as raw entries, by their pointer.
const LAZY: [&str; 11] = [
    "/paths",
    "/components/schemas",
    "/components/examples",
    "/components/parameters",
    "/components/responses",
    "/components/requestBodies",
    "/components/headers",
    "/components/pathItems",
    "/definitions",
    "/parameters",
    "/responses",
];

/// A document, partly parsed.
pub(crate) struct Doc<'a> {
    /// Every member not kept in `sections`, parsed.
    root: Value,
    sections: Vec<Section<'a>>,
    /// The first entry that could not be parsed (see [`Doc::failure`]).
    failed: RefCell<Option<Error>>,
}

/// One name map whose entries are parsed on demand.
struct Section<'a> {
    /// Its pointer, one of [`LAZY`].
    at: &'static str,
    entries: IndexMap<String, Entry<'a>>,
}

struct Entry<'a> {
    raw: &'a RawValue,
    /// Its pointer, for the error when it cannot be parsed.
    at: String,
    parsed: OnceCell<Value>,
}

impl<'a> Doc<'a> {
    /// A document held as one value (YAML, bundled external refs, tests).
    pub(crate) fn from_value(root: Value) -> Doc<'static> {
        Doc { root, sections: Vec::new(), failed: RefCell::new(None) }
    }

    /// Reads JSON text: the small members parsed, the large maps as raw entries.
    pub(crate) fn from_json(text: &'a str) -> serde_json::Result<Doc<'a>> {
        let mut sections = Vec::new();
        let root = members(&[], text, &mut sections)?;
        Ok(Doc { root: Value::Object(root), sections, failed: RefCell::new(None) })
    }

    /// The parsed members: everything but the large maps' entries.
    pub(crate) fn root(&self) -> &Value {
        &self.root
    }

    /// Whether the document has the top-level member `key`.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.root.get(key).is_some() || self.sections.iter().any(|s| s.at[1..] == *key)
    }

    /// The names of the paths (each item is at `/paths/<name>`), or `None` when the document has no `paths`
    /// object (`Some(Err)` when `paths` is there but not an object).
    pub(crate) fn path_names(&self) -> Option<std::result::Result<Vec<&str>, ()>> {
        if let Some(s) = self.section("/paths") {
            return Some(Ok(s.entries.keys().map(String::as_str).collect()));
        }
        match self.root.get("paths")? {
            Value::Object(map) => Some(Ok(map.keys().map(String::as_str).collect())),
            _ => Some(Err(())),
        }
    }

    /// The value at `pointer`; a lazy entry on the way is parsed and kept.
    pub(crate) fn lookup(&self, pointer: &str) -> Option<&Value> {
        if let Some((entry, rest)) = self.entry(pointer) {
            let entry = entry?;
            let value = entry.parsed.get_or_init(|| self.parse(entry));
            return if rest.is_empty() { Some(value) } else { value.pointer(rest) };
        }
        if pointer.is_empty() { Some(&self.root) } else { self.root.pointer(pointer) }
    }

    /// The value at `pointer`, without keeping a lazy entry it parses.
    pub(crate) fn lookup_owned(&self, pointer: &str) -> Option<Cow<'_, Value>> {
        match self.entry(pointer) {
            Some((entry, rest)) => {
                let entry = entry?;
                if let Some(v) = entry.parsed.get() {
                    return if rest.is_empty() { Some(Cow::Borrowed(v)) } else { v.pointer(rest).map(Cow::Borrowed) };
                }
                let mut value = self.parse(entry);
                if rest.is_empty() {
                    Some(Cow::Owned(value))
                } else {
                    value.pointer_mut(rest).map(|v| Cow::Owned(v.take()))
                }
            }
            None => self.lookup(pointer).map(Cow::Borrowed),
        }
    }

    /// Whether something is at `pointer`, parsing as little as possible.
    pub(crate) fn exists(&self, pointer: &str) -> bool {
        match self.entry(pointer) {
            Some((entry, "")) => entry.is_some(),
            Some(_) => self.lookup_owned(pointer).is_some(),
            None => self.lookup(pointer).is_some(),
        }
    }

    /// The error of the first lazy entry that could not be read. Syntax was
    /// checked up front, so this is nesting beyond serde_json's limit, which
    /// slices skipped at first do not count. The entry reads as null until
    /// the build ends; the load then fails with this error.
    pub(crate) fn failure(&self) -> Option<Error> {
        self.failed.borrow_mut().take()
    }

    fn parse(&self, entry: &Entry<'_>) -> Value {
        match parse_lean(Lean::Node, entry.raw.get()) {
            Ok(value) => value,
            Err(e) => {
                let mut failed = self.failed.borrow_mut();
                if failed.is_none() {
                    *failed = Some(Error::spec(&entry.at, format!("cannot be read: {e}")));
                }
                Value::Null
            }
        }
    }

    /// The parsed root, for freeing elsewhere.
    pub(crate) fn into_root(self) -> Value {
        self.root
    }

    fn section(&self, at: &str) -> Option<&Section<'a>> {
        self.sections.iter().find(|s| s.at == at)
    }

    /// For a pointer into a lazy section: its entry (`None` when the section
    /// has no such name) and the rest of the pointer. `None` when the
    /// pointer is not in a lazy section.
    fn entry<'p>(&self, pointer: &'p str) -> Option<(Option<&Entry<'a>>, &'p str)> {
        for s in &self.sections {
            let Some(after) = pointer.strip_prefix(s.at).and_then(|r| r.strip_prefix('/')) else { continue };
            let (token, rest) = after.find('/').map_or((after, ""), |i| (&after[..i], &after[i..]));
            return Some((s.entries.get(&decode_pointer_token(token)), rest));
        }
        None
    }
}

/// The lazy pointer for a member path, if the member is one.
fn lazy_at(tokens: &[&str]) -> Option<&'static str> {
    LAZY.into_iter().find(|at| {
        let mut parts = at[1..].split('/');
        tokens.iter().all(|t| parts.next() == Some(t)) && parts.next().is_none()
    })
}

/// The members of the object `text` at the member path `at`, parsed, except
/// those kept as lazy sections (pushed onto `sections`); `components` is
/// split one level further.
fn members<'a>(at: &[&str], text: &'a str, sections: &mut Vec<Section<'a>>) -> serde_json::Result<Map<String, Value>> {
    let all: IndexMap<Cow<'a, str>, &'a RawValue> = serde_json::from_str(text)?;
    let mut kept = Map::new();
    for (key, raw) in all {
        if Lean::Node.skips(&key) {
            continue;
        }
        let path = [at, &[key.as_ref()]].concat();
        let value = match lazy_at(&path) {
            Some(lazy) if is_object(raw) => {
                sections.push(section(lazy, raw)?);
                continue;
            }
            _ if path == ["components"] && is_object(raw) => Value::Object(members(&path, raw.get(), sections)?),
            _ => parse_lean(Lean::Node.member(&key), raw.get())?,
        };
        kept.insert(key.into_owned(), value);
    }
    Ok(kept)
}

fn is_object(raw: &RawValue) -> bool {
    raw.get().trim_start().starts_with('{')
}

fn section<'a>(at: &'static str, raw: &'a RawValue) -> serde_json::Result<Section<'a>> {
    let members: IndexMap<Cow<'a, str>, &'a RawValue> = serde_json::from_str(raw.get())?;
    let entries = members
        .into_iter()
        .map(|(k, raw)| (k.to_string(), Entry { raw, at: join(at, &k), parsed: OnceCell::new() }))
        .collect();
    Ok(Section { at, entries })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const TEXT: &str = r##"{"openapi": "3.0.3", "info": {"title": "T", "description": "d"},
        "paths": {"/a/{id}": {"get": {"parameters": [{"$ref": "#/components/parameters/id"}]}}, "/b": {}},
        "components": {"parameters": {"id": {"name": "id", "in": "path"}},
            "schemas": {"A~B/C": {"type": "string"}},
            "securitySchemes": {"k": {"type": "apiKey"}}}}"##;

    #[test]
    fn lazy_entries_read_like_the_parsed_document() {
        let doc = Doc::from_json(TEXT).expect("parses");
        let full = Doc::from_value(super::super::load::parse(TEXT.as_bytes()).expect("parses"));
        for pointer in [
            "/info",
            "/paths/~1a~1{id}/get/parameters/0",
            "/components/parameters/id",
            "/components/parameters/id/name",
            "/components/schemas/A~0B~1C",
            "/components/securitySchemes/k",
            "/components/schemas/nope",
            "/nope",
        ] {
            assert_eq!(doc.lookup(pointer), full.lookup(pointer), "{pointer}");
            assert_eq!(doc.lookup_owned(pointer).as_deref(), full.lookup(pointer), "{pointer}");
            assert_eq!(doc.exists(pointer), full.lookup(pointer).is_some(), "{pointer}");
        }
        assert_eq!(doc.path_names(), Some(Ok(vec!["/a/{id}", "/b"])));
        assert_eq!(doc.lookup_owned("/paths/~1b").as_deref(), Some(&json!({})));
        assert!(doc.has("paths") && doc.has("info") && !doc.has("definitions"));
        assert_eq!(doc.root()["info"], json!({"title": "T"}));
    }

    #[test]
    fn an_entry_nested_too_deeply_is_an_error_at_its_pointer() {
        let deep = format!("{}{{}}{}", "[".repeat(200), "]".repeat(200));
        let text = format!(r#"{{"openapi": "3.0.3", "components": {{"schemas": {{"A/B": {deep}}}}}}}"#);
        let doc = Doc::from_json(&text).expect("the syntax is fine");
        assert!(doc.failure().is_none());
        assert_eq!(doc.lookup("/components/schemas/A~1B"), Some(&Value::Null));
        match doc.failure() {
            Some(Error::Spec { pointer, message }) => {
                assert_eq!(pointer, "/components/schemas/A~1B");
                assert!(message.contains("recursion limit"), "{message}");
            }
            other => panic!("expected a spec error, got {other:?}"),
        }
    }

    #[test]
    fn a_paths_member_that_is_not_an_object_stays_in_the_root() {
        let doc = Doc::from_json(r#"{"swagger": "2.0", "paths": [1]}"#).expect("parses");
        assert_eq!(doc.path_names(), Some(Err(())));
        assert_eq!(Doc::from_json(r#"{"swagger": "2.0"}"#).expect("parses").path_names(), None);
    }
}
