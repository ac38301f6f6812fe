//! The state one script run shares with the functions it calls, and the one
//! place where a synchronous script waits for asynchronous work.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use rhai::EvalAltResult;
use serde_json::Value;

use super::errors;
use super::limits::Limits;
use crate::deck::Deck;
use crate::error::{Error, Result};

/// Where printed text goes: one line per call, without its newline.
pub type Sink = Arc<dyn Fn(&str) + Send + Sync>;

/// A Rhai result whose error is a thrown Rhai error.
pub(crate) type RhaiResult<T> = std::result::Result<T, Box<EvalAltResult>>;

/// What the functions of one run share.
pub(crate) struct Host {
    pub(crate) deck: Deck,
    pub(crate) limits: Limits,
    pub(crate) start: Instant,
    pub(crate) allow_read: bool,
    /// The environment variables `env()` may read.
    pub(crate) allow_env: Arc<[String]>,
    pub(crate) dry_run: bool,
    pub(crate) out: Sink,
    pub(crate) err: Sink,
}

impl Host {
    /// A host with default limits and nothing allowed, for unit tests.
    #[cfg(test)]
    pub(crate) fn for_tests(deck: Deck) -> Host {
        Host {
            deck,
            limits: Limits::default(),
            start: Instant::now(),
            allow_read: false,
            allow_env: Arc::from(Vec::new()),
            dry_run: false,
            out: Arc::new(|_| {}),
            err: Arc::new(|_| {}),
        }
    }

    /// Waits for `future` on the shared runtime, bounded by the wall time
    /// left. The script runs on a thread with no runtime of its own (see
    /// [`Engine::run`](super::Engine::run)), so blocking here is safe.
    pub(crate) fn block<T>(&self, future: impl Future<Output = Result<T>>) -> RhaiResult<T> {
        let remaining = self.limits.remaining(self.start);
        let bounded = async move { tokio::time::timeout(remaining, future).await };
        match crate::runtime::block_on(bounded) {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(err))) | Err(err) => Err(errors::throw(&err)),
            Ok(Err(_elapsed)) => Err(errors::wall_time_exceeded()),
        }
    }

    /// In a dry run, an operation that writes is not sent: the plan line is
    /// printed and `Some` placeholder result returned. Reads still run, so a
    /// plan can be built from real data.
    pub(crate) fn skip_in_dry_run(&self, id: &str, input: &Value) -> Result<Option<Value>> {
        if !self.dry_run {
            return Ok(None);
        }
        let op = self.deck.registry().get(id)?;
        let meta = op.meta();
        if meta.method.is_read_only() {
            return Ok(None);
        }
        let shown = serde_json::to_string(&crate::wire::redact::redact_input(meta, input)).unwrap_or_default();
        (self.out)(&format!("dry-run: {} {} {shown}", meta.method, meta.id));
        Ok(Some(serde_json::json!({ "dry_run": true, "operation": meta.id })))
    }

    /// Raises `err` as a catchable script error.
    pub(crate) fn fail<T>(err: Error) -> RhaiResult<T> {
        Err(errors::throw(&err))
    }
}

#[cfg(test)]
mod tests {
    use crate::wire::redact::redact_input;

    #[test]
    fn plan_lines_use_the_one_redaction_of_inputs() {
        let meta = crate::model::OperationMeta::native("s", "g", "o", Vec::new());
        let input = serde_json::json!({"name": "ann", "body": {"password": "hunter2", "list": [{"apiKey": "k"}],
            "requirePasswordChange": true, "tokenExpiry": null}});
        let shown = redact_input(&meta, &input);
        let text = shown.to_string();
        assert!(!text.contains("hunter2") && !text.contains("\"k\""), "{text}");
        assert_eq!(shown["body"]["requirePasswordChange"], true);
        assert_eq!(shown["body"]["tokenExpiry"], serde_json::Value::Null);
        assert_eq!(shown["name"], "ann");
    }
}
