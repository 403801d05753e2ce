// SPDX-License-Identifier: MIT
// File: dialect/postgresql/driver.hpp
//
// The PostgreSQL driver over libpq: the only alchemy header that includes <libpq-fe.h>.
// Including it registers the URL schemes "postgresql" and "postgresql+libpq".
//
// Choices, and why:
//   - Every statement is prepared server-side once per connection ("alchemy_1", ...), and
//     described at the same time, so the driver knows the type the server inferred for each
//     $n placeholder.
//   - Parameters go as text, except text and bytea bound where the server expects text or bytea:
//     those go in binary format, which for these types is the raw bytes. libpq reads text-format
//     parameters as NUL-terminated C strings, so this is what lets a borrowed string_view be sent
//     without a copy, and a blob without hex encoding.
//   - Results come back as text, which every type has; column() parses them by hint. Binary
//     results would need a decoder per type (numeric, timestamptz, arrays...) for little gain.
//   - A statement the server lost (DISCARD ALL, a plan whose result type changed) is prepared
//     again and retried once, but only outside a transaction block: inside one, the error has
//     already aborted the transaction. A lost connection is never retried.
#ifndef ALCHEMY_DIALECT_POSTGRESQL_DRIVER_HPP_
#define ALCHEMY_DIALECT_POSTGRESQL_DRIVER_HPP_

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alchemy/dialect/driver.hpp"
#include "alchemy/dialect/postgresql/dialect.hpp"
#include "alchemy/dialect/postgresql/errors.hpp"
#include "alchemy/dialect/registry.hpp"
#include "alchemy/error.hpp"
#include "alchemy/sql/detail/datetime.hpp"
#include "alchemy/sql/type_traits.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy::dialect::postgresql {

namespace detail {

// Built-in type OIDs (src/include/catalog/pg_type.dat); fixed across server versions.
inline constexpr Oid bool_oid = 16, bytea_oid = 17, name_oid = 19, int8_oid = 20, int2_oid = 21,
                     int4_oid = 23, text_oid = 25, oid_oid = 26, json_oid = 114,
                     numeric_oid = 1700, bpchar_oid = 1042, varchar_oid = 1043,
                     timestamptz_oid = 1184;

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

/// Types whose binary input form is the UTF-8 text itself (textrecv and friends).
constexpr bool is_raw_text_type(Oid t) noexcept {
  return t == text_oid || t == varchar_oid || t == bpchar_oid || t == name_oid || t == json_oid;
}

constexpr bool is_integer_type(Oid t) noexcept {
  return t == int2_oid || t == int4_oid || t == int8_oid || t == oid_oid || t == numeric_oid;
}

inline std::string_view field(const PGresult* r, int code) noexcept {
  const char* s = r ? PQresultErrorField(r, code) : nullptr;
  return s ? std::string_view(s) : std::string_view();
}

inline int hex_digit(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Decodes bytea's text output: hex ("\x4142", the default since 9.0) or the older escape
/// format (bytea_output = escape), which a database or role setting may still select.
inline bool decode_bytea(std::string_view s, Blob& out) {
  out.clear();
  if (s.starts_with("\\x")) {
    if (s.size() % 2 != 0) return false;
    out.resize((s.size() - 2) / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
      const int hi = hex_digit(s[2 + 2 * i]), lo = hex_digit(s[3 + 2 * i]);
      if (hi < 0 || lo < 0) return false;
      out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
    }
    return true;
  }
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] != '\\') {
      out.push_back(static_cast<std::uint8_t>(s[i++]));
    } else if (i + 1 < s.size() && s[i + 1] == '\\') {
      out.push_back('\\');
      i += 2;
    } else if (i + 3 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '3' && s[i + 2] >= '0' &&
               s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out.push_back(static_cast<std::uint8_t>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 +
                                              (s[i + 3] - '0')));
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

inline void append_hex(std::string& out, std::span<const std::uint8_t> bytes) {
  constexpr char digits[] = "0123456789abcdef";
  out += "\\x";
  for (const std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
}

/// Parses a timestamp as PostgreSQL prints it in ISO DateStyle. timestamptz carries the session
/// offset ("+05:30", "-08"); the result is then UTC, which is what a sys_time means.
inline std::optional<DateTime> parse_timestamp(std::string_view s) {
  if (auto t = sql::detail::parse_datetime(s)) return t;
  const auto sign = s.find_last_of("+-");
  if (sign == std::string_view::npos || sign < 16) return std::nullopt;
  const auto local = sql::detail::parse_datetime(s.substr(0, sign));
  if (!local) return std::nullopt;
  const std::string_view off = s.substr(sign + 1);
  int part[3] = {0, 0, 0};
  std::size_t pos = 0;
  for (int i = 0; i < 3 && pos < off.size(); ++i) {
    if (i > 0 && off[pos++] != ':') return std::nullopt;
    if (!sql::detail::parse::digits(off, pos, 2, part[i])) return std::nullopt;
    pos += 2;
  }
  if (pos != off.size() || off.empty()) return std::nullopt;
  const std::chrono::seconds offset{part[0] * 3600 + part[1] * 60 + part[2]};
  return s[sign] == '+' ? *local - offset : *local + offset;
}

/// The connection keywords this libpq knows, for rejecting misspelt URL options up front.
inline const std::vector<std::string>& libpq_keywords() {
  static const std::vector<std::string> keywords = [] {
    std::vector<std::string> k;
    if (PQconninfoOption* opts = PQconndefaults()) {
      for (const PQconninfoOption* o = opts; o->keyword; ++o) k.emplace_back(o->keyword);
      PQconninfoFree(opts);
    }
    return k;
  }();
  return keywords;
}

inline bool iequals_prefix(std::string_view s, std::string_view prefix) noexcept {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != prefix[i]) return false;
  }
  return true;
}

inline DatabaseErrorInfo client_error(std::string message, std::string_view statement,
                                      std::string_view sqlstate = {}) {
  DatabaseErrorInfo info;
  info.message = std::move(message);
  info.statement = std::string(statement);
  info.sqlstate = std::string(sqlstate);
  info.driver = "postgresql";
  return info;
}

}  // namespace detail

class PgConnection;

/// A statement prepared on one PgConnection. Obtained from PgConnection::prepare().
class PgStatement final : public Statement {
 public:
  PgStatement(PgConnection& owner, std::string sql) : owner_(owner), sql_(std::move(sql)) {}
  ~PgStatement() override = default;

  const std::string& sql() const noexcept override { return sql_; }
  int param_count() const noexcept override { return static_cast<int>(param_types_.size()); }
  void bind(int index, sql::ValueRef value) override;
  void execute() override;
  bool next() override;
  int column_count() const noexcept override {
    return result_ ? PQnfields(result_.get()) : described_columns_;
  }
  std::string column_name(int index) const override {
    if (!result_ || index < 0 || index >= PQnfields(result_.get())) return {};
    const char* n = PQfname(result_.get(), index);
    return n ? n : "";
  }
  sql::ValueRef column(int index, sql::TypeKind hint) override;
  bool integer_column(int index, sql::TypeKind hint, std::int64_t& out) override;
  bool text_column(int index, sql::TypeKind hint, std::string_view& out) override;
  std::int64_t affected_rows() const noexcept override { return affected_; }
  std::optional<std::int64_t> last_insert_id() const noexcept override { return std::nullopt; }
  void reset() noexcept override;

  /// The server-side name ("alchemy_3"). A new one is chosen when the statement is re-prepared.
  const std::string& name() const noexcept { return name_; }

 private:
  friend class PgConnection;

  /// One parameter's text form when it is not sent straight from the caller's memory. Numbers
  /// and booleans are written into `small` without allocating; dates and timestamps are
  /// copied there from sql::detail's formatters.
  struct Slot {
    char small[48];
    std::string big;  // text needing a terminator, hex-encoded blobs
  };

  void prepare_on_server();
  void check_value(sql::ValueRef v) const;
  void encode_params();
  void encode(std::size_t i);
  void clear_result() noexcept {
    result_.reset();
    rows_ = 0;
    row_ = -1;
    std::fill(blob_rows_.begin(), blob_rows_.end(), -1);
  }
  bool statement_lost(const PGresult* r) const noexcept;
  bool text_of(int index, std::string_view& out) const noexcept;

  PgConnection& owner_;
  std::string sql_;
  std::string name_;
  bool prepared_ = false;
  std::vector<Oid> param_types_;
  int described_columns_ = 0;
  std::vector<Oid> column_types_;  // the result's column types, as described at prepare

  std::vector<sql::ValueRef> bound_;
  std::vector<char> is_bound_;
  std::vector<Slot> slots_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;

  detail::ResultPtr result_;
  int rows_ = 0;
  int row_ = -1;
  std::int64_t affected_ = 0;
  std::vector<Blob> blobs_;     // decoded bytea, per column, for the current row
  std::vector<int> blob_rows_;  // the row each blobs_ entry was decoded for
};

/// A libpq connection. Besides the Connection interface it offers execute_many() (pipeline mode)
/// and native_handle().
class PgConnection final : public Connection {
 public:
  /// Takes ownership of a connected PGconn.
  explicit PgConnection(PGconn* conn) noexcept : conn_(conn) {}
  ~PgConnection() override {
    statements_.clear();  // their PGresults first
    PQfinish(conn_);
  }

  Statement& prepare(const std::string& sql) override { return prepare_statement(sql); }
  void execute(std::string_view sql) override;
  void begin() override { run("BEGIN", "BEGIN"); }
  void commit() override;
  void rollback() override { run("ROLLBACK", "ROLLBACK"); }
  bool ping() noexcept override;
  bool is_broken() const noexcept override {
    return broken_ || PQstatus(conn_) == CONNECTION_BAD;
  }
  bool has_table(std::string_view name) override;

  /// Runs `sql` once for each row of `params` (row-major, param_count() values per row) in
  /// libpq's pipeline mode: one round trip per batch of rows instead of one per row. Returns the
  /// rows affected in all. When `returned` is given, the first column of every result row is
  /// appended to it as an integer (INSERT ... RETURNING id). Outside a transaction each batch
  /// commits on its own; call it between begin() and commit() for all or nothing. The first
  /// failure is thrown after the pipeline is drained; later rows of its batch are not run.
  std::int64_t execute_many(const std::string& sql, std::span<const sql::ValueRef> params,
                            std::vector<std::int64_t>* returned = nullptr,
                            const std::function<void(std::size_t)>& on_row = {});

  /// The unit of work's batch: execute_many() when there is more than one row (one round trip
  /// per 256 rows), else the plain prepared statement.
  std::int64_t execute_batch(const std::string& sql, std::size_t width,
                             std::span<const sql::ValueRef> params,
                             std::vector<std::int64_t>* keys,
                             const std::function<void(std::size_t)>& on_row = {}) override {
#ifdef LIBPQ_HAS_PIPELINING
    if (width != 0 && params.size() > width) {
      const std::size_t before = keys ? keys->size() : 0;
      const auto affected = execute_many(sql, params, keys, on_row);
      if (keys && keys->size() - before != params.size() / width)
        throw InvalidRequestError("INSERT ... RETURNING returned " +
                                  std::to_string(keys->size() - before) + " keys for " +
                                  std::to_string(params.size() / width) + " rows [SQL: " + sql + "]");
      return affected;
    }
#endif
    return Connection::execute_batch(sql, width, params, keys, on_row);
  }

  /// Rows per multi-row INSERT ... RETURNING or DELETE ... IN of the unit of work. On loopback
  /// one INSERT of 1,000 rows costs half of what the same rows cost pipelined, one statement
  /// each (docs/performance.md); UPDATEs, whose rows differ in what they set, stay pipelined.
  /// 500, not 1,000: the server's time per row grows with the statement's size, in each
  /// execution and more in the first five, which it plans with their values (custom plans):
  /// 20,000 rows took 7 to 9 % less server CPU time in INSERTs of 500 rows (docs/performance.md).
  std::size_t multirow_rows() const noexcept override { return 500; }

  /// The PGconn, for what alchemy does not wrap (LISTEN, COPY). Owned by this connection.
  PGconn* native_handle() const noexcept { return conn_; }

 private:
  friend class PgStatement;

  PgStatement& prepare_statement(const std::string& sql);
  detail::ResultPtr run(const char* sql, std::string_view statement);
  void end_copy(detail::ResultPtr& r) noexcept;
  ErrorReport report(const PGresult* r, std::string_view statement) noexcept;
  [[noreturn]] void fail(const PGresult* r, std::string_view statement);
  std::string next_statement_name() { return "alchemy_" + std::to_string(++statement_counter_); }

  PGconn* conn_;
  std::unordered_map<std::string, std::unique_ptr<PgStatement>> statements_;
  std::uint64_t statement_counter_ = 0;
  bool broken_ = false;
};

// ---- PgConnection ----------------------------------------------------------------------------

inline ErrorReport PgConnection::report(const PGresult* r, std::string_view statement) noexcept {
  ErrorReport rep;
  rep.sqlstate = detail::field(r, PG_DIAG_SQLSTATE);
  rep.primary = detail::field(r, PG_DIAG_MESSAGE_PRIMARY);
  rep.severity = detail::field(r, PG_DIAG_SEVERITY_NONLOCALIZED);
  const char* full = r ? PQresultErrorMessage(r) : nullptr;
  rep.full = (full && *full) ? full : PQerrorMessage(conn_);
  rep.statement = statement;
  rep.connection_bad = PQstatus(conn_) == CONNECTION_BAD;
  if (is_disconnect(rep)) broken_ = true;
  return rep;
}

inline void PgConnection::fail(const PGresult* r, std::string_view statement) {
  throw_error(report(r, statement));
}

inline PgStatement& PgConnection::prepare_statement(const std::string& sql) {
  if (const auto it = statements_.find(sql); it != statements_.end()) return *it->second;
  auto st = std::make_unique<PgStatement>(*this, sql);
  st->prepare_on_server();  // a statement the server refuses is not cached
  PgStatement& ref = *st;
  statements_.emplace(sql, std::move(st));
  return ref;
}

inline void PgConnection::end_copy(detail::ResultPtr& r) noexcept {
  // COPY through execute() would leave the connection waiting for data; end it so that the
  // connection stays usable, and let the caller report it.
  if (PQresultStatus(r.get()) == PGRES_COPY_IN) {
    PQputCopyEnd(conn_, "COPY FROM STDIN is not supported by alchemy");
  } else {
    char* buf = nullptr;
    while (PQgetCopyData(conn_, &buf, 0) > 0) PQfreemem(buf);
  }
  while (PGresult* next = PQgetResult(conn_)) PQclear(next);
}

inline detail::ResultPtr PgConnection::run(const char* sql, std::string_view statement) {
  detail::ResultPtr r(PQexec(conn_, sql));
  switch (r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY: return r;
    case PGRES_COPY_IN:
    case PGRES_COPY_OUT:
    case PGRES_COPY_BOTH:
      end_copy(r);
      throw ProgrammingError(detail::client_error(
          "COPY to or from the client is not supported through execute()", statement));
    default: fail(r.get(), statement);
  }
}

inline void PgConnection::execute(std::string_view sql) {
  if (sql.find('\0') != std::string_view::npos)
    throw ArgumentError("SQL text cannot contain NUL bytes");
  const std::string text(sql);
  run(text.c_str(), text);
  // These drop the server's prepared statements behind the cache's back.
  auto s = sql.substr(std::min(sql.find_first_not_of(" \t\r\n"), sql.size()));
  if (detail::iequals_prefix(s, "DISCARD ALL") || detail::iequals_prefix(s, "DEALLOCATE"))
    for (auto& entry : statements_) entry.second->prepared_ = false;
}

inline void PgConnection::commit() {
  const auto r = run("COMMIT", "COMMIT");
  // COMMIT of an aborted transaction succeeds with the tag ROLLBACK: without this check a
  // caller that swallowed an error would believe its earlier writes were saved.
  if (std::string_view(PQcmdStatus(r.get())) == "ROLLBACK")
    throw InternalError(detail::client_error(
        "COMMIT of an aborted transaction: the server rolled it back", "COMMIT", "25P02"));
}

inline bool PgConnection::ping() noexcept {
  if (broken_) return false;
  // An empty query is the cheapest round trip, and is answered even in an aborted transaction.
  PGresult* r = PQexec(conn_, "");
  const bool ok = r && PQresultStatus(r) == PGRES_EMPTY_QUERY;
  PQclear(r);
  if (!ok && PQstatus(conn_) == CONNECTION_BAD) broken_ = true;
  return ok;
}

inline bool PgConnection::has_table(std::string_view name) {
  // As SQLAlchemy's PGDialect.has_table: tables, views, foreign, partitioned and materialized,
  // visible on the search path (temporary tables included).
  auto& st = prepare_statement(
      "SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
      " ON n.oid = c.relnamespace WHERE c.relname = $1::text"
      " AND c.relkind = ANY (ARRAY['r', 'p', 'f', 'v', 'm'])"
      " AND pg_catalog.pg_table_is_visible(c.oid) AND n.nspname <> 'pg_catalog'");
  st.bind(0, sql::ValueRef::text(name));
  st.execute();
  const bool found = st.next();
  st.reset();
  return found;
}

inline std::int64_t PgConnection::execute_many(const std::string& sql,
                                               std::span<const sql::ValueRef> params,
                                               std::vector<std::int64_t>* returned,
                                               const std::function<void(std::size_t)>& on_row) {
#ifdef LIBPQ_HAS_PIPELINING
  PgStatement& st = prepare_statement(sql);
  if (!st.prepared_) st.prepare_on_server();  // dropped by DISCARD ALL or a lost statement
  const auto n = static_cast<std::size_t>(st.param_count());
  if (n == 0 || params.size() % n != 0)
    throw ArgumentError("execute_many needs a whole number of rows of " + std::to_string(n) +
                        " parameters");
  for (const auto v : params) st.check_value(v);
  st.clear_result();
  if (PQenterPipelineMode(conn_) != 1) fail(nullptr, sql);

  // Batches bound what is in flight: in blocking mode the server could otherwise fill our
  // receive buffer with results while we still send, and both sides would wait.
  constexpr std::size_t batch = 256;
  const std::size_t rows = params.size() / n;
  std::int64_t affected = 0;
  std::optional<std::pair<ErrorKind, DatabaseErrorInfo>> error;
  auto record = [&](const PGresult* r) {
    if (!error) {
      const ErrorReport rep = report(r, sql);
      error.emplace(kind_of(rep), make_info(rep));
    }
  };
  try {
    for (std::size_t row = 0; row < rows && !error;) {
      const std::size_t end = std::min(rows, row + batch);
      for (; row < end; ++row) {
        if (on_row) on_row(row);
        std::copy_n(params.begin() + static_cast<std::ptrdiff_t>(row * n), n, st.bound_.begin());
        st.encode_params();
        if (PQsendQueryPrepared(conn_, st.name_.c_str(), static_cast<int>(n), st.values_.data(),
                                st.lengths_.data(), st.formats_.data(), 0) != 1) {
          record(nullptr);
          break;
        }
      }
      if (PQstatus(conn_) == CONNECTION_BAD || PQpipelineSync(conn_) != 1) {
        record(nullptr);
        break;
      }
      for (bool synced = false; !synced;) {
        detail::ResultPtr r(PQgetResult(conn_));
        if (!r) {
          if (PQstatus(conn_) == CONNECTION_BAD) {
            record(nullptr);
            break;
          }
          continue;  // the end of one query's results
        }
        switch (PQresultStatus(r.get())) {
          case PGRES_PIPELINE_SYNC: synced = true; break;
          case PGRES_PIPELINE_ABORTED: break;  // skipped after an earlier failure
          case PGRES_COMMAND_OK:
          case PGRES_TUPLES_OK: {
            const std::string_view tuples = PQcmdTuples(r.get());
            std::int64_t count = 0;
            std::from_chars(tuples.data(), tuples.data() + tuples.size(), count);
            affected += count;
            if (returned && PQnfields(r.get()) > 0) {
              for (int i = 0, k = PQntuples(r.get()); i < k; ++i) {
                const std::string_view v(PQgetvalue(r.get(), i, 0),
                                         static_cast<std::size_t>(PQgetlength(r.get(), i, 0)));
                std::int64_t id = 0;
                if (std::from_chars(v.data(), v.data() + v.size(), id).ec != std::errc{} && !error)
                  error.emplace(ErrorKind::data,
                                detail::client_error("RETURNING column is not an integer", sql));
                returned->push_back(id);
              }
            }
            break;
          }
          default: record(r.get()); break;
        }
      }
    }
  } catch (...) {
    broken_ = true;  // the pipeline is in an unknown state
    throw;
  }
  if (PQstatus(conn_) != CONNECTION_BAD && PQexitPipelineMode(conn_) != 1) broken_ = true;
  if (error) throw_error(error->first, std::move(error->second));
  return affected;
#else
  (void)sql, (void)params, (void)returned, (void)on_row;
  throw InvalidRequestError("execute_many needs libpq 14 or newer (pipeline mode)");
#endif
}

// ---- PgStatement -----------------------------------------------------------------------------

inline void PgStatement::prepare_on_server() {
  PGconn* conn = owner_.conn_;
  name_ = owner_.next_statement_name();
  // paramTypes left to the server: it infers them from the statement, and describing the
  // statement afterwards tells us what it chose.
  detail::ResultPtr r(PQprepare(conn, name_.c_str(), sql_.c_str(), 0, nullptr));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) owner_.fail(r.get(), sql_);
  r.reset(PQdescribePrepared(conn, name_.c_str()));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) owner_.fail(r.get(), sql_);
  const int n = PQnparams(r.get());
  param_types_.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) param_types_[static_cast<std::size_t>(i)] = PQparamtype(r.get(), i);
  described_columns_ = PQnfields(r.get());
  column_types_.resize(static_cast<std::size_t>(described_columns_));
  for (int i = 0; i < described_columns_; ++i) column_types_[static_cast<std::size_t>(i)] = PQftype(r.get(), i);
  const auto count = static_cast<std::size_t>(n);
  if (bound_.size() != count) {
    bound_.assign(count, sql::ValueRef());
    is_bound_.assign(count, 0);
    slots_ = std::vector<Slot>(count);
    values_.assign(count, nullptr);
    lengths_.assign(count, 0);
    formats_.assign(count, 0);
  }
  prepared_ = true;
}

inline void PgStatement::check_value(sql::ValueRef v) const {
  if (v.kind() == sql::ValueKind::text) {
    const auto s = v.as_text();
    // The server would refuse it anyway (22021); refusing here names the cause and never
    // lets a C-string path truncate the value silently.
    if (std::memchr(s.data(), 0, s.size()) != nullptr)
      throw DataError(
          detail::client_error("PostgreSQL text cannot contain NUL bytes", sql_, "22021"));
  }
  if ((v.kind() == sql::ValueKind::text || v.kind() == sql::ValueKind::blob) &&
      v.as_text().size() > static_cast<std::size_t>(INT_MAX / 2 - 2))
    throw DataError(detail::client_error("value too large for a PostgreSQL parameter", sql_,
                                         "54000"));
}

inline void PgStatement::bind(int index, sql::ValueRef value) {
  if (index < 0 || index >= param_count())
    throw ArgumentError("parameter index " + std::to_string(index) + " out of range for a " +
                        "statement with " + std::to_string(param_count()) + " parameters");
  check_value(value);
  const auto i = static_cast<std::size_t>(index);
  bound_[i] = value;
  is_bound_[i] = 1;
}

inline void PgStatement::encode(std::size_t i) {
  const sql::ValueRef v = bound_[i];
  const Oid type = param_types_[i];
  Slot& slot = slots_[i];
  formats_[i] = 0;
  lengths_[i] = 0;
  auto put_small = [&](std::string_view s) {
    if (s.size() < sizeof slot.small) {
      std::memcpy(slot.small, s.data(), s.size());
      slot.small[s.size()] = '\0';
      values_[i] = slot.small;
    } else {
      slot.big.assign(s);
      values_[i] = slot.big.c_str();
    }
  };
  switch (v.kind()) {
    case sql::ValueKind::null: values_[i] = nullptr; return;
    case sql::ValueKind::integer: {
      const auto r = std::to_chars(slot.small, slot.small + sizeof slot.small - 1, v.as_integer());
      *r.ptr = '\0';
      values_[i] = slot.small;
      return;
    }
    case sql::ValueKind::real: {
      const double d = v.as_real();
      // to_chars writes "inf" and "-nan"; these are the spellings float8in and numeric_in take.
      if (std::isnan(d)) {
        values_[i] = "NaN";
      } else if (std::isinf(d)) {
        values_[i] = d > 0 ? "Infinity" : "-Infinity";
      } else {
        const auto r = std::to_chars(slot.small, slot.small + sizeof slot.small - 1, d);
        *r.ptr = '\0';
        values_[i] = slot.small;
      }
      return;
    }
    case sql::ValueKind::boolean:
      // An integer column holding flags (as SQLite and MySQL store them) rejects "true".
      values_[i] = detail::is_integer_type(type) ? (v.as_boolean() ? "1" : "0")
                                                 : (v.as_boolean() ? "true" : "false");
      return;
    case sql::ValueKind::text: {
      const auto s = v.as_text();
      if (detail::is_raw_text_type(type)) {
        values_[i] = s.data() ? s.data() : "";  // a null pointer would mean SQL NULL
        lengths_[i] = static_cast<int>(s.size());
        formats_[i] = 1;
      } else {
        slot.big.assign(s);
        values_[i] = slot.big.c_str();
      }
      return;
    }
    case sql::ValueKind::blob: {
      const auto b = v.as_blob();
      if (type == detail::bytea_oid) {
        values_[i] = b.data() ? reinterpret_cast<const char*>(b.data()) : "";
        lengths_[i] = static_cast<int>(b.size());
        formats_[i] = 1;
      } else {
        slot.big.clear();
        detail::append_hex(slot.big, b);
        values_[i] = slot.big.c_str();
      }
      return;
    }
    case sql::ValueKind::date: put_small(sql::detail::format_date(v.as_date())); return;
    case sql::ValueKind::datetime: {
      std::string s = sql::detail::format_datetime(v.as_datetime());
      // A DateTime is UTC (sys_time); without the offset timestamptz would read it in the
      // session's TimeZone. Plain timestamp ignores an offset, but text columns would keep it.
      if (type == detail::timestamptz_oid) s += "+00";
      put_small(s);
      return;
    }
  }
}

inline void PgStatement::encode_params() {
  for (std::size_t i = 0; i < bound_.size(); ++i) encode(i);
}

inline bool PgStatement::statement_lost(const PGresult* r) const noexcept {
  const auto state = detail::field(r, PG_DIAG_SQLSTATE);
  if (state == "26000") return true;  // invalid_sql_statement_name: DISCARD ALL, DEALLOCATE
  // Table altered since prepare: the server cannot re-plan to a different row shape.
  return state == "0A000" && detail::field(r, PG_DIAG_MESSAGE_PRIMARY)
                                 .starts_with("cached plan must not change result type");
}

inline void PgStatement::execute() {
  clear_result();
  for (std::size_t i = 0; i < is_bound_.size(); ++i)
    if (!is_bound_[i])
      throw ArgumentError("parameter " + std::to_string(i + 1) + " is not bound [SQL: " + sql_ +
                          "]");
  PGconn* conn = owner_.conn_;
  for (bool retried = false;; retried = true) {
    if (!prepared_) prepare_on_server();
    encode_params();
    detail::ResultPtr r(PQexecPrepared(conn, name_.c_str(), param_count(), values_.data(),
                                       lengths_.data(), formats_.data(), 0));
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      result_ = std::move(r);
      break;
    }
    if (statement_lost(r.get())) {
      prepared_ = false;  // after a ROLLBACK the next execute prepares it again
      if (!retried && PQtransactionStatus(conn) == PQTRANS_IDLE) continue;
    }
    owner_.fail(r.get(), sql_);
  }
  rows_ = PQntuples(result_.get());
  row_ = -1;
  const std::string_view tuples = PQcmdTuples(result_.get());
  affected_ = 0;
  std::from_chars(tuples.data(), tuples.data() + tuples.size(), affected_);
}

inline bool PgStatement::next() {
  if (!result_ || row_ + 1 >= rows_) {
    row_ = rows_;
    return false;
  }
  ++row_;
  return true;
}

inline sql::ValueRef PgStatement::column(int index, sql::TypeKind hint) {
  if (!result_ || row_ < 0 || row_ >= rows_)
    throw InvalidRequestError("column() called without a current row [SQL: " + sql_ + "]");
  if (index < 0 || index >= PQnfields(result_.get()))
    throw ArgumentError("column index " + std::to_string(index) + " out of range");
  PGresult* res = result_.get();
  if (PQgetisnull(res, row_, index)) return {};
  const std::string_view s(PQgetvalue(res, row_, index),
                           static_cast<std::size_t>(PQgetlength(res, row_, index)));
  // What cannot be parsed for the hint goes back as text: the type traits then report the
  // mismatch with the value's kind, and column() itself never fails on data.
  const auto as_text = sql::ValueRef::text(s);

  if (PQftype(res, index) == detail::bytea_oid) {
    const auto col = static_cast<std::size_t>(index);
    if (blobs_.size() <= col) {
      blobs_.resize(col + 1);
      blob_rows_.resize(col + 1, -1);
    }
    if (blob_rows_[col] != row_) {
      if (!detail::decode_bytea(s, blobs_[col])) return as_text;
      blob_rows_[col] = row_;
    }
    return sql::ValueRef::blob(blobs_[col]);
  }

  switch (hint) {
    case sql::TypeKind::string:
    case sql::TypeKind::text: return as_text;
    case sql::TypeKind::blob: return sql::ValueRef::blob(std::span(
        reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
    case sql::TypeKind::boolean:
    case sql::TypeKind::small_integer:
    case sql::TypeKind::integer:
    case sql::TypeKind::big_integer: {
      if (s == "t" || s == "f") return sql::ValueRef::boolean(s == "t");
      std::int64_t v = 0;
      const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc{} && r.ptr == s.data() + s.size()) return sql::ValueRef::integer(v);
      return as_text;
    }
    case sql::TypeKind::float_:
    case sql::TypeKind::double_: {
      double v = 0;
      const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc{} && r.ptr == s.data() + s.size()) return sql::ValueRef::real(v);
      return as_text;
    }
    case sql::TypeKind::date:
      if (s.size() == 10)  // longer: a timestamp, or a BC date parse_date would misread
        if (auto d = sql::detail::parse_date(s)) return sql::ValueRef::date(*d);
      if (auto t = detail::parse_timestamp(s)) return sql::ValueRef::datetime(*t);
      return as_text;
    case sql::TypeKind::datetime:
      if (auto t = detail::parse_timestamp(s)) return sql::ValueRef::datetime(*t);
      return as_text;
  }
  return as_text;
}

/// Column `index` of the current row as the server sent it, when column() would hand over that
/// text (or parse it): not NULL, not bytea, a row and a column that exist.
inline bool PgStatement::text_of(int index, std::string_view& out) const noexcept {
  const PGresult* res = result_.get();
  // The described types are the result's (a prepared statement's result cannot change type).
  if (!res || row_ < 0 || row_ >= rows_ || index < 0 || index >= described_columns_ ||
      column_types_[static_cast<std::size_t>(index)] == detail::bytea_oid || PQgetisnull(res, row_, index))
    return false;
  out = {PQgetvalue(res, row_, index), static_cast<std::size_t>(PQgetlength(res, row_, index))};
  return true;
}

// column()'s integer and text cases without a ValueRef: true exactly when column() would return
// ValueRef::integer(out) or ValueRef::text(out); anything else goes to column().
inline bool PgStatement::integer_column(int index, sql::TypeKind hint, std::int64_t& out) {
  if (hint != sql::TypeKind::small_integer && hint != sql::TypeKind::integer && hint != sql::TypeKind::big_integer)
    return false;
  std::string_view s;
  if (!text_of(index, s)) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

inline bool PgStatement::text_column(int index, sql::TypeKind hint, std::string_view& out) {
  return (hint == sql::TypeKind::string || hint == sql::TypeKind::text) && text_of(index, out);
}

inline void PgStatement::reset() noexcept {
  clear_result();
  // Bound text and blobs borrow the caller's memory, which need not outlive execute().
  std::fill(is_bound_.begin(), is_bound_.end(), 0);
  std::fill(bound_.begin(), bound_.end(), sql::ValueRef());
}

// ---- PgDriver --------------------------------------------------------------------------------

/// Opens libpq connections. URL query options are passed to libpq as connection keywords
/// (sslmode, connect_timeout, application_name, options, ...).
class PgDriver final : public Driver {
 public:
  std::string_view name() const noexcept override { return "postgresql"; }
  const alchemy::dialect::Dialect& dialect() const noexcept override { return dialect_instance(); }
  std::unique_ptr<Connection> connect(const ConnectParams& params) const override {
    return connect_pg(params);
  }
  /// connect(), typed: for execute_many() and native_handle().
  std::unique_ptr<PgConnection> connect_pg(const ConnectParams& params) const;
};

inline std::unique_ptr<PgConnection> PgDriver::connect_pg(const ConnectParams& p) const {
  const auto& known = detail::libpq_keywords();
  for (const auto& [key, value] : p.query) {
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw ArgumentError("unknown PostgreSQL connection option '" + key + "'");
    if (key == "client_encoding" &&
        !((value.size() == 4 && detail::iequals_prefix(value, "UTF8")) ||
          (value.size() == 5 && detail::iequals_prefix(value, "UTF-8"))))
      throw ArgumentError("client_encoding must be UTF8: alchemy exchanges UTF-8 text");
  }
  std::vector<const char*> keys, values;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) {
      keys.push_back(k);
      values.push_back(v.c_str());
    }
  };
  const std::string fallback_name = "alchemy";
  add("fallback_application_name", fallback_name);
  add("host", p.host);
  const std::string port = p.port ? std::to_string(*p.port) : std::string();
  add("port", port);
  add("user", p.username);
  add("password", p.password);
  add("dbname", p.database);
  for (const auto& [key, value] : p.query) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  const std::string encoding = "UTF8";
  add("client_encoding", encoding);  // last: libpq keeps the last value of a keyword
  keys.push_back(nullptr);
  values.push_back(nullptr);

  // expand_dbname = 0: a database name is only a name, never a connection string.
  PGconn* conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (conn == nullptr) throw OperationalError(detail::client_error("out of memory", {}));
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = postgresql::detail::one_line(PQerrorMessage(conn));
    PQfinish(conn);
    // libpq does not print passwords, but a password that is also the user or database
    // name would still appear; never let it through.
    if (!p.password.empty())
      for (auto pos = msg.find(p.password); pos != std::string::npos;
           pos = msg.find(p.password, pos + 3))
        msg.replace(pos, p.password.size(), "***");
    throw OperationalError(detail::client_error(std::move(msg), {}));
  }
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  auto connection = std::make_unique<PgConnection>(conn);
  // column() parses ISO dates; a database or role may default to another DateStyle.
  const char* style = PQparameterStatus(conn, "DateStyle");
  if (style == nullptr || !std::string_view(style).starts_with("ISO"))
    connection->execute("SET DateStyle = ISO");
  return connection;
}

/// The PostgreSQL driver.
inline const Driver& driver() {
  static const PgDriver instance;
  return instance;
}

inline const bool postgresql_registered =
    alchemy::dialect::register_driver("postgresql", &driver) &&
    alchemy::dialect::register_driver("postgresql+libpq", &driver);

}  // namespace alchemy::dialect::postgresql

#endif  // ALCHEMY_DIALECT_POSTGRESQL_DRIVER_HPP_
