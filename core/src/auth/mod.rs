//! Credentials and how they reach requests.
//!
//! An operation's spec says which security schemes it accepts (alternatives of
//! requirements); the configuration says which credentials exist; the service
//! profile says how a username and password become a token when the spec
//! cannot (login flows, token URLs). This module joins the three: it picks the
//! first alternative that can be satisfied, obtains tokens (OAuth2 grants,
//! login calls) once per service and caches them in [`Sessions`], renews them
//! before they expire or when a response says they did, and places every
//! credential as a sensitive pair so no rendering ever shows it.

mod flow;
mod login;
mod oauth2;
mod schemes;
mod secret;
mod session;

pub use flow::{authorize, authorize_offline, refresh};
pub use login::{Expiry, LoginFlow, Placement, Route, TokenSource};
pub use secret::Secret;
pub use session::Sessions;
