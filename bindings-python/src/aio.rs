//! The asyncio bridge: an async call is an `asyncio.Future` of the running
//! loop, completed by a task on core's runtime.
//!
//! The runtime's threads never take the GIL. A finished task puts its result
//! on its loop's queue and, when the queue was empty, writes one byte to a
//! socket pair whose other end the loop watches (`add_reader`); the loop's
//! thread then drains the queue, converts each result and completes its
//! future. So a busy loop never stalls a runtime thread for a GIL switch
//! interval, many completions cost one wake-up, and no runtime thread can be
//! caught inside Python while the interpreter shuts down (Python 3.12+ ends
//! such a thread with a forced unwind, which aborts the process).
//!
//! The loop is looked up per call (`asyncio.get_running_loop()`), so one deck
//! serves any number of loops one after another. Cancelling the future (for
//! example by `asyncio.wait_for`) aborts the task, and with it the request.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};

use opdeck::{Body, Output};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyCFunction, PyDict, PyList, PyTuple};
use serde_json::Value;

use crate::convert::{body_to_py, to_py};
use crate::errors;

/// What an async call hands back, converted on the loop's thread.
pub enum Out {
    /// `acall`: the body.
    Body(Body),
    /// `acall_full`: the whole output.
    Full(Output),
    /// `Pager.anext_page`: the next page's items, or none after the last.
    Page(Option<Vec<Value>>),
}

struct Done {
    future: Py<PyAny>,
    result: opdeck::Result<Out>,
}

/// One event loop's queue of finished calls and its wake-up socket.
struct Bridge {
    queue: Mutex<Vec<Done>>,
    writer: UnixStream,
    reader: UnixStream,
}

impl Bridge {
    fn push(&self, done: Done) {
        let was_empty = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            let empty = q.is_empty();
            q.push(done);
            empty
        };
        if was_empty {
            // A full socket buffer already holds a wake-up: nothing to add.
            let _ = (&self.writer).write(&[1]);
        }
    }
}

/// The loop's reader callback: completes every finished call's future.
#[pyclass(module = "opdeck._opdeck", frozen)]
pub struct Drain(Arc<Bridge>);

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let mut buf = [0u8; 256];
        while matches!((&self.0.reader).read(&mut buf), Ok(n) if n > 0) {}
        let done = std::mem::take(&mut *self.0.queue.lock().unwrap_or_else(|e| e.into_inner()));
        crate::logging::flush(py);
        for d in done {
            let future = d.future.bind(py);
            if future.call_method0(pyo3::intern!(py, "done"))?.is_truthy()? {
                continue; // cancelled meanwhile
            }
            let outcome = match d.result {
                Ok(out) => convert(py, out).map_err(|e| e.into_value(py).into_any().into_bound(py)),
                Err(e) => Err(errors::instance(py, &e)?),
            };
            match outcome {
                Ok(value) => future.call_method1(pyo3::intern!(py, "set_result"), (value,))?,
                Err(exc) => future.call_method1(pyo3::intern!(py, "set_exception"), (exc,))?,
            };
        }
        Ok(())
    }
}

fn convert(py: Python<'_>, out: Out) -> PyResult<Bound<'_, PyAny>> {
    match out {
        Out::Body(body) => body_to_py(py, body),
        Out::Full(output) => Ok(Bound::new(py, crate::convert::response(py, output)?)?.into_any()),
        Out::Page(None) => Ok(py.None().into_bound(py)),
        Out::Page(Some(items)) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            Ok(list.into_any())
        }
    }
}

/// `id(loop)` → `(weakref to the loop, its Drain)`. A dict guarded by the
/// GIL, not a Rust lock: `add_reader` may release the GIL, and a lock held
/// across it would deadlock with a thread that holds the GIL and waits.
static BRIDGES: PyOnceLock<Py<PyDict>> = PyOnceLock::new();
static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The bridge of `event_loop`, made and registered with it on first use.
fn bridge_for(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Bridge>> {
    let bridges = BRIDGES.get_or_init(py, || PyDict::new(py).unbind()).bind(py);
    let key = event_loop.as_ptr() as usize;
    if let Some(entry) = bridges.get_item(key)? {
        let (loop_ref, drain): (Bound<'_, PyAny>, Bound<'_, Drain>) = entry.extract()?;
        if loop_ref.call0()?.is(event_loop) {
            return Ok(drain.get().0.clone());
        }
    }
    // Forget the bridges of loops that are gone.
    let mut dead = Vec::new();
    for (k, entry) in bridges.iter() {
        if entry.get_item(0)?.call0()?.is_none() {
            dead.push(k);
        }
    }
    for k in dead {
        bridges.del_item(k)?;
    }
    let (reader, writer) = UnixStream::pair().map_err(|e| PyRuntimeError::new_err(format!("socketpair: {e}")))?;
    reader
        .set_nonblocking(true)
        .and_then(|()| writer.set_nonblocking(true))
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let loop_ref = py.import("weakref")?.getattr("ref")?.call1((event_loop,))?;
    let bridge = Arc::new(Bridge { queue: Mutex::new(Vec::new()), writer, reader });
    let drain = Bound::new(py, Drain(bridge.clone()))?;
    bridges.set_item(key, (loop_ref, &drain))?;
    event_loop.call_method1("add_reader", (bridge.reader.as_raw_fd(), drain))?;
    Ok(bridge)
}

/// Starts `work` on `deck`'s runtime (the host's, or core's shared one) and
/// returns the running loop's future of its result; cancelling the future
/// aborts the work.
pub fn start<'py>(
    py: Python<'py>,
    deck: &opdeck::Deck,
    work: impl std::future::Future<Output = opdeck::Result<Out>> + Send + 'static,
) -> PyResult<Bound<'py, PyAny>> {
    let get_loop = GET_RUNNING_LOOP
        .get_or_try_init(py, || -> PyResult<_> { Ok(py.import("asyncio")?.getattr("get_running_loop")?.unbind()) })?;
    let event_loop = get_loop.bind(py).call0()?;
    let bridge = bridge_for(py, &event_loop)?;
    let future = event_loop.call_method0(pyo3::intern!(py, "create_future"))?;
    let target = future.clone().unbind();
    let task = deck
        .spawn(async move {
            let result = work.await;
            bridge.push(Done { future: target, result });
        })
        .map_err(errors::to_py_err)?;
    let abort = task.abort_handle();
    let on_done =
        PyCFunction::new_closure(py, None, None, move |args: &Bound<'_, PyTuple>, _kwargs| -> PyResult<()> {
            if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
                abort.abort();
            }
            Ok(())
        })?;
    future.call_method1(pyo3::intern!(py, "add_done_callback"), (on_done,))?;
    Ok(future)
}
