//! `luaopen_opdeck`: what `require "opdeck"` runs in a host Lua. Everything
//! else is in `opdeck-lua`; this crate only makes it a loadable library.
//!
//! Build it with `cargo build --release --manifest-path
//! bindings-lua/module/Cargo.toml --features lua54` (or another of
//! `lua51` … `lua54`, `luajit`) and load `libopdeck_lua_module.so` as
//! `opdeck.so`.

use mlua::{Lua, Table};

/// The module table.
///
/// `skip_memory_check`: a host Lua sets no allocation limit of mlua's, so
/// mlua would otherwise run every allocating call (each table and string
/// of a converted body) in protected mode.
#[allow(unsafe_code)]
#[mlua::lua_module(name = "opdeck", skip_memory_check)]
fn opdeck_module(lua: &Lua) -> mlua::Result<Table> {
    opdeck_lua::open(lua)
}
