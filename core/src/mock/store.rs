//! The simulator's state: what a script creates, it can read back.
//!
//! Each simulator holds one [`Store`]: per service, collections of records
//! keyed by the concrete path of the collection (`/users`,
//! `/users/5f1e…/addresses`). The resource layout comes from the paths
//! alone (see [`Shape`]): a `POST` to a collection creates a record, a `GET`
//! of the collection lists them under the service's own paging rule, and
//! `GET`, `PUT`/`PATCH` and `DELETE` of an item read, update and remove one.
//!
//! Records are made from the schema of the item's `GET` answer, so what is
//! listed or read back is always a value that schema allows; the caller's
//! input is laid over it where the schema declares the same field with a
//! value of the same type. A collection starts with [`SEEDED`] generated
//! records the first time it is used. An item never created nor deleted
//! reads as a record made up for its id, as a real server would have one for
//! any id a script found elsewhere; a deleted one answers 404 in the
//! service's own error shape.
//!
//! Everything made up is derived from the simulator's seed and the record's
//! collection and id, never from the order of calls, so a run is repeatable.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::generate::{self, Generator, Mode};
use super::route::{PathValues, Route, Router, Shape};
use crate::model::{Definitions, Method, OperationMeta};
use crate::schema::is_json;
use crate::services::{Paging, ServiceProfile};
use crate::wire::Request;

/// How many generated records a collection starts with.
pub const SEEDED: usize = 3;

/// The page size a cursor-paged list uses when the request names none.
const DEFAULT_PAGE: usize = 20;

/// One collection's records, by id, in creation order, and the ids deleted.
#[derive(Debug, Default)]
struct Collection {
    records: IndexMap<String, Value>,
    deleted: HashSet<String>,
}

/// The records of every service the simulator answered for.
#[derive(Default)]
pub(crate) struct Store {
    services: Mutex<HashMap<String, HashMap<String, Collection>>>,
    /// Compiled id schemas that need more than a type check (a `format`,
    /// a `pattern`), by their text; `None` for one that does not compile.
    id_checks: Mutex<HashMap<String, Option<std::sync::Arc<jsonschema::Validator>>>>,
    /// How each service pages: the deck's rules, which its pager follows too.
    pub(crate) paging: crate::services::PagingRules,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// What the store made of a request: the status and JSON body to answer.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Option<Value>,
}

/// The schemas a collection's records follow and where their id is.
struct Layout<'a> {
    defs: &'a Definitions,
    /// The schema of one record: the item's `GET` answer, else the create answer.
    record: Value,
    /// The id field and its schema.
    id: (String, Value),
}

impl Store {
    /// The store's records as JSON: `{service: {collection path: [records]}}`.
    pub(crate) fn export(&self) -> Value {
        let services = self.services.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = Map::new();
        for (service, collections) in services.iter() {
            let mut colls = Map::new();
            for (path, c) in collections {
                colls.insert(path.clone(), Value::Array(c.records.values().cloned().collect()));
            }
            out.insert(service.clone(), Value::Object(colls));
        }
        Value::Object(out)
    }

    /// Replaces the records of the collections `state` names (same shape as
    /// [`Store::export`]); they start with exactly those records, none seeded.
    /// `id_of` names each collection's id field.
    pub(crate) fn import(
        &self,
        state: &Value,
        id_of: impl Fn(&str, &str) -> Option<String>,
    ) -> crate::error::Result<()> {
        let bad = |what: String| crate::error::Error::usage(format!("simulator state: {what}"));
        let Some(services) = state.as_object() else {
            return Err(bad("expected an object of services".into()));
        };
        let mut loaded: Vec<(String, String, Collection)> = Vec::new();
        for (service, collections) in services {
            let Some(collections) = collections.as_object() else {
                return Err(bad(format!("`{service}`: expected an object of collection paths")));
            };
            for (path, records) in collections {
                let Some(records) = records.as_array() else {
                    return Err(bad(format!("`{service}` `{path}`: expected a list of records")));
                };
                let field = id_of(service, path).unwrap_or_else(|| "id".to_owned());
                let mut c = Collection::default();
                for (i, record) in records.iter().enumerate() {
                    let id = record.get(&field).map(id_text).ok_or_else(|| {
                        bad(format!("`{service}` `{path}` record {i}: no `{field}` field to identify it"))
                    })?;
                    c.records.insert(id, record.clone());
                }
                loaded.push((service.clone(), path.clone(), c));
            }
        }
        // Nothing is replaced until every collection was read.
        let mut services = self.services.lock().unwrap_or_else(|e| e.into_inner());
        for (service, path, c) in loaded {
            services.entry(service).or_default().insert(path, c);
        }
        Ok(())
    }

    /// Answers a valid request from the store, when its route is part of a
    /// collection; `None` leaves it to the stateless answer.
    pub(crate) fn answer(
        &self,
        seed: u64,
        service: &str,
        router: &Router,
        route: &Route,
        values: &PathValues,
        request: &Request,
    ) -> Option<Answer> {
        let meta = route.op.meta();
        match (&route.shape, meta.method) {
            (Shape::Collection { template }, Method::Get) => {
                let layout = layout(router, template)?;
                let key = concrete(request.url.path());
                let mut services = self.services.lock().unwrap_or_else(|e| e.into_inner());
                let coll = seeded(&mut services, service, &key, &layout, seed);
                let records: Vec<Value> = coll.records.values().cloned().collect();
                drop(services);
                list(meta, &layout, records, request, seed, self.paging.for_service(&meta.service))
            }
            (Shape::Collection { template }, Method::Post) => {
                let layout = layout(router, template)?;
                let key = concrete(request.url.path());
                let input = body_json(request);
                let mut services = self.services.lock().unwrap_or_else(|e| e.into_inner());
                let coll = seeded(&mut services, service, &key, &layout, seed);
                let id = fresh_id(&layout, coll, seed, &key);
                let mut record = make_record(&layout, seed, &key, &id);
                overlay(layout.defs, &layout.record, &mut record, &input);
                record[&layout.id.0] = id.clone();
                coll.records.insert(id_text(&id), record.clone());
                drop(services);
                Some(reply(meta, &layout, &record, seed))
            }
            (Shape::Item { collection, var }, method) => {
                let layout = layout(router, collection)?;
                let raw_id = values.iter().rev().find(|(name, _)| name == var).map(|(_, v)| v.clone())?;
                // An id no record of this collection could have (a word where
                // the ids are numbers) is not one the store keeps: the answer
                // comes from the spec alone, as it would without a store.
                let id = typed_id(&layout, &raw_id).filter(|id| self.id_fits(&layout, id))?;
                let key = concrete(parent(request.url.path()));
                let mut services = self.services.lock().unwrap_or_else(|e| e.into_inner());
                let coll = seeded(&mut services, service, &key, &layout, seed);
                let text = id_text(&id);
                if coll.deleted.contains(&text) {
                    return Some(not_found(meta, service, &raw_id));
                }
                match method {
                    Method::Get | Method::Head => {
                        let record = coll.records.entry(text).or_insert_with(|| made_up(&layout, seed, &key, &id));
                        let record = record.clone();
                        drop(services);
                        Some(reply(meta, &layout, &record, seed))
                    }
                    Method::Put | Method::Patch => {
                        let record = coll.records.entry(text).or_insert_with(|| made_up(&layout, seed, &key, &id));
                        overlay(layout.defs, &layout.record, record, &body_json(request));
                        record[&layout.id.0] = id.clone();
                        let record = record.clone();
                        drop(services);
                        Some(reply(meta, &layout, &record, seed))
                    }
                    Method::Delete => {
                        coll.records.shift_remove(&text);
                        coll.deleted.insert(text);
                        None
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// The id field of the collection at `template`.
pub(crate) fn id_field(router: &Router, template: &str) -> Option<String> {
    layout(router, template).map(|l| l.id.0)
}

impl Store {
    /// Whether `id` satisfies the id field's schema, format and pattern included.
    fn id_fits(&self, layout: &Layout<'_>, id: &Value) -> bool {
        let schema = layout.defs.resolve(&layout.id.1);
        if schema.get("format").is_none() && schema.get("pattern").is_none() {
            return true;
        }
        let text = schema.to_string();
        let mut checks = self.id_checks.lock().unwrap_or_else(|e| e.into_inner());
        let check = checks
            .entry(text)
            .or_insert_with(|| {
                jsonschema::draft202012::options()
                    .should_validate_formats(true)
                    .build(schema)
                    .ok()
                    .map(std::sync::Arc::new)
            })
            .clone();
        drop(checks);
        check.is_none_or(|v| v.is_valid(id))
    }
}

/// The layout of the collection at `template`: its records follow the item
/// `GET`'s answer, else the create answer, else the list's items (the first
/// of them that names an id), identified by the first of the item variable,
/// `id`, `_id`, `uuid` that the schema declares.
fn layout<'a>(router: &'a Router, template: &str) -> Option<Layout<'a>> {
    let reader = router.item_route(template, Method::Get);
    let var = reader.and_then(|r| match &r.shape {
        Shape::Item { var, .. } => Some(var.clone()),
        _ => None,
    });
    let candidates = [reader, router.collection_route(template, Method::Post)]
        .into_iter()
        .flatten()
        .filter_map(|r| Some((r.op.meta(), json_schema(r.op.meta())?)))
        .chain(router.collection_route(template, Method::Get).and_then(|r| {
            let meta = r.op.meta();
            let items = items_schema(&meta.definitions, &json_schema(meta)?, None)?;
            Some((meta, items))
        }));
    for (meta, record) in candidates {
        let defs = &meta.definitions;
        let Some(props) = defs.resolve(&record).get("properties").and_then(Value::as_object) else { continue };
        // Else a scalar `…_id` of the record itself (Seald's groups are known
        // by their `device_id`).
        let own_id = props.iter().find_map(|(name, schema)| {
            let scalar = ["string", "integer"].iter().any(|t| super::params::types(defs, schema).contains(t));
            (scalar && (name.ends_with("_id") || name.ends_with("Id"))).then(|| name.clone())
        });
        let names = var.iter().cloned().chain(["id", "_id", "uuid"].map(String::from)).chain(own_id);
        // Ids are strings or numbers; a field of another type is no id.
        let scalar = |f: &String| {
            props
                .get(f)
                .is_some_and(|s| super::params::types(defs, s).iter().any(|t| ["string", "integer"].contains(t)))
        };
        if let Some(field) = names.into_iter().find(|f| scalar(f)) {
            let schema = props[&field].clone();
            return Some(Layout { defs, record, id: (field, schema) });
        }
    }
    // A spec that describes none of the answers (SelfPrivacy's users): the
    // records are what was posted, named by the item variable.
    let var = var.or_else(|| router.item_var(template))?;
    let any = router.collection_route(template, Method::Post).or(router.collection_route(template, Method::Get))?;
    Some(Layout { defs: &any.op.meta().definitions, record: json!({}), id: (var, json!({"type": "string"})) })
}

/// The JSON schema of `meta`'s success answer, if it has one.
fn json_schema(meta: &OperationMeta) -> Option<Value> {
    let response = meta.responses.iter().find(|r| r.status.starts_with('2') && !r.media.is_empty())?;
    response.media.iter().find(|m| is_json(&m.content_type)).map(|m| m.schema.clone())
}

/// The collection `key` of `service`, seeded with [`SEEDED`] records the
/// first time it is used.
fn seeded<'s>(
    services: &'s mut HashMap<String, HashMap<String, Collection>>,
    service: &str,
    key: &str,
    layout: &Layout<'_>,
    seed: u64,
) -> &'s mut Collection {
    let collections = services.entry(service.to_owned()).or_default();
    if !collections.contains_key(key) {
        let mut c = Collection::default();
        for i in 0..SEEDED {
            let id = fresh_id(layout, &c, seed ^ (i as u64 + 1), key);
            let record = made_up(layout, seed ^ (i as u64 + 1), key, &id);
            c.records.insert(id_text(&id), record);
        }
        collections.insert(key.to_owned(), c);
    }
    collections.get_mut(key).unwrap_or_else(|| unreachable!("inserted above"))
}

/// A record for `id`, made from the record schema.
fn made_up(layout: &Layout<'_>, seed: u64, key: &str, id: &Value) -> Value {
    let mut record = make_record(layout, seed, key, id);
    record[&layout.id.0] = id.clone();
    record
}

fn make_record(layout: &Layout<'_>, seed: u64, key: &str, id: &Value) -> Value {
    let mix = super::input::fnv(format!("{key}\u{0}{}", id_text(id)).as_bytes());
    let mut value = Generator::new(layout.defs, seed ^ mix, Mode::Response).value(&layout.record);
    generate::affirm(&mut value);
    if !value.is_object() {
        value = Value::Object(Map::new());
    }
    value
}

/// An id no record of `coll` has: the next number for integer ids, else a
/// value made from the id's schema.
fn fresh_id(layout: &Layout<'_>, coll: &Collection, seed: u64, key: &str) -> Value {
    let (_, schema) = &layout.id;
    let integer =
        generate::fits_type(layout.defs, schema, &json!(1)) && !generate::fits_type(layout.defs, schema, &json!("a"));
    let taken = |v: &Value| {
        let t = id_text(v);
        coll.records.contains_key(&t) || coll.deleted.contains(&t)
    };
    if integer {
        let mut n = 1000 + coll.records.len() as u64 + coll.deleted.len() as u64;
        while taken(&json!(n)) {
            n += 1;
        }
        return json!(n);
    }
    let base = super::input::fnv(key.as_bytes()) ^ seed;
    for attempt in 0..64u64 {
        let n = (coll.records.len() + coll.deleted.len()) as u64;
        let v = Generator::new(layout.defs, base ^ (n << 8) ^ attempt, Mode::Response).value(schema);
        if !taken(&v) && !v.is_null() {
            return v;
        }
    }
    json!(format!("id-{}", coll.records.len() + coll.deleted.len() + 1))
}

/// The id named in a path, typed as the id field wants it.
fn typed_id(layout: &Layout<'_>, raw: &str) -> Option<Value> {
    let schema = &layout.id.1;
    if generate::fits_type(layout.defs, schema, &json!("a")) {
        return Some(Value::String(raw.to_owned()));
    }
    raw.parse::<i64>().ok().map(Value::from).filter(|v| generate::fits_type(layout.defs, schema, v))
}

/// The text an id is keyed by.
fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Lays the fields of `input` over `record` where `schema` declares the
/// field and the value has a type (and, with an `enum`, a value) it allows.
fn overlay(defs: &Definitions, schema: &Value, record: &mut Value, input: &Value) {
    let (Some(target), Some(input)) = (record.as_object_mut(), input.as_object()) else { return };
    let resolved = defs.resolve(schema);
    if resolved.as_object().is_some_and(Map::is_empty) {
        // Nothing is declared: every field is kept, but no credential.
        let secret = |k: &str| ["password", "secret", "token"].iter().any(|s| k.to_ascii_lowercase().contains(s));
        target.extend(input.iter().filter(|(k, _)| !secret(k)).map(|(k, v)| (k.clone(), v.clone())));
        return;
    }
    let Some(props) = resolved.get("properties").and_then(Value::as_object) else { return };
    for (key, value) in input {
        if let Some(prop) = props.get(key)
            && fits(defs, prop, value)
        {
            target.insert(key.clone(), value.clone());
        }
    }
}

/// Whether `value` has a type `schema` allows and, with an `enum`, is one of it.
fn fits(defs: &Definitions, schema: &Value, value: &Value) -> bool {
    let s = defs.resolve(schema);
    let in_enum = s.get("enum").and_then(Value::as_array).is_none_or(|options| options.contains(value));
    let flag = |k: &str| s.get(k).and_then(Value::as_bool).unwrap_or(false);
    generate::fits_type(defs, s, value) && in_enum && !flag("readOnly") || (value.is_null() && flag("nullable"))
}

/// The answer of a create, read or update: the operation's own answer, made
/// up, with the record's fields laid over it.
fn reply(meta: &OperationMeta, layout: &Layout<'_>, record: &Value, seed: u64) -> Answer {
    let (status, _) = super::success_status(meta);
    let Some(schema) = json_schema(meta) else { return Answer { status, body: None } };
    let mut value =
        Generator::new(&meta.definitions, seed ^ super::input::fnv(meta.id.as_bytes()), Mode::Response).value(&schema);
    generate::affirm(&mut value);
    overlay_all(&meta.definitions, &schema, &mut value, record);
    let id_schema = meta.definitions.resolve(&schema).get("properties").and_then(|p| p.get(&layout.id.0)).cloned();
    if let (Some(obj), Some(id_schema)) = (value.as_object_mut(), id_schema)
        && fits(&meta.definitions, &id_schema, &record[&layout.id.0])
    {
        obj.insert(layout.id.0.clone(), record[&layout.id.0].clone());
    }
    Answer { status, body: Some(value) }
}

/// [`overlay`], also where the answer leaves the object's fields open.
fn overlay_all(defs: &Definitions, schema: &Value, value: &mut Value, record: &Value) {
    let resolved = defs.resolve(schema);
    if resolved.get("properties").is_none() && resolved.get("type").and_then(Value::as_str) == Some("object") {
        *value = record.clone();
        return;
    }
    overlay(defs, schema, value, record);
}

/// A list answer: the records, shaped as the list's items, in the envelope
/// the operation declares, one page under the service's paging `rule`.
fn list(
    meta: &OperationMeta,
    layout: &Layout<'_>,
    records: Vec<Value>,
    request: &Request,
    seed: u64,
    rule: Option<Paging>,
) -> Option<Answer> {
    let (status, _) = super::success_status(meta);
    let Some(schema) = json_schema(meta) else {
        // No schema for the list: the records, as a plain list.
        return Some(Answer { status, body: Some(Value::Array(records)) });
    };
    let defs = &meta.definitions;
    let query: HashMap<String, String> = request.query_pairs().into_owned().collect();
    let rule = rule.filter(|r| r.applies_to(meta));
    let items_key = rule.as_ref().and_then(|r| r.items().trim_start_matches('/').split('/').next().map(str::to_owned));
    // Kitsu answers a plain list, or its envelope when a page is asked for.
    let paged = matches!(&rule, Some(Paging::Page { page, .. }) if query.contains_key(page));
    let envelope = match (&items_key, paged) {
        (Some(key), true) => branch_with(defs, &schema, key).unwrap_or(schema.clone()),
        _ => schema.clone(),
    };
    let mut body = Generator::new(defs, seed ^ super::input::fnv(meta.id.as_bytes()), Mode::Response).value(&envelope);
    generate::affirm(&mut body);
    let item_schema = items_schema(defs, &envelope, items_key.as_deref());
    let shaped: Vec<Value> = records.iter().map(|r| shape_item(defs, item_schema.as_ref(), r, layout, seed)).collect();
    let (page, next, total) = slice(&rule, &query, shaped);
    let n = page.len();
    match (body.as_array_mut(), items_key.as_deref()) {
        (Some(arr), _) => *arr = page,
        (None, key) => {
            let obj = body.as_object_mut()?;
            let key = key
                .filter(|k| obj.get(*k).is_some_and(Value::is_array))
                .map(str::to_owned)
                .or_else(|| obj.iter().find(|(_, v)| v.is_array()).map(|(k, _)| k.clone()))?;
            obj.insert(key, Value::Array(page));
        }
    }
    finish_envelope(defs, &envelope, &mut body, &rule, &query, n, next, total);
    Some(Answer { status, body: Some(body) })
}

/// One page of `items` under `rule`: the page, the next cursor (if any) and the total.
fn slice(
    rule: &Option<Paging>,
    query: &HashMap<String, String>,
    items: Vec<Value>,
) -> (Vec<Value>, Option<String>, usize) {
    let total = items.len();
    let number = |k: &str| query.get(k).and_then(|v| v.parse::<usize>().ok());
    let (start, size) = match rule {
        Some(Paging::Offset { offset, limit, .. }) => (number(offset).unwrap_or(0), number(limit).unwrap_or(total)),
        Some(Paging::Cursor { param, .. }) => cursor_window(query, param),
        Some(Paging::Page { page, limit, first, .. }) if query.contains_key(page) => {
            let size = limit.as_deref().and_then(number).unwrap_or(total.max(1));
            let n = number(page).unwrap_or(*first as usize).saturating_sub(*first as usize);
            (n.saturating_mul(size), size)
        }
        _ => (0, total),
    };
    let end = start.saturating_add(size.max(1)).min(total);
    let page: Vec<Value> = items.into_iter().skip(start).take(end.saturating_sub(start)).collect();
    let next = (matches!(rule, Some(Paging::Cursor { .. })) && end < total).then(|| format!("c{end}"));
    (page, next, total)
}

/// Where the page a cursor asks for starts, and its size. A cursor is
/// `c<index>`, as [`slice`] hands them out, given as the rule's parameter or
/// as `previous` (a previous-page cursor, WildDuck's); none is the first page.
fn cursor_window(query: &HashMap<String, String>, param: &str) -> (usize, usize) {
    let cursor = query.get(param).or_else(|| query.get("previous"));
    let start = cursor.and_then(|c| c.strip_prefix('c')).and_then(|n| n.parse().ok()).unwrap_or(0);
    (start, query.get("limit").and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_PAGE))
}

/// Sets the envelope's paging fields: the cursors, totals, page numbers and
/// page counts.
#[allow(clippy::too_many_arguments)]
fn finish_envelope(
    defs: &Definitions,
    schema: &Value,
    body: &mut Value,
    rule: &Option<Paging>,
    query: &HashMap<String, String>,
    n: usize,
    next: Option<String>,
    total: usize,
) {
    generate::end_paging(defs, schema, body);
    let Some(obj) = body.as_object_mut() else { return };
    for key in generate::TOTAL_KEYS {
        if obj.get(key).is_some_and(Value::is_number) {
            obj.insert(key.to_owned(), json!(total));
        }
    }
    match rule {
        Some(Paging::Cursor { next: pointer, param, .. }) => {
            // The first page has none before it; a later one a cursor back
            // (in a cursor field: Seald's `previous` is a link). A page
            // number beside the cursors (WildDuck's) is the one asked for.
            let (start, size) = cursor_window(query, param);
            for key in generate::PREVIOUS_CURSOR_KEYS {
                if start == 0 {
                    generate::no_cursor(defs, defs.resolve(schema), obj, key);
                } else if let Some(slot) = obj.get_mut(key).filter(|v| v.is_string() && key.ends_with("ursor")) {
                    *slot = Value::String(format!("c{}", start.saturating_sub(size.max(1))));
                }
            }
            if let Some(slot) = obj.get_mut("page").filter(|v| v.is_number()) {
                *slot = json!(query.get("page").and_then(|p| p.parse::<u64>().ok()).unwrap_or(1));
            }
            if let (Some(cursor), Some(slot)) = (next, body.pointer_mut(pointer)) {
                *slot = Value::String(cursor);
            }
        }
        Some(Paging::Offset { total: Some(pointer), offset, limit, .. }) => {
            if let Some(slot) = body.pointer_mut(pointer) {
                *slot = json!(total);
            }
            let parent = pointer.rsplit_once('/').map_or("", |(p, _)| p);
            for (field, value) in [(offset, query.get(offset)), (limit, query.get(limit))] {
                let v = value.and_then(|v| v.parse::<u64>().ok()).unwrap_or(if field == offset { 0 } else { n as u64 });
                if let Some(slot) = body.pointer_mut(&format!("{parent}/{field}")).filter(|s| s.is_u64()) {
                    *slot = json!(v);
                }
            }
        }
        Some(Paging::Page { pages: Some(pointer), limit, page, .. }) if query.contains_key(page) => {
            let size = limit
                .as_deref()
                .and_then(|l| query.get(l))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(total.max(1));
            if let Some(slot) = body.pointer_mut(pointer) {
                *slot = json!(total.div_ceil(size.max(1)).max(1));
            }
            for (field, value) in [("page", query.get(page).cloned()), ("limit", Some(size.to_string()))] {
                if let Some(slot) = body.get_mut(field).filter(|s| s.is_u64()) {
                    *slot = json!(value.and_then(|v| v.parse::<u64>().ok()).unwrap_or(1));
                }
            }
        }
        _ => {}
    }
}

/// The branch of a `oneOf`/`anyOf` answer that is an object with property `key`.
fn branch_with(defs: &Definitions, schema: &Value, key: &str) -> Option<Value> {
    // (Kitsu's `oneOf` of a plain list and its page envelope.)
    let s = defs.resolve(schema);
    if s.get("properties").and_then(|p| p.get(key)).is_some() {
        return Some(s.clone());
    }
    ["oneOf", "anyOf"].iter().filter_map(|k| s.get(*k).and_then(Value::as_array)).flatten().find_map(|b| {
        let b = defs.resolve(b);
        b.get("properties").and_then(|p| p.get(key)).is_some().then(|| b.clone())
    })
}

/// The schema of one item of a list answer: of the list itself, or of the
/// array property `key` (else the first array property) of an envelope,
/// looking into `oneOf`/`anyOf`/`allOf` branches.
fn items_schema(defs: &Definitions, schema: &Value, key: Option<&str>) -> Option<Value> {
    let s = defs.resolve(schema);
    if let Some(items) = s.get("items") {
        return Some(items.clone());
    }
    if let Some(props) = s.get("properties").and_then(Value::as_object) {
        let array =
            key.and_then(|k| props.get(k)).or_else(|| props.values().find(|p| defs.resolve(p).get("items").is_some()));
        if let Some(items) = array.and_then(|a| defs.resolve(a).get("items")) {
            return Some(items.clone());
        }
    }
    ["oneOf", "anyOf", "allOf"]
        .iter()
        .filter_map(|k| s.get(*k).and_then(Value::as_array))
        .flatten()
        .find_map(|branch| items_schema(defs, branch, key))
}

/// A record as one item of a list: the item the schema describes, made up,
/// with the record's fields laid over it; the record itself where the items
/// are open objects.
fn shape_item(defs: &Definitions, schema: Option<&Value>, record: &Value, layout: &Layout<'_>, seed: u64) -> Value {
    let Some(schema) = schema else { return record.clone() };
    let resolved = defs.resolve(schema);
    if resolved.get("properties").is_none() && resolved.get("allOf").is_none() {
        return record.clone();
    }
    let id = id_text(&record[&layout.id.0]);
    let mut item = Generator::new(defs, seed ^ super::input::fnv(id.as_bytes()), Mode::Response).value(schema);
    overlay(defs, schema, &mut item, record);
    item
}

/// A 404 in the service's own error shape: the operation's declared 404
/// answer, else the profile's, else a problem document.
fn not_found(meta: &OperationMeta, service: &str, id: &str) -> Answer {
    let message = format!("no such item `{id}` (the simulator has none, or it was deleted)");
    let declared = meta
        .responses
        .iter()
        .find(|r| r.status == "404")
        .and_then(|r| r.media.iter().find(|m| is_json(&m.content_type)))
        .map(|m| m.schema.clone());
    let body = match declared {
        Some(schema) => {
            let mut v = Generator::new(&meta.definitions, 404, Mode::Response).value(&schema);
            if let Some(obj) = v.as_object_mut() {
                for key in ["message", "error", "detail", "title", "description"] {
                    if obj.get(key).is_some_and(Value::is_string) {
                        obj.insert(key.into(), Value::String(message.clone()));
                    }
                }
            }
            v
        }
        None => match &ServiceProfile::for_service(service).not_found {
            Some(template) => fill(template, &message),
            None => json!({"status": 404, "title": "Not Found", "detail": message}),
        },
    };
    Answer { status: 404, body: Some(body) }
}

/// `template` with every `"{message}"` string replaced by `message`.
fn fill(template: &Value, message: &str) -> Value {
    match template {
        Value::String(s) if s == "{message}" => Value::String(message.to_owned()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), fill(v, message))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(|v| fill(v, message)).collect()),
        other => other.clone(),
    }
}

/// The request body as JSON (`null` when it is not JSON).
fn body_json(request: &Request) -> Value {
    serde_json::from_slice(super::check::payload_bytes(&request.body)).unwrap_or(Value::Null)
}

/// A path as a collection key: decoded, without a trailing `/`.
fn concrete(path: &str) -> String {
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    let trimmed = if decoded.len() > 1 { decoded.trim_end_matches('/') } else { &decoded };
    trimmed.to_owned()
}

/// The path of an item's collection.
fn parent(path: &str) -> &str {
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    path.rsplit_once('/').map_or(path, |(p, _)| p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_slice_under_each_rule() {
        let items: Vec<Value> = (0..25).map(|i| json!({"id": i})).collect();
        let q = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        let offset = Some(Paging::Offset {
            offset: "offset".into(),
            limit: "limit".into(),
            items: "/items".into(),
            total: None,
        });
        let (page, next, total) = slice(&offset, &q(&[("offset", "20"), ("limit", "10")]), items.clone());
        assert_eq!((page.len(), next, total), (5, None, 25));
        let cursor = Some(Paging::Cursor {
            param: "next".into(),
            next: "/nextCursor".into(),
            items: "/results".into(),
            switch: vec![],
        });
        let (page, next, _) = slice(&cursor, &q(&[("limit", "10")]), items.clone());
        assert_eq!((page.len(), next.as_deref()), (10, Some("c10")));
        let (page, next, _) = slice(&cursor, &q(&[("limit", "10"), ("next", "c20")]), items.clone());
        assert_eq!((page.len(), next), (5, None));
        let pages = Some(Paging::Page {
            page: "page".into(),
            limit: Some("limit".into()),
            items: "/data".into(),
            pages: Some("/nb_pages".into()),
            first: 1,
        });
        let (page, _, _) = slice(&pages, &q(&[("page", "3"), ("limit", "10")]), items.clone());
        assert_eq!(page, (20..25).map(|i| json!({"id": i})).collect::<Vec<_>>());
        let (page, _, _) = slice(&pages, &q(&[]), items);
        assert_eq!(page.len(), 25, "without a page, Kitsu lists everything");
    }

    #[test]
    fn a_cursor_envelope_tells_the_page_it_holds() {
        // WildDuck's envelope: `total` and `page` are typed `number`, the
        // cursors strings.
        let schema = json!({"type": "object", "properties": {
            "total": {"type": "number"}, "page": {"type": "number"},
            "previousCursor": {"type": "string"}, "nextCursor": {"type": "string"},
            "results": {"type": "array", "items": {"type": "object"}}
        }});
        let defs = Definitions::new(serde_json::Map::new());
        let rule = Some(Paging::Cursor {
            param: "next".into(),
            next: "/nextCursor".into(),
            items: "/results".into(),
            switch: vec![],
        });
        let items: Vec<Value> = (0..5).map(|i| json!({"id": i})).collect();
        let envelope = |pairs: &[(&str, &str)]| {
            let query: HashMap<String, String> =
                pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            let (page, next, total) = slice(&rule, &query, items.clone());
            let mut body = json!({"total": 283.72, "page": 143.05, "previousCursor": "alpha-1", "nextCursor": "x",
                "results": []});
            let n = page.len();
            body["results"] = Value::Array(page);
            finish_envelope(&defs, &schema, &mut body, &rule, &query, n, next, total);
            body
        };
        let first = envelope(&[("limit", "2")]);
        assert_eq!((&first["total"], &first["page"]), (&json!(5), &json!(1)));
        assert_eq!((&first["previousCursor"], &first["nextCursor"]), (&json!(""), &json!("c2")));
        let second = envelope(&[("limit", "2"), ("next", "c2"), ("page", "2")]);
        assert_eq!(second["results"], json!([{"id": 2}, {"id": 3}]));
        assert_eq!((&second["page"], &second["previousCursor"]), (&json!(2), &json!("c0")));
        let back = envelope(&[("limit", "2"), ("previous", "c0")]);
        assert_eq!(back["results"], json!([{"id": 0}, {"id": 1}]), "a previous cursor leads back");
        let last = envelope(&[("limit", "2"), ("next", "c4")]);
        assert_eq!((&last["nextCursor"], &last["previousCursor"]), (&json!(""), &json!("c2")));
    }

    #[test]
    fn paths_become_collection_keys() {
        assert_eq!(concrete("/users/"), "/users");
        assert_eq!(concrete("/users/a%20b/addresses"), "/users/a b/addresses");
        assert_eq!(parent("/users/42"), "/users");
        assert_eq!(parent("/dashboardapi/v2/users/7/"), "/dashboardapi/v2/users");
    }
}
