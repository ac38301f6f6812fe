//! The walk over a document's paths that both dialects share: parameter
//! merging and input keys, bodies from form and body parameters, security,
//! naming, and the warnings about all of it.
//!
//! **Input keys.** A parameter's key in the operation's input is its name.
//! When a name is already taken by a parameter in another location, the
//! later parameter's key is `<location>.<name>` (`query.id` beside a path
//! `id`), and a parameter named `body` is always `<location>.body`, because
//! `body` holds the request body.
//!
//! **Path variables.** The template is what the server routes on, so it
//! wins over the declarations: a `{variable}` no parameter declares (37
//! Kitsu operations) becomes a required string path parameter, and a
//! declared path parameter the template lacks is left out, each with a
//! warning, rather than leaving an operation that can never be called.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{Map, Value};

use super::doc::Doc;
use super::load::{Dialect, clip};
use super::refs::follow;
use super::schema::Converter;
use super::warnings::{Warnings, join};
use super::{Document, Server};
use crate::error::{Error, Result};
use crate::model::{
    BodySpec, Definitions, Example, Location, Media, Method, OperationMeta, Parameter, ResponseSpec,
    SecurityRequirement, SecurityScheme, Style,
};
use crate::naming::{self, Namer};
use crate::schema::BODY_KEY;

/// The state of one document's conversion.
pub(super) struct Builder<'a> {
    pub(super) doc: &'a Doc<'a>,
    pub(super) dialect: Dialect,
    pub(super) conv: Converter<'a>,
    pub(super) warnings: Warnings,
    /// Swagger 2 (and hybrid) document-wide `consumes` / `produces`.
    pub(super) consumes: Vec<String>,
    pub(super) produces: Vec<String>,
    /// The warnings [`Builder::warn_once`] has pushed.
    once: HashSet<(String, String)>,
    /// Examples read through a `$ref`, by the ref, so operations share them.
    pub(super) examples: HashMap<String, Option<Example>>,
}

/// A parameter the walk found, before it is sorted by location.
pub(super) struct RawParam<'a> {
    pub(super) value: &'a Value,
    pub(super) pointer: String,
    pub(super) name: String,
    pub(super) location: String,
}

pub(super) fn build<'a>(
    doc: &'a Doc<'a>,
    dialect: Dialect,
    format: String,
    service: &str,
    crud: Option<&naming::CrudRule>,
) -> Result<Document> {
    let root = doc.root();
    let info = root.get("info");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let mut b = Builder {
        doc,
        dialect,
        conv: Converter::new(doc, dialect),
        warnings: Warnings::default(),
        consumes: strings(root.get("consumes")),
        produces: strings(root.get("produces")),
        once: HashSet::new(),
        examples: HashMap::new(),
    };
    if dialect != Dialect::Swagger2 {
        for key in ["host", "basePath", "schemes", "consumes", "produces", "definitions", "securityDefinitions"] {
            if doc.has(key) {
                b.warnings.push(join("", key), format!("`{key}` is swagger 2; openapi 3 ignores it"));
            }
        }
    }
    let servers = if dialect == Dialect::Swagger2 { b.servers_v2() } else { b.servers_v3() };
    let security_schemes = Arc::new(if dialect == Dialect::Swagger2 { b.schemes_v2() } else { b.schemes_v3()? });
    let global_security = security(root.get("security"));
    let mut operations = Vec::new();
    let mut namer = Namer::new();
    // The names the usual rules give, handed out beside the real ones: a
    // route `crud` renames keeps the one it would have had as a former id.
    let mut usual = Namer::new();
    let mut operation_ids: HashMap<String, String> = HashMap::new();
    let paths = match doc.path_names() {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(())) => return Err(Error::spec("/paths", "`paths` is not an object")),
    };
    let Some(paths) = paths else {
        b.warnings.push("", "the document has no `paths`");
        return finish(b, service, format, info, text, servers, security_schemes, operations);
    };
    let declared: HashSet<&str> = paths.iter().copied().collect();
    for path in paths {
        if path.starts_with("x-") {
            continue;
        }
        let item_at = join("/paths", path);
        if path.len() > 1 && path.ends_with('/') && declared.contains(path.trim_end_matches('/')) {
            b.warnings.push(
                &item_at,
                format!("`{}` and `{}` are both declared", clip(path), clip(path.trim_end_matches('/'))),
            );
        }
        // Each path item is parsed here and freed after its operations are built.
        let Some(item) = doc.lookup_owned(&item_at) else { continue };
        let (item, item_ptr) = follow(doc, &item, &item_at)?;
        let Some(item_map) = item.as_object() else {
            b.warnings.push(&item_at, "the path item is not an object; skipped");
            continue;
        };
        let shared = b.raw_params(item_map.get("parameters"), &join(&item_ptr, "parameters"))?;
        for method in Method::ALL {
            let key = method.as_str().to_ascii_lowercase();
            let Some(op) = item_map.get(&key) else { continue };
            let at = join(&item_ptr, &key);
            if !op.is_object() {
                b.warnings.push(&at, "the operation is not an object; skipped");
                continue;
            }
            let meta = b.operation(path, method, op, &at, &shared, &global_security)?;
            let tags: Vec<String> = strings(op.get("tags"));
            let operation_id = op.get("operationId").and_then(Value::as_str);
            match operation_id {
                None => b.warnings.push(&at, "no operationId; the name is made from the method and path"),
                Some(id) => {
                    if let Some(first) = operation_ids.get(id) {
                        b.warnings.push(
                            join(&at, "operationId"),
                            format!("operationId `{}` is also used at {first}", clip(id)),
                        );
                    } else {
                        operation_ids.insert(id.to_owned(), at.clone());
                    }
                }
            }
            let (group, name) = (naming::group(&tags, path), naming::name(operation_id, method, path));
            let renamed = crud.and_then(|rule| naming::crud(rule, &tags, method, path));
            let (assigned, former_ids) = match renamed {
                None => {
                    usual.assign(service, group.clone(), name.clone());
                    (namer.assign(service, group, name), Vec::new())
                }
                Some((new_group, new_name)) => {
                    let former = usual.assign(service, group, name);
                    (namer.assign(service, new_group, new_name), vec![former.id])
                }
            };
            if let Some(wanted) = &assigned.collided_with {
                b.warnings.push(
                    &at,
                    format!("the name `{}.{wanted}` is taken; this operation is `{}`", assigned.group, assigned.id),
                );
            }
            operations.push(OperationMeta {
                id: assigned.id,
                service: service.to_owned(),
                group: assigned.group,
                name: assigned.name,
                alias: assigned.alias,
                tags,
                former_ids,
                ..meta
            });
        }
    }
    finish(b, service, format, info, text, servers, security_schemes, operations)
}

#[allow(clippy::too_many_arguments)]
fn finish(
    mut b: Builder<'_>,
    service: &str,
    format: String,
    info: Option<&Value>,
    text: impl Fn(Option<&Value>) -> String,
    servers: Vec<Server>,
    security_schemes: Arc<IndexMap<String, SecurityScheme>>,
    mut operations: Vec<OperationMeta>,
) -> Result<Document> {
    let defs = b.conv.finish(&mut b.warnings)?;
    let definitions = Arc::new(Definitions::new(defs));
    for op in &mut operations {
        op.definitions = definitions.clone();
        op.security_schemes = security_schemes.clone();
    }
    let mut tags: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let declared = b.doc.root().get("tags").and_then(Value::as_array).into_iter().flatten();
    for name in declared
        .filter_map(|t| t.get("name").and_then(Value::as_str))
        .chain(operations.iter().flat_map(|o| o.tags.iter().map(String::as_str)))
    {
        if seen.insert(name.to_owned()) {
            tags.push(name.to_owned());
        }
    }
    Ok(Document {
        service: service.to_owned(),
        title: text(info.and_then(|i| i.get("title"))),
        version: info.and_then(|i| i.get("version")).map(version_text).unwrap_or_default(),
        format,
        dialect: b.dialect,
        servers,
        security_schemes: (*security_schemes).clone(),
        tags,
        operations,
        definitions,
        warnings: b.warnings.0,
    })
}

/// `info.version` as text, even when YAML made it a number (`1.0`).
fn version_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// The strings of an array value, ignoring anything else.
pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

/// A `security` array: each object is one alternative; `[]` means none.
pub(super) fn security(v: Option<&Value>) -> Vec<SecurityRequirement> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|req| {
            SecurityRequirement(req.iter().map(|(name, scopes)| (name.clone(), strings(Some(scopes)))).collect())
        })
        .collect()
}

impl<'a> Builder<'a> {
    /// The parameters of a list, refs followed.
    fn raw_params<'p>(&mut self, list: Option<&'p Value>, at: &str) -> Result<Vec<RawParam<'p>>>
    where
        'a: 'p,
    {
        let mut out = Vec::new();
        let Some(items) = list.and_then(Value::as_array) else { return Ok(out) };
        for (i, item) in items.iter().enumerate() {
            let item_at = format!("{at}/{i}");
            let (value, pointer) = follow(self.doc, item, &item_at)?;
            let name = value.get("name").and_then(Value::as_str);
            let location = value.get("in").and_then(Value::as_str);
            let (Some(name), Some(location)) = (name, location) else {
                self.warnings.push(&item_at, "a parameter without `name` or `in`; skipped");
                continue;
            };
            out.push(RawParam { value, pointer, name: name.to_owned(), location: location.to_owned() });
        }
        Ok(out)
    }

    fn operation<'p>(
        &mut self,
        path: &str,
        method: Method,
        op: &'p Value,
        at: &str,
        shared: &[RawParam<'p>],
        global_security: &[SecurityRequirement],
    ) -> Result<OperationMeta>
    where
        'a: 'p,
    {
        // Operation-level parameters replace path-level ones with the same name and location.
        let own = self.raw_params(op.get("parameters"), &join(at, "parameters"))?;
        let mut merged: Vec<&RawParam<'p>> = Vec::with_capacity(shared.len() + own.len());
        for p in shared {
            let replaced = own.iter().find(|o| o.name == p.name && o.location == p.location);
            merged.push(replaced.unwrap_or(p));
        }
        for o in &own {
            if !merged.iter().any(|m| std::ptr::eq(*m, o)) {
                merged.push(o);
            }
        }
        let variables = template_variables(path);
        let mut parameters: Vec<Parameter> = Vec::new();
        let mut body_param: Option<&RawParam<'p>> = None;
        let mut form: Vec<&RawParam<'p>> = Vec::new();
        for p in merged {
            match p.location.as_str() {
                "path" if !variables.contains(&p.name.as_str()) => self.warn_once(
                    &p.pointer,
                    format!("path parameter `{}` is not in the path `{}`; not sent", clip(&p.name), clip(path)),
                ),
                "path" | "query" | "header" | "cookie" => {
                    if let Some(param) = self.parameter(p)? {
                        parameters.push(param);
                    }
                }
                "body" => {
                    if self.dialect != Dialect::Swagger2 {
                        self.warnings.push(&p.pointer, "`in: body` is swagger 2; read as a json request body");
                    }
                    body_param = Some(p);
                }
                "formData" => {
                    if self.dialect != Dialect::Swagger2 {
                        self.warnings.push(&p.pointer, "`in: formData` is swagger 2; read as a form request body");
                    }
                    form.push(p);
                }
                other => self.warnings.push(
                    join(&p.pointer, "in"),
                    format!("unknown parameter location `{}`; parameter skipped", clip(other)),
                ),
            }
        }
        // `at` is the path item's pointer extended by the method.
        let item_at = at.rsplit_once('/').map_or(at, |(item, _)| item);
        self.undeclared_variables(&variables, item_at, &mut parameters);
        assign_keys(&mut parameters);
        let consumes = match op.get("consumes") {
            Some(c) => strings(Some(c)),
            None => self.consumes.clone(),
        };
        let mut body = match op.get("requestBody") {
            Some(rb) if self.dialect != Dialect::Swagger2 => self.request_body_v3(rb, &join(at, "requestBody"))?,
            _ => None,
        };
        if let Some(p) = body_param {
            let extra = self.body_param(p, &consumes)?;
            body = Some(merge_body(body, extra));
        }
        if !form.is_empty() {
            let extra = self.form_body(&form, &consumes)?;
            body = Some(merge_body(body, extra));
        }
        let responses = match op.get("responses").and_then(Value::as_object) {
            Some(r) if !r.is_empty() => self.responses(r, &join(at, "responses"), op)?,
            _ => {
                self.warnings.push(at, "no responses declared");
                Vec::new()
            }
        };
        let security = match op.get("security") {
            Some(s) => security(Some(s)),
            None => global_security.to_vec(),
        };
        let summary = op.get("summary").and_then(Value::as_str).map(short_label).unwrap_or_default();
        Ok(OperationMeta {
            id: String::new(),
            service: String::new(),
            group: String::new(),
            name: String::new(),
            alias: String::new(),
            summary,
            method,
            path: path.to_owned(),
            parameters,
            body,
            responses,
            deprecated: op.get("deprecated").and_then(Value::as_bool).unwrap_or(false),
            since: None,
            deprecated_since: None,
            security,
            tags: Vec::new(),
            former_ids: Vec::new(),
            open_query: false,
            definitions: Definitions::empty(),
            security_schemes: Default::default(),
        })
    }

    fn parameter(&mut self, p: &RawParam<'_>) -> Result<Option<Parameter>> {
        let location = match p.location.as_str() {
            "path" => Location::Path,
            "query" => Location::Query,
            "header" => Location::Header,
            _ => Location::Cookie,
        };
        if self.dialect != Dialect::Swagger2
            && location == Location::Header
            && ["accept", "content-type", "authorization"].contains(&p.name.to_ascii_lowercase().as_str())
        {
            // OpenAPI 3 says these header parameters are ignored: they are set
            // by content negotiation and security.
            return Ok(None);
        }
        let v = p.value;
        let v2_style = self.dialect == Dialect::Swagger2 || (v.get("schema").is_none() && v.get("content").is_none());
        let mut param = if v2_style { self.parameter_v2(p, location)? } else { self.parameter_v3(p, location)? };
        param.required = location == Location::Path || v.get("required").and_then(Value::as_bool).unwrap_or(false);
        param.deprecated = v.get("deprecated").and_then(Value::as_bool).unwrap_or(false);
        Ok(Some(param))
    }

    /// Pushes a warning unless the same one was already pushed: path-level
    /// parameters and path templates are shared by every method of a path.
    fn warn_once(&mut self, pointer: &str, message: String) {
        if self.once.insert((pointer.to_owned(), message.clone())) {
            self.warnings.push(pointer, message);
        }
    }

    /// Adds a required string path parameter for each template variable no
    /// parameter declares, ahead of the declared ones so it keeps its plain
    /// key: without one the operation could never be called, while the
    /// server plainly expects a value there.
    fn undeclared_variables(&mut self, variables: &[&str], item_at: &str, parameters: &mut Vec<Parameter>) {
        let mut added = Vec::new();
        for name in variables {
            let declared = parameters.iter().any(|p| p.location == Location::Path && p.name == *name);
            if declared || added.iter().any(|p: &Parameter| p.name == *name) {
                continue;
            }
            self.warn_once(
                item_at,
                format!("path variable `{}` is not declared as a parameter; read as a required string", clip(name)),
            );
            let schema = serde_json::json!({"type": "string"});
            added.push(Parameter {
                required: true,
                ..Parameter::new(*name, Location::Path, Style::Simple, false, schema)
            });
        }
        if !added.is_empty() {
            parameters.splice(0..0, added);
        }
    }

    /// A form body from `formData` parameters: multipart when a field is a
    /// file or the operation consumes multipart, else URL-encoded.
    fn form_body(&mut self, fields: &[&RawParam<'_>], consumes: &[String]) -> Result<BodySpec> {
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut has_file = false;
        for f in fields {
            has_file |= f.value.get("type").and_then(Value::as_str) == Some("file");
            let schema = match f.value.get("schema") {
                Some(s) if self.dialect != Dialect::Swagger2 => {
                    self.conv.convert(s, &join(&f.pointer, "schema"), &mut self.warnings)?
                }
                _ => self.conv.convert_inline(f.value, &f.pointer, &mut self.warnings)?,
            };
            properties.insert(f.name.clone(), schema);
            if f.value.get("required").and_then(Value::as_bool).unwrap_or(false) {
                required.push(Value::String(f.name.clone()));
            }
        }
        let multipart = has_file || consumes.iter().any(|c| c.starts_with("multipart/"));
        let content_type = if multipart { "multipart/form-data" } else { "application/x-www-form-urlencoded" };
        let mut schema = Map::new();
        schema.insert("type".into(), "object".into());
        schema.insert("properties".into(), Value::Object(properties));
        let body_required = !required.is_empty();
        if body_required {
            schema.insert("required".into(), Value::Array(required));
        }
        Ok(BodySpec {
            required: body_required,
            media: vec![Media {
                content_type: content_type.into(),
                schema: Value::Object(schema),
                encoding: Map::new(),
                example: None,
            }],
        })
    }

    /// A JSON body from an `in: body` parameter, offered in every media type
    /// the operation consumes (JSON when it names none).
    fn body_param(&mut self, p: &RawParam<'_>, consumes: &[String]) -> Result<BodySpec> {
        let schema = match p.value.get("schema") {
            Some(s) => self.conv.convert(s, &join(&p.pointer, "schema"), &mut self.warnings)?,
            None => Value::Object(Map::new()),
        };
        let mut types: Vec<&str> = consumes
            .iter()
            .map(String::as_str)
            .filter(|c| !c.starts_with("multipart/") && !c.starts_with("application/x-www-form-urlencoded"))
            .collect();
        if types.is_empty() {
            types.push("application/json");
        }
        Ok(BodySpec {
            required: p.value.get("required").and_then(Value::as_bool).unwrap_or(false),
            media: types
                .into_iter()
                .map(|t| Media {
                    content_type: t.to_owned(),
                    schema: schema.clone(),
                    encoding: Map::new(),
                    example: None,
                })
                .collect(),
        })
    }

    fn responses(&mut self, map: &Map<String, Value>, at: &str, op: &Value) -> Result<Vec<ResponseSpec>> {
        let mut out = Vec::with_capacity(map.len());
        for (status, response) in map {
            if status.starts_with("x-") {
                continue;
            }
            let r_at = join(at, status);
            let (response, pointer) = follow(self.doc, response, &r_at)?;
            let spec = if self.dialect == Dialect::Swagger2 {
                self.response_v2(status, response, &pointer, op)?
            } else {
                self.response_v3(status, response, &pointer)?
            };
            out.push(spec);
        }
        Ok(out)
    }
}

/// The `{name}` variables of a path template, in order; an unclosed or
/// empty brace is not a variable.
fn template_variables(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
        rest = &after[end + 1..];
    }
    out
}

/// Gives each parameter its input key (see the module docs).
fn assign_keys(parameters: &mut [Parameter]) {
    let mut taken: HashSet<String> = HashSet::new();
    for p in parameters.iter_mut() {
        let plain_free = p.name != BODY_KEY && !taken.contains(&p.name);
        p.key = if plain_free { p.name.clone() } else { format!("{}.{}", p.location.as_str(), p.name) };
        taken.insert(p.key.clone());
    }
}

/// Adds `extra`'s media types to `body` (a hybrid document can declare both).
fn merge_body(body: Option<BodySpec>, extra: BodySpec) -> BodySpec {
    match body {
        None => extra,
        Some(mut b) => {
            b.required |= extra.required;
            for m in extra.media {
                if !b.media.iter().any(|x| x.content_type == m.content_type) {
                    b.media.push(m);
                }
            }
            b
        }
    }
}

/// The first line of a summary, at most 120 characters.
fn short_label(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let mut out: String = line.chars().take(120).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, location: Location) -> Parameter {
        Parameter::new(name, location, Style::Form, true, Value::Object(Map::new()))
    }

    #[test]
    fn keys_disambiguate_by_location_and_reserve_body() {
        let mut ps = vec![
            param("id", Location::Path),
            param("id", Location::Query),
            param("body", Location::Query),
            param("limit", Location::Query),
        ];
        assign_keys(&mut ps);
        let keys: Vec<&str> = ps.iter().map(|p| p.key.as_str()).collect();
        assert_eq!(keys, ["id", "query.id", "query.body", "limit"]);
    }

    #[rstest::rstest]
    #[case("/a/{x}/b/{y}", &["x", "y"])]
    #[case("/a/{x}.{x}", &["x"])]
    #[case("/a/{}/{unclosed", &[])]
    #[case("/files/{path}.json", &["path"])]
    fn template_variables_are_read_in_order(#[case] path: &str, #[case] expected: &[&str]) {
        assert_eq!(template_variables(path), expected);
    }

    #[test]
    fn labels_are_one_short_line() {
        assert_eq!(short_label("List users\nmore prose"), "List users");
        assert_eq!(short_label(&"x".repeat(200)).chars().count(), 121);
    }
}
