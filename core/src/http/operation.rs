//! [`HttpOperation`]: an operation described by a spec and run over HTTP.

use std::sync::OnceLock;

use async_trait::async_trait;
use serde_json::Value;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::operation::{Operation, OperationMeta, Output};
use crate::schema::Validator;

/// An operation from a spec or a catalog, run over HTTP.
#[derive(Debug)]
pub struct HttpOperation {
    meta: OperationMeta,
    validator: OnceLock<std::result::Result<Validator, String>>,
}

impl HttpOperation {
    /// Wraps a description.
    pub fn new(meta: OperationMeta) -> Self {
        HttpOperation { meta, validator: OnceLock::new() }
    }

    /// Validates `input` against the input schema (compiled on first use).
    pub fn validate(&self, input: &Value) -> Result<()> {
        match self.validator.get_or_init(|| Validator::new(&self.meta).map_err(|e| e.to_string())) {
            Ok(v) => v.validate(input),
            Err(message) => Err(Error::spec(format!("#/operations/{}", self.meta.id), message.clone())),
        }
    }
}

#[async_trait]
impl Operation for HttpOperation {
    fn meta(&self) -> &OperationMeta {
        &self.meta
    }

    async fn invoke(&self, _ctx: &Context, input: Value) -> Result<Output> {
        self.validate(&input)?;
        Err(Error::usage("http execution is not wired yet"))
    }
}
