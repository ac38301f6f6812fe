//! Lua against Rust on a loopback server: 1,000 sequential calls, and 1,000
//! calls at 64 in flight (`deck:parallel` against `Deck::call_many`).
//!
//! The Lua side is `bench/lua_calls.lua`, run by a stock `lua5.4` through
//! `require "opdeck"` (the module built by `bench/lua.sh`, or wherever
//! `OPDECK_LUA_MODULE` points) and embedded, in this process, as `opdeck
//! run` runs it. The server timestamps the script's `/mark` calls, so the
//! Lua figures leave out interpreter start-up and spec loading, as the Rust
//! figures do. A run of either side is five rounds, and its figure their
//! median. Lua and Rust runs are made in pairs, back to back and in turns
//! which goes first, so that a pair compares runs that saw the same
//! machine; the bench prints the median of the pairs' ratios and their
//! range (`OPDECK_BENCH_PAIRS`, 5 by default).
//!
//! Like is compared with like: the module runs in a `lua5.4` process of its
//! own, so it is compared with Rust calls from a process of their own (this
//! bench started again as a client); embedded Lua runs in this process, so
//! it is compared with Rust calls from this process.
//!
//! Run with `bash bench/lua.sh`: it builds the module in release first, and
//! this bench in the release profile too, so that both sides come out of
//! the same optimizer settings.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opdeck::{Builtins, Deck};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const N: usize = 1000;
const LIMIT: usize = 64;
const ROUNDS: usize = 5;

const BODY: &str = r#"{"success":true,"results":[{"id":"m1","subject":"hello","seen":false},{"id":"m2","subject":"again","seen":true}],"nextCursor":"abc"}"#;

const SPEC: &str = r#"{"openapi": "3.0.3", "info": {"title": "bench", "version": "1"}, "paths": {
 "/users/{user}/messages": {"get": {"operationId": "list", "tags": ["messages"], "parameters": [
   {"name": "user", "in": "path", "required": true, "schema": {"type": "string"}},
   {"name": "limit", "in": "query", "schema": {"type": "integer"}},
   {"name": "page", "in": "query", "schema": {"type": "integer"}}],
  "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
 "/mark": {"get": {"operationId": "mark", "tags": ["messages"],
  "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}}
}}"#;

/// A keep-alive HTTP/1.1 server answering every GET with `BODY`; a request
/// for `/mark` also records when it arrived.
fn server(marks: Arc<Mutex<Vec<Instant>>>) -> String {
    let rt = opdeck::runtime::runtime().expect("runtime");
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr");
    let response =
        format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{BODY}", BODY.len());
    let response: Arc<[u8]> = response.into_bytes().into();
    rt.spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let response = response.clone();
            let marks = marks.clone();
            tokio::spawn(async move {
                let mut buf = Vec::with_capacity(4096);
                let mut chunk = [0u8; 4096];
                loop {
                    match stream.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        if buf.starts_with(b"GET /mark") {
                            marks.lock().expect("marks").push(Instant::now());
                        }
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

fn input(i: usize) -> Value {
    json!({"user": "u1", "limit": 20, "page": i})
}

/// A run's (sequential, concurrent) median round times.
type Figures = (Duration, Duration);

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// (sequential, concurrent) median round times of the Rust side.
fn rust_side(deck: &Deck, id: &str) -> Figures {
    for i in 0..200 {
        deck.call_blocking(id, input(i)).expect("warm-up call");
    }
    let (mut seq, mut conc) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for i in 0..N {
            deck.call_blocking(id, input(i)).expect("call");
        }
        seq.push(t.elapsed());
        let t = Instant::now();
        let calls: Vec<(String, Value)> = (0..N).map(|i| (id.to_owned(), input(i))).collect();
        let results = deck.call_many_blocking(calls, LIMIT).expect("call_many");
        assert!(results.iter().all(Result::is_ok));
        conc.push(t.elapsed());
    }
    (median(seq), median(conc))
}

/// (sequential, concurrent) medians from the marks of one Lua run.
fn lua_side(marks: &Mutex<Vec<Instant>>, run: impl FnOnce() -> bool) -> Option<Figures> {
    marks.lock().expect("marks").clear();
    if !run() {
        return None;
    }
    let m = marks.lock().expect("marks").clone();
    assert_eq!(m.len(), 3 * ROUNDS, "the script marks three times a round");
    let seq = m.chunks(3).map(|c| c[1] - c[0]).collect();
    let conc = m.chunks(3).map(|c| c[2] - c[1]).collect();
    Some((median(seq), median(conc)))
}

/// The ratios of the (Lua, Rust) pairs of one side: each pair is a Lua run and a Rust
/// run made back to back (in turns, which first), so it compares runs that
/// saw the same machine. Prints the median ratio and the range.
fn report(name: &str, pairs: &[(Figures, Figures)]) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let seq: Vec<f64> = pairs.iter().map(|((l, _), (r, _))| l.as_secs_f64() / r.as_secs_f64()).collect();
    let conc: Vec<f64> = pairs.iter().map(|((_, l), (_, r))| r.as_secs_f64() / l.as_secs_f64()).collect();
    let range = |xs: &[f64]| {
        let (lo, hi) = xs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), x| (lo.min(*x), hi.max(*x)));
        format!("{lo:.2}-{hi:.2}")
    };
    for (i, ((ls, lc), (rs, rc))) in pairs.iter().enumerate() {
        println!(
            "{name:<9} pair {i}: sequential {:.1} / {:.1} ms, parallel {:.1} / {:.1} ms (Lua / Rust)",
            ms(*ls),
            ms(*rs),
            ms(*lc),
            ms(*rc)
        );
    }
    let lua_seq = median(pairs.iter().map(|p| p.0.0).collect());
    let lua_conc = median(pairs.iter().map(|p| p.0.1).collect());
    println!(
        "{name:<9} sequential {:>6.1} ms ({:>5.1} µs/call) = {:.3}x the Rust time ({})   \
         parallel@{LIMIT} {:>6.1} ms = {:.3}x the Rust throughput ({}); medians of {} pairs",
        ms(lua_seq),
        lua_seq.as_secs_f64() * 1e6 / N as f64,
        median_f64(seq.clone()),
        range(&seq),
        ms(lua_conc),
        median_f64(conc.clone()),
        range(&conc),
        pairs.len(),
    );
}

fn median_f64(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// `count` (Lua, Rust) pairs of runs, back to back, the first of a pair in
/// turns; it stops at the first Lua run that fails.
fn in_pairs(count: usize, lua: impl Fn() -> Option<Figures>, rust: impl Fn() -> Figures) -> Vec<(Figures, Figures)> {
    let mut pairs = Vec::with_capacity(count);
    for k in 0..count {
        let (lua, rust) = if k % 2 == 0 {
            let rust = rust();
            (lua(), rust)
        } else {
            let lua = lua();
            (lua, rust())
        };
        let Some(lua) = lua else { break };
        pairs.push((lua, rust));
    }
    pairs
}

/// The deck both Lua sides build (`opdeck.new({})`: configuration from the
/// environment and the built-in services), with the bench's spec at `url`.
fn bench_deck(url: &str) -> (Deck, String) {
    let deck = if std::env::var_os("OPDECK_BENCH_BARE").is_some() {
        Deck::builder().builtins(Builtins::None).build().expect("deck")
    } else {
        Deck::builder().load_config(None).build().expect("deck")
    };
    let ids = deck.add_source_blocking("bench", SPEC, Some(url)).expect("spec");
    let id = ids.iter().find(|i| i.ends_with(".list")).expect("list id").clone();
    (deck, id)
}

/// The Rust side from a process of its own, against the server at `url`:
/// this bench started again with `OPDECK_BENCH_CLIENT` set.
fn rust_process(url: &str) -> Figures {
    let out = std::process::Command::new(std::env::current_exe().expect("bench path"))
        .env("OPDECK_BENCH_CLIENT", url)
        .output()
        .expect("the client process");
    assert!(out.status.success(), "client: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let nanos: Vec<u64> = text.split_whitespace().filter_map(|n| n.parse().ok()).collect();
    assert_eq!(nanos.len(), 2, "client printed {text:?}");
    (Duration::from_nanos(nanos[0]), Duration::from_nanos(nanos[1]))
}

fn main() {
    // `cargo bench --no-run` builds this; `cargo test --benches` would run it with `--bench` absent.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Ok(url) = std::env::var("OPDECK_BENCH_CLIENT") {
        let (deck, id) = bench_deck(&url);
        let (seq, conc) = rust_side(&deck, &id);
        println!("{} {}", seq.as_nanos(), conc.as_nanos());
        return;
    }
    let marks = Arc::new(Mutex::new(Vec::new()));
    let url = server(marks.clone());
    // The deck `opdeck.new({})` builds on the Lua side: configuration from the
    // environment and the built-in services.
    let (deck, id) = bench_deck(&url);

    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let module = std::env::var("OPDECK_LUA_MODULE").unwrap_or_else(|_| format!("{root}/target/release"));
    let env = [
        ("OPDECK_BENCH_URL", url.clone()),
        ("OPDECK_BENCH_N", N.to_string()),
        ("OPDECK_BENCH_ROUNDS", ROUNDS.to_string()),
        ("OPDECK_BENCH_LIMIT", LIMIT.to_string()),
        ("OPDECK_BENCH_SPEC", SPEC.to_owned()),
    ];
    // `OPDECK_BENCH_PAIRS=n` takes more pairs for a steadier median.
    let pair_count: usize = std::env::var("OPDECK_BENCH_PAIRS").ok().and_then(|n| n.parse().ok()).unwrap_or(5).max(1);

    // The module, in a lua5.4 process of its own, against Rust calls from a
    // process of their own.
    let so = format!("{module}/libopdeck_lua_module.so");
    if std::path::Path::new(&so).exists() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::os::unix::fs::symlink(&so, dir.path().join("opdeck.so")).expect("symlink");
        let cpath = format!("{}/?.so", dir.path().display());
        let module_run = || {
            lua_side(&marks, || {
                let status = std::process::Command::new("lua5.4")
                    .arg(format!("{root}/bench/lua_calls.lua"))
                    .env("LUA_CPATH", &cpath)
                    .envs(env.iter().map(|(k, v)| (k, v)))
                    .status();
                matches!(status, Ok(s) if s.success())
            })
        };
        let pairs = in_pairs(pair_count, module_run, || rust_process(&url));
        if pairs.len() < pair_count {
            println!("module    lua5.4 failed: is lua5.4 installed?");
        }
        if !pairs.is_empty() {
            report("module", &pairs);
        }
    } else {
        println!("module    not measured: {so} is missing (bash bench/lua.sh builds it)");
    }

    // Embedded Lua, as `opdeck run` runs it, against Rust calls from this process.
    let script = std::fs::read(format!("{root}/bench/lua_calls.lua")).expect("script");
    let args: Vec<String> =
        env.iter().map(|(k, v)| format!("{}={v}", k.trim_start_matches("OPDECK_BENCH_").to_lowercase())).collect();
    let embedded_run = || {
        lua_side(&marks, || {
            let runner = opdeck_lua::embed::Runner::default();
            runner.run(&script, "bench/lua_calls.lua", &args).map_err(|e| eprintln!("embedded: {e}")).is_ok()
        })
    };
    let pairs = in_pairs(pair_count, embedded_run, || rust_side(&deck, &id));
    if !pairs.is_empty() {
        report("embedded", &pairs);
    }
}
