//! Sources a user added with `opdeck spec add`, kept across runs.
//!
//! Each added service is two files in `$XDG_CONFIG_HOME/opdeck/sources/`:
//! `<name>.spec`, a copy of the document as it was added (so the source keeps
//! working when the original moves or its URL goes away), and `<name>.toml`,
//! where it came from and its base URL. Both are written to temporary files
//! and renamed into place, spec first, so a crash never leaves a source that
//! names a missing document.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use opdeck::{Deck, Error, Result};

/// What `<name>.toml` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Where the document was added from (a path or URL).
    pub origin: String,
    /// The base URL calls go to, when one was given (`--base-url`); without
    /// one, the spec's first server is used each time the source loads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

/// One stored source as `spec list` and `spec show` describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listed {
    /// The service name.
    pub name: String,
    /// Where calls go now (configuration, `--base-url`, or the spec's
    /// server), or `None` when nothing says.
    pub base_url: Option<String>,
    /// Where `base_url` comes from: `config`, `added` (`--base-url`), `spec`.
    pub base_url_from: Option<&'static str>,
    /// How many operations the source has on the deck.
    pub operations: usize,
    /// Where the document was added from.
    pub origin: String,
}

/// The folder of added sources.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in the user's configuration directory
    /// (`OPDECK_CONFIG_DIR`, else `$XDG_CONFIG_HOME/opdeck`).
    pub fn user() -> Result<Store> {
        let base = match std::env::var_os("OPDECK_CONFIG_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => dirs::config_dir()
                .ok_or_else(|| Error::config("no configuration directory: set XDG_CONFIG_HOME or OPDECK_CONFIG_DIR"))?
                .join("opdeck"),
        };
        Ok(Store::at(base.join("sources")))
    }

    /// A store in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Store {
        Store { dir: dir.into() }
    }

    /// The names of the stored sources, sorted.
    pub fn names(&self) -> Result<Vec<String>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.strip_suffix(".toml").map(str::to_owned))
            .collect();
        names.sort();
        Ok(names)
    }

    /// Loads `spec` (a path or URL), registers it as `name` on `deck`, and
    /// keeps it for later runs. Returns the ids registered.
    pub fn add(&self, deck: &Deck, name: &str, spec: &str, base_url: Option<&str>) -> Result<Vec<String>> {
        if opdeck::catalog::builtin().any(|c| opdeck::Source::service(&c) == name) || name == "openapi" {
            return Err(Error::usage(format!(
                "`{name}` is a built-in service; add the spec under another name (e.g. `{name}2`)"
            )));
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') || name.is_empty() {
            return Err(Error::usage(format!("`{name}` is not a service name: use letters, digits, `_` and `-`")));
        }
        let bytes = deck.block_on(read_input(spec))??;
        // Adding a source again keeps the base URL given before, unless a new one is.
        let kept = match base_url {
            Some(url) => Some(url.to_owned()),
            None => self.entry(name)?.and_then(|e| e.base_url),
        };
        let base_url = kept.as_deref();
        let ids = deck.add_document(name, &bytes, spec, base_url)?;
        // The copy of the bytes is kept, so the origin is only shown: it is
        // kept without credentials.
        let entry =
            Entry { origin: opdeck::wire::redact_text(spec).into_owned(), base_url: base_url.map(str::to_owned) };
        let toml = toml::to_string(&entry).map_err(|e| Error::config(format!("cannot record source `{name}`: {e}")))?;
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        write_atomic(&self.dir, &self.spec_path(name), &bytes)?;
        write_atomic(&self.dir, &self.entry_path(name), toml.as_bytes())?;
        Ok(ids)
    }

    /// The recorded entry of `name`, if it is stored.
    pub fn entry(&self, name: &str) -> Result<Option<Entry>> {
        let path = self.entry_path(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path, e)),
        };
        toml::from_str(&text).map(Some).map_err(|e| Error::config(format!("{}: {}", path.display(), e.message())))
    }

    /// The stored sources as `deck` has them (after [`Store::load_into`]),
    /// sorted by name.
    pub fn list(&self, deck: &Deck) -> Result<Vec<Listed>> {
        let services = deck.registry().services();
        let config = deck.context().config();
        let mut out = Vec::new();
        for name in self.names()? {
            let Some(entry) = self.entry(&name)? else { continue };
            let base_url = deck.context().base_url(&name).ok();
            let base_url_from = base_url.as_ref().map(|_| {
                if config.service(&name).base_url.is_some() {
                    "config"
                } else if entry.base_url.is_some() {
                    "added"
                } else {
                    "spec"
                }
            });
            let operations = services.iter().find(|s| s.name == name).map_or(0, |s| s.operations);
            out.push(Listed { name, base_url, base_url_from, operations, origin: entry.origin });
        }
        Ok(out)
    }

    /// One stored source: what [`Store::list`] says of it, and the summary
    /// of its document (title, version, servers, warnings, ...).
    pub fn show(&self, deck: &Deck, name: &str) -> Result<serde_json::Value> {
        let Some(listed) = self.list(deck)?.into_iter().find(|l| l.name == name) else {
            let names = self.names()?;
            return Err(Error::UnknownService {
                service: name.to_owned(),
                suggestions: opdeck::engine::suggest(name, names.iter().map(String::as_str)),
            });
        };
        let spec_path = self.spec_path(name);
        let bytes = std::fs::read(&spec_path).map_err(|e| Error::io(&spec_path, e))?;
        let doc = opdeck::spec::load(&bytes, name, &opdeck::spec::LoadOptions::default())?;
        let mut shown =
            serde_json::to_value(&listed).map_err(|e| Error::usage(format!("cannot show `{name}`: {e}")))?;
        if let Some(map) = shown.as_object_mut() {
            map.insert("spec".into(), doc.summary());
        }
        Ok(shown)
    }

    /// Forgets a stored source. Returns whether it was there.
    pub fn remove(&self, name: &str) -> Result<bool> {
        let entry = self.entry_path(name);
        if !entry.exists() {
            return Ok(false);
        }
        std::fs::remove_file(&entry).map_err(|e| Error::io(&entry, e))?;
        let spec = self.spec_path(name);
        std::fs::remove_file(&spec)
            .or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })
            .map_err(|e| Error::io(&spec, e))?;
        Ok(true)
    }

    /// Registers every stored source on `deck`. A source that no longer loads
    /// does not stop the others: its error is returned beside its name.
    pub fn load_into(&self, deck: &Deck) -> Result<Vec<(String, Error)>> {
        let mut failed = Vec::new();
        for name in self.names()? {
            if let Err(e) = self.load_one(deck, &name) {
                failed.push((name, e));
            }
        }
        Ok(failed)
    }

    fn load_one(&self, deck: &Deck, name: &str) -> Result<()> {
        let entry_path = self.entry_path(name);
        let entry = self.entry(name)?.ok_or_else(|| Error::io(&entry_path, std::io::ErrorKind::NotFound.into()))?;
        let spec_path = self.spec_path(name);
        let bytes = std::fs::read(&spec_path).map_err(|e| Error::io(&spec_path, e))?;
        deck.add_document(name, &bytes, &entry.origin, entry.base_url.as_deref())?;
        Ok(())
    }

    fn spec_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.spec"))
    }

    fn entry_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.toml"))
    }
}

async fn read_input(spec: &str) -> Result<Vec<u8>> {
    if spec.starts_with("http://") || spec.starts_with("https://") {
        return opdeck::engine::fetch(spec).await;
    }
    opdeck::spec::read_capped(std::path::Path::new(spec), opdeck::spec::MAX_FETCH_BYTES as u64, "max_spec_bytes")
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| Error::io(dir, e))?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(|e| Error::io(path, e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},
        "paths":{"/pets":{"get":{"operationId":"listPets","responses":{"200":{"description":"ok"}}}}}}"#;

    #[test]
    fn added_sources_survive_a_new_deck_and_can_be_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = dir.path().join("pets.json");
        std::fs::write(&spec, SPEC).expect("write spec");
        let store = Store::at(dir.path().join("sources"));
        let deck = Deck::empty(opdeck::Config::default()).expect("deck");
        let ids = store.add(&deck, "pets", spec.to_str().expect("utf8"), Some("http://127.0.0.1:9/")).expect("add");
        assert_eq!(ids, vec!["pets.pets.listPets".to_owned()]);
        std::fs::remove_file(&spec).expect("the copy must not need the original");

        let fresh = Deck::empty(opdeck::Config::default()).expect("deck");
        assert!(store.load_into(&fresh).expect("load").is_empty());
        assert!(fresh.registry().get("pets.pets.listPets").is_ok());
        assert_eq!(fresh.context().base_url("pets").expect("url"), "http://127.0.0.1:9/");

        assert!(store.remove("pets").expect("remove"));
        assert!(store.names().expect("names").is_empty());
        assert!(!store.remove("pets").expect("second remove"));
    }

    const SERVED: &str = r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},
        "servers":[{"url":"http://{host}:4010/v1","variables":{"host":{"default":"127.0.0.1"}}}],
        "paths":{"/pets":{"get":{"operationId":"listPets","responses":{"200":{"description":"ok"}}}}}}"#;

    #[test]
    fn without_a_base_url_the_specs_first_server_is_used_and_a_given_one_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spec = dir.path().join("pets.json");
        std::fs::write(&spec, SERVED).expect("write spec");
        let spec = spec.to_str().expect("utf8");
        let store = Store::at(dir.path().join("sources"));
        let deck = Deck::empty(opdeck::Config::default()).expect("deck");
        store.add(&deck, "pets", spec, None).expect("add");
        assert_eq!(deck.context().base_url("pets").expect("url"), "http://127.0.0.1:4010/v1");
        let listed = store.list(&deck).expect("list");
        assert_eq!(listed[0].base_url_from, Some("spec"));
        assert_eq!(listed[0].operations, 1);

        store.add(&deck, "pets", spec, Some("http://127.0.0.1:9")).expect("add with a url");
        // Added again without one: the given URL stays, in this run and the next.
        let again = Deck::empty(opdeck::Config::default()).expect("deck");
        store.add(&again, "pets", spec, None).expect("add again");
        assert_eq!(again.context().base_url("pets").expect("url"), "http://127.0.0.1:9");
        let fresh = Deck::empty(opdeck::Config::default()).expect("deck");
        assert!(store.load_into(&fresh).expect("load").is_empty());
        let listed = store.list(&fresh).expect("list");
        assert_eq!(
            (listed[0].base_url.as_deref(), listed[0].base_url_from),
            (Some("http://127.0.0.1:9"), Some("added"))
        );
        let shown = store.show(&fresh, "pets").expect("show");
        assert_eq!(shown["spec"]["title"], "t");
        let err = store.show(&fresh, "petz").expect_err("unknown");
        assert!(err.suggestions().contains(&"pets".to_owned()), "{err}");
    }

    #[test]
    fn builtin_names_and_bad_names_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::at(dir.path());
        let deck = Deck::empty(opdeck::Config::default()).expect("deck");
        let err = store.add(&deck, "wildduck", "x.json", None).expect_err("builtin");
        assert!(err.to_string().contains("built-in"), "{err}");
        let err = store.add(&deck, "a.b", "x.json", None).expect_err("dot");
        assert!(err.to_string().contains("not a service name"), "{err}");
        assert!(store.names().expect("names").is_empty(), "nothing written on failure");
    }
}
