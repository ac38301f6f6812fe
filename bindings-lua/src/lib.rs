//! # opdeck for Lua
//!
//! One API, reached two ways:
//!
//! - **A loadable module.** The crate `opdeck-lua-module` (`module/`, built
//!   with one of `lua51` … `lua54`, `luajit`) turns [`open`] into
//!   `opdeck.so`, which a stock `lua` loads with `require "opdeck"`. mlua's
//!   module mode has no Rust executor, so every call blocks the Lua thread
//!   on opdeck's shared tokio runtime, as OpenDAL's Lua binding does.
//! - **Embedded.** `opdeck run x.lua` runs the script in a vendored Lua
//!   inside the `opdeck` binary ([`embed::Runner`]): sandboxed, limited in
//!   memory, instructions and wall time, and driven by an executor, so the
//!   calls of `deck:parallel` and of its functions overlap on the runtime.
//!
//! The binding adds no behaviour of its own: [`convert`] maps Lua values to
//! `serde_json::Value` and back, [`error`] maps [`opdeck::Error`] to a Lua
//! table, `deck.rs` forwards each method to one [`opdeck::Deck`] call and a
//! short Lua file (`opdeck.lua`) gives the methods their Lua shape.
//!
//! ```lua
//! local opdeck = require("opdeck")
//! local deck = opdeck.new{ mock = true }
//! local users = deck.wildduck.users.getUsers{ query = "ann" }
//! local ok, err = pcall(deck.call, deck, "wildduck.users.getUser", { user = "x" })
//! print(err.kind, err.status, err.operation, err.message)
//! ```
//!
//! # Features
//!
//! - `module`: Lua's symbols come from the host (the loadable module turns
//!   it on). Never together with `vendored` in one build (bindings-lua is
//!   outside the root workspace for that reason).
//! - `vendored`: Lua compiled in; the `opdeck` CLI uses it.
//! - `lua51`, `lua52`, `lua53`, `lua54`, `luajit`: which Lua (mlua's).

pub mod convert;
mod deck;
pub mod embed;
pub mod error;
mod request;
mod sandbox;

use mlua::{Lua, Table};

pub use deck::Defaults;

/// The glue that gives the natives their Lua shape.
const GLUE: &str = include_str!("opdeck.lua");

/// The `opdeck` module table of the blocking API, as `require "opdeck"`
/// returns it.
pub fn open(lua: &Lua) -> mlua::Result<Table> {
    open_with(lua, None)
}

/// The module table; `threads` (embedded only) is the weak set of threads
/// the executor drives, whose calls await instead of blocking.
pub(crate) fn open_with(lua: &Lua, threads: Option<Table>) -> mlua::Result<Table> {
    if let Some(module) = lua.named_registry_value::<Option<Table>>("opdeck.module")? {
        return Ok(module);
    }
    convert::install(lua)?;
    error::install(lua)?;
    let native = lua.create_table()?;
    deck::natives(lua, &native)?;
    if threads.is_some() {
        embed::async_natives(lua, &native)?;
    }
    native.set("null", convert::null())?;
    native.set("pairs", convert::ordered_pairs(lua)?)?;
    native.set("array", lua.create_function(|lua, t: Option<Table>| convert::mark(lua, t, true))?)?;
    native.set("object", lua.create_function(|lua, t: Option<Table>| convert::mark(lua, t, false))?)?;
    let embedded = threads.is_some();
    let module: Table = lua.load(GLUE).set_name("=opdeck.lua").call((native, threads))?;
    module.set("embedded", embedded)?;
    lua.set_named_registry_value("opdeck.module", &module)?;
    Ok(module)
}
