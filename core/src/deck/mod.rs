//! [`Deck`]: the one door. It owns a registry and the state calls share, and
//! offers every call in an async and a blocking form with `serde_json::Value`
//! in and out, so the CLI, Rhai, Python, Lua and host applications are thin
//! layers over the same functions.
//!
//! A deck is built with [`Deck::builder`]. Cloning one is cheap and shares
//! everything: registry, connection pool, sessions, policy.

mod builder;
mod pages;

use std::sync::Arc;

use futures::stream::{BoxStream, Stream, StreamExt};
use serde_json::Value;

use crate::config::Config;
use crate::engine::Context;
use crate::engine::Operation;
use crate::engine::{Filter, Registry, ServiceInfo};
use crate::engine::{PageLimits, Pager};
use crate::error::{Error, Result};
use crate::model::CallOptions;
use crate::model::{Body, Method, Output};
use crate::wire::sse::Event;
use crate::wire::{Request, Transport};

pub use crate::engine::Streamed;
pub use builder::{Builtins, DeckBuilder};
pub use pages::BlockingItems;

/// A registry of operations together with what it takes to run them.
#[derive(Clone, Debug)]
pub struct Deck {
    ctx: Context,
    runtime: Option<tokio::runtime::Handle>,
    /// The process the deck was built in: its connections and runtime do not
    /// survive a `fork()`.
    pid: u32,
    /// The simulator in front of the transport, with its records.
    simulator: Simulator,
}

#[cfg(feature = "simulator")]
type Simulator = Option<Arc<crate::mock::MockTransport>>;
/// Without the `simulator` feature a deck has none.
#[cfg(not(feature = "simulator"))]
#[derive(Debug, Clone)]
struct Simulator;

/// One operation as listings show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpInfo {
    /// `<service>.<group>.<name>`.
    pub id: String,
    /// The short id for tool-calling clients.
    pub alias: String,
    /// The service.
    pub service: String,
    /// The group.
    pub group: String,
    /// The name.
    pub name: String,
    /// A short label.
    pub summary: String,
    /// The HTTP method.
    pub method: Method,
    /// The path template (empty for native operations).
    pub path: String,
    /// Whether the operation is deprecated.
    pub deprecated: bool,
}

#[cfg(feature = "simulator")]
/// Sends simulator URLs to the simulator and the rest to the network.
#[derive(Debug)]
struct Routed {
    network: Arc<dyn Transport>,
    mock: Arc<crate::mock::MockTransport>,
}

#[cfg(feature = "simulator")]
impl Transport for Routed {
    // Hands over the chosen transport's future as it is rather than boxing
    // another future around it: one allocation and one poll layer less per call.
    fn send<'a, 'b, 'f>(
        &'a self,
        request: &'b crate::wire::Request,
        delivery: crate::wire::Delivery,
    ) -> std::pin::Pin<Box<dyn Future<Output = crate::error::Result<crate::wire::Response>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        if crate::wire::simulated_service(&request.url).is_some() {
            self.mock.send(request, delivery)
        } else {
            self.network.send(request, delivery)
        }
    }
}

/// `transport` with the simulator in front of it, answering simulator URLs
/// (see [`crate::wire::simulator_url`], chosen by `--mock` or a `mock:` base
/// URL) over the same registry, so simulated calls take the path real ones do.
fn routed(
    registry: &Arc<Registry>,
    transport: Arc<dyn Transport>,
    config: &Config,
    paging: &crate::services::PagingRules,
) -> (Arc<dyn Transport>, Simulator) {
    #[cfg(feature = "simulator")]
    {
        let mock = crate::mock::MockTransport::new(registry.clone(), config.mock_seed).with_paging(paging.clone());
        let mock = Arc::new(mock);
        (Arc::new(Routed { network: transport, mock: mock.clone() }), Some(mock))
    }
    #[cfg(not(feature = "simulator"))]
    {
        let _ = (registry, config, paging);
        (transport, Simulator)
    }
}

impl Deck {
    /// A builder: configuration, transport, built-in services, sources,
    /// runtime and policy. Building reads nothing it was not asked to read
    /// and starts no thread.
    pub fn builder() -> DeckBuilder {
        DeckBuilder::default()
    }

    /// A deck over `registry`, sending with `transport`, configured by `config`.
    ///
    /// Simulator URLs are answered by the simulator (feature `simulator`).
    pub fn new(registry: Arc<Registry>, transport: Arc<dyn Transport>, config: crate::Config) -> Self {
        let (transport, simulator) = routed(&registry, transport, &config, &Default::default());
        Deck::from_context(Context::new(registry, transport, Arc::new(config)), None, simulator)
    }

    fn from_context(ctx: Context, runtime: Option<tokio::runtime::Handle>, simulator: Simulator) -> Self {
        Deck { ctx, runtime, pid: std::process::id(), simulator }
    }

    /// Every record the simulator holds, `{service: {collection path:
    /// [records]}}` (what `--mock-state` writes back at exit).
    pub fn simulator_state(&self) -> Result<Value> {
        #[cfg(feature = "simulator")]
        if let Some(sim) = &self.simulator {
            return Ok(sim.state());
        }
        Err(Error::usage("this deck has no simulator (opdeck's `simulator` feature)"))
    }

    /// Starts the simulator's collections that `state` names with exactly
    /// those records (the shape of [`Deck::simulator_state`]). Nothing
    /// changes when a record lacks its collection's id field.
    pub fn load_simulator_state(&self, state: &Value) -> Result<()> {
        #[cfg(feature = "simulator")]
        if let Some(sim) = &self.simulator {
            return sim.load_state(state);
        }
        let _ = state;
        Err(Error::usage("this deck has no simulator (opdeck's `simulator` feature)"))
    }

    /// An empty deck that sends over the network.
    pub fn empty(config: crate::Config) -> Result<Self> {
        Deck::builder().config(config).builtins(Builtins::None).build()
    }

    /// A deck with the built-in services and the `openapi.*` meta-operations,
    /// sending over the network with `config`'s settings.
    pub fn builtin(config: crate::Config) -> Result<Self> {
        Deck::builder().config(config).build()
    }

    /// The registry.
    pub fn registry(&self) -> &Arc<Registry> {
        self.ctx.registry()
    }

    /// The context calls run with.
    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// The options calls of this deck run with.
    pub fn options(&self) -> &CallOptions {
        &self.ctx.options
    }

    /// The same deck (shared registry, connections and sessions) whose calls
    /// run with other options.
    pub fn with_options(&self, options: CallOptions) -> Deck {
        Deck {
            ctx: self.ctx.with_options(options),
            runtime: self.runtime.clone(),
            pid: self.pid,
            simulator: self.simulator.clone(),
        }
    }

    fn same_process(&self) -> Result<()> {
        if std::process::id() == self.pid {
            return Ok(());
        }
        Err(Error::usage(format!(
            "this deck was built in process {} before a fork; build a new deck in the child process",
            self.pid
        )))
    }

    /// Starts `future` as a task on the deck's runtime (the host's, or the
    /// shared one) and returns its handle; a binding that completes its own
    /// futures (Python's asyncio, Lua's coroutines) spawns its calls here.
    pub fn spawn<F>(&self, future: F) -> Result<tokio::task::JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.runtime {
            Some(handle) => Ok(handle.spawn(future)),
            None => Ok(crate::runtime::runtime()?.spawn(future)),
        }
    }

    /// Blocks on `future`: on the host's runtime when the deck was given
    /// one, else driven by the calling thread itself
    /// ([`crate::runtime::block_on_here`]), which is how every blocking twin
    /// of one call runs.
    pub fn block_on<F: Future>(&self, future: F) -> Result<F::Output> {
        match &self.runtime {
            Some(handle) => crate::runtime::block_on_handle(Some(handle), future),
            None => crate::runtime::block_on_here(future),
        }
    }

    // ---- calls -------------------------------------------------------------

    /// Runs operation `id` and returns its whole output.
    pub async fn call_full(&self, id: &str, input: Value) -> Result<Output> {
        self.same_process()?;
        self.ctx.call(id, input).await
    }

    /// Runs operation `id` and returns its body: JSON, text, bytes (kept as
    /// bytes), or the file it was written to.
    pub async fn call(&self, id: &str, input: Value) -> Result<Body> {
        Ok(self.call_full(id, input).await?.body)
    }

    /// Runs operation `id` with `options` laid over the deck's own.
    pub async fn call_with(&self, id: &str, input: Value, options: &CallOptions) -> Result<Output> {
        self.same_process()?;
        self.ctx.with_options(options.over(&self.ctx.options)).call(id, input).await
    }

    /// Runs every call, at most `limit` at a time, and returns their results
    /// in the order given; a failed call is an `Err` in its place.
    pub async fn call_many(&self, calls: Vec<(String, Value)>, limit: usize) -> Vec<Result<Body>> {
        self.call_each(calls, limit).collect().await
    }

    /// [`Deck::call_many`] with `options` laid over the deck's own.
    pub async fn call_many_with(
        &self,
        calls: Vec<(String, Value)>,
        limit: usize,
        options: &CallOptions,
    ) -> Vec<Result<Body>> {
        self.call_each_with(calls, limit, options).collect().await
    }

    /// Runs every call, at most `limit` at a time, and yields their results
    /// in the order given, each as soon as it and those before it are done.
    ///
    /// The calls run in the stream, on the runtime that polls it (blocking
    /// twins use the shared one, whose workers drive the connections). A
    /// binding converts each result into its own values as it arrives, so a
    /// fan-out never holds all its bodies at once. Dropping the stream
    /// cancels the calls still running.
    pub fn call_each<I>(&self, calls: I, limit: usize) -> impl Stream<Item = Result<Body>> + Send + use<I>
    where
        I: IntoIterator<Item = (String, Value)>,
        I::IntoIter: Send + 'static,
    {
        let deck = Arc::new(self.clone());
        futures::stream::iter(calls)
            .map(move |(id, input)| {
                let deck = deck.clone();
                async move { deck.call(&id, input).await }
            })
            .buffered(limit.max(1))
    }

    /// [`Deck::call_each`] with `options` laid over the deck's own.
    pub fn call_each_with<I>(
        &self,
        calls: I,
        limit: usize,
        options: &CallOptions,
    ) -> impl Stream<Item = Result<Body>> + Send + use<I>
    where
        I: IntoIterator<Item = (String, Value)>,
        I::IntoIter: Send + 'static,
    {
        self.with_options(options.over(&self.ctx.options)).call_each(calls, limit)
    }

    /// [`Deck::call_full`], blocking.
    pub fn call_full_blocking(&self, id: &str, input: Value) -> Result<Output> {
        self.block_on(self.call_full(id, input))?
    }

    /// [`Deck::call`], blocking.
    pub fn call_blocking(&self, id: &str, input: Value) -> Result<Body> {
        self.block_on(self.call(id, input))?
    }

    /// [`Deck::call_with`], blocking.
    pub fn call_with_blocking(&self, id: &str, input: Value, options: &CallOptions) -> Result<Output> {
        self.block_on(self.call_with(id, input, options))?
    }

    /// [`Deck::call_many`], blocking.
    pub fn call_many_blocking(&self, calls: Vec<(String, Value)>, limit: usize) -> Result<Vec<Result<Body>>> {
        // Many calls at once go to the host's runtime or the shared one,
        // whose workers drive their connections on every core.
        crate::runtime::block_on_handle(self.runtime.as_ref(), self.call_many(calls, limit))
    }

    /// [`Deck::call_many_with`], blocking.
    pub fn call_many_with_blocking(
        &self,
        calls: Vec<(String, Value)>,
        limit: usize,
        options: &CallOptions,
    ) -> Result<Vec<Result<Body>>> {
        crate::runtime::block_on_handle(self.runtime.as_ref(), self.call_many_with(calls, limit, options))
    }

    /// The request operation `id` would send for `input`, credentials and
    /// secret input values (by schema: `format: password`, `writeOnly`; and
    /// by name, see [`crate::wire::redact`]) shown as `<redacted>`; nothing
    /// is sent and no one logs in. No credential is shown when none is
    /// configured. A service without a base URL gets its profile's
    /// placeholder ([`crate::services::ServiceProfile::placeholder_base_url`]).
    /// The policy is not asked: a dry run never runs anything.
    /// [`Request::curl`] renders it.
    pub fn prepare(&self, id: &str, input: &Value) -> Result<Request> {
        self.registry().get(id)?.dry_run(&self.ctx, input)
    }

    /// Forgets the tokens obtained by logging in (or by OAuth2 grants), of
    /// one service or of all, in this deck and in its session cache (see
    /// [`DeckBuilder::session_cache`]): the next call logs in again. Returns
    /// how many sessions the cache held.
    pub fn logout(&self, service: Option<&str>) -> usize {
        let sessions = crate::auth::Host::sessions(&self.ctx);
        match service {
            Some(service) => {
                let cached = sessions.clear_cached(service);
                sessions.forget(service);
                cached
            }
            None => sessions.forget_all(),
        }
    }

    /// Subscribes to a `text/event-stream` operation; its events arrive as
    /// they are sent.
    pub async fn events(&self, id: &str, input: Value) -> Result<BoxStream<'static, Result<Event>>> {
        self.same_process()?;
        let op = self.checked(id)?;
        let http = op_as_http(op.as_ref(), id)?;
        http.events(&self.ctx, input).await
    }

    /// Runs operation `id` and hands its body over as it arrives, for bodies
    /// too large to hold or to copy elsewhere as they come.
    pub async fn stream(&self, id: &str, input: Value) -> Result<Streamed> {
        self.same_process()?;
        let op = self.checked(id)?;
        let http = op_as_http(op.as_ref(), id)?;
        http.stream(&self.ctx, input).await
    }

    fn checked(&self, id: &str) -> Result<Arc<dyn Operation>> {
        let op = self.registry().get(id)?;
        let policy = self.ctx.policy();
        if !policy.is_open() {
            policy.check(&op.head(), self.ctx.shared.confirm.as_deref())?;
        }
        Ok(op)
    }

    // ---- pages -------------------------------------------------------------

    /// A pager over list operation `id`, under the service's paging rule.
    pub fn pager(&self, id: &str, input: Value, limits: PageLimits) -> Result<Pager> {
        self.same_process()?;
        Pager::new(&self.ctx, id, input, limits)
    }

    /// Every item of list operation `id`, page after page, fetched as the
    /// stream is read.
    pub fn paginate(&self, id: &str, input: Value, limits: PageLimits) -> impl Stream<Item = Result<Value>> + Send {
        pages::items(self.pager(id, input, limits))
    }

    /// The pages of list operation `id`, one item list each.
    pub fn pages(&self, id: &str, input: Value, limits: PageLimits) -> impl Stream<Item = Result<Vec<Value>>> + Send {
        pages::pages(self.pager(id, input, limits))
    }

    /// [`Deck::paginate`] as a blocking iterator.
    pub fn paginate_blocking(&self, id: &str, input: Value, limits: PageLimits) -> BlockingItems {
        BlockingItems::new(self.clone(), self.pager(id, input, limits))
    }

    // ---- discovery ---------------------------------------------------------

    /// The operations that pass `filter`, ranked by `query` (every one, in
    /// registration order, when `query` is blank).
    pub fn ops(&self, query: &str, filter: &Filter) -> Vec<OpInfo> {
        self.registry()
            .search(query, filter)
            .iter()
            .map(|op| {
                let h = op.head();
                OpInfo {
                    id: h.id.to_owned(),
                    alias: h.alias.to_owned(),
                    service: h.service.to_owned(),
                    group: h.group.to_owned(),
                    name: h.name.to_owned(),
                    summary: h.summary.to_owned(),
                    method: h.method,
                    path: h.path.to_owned(),
                    deprecated: h.deprecated,
                }
            })
            .collect()
    }

    /// Everything known about operation `id`: method, path, parameters, the
    /// input schema and, when the spec gives one, the output schema.
    pub fn describe(&self, id: &str) -> Result<Value> {
        Ok(self.registry().get(id)?.meta().describe())
    }

    /// The operation with this id or alias.
    pub fn operation(&self, id: &str) -> Result<Arc<dyn Operation>> {
        self.registry().get(id)
    }

    /// The services, with their operation counts and origins.
    pub fn services(&self) -> Vec<ServiceInfo> {
        self.registry().services()
    }

    /// Loads `spec` (a path, an `http(s)` URL, or the document's text) and
    /// registers its operations as service `name`; calls go to `base_url`
    /// unless the configuration names another. Returns the ids added.
    pub async fn add_source(&self, name: &str, spec: &str, base_url: Option<&str>) -> Result<Vec<String>> {
        let mut input = serde_json::json!({ "spec": spec, "service": name });
        if let Some(url) = base_url {
            input["baseUrl"] = Value::String(url.to_owned());
        }
        // Adding a source changes nothing remote: the policy is not asked.
        let out = self.registry().get(crate::engine::ADD_SOURCE)?.invoke(&self.ctx, input).await?;
        Ok(out.body.into_value()["ids"]
            .as_array()
            .map(|ids| ids.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default())
    }

    /// [`Deck::add_source`], blocking.
    pub fn add_source_blocking(&self, name: &str, spec: &str, base_url: Option<&str>) -> Result<Vec<String>> {
        self.block_on(self.add_source(name, spec, base_url))?
    }

    /// Registers a document already in memory as service `name`; `origin`
    /// says where it came from in listings. Returns the ids added.
    pub fn add_document(&self, name: &str, bytes: &[u8], origin: &str, base_url: Option<&str>) -> Result<Vec<String>> {
        crate::engine::add_document(&self.ctx, name, bytes, origin, base_url)
    }

    /// What is in `spec` (a path, URL or text): title, version, servers,
    /// security schemes, operation count, tags and warnings.
    pub async fn preview_spec(&self, spec: &str) -> Result<Value> {
        let input = serde_json::json!({ "spec": spec });
        let out = self.registry().get(crate::engine::PREVIEW_SPEC)?.invoke(&self.ctx, input).await?;
        Ok(out.body.into_value())
    }

    /// [`Deck::preview_spec`], blocking.
    pub fn preview_spec_blocking(&self, spec: &str) -> Result<Value> {
        self.block_on(self.preview_spec(spec))?
    }

    // ---- native operations -------------------------------------------------

    /// Registers `op` beside the operations its service already has.
    pub fn register(&self, op: Arc<dyn Operation>) -> Result<String> {
        self.registry().add_operation(op)
    }

    /// Registers an async function as operation `id`, taking an input that
    /// follows `input_schema`.
    pub fn register_fn<F, Fut>(&self, id: &str, input_schema: Value, f: F) -> Result<String>
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value>> + Send + 'static,
    {
        self.register(Arc::new(crate::engine::NativeOperation::new(id, input_schema, f)?))
    }

    /// Registers a blocking function as operation `id` (it runs on a
    /// blocking thread, as a binding's callable must).
    pub fn register_blocking_fn<F>(&self, id: &str, input_schema: Value, f: F) -> Result<String>
    where
        F: Fn(Value) -> Result<Value> + Send + Sync + 'static,
    {
        self.register(Arc::new(crate::engine::NativeOperation::blocking(id, input_schema, f)?))
    }
}

/// The HTTP operation behind `op`, for the calls only HTTP operations have.
fn op_as_http<'a>(op: &'a dyn Operation, id: &str) -> Result<&'a crate::engine::HttpOperation> {
    op.as_http().ok_or_else(|| Error::usage(format!("`{id}` is a native operation: it has no http response to stream")))
}
