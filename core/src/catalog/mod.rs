//! The compiled catalogs of the built-in services, embedded in the binary.
//!
//! Each built-in service ships as three JSON files under `core/catalogs/`:
//! `<service>.json` holds the service's header and its operations, one per
//! line (facts only: ids, methods, paths, parameters, schemas as `$ref`s,
//! security, deprecation and short labels we write); `<service>.heads.json`
//! holds, in the same order, the fields of each operation that listings read;
//! and `<service>.defs.json` holds the shared models. A deck that starts
//! parses the heads only. An operation's line is parsed when it is first
//! called, validated or described, and the models when a schema needs them:
//! that keeps listing all 1,413 operations at a few milliseconds.
//!
//! The files are produced by [`build`] from the services' specs
//! (`opdeck catalog build`), and a test rebuilds them from the stripped specs
//! of `tests/specs` (written by [`strip`]) to prove the committed ones are
//! current.

pub mod build;
pub mod strip;

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::Context;
use crate::engine::HttpOperation;
use crate::engine::Operation;
use crate::engine::Source;
use crate::error::{Error, Result};
use crate::model::{Definitions, Head, Method, OperationMeta, Output, SecurityScheme};
use crate::wire::Request;

/// The version of the catalog file format.
pub const FORMAT: u32 = 1;

/// The header and operations of one compiled catalog.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Catalog {
    /// [`FORMAT`] when the file was written.
    pub format: u32,
    /// The service name.
    pub service: String,
    /// The API's title, as the spec names it.
    pub title: String,
    /// The API's version.
    pub version: String,
    /// The spec file the catalog was built from.
    pub source: String,
    /// Server URLs the spec declares.
    #[serde(default)]
    pub servers: Vec<String>,
    /// The security schemes, by name.
    #[serde(default)]
    pub security_schemes: IndexMap<String, SecurityScheme>,
    /// The operations, in the spec's order.
    pub operations: Vec<OperationMeta>,
}

/// One embedded catalog: its files' text.
#[derive(Debug, Clone, Copy)]
pub struct Embedded {
    /// The service name.
    pub service: &'static str,
    /// `<service>.json`.
    pub operations: &'static str,
    /// `<service>.heads.json`.
    pub heads: &'static str,
    /// `<service>.defs.json`.
    pub definitions: &'static str,
}

macro_rules! embed {
    ($service:literal) => {
        Embedded {
            service: $service,
            operations: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/catalogs/", $service, ".json")),
            heads: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/catalogs/", $service, ".heads.json")),
            definitions: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/catalogs/", $service, ".defs.json")),
        }
    };
}

/// The built-in services, in the order they are listed.
pub const BUILTIN: [Embedded; 5] =
    [embed!("seald"), embed!("dracoon"), embed!("selfprivacy"), embed!("wildduck"), embed!("kitsu")];

/// A [`Source`] over one compiled catalog.
#[derive(Debug, Clone, Copy)]
pub struct CatalogSource {
    embedded: Embedded,
}

impl CatalogSource {
    /// The source of one embedded catalog.
    pub fn new(embedded: Embedded) -> Self {
        CatalogSource { embedded }
    }

    /// Parses the whole catalog: header and every operation in full.
    pub fn catalog(&self) -> Result<Catalog> {
        parse(self.embedded.operations, self.embedded.definitions).map(|(c, _)| c)
    }
}

/// Parses a catalog, attaching lazily parsed models and the security schemes
/// to every operation.
pub fn parse(operations: &str, definitions: &str) -> Result<(Catalog, Arc<Definitions>)> {
    let mut catalog: Catalog = serde_json::from_str(operations).map_err(bad_catalog)?;
    check_format(&catalog.service, catalog.format)?;
    let defs = Arc::new(Definitions::lazy(definitions.into()));
    let schemes = Arc::new(catalog.security_schemes.clone());
    for op in &mut catalog.operations {
        op.definitions = defs.clone();
        op.security_schemes = schemes.clone();
    }
    Ok((catalog, defs))
}

fn bad_catalog(e: serde_json::Error) -> Error {
    Error::spec(format!("line {} column {}", e.line(), e.column()), format!("bad catalog: {e}"))
}

fn check_format(service: &str, format: u32) -> Result<()> {
    if format == FORMAT {
        Ok(())
    } else {
        Err(Error::spec("/format", format!("catalog `{service}` has format {format}, this opdeck reads {FORMAT}")))
    }
}

/// `<service>.heads.json`: the header a deck needs and each operation's
/// head, in the catalog's order.
#[derive(Serialize, Deserialize)]
pub(crate) struct Heads {
    pub(crate) format: u32,
    pub(crate) service: String,
    #[serde(default)]
    pub(crate) security_schemes: IndexMap<String, SecurityScheme>,
    pub(crate) heads: Vec<Listed>,
}

/// The fields of an operation that listings read.
#[derive(Serialize, Deserialize)]
pub(crate) struct Listed {
    id: String,
    service: String,
    group: String,
    name: String,
    alias: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    summary: String,
    method: Method,
    path: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    deprecated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<String>,
    /// The parameters' names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    parameters: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    former_ids: Vec<String>,
}

impl Listed {
    /// The head of `meta`.
    pub(crate) fn of(meta: &OperationMeta) -> Self {
        Listed {
            id: meta.id.clone(),
            service: meta.service.clone(),
            group: meta.group.clone(),
            name: meta.name.clone(),
            alias: meta.alias.clone(),
            summary: meta.summary.clone(),
            method: meta.method,
            path: meta.path.clone(),
            deprecated: meta.deprecated,
            since: meta.since.clone(),
            parameters: meta.parameters.iter().map(|p| p.name.clone()).collect(),
            former_ids: meta.former_ids.clone(),
        }
    }
}

/// The operations' lines of a catalog file, split on first use: line `i`
/// of the array is operation `i` (as [`build`] writes the file).
struct Lines {
    text: &'static str,
    lines: OnceLock<Vec<&'static str>>,
}

impl Lines {
    fn get(&self, i: usize) -> Option<&'static str> {
        let lines = self.lines.get_or_init(|| {
            // The first line is the header, up to `"operations":[`.
            self.text.lines().skip(1).map(|l| l.strip_suffix(',').unwrap_or(l)).collect()
        });
        lines.get(i).copied()
    }
}

/// An operation of a compiled catalog. Its head is parsed with the catalog;
/// its full description (parameters, body, responses) on first use.
struct CatalogOperation {
    listed: Listed,
    index: usize,
    lines: Arc<Lines>,
    definitions: Arc<Definitions>,
    schemes: Arc<IndexMap<String, SecurityScheme>>,
    full: OnceLock<HttpOperation>,
}

impl CatalogOperation {
    fn full(&self) -> &HttpOperation {
        self.full.get_or_init(|| {
            // Every committed catalog line parses and matches its head (the
            // catalog tests check each one), so the fallback only guards a
            // hand-edited file: it keeps the head and has no parameters.
            let parsed = self.lines.get(self.index).and_then(|line| serde_json::from_str::<OperationMeta>(line).ok());
            let mut meta = parsed.filter(|m| m.id == self.listed.id).unwrap_or_else(|| OperationMeta {
                id: self.listed.id.clone(),
                service: self.listed.service.clone(),
                group: self.listed.group.clone(),
                name: self.listed.name.clone(),
                alias: self.listed.alias.clone(),
                summary: self.listed.summary.clone(),
                method: self.listed.method,
                path: self.listed.path.clone(),
                parameters: Vec::new(),
                body: None,
                responses: Vec::new(),
                deprecated: self.listed.deprecated,
                since: self.listed.since.clone(),
                deprecated_since: None,
                security: Vec::new(),
                tags: Vec::new(),
                former_ids: self.listed.former_ids.clone(),
                open_query: false,
                definitions: Definitions::empty(),
                security_schemes: Arc::default(),
            });
            meta.definitions = self.definitions.clone();
            meta.security_schemes = self.schemes.clone();
            HttpOperation::new(meta)
        })
    }
}

#[async_trait]
impl Operation for CatalogOperation {
    fn meta(&self) -> &OperationMeta {
        self.full().meta()
    }

    fn head(&self) -> Head<'_> {
        let l = &self.listed;
        Head {
            id: &l.id,
            alias: &l.alias,
            service: &l.service,
            group: &l.group,
            name: &l.name,
            summary: &l.summary,
            method: l.method,
            path: &l.path,
            deprecated: l.deprecated,
            since: l.since.as_deref(),
            parameters: l.parameters.iter().map(String::as_str).collect(),
            former_ids: &l.former_ids,
        }
    }

    async fn invoke(&self, ctx: &Context, input: Value) -> Result<Output> {
        self.full().invoke(ctx, input).await
    }

    fn dry_run(&self, ctx: &Context, input: &Value) -> Result<Request> {
        self.full().dry_run(ctx, input)
    }
}

impl Source for CatalogSource {
    fn service(&self) -> &str {
        self.embedded.service
    }

    fn origin(&self) -> String {
        "builtin".into()
    }

    fn operations(&self) -> Result<Vec<Arc<dyn Operation>>> {
        let heads: Heads = serde_json::from_str(self.embedded.heads).map_err(bad_catalog)?;
        check_format(&heads.service, heads.format)?;
        let definitions = Arc::new(Definitions::lazy(self.embedded.definitions.into()));
        let schemes = Arc::new(heads.security_schemes);
        let lines = Arc::new(Lines { text: self.embedded.operations, lines: OnceLock::new() });
        Ok(heads
            .heads
            .into_iter()
            .enumerate()
            .map(|(index, listed)| {
                Arc::new(CatalogOperation {
                    listed,
                    index,
                    lines: lines.clone(),
                    definitions: definitions.clone(),
                    schemes: schemes.clone(),
                    full: OnceLock::new(),
                }) as Arc<dyn Operation>
            })
            .collect())
    }
}

/// The sources of every built-in service.
pub fn builtin() -> impl Iterator<Item = CatalogSource> {
    BUILTIN.into_iter().map(CatalogSource::new)
}
