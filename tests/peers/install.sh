#!/usr/bin/env bash
# Installs everything opdeck's tests need on a fresh Debian 12 machine (run as root,
# unattended, no stdin). Idempotent: each step is skipped when already done, so a
# second run takes about a second.
#
#   bash tests/peers/install.sh            # or: source it (it only exports variables)
#
# What goes where:
#   Debian packages  postgresql (15), redis-server, lua5.4, liblua5.4-dev, lua5.1, lua5.2, lua5.3, luajit
#                    (the module's tests run under each), luarocks
#   $OPDECK_PEERS_DIR                       default: $HOME/.cache/opdeck-peers
#     venv/          Python virtualenv with zou==$ZOU_VERSION (bin/zou, bin/gunicorn)
#     node_modules/  @stoplight/prism-cli@$PRISM_VERSION (node_modules/.bin/prism)
#     .stamp-*       markers that let a second run skip finished steps
#   Runtime state of the servers (pg cluster, redis, logs, env file) lives elsewhere:
#   $OPDECK_PEERS_RUN, default /tmp/opdeck-peers-run (see zou.sh / prism.sh).
#
# Pins: prism 5.14.2 is the newest 5.x that runs on Node 20 (5.15.x and 5.16.0 need
# Node >= 24). zou 1.0.97 pins every one of its own Python dependencies exactly.
# Debian packages are not version-pinned (bookworm stable + security updates decide);
# luarocks (Debian's 3.8) installs the Lua rock in tests/lua/run.sh luarocks.

# Work both when executed and when sourced: only the body runs in a subshell.
_opdeck_peers_install() (
  set -euo pipefail
  export DEBIAN_FRONTEND=noninteractive

  local dir="${OPDECK_PEERS_DIR:-$HOME/.cache/opdeck-peers}"
  local zou_version="${ZOU_VERSION:-1.0.97}"
  local prism_version="${PRISM_VERSION:-5.14.2}"
  log() { echo "[peers/install] $*" >&2; }

  mkdir -p "$dir"

  # --- Debian packages ------------------------------------------------------
  local pkgs=(postgresql redis-server lua5.4 liblua5.4-dev lua5.1 lua5.2 lua5.3 luajit luarocks ca-certificates curl)
  local missing=()
  local p
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    log "apt-get install ${missing[*]}"
    "${sudo[@]}" apt-get update -qq </dev/null
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "${missing[@]}" </dev/null >/dev/null
    # The Debian packages start a system cluster / redis on the default ports.
    # Our tests use private instances on other ports, so those do not matter.
  else
    log "Debian packages present"
  fi

  # --- Python venv with zou -------------------------------------------------
  local venv="$dir/venv"
  if [ -x "$venv/bin/zou" ] && [ -f "$dir/.stamp-zou-$zou_version" ]; then
    log "zou $zou_version present in $venv"
  else
    local py="${OPDECK_PYTHON:-}"
    if [ -z "$py" ]; then
      local c
      for c in python3 "${PYENV_ROOT:-$HOME/.pyenv}"/shims/python3 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[0-4]*/bin/python3 /usr/bin/python3; do
        if command -v "$c" >/dev/null 2>&1 &&
          "$c" -c 'import sys,venv,ensurepip; sys.exit(not ((3,10)<=sys.version_info[:2]<(3,15)))' 2>/dev/null; then
          py="$c"; break
        fi
      done
    fi
    if [ -z "$py" ]; then
      log "no usable python3 with venv: installing Debian python3-venv"
      apt-get update -qq </dev/null
      apt-get install -y -qq --no-install-recommends python3 python3-venv </dev/null >/dev/null
      py=/usr/bin/python3
    fi
    log "creating $venv with $py ($("$py" --version 2>&1)) and installing zou==$zou_version"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input \
      "zou==$zou_version" </dev/null
    rm -f "$dir"/.stamp-zou-*
    touch "$dir/.stamp-zou-$zou_version"
  fi

  # --- pytest for tests/python, in a venv of its own ----------------------------
  local pytest_version=8.3.4
  local tools="$dir/pytools"
  if [ -x "$tools/bin/pytest" ] && [ -f "$dir/.stamp-pytest-$pytest_version" ]; then
    log "pytest $pytest_version present in $tools"
  else
    log "creating $tools with pytest==$pytest_version"
    rm -rf "$tools"
    "$venv/bin/python" -m venv "$tools"
    "$tools/bin/python" -m pip install -q --disable-pip-version-check --no-input "pytest==$pytest_version" </dev/null
    rm -f "$dir"/.stamp-pytest-*
    touch "$dir/.stamp-pytest-$pytest_version"
  fi

  # --- prism (npm, local prefix) ---------------------------------------------
  if [ -x "$dir/node_modules/.bin/prism" ] && [ -f "$dir/.stamp-prism-$prism_version" ]; then
    log "prism $prism_version present in $dir/node_modules"
  else
    command -v npm >/dev/null || { log "npm not found (Node.js 18+ needed)"; exit 1; }
    log "npm install @stoplight/prism-cli@$prism_version into $dir"
    [ -f "$dir/package.json" ] || echo '{"name":"opdeck-peers","private":true}' >"$dir/package.json"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
      --save-exact "@stoplight/prism-cli@$prism_version" </dev/null >/dev/null
    rm -f "$dir"/.stamp-prism-*
    touch "$dir/.stamp-prism-$prism_version"
  fi
  log "done: $dir"
)

_opdeck_peers_install
_opdeck_peers_rc=$?
export OPDECK_PEERS_DIR="${OPDECK_PEERS_DIR:-$HOME/.cache/opdeck-peers}"
unset -f _opdeck_peers_install
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
  return "$_opdeck_peers_rc"
else
  exit "$_opdeck_peers_rc"
fi
