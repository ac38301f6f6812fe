//! API descriptions in, operations out.
//!
//! [`load`] turns the bytes of an OpenAPI 3.0 / 3.1 or Swagger 2.0 document
//! (JSON or YAML) into a [`Document`]: its header, its servers and security
//! schemes, and one [`OperationMeta`] per operation, named by
//! [`crate::naming`], whose schemas are JSON Schema 2020-12 sharing one set of
//! [`Definitions`]. The steps live in their own files:
//!
//! * `load`: bytes → `serde_json::Value`, dialect detection;
//! * `doc`: the document as the build reads it, large maps parsed on demand;
//! * `refs`: `$ref` following, external refs (off by default);
//! * `schema`: OpenAPI / Swagger schemas → JSON Schema 2020-12;
//! * `repair`: schemas no value satisfies, rewritten where the intent is plain;
//! * `model`: the walk over paths shared by both dialects, parameter keys,
//!   naming and warnings; `v3` and `v2` hold what differs;
//! * `source`: [`OpenApiSource`], a registry [`Source`](crate::Source);
//! * `meta`: the `openapi.previewSpec` and `openapi.addSource` operations.
//!
//! Loading never panics and never half succeeds: a document opdeck cannot use
//! is an [`Error::Spec`] with the JSON pointer of the fault; what it can use
//! despite a fault becomes a [`Warning`].

pub mod budget;
mod doc;
mod load;
mod model;
mod refs;
mod repair;
mod schema;
mod v2;
mod v3;
mod warnings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::{Definitions, OperationMeta, SecurityScheme};

pub use load::Dialect;
#[cfg(feature = "catalogs")]
pub(crate) use load::{Lean, parse};
pub use warnings::Warning;

/// How a document may be loaded.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The directory external file refs may read from; `None` (the default)
    /// refuses every external ref. URL refs are always refused.
    pub external_dir: Option<PathBuf>,
    /// The directory the document's own relative refs start from; defaults
    /// to `external_dir`.
    pub base_dir: Option<PathBuf>,
    /// How the service names its generic collection routes, from its profile
    /// (Kitsu's `Crud` routes); `None` names every route by the usual rules.
    pub crud: Option<crate::naming::CrudRule>,
}

/// A server the document declares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Server {
    /// The URL template, e.g. `https://{tenant}/api`.
    pub url: String,
    /// Its variables with their defaults and allowed values.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub variables: IndexMap<String, ServerVariable>,
}

/// One `{variable}` of a server URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServerVariable {
    /// The value used when none is configured.
    pub default: String,
    /// The values allowed, when the spec restricts them.
    #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// A loaded API description.
#[derive(Debug, Clone)]
pub struct Document {
    /// The service its operations are registered under.
    pub service: String,
    /// `info.title`.
    pub title: String,
    /// `info.version`.
    pub version: String,
    /// The dialect and its version as written, e.g. `openapi 3.0.3`, `swagger 2.0`.
    pub format: String,
    /// The dialect.
    pub dialect: Dialect,
    /// Servers; for Swagger 2, built from `schemes`, `host` and `basePath`.
    pub servers: Vec<Server>,
    /// Security schemes by name.
    pub security_schemes: IndexMap<String, SecurityScheme>,
    /// Tag names: the declared ones in order, then any others operations use.
    pub tags: Vec<String>,
    /// The operations, in the spec's order.
    pub operations: Vec<OperationMeta>,
    /// The models every operation's schemas refer to.
    pub definitions: Arc<Definitions>,
    /// What was wrong but usable.
    pub warnings: Vec<Warning>,
}

impl Document {
    /// The base URL calls go to when none is given: the first server, its
    /// `{variables}` filled with their defaults (Swagger 2: scheme, host and
    /// `basePath`). A relative server URL (`/api/v3`) is resolved against
    /// `origin` when the document came from an http(s) URL; otherwise, or
    /// when the result is not an http(s) URL, there is none.
    pub fn server_url(&self, origin: Option<&str>) -> Option<String> {
        let server = self.servers.first()?;
        let mut text = server.url.clone();
        for (name, var) in &server.variables {
            text = text.replace(&format!("{{{name}}}"), &var.default);
        }
        let url = match url::Url::parse(&text) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let base = url::Url::parse(origin?).ok().filter(|u| matches!(u.scheme(), "http" | "https"))?;
                base.join(&text).ok()?
            }
            Err(_) => return None,
        };
        let http = matches!(url.scheme(), "http" | "https") && url.has_host() && !text.contains('{');
        http.then(|| url.as_str().trim_end_matches('/').to_owned())
    }

    /// A JSON summary: title, version, format, servers, security schemes,
    /// operation count, tags and warnings (what `openapi.previewSpec` returns).
    pub fn summary(&self) -> serde_json::Value {
        serde_json::json!({
            "service": self.service,
            "title": self.title,
            "version": self.version,
            "format": self.format,
            "servers": self.servers,
            "securitySchemes": self.security_schemes,
            "operationCount": self.operations.len(),
            "tags": self.tags,
            "warnings": self.warnings,
        })
    }
}

/// Loads a document from its bytes (JSON or YAML) for `service`.
pub fn load(bytes: &[u8], service: &str, options: &LoadOptions) -> Result<Document> {
    let doc = match &options.external_dir {
        None => load::read(bytes)?,
        Some(allowed) => {
            // Bundling rewrites refs all over the document, so it is read whole.
            let mut value = load::parse(bytes)?;
            load::detect(&value)?;
            let base = options.base_dir.as_deref().unwrap_or(allowed);
            refs::bundle(&mut value, base, allowed)?;
            doc::Doc::from_value(value)
        }
    };
    let (dialect, format) = load::detect(doc.root())?;
    let built = model::build(&doc, dialect, format, service, options.crud.as_ref());
    if let Some(e) = doc.failure() {
        return Err(e);
    }
    release(doc.into_root(), bytes.len());
    built
}

/// Documents above this size are freed on a helper thread.
const BACKGROUND_DROP_BYTES: usize = 4 * 1024 * 1024;

/// Frees the parsed document. A 13 MB spec is millions of small allocations
/// whose freeing costs a third of the load, and nothing waits for it, so big
/// ones are freed on a short-lived thread (inline if none can start).
fn release(doc: serde_json::Value, size: usize) {
    if size < BACKGROUND_DROP_BYTES {
        return;
    }
    let spawned = std::thread::Builder::new().name("opdeck-free".into()).spawn(move || drop(doc));
    if let Err(e) = spawned {
        drop(e);
    }
}

/// The largest document fetched from a URL (the biggest public specs are
/// under 100 MB).
pub const MAX_FETCH_BYTES: usize = 256 * 1024 * 1024;

/// Reads the file at `path`, failing with an [`Error::Limit`] named `limit`
/// that names the file once more than `cap` bytes were read. The bytes read
/// count, not the size the file reports: a device (`/dev/zero`) or a pipe
/// reports none.
pub fn read_capped(path: &Path, cap: u64, limit: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reported = file.metadata().map(|m| m.len()).unwrap_or(0);
    let too_big =
        || Error::Limit { limit: limit.to_owned(), detail: format!("{} is larger than {cap} bytes", path.display()) };
    if reported > cap {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(reported).unwrap_or(0));
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Loads a document from a file. External refs stay off unless `options`
/// allow a directory; relative refs then start at the file's directory.
/// A file larger than [`MAX_FETCH_BYTES`] is refused; errors name the file.
pub fn load_path(path: &Path, service: &str, options: &LoadOptions) -> Result<Document> {
    let bytes = read_capped(path, MAX_FETCH_BYTES as u64, "max_spec_bytes")?;
    let mut options = options.clone();
    if options.base_dir.is_none() && options.external_dir.is_some() {
        options.base_dir = path.parent().map(Path::to_owned);
    }
    load(&bytes, service, &options).map_err(|e| e.in_spec_source(&path.display().to_string()))
}
