//! The [`Operation`] trait: what the registry holds and a call runs.
//!
//! Every source becomes `Arc<dyn Operation>`: spec operations run over HTTP
//! ([`HttpOperation`](super::HttpOperation)), catalog operations parse their
//! description on first use, and native ones are functions
//! ([`NativeOperation`](super::NativeOperation)).

use std::fmt;

use async_trait::async_trait;
use serde_json::Value;

use super::Context;
use crate::error::Result;
use crate::model::{Head, OperationMeta, Output};

/// An operation that can be described and run.
///
/// The trait is object-safe so the registry can hold `Arc<dyn Operation>`
/// from any source: OpenAPI documents, compiled catalogs, or Rust code.
#[async_trait]
pub trait Operation: Send + Sync {
    /// The operation's description.
    fn meta(&self) -> &OperationMeta;

    /// What listings read; override it when [`meta`](Operation::meta) is
    /// costly to produce.
    fn head(&self) -> Head<'_> {
        Head::of(self.meta())
    }

    /// Runs the operation with a JSON input that follows
    /// [`OperationMeta::input_schema`].
    async fn invoke(&self, ctx: &Context, input: Value) -> Result<Output>;

    /// The request `invoke` would send, with credentials as placeholders,
    /// sending nothing (`--dry-run`). Native operations have no request.
    fn dry_run(&self, _ctx: &Context, _input: &Value) -> Result<crate::wire::Request> {
        Err(crate::error::Error::usage(format!(
            "`{}` is a native operation: it sends no http request to show",
            self.meta().id
        )))
    }

    /// The HTTP operation this is, for what only HTTP operations can do
    /// (stream a body, subscribe to events).
    fn as_http(&self) -> Option<&super::HttpOperation> {
        None
    }
}

impl fmt::Debug for dyn Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Operation({})", self.meta().id)
    }
}
