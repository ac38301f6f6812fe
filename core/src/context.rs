//! What an operation gets when it runs: the deck's shared state (registry,
//! transport, configuration, auth sessions) and the options of this call.
//!
//! A `Context` is cheap to clone: the shared state sits behind one `Arc`, and
//! only the per-call [`CallOptions`] are copied.

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

pub(crate) struct Shared {
    pub(crate) registry: Arc<Registry>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) config: Arc<Config>,
    pub(crate) sessions: crate::auth::Sessions,
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
    pub fn new(registry: Arc<Registry>, transport: Arc<dyn Transport>, config: Arc<Config>) -> Self {
        Context {
            shared: Arc::new(Shared { registry, transport, config, sessions: Default::default() }),
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

    /// The same shared state with other call options.
    pub fn with_options(&self, options: CallOptions) -> Self {
        Context { shared: self.shared.clone(), options }
    }
}
