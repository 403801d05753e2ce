#!/usr/bin/env bash
# scripts/tutorial.sh — the README's first command: build and run the tutorial.
#
# Usage: scripts/tutorial.sh   (from anywhere)
#
# Installs the build packages (scripts/install-deps.sh, no servers), configures
# build/tutorial (Release, g++), builds only the `tutorial` target, runs it from
# the repository root — so its database `sqlite:///app_data.db` is created as
# ./app_data.db (a fresh one each run) — and prints the schema it created.
#
# Environment: ALCHEMY_SOURCE_DIR (default: this repository),
#              ALCHEMY_BUILD_ROOT (default: <source>/build).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${ALCHEMY_SOURCE_DIR:-$script_dir/..}"
build_dir="${ALCHEMY_BUILD_ROOT:-build}/tutorial"
mkdir -p "$build_dir"
configure_log="$build_dir/configure.log"

echo "== install dependencies"
ALCHEMY_LOG_DIR="${ALCHEMY_LOG_DIR:-$build_dir}" bash "$script_dir/install-deps.sh" </dev/null

echo "== configure $build_dir (Release, g++)"
if ! cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=g++ \
     >"$configure_log" 2>&1 </dev/null; then
  echo "tutorial.sh: cmake configure FAILED — last lines of $configure_log:" >&2
  tail -n 40 "$configure_log" >&2
  exit 1
fi

echo "== build target tutorial"
cmake --build "$build_dir" --target tutorial -j 2 </dev/null

exe="$build_dir/examples/tutorial"
[[ "$exe" == /* ]] || exe="./$exe"
echo "== run $exe (fresh ./app_data.db)"
rm -f app_data.db
"$exe" </dev/null

echo "== schema of app_data.db (sqlite3 app_data.db .schema)"
sqlite3 app_data.db .schema </dev/null
