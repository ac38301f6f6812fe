//! How operations are named: `<service>.<group>.<name>`, plus a short alias.
//!
//! Users type these names in scripts and on the command line, and the built-in
//! catalogs are compiled with them, so the rules below are part of opdeck's
//! stable surface. Changing any of them renames operations.
//!
//! **Words.** A text is split into words at every character that is not an
//! ASCII letter or digit (`-`, `_`, spaces, `/`), and the words are joined in
//! lowerCamelCase: the first word lowercased, every later word with its first
//! character uppercased and the rest kept. A leading acronym is lowercased as
//! a whole (`SSHKeys` → `sshKeys`). So `system-auth-config` → `systemAuthConfig`,
//! `Backups` → `backups`, `get_users` → `getUsers`, and
//! `downloadFileViaToken_1` → `downloadFileViaToken1`.
//!
//! **Group.** The words of the operation's first tag; without a tag, the
//! first path segment that is not `api`, a version (`v1`, `v2`, ...) or a
//! `{parameter}`; without either, `default`.
//!
//! **Name.** The words of the `operationId`. Without one, it is synthesized
//! from the method and the path, so it can be guessed from the route:
//! the lowercase method, then the words of every literal path segment
//! (skipping a leading `api` and versions), and, when the path ends with a
//! parameter, `By` and the parameter's words. Parameters inside the path,
//! and the `{parameter}` parts of mixed segments (`{id}.png`), add nothing. So `GET /data/persons` → `getDataPersons`,
//! `GET /data/persons/{instance_id}` → `getDataPersonsByInstanceId`,
//! `POST /data/projects/{project_id}/asset-types` → `postDataProjectsAssetTypes`.
//!
//! **Collisions.** When two operations of a document get the same group and
//! name, the later ones in spec order get a suffix `2`, `3`, ... and the
//! loader warns.
//!
//! **Collections.** A service whose spec files generic create/read/update/
//! delete routes under one tag (Kitsu's `Crud`) names them by collection and
//! action instead, when its profile gives a [`CrudRule`]: on
//! `<prefix><collection>`, `GET` is `list` and `POST` is `create`; on
//! `<prefix><collection>/{id}`, `GET` is `get`, `PUT` and `PATCH` are
//! `update` and `DELETE` is `delete`; the group is the collection's words. So
//! Kitsu's `POST /data/persons` is `kitsu.persons.create`, not
//! `kitsu.crud.postDataPersons`. The name the other rules give is kept as a
//! former id that still resolves. Routes of the tag that do not have this
//! shape keep their usual names.
//!
//! **Alias.** `<service>_<group>_<name>` for tool-calling clients, which accept
//! only `^[A-Za-z0-9_-]{1,64}$`. Other characters become `_`; an alias longer
//! than 64 characters keeps its first 55 and ends with `_` and 8 hex digits of
//! a 32-bit FNV-1a hash of the full id, so it stays stable and distinct.

use std::collections::{HashMap, HashSet};

use crate::model::Method;

/// The longest alias tool-calling clients accept.
pub const ALIAS_MAX: usize = 64;

/// Splits `text` into words at every non-alphanumeric character.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty())
}

/// Lowercases a leading run of capitals: `SSHKeys` → `sshKeys`, `Get` → `get`.
fn lower_first_word(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let upper_run = chars.iter().take_while(|c| c.is_ascii_uppercase()).count();
    // In `SSHKeys` the `K` starts the next word, so it stays uppercase.
    let lower_until = if upper_run > 1 && chars.get(upper_run).is_some_and(|c| c.is_ascii_lowercase()) {
        upper_run - 1
    } else {
        upper_run.max(1)
    };
    chars.iter().enumerate().map(|(i, c)| if i < lower_until { c.to_ascii_lowercase() } else { *c }).collect()
}

/// The lowerCamelCase of `text`'s words (see the module docs).
pub fn camel(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in words(text).enumerate() {
        if i == 0 {
            out.push_str(&lower_first_word(word));
        } else {
            upper_first(&mut out, word);
        }
    }
    out
}

/// Appends `word` with its first character uppercased.
fn upper_first(out: &mut String, word: &str) {
    let mut chars = word.chars();
    if let Some(first) = chars.next() {
        out.push(first.to_ascii_uppercase());
        out.push_str(chars.as_str());
    }
}

/// Whether a path segment is a routing prefix that says nothing about the
/// operation (`api`, `v1`, `v2`, ...).
fn is_prefix_segment(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    lower == "api"
        || (lower.len() > 1 && lower.starts_with('v') && lower[1..].chars().all(|c| c.is_ascii_digit() || c == '.'))
}

fn is_param_segment(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The group of an operation: its first tag, else its first meaningful path
/// segment, else `default`.
pub fn group(tags: &[String], path: &str) -> String {
    let from_tag = tags.first().map(|t| camel(t)).filter(|g| !g.is_empty());
    from_tag
        .or_else(|| {
            path.split('/')
                .filter(|s| !s.is_empty() && !is_prefix_segment(s) && !is_param_segment(s))
                .map(camel)
                .find(|g| !g.is_empty())
        })
        .unwrap_or_else(|| "default".to_owned())
}

/// The name of an operation: its operationId's words, else one synthesized
/// from the method and path.
pub fn name(operation_id: Option<&str>, method: Method, path: &str) -> String {
    match operation_id.map(camel).filter(|n| !n.is_empty()) {
        Some(n) => n,
        None => synthesize(method, path),
    }
}

/// A name from method and path (see the module docs).
pub fn synthesize(method: Method, path: &str) -> String {
    let mut out = method.as_str().to_ascii_lowercase();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut leading = true;
    for segment in &segments {
        if is_param_segment(segment) {
            leading = false;
            continue;
        }
        if leading && is_prefix_segment(segment) {
            continue;
        }
        leading = false;
        words(&literal_part(segment)).for_each(|w| upper_first(&mut out, w));
    }
    if let Some(last) = segments.last().filter(|s| is_param_segment(s)) {
        out.push_str("By");
        words(last).for_each(|w| upper_first(&mut out, w));
    }
    out
}

/// A segment without its `{parameter}` parts: `{id}.png` → `.png`.
fn literal_part(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    let mut depth = 0usize;
    for c in segment.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// How a service's generic collection routes are named (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrudRule {
    /// The tag the routes carry (`Crud`), compared without case.
    pub tag: String,
    /// The path prefix before the collection (`/data/`).
    pub prefix: String,
}

/// The group and name `rule` gives an operation, when it is one of the
/// rule's collection routes.
pub fn crud(rule: &CrudRule, tags: &[String], method: Method, path: &str) -> Option<(String, String)> {
    if !tags.first().is_some_and(|t| t.eq_ignore_ascii_case(&rule.tag)) {
        return None;
    }
    let rest = path.strip_prefix(rule.prefix.as_str())?;
    let mut segments = rest.split('/');
    let collection = segments.next().filter(|c| !c.is_empty() && !c.contains('{'))?;
    let instance = match segments.next() {
        None => false,
        Some(s) if is_param_segment(s) && segments.next().is_none() => true,
        Some(_) => return None,
    };
    let action = match (method, instance) {
        (Method::Get, false) => "list",
        (Method::Post, false) => "create",
        (Method::Get, true) => "get",
        (Method::Put | Method::Patch, true) => "update",
        (Method::Delete, true) => "delete",
        _ => return None,
    };
    Some((camel(collection), action.to_owned())).filter(|(g, _)| !g.is_empty())
}

/// The id `<service>.<group>.<name>`.
pub fn id(service: &str, group: &str, name: &str) -> String {
    format!("{service}.{group}.{name}")
}

/// 32-bit FNV-1a: tiny, and the same on every platform and release.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The alias of `id` (see the module docs).
pub fn alias(id: &str) -> String {
    let mut out: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    if out.is_empty() {
        out.push('_');
    }
    if out.len() > ALIAS_MAX {
        out.truncate(ALIAS_MAX - 9);
        out.push_str(&format!("_{:08x}", fnv1a(id)));
    }
    out
}

/// Hands out unique names and aliases within one document, in spec order.
#[derive(Debug, Default)]
pub struct Namer {
    taken: HashMap<(String, String), u32>,
    ids: HashSet<String>,
    aliases: HashSet<String>,
}

/// The names given to one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assigned {
    /// The group.
    pub group: String,
    /// The name, suffixed when it collided.
    pub name: String,
    /// `<service>.<group>.<name>`.
    pub id: String,
    /// The alias, unique among the names this namer handed out.
    pub alias: String,
    /// The name the rules gave before a suffix was needed, when one was.
    pub collided_with: Option<String>,
}

impl Namer {
    /// A namer with nothing taken.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names one operation, suffixing the name when its group already has it.
    pub fn assign(&mut self, service: &str, group: String, name: String) -> Assigned {
        let mut suffix = *self.taken.get(&(group.clone(), name.clone())).unwrap_or(&1);
        let mut final_name = name.clone();
        let mut id_text = id(service, &group, &final_name);
        while self.ids.contains(&id_text) {
            suffix += 1;
            final_name = format!("{name}{suffix}");
            id_text = id(service, &group, &final_name);
        }
        self.taken.insert((group.clone(), name.clone()), suffix);
        self.ids.insert(id_text.clone());
        let mut alias_text = alias(&id_text);
        let mut n = 2;
        while self.aliases.contains(&alias_text) {
            alias_text = alias(&format!("{id_text}~{n}"));
            n += 1;
        }
        self.aliases.insert(alias_text.clone());
        let collided_with = (final_name != name).then_some(name);
        Assigned { group, name: final_name, id: id_text, alias: alias_text, collided_with }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rstest::rstest]
    #[case("system-auth-config", "systemAuthConfig")]
    #[case("Backups", "backups")]
    #[case("Project Templates", "projectTemplates")]
    #[case("downloadFileViaToken_1", "downloadFileViaToken1")]
    #[case("GetServicesResticBackupList", "getServicesResticBackupList")]
    #[case("get_users", "getUsers")]
    #[case("SSHKeys", "sshKeys")]
    #[case("ID", "id")]
    #[case("__", "")]
    fn camel_case_follows_the_documented_rules(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(camel(input), expected);
    }

    #[rstest::rstest]
    #[case(Method::Get, "/data/persons", "getDataPersons")]
    #[case(Method::Get, "/data/persons/{instance_id}", "getDataPersonsByInstanceId")]
    #[case(Method::Post, "/data/projects/{project_id}/asset-types", "postDataProjectsAssetTypes")]
    #[case(Method::Get, "/api/v2/users/", "getUsers")]
    #[case(Method::Delete, "/", "delete")]
    #[case(Method::Get, "/pictures/{instance_id}.png", "getPicturesPng")]
    fn names_are_synthesized_from_method_and_path(#[case] m: Method, #[case] path: &str, #[case] expected: &str) {
        assert_eq!(synthesize(m, path), expected);
        assert_eq!(name(None, m, path), expected);
    }

    #[test]
    fn groups_come_from_tags_then_paths() {
        assert_eq!(group(&["system-auth-config".into()], "/x"), "systemAuthConfig");
        assert_eq!(group(&[], "/api/v1/{id}/users"), "users");
        assert_eq!(group(&[], "/{id}"), "default");
        assert_eq!(group(&["--".into()], "/files"), "files");
    }

    #[rstest::rstest]
    #[case(Method::Get, "/data/projects", Some(("projects", "list")))]
    #[case(Method::Post, "/data/persons", Some(("persons", "create")))]
    #[case(Method::Get, "/data/task-types/{instance_id}", Some(("taskTypes", "get")))]
    #[case(Method::Put, "/data/projects/{instance_id}", Some(("projects", "update")))]
    #[case(Method::Patch, "/data/projects/{instance_id}", Some(("projects", "update")))]
    #[case(Method::Delete, "/data/projects/{instance_id}", Some(("projects", "delete")))]
    #[case(Method::Post, "/data/projects/{instance_id}", None)]
    #[case(Method::Delete, "/data/projects", None)]
    #[case(Method::Get, "/data/projects/{project_id}/team", None)]
    #[case(Method::Post, "/actions/task-types/reorder", None)]
    #[case(Method::Get, "/data/{id}", None)]
    fn crud_routes_are_named_by_collection_and_action(
        #[case] m: Method,
        #[case] path: &str,
        #[case] expected: Option<(&str, &str)>,
    ) {
        let rule = CrudRule { tag: "Crud".into(), prefix: "/data/".into() };
        let got = crud(&rule, &["Crud".into()], m, path);
        assert_eq!(got.as_ref().map(|(g, n)| (g.as_str(), n.as_str())), expected);
        assert_eq!(crud(&rule, &["Projects".into()], m, path), None, "only the rule's tag");
    }

    #[test]
    fn long_aliases_are_shortened_with_a_stable_hash() {
        let id = format!("svc.group.{}", "a".repeat(80));
        let a = alias(&id);
        assert_eq!(a.len(), ALIAS_MAX);
        assert_eq!(a, alias(&id));
        assert_ne!(a, alias(&format!("{id}b")));
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        assert_eq!(alias("wildduck.users.getUsers"), "wildduck_users_getUsers");
    }

    #[test]
    fn collisions_get_suffixes_in_order() {
        let mut namer = Namer::new();
        let a = namer.assign("s", "g".into(), "n".into());
        let b = namer.assign("s", "g".into(), "n".into());
        let c = namer.assign("s", "g".into(), "n".into());
        assert_eq!((a.name.as_str(), b.name.as_str(), c.name.as_str()), ("n", "n2", "n3"));
        assert_eq!(b.collided_with.as_deref(), Some("n"));
        assert_eq!(a.collided_with, None);
        // An operationId that already ends in the suffix does not steal it.
        let d = namer.assign("s", "g".into(), "n4".into());
        let e = namer.assign("s", "g".into(), "n".into());
        assert_eq!(d.name, "n4");
        assert_eq!(e.name, "n5");
    }
}
