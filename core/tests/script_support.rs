//! Native operations and a captured-output engine for the script tests.
#![allow(dead_code)]
// Closures here return `opdeck::Result`, whose error size is the crate's choice.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;
use opdeck::script::Engine;
use opdeck::{Config, Context, Deck, Error, Operation, OperationMeta, Output};
use serde_json::{Value, json};

type Handler = Arc<dyn Fn(Value) -> BoxFuture<'static, opdeck::Result<Output>> + Send + Sync>;

/// An operation whose behaviour is a closure, counting its invocations.
pub struct NativeOp {
    meta: OperationMeta,
    handler: Handler,
    pub calls: Arc<AtomicUsize>,
}

#[async_trait]
impl Operation for NativeOp {
    fn meta(&self) -> &OperationMeta {
        &self.meta
    }

    async fn invoke(&self, _ctx: &Context, input: Value) -> opdeck::Result<Output> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        (self.handler)(input).await
    }
}

/// The meta of `service.group.name` with `method` and query `params`.
pub fn meta(id: &str, method: &str, params: &[&str]) -> OperationMeta {
    let mut parts = id.splitn(3, '.');
    let (service, group, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let parameters: Vec<Value> = params
        .iter()
        .map(|p| json!({"name": p, "key": p, "in": "query", "style": "form", "schema": {"type": "integer"}}))
        .collect();
    serde_json::from_value(json!({
        "id": id, "service": service, "group": group, "name": name, "alias": name,
        "summary": format!("test op {name}"), "method": method, "path": format!("/{group}/{name}"),
        "parameters": parameters,
    }))
    .expect("a valid meta")
}

/// A native operation from a synchronous closure.
pub fn op(
    id: &str,
    method: &str,
    params: &[&str],
    f: impl Fn(Value) -> opdeck::Result<Output> + Send + Sync + 'static,
) -> Arc<NativeOp> {
    let f = Arc::new(f);
    Arc::new(NativeOp {
        meta: meta(id, method, params),
        handler: Arc::new(move |input| {
            let f = f.clone();
            Box::pin(async move { f(input) })
        }),
        calls: Arc::new(AtomicUsize::new(0)),
    })
}

/// A native operation that sleeps, then echoes its input.
pub fn sleepy(id: &str, delay: Duration) -> Arc<NativeOp> {
    Arc::new(NativeOp {
        meta: meta(id, "GET", &[]),
        handler: Arc::new(move |input| {
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                Ok(Output::json(input))
            })
        }),
        calls: Arc::new(AtomicUsize::new(0)),
    })
}

/// The test service `svc`: echo, fail (404 unless `status` given), a write,
/// a slow op, and a list; plus `dracoon.users.list`, paged by offset over
/// 25 users, 10 at a time.
pub struct Fixture {
    pub deck: Deck,
    pub echo: Arc<NativeOp>,
    pub create: Arc<NativeOp>,
    pub paged: Arc<NativeOp>,
}

pub fn fixture() -> Fixture {
    let deck = Deck::empty(Config::default()).expect("a deck");
    let echo = op("svc.things.echo", "GET", &[], |input| Ok(Output::json(input)));
    let fail = op("svc.things.fail", "GET", &[], |input| {
        let status = input.get("status").and_then(Value::as_u64).unwrap_or(404);
        Err(Error::Status {
            operation: "svc.things.fail".into(),
            status: u16::try_from(status).unwrap_or(500),
            body: Box::new(json!({"message": "no such thing"})),
            request_id: None,
            headers: Box::default(),
        })
    });
    let create = op("svc.things.create", "POST", &[], |input| {
        let mut headers = http::HeaderMap::new();
        headers.insert("x-made", http::HeaderValue::from_static("yes"));
        Ok(Output { status: 201, headers, body: opdeck::Body::Json(input) })
    });
    let slow = sleepy("svc.things.slow", Duration::from_millis(100));
    let ops: Vec<Arc<dyn Operation>> = vec![echo.clone(), fail, create.clone(), slow];
    deck.registry().register_operations("svc", "test".into(), ops).expect("registers svc");

    let paged = op("dracoon.users.list", "GET", &["offset", "limit"], |input| {
        let offset = input.get("offset").and_then(Value::as_u64).unwrap_or(0);
        let limit = input.get("limit").and_then(Value::as_u64).unwrap_or(10);
        let items: Vec<Value> = (offset..(offset + limit).min(25)).map(|i| json!({"id": i})).collect();
        Ok(Output::json(json!({"items": items, "range": {"offset": offset, "limit": limit, "total": 25}})))
    });
    let ops: Vec<Arc<dyn Operation>> = vec![paged.clone()];
    deck.registry().register_operations("dracoon", "test".into(), ops).expect("registers dracoon");
    Fixture { deck, echo, create, paged }
}

/// What a run printed, line by line.
#[derive(Clone, Default)]
pub struct Captured {
    pub out: Arc<Mutex<Vec<String>>>,
    pub err: Arc<Mutex<Vec<String>>>,
}

impl Captured {
    pub fn out(&self) -> Vec<String> {
        self.out.lock().map(|v| v.clone()).unwrap_or_default()
    }
    pub fn err(&self) -> Vec<String> {
        self.err.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// An engine over `deck` whose print and log lines are captured.
pub fn engine(deck: &Deck) -> (Engine, Captured) {
    let captured = Captured::default();
    let mut engine = Engine::new(deck.clone());
    let out = captured.out.clone();
    engine.on_print(move |s| out.lock().expect("not poisoned").push(s.to_owned()));
    let err = captured.err.clone();
    engine.on_log(move |s| err.lock().expect("not poisoned").push(s.to_owned()));
    (engine, captured)
}

/// Runs `source` with no arguments.
pub fn run(engine: &Engine, source: &str) -> opdeck::Result<Value> {
    engine.run(source, "test.rhai", &opdeck::script::ScriptArgs::default())
}
