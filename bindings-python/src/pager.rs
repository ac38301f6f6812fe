//! `opdeck._opdeck.Pager`: one list operation's pages, fetched on demand.
//! The sugar's `Deck.paginate` and `Deck.apaginate` iterate over its items.

use std::sync::Mutex;

use opdeck::Pager;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::convert::to_py;
use crate::errors::to_py_err;

/// The pages of one list operation.
#[pyclass(name = "Pager", module = "opdeck._opdeck", frozen)]
pub struct PyPager(Mutex<Option<Pager>>);

impl PyPager {
    pub fn new(pager: Pager) -> Self {
        PyPager(Mutex::new(Some(pager)))
    }

    fn take(&self) -> PyResult<Pager> {
        self.0
            .lock()
            .map_err(|_| PyRuntimeError::new_err("pager lock poisoned"))?
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this pager is in use elsewhere, or its last fetch was cancelled"))
    }

    fn put(&self, pager: Pager) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(pager);
        }
    }
}

fn page_to_py(py: Python<'_>, page: Option<Vec<serde_json::Value>>) -> PyResult<Py<PyAny>> {
    match page {
        None => Ok(py.None()),
        Some(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            Ok(list.into_any().unbind())
        }
    }
}

#[pymethods]
impl PyPager {
    /// The next page's items, or None after the last page.
    fn next_page(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let mut pager = self.take()?;
        let result = py.detach(|| {
            let r = opdeck::runtime::block_on(pager.next_page());
            (pager, r)
        });
        let (pager, r) = result;
        self.put(pager);
        crate::logging::flush(py);
        let page = r.map_err(to_py_err)?.map_err(to_py_err)?;
        page_to_py(py, page)
    }

    /// `next_page`, awaitable (a future of the running loop).
    fn anext_page<'py>(slf: Py<Self>, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let mut pager = slf.get().take()?;
        crate::aio::start(py, async move {
            let page = pager.next_page().await;
            slf.get().put(pager);
            page.map(crate::aio::Out::Page)
        })
    }
}
