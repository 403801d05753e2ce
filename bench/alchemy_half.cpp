// SPDX-License-Identifier: MIT
// The alchemy half: the workload written the way an application uses alchemy — a model,
// db.session, Model::query() — one db.session per phase, removed at its end as a request would.
// The same file serves every backend; the target links one driver (alchemy.hpp includes it).
#include <alchemy/alchemy.hpp>

#include <malloc.h>

#include <cstdint>
#include <optional>
#include <string>

#include "bench.hpp"

namespace {

struct BenchAccount : alchemy::Model<BenchAccount> {
  ALCHEMY_TABLENAME("bench_accounts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::optional<std::string>, secret_key, alchemy::String(128));
  ALCHEMY_COLUMN(int, score);

  BenchAccount() = default;
  BenchAccount(std::string h, std::string s, int sc)
      : handle(std::move(h)), secret_key(std::move(s)), score(sc) {}
};

/// Memory the process holds for objects: malloc()'s arena and its own mappings, and the big
/// pieces alchemy maps itself for large sessions (orm/detail/big_pages.hpp).
std::size_t heap_in_use() {
  const auto mi = mallinfo2();
  return mi.uordblks + mi.hblkhd + alchemy::big_piece_bytes();
}

/// The server process behind the pooled connection, pinned to `cpu` (PostgreSQL only).
void pin_backend(alchemy::SQLAlchemy& db, int cpu, bench::Times& t) {
  auto conn = db.engine().connect();
  auto& st = conn.prepare("SELECT pg_backend_pid()");
  conn.run(st, {});
  if (!st.next()) bench::die("pg_backend_pid() returned no row");
  const auto pid = st.column(0, alchemy::sql::TypeKind::big_integer).as_integer();
  st.reset();
  if (!bench::pin(long(pid), cpu)) bench::die("cannot pin the PostgreSQL backend");
  t.note = "server backend pinned to cpu " + std::to_string(cpu);
}

}  // namespace

namespace bench {

Times run_alchemy(const Params& p) {
  Times t;
  alchemy::Config config;
  config.SQLALCHEMY_DATABASE_URI = p.url;
  config.SQLALCHEMY_ENGINE_OPTIONS.pool_size = 1;  // one connection, so it is the pinned one
  alchemy::SQLAlchemy db(config);
  db.drop_all<BenchAccount>();
  db.create_all<BenchAccount>();
  if (p.pin_server && pinned_cpu() >= 0) pin_backend(db, pinned_cpu(), t);
  const long n = p.n;

  {  // P1: N objects added one at a time, one commit
    Stopwatch w;
    std::string h, s;
    for (long i = 0; i < n; ++i) {
      handle(i, h);
      secret(i, s);
      db.session.add(BenchAccount(h, s, score(i)));
    }
    db.session.commit();
    db.session.remove();
    t.phase[0] = w.seconds();
    t.cpu[0] = w.cpu();
    t.faults[0] = w.faults();
    profile_mark(kPhaseNames[0]);
    t.rows[0] = n;
  }
  {
    auto conn = db.engine().connect();
    conn.execute("CREATE INDEX ix_bench_accounts_score ON bench_accounts (score)");
    if (db.engine().dialect().name() != "mysql") conn.execute("ANALYZE bench_accounts");
    else conn.execute("ANALYZE TABLE bench_accounts");
  }
  {  // P2: N lookups by primary key in one session and transaction
    const std::size_t heap0 = heap_in_use();
    Stopwatch w;
    long found = 0;
    for (long i = 0; i < n; ++i)
      if (auto a = db.session.get<BenchAccount>(lookup_id(i, n))) ++found;
    const std::size_t heap1 = heap_in_use();
    db.session.commit();
    db.session.remove();
    t.phase[1] = w.seconds();
    t.cpu[1] = w.cpu();
    t.faults[1] = w.faults();
    profile_mark(kPhaseNames[1]);
    t.rows[1] = found;
    t.bytes_per_object = double(heap1 - heap0) / double(n);
  }
  {  // P3: 200 queries score == k
    Stopwatch w;
    long rows = 0;
    for (int k = 0; k < 200; ++k)
      rows += long(BenchAccount::query().filter(BenchAccount::score_ == k).all().size());
    db.session.commit();
    db.session.remove();
    t.phase[2] = w.seconds();
    t.cpu[2] = w.cpu();
    t.faults[2] = w.faults();
    profile_mark(kPhaseNames[2]);
    t.rows[2] = rows;
  }
  {  // P4: 20 LIKE queries
    Stopwatch w;
    long rows = 0;
    for (int d = 0; d < 20; ++d)
      rows += long(BenchAccount::query().filter(BenchAccount::handle_.like(like_pattern(d))).all().size());
    db.session.commit();
    db.session.remove();
    t.phase[3] = w.seconds();
    t.cpu[3] = w.cpu();
    t.faults[3] = w.faults();
    profile_mark(kPhaseNames[3]);
    t.rows[3] = rows;
  }
  {  // P5: load score < 100, add 1 to each, one commit
    Stopwatch w;
    auto rows = BenchAccount::query().filter(BenchAccount::score_ < 100).all();
    for (auto& a : rows) a->score += 1;
    db.session.commit();
    t.rows[4] = long(rows.size());
    rows.clear();
    db.session.remove();
    t.phase[4] = w.seconds();
    t.cpu[4] = w.cpu();
    t.faults[4] = w.faults();
    profile_mark(kPhaseNames[4]);
  }
  {  // P6: delete score >= 900 as objects, one commit
    Stopwatch w;
    auto rows = BenchAccount::query().filter(BenchAccount::score_ >= 900).all();
    for (auto& a : rows) db.session.delete_(a);
    db.session.commit();
    t.rows[5] = long(rows.size());
    rows.clear();
    db.session.remove();
    t.phase[5] = w.seconds();
    t.cpu[5] = w.cpu();
    t.faults[5] = w.faults();
    profile_mark(kPhaseNames[5]);
  }
  db.drop_all<BenchAccount>();
  return t;
}

}  // namespace bench
