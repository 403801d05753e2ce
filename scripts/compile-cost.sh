#!/usr/bin/env bash
# scripts/compile-cost.sh — what alchemy costs a user's build (docs/performance.md).
#
# Usage: scripts/compile-cost.sh [compiler] [modes]
#   compiler  default g++; e.g. clang++-14
#   modes     "header-only separate" (the default), or one of them: alchemy as shipped, and with
#             ALCHEMY_SEPARATE_COMPILATION, where the library's plain code is compiled once, in
#             the unit of <alchemy/src.hpp> (measured too, as library_once), not in each unit
#
# Compiles, one at a time, at -O2 with the compiler given, and prints wall time, CPU time (user +
# system) and peak memory (GNU time) of:
#   1. bench/sqlite_raw.cpp and bench/alchemy_half.cpp: the benchmark's two halves, the same
#      workload by hand on sqlite3 and through alchemy, and their ratio;
#   2. examples/tutorial.cpp;
#   3. generated schemas of M models x C columns, each model used by a query, a get, an add and
#      a commit, to show how the cost grows with the schema: M = 5, 10, 20 with C = 15, and one
#      model with C = 15, 30, 60.
# Nothing is linked. Run it on an idle machine: other processes inflate the wall times.
set -euo pipefail
cxx="${1:-g++}"
modes="${2:-header-only separate}"
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d /tmp/alchemy-compile-cost.XXXXXX)"
trap 'rm -rf "$work"' EXIT
base_flags=(-std=c++20 -O2 -I"$src/include" -DALCHEMY_WITH_SQLITE=1 -DBENCH_BACKEND=\"sqlite\")

# measure NAME FILE: prints "compile NAME mode=.. wall_s=.. cpu_s=.. peak_mb=.." and sets wall,
# cpu, mb. CPU time is what to compare on a busy machine: others' work inflates the wall time.
measure() {
  local out kb
  out="$( { /usr/bin/time -f '%e %U %S %M' "$cxx" "${flags[@]}" -c "$2" -o "$work/out.o" 2>&1 >/dev/null; } | tail -1)"
  read -r wall user sys kb <<<"$out"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  mb=$(( kb / 1024 ))
  echo "compile $1 mode=$mode compiler=$cxx wall_s=$wall cpu_s=$cpu peak_mb=$mb"
}

gen() {  # gen M C FILE: M models of C columns, each used once
  local m="$1" cols="$2" f="$3" i c
  {
    echo '#include <alchemy/alchemy.hpp>'
    for ((i = 0; i < m; i++)); do
      echo "struct Model$i : alchemy::Model<Model$i> {"
      echo "  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);"
      for ((c = 1; c < cols; c++)); do
        case $((c % 5)) in
          0) echo "  ALCHEMY_COLUMN(std::string, s$c, alchemy::String(40));" ;;
          1) echo "  ALCHEMY_COLUMN(int32_t, i$c);" ;;
          2) echo "  ALCHEMY_COLUMN(std::optional<std::string>, o$c, alchemy::String(80));" ;;
          3) echo "  ALCHEMY_COLUMN(double, d$c);" ;;
          4) echo "  ALCHEMY_COLUMN(std::optional<int64_t>, n$c);" ;;
        esac
      done
      echo "};"
    done
    echo 'int main() {'
    echo '  alchemy::SQLAlchemy db("sqlite://");'
    echo '  db.create_all();'
    for ((i = 0; i < m; i++)); do
      echo "  { auto o = db.session.add(Model$i{}); db.session.commit();"
      echo "    auto r = Model$i::query().filter(Model$i::i1_ > 3 && Model$i::s5_.like(\"a%\")).order_by(Model$i::id_).all();"
      echo "    auto g = db.session.get<Model$i>(o->id); (void)r; (void)g; }"
    done
    echo '}'
  } >"$f"
}
for mode in $modes; do
  flags=("${base_flags[@]}")
  if [ "$mode" = separate ]; then
    flags+=(-DALCHEMY_SEPARATE_COMPILATION)
    echo '#include <alchemy/src.hpp>' >"$work/src.cpp"
    measure library_once "$work/src.cpp"
  fi
  measure raw_half "$src/bench/sqlite_raw.cpp"; raw_wall=$wall raw_cpu=$cpu raw_mb=$mb
  measure alchemy_half "$src/bench/alchemy_half.cpp"; al_wall=$wall al_cpu=$cpu al_mb=$mb
  awk -v mode="$mode" -v a="$al_wall" -v r="$raw_wall" -v ac="$al_cpu" -v rc="$raw_cpu" -v am="$al_mb" -v rm="$raw_mb" \
    'BEGIN { printf "compile ratio alchemy/raw mode=%s wall=%.2f cpu=%.2f memory=%.2f\n", mode, a / r, ac / rc, am / rm }'
  measure tutorial "$src/examples/tutorial.cpp"
  for shape in 5x15 10x15 20x15 1x15 1x30 1x60; do
    gen "${shape%x*}" "${shape#*x}" "$work/schema_$shape.cpp"
    measure "schema_$shape" "$work/schema_$shape.cpp"
  done
done
