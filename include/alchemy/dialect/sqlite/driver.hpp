// SPDX-License-Identifier: MIT
// File: dialect/sqlite/driver.hpp
//
// The SQLite driver: the only header that includes <sqlite3.h>. Including it registers the
// "sqlite" URL scheme.
//
//   sqlite:///relative.db   sqlite:////absolute.db   sqlite://  (memory)
//   options: ?timeout=5 (busy timeout, seconds)  ?mode=ro|rw|rwc
//
// Every connection enforces foreign keys (PRAGMA foreign_keys=ON) and waits for a locked
// database up to the busy timeout (5 s, as Python's sqlite3) before OperationalError.
#ifndef ALCHEMY_DIALECT_SQLITE_DRIVER_HPP_
#define ALCHEMY_DIALECT_SQLITE_DRIVER_HPP_

#include <sqlite3.h>

#include <charconv>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "alchemy/dialect/driver.hpp"
#include "alchemy/dialect/registry.hpp"
#include "alchemy/dialect/sqlite/dialect.hpp"
#include "alchemy/dialect/sqlite/errors.hpp"

namespace alchemy::dialect::sqlite {

class Connection;

/// A prepared sqlite3_stmt.
class Statement final : public dialect::Statement {
 public:
  Statement(sqlite3* db, std::string sql) : db_(db), sql_(std::move(sql)) {
    const int rc = sqlite3_prepare_v3(db_, sql_.data(), static_cast<int>(sql_.size()),
                                      SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc != SQLITE_OK) throw_error(sqlite3_extended_errcode(db_), sqlite3_errmsg(db_), sql_);
    scratch_.resize(static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt_)));
  }
  ~Statement() override { sqlite3_finalize(stmt_); }

  const std::string& sql() const noexcept override { return sql_; }
  int param_count() const noexcept override { return static_cast<int>(scratch_.size()); }

  void bind(int index, sql::ValueRef v) override {
    if (state_ != State::idle) reset();
    const int i = index + 1;
    int rc = SQLITE_OK;
    switch (v.kind()) {
      case sql::ValueKind::null: rc = sqlite3_bind_null(stmt_, i); break;
      case sql::ValueKind::integer:
      case sql::ValueKind::boolean: rc = sqlite3_bind_int64(stmt_, i, v.as_integer()); break;
      case sql::ValueKind::real: rc = sqlite3_bind_double(stmt_, i, v.as_real()); break;
      case sql::ValueKind::text: {
        const auto t = v.as_text();
        rc = sqlite3_bind_text64(stmt_, i, t.data(), t.size(), SQLITE_STATIC, SQLITE_UTF8);
        break;
      }
      case sql::ValueKind::blob: {
        const auto b = v.as_blob();
        // A zero-length blob needs a non-null pointer, or SQLite stores NULL.
        static const char empty = 0;
        rc = sqlite3_bind_blob64(stmt_, i, b.empty() ? &empty : static_cast<const void*>(b.data()),
                                 b.size(), SQLITE_STATIC);
        break;
      }
      case sql::ValueKind::date:
      case sql::ValueKind::datetime: {
        // Stored as SQLAlchemy stores them: ISO text.
        auto& s = scratch_.at(static_cast<std::size_t>(index));
        s = v.kind() == sql::ValueKind::date ? sql::detail::format_date(v.as_date())
                                             : sql::detail::format_datetime(v.as_datetime());
        rc = sqlite3_bind_text64(stmt_, i, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
        break;
      }
    }
    if (rc != SQLITE_OK) throw_error(rc, sqlite3_errstr(rc), sql_);
  }

  void execute() override {
    if (state_ != State::idle) sqlite3_reset(stmt_);
    step();
    if (state_ == State::done) changes_ = sqlite3_changes64(db_);
    pending_row_ = state_ == State::row;
  }

  bool next() override {
    if (pending_row_) {
      pending_row_ = false;
      return true;
    }
    if (state_ != State::row) return false;
    step();
    return state_ == State::row;
  }

  int column_count() const noexcept override { return sqlite3_column_count(stmt_); }
  std::string column_name(int index) const override {
    const char* n = sqlite3_column_name(stmt_, index);
    return n ? n : "";
  }

  sql::ValueRef column(int index, sql::TypeKind hint) override {
    sqlite3_value* const value = column_value(index);
    switch (sqlite3_value_type(value)) {
      case SQLITE_NULL: return {};
      case SQLITE_INTEGER: {
        const auto v = sqlite3_value_int64(value);
        return hint == sql::TypeKind::boolean ? sql::ValueRef::boolean(v != 0)
                                              : sql::ValueRef::integer(v);
      }
      case SQLITE_FLOAT: return sql::ValueRef::real(sqlite3_value_double(value));
      case SQLITE_BLOB: {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(value));
        const auto n = static_cast<std::size_t>(sqlite3_value_bytes(value));
        return sql::ValueRef::blob({p, n});
      }
      default: {
        const std::string_view text = value_text(value);
        if (hint == sql::TypeKind::datetime) {
          if (auto t = sql::detail::parse_datetime(text)) return sql::ValueRef::datetime(*t);
        } else if (hint == sql::TypeKind::date) {
          if (auto d = sql::detail::parse_date(text.substr(0, 10))) return sql::ValueRef::date(*d);
        } else if (hint == sql::TypeKind::blob) {
          return sql::ValueRef::blob({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
        }
        return sql::ValueRef::text(text);
      }
    }
  }
  // column()'s INTEGER case and its text case without a conversion, for values of exactly
  // that storage class; anything else (NULL, 2.5, '12' in an integer column) goes to column().
  bool integer_column(int index, sql::TypeKind hint, std::int64_t& out) override {
    if (hint == sql::TypeKind::boolean) return false;
    sqlite3_value* const value = column_value(index);
    if (sqlite3_value_type(value) != SQLITE_INTEGER) return false;
    out = sqlite3_value_int64(value);
    return true;
  }
  bool text_column(int index, sql::TypeKind hint, std::string_view& out) override {
    if (hint == sql::TypeKind::datetime || hint == sql::TypeKind::date || hint == sql::TypeKind::blob)
      return false;
    sqlite3_value* const value = column_value(index);
    if (sqlite3_value_type(value) != SQLITE_TEXT) return false;
    out = value_text(value);
    return true;
  }

  std::int64_t affected_rows() const noexcept override { return changes_; }
  std::optional<std::int64_t> last_insert_id() const noexcept override {
    return sqlite3_last_insert_rowid(db_);
  }
  void reset() noexcept override {
    if (state_ != State::idle) sqlite3_reset(stmt_);
    state_ = State::idle;
    pending_row_ = false;
  }

 private:
  enum class State { idle, row, done };
  // Each sqlite3_column_X(stmt, i) is sqlite3_value_X() of the column's value, wrapped in the
  // connection's mutex and a check that records an allocation failure of the read in the
  // statement (which column() never looked at). Taking the value once and reading it with
  // sqlite3_value_X() does the same reads with one wrapper per column instead of two or three:
  // 300 instructions less per object of four columns. The value is "unprotected", which makes
  // no difference here: the connection has no mutex (SQLITE_OPEN_NOMUTEX) and one thread uses
  // it at a time.
  sqlite3_value* column_value(int index) const noexcept { return sqlite3_column_value(stmt_, index); }
  static std::string_view value_text(sqlite3_value* value) noexcept {
    const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(value));  // before the size
    const auto n = static_cast<std::size_t>(sqlite3_value_bytes(value));
    return {p ? p : "", n};
  }
  void step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
      state_ = State::row;
    } else if (rc == SQLITE_DONE) {
      state_ = State::done;
    } else {
      const int code = sqlite3_extended_errcode(db_);
      std::string msg = sqlite3_errmsg(db_);
      sqlite3_reset(stmt_);
      state_ = State::idle;
      throw_error(code, std::move(msg), sql_);
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
  std::vector<std::string> scratch_;  // text forms of bound dates, alive until the next bind
  State state_ = State::idle;
  bool pending_row_ = false;
  std::int64_t changes_ = 0;
};

/// A sqlite3 database handle with its statement cache.
class Connection final : public dialect::Connection {
 public:
  explicit Connection(const ConnectParams& p) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int timeout_ms = 5000;
    for (const auto& [key, value] : p.query) {
      if (key == "timeout") {
        double seconds = 0;
        const auto r = std::from_chars(value.data(), value.data() + value.size(), seconds);
        if (r.ec != std::errc{} || r.ptr != value.data() + value.size() || seconds < 0)
          throw ArgumentError("sqlite option 'timeout' must be a number of seconds");
        timeout_ms = static_cast<int>(seconds * 1000);
      } else if (key == "mode") {
        if (value == "ro")
          flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
        else if (value == "rw")
          flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
        else if (value != "rwc")
          throw ArgumentError("sqlite option 'mode' must be ro, rw or rwc");
      } else {
        throw ArgumentError("unknown sqlite URL option '" + key + "' (known: timeout, mode)");
      }
    }
    const std::string path = p.database.empty() ? ":memory:" : p.database;
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      const int code = db_ ? sqlite3_extended_errcode(db_) : rc;
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw_error(code, "unable to open database file '" + path + "': " + msg, {});
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, timeout_ms);
    try {
      // Reading the schema checks that the file is a database now, not at the first query.
      execute("PRAGMA foreign_keys=ON");
      execute("SELECT count(*) FROM sqlite_master");
    } catch (...) {
      statements_.clear();
      sqlite3_close_v2(db_);
      db_ = nullptr;
      throw;
    }
  }
  ~Connection() override {
    statements_.clear();  // finalize before close
    sqlite3_close_v2(db_);
  }

  dialect::Statement& prepare(const std::string& sql) override {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return *it->second;
    auto stmt = std::make_unique<Statement>(db_, sql);
    return *statements_.emplace(sql, std::move(stmt)).first->second;
  }

  void execute(std::string_view sql) override {
    const std::string text(sql);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
      std::string msg = err ? err : sqlite3_errstr(rc);
      sqlite3_free(err);
      throw_error(sqlite3_extended_errcode(db_), std::move(msg), text);
    }
  }

  bool ping() noexcept override { return db_ != nullptr; }
  bool is_broken() const noexcept override { return false; }

  bool has_table(std::string_view name) override {
    auto& st = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    st.bind(0, sql::ValueRef::text(name));
    st.execute();
    const bool found = st.next();
    st.reset();
    return found;
  }

  /// Rows per DELETE ... WHERE key IN list, and per multi-row INSERT of rows whose keys are
  /// given: on one core, 10,000 deletes by key take 16 % less time in lists of 100 than one
  /// statement each (docs/performance.md). Rows that need a generated key get no
  /// multirow_key_step(): SQLite ties the rowids it picks to no order of a multi-row INSERT's
  /// rows, which is why SQLAlchemy inserts such rows one at a time. assigns_next_keys() lets
  /// the unit of work name their keys itself instead.
  std::size_t multirow_rows() const noexcept override { return 100; }

  /// SQLite's rowid algorithm gives a new row max(rowid) + 1 (with AUTOINCREMENT, one more than
  /// the larger of that and sqlite_sequence's value, which SQLite raises to an explicit rowid
  /// too), unless max(rowid) is the largest integer, where it picks at random. So after the
  /// caller's INSERT got `last`, the next rows would get last + 1, ... exactly when `last` is
  /// now the table's largest key, the key column is the rowid, and nothing but the caller's
  /// rows can be inserted meanwhile. That needs, all checked here (any doubt: false):
  ///   - a transaction, in which that INSERT took the write lock (RESERVED, or WAL's writer
  ///     lock) that no other connection can take before COMMIT or ROLLBACK;
  ///   - `key` an alias of the rowid: the one primary key column, declared INTEGER, with no
  ///     index behind it (WITHOUT ROWID tables and `INTEGER PRIMARY KEY DESC` have one);
  ///   - no trigger on the table, in main or temp (one could insert rows of its own), no ON
  ///     CONFLICT clause in its DDL (IGNORE would skip a row silently), no temp table of the
  ///     name (the INSERT would go there), and a table of main: not a view or virtual table;
  ///   - max(key) == last: the rowid was not picked at random, and no row was added above it;
  ///   - last + count within 64 bits.
  bool assigns_next_keys(std::string_view table, std::string_view key, std::int64_t last,
                         std::size_t count) override {
    if (count == 0 || sqlite3_get_autocommit(db_) ||
        last > INT64_MAX - static_cast<std::int64_t>(count))
      return false;
    try {
      return keys_follow(table, key, last);
    } catch (const DatabaseError&) {
      return false;  // e.g. an SQLite before 3.16, without pragma functions: one row per INSERT
    }
  }

  std::size_t max_params() const noexcept override {
    return static_cast<std::size_t>(sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, -1));
  }

  sqlite3* handle() const noexcept { return db_; }

 private:
  bool keys_follow(std::string_view table, std::string_view key, std::int64_t last) {
    // The table checks read only the schema: their answer holds while neither main's nor
    // temp's schema_version moves (any CREATE, DROP or ALTER, by any connection, moves it).
    static const std::string main_pragma = "PRAGMA main.schema_version", temp_pragma = "PRAGMA temp.schema_version";
    const std::int64_t main_version = cookie(main_pragma), temp_version = cookie(temp_pragma);
    KeyTable* known = nullptr;
    for (auto& t : key_tables_)
      if (t.table == table && t.key == key) known = &t;
    if (!known) known = &key_tables_.emplace_back(KeyTable{std::string(table), std::string(key)});
    if (main_version < 0 || temp_version < 0 || known->main_version != main_version ||
        known->temp_version != temp_version) {
      known->ok = key_is_own_rowid(table, key);
      known->main_version = main_version;
      known->temp_version = temp_version;
    }
    if (!known->ok) return false;
    std::int64_t v = 0;
    auto& top = prepare("SELECT max(" + quoted(key) + ") FROM " + quoted(table));
    const ResetGuard reset(top);
    top.execute();
    return top.next() && top.integer_column(0, sql::TypeKind::big_integer, v) && v == last;
  }

  /// The schema half of keys_follow(): the rowid alias, no trigger, no ON CONFLICT, no shadow.
  bool key_is_own_rowid(std::string_view table, std::string_view key) {
    std::int64_t v = 0;
    auto& check = prepare(
        "SELECT (SELECT count(*) FROM pragma_table_info(?1) WHERE pk > 0) = 1"
        " AND EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE pk = 1 AND name = ?2 COLLATE NOCASE"
        " AND upper(type) = 'INTEGER')"
        " AND NOT EXISTS (SELECT 1 FROM pragma_index_list(?1) WHERE origin = 'pk')"
        " AND NOT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE)"
        " AND NOT EXISTS (SELECT 1 FROM sqlite_temp_master WHERE type = 'trigger' AND tbl_name = ?1 COLLATE NOCASE)"
        " AND NOT EXISTS (SELECT 1 FROM sqlite_temp_master WHERE name = ?1 COLLATE NOCASE)"
        " AND (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1 COLLATE NOCASE"
        " AND substr(upper(sql), 1, 12) = 'CREATE TABLE' AND instr(upper(sql), 'CONFLICT') = 0) = 1");
    const ResetGuard reset(check);
    check.bind(0, sql::ValueRef::text(table));
    check.bind(1, sql::ValueRef::text(key));
    check.execute();
    return check.next() && check.integer_column(0, sql::TypeKind::integer, v) && v == 1;
  }

  std::int64_t cookie(const std::string& pragma) {
    auto& st = prepare(pragma);
    const ResetGuard reset(st);
    st.execute();
    std::int64_t v = -1;
    return st.next() && st.integer_column(0, sql::TypeKind::integer, v) ? v : -1;
  }

  static std::string quoted(std::string_view name) {
    std::string out = "\"";
    for (const char c : name) {
      if (c == '"') out += '"';
      out += c;
    }
    return out += '"';
  }

  struct KeyTable {  // key_is_own_rowid()'s answer for a table, at two schema versions
    std::string table, key;
    std::int64_t main_version = -1, temp_version = -1;
    bool ok = false;
  };

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
  std::vector<KeyTable> key_tables_;
};

/// Opens SQLite connections.
class Driver final : public dialect::Driver {
 public:
  std::string_view name() const noexcept override { return "sqlite"; }
  const dialect::Dialect& dialect() const noexcept override { return dialect_instance(); }
  std::unique_ptr<dialect::Connection> connect(const ConnectParams& params) const override {
    return std::make_unique<Connection>(params);
  }
};

inline const dialect::Driver& driver() {
  static const Driver d;
  return d;
}

inline const bool sqlite_registered =
    register_driver("sqlite", &driver) && register_driver("sqlite+pysqlite", &driver) &&
    register_driver("sqlite+sqlite3", &driver);

}  // namespace alchemy::dialect::sqlite

#endif  // ALCHEMY_DIALECT_SQLITE_DRIVER_HPP_
