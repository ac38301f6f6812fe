#!/usr/bin/env bash
# Request-validating mock servers (Stoplight Prism 5.14.2) for opdeck's tests.
#
#   tests/peers/prism.sh start NAME SPEC PORT [extra prism flags...]
#       starts `prism mock -h 127.0.0.1 -p PORT SPEC` in the background (own process
#       group), waits until it answers HTTP, prints its URL (http://127.0.0.1:PORT).
#       Idempotent: if NAME already runs and answers, it just prints the URL.
#   tests/peers/prism.sh stop [NAME]     stops NAME, or every mock started by this script
#   tests/peers/prism.sh status [NAME]   lists running mocks (exit 1 if NAME is not up)
#
# Needs tests/peers/install.sh first ($OPDECK_PEERS_DIR/node_modules/.bin/prism).
# State: $OPDECK_PEERS_RUN/prism/NAME.{pid,port,log} (default /tmp/opdeck-peers-run).
# PRISM_START_TIMEOUT (default 180 s) bounds the wait.
#
# ---- Findings (2026-11-22, this machine: 2 cores, 24 GB; prism 5.14.2, node 20) ----
# -h/--host defaults to 127.0.0.1 already; we pass it anyway. Start time = until the
# first HTTP answer; RSS = resident memory of the prism node process after one request.
#   spec (the originals of tests/specs)   loads  start   RSS
#   seald-dashboard-v2.openapi.yaml       ok     3.4 s   157 MB   109 routes
#   dracoon-4.42.openapi.json             ok     3.4 s   172 MB   297 routes
#   dracoon-4.26.7.openapi.json           ok     3.0 s   173 MB   283 routes
#   selfprivacy-1.2.0.openapi.yaml        ok     2.0 s   153 MB    48 routes
#   selfprivacy-1.2.0.swagger2.json       ok     2.2 s   152 MB    49 routes
#   wildduck-1.37.0.openapi.yml           ok     2.0 s   162 MB   106 routes
#   wildduck-1.46.1.openapi.json          ok     1.8 s   156 MB   117 routes
#   kitsu-zou-1.0.97.openapi.json         ok     2.3 s   177 MB   853 routes
# All eight at once (one process each) used ~1.3 GB and started in ~20 s in a row: fine
# on 2 cores / 24 GB. No flag (--errors, --dynamic) is needed for any spec to load.
# Paths are served exactly as under `paths`; the path of `servers[0].url` is NOT
# prepended (dracoon: /v4/..., not /api/v4/...; seald: /dashboardapi/v2/... as written).
# kitsu-zou (hybrid 3.0.2 with Swagger-2 leftovers) loads without warnings, but:
#  - its only security is a global apiKey header `Authorization` and no operation
#    overrides it, so the mock answers 401 (empty body, the spec's own 401) even for
#    POST /auth/login unless some Authorization header is sent; real Zou does not
#    require one for login.
#  - `in: formData` parameters are ignored: operations that have only those (e.g.
#    POST /data/tasks/{id}/comments/{id}/reply) have no requestBody, so any request
#    WITH a body gets 415 INVALID_CONTENT_TYPE.
#  - 15 schema properties carry a boolean `required: true` (invalid in OAS 3); prism
#    then silently skips body validation for that operation: POST /auth/login with
#    {"email":"a@b.c"} (password missing) gets 200. Workaround: feed prism a copy
#    with those property-level booleans deleted; then the same request gets 400.
#  - A bad body on a valid operation gets the spec's 400 response (prism prefers a
#    declared 400 over its own 422 with the `validation` array).
# Prism answers 404 for unknown paths, 405 for a wrong method, 401 when security is
# missing, 422 {"validation":[...]} on a request that breaks the spec; a valid
# request gets the example/synthesised response (200/201...).
set -euo pipefail

PEERS_DIR="${OPDECK_PEERS_DIR:-$HOME/.cache/opdeck-peers}"
RUN="${OPDECK_PEERS_RUN:-/tmp/opdeck-peers-run}"
STATE="$RUN/prism"
PRISM="$PEERS_DIR/node_modules/.bin/prism"

log() { echo "[peers/prism] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

answers() { # port
  local code
  code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$1/" 2>/dev/null || true)"
  [ -n "$code" ] && [ "$code" != "000" ]
}

alive() { # name
  [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null
}

cmd_start() {
  [ $# -ge 3 ] || die "usage: $0 start NAME SPEC PORT [prism flags...]"
  local name="$1" spec="$2" port="$3"; shift 3
  [[ "$name" =~ ^[A-Za-z0-9_.-]+$ ]] || die "bad NAME '$name'"
  [ -f "$spec" ] || die "no spec file $spec"
  [ -x "$PRISM" ] || die "prism not installed at $PRISM (run tests/peers/install.sh)"
  mkdir -p "$STATE"
  if alive "$name" && [ "$(cat "$STATE/$name.port" 2>/dev/null)" = "$port" ] && answers "$port"; then
    echo "http://127.0.0.1:$port"
    return 0
  fi
  alive "$name" && cmd_stop "$name"
  if answers "$port"; then
    die "port $port is already taken by something else"
  fi
  local t0; t0="$(date +%s%N)"
  # setsid: own process group, so stop can end prism and any child it forks.
  setsid "$PRISM" mock -h 127.0.0.1 -p "$port" "$@" "$spec" \
    </dev/null >"$STATE/$name.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
  echo "$port" >"$STATE/$name.port"
  local deadline=$((SECONDS + ${PRISM_START_TIMEOUT:-180}))
  while ! answers "$port"; do
    if ! alive "$name"; then
      tail -n 30 "$STATE/$name.log" >&2
      rm -f "$STATE/$name.pid"
      die "prism '$name' exited while loading $spec (log: $STATE/$name.log)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      tail -n 30 "$STATE/$name.log" >&2
      cmd_stop "$name"
      die "prism '$name' did not answer on port $port in ${PRISM_START_TIMEOUT:-180} s"
    fi
    sleep 0.2
  done
  log "$name up on http://127.0.0.1:$port after $((($(date +%s%N) - t0) / 1000000)) ms (log: $STATE/$name.log)"
  echo "http://127.0.0.1:$port"
}

stop_one() { # name
  local name="$1" pid
  [ -f "$STATE/$name.pid" ] || return 0
  pid="$(cat "$STATE/$name.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name ($pid)"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true

    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/$name.pid" "$STATE/$name.port"
}

cmd_stop() {
  if [ $# -ge 1 ] && [ -n "$1" ]; then
    stop_one "$1"
  else
    local f
    for f in "$STATE"/*.pid; do
      [ -e "$f" ] || continue
      stop_one "$(basename "$f" .pid)"
    done
  fi
}

cmd_status() {
  local f n rc=0 found=0
  for f in "$STATE"/*.pid; do
    [ -e "$f" ] || continue
    n="$(basename "$f" .pid)"
    if [ -n "${1:-}" ] && [ "$n" != "$1" ]; then continue; fi
    found=1
    if alive "$n"; then
      echo "$n http://127.0.0.1:$(cat "$STATE/$n.port") pid $(cat "$f")"
    else
      echo "$n dead"; rc=1
    fi
  done
  [ -z "${1:-}" ] || [ "$found" = 1 ] || rc=1
  return "$rc"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "${1:-}" ;;
  status) shift; cmd_status "${1:-}" ;;
  *) echo "usage: $0 start NAME SPEC PORT [flags...] | stop [NAME] | status [NAME]" >&2; exit 2 ;;
esac
