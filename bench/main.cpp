// SPDX-License-Identifier: MIT
// One benchmark program per backend (BENCH_BACKEND): runs the alchemy half and the raw half
// alternately in one process, `--runs` times, and prints the medians, one line per phase:
//
//   bench backend=sqlite phase=P1_insert n=100000 alchemy_s=0.131 raw_s=0.120 ratio=1.09
//
// Server backends add raw_batch_s (the hand-written batched variant) and alchemy_vs_batch
// to P1, P5 and P6. Usage:
//   bench_<backend> [--n N] [--runs R] [--url URL] [--pin-server]
// The URL defaults to ALCHEMY_TEST_POSTGRESQL_URL / ALCHEMY_TEST_MYSQL_URL for the servers and
// to a file in $TMPDIR (or /tmp) for SQLite. Run it pinned (`taskset -c 1 ...`) for reference
// figures; --pin-server then pins the PostgreSQL backends to the same CPU (scripts/bench.sh
// pins MariaDB's server process itself).
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench.hpp"

namespace bench {
Times run_alchemy(const Params& p);
Times run_raw(const Params& p);
}  // namespace bench

namespace {

double median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const auto m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string backend = BENCH_BACKEND;
  long n = backend == "sqlite" ? 100000 : 20000;
  int runs = 5;
  std::string url, server_note;
  bool pin_server = false;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) bench::die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--n") n = std::atol(value().c_str());
    else if (a == "--runs") runs = std::atoi(value().c_str());
    else if (a == "--url") url = value();
    else if (a == "--pin-server") pin_server = true;
    else if (a == "--server-note") server_note = value();  // what scripts/bench.sh pinned
    else if (a == "--only") only = value();  // alchemy or raw: for profiling one half
    else bench::die("unknown argument " + a + " (see the comment at the top of bench/main.cpp)");
  }
  if (n < 1000 && n % 7919 == 0) bench::die("--n must not be a multiple of 7919");
  if (runs < 1) bench::die("--runs must be at least 1");

  bench::Params p;
  p.n = n;
  p.pin_server = pin_server;
  const char* tmp = std::getenv("TMPDIR");
  const std::string dir = tmp && *tmp ? tmp : "/tmp";
  const std::string base = dir + "/alchemy-bench-" + std::to_string(getpid());
  if (backend == "sqlite") {
    p.sqlite_path = base + ".db";
    if (url.empty()) url = "sqlite:///" + p.sqlite_path;
  } else {
    const char* env = std::getenv(backend == "postgresql" ? "ALCHEMY_TEST_POSTGRESQL_URL"
                                                          : "ALCHEMY_TEST_MYSQL_URL");
    if (url.empty() && env) url = env;
    if (url.empty())
      bench::die("no server URL: pass --url or eval \"$(scripts/db-servers.sh env)\"");
  }
  p.url = url;

  long want[bench::kPhases];
  bench::expected_rows(n, want);
  std::vector<double> a[bench::kPhases], r[bench::kPhases], b[bench::kPhases], bpo;
  std::vector<double> fa[bench::kPhases], fr[bench::kPhases];  // page faults
  std::string note;
  for (int run = 0; run < runs; ++run) {
    // Alternate which half goes first, so that drift (caches, a busy neighbour) hits both.
    bench::Times ta, tr;
    if (!only.empty()) {
      if (only == "alchemy") ta = bench::run_alchemy(p);
      else tr = bench::run_raw(p);
      const bench::Times& t = only == "alchemy" ? ta : tr;
      for (int k = 0; k < bench::kPhases; ++k)
        std::printf("%s %s %.3f s (cpu %.3f s, %ld page faults)\n", only.c_str(), bench::kPhaseNames[k],
                    t.phase[k], t.cpu[k], t.faults[k]);
      if (!p.sqlite_path.empty()) std::remove(p.sqlite_path.c_str());
      continue;
    }
    if (run % 2 == 0) {
      ta = bench::run_alchemy(p);
      tr = bench::run_raw(p);
    } else {
      tr = bench::run_raw(p);
      ta = bench::run_alchemy(p);
    }
    if (!p.sqlite_path.empty()) std::remove(p.sqlite_path.c_str());
    for (int k = 0; k < bench::kPhases; ++k) {
      bench::check_rows("alchemy", k, ta.rows[k], want[k]);
      bench::check_rows("raw", k, tr.rows[k], want[k]);
      a[k].push_back(ta.phase[k]);
      r[k].push_back(tr.phase[k]);
      fa[k].push_back(double(ta.faults[k]));
      fr[k].push_back(double(tr.faults[k]));
      if (tr.batch[k] >= 0) b[k].push_back(tr.batch[k]);
    }
    bpo.push_back(ta.bytes_per_object);
    note = ta.note.empty() ? tr.note : ta.note;
  }

  if (!only.empty()) return 0;
  const int cpu = bench::pinned_cpu();
  std::printf("bench backend=%s setup runs=%d n=%ld client_cpu=%s server=%s\n", backend.c_str(),
              runs, n, cpu >= 0 ? ("pinned:" + std::to_string(cpu)).c_str() : "unpinned",
              backend == "sqlite" ? "in-process"
              : !server_note.empty() ? server_note.c_str()
              : !note.empty() ? note.c_str() : "unpinned");
  double sa = 0, sr = 0, worst = 0;
  for (int k = 0; k < bench::kPhases; ++k) {
    const double ma = median(a[k]), mr = median(r[k]);
    sa += ma;
    sr += mr;
    worst = std::max(worst, ma / mr);
    std::printf("bench backend=%s phase=%s n=%ld alchemy_s=%.3f raw_s=%.3f ratio=%.2f", backend.c_str(),
                bench::kPhaseNames[k], n, ma, mr, ma / mr);
    if (!b[k].empty()) {
      const double mb = median(b[k]);
      std::printf(" raw_batch_s=%.3f alchemy_vs_batch=%.2f raw_vs_batch=%.2f", mb, ma / mb, mr / mb);
    }
    std::printf(" alchemy_faults=%.0f raw_faults=%.0f", median(fa[k]), median(fr[k]));
    std::printf("\n");
  }
  std::printf("bench backend=%s summary n=%ld runs=%d alchemy_s=%.3f raw_s=%.3f ratio=%.2f "
              "worst_ratio=%.2f peak_rss_mib=%.1f bytes_per_object=%.0f pinned=%s\n",
              backend.c_str(), n, runs, sa, sr, sa / sr, worst, bench::peak_rss_mib(), median(bpo),
              cpu >= 0 ? "yes" : "no");
  return 0;
}
