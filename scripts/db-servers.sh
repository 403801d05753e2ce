#!/usr/bin/env bash
# scripts/db-servers.sh — throwaway PostgreSQL 15 and MariaDB servers for tests.
#
# Usage: scripts/db-servers.sh start|stop|status|env|restart-postgresql|restart-mariadb
#
#   start   create a fresh data folder /tmp/alchemy-db.XXXXXX, initialise and
#           start both servers on 127.0.0.1 only, create the test user and
#           database, check a password login over TCP, record the state in
#           $ALCHEMY_DB_STATE (default /tmp/alchemy-db.state). A stale state
#           file from an earlier run is cleaned up first (`stop`).
#   stop    stop both servers, delete the data folder and the state file.
#           Safe to call twice or when nothing is running.
#   status  tell whether the recorded servers are running.
#   env     print the export lines the test suite reads:
#             ALCHEMY_TEST_POSTGRESQL_URL  postgresql://alchemy:alchemy_pw@127.0.0.1:55432/alchemy_test
#             ALCHEMY_TEST_MYSQL_URL       mysql://alchemy:alchemy_pw@127.0.0.1:53306/alchemy_test
#           use as: eval "$(scripts/db-servers.sh env)"
#   restart-postgresql, restart-mariadb
#           stop that one recorded server (PostgreSQL: pg_ctl stop -m fast;
#           MariaDB: SIGTERM, its clean shutdown) and start it again on the
#           same port with the same data folder; returns once it accepts a
#           password login over TCP. Data survives; open connections do not.
#           For tests/restart, which takes the server's ctest RESOURCE_LOCK.
#
# Needs the packages of `scripts/install-deps.sh --servers`. Works as root:
# PostgreSQL refuses to run as root, so its part runs as the `postgres` user
# (runuser), which is why the data folder lives under /tmp and is traversable.
# MariaDB runs with user=root. Server output only goes to log files inside the
# data folder; `stop` copies them to $ALCHEMY_LOG_DIR when that is set.
#
# Environment overrides: ALCHEMY_PG_PORT (55432), ALCHEMY_MYSQL_PORT (53306),
# ALCHEMY_DB_STATE, ALCHEMY_DB_TIMEOUT (30 s), ALCHEMY_LOG_DIR,
# ALCHEMY_DB_TMPDIR (/tmp; must be reachable by the postgres user).
set -euo pipefail

PG_PORT="${ALCHEMY_PG_PORT:-55432}"
MY_PORT="${ALCHEMY_MYSQL_PORT:-53306}"
STATE_FILE="${ALCHEMY_DB_STATE:-/tmp/alchemy-db.state}"
TIMEOUT="${ALCHEMY_DB_TIMEOUT:-30}"
DB_USER=alchemy
DB_PASS=alchemy_pw
DB_NAME=alchemy_test
DIR_PREFIX=alchemy-db.
# Parent of the throwaway folder. Not $TMPDIR: that may point under /root,
# which the postgres user cannot reach.
DB_TMP="${ALCHEMY_DB_TMPDIR:-/tmp}"

say() { echo "db-servers: $*"; }
die() { echo "db-servers: ERROR: $*" >&2; exit 1; }

# --- tool lookup --------------------------------------------------------------
find_pg_bin() {
  if [[ -n "${ALCHEMY_PG_BIN:-}" ]]; then echo "$ALCHEMY_PG_BIN"; return; fi
  if [[ -x /usr/lib/postgresql/15/bin/initdb ]]; then echo /usr/lib/postgresql/15/bin; return; fi
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/initdb" ]] && { echo "$d"; return; }
  done
  die "PostgreSQL server binaries not found (run scripts/install-deps.sh --servers)"
}
find_tool() {  # find_tool NAME: like command -v, but also looks in /usr/sbin
  command -v "$1" 2>/dev/null || { [[ -x "/usr/sbin/$1" ]] && echo "/usr/sbin/$1"; } \
    || die "$1 not found (run scripts/install-deps.sh --servers)"
}

# Run a command as the PostgreSQL owner: `postgres` when we are root (initdb and
# postgres refuse root), ourselves otherwise. Runs from a folder postgres can
# read, so it does not warn about an unreadable working directory.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# is_pid_of PID NAME: PID is alive and is the program NAME (guards against
# reused pids when killing from a stale state file).
is_pid_of() {
  local stat
  [[ -n "$1" && -r "/proc/$1/comm" ]] || return 1
  [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]] || return 1
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"          # fields after "(comm) "; the first is the state
  [[ "${stat%% *}" != Z ]]     # a zombie is already dead
}

# wait_gone PID SECONDS: wait until PID has exited; 1 if it is still there.
wait_gone() {
  local pid="$1" i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    [[ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" == Z ]] && return 0
    sleep 0.1
  done
  return 1
}

now_ms() { date +%s%3N; }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01ds' $((ms / 1000)) $(((ms % 1000) / 100)); }

# --- state file -----------------------------------------------------------------
# Plain KEY=VALUE lines; parsed, never sourced.
declare -A STATE=()
read_state() {
  STATE=()
  [[ -f "$STATE_FILE" ]] || return 1
  local k v
  while IFS='=' read -r k v; do
    [[ "$k" =~ ^[A-Z_]+$ ]] && STATE[$k]="$v"
  done <"$STATE_FILE"
  return 0
}
write_state() {  # write_state KEY=VALUE... (replaces the file)
  local tmp="$STATE_FILE.tmp.$$"
  printf '%s\n' "$@" >"$tmp"
  mv -f "$tmp" "$STATE_FILE"
}

print_env() {
  echo "export ALCHEMY_TEST_POSTGRESQL_URL=postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME"
  echo "export ALCHEMY_TEST_MYSQL_URL=mysql://$DB_USER:$DB_PASS@127.0.0.1:$MY_PORT/$DB_NAME"
}

# --- stop -----------------------------------------------------------------------
stop_pg() {
  local data="$1" pg_bin pid
  [[ -f "$data/postmaster.pid" ]] || return 0
  pid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)"
  is_pid_of "$pid" postgres || return 0
  pg_bin="$(find_pg_bin 2>/dev/null)" || pg_bin=/nonexistent
  if as_pg "$pg_bin/pg_ctl" -D "$data" -m fast -w -t "$TIMEOUT" stop >/dev/null 2>&1 </dev/null; then
    say "PostgreSQL stopped"
    return 0
  fi
  # pg_ctl failed (e.g. binaries gone): signal the postmaster directly.
  kill -INT "$pid" 2>/dev/null || true
  wait_gone "$pid" "$TIMEOUT" || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid" 5 || true; }
  say "PostgreSQL stopped (by signal)"
}

stop_mariadb() {
  local pidfile="$1" pid="$2"
  [[ -f "$pidfile" ]] && pid="$(cat "$pidfile" 2>/dev/null || echo "$pid")"
  is_pid_of "$pid" mariadbd || return 0
  # SIGTERM is MariaDB's normal clean shutdown (what mariadb-admin shutdown does).
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$TIMEOUT"; then
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 5 || true
    say "MariaDB killed (did not shut down in ${TIMEOUT}s)"
    return 0
  fi
  say "MariaDB stopped"
}

cmd_stop() {
  if ! read_state; then
    say "nothing to stop (no state file $STATE_FILE)"
    return 0
  fi
  local dir="${STATE[DIR]:-}"
  if [[ -n "$dir" && -d "$dir" ]]; then
    stop_pg "$dir/pg/data"
    stop_mariadb "$dir/my/mariadbd.pid" "${STATE[MY_PID]:-}"
    # Keep the server logs for post-mortems when asked to.
    if [[ -n "${ALCHEMY_LOG_DIR:-}" ]]; then
      mkdir -p "$ALCHEMY_LOG_DIR"
      cp -f "$dir/pg/postgresql.log" "$ALCHEMY_LOG_DIR/postgresql.log" 2>/dev/null || true
      cp -f "$dir/my/error.log" "$ALCHEMY_LOG_DIR/mariadb-error.log" 2>/dev/null || true
      cp -f "$dir/setup.log" "$ALCHEMY_LOG_DIR/db-setup.log" 2>/dev/null || true
    fi
    # Only ever delete a folder that looks like one of ours.
    if [[ "$(basename "$dir")" == "$DIR_PREFIX"* ]]; then
      rm -rf -- "$dir"
    else
      say "not deleting unexpected folder $dir"
    fi
  fi
  rm -f -- "$STATE_FILE"
  say "stopped, data folder removed"
}

# --- start ----------------------------------------------------------------------
# Print the tail of a log and fail (used while starting).
fail_with_log() {
  local msg="$1" log="$2"
  echo "db-servers: ERROR: $msg" >&2
  if [[ -f "$log" ]]; then
    echo "----- last lines of $log -----" >&2
    tail -n 25 "$log" >&2
    echo "-----" >&2
  fi
  exit 1
}

# launch_pg DIR PG_BIN: start the initialised server of DIR (pg_ctl -w: returns once it
# accepts connections). Used by start and restart.
launch_pg() {
  local dir="$1" pg_bin="$2"
  as_pg "$pg_bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/postgresql.log" -w -t "$TIMEOUT" start \
    >>"$dir/setup.log" 2>&1 </dev/null \
    || fail_with_log "PostgreSQL did not start within ${TIMEOUT}s" "$dir/pg/postgresql.log"
}

start_pg() {
  local dir="$1" pg_bin t0
  t0="$(now_ms)"
  pg_bin="$(find_pg_bin)"
  local base="$dir/pg" data="$dir/pg/data" sock="$dir/pg/run" log="$dir/pg/postgresql.log"
  mkdir -p "$base" "$sock"
  if [[ $EUID -eq 0 ]]; then chown -R postgres:postgres "$base"; fi
  chmod 700 "$base"

  as_pg "$pg_bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync --no-instructions \
    >>"$dir/setup.log" 2>&1 </dev/null \
    || fail_with_log "PostgreSQL initdb failed" "$dir/setup.log"

  # Settings for a private, disposable server: loopback only, own socket
  # folder, no durability (faster tests), log to a file.
  as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF

# --- alchemy throwaway test server (scripts/db-servers.sh) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sock'
password_encryption = 'scram-sha-256'
max_connections = 100
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

  launch_pg "$dir" "$pg_bin"

  # Role and database, over the private unix socket (trust auth, superuser).
  as_pg "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$sock" -p "$PG_PORT" -U postgres -d postgres \
    >>"$dir/setup.log" 2>&1 <<EOF || fail_with_log "PostgreSQL: creating role/database failed" "$dir/setup.log"
CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASS';
CREATE DATABASE $DB_NAME OWNER $DB_USER;
EOF
  PG_BIN_DIR="$pg_bin"
  say "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') ready on 127.0.0.1:$PG_PORT ($(elapsed "$t0"))"
}

# launch_mariadb DIR MARIADBD ADMIN: start mariadbd with DIR/my/my.cnf, record its pid in
# the state file and in MY_PID, and wait until it answers a ping. Used by start and restart.
launch_mariadb() {
  local dir="$1" mariadbd="$2" admin="$3"
  local base="$dir/my" cnf="$dir/my/my.cnf" pidfile="$dir/my/mariadbd.pid" errlog="$dir/my/error.log"
  # setsid + </dev/null + output to a file: the server must not hold the
  # caller's terminal or CI output pipe open after this script returns.
  setsid "$mariadbd" --defaults-file="$cnf" </dev/null >>"$base/mariadbd.out" 2>&1 &
  local pid=$!
  MY_PID="$pid"
  write_state "DIR=$dir" "MY_PID=$pid" "PG_PORT=$PG_PORT" "MY_PORT=$MY_PORT"

  local i ok=0
  for ((i = 0; i < TIMEOUT * 10; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      fail_with_log "mariadbd exited during start-up" "$errlog"
    fi
    if "$admin" --defaults-file="$cnf" --connect-timeout=1 ping >/dev/null 2>&1 </dev/null; then
      ok=1; break
    fi
    sleep 0.1
  done
  (( ok )) || fail_with_log "MariaDB not ready within ${TIMEOUT}s" "$errlog"
  [[ -f "$pidfile" ]] && MY_PID="$(cat "$pidfile")"
}

start_mariadb() {
  local dir="$1" t0 mariadbd install_db admin client me
  t0="$(now_ms)"
  mariadbd="$(find_tool mariadbd)"
  install_db="$(find_tool mariadb-install-db)"
  admin="$(find_tool mariadb-admin)"
  client="$(find_tool mariadb)"
  me="$(id -un)"
  local base="$dir/my" cnf="$dir/my/my.cnf" sock="$dir/my/mysqld.sock"
  local pidfile="$dir/my/mariadbd.pid" errlog="$dir/my/error.log"
  mkdir -p "$base/data" "$base/tmp"

  (( ${#sock} < 107 )) || die "MariaDB socket path too long (${#sock} bytes): $sock — use a shorter ALCHEMY_DB_TMPDIR"

  cat >"$cnf" <<EOF
# alchemy throwaway MariaDB test server (scripts/db-servers.sh)
[mysqld]
user = $me
datadir = $base/data
tmpdir = $base/tmp
socket = $sock
pid-file = $pidfile
log-error = $errlog
port = $MY_PORT
bind-address = 127.0.0.1
skip-networking = 0
skip-name-resolve
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
# disposable data: trade durability for speed, keep memory modest
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
innodb_buffer_pool_size = 128M
innodb_log_file_size = 48M
max_connections = 200

[client]
socket = $sock
port = $MY_PORT
user = $me
EOF

  "$install_db" --defaults-file="$cnf" --skip-test-db --auth-root-authentication-method=socket \
    >>"$dir/setup.log" 2>&1 </dev/null \
    || fail_with_log "mariadb-install-db failed" "$dir/setup.log"

  launch_mariadb "$dir" "$mariadbd" "$admin"

  # Test database and user. A user may always KILL its own connections, so a
  # test can kill another of its connections without extra rights; PROCESS
  # lets it see them all in the processlist. (CONNECTION ADMIN/SUPER are not
  # granted: they would also make the server skip init_connect and ignore
  # max_connections for this user, unlike a normal application account.)
  # The `alchemy\_test\_%` grant allows scratch databases like alchemy_test_2.
  "$client" --defaults-file="$cnf" >>"$dir/setup.log" 2>&1 <<EOF || fail_with_log "MariaDB: creating user/database failed" "$dir/setup.log"
CREATE DATABASE IF NOT EXISTS $DB_NAME CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASS';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'%';
GRANT ALL PRIVILEGES ON \`alchemy\\_test\\_%\`.* TO '$DB_USER'@'%';
GRANT PROCESS ON *.* TO '$DB_USER'@'%';
FLUSH PRIVILEGES;
EOF
  say "MariaDB $("$mariadbd" --version | awk '{print $3}' | cut -d- -f1) ready on 127.0.0.1:$MY_PORT ($(elapsed "$t0"))"
}

# Prove what the tests will do: password login over TCP to 127.0.0.1.
check_tcp_logins() {
  local dir="$1"
  PGPASSWORD="$DB_PASS" PGCONNECT_TIMEOUT=5 "$PG_BIN_DIR/psql" -X -q -At -h 127.0.0.1 -p "$PG_PORT" \
    -U "$DB_USER" -d "$DB_NAME" -c 'SELECT 1' >>"$dir/setup.log" 2>&1 </dev/null \
    || fail_with_log "PostgreSQL: password login over TCP as $DB_USER failed" "$dir/setup.log"
  "$(find_tool mariadb)" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MY_PORT" -u "$DB_USER" \
    -p"$DB_PASS" --connect-timeout=5 -e 'SELECT 1' "$DB_NAME" >>"$dir/setup.log" 2>&1 </dev/null \
    || fail_with_log "MariaDB: password login over TCP as $DB_USER failed" "$dir/setup.log"
}

cmd_start() {
  local t0 dir
  t0="$(now_ms)"
  if [[ -f "$STATE_FILE" ]]; then
    say "found state of an earlier run ($STATE_FILE), stopping it first"
    cmd_stop
  fi
  local p
  for p in "$PG_PORT" "$MY_PORT"; do
    if port_in_use "$p"; then
      die "port $p on 127.0.0.1 is already in use by another program (see: ss -ltnp)"
    fi
  done

  dir="$(mktemp -d "$DB_TMP/${DIR_PREFIX}XXXXXX")"
  chmod 755 "$dir"   # the postgres user must be able to reach $dir/pg
  : >"$dir/setup.log"
  write_state "DIR=$dir" "PG_PORT=$PG_PORT" "MY_PORT=$MY_PORT"
  # On any failure below, tear down what was started so nothing is left behind.
  trap 'rc=$?; if (( rc != 0 )); then cmd_stop >/dev/null 2>&1 || true; fi' EXIT

  # The two servers initialise independently; doing PostgreSQL in the
  # background while MariaDB initialises would save ~1 s, but sequential
  # output is easier to read when something fails.
  start_pg "$dir"
  start_mariadb "$dir"
  check_tcp_logins "$dir"
  write_state "DIR=$dir" "MY_PID=$MY_PID" "PG_PORT=$PG_PORT" "MY_PORT=$MY_PORT"
  trap - EXIT
  say "both servers up in $(elapsed "$t0") (data: $dir, logs: $dir/setup.log, $dir/pg/postgresql.log, $dir/my/error.log)"
}

cmd_status() {
  if ! read_state; then say "not running (no state file)"; return 1; fi
  local dir="${STATE[DIR]:-}" pid rc=0
  pid="$(head -n 1 "$dir/pg/data/postmaster.pid" 2>/dev/null || true)"
  if is_pid_of "$pid" postgres; then say "PostgreSQL running (pid $pid)"; else say "PostgreSQL NOT running"; rc=1; fi
  pid="$(cat "$dir/my/mariadbd.pid" 2>/dev/null || echo "${STATE[MY_PID]:-}")"
  if is_pid_of "$pid" mariadbd; then say "MariaDB running (pid $pid)"; else say "MariaDB NOT running"; rc=1; fi
  return $rc
}

# --- restart ------------------------------------------------------------------
# Stop one recorded server (PostgreSQL: fast shutdown; MariaDB: SIGTERM, its clean
# shutdown) and start it again on the same port with the same data folder, for tests
# of a server lost mid-run. Returns once it accepts a password login over TCP.
cmd_restart() {
  local which="$1" t0 dir
  t0="$(now_ms)"
  read_state || die "no state file $STATE_FILE: start the servers first"
  dir="${STATE[DIR]:-}"
  [[ -n "$dir" && -d "$dir" ]] || die "the recorded data folder '$dir' does not exist"
  # The recorded ports win over the environment: the same server comes back.
  PG_PORT="${STATE[PG_PORT]:-$PG_PORT}"
  MY_PORT="${STATE[MY_PORT]:-$MY_PORT}"
  case "$which" in
    postgresql)
      local pg_bin
      pg_bin="$(find_pg_bin)"
      stop_pg "$dir/pg/data"
      launch_pg "$dir" "$pg_bin"
      PGPASSWORD="$DB_PASS" PGCONNECT_TIMEOUT=5 "$pg_bin/psql" -X -q -At -h 127.0.0.1 -p "$PG_PORT" \
        -U "$DB_USER" -d "$DB_NAME" -c 'SELECT 1' >>"$dir/setup.log" 2>&1 </dev/null \
        || fail_with_log "PostgreSQL: password login over TCP after the restart failed" "$dir/setup.log"
      say "PostgreSQL restarted on 127.0.0.1:$PG_PORT ($(elapsed "$t0"))"
      ;;
    mariadb)
      local mariadbd admin
      mariadbd="$(find_tool mariadbd)"
      admin="$(find_tool mariadb-admin)"
      stop_mariadb "$dir/my/mariadbd.pid" "${STATE[MY_PID]:-}"
      launch_mariadb "$dir" "$mariadbd" "$admin"
      write_state "DIR=$dir" "MY_PID=$MY_PID" "PG_PORT=$PG_PORT" "MY_PORT=$MY_PORT"
      "$(find_tool mariadb)" --no-defaults --protocol=TCP -h 127.0.0.1 -P "$MY_PORT" -u "$DB_USER" \
        -p"$DB_PASS" --connect-timeout=5 -e 'SELECT 1' "$DB_NAME" >>"$dir/setup.log" 2>&1 </dev/null \
        || fail_with_log "MariaDB: password login over TCP after the restart failed" "$dir/setup.log"
      say "MariaDB restarted on 127.0.0.1:$MY_PORT ($(elapsed "$t0"))"
      ;;
  esac
}

case "${1:-}" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  env)    print_env ;;
  restart-postgresql) cmd_restart postgresql ;;
  restart-mariadb)    cmd_restart mariadb ;;
  *) echo "usage: $0 start|stop|status|env|restart-postgresql|restart-mariadb" >&2; exit 2 ;;
esac
