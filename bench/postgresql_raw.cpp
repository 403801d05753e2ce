// SPDX-License-Identifier: MIT
// The raw half for PostgreSQL: the workload hand-written on libpq — statements prepared once,
// text parameters and results (as alchemy's driver uses them), the same transactions. P1, P5
// and P6 also run batched: pipeline mode (libpq 14+) for INSERT ... RETURNING and UPDATE, and
// DELETE ... WHERE id IN (...) for P6. No alchemy header.
#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
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

long long to_ll(const char* s) {
  long long v = 0;
  std::from_chars(s, s + std::strlen(s), v);
  return v;
}

class Pg {
 public:
  explicit Pg(const std::string& url) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) bench::die(std::string("PQconnectdb: ") + PQerrorMessage(conn_));
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~Pg() { PQfinish(conn_); }
  PGconn* get() const { return conn_; }

  void exec(const char* sql) {
    PGresult* r = PQexec(conn_, sql);
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
      bench::die(std::string(sql) + ": " + PQerrorMessage(conn_));
    PQclear(r);
  }
  void prepare(const char* name, const std::string& sql) {
    PGresult* r = PQprepare(conn_, name, sql.c_str(), 0, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) bench::die(sql + ": " + PQerrorMessage(conn_));
    PQclear(r);
  }
  PGresult* run(const char* name, int n, const char* const* values) {
    PGresult* r = PQexecPrepared(conn_, name, n, values, nullptr, nullptr, 0);
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
      bench::die(std::string(name) + ": " + PQerrorMessage(conn_));
    return r;
  }
  /// Runs a SELECT and appends its rows.
  void fetch(const char* name, int n, const char* const* values, std::vector<Row>& out) {
    PGresult* r = run(name, n, values);
    for (int i = 0, rows = PQntuples(r); i < rows; ++i) {
      Row row;
      row.id = to_ll(PQgetvalue(r, i, 0));
      row.handle.assign(PQgetvalue(r, i, 1), std::size_t(PQgetlength(r, i, 1)));
      if (!PQgetisnull(r, i, 2)) row.secret_key.emplace(PQgetvalue(r, i, 2), std::size_t(PQgetlength(r, i, 2)));
      row.score = int(to_ll(PQgetvalue(r, i, 3)));
      out.push_back(std::move(row));
    }
    PQclear(r);
  }

  /// Pipeline mode: `rows` executions of a prepared statement, `width` parameters each, in
  /// batches of 256 between syncs. Returns the rows affected; the first column of returned
  /// rows goes to `ids`.
  long pipeline(const char* name, int width, const std::vector<const char*>& values, long rows,
                std::vector<long long>* ids) {
    if (PQenterPipelineMode(conn_) != 1) bench::die("PQenterPipelineMode failed");
    long affected = 0;
    for (long row = 0; row < rows;) {
      const long end = std::min(rows, row + 256);
      for (; row < end; ++row)
        if (PQsendQueryPrepared(conn_, name, width, values.data() + row * width, nullptr, nullptr, 0) != 1)
          bench::die(std::string("PQsendQueryPrepared: ") + PQerrorMessage(conn_));
      if (PQpipelineSync(conn_) != 1) bench::die("PQpipelineSync failed");
      for (bool synced = false; !synced;) {
        PGresult* r = PQgetResult(conn_);
        if (!r) continue;
        switch (PQresultStatus(r)) {
          case PGRES_PIPELINE_SYNC: synced = true; break;
          case PGRES_COMMAND_OK:
          case PGRES_TUPLES_OK:
            affected += std::atol(PQcmdTuples(r));
            if (ids)
              for (int i = 0, k = PQntuples(r); i < k; ++i) ids->push_back(to_ll(PQgetvalue(r, i, 0)));
            break;
          default: bench::die(std::string("pipeline: ") + PQerrorMessage(conn_));
        }
        PQclear(r);
      }
    }
    if (PQexitPipelineMode(conn_) != 1) bench::die("PQexitPipelineMode failed");
    return affected;
  }

 private:
  PGconn* conn_ = nullptr;
};

const char* kCols =
    "SELECT bench_accounts.id, bench_accounts.handle, bench_accounts.secret_key, "
    "bench_accounts.score FROM bench_accounts WHERE ";

void reset_table(Pg& pg) {
  pg.exec("DROP TABLE IF EXISTS bench_accounts");
  // The DDL alchemy's create_all() emits for the model.
  pg.exec("CREATE TABLE bench_accounts (\n\tid BIGSERIAL NOT NULL, \n\thandle VARCHAR(50) NOT NULL, "
          "\n\tsecret_key VARCHAR(128), \n\tscore INTEGER NOT NULL, \n\tPRIMARY KEY (id), "
          "\n\tUNIQUE (handle)\n)");
}

/// P1 through one INSERT per row and a round trip each; returns the seconds.
double insert_per_row(Pg& pg, long n) {
  bench::Stopwatch w;
  pg.exec("BEGIN");
  std::string h, s, sc;
  std::vector<long long> ids;
  ids.reserve(std::size_t(n));
  for (long i = 0; i < n; ++i) {
    bench::handle(i, h);
    bench::secret(i, s);
    sc = std::to_string(bench::score(i));
    const char* v[] = {h.c_str(), s.c_str(), sc.c_str()};
    PGresult* r = pg.run("ins", 3, v);
    ids.push_back(to_ll(PQgetvalue(r, 0, 0)));
    PQclear(r);
  }
  pg.exec("COMMIT");
  return w.seconds();
}

/// P1 pipelined.
double insert_pipelined(Pg& pg, long n) {
  bench::Stopwatch w;
  pg.exec("BEGIN");
  std::vector<std::string> text(std::size_t(3 * n));
  std::vector<const char*> values(std::size_t(3 * n));
  for (long i = 0; i < n; ++i) {
    bench::handle(i, text[std::size_t(3 * i)]);
    bench::secret(i, text[std::size_t(3 * i + 1)]);
    text[std::size_t(3 * i + 2)] = std::to_string(bench::score(i));
    for (int k = 0; k < 3; ++k) values[std::size_t(3 * i + k)] = text[std::size_t(3 * i + k)].c_str();
  }
  std::vector<long long> ids;
  ids.reserve(std::size_t(n));
  pg.pipeline("ins", 3, values, n, &ids);
  if (long(ids.size()) != n) bench::die("pipelined INSERT returned too few ids");
  pg.exec("COMMIT");
  return w.seconds();
}

/// P1 as multi-row INSERT ... RETURNING, 1000 rows per statement (parameters as text).
double insert_multirow(Pg& pg, long n) {
  bench::Stopwatch w;
  pg.exec("BEGIN");
  std::vector<std::string> text(std::size_t(3 * n));
  std::vector<const char*> values(std::size_t(3 * n));
  std::vector<long long> ids;
  ids.reserve(std::size_t(n));
  std::string full;  // the 1000-row statement, prepared once
  for (long done = 0; done < n;) {
    const long k = std::min(1000L, n - done);
    for (long i = done; i < done + k; ++i) {
      bench::handle(i, text[std::size_t(3 * i)]);
      bench::secret(i, text[std::size_t(3 * i + 1)]);
      text[std::size_t(3 * i + 2)] = std::to_string(bench::score(i));
      for (int c = 0; c < 3; ++c) values[std::size_t(3 * i + c)] = text[std::size_t(3 * i + c)].c_str();
    }
    std::string sql = "INSERT INTO bench_accounts (handle, secret_key, score) VALUES ";
    for (long j = 0; j < k; ++j)
      sql += (j ? ", ($" : "($") + std::to_string(3 * j + 1) + ", $" + std::to_string(3 * j + 2) +
             ", $" + std::to_string(3 * j + 3) + ")";
    sql += " RETURNING bench_accounts.id";
    const char* name = "ins_many";
    if (sql != full) {
      if (!full.empty()) pg.exec("DEALLOCATE ins_many");
      pg.prepare(name, sql);
      full = sql;
    }
    PGresult* r = pg.run(name, int(3 * k), values.data() + 3 * done);
    for (int i = 0, rows = PQntuples(r); i < rows; ++i) ids.push_back(to_ll(PQgetvalue(r, i, 0)));
    PQclear(r);
    done += k;
  }
  if (long(ids.size()) != n) bench::die("multi-row INSERT returned too few ids");
  pg.exec("DEALLOCATE ins_many");
  pg.exec("COMMIT");
  return w.seconds();
}

}  // namespace

namespace bench {

Times run_raw(const Params& p) {
  Times t;
  Pg pg(p.url);
  if (p.pin_server && pinned_cpu() >= 0) {
    PGresult* r = PQexec(pg.get(), "SELECT pg_backend_pid()");
    if (!pin(std::atol(PQgetvalue(r, 0, 0)), pinned_cpu())) die("cannot pin the backend");
    PQclear(r);
    t.note = "server backend pinned to cpu " + std::to_string(pinned_cpu());
  }
  const long n = p.n;
  reset_table(pg);
  pg.prepare("ins", "INSERT INTO bench_accounts (handle, secret_key, score) VALUES ($1, $2, $3) "
                    "RETURNING bench_accounts.id");

  // P1, batched first: its table is then replaced by the per-row one the other phases use.
  reset_table(pg);
  const char* mode = std::getenv("BENCH_PG_INSERT");
  t.batch[0] = mode && std::string(mode) == "pipeline" ? insert_pipelined(pg, n) : insert_multirow(pg, n);
  reset_table(pg);
  const long faults0 = page_faults();
  t.phase[0] = insert_per_row(pg, n);
  t.faults[0] = page_faults() - faults0;
  t.rows[0] = n;
  pg.exec("CREATE INDEX ix_bench_accounts_score ON bench_accounts (score)");
  pg.exec("ANALYZE bench_accounts");

  pg.prepare("get", std::string(kCols) + "bench_accounts.id = $1");
  pg.prepare("by_score", std::string(kCols) + "bench_accounts.score = $1");
  pg.prepare("like", std::string(kCols) + "bench_accounts.handle LIKE $1");
  pg.prepare("lt", std::string(kCols) + "bench_accounts.score < $1");
  pg.prepare("ge", std::string(kCols) + "bench_accounts.score >= $1");
  pg.prepare("up", "UPDATE bench_accounts SET score=$1 WHERE bench_accounts.id = $2");
  pg.prepare("del", "DELETE FROM bench_accounts WHERE bench_accounts.id = $1");
  {  // P2
    Stopwatch w;
    pg.exec("BEGIN");
    std::vector<Row> rows;
    rows.reserve(std::size_t(n));
    char id[24];
    for (long i = 0; i < n; ++i) {
      *std::to_chars(id, id + sizeof id - 1, lookup_id(i, n)).ptr = '\0';
      const char* v[] = {id};
      pg.fetch("get", 1, v, rows);
    }
    pg.exec("COMMIT");
    t.rows[1] = long(rows.size());
    rows = {};
    t.phase[1] = w.seconds();
    t.faults[1] = w.faults();
  }
  {  // P3
    Stopwatch w;
    pg.exec("BEGIN");
    long total = 0;
    for (int k = 0; k < 200; ++k) {
      std::vector<Row> rows;
      const std::string v0 = std::to_string(k);
      const char* v[] = {v0.c_str()};
      pg.fetch("by_score", 1, v, rows);
      total += long(rows.size());
    }
    pg.exec("COMMIT");
    t.phase[2] = w.seconds();
    t.faults[2] = w.faults();
    t.rows[2] = total;
  }
  {  // P4
    Stopwatch w;
    pg.exec("BEGIN");
    long total = 0;
    for (int d = 0; d < 20; ++d) {
      std::vector<Row> rows;
      const std::string pat = like_pattern(d);
      const char* v[] = {pat.c_str()};
      pg.fetch("like", 1, v, rows);
      total += long(rows.size());
    }
    pg.exec("COMMIT");
    t.phase[3] = w.seconds();
    t.faults[3] = w.faults();
    t.rows[3] = total;
  }
  // P5 and P6 run twice: per row, then batched after undoing the change (not timed).
  for (int pass = 0; pass < 2; ++pass) {
    {  // P5
      Stopwatch w;
      pg.exec("BEGIN");
      std::vector<Row> rows;
      const char* v[] = {"100"};
      pg.fetch("lt", 1, v, rows);
      std::vector<std::string> text(rows.size() * 2);
      std::vector<const char*> values(rows.size() * 2);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i].score += 1;
        text[2 * i] = std::to_string(rows[i].score);
        text[2 * i + 1] = std::to_string(rows[i].id);
        values[2 * i] = text[2 * i].c_str();
        values[2 * i + 1] = text[2 * i + 1].c_str();
        if (pass == 0) PQclear(pg.run("up", 2, values.data() + 2 * i));
      }
      if (pass == 1 && pg.pipeline("up", 2, values, long(rows.size()), nullptr) != long(rows.size()))
        die("pipelined UPDATE matched too few rows");
      pg.exec("COMMIT");
      t.rows[4] = long(rows.size());
      rows = {};
      (pass == 0 ? t.phase[4] : t.batch[4]) = w.seconds();
      if (pass == 0) t.faults[4] = w.faults();
    }
    {  // P6
      Stopwatch w;
      pg.exec("BEGIN");
      std::vector<Row> rows;
      const char* v[] = {"900"};
      pg.fetch("ge", 1, v, rows);
      std::vector<std::string> ids(rows.size());
      std::vector<const char*> values(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) {
        ids[i] = std::to_string(rows[i].id);
        values[i] = ids[i].c_str();
        if (pass == 0) PQclear(pg.run("del", 1, values.data() + i));
      }
      if (pass == 1) {  // DELETE ... WHERE id IN ($1, ... $k), 1000 ids per statement
        for (std::size_t done = 0; done < rows.size();) {
          const std::size_t k = std::min<std::size_t>(1000, rows.size() - done);
          std::string sql = "DELETE FROM bench_accounts WHERE bench_accounts.id IN (";
          for (std::size_t j = 0; j < k; ++j) sql += (j ? ", $" : "$") + std::to_string(j + 1);
          sql += ")";
          PGresult* r = PQexecParams(pg.get(), sql.c_str(), int(k), nullptr, values.data() + done,
                                     nullptr, nullptr, 0);
          if (PQresultStatus(r) != PGRES_COMMAND_OK || std::atol(PQcmdTuples(r)) != long(k))
            die("DELETE ... IN failed");
          PQclear(r);
          done += k;
        }
      }
      pg.exec("COMMIT");
      t.rows[5] = long(rows.size());
      rows = {};
      (pass == 0 ? t.phase[5] : t.batch[5]) = w.seconds();
      if (pass == 0) t.faults[5] = w.faults();
    }
    if (pass == 0) {  // undo P5 and P6 for the batched pass
      pg.exec("UPDATE bench_accounts SET score = score - 1 WHERE score <= 100 AND score >= 1 "
              "AND (id - 1) % 1000 < 100");
      std::string h, s;
      pg.exec("BEGIN");
      for (long i = 0; i < n; ++i) {
        if (score(i) < 900) continue;
        handle(i, h);
        secret(i, s);
        const std::string id = std::to_string(i + 1), sc = std::to_string(score(i));
        const char* v[] = {id.c_str(), h.c_str(), s.c_str(), sc.c_str()};
        PGresult* r = PQexecParams(pg.get(),
                                   "INSERT INTO bench_accounts (id, handle, secret_key, score) "
                                   "VALUES ($1, $2, $3, $4)", 4, nullptr, v, nullptr, nullptr, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) die(std::string("restore: ") + PQerrorMessage(pg.get()));
        PQclear(r);
      }
      pg.exec("COMMIT");
      pg.exec("ANALYZE bench_accounts");
    }
  }
  pg.exec("DROP TABLE IF EXISTS bench_accounts");
  return t;
}

}  // namespace bench
