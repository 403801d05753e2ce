#!/usr/bin/env bash
# scripts/install-deps.sh — install the Debian packages alchemy needs.
#
# Usage: scripts/install-deps.sh [--servers]
#
#   (no argument)  compilers, build tools and client libraries for the build
#                  (g++, clang-14 + sanitizer runtime, cmake, ninja, Catch2,
#                  fmt, SQLite, libpq, MariaDB Connector/C, Flask-SQLAlchemy
#                  for the Python comparison examples, cpp-httplib and
#                  nlohmann-json for examples/webapp).
#   --servers      additionally the PostgreSQL 15 and MariaDB servers used by
#                  the test suite (scripts/db-servers.sh starts throwaway ones).
#
# Idempotent: packages already installed are detected with dpkg-query, and
# apt-get (including `apt-get update`) only runs when something is missing.
# Must run as root (or with sudo available). Never prompts (stdin is not used).
# apt's output goes to a log file ($ALCHEMY_LOG_DIR, default /tmp); only a
# short line per step is printed, plus the log's tail if apt fails.
#
# The server packages' maintainer scripts would normally start system-wide
# PostgreSQL/MariaDB instances; a /usr/sbin/policy-rc.d that exits 101 stops
# that. It is installed only for the duration of the install, and only removed
# again if this script created it.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build g++ clang-14 libclang-rt-14-dev
  libsqlite3-dev sqlite3 libpq-dev libmariadb-dev libfmt-dev catch2
  python3-flask-sqlalchemy
  libcpp-httplib-dev nlohmann-json3-dev  # examples/webapp only (docs/webapp.md)
)
SERVER_PKGS=(postgresql-15 mariadb-server mariadb-client)

with_servers=0
for arg in "$@"; do
  case "$arg" in
    --servers) with_servers=1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "install-deps: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log_dir="${ALCHEMY_LOG_DIR:-${TMPDIR:-/tmp}}"
mkdir -p "$log_dir"
log="$log_dir/alchemy-install-deps.log"

# Run as root directly, otherwise through sudo (non-interactive).
SUDO=()
if [[ $EUID -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "install-deps: must run as root (or have sudo)" >&2
    exit 1
  fi
fi

wanted=("${BUILD_PKGS[@]}")
(( with_servers )) && wanted+=("${SERVER_PKGS[@]}")

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing=()
for pkg in "${wanted[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if (( ${#missing[@]} == 0 )); then
  echo "install-deps: all ${#wanted[@]} packages already installed"
  exit 0
fi

# Run an apt command with its chatter in the log; on failure show the tail.
run_logged() {
  local what="$1"; shift
  echo "install-deps: $what"
  if ! "$@" >>"$log" 2>&1 </dev/null; then
    echo "install-deps: FAILED: $what — last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
}

: >"$log"
export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q
     -o DPkg::Lock::Timeout=300
     -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# Keep the server packages' postinst from starting system clusters.
# An existing policy that already denies (exit 101, e.g. Docker's) is kept;
# any other existing one is moved aside and put back afterwards.
policy=/usr/sbin/policy-rc.d
policy_backup="$policy.alchemy-backup"
created_policy=0
moved_policy=0
restore_policy() {
  if (( created_policy )); then
    "${SUDO[@]}" rm -f "$policy"
  fi
  if (( moved_policy )); then
    "${SUDO[@]}" mv -f "$policy_backup" "$policy"
  fi
}
trap restore_policy EXIT
policy_rc=0
[[ -x "$policy" ]] && { "$policy" mariadb start >/dev/null 2>&1 </dev/null || policy_rc=$?; }
if [[ ! -x "$policy" || $policy_rc -ne 101 ]]; then
  if [[ -e "$policy" ]]; then
    "${SUDO[@]}" mv -f "$policy" "$policy_backup"
    moved_policy=1
  fi
  printf '#!/bin/sh\n# installed by alchemy scripts/install-deps.sh\nexit 101\n' \
    | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod 755 "$policy"
  created_policy=1
fi

run_logged "apt-get update (missing: ${missing[*]})" "${APT[@]}" update
run_logged "apt-get install ${#missing[@]} package(s)" "${APT[@]}" install "${missing[@]}"
echo "install-deps: done (log: $log)"
