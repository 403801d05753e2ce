#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmark of issue 4 (docs/performance.md): alchemy against hand-written code on the raw C
# client libraries, in the same process, for SQLite, PostgreSQL and MariaDB/MySQL.
#
#   scripts/bench.sh [--runs R] [--cpu C] [--n-sqlite N] [--n-server N] [--backends "sqlite postgresql mysql"]
#
# Builds the Release benchmark in $BENCH_BUILD_DIR (default build/bench), then runs each backend's
# program R times (default 3; the program prints medians) pinned with taskset to CPU C (default:
# the last CPU), with the database server pinned to the same CPU: on loopback a round trip costs
# ~19 us when client and server share a core and ~90 us when they do not, and unpinned runs flip
# between the two. PostgreSQL: the program pins its own backend process (--pin-server). MariaDB:
# this script pins every thread of the server process for the run and puts its CPU mask back
# afterwards (the server is shared: keep runs short on a shared machine).
#
# Servers: this script starts none. It uses ALCHEMY_TEST_POSTGRESQL_URL and ALCHEMY_TEST_MYSQL_URL;
# without them, start the project's servers first:
#   scripts/db-servers.sh start && eval "$(scripts/db-servers.sh env)"
# A backend whose URL is unset is skipped with a note (SQLite needs nothing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BENCH_BUILD_DIR:-$root/build/bench}"
runs=3
cpu="$(( $(nproc) - 1 ))"
n_sqlite=100000
n_server=20000
backends="sqlite postgresql mysql"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --cpu) cpu="$2"; shift 2 ;;
    --n-sqlite) n_sqlite="$2"; shift 2 ;;
    --n-server) n_server="$2"; shift 2 ;;
    --backends) backends="$2"; shift 2 ;;
    -h|--help) sed -n '3,20p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v taskset >/dev/null || { echo "bench.sh: taskset (util-linux) is needed for pinning" >&2; exit 1; }

targets=()
for b in $backends; do targets+=("bench_$b"); done
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DALCHEMY_BUILD_BENCH=ON \
    -DALCHEMY_BUILD_TESTS=OFF -DALCHEMY_BUILD_EXAMPLES=OFF >/dev/null
fi
ninja -C "$build" "${targets[@]}" >/dev/null

echo "bench machine: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"\
     "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "bench pinning: client and server on cpu $cpu (taskset)"

mariadb_pid=""
mariadb_mask=""
restore_mariadb() {
  if [[ -n "$mariadb_pid" && -n "$mariadb_mask" ]]; then
    taskset -a -p "$mariadb_mask" "$mariadb_pid" >/dev/null 2>&1 || true
  fi
  mariadb_pid=""
}
trap restore_mariadb EXIT INT TERM

# The MariaDB server's pid, from the pid file it names (the server may be another user's).
mariadb_server_pid() {
  local url="$1" rest user pass hostport host port db pidfile
  command -v mariadb >/dev/null || command -v mysql >/dev/null || return 1
  rest="${url#*://}"
  user="${rest%%:*}"; rest="${rest#*:}"
  pass="${rest%%@*}"; rest="${rest#*@}"
  hostport="${rest%%/*}"; db="${rest#*/}"; db="${db%%\?*}"
  host="${hostport%%:*}"; port="${hostport##*:}"
  [[ "$port" == "$hostport" ]] && port=3306
  pidfile="$(MYSQL_PWD="$pass" "$(command -v mariadb || command -v mysql)" -h "$host" -P "$port" \
    -u "$user" -N -B -e 'SELECT @@pid_file' "$db" 2>/dev/null)" || return 1
  [[ -r "$pidfile" ]] && cat "$pidfile"
}

status=0
for b in $backends; do
  args=(--runs "$runs")
  case "$b" in
    sqlite) args+=(--n "$n_sqlite") ;;
    postgresql)
      if [[ -z "${ALCHEMY_TEST_POSTGRESQL_URL:-}" ]]; then
        echo "bench backend=postgresql skipped: ALCHEMY_TEST_POSTGRESQL_URL is not set (scripts/db-servers.sh start)"
        continue
      fi
      args+=(--n "$n_server" --pin-server) ;;
    mysql)
      if [[ -z "${ALCHEMY_TEST_MYSQL_URL:-}" ]]; then
        echo "bench backend=mysql skipped: ALCHEMY_TEST_MYSQL_URL is not set (scripts/db-servers.sh start)"
        continue
      fi
      args+=(--n "$n_server")
      if mariadb_pid="$(mariadb_server_pid "$ALCHEMY_TEST_MYSQL_URL")" && [[ -n "$mariadb_pid" ]]; then
        mariadb_mask="$(taskset -p "$mariadb_pid" | awk '{print $NF}')"
        if taskset -a -p -c "$cpu" "$mariadb_pid" >/dev/null; then
          args+=(--server-note "mariadbd pinned to cpu $cpu")
        else
          mariadb_pid=""
          args+=(--server-note "unpinned (cannot pin mariadbd)")
        fi
      else
        mariadb_pid=""
        args+=(--server-note "unpinned (mariadbd's pid file is not readable here)")
      fi ;;
  esac
  taskset -c "$cpu" "$build/bench/bench_$b" "${args[@]}" || status=1
  restore_mariadb
done
exit $status
