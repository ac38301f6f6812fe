//! core's `tracing` events, forwarded to Python's `logging` logger `opdeck`.
//!
//! The layer is installed when the first `Deck` is made (not at import). It
//! compares each event with the logger's effective level, read then and
//! again by `opdeck.refresh_log_level()`: at the default WARNING level a
//! call's debug and info events cost nothing. An event that passes is queued,
//! never logged from the thread that emitted it: the runtime's threads must
//! not take the GIL (see `aio`). The queue is handed to `logging` by the next
//! Python thread that comes back from opdeck: the caller of a blocking call
//! when it returns, the event loop when it completes an async call, and an
//! `atexit` hook for what is left at the end.
//! Core's events carry redacted URLs and no credential; nothing is added here.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, Once};

use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// The logger's effective level, in Python's numbers (10 debug … 50 critical).
static LEVEL: AtomicU8 = AtomicU8::new(30);
static INSTALL: Once = Once::new();
/// Events waiting for a Python thread: level, text, fields.
type Record = (u8, String, Vec<(&'static str, String)>);
static QUEUE: Mutex<Vec<Record>> = Mutex::new(Vec::new());
static QUEUED: AtomicBool = AtomicBool::new(false);

fn py_level(level: &Level) -> u8 {
    match *level {
        Level::TRACE => 5,
        Level::DEBUG => 10,
        Level::INFO => 20,
        Level::WARN => 30,
        Level::ERROR => 40,
    }
}

/// Installs the forwarding layer once per process, and reads the level.
/// Events still queued when the interpreter exits (a call that ended after
/// its caller stopped waiting) are handed over by an `atexit` hook.
pub fn install(py: Python<'_>) {
    refresh(py);
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::registry().with(PyLogLayer);
        let _ = tracing::subscriber::set_global_default(subscriber);
        let at_exit = || -> PyResult<()> {
            let hook = PyCFunction::new_closure(py, None, None, |args: &Bound<'_, PyTuple>, _kwargs| {
                flush(args.py());
            })?;
            py.import("atexit")?.call_method1("register", (hook,))?;
            Ok(())
        };
        let _ = at_exit();
    });
}

/// Reads the `opdeck` logger's effective level again.
pub fn refresh(py: Python<'_>) {
    let level = py
        .import("logging")
        .and_then(|l| l.call_method1("getLogger", ("opdeck",)))
        .and_then(|l| l.call_method0("getEffectiveLevel"))
        .and_then(|l| l.extract::<u8>());
    if let Ok(level) = level {
        LEVEL.store(level, Ordering::Relaxed);
    }
}

/// `opdeck.refresh_log_level()`: call after changing the `opdeck` logger's level.
#[pyfunction]
pub fn refresh_log_level(py: Python<'_>) {
    refresh(py);
}

struct PyLogLayer;

#[derive(Default)]
struct Fields {
    message: String,
    rest: Vec<(&'static str, String)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.rest.push((field.name(), value.to_owned()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.rest.push((field.name(), format!("{value:?}")));
        }
    }
}

impl<S: Subscriber> Layer<S> for PyLogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = py_level(meta.level());
        if level < LEVEL.load(Ordering::Relaxed) || !meta.target().starts_with("opdeck") {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut text = fields.message;
        for (k, v) in &fields.rest {
            let _ = write!(text, "{}{k}={v}", if text.is_empty() { "" } else { " " });
        }
        QUEUE.lock().unwrap_or_else(|e| e.into_inner()).push((level, text, fields.rest));
        QUEUED.store(true, Ordering::Release);
    }
}

/// Hands the queued events to the `opdeck` logger; called by Python threads
/// on their way back from opdeck. Costs one atomic load when none is queued.
pub fn flush(py: Python<'_>) {
    if !QUEUED.swap(false, Ordering::AcqRel) {
        return;
    }
    let records = std::mem::take(&mut *QUEUE.lock().unwrap_or_else(|e| e.into_inner()));
    let _ = (|| -> PyResult<()> {
        let logger = py.import("logging")?.call_method1("getLogger", ("opdeck",))?;
        for (level, text, rest) in records {
            let data = PyDict::new(py);
            for (k, v) in &rest {
                data.set_item(*k, v)?;
            }
            let extra = PyDict::new(py);
            extra.set_item("opdeck", data)?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("extra", extra)?;
            logger.call_method("log", (level, "%s", text), Some(&kwargs))?;
        }
        Ok(())
    })();
}
