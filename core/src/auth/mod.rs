//! Credentials and how they reach requests.
//!
//! An operation's spec says which security schemes it accepts (alternatives of
//! requirements); the configuration says which credentials exist; the service
//! profile says how a username and password become a token when the spec
//! cannot (login flows, token URLs). This module joins the three: it picks the
//! first alternative that can be satisfied, obtains tokens (OAuth2 grants,
//! login calls) once per service and caches them in [`Sessions`] (and, when
//! the host gives one, in a [`SessionCache`] that outlives the deck), renews
//! them before they expire or when a response says they did, and places
//! every credential as a sensitive pair so no rendering ever shows it.

mod cache;
mod flow;
mod login;
mod oauth2;
mod schemes;
mod session;

#[cfg(feature = "config-file")]
pub use cache::FileSessionCache;
pub use cache::{CachedSession, MemorySessionCache, NoSessionCache, SessionCache, SessionKey};
pub use flow::{authorize, authorize_offline, refresh};

use crate::config::Config;
use crate::error::Result;
use crate::model::Method;
use crate::wire::Transport;

/// What authentication needs from the engine running a call, and no more:
/// the configuration, the deck's sessions, where a service lives, a way to
/// send its own requests (logins, token grants), and where a login
/// operation goes. The engine's [`Context`](crate::Context) implements it.
pub trait Host: Send + Sync {
    /// The configuration in force (credentials, timeouts).
    fn config(&self) -> &Config;
    /// The tokens obtained so far, shared by every call of the deck.
    fn sessions(&self) -> &Sessions;
    /// The base URL of `service`, as calls use it.
    fn base_url(&self, service: &str) -> Result<String>;
    /// Whether this call is answered by the simulator.
    fn simulated(&self) -> bool;
    /// The transport auth requests go through (never `Operation::invoke`, so
    /// a login can never recurse into authorization).
    fn transport(&self) -> &dyn Transport;
    /// The method and path of operation `id`, for a login flow that names one.
    fn route(&self, id: &str) -> Result<(Method, String)>;
}
pub use crate::model::{Expiry, LoginFlow, Placement, Route, Secret, TokenSource};
pub use session::Sessions;
