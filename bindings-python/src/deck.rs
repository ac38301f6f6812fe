//! `opdeck._opdeck.Deck`: `opdeck::Deck` as a Python class.
//!
//! Each blocking method converts its arguments with the GIL held, then sends,
//! receives and decodes in one GIL-released section (`py.detach`), and takes
//! the GIL back once to convert the result; the calling thread drives the
//! call itself ([`opdeck::runtime::block_on_here`]), `call_many` excepted,
//! which runs on the shared runtime. The async methods return a future
//! of the running loop (see [`crate::aio`]), so one deck serves any number of
//! `asyncio.run()` loops, and cancelling it aborts the request.

use std::time::Duration;

use opdeck::{Builtins, CallOptions, Deck, Filter, Method, PageLimits};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use serde_json::Value;

use crate::aio::Out;
use crate::convert::{self, Response, body_to_py, response, to_py};
use crate::errors::{self, to_py_err};

/// A deck of operations: the built-in services, added sources and plugins.
#[pyclass(name = "Deck", module = "opdeck._opdeck", subclass, frozen)]
pub struct PyDeck {
    pub(crate) deck: Deck,
}

fn input(input: Option<&Bound<'_, PyAny>>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Value> {
    convert::input(input, params)
}

fn limits(max_pages: Option<u64>, max_items: Option<u64>) -> PageLimits {
    PageLimits { max_pages, max_items }
}

#[pymethods]
impl PyDeck {
    #[new]
    #[pyo3(signature = (*, profile=None, config=None, base_urls=None, credentials=None, mock=false, read_only=false, timeout=None, builtins=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        profile: Option<String>,
        config: Option<std::path::PathBuf>,
        base_urls: Option<&Bound<'_, PyDict>>,
        credentials: Option<&Bound<'_, PyDict>>,
        mock: bool,
        read_only: bool,
        timeout: Option<f64>,
        builtins: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        crate::logging::install(py);
        let mut b = Deck::builder();
        b = match config {
            Some(path) => b.config_file(path, profile.as_deref()),
            None => b.load_config(profile.as_deref()),
        };
        if let Some(urls) = base_urls {
            for (k, v) in urls.iter() {
                b = b.base_url(k.extract::<String>()?.as_str(), v.extract::<String>()?.as_str());
            }
        }
        if let Some(creds) = credentials {
            for (k, v) in creds.iter() {
                let service: String = k.extract()?;
                if let Ok(token) = v.extract::<String>() {
                    b = b.token(&service, &token);
                    continue;
                }
                let d = v.cast::<PyDict>().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "credentials for `{service}` must be a token string or a dict with `token` or `username` and `password`"
                    ))
                })?;
                if let Some(token) = d.get_item("token")? {
                    b = b.token(&service, &token.extract::<String>()?);
                } else {
                    let user: Option<String> = d.get_item("username")?.map(|u| u.extract()).transpose()?;
                    let pass: Option<String> = d.get_item("password")?.map(|p| p.extract()).transpose()?;
                    let (Some(user), Some(pass)) = (user, pass) else {
                        return Err(PyValueError::new_err(format!(
                            "credentials for `{service}` need `token`, or `username` and `password`"
                        )));
                    };
                    b = b.login(&service, &user, &pass);
                }
            }
        }
        b = b.mock(mock).read_only(read_only);
        if let Some(secs) = timeout {
            let t = Duration::try_from_secs_f64(secs).map_err(|e| PyValueError::new_err(format!("timeout: {e}")))?;
            b = b.options(CallOptions { timeout: Some(t), ..Default::default() });
        }
        b = b.builtins(match builtins {
            None => Builtins::All,
            Some(v) if v.is_truthy()? && v.extract::<bool>().is_ok() => Builtins::All,
            Some(v) if v.extract::<bool>().is_ok() => Builtins::None,
            Some(v) => Builtins::Only(v.extract::<Vec<String>>()?),
        });
        let deck = b.build().map_err(to_py_err)?;
        Ok(PyDeck { deck })
    }

    /// Runs `op` and returns its body: dict, list, str, bytes, a number or None.
    #[pyo3(signature = (op, input=None, /, **params))]
    fn call<'py>(
        &self,
        py: Python<'py>,
        op: &str,
        input: Option<&Bound<'py, PyAny>>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = self::input(input, params)?;
        let body = py.detach(|| self.deck.call_blocking(op, value));
        crate::logging::flush(py);
        body_to_py(py, body.map_err(to_py_err)?)
    }

    /// Runs `op` and returns its whole output (`.status`, `.headers`, `.body`).
    #[pyo3(signature = (op, input=None, /, **params))]
    fn call_full(
        &self,
        py: Python<'_>,
        op: &str,
        input: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Response> {
        let value = self::input(input, params)?;
        let out = py.detach(|| self.deck.call_full_blocking(op, value));
        crate::logging::flush(py);
        response(py, out.map_err(to_py_err)?)
    }

    /// `call` as an `asyncio.Future` of the running loop, started at once
    /// (the sugar's `async def acall` awaits it).
    #[pyo3(signature = (op, input=None, /, **params))]
    fn start_call<'py>(
        &self,
        py: Python<'py>,
        op: String,
        input: Option<&Bound<'py, PyAny>>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = self::input(input, params)?;
        let deck = self.deck.clone();
        crate::aio::start(py, &self.deck, async move { deck.call(&op, value).await.map(Out::Body) })
    }

    /// `call_full` as an `asyncio.Future` of the running loop, started at once.
    #[pyo3(signature = (op, input=None, /, **params))]
    fn start_call_full<'py>(
        &self,
        py: Python<'py>,
        op: String,
        input: Option<&Bound<'py, PyAny>>,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let value = self::input(input, params)?;
        let deck = self.deck.clone();
        crate::aio::start(py, &self.deck, async move { deck.call_full(&op, value).await.map(Out::Full) })
    }

    /// Runs every `(op, input)` concurrently inside Rust, at most `limit` at
    /// once, and returns the results in order; a failed call's place holds
    /// its exception object (not raised).
    #[pyo3(signature = (calls, /, limit=64))]
    fn call_many<'py>(&self, py: Python<'py>, calls: &Bound<'py, PyAny>, limit: usize) -> PyResult<Bound<'py, PyList>> {
        let mut batch = Vec::new();
        for item in calls.try_iter()? {
            let item = item?;
            if let Ok(op) = item.cast::<PyString>() {
                batch.push((op.to_cow()?.into_owned(), Value::Object(Default::default())));
                continue;
            }
            let t = item.cast::<PyTuple>().map_err(|_| PyTypeError::new_err("call_many takes (op, input) tuples"))?;
            let op: String = t.get_item(0)?.extract()?;
            let value = match t.len() {
                1 => Value::Object(Default::default()),
                2 => convert::input(Some(&t.get_item(1)?), None)?,
                n => return Err(PyTypeError::new_err(format!("call_many takes (op, input) tuples, not {n} items"))),
            };
            batch.push((op, value));
        }
        let deck = self.deck.clone();
        let results = py.detach(move || deck.call_many_blocking(batch, limit));
        crate::logging::flush(py);
        let results = results.map_err(to_py_err)?;
        let out = PyList::empty(py);
        for r in results {
            match r {
                Ok(body) => out.append(body_to_py(py, body)?)?,
                Err(e) => out.append(errors::instance(py, &e)?)?,
            }
        }
        Ok(out)
    }

    /// A pager over `op`'s pages (the sugar's `paginate`/`apaginate` use it).
    #[pyo3(signature = (op, input=None, /, max_pages=None, max_items=None, params=None))]
    fn pager(
        &self,
        op: &str,
        input: Option<&Bound<'_, PyAny>>,
        max_pages: Option<u64>,
        max_items: Option<u64>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<crate::pager::PyPager> {
        let value = self::input(input, params)?;
        let pager = self.deck.pager(op, value, limits(max_pages, max_items)).map_err(to_py_err)?;
        Ok(crate::pager::PyPager::new(self.deck.clone(), pager))
    }

    /// Operations matching `query` (ranked; all when empty), as dicts.
    #[pyo3(signature = (query="", /, *, service=None, group=None, method=None, deprecated=None, read_only=false, since=None))]
    #[allow(clippy::too_many_arguments)]
    fn ops<'py>(
        &self,
        py: Python<'py>,
        query: &str,
        service: Option<String>,
        group: Option<String>,
        method: Option<&str>,
        deprecated: Option<bool>,
        read_only: bool,
        since: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let method = method
            .map(|m| {
                Method::parse(&m.to_ascii_uppercase())
                    .ok_or_else(|| PyValueError::new_err(format!("unknown method `{m}`")))
            })
            .transpose()?;
        let filter = Filter { service, group, deprecated, method, read_only, since };
        let ops = py.detach(|| self.deck.ops(query, &filter));
        to_py(py, serde_json::to_value(ops).map_err(|e| PyRuntimeError::new_err(e.to_string()))?)
    }

    /// Method, path, parameters and schemas of `op`.
    fn describe<'py>(&self, py: Python<'py>, op: &str) -> PyResult<Bound<'py, PyAny>> {
        let v = py.detach(|| self.deck.describe(op)).map_err(to_py_err)?;
        to_py(py, v)
    }

    /// The services with their operation counts and origins.
    fn services<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let list = self.deck.services();
        to_py(py, serde_json::to_value(list).map_err(|e| PyRuntimeError::new_err(e.to_string()))?)
    }

    /// Whether an operation has this id (the attribute sugar asks).
    fn has_operation(&self, op: &str) -> bool {
        self.deck.registry().get(op).is_ok()
    }

    /// Loads `spec` (a path, URL or document text) as service `name`; returns the ids added.
    #[pyo3(signature = (name, spec, /, *, base_url=None))]
    fn add_source(&self, py: Python<'_>, name: &str, spec: &str, base_url: Option<&str>) -> PyResult<Vec<String>> {
        py.detach(|| self.deck.add_source_blocking(name, spec, base_url)).map_err(to_py_err)
    }

    /// What `add_source` would add, without adding it.
    fn preview_spec<'py>(&self, py: Python<'py>, spec: &str) -> PyResult<Bound<'py, PyAny>> {
        let v = py.detach(|| self.deck.preview_spec_blocking(spec)).map_err(to_py_err)?;
        to_py(py, v)
    }

    /// The request `op` would send, as curl text with credentials redacted.
    #[pyo3(signature = (op, input=None, /, **params))]
    fn prepare(
        &self,
        py: Python<'_>,
        op: &str,
        input: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<String> {
        let value = self::input(input, params)?;
        let req = py.detach(|| self.deck.prepare(op, &value)).map_err(to_py_err)?;
        Ok(req.curl())
    }

    /// Registers a Python callable as operation `op` (the sugar's `@deck.operation`).
    #[pyo3(signature = (op, func, /, input_schema=None))]
    fn register(&self, op: &str, func: Py<PyAny>, input_schema: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let schema = match input_schema {
            Some(s) => convert::to_value(s)?,
            None => serde_json::json!({"type": "object"}),
        };
        crate::plugin::register(&self.deck, op, schema, func)
    }

    /// Runs a Rhai script with this deck; returns the script's value.
    #[pyo3(signature = (source, /, *, args=None, name="<script>", dry_run=false))]
    fn run_script<'py>(
        &self,
        py: Python<'py>,
        source: &str,
        args: Option<&Bound<'py, PyAny>>,
        name: &str,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let args = crate::plugin::script_args(args)?;
        let mut engine = opdeck::script::Engine::new(self.deck.clone());
        engine.dry_run(dry_run);
        let v = py.detach(|| engine.run(source, name, &args));
        crate::logging::flush(py);
        let v = v.map_err(to_py_err)?;
        to_py(py, v)
    }

    fn __repr__(&self) -> String {
        let services = self.deck.services();
        let n: usize = services.iter().map(|s| s.operations).sum();
        format!("<opdeck.Deck: {} services, {n} operations>", services.len())
    }
}
