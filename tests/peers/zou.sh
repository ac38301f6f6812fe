#!/usr/bin/env bash
# A real Kitsu/Zou 1.0.97 server for opdeck's tests, on loopback only.
#
#   tests/peers/zou.sh start   # idempotent; prints `export OPDECK_KITSU_...=` lines
#   tests/peers/zou.sh env     # prints the same lines if it is running (exit 1 if not)
#   tests/peers/zou.sh status  # exit 0 if Zou answers
#   tests/peers/zou.sh stop    # stops gunicorn, redis, postgres and deletes the state
#
#   eval "$(tests/peers/zou.sh start)"     # sets OPDECK_KITSU_URL/USERNAME/PASSWORD
#
# Needs tests/peers/install.sh first (zou venv in $OPDECK_PEERS_DIR/venv).
# Pieces (all 127.0.0.1, private ports so a system cluster/redis never clashes):
#   PostgreSQL  port $ZOU_PG_PORT (54329), private cluster in $RUN/pg, run as user
#               `postgres` when we are root; db zoudb, user postgres, scram password
#   Redis       port $ZOU_KV_PORT (63799), daemonized, no RDB/AOF persistence
#   Zou         gunicorn zou.app:app on port $ZOU_PORT (5099), 2 sync workers
#   State       $OPDECK_PEERS_RUN (default /tmp/opdeck-peers-run): pg/, zou/, logs/*.log,
#               zou.env (KEY=VALUE lines, `set -a; . zou.env` works)
# A cold start (initdb + init-db + init-data + create-admin + gunicorn) takes ~25 s;
# a warm `start` (already running) takes well under a second.
#
# ---- Findings (checked for real against zou 1.0.97 on this setup, 2026-11-22) ----
# * URL prefix: gunicorn serves the routes at the ROOT, not under /api (only Kitsu's
#   nginx adds /api). So OPDECK_KITSU_URL=http://127.0.0.1:5099 and the spec paths
#   append directly: /auth/login, /data/projects, ... `GET /` is the health route:
#   {"api":"Zou","version":"1.0.97"}. `GET /api` is 404. `GET /openapi.json` is 200
#   (1.5 MB, the same document as the original of tests/specs/kitsu-zou-1.0.97.openapi.json).
# * Login: POST /auth/login {"email","password"} -> 200 JSON {user{...},
#   organisation{...}, login:true, access_token, refresh_token}. No Set-Cookie header
#   is sent. Wrong password or unknown email: 400 {"login":false,"message":"Wrong
#   email or password."}.
# * Auth header: `Authorization: Bearer <access_token>`. Tokens are JWT HS256 signed
#   with SECRET_KEY (exported as OPDECK_KITSU_SECRET_KEY so tests can forge an expired
#   token: copy the claims exp, fresh, iat, identity_type, jti, nbf, refresh_jti, sub,
#   type of a real token, set exp in the past and a new jti). Access tokens live
#   7 days, refresh tokens 15 days (hard-coded in zou's config, no env override).
# * No token: 401 {"msg":"Missing JWT in cookies or headers (...)"}.
# * EXPIRED token: 401 {"error":true,"message":"Signature has expired"}  (not 422;
#   note the body shape differs from the other JWT errors: message, not msg).
# * Malformed token: 422 {"msg":"Not enough segments"} / {"msg":"Invalid header
#   padding"}; wrong signature: 422 {"msg":"Signature verification failed"}.
#   So invalid -> 422, expired -> 401, revoked -> 401 (flask-jwt-extended).
# * GET /auth/refresh-token needs the REFRESH token as Bearer -> 200
#   {"access_token":"..."} (only a new access token; keep the old refresh token).
#   With the access token instead: 422 {"msg":"Only refresh tokens are allowed"}.
# * GET /auth/logout revokes the token (DB blacklist); reusing it -> 401
#   {"msg":"Token has been revoked"}.
# * Projects: POST /data/projects {"name":"..."} -> 201 (status "Open"); GET
#   /data/projects lists it. DELETE /data/projects/<id>?force=true on an open project
#   -> 400 {"error":true,"message":"Only closed projects can be deleted"}.
#   GET /data/project-status -> [Open, Closed]; PUT /data/projects/<id>
#   {"project_status_id":<Closed id>} -> 200; then DELETE ...?force=true -> 204, and
#   GET /data/projects/<id> -> 404.
# All of this is re-checked by `tests/peers/zou.sh selftest` (prints "N failed").
set -euo pipefail

PEERS_DIR="${OPDECK_PEERS_DIR:-$HOME/.cache/opdeck-peers}"
RUN="${OPDECK_PEERS_RUN:-/tmp/opdeck-peers-run}"
VENV="$PEERS_DIR/venv"
ZOU_PORT="${ZOU_PORT:-5099}"
ZOU_PG_PORT="${ZOU_PG_PORT:-54329}"
ZOU_KV_PORT="${ZOU_KV_PORT:-63799}"
ADMIN_EMAIL="admin@example.com"
ADMIN_PASSWORD="${ZOU_ADMIN_PASSWORD:-opdeck-admin-pw}"
DB_PASSWORD="opdeck-db-pw"
ENV_FILE="$RUN/zou.env"
URL="http://127.0.0.1:$ZOU_PORT"

log() { echo "[peers/zou] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

pg_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [ -n "$d" ] || die "PostgreSQL server binaries not found (run tests/peers/install.sh)"
  echo "$d"
}

# Run a command as the owner of the private cluster (postgres when we are root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

zou_env() {
  export DB_HOST=127.0.0.1 DB_PORT="$ZOU_PG_PORT" DB_USERNAME=postgres \
    DB_PASSWORD="$DB_PASSWORD" DB_DATABASE=zoudb \
    KV_HOST=127.0.0.1 KV_PORT="$ZOU_KV_PORT" \
    SECRET_KEY="$(cat "$RUN/secret_key")" \
    PREVIEW_FOLDER="$RUN/zou/previews" TMP_DIR="$RUN/zou/tmp" \
    PLUGIN_FOLDER="$RUN/zou/plugins" EVENT_HANDLERS_FOLDER="$RUN/zou/no-event-handlers" \
    INDEXER_HOST=127.0.0.1 INDEXER_PORT=1 INDEXER_TIMEOUT=200 \
    MAIL_ENABLED=False MAIL_SERVER=127.0.0.1 MAIL_PORT=1 MAIL_CHECK_DELIVERABILITY=False \
    ENABLE_JOB_QUEUE=False IS_SELF_HOSTED=True USER_LIMIT=1000
}

zou_up() { curl -fsS -m 3 "$URL/" 2>/dev/null | grep -q '"api"'; }

print_env() {
  [ -f "$ENV_FILE" ] || die "no $ENV_FILE (not started?)"
  sed 's/^/export /' "$ENV_FILE"
}

start_pg() {
  local bin; bin="$(pg_bin)"
  local data="$RUN/pg/data"
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initdb $data"
    rm -rf "$RUN/pg"
    mkdir -p "$RUN/pg"
    printf '%s\n' "$DB_PASSWORD" >"$RUN/pg/pwfile"
    [ "$(id -u)" -ne 0 ] || chown -R postgres: "$RUN/pg"
    chmod 700 "$RUN/pg"
    as_pg "$bin/initdb" -D "$data" -U postgres --pwfile="$RUN/pg/pwfile" \
      --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 \
      >"$RUN/logs/initdb.log" 2>&1 || { cat "$RUN/logs/initdb.log" >&2; die "initdb failed"; }
  fi
  if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    return 0
  fi
  log "starting PostgreSQL on 127.0.0.1:$ZOU_PG_PORT"
  touch "$RUN/logs/postgres.log"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$RUN/logs/postgres.log"
  as_pg "$bin/pg_ctl" -D "$data" -l "$RUN/logs/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $ZOU_PG_PORT -c unix_socket_directories=$RUN/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { tail -20 "$RUN/logs/postgres.log" >&2; die "PostgreSQL did not start"; }
  if ! PGPASSWORD="$DB_PASSWORD" "$bin/psql" -h 127.0.0.1 -p "$ZOU_PG_PORT" -U postgres -tAc \
    "select 1 from pg_database where datname='zoudb'" postgres | grep -q 1; then
    PGPASSWORD="$DB_PASSWORD" "$bin/createdb" -h 127.0.0.1 -p "$ZOU_PG_PORT" -U postgres zoudb
  fi
}

start_redis() {
  if redis-cli -h 127.0.0.1 -p "$ZOU_KV_PORT" ping 2>/dev/null | grep -q PONG; then
    return 0
  fi
  command -v redis-server >/dev/null || die "redis-server not found (run tests/peers/install.sh)"
  log "starting Redis on 127.0.0.1:$ZOU_KV_PORT"
  mkdir -p "$RUN/redis"
  redis-server --bind 127.0.0.1 --port "$ZOU_KV_PORT" --daemonize yes \
    --save '' --appendonly no --dir "$RUN/redis" \
    --pidfile "$RUN/redis/redis.pid" --logfile "$RUN/logs/redis.log"
  local i
  for i in $(seq 50); do
    redis-cli -h 127.0.0.1 -p "$ZOU_KV_PORT" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  die "Redis did not start (see $RUN/logs/redis.log)"
}

init_zou() {
  [ -f "$RUN/zou/.initialized" ] && return 0
  log "zou init-db / init-data / create-admin"
  (
    cd "$RUN/zou"
    "$VENV/bin/zou" init-db
    "$VENV/bin/zou" init-data
    "$VENV/bin/zou" create-admin "$ADMIN_EMAIL" --password "$ADMIN_PASSWORD"
  ) >"$RUN/logs/zou-init.log" 2>&1 || { tail -30 "$RUN/logs/zou-init.log" >&2; die "zou init failed"; }
  touch "$RUN/zou/.initialized"
}

start_gunicorn() {
  zou_up && return 0
  if [ -f "$RUN/zou/gunicorn.pid" ] && kill -0 "$(cat "$RUN/zou/gunicorn.pid")" 2>/dev/null; then
    log "gunicorn pid $(cat "$RUN/zou/gunicorn.pid") exists but does not answer; restarting it"
    kill "$(cat "$RUN/zou/gunicorn.pid")" 2>/dev/null || true
    sleep 1
  fi
  log "starting gunicorn zou.app:app on $URL"
  (
    cd "$RUN/zou"
    setsid "$VENV/bin/gunicorn" -b "127.0.0.1:$ZOU_PORT" -w "${ZOU_WORKERS:-2}" \
      --timeout 120 --pid "$RUN/zou/gunicorn.pid" --no-control-socket \
      --access-logfile "$RUN/logs/zou-access.log" --error-logfile "$RUN/logs/zou.log" \
      --daemon zou.app:app </dev/null >>"$RUN/logs/zou.log" 2>&1
  )
  local i
  for i in $(seq 120); do
    zou_up && return 0
    sleep 0.5
    # gunicorn --daemon writes its pid file once the master is up; give up early
    # when the master has died (e.g. "App failed to load").
    if [ "$i" -gt 10 ] && { [ ! -f "$RUN/zou/gunicorn.pid" ] ||
      ! kill -0 "$(cat "$RUN/zou/gunicorn.pid")" 2>/dev/null; }; then
      break
    fi
  done
  tail -30 "$RUN/logs/zou.log" >&2 || true
  die "Zou did not answer on $URL/ (see $RUN/logs/zou.log)"
}

write_env() {
  local tmp="$ENV_FILE.tmp"
  cat >"$tmp" <<EOF
OPDECK_KITSU_URL=$URL
OPDECK_KITSU_USERNAME=$ADMIN_EMAIL
OPDECK_KITSU_PASSWORD=$ADMIN_PASSWORD
OPDECK_KITSU_SECRET_KEY=$(cat "$RUN/secret_key")
EOF
  mv "$tmp" "$ENV_FILE"
}

# Zou creates its default organisation on the first login; concurrent first
# logins race on its unique name and all but one answer 500. One login here,
# before any test runs, creates it.
warm_up() {
  local body
  body=$(printf '{"email":"%s","password":"%s"}' "$ADMIN_EMAIL" "$ADMIN_PASSWORD")
  curl -fsS -m 10 -o /dev/null -H 'Content-Type: application/json' -d "$body" "$URL/auth/login" ||
    die "the first login to Zou failed (see $RUN/logs/zou.log)"
}

cmd_start() {
  if zou_up && [ -f "$ENV_FILE" ]; then
    print_env
    return 0
  fi
  [ -x "$VENV/bin/zou" ] || die "zou not installed in $VENV (run tests/peers/install.sh)"
  mkdir -p "$RUN/logs" "$RUN/zou/previews" "$RUN/zou/tmp" "$RUN/zou/plugins"
  chmod 755 "$RUN" "$RUN/logs"
  [ -s "$RUN/secret_key" ] || (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RUN/secret_key")
  zou_env
  local t0=$SECONDS
  start_pg
  start_redis
  init_zou
  start_gunicorn
  warm_up
  write_env
  log "Zou up at $URL ($((SECONDS - t0)) s); env in $ENV_FILE"
  print_env
}

cmd_stop() {
  local keep="${1:-}"
  if [ -f "$RUN/zou/gunicorn.pid" ]; then
    local pid; pid="$(cat "$RUN/zou/gunicorn.pid")"
    if kill "$pid" 2>/dev/null; then
      log "stopping gunicorn ($pid)"
      local i
      for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN/zou/gunicorn.pid"
  fi
  if redis-cli -h 127.0.0.1 -p "$ZOU_KV_PORT" ping 2>/dev/null | grep -q PONG; then
    log "stopping Redis"
    redis-cli -h 127.0.0.1 -p "$ZOU_KV_PORT" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ -f "$RUN/pg/data/PG_VERSION" ]; then
    local bin; bin="$(pg_bin)"
    if as_pg "$bin/pg_ctl" -D "$RUN/pg/data" status >/dev/null 2>&1; then
      log "stopping PostgreSQL"
      as_pg "$bin/pg_ctl" -D "$RUN/pg/data" -m fast -w stop >/dev/null || true
    fi
  fi
  rm -f "$ENV_FILE"
  if [ "$keep" != "--keep" ]; then
    rm -rf "$RUN/pg" "$RUN/zou" "$RUN/redis" "$RUN/secret_key"
  fi
}

# Exercise the findings above against the running server (needs python3 in the venv).
cmd_selftest() {
  zou_up || die "Zou is not running"
  "$VENV/bin/python" - "$URL" "$ADMIN_EMAIL" "$ADMIN_PASSWORD" "$(cat "$RUN/secret_key")" <<'PY'
import json, sys, time, uuid, urllib.request, urllib.error
import jwt  # PyJWT, a zou dependency
url, email, pw, secret = sys.argv[1:5]
def req(method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    r = urllib.request.Request(url + path, data=data, method=method)
    if data is not None: r.add_header("Content-Type", "application/json")
    if token: r.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            raw = resp.read(); return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try: return e.code, json.loads(raw)
        except Exception: return e.code, raw.decode(errors="replace")[:200]
fails = 0
def check(name, got, want):
    global fails
    ok = got == want
    fails += not ok
    print(f"{'ok ' if ok else 'BAD'} {name}: {got}" + ("" if ok else f" (expected {want})"))
s, b = req("GET", "/"); check("GET / (health)", s, 200); print("    ", b)
s, _ = req("GET", "/api"); check("GET /api", s, 404)
s, b = req("POST", "/auth/login", {"email": email, "password": "wrong-password"}); check("login wrong password", s, 400)
s, b = req("POST", "/auth/login", {"email": email, "password": pw}); check("login", s, 200)
at, rt = b["access_token"], b["refresh_token"]
s, b = req("GET", "/data/user/context", token=None); check("no token", s, 401); print("    ", b)
s, b = req("GET", "/auth/authenticated", token=at); check("authenticated", s, 200)
s, b = req("GET", "/auth/authenticated", token="garbage"); check("malformed token", s, 422); print("    ", b)
hdr = jwt.get_unverified_header(at); claims = jwt.decode(at, options={"verify_signature": False})
print("     token header", hdr, "claims", sorted(claims))
now = int(time.time())
exp = dict(claims, iat=now - 7200, nbf=now - 7200, exp=now - 3600, jti=str(uuid.uuid4()))
expired = jwt.encode(exp, secret, algorithm=hdr.get("alg", "HS256"))
s, b = req("GET", "/auth/authenticated", token=expired); check("expired token", s, 401); print("    ", b)
forged = jwt.encode(dict(claims, jti=str(uuid.uuid4())), "not-the-secret", algorithm="HS256")
s, b = req("GET", "/auth/authenticated", token=forged); check("bad signature", s, 422); print("    ", b)
s, b = req("GET", "/auth/refresh-token", token=at); check("refresh with access token", s, 422); print("    ", b)
s, b = req("GET", "/auth/refresh-token", token=rt); check("refresh with refresh token", s, 200); print("     keys", sorted(b) if isinstance(b, dict) else b)
at2 = b["access_token"]
s, _ = req("GET", "/auth/authenticated", token=at2); check("refreshed access token works", s, 200)
name = "opdeck-selftest-" + uuid.uuid4().hex[:8]
s, p = req("POST", "/data/projects", {"name": name}, token=at); check("create project", s, 201)
s, b = req("GET", "/data/projects", token=at); check("list projects", s, 200)
check("project listed", any(x["id"] == p["id"] for x in b), True)
s, b = req("DELETE", f"/data/projects/{p['id']}?force=true", token=at); check("delete open project", s, 400); print("    ", b)
s, sts = req("GET", "/data/project-status", token=at); check("project-status", s, 200)
print("     statuses", [x["name"] for x in sts])
closed = next(x["id"] for x in sts if x["name"] == "Closed")
s, b = req("PUT", f"/data/projects/{p['id']}", {"project_status_id": closed}, token=at); check("close project", s, 200)
s, b = req("DELETE", f"/data/projects/{p['id']}?force=true", token=at); check("delete closed project", s, 204)
s, b = req("GET", f"/data/projects/{p['id']}", token=at); check("deleted project gone", s, 404)
s, b = req("GET", "/auth/logout", token=at2); check("logout", s, 200)
s, b = req("GET", "/auth/authenticated", token=at2); check("revoked token", s, 401); print("    ", b)
print(f"selftest: {fails} failed")
sys.exit(1 if fails else 0)
PY
}

case "${1:-}" in
  start) cmd_start ;;
  stop) shift; cmd_stop "${1:-}" ;;
  env) zou_up || die "Zou is not running on $URL"; print_env ;;
  status) zou_up ;;
  selftest) cmd_selftest ;;
  *) echo "usage: $0 start|stop [--keep]|env|status|selftest" >&2; exit 2 ;;
esac
