//! Python values <-> `serde_json::Value`, the one conversion of the binding.
//!
//! Dicts keep their order both ways (`serde_json` is built with
//! `preserve_order`), so a call returns what `json.loads` of the body would.
//! A `Body` that is not JSON stays what it is: text becomes `str`, binary
//! content `bytes`. A whole output becomes a [`Response`].

use opdeck::Body;
use pyo3::exceptions::{PyRecursionError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

/// Deeper inputs are refused rather than risking the stack.
const MAX_DEPTH: usize = 200;

/// A Python value as JSON: dict (str keys), list, tuple, str, int, float,
/// bool, None; `bytes` that are UTF-8 become a string and path-like objects
/// their path.
pub fn to_value(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_value_at(obj, 0)
}

fn to_value_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyRecursionError::new_err("the input is nested too deeply"));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(dict.len());
        for (k, v) in dict.iter() {
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_cow()?.into_owned(),
                Err(_) if k.cast::<PyInt>().is_ok() => k.str()?.to_cow()?.into_owned(),
                Err(_) => return Err(PyTypeError::new_err(format!("dict keys must be str, not {}", type_name(&k)))),
            };
            map.insert(key, to_value_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::Number(u.into()));
        }
        return Err(PyValueError::new_err("integer out of the range JSON numbers keep (64 bits)"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not JSON numbers"));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list.iter().map(|v| to_value_at(&v, depth + 1)).collect::<PyResult<_>>().map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple.iter().map(|v| to_value_at(&v, depth + 1)).collect::<PyResult<_>>().map(Value::Array);
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return std::str::from_utf8(b.as_bytes())
            .map(|s| Value::String(s.to_owned()))
            .map_err(|_| PyValueError::new_err("bytes input must be UTF-8; pass binary files as {\"path\": ...}"));
    }
    if obj.hasattr(pyo3::intern!(obj.py(), "__fspath__"))? {
        let path = obj.call_method0(pyo3::intern!(obj.py(), "__fspath__"))?;
        return to_value_at(&path, depth + 1);
    }
    Err(PyTypeError::new_err(format!("cannot send a {} as JSON", type_name(obj))))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "value".into())
}

/// JSON as Python objects, consuming the value so strings are not copied twice.
pub fn to_py(py: Python<'_>, value: Value) -> PyResult<Bound<'_, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, &s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(PyString::new(py, &k), to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A call's body as Python: JSON as objects, text as `str`, bytes as
/// `bytes`, no body as `None`, a download as `{"path", "bytes"}`.
pub fn body_to_py(py: Python<'_>, body: Body) -> PyResult<Bound<'_, PyAny>> {
    match body {
        Body::Json(v) => to_py(py, v),
        Body::Text(t) => Ok(PyString::new(py, &t).into_any()),
        Body::Bytes(b) => Ok(PyBytes::new(py, &b).into_any()),
        other => to_py(py, other.into_value()),
    }
}

/// The input of a call: a dict (or None) merged with keyword arguments,
/// which win. Any other input is passed as it is and takes no keywords.
pub fn input(input: Option<&Bound<'_, PyAny>>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Value> {
    let value = match input {
        Some(obj) => to_value(obj)?,
        None => Value::Object(Map::new()),
    };
    let Some(params) = params.filter(|p| !p.is_empty()) else { return Ok(value) };
    let Value::Object(mut map) = (match value {
        Value::Null => Value::Object(Map::new()),
        v => v,
    }) else {
        return Err(PyTypeError::new_err("keyword parameters need a dict input (or none)"));
    };
    for (k, v) in params.iter() {
        map.insert(k.cast::<PyString>()?.to_cow()?.into_owned(), to_value(&v)?);
    }
    Ok(Value::Object(map))
}

/// The whole output of a call.
#[pyclass(name = "Response", module = "opdeck._opdeck", frozen, get_all)]
pub struct Response {
    /// The HTTP status.
    status: u16,
    /// The headers, lowercase names, repeated ones joined with ", ".
    headers: Py<PyDict>,
    /// The decoded body, as `Deck.call` returns it.
    body: Py<PyAny>,
}

#[pymethods]
impl Response {
    fn __repr__(&self) -> String {
        format!("<Response {}>", self.status)
    }
}

/// A call's whole output as a [`Response`].
pub fn response(py: Python<'_>, out: opdeck::Output) -> PyResult<Response> {
    let headers = to_py(py, Value::Object(opdeck::model::headers_json(&out.headers)))?;
    Ok(Response {
        status: out.status,
        headers: headers.cast_into::<PyDict>()?.unbind(),
        body: body_to_py(py, out.body)?.unbind(),
    })
}
