//! The one tokio runtime that blocking entry points and bindings share.
//!
//! Python, Lua and the CLI call opdeck from threads that have no runtime of
//! their own. They all block on this one, so connection pools and token caches
//! live as long as the process, not as long as one call.

use std::future::Future;
use std::sync::OnceLock;

use crate::error::{Error, Result};

static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// The shared multi-threaded runtime, started on first use.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("opdeck")
                .build()
                .map_err(|e| format!("cannot start the tokio runtime: {e}"))
        })
        .as_ref()
        .map_err(|e| Error::config(e.clone()))
}

/// Runs `future` to completion on the shared runtime.
///
/// Fails with a usage error instead of panicking when called from inside an
/// async task, where blocking would stall the executor.
pub fn block_on<F: Future>(future: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::usage("a blocking opdeck call was made inside an async runtime; use the async API"));
    }
    Ok(runtime()?.block_on(future))
}
