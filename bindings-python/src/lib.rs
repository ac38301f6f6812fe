//! The `opdeck` Python package's native module, `opdeck._opdeck`.
//!
//! A thin layer over `opdeck::Deck`: [`convert`] turns Python values into
//! `serde_json::Value` and back, [`errors`] maps each error kind to its
//! exception class, and everything else only forwards. The pure-Python sugar
//! (attribute access, iterators, the plugin decorator) lives in
//! `python/opdeck/__init__.py`.
//!
//! Importing the module makes the classes and nothing else: no thread, no
//! runtime, no catalog read. Core starts its runtime on the first call and
//! reads a catalog when one of its operations is first used.

mod aio;
mod convert;
mod deck;
mod errors;
mod logging;
mod pager;
mod plugin;

use pyo3::prelude::*;

#[pymodule]
fn _opdeck(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<deck::PyDeck>()?;
    m.add_class::<convert::Response>()?;
    m.add_class::<pager::PyPager>()?;
    m.add_function(wrap_pyfunction!(logging::refresh_log_level, m)?)?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
