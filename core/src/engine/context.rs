//! What an operation gets when it runs: the deck's shared state (registry,
//! transport, configuration, auth sessions) and the options of this call.
//!
//! A `Context` is cheap to clone: the shared state sits behind one `Arc`, and
//! only the per-call [`CallOptions`] are copied.

use std::borrow::Cow;
use std::sync::Arc;

use crate::config::Config;
use crate::engine::Registry;
use crate::model::CallOptions;
use crate::wire::Transport;

pub(crate) struct Shared {
    pub(crate) registry: Arc<Registry>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) config: Arc<Config>,
    pub(crate) sessions: crate::auth::Sessions,
    /// Base URLs of services added at run time (`openapi.addSource`), used
    /// when the configuration names none.
    pub(crate) source_urls: std::sync::RwLock<std::collections::HashMap<String, String>>,
    /// What the deck may run.
    pub(crate) policy: crate::policy::Policy,
    /// Asks about calls a `confirm` rule matches.
    pub(crate) confirm: Option<Box<crate::policy::Confirmer>>,
    /// Paging rules the host declared for its own services.
    pub(crate) paging: crate::services::PagingRules,
}

/// The state an [`Operation`](crate::Operation) runs with.
#[derive(Clone)]
pub struct Context {
    pub(crate) shared: Arc<Shared>,
    /// The options of this call.
    pub options: CallOptions,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("transport", &self.shared.transport)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Context {
    /// A context over `registry` that sends every request with `transport`
    /// and reads `config`. (A [`Deck`](crate::Deck) puts the simulator in
    /// front of the transport; a bare context has none.)
    pub fn new(registry: Arc<Registry>, transport: Arc<dyn Transport>, config: Arc<Config>) -> Self {
        Self::with_policy(registry, transport, config, crate::policy::Policy::default(), None)
    }

    /// [`Context::new`] under a policy, with what asks about `confirm` rules.
    pub fn with_policy(
        registry: Arc<Registry>,
        transport: Arc<dyn Transport>,
        config: Arc<Config>,
        policy: crate::policy::Policy,
        confirm: Option<Box<crate::policy::Confirmer>>,
    ) -> Self {
        Context {
            shared: Arc::new(Shared {
                registry,
                transport,
                config,
                sessions: Default::default(),
                source_urls: Default::default(),
                policy,
                confirm,
                paging: Default::default(),
            }),
            options: CallOptions::default(),
        }
    }

    /// The same context with the deck's paging rules (only while the
    /// shared state is not yet shared, i.e. while a deck is being built).
    pub(crate) fn with_paging(mut self, paging: crate::services::PagingRules) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.paging = paging;
        }
        self
    }

    /// The same context whose sessions are also kept in `cache` (only while
    /// the shared state is not yet shared, i.e. while a deck is being built).
    pub(crate) fn with_session_cache(mut self, cache: Arc<dyn crate::auth::SessionCache>) -> Self {
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            shared.sessions = crate::auth::Sessions::with_cache(cache);
        }
        self
    }

    /// How `service` pages its lists: the host's rule, else its profile's.
    pub fn paging(&self, service: &str) -> Option<crate::services::Paging> {
        self.shared.paging.for_service(service)
    }

    /// The rule that pages operation `meta`: its service's, when the
    /// operation takes the rule's parameter.
    pub fn paging_of(&self, meta: &crate::model::OperationMeta) -> Option<crate::services::Paging> {
        self.paging(&meta.service).filter(|rule| rule.applies_to(meta))
    }

    /// The policy calls are checked against.
    pub fn policy(&self) -> &crate::policy::Policy {
        &self.shared.policy
    }

    /// Runs operation `id` for a caller: checks the policy, then invokes it
    /// under the call's deadline. Every front end's call ends here, and so do
    /// native operations that call others.
    ///
    /// The deadline is the call's own ([`CallOptions::timeout`], CLI
    /// `--timeout`), else, for an operation run over HTTP, the configured
    /// `http.timeout` (`OPDECK_TIMEOUT`, the file's, 60 s). It covers every
    /// try, the waits between them and the body, a download to a file too.
    /// A timeout says how long the call really ran and how many tries it made.
    pub async fn call(&self, id: &str, input: serde_json::Value) -> crate::error::Result<crate::model::Output> {
        let op = self.registry().get(id)?;
        if !self.shared.policy.is_open() {
            self.shared.policy.check(&op.head(), self.shared.confirm.as_deref())?;
        }
        let started = std::time::Instant::now();
        let deadline = self.options.timeout.or_else(|| op.as_http().map(|_| self.shared.config.http.timeout));
        let tries = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = crate::wire::retry::counted(tries.clone(), op.invoke(self, input));
        let result = match deadline {
            None => counted.await,
            Some(after) => match tokio::time::timeout(after, counted).await {
                Ok(result) => result,
                Err(_) => Err(crate::error::Error::timeout(op.head().id, after)),
            },
        };
        // A nested call (a native operation calling another) counted its
        // own tries: the larger count is the one that ran out.
        let result = result.map_err(|e| match e {
            crate::error::Error::Timeout { operation, after, tries: inner, elapsed } => crate::error::Error::Timeout {
                operation,
                after,
                tries: inner.max(tries.load(std::sync::atomic::Ordering::Relaxed)),
                elapsed: elapsed.max(started.elapsed()),
            },
            other => other,
        });
        let millis = started.elapsed().as_secs_f64() * 1e3;
        match &result {
            Ok(out) => {
                tracing::debug!(target: "opdeck", operation = id, status = out.status, duration_ms = millis, "call")
            }
            // Error messages carry no secret (see `error`), so they may be logged.
            Err(e) => {
                tracing::debug!(target: "opdeck", operation = id, status = e.status(), duration_ms = millis, error = %e, "call failed")
            }
        }
        result
    }

    /// The registry the operation belongs to.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.shared.registry
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The network transport.
    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.shared.transport
    }

    /// Records the base URL of a service added at run time; configuration
    /// still wins over it.
    pub fn set_source_url(&self, service: &str, url: &str) {
        let mut urls = self.shared.source_urls.write().unwrap_or_else(|e| e.into_inner());
        urls.insert(service.to_owned(), url.to_owned());
    }

    /// Forgets the base URL recorded for a service added at run time.
    pub fn clear_source_url(&self, service: &str) {
        self.shared.source_urls.write().unwrap_or_else(|e| e.into_inner()).remove(service);
    }

    /// The base URL calls of `service` go to: the configured one
    /// (`OPDECK_<SERVICE>_URL` or the config file), else the one given when the
    /// source was added, else the service profile's default. `mock:` selects
    /// the simulator.
    pub fn base_url(&self, service: &str) -> crate::error::Result<String> {
        self.base_url_ref(service).map(Cow::into_owned)
    }

    /// [`Context::base_url`] borrowed from the configuration when it comes
    /// from there, so the per-call lookup of a configured service allocates
    /// nothing.
    pub(crate) fn base_url_ref(&self, service: &str) -> crate::error::Result<Cow<'_, str>> {
        if self.options.mock {
            return Ok(Cow::Owned(crate::wire::simulator_url(service)));
        }
        if let Some(url) = self.shared.config.services.get(service).and_then(|s| s.base_url.as_deref()) {
            return Ok(Cow::Borrowed(url));
        }
        let added = self.shared.source_urls.read().unwrap_or_else(|e| e.into_inner()).get(service).cloned();
        if let Some(url) = added {
            return Ok(Cow::Owned(url));
        }
        let profile = crate::services::ServiceProfile::for_service(service);
        if let Some(url) = profile.default_base_url.clone() {
            return Ok(Cow::Owned(url));
        }
        let var = format!("OPDECK_{}_URL", crate::config::env_name(service));
        let hint = profile.base_url_hint.as_deref().map(|h| format!(" (like {h})")).unwrap_or_default();
        Err(crate::error::Error::config(format!(
            "no base url for service `{service}`{hint}: set {var} or `url` under [profiles.{}.{service}] in the config file; \
             a host or binding passes it to the deck (`base_url` on the builder, `base_urls` in Python and Lua)",
            self.shared.config.profile_name()
        )))
    }

    /// Whether calls of `service` have a base URL (configured, given with its
    /// source, the profile's default, or the simulator's).
    pub fn has_base_url(&self, service: &str) -> bool {
        self.base_url_ref(service).is_ok()
    }

    /// The same shared state with other call options.
    pub fn with_options(&self, options: CallOptions) -> Self {
        Context { shared: self.shared.clone(), options }
    }
}

impl crate::auth::Host for Context {
    fn config(&self) -> &Config {
        &self.shared.config
    }

    fn sessions(&self) -> &crate::auth::Sessions {
        &self.shared.sessions
    }

    fn base_url(&self, service: &str) -> crate::error::Result<String> {
        Context::base_url(self, service)
    }

    fn simulated(&self) -> bool {
        self.options.mock
    }

    fn transport(&self) -> &dyn Transport {
        self.shared.transport.as_ref()
    }

    fn route(&self, id: &str) -> crate::error::Result<(crate::model::Method, String)> {
        let op = self.registry().get(id)?;
        let head = op.head();
        Ok((head.method, head.path.to_owned()))
    }
}
