#!/usr/bin/env bash
# opdeck's whole test suite: `bash tests/run-all.sh` (also what .ci/run calls).
#
# 1. Makes sure the peers are installed (tests/peers/install.sh; ~0.1 s when done).
# 2. Peers: reuses a Zou that already answers (local dev: leave it running with
#    `tests/peers/zou.sh start`), otherwise starts one and stops it again on exit.
#    Exports OPDECK_KITSU_URL / _USERNAME / _PASSWORD / _SECRET_KEY for the tests.
# 3. Runs every step, even after a failure, then prints a summary and exits non-zero
#    if any step failed.
#
# Env knobs: OPDECK_SKIP_INSTALL=1 (skip step 1), OPDECK_NO_PEERS=1 (no Zou; tests
# that need it must skip themselves), OPDECK_KEEP_PEERS=1 (do not stop a Zou that
# this script started).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec </dev/null

[ -d "$HOME/.cargo/bin" ] && case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH="$HOME/.cargo/bin:$PATH" ;; esac

say() { printf '\n==== %s\n' "$*"; }

# ---- peers ----------------------------------------------------------------------
if [ "${OPDECK_SKIP_INSTALL:-0}" != 1 ]; then
  bash tests/peers/install.sh
fi
export OPDECK_PEERS_DIR="${OPDECK_PEERS_DIR:-$HOME/.cache/opdeck-peers}"

started_zou=0
cleanup() {
  local rc=$?
  # Prism mocks are started per test step (placeholders below); stop any left over.
  bash tests/peers/prism.sh stop >/dev/null 2>&1 || true
  if [ "$started_zou" = 1 ] && [ "${OPDECK_KEEP_PEERS:-0}" != 1 ]; then
    bash tests/peers/zou.sh stop >&2 || true
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "${OPDECK_NO_PEERS:-0}" != 1 ]; then
  say "peers: Zou"
  if bash tests/peers/zou.sh status; then
    echo "reusing the running Zou"
  else
    started_zou=1
  fi
  # start is idempotent: with Zou already up it only prints the env.
  zou_env="$(bash tests/peers/zou.sh start)"
  eval "$zou_env"
  export OPDECK_KITSU_URL OPDECK_KITSU_USERNAME OPDECK_KITSU_PASSWORD OPDECK_KITSU_SECRET_KEY
  echo "OPDECK_KITSU_URL=$OPDECK_KITSU_URL"
fi

# ---- steps ----------------------------------------------------------------------
failed=()
passed=()
step() { # name, command...
  local name="$1"; shift
  say "$name: $*"
  local t0=$SECONDS
  if "$@"; then
    passed+=("$name")
    echo "---- $name ok ($((SECONDS - t0)) s)"
  else
    failed+=("$name")
    echo "---- $name FAILED ($((SECONDS - t0)) s)"
  fi
}

# Tests, benches and scripts read the project's own inputs (tests/specs,
# core/tests/fixtures), never the original specs and seeds beside the repo: only
# the drift test, core/tests/test_inputs.rs, compares against those. tests/specs
# is data (Kitsu has real routes under /shared). The brackets keep this file from
# matching itself.
own_inputs_only() {
  local hits
  hits="$(find core/tests core/benches core/examples tests scripts bench -type f \
      ! -path 'tests/specs/*' ! -path core/tests/test_inputs.rs ! -path tests/layers.sh -print0 \
    | xargs -0 grep -nE 'shared[/]|[.][.]/shared' || true)"
  if [ -n "$hits" ]; then
    echo "these name the originals beside the repo; read tests/specs instead:"
    echo "$hits"
    return 1
  fi
}

step own-inputs own_inputs_only
step fmt cargo fmt --all --check
step layers bash tests/layers.sh
step clippy cargo clippy --workspace --all-targets -- -D warnings
# --no-fail-fast: one failing test binary must not hide the others' results.
step test cargo test --workspace --no-fail-fast
step features bash tests/features.sh
# The benches compile in the dev profile, beside the tests' build: the gate checks
# that they build, and `cargo bench` builds them optimized when someone measures
# (in the bench profile that took 13 of the gate's 42 minutes).
step bench-build cargo build --workspace --benches

# ---- Python and Lua tests of the CLI ----------------------------------------------
# Both drive the debug build that `cargo test` just made.
export OPDECK_BIN="$PWD/target/debug/opdeck"
step python "$OPDECK_PEERS_DIR/pytools/bin/pytest" -c tests/python/pytest.ini tests/python
step lua lua5.4 tests/lua/test_cli.lua
# The Lua binding: its own lint and unit tests (outside the workspace), the module
# through a real `require`, the same tests embedded, luarocks.
step lua-clippy bash -c 'cargo fmt --manifest-path bindings-lua/module/Cargo.toml --check \
  && cargo clippy --manifest-path bindings-lua/Cargo.toml --target-dir target --features vendored,lua54 --all-targets -- -D warnings \
  && cargo clippy --manifest-path bindings-lua/module/Cargo.toml --target-dir target --features lua54 --all-targets -- -D warnings'
step lua-unit cargo test --manifest-path bindings-lua/Cargo.toml --target-dir target --features vendored,lua54
# The rockspec builds the module for the user's Lua: under every version it names
# (Debian's lua5.1, lua5.2, lua5.3, luajit) the module passes the same tests; 5.4 last,
# so the 5.4 build is the one left in target/.
step lua-versions bash -c 'for v in 51 52 53 jit; do bash tests/lua/run.sh module $v || exit 1; done'
step lua-module bash tests/lua/run.sh module
step lua-embedded bash tests/lua/run.sh embedded
step lua-luarocks bash tests/lua/run.sh luarocks

# ---- the Python wheel: bindings-python is its own crate (own Cargo.lock, the shared target/) --
step python-lint bash -c \
  'cargo fmt --manifest-path bindings-python/Cargo.toml --check && cargo clippy --manifest-path bindings-python/Cargo.toml --all-targets -- -D warnings'
step python-wheel bash bindings-python/tests/run.sh

say "summary"
echo "run-all: steps ok: ${passed[*]:-none}"
if ((${#failed[@]})); then
  echo "run-all: steps FAILED: ${failed[*]}"
  exit 1
fi
echo "run-all: all steps ok"
