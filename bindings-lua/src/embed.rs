//! `opdeck run x.lua`: a script in a vendored, sandboxed Lua inside the
//! binary.
//!
//! The main chunk runs as plain Lua on the calling thread, and its calls
//! block as the module's do (one call is driven by this thread, a
//! `deck:parallel` of `{id, input}` pairs is one `Deck::call_each` on the
//! shared runtime, converted to Lua tables as results arrive). Only a
//! `deck:parallel` with functions starts an executor on this thread: it
//! runs each function as a coroutine whose calls await instead of
//! blocking, and serves the calls of operations registered from Lua
//! meanwhile. Calls made from a coroutine the script made itself
//! (`coroutine.wrap`) block, which keeps such coroutines ordinary.
//!
//! Limits ([`Limits`]) are Lua's allocator limit, an instruction hook that
//! counts and watches the clock, and the run's deadline, which every wait
//! for calls carries ([`deck::bounded`]). A limit that trips ends the run
//! with [`opdeck::Error::Limit`] even if the script catches the error it
//! raises: from then on every instruction of the thread fails.

use std::convert::Infallible;
use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::future::{Either, LocalBoxFuture, select};
use mlua::chunk::ChunkMode;
use mlua::{AnyUserData, Function, HookTriggers, Lua, LuaOptions, Table, Value as LuaValue, VmState};
use opdeck::Deck;
use opdeck::runtime::Driver;

use crate::deck::{self, Deadline, DeckHandle, Defaults, HostDeck, PluginCall, Ret, Tripped, fail, ok};
use crate::{convert, error, sandbox};

/// What one run may use. A limit is named in the error that reports it by
/// its field name here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes Lua may allocate (`0`: no limit).
    pub max_memory: usize,
    /// Lua VM instructions per run, counted in steps of 1,000 (`0`: no limit).
    pub max_instructions: u64,
    /// Time from the start of the run until it is stopped, calls included.
    pub wall_time: Duration,
}

impl Default for Limits {
    /// Room for automations that page through thousands of records; a
    /// runaway loop still ends within seconds.
    fn default() -> Self {
        Limits { max_memory: 512 * 1024 * 1024, max_instructions: 2_000_000_000, wall_time: Duration::from_secs(3600) }
    }
}

pub use crate::sandbox::Access;

/// Runs Lua scripts against a deck.
#[derive(Debug, Clone, Default)]
pub struct Runner {
    defaults: Defaults,
    /// The deck `opdeck.new()` without options returns.
    pub deck: Option<Deck>,
    /// The sandbox's grants.
    pub access: Access,
    /// The limits.
    pub limits: Limits,
    /// Exposed to the script as the global `dry_run`.
    pub dry_run: bool,
}

impl Runner {
    /// A runner whose `opdeck.new()` (no options) is `deck`, and whose
    /// `opdeck.new{...}` leaves `profile` and `mock` to `defaults`.
    pub fn new(deck: Option<Deck>, defaults: Defaults) -> Self {
        Runner { defaults, deck, ..Runner::default() }
    }

    /// Runs the file at `path` with the script arguments `args`
    /// (`key=value` words become `args.key`, `--flag` becomes
    /// `args.flag = true`, the rest `argv`).
    pub fn run_file(&self, path: &Path, args: &[String]) -> opdeck::Result<()> {
        let source = std::fs::read(path).map_err(|e| opdeck::Error::io(path, e))?;
        self.run(&source, &path.display().to_string(), args)
    }

    /// Runs `source`, named `name` in messages.
    pub fn run(&self, source: &[u8], name: &str, args: &[String]) -> opdeck::Result<()> {
        let lua = Lua::new_with(sandbox::libs(), LuaOptions::default()).map_err(|e| script(&e))?;
        self.run_in(&lua, source, name, args).map_err(|e| {
            let tripped = lua.app_data_ref::<Tripped>().and_then(|t| t.0.borrow_mut().take());
            tripped.unwrap_or(e)
        })
    }

    fn run_in(&self, lua: &Lua, source: &[u8], name: &str, args: &[String]) -> opdeck::Result<()> {
        let start = Instant::now();
        // `require` looks beside the script first (with --allow-read).
        let script_dir = Path::new(name).parent().and_then(Path::to_str).filter(|d| !d.is_empty());
        let setup = || -> mlua::Result<(Function, Function)> {
            if self.limits.max_memory > 0 {
                lua.set_memory_limit(self.limits.max_memory)?;
            }
            lua.set_app_data(self.defaults.clone());
            if let Some(deck) = &self.deck {
                lua.set_app_data(HostDeck(deck.clone()));
            }
            if let Some(at) = start.checked_add(self.limits.wall_time) {
                lua.set_app_data(Deadline(at, self.limits.wall_time));
            }
            lua.set_app_data(Tripped::default());
            let threads = lua.create_table()?;
            threads.set_metatable(Some(lua.create_table_from([("__mode", "k")])?))?;
            lua.set_named_registry_value("opdeck.threads", &threads)?;
            let module = crate::open_with(lua, Some(threads))?;
            sandbox::apply(lua, &module, &self.access, script_dir)?;
            let globals = lua.globals();
            globals.set("dry_run", self.dry_run)?;
            let parsed = opdeck::script::ScriptArgs::parse(args);
            let named = lua.create_table()?;
            for (k, v) in &parsed.named {
                match v {
                    Some(v) => named.set(k.as_str(), v.as_str())?,
                    None => named.set(k.as_str(), true)?,
                }
            }
            globals.set("args", named)?;
            globals.set("argv", lua.create_sequence_from(parsed.positional.iter().map(String::as_str))?)?;
            let main = lua.load(source).set_name(format!("@{name}")).set_mode(ChunkMode::Text).into_function()?;
            deck::plugins(lua);
            Ok((main, globals.get("pcall")?))
        };
        let (main, pcall) = setup().map_err(|e| script(&e))?;
        self.hook(lua, start);
        // Under `pcall`, so a raised error table reaches Rust as the table.
        let outcome = pcall.call::<(bool, LuaValue)>((main, LuaValue::Nil));
        if let Some(err) = lua.app_data_ref::<Tripped>().and_then(|t| t.0.borrow_mut().take()) {
            return Err(err);
        }
        match outcome {
            Ok((true, _)) => Ok(()),
            Ok((false, raised_value)) => Err(self.uncaught(lua, &raised_value)),
            Err(e) => Err(script(&e)),
        }
    }

    /// The error that ended a run, from the value it raised: an opdeck error
    /// table keeps its operation and status; Lua's out-of-memory error is
    /// the `max_memory` limit.
    fn uncaught(&self, lua: &Lua, value: &LuaValue) -> opdeck::Error {
        let text = match value {
            LuaValue::String(s) => s.to_string_lossy(),
            LuaValue::Table(_) => String::new(),
            other => other.to_string().unwrap_or_default(),
        };
        if text.contains("not enough memory") {
            let detail = format!("{} bytes", self.limits.max_memory);
            return opdeck::Error::Limit { limit: "max_memory".into(), detail };
        }
        raised(lua, value, None)
    }

    /// The instruction and wall-time hook, inherited by every coroutine.
    fn hook(&self, lua: &Lua, start: Instant) {
        const STEP: u32 = 1000;
        let limits = self.limits;
        let count = Rc::new(std::cell::Cell::new(0u64));
        let _ = lua.set_global_hook(HookTriggers::new().every_nth_instruction(STEP), move |lua, _| {
            let n = count.get() + u64::from(STEP);
            count.set(n);
            let err = if limits.max_instructions > 0 && n > limits.max_instructions {
                Some(opdeck::Error::Limit {
                    limit: "max_instructions".into(),
                    detail: format!("{} instructions", limits.max_instructions),
                })
            } else if start.elapsed() > limits.wall_time {
                Some(deck::wall_time(limits.wall_time))
            } else {
                None
            };
            match err {
                None => Ok(VmState::Continue),
                Some(err) => Err(mlua::Error::runtime(deck::trip(lua, err))),
            }
        });
    }
}

/// Serves the calls of Lua operations, each in its own coroutine; never ends.
async fn serve(lua: Lua) -> Infallible {
    let calls = futures::stream::poll_fn(|cx| deck::plugins(&lua).rx.borrow_mut().poll_recv(cx));
    calls.for_each_concurrent(None, |call| serve_one(lua.clone(), call)).await;
    std::future::pending().await
}

/// Runs `fut` on an executor on this thread, which also serves the calls of
/// Lua operations, until `fut` ends or the run's deadline: what a
/// `deck:parallel` from a thread no executor drives blocks on.
fn on_executor(lua: &Lua, fut: impl Future<Output = Ret>) -> Ret {
    let served = async {
        match select(pin!(fut), pin!(serve(lua.clone()))).await {
            Either::Left((ret, _)) => ret,
            Either::Right((never, _)) => match never {},
        }
    };
    match deck::block(Driver::Caller, deck::bounded(lua, served)).and_then(|r| r) {
        Ok(ret) => ret,
        Err(e) => fail(lua, &e),
    }
}

async fn serve_one(lua: Lua, call: PluginCall) {
    let answer = async {
        let handler = deck::plugins(&lua).handlers.borrow().get(&call.id).cloned();
        let Some(f) = handler else {
            return Err(opdeck::Error::usage(format!("no Lua function serves `{}`", call.id)));
        };
        let input = convert::to_lua(&lua, &call.input).map_err(|e| error::from_lua_error(&e, Some(&call.id)))?;
        let value = protected(&lua, f, input).await.map_err(|e| error::from_lua_error(&e, Some(&call.id)))?;
        match value {
            Ok(v) => convert::from_lua(&lua, v).map_err(|e| error::from_lua_error(&e, Some(&call.id))),
            Err(v) => Err(raised(&lua, &v, Some(&call.id))),
        }
    }
    .await;
    let _ = call.reply.send(answer);
}

/// Runs `f(arg)` as an executor-driven coroutine under `pcall`: `Ok(value)`
/// or `Err(raised value)`.
async fn protected(lua: &Lua, f: Function, arg: LuaValue) -> mlua::Result<Result<LuaValue, LuaValue>> {
    let pcall: Function = lua.globals().get("pcall")?;
    let thread = lua.create_thread(pcall)?;
    let threads: Table = lua.named_registry_value("opdeck.threads")?;
    threads.raw_set(&thread, true)?;
    let (ok, value): (bool, LuaValue) = thread.into_async((f, arg))?.await?;
    Ok(if ok { Ok(value) } else { Err(value) })
}

/// A value a Lua function raised, as an opdeck error.
fn raised(lua: &Lua, value: &LuaValue, operation: Option<&str>) -> opdeck::Error {
    if let (Ok(true), LuaValue::Table(t)) = (error::is_error(lua, value), value) {
        let message: String = t.raw_get("message").unwrap_or_default();
        let status: Option<u16> = t.raw_get("status").unwrap_or_default();
        let op: Option<String> = t.raw_get("operation").unwrap_or_default();
        return opdeck::Error::Script { message, operation: op.or(operation.map(str::to_owned)), status };
    }
    let message = match value {
        LuaValue::String(s) => s.to_string_lossy(),
        other => other.to_string().unwrap_or_else(|_| format!("a {} was raised", other.type_name())),
    };
    opdeck::Error::Script { message, operation: operation.map(str::to_owned), status: None }
}

fn script(err: &mlua::Error) -> opdeck::Error {
    error::from_lua_error(err, None)
}

fn handle(ud: &AnyUserData) -> mlua::Result<Deck> {
    Ok(ud.borrow::<DeckHandle>()?.0.clone())
}

/// The async twins of `call`, `call_full` and `parallel`, and the blocking
/// `parallel` that runs an executor, embedded only.
pub(crate) fn async_natives(lua: &Lua, t: &Table) -> mlua::Result<()> {
    t.set(
        "parallel",
        lua.create_function(|lua, (ud, calls, limit): (AnyUserData, Table, Option<usize>)| {
            let limit = limit.unwrap_or(8).max(1);
            let pairs = handle(&ud).and_then(|deck| Ok((deck, convert::calls_from_lua(lua, &calls)?)));
            match pairs {
                Ok((deck, Some(pairs))) => match deck::parallel_pairs(lua, &deck, pairs, limit) {
                    Ok(ret) => ret,
                    Err(e) => deck::usage(lua, &e),
                },
                Ok((deck, None)) => on_executor(lua, parallel_entries(lua.clone(), deck, calls, limit)),
                Err(e) => deck::usage(lua, &e),
            }
        })?,
    )?;
    t.set(
        "call_async",
        lua.create_async_function(|lua, (ud, id, inp): (AnyUserData, String, LuaValue)| async move {
            let (deck, inp) = match handle(&ud).and_then(|d| Ok((d, deck::input(&lua, inp)?))) {
                Ok(x) => x,
                Err(e) => return deck::usage(&lua, &e),
            };
            let op = id.clone();
            let r = deck.call_with(&id, inp, &deck::RAW_JSON).await;
            deck::body_ret(&lua, &op, r.map(|out| out.body))
        })?,
    )?;
    t.set(
        "call_full_async",
        lua.create_async_function(|lua, (ud, id, inp): (AnyUserData, String, LuaValue)| async move {
            let (deck, inp) = match handle(&ud).and_then(|d| Ok((d, deck::input(&lua, inp)?))) {
                Ok(x) => x,
                Err(e) => return deck::usage(&lua, &e),
            };
            let op = id.clone();
            deck::output_ret(&lua, &op, deck.call_with(&id, inp, &deck::RAW_JSON).await)
        })?,
    )?;
    t.set(
        "parallel_async",
        lua.create_async_function(|lua, (ud, calls, limit): (AnyUserData, Table, Option<usize>)| async move {
            parallel(lua, ud, calls, limit.unwrap_or(8).max(1)).await
        })?,
    )?;
    Ok(())
}

/// `deck:parallel` under the embedded executor: `{id, input}` pairs go to
/// [`deck::fan_out`], awaited here; a list with functions goes to
/// [`parallel_entries`].
async fn parallel(lua: Lua, ud: AnyUserData, calls: Table, limit: usize) -> Ret {
    let deck = match handle(&ud) {
        Ok(d) => d,
        Err(e) => return deck::usage(&lua, &e),
    };
    match convert::calls_from_lua(&lua, &calls) {
        Err(e) => deck::usage(&lua, &e),
        Ok(Some(pairs)) => {
            // The calls' connections go to the shared runtime's workers; this
            // thread polls the calls and converts each result as it arrives.
            match opdeck::runtime::on_shared(deck::fan_out(&lua, &deck, pairs, limit)) {
                Ok(converted) => ok(LuaValue::Table(converted.await?)),
                Err(e) => fail(&lua, &e),
            }
        }
        Ok(None) => parallel_entries(lua, deck, calls, limit).await,
    }
}

/// `deck:parallel` of a list with functions: each entry runs as its own
/// coroutine (a pair as one call), at most `limit` at once, results in order.
async fn parallel_entries(lua: Lua, deck: Deck, calls: Table, limit: usize) -> Ret {
    let entries: Vec<LuaValue> = calls.sequence_values::<LuaValue>().collect::<mlua::Result<_>>()?;
    let futures = entries.into_iter().map(|entry| -> LocalBoxFuture<'_, mlua::Result<LuaValue>> {
        let lua = lua.clone();
        let deck = deck.clone();
        Box::pin(async move {
            match entry {
                LuaValue::Function(f) => match protected(&lua, f, LuaValue::Nil).await? {
                    Ok(LuaValue::Nil) => Ok(convert::null()),
                    Ok(v) => Ok(v),
                    Err(v) if error::is_error(&lua, &v)? => Ok(v),
                    Err(v) => Ok(LuaValue::Table(error::to_table(&lua, &raised(&lua, &v, None))?)),
                },
                LuaValue::Table(pair) => {
                    let id: String = pair.raw_get(1)?;
                    let inp = deck::input(&lua, pair.raw_get(2)?)?;
                    let op = id.clone();
                    let r = deck.call_with(&id, inp, &deck::RAW_JSON).await;
                    deck::slot_to_lua(&lua, &op, r.map(|out| out.body))
                }
                other => Err(mlua::Error::runtime(format!(
                    "deck:parallel takes pairs or functions, not a {}",
                    other.type_name()
                ))),
            }
        })
    });
    let results: Vec<mlua::Result<LuaValue>> = futures::stream::iter(futures).buffered(limit).collect().await;
    let out = lua.create_table_with_capacity(results.len(), 0)?;
    for (i, r) in results.into_iter().enumerate() {
        match r {
            Ok(v) => out.raw_set(i + 1, v)?,
            Err(e) => return deck::usage(&lua, &e),
        }
    }
    ok(LuaValue::Table(out))
}
