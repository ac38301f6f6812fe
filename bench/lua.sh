#!/usr/bin/env bash
# Lua against Rust on a loopback server (cli/benches/lua.rs): builds the
# loadable module in release, then runs the bench, which prints the ratios.
#   bash bench/lua.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --manifest-path bindings-lua/module/Cargo.toml --target-dir "$target" --features lua54
OPDECK_LUA_MODULE="$target/release" cargo bench -p opdeck-cli --bench lua
