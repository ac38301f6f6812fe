//! Compiles the built-in catalogs from the services' specs.
//!
//! The build is deterministic: the same specs give byte-identical files, so a
//! test can rebuild them and compare. What a catalog keeps is structure only;
//! every label is written by [`label`] from the operation's name, never taken
//! from the spec's prose.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Catalog, FORMAT, Heads, Listed};
use crate::error::{Error, Result};
use crate::model::{Method, OperationMeta};

/// One built-in service and the spec it is compiled from.
#[derive(Debug, Clone, Copy)]
pub struct Recipe {
    /// The service name.
    pub service: &'static str,
    /// The spec's file name, in the folder of original specs and in
    /// `tests/specs`.
    pub spec: &'static str,
    /// Where the "Since" and "Deprecated since" markers that annotate the
    /// operations come from, for the services that have them.
    pub markers: Option<Markers>,
}

/// The two places one service's version markers can be read from.
#[derive(Debug, Clone, Copy)]
pub struct Markers {
    /// The seed listing the service's tools, as a file-name prefix in the
    /// folder of seeds.
    pub seed: &'static str,
    /// The data file beside the specs that holds the same tools and markers
    /// (written from the seed by [`super::strip`]).
    pub file: &'static str,
}

/// DRACOON's markers: seed 001, or its tools as data in `tests/specs`.
const DRACOON_MARKERS: Markers = Markers { seed: "001_", file: "dracoon-4.42.tools.json" };

/// The recipes of the five built-in services.
pub const RECIPES: [Recipe; 5] = [
    Recipe { service: "seald", spec: "seald-dashboard-v2.openapi.yaml", markers: None },
    Recipe { service: "dracoon", spec: "dracoon-4.42.openapi.json", markers: Some(DRACOON_MARKERS) },
    Recipe { service: "selfprivacy", spec: "selfprivacy-1.2.0.openapi.yaml", markers: None },
    Recipe { service: "wildduck", spec: "wildduck-1.37.0.openapi.yml", markers: None },
    Recipe { service: "kitsu", spec: "kitsu-zou-1.0.97.openapi.json", markers: None },
];

/// The three files of one compiled catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    /// The service name.
    pub service: String,
    /// How many operations it has.
    pub operations: usize,
    /// The text of `<service>.json`.
    pub catalog: String,
    /// The text of `<service>.heads.json`: what listings read, so a deck
    /// that starts parses no more than that.
    pub heads: String,
    /// The text of `<service>.defs.json`.
    pub definitions: String,
}

impl Compiled {
    /// Each file's name and text.
    fn files(&self) -> [(String, &String); 3] {
        [
            (format!("{}.json", self.service), &self.catalog),
            (format!("{}.heads.json", self.service), &self.heads),
            (format!("{}.defs.json", self.service), &self.definitions),
        ]
    }
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

/// One tool of a seed listing and its version markers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tool {
    /// `group.name`.
    pub name: String,
    /// The version that brought it ("Since v4.24.0"), when marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// The version that deprecated it ("Deprecated since v4.13.0"), when marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated_since: Option<String>,
}

/// The tools of a seed listing (`auth.login🚧 Deprecated since v4.13.0`,
/// `auth.pingDescription:`) with their markers, in the seed's order.
pub fn seed_markers(seed: &str) -> Vec<Tool> {
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
        out.push(Tool { name: format!("{group}.{name}"), since, deprecated_since: deprecated });
    }
    out
}

/// The service's own tools of a seed listing: the deck's meta-operations
/// (`openapi.*`), which the seeds list too, are left out.
pub fn seed_tools(seed: &str) -> Vec<Tool> {
    seed_markers(seed).into_iter().filter(|t| !t.name.starts_with("openapi.")).collect()
}

/// The text of a tools data file: a JSON array, one tool per line.
pub fn tools_text(tools: &[Tool]) -> Result<String> {
    let mut out = String::from("[\n");
    join_lines(&mut out, tools.iter().map(|t| serde_json::to_string(t).map_err(encode_error)))?;
    out.push_str("]\n");
    Ok(out)
}

/// Reads a tools data file written by [`tools_text`].
pub fn read_tools(path: &Path) -> Result<Vec<Tool>> {
    let text = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&text).map_err(|e| Error::config(format!("{} is not a tools file: {e}", path.display())))
}

/// Whether a Kitsu operation is a list route that filters on any field
/// given in the query (`GET /data/projects?name=X`).
fn kitsu_list_route(meta: &OperationMeta) -> bool {
    meta.method == Method::Get && meta.path.starts_with("/data/") && !meta.path.contains('{')
}

/// Compiles one catalog from a spec's bytes and the service's tools with
/// their markers (none for the services without markers).
pub fn compile(recipe: &Recipe, spec: &[u8], tools: &[Tool]) -> Result<Compiled> {
    let options = crate::engine::load_options(recipe.service);
    let doc = crate::spec::load(spec, recipe.service, &options)?;
    let mut operations = doc.operations.clone();
    for op in &mut operations {
        op.summary = label(&op.name);
        let local = format!("{}.{}", op.group, op.name);
        if let Some(tool) = tools.iter().find(|t| t.name == local) {
            op.since.clone_from(&tool.since);
            if tool.deprecated_since.is_some() {
                op.deprecated = true;
                op.deprecated_since.clone_from(&tool.deprecated_since);
            }
        }
        if recipe.service == "kitsu" && kitsu_list_route(op) {
            op.open_query = true;
        }
    }
    let count = operations.len();
    let heads = Heads {
        format: FORMAT,
        service: recipe.service.to_owned(),
        security_schemes: doc.security_schemes.clone(),
        heads: operations.iter().map(Listed::of).collect(),
    };
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
        catalog: to_lines(&catalog, "operations")?,
        heads: to_lines(&heads, "heads")?,
        definitions: definitions_text(doc.definitions.map())?,
    })
}

/// Writes `value` with the items of its array `field` one per line, last,
/// so diffs stay readable and a reader can find the `i`-th item's line
/// ([`super::CatalogSource`] does).
fn to_lines(value: &impl Serialize, field: &str) -> Result<String> {
    let mut header = serde_json::to_value(value).map_err(encode_error)?;
    let ops = header.as_object_mut().and_then(|o| o.remove(field)).unwrap_or_default();
    let mut out = compact(&header)?;
    out.pop(); // the closing brace
    out.push_str(&format!(",\"{field}\":[\n"));
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

/// Compiles every built-in catalog from the specs in `specs`: the originals
/// or the stripped ones of `tests/specs`, which give the same catalogs. The
/// markers come from the seed listings in `seeds` when it is given, else
/// from the tools data files in `specs`.
pub fn compile_all(specs: &Path, seeds: Option<&Path>) -> Result<Vec<Compiled>> {
    RECIPES
        .iter()
        .map(|recipe| {
            let path = specs.join(recipe.spec);
            let spec = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            let tools = match (recipe.markers, seeds) {
                (None, _) => Vec::new(),
                (Some(markers), Some(seeds)) => seed_tools(&read_seed(seeds, markers.seed)?),
                (Some(markers), None) => read_tools(&specs.join(markers.file))?,
            };
            compile(recipe, &spec, &tools)
        })
        .collect()
}

/// The text of the seed in `seeds` whose file name starts with `prefix`.
pub fn read_seed(seeds: &Path, prefix: &str) -> Result<String> {
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
        for (name, text) in c.files() {
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
        for (name, text) in c.files() {
            write_file(out, &name, text.as_bytes())?;
        }
    }
    Ok(())
}

/// Writes `bytes` as `dir/name` through a temporary file renamed into place.
pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(|e| Error::io(&path, e))?;
    // These are committed files, readable by everyone like the rest of the tree.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(0o644);
        tmp.as_file().set_permissions(perms).map_err(|e| Error::io(&path, e))?;
    }
    tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
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
        let tool = |name: &str, since: Option<&str>, deprecated: Option<&str>| Tool {
            name: name.into(),
            since: since.map(Into::into),
            deprecated_since: deprecated.map(Into::into),
        };
        assert_eq!(
            m,
            vec![
                tool("auth.login", None, Some("4.13.0")),
                tool("auth.ping", None, None),
                tool("config.requestAlgorithms", Some("4.24.0"), None),
            ]
        );
    }

    #[test]
    fn tools_files_read_back_what_was_written() {
        let tools = seed_tools("auth.login🚧 Deprecated since v4.13.0\nauth.pingDescription:\nopenapi.addSourceAdd\n");
        assert_eq!(tools.len(), 2, "openapi.* is the deck's, not the service's");
        let text = tools_text(&tools).expect("encodes");
        assert_eq!(
            text,
            "[\n{\"name\":\"auth.login\",\"deprecated_since\":\"4.13.0\"},\n{\"name\":\"auth.ping\"}\n]\n"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("tools.json");
        std::fs::write(&path, text).expect("writes");
        assert_eq!(read_tools(&path).expect("reads"), tools);
    }
}
