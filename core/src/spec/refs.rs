//! `$ref` resolution.
//!
//! Local refs (`#/...`) are followed by pointer. Schemas are not followed
//! here: the schema converter turns each schema ref into a `#/$defs/<name>`
//! ref and converts the target once, which is what keeps recursive and
//! heavily shared models finite. Every other object (parameters, responses,
//! request bodies, path items, headers) is followed with a visited set, so a
//! chain of refs ends and a cycle is an error naming the pointer.
//!
//! External refs (other files, URLs) are off by default: a spec handed to
//! opdeck must not make it read `/etc/passwd` or call a local service. With
//! [`LoadOptions::external_dir`](super::LoadOptions) set, refs to files
//! inside that directory are allowed: they are bundled into the document
//! under `/x-opdeck-external/<file>` before anything else runs, and a ref
//! that leaves the directory is an error. URL refs are never fetched.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ops::Deref;
use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::doc::Doc;
use super::load::clip;
use crate::error::{Error, Result};

/// A ref after bundling: the file it needs (if any) and its new text.
type Rewritten = Option<(Option<PathBuf>, String)>;

/// Where bundled external documents live inside the root document.
pub(crate) const EXTERNAL_KEY: &str = "x-opdeck-external";

/// The longest chain of refs followed before giving up.
const MAX_HOPS: usize = 64;

/// The JSON pointer of a local ref (`#/a/b` → `/a/b`), or an error for an
/// external one. `at` is where the ref was found.
pub(crate) fn local_pointer(reference: &str, at: &str) -> Result<String> {
    match reference.strip_prefix('#') {
        Some(fragment) => Ok(percent_decode_str(fragment).decode_utf8_lossy().into_owned()),
        None => Err(Error::spec(
            at,
            format!(
                "external $ref `{}` is not allowed (external refs are off unless a directory is allowed in the load options; urls are never fetched)",
                clip(reference)
            ),
        )),
    }
}

/// Follows `value` while it is a `{"$ref": ...}` and returns the object it
/// lands on with its pointer. `at` is the pointer of `value` itself. What it
/// lands on in a lazy part of `doc` stays parsed (see [`follow_owned`]).
pub(crate) fn follow<'v>(doc: &'v Doc<'_>, value: &'v Value, at: &str) -> Result<(&'v Value, String)> {
    hops(value, at, |target| doc.lookup(target))
}

/// [`follow`] for values read once (examples): a lazy entry it parses is
/// the caller's and is freed with it.
pub(crate) fn follow_owned<'v>(doc: &'v Doc<'_>, value: &'v Value, at: &str) -> Result<(Cow<'v, Value>, String)> {
    hops(Cow::Borrowed(value), at, |target| doc.lookup_owned(target))
}

/// The chain of refs from `value`, each target found by `lookup`.
fn hops<V: Deref<Target = Value>>(mut value: V, at: &str, lookup: impl Fn(&str) -> Option<V>) -> Result<(V, String)> {
    let mut pointer = at.to_owned();
    let mut seen: Vec<String> = Vec::new();
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        let target = local_pointer(reference, &pointer)?;
        if seen.contains(&target) || seen.len() >= MAX_HOPS {
            return Err(Error::spec(pointer, format!("$ref cycle through `{}`", clip(reference))));
        }
        let next = lookup(&target)
            .ok_or_else(|| Error::spec(&pointer, format!("$ref `{}` points at nothing", clip(reference))))?;
        value = next;
        seen.push(target.clone());
        pointer = target;
    }
    Ok((value, pointer))
}

/// Bundles the external files `root` refers to, which must lie inside
/// `allowed` (the document's own refs are relative to `base`).
pub(crate) fn bundle(root: &mut Value, base: &Path, allowed: &Path) -> Result<()> {
    let allowed = allowed
        .canonicalize()
        .map_err(|e| Error::spec("", format!("the allowed ref directory cannot be opened: {e}")))?;
    let mut bundled: Map<String, Value> = Map::new();
    let mut loaded: HashSet<PathBuf> = HashSet::new();
    // Bundled documents still to rewrite: (value, its directory, its key).
    let mut queue: Vec<(Value, PathBuf, String)> = Vec::new();
    let mut refs_of_root = Vec::new();
    rewrite(root, "", &mut |reference, at| {
        let out = external_target(reference, at, base, &allowed, None)?;
        if let Some((Some(path), _)) = &out {
            refs_of_root.push(path.clone());
        }
        Ok(out)
    })?;
    for path in refs_of_root {
        enqueue(&path, &mut loaded, &mut queue)?;
    }
    while let Some((mut doc, dir, key)) = queue.pop() {
        let mut found = Vec::new();
        rewrite(&mut doc, "", &mut |reference, at| {
            let out = external_target(reference, at, &dir, &allowed, Some(&key))?;
            if let Some((Some(path), _)) = &out {
                found.push(path.clone());
            }
            Ok(out)
        })?;
        for path in found {
            enqueue(&path, &mut loaded, &mut queue)?;
        }
        bundled.insert(key, doc);
    }
    if !bundled.is_empty()
        && let Some(obj) = root.as_object_mut()
    {
        obj.insert(EXTERNAL_KEY.into(), Value::Object(bundled));
    }
    Ok(())
}

fn enqueue(path: &Path, loaded: &mut HashSet<PathBuf>, queue: &mut Vec<(Value, PathBuf, String)>) -> Result<()> {
    if !loaded.insert(path.to_owned()) {
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let doc = super::load::parse(&bytes)?;
    let dir = path.parent().map(Path::to_owned).unwrap_or_default();
    queue.push((doc, dir, file_key(path)));
    Ok(())
}

/// The key a bundled file is stored under: its canonical path, sanitized.
fn file_key(path: &Path) -> String {
    path.to_string_lossy().chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect()
}

/// Where a ref points once bundled: `None` for a root-local ref, else the
/// file it needs and the rewritten ref. `key` is the bundled document the ref
/// sits in (`None` for the root), whose local refs must be re-rooted.
fn external_target(reference: &str, at: &str, dir: &Path, allowed: &Path, key: Option<&str>) -> Result<Rewritten> {
    let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
    if file.is_empty() {
        // A local ref inside a bundled file points into that file.
        return Ok(key.map(|k| (None, format!("#/{EXTERNAL_KEY}/{k}{fragment}"))));
    }
    if file.contains("://") || file.starts_with("//") {
        return Err(Error::spec(at, format!("$ref `{}` is a url; urls are never fetched", clip(reference))));
    }
    let decoded = percent_decode_str(file).decode_utf8_lossy();
    let path = dir.join(decoded.as_ref());
    let canonical = path
        .canonicalize()
        .map_err(|_| Error::spec(at, format!("$ref `{}` names a file that cannot be opened", clip(reference))))?;
    if !canonical.starts_with(allowed) {
        return Err(Error::spec(
            at,
            format!("$ref `{}` leaves the directory external refs are allowed in", clip(reference)),
        ));
    }
    let rewritten = format!("#/{EXTERNAL_KEY}/{}{fragment}", file_key(&canonical));
    Ok(Some((Some(canonical), rewritten)))
}

/// Rewrites every `$ref` string in `value` with `f` (None keeps it).
fn rewrite(value: &mut Value, at: &str, f: &mut dyn FnMut(&str, &str) -> Result<Rewritten>) -> Result<()> {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                let at_ref = format!("{at}/$ref");
                if let Some((_, new)) = f(reference, &at_ref)? {
                    map.insert("$ref".into(), Value::String(new));
                }
            }
            for (k, v) in map.iter_mut() {
                if k != "$ref" && k != "example" && k != "examples" {
                    rewrite(v, &super::warnings::join(at, k), f)?;
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                rewrite(v, &format!("{at}/{i}"), f)?;
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn chains_are_followed_and_cycles_named() {
        let root = json!({
            "a": {"$ref": "#/b"},
            "b": {"$ref": "#/c"},
            "c": {"name": "x"},
            "loop1": {"$ref": "#/loop2"},
            "loop2": {"$ref": "#/loop1"},
            "dangling": {"$ref": "#/nowhere"}
        });
        let doc = Doc::from_value(root.clone());
        let (v, p) = follow(&doc, &root["a"], "/a").expect("follows");
        assert_eq!((v, p.as_str()), (&json!({"name": "x"}), "/c"));
        let err = follow(&doc, &root["loop1"], "/loop1").expect_err("cycle");
        assert!(err.to_string().contains("cycle"), "{err}");
        let err = follow(&doc, &root["dangling"], "/dangling").expect_err("dangling");
        assert!(matches!(err, Error::Spec { ref pointer, .. } if pointer == "/dangling"), "{err}");
    }

    #[test]
    fn external_refs_are_refused_by_default() {
        for r in ["/etc/passwd", "file:///etc/passwd", "http://127.0.0.1/x.json#/a", "../x.yaml#/a"] {
            let err = local_pointer(r, "/x/$ref").expect_err("refused");
            assert!(err.to_string().contains("not allowed"), "{err}");
        }
        assert_eq!(local_pointer("#/components/schemas/A%20B", "").expect("local"), "/components/schemas/A B");
    }
}
