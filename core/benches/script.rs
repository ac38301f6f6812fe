//! What scripting costs on top of the deck.
//!
//! - `script/start`: a run of an empty script (fresh Rhai engine, service
//!   variables, API functions) over 1,413 operations.
//! - `script/discovery`: `ops` and `describe` from a script, start included.
//! - `script/push_1000_calls` (and `_no_size_limits`): what building a list
//!   with `push` in a loop costs under Rhai's data-size limits, and without.
//! - `script/parallel_1000` vs `rust/parallel_1000`: 1,000 HTTP GETs to a
//!   loopback server with 32 in flight, from a Rhai `parallel` and from a Rust
//!   loop over the same deck; the ratio is printed at the end (target ≤ 1.1).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::Criterion;
use futures::StreamExt;
use opdeck::script::{Engine, Limits, ScriptArgs};
use opdeck::{Config, Context, Deck, Operation, OperationMeta, Output};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SERVICES: [&str; 5] = ["seald", "dracoon", "selfprivacy", "wildduck", "kitsu"];
/// The list is made by one `pad`, which Rhai's size limits check once; a
/// `push` loop is checked after every push (see `script/push_1000_calls`).
const PARALLEL_SCRIPT: &str = r#"let calls = []; calls.pad(1000, ["bench.http.get", #{}]); parallel(calls, 32).len()"#;
/// Building the same list with `push` in a loop.
const PUSH_SCRIPT: &str = r#"let calls = []; for i in 0..1000 { calls.push(["bench.http.get", #{}]) } calls.len()"#;

/// An operation that answers from memory (`static`) or GETs the loopback server.
struct BenchOp {
    meta: OperationMeta,
    http: Option<(reqwest::Client, String)>,
}

#[async_trait]
impl Operation for BenchOp {
    fn meta(&self) -> &OperationMeta {
        &self.meta
    }

    async fn invoke(&self, _ctx: &Context, _input: Value) -> opdeck::Result<Output> {
        let Some((client, url)) = &self.http else { return Ok(Output::json(Value::Null)) };
        let transport =
            |e: reqwest::Error| opdeck::Error::Transport { operation: self.meta.id.clone(), message: e.to_string() };
        let bytes = client.get(url).send().await.map_err(transport)?.bytes().await.map_err(transport)?;
        let body = serde_json::from_slice(&bytes)
            .map_err(|e| opdeck::Error::Decode { operation: self.meta.id.clone(), message: e.to_string() })?;
        Ok(Output::json(body))
    }
}

fn meta(service: &str, group: &str, name: &str) -> OperationMeta {
    serde_json::from_value(json!({
        "id": format!("{service}.{group}.{name}"), "service": service, "group": group, "name": name,
        "alias": format!("{service}_{name}"), "summary": format!("{name} of {group}"), "method": "GET",
        "path": format!("/{group}/{name}"),
        "parameters": [{"name": "query", "key": "query", "in": "query", "style": "form", "schema": {"type": "string"}}],
    }))
    .expect("valid meta")
}

/// A keep-alive HTTP/1.1 server on 127.0.0.1 that answers `{"ok":true}`.
async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("has an address");
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                loop {
                    let Ok(n) = conn.read(&mut buf).await else { return };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let reply = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{\"ok\":true}";
                        if conn.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}/")
}

fn deck(url: String) -> Deck {
    let deck = Deck::empty(Config::default()).expect("a deck");
    // 1,413 operations, like the built-in catalogs.
    for (s, service) in SERVICES.iter().enumerate() {
        let count = if s == 0 { 1413 - 4 * 282 } else { 282 };
        let ops: Vec<Arc<dyn Operation>> = (0..count)
            .map(|i| {
                let group = format!("group{}", i % 20);
                Arc::new(BenchOp { meta: meta(service, &group, &format!("getUser{i}")), http: None })
                    as Arc<dyn Operation>
            })
            .collect();
        deck.registry().register_operations(service, "bench".into(), ops).expect("registers");
    }
    let client = reqwest::Client::new();
    let op: Arc<dyn Operation> = Arc::new(BenchOp { meta: meta("bench", "http", "get"), http: Some((client, url)) });
    deck.registry().register_operations("bench", "bench".into(), vec![op]).expect("registers");
    deck
}

fn rust_parallel(deck: &Deck) -> usize {
    let deck = deck.clone();
    opdeck::runtime::block_on(async move {
        let calls = (0..1000).map(|_| {
            let deck = deck.clone();
            async move { tokio::spawn(async move { deck.call("bench.http.get", json!({})).await }).await }
        });
        futures::stream::iter(calls).buffered(32).collect::<Vec<_>>().await.len()
    })
    .expect("not inside a runtime")
}

fn script_parallel(engine: &Engine) -> Value {
    engine.run(PARALLEL_SCRIPT, "bench.rhai", &ScriptArgs::default()).expect("runs")
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let runtime = opdeck::runtime::runtime().expect("a runtime");
    let url = runtime.block_on(serve());
    let deck = deck(url);
    let mut engine = Engine::new(deck.clone());
    engine.on_print(|_| {});
    let args = ScriptArgs::default();
    let mut c = Criterion::default().configure_from_args();

    c.bench_function("script/start", |b| b.iter(|| engine.run("1", "start.rhai", &args).expect("runs")));
    c.bench_function("script/discovery", |b| {
        b.iter(|| {
            engine
                .run(r#"let o = ops("user", #{ service: "wildduck" }); describe(o[0].id).path"#, "d.rhai", &args)
                .expect("runs")
        })
    });
    // Rhai's size limits re-count a whole array (nested values included)
    // after each change, so a push loop is quadratic; without limits it is not.
    c.bench_function("script/push_1000_calls", |b| b.iter(|| engine.run(PUSH_SCRIPT, "p.rhai", &args).expect("runs")));
    let mut unlimited = engine.clone();
    unlimited.set_limits(Limits {
        max_string_size: 0,
        max_array_size: 0,
        max_map_size: 0,
        max_memory: 0,
        ..Limits::default()
    });
    c.bench_function("script/push_1000_calls_no_size_limits", |b| {
        b.iter(|| unlimited.run(PUSH_SCRIPT, "p.rhai", &args).expect("runs"))
    });
    let mut group = c.benchmark_group("parallel_1000");
    group.sample_size(10);
    group.bench_function("script", |b| b.iter(|| script_parallel(&engine)));
    group.bench_function("rust", |b| b.iter(|| rust_parallel(&deck)));
    group.finish();

    // The ratio the issue asks for, from interleaved rounds so both sides
    // see the same machine load.
    let (mut script, mut rust) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t = Instant::now();
        script_parallel(&engine);
        script.push(t.elapsed());
        let t = Instant::now();
        rust_parallel(&deck);
        rust.push(t.elapsed());
    }
    let (script, rust) = (median(script), median(rust));
    println!(
        "parallel_1000: script {script:?}, rust {rust:?}, ratio {:.3} (target <= 1.1)",
        script.as_secs_f64() / rust.as_secs_f64()
    );
    c.final_summary();
}
