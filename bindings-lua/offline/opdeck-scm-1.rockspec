-- The same rock as ../opdeck-scm-1.rockspec for machines that cannot reach
-- luarocks.org (CI here): a `command` build that calls cargo itself.
--   cd bindings-lua && luarocks --lua-version 5.4 make offline/opdeck-scm-1.rockspec
-- LuaJIT is not told apart from Lua 5.1 here: use the main rockspec for it.
rockspec_format = "3.0"
package = "opdeck"
version = "scm-1"

source = {
  url = "git+https://example.invalid/opdeck",
}

description = {
  summary = "One deck for every operation of the services you run, from Lua",
  license = "Apache-2.0",
}

dependencies = {
  "lua >= 5.1",
}

build = {
  type = "command",
  -- $(LUA) is the interpreter luarocks builds for; its version picks the
  -- feature (5.4 -> lua54). CARGO_TARGET_DIR, when set, shares a target dir.
  build_command = [[v=$("$(LUA)" -e "io.write((_VERSION:gsub('[^0-9]', '')))") && t="${CARGO_TARGET_DIR:-target}" ]]
    .. [[&& cargo build --release --manifest-path module/Cargo.toml --target-dir="$t" --features "lua$v" ]]
    .. [[&& cp "$t/release/libopdeck_lua_module.so" opdeck.so]],
  install = {
    lib = {
      ["opdeck"] = "opdeck.so",
    },
  },
}
