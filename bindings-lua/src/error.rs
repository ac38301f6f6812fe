//! The one error map: every [`opdeck::Error`] becomes a Lua table.
//!
//! The table has `kind` (the [`opdeck::ErrorKind`] in snake case, so a script
//! can branch on `e.kind == "status"`), `message`, and when they apply
//! `status`, `operation`, `body`, `violations` (`{ {path=, message=}, ... }`),
//! `suggestions` and `request_id`: the fields of [`opdeck::Error::to_json`],
//! so Lua, Rhai and the CLI report alike. Its metatable, shared and
//! registered as `opdeck.Error`, gives it a `__tostring` (the message) and
//! marks it for `opdeck.is_error`.
//!
//! Errors are raised as these tables (`error(t, 0)` in the glue), so `pcall`
//! returns the table itself. Messages come from core, which keeps secrets out
//! of them.

use mlua::{Lua, Table, Value as LuaValue};

use crate::convert;

/// Registry name of the metatable of error tables.
pub(crate) const ERROR_MT: &str = "opdeck.Error";

/// Creates the error metatable in `lua`'s registry.
pub(crate) fn install(lua: &Lua) -> mlua::Result<()> {
    if lua.named_registry_value::<Option<Table>>(ERROR_MT)?.is_some() {
        return Ok(());
    }
    let mt = lua.create_table()?;
    mt.set("__name", ERROR_MT)?;
    mt.set(
        "__tostring",
        lua.create_function(|_, t: Table| {
            let message: Option<String> = t.raw_get("message")?;
            Ok(format!("opdeck: {}", message.unwrap_or_default()))
        })?,
    )?;
    lua.set_named_registry_value(ERROR_MT, mt)?;
    Ok(())
}

/// `err` as a Lua error table.
pub fn to_table(lua: &Lua, err: &opdeck::Error) -> mlua::Result<Table> {
    let json = err.to_json();
    let t = match convert::to_lua(lua, &json)? {
        LuaValue::Table(t) => t,
        _ => lua.create_table()?,
    };
    // Violations are present (possibly empty) on every error, so a script
    // can always `#e.violations`.
    if t.raw_get::<LuaValue>("violations")?.is_nil() {
        t.raw_set("violations", convert::mark(lua, None, true)?)?;
    }
    t.set_metatable(Some(lua.named_registry_value::<Table>(ERROR_MT)?))?;
    Ok(t)
}

/// An error table for a failure of the binding itself (a bad argument).
pub(crate) fn usage(lua: &Lua, message: impl Into<String>) -> mlua::Result<Table> {
    to_table(lua, &opdeck::Error::usage(message))
}

/// Whether `value` is an error table made here.
pub fn is_error(lua: &Lua, value: &LuaValue) -> mlua::Result<bool> {
    let LuaValue::Table(t) = value else { return Ok(false) };
    let mt: Table = lua.named_registry_value(ERROR_MT)?;
    Ok(t.metatable().is_some_and(|m| m == mt))
}

/// A Lua error raised while the binding converted or called something, as
/// an opdeck error: a script error with Lua's message.
pub(crate) fn from_lua_error(err: &mlua::Error, operation: Option<&str>) -> opdeck::Error {
    opdeck::Error::Script { message: lua_message(err), operation: operation.map(str::to_owned), status: None }
}

/// Lua's message without mlua's wrapping of callback errors.
pub(crate) fn lua_message(err: &mlua::Error) -> String {
    match err {
        mlua::Error::CallbackError { cause, .. } => lua_message(cause),
        mlua::Error::RuntimeError(m) | mlua::Error::MemoryError(m) => m.clone(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
