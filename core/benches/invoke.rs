//! `Operation::invoke` against raw reqwest on a loopback server: the cost of
//! validation, request building, retries and decoding over the bare client.
//!
//! Both sides send the same bytes and build their request from the same
//! values on every call: opdeck its JSON input, reqwest its URL.
//!
//! Run with `cargo bench -p opdeck --bench invoke`; after criterion's groups
//! a summary prints throughput ratios and added latency at concurrency 1 and
//! 64, against the bare client (the target) and against reqwest with
//! opdeck's timeouts set (the cost of opdeck's layers beside the timer a
//! total timeout costs any client).

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use opdeck::config::{Config, HttpSettings, ServiceConfig};
use opdeck::engine::HttpOperation;
use opdeck::wire::client::HttpTransport;
use opdeck::{Context, Operation, Registry};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BODY: &str = r#"{"success":true,"results":[{"id":"m1","subject":"hello","seen":false},{"id":"m2","subject":"again","seen":true}],"nextCursor":"abc"}"#;

/// A keep-alive HTTP/1.1 server that answers every GET with the same JSON,
/// on the runtime it is started from.
async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let response =
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}", BODY.len());
    let response: Arc<[u8]> = response.into_bytes().into();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut chunk = [0u8; 4096];
                loop {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        buf.drain(..end + 4);
                        if stream.write_all(&response).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

fn operation() -> HttpOperation {
    let meta = serde_json::from_value(json!({
        "id": "wildduck.messages.list", "service": "bench", "group": "messages", "name": "list", "alias": "list",
        "method": "GET", "path": "/users/{user}/messages",
        "parameters": [
            {"name": "user", "key": "user", "in": "path", "required": true, "style": "simple", "schema": {"type": "string"}},
            {"name": "limit", "key": "limit", "in": "query", "style": "form", "explode": true, "schema": {"type": "integer"}},
            {"name": "page", "key": "page", "in": "query", "style": "form", "explode": true, "schema": {"type": "integer"}}
        ],
        "responses": [{"status": "200", "media": [{"content_type": "application/json"}]}]
    }))
    .expect("meta");
    HttpOperation::new(meta)
}

fn context(base: &str) -> Context {
    let settings = HttpSettings::default();
    let mut config = Config { http: settings.clone(), ..Config::default() };
    config.services.insert("bench".into(), ServiceConfig { base_url: Some(base.to_owned()), ..Default::default() });
    let transport = Arc::new(HttpTransport::with_settings(&settings).expect("transport"));
    Context::new(Arc::new(Registry::new()), transport, Arc::new(config))
}

/// The values of one call. Each side builds its request from them on every
/// call, as a program would: opdeck its JSON input, reqwest its URL.
const USER: &str = "u1";
const LIMIT: u32 = 10;
const PAGE: u32 = 2;

fn input() -> Value {
    json!({"user": black_box(USER), "limit": black_box(LIMIT), "page": black_box(PAGE)})
}

async fn via_opdeck(op: &HttpOperation, ctx: &Context) {
    let out = op.invoke(ctx, input()).await.expect("invoke");
    assert_eq!(out.status, 200);
}

/// The URL of one call, as a program using reqwest alone would write it.
fn raw_url(base: &str) -> String {
    format!("{base}/users/{}/messages?limit={}&page={}", black_box(USER), black_box(LIMIT), black_box(PAGE))
}

async fn via_reqwest(client: &reqwest::Client, base: &str) {
    let resp = client.get(raw_url(base)).header("accept", "application/json").send().await.expect("send");
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = serde_json::from_slice(&resp.bytes().await.expect("body")).expect("json");
    assert!(body.is_object());
}

/// Runs `total` calls with `concurrency` in flight and returns the elapsed time.
async fn run<F, Fut>(concurrency: usize, total: usize, call: F) -> Duration
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let per_task = total / concurrency;
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let call = call.clone();
            tokio::spawn(async move {
                for _ in 0..per_task {
                    call().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    start.elapsed()
}

fn main() {
    // Server and clients share one current-thread runtime. Every run then
    // has the same layout, and a figure is the whole cost of a call on one
    // core: client, server and kernel. On the multi-threaded runtime the
    // server's connection tasks land on one worker or the other, differently
    // for each side and each process, which moved a run's ratio by ±8%:
    // more than the difference being measured. `INVOKE_RT=multi` takes the
    // multi-threaded runtime anyway.
    let rt = if std::env::var("INVOKE_RT").is_ok_and(|v| v == "multi") {
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime")
    } else {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    };
    let base = rt.block_on(server());
    let op = Arc::new(operation());
    let ctx = context(&base);
    // The same request on the wire: opdeck's transport sends its user agent.
    let client =
        reqwest::Client::builder().user_agent(concat!("opdeck/", env!("CARGO_PKG_VERSION"))).build().expect("client");
    let raw_base: Arc<str> = base.as_str().into();

    // `INVOKE_ONLY=opdeck|reqwest INVOKE_CALLS=n` runs n calls of one side
    // (`INVOKE_CONCURRENCY` at a time, 1 by default) and exits, for
    // instruction counting under callgrind (run two counts and divide the
    // difference to get the cost of one call) or sampling with perf.
    // `INVOKE_ONLY=stages` times the work each side does before anything is
    // sent: opdeck builds its input and the request (validation included),
    // reqwest formats its URL and parses it, as `Client::get` does.
    if std::env::var("INVOKE_ONLY").is_ok_and(|v| v == "stages") {
        let calls = 200_000u32;
        let time = |what: &str, f: &mut dyn FnMut()| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            eprintln!("{what}: {:?} per call", start.elapsed() / calls);
        };
        time("opdeck input", &mut || drop(black_box(input())));
        time("opdeck input + request", &mut || drop(black_box(op.dry_run(&ctx, &input()).expect("request"))));
        time("reqwest url", &mut || drop(black_box(raw_url(&raw_base))));
        time("reqwest url + parse", &mut || drop(black_box(reqwest::Url::parse(&raw_url(&raw_base)).expect("url"))));
        return;
    }
    if let Ok(side) = std::env::var("INVOKE_ONLY") {
        let calls: usize = std::env::var("INVOKE_CALLS").ok().and_then(|n| n.parse().ok()).unwrap_or(1000);
        let concurrency: usize =
            std::env::var("INVOKE_CONCURRENCY").ok().and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
        let elapsed = if side == "opdeck" {
            let (op, ctx) = (op.clone(), ctx.clone());
            rt.block_on(run(concurrency, calls, move || {
                let (op, ctx) = (op.clone(), ctx.clone());
                async move { via_opdeck(&op, &ctx).await }
            }))
        } else {
            let (client, raw_base) = (client.clone(), raw_base.clone());
            rt.block_on(run(concurrency, calls, move || {
                let (client, raw_base) = (client.clone(), raw_base.clone());
                async move { via_reqwest(&client, &raw_base).await }
            }))
        };
        eprintln!("{side}: {calls} calls, {concurrency} at a time, in {elapsed:?}");
        return;
    }

    let mut c = Criterion::default().configure_from_args().measurement_time(Duration::from_secs(3)).sample_size(30);
    let mut group = c.benchmark_group("invoke_c1");
    group.throughput(Throughput::Elements(1));
    group.bench_function("opdeck", |b| b.to_async(&rt).iter(|| via_opdeck(&op, &ctx)));
    group.bench_function("reqwest", |b| b.to_async(&rt).iter(|| via_reqwest(&client, &raw_base)));
    group.finish();
    {
        let concurrency = 64usize;
        let mut group = c.benchmark_group(format!("invoke_c{concurrency}"));
        group.throughput(Throughput::Elements(concurrency as u64));
        let (op2, ctx2) = (op.clone(), ctx.clone());
        group.bench_function("opdeck", |b| {
            b.to_async(&rt).iter(|| {
                let (op, ctx) = (op2.clone(), ctx2.clone());
                async move {
                    let calls = (0..concurrency).map(|_| {
                        let (op, ctx) = (op.clone(), ctx.clone());
                        async move { via_opdeck(&op, &ctx).await }
                    });
                    futures::future::join_all(calls).await;
                }
            })
        });
        let (client2, raw_base2) = (client.clone(), raw_base.clone());
        group.bench_function("reqwest", |b| {
            b.to_async(&rt).iter(|| {
                let (client, raw_base) = (client2.clone(), raw_base2.clone());
                async move {
                    let calls = (0..concurrency).map(|_| {
                        let (client, raw_base) = (client.clone(), raw_base.clone());
                        async move { via_reqwest(&client, &raw_base).await }
                    });
                    futures::future::join_all(calls).await;
                }
            })
        });
        group.finish();
    }
    c.final_summary();

    // Summary: the same work measured directly in many short rounds. In each
    // round every side runs once, back to back, in an order that rotates, so
    // the ratio of a round compares runs that saw the same machine load. The
    // ratio and the added latency are medians of the rounds' own; the rates
    // are the median rounds' of each side. The target is judged
    // against the bare client. The third side is reqwest with opdeck's
    // default timeouts set, which costs it a timer per call as opdeck's total
    // timeout does: the ratio against it is the cost of opdeck's own layers.
    let settings = HttpSettings::default();
    let timed = reqwest::Client::builder()
        .user_agent(concat!("opdeck/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(settings.connect_timeout)
        .timeout(settings.timeout)
        .build()
        .expect("client");
    // `INVOKE_ROUNDS=n` takes more rounds for a steadier median.
    let rounds: usize = std::env::var("INVOKE_ROUNDS").ok().and_then(|n| n.parse().ok()).unwrap_or(61).max(1);
    for (concurrency, per_round) in [(1usize, 400usize), (64, 3200)] {
        let mut times: [Vec<Duration>; 3] = Default::default();
        for round in 0..rounds {
            for k in 0..3 {
                let side = (round + k) % 3;
                let elapsed = if side == 0 {
                    let (op, ctx) = (op.clone(), ctx.clone());
                    rt.block_on(run(concurrency, per_round, move || {
                        let (op, ctx) = (op.clone(), ctx.clone());
                        async move { via_opdeck(&op, &ctx).await }
                    }))
                } else {
                    let client = if side == 1 { client.clone() } else { timed.clone() };
                    let raw_base = raw_base.clone();
                    rt.block_on(run(concurrency, per_round, move || {
                        let (client, raw_base) = (client.clone(), raw_base.clone());
                        async move { via_reqwest(&client, &raw_base).await }
                    }))
                };
                times[side].push(elapsed);
            }
        }
        // Per call, in µs: a call's latency is its round's time shared out
        // over the calls in flight.
        let per = |d: &Duration| d.as_secs_f64() * 1e6 * concurrency as f64 / per_round as f64;
        // The round-by-round throughput ratio and added latency against `raw`.
        let paired = |raw: &[Duration]| {
            let pairs = raw.iter().zip(&times[0]);
            let ratio = median_f64(pairs.clone().map(|(r, o)| r.as_secs_f64() / o.as_secs_f64()).collect());
            let added = median_f64(pairs.map(|(r, o)| per(o) - per(r)).collect());
            (100.0 * ratio, added)
        };
        let ((vs_raw, added), (vs_timed, added_timed)) = (paired(&times[1]), paired(&times[2]));
        let [ours, raw, raw_timed] = times.map(median);
        let rate = |d: Duration| per_round as f64 / d.as_secs_f64();
        println!(
            "c={concurrency}: opdeck {:.0} req/s, reqwest {:.0} req/s, throughput ratio {vs_raw:.1}%, latency {:.1} µs vs {:.1} µs (+{added:.1} µs)",
            rate(ours),
            rate(raw),
            per(&ours),
            per(&raw),
        );
        println!(
            "c={concurrency}: against reqwest with the same timeouts: {:.0} req/s, throughput ratio {vs_timed:.1}%, latency +{added_timed:.1} µs",
            rate(raw_timed),
        );
    }
}

fn median_f64(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}
