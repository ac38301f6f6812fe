//! The embedded sandbox: what a script run by `opdeck run` may touch.
//!
//! The Lua state is made with the base, coroutine, table, string, utf8 and
//! math libraries and trimmed `io` and `os`; neither `package` nor `debug` is
//! loaded, so no C module can be loaded and no hook removed. By default:
//!
//! - no `io`, no `os.execute`/`exit`/`remove`/`rename`/`tmpname`, and
//!   `os.getenv` answers only for names granted with `--allow-env NAME`;
//! - no bytecode: `load` takes text only, `string.dump` is gone, and the
//!   script itself is loaded as text;
//! - no files: `loadfile`, `dofile` and file `require` are gone, and
//!   `deck:add_source` takes a document's text or a URL, not a path;
//! - `require "opdeck"` is the one module.
//!
//! `--allow-read` grants reading, as it grants `read_json`/`read_csv` to
//! Rhai: `io.open` in mode `r`/`rb`, `io.lines`, `opdeck.read_json`,
//! `loadfile`/`dofile` and `require` of Lua text files (beside the script,
//! then `./?.lua` and `./?/init.lua`), and spec paths for `add_source`. Nothing grants writing.

use mlua::{Lua, StdLib, Table};

/// What the sandbox grants beyond the default.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// `--allow-read`: read-only files (see the sandbox rules).
    pub read: bool,
    /// `--allow-env NAME`: the variables `os.getenv` may read.
    pub env: Vec<String>,
}

/// The libraries a sandboxed state starts with; `sandbox.lua` trims `io` and `os`.
/// (Lua 5.1 and LuaJIT have `coroutine` in their base library and no `utf8`.)
pub(crate) fn libs() -> StdLib {
    let libs = StdLib::TABLE | StdLib::IO | StdLib::OS | StdLib::STRING | StdLib::MATH;
    #[cfg(any(feature = "lua54", feature = "lua53", feature = "lua52"))]
    let libs = libs | StdLib::COROUTINE;
    #[cfg(any(feature = "lua54", feature = "lua53"))]
    let libs = libs | StdLib::UTF8;
    libs
}

const SANDBOX: &str = r#"
local module, allow_read, allowed_env, read_json, script_dir = ...
local real_open, real_lines, real_getenv, real_load = io.open, io.lines, os.getenv, load
local error, type = error, type

os = {
  time = os.time, clock = os.clock, date = os.date, difftime = os.difftime,
  getenv = function(name)
    if allowed_env[name] then return real_getenv(name) end
    return nil
  end,
}
io = nil
string.dump = nil
load = function(chunk, name, _, env) return real_load(chunk, name, "t", env) end
loadfile, dofile = nil, nil

local loaded = { opdeck = module }
local function no(what)
  return function() error(what .. " is disabled: file reading is off unless the host allows it (--allow-read)", 2) end
end

if allow_read then
  io = {
    open = function(path, mode)
      mode = mode or "r"
      if mode ~= "r" and mode ~= "rb" then return nil, "io.open: only reading is allowed" end
      return real_open(path, mode)
    end,
    lines = function(path, ...)
      if type(path) ~= "string" then error("io.lines needs a file name", 2) end
      return real_lines(path, ...)
    end,
  }
  loadfile = function(path, _, env)
    local f, err = real_open(path, "rb")
    if not f then return nil, err end
    local text = f:read("a")
    f:close()
    -- An env given as nil would be the chunk's _ENV: no globals at all.
    if env == nil then return real_load(text, "@" .. path, "t") end
    return real_load(text, "@" .. path, "t", env)
  end
  dofile = function(path) return assert(loadfile(path))() end
  module.read_json = read_json
else
  module.read_json = no("opdeck.read_json")
end

require = function(name)
  local m = loaded[name]
  if m ~= nil then return m end
  if not allow_read then
    error("module '" .. tostring(name) .. "' is not available: the sandbox has only \"opdeck\" (--allow-read allows Lua files)", 2)
  end
  local file = tostring(name):gsub("%.", "/")
  local patterns = { "./?.lua", "./?/init.lua" }
  if script_dir then table.insert(patterns, 1, script_dir .. "/?/init.lua"); table.insert(patterns, 1, script_dir .. "/?.lua") end
  for _, pattern in ipairs(patterns) do
    local path = pattern:gsub("%?", file)
    local chunk = loadfile(path)
    if chunk then
      m = chunk(name, path)
      if m == nil then m = true end
      loaded[name] = m
      return m
    end
  end
  error("module '" .. tostring(name) .. "' not found in " .. table.concat(patterns, ";"), 2)
end
"#;

/// Trims the state's libraries as the module doc says and installs `require`.
pub(crate) fn apply(lua: &Lua, module: &Table, access: &Access, script_dir: Option<&str>) -> mlua::Result<()> {
    let allowed_env = lua.create_table()?;
    for name in &access.env {
        allowed_env.set(name.as_str(), true)?;
    }
    let read_json = lua.create_function(|lua, path: String| {
        let text = std::fs::read(&path).map_err(|e| mlua::Error::runtime(format!("{path}: {e}")))?;
        let value: serde_json::Value =
            serde_json::from_slice(&text).map_err(|e| mlua::Error::runtime(format!("{path}: {e}")))?;
        crate::convert::to_lua(lua, &value)
    })?;
    lua.load(SANDBOX).set_name("=opdeck.sandbox").call::<()>((
        module.clone(),
        access.read,
        allowed_env,
        read_json,
        script_dir,
    ))?;
    lua.set_app_data(access.clone());
    Ok(())
}

/// In a sandbox without `--allow-read`, a spec given as a path is refused:
/// reading it would be reading a file. Text (JSON or YAML, hence a `{` or a
/// line break) and `http(s)://` URLs pass.
pub(crate) fn refuses_spec(lua: &Lua, spec: &str) -> Option<opdeck::Error> {
    let access = lua.app_data_ref::<Access>()?;
    let text = spec.trim_start();
    let is_text = text.starts_with('{') || text.contains('\n');
    let is_url = text.starts_with("http://") || text.starts_with("https://");
    if access.read || is_text || is_url {
        return None;
    }
    Some(opdeck::Error::usage(format!(
        "add_source(\"{spec}\") reads a file, which is off unless the host allows it (--allow-read)"
    )))
}
