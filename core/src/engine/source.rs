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

/// The options a spec of `service` is loaded with: its profile's naming
/// rules (Kitsu's collection routes), nothing read beyond the document.
pub fn load_options(service: &str) -> LoadOptions {
    LoadOptions { crud: crate::services::ServiceProfile::for_service(service).crud.clone(), ..LoadOptions::default() }
}

/// Loads a document given as text, a file path or an `http(s)` URL (what the
/// meta-operations accept as `spec`).
pub async fn load_input(input: &str, service: &str, options: &LoadOptions) -> Result<Document> {
    let trimmed = input.trim();
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        let bytes = fetch(trimmed).await?;
        return load(&bytes, service, options).map_err(|e| e.in_spec_source(&crate::wire::redact_text(trimmed)));
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

/// The time allowed to connect to a spec's URL.
pub const FETCH_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The time allowed for the whole fetch of a spec, body included.
pub const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Fetches a document from an `http(s)` URL, up to [`MAX_FETCH_BYTES`],
/// within [`FETCH_CONNECT_TIMEOUT`] and [`FETCH_TIMEOUT`].
pub async fn fetch(url: &str) -> Result<Vec<u8>> {
    fetch_within(url, FETCH_CONNECT_TIMEOUT, FETCH_TIMEOUT).await
}

/// [`fetch`] with other time limits. An error names the URL (redacted) and,
/// on a timeout, how long it waited.
pub async fn fetch_within(url: &str, connect: std::time::Duration, total: std::time::Duration) -> Result<Vec<u8>> {
    let shown = crate::wire::redact_text(url).into_owned();
    let started = std::time::Instant::now();
    let timed_out = || Error::Transport {
        operation: "openapi.fetch".into(),
        message: format!(
            "{shown} did not answer within {:.1}s (connect timeout {}s, total {}s)",
            started.elapsed().as_secs_f64(),
            connect.as_secs_f64(),
            total.as_secs_f64()
        ),
    };
    match tokio::time::timeout(total, fetch_bytes(url, &shown, connect)).await {
        Ok(Err(Error::Timeout { .. })) | Err(_) => Err(timed_out()),
        Ok(result) => result,
    }
}

async fn fetch_bytes(url: &str, shown: &str, connect: std::time::Duration) -> Result<Vec<u8>> {
    let fail = |message: String| Error::Transport { operation: "openapi.fetch".into(), message };
    let client = reqwest::Client::builder()
        .connect_timeout(connect)
        .build()
        .map_err(|e| Error::config(format!("cannot build the http client: {e}")))?;
    let reqwest_err = |e: reqwest::Error| {
        if e.is_timeout() {
            return Error::timeout("openapi.fetch", connect);
        }
        let e = e.without_url();
        let mut message = format!("{shown}: {e}");
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            message.push_str(&format!(": {s}"));
            source = s.source();
        }
        fail(message)
    };
    let resp = client.get(url).send().await.map_err(reqwest_err)?;
    let status = resp.status();
    if !status.is_success() {
        return Err(fail(format!("{shown} answered http status {}", status.as_u16())));
    }
    if resp.content_length().is_some_and(|n| n > MAX_FETCH_BYTES as u64) {
        return Err(fail(format!("{shown} is larger than {MAX_FETCH_BYTES} bytes")));
    }
    let mut out = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp.chunk().await.map_err(reqwest_err)? {
        if out.len() + chunk.len() > MAX_FETCH_BYTES {
            return Err(fail(format!("{shown} is larger than {MAX_FETCH_BYTES} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
