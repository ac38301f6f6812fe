-- `luarocks make` from bindings-lua/ builds the module with cargo (needs the
-- Rust toolchain) through luarocks-build-rust-mlua, for the Lua luarocks
-- runs: it turns the Lua version into one of the crate's features lua51 ...
-- lua54 / luajit. Where luarocks.org cannot be reached,
-- offline/opdeck-scm-1.rockspec builds the same module with a plain command.
rockspec_format = "3.0"
package = "opdeck"
version = "scm-1"

source = {
  url = "git+https://example.invalid/opdeck",
}

description = {
  summary = "One deck for every operation of the services you run, from Lua",
  detailed = [[
    opdeck loads API descriptions (OpenAPI 3.0, 3.1, Swagger 2.0) into one
    registry of named operations and runs them over HTTP. This rock is its
    Lua module: local deck = require("opdeck").new{ mock = true }.
  ]],
  license = "Apache-2.0",
}

dependencies = {
  "lua >= 5.1",
}

build_dependencies = {
  -- 0.2.5 passes cargo_extra_args
  "luarocks-build-rust-mlua >= 0.2.5",
}

build = {
  type = "rust-mlua",
  -- The loadable module is the crate in module/ (mlua's `module` always on).
  cargo_extra_args = { "--manifest-path", "module/Cargo.toml" },
  modules = {
    -- target/release/libopdeck_lua_module.so installed as opdeck.so
    ["opdeck"] = "opdeck_lua_module",
  },
}
