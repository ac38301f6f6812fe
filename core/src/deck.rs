//! [`Deck`]: the public entry point. It owns a registry and the state calls
//! share, and offers every call in an async and a blocking form with
//! `serde_json::Value` in and out, so bindings only convert values.

use std::sync::Arc;

use serde_json::Value;

use crate::config::Config;
use crate::context::{CallOptions, Context};
use crate::error::Result;
use crate::http::Transport;
use crate::operation::Output;
use crate::registry::Registry;
use crate::runtime;

/// A registry of operations together with what it takes to run them.
#[derive(Clone, Debug)]
pub struct Deck {
    ctx: Context,
}

impl Deck {
    /// A deck over `registry`, sending with `transport`, configured by `config`.
    pub fn new(registry: Arc<Registry>, transport: Arc<dyn Transport>, config: Config) -> Self {
        Deck { ctx: Context::new(registry, transport, Arc::new(config)) }
    }

    /// An empty deck that sends over the network.
    pub fn empty(config: Config) -> Result<Self> {
        let transport = Arc::new(crate::http::client::HttpTransport::with_settings(&config.http)?);
        Ok(Deck::new(Arc::new(Registry::new()), transport, config))
    }

    /// A deck with the built-in services and the `openapi.*` meta-operations,
    /// sending over the network with `config`'s settings.
    pub fn builtin(config: Config) -> Result<Self> {
        let transport = Arc::new(crate::http::client::HttpTransport::with_settings(&config.http)?);
        let registry = Arc::new(Registry::new());
        registry.register(&crate::spec::meta_source())?;
        for source in crate::catalog::builtin() {
            registry.register(&source)?;
        }
        Ok(Deck::new(registry, transport, config))
    }

    /// The request operation `id` would send for `input`, credentials shown
    /// as `<redacted>`; nothing is sent. Render it with
    /// [`crate::http::curl::render`].
    pub fn prepare(&self, id: &str, input: Value) -> Result<crate::http::Request> {
        self.registry().get(id)?.dry_run(&self.ctx, &input)
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<Registry> {
        self.ctx.registry()
    }

    /// The context calls run with.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The same deck with other call options.
    pub fn with_options(&self, options: CallOptions) -> Deck {
        Deck { ctx: self.ctx.with_options(options) }
    }

    /// Runs operation `id` and returns its whole output.
    pub async fn call_full(&self, id: &str, input: Value) -> Result<Output> {
        let op = self.registry().get(id)?;
        op.invoke(&self.ctx, input).await
    }

    /// Runs operation `id` and returns its body as JSON.
    pub async fn call(&self, id: &str, input: Value) -> Result<Value> {
        Ok(self.call_full(id, input).await?.body.into_value())
    }

    /// [`Deck::call_full`], blocking on the shared runtime.
    pub fn call_full_blocking(&self, id: &str, input: Value) -> Result<Output> {
        runtime::block_on(self.call_full(id, input))?
    }

    /// [`Deck::call`], blocking on the shared runtime.
    pub fn call_blocking(&self, id: &str, input: Value) -> Result<Value> {
        runtime::block_on(self.call(id, input))?
    }
}
