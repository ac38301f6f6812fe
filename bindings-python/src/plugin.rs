//! Python callables as operations, and the arguments of Rhai scripts.
//!
//! A plugin runs on one of core's blocking threads: it takes the GIL there,
//! calls the function with the validated input (a dict), and runs a
//! coroutine it returns to completion with `asyncio.run`, so sync and async
//! callables both work and no event loop of the caller is borrowed.

use opdeck::Deck;
use opdeck::script::ScriptArgs;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};
use serde_json::Value;

use crate::convert;
use crate::errors::to_py_err;

/// Registers `func` as operation `op` of `deck`.
pub fn register(deck: &Deck, op: &str, schema: Value, func: Py<PyAny>) -> PyResult<()> {
    let id = op.to_owned();
    deck.register_blocking_fn(op, schema, move |input: Value| Python::attach(|py| run(py, &id, &func, input)))
        .map_err(to_py_err)?;
    Ok(())
}

fn run(py: Python<'_>, id: &str, func: &Py<PyAny>, input: Value) -> opdeck::Result<Value> {
    let attempt = || -> PyResult<Value> {
        let arg = convert::to_py(py, input)?;
        let mut out = func.bind(py).call1((arg,))?;
        if py.import("inspect")?.call_method1("iscoroutine", (&out,))?.is_truthy()? {
            out = py.import("asyncio")?.call_method1("run", (out,))?;
        }
        convert::to_value(&out)
    };
    // The exception travels inside the error, so the Python caller gets it
    // back as it was raised (same class, same attributes).
    attempt().map_err(|e| {
        let kind = e.get_type(py).name().map(|n| n.to_string()).unwrap_or_else(|_| "Exception".into());
        let message = format!("raised {kind}: {}", e.value(py));
        opdeck::Error::Plugin { operation: id.to_owned(), message, cause: std::sync::Arc::new(e) }
    })
}

/// A script's `args`: a dict (`{"name": "Ann"}`, `True` for a bare flag)
/// or a list of command-line words (`["name=Ann", "--force"]`).
pub fn script_args(args: Option<&Bound<'_, PyAny>>) -> PyResult<ScriptArgs> {
    let Some(args) = args.filter(|a| !a.is_none()) else { return Ok(ScriptArgs::default()) };
    if let Ok(d) = args.cast::<PyDict>() {
        let mut words = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            let k: String = k.extract()?;
            if v.cast::<PyBool>().is_ok_and(|b| b.is_true()) {
                words.push(format!("--{k}"));
            } else if let Ok(s) = v.extract::<String>() {
                words.push(format!("{k}={s}"));
            } else {
                words.push(format!("{k}={}", v.str()?));
            }
        }
        return Ok(ScriptArgs::parse(words));
    }
    let words: Vec<String> =
        args.extract().map_err(|_| PyTypeError::new_err("args must be a dict or a list of str"))?;
    Ok(ScriptArgs::parse(words))
}
