//! The one tokio runtime that blocking entry points and bindings share.
//!
//! Python, Lua and the CLI call opdeck from threads that have no runtime of
//! their own. They all block on this one, so connection pools and token caches
//! live as long as the process, not as long as one call.
//!
//! A single blocking call is cheaper when the calling thread drives it
//! itself: [`block_on_here`] runs it on a current-thread runtime that belongs
//! to that thread, so the request, the connection's task and the answer never
//! hop between threads (on a loopback server that saves 13–33% of a call).
//! The transport keeps one connection pool per such runtime
//! ([`driven_here`] tells it which), because a connection's task lives on
//! the runtime that opened it and only makes progress while that runtime
//! runs. A host that drives a whole script on that runtime and lets the
//! script block again inside it uses [`block_on_nested`], which blocks on
//! the shared runtime instead.
//!
//! A tokio runtime does not survive `fork()`: its worker threads stay behind
//! in the parent, and its event queue is shared with the parent's. Runtimes
//! are therefore kept per process id, and a forked child that asks for one
//! gets a fresh one instead of one that would hang; the parent's are leaked
//! in the child, never dropped there.

use std::cell::{Cell, RefCell};
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

thread_local! {
    /// The process this thread's current-thread runtime was built in, and the runtime.
    static HERE: RefCell<(u32, Option<tokio::runtime::Runtime>)> = const { RefCell::new((0, None)) };
    /// Whether this thread is inside [`block_on_here`].
    static DRIVING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `future` to completion on a current-thread runtime of the calling
/// thread, which drives the future, its connections and its timers itself.
///
/// For one call at a time from a thread with no runtime (a blocking binding
/// call, a script's call). Work that fans out over many calls belongs on the
/// shared runtime ([`block_on`]), whose workers drive its connections on
/// every core.
///
/// Fails with a usage error instead of panicking when called from inside an
/// async task, this function's own included.
pub fn block_on_here<F: Future>(future: F) -> Result<F::Output> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::usage("a blocking opdeck call was made inside an async runtime; use the async API"));
    }
    HERE.with(|here| {
        let (owner, slot) = &mut *here.borrow_mut();
        leak_if_inherited(owner, slot);
        let rt = match slot {
            Some(rt) => rt,
            None => slot.insert(
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::internal(format!("cannot start the tokio runtime: {e}")))?,
            ),
        };
        let _restore = RestoreDriving::set(true);
        Ok(rt.block_on(future))
    })
}

/// Leaks `value`, leaving its default, when it was made by another process
/// (`owner` is not this one): state a fork copied from the parent, whose
/// event queues and sockets the parent still uses, must not be dropped in
/// the child. `owner` becomes this process.
pub(crate) fn leak_if_inherited<T: Default>(owner: &mut u32, value: &mut T) {
    let pid = std::process::id();
    if *owner != pid {
        std::mem::forget(std::mem::take(value));
        *owner = pid;
    }
}

/// Puts [`DRIVING`] back as it was when a blocking call ends, by return or
/// by unwinding.
struct RestoreDriving(bool);

impl RestoreDriving {
    fn set(driving: bool) -> Self {
        RestoreDriving(DRIVING.replace(driving))
    }
}

impl Drop for RestoreDriving {
    fn drop(&mut self) {
        DRIVING.set(self.0);
    }
}

/// Blocks on `future` from inside [`block_on_here`], while the shared
/// runtime drives its sockets and timers: for a host that runs a whole
/// script on this thread's runtime and lets the script make blocking calls
/// (Lua's `opdeck run`, whose coroutines may call the blocking API).
///
/// The thread's own runtime is not driven meanwhile, so `future` uses the
/// shared connection pool, never this thread's. Refused outside
/// `block_on_here`: a thread with no runtime of its own uses that or
/// [`block_on`].
pub fn block_on_nested<F: Future>(future: F) -> Result<F::Output> {
    if !driven_here() {
        return Err(Error::internal("block_on_nested runs only inside block_on_here"));
    }
    Ok(futures::executor::block_on(on_shared(future)?))
}

/// `future`, with whatever it opens while it is polled (sockets, timers,
/// connection tasks, the transport's pool) belonging to the shared runtime,
/// whose workers drive them on every core, while whoever awaits it still
/// polls `future` itself.
///
/// For a fan-out awaited inside [`block_on_here`] (`deck:parallel` in
/// `opdeck run x.lua`): the thread that runs the script then spends its
/// time on the script and on turning results into its values, not also on
/// every connection of the fan-out.
pub fn on_shared<F: Future>(future: F) -> Result<impl Future<Output = F::Output>> {
    let handle = runtime()?.handle().clone();
    Ok(async move {
        let mut future = std::pin::pin!(future);
        std::future::poll_fn(|cx| {
            let _inside = handle.enter();
            let _restore = RestoreDriving::set(false);
            future.as_mut().poll(cx)
        })
        .await
    })
}

/// Whether the calling thread is driving a future in [`block_on_here`]:
/// anything that must belong to the runtime running it (a connection pool)
/// picks this thread's own.
pub fn driven_here() -> bool {
    DRIVING.get()
}

/// Which thread drives a blocking entry point's future: a binding picks
/// [`Driver::Caller`] for one call and [`Driver::Shared`] for many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// The calling thread, on a runtime of its own ([`block_on_here`]).
    Caller,
    /// The shared multi-threaded runtime ([`block_on`]).
    Shared,
}

impl Driver {
    /// Runs `future` to completion, driven as `self` says.
    pub fn block_on<F: Future>(self, future: F) -> Result<F::Output> {
        match self {
            Driver::Caller => block_on_here(future),
            Driver::Shared => block_on(future),
        }
    }
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
