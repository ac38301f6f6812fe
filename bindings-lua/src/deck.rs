//! The native half of the Lua API: one function per facade call, each
//! converting its arguments, calling [`opdeck::Deck`] and converting back.
//!
//! Every function returns `ok, value`: `true` and the result, or `false` and
//! an error table. The Lua glue (`opdeck.lua`) raises the table, because a
//! Rust callback can only raise mlua's own error userdata and `pcall` should
//! hand scripts a table.
//!
//! # Waiting
//!
//! Blocking functions wait in [`wait`]: one call is driven by the Lua
//! thread itself, `deck:parallel` of pairs by the shared runtime, in the
//! module and in an embedded main chunk alike. Operations registered from
//! Lua (`deck:operation`) are answered on the Lua thread: their Rust side
//! sends each call over a channel, and whoever waits (a blocking call, or
//! the embedded executor of `deck:parallel` with functions) serves it
//! between polls, so a call from Lua that reaches a Lua operation never
//! deadlocks. Embedded, every wait ends at the run's deadline
//! ([`bounded`]). The async twins (embedded only) are polled by that
//! executor, inside the runtime's context.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::pin;
use std::time::Instant;

use futures::StreamExt;
use futures::future::{Either, select};
use mlua::{AnyUserData, Function, Lua, Table, UserData, UserDataRef, Value as LuaValue, Variadic};
use opdeck::runtime::Driver;
use opdeck::{Body, CallOptions, Deck, Output};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::{convert, error};

/// A deck as Lua holds it.
pub(crate) struct DeckHandle(pub(crate) Deck);
impl UserData for DeckHandle {}

/// A page iterator as Lua holds it: the pages' items are handed out one by one.
pub(crate) struct PagerHandle {
    pager: RefCell<opdeck::Pager>,
    buffer: RefCell<VecDeque<Value>>,
    done: std::cell::Cell<bool>,
}
impl UserData for PagerHandle {}

/// What a native function returns to the glue.
pub(crate) type Ret = mlua::Result<(bool, LuaValue)>;

pub(crate) fn ok(v: LuaValue) -> Ret {
    Ok((true, v))
}

pub(crate) fn fail(lua: &Lua, err: &opdeck::Error) -> Ret {
    Ok((false, LuaValue::Table(error::to_table(lua, err)?)))
}

/// A bad argument, raised as a `usage` error table.
pub(crate) fn usage(lua: &Lua, err: &mlua::Error) -> Ret {
    Ok((false, LuaValue::Table(error::usage(lua, error::lua_message(err))?)))
}

/// The wall-time end of an embedded run: the instant, and the limit it
/// came from (named in the error).
#[derive(Clone, Copy)]
pub(crate) struct Deadline(pub(crate) Instant, pub(crate) std::time::Duration);

/// Which limit ended an embedded run, kept past the script's own `pcall`.
#[derive(Default)]
pub(crate) struct Tripped(pub(crate) RefCell<Option<opdeck::Error>>);

/// Ends the embedded run at a limit: records `err` as the limit that
/// tripped (unless one already did) and makes every instruction of the
/// running Lua thread fail from now on, so a `pcall` that catches the error
/// cannot go on. Returns the error's message.
pub(crate) fn trip(lua: &Lua, err: opdeck::Error) -> String {
    let message = err.to_string();
    if let Some(t) = lua.app_data_ref::<Tripped>() {
        t.0.borrow_mut().get_or_insert(err);
        let again = message.clone();
        let _ = lua.current_thread().set_hook(mlua::HookTriggers::new().every_nth_instruction(1), move |_, _| {
            Err(mlua::Error::runtime(again.clone()))
        });
    }
    message
}

/// The error of a run whose wall time, `limit`, ran out.
pub(crate) fn wall_time(limit: std::time::Duration) -> opdeck::Error {
    opdeck::Error::Limit { limit: "wall_time".into(), detail: format!("{limit:?}") }
}

/// A call of a Lua-registered operation, sent to the Lua thread.
pub(crate) struct PluginCall {
    pub(crate) id: String,
    pub(crate) input: Value,
    pub(crate) reply: oneshot::Sender<opdeck::Result<Value>>,
}

/// The Lua operations of one Lua state and the channel their calls come in on.
pub(crate) struct Plugins {
    tx: mpsc::UnboundedSender<PluginCall>,
    pub(crate) rx: RefCell<mpsc::UnboundedReceiver<PluginCall>>,
    pub(crate) handlers: RefCell<HashMap<String, Function>>,
}

/// The next plugin call, polled without holding the receiver across polls.
pub(crate) async fn next_call(plugins: &Plugins) -> Option<PluginCall> {
    std::future::poll_fn(|cx| plugins.rx.borrow_mut().poll_recv(cx)).await
}

/// Runs `fut` to its end, blocking this thread, and serves calls of Lua
/// operations meanwhile. One call is driven by this thread itself, many at
/// once by the shared runtime ([`Driver`]).
pub(crate) fn wait<F: Future>(lua: &Lua, driver: Driver, fut: F) -> opdeck::Result<F::Output> {
    let fut = bounded(lua, fut);
    let plugins = lua.app_data_ref::<Plugins>();
    let Some(plugins) = plugins.filter(|p| !p.handlers.borrow().is_empty()) else {
        return block(driver, fut)?;
    };
    let mut fut = pin!(fut);
    loop {
        let step = block(driver, async {
            match select(fut.as_mut(), pin!(next_call(&plugins))).await {
                Either::Left((out, _)) => Either::Left(out),
                Either::Right((call, _)) => Either::Right(call),
            }
        })?;
        match step {
            Either::Left(out) => return out,
            Either::Right(Some(call)) => serve_blocking(lua, &plugins, call),
            Either::Right(None) => return block(driver, fut)?,
        }
    }
}

/// Blocks on `fut` as `driver` says, or, inside the embedded executor (which
/// drives this thread's runtime), beside it on the shared runtime.
pub(crate) fn block<F: Future>(driver: Driver, fut: F) -> opdeck::Result<F::Output> {
    if opdeck::runtime::driven_here() { opdeck::runtime::block_on_nested(fut) } else { driver.block_on(fut) }
}

/// `fut`, ended at the embedded run's deadline, if it has one, by a wall-time
/// error that also ends the run ([`trip`]).
pub(crate) async fn bounded<F: Future>(lua: &Lua, fut: F) -> opdeck::Result<F::Output> {
    let deadline = lua.app_data_ref::<Deadline>().map(|d| *d);
    match deadline {
        None => Ok(fut.await),
        Some(Deadline(at, limit)) => tokio::time::timeout_at(at.into(), fut).await.map_err(|_| {
            trip(lua, wall_time(limit));
            wall_time(limit)
        }),
    }
}

/// Calls a Lua operation's function on this thread and sends back its answer.
fn serve_blocking(lua: &Lua, plugins: &Plugins, call: PluginCall) {
    let handler = plugins.handlers.borrow().get(&call.id).cloned();
    let answer = match handler {
        None => Err(opdeck::Error::usage(format!("no Lua function serves `{}`", call.id))),
        Some(f) => convert::to_lua(lua, &call.input)
            .and_then(|input| f.call::<LuaValue>(input))
            .and_then(|out| convert::from_lua(lua, out))
            .map_err(|e| error::from_lua_error(&e, Some(&call.id))),
    };
    let _ = call.reply.send(answer);
}

/// The options of the binding's calls: JSON bodies come undecoded, and
/// [`body_to_lua`] reads them straight into Lua tables.
pub(crate) static RAW_JSON: CallOptions = CallOptions {
    content_type: None,
    download_to: None,
    force_retry: false,
    mock: false,
    timeout: None,
    raw_json: true,
};

/// A body as Lua: JSON converted, text and bytes as strings, nothing as
/// `nil`. A JSON body that does not parse is a decode error of `operation`.
pub(crate) fn body_to_lua(lua: &Lua, operation: &str, body: Body) -> mlua::Result<opdeck::Result<LuaValue>> {
    Ok(Ok(match body {
        Body::Empty => LuaValue::Nil,
        Body::Json(v) => convert::to_lua(lua, &v)?,
        Body::RawJson(text) => match convert::json_to_lua(lua, &text)? {
            Ok(v) => v,
            Err(e) => return Ok(Err(not_json(operation, &e))),
        },
        Body::Text(s) => LuaValue::String(lua.create_string(&s)?),
        Body::Bytes(b) => LuaValue::String(lua.create_string(&b)?),
        other => convert::to_lua(lua, &other.into_value())?,
    }))
}

/// The error of a JSON body of `operation` that does not parse.
fn not_json(operation: &str, err: &serde_json::Error) -> opdeck::Error {
    opdeck::Error::Decode { operation: operation.to_owned(), message: format!("invalid json: {err}") }
}

/// A call's answer: its body as Lua, or its error's table.
pub(crate) fn body_ret(lua: &Lua, operation: &str, result: opdeck::Result<Body>) -> Ret {
    answer(lua, result, |body| body_to_lua(lua, operation, body))
}

/// A `call_full` answer: its output as Lua, or its error's table.
pub(crate) fn output_ret(lua: &Lua, operation: &str, result: opdeck::Result<Output>) -> Ret {
    answer(lua, result, |out| output_to_lua(lua, operation, out))
}

/// `result` converted, or the error's table, whether the call failed or
/// its answer did not convert (a body that does not parse).
fn answer<T>(
    lua: &Lua,
    result: opdeck::Result<T>,
    convert: impl FnOnce(T) -> mlua::Result<opdeck::Result<LuaValue>>,
) -> Ret {
    match result.map(convert) {
        Ok(converted) => match converted? {
            Ok(v) => ok(v),
            Err(e) => fail(lua, &e),
        },
        Err(e) => fail(lua, &e),
    }
}

/// An output as `{ status, headers = { [lowercase name] = value }, body }`.
fn output_to_lua(lua: &Lua, operation: &str, out: Output) -> mlua::Result<opdeck::Result<LuaValue>> {
    let t = lua.create_table_with_capacity(0, 3)?;
    t.raw_set("status", out.status)?;
    let headers = lua.create_table_with_capacity(0, out.headers.len())?;
    for name in out.headers.keys() {
        let values: Vec<&str> = out.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).collect();
        headers.raw_set(name.as_str(), values.join(", "))?;
    }
    t.raw_set("headers", headers)?;
    match body_to_lua(lua, operation, out.body)? {
        Ok(body) => t.raw_set("body", body)?,
        Err(e) => return Ok(Err(e)),
    }
    Ok(Ok(LuaValue::Table(t)))
}

/// A call's input: a Lua value as JSON, `nil` as `{}`.
pub(crate) fn input(lua: &Lua, value: LuaValue) -> mlua::Result<Value> {
    match value {
        LuaValue::Nil => Ok(Value::Object(Default::default())),
        v => convert::from_lua(lua, v),
    }
}

/// `deck:parallel` of `{id, input}` pairs: one `Deck::call_each`, and its
/// results as one list: bodies, `opdeck.null` for an empty body (a hole
/// would cut the list short), error tables for failures. They are
/// converted as they arrive, while the calls after them are still running;
/// the JSON bodies that arrived together go into Lua in one protected call.
pub(crate) async fn fan_out(lua: &Lua, deck: &Deck, calls: Vec<(String, Value)>, limit: usize) -> mlua::Result<Table> {
    let ids: Vec<String> = calls.iter().map(|(id, _)| id.clone()).collect();
    let results = deck.call_each_with(calls, limit, &RAW_JSON);
    let t = lua.create_table_with_capacity(ids.len(), 0)?;
    let mut arrived = pin!(results.ready_chunks(64));
    let mut done = 0;
    while done < ids.len() {
        let Some(chunk) = arrived.next().await else { break };
        let count = chunk.len().min(ids.len() - done);
        set_results(lua, &t, done, &ids[done..done + count], chunk)?;
        done += count;
    }
    Ok(t)
}

/// Sets the results of the calls `ids` into `t` from index `done + 1` on.
fn set_results(
    lua: &Lua,
    t: &Table,
    done: usize,
    ids: &[String],
    chunk: Vec<opdeck::Result<Body>>,
) -> mlua::Result<()> {
    let mut bodies = Vec::with_capacity(chunk.len());
    for ((k, id), result) in ids.iter().enumerate().zip(chunk) {
        match result {
            Ok(Body::RawJson(text)) => bodies.push((done + k + 1, text)),
            other => t.raw_set(done + k + 1, slot_to_lua(lua, id, other)?)?,
        }
    }
    let texts: Vec<(usize, &[u8])> = bodies.iter().map(|(i, text)| (*i, &text[..])).collect();
    for (i, e) in convert::json_texts_into(lua, t, &texts)? {
        t.raw_set(i, error::to_table(lua, &not_json(&ids[i - done - 1], &e))?)?;
    }
    Ok(())
}

/// One result of `deck:parallel`: its body, `opdeck.null` when empty, the
/// error's table when the call failed or its body does not parse.
pub(crate) fn slot_to_lua(lua: &Lua, operation: &str, result: opdeck::Result<Body>) -> mlua::Result<LuaValue> {
    let converted = match result {
        Ok(Body::Empty) => return Ok(convert::null()),
        Ok(body) => body_to_lua(lua, operation, body)?,
        Err(e) => Err(e),
    };
    Ok(match converted {
        Ok(v) => v,
        Err(e) => LuaValue::Table(error::to_table(lua, &e)?),
    })
}

fn limits(opts: Option<Table>) -> mlua::Result<opdeck::PageLimits> {
    let Some(opts) = opts else { return Ok(opdeck::PageLimits::default()) };
    Ok(opdeck::PageLimits { max_pages: opts.get("max_pages")?, max_items: opts.get("max_items")? })
}

fn filter(opts: Option<Table>) -> mlua::Result<opdeck::Filter> {
    let Some(o) = opts else { return Ok(opdeck::Filter::default()) };
    let method: Option<String> = o.get("method")?;
    Ok(opdeck::Filter {
        service: o.get("service")?,
        group: o.get("group")?,
        deprecated: o.get("deprecated")?,
        method: method
            .map(|m| {
                opdeck::Method::parse(&m).ok_or_else(|| mlua::Error::runtime(format!("unknown http method `{m}`")))
            })
            .transpose()?,
        read_only: o.get::<Option<bool>>("read_only")?.unwrap_or(false),
        since: o.get("since")?,
    })
}

/// How `opdeck.new{}` fills what its options leave out; the embedded runner
/// passes the command line's `--profile` and `--mock`.
#[derive(Clone, Debug, Default)]
pub struct Defaults {
    /// The configuration profile.
    pub profile: Option<String>,
    /// Whether every call is answered by the simulator.
    pub mock: bool,
    /// Whether decks refuse every operation that is not read-only.
    pub read_only: bool,
}

/// The deck `opdeck.new()` returns when Lua runs embedded in the CLI.
#[derive(Clone)]
pub(crate) struct HostDeck(pub(crate) Deck);

/// `opdeck.new{ profile, base_urls, tokens, logins, mock, read_only }`.
fn new_deck(lua: &Lua, opts: Option<Table>) -> mlua::Result<opdeck::Result<Deck>> {
    let defaults = lua.app_data_ref::<Defaults>().map(|d| d.clone()).unwrap_or_default();
    if opts.is_none()
        && let Some(host) = lua.app_data_ref::<HostDeck>()
    {
        return Ok(Ok(host.0.clone()));
    }
    let opts = match opts {
        Some(o) => o,
        None => lua.create_table()?,
    };
    let profile: Option<String> = opts.get::<Option<String>>("profile")?.or(defaults.profile);
    let mut b = opdeck::Deck::builder().load_config(profile.as_deref());
    if let Some(urls) = opts.get::<Option<Table>>("base_urls")? {
        for pair in urls.pairs::<String, String>() {
            let (service, url) = pair?;
            b = b.base_url(&service, &url);
        }
    }
    if let Some(tokens) = opts.get::<Option<Table>>("tokens")? {
        for pair in tokens.pairs::<String, String>() {
            let (service, token) = pair?;
            b = b.token(&service, &token);
        }
    }
    if let Some(logins) = opts.get::<Option<Table>>("logins")? {
        for pair in logins.pairs::<String, Table>() {
            let (service, login) = pair?;
            let user: String = login.get("username")?;
            let password: String = login.get("password")?;
            b = b.login(&service, &user, &password);
        }
    }
    b = b.mock(opts.get::<Option<bool>>("mock")?.unwrap_or(defaults.mock));
    b = b.read_only(opts.get::<Option<bool>>("read_only")?.unwrap_or(defaults.read_only));
    Ok(b.build())
}

fn handle(ud: &AnyUserData) -> mlua::Result<Deck> {
    Ok(ud.borrow::<DeckHandle>()?.0.clone())
}

/// Wraps a `ok, value` body so that conversion errors become usage errors.
macro_rules! guard {
    ($lua:expr, $body:expr) => {
        match (|| -> mlua::Result<Ret> { $body })() {
            Ok(ret) => ret,
            Err(e) => usage($lua, &e),
        }
    };
}

/// `deck:parallel` of `{id, input}` pairs, blocking: its [`fan_out`] on
/// the shared runtime.
pub(crate) fn parallel_pairs(lua: &Lua, deck: &Deck, calls: Vec<(String, Value)>, limit: usize) -> mlua::Result<Ret> {
    Ok(match wait(lua, Driver::Shared, fan_out(lua, deck, calls, limit)) {
        Ok(table) => ok(LuaValue::Table(table?)),
        Err(e) => fail(lua, &e),
    })
}

/// The blocking natives, the only ones of the loadable module.
pub(crate) fn natives(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.set(
        "new",
        lua.create_function(|lua, opts: Option<Table>| {
            guard!(lua, {
                Ok(match new_deck(lua, opts)? {
                    Ok(deck) => ok(LuaValue::UserData(lua.create_userdata(DeckHandle(deck))?)),
                    Err(e) => fail(lua, &e),
                })
            })
        })?,
    )?;
    t.set(
        "call",
        // The hot path: the deck is borrowed and the id read in place.
        lua.create_function(|lua, (deck, id, inp): (UserDataRef<DeckHandle>, mlua::LuaString, LuaValue)| {
            guard!(lua, {
                let id = id.to_str()?;
                let inp = input(lua, inp)?;
                let result = wait(lua, Driver::Caller, deck.0.call_with(&id, inp, &RAW_JSON)).and_then(|r| r);
                Ok(body_ret(lua, &id, result.map(|out| out.body)))
            })
        })?,
    )?;
    t.set(
        "call_full",
        lua.create_function(|lua, (ud, id, inp): (AnyUserData, String, LuaValue)| {
            guard!(lua, {
                let deck = handle(&ud)?;
                let inp = input(lua, inp)?;
                Ok(output_ret(lua, &id, wait(lua, Driver::Caller, deck.call_with(&id, inp, &RAW_JSON)).and_then(|r| r)))
            })
        })?,
    )?;
    t.set(
        "parallel",
        lua.create_function(|lua, (ud, calls, limit): (AnyUserData, Table, Option<usize>)| {
            guard!(lua, {
                let deck = handle(&ud)?;
                let Some(calls) = convert::calls_from_lua(lua, &calls)? else {
                    return Err(mlua::Error::runtime(
                        "deck:parallel runs functions only inside `opdeck run`; here it takes {id, input} pairs",
                    ));
                };
                parallel_pairs(lua, &deck, calls, limit.unwrap_or(8).max(1))
            })
        })?,
    )?;
    t.set(
        "pager",
        lua.create_function(|lua, (ud, id, inp, opts): (AnyUserData, String, LuaValue, Option<Table>)| {
            guard!(lua, {
                let deck = handle(&ud)?;
                let inp = input(lua, inp)?;
                Ok(match deck.pager(&id, inp, limits(opts)?) {
                    Ok(pager) => ok(LuaValue::UserData(lua.create_userdata(PagerHandle {
                        pager: RefCell::new(pager),
                        buffer: RefCell::new(VecDeque::new()),
                        done: std::cell::Cell::new(false),
                    })?)),
                    Err(e) => fail(lua, &e),
                })
            })
        })?,
    )?;
    t.set(
        "next_item",
        lua.create_function(|lua, ud: AnyUserData| {
            guard!(lua, {
                let p = ud.borrow::<PagerHandle>()?;
                loop {
                    if let Some(item) = p.buffer.borrow_mut().pop_front() {
                        return Ok(ok(convert::to_lua(lua, &item)?));
                    }
                    if p.done.get() {
                        return Ok(ok(LuaValue::Nil));
                    }
                    let mut pager = p.pager.borrow_mut();
                    match wait(lua, Driver::Caller, pager.next_page()).and_then(|r| r) {
                        Ok(Some(items)) => p.buffer.borrow_mut().extend(items),
                        Ok(None) => p.done.set(true),
                        Err(e) => {
                            p.done.set(true);
                            return Ok(fail(lua, &e));
                        }
                    }
                }
            })
        })?,
    )?;
    t.set(
        "ops",
        lua.create_function(|lua, (ud, query, opts): (AnyUserData, Option<String>, Option<Table>)| {
            guard!(lua, {
                let deck = handle(&ud)?;
                let found = deck.ops(query.as_deref().unwrap_or(""), &filter(opts)?);
                let json = serde_json::to_value(found).map_err(mlua::Error::external)?;
                Ok(ok(convert::to_lua(lua, &json)?))
            })
        })?,
    )?;
    t.set(
        "services",
        lua.create_function(|lua, ud: AnyUserData| {
            guard!(lua, {
                let deck = handle(&ud)?;
                let json = serde_json::to_value(deck.services()).map_err(mlua::Error::external)?;
                Ok(ok(convert::to_lua(lua, &json)?))
            })
        })?,
    )?;
    t.set(
        "describe",
        lua.create_function(|lua, (ud, id): (AnyUserData, String)| {
            guard!(lua, {
                Ok(match handle(&ud)?.describe(&id) {
                    Ok(v) => ok(convert::to_lua(lua, &v)?),
                    Err(e) => fail(lua, &e),
                })
            })
        })?,
    )?;
    t.set(
        "add_source",
        lua.create_function(|lua, (ud, name, spec, opts): (AnyUserData, String, String, Option<Table>)| {
            guard!(lua, {
                let deck = handle(&ud)?;
                if let Some(refusal) = crate::sandbox::refuses_spec(lua, &spec) {
                    return Ok(fail(lua, &refusal));
                }
                let base_url: Option<String> = match &opts {
                    Some(o) => o.get("base_url")?,
                    None => None,
                };
                let added = wait(lua, Driver::Caller, deck.add_source(&name, &spec, base_url.as_deref()));
                Ok(match added.and_then(|r| r) {
                    Ok(ids) => ok(LuaValue::Table(lua.create_sequence_from(ids)?)),
                    Err(e) => fail(lua, &e),
                })
            })
        })?,
    )?;
    t.set(
        "prepare",
        lua.create_function(|lua, (ud, id, inp): (AnyUserData, String, LuaValue)| {
            guard!(lua, {
                let deck = handle(&ud)?;
                let inp = input(lua, inp)?;
                Ok(match deck.prepare(&id, &inp) {
                    Ok(request) => ok(LuaValue::Table(crate::request::to_lua(lua, &request)?)),
                    Err(e) => fail(lua, &e),
                })
            })
        })?,
    )?;
    t.set(
        "operation",
        lua.create_function(|lua, (ud, id, schema, f): (AnyUserData, String, LuaValue, Function)| {
            guard!(lua, {
                let deck = handle(&ud)?;
                let schema = match schema {
                    LuaValue::Nil => serde_json::json!({"type": "object"}),
                    s => convert::from_lua(lua, s)?,
                };
                let tx = plugins(lua).tx.clone();
                let op_id = id.clone();
                let registered = deck.register_fn(&id, schema, move |input: Value| {
                    let tx = tx.clone();
                    let id = op_id.clone();
                    async move {
                        let (reply, answer) = oneshot::channel();
                        tx.send(PluginCall { id: id.clone(), input, reply }).map_err(|_| closed(&id))?;
                        answer.await.map_err(|_| closed(&id))?
                    }
                });
                Ok(match registered {
                    Ok(_) => {
                        plugins(lua).handlers.borrow_mut().insert(id, f);
                        ok(LuaValue::Boolean(true))
                    }
                    Err(e) => fail(lua, &e),
                })
            })
        })?,
    )?;
    t.set(
        "is_error",
        lua.create_function(|lua, v: Variadic<LuaValue>| error::is_error(lua, v.first().unwrap_or(&LuaValue::Nil)))?,
    )?;
    Ok(())
}

fn closed(id: &str) -> opdeck::Error {
    opdeck::Error::usage(format!("the Lua state that registered `{id}` is closed"))
}

/// The plugin table of this Lua state, made on first use.
pub(crate) fn plugins(lua: &Lua) -> mlua::AppDataRef<'_, Plugins> {
    if lua.app_data_ref::<Plugins>().is_none() {
        let (tx, rx) = mpsc::unbounded_channel();
        lua.set_app_data(Plugins { tx, rx: RefCell::new(rx), handlers: RefCell::new(HashMap::new()) });
    }
    lua.app_data_ref::<Plugins>().expect("set just above")
}
