// SPDX-License-Identifier: MIT
// The benchmark's shared part: the workload's parameters and data, timing, and the report.
// Neither alchemy nor a C client header is included here, so that the raw half of each
// benchmark compiles without alchemy (its compile cost is measured against the alchemy half).
//
// Workload (docs/performance.md): table bench_accounts(id, handle unique, secret_key, score),
//   P1 insert  N objects added one at a time, one commit
//   P2 get     N primary-key lookups in the order i*7919 % N + 1, one session and transaction
//   P3 filter  200 queries score == k (k = 0..199), rows materialised
//   P4 like    20 queries handle LIKE '%<d>9%' (d = 0..19), rows materialised
//   P5 update  load the rows with score < 100, add 1 to each score, one commit
//   P6 delete  delete the rows with score >= 900 as objects, one commit
#ifndef ALCHEMY_BENCH_BENCH_HPP_
#define ALCHEMY_BENCH_BENCH_HPP_

#include <sched.h>
#include <sys/resource.h>
#include <time.h>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_CALLGRIND_DUMP(label) CALLGRIND_DUMP_STATS_AT(label)
#else
#define BENCH_CALLGRIND_DUMP(label) ((void)(label))
#endif

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

inline constexpr int kPhases = 6;
inline constexpr const char* kPhaseNames[kPhases] = {"P1_insert", "P2_get",    "P3_filter",
                                                     "P4_like",   "P5_update", "P6_delete"};
inline constexpr const char* kTable = "bench_accounts";

/// What one half of a run is told.
struct Params {
  std::string url;          ///< alchemy-style URL (the raw halves parse what they need)
  std::string sqlite_path;  ///< SQLite: the database file, recreated per run
  long n = 0;
  bool pin_server = false;  ///< PostgreSQL: pin the server backends to the client's CPU
};

/// Seconds per phase of one half of one run; `batch` holds the raw half's batched variant
/// (multi-row INSERT, pipelined UPDATE, DELETE ... IN) where the backend has one, else < 0.
struct Times {
  double phase[kPhases] = {0, 0, 0, 0, 0, 0};
  double batch[kPhases] = {-1, -1, -1, -1, -1, -1};
  double bytes_per_object = -1;  ///< alchemy: heap bytes per object held by the P2 session
  long rows[kPhases] = {0, 0, 0, 0, 0, 0};  ///< rows each phase touched (a cross-check)
  double cpu[kPhases] = {0, 0, 0, 0, 0, 0};  ///< CPU seconds of the client process per phase
  long faults[kPhases] = {0, 0, 0, 0, 0, 0};  ///< page faults of the client process per phase
  std::string note;              ///< e.g. "server backend pinned to cpu 1"
};

// --- the data ----------------------------------------------------------------------------------

inline std::uint64_t mix(std::uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

/// "user<i>" into `out` (reusing its capacity).
inline void handle(long i, std::string& out) {
  char buf[32] = "user";
  const auto r = std::to_chars(buf + 4, buf + sizeof buf, i);
  out.assign(buf, r.ptr);
}

/// 32 hex characters derived from i (a stand-in for token_hex(16), deterministic).
inline void secret(long i, std::string& out) {
  static constexpr char hex[] = "0123456789abcdef";
  out.resize(32);
  std::uint64_t a = mix(std::uint64_t(i)), b = mix(a);
  for (int k = 0; k < 16; ++k) out[std::size_t(k)] = hex[(a >> (4 * k)) & 15];
  for (int k = 0; k < 16; ++k) out[std::size_t(16 + k)] = hex[(b >> (4 * k)) & 15];
}

inline int score(long i) { return int(i % 1000); }

/// The P2 lookup order: each id 1..n exactly once.
inline long lookup_id(long i, long n) { return (i * 7919) % n + 1; }

/// The P4 patterns: '%09%', '%19%', ... '%199%'.
inline std::string like_pattern(int d) {
  char buf[16] = "%";
  char* end = std::to_chars(buf + 1, buf + sizeof buf - 3, d).ptr;
  *end++ = '9';
  *end++ = '%';
  return std::string(buf, end);
}

// --- timing and the process -----------------------------------------------------------------------

/// CPU seconds this process used so far (user and system).
inline double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

/// Page faults this process took so far (minor and major).
inline long page_faults() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return long(u.ru_minflt + u.ru_majflt);
}

/// Under `valgrind --tool=callgrind` (docs/performance.md, "How to run it"), ends one part of the profile:
/// each phase gets its own instruction count. A no-op otherwise.
inline void profile_mark(const char* label) { BENCH_CALLGRIND_DUMP(label); }

class Stopwatch {
 public:
  Stopwatch() : t0_(std::chrono::steady_clock::now()), c0_(cpu_seconds()), f0_(page_faults()) {
    profile_mark("between");
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }
  /// CPU seconds since construction: less disturbed than wall time by other processes.
  double cpu() const { return cpu_seconds() - c0_; }
  /// Page faults since construction: on the VMs measured here each cost 2 to 12 µs.
  long faults() const { return page_faults() - f0_; }

 private:
  std::chrono::steady_clock::time_point t0_;
  double c0_;
  long f0_;
};

/// Peak resident set size of this process, in MiB.
inline double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

/// The CPU this process is pinned to, or -1 when it may run on several.
inline int pinned_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) != 1) return -1;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) return c;
  return -1;
}

/// Pins process (or thread) `pid` to `cpu`; false when not allowed.
inline bool pin(long pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(pid_t(pid), sizeof set, &set) == 0;
}

[[noreturn]] inline void die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::exit(1);
}

inline void check_rows(const char* half, int phase, long got, long want) {
  if (got != want)
    die(std::string(half) + " " + kPhaseNames[phase] + ": expected " + std::to_string(want) +
        " rows, got " + std::to_string(got));
}

/// Rows each phase touches for N rows (both halves must agree with this).
inline void expected_rows(long n, long out[kPhases]) {
  out[0] = n;
  out[1] = n;
  long p3 = 0, p5 = 0, p6 = 0;
  for (long i = 0; i < n; ++i) {
    const int s = score(i);
    if (s < 200) ++p3;
    if (s < 100) ++p5;
    if (s >= 900) ++p6;
  }
  long p4 = 0;
  std::string h;
  for (long i = 0; i < n; ++i) {
    handle(i, h);
    for (int d = 0; d < 20; ++d) {
      const std::string p = std::to_string(d) + "9";
      if (h.find(p) != std::string::npos) ++p4;
    }
  }
  out[2] = p3;
  out[3] = p4;
  out[4] = p5;
  out[5] = p6;
}

}  // namespace bench

#endif  // ALCHEMY_BENCH_BENCH_HPP_
