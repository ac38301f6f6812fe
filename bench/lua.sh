#!/usr/bin/env bash
# Lua against Rust on a loopback server (cli/benches/lua.rs): builds the
# loadable module in release, then runs the bench, which prints the ratios.
#   OPDECK_BENCH_PAIRS=n takes n pairs of runs (5 by default).
#   bash bench/lua.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --manifest-path bindings-lua/module/Cargo.toml --target-dir "$target" --features lua54
# The bench itself is built in the release profile too, so that the Rust
# side and the module come out of the same optimizer settings (the bench
# profile, which CI only compiles, has no link-time optimization).
OPDECK_LUA_MODULE="$target/release" cargo bench --profile release -p opdeck-cli --bench lua
