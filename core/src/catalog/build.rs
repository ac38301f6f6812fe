//! Compiles the built-in catalogs from the services' specs.
//!
//! The build is deterministic: the same specs give byte-identical files, so a
//! test can rebuild them and compare. What a catalog keeps is structure only;
//! every label is written by [`label`] from the operation's name, never taken
//! from the spec's prose.

use std::path::Path;

use serde_json::Value;

use super::{Catalog, FORMAT};
use crate::error::{Error, Result};
use crate::operation::{Method, OperationMeta};

/// One built-in service and the spec it is compiled from.
#[derive(Debug, Clone, Copy)]
pub struct Recipe {
    /// The service name.
    pub service: &'static str,
    /// The spec's file name in `shared/specs`.
    pub spec: &'static str,
    /// The seed whose "Since" and "Deprecated since" markers annotate the
    /// operations, as a file-name prefix in `shared/seeds`.
    pub markers: Option<&'static str>,
}

/// The recipes of the five built-in services.
pub const RECIPES: [Recipe; 5] = [
    Recipe { service: "seald", spec: "seald-dashboard-v2.openapi.yaml", markers: None },
    Recipe { service: "dracoon", spec: "dracoon-4.42.openapi.json", markers: Some("001_") },
    Recipe { service: "selfprivacy", spec: "selfprivacy-1.2.0.openapi.yaml", markers: None },
    Recipe { service: "wildduck", spec: "wildduck-1.37.0.openapi.yml", markers: None },
    Recipe { service: "kitsu", spec: "kitsu-zou-1.0.97.openapi.json", markers: None },
];

/// The two files of one compiled catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// The service name.
    pub service: String,
    /// How many operations it has.
    pub operations: usize,
    /// The text of `<service>.json`.
    pub catalog: String,
    /// The text of `<service>.defs.json`.
    pub definitions: String,
}

/// A short label from an operation name: `getServicesResticBackupList` →
/// `Get services restic backup list`.
pub fn label(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 8);
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            None => false,
            Some(p) => {
                (c.is_uppercase() && (p.is_lowercase() || p.is_ascii_digit()))
                    || (c.is_uppercase() && p.is_uppercase() && next.is_some_and(char::is_lowercase))
                    || (c.is_ascii_digit() && p.is_alphabetic())
            }
        };
        if boundary {
            out.push(' ');
        }
        // Acronyms (`SSH`, `DKIM`) keep their case; other words go lowercase.
        // A capital followed by a lowercase letter starts a word (`Keys`).
        let in_acronym = c.is_uppercase()
            && !next.is_some_and(char::is_lowercase)
            && (prev.is_some_and(char::is_uppercase) || next.is_some_and(char::is_uppercase));
        if i == 0 {
            out.extend(c.to_uppercase());
        } else if in_acronym {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The tools of a seed listing (`auth.login🚧 Deprecated since v4.13.0`,
/// `auth.pingDescription:`), each as `(group.name, since, deprecated_since)`.
pub fn seed_markers(seed: &str) -> Vec<(String, Option<String>, Option<String>)> {
    let mut out = Vec::new();
    for line in seed.lines() {
        let Some((group, rest)) = line.split_once('.') else { continue };
        if !group.starts_with(|c: char| c.is_ascii_lowercase()) || !group.chars().all(|c| c.is_ascii_alphabetic()) {
            continue;
        }
        let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
        let (name, tail) = rest.split_at(end);
        let name = name.strip_suffix("Description").filter(|_| tail.starts_with(':')).unwrap_or(name);
        if name.is_empty() {
            continue;
        }
        let version = |marker: &str| {
            tail.find(marker).map(|at| {
                tail[at + marker.len()..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect::<String>()
            })
        };
        let deprecated = version("Deprecated since v");
        let since = if deprecated.is_some() { None } else { version("Since v") };
        out.push((format!("{group}.{name}"), since, deprecated));
    }
    out
}

/// Whether a Kitsu operation is a list route that filters on any field
/// given in the query (`GET /data/projects?name=X`).
fn kitsu_list_route(meta: &OperationMeta) -> bool {
    meta.method == Method::Get && meta.path.starts_with("/data/") && !meta.path.contains('{')
}

/// Compiles one catalog from a spec's bytes (and the seed listing with
/// markers, for the services that have one).
pub fn compile(recipe: &Recipe, spec: &[u8], seed: Option<&str>) -> Result<Compiled> {
    let doc = crate::spec::load(spec, recipe.service, &crate::spec::LoadOptions::default())?;
    let markers = seed.map(seed_markers).unwrap_or_default();
    let mut operations = doc.operations.clone();
    for op in &mut operations {
        op.summary = label(&op.name);
        let local = format!("{}.{}", op.group, op.name);
        if let Some((_, since, deprecated)) = markers.iter().find(|(n, _, _)| *n == local) {
            op.since.clone_from(since);
            if deprecated.is_some() {
                op.deprecated = true;
                op.deprecated_since.clone_from(deprecated);
            }
        }
        if recipe.service == "kitsu" && kitsu_list_route(op) {
            op.open_query = true;
        }
    }
    let count = operations.len();
    let catalog = Catalog {
        format: FORMAT,
        service: recipe.service.to_owned(),
        title: doc.title.clone(),
        version: doc.version.clone(),
        source: recipe.spec.to_owned(),
        servers: doc.servers.iter().map(|s| s.url.clone()).collect(),
        security_schemes: doc.security_schemes.clone(),
        operations,
    };
    Ok(Compiled {
        service: recipe.service.to_owned(),
        operations: count,
        catalog: to_lines(&catalog)?,
        definitions: definitions_text(doc.definitions.map())?,
    })
}

/// Writes the catalog with one operation per line, so diffs stay readable.
fn to_lines(catalog: &Catalog) -> Result<String> {
    let mut header = serde_json::to_value(catalog).map_err(encode_error)?;
    let ops = header.as_object_mut().and_then(|o| o.remove("operations")).unwrap_or_default();
    let mut out = compact(&header)?;
    out.pop(); // the closing brace
    out.push_str(",\"operations\":[\n");
    join_lines(&mut out, ops.as_array().map(Vec::as_slice).unwrap_or_default().iter().map(compact))?;
    out.push_str("]}\n");
    Ok(out)
}

fn definitions_text(defs: &serde_json::Map<String, Value>) -> Result<String> {
    let mut out = String::from("{\n");
    join_lines(
        &mut out,
        defs.iter().map(|(name, def)| Ok(format!("{}:{}", compact(&name.as_str().into())?, compact(def)?))),
    )?;
    out.push_str("}\n");
    Ok(out)
}

fn join_lines(out: &mut String, items: impl ExactSizeIterator<Item = Result<String>>) -> Result<()> {
    let n = items.len();
    for (i, item) in items.enumerate() {
        out.push_str(&item?);
        out.push_str(if i + 1 < n { ",\n" } else { "\n" });
    }
    Ok(())
}

fn compact(value: &Value) -> Result<String> {
    serde_json::to_string(value).map_err(encode_error)
}

fn encode_error(e: serde_json::Error) -> Error {
    Error::usage(format!("cannot encode the catalog: {e}"))
}

/// Compiles every built-in catalog from `specs` and `seeds` (the folders of
/// `shared/`).
pub fn compile_all(specs: &Path, seeds: &Path) -> Result<Vec<Compiled>> {
    RECIPES
        .iter()
        .map(|recipe| {
            let path = specs.join(recipe.spec);
            let spec = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let seed = match recipe.markers {
                Some(prefix) => Some(read_seed(seeds, prefix)?),
                None => None,
            };
            compile(recipe, &spec, seed.as_deref())
        })
        .collect()
}

fn read_seed(seeds: &Path, prefix: &str) -> Result<String> {
    let entries = std::fs::read_dir(seeds).map_err(|e| Error::io(seeds, e))?;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            let path = entry.path();
            return std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e));
        }
    }
    Err(Error::config(format!("no seed starting with `{prefix}` in {}", seeds.display())))
}

/// The files under `out` that differ from `compiled` (or are missing).
pub fn stale(compiled: &[Compiled], out: &Path) -> Result<Vec<String>> {
    let mut stale = Vec::new();
    for c in compiled {
        for (name, text) in
            [(format!("{}.json", c.service), &c.catalog), (format!("{}.defs.json", c.service), &c.definitions)]
        {
            let path = out.join(&name);
            match std::fs::read_to_string(&path) {
                Ok(current) if current == *text => {}
                Ok(_) => stale.push(name),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => stale.push(name),
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
    }
    Ok(stale)
}

/// Writes compiled catalogs into `out`, each file through a temporary file
/// renamed into place, so an interrupted build leaves the old files whole.
pub fn write_all(compiled: &[Compiled], out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    for c in compiled {
        for (name, text) in
            [(format!("{}.json", c.service), &c.catalog), (format!("{}.defs.json", c.service), &c.definitions)]
        {
            let path = out.join(name);
            let mut tmp = tempfile::NamedTempFile::new_in(out).map_err(|e| Error::io(out, e))?;
            std::io::Write::write_all(&mut tmp, text.as_bytes()).map_err(|e| Error::io(&path, e))?;
            // Catalogs are committed files, readable by everyone like the rest of the tree.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let perms = std::fs::Permissions::from_mode(0o644);
                tmp.as_file().set_permissions(perms).map_err(|e| Error::io(&path, e))?;
            }
            tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rstest::rstest]
    #[case("getServicesResticBackupList", "Get services restic backup list")]
    #[case("downloadFileViaToken1", "Download file via token 1")]
    #[case("getServicesSSHKeysUsername", "Get services SSH keys username")]
    #[case("listApitokens", "List apitokens")]
    fn labels_read_as_words(#[case] name: &str, #[case] expected: &str) {
        assert_eq!(label(name), expected);
    }

    #[test]
    fn seed_markers_are_read_from_tool_lines() {
        let seed = "auth.login🚧 Deprecated since v4.13.0\nauth.pingDescription:\nconfig.requestAlgorithms🚀 Since v4.24.0\nnot a tool line\n";
        let m = seed_markers(seed);
        assert_eq!(
            m,
            vec![
                ("auth.login".into(), None, Some("4.13.0".into())),
                ("auth.ping".into(), None, None),
                ("config.requestAlgorithms".into(), Some("4.24.0".into()), None),
            ]
        );
    }
}
