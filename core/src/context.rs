//! What an operation gets when it runs: the deck's shared state (registry,
//! transport, configuration, auth sessions) and the options of this call.
//!
//! A `Context` is cheap to clone: the shared state sits behind one `Arc`, and
//! only the per-call [`CallOptions`] are copied.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::Config;
use crate::http::Transport;
use crate::registry::Registry;

/// Options of one call, set by the caller (CLI flags, script or binding arguments).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallOptions {
    /// The request content type to send, when the operation offers several.
    pub content_type: Option<String>,
    /// Stream the response body into this file (written to a temporary file
    /// beside it, then renamed into place).
    pub download_to: Option<PathBuf>,
    /// Retry even methods that are not idempotent.
    pub force_retry: bool,
    /// Send the request to the simulator instead of the network.
    pub mock: bool,
}

/// Sends simulator URLs to the simulator and the rest to the network.
#[derive(Debug)]
struct Routed {
    network: Arc<dyn Transport>,
    mock: crate::mock::MockTransport,
}

impl Transport for Routed {
    // Hands over the chosen transport's future as it is rather than boxing
    // another future around it: one allocation and one poll layer less per call.
    fn send<'a, 'b, 'f>(
        &'a self,
        request: &'b crate::http::Request,
        delivery: crate::http::Delivery,
    ) -> std::pin::Pin<Box<dyn Future<Output = crate::error::Result<crate::http::Response>> + Send + 'f>>
    where
        'a: 'f,
        'b: 'f,
        Self: 'f,
    {
        if crate::mock::service_of(&request.url).is_some() {
            self.mock.send(request, delivery)
        } else {
            self.network.send(request, delivery)
        }
    }
}

pub(crate) struct Shared {
    pub(crate) registry: Arc<Registry>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) config: Arc<Config>,
    pub(crate) sessions: crate::auth::Sessions,
    /// Base URLs of services added at run time (`openapi.addSource`), used
    /// when the configuration names none.
    pub(crate) source_urls: std::sync::RwLock<std::collections::HashMap<String, String>>,
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
    /// A context over `registry` that sends with `transport` and reads `config`.
    ///
    /// Requests to a simulator URL (see [`crate::mock::base_url`], chosen by
    /// `--mock` or a `mock:` base URL) are answered by the simulator over the
    /// same registry; every other request goes to `transport`.
    pub fn new(registry: Arc<Registry>, transport: Arc<dyn Transport>, config: Arc<Config>) -> Self {
        let mock = crate::mock::MockTransport::new(registry.clone(), config.mock_seed);
        let transport: Arc<dyn Transport> = Arc::new(Routed { network: transport, mock });
        Context {
            shared: Arc::new(Shared {
                registry,
                transport,
                config,
                sessions: Default::default(),
                source_urls: Default::default(),
            }),
            options: CallOptions::default(),
        }
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
            return Ok(Cow::Owned(crate::mock::base_url(service)));
        }
        if let Some(url) = self.shared.config.services.get(service).and_then(|s| s.base_url.as_deref()) {
            return Ok(Cow::Borrowed(url));
        }
        let added = self.shared.source_urls.read().unwrap_or_else(|e| e.into_inner()).get(service).cloned();
        if let Some(url) = added {
            return Ok(Cow::Owned(url));
        }
        let profile = crate::services::Profile::for_service(service);
        if let Some(url) = profile.default_base_url.clone() {
            return Ok(Cow::Owned(url));
        }
        let var = format!("OPDECK_{}_URL", crate::config::env_name(service));
        let hint = profile.base_url_hint.as_deref().map(|h| format!(" (like {h})")).unwrap_or_default();
        Err(crate::error::Error::config(format!(
            "no base url for service `{service}`: set {var}{hint} or `url` in the config file"
        )))
    }

    /// The same shared state with other call options.
    pub fn with_options(&self, options: CallOptions) -> Self {
        Context { shared: self.shared.clone(), options }
    }
}
