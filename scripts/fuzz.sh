#!/usr/bin/env bash
# scripts/fuzz.sh — longer, exploring fuzz runs (ctest runs a fixed set of inputs).
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target (default 600)
#   TARGET   url, compile (default: both)
#
# Builds the libFuzzer targets with clang++-14 (ASan + UBSan) in $ALCHEMY_BUILD_ROOT/fuzz
# (default build/fuzz), then runs each one with a random seed on all cores
# ($ALCHEMY_JOBS, default: nproc), growing build/fuzz/corpus-<target> from the seeds in
# tests/fuzz/corpus/<target>. Prints the number of executions per target.
#
# A crash stops the run and leaves the input in build/fuzz/artifacts-<target>/crash-*. To keep
# it fixed: reproduce with  build/fuzz/tests/fuzz/alchemy_fuzz_<target> <crash file>, fix the
# bug, copy the file to tests/fuzz/corpus/<target>/regress-<what> (the replay test runs it in
# every build) and add a test to tests/fuzz/test_fuzz_regressions.cpp.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src_dir="$(cd "$script_dir/.." && pwd)"
build_root="${ALCHEMY_BUILD_ROOT:-$src_dir/build}"
build="$build_root/fuzz"
seconds="${1:-600}"
shift || true
targets=("$@")
(( ${#targets[@]} )) || targets=(url compile)
jobs="${ALCHEMY_JOBS:-$(nproc)}"

cmake -S "$src_dir" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 >/dev/null
cmake --build "$build" --target "${targets[@]/#/alchemy_fuzz_}"

status=0
for t in "${targets[@]}"; do
  corpus="$build/corpus-$t"
  artifacts="$build/artifacts-$t"
  mkdir -p "$corpus" "$artifacts"
  log="$build/fuzz-$t.log"
  echo "== fuzz_$t: ${seconds}s on $jobs job(s), log $log"
  rc=0
  "$build/tests/fuzz/alchemy_fuzz_$t" -max_total_time="$seconds" -fork="$jobs" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$corpus" "$src_dir/tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  # -fork prints "stat::number_of_executed_units"; a single process prints "Done N runs".
  runs=$(grep -aoE 'stat::number_of_executed_units: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+$' || true)
  [[ -n "$runs" ]] || runs=$(grep -aoE 'Done [0-9]+ runs' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  if (( rc != 0 )) || compgen -G "$artifacts/crash-*" >/dev/null || compgen -G "$artifacts/leak-*" >/dev/null; then
    echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} executions; inputs in $artifacts:"
    ls "$artifacts"
    tail -n 40 "$log"
    status=1
  else
    echo "fuzz_$t: ${runs:-?} executions, no crash, leak or violated property"
  fi
done
exit $status
