#!/usr/bin/env bash
# scripts/test.sh — THE test command: the whole suite against real servers.
#
# Usage: scripts/test.sh            (from anywhere; CI runs it via .ci/run)
#
# 1. installs the build and server packages (scripts/install-deps.sh --servers)
# 2. starts throwaway PostgreSQL 15 + MariaDB servers on 127.0.0.1
#    (scripts/db-servers.sh; they are stopped again on exit, whatever happens)
# 3. exports ALCHEMY_TEST_POSTGRESQL_URL, ALCHEMY_TEST_MYSQL_URL and
#    ALCHEMY_TEST_REQUIRE_SERVERS=1, so server tests fail instead of skipping
# 4. configures, builds and tests three builds:
#      build/asan  Debug, clang++-14, ASan+UBSan (ALCHEMY_SANITIZE), -Werror;
#                  the tests take alchemy header-only, as a program does by
#                  default; the examples link alchemy::compiled
#      build/tsan  Debug, clang++-14, ThreadSanitizer (ALCHEMY_TSAN): builds and
#                  runs only the concurrency tests (tests/concurrency)
#      build/gcc   Release at -O1, g++, -Werror; the tests and examples link
#                  alchemy::compiled (ALCHEMY_TESTS_COMPILED and _EXAMPLES_),
#                  the other way a program can take alchemy; it also builds the
#                  benchmark (ALCHEMY_BUILD_BENCH), whose ctest entries are
#                  short smoke runs (bench: smoke <backend>, N = 200, no timing
#                  asserted). Its ctest runs last, so ctest's summary line is
#                  the last line printed on success
# Exits non-zero if any configure, build or test failed (all builds are
# still attempted). Logs (apt, cmake configure, server logs, server stop) go
# to $ALCHEMY_BUILD_ROOT/logs.
#
# Environment:
#   ALCHEMY_SOURCE_DIR  project to build (default: this repository)
#   ALCHEMY_BUILD_ROOT  where build/asan, build/gcc go (default: <source>/build)
#   ALCHEMY_JOBS        parallel build/test jobs (default: 2)
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src_dir="$(cd "${ALCHEMY_SOURCE_DIR:-$script_dir/..}" && pwd)"
cd "$src_dir"
build_root="${ALCHEMY_BUILD_ROOT:-build}"
jobs="${ALCHEMY_JOBS:-2}"
mkdir -p "$build_root/logs"
log_dir="$(cd "$build_root/logs" && pwd)"
export ALCHEMY_LOG_DIR="$log_dir"   # used by install-deps.sh and db-servers.sh

t_start=$(date +%s)
step() { echo "== $* [$(( $(date +%s) - t_start ))s]"; }

# One run at a time per machine: the servers use fixed ports and one state
# file, so a second run waits here instead of stopping the first one's
# servers. (fd 9 is closed for the servers, so they never hold the lock.)
exec 9>"${ALCHEMY_TEST_LOCK:-/tmp/alchemy-test.lock}"
if ! flock -n 9; then
  echo "test.sh: another test run holds ${ALCHEMY_TEST_LOCK:-/tmp/alchemy-test.lock}, waiting (max 30 min)"
  flock -w 1800 9 || { echo "test.sh: gave up waiting for the lock" >&2; exit 1; }
fi

# --- 1. packages ---------------------------------------------------------------
step "install dependencies"
bash "$script_dir/install-deps.sh" --servers </dev/null

# --- 2. servers ----------------------------------------------------------------
# Stop them on any exit. The stop output goes to a log: after the final ctest
# nothing else may reach the terminal. INT/TERM are turned into an exit so the
# EXIT trap also runs when the run is interrupted.
: >"$log_dir/db-stop.log"
# shellcheck disable=SC2317  # called from the EXIT trap
stop_servers() {
  bash "$script_dir/db-servers.sh" stop >>"$log_dir/db-stop.log" 2>&1 </dev/null 9>&- || true
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "start PostgreSQL and MariaDB"
bash "$script_dir/db-servers.sh" start </dev/null 9>&-
eval "$(bash "$script_dir/db-servers.sh" env)"
export ALCHEMY_TEST_REQUIRE_SERVERS=1

# Sanitizer defaults (kept if the caller set its own): make UBSan findings
# fail the test and print stacks; ASan's leak check stays on.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# --- 3. builds -----------------------------------------------------------------
failures=()

# configure_and_build NAME CMAKE-ARGS... : 0 if the build is ready to test.
configure_and_build() {
  local name="$1"; shift
  local dir="$build_root/$name" log="$log_dir/configure-$name.log"
  step "[$name] configure"
  if ! cmake -S . -B "$dir" -G Ninja "$@" >"$log" 2>&1 </dev/null; then
    echo "test.sh: [$name] cmake configure FAILED — last lines of $log:"
    tail -n 40 "$log"
    failures+=("$name configure")
    return 1
  fi
  step "[$name] build"
  if ! cmake --build "$dir" -j "$jobs" ${build_targets:+--target $build_targets} </dev/null; then
    failures+=("$name build")
    return 1
  fi
}

# run_ctest NAME [CTEST-ARGS...] : runs the tests of one build, records a
# failure. A build that registers no test at all counts as a failure
# (--no-tests=error).
run_ctest() {
  local name="$1" rc=0; shift
  step "[$name] ctest"
  ctest --test-dir "$build_root/$name" --output-on-failure --no-tests=error -j "$jobs" "$@" </dev/null || rc=$?
  if (( rc != 0 )); then failures+=("$name tests (ctest exit $rc)"); fi
}

# Line tables are all a sanitizer's stack trace needs; full debug info made the build 10 %
# slower. The examples link alchemy::compiled: the suite covers the header-only way, and a
# header-only example unit costs twice the time to compile under ASan. The suite compiles as
# four units of up to six files (ALCHEMY_TESTS_UNITY): header-only, each unit compiles the
# library again, and 21 units took 381 s of compiler time against 99 s for four; the whole
# ASan build went from 327 s to 151 s on one 2-core machine. The g++ build below still
# compiles every file on its own.
if configure_and_build asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-gline-tables-only \
     -DCMAKE_CXX_COMPILER=clang++-14 -DALCHEMY_SANITIZE=ON -DALCHEMY_WERROR=ON \
     -DALCHEMY_EXAMPLES_COMPILED=ON -DALCHEMY_TESTS_UNITY=ON; then
  run_ctest asan
fi

# ThreadSanitizer: only the concurrency tests' binary is built and run, which
# keeps this step to a minute or two. TSan exits non-zero on any report.
export TSAN_OPTIONS="${TSAN_OPTIONS:-second_deadlock_stack=1}"
if build_targets=alchemy_concurrency_tests configure_and_build tsan -DCMAKE_BUILD_TYPE=Debug \
     -DCMAKE_CXX_COMPILER=clang++-14 -DALCHEMY_TSAN=ON -DALCHEMY_WERROR=ON; then
  run_ctest tsan -R '^concurrency '
fi

gcc_ready=0
# -O1 without -g: half the compile time of RelWithDebInfo, and still an optimised build. The
# tests linked to alchemy::compiled: each unit then compiles only its own code and the
# templates, not the whole library again (this build 8.0 -> 3.1 min on a 2-core machine), and
# the separate compilation mode gets the same whole suite as the header-only one. The
# benchmark's programs take alchemy header-only, as bench/CMakeLists.txt builds them.
configure_and_build gcc -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O1 \
  -DCMAKE_CXX_COMPILER=g++ -DALCHEMY_WERROR=ON -DALCHEMY_TESTS_COMPILED=ON \
  -DALCHEMY_EXAMPLES_COMPILED=ON -DALCHEMY_BUILD_BENCH=ON && gcc_ready=1

if (( gcc_ready )); then
  if (( ${#failures[@]} > 0 )); then
    echo "test.sh: so far FAILED: ${failures[*]}"
  fi
  run_ctest gcc   # last: its summary is the closing output
fi

# On success nothing follows ctest's summary (the servers stop into a log).
# On failure one line names what failed, since ctest's own summary may be
# the one of the build that passed.
if (( ${#failures[@]} > 0 )); then
  echo "test.sh: FAILED: ${failures[*]} (logs: $log_dir)"
  exit 1
fi
exit 0
