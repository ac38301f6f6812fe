//! Values made up from a JSON Schema, deterministic for one random seed.
//!
//! The generator aims at values a validator accepts: it honours `const`,
//! `enum`, `format`, bounds, lengths, simple `pattern`s (through the regex's
//! syntax tree), `$ref`s with a bounded depth, merged `allOf`s and the first
//! branch of `oneOf`/`anyOf`. Past [`SOFT_DEPTH`] only required properties
//! and minimum item counts are made, and past [`HARD_DEPTH`] the smallest
//! value of the type, so recursive models stay finite.

use fastrand::Rng;
use regex_syntax::hir::{Class, Hir, HirKind};
use serde_json::{Map, Number, Value};

use crate::model::Definitions;

use super::params::types;

/// Below this depth optional properties of responses are filled in.
const RICH_DEPTH: usize = 3;
/// From this depth on, only what the schema requires is made.
const SOFT_DEPTH: usize = 6;
/// From this depth on, the smallest value of the type is returned.
const HARD_DEPTH: usize = 12;

/// Whether values are made for a request (skip `readOnly`, only required
/// properties) or a response (skip `writeOnly`, fill in optional ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// A value opdeck could send.
    Request,
    /// A value a server could answer.
    Response,
}

/// A schema-driven value maker over one service's definitions.
pub(crate) struct Generator<'a> {
    defs: &'a Definitions,
    rng: Rng,
    mode: Mode,
}

const WORDS: [&str; 8] = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
const FIRST_NAMES: [&str; 12] =
    ["Ann", "Bruno", "Chloe", "Dev", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas", "Kenji", "Lea"];
const LAST_NAMES: [&str; 12] =
    ["Lee", "Moreau", "Nowak", "Okafor", "Petit", "Quinn", "Rossi", "Sato", "Tanaka", "Ueda", "Varga", "Weber"];

impl<'a> Generator<'a> {
    /// A generator seeded with `seed`.
    pub(crate) fn new(defs: &'a Definitions, seed: u64, mode: Mode) -> Self {
        Generator { defs, rng: Rng::with_seed(seed), mode }
    }

    /// A value for `schema`.
    pub(crate) fn value(&mut self, schema: &Value) -> Value {
        self.at(schema, 0)
    }

    fn at(&mut self, schema: &Value, depth: usize) -> Value {
        let s = self.defs.resolve(schema);
        let Some(obj) = s.as_object() else { return self.word() };
        if let Some(c) = obj.get("const") {
            return c.clone();
        }
        if let Some(options) = obj.get("enum").and_then(Value::as_array).filter(|o| !o.is_empty()) {
            let non_null: Vec<&Value> = options.iter().filter(|v| !v.is_null()).collect();
            let pool = if non_null.is_empty() { options.iter().collect() } else { non_null };
            return pool[self.rng.usize(..pool.len())].clone();
        }
        if self.mode == Mode::Response
            && let Some(example) = obj.get("example").or_else(|| obj.get("examples").and_then(|e| e.get(0)))
            && fits_type(self.defs, s, example)
        {
            return example.clone();
        }
        if let Some(all) = obj.get("allOf").and_then(Value::as_array) {
            let merged = self.merge(obj, all);
            return self.at(&merged, depth + 1);
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(branches) = obj.get(key).and_then(Value::as_array) {
                let pick = branches.iter().find(|b| self.defs.resolve(b).get("type") != Some(&Value::from("null")));
                if let Some(branch) = pick.or(branches.first()) {
                    return self.at(branch, depth + 1);
                }
            }
        }
        let ts = types(self.defs, s);
        let ty = ts.iter().copied().find(|t| *t != "null");
        let nullable = ts.contains(&"null");
        if depth >= HARD_DEPTH {
            return smallest(ty, nullable);
        }
        match ty {
            Some("object") => self.object(obj, depth),
            Some("array") => self.array(obj, depth),
            Some("integer") => self.integer(obj),
            Some("number") => self.number(obj),
            Some("boolean") => Value::Bool(self.rng.bool()),
            Some("string") => Value::String(self.string(obj)),
            None if nullable => Value::Null,
            _ => self.word(),
        }
    }

    /// One schema from an `allOf`: properties and `required` unioned, other
    /// keywords taken from the first branch that has them.
    fn merge(&self, base: &Map<String, Value>, all: &[Value]) -> Value {
        let mut out = base.clone();
        out.remove("allOf");
        let mut props = out.remove("properties").and_then(|p| p.as_object().cloned()).unwrap_or_default();
        let mut required: Vec<Value> = out.remove("required").and_then(|r| r.as_array().cloned()).unwrap_or_default();
        for branch in all {
            let b = self.defs.resolve(branch);
            let merged_branch;
            let b = match b.get("allOf").and_then(Value::as_array) {
                Some(inner) => {
                    merged_branch = self.merge(b.as_object().unwrap_or(&Map::new()), inner);
                    &merged_branch
                }
                None => b,
            };
            let Some(bo) = b.as_object() else { continue };
            for (k, v) in bo {
                match k.as_str() {
                    "properties" => {
                        for (name, p) in v.as_object().into_iter().flatten() {
                            props.entry(name.clone()).or_insert_with(|| p.clone());
                        }
                    }
                    "required" => required.extend(v.as_array().into_iter().flatten().cloned()),
                    _ => {
                        out.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
            }
        }
        if !props.is_empty() {
            out.insert("properties".into(), Value::Object(props));
            out.entry("type").or_insert_with(|| "object".into());
        }
        if !required.is_empty() {
            out.insert("required".into(), Value::Array(required));
        }
        Value::Object(out)
    }

    fn object(&mut self, obj: &Map<String, Value>, depth: usize) -> Value {
        let required: Vec<&str> =
            obj.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let mut out = Map::new();
        let props = obj.get("properties").and_then(Value::as_object);
        for (name, prop) in props.into_iter().flatten() {
            let is_required = required.contains(&name.as_str());
            let p = self.defs.resolve(prop);
            let flag = |k: &str| p.get(k).and_then(Value::as_bool).unwrap_or(false);
            let skip = match self.mode {
                Mode::Request => !is_required,
                Mode::Response => !is_required && (depth >= RICH_DEPTH || flag("writeOnly")),
            };
            if skip {
                continue;
            }
            let value = match self.by_name(name, p) {
                Some(text) => Value::String(text),
                None => self.at(prop, depth + 1),
            };
            out.insert(name.clone(), value);
        }
        let extra = obj.get("additionalProperties").filter(|a| a.is_object());
        for name in required {
            if !out.contains_key(name) {
                let value = match extra {
                    Some(schema) => self.at(schema, depth + 1),
                    None => self.word(),
                };
                out.insert(name.to_owned(), value);
            }
        }
        let min = obj.get("minProperties").and_then(Value::as_u64).unwrap_or(0) as usize;
        if let Some(schema) = extra
            && (out.len() < min || (props.is_none() && self.mode == Mode::Response && depth < SOFT_DEPTH))
        {
            let mut i = 1;
            while out.len() < min.max(1) && i < 64 {
                let value = self.at(schema, depth + 1);
                out.insert(format!("key{i}"), value);
                i += 1;
            }
        }
        Value::Object(out)
    }

    fn array(&mut self, obj: &Map<String, Value>, depth: usize) -> Value {
        let min = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = obj.get("maxItems").and_then(Value::as_u64).map_or(usize::MAX, |m| m as usize);
        let wanted = if depth >= SOFT_DEPTH {
            min
        } else {
            match self.mode {
                Mode::Request => min.max(1),
                Mode::Response => min.max(1 + self.rng.usize(..2)),
            }
        }
        .min(max)
        .min(256);
        let items = obj.get("items").cloned().unwrap_or(Value::Bool(true));
        let unique = obj.get("uniqueItems").and_then(Value::as_bool).unwrap_or(false);
        let mut out: Vec<Value> = Vec::with_capacity(wanted);
        let mut attempts = 0;
        while out.len() < wanted && attempts < wanted * 4 + 4 {
            attempts += 1;
            let v = self.at(&items, depth + 1);
            if !unique || !out.contains(&v) {
                out.push(v);
            }
        }
        Value::Array(out)
    }

    fn bounds(&self, obj: &Map<String, Value>, integer: bool) -> (f64, f64) {
        let step = if integer { 1.0 } else { 0.01 };
        let num = |k: &str| obj.get(k).and_then(Value::as_f64);
        // OpenAPI 3.0 writes exclusiveness as booleans beside minimum/maximum.
        let flag = |k: &str| obj.get(k).and_then(Value::as_bool).unwrap_or(false);
        let lo = match (num("exclusiveMinimum"), num("minimum")) {
            (Some(x), _) => Some(x + step),
            (None, Some(m)) if flag("exclusiveMinimum") => Some(m + step),
            (None, m) => m,
        };
        let hi = match (num("exclusiveMaximum"), num("maximum")) {
            (Some(x), _) => Some(x - step),
            (None, Some(m)) if flag("exclusiveMaximum") => Some(m - step),
            (None, m) => m,
        };
        let int32 = obj.get("format").and_then(Value::as_str) == Some("int32");
        let (lo, hi) = match (lo, hi) {
            (Some(l), Some(h)) => (l, h),
            (Some(l), None) => (l, l + 100.0),
            (None, Some(h)) => (if h >= 1.0 { 1.0 } else { h - 100.0 }, h),
            (None, None) => (1.0, 1000.0),
        };
        let (lo, hi) = if int32 { (lo.max(i32::MIN as f64), hi.min(i32::MAX as f64)) } else { (lo, hi) };
        (lo, hi.max(lo))
    }

    fn integer(&mut self, obj: &Map<String, Value>) -> Value {
        let (lo, hi) = self.bounds(obj, true);
        let (lo, hi) = (lo.ceil() as i64, hi.floor() as i64);
        let span = (hi.saturating_sub(lo)).clamp(0, 1000);
        let mut v = lo.saturating_add(self.rng.i64(0..=span));
        if let Some(m) = obj.get("multipleOf").and_then(Value::as_i64).filter(|m| *m > 0) {
            v = lo.div_euclid(m).saturating_add(if lo.rem_euclid(m) == 0 { 0 } else { 1 }).saturating_mul(m);
        }
        Value::Number(v.into())
    }

    fn number(&mut self, obj: &Map<String, Value>) -> Value {
        let (lo, hi) = self.bounds(obj, false);
        let span = (hi - lo).min(1000.0);
        let mut v = ((lo + self.rng.f64() * span) * 100.0).round() / 100.0;
        if let Some(m) = obj.get("multipleOf").and_then(Value::as_f64).filter(|m| *m > 0.0) {
            v = (lo / m).ceil() * m;
        }
        let v = v.clamp(lo, hi);
        Number::from_f64(v).map_or(Value::Null, Value::Number)
    }

    /// A value that looks like what a field of this name holds (a person's
    /// name, an email, a user name), for a plain string field: one with no
    /// format, pattern, enum or example of its own, and room for the text.
    fn by_name(&mut self, name: &str, schema: &Value) -> Option<String> {
        let obj = schema.as_object()?;
        let plain = ["format", "pattern", "enum", "const", "example", "examples"].iter().all(|k| !obj.contains_key(*k));
        if !plain || !types(self.defs, schema).contains(&"string") {
            return None;
        }
        let key: String = name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        let first = FIRST_NAMES[self.rng.usize(..FIRST_NAMES.len())];
        let last = LAST_NAMES[self.rng.usize(..LAST_NAMES.len())];
        let text = match key.as_str() {
            "firstname" | "givenname" => first.to_owned(),
            "lastname" | "surname" | "familyname" => last.to_owned(),
            "name" | "displayname" | "fullname" | "realname" => format!("{first} {last}"),
            "email" | "mail" | "primaryemail" | "emailaddress" | "address" => {
                format!("{}.{}@example.com", first.to_ascii_lowercase(), last.to_ascii_lowercase())
            }
            "username" | "login" | "loginname" => {
                format!("{}.{}", first.to_ascii_lowercase(), last.to_ascii_lowercase())
            }
            "phone" | "phonenumber" | "mobile" => format!("+1 555 01{:02}", self.rng.u8(..100)),
            _ => return None,
        };
        let len = text.chars().count() as u64;
        let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0);
        let max = obj.get("maxLength").and_then(Value::as_u64).unwrap_or(u64::MAX);
        (min..=max).contains(&len).then_some(text)
    }

    fn word(&mut self) -> Value {
        Value::String(format!("{}-{}", WORDS[self.rng.usize(..WORDS.len())], self.rng.u32(1..1000)))
    }

    fn string(&mut self, obj: &Map<String, Value>) -> String {
        let r = &mut self.rng;
        let format = obj.get("format").and_then(Value::as_str).unwrap_or("");
        let formatted = match format {
            "date-time" => Some(format!(
                "2024-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                r.u8(1..=12),
                r.u8(1..=28),
                r.u8(0..24),
                r.u8(0..60),
                r.u8(0..60)
            )),
            "date" => Some(format!("2024-{:02}-{:02}", r.u8(1..=12), r.u8(1..=28))),
            "time" => Some(format!("{:02}:{:02}:{:02}Z", r.u8(0..24), r.u8(0..60), r.u8(0..60))),
            "email" | "idn-email" => Some(format!("user{}@example.com", r.u32(1..10_000))),
            "uuid" => {
                let (a, b) = (r.u64(..), r.u64(..));
                Some(format!(
                    "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
                    a >> 32,
                    (a >> 16) & 0xffff,
                    a & 0xfff,
                    b >> 52,
                    b & 0xffff_ffff_ffff
                ))
            }
            "uri" | "url" | "iri" | "uri-reference" | "iri-reference" => {
                Some(format!("https://example.com/items/{}", r.u32(1..10_000)))
            }
            "hostname" | "idn-hostname" => Some(format!("host{}.example.com", r.u32(1..1000))),
            "ipv4" => Some(format!("192.0.2.{}", r.u8(1..255))),
            "ipv6" => Some(format!("2001:db8::{:x}", r.u16(1..))),
            "byte" => Some("c2ltdWxhdGVk".to_owned()),
            "binary" => Some("simulated bytes".to_owned()),
            "duration" => Some(format!("P{}D", r.u8(1..30))),
            "json-pointer" => Some("/items/0".to_owned()),
            _ => None,
        };
        if let Some(s) = formatted {
            return s;
        }
        if let Some(s) = obj.get("pattern").and_then(Value::as_str).and_then(|p| from_pattern(&mut self.rng, p)) {
            return s;
        }
        let min = obj.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = obj.get("maxLength").and_then(Value::as_u64).map_or(usize::MAX, |m| m as usize);
        let mut s = match self.word() {
            Value::String(s) => s,
            _ => String::new(),
        };
        while s.chars().count() < min {
            s.push('x');
        }
        s.chars().take(max).collect()
    }
}

fn smallest(ty: Option<&str>, nullable: bool) -> Value {
    match ty {
        _ if nullable => Value::Null,
        Some("object") => Value::Object(Map::new()),
        Some("array") => Value::Array(Vec::new()),
        Some("integer" | "number") => Value::from(0),
        Some("boolean") => Value::Bool(false),
        _ => Value::String(String::new()),
    }
}

/// Whether `value` is of a JSON type `schema` allows (no type allows all).
pub(crate) fn fits_type(defs: &Definitions, schema: &Value, value: &Value) -> bool {
    let ts = types(defs, schema);
    ts.is_empty()
        || ts.iter().any(|t| match (*t, value) {
            ("object", Value::Object(_)) | ("array", Value::Array(_)) | ("string", Value::String(_)) => true,
            ("boolean", Value::Bool(_)) | ("null", Value::Null) => true,
            ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
            ("number", Value::Number(_)) => true,
            _ => false,
        })
}

/// A string matching `pattern`, or `None` when the pattern uses what the
/// regex syntax tree cannot express (look-arounds, back-references).
fn from_pattern(rng: &mut Rng, pattern: &str) -> Option<String> {
    let hir = regex_syntax::ParserBuilder::new().unicode(false).utf8(false).build().parse(pattern).ok()?;
    let mut out = Vec::new();
    emit(rng, &hir, &mut out, 0);
    String::from_utf8(out).ok()
}

/// Characters a class member is preferably drawn from: readable ones.
const READABLE: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.";

fn emit(rng: &mut Rng, hir: &Hir, out: &mut Vec<u8>, depth: usize) {
    if depth > 64 {
        return;
    }
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => out.extend_from_slice(&lit.0),
        HirKind::Class(class) => {
            let ranges: Vec<(u32, u32)> = match class {
                Class::Unicode(c) => c.ranges().iter().map(|r| (r.start() as u32, r.end() as u32)).collect(),
                Class::Bytes(c) => c.ranges().iter().map(|r| (u32::from(r.start()), u32::from(r.end()))).collect(),
            };
            let inside = |b: &u8| ranges.iter().any(|(s, e)| (*s..=*e).contains(&u32::from(*b)));
            let readable: Vec<u8> = READABLE.iter().copied().filter(inside).collect();
            if !readable.is_empty() {
                out.push(readable[rng.usize(..readable.len())]);
            } else if let Some(c) = ranges.first().and_then(|(s, _)| char::from_u32(*s)) {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        HirKind::Repetition(rep) => {
            let upper = rep.max.unwrap_or(rep.min.saturating_add(3)).min(rep.min.saturating_add(3));
            let count = rng.u32(rep.min..=upper.max(rep.min));
            for _ in 0..count {
                emit(rng, &rep.sub, out, depth + 1);
            }
        }
        HirKind::Capture(cap) => emit(rng, &cap.sub, out, depth + 1),
        HirKind::Concat(parts) => parts.iter().for_each(|p| emit(rng, p, out, depth + 1)),
        HirKind::Alternation(options) => {
            if !options.is_empty() {
                let pick = rng.usize(..options.len());
                emit(rng, &options[pick], out, depth + 1);
            }
        }
    }
}

/// Names of the next-page cursor in the services' list envelopes.
const CURSOR_KEYS: [&str; 3] = ["nextCursor", "next_cursor", "next"];
/// Names of the previous-page cursor in the services' list envelopes.
pub(crate) const PREVIOUS_CURSOR_KEYS: [&str; 3] = ["previousCursor", "previous_cursor", "previous"];
/// Names of the total count in list envelopes (`count` is Seald's).
pub(crate) const TOTAL_KEYS: [&str; 4] = ["total", "totalCount", "total_count", "count"];
/// Names of the item list in list envelopes.
const ITEM_KEYS: [&str; 5] = ["results", "items", "data", "entries", "records"];

/// A success answer says so: a top-level boolean `success` (WildDuck's
/// envelope) is `true`, where a made-up value could have said `false`.
pub(crate) fn affirm(body: &mut Value) {
    if let Some(flag) = body.as_object_mut().and_then(|o| o.get_mut("success")).filter(|v| v.is_boolean()) {
        *flag = Value::Bool(true);
    }
}

/// Sets cursor field `key` of `obj`, if it has one, to "no page there" in
/// the way `schema` (the envelope's, resolved) allows: `false`, `null`, or
/// an empty string.
pub(crate) fn no_cursor(defs: &Definitions, schema: &Value, obj: &mut Map<String, Value>, key: &str) {
    let Some(v) = obj.get_mut(key).filter(|v| !v.is_object() && !v.is_array()) else { return };
    let ts = schema.get("properties").and_then(|p| p.get(key)).map(|s| types(defs, s)).unwrap_or_default();
    *v = if ts.contains(&"boolean") {
        Value::Bool(false)
    } else if ts.contains(&"null") {
        Value::Null
    } else {
        Value::String(String::new())
    };
}

/// Makes a list envelope the last page: its next cursor says "none" in the
/// way the schema allows (`false`, `null`, or empty), its total equals the
/// items it carries and its page count is one. Examples get the same
/// treatment, since a fixed example cursor would repeat forever.
pub(crate) fn end_paging(defs: &Definitions, schema: &Value, body: &mut Value) {
    let resolved = defs.resolve(schema);
    let Some(obj) = body.as_object_mut() else { return };
    let props = resolved.get("properties");
    for key in CURSOR_KEYS {
        no_cursor(defs, resolved, obj, key);
    }
    let items = ITEM_KEYS.iter().find_map(|k| obj.get(*k).and_then(Value::as_array).map(Vec::len));
    if let Some(n) = items {
        for key in TOTAL_KEYS {
            // A total the schema bounds from below stays as generated.
            let floor = props.and_then(|p| p.get(key)).map(|s| defs.resolve(s)).and_then(|s| s.get("minimum"));
            let allowed = floor.and_then(Value::as_f64).is_none_or(|m| m <= n as f64);
            if let Some(v) = obj.get_mut(key).filter(|v| v.is_number() && allowed) {
                *v = Value::from(n);
            }
        }
    }
    if let Some(v) = obj.get_mut("pages").filter(|v| v.is_u64()) {
        *v = Value::from(1);
    }
}
