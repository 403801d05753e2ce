// SPDX-License-Identifier: MIT
// The raw half for MariaDB / MySQL: the workload hand-written on the C API's prepared
// statements (mysql_stmt_*), results buffered with mysql_stmt_store_result as alchemy's driver
// does, the same transactions. P1, P5 and P6 also run batched: multi-row INSERT (1000 rows per
// statement), MariaDB's array binding for the UPDATEs, DELETE ... WHERE id IN (...) for P6.
// No alchemy header.
#include <mysql.h>

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

struct UrlParts {
  std::string user, password, host, db;
  unsigned port = 3306;
};

UrlParts parse(const std::string& url) {
  // mysql://user:password@host:port/db (no escapes: the test URLs need none)
  UrlParts u;
  auto rest = url.substr(url.find("://") + 3);
  const auto at = rest.rfind('@');
  const auto cred = rest.substr(0, at);
  rest = rest.substr(at + 1);
  u.user = cred.substr(0, cred.find(':'));
  u.password = cred.find(':') == std::string::npos ? "" : cred.substr(cred.find(':') + 1);
  const auto slash = rest.find('/');
  auto hostport = rest.substr(0, slash);
  u.db = rest.substr(slash + 1);
  u.db = u.db.substr(0, u.db.find('?'));
  if (const auto colon = hostport.find(':'); colon != std::string::npos) {
    u.port = unsigned(std::atoi(hostport.substr(colon + 1).c_str()));
    hostport = hostport.substr(0, colon);
  }
  u.host = hostport;
  return u;
}

class My {
 public:
  explicit My(const std::string& url) {
    const auto u = parse(url);
    m_ = mysql_init(nullptr);
    mysql_options(m_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    // CLIENT_FOUND_ROWS as alchemy's driver uses it: matched, not changed, rows.
    if (!mysql_real_connect(m_, u.host.c_str(), u.user.c_str(), u.password.c_str(), u.db.c_str(),
                            u.port, nullptr, CLIENT_FOUND_ROWS))
      bench::die(std::string("mysql_real_connect: ") + mysql_error(m_));
  }
  ~My() { mysql_close(m_); }
  MYSQL* get() const { return m_; }
  void exec(const std::string& sql) {
    if (mysql_real_query(m_, sql.data(), (unsigned long)sql.size()) != 0)
      bench::die(sql + ": " + mysql_error(m_));
    if (MYSQL_RES* r = mysql_store_result(m_)) mysql_free_result(r);
  }

 private:
  MYSQL* m_ = nullptr;
};

/// A prepared statement with its parameter binds.
class Stmt {
 public:
  Stmt(My& my, const std::string& sql) : sql_(sql) {
    st_ = mysql_stmt_init(my.get());
    if (mysql_stmt_prepare(st_, sql.data(), (unsigned long)sql.size()) != 0) fail();
    params_.assign(mysql_stmt_param_count(st_), MYSQL_BIND{});
  }
  ~Stmt() { mysql_stmt_close(st_); }
  void bind_int(std::size_t i, long long& v) {
    params_[i] = MYSQL_BIND{};
    params_[i].buffer_type = MYSQL_TYPE_LONGLONG;
    params_[i].buffer = &v;
  }
  void bind_text(std::size_t i, const std::string& s, unsigned long& len) {
    len = (unsigned long)s.size();
    params_[i] = MYSQL_BIND{};
    params_[i].buffer_type = MYSQL_TYPE_STRING;
    params_[i].buffer = const_cast<char*>(s.data());
    params_[i].buffer_length = len;
    params_[i].length = &len;
  }
  void execute() {
    if (!params_.empty() && mysql_stmt_bind_param(st_, params_.data())) fail();
    if (mysql_stmt_execute(st_) != 0) fail();
  }
  long long affected() { return (long long)mysql_stmt_affected_rows(st_); }
  long long insert_id() { return (long long)mysql_stmt_insert_id(st_); }
  MYSQL_STMT* get() { return st_; }
  std::vector<MYSQL_BIND>& params() { return params_; }
  [[noreturn]] void fail() { bench::die(sql_ + ": " + mysql_stmt_error(st_)); }

  /// Executes a SELECT of (id, handle, secret_key, score) and appends its rows.
  void fetch(std::vector<Row>& out) {
    execute();
    if (mysql_stmt_store_result(st_) != 0) fail();
    long long id = 0;
    int score = 0;
    char handle[64], secret[160];
    unsigned long hl = 0, sl = 0;
    my_bool secret_null = 0;
    MYSQL_BIND res[4] = {};
    res[0].buffer_type = MYSQL_TYPE_LONGLONG;
    res[0].buffer = &id;
    res[1].buffer_type = MYSQL_TYPE_STRING;
    res[1].buffer = handle;
    res[1].buffer_length = sizeof handle;
    res[1].length = &hl;
    res[2].buffer_type = MYSQL_TYPE_STRING;
    res[2].buffer = secret;
    res[2].buffer_length = sizeof secret;
    res[2].length = &sl;
    res[2].is_null = &secret_null;
    res[3].buffer_type = MYSQL_TYPE_LONG;
    res[3].buffer = &score;
    if (mysql_stmt_bind_result(st_, res)) fail();
    while (mysql_stmt_fetch(st_) == 0) {
      Row r;
      r.id = id;
      r.handle.assign(handle, hl);
      if (!secret_null) r.secret_key.emplace(secret, sl);
      r.score = score;
      out.push_back(std::move(r));
    }
    mysql_stmt_free_result(st_);
  }

 private:
  std::string sql_;
  MYSQL_STMT* st_ = nullptr;
  std::vector<MYSQL_BIND> params_;
};

const char* kCols =
    "SELECT bench_accounts.id, bench_accounts.handle, bench_accounts.secret_key, "
    "bench_accounts.score FROM bench_accounts WHERE ";

void reset_table(My& my) {
  my.exec("DROP TABLE IF EXISTS bench_accounts");
  // The DDL alchemy's create_all() emits for the model.
  my.exec("CREATE TABLE bench_accounts (\n\tid BIGINT NOT NULL AUTO_INCREMENT, \n\thandle "
          "VARCHAR(50) NOT NULL, \n\tsecret_key VARCHAR(128), \n\tscore INTEGER NOT NULL, "
          "\n\tPRIMARY KEY (id), \n\tUNIQUE (handle)\n)");
}

double insert_per_row(My& my, long n) {
  bench::Stopwatch w;
  my.exec("START TRANSACTION");
  Stmt ins(my, "INSERT INTO bench_accounts (handle, secret_key, score) VALUES (?, ?, ?)");
  std::string h, s;
  long long sc = 0;
  unsigned long hl = 0, sl = 0;
  std::vector<long long> ids;
  ids.reserve(std::size_t(n));
  for (long i = 0; i < n; ++i) {
    bench::handle(i, h);
    bench::secret(i, s);
    sc = bench::score(i);
    ins.bind_text(0, h, hl);
    ins.bind_text(1, s, sl);
    ins.bind_int(2, sc);
    ins.execute();
    ids.push_back(ins.insert_id());
  }
  my.exec("COMMIT");
  return w.seconds();
}

/// Multi-row INSERTs of up to 1000 rows; the ids follow from LAST_INSERT_ID() (consecutive
/// under innodb_autoinc_lock_mode 0 or 1).
double insert_multirow(My& my, long n) {
  bench::Stopwatch w;
  my.exec("START TRANSACTION");
  const auto rows = static_cast<std::size_t>(n);
  std::vector<std::string> h(rows), s(rows);
  std::vector<long long> sc(rows);
  std::vector<unsigned long> len(2 * rows);
  std::vector<long long> ids;
  ids.reserve(std::size_t(n));
  for (long done = 0; done < n;) {
    const long k = std::min(1000L, n - done);
    std::string sql = "INSERT INTO bench_accounts (handle, secret_key, score) VALUES ";
    for (long j = 0; j < k; ++j) sql += j ? ", (?, ?, ?)" : "(?, ?, ?)";
    Stmt ins(my, sql);  // a real program would cache the full-size one; a prepare costs one RT
    for (long j = 0; j < k; ++j) {
      const long i = done + j;
      bench::handle(i, h[std::size_t(i)]);
      bench::secret(i, s[std::size_t(i)]);
      sc[std::size_t(i)] = bench::score(i);
      ins.bind_text(std::size_t(3 * j), h[std::size_t(i)], len[std::size_t(2 * i)]);
      ins.bind_text(std::size_t(3 * j + 1), s[std::size_t(i)], len[std::size_t(2 * i + 1)]);
      ins.bind_int(std::size_t(3 * j + 2), sc[std::size_t(i)]);
    }
    ins.execute();
    if (ins.affected() != k) bench::die("multi-row INSERT inserted too few rows");
    for (long j = 0; j < k; ++j) ids.push_back(ins.insert_id() + j);
    done += k;
  }
  my.exec("COMMIT");
  return w.seconds();
}

}  // namespace

namespace bench {

Times run_raw(const Params& p) {
  Times t;
  My my(p.url);
  const long n = p.n;
  reset_table(my);
  t.batch[0] = insert_multirow(my, n);
  reset_table(my);
  const long faults0 = page_faults();
  t.phase[0] = insert_per_row(my, n);
  t.faults[0] = page_faults() - faults0;
  t.rows[0] = n;
  my.exec("CREATE INDEX ix_bench_accounts_score ON bench_accounts (score)");
  my.exec("ANALYZE TABLE bench_accounts");

  Stmt get(my, std::string(kCols) + "bench_accounts.id = ?");
  Stmt by_score(my, std::string(kCols) + "bench_accounts.score = ?");
  Stmt like(my, std::string(kCols) + "bench_accounts.handle LIKE ?");
  Stmt lt(my, std::string(kCols) + "bench_accounts.score < ?");
  Stmt ge(my, std::string(kCols) + "bench_accounts.score >= ?");
  Stmt up(my, "UPDATE bench_accounts SET score=? WHERE bench_accounts.id = ?");
  Stmt del(my, "DELETE FROM bench_accounts WHERE bench_accounts.id = ?");
  {  // P2
    Stopwatch w;
    my.exec("START TRANSACTION");
    std::vector<Row> rows;
    rows.reserve(std::size_t(n));
    long long id = 0;
    get.bind_int(0, id);
    for (long i = 0; i < n; ++i) {
      id = lookup_id(i, n);
      get.fetch(rows);
    }
    my.exec("COMMIT");
    t.rows[1] = long(rows.size());
    rows = {};
    t.phase[1] = w.seconds();
    t.faults[1] = w.faults();
  }
  {  // P3
    Stopwatch w;
    my.exec("START TRANSACTION");
    long total = 0;
    long long k = 0;
    by_score.bind_int(0, k);
    for (k = 0; k < 200; ++k) {
      std::vector<Row> rows;
      by_score.fetch(rows);
      total += long(rows.size());
    }
    my.exec("COMMIT");
    t.phase[2] = w.seconds();
    t.faults[2] = w.faults();
    t.rows[2] = total;
  }
  {  // P4
    Stopwatch w;
    my.exec("START TRANSACTION");
    long total = 0;
    for (int d = 0; d < 20; ++d) {
      std::vector<Row> rows;
      const std::string pat = like_pattern(d);
      unsigned long len = 0;
      like.bind_text(0, pat, len);
      like.fetch(rows);
      total += long(rows.size());
    }
    my.exec("COMMIT");
    t.phase[3] = w.seconds();
    t.faults[3] = w.faults();
    t.rows[3] = total;
  }
  for (int pass = 0; pass < 2; ++pass) {
    {  // P5
      Stopwatch w;
      my.exec("START TRANSACTION");
      std::vector<Row> rows;
      long long bound = 100;
      lt.bind_int(0, bound);
      lt.fetch(rows);
      std::vector<long long> scores(rows.size()), ids(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) {
        rows[i].score += 1;
        scores[i] = rows[i].score;
        ids[i] = rows[i].id;
        if (pass == 0) {
          up.bind_int(0, scores[i]);
          up.bind_int(1, ids[i]);
          up.execute();
          if (up.affected() != 1) die("UPDATE matched no row");
        }
      }
      if (pass == 1 && !rows.empty()) {  // MariaDB array binding: every row in one execution
        unsigned int size = unsigned(rows.size());
        mysql_stmt_attr_set(up.get(), STMT_ATTR_ARRAY_SIZE, &size);
        up.bind_int(0, scores[0]);
        up.bind_int(1, ids[0]);
        up.params()[0].buffer = scores.data();
        up.params()[1].buffer = ids.data();
        up.execute();
        if (up.affected() != (long long)rows.size()) die("bulk UPDATE matched too few rows");
        size = 0;
        mysql_stmt_attr_set(up.get(), STMT_ATTR_ARRAY_SIZE, &size);
      }
      my.exec("COMMIT");
      t.rows[4] = long(rows.size());
      rows = {};
      (pass == 0 ? t.phase[4] : t.batch[4]) = w.seconds();
      if (pass == 0) t.faults[4] = w.faults();
    }
    {  // P6
      Stopwatch w;
      my.exec("START TRANSACTION");
      std::vector<Row> rows;
      long long bound = 900;
      ge.bind_int(0, bound);
      ge.fetch(rows);
      std::vector<long long> ids(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) {
        ids[i] = rows[i].id;
        if (pass == 0) {
          del.bind_int(0, ids[i]);
          del.execute();
        }
      }
      if (pass == 1) {
        for (std::size_t done = 0; done < rows.size();) {
          const std::size_t k = std::min<std::size_t>(1000, rows.size() - done);
          std::string sql = "DELETE FROM bench_accounts WHERE bench_accounts.id IN (";
          for (std::size_t j = 0; j < k; ++j) sql += j ? ", ?" : "?";
          sql += ")";
          Stmt d(my, sql);
          for (std::size_t j = 0; j < k; ++j) d.bind_int(j, ids[done + j]);
          d.execute();
          if (d.affected() != (long long)k) die("DELETE ... IN deleted too few rows");
          done += k;
        }
      }
      my.exec("COMMIT");
      t.rows[5] = long(rows.size());
      rows = {};
      (pass == 0 ? t.phase[5] : t.batch[5]) = w.seconds();
      if (pass == 0) t.faults[5] = w.faults();
    }
    if (pass == 0) {  // undo P5 and P6 for the batched pass (not timed)
      my.exec("UPDATE bench_accounts SET score = score - 1 WHERE (id - 1) % 1000 < 100");
      my.exec("START TRANSACTION");
      Stmt ins(my, "INSERT INTO bench_accounts (id, handle, secret_key, score) VALUES (?, ?, ?, ?)");
      std::string h, s;
      long long id = 0, sc = 0;
      unsigned long hl = 0, sl = 0;
      for (long i = 0; i < n; ++i) {
        if (score(i) < 900) continue;
        handle(i, h);
        secret(i, s);
        id = i + 1;
        sc = score(i);
        ins.bind_int(0, id);
        ins.bind_text(1, h, hl);
        ins.bind_text(2, s, sl);
        ins.bind_int(3, sc);
        ins.execute();
      }
      my.exec("COMMIT");
    }
  }
  my.exec("DROP TABLE IF EXISTS bench_accounts");
  return t;
}

}  // namespace bench
