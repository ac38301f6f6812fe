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
//! The files are produced by [`build`] from the specs in `shared/specs`
//! (`opdeck catalog build`), and a test rebuilds them to prove the committed
//! ones are current.

pub mod build;

use std::sync::Arc;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::http::operation::HttpOperation;
use crate::operation::{Definitions, Operation, OperationMeta, SecurityScheme};
use crate::registry::Source;

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

    /// Parses the catalog's header and operations (not its models).
    pub fn catalog(&self) -> Result<Catalog> {
        parse(self.embedded.operations, self.embedded.definitions).map(|(c, _)| c)
    }
}

/// Parses a catalog, attaching lazily parsed models and the security schemes
/// to every operation.
pub fn parse(operations: &str, definitions: &str) -> Result<(Catalog, Arc<Definitions>)> {
    let mut catalog: Catalog = serde_json::from_str(operations)
        .map_err(|e| Error::spec(format!("line {} column {}", e.line(), e.column()), format!("bad catalog: {e}")))?;
    if catalog.format != FORMAT {
        return Err(Error::spec(
            "/format",
            format!("catalog `{}` has format {}, this opdeck reads {FORMAT}", catalog.service, catalog.format),
        ));
    }
    let defs = Arc::new(Definitions::lazy(definitions.into()));
    let schemes = Arc::new(catalog.security_schemes.clone());
    for op in &mut catalog.operations {
        op.definitions = defs.clone();
        op.security_schemes = schemes.clone();
    }
    Ok((catalog, defs))
}

impl Source for CatalogSource {
    fn service(&self) -> &str {
        self.embedded.service
    }

    fn origin(&self) -> String {
        "builtin".into()
    }

    fn operations(&self) -> Result<Vec<Arc<dyn Operation>>> {
        Ok(self
            .catalog()?
            .operations
            .into_iter()
            .map(|meta| Arc::new(HttpOperation::new(meta)) as Arc<dyn Operation>)
            .collect())
    }
}

/// The sources of every built-in service.
pub fn builtin() -> impl Iterator<Item = CatalogSource> {
    BUILTIN.into_iter().map(CatalogSource::new)
}
