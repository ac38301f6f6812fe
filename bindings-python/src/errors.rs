//! The one error map: each `opdeck::ErrorKind` is its own exception class
//! under `opdeck.Error`, with the fields of its kind as attributes.
//!
//! The classes are made here, in Rust, when the module is imported (making a
//! type is cheap and reads nothing). `TimeoutError` also subclasses the
//! builtin `TimeoutError`, so `except TimeoutError` catches it as Python
//! code expects.

use opdeck::ErrorKind;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};

use crate::convert;

/// One class per kind, plus the base.
struct Classes {
    base: Py<PyType>,
    not_found: Py<PyType>,
    spec: Py<PyType>,
    validation: Py<PyType>,
    status: Py<PyType>,
    transport: Py<PyType>,
    timeout: Py<PyType>,
    auth: Py<PyType>,
    decode: Py<PyType>,
    config: Py<PyType>,
    usage: Py<PyType>,
    io: Py<PyType>,
    script: Py<PyType>,
    limit: Py<PyType>,
    policy: Py<PyType>,
    internal: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// Class name, kind as core names it, docstring, extra attributes (default None).
type Spec = (&'static str, &'static str, &'static str, &'static [&'static str]);

const BASE: Spec =
    ("Error", "", "Every error opdeck raises. `.kind` names the kind, `.operation` the operation id.", &[]);
const KINDS: [Spec; 15] = [
    (
        "UnknownOperation",
        "not_found",
        "No operation (or service) has this id; `.suggestions` are the closest ids.",
        &["suggestions"],
    ),
    ("SpecError", "spec", "An API description cannot be used.", &[]),
    (
        "ValidationError",
        "validation",
        "The input broke the operation's schema; `.violations` lists every rule broken, each {\"path\": JSON pointer, \"message\"}.",
        &["violations"],
    ),
    (
        "HttpError",
        "status",
        "The server answered with a status outside 2xx: `.status`, `.body`, `.headers`, `.operation`.",
        &["status", "body", "headers"],
    ),
    ("TransportError", "transport", "The request could not be sent or the response not read.", &[]),
    ("TimeoutError", "timeout", "A connect or total timeout ran out (also a builtin TimeoutError).", &[]),
    ("AuthError", "auth", "Credentials are missing or rejected, or a login failed.", &[]),
    ("DecodeError", "decode", "A response body did not match its content type.", &[]),
    ("ConfigError", "config", "The configuration (file, profile, environment) is missing or wrong.", &[]),
    ("UsageError", "usage", "The API was used wrongly (a bad argument, a deck used after fork).", &[]),
    ("IoError", "io", "Reading or writing a local file failed.", &[]),
    ("ScriptError", "script", "A Rhai script failed.", &["status"]),
    ("LimitError", "limit", "A script or pagination exceeded a configured limit.", &[]),
    ("PolicyError", "policy", "The deck's policy (read-only, allow lists) refused the call.", &[]),
    ("InternalError", "internal", "opdeck itself failed; worth a bug report.", &[]),
];

fn make(py: Python<'_>, spec: Spec, bases: Bound<'_, PyTuple>) -> PyResult<Py<PyType>> {
    let (name, kind, doc, extra) = spec;
    let dict = PyDict::new(py);
    dict.set_item("__module__", "opdeck")?;
    dict.set_item("__doc__", doc)?;
    if spec.0 == BASE.0 {
        dict.set_item("kind", py.None())?;
        dict.set_item("operation", py.None())?;
    } else {
        dict.set_item("kind", kind)?;
    }
    for attr in extra {
        dict.set_item(*attr, py.None())?;
    }
    let ty = py.import("builtins")?.getattr("type")?.call1((name, bases, dict))?;
    Ok(ty.cast_into::<PyType>()?.unbind())
}

fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || {
        let exception = py.get_type::<pyo3::exceptions::PyException>();
        let base = make(py, BASE, PyTuple::new(py, [exception])?)?;
        let mut made = Vec::with_capacity(KINDS.len());
        for spec in KINDS {
            let mut bases = vec![base.bind(py).clone()];
            if spec.0 == "TimeoutError" {
                bases.push(py.get_type::<pyo3::exceptions::PyTimeoutError>());
            }
            made.push(make(py, spec, PyTuple::new(py, bases)?)?);
        }
        let mut it = made.into_iter();
        let mut next = || it.next().expect("one class per kind");
        Ok(Classes {
            base,
            not_found: next(),
            spec: next(),
            validation: next(),
            status: next(),
            transport: next(),
            timeout: next(),
            auth: next(),
            decode: next(),
            config: next(),
            usage: next(),
            io: next(),
            script: next(),
            limit: next(),
            policy: next(),
            internal: next(),
        })
    })
}

/// Adds `Error` and every kind's class to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let c = classes(py)?;
    m.add("Error", c.base.bind(py))?;
    for (spec, ty) in KINDS.iter().zip(c.all()) {
        m.add(spec.0, ty.bind(py))?;
    }
    Ok(())
}

impl Classes {
    fn all(&self) -> [&Py<PyType>; 15] {
        [
            &self.not_found,
            &self.spec,
            &self.validation,
            &self.status,
            &self.transport,
            &self.timeout,
            &self.auth,
            &self.decode,
            &self.config,
            &self.usage,
            &self.io,
            &self.script,
            &self.limit,
            &self.policy,
            &self.internal,
        ]
    }

    /// The one exhaustive match: a kind core adds later falls back to the
    /// base class until it is given its own here.
    fn of(&self, kind: ErrorKind) -> &Py<PyType> {
        match kind {
            ErrorKind::NotFound => &self.not_found,
            ErrorKind::Spec => &self.spec,
            ErrorKind::Validation => &self.validation,
            ErrorKind::Status => &self.status,
            ErrorKind::Transport => &self.transport,
            ErrorKind::Timeout => &self.timeout,
            ErrorKind::Auth => &self.auth,
            ErrorKind::Decode => &self.decode,
            ErrorKind::Config => &self.config,
            ErrorKind::Usage => &self.usage,
            ErrorKind::Io => &self.io,
            ErrorKind::Script => &self.script,
            ErrorKind::Limit => &self.limit,
            ErrorKind::Policy => &self.policy,
            ErrorKind::Internal => &self.internal,
            _ => &self.base,
        }
    }
}

/// The exception object for `err`, not raised: `call_many` returns these
/// as values.
pub fn instance<'py>(py: Python<'py>, err: &opdeck::Error) -> PyResult<Bound<'py, PyAny>> {
    // A Python plugin's own exception, raised again as it was.
    if let opdeck::Error::Plugin { cause, .. } = err
        && let Some(raised) = cause.downcast_ref::<PyErr>()
    {
        return Ok(raised.value(py).clone().into_any());
    }
    let c = classes(py)?;
    let exc = c.of(err.kind()).bind(py).call1((err.to_string(),))?;
    if let Some(op) = err.operation() {
        exc.setattr("operation", op)?;
    }
    match err.kind() {
        ErrorKind::Status | ErrorKind::Script => {
            exc.setattr("status", err.status())?;
            if let Some(body) = err.body() {
                exc.setattr("body", convert::to_py(py, body.clone())?)?;
            }
            if let Some(headers) = err.headers() {
                exc.setattr("headers", convert::to_py(py, serde_json::Value::Object(headers.clone()))?)?;
            } else if err.kind() == ErrorKind::Status {
                exc.setattr("headers", PyDict::new(py))?;
            }
        }
        ErrorKind::Validation => {
            let list = PyList::empty(py);
            for v in err.violations() {
                let d = PyDict::new(py);
                d.set_item("path", &v.path)?;
                d.set_item("message", &v.message)?;
                list.append(d)?;
            }
            exc.setattr("violations", list)?;
        }
        ErrorKind::NotFound => exc.setattr("suggestions", err.suggestions().to_vec())?,
        _ => {}
    }
    Ok(exc)
}

/// `err` as a Python exception to raise.
pub fn to_py_err(err: opdeck::Error) -> PyErr {
    Python::attach(|py| match instance(py, &err) {
        Ok(exc) => PyErr::from_value(exc),
        Err(e) => e,
    })
}
