// SPDX-License-Identifier: MIT
// The raw half for SQLite: the same workload hand-written on the sqlite3 C API with prepared
// statements, the same transactions, and rows read into a plain struct. No alchemy header.
#include <sqlite3.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "bench.hpp"

namespace {

struct Row {
  long long id = 0;
  std::string handle;
  std::optional<std::string> secret_key;
  int score = 0;
};

class Db {
 public:
  explicit Db(const std::string& path) {
    std::remove(path.c_str());
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr))
      bench::die("sqlite3_open: " + std::string(sqlite3_errmsg(db_)));
    exec("PRAGMA foreign_keys=ON");  // as alchemy's driver does
  }
  ~Db() { sqlite3_close_v2(db_); }
  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK)
      bench::die(std::string(sql) + ": " + (err ? err : "?"));
  }
  sqlite3_stmt* prepare(const char* sql) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
      bench::die(std::string(sql) + ": " + sqlite3_errmsg(db_));
    return st;
  }
  void step_done(sqlite3_stmt* st) {
    if (sqlite3_step(st) != SQLITE_DONE) bench::die(std::string("step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(st);
  }

 private:
  sqlite3* db_ = nullptr;
};

Row read_row(sqlite3_stmt* st) {
  Row r;
  r.id = sqlite3_column_int64(st, 0);
  r.handle.assign(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)),
                  std::size_t(sqlite3_column_bytes(st, 1)));
  if (sqlite3_column_type(st, 2) != SQLITE_NULL)
    r.secret_key.emplace(reinterpret_cast<const char*>(sqlite3_column_text(st, 2)),
                         std::size_t(sqlite3_column_bytes(st, 2)));
  r.score = sqlite3_column_int(st, 3);
  return r;
}

/// Runs a bound SELECT, appending each row to `out`.
void fetch(sqlite3_stmt* st, std::vector<Row>& out) {
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(read_row(st));
  sqlite3_reset(st);
}

}  // namespace

namespace bench {

Times run_raw(const Params& p) {
  Times t;
  Db db(p.sqlite_path);
  // The DDL alchemy's create_all() emits for the model.
  db.exec("CREATE TABLE bench_accounts (\n\tid INTEGER NOT NULL, \n\thandle VARCHAR(50) NOT NULL, "
          "\n\tsecret_key VARCHAR(128), \n\tscore INTEGER NOT NULL, \n\tPRIMARY KEY (id), "
          "\n\tUNIQUE (handle)\n)");
  const long n = p.n;
  const char* cols = "SELECT bench_accounts.id, bench_accounts.handle, bench_accounts.secret_key, "
                     "bench_accounts.score FROM bench_accounts WHERE ";
  {  // P1
    Stopwatch w;
    db.exec("BEGIN");
    sqlite3_stmt* ins = db.prepare("INSERT INTO bench_accounts (handle, secret_key, score) VALUES (?, ?, ?)");
    std::string h, s;
    for (long i = 0; i < n; ++i) {
      handle(i, h);
      secret(i, s);
      sqlite3_bind_text(ins, 1, h.data(), int(h.size()), SQLITE_STATIC);
      sqlite3_bind_text(ins, 2, s.data(), int(s.size()), SQLITE_STATIC);
      sqlite3_bind_int(ins, 3, score(i));
      db.step_done(ins);
    }
    db.exec("COMMIT");
    sqlite3_finalize(ins);
    t.phase[0] = w.seconds();
    t.cpu[0] = w.cpu();
    t.faults[0] = w.faults();
    profile_mark(kPhaseNames[0]);
    t.rows[0] = n;
  }
  db.exec("CREATE INDEX ix_bench_accounts_score ON bench_accounts (score)");
  db.exec("ANALYZE bench_accounts");
  {  // P2
    Stopwatch w;
    db.exec("BEGIN");
    sqlite3_stmt* get = db.prepare((std::string(cols) + "bench_accounts.id = ?").c_str());
    std::vector<Row> rows;
    rows.reserve(std::size_t(n));
    for (long i = 0; i < n; ++i) {
      sqlite3_bind_int64(get, 1, lookup_id(i, n));
      fetch(get, rows);
    }
    db.exec("COMMIT");
    sqlite3_finalize(get);
    t.rows[1] = long(rows.size());
    rows = {};
    t.phase[1] = w.seconds();
    t.cpu[1] = w.cpu();
    t.faults[1] = w.faults();
    profile_mark(kPhaseNames[1]);
  }
  {  // P3
    Stopwatch w;
    db.exec("BEGIN");
    sqlite3_stmt* q = db.prepare((std::string(cols) + "bench_accounts.score = ?").c_str());
    long total = 0;
    for (int k = 0; k < 200; ++k) {
      std::vector<Row> rows;
      sqlite3_bind_int(q, 1, k);
      fetch(q, rows);
      total += long(rows.size());
    }
    db.exec("COMMIT");
    sqlite3_finalize(q);
    t.phase[2] = w.seconds();
    t.cpu[2] = w.cpu();
    t.faults[2] = w.faults();
    profile_mark(kPhaseNames[2]);
    t.rows[2] = total;
  }
  {  // P4
    Stopwatch w;
    db.exec("BEGIN");
    sqlite3_stmt* q = db.prepare((std::string(cols) + "bench_accounts.handle LIKE ?").c_str());
    long total = 0;
    for (int d = 0; d < 20; ++d) {
      std::vector<Row> rows;
      const std::string pat = like_pattern(d);
      sqlite3_bind_text(q, 1, pat.data(), int(pat.size()), SQLITE_STATIC);
      fetch(q, rows);
      total += long(rows.size());
    }
    db.exec("COMMIT");
    sqlite3_finalize(q);
    t.phase[3] = w.seconds();
    t.cpu[3] = w.cpu();
    t.faults[3] = w.faults();
    profile_mark(kPhaseNames[3]);
    t.rows[3] = total;
  }
  {  // P5
    Stopwatch w;
    db.exec("BEGIN");
    sqlite3_stmt* q = db.prepare((std::string(cols) + "bench_accounts.score < ?").c_str());
    sqlite3_stmt* up = db.prepare("UPDATE bench_accounts SET score=? WHERE bench_accounts.id = ?");
    std::vector<Row> rows;
    sqlite3_bind_int(q, 1, 100);
    fetch(q, rows);
    for (auto& r : rows) {
      r.score += 1;
      sqlite3_bind_int(up, 1, r.score);
      sqlite3_bind_int64(up, 2, r.id);
      db.step_done(up);
    }
    db.exec("COMMIT");
    sqlite3_finalize(q);
    sqlite3_finalize(up);
    t.rows[4] = long(rows.size());
    rows = {};
    t.phase[4] = w.seconds();
    t.cpu[4] = w.cpu();
    t.faults[4] = w.faults();
    profile_mark(kPhaseNames[4]);
  }
  {  // P6
    Stopwatch w;
    db.exec("BEGIN");
    sqlite3_stmt* q = db.prepare((std::string(cols) + "bench_accounts.score >= ?").c_str());
    sqlite3_stmt* del = db.prepare("DELETE FROM bench_accounts WHERE bench_accounts.id = ?");
    std::vector<Row> rows;
    sqlite3_bind_int(q, 1, 900);
    fetch(q, rows);
    for (const auto& r : rows) {
      sqlite3_bind_int64(del, 1, r.id);
      db.step_done(del);
    }
    db.exec("COMMIT");
    sqlite3_finalize(q);
    sqlite3_finalize(del);
    t.rows[5] = long(rows.size());
    rows = {};
    t.phase[5] = w.seconds();
    t.cpu[5] = w.cpu();
    t.faults[5] = w.faults();
    profile_mark(kPhaseNames[5]);
  }
  return t;
}

}  // namespace bench
