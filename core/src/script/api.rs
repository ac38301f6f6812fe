//! The functions a script calls: operations (`call`, `call_full`,
//! `paginate`, `parallel`), discovery (`ops`, `describe`), and the host
//! (`env`, `log`, `read_json`, `read_csv`). See the module docs of
//! [`crate::script`] for the script-side reference.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use rhai::{Array, Dynamic, FnPtr, INT, Map, NativeCallContext};
use serde_json::Value;

use super::convert;
use super::errors;
use super::host::{Host, RhaiResult};
use crate::engine::Filter;
use crate::engine::{PageLimits, Pager};
use crate::error::Error;
use crate::model::Method;

/// The registered name behind the script's `call`.
pub(crate) const CALL_FN: &str = "opdeck_call";

/// Registers every function of the script API on `engine`.
pub(crate) fn register(engine: &mut rhai::Engine, host: &Arc<Host>) {
    // `call` is Rhai's own name for calling a function pointer, resolved
    // before registered functions; the engine renames the identifier to
    // `CALL_FN` when it parses, and `CALL_FN` serves both meanings.
    let h = host.clone();
    engine.register_fn(CALL_FN, move |id: &str| call(&h, id, Dynamic::UNIT));
    let h = host.clone();
    engine.register_fn(CALL_FN, move |id: &str, input: Dynamic| call(&h, id, input));
    engine.register_fn(CALL_FN, |ctx: NativeCallContext, f: &mut FnPtr| f.call_within_context::<Dynamic>(&ctx, ()));
    engine.register_fn(CALL_FN, |ctx: NativeCallContext, f: &mut FnPtr, a: Dynamic| {
        f.call_within_context::<Dynamic>(&ctx, (a,))
    });
    engine.register_fn(CALL_FN, |ctx: NativeCallContext, f: &mut FnPtr, a: Dynamic, b: Dynamic| {
        f.call_within_context::<Dynamic>(&ctx, (a, b))
    });
    engine.register_fn(CALL_FN, |ctx: NativeCallContext, f: &mut FnPtr, a: Dynamic, b: Dynamic, c: Dynamic| {
        f.call_within_context::<Dynamic>(&ctx, (a, b, c))
    });
    let h = host.clone();
    engine.register_fn("call_full", move |id: &str| call_full(&h, id, Dynamic::UNIT));
    let h = host.clone();
    engine.register_fn("call_full", move |id: &str, input: Dynamic| call_full(&h, id, input));
    // The target of service-style calls (`wildduck.users.getUsers(..)`): the
    // group map comes first as `this`, then the curried id.
    let h = host.clone();
    engine.register_fn(super::services::OP_FN, move |_: &mut Map, id: &str| call(&h, id, Dynamic::UNIT));
    let h = host.clone();
    engine.register_fn(super::services::OP_FN, move |_: &mut Map, id: &str, input: Dynamic| call(&h, id, input));

    let h = host.clone();
    engine.register_fn("paginate", move |id: &str| paginate(&h, id, Dynamic::UNIT, Map::new()));
    let h = host.clone();
    engine.register_fn("paginate", move |id: &str, input: Dynamic| paginate(&h, id, input, Map::new()));
    let h = host.clone();
    engine.register_fn("paginate", move |id: &str, input: Dynamic, opts: Map| paginate(&h, id, input, opts));
    engine.register_type_with_name::<Items>("Items").register_iterator_result::<Items, Dynamic>();
    let h = host.clone();
    engine.register_fn("items", move |id: &str| items(&h, id, Dynamic::UNIT, Map::new()));
    let h = host.clone();
    engine.register_fn("items", move |id: &str, input: Dynamic| items(&h, id, input, Map::new()));
    let h = host.clone();
    engine.register_fn("items", move |id: &str, input: Dynamic, opts: Map| items(&h, id, input, opts));

    let h = host.clone();
    engine.register_fn("parallel", move |calls: Array, limit: INT| parallel(&h, calls, limit, false));
    let h = host.clone();
    engine.register_fn("parallel_settled", move |calls: Array, limit: INT| parallel(&h, calls, limit, true));

    let h = host.clone();
    engine.register_fn("ops", move || ops(&h, "", Map::new()));
    let h = host.clone();
    engine.register_fn("ops", move |query: &str| ops(&h, query, Map::new()));
    let h = host.clone();
    engine.register_fn("ops", move |query: &str, filter: Map| ops(&h, query, filter));
    let h = host.clone();
    engine.register_fn("describe", move |id: &str| describe(&h, id));
    let h = host.clone();
    engine.register_fn("services", move || services(&h));

    // Polling scripts wait between reads; the wait counts against the wall time.
    let h = host.clone();
    engine.register_fn("sleep", move |ms: INT| sleep(&h, ms));
    let h = host.clone();
    engine.register_fn("env", move |name: &str| env(&h, name));
    let h = host.clone();
    engine.register_fn("log", move |msg: &str| (h.err)(&format!("[info] {msg}")));
    let h = host.clone();
    engine.register_fn("log", move |level: &str, msg: &str| log(&h, level, msg));
    super::files::register(engine, host);
    super::dracoon::register(engine);
}

fn input_value(id: &str, input: &Dynamic) -> RhaiResult<Value> {
    match convert::to_value_named(input, &|| format!("the input of `{id}`")) {
        Ok(Value::Null) => Ok(Value::Object(Default::default())),
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(other) => Host::fail(Error::usage(format!(
            "the input of `{id}` must be an object map (`#{{..}}`), not {}",
            json_type(&other)
        ))),
        Err(e) => Host::fail(e),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "()",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "a map",
    }
}

fn call(host: &Host, id: &str, input: Dynamic) -> RhaiResult<Dynamic> {
    let input = input_value(id, &input)?;
    match host.skip_in_dry_run(id, &input) {
        Ok(Some(placeholder)) => return Ok(convert::to_dynamic(placeholder)),
        Ok(None) => {}
        Err(e) => return Host::fail(e),
    }
    host.block(host.deck.call(id, input)).map(|body| convert::to_dynamic(body.into_value()))
}

fn call_full(host: &Host, id: &str, input: Dynamic) -> RhaiResult<Dynamic> {
    let input = input_value(id, &input)?;
    match host.skip_in_dry_run(id, &input) {
        Ok(Some(placeholder)) => {
            return Ok(convert::to_dynamic(serde_json::json!({"status": 0, "headers": {}, "body": placeholder})));
        }
        Ok(None) => {}
        Err(e) => return Host::fail(e),
    }
    host.block(host.deck.call_full(id, input)).map(|out| convert::to_dynamic(out.into_value()))
}

fn page_limits(opts: &Map) -> RhaiResult<PageLimits> {
    let cap = |key: &str| -> RhaiResult<Option<u64>> {
        match opts.get(key) {
            None => Ok(None),
            Some(v) => match v.as_int().ok().and_then(|n| u64::try_from(n).ok()) {
                Some(n) => Ok(Some(n)),
                None => Host::fail(Error::usage(format!("paginate option `{key}` must be a non-negative integer"))),
            },
        }
    };
    if let Some(unknown) = opts.keys().find(|k| !matches!(k.as_str(), "max_pages" | "max_items")) {
        return Host::fail(Error::usage(format!(
            "unknown paginate option `{unknown}`; the options are `max_pages` and `max_items`"
        )));
    }
    Ok(PageLimits { max_pages: cap("max_pages")?, max_items: cap("max_items")? })
}

fn pager(host: &Host, id: &str, input: Dynamic, opts: Map) -> RhaiResult<Pager> {
    let input = input_value(id, &input)?;
    let limits = page_limits(&opts)?;
    host.deck.pager(id, input, limits).or_else(Host::fail)
}

fn paginate(host: &Host, id: &str, input: Dynamic, opts: Map) -> RhaiResult<Array> {
    let pager = pager(host, id, input, opts)?;
    let all = host.block(pager.collect())?;
    Ok(all.into_iter().map(convert::to_dynamic).collect())
}

/// A lazy sequence of every item of a list operation: `for x in items(..)`
/// fetches one page at a time.
#[derive(Clone)]
pub struct Items {
    state: Arc<Mutex<ItemsState>>,
}

struct ItemsState {
    host: Arc<Host>,
    pager: Pager,
    buffer: VecDeque<Value>,
    done: bool,
}

fn items(host: &Arc<Host>, id: &str, input: Dynamic, opts: Map) -> RhaiResult<Items> {
    let pager = pager(host, id, input, opts)?;
    let state = ItemsState { host: host.clone(), pager, buffer: VecDeque::new(), done: false };
    Ok(Items { state: Arc::new(Mutex::new(state)) })
}

impl Iterator for Items {
    type Item = RhaiResult<Dynamic>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = &mut *guard;
        loop {
            if let Some(item) = state.buffer.pop_front() {
                return Some(Ok(convert::to_dynamic(item)));
            }
            if state.done {
                return None;
            }
            match state.host.block(state.pager.next_page()) {
                Ok(Some(page)) => state.buffer.extend(page),
                Ok(None) => state.done = true,
                Err(e) => {
                    state.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// One `[id, input]` pair of a `parallel` list.
fn parse_calls(calls: Array) -> RhaiResult<Vec<(String, Value)>> {
    let mut out = Vec::with_capacity(calls.len());
    for (i, item) in calls.into_iter().enumerate() {
        let bad = || Host::fail(Error::usage(format!("parallel: item {i} must be an array `[id, input]` or `[id]`")));
        // Read in place: copying each pair costs as much as the rest of the check.
        let Some(pair) = item.read_lock::<Array>() else { return bad() };
        let id = match pair.first().and_then(|d| d.clone().into_string().ok()) {
            Some(id) if pair.len() <= 2 => id,
            _ => return bad(),
        };
        let input = input_value(&id, pair.get(1).unwrap_or(&Dynamic::UNIT))?;
        out.push((id, input));
    }
    Ok(out)
}

fn parallel(host: &Host, calls: Array, limit: INT, settled: bool) -> RhaiResult<Array> {
    let Some(limit) = usize::try_from(limit).ok().filter(|l| *l > 0) else {
        return Host::fail(Error::usage(format!("parallel: the limit must be at least 1, not {limit}")));
    };
    let calls = parse_calls(calls)?;
    // In a dry run, writes are answered here; in settled mode a failed check
    // (an unknown id) is that item's error, otherwise it stops the batch.
    let mut planned = Vec::with_capacity(calls.len());
    for (id, input) in calls {
        match host.skip_in_dry_run(&id, &input) {
            Ok(Some(placeholder)) => planned.push(Plan::Done(Ok(placeholder))),
            Ok(None) => planned.push(Plan::Send(id, input)),
            Err(e) if settled => planned.push(Plan::Done(Err(e))),
            Err(e) => return Host::fail(e),
        }
    }
    let deck = host.deck.clone();
    let results: Vec<Result<Value, Error>> = host.block(async move {
        let tasks = planned.into_iter().map(|plan| {
            let deck = deck.clone();
            async move {
                match plan {
                    Plan::Done(result) => result,
                    Plan::Send(id, input) => {
                        // A task per call, so calls run on every worker
                        // thread, not only interleaved on this one.
                        let task =
                            tokio::spawn(
                                async move { deck.call(&id, input).await.map(crate::model::Body::into_value) },
                            );
                        task.await.unwrap_or_else(|e| Err(Error::usage(format!("a parallel call panicked: {e}"))))
                    }
                }
            }
        });
        Ok(futures::stream::iter(tasks).buffered(limit).collect::<Vec<_>>().await)
    })?;
    if settled {
        return Ok(results
            .into_iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("ok".into(), r.is_ok().into());
                match r {
                    Ok(v) => m.insert("value".into(), convert::to_dynamic(v)),
                    Err(e) => m.insert("error".into(), errors::to_dynamic(&e)),
                };
                Dynamic::from_map(m)
            })
            .collect());
    }
    let mut out = Array::with_capacity(results.len());
    for r in results {
        match r {
            Ok(v) => out.push(convert::to_dynamic(v)),
            Err(e) => return Host::fail(e),
        }
    }
    Ok(out)
}

/// What happens to one item of a `parallel` list.
enum Plan {
    /// Send the call.
    Send(String, Value),
    /// Already answered (dry run, or a failed check).
    Done(Result<Value, Error>),
}

fn filter_from(map: &Map) -> RhaiResult<Filter> {
    let mut filter = Filter::default();
    for (key, value) in map {
        let text = || value.clone().into_string().ok();
        match key.as_str() {
            "service" => filter.service = text(),
            "group" => filter.group = text(),
            "method" => filter.method = text().and_then(|m| Method::parse(&m)),
            "read_only" => filter.read_only = value.as_bool().unwrap_or(false),
            "deprecated" => filter.deprecated = value.as_bool().ok(),
            "since" => filter.since = text(),
            other => {
                return Host::fail(Error::usage(format!(
                    "unknown ops filter `{other}`; the filters are service, group, method, read_only, deprecated, since"
                )));
            }
        }
    }
    Ok(filter)
}

fn ops(host: &Host, query: &str, filter: Map) -> RhaiResult<Array> {
    let filter = filter_from(&filter)?;
    let found = host.deck.registry().search(query, &filter);
    Ok(found
        .iter()
        .map(|op| {
            let m = op.head();
            let mut map = Map::new();
            map.insert("id".into(), m.id.into());
            map.insert("alias".into(), m.alias.into());
            map.insert("method".into(), m.method.as_str().into());
            map.insert("path".into(), m.path.into());
            map.insert("summary".into(), m.summary.into());
            map.insert("deprecated".into(), m.deprecated.into());
            Dynamic::from_map(map)
        })
        .collect())
}

/// `services()`: `[#{name, operations, origin}]`, in the deck's order.
fn services(host: &Host) -> Array {
    host.deck
        .registry()
        .services()
        .into_iter()
        .map(|s| {
            let mut map = Map::new();
            map.insert("name".into(), s.name.into());
            map.insert("operations".into(), Dynamic::from_int(INT::try_from(s.operations).unwrap_or(INT::MAX)));
            map.insert("origin".into(), s.origin.into());
            Dynamic::from_map(map)
        })
        .collect()
}

fn describe(host: &Host, id: &str) -> RhaiResult<Dynamic> {
    let op = host.deck.registry().get(id).or_else(Host::fail)?;
    Ok(convert::to_dynamic(op.meta().describe()))
}

fn sleep(host: &Host, ms: INT) -> RhaiResult<()> {
    let ms = u64::try_from(ms).unwrap_or(0);
    host.block(async move {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        Ok::<(), Error>(())
    })
}

fn log(host: &Host, level: &str, msg: &str) -> RhaiResult<()> {
    let level = level.to_ascii_lowercase();
    if !matches!(level.as_str(), "trace" | "debug" | "info" | "warn" | "error") {
        return Host::fail(Error::usage(format!(
            "log: unknown level `{level}`; use trace, debug, info, warn or error"
        )));
    }
    (host.err)(&format!("[{level}] {msg}"));
    Ok(())
}

/// `env(name)`: an allowed variable's value, `()` when it is unset; a name
/// the caller did not allow is an error, not a silent `()`.
fn env(host: &Host, name: &str) -> RhaiResult<Dynamic> {
    if !host.allow_env.iter().any(|allowed| allowed == name) {
        let message = format!(
            "env(\"{name}\"): this script may not read environment variable `{name}`; \
             the caller allows it (`opdeck run --allow-env {name}`, or `Engine::allow_env` when embedding)"
        );
        return Err(super::errors::throw(&Error::usage(message)));
    }
    Ok(std::env::var(name).map_or(Dynamic::UNIT, Dynamic::from))
}
