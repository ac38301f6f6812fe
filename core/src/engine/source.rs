//! Where documents come from and how they become registry sources:
//! [`OpenApiSource`] turns a loaded document into operations run over HTTP,
//! and [`load_input`] reads a spec given as text, a path or a URL (the spec
//! layer itself only turns bytes into a model).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{HttpOperation, Operation, Source};
use crate::error::{Error, Result};
use crate::spec::{Document, LoadOptions, MAX_FETCH_BYTES, load, load_path};

/// The operations of one OpenAPI / Swagger document, run over HTTP.
#[derive(Debug, Clone)]
pub struct OpenApiSource {
    document: Arc<Document>,
    origin: String,
}

impl OpenApiSource {
    /// A source over a loaded document; `origin` says where it came from
    /// (a path or URL) in listings.
    pub fn new(document: Document, origin: impl Into<String>) -> Self {
        OpenApiSource { document: Arc::new(document), origin: origin.into() }
    }

    /// Loads the document at `path` for `service`.
    pub fn from_path(path: &Path, service: &str, options: &LoadOptions) -> Result<Self> {
        let document = crate::spec::load_path(path, service, options)?;
        Ok(Self::new(document, path.display().to_string()))
    }

    /// The loaded document.
    pub fn document(&self) -> &Document {
        &self.document
    }
}

impl Source for OpenApiSource {
    fn service(&self) -> &str {
        &self.document.service
    }

    fn origin(&self) -> String {
        self.origin.clone()
    }

    fn operations(&self) -> Result<Vec<Arc<dyn Operation>>> {
        Ok(self
            .document
            .operations
            .iter()
            .map(|meta| Arc::new(HttpOperation::new(meta.clone())) as Arc<dyn Operation>)
            .collect())
    }
}

/// Loads a document given as text, a file path or an `http(s)` URL (what the
/// meta-operations accept as `spec`).
pub async fn load_input(input: &str, service: &str, options: &LoadOptions) -> Result<Document> {
    let trimmed = input.trim();
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        let bytes = fetch(trimmed).await?;
        return load(&bytes, service, options);
    }
    // A spec's text spans lines or starts like JSON; a path does neither.
    if trimmed.contains('\n') || trimmed.starts_with('{') {
        return load(trimmed.as_bytes(), service, options);
    }
    let path = PathBuf::from(trimmed);
    let options = options.clone();
    let service = service.to_owned();
    tokio::task::spawn_blocking(move || load_path(&path, &service, &options))
        .await
        .map_err(|e| Error::usage(format!("loading the spec stopped: {e}")))?
}

/// [`load_input`], blocking on the shared runtime.
pub fn load_input_blocking(input: &str, service: &str, options: &LoadOptions) -> Result<Document> {
    crate::runtime::block_on(load_input(input, service, options))?
}

/// Fetches a document from an `http(s)` URL, up to [`MAX_FETCH_BYTES`].
pub async fn fetch(url: &str) -> Result<Vec<u8>> {
    let shown = crate::wire::redact_text(url).into_owned();
    let fail = |message: String| Error::Transport { operation: "openapi.fetch".into(), message };
    let client =
        reqwest::Client::builder().build().map_err(|e| Error::config(format!("cannot build the http client: {e}")))?;
    let resp = client.get(url).send().await.map_err(|e| fail(format!("{shown}: {}", e.without_url())))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(fail(format!("{shown} answered http status {}", status.as_u16())));
    }
    if resp.content_length().is_some_and(|n| n > MAX_FETCH_BYTES as u64) {
        return Err(fail(format!("{shown} is larger than {MAX_FETCH_BYTES} bytes")));
    }
    let mut out = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp.chunk().await.map_err(|e| fail(format!("{shown}: {}", e.without_url())))? {
        if out.len() + chunk.len() > MAX_FETCH_BYTES {
            return Err(fail(format!("{shown} is larger than {MAX_FETCH_BYTES} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
