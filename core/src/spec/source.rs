//! [`OpenApiSource`]: a loaded document as a registry source.

use std::path::Path;
use std::sync::Arc;

use super::{Document, LoadOptions};
use crate::error::Result;
use crate::http::operation::HttpOperation;
use crate::operation::Operation;
use crate::registry::Source;

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
        let document = super::load_path(path, service, options)?;
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
