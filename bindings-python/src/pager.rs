//! `opdeck._opdeck.Pager`: one list operation's pages, fetched on demand.
//! The sugar's `Deck.paginate` and `Deck.apaginate` iterate over its items.
//!
//! Core's `Pager::next_page` moves on only when a page has arrived, so a
//! fetch that is cancelled (an `asyncio` timeout) leaves the pager where it
//! was: the pager sits behind an async mutex that the fetching task holds,
//! and a cancelled task lets go of it as it is dropped.

use std::sync::Arc;

use opdeck::{Deck, Pager};
use pyo3::prelude::*;
use pyo3::types::PyList;
use tokio::sync::Mutex;

use crate::convert::to_py;
use crate::errors::to_py_err;

/// The pages of one list operation.
#[pyclass(name = "Pager", module = "opdeck._opdeck", frozen)]
pub struct PyPager {
    pager: Arc<Mutex<Pager>>,
    deck: Deck,
}

impl PyPager {
    pub fn new(deck: Deck, pager: Pager) -> Self {
        PyPager { pager: Arc::new(Mutex::new(pager)), deck }
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
        let (pager, deck) = (self.pager.clone(), &self.deck);
        let result = py.detach(|| deck.block_on(async move { pager.lock().await.next_page().await }));
        crate::logging::flush(py);
        let page = result.map_err(to_py_err)?.map_err(to_py_err)?;
        page_to_py(py, page)
    }

    /// `next_page`, awaitable (a future of the running loop).
    fn anext_page<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pager = self.pager.clone();
        crate::aio::start(py, &self.deck, async move {
            let page = pager.lock().await.next_page().await;
            page.map(crate::aio::Out::Page)
        })
    }
}
