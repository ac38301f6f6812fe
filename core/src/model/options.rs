//! [`CallOptions`]: what a caller sets for one call.

use std::path::PathBuf;

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
    /// A deadline for the whole call, retries and body included, when the
    /// caller wants one shorter or longer than the transport's.
    pub timeout: Option<std::time::Duration>,
    /// Hand a JSON body over as it arrived ([`Body::RawJson`](crate::model::Body::RawJson)),
    /// checked against the JSON budget but not parsed: for a front end that
    /// parses it straight into values of its own (the Lua binding).
    pub raw_json: bool,
}

impl CallOptions {
    /// These options laid over `base`: what is set here wins, what is left
    /// unset comes from `base` (so a per-call timeout keeps the deck's
    /// `--mock`).
    pub fn over(&self, base: &CallOptions) -> CallOptions {
        CallOptions {
            content_type: self.content_type.clone().or_else(|| base.content_type.clone()),
            download_to: self.download_to.clone().or_else(|| base.download_to.clone()),
            force_retry: self.force_retry || base.force_retry,
            mock: self.mock || base.mock,
            timeout: self.timeout.or(base.timeout),
            raw_json: self.raw_json || base.raw_json,
        }
    }
}
