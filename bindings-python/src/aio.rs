//! Awaitables: a Rust future handed to Python as a PyO3 coroutine.
//!
//! PyO3 makes coroutines only from `async fn` methods, whose arguments must
//! be `'static`; the methods of `Deck` convert their arguments first, with the
//! GIL, and then wrap the ready future in a [`Pending`] whose one async method
//! gives the coroutine. Its waker captures the event loop that awaits it, per
//! call, so no loop is tied to a deck.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

type BoxFuture = Pin<Box<dyn Future<Output = PyResult<Py<PyAny>>> + Send>>;

/// A future waiting to be awaited once.
#[pyclass(module = "opdeck._opdeck", frozen)]
pub struct Pending(Mutex<Option<BoxFuture>>);

#[pymethods]
impl Pending {
    async fn wait(&self) -> PyResult<Py<PyAny>> {
        let fut = self.0.lock().map_err(|_| PyRuntimeError::new_err("poisoned"))?.take();
        match fut {
            Some(fut) => fut.await,
            None => Err(PyRuntimeError::new_err("cannot reuse an already awaited coroutine")),
        }
    }
}

/// `future` as a Python coroutine named `name`.
pub fn coroutine(
    py: Python<'_>,
    name: &str,
    future: impl Future<Output = PyResult<Py<PyAny>>> + Send + 'static,
) -> PyResult<Py<PyAny>> {
    let _ = name;
    let pending = Bound::new(py, Pending(Mutex::new(Some(Box::pin(future)))))?;
    Ok(pending.call_method0(pyo3::intern!(py, "wait"))?.unbind())
}
