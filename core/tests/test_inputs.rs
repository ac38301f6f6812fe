//! The test inputs of `tests/specs` against the originals they are written
//! from: the specs and seeds in `../shared`, beside the repo (CI has them; a
//! fresh clone does not).
//!
//! This is the one test that reads the originals; every other reads the
//! project's own files, and `tests/run-all.sh` fails if one names them.
//! Where the originals are missing the tests say so and pass, unless `CI`
//! is set: then a missing peer fails, as everywhere.

use std::path::PathBuf;

use opdeck::catalog::strip::{SPECS, write_test_inputs};
use opdeck::spec::{Document, LoadOptions, load_path};

use crate::peers;
use crate::spec_ingest::specs_dir;

/// The folders of original specs and seeds, or `None` (after the CI check)
/// when they are not beside the repo.
fn originals() -> Option<(PathBuf, PathBuf)> {
    let repo = std::fs::canonicalize(peers::repo_root()).unwrap_or_else(|_| peers::repo_root());
    let root = repo.join("../shared");
    let (specs, seeds) = (root.join("specs"), root.join("seeds"));
    if specs.is_dir() && seeds.is_dir() {
        return Some((specs, seeds));
    }
    let message = format!(
        "the original specs and seeds are not beside the repo ({} and {} are missing), so tests/specs cannot be \
         checked against them",
        specs.display(),
        seeds.display()
    );
    if peers::ci() {
        panic!("{message} (CI is set, so this check must run)");
    }
    eprintln!("\n!!!! SKIPPED: {message}\n");
    None
}

#[test]
fn the_committed_test_inputs_are_a_fresh_strip_of_the_originals() {
    let Some((specs, seeds)) = originals() else { return };
    let fresh = tempfile::tempdir().expect("temp dir");
    let written = write_test_inputs(&specs, &seeds, fresh.path()).expect("the test inputs are written");
    let committed = specs_dir();
    let mut stale = Vec::new();
    for name in &written {
        let new = std::fs::read(fresh.path().join(name)).expect("just written");
        match std::fs::read(committed.join(name)) {
            Ok(old) if old == new => {}
            Ok(_) => stale.push(format!("{name} differs")),
            Err(e) => stale.push(format!("{name}: {e}")),
        }
    }
    assert!(stale.is_empty(), "tests/specs is stale (run `opdeck catalog strip`): {stale:?}");
    let mut extra: Vec<String> = std::fs::read_dir(&committed)
        .expect("tests/specs")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "README.md" && !written.contains(name))
        .collect();
    extra.sort();
    assert!(extra.is_empty(), "files in tests/specs that `opdeck catalog strip` does not write: {extra:?}");
}

/// What a loaded document says, summaries aside (stripping leaves them out).
fn facts(doc: &Document) -> serde_json::Value {
    let mut operations = doc.operations.clone();
    for op in &mut operations {
        op.summary.clear();
    }
    serde_json::json!({
        "header": doc.summary(),
        "operations": operations,
        "definitions": doc.definitions.map(),
    })
}

#[test]
fn every_stripped_spec_loads_like_its_original() {
    let Some((specs, _)) = originals() else { return };
    for file in SPECS {
        // The service name only prefixes ids; one name serves every spec.
        let load = |path: PathBuf| {
            load_path(&path, "svc", &LoadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let (original, stripped) = (facts(&load(specs.join(file))), facts(&load(specs_dir().join(file))));
        if original != stripped {
            let differs = ["header", "operations", "definitions"].into_iter().find(|k| original[k] != stripped[k]);
            let first = original["operations"]
                .as_array()
                .into_iter()
                .flatten()
                .zip(stripped["operations"].as_array().into_iter().flatten())
                .find(|(a, b)| a != b)
                .map(|(a, _)| a["id"].clone());
            panic!("{file} loads differently once stripped: {differs:?} differ (first operation: {first:?})");
        }
    }
}
