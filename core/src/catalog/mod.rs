//! The compiled catalogs of the built-in services, embedded in the binary.
//!
//! Each built-in service ships as two JSON files under `core/catalogs/`:
//! `<service>.json` holds the service's header and its operations (facts
//! only: ids, methods, paths, parameters, schemas as `$ref`s, security,
//! deprecation and short labels we write), and `<service>.defs.json` holds the
//! shared models. The operations are parsed when the deck starts; the models
//! stay unparsed text until an operation is validated or described, which is
//! what keeps listing all 1,413 operations at a few milliseconds.
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
use serde_json::value::RawValue;

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
    /// `<service>.defs.json`.
    pub definitions: &'static str,
}

macro_rules! embed {
    ($service:literal) => {
        Embedded {
            service: $service,
            operations: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/catalogs/", $service, ".json")),
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

/// A catalog as the deck reads it at start: the header, and each operation
/// still as its JSON text.
#[derive(Deserialize)]
struct Lazy<'a> {
    format: u32,
    service: String,
    #[serde(default)]
    security_schemes: IndexMap<String, SecurityScheme>,
    #[serde(borrow)]
    operations: Vec<&'a RawValue>,
}

/// The fields of an operation that listings read, parsed ahead of the rest.
#[derive(Deserialize)]
struct Listed {
    id: String,
    service: String,
    group: String,
    name: String,
    alias: String,
    #[serde(default)]
    summary: String,
    method: Method,
    path: String,
    #[serde(default)]
    deprecated: bool,
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    parameters: Vec<ListedParameter>,
    #[serde(default)]
    former_ids: Vec<String>,
}

#[derive(Deserialize)]
struct ListedParameter {
    name: String,
}

/// An operation of a compiled catalog. Its head is parsed with the catalog;
/// its full description (parameters, body, responses) on first use.
struct CatalogOperation {
    listed: Listed,
    raw: &'static RawValue,
    definitions: Arc<Definitions>,
    schemes: Arc<IndexMap<String, SecurityScheme>>,
    full: OnceLock<HttpOperation>,
}

impl CatalogOperation {
    fn full(&self) -> &HttpOperation {
        self.full.get_or_init(|| {
            // Every committed catalog line parses (the catalog tests check
            // each one), so the fallback only guards a hand-edited file: it
            // keeps the head and has no parameters.
            let mut meta: OperationMeta = serde_json::from_str(self.raw.get()).unwrap_or_else(|_| OperationMeta {
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
            parameters: l.parameters.iter().map(|p| p.name.as_str()).collect(),
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
        let lazy: Lazy<'static> = serde_json::from_str(self.embedded.operations).map_err(bad_catalog)?;
        check_format(&lazy.service, lazy.format)?;
        let definitions = Arc::new(Definitions::lazy(self.embedded.definitions.into()));
        let schemes = Arc::new(lazy.security_schemes);
        lazy.operations
            .into_iter()
            .map(|raw| {
                let listed: Listed = serde_json::from_str(raw.get()).map_err(bad_catalog)?;
                Ok(Arc::new(CatalogOperation {
                    listed,
                    raw,
                    definitions: definitions.clone(),
                    schemes: schemes.clone(),
                    full: OnceLock::new(),
                }) as Arc<dyn Operation>)
            })
            .collect()
    }
}

/// The sources of every built-in service.
pub fn builtin() -> impl Iterator<Item = CatalogSource> {
    BUILTIN.into_iter().map(CatalogSource::new)
}
