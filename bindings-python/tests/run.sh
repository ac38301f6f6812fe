#!/usr/bin/env bash
# The Python wheel's gate step (tests/run-all.sh runs it):
#   1. builds the abi3 wheel with maturin (release profile: size-tuned),
#   2. installs it into a fresh venv (no `maturin develop`), with the test deps
#      from the wheelhouse, offline,
#   3. checks the stubs against the installed module (mypy.stubtest),
#   4. checks it imports on the oldest supported CPython when one is at hand,
#   5. runs pytest on bindings-python/tests (filterwarnings = error).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root="$PWD"
bash tests/peers/install-python.sh
dir="${OPDECK_PEERS_DIR:-$HOME/.cache/opdeck-peers}/pywheel"
py="$(command -v python3)"
# The wheel's own target dir, under the root's ignored target/.
export CARGO_TARGET_DIR="${OPDECK_PY_TARGET:-$root/target/python}"

work="$(mktemp -d /tmp/opdeck-wheel.XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "-- maturin build --release"
"$dir/tools/bin/maturin" build --release --quiet -m bindings-python/Cargo.toml -i "$py" -o "$work/dist"
wheel="$(ls "$work"/dist/opdeck-*.whl)"
case "$wheel" in *-cp39-abi3-*) ;; *) echo "not an abi3 cp39 wheel: $wheel"; exit 1 ;; esac
size=$(stat -c %s "$wheel")
echo "wheel: $(basename "$wheel"), $((size / 1024)) KiB"
[ "$size" -le $((8 * 1024 * 1024)) ] || { echo "wheel over 8 MB"; exit 1; }

echo "-- fresh venv"
"$py" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip -q --disable-pip-version-check --no-input)
"${pip[@]}" install --no-index --find-links "$dir/house" -r bindings-python/tests/requirements.txt
"${pip[@]}" install --no-index --no-deps "$wheel"

cd "$work"  # away from the sources: what is imported is the installed wheel
echo "-- import check"
"$work/venv/bin/python" -c 'import opdeck; n = len(opdeck.Deck().ops()); print("ops:", n); assert n == 1415, n'
old=""
for c in python3.9 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.9*/bin/python3.9; do
  if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import venv' 2>/dev/null; then old="$c"; break; fi
done
if [ -n "$old" ]; then
  "$old" -m venv "$work/venv39"
  "$work/venv39/bin/python" -m pip -q --disable-pip-version-check install --no-index --no-deps "$wheel"
  "$work/venv39/bin/python" -c 'import sys, opdeck; print(sys.version.split()[0], "ops:", len(opdeck.Deck().ops()))'
fi

echo "-- stubtest"
"$work/venv/bin/python" -m mypy.stubtest opdeck --concise

echo "-- pytest"
"$work/venv/bin/python" -m pytest -c "$root/bindings-python/pyproject.toml" --rootdir "$root/bindings-python" \
  -p no:cacheprovider "$root/bindings-python/tests" "$@"
