//! The model: plain data every layer above shares. Operation descriptions
//! and results, per-call options, credentials as values, and the one way a
//! secret is shown.

mod credential;
mod operation;
mod options;

pub use credential::{Expiry, LoginFlow, Placement, Route, Secret, TokenSource};
pub use operation::*;
pub use options::CallOptions;

/// What the redacted form of a secret looks like everywhere.
pub const REDACTED: &str = "<redacted>";
