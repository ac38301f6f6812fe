//! The one tokio runtime that blocking entry points and bindings share.
//!
//! Python, Lua and the CLI call opdeck from threads that have no runtime of
//! their own. They all block on this one, so connection pools and token caches
//! live as long as the process, not as long as one call.
//!
//! A tokio runtime does not survive `fork()`: its worker threads stay behind
//! in the parent. The runtime is therefore kept per process id, and a forked
//! child that asks for it gets a fresh one instead of one that would hang.

use std::future::Future;
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The process the runtime was started in, and the runtime.
static RUNTIME: Mutex<Option<(u32, &'static tokio::runtime::Runtime)>> = Mutex::new(None);

/// The shared multi-threaded runtime of this process, started on first use.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((owner, rt)) = *slot
        && owner == pid
    {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("opdeck")
        .build()
        .map_err(|e| Error::internal(format!("cannot start the tokio runtime: {e}")))?;
    // Leaked on purpose: it lives as long as the process, and a parent's
    // runtime inherited by a fork must never be dropped in the child.
    let rt: &'static tokio::runtime::Runtime = Box::leak(Box::new(rt));
    *slot = Some((pid, rt));
    Ok(rt)
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

/// Runs `future` to completion on `handle`'s runtime, or the shared one.
pub(crate) fn block_on_handle<F: Future>(handle: Option<&tokio::runtime::Handle>, future: F) -> Result<F::Output> {
    match handle {
        None => block_on(future),
        Some(handle) => {
            if tokio::runtime::Handle::try_current().is_ok() {
                return Err(Error::usage("a blocking opdeck call was made inside an async runtime; use the async API"));
            }
            Ok(handle.block_on(future))
        }
    }
}
