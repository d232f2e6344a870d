#!/usr/bin/env bash
# Several Parley instances on one machine, no containers: a private PostgreSQL and redis-server
# (Debian's binaries), N `parley serve` instances (migrated once) and nginx in front on one port.
#
#   scripts/cluster.sh start|stop|status|restart
#
# Everything lives under the state directory (default var/cluster): data, logs (log/), pid files
# (run/), the generated nginx.conf and env file. `stop` stops what `start` started, by pid file only.
# Settings (environment):
#   PARLEY_CLUSTER_DIR        state directory                      (var/cluster)
#   PARLEY_CLUSTER_PORT       nginx's port, the one URL to use     (8080)
#   PARLEY_CLUSTER_INSTANCES  how many `parley serve` instances    (2)
#   PARLEY_CLUSTER_WORKERS    worker processes per instance        (1)
#   PARLEY_CLUSTER_APP_PORT   first instance's port; the others follow (8101)
#   PARLEY_CLUSTER_PG_PORT    PostgreSQL's port                    (55432)
#   PARLEY_CLUSTER_REDIS_PORT redis-server's port                  (56379)
# Other PARLEY_* variables (e.g. PARLEY_RATE_LIMITS_ENABLED) pass through to the instances.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${PARLEY_CLUSTER_DIR:-$ROOT/var/cluster}"
PORT="${PARLEY_CLUSTER_PORT:-8080}"
INSTANCES="${PARLEY_CLUSTER_INSTANCES:-2}"
WORKERS="${PARLEY_CLUSTER_WORKERS:-1}"
APP_PORT="${PARLEY_CLUSTER_APP_PORT:-8101}"
PG_PORT="${PARLEY_CLUSTER_PG_PORT:-55432}"
REDIS_PORT="${PARLEY_CLUSTER_REDIS_PORT:-56379}"
PARLEY="${PARLEY_BIN:-$ROOT/.venv/bin/parley}"

mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
LOG="$STATE/log"
RUN="$STATE/run"
PGDATA="$STATE/pg/data"

say() { echo "cluster: $*"; }
die() {
  echo "cluster: $*" >&2
  exit 1
}

pg_bin() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -n "$d" && -x "$d/initdb" ]]; then
    echo "$d"
  elif command -v initdb >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
  else
    die "PostgreSQL server binaries not found: scripts/system-deps.sh (apt-get install postgresql)"
  fi
}

# initdb refuses to run as root: as root, PostgreSQL runs as the postgres system user
if [[ "$(id -u)" == 0 ]]; then
  PG_USER=postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  PG_USER="$(id -un)"
  as_pg() { "$@"; }
fi

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_http() { # url seconds [pid file: give up as soon as that process is gone]
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    if [[ -n "${3:-}" ]] && ! alive "$3"; then return 1; fi
    sleep 0.2
  done
}

app_ports() {
  local i
  for ((i = 0; i < INSTANCES; i++)); do echo $((APP_PORT + i)); done
}

write_env() {
  local secret="$STATE/secret" proxies='["127.0.0.1"]'
  proxies="${PARLEY_TRUSTED_PROXIES:-$proxies}"
  [[ -s "$secret" ]] || (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '\n' >"$secret")
  # the instances must agree on every secret: one key for cookies, cursors and IP hashes
  cat >"$STATE/env" <<EOF
PARLEY_DATABASE_URL=postgresql://$PG_USER@127.0.0.1:$PG_PORT/parley
PARLEY_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
PARLEY_DATA_DIR=$STATE/data
PARLEY_SECRET_KEY=$(cat "$secret")
PARLEY_PUBLIC_URL=${PARLEY_PUBLIC_URL:-http://127.0.0.1:$PORT}
PARLEY_TRUSTED_PROXIES='$proxies'
PARLEY_WORKERS=$WORKERS
EOF
}

load_env() {
  set -a
  # shellcheck disable=SC1091
  source "$STATE/env"
  set +a
}

start_pg() {
  local bin
  bin="$(pg_bin)"
  if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
    mkdir -p "$STATE/pg"
    [[ "$PG_USER" == postgres && "$(id -u)" == 0 ]] && chown postgres: "$STATE/pg"
    as_pg "$bin/initdb" -D "$PGDATA" -U "$PG_USER" --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$LOG/initdb.log"
  fi
  if as_pg "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    say "postgresql already running (port $PG_PORT)"
    return
  fi
  touch "$LOG/postgresql.log"
  [[ "$(id -u)" == 0 ]] && chown "$PG_USER": "$LOG/postgresql.log"
  as_pg "$bin/pg_ctl" -D "$PGDATA" -l "$LOG/postgresql.log" -w -o \
    "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$STATE/pg -c max_connections=200" \
    start >/dev/null
  if [[ -z "$(as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qAtc \
    "SELECT 1 FROM pg_database WHERE datname = 'parley'")" ]]; then
    as_pg "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE parley" >/dev/null
  fi
  say "postgresql on 127.0.0.1:$PG_PORT"
}

start_redis() {
  if alive "$RUN/redis.pid"; then
    say "redis already running (port $REDIS_PORT)"
    return
  fi
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found: scripts/system-deps.sh"
  mkdir -p "$STATE/redis"
  # state that must survive a restart lives in PostgreSQL: Redis holds counters, events and the cache
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$RUN/redis.pid" \
    --logfile "$LOG/redis.log" --dir "$STATE/redis" --save "" --appendonly no
  local deadline=$((SECONDS + 10))
  until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "redis-server did not start (see $LOG/redis.log)"
    sleep 0.1
  done
  say "redis on 127.0.0.1:$REDIS_PORT"
}

start_apps() {
  load_env
  "$PARLEY" db upgrade >"$LOG/migrate.log" 2>&1 || die "migration failed (see $LOG/migrate.log)"
  local port
  for port in $(app_ports); do
    if alive "$RUN/parley-$port.pid"; then
      say "parley already running on port $port"
      continue
    fi
    # its own session, so stop reaches the supervisor and every worker (kill -- -PGID)
    (cd "$STATE" && exec setsid "$PARLEY" serve --host 127.0.0.1 --port "$port" --workers "$WORKERS" \
      >>"$LOG/parley-$port.log" 2>&1 </dev/null) &
    echo $! >"$RUN/parley-$port.pid"
  done
  for port in $(app_ports); do
    wait_http "http://127.0.0.1:$port/healthz" 120 "$RUN/parley-$port.pid" ||
      die "parley on port $port did not answer (see $LOG/parley-$port.log)"
    say "parley on 127.0.0.1:$port ($WORKERS worker(s))"
  done
}

write_nginx_conf() {
  local port servers="" user_line=""
  for port in $(app_ports); do servers+="    server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'; done
  mkdir -p "$STATE/nginx/tmp"
  if [[ "$(id -u)" == 0 ]]; then
    user_line="user www-data;"
    chown -R www-data: "$STATE/nginx/tmp" 2>/dev/null || user_line="user nobody nogroup;"
    [[ "$user_line" == "user nobody nogroup;" ]] && chown -R nobody:nogroup "$STATE/nginx/tmp"
  fi
  cat >"$STATE/nginx/nginx.conf" <<EOF
# generated by scripts/cluster.sh; edits are overwritten on start
$user_line
worker_processes auto;
pid $RUN/nginx.pid;
# nginx writes the client's address into error lines from "error" down: only "crit" and worse here
# (privacy); set PARLEY_CLUSTER_NGINX_LOG_LEVEL=error to debug upstream failures, and mind the log
error_log $LOG/nginx-error.log ${PARLEY_CLUSTER_NGINX_LOG_LEVEL:-crit};
events { worker_connections 4096; }
http {
    # no client addresses in the log (privacy): method, path without query, status, timing, upstream
    log_format parley '\$time_iso8601 "\$request_method \$uri" \$status \$body_bytes_sent '
                      '\$request_time \$upstream_addr';
    access_log $LOG/nginx-access.log parley;
    client_body_temp_path $STATE/nginx/tmp/body;
    proxy_temp_path $STATE/nginx/tmp/proxy;
    fastcgi_temp_path $STATE/nginx/tmp/fastcgi;
    uwsgi_temp_path $STATE/nginx/tmp/uwsgi;
    scgi_temp_path $STATE/nginx/tmp/scgi;
    client_max_body_size 2m;
    server_tokens off;
    # a whole 1,000-comment thread is ~0.4 MB: with nginx's default buffers (8 x 4 KB) every such
    # answer would go through a temporary file; 512 KB in memory per connection keeps them off disk
    proxy_buffer_size 16k;
    proxy_buffers 32 16k;
    proxy_busy_buffers_size 64k;

    upstream parley {
$servers        keepalive 64;
    }

    server {
        listen 127.0.0.1:$PORT;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host \$host;
        # Parley believes X-Forwarded-For only from PARLEY_TRUSTED_PROXIES (127.0.0.1 here)
        proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto \$scheme;
        # a request that fails on one instance before it was sent is tried on the next
        proxy_next_upstream error timeout;

        location / {
            proxy_pass http://parley;
        }
        # live updates: pass events through unbuffered, keep streams open between heartbeats
        location ~ ^/api/v1/threads/.+/events\$ {
            proxy_pass http://parley;
            proxy_buffering off;
            proxy_cache off;
            proxy_read_timeout 1h;
        }
    }
}
EOF
}

start_nginx() {
  command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || die "nginx not found: scripts/system-deps.sh"
  local nginx_bin
  nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
  write_nginx_conf
  if alive "$RUN/nginx.pid"; then
    "$nginx_bin" -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$LOG/nginx-error.log" -s reload
    say "nginx reloaded (port $PORT)"
    return
  fi
  "$nginx_bin" -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -e "$LOG/nginx-error.log"
  wait_http "http://127.0.0.1:$PORT/healthz" 20 || die "nginx did not answer on port $PORT (see $LOG/nginx-error.log)"
  say "nginx on 127.0.0.1:$PORT → $(app_ports | tr '\n' ' ')"
}

stop_pidfile() { # name pidfile [group]
  local pidfile="$2" pid
  alive "$pidfile" || {
    rm -f "$pidfile"
    return 0
  }
  pid="$(cat "$pidfile")"
  if [[ "${3:-}" == group ]]; then kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"; else kill -TERM "$pid"; fi
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      say "$1 did not stop in 20 s: SIGKILL"
      if [[ "${3:-}" == group ]]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
      kill -KILL "$pid" 2>/dev/null || true
    fi
    sleep 0.1
  done
  rm -f "$pidfile"
  say "$1 stopped"
}

install_missing() {
  # the three Debian packages the cluster needs (scripts/system-deps.sh installs these and the test tools)
  local missing=()
  [[ -n "$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null)" ]] || command -v initdb >/dev/null 2>&1 ||
    missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
  ((${#missing[@]} == 0)) && return 0
  [[ "$(id -u)" == 0 ]] || die "missing Debian packages: ${missing[*]} (sudo apt-get install -y ${missing[*]})"
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # the packages start services of their own; the cluster runs private ones
  if [[ " ${missing[*]} " == *" nginx "* && -s /run/nginx.pid ]]; then /usr/sbin/nginx -s quit || true; fi
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | awk '$4 == "online" {print $1, $2}' | while read -r v c; do
      pg_ctlcluster "$v" "$c" stop || true
    done
  fi
}

cmd_start() {
  mkdir -p "$LOG" "$RUN" "$STATE/data"
  install_missing
  write_env
  start_pg
  start_redis
  start_apps
  start_nginx
  say "ready: http://127.0.0.1:$PORT (state and logs in $STATE)"
}

cmd_stop() {
  local port pidfile
  stop_pidfile nginx "$RUN/nginx.pid"
  for pidfile in "$RUN"/parley-*.pid; do
    [[ -e "$pidfile" ]] || continue
    port="${pidfile##*/parley-}"
    stop_pidfile "parley ${port%.pid}" "$pidfile" group
  done
  stop_pidfile redis "$RUN/redis.pid"
  if [[ -s "$PGDATA/PG_VERSION" ]]; then
    local bin
    bin="$(pg_bin)"
    if as_pg "$bin/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
      as_pg "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
      say "postgresql stopped"
    fi
  fi
}

cmd_status() {
  local rc=0 port bin
  bin="$(pg_bin)"
  report() { # name command...: "up" when the command succeeds
    local name="$1"
    shift
    if "$@" >/dev/null 2>&1; then
      printf '%-22s up\n' "$name"
    else
      printf '%-22s down\n' "$name"
      rc=1
    fi
  }
  report "postgresql :$PG_PORT" as_pg "$bin/pg_ctl" -D "$PGDATA" status
  report "redis :$REDIS_PORT" redis-cli -p "$REDIS_PORT" ping
  for port in $(app_ports); do
    report "parley :$port" curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz"
  done
  report "nginx :$PORT" curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/healthz"
  return $rc
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  restart)
    cmd_stop
    cmd_start
    ;;
  *)
    echo "usage: $0 start|stop|status|restart" >&2
    exit 2
    ;;
esac
