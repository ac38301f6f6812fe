#!/usr/bin/env bash
# The Lua binding's tests, as tests/run-all.sh runs them (from the repository root):
#
#   bash tests/lua/run.sh module     # build opdeck.so (bindings-lua/module, feature lua54); api.lua + zou.lua via `lua5.4` and require
#   bash tests/lua/run.sh module 51  # the same for Lua 5.1 (feature lua51; `lua5.1`); 52, 53, jit too
#   bash tests/lua/run.sh embedded   # api.lua + zou.lua via `opdeck run`, then test_embedded.lua (sandbox, limits, scripts/)
#   bash tests/lua/run.sh luarocks   # `luarocks make` into a temporary tree, then require it from there
#
# OPDECK_BIN is the opdeck binary (default target/debug/opdeck). Each command starts
# tests/lua/echo_server.py on loopback for the exact-request tests and stops it on exit.
# Zou's variables (OPDECK_KITSU_*) come from run-all.sh; under CI their absence fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$PWD
target="${CARGO_TARGET_DIR:-$root/target}"
bin="${OPDECK_BIN:-$target/debug/opdeck}"
tmp="$(mktemp -d)"
trap 'exec 3>&- 2>/dev/null || true; rm -rf "$tmp"' EXIT

# The echo server lives as long as fd 3 stays open.
exec 3> >(exec python3 tests/lua/echo_server.py >"$tmp/echo.url")
for _ in $(seq 100); do [ -s "$tmp/echo.url" ] && break; sleep 0.05; done
OPDECK_ECHO_URL="$(cat "$tmp/echo.url")"
export OPDECK_ECHO_URL

zou_env=(--allow-env OPDECK_KITSU_URL --allow-env OPDECK_KITSU_USERNAME --allow-env OPDECK_KITSU_PASSWORD --allow-env CI)
rc=0

case "${1:-}" in
  module)
    # An optional version (51, 52, 53, 54 or jit) builds for that Lua and runs
    # its Debian interpreter (lua5.1, ..., luajit); a build for another version
    # than the last one replaces libopdeck_lua_module.so.
    v="${2:-54}"
    case "$v" in
      51|52|53|54) feature="lua$v" interpreter="lua${v:0:1}.${v:1}" ;;
      jit) feature=luajit interpreter=luajit ;;
      *) echo "unknown Lua version: $v (51, 52, 53, 54 or jit)" >&2; exit 2 ;;
    esac
    command -v "$interpreter" >/dev/null || { echo "$interpreter is not installed" >&2; exit 1; }
    cargo build -q --manifest-path bindings-lua/module/Cargo.toml --target-dir "$target" --features "$feature"
    cp "$target/debug/libopdeck_lua_module.so" "$tmp/opdeck.so"
    for t in api zou; do
      LUA_CPATH="$tmp/?.so" LUA_PATH="$root/tests/lua/?.lua;;" "$interpreter" "tests/lua/$t.lua" || rc=1
    done
    ;;
  embedded)
    # --allow-read: `require "harness"` loads the harness beside the script.
    "$bin" run tests/lua/api.lua --allow-read --allow-env OPDECK_ECHO_URL --allow-env CI || rc=1
    "$bin" run tests/lua/zou.lua --allow-read "${zou_env[@]}" || rc=1
    OPDECK_BIN="$bin" lua5.4 tests/lua/test_embedded.lua || rc=1
    ;;
  luarocks)
    tree="$tmp/tree"
    # This checks the install path, not the optimizer: the rock's release build
    # runs at opt-level 0 without LTO here (minutes less in CI); bench/lua.sh
    # rebuilds it optimized.
    (cd bindings-lua && CARGO_TARGET_DIR="$target" CARGO_PROFILE_RELEASE_OPT_LEVEL=0 CARGO_PROFILE_RELEASE_LTO=false \
      CARGO_PROFILE_RELEASE_CODEGEN_UNITS=64 luarocks --lua-version 5.4 --tree "$tree" make offline/opdeck-scm-1.rockspec)
    so="$(find "$tree" -name opdeck.so | head -1)"
    [ -n "$so" ] || { echo "luarocks installed no opdeck.so" >&2; exit 1; }
    eval "$(luarocks --lua-version 5.4 --tree "$tree" path)"
    lua5.4 -e 'local o = require("opdeck"); local d = o.new{ mock = true }
      assert(type(d:call("wildduck.users.getUsers", {}).results) == "table")
      print("lua-luarocks: 1 passed, 0 failed")' || rc=1
    ;;
  *)
    echo "usage: $0 module [51|52|53|54|jit]|embedded|luarocks" >&2
    exit 2
    ;;
esac
exit "$rc"
