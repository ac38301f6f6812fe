#!/usr/bin/env bash
# Installs what the Python wheel's build and tests need (idempotent, stamped):
#
#   $OPDECK_PEERS_DIR/pywheel/tools/   venv with maturin (builds the wheel)
#   $OPDECK_PEERS_DIR/pywheel/house/   wheels of bindings-python/tests/requirements.txt,
#                                      so each test run installs them offline into a fresh venv
#   nginx (Debian)                     the loopback server of bench/python_clients.py
#
# The stamp holds the hash of the requirements and the maturin pin: changing either
# redoes the step. A second run takes well under a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

dir="${OPDECK_PEERS_DIR:-$HOME/.cache/opdeck-peers}/pywheel"
maturin_version="${MATURIN_VERSION:-1.16.0}"
req=bindings-python/tests/requirements.txt
log() { echo "[peers/install-python] $*" >&2; }

py="${OPDECK_PYTHON:-}"
if [ -z "$py" ]; then
  for c in python3 /usr/bin/python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys,venv; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
      py="$(command -v "$c")"; break
    fi
  done
fi
[ -n "$py" ] || { log "no python3 >= 3.9 with venv"; exit 1; }

stamp="$dir/.stamp-$(cat "$req" | sha256sum | cut -c1-16)-maturin-$maturin_version-$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ -f "$stamp" ] && [ -x "$dir/tools/bin/maturin" ]; then
  log "maturin $maturin_version and the test wheelhouse present in $dir"
else
  log "creating $dir/tools (maturin $maturin_version) and $dir/house with $py ($("$py" --version 2>&1))"
  rm -rf "$dir"
  mkdir -p "$dir"
  "$py" -m venv "$dir/tools"
  pip=("$dir/tools/bin/python" -m pip -q --disable-pip-version-check --no-input)
  "${pip[@]}" install "maturin==$maturin_version" </dev/null
  "${pip[@]}" wheel -w "$dir/house" -r "$req" </dev/null
  touch "$stamp"
fi

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
  log "apt-get install nginx-light (the client bench's loopback server)"
  "${sudo[@]}" apt-get update -qq </dev/null
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx-light </dev/null >/dev/null \
    || "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx </dev/null >/dev/null
  # The package starts a system nginx on port 80; the bench runs its own.
  "${sudo[@]}" systemctl disable --now nginx >/dev/null 2>&1 || "${sudo[@]}" service nginx stop >/dev/null 2>&1 || true
fi
log "done: $dir"
