//! [`DeckBuilder`]: what a deck is made of, chosen by the host.

use std::sync::Arc;

use crate::config::Config;
use crate::engine::Context;
use crate::engine::{Registry, Source};
use crate::error::Result;
use crate::model::CallOptions;
use crate::policy::{Confirmer, Policy};
use crate::wire::Transport;

use super::Deck;

/// Which built-in services a deck starts with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Builtins {
    /// All five (with the `catalogs` feature; none without it).
    #[default]
    All,
    /// None: the deck holds only what the host adds.
    None,
    /// Only these services.
    Only(Vec<String>),
}

/// Builds a [`Deck`]. Every choice has a default: no configuration read,
/// the network transport, every built-in service, no runtime of the host's
/// (blocking calls are driven by their calling thread, many at once by the
/// shared runtime), and a policy that allows everything.
#[derive(Default)]
pub struct DeckBuilder {
    config: Option<Config>,
    load: Option<Load>,
    overlays: Vec<(String, Overlay)>,
    transport: Option<Arc<dyn Transport>>,
    mock: bool,
    mock_seed: Option<u64>,
    builtins: Builtins,
    sources: Vec<Box<dyn Source>>,
    runtime: Option<tokio::runtime::Handle>,
    policy: Policy,
    confirm: Option<Box<Confirmer>>,
    options: CallOptions,
    paging: std::collections::HashMap<String, crate::services::Paging>,
    session_cache: Option<Arc<dyn crate::auth::SessionCache>>,
}

impl std::fmt::Debug for DeckBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeckBuilder")
            .field("mock", &self.mock)
            .field("builtins", &self.builtins)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

enum Load {
    /// The environment and the default file locations.
    Default(Option<String>),
    /// The environment and this file.
    #[cfg(feature = "config-file")]
    File(std::path::PathBuf, Option<String>),
}

enum Overlay {
    BaseUrl(String),
    Token(crate::model::Secret),
    Login(String, crate::model::Secret),
}

impl DeckBuilder {
    /// Use this configuration (nothing is read from the environment or disk).
    pub fn config(mut self, config: Config) -> Self {
        self.config = Some(config);
        self.load = None;
        self
    }

    /// Read the configuration when building: `OPDECK_*` variables and, with
    /// the `config-file` feature, `opdeck.toml` or the user's config file,
    /// under `profile` (else `OPDECK_PROFILE`, else the file's default).
    pub fn load_config(mut self, profile: Option<&str>) -> Self {
        self.load = Some(Load::Default(profile.map(str::to_owned)));
        self.config = None;
        self
    }

    /// Read the configuration from this file (and the environment) when building.
    #[cfg(feature = "config-file")]
    pub fn config_file(mut self, path: impl Into<std::path::PathBuf>, profile: Option<&str>) -> Self {
        self.load = Some(Load::File(path.into(), profile.map(str::to_owned)));
        self.config = None;
        self
    }

    /// Send `service`'s calls to `url`, whatever the configuration says.
    pub fn base_url(mut self, service: &str, url: &str) -> Self {
        self.overlays.push((service.to_owned(), Overlay::BaseUrl(url.to_owned())));
        self
    }

    /// Use this token (API key, bearer or OAuth2 access token) for `service`.
    pub fn token(mut self, service: &str, token: &str) -> Self {
        self.overlays.push((service.to_owned(), Overlay::Token(crate::model::Secret::new(token))));
        self
    }

    /// Log in to `service` with this user and password when it asks.
    pub fn login(mut self, service: &str, username: &str, password: &str) -> Self {
        let overlay = Overlay::Login(username.to_owned(), crate::model::Secret::new(password));
        self.overlays.push((service.to_owned(), overlay));
        self
    }

    /// Answer every call from the built-in simulator; nothing is sent.
    pub fn mock(mut self, mock: bool) -> Self {
        self.mock = mock;
        self
    }

    /// Seed the simulator's made-up values (else the configuration's
    /// `OPDECK_MOCK_SEED`, else 0): the same seed gives the same answers.
    pub fn mock_seed(mut self, seed: u64) -> Self {
        self.mock_seed = Some(seed);
        self
    }

    /// Send with this transport instead of reqwest.
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Which built-in services to start with.
    pub fn builtins(mut self, builtins: Builtins) -> Self {
        self.builtins = builtins;
        self
    }

    /// Register this source's operations too.
    pub fn source(mut self, source: impl Source + 'static) -> Self {
        self.sources.push(Box::new(source));
        self
    }

    /// Run blocking calls on this runtime instead: a single call is then no
    /// longer driven by its calling thread, nor `call_many_blocking` by the
    /// shared runtime.
    pub fn runtime(mut self, handle: tokio::runtime::Handle) -> Self {
        self.runtime = Some(handle);
        self
    }

    /// Refuse every call whose method changes state.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.policy.read_only = read_only;
        self
    }

    /// What the deck may run (read-only mode set earlier is kept when this
    /// policy leaves it off).
    pub fn policy(mut self, policy: Policy) -> Self {
        let read_only = self.policy.read_only || policy.read_only;
        self.policy = Policy { read_only, ..policy };
        self
    }

    /// Ask `confirm` before each call a `confirm` rule matches.
    pub fn confirm(mut self, confirm: impl Fn(&crate::model::Head<'_>) -> bool + Send + Sync + 'static) -> Self {
        self.confirm = Some(Box::new(confirm));
        self
    }

    /// How the host's service `service` pages its lists (the built-in
    /// services bring their own rules; this replaces one for the deck).
    pub fn paging(mut self, service: &str, rule: crate::services::Paging) -> Self {
        self.paging.insert(service.to_owned(), rule);
        self
    }

    /// Keep the tokens login flows and OAuth2 grants obtain in `cache` too,
    /// beyond this deck: a later deck with the same cache, profile, service,
    /// base URL and user starts with them instead of logging in (the CLI
    /// gives [`crate::auth::FileSessionCache`], so a loop of runs logs in
    /// once). By default nothing outlives the deck.
    pub fn session_cache(mut self, cache: Arc<dyn crate::auth::SessionCache>) -> Self {
        self.session_cache = Some(cache);
        self
    }

    /// The options every call of the deck runs with.
    pub fn options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }

    /// The deck.
    pub fn build(self) -> Result<Deck> {
        let mut config = match (self.config, self.load) {
            (Some(config), _) => config,
            (None, None) => Config::default(),
            (None, Some(Load::Default(profile))) => Config::load(profile.as_deref())?,
            #[cfg(feature = "config-file")]
            (None, Some(Load::File(path, profile))) => Config::load_file(&path, profile.as_deref())?,
        };
        if let Some(seed) = self.mock_seed {
            config.mock_seed = seed;
        }
        for (service, overlay) in self.overlays {
            let svc = config.services.entry(service).or_default();
            match overlay {
                Overlay::BaseUrl(url) => svc.base_url = Some(url),
                Overlay::Token(token) => svc.token = Some(token),
                Overlay::Login(user, password) => {
                    svc.username = Some(user);
                    svc.password = Some(password);
                }
            }
        }
        // The configuration's policy first, then the host's rules.
        let mut policy = std::mem::take(&mut config.policy);
        policy.read_only |= self.policy.read_only;
        policy.rules.extend(self.policy.rules);
        let transport = match self.transport {
            Some(t) => t,
            None => Arc::new(crate::wire::client::HttpTransport::with_settings(&config.http)?),
        };
        let registry = Arc::new(Registry::new());
        registry.register(&crate::engine::meta_source())?;
        register_builtins(&registry, &self.builtins)?;
        for source in &self.sources {
            registry.register(source.as_ref())?;
        }
        if self.mock && !cfg!(feature = "simulator") {
            return Err(crate::error::Error::usage("the simulator (`mock`) needs opdeck's `simulator` feature"));
        }
        let paging = crate::services::PagingRules::new(self.paging);
        let (transport, simulator) = super::routed(&registry, transport, &config, &paging);
        let mut ctx =
            Context::with_policy(registry, transport, Arc::new(config), policy, self.confirm).with_paging(paging);
        if let Some(cache) = self.session_cache {
            ctx = ctx.with_session_cache(cache);
        }
        let options = CallOptions { mock: self.mock || self.options.mock, ..self.options };
        Ok(Deck::from_context(ctx.with_options(options), self.runtime, simulator))
    }
}

#[cfg(feature = "catalogs")]
fn register_builtins(registry: &Registry, builtins: &Builtins) -> Result<()> {
    for source in crate::catalog::builtin() {
        let wanted = match builtins {
            Builtins::All => true,
            Builtins::None => false,
            Builtins::Only(names) => names.iter().any(|n| n == source.service()),
        };
        if wanted {
            registry.register(&source)?;
        }
    }
    if let Builtins::Only(names) = builtins {
        let known: Vec<String> = crate::catalog::builtin().map(|c| c.service().to_owned()).collect();
        if let Some(unknown) = names.iter().find(|n| !known.contains(n)) {
            return Err(crate::error::Error::UnknownService {
                service: unknown.clone(),
                suggestions: crate::engine::suggest(unknown, known.iter().map(String::as_str)),
            });
        }
    }
    Ok(())
}

#[cfg(not(feature = "catalogs"))]
fn register_builtins(_registry: &Registry, builtins: &Builtins) -> Result<()> {
    match builtins {
        Builtins::Only(names) if !names.is_empty() => Err(crate::error::Error::usage(format!(
            "built-in service `{}` needs opdeck's `catalogs` feature",
            names[0]
        ))),
        _ => Ok(()),
    }
}
