//! The registry: every operation of the deck, by id, from any [`Source`].
//!
//! Sources are registered under a service name and replaced as a whole, so a
//! service never ends up half loaded. Lookups take a read lock only long
//! enough to clone an `Arc`, so many tasks can call operations at once while
//! a script adds a new source.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use indexmap::IndexMap;

use super::Operation;
use crate::error::{Error, Result};
use crate::model::Method;

/// Something that yields operations for one service.
pub trait Source: Send + Sync {
    /// The service the operations belong to (the first part of their ids).
    fn service(&self) -> &str;

    /// Where the operations come from, for listings (`builtin`, a path, a URL).
    fn origin(&self) -> String;

    /// The operations.
    fn operations(&self) -> Result<Vec<Arc<dyn Operation>>>;
}

/// A service as the registry lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ServiceInfo {
    /// The service name.
    pub name: String,
    /// How many operations it has.
    pub operations: usize,
    /// Where they came from.
    pub origin: String,
}

/// Which operations a listing keeps. Every field left at its default keeps all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this service.
    pub service: Option<String>,
    /// Only this group.
    pub group: Option<String>,
    /// Only deprecated (`Some(true)`) or only current (`Some(false)`) ones.
    pub deprecated: Option<bool>,
    /// Only this method.
    pub method: Option<Method>,
    /// Only methods that read (`GET`, `HEAD`, `OPTIONS`).
    pub read_only: bool,
    /// Only operations introduced at or after this version (`4.30`).
    pub since: Option<String>,
}

impl Filter {
    /// Whether `op` passes the filter.
    pub fn matches(&self, op: &dyn Operation) -> bool {
        let m = op.head();
        self.service.as_ref().is_none_or(|s| *s == m.service)
            && self.group.as_ref().is_none_or(|g| g.eq_ignore_ascii_case(m.group))
            && self.deprecated.is_none_or(|d| d == m.deprecated)
            && self.method.is_none_or(|x| x == m.method)
            && (!self.read_only || m.method.is_read_only())
            && self
                .since
                .as_ref()
                .is_none_or(|since| m.since.is_some_and(|v| compare_versions(v, since) != std::cmp::Ordering::Less))
    }
}

/// Compares dotted versions numerically (`4.9` < `4.30`); a leading `v` is ignored.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    let parts =
        |s: &str| -> Vec<u64> { s.trim_start_matches(['v', 'V']).split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (a, b) = (parts(a), parts(b));
    for i in 0..a.len().max(b.len()) {
        let o = a.get(i).unwrap_or(&0).cmp(b.get(i).unwrap_or(&0));
        if o.is_ne() {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

struct Entry {
    origin: String,
    /// The source's operations, then the native ones added beside them.
    ops: Vec<Arc<dyn Operation>>,
    /// How many of `ops`, from the end, were added one by one
    /// ([`Registry::add_operation`]); a new source for the service keeps them.
    native: usize,
}

#[derive(Default)]
struct Inner {
    services: IndexMap<String, Entry>,
    /// ids and aliases to operations.
    index: HashMap<String, Arc<dyn Operation>>,
    /// Whether `index` misses the last registrations. It is rebuilt by the
    /// next lookup, so registering several sources in a row costs one build.
    stale: bool,
}

impl Inner {
    fn reindex(&mut self) {
        self.index.clear();
        for entry in self.services.values() {
            for op in &entry.ops {
                let head = op.head();
                // Former ids (and their aliases) resolve, below anything current.
                for former in head.former_ids {
                    self.index.insert(crate::naming::alias(former), op.clone());
                    self.index.insert(former.clone(), op.clone());
                }
            }
        }
        for entry in self.services.values() {
            for op in &entry.ops {
                self.index.insert(op.head().alias.to_owned(), op.clone());
            }
        }
        // Ids win over aliases that happen to look the same.
        for entry in self.services.values() {
            for op in &entry.ops {
                self.index.insert(op.head().id.to_owned(), op.clone());
            }
        }
        self.stale = false;
    }
}

/// All operations of the deck.
#[derive(Default)]
pub struct Registry {
    inner: RwLock<Inner>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.services().iter().map(|s| (&s.name, s.operations))).finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half written:
        // every write builds its new state before it takes the lock.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers every operation of `source`, replacing what its service had.
    /// Returns the ids registered.
    pub fn register(&self, source: &dyn Source) -> Result<Vec<String>> {
        let ops = source.operations()?;
        self.register_operations(source.service(), source.origin(), ops)
    }

    /// Registers `ops` as the whole of `service`, replacing what it had.
    pub fn register_operations(
        &self,
        service: &str,
        origin: String,
        ops: Vec<Arc<dyn Operation>>,
    ) -> Result<Vec<String>> {
        let mut seen = std::collections::HashSet::new();
        for op in &ops {
            let m = op.head();
            if m.service != service {
                return Err(Error::usage(format!(
                    "operation `{}` belongs to service `{}`, not `{service}`",
                    m.id, m.service
                )));
            }
            if !seen.insert(m.id) {
                return Err(Error::usage(format!("operation id `{}` is registered twice", m.id)));
            }
        }
        drop(seen);
        let ids: Vec<String> = ops.iter().map(|op| op.head().id.to_owned()).collect();
        let mut inner = self.write();
        let mut ops = ops;
        let mut native = 0;
        if let Some(old) = inner.services.get(service) {
            for op in &old.ops[old.ops.len() - old.native..] {
                if !ids.iter().any(|id| id == op.head().id) {
                    ops.push(op.clone());
                    native += 1;
                }
            }
        }
        // The origin is shown in listings (`opdeck services`): a URL keeps
        // no userinfo or credential query value.
        let origin = crate::wire::redact_text(&origin).into_owned();
        inner.services.insert(service.to_owned(), Entry { origin, ops, native });
        inner.stale = true;
        Ok(ids)
    }

    /// Adds one operation to its service, beside what the service has: a
    /// service that does not exist yet is created (origin `native`), and an
    /// operation with the same id is replaced. Returns the id.
    pub fn add_operation(&self, op: Arc<dyn Operation>) -> Result<String> {
        let (service, id) = {
            let head = op.head();
            (head.service.to_owned(), head.id.to_owned())
        };
        let mut inner = self.write();
        let entry = inner.services.entry(service).or_insert_with(|| Entry {
            origin: "native".into(),
            ops: Vec::new(),
            native: 0,
        });
        match entry.ops.iter().position(|o| o.head().id == id) {
            Some(i) => {
                if i < entry.ops.len() - entry.native {
                    // A spec operation gives way: the native one now counts as added.
                    entry.ops.remove(i);
                    entry.ops.push(op);
                    entry.native += 1;
                } else {
                    entry.ops[i] = op;
                }
            }
            None => {
                entry.ops.push(op);
                entry.native += 1;
            }
        }
        inner.stale = true;
        Ok(id)
    }

    /// Removes a service and its operations. Returns whether it was there.
    pub fn unregister(&self, service: &str) -> bool {
        let mut inner = self.write();
        let removed = inner.services.shift_remove(service).is_some();
        inner.stale |= removed;
        removed
    }

    /// The operation with this id or alias, or a former id of a renamed one.
    pub fn get(&self, id: &str) -> Result<Arc<dyn Operation>> {
        let inner = loop {
            let inner = self.read();
            if !inner.stale {
                break inner;
            }
            drop(inner);
            let mut inner = self.write();
            if inner.stale {
                inner.reindex();
            }
        };
        if let Some(op) = inner.index.get(id) {
            return Ok(op.clone());
        }
        let suggestions = suggest(id, inner.services.values().flat_map(|e| e.ops.iter().map(|o| o.head().id)));
        Err(Error::UnknownOperation { id: id.to_owned(), suggestions })
    }

    /// Whether a service is registered.
    pub fn has_service(&self, service: &str) -> bool {
        self.read().services.contains_key(service)
    }

    /// The operations of one service, or a typed error naming close services.
    pub fn service(&self, service: &str) -> Result<Vec<Arc<dyn Operation>>> {
        let inner = self.read();
        match inner.services.get(service) {
            Some(e) => Ok(e.ops.clone()),
            None => Err(Error::UnknownService {
                service: service.to_owned(),
                suggestions: suggest(service, inner.services.keys().map(String::as_str)),
            }),
        }
    }

    /// The services, in registration order, with their counts.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.read()
            .services
            .iter()
            .map(|(name, e)| ServiceInfo { name: name.clone(), operations: e.ops.len(), origin: e.origin.clone() })
            .collect()
    }

    /// Every operation that passes `filter`, in registration order.
    pub fn list(&self, filter: &Filter) -> Vec<Arc<dyn Operation>> {
        let inner = self.read();
        let services: Box<dyn Iterator<Item = &Entry>> = match &filter.service {
            Some(s) => Box::new(inner.services.get(s).into_iter()),
            None => Box::new(inner.services.values()),
        };
        services.flat_map(|e| e.ops.iter()).filter(|op| filter.matches(op.as_ref())).cloned().collect()
    }

    /// Operations that pass `filter`, ranked by how well they match `query`
    /// (id, alias, summary, path and parameter names), best first.
    pub fn search(&self, query: &str, filter: &Filter) -> Vec<Arc<dyn Operation>> {
        let terms: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        if terms.is_empty() {
            return self.list(filter);
        }
        let mut scored: Vec<(u32, usize, Arc<dyn Operation>)> = self
            .list(filter)
            .into_iter()
            .enumerate()
            .filter_map(|(i, op)| score(op.as_ref(), &terms).map(|s| (s, i, op)))
            .collect();
        // Best score first; among equals the shorter name, then the spec's order.
        scored
            .sort_by(|a, b| b.0.cmp(&a.0).then(a.2.head().name.len().cmp(&b.2.head().name.len())).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, _, op)| op).collect()
    }
}

/// Verbs people search with, the methods they mean and the words operation
/// names use for them: `create person` finds `POST /data/persons`.
const VERBS: [(&[&str], &[Method]); 4] = [
    (&["create", "add", "new", "post", "insert"], &[Method::Post]),
    (&["list", "get", "show", "read", "fetch", "find"], &[Method::Get]),
    (&["update", "edit", "set", "put", "patch", "modify", "change"], &[Method::Put, Method::Patch]),
    (&["delete", "remove", "del", "rm", "destroy"], &[Method::Delete]),
];

/// The verb class of a search term, if it is a verb.
fn verb(term: &str) -> Option<(&'static [&'static str], &'static [Method])> {
    VERBS.iter().find(|(words, _)| words.contains(&term)).copied()
}

/// The forms a word may be the plural or singular of: `persons` → person,
/// `statuses` → status, `companies` → company, `people` → person.
fn forms(word: &str) -> Vec<std::borrow::Cow<'_, str>> {
    use std::borrow::Cow;
    let mut out = vec![Cow::Borrowed(word)];
    match word {
        "people" => out.push(Cow::Borrowed("person")),
        "children" => out.push(Cow::Borrowed("child")),
        _ => {}
    }
    if let Some(stem) = word.strip_suffix("ies").filter(|s| !s.is_empty()) {
        out.push(Cow::Owned(format!("{stem}y")));
    }
    if let Some(stem) = word.strip_suffix("es").filter(|s| !s.is_empty()) {
        out.push(Cow::Borrowed(stem));
    }
    if let Some(stem) = word.strip_suffix('s').filter(|s| !s.is_empty() && !s.ends_with('s')) {
        out.push(Cow::Borrowed(stem));
    }
    out
}

/// Whether two words are the same up to a plural.
fn same_word(a: &str, b: &str) -> bool {
    a == b || {
        let fb = forms(b);
        forms(a).iter().any(|x| fb.contains(x))
    }
}

/// How well an operation matches every term; `None` when a term matches nothing.
///
/// The group is the resource, so it counts more than a word of the name:
/// `user` ranks `getUsers` in group `users` above `getUserAddress` in group
/// `addresses`, and both above an operation that only mentions users in its
/// path. Plurals match singulars. A verb (`create`, `list`, `remove`, ...)
/// also matches the method it means and the names that use a synonym.
fn score(op: &dyn Operation, terms: &[String]) -> Option<u32> {
    let m = op.head();
    let id = m.id.to_lowercase();
    let name = m.name.to_lowercase();
    let words = words(m.name);
    let group = m.group.to_lowercase();
    let summary = m.summary.to_lowercase();
    let path = m.path.to_lowercase();
    let mut total = 0;
    for term in terms {
        let same = |word: &str| same_word(word, term);
        let verb = verb(term);
        let mut best = if id == *term || m.alias.eq_ignore_ascii_case(term) {
            100
        } else if name == *term {
            90
        } else if verb.is_some_and(|(synonyms, _)| synonyms.contains(&name.as_str())) {
            // `add person` finds `kitsu.persons.create`.
            85
        } else if same(&group) {
            75
        } else if words.iter().any(|w| same(w)) {
            70
        } else if verb.is_some_and(|(synonyms, _)| words.iter().any(|w| synonyms.contains(&w.as_str()))) {
            65
        } else if name.contains(term.as_str()) {
            50
        } else if verb.is_some_and(|(_, methods)| methods.contains(&m.method)) {
            45
        } else if id.contains(term.as_str()) {
            40
        } else if summary.contains(term.as_str()) {
            30
        } else if path.contains(term.as_str()) {
            20
        } else if m.parameters.iter().any(|p| p.to_lowercase().contains(term.as_str())) {
            10
        } else {
            return None;
        };
        if best < 100 && same(&group) {
            best += 5;
        }
        // A verb said of the wrong method counts for less: `create` is not
        // about `GET .../createdAt`.
        if verb.is_some_and(|(_, methods)| !methods.contains(&m.method)) && best < 90 {
            best /= 2;
        }
        total += best;
    }
    Some(total)
}

/// The lowercase words of a camelCase name (`getUserAddress` → get, user, address).
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_alphanumeric() {
            prev_lower = false;
            out.push(String::new());
            continue;
        }
        if c.is_uppercase() && prev_lower || out.is_empty() {
            out.push(String::new());
        }
        if let Some(last) = out.last_mut() {
            last.extend(c.to_lowercase());
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    out.retain(|w| !w.is_empty());
    out
}

/// Up to three known names closest to `wanted`, best first.
pub fn suggest<'a>(wanted: &str, known: impl Iterator<Item = &'a str>) -> Vec<String> {
    let wanted_lower = wanted.to_lowercase();
    let wanted_tail = wanted_lower.rsplit('.').next().unwrap_or(&wanted_lower).to_owned();
    let mut scored: Vec<(f64, &str)> = known
        .map(|k| {
            let lower = k.to_lowercase();
            let tail = lower.rsplit('.').next().unwrap_or(&lower);
            let whole = strsim::jaro_winkler(&wanted_lower, &lower);
            let by_tail = strsim::jaro_winkler(&wanted_tail, tail) * 0.98;
            let containment = if lower.ends_with(&wanted_lower) { 0.99 } else { 0.0 };
            (whole.max(by_tail).max(containment), k)
        })
        .filter(|(s, _)| *s >= 0.8)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, k)| k.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(compare_versions("4.9.0", "4.30"), Less);
        assert_eq!(compare_versions("v4.30.0", "4.30"), Equal);
        assert_eq!(compare_versions("4.42", "4.30.1"), Greater);
    }

    #[test]
    fn names_split_into_words() {
        assert_eq!(words("getUserAddress"), ["get", "user", "address"]);
        assert_eq!(words("downloadFileViaToken1"), ["download", "file", "via", "token1"]);
    }

    #[test]
    fn suggestions_prefer_close_ids() {
        let known = ["wildduck.users.getUsers", "wildduck.users.getUser", "kitsu.projects.getProjects"];
        let s = suggest("wildduck.users.getUsr", known.into_iter());
        assert_eq!(s.first().map(String::as_str), Some("wildduck.users.getUser"));
        let s = suggest("getProjects", known.into_iter());
        assert_eq!(s.first().map(String::as_str), Some("kitsu.projects.getProjects"));
        assert!(suggest("zzzzzz", known.into_iter()).is_empty());
    }
}
