// SPDX-License-Identifier: MIT
// File: dialect/mysql/driver.hpp
//
// The MySQL / MariaDB driver: alchemy's Driver, Connection and Statement over the classic C
// client API (`mysql_real_connect`, `mysql_stmt_*`). It builds against MariaDB Connector/C
// (Debian's libmariadb-dev, include dir /usr/include/mariadb) and Oracle's libmysqlclient; it
// and its detail/bind.hpp are the only headers that include <mysql.h>. Link with -lmariadb or
// -lmysqlclient.
//
//   mysql://user:pw@127.0.0.1:3306/app?charset=utf8mb4&connect_timeout=10
//   URL options: charset, connect_timeout, read_timeout, write_timeout, unix_socket,
//                ssl_mode (DISABLED|PREFERRED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY),
//                ssl_ca, ssl_capath, ssl_cert, ssl_key
//
// What every connection is given, and why:
//   - CLIENT_FOUND_ROWS: affected_rows() counts matched rows, so an UPDATE that changes
//     nothing still reports 1 and the unit of work can tell a stale row from an unchanged one.
//   - utf8mb4 unless `charset` says otherwise: MySQL's "utf8" cannot hold 4-byte characters.
//   - STRICT_ALL_TABLES added to sql_mode: a bad value is an error, never a warning and a
//     silently clipped value.
//   - No auto-reconnect: a reconnect inside a transaction would lose its work silently. A lost
//     connection throws OperationalError with connection_invalidated() and stays broken.
//
// Statements are server-side prepared statements with `?` placeholders, cached per connection
// by SQL text. Results are buffered on the client (mysql_stmt_store_result), as mysqlclient's
// default cursor does, so that several cached statements may be used in turn on one
// connection without "Commands out of sync".
//
// Threads: mysql_library_init runs once (a function-local static). libmysqlclient needs
// mysql_thread_init in every thread that uses the library and mysql_thread_end before that
// thread exits; every entry point here does it through a thread_local guard. With MariaDB
// Connector/C both calls are cheap no-ops. mysql_library_end is never called: connections held
// in static objects may outlive any point where it would be safe.
#ifndef ALCHEMY_DIALECT_MYSQL_DRIVER_HPP_
#define ALCHEMY_DIALECT_MYSQL_DRIVER_HPP_

#include <mysql.h>
#if !defined(LIBMARIADB) && __has_include(<mysql_version.h>)
#include <mysql_version.h>  // Oracle's: MYSQL_VERSION_ID (MariaDB's warns when included)
#endif

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alchemy/dialect/driver.hpp"
#include "alchemy/dialect/mysql/detail/bind.hpp"
#include "alchemy/dialect/mysql/dialect.hpp"
#include "alchemy/dialect/mysql/errors.hpp"
#include "alchemy/dialect/registry.hpp"
#include "alchemy/error.hpp"
#include "alchemy/sql/type_traits.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy::dialect::mysql {

namespace detail {

inline void library_init() {
  static const bool ok = mysql_library_init(0, nullptr, nullptr) == 0;
  if (!ok) throw OperationalError(client_error("mysql_library_init failed", {}));
}

struct ThreadGuard {
  ThreadGuard() { mysql_thread_init(); }
  ~ThreadGuard() { mysql_thread_end(); }
  ThreadGuard(const ThreadGuard&) = delete;
  ThreadGuard& operator=(const ThreadGuard&) = delete;
};

/// Call at every entry point: the library once per process, the thread state once per thread.
inline void thread_init() {
  library_init();
  thread_local ThreadGuard guard;
}

/// The state a Connection shares with its Statements: the handle and whether it is lost.
class Link {
 public:
  MYSQL* mysql = nullptr;
  bool broken = false;

  /// Throws for an error number; a disconnect marks the connection broken first.
  [[noreturn]] void fail(unsigned code, const char* sqlstate, const char* message,
                         std::string_view sql) {
    if (code == 0)  // the library failed without saying why
      throw DatabaseError(client_error(message && *message ? message : "unknown MySQL client error",
                                       std::string(sql)));
    if (is_disconnect(code)) broken = true;
    throw_error(code, sqlstate ? sqlstate : "", message ? message : "", std::string(sql));
  }

  [[noreturn]] void fail_connection(std::string_view sql) {
    fail(mysql_errno(mysql), mysql_sqlstate(mysql), mysql_error(mysql), sql);
  }

  [[noreturn]] void fail_statement(MYSQL_STMT* stmt, std::string_view sql) {
    const unsigned code = mysql_stmt_errno(stmt);
    // A statement-level client error can hide a lost connection: check the handle as well.
    if (code >= 2000 && is_disconnect(mysql_errno(mysql))) fail_connection(sql);
    fail(code, mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt), sql);
  }

  /// A lost connection is never used again: the pool must discard it.
  void check_usable(std::string_view sql) const {
    if (!broken) return;
    DatabaseErrorInfo info = client_error("the connection was lost earlier and cannot be used",
                                          std::string(sql), "08003");
    info.connection_invalidated = true;
    throw OperationalError(std::move(info));
  }
};

}  // namespace detail

/// A server-side prepared statement. Parameters and results go through MYSQL_BIND arrays kept
/// here; text and blob parameters point at the caller's data.
class MysqlStatement final : public Statement {
 public:
  MysqlStatement(detail::Link& link, std::string sql) : link_(link), sql_(std::move(sql)) {
    stmt_ = mysql_stmt_init(link_.mysql);
    if (!stmt_) link_.fail_connection(sql_);
    if (mysql_stmt_prepare(stmt_, sql_.data(), static_cast<unsigned long>(sql_.size())) != 0) {
      const unsigned code = mysql_stmt_errno(stmt_);
      const std::string state = mysql_stmt_sqlstate(stmt_);
      const std::string message = mysql_stmt_error(stmt_);
      mysql_stmt_close(stmt_);
      stmt_ = nullptr;
      if (code >= 2000 && is_disconnect(mysql_errno(link_.mysql))) link_.fail_connection(sql_);
      link_.fail(code, state.c_str(), message.c_str(), sql_);
    }
    // Lets store_result record each column's longest value, so buffers are sized up front.
    const detail::Flag update_max_length = 1;
    mysql_stmt_attr_set(stmt_, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max_length);
    const auto n = mysql_stmt_param_count(stmt_);
    params_.resize(n);
    param_binds_.assign(n, MYSQL_BIND{});
  }

  ~MysqlStatement() override {
    if (stmt_) mysql_stmt_close(stmt_);
  }

  const std::string& sql() const noexcept override { return sql_; }
  int param_count() const noexcept override { return static_cast<int>(params_.size()); }

  void bind(int index, sql::ValueRef value) override {
    if (index < 0 || static_cast<std::size_t>(index) >= params_.size())
      throw ArgumentError("parameter index " + std::to_string(index) +
                          " out of range for: " + sql_);
    auto& p = params_[static_cast<std::size_t>(index)];
    auto& b = param_binds_[static_cast<std::size_t>(index)];
    b = MYSQL_BIND{};
    switch (value.kind()) {
      case sql::ValueKind::null: b.buffer_type = MYSQL_TYPE_NULL; break;
      case sql::ValueKind::integer:
        p.integer = value.as_integer();
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &p.integer;
        break;
      case sql::ValueKind::real:
        p.real = value.as_real();
        b.buffer_type = MYSQL_TYPE_DOUBLE;
        b.buffer = &p.real;
        break;
      case sql::ValueKind::boolean:
        p.boolean = value.as_boolean() ? 1 : 0;
        b.buffer_type = MYSQL_TYPE_TINY;
        b.buffer = &p.boolean;
        break;
      case sql::ValueKind::text:
      case sql::ValueKind::blob: {
        static char empty = 0;
        const auto text = value.as_text();  // a blob's bytes, viewed as chars
        p.length = static_cast<unsigned long>(text.size());
        b.buffer_type = value.kind() == sql::ValueKind::text ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
        // The client only reads parameter buffers; its API is not const-correct.
        b.buffer = text.data() ? const_cast<char*>(text.data()) : &empty;
        b.buffer_length = p.length;
        b.length = &p.length;
        break;
      }
      case sql::ValueKind::date:
        p.time = detail::to_mysql_date(value.as_date());
        b.buffer_type = MYSQL_TYPE_DATE;
        b.buffer = &p.time;
        break;
      case sql::ValueKind::datetime:
        p.time = detail::to_mysql_datetime(value.as_datetime());
        b.buffer_type = MYSQL_TYPE_DATETIME;
        b.buffer = &p.time;
        break;
    }
    p.bound = true;
  }

  void execute() override {
    detail::thread_init();
    link_.check_usable(sql_);
    release_result();
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (!params_[i].bound)
        throw ArgumentError("parameter " + std::to_string(i) + " is not bound: " + sql_);
    if (!params_.empty() && mysql_stmt_bind_param(stmt_, param_binds_.data()))
      link_.fail_statement(stmt_, sql_);
    if (mysql_stmt_execute(stmt_) != 0) link_.fail_statement(stmt_, sql_);
    if (mysql_stmt_field_count(stmt_) > 0) {
      if (mysql_stmt_store_result(stmt_) != 0) link_.fail_statement(stmt_, sql_);
      bind_results();
      has_result_ = true;
    }
    affected_ = static_cast<std::int64_t>(mysql_stmt_affected_rows(stmt_));
    insert_id_ = mysql_stmt_insert_id(stmt_);
  }

  bool next() override {
    if (!has_result_) return false;
    const int rc = mysql_stmt_fetch(stmt_);
    if (rc == MYSQL_NO_DATA) return false;
    if (rc == 1) link_.fail_statement(stmt_, sql_);
    if (rc == MYSQL_DATA_TRUNCATED) fetch_truncated();
    return true;
  }

  int column_count() const noexcept override { return static_cast<int>(columns_.size()); }
  std::string column_name(int index) const override {
    if (index < 0 || static_cast<std::size_t>(index) >= columns_.size()) return {};
    return columns_[static_cast<std::size_t>(index)].name;
  }

  sql::ValueRef column(int index, sql::TypeKind hint) override {
    if (index < 0 || static_cast<std::size_t>(index) >= columns_.size())
      throw ArgumentError("column index " + std::to_string(index) + " out of range for: " + sql_);
    auto& c = columns_[static_cast<std::size_t>(index)];
    if (c.is_null) return {};
    using K = detail::Column::Kind;
    switch (c.kind) {
      case K::null: return {};
      case K::integer:
        if (c.is_unsigned &&
            static_cast<std::uint64_t>(c.integer) >
                static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          // BIGINT UNSIGNED above int64: hand over its digits rather than a wrapped number.
          c.buffer.resize(std::max(c.buffer.size(), std::size_t{24}));
          const auto r = std::to_chars(c.buffer.data(), c.buffer.data() + c.buffer.size(),
                                       static_cast<std::uint64_t>(c.integer));
          return sql::ValueRef::text(
              {c.buffer.data(), static_cast<std::size_t>(r.ptr - c.buffer.data())});
        }
        if (hint == sql::TypeKind::boolean) return sql::ValueRef::boolean(c.integer != 0);
        if (hint == sql::TypeKind::float_ || hint == sql::TypeKind::double_)
          return sql::ValueRef::real(static_cast<double>(c.integer));
        return sql::ValueRef::integer(c.integer);
      case K::real: return sql::ValueRef::real(c.real);
      case K::date:
        if (detail::is_zero_date(c.time)) return {};
        if (hint == sql::TypeKind::datetime)
          return sql::ValueRef::datetime(DateTime(detail::from_mysql_date(c.time)));
        return sql::ValueRef::date(detail::from_mysql_date(c.time));
      case K::datetime:
        if (detail::is_zero_date(c.time)) return {};
        if (hint == sql::TypeKind::date)
          return sql::ValueRef::date(
              std::chrono::floor<std::chrono::days>(detail::from_mysql_datetime(c.time)));
        return sql::ValueRef::datetime(detail::from_mysql_datetime(c.time));
      case K::text:
      case K::bytes: {
        const std::string_view s(c.buffer.data(), std::min<std::size_t>(c.length, c.buffer.size()));
        if (hint == sql::TypeKind::blob)
          return sql::ValueRef::blob({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
        if (hint == sql::TypeKind::float_ || hint == sql::TypeKind::double_) {
          double d = 0;  // DECIMAL arrives as text
          if (std::from_chars(s.data(), s.data() + s.size(), d).ptr == s.data() + s.size() &&
              !s.empty())
            return sql::ValueRef::real(d);
        }
        if (c.kind == K::bytes && hint != sql::TypeKind::string && hint != sql::TypeKind::text)
          return sql::ValueRef::blob({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
        return sql::ValueRef::text(s);
      }
    }
    return {};
  }

  // column()'s integer and text cases without a ValueRef: true exactly when column() would
  // return ValueRef::integer(out) or ValueRef::text(out); anything else goes to column().
  bool integer_column(int index, sql::TypeKind hint, std::int64_t& out) override {
    if (index < 0 || static_cast<std::size_t>(index) >= columns_.size() ||
        (hint != sql::TypeKind::small_integer && hint != sql::TypeKind::integer && hint != sql::TypeKind::big_integer))
      return false;
    const auto& c = columns_[static_cast<std::size_t>(index)];
    if (c.is_null || c.kind != detail::Column::Kind::integer || (c.is_unsigned && c.integer < 0)) return false;
    out = c.integer;
    return true;
  }
  bool text_column(int index, sql::TypeKind hint, std::string_view& out) override {
    if (index < 0 || static_cast<std::size_t>(index) >= columns_.size() ||
        (hint != sql::TypeKind::string && hint != sql::TypeKind::text))
      return false;
    const auto& c = columns_[static_cast<std::size_t>(index)];
    if (c.is_null || (c.kind != detail::Column::Kind::text && c.kind != detail::Column::Kind::bytes)) return false;
    out = {c.buffer.data(), std::min<std::size_t>(c.length, c.buffer.size())};
    return true;
  }

  std::int64_t affected_rows() const noexcept override { return affected_; }

  std::optional<std::int64_t> last_insert_id() const noexcept override {
    if (insert_id_ == 0) return std::nullopt;
    return static_cast<std::int64_t>(insert_id_);
  }

  /// Frees the buffered rows and forgets the bindings: bound text may be gone after this, so
  /// every parameter must be bound again before the next execute().
  void reset() noexcept override {
    release_result();
    for (auto& p : params_) p.bound = false;
  }

  /// Whether execute_bulk() can send `rows` rows of `params` (row after row) in one execution:
  /// MariaDB's array binding (Connector/C 3, server 10.2 or later) for a statement without a
  /// result, each parameter's values all of one kind or NULL.
  bool can_bulk(std::size_t rows, std::span<const sql::ValueRef> params) const {
#if ALCHEMY_MYSQL_BULK
    const std::size_t width = params_.size();
    if (rows < 2 || width == 0 || params.size() != rows * width || mysql_stmt_field_count(stmt_) != 0 ||
        !detail::bulk_supported(link_.mysql))
      return false;
    for (std::size_t c = 0; c < width; ++c) {
      sql::ValueKind kind = sql::ValueKind::null;
      for (std::size_t r = 0; r < rows; ++r) {
        const auto k = params[r * width + c].kind();
        if (k == sql::ValueKind::null) continue;
        if (kind != sql::ValueKind::null && k != kind) return false;
        kind = k;
      }
    }
    return true;
#else
    (void)rows;
    (void)params;
    return false;
#endif
  }

  /// Executes the statement once for each of `rows` rows of `params` in one round trip, after
  /// can_bulk() said it can. affected_rows() is then the total of all rows.
  void execute_bulk(std::size_t rows, std::span<const sql::ValueRef> params) {
#if ALCHEMY_MYSQL_BULK
    detail::thread_init();
    link_.check_usable(sql_);
    release_result();
    const std::size_t width = params_.size();
    bulk_.resize(width);
    std::vector<MYSQL_BIND> binds(width, MYSQL_BIND{});
    for (std::size_t c = 0; c < width; ++c) {
      auto& col = bulk_[c];
      col.fill(rows, params, width, c);
      auto& b = binds[c];
      b.buffer_type = col.type;
      b.buffer = col.buffer();
      b.length = col.length.empty() ? nullptr : col.length.data();
      b.u.indicator = col.indicator.data();
    }
    unsigned int size = static_cast<unsigned int>(rows);
    mysql_stmt_attr_set(stmt_, STMT_ATTR_ARRAY_SIZE, &size);
    struct Single {  // the next execute() binds one row again, however this one ends
      MYSQL_STMT* stmt;
      ~Single() {
        unsigned int one = 0;
        mysql_stmt_attr_set(stmt, STMT_ATTR_ARRAY_SIZE, &one);
      }
    } single{stmt_};
    if (mysql_stmt_bind_param(stmt_, binds.data())) link_.fail_statement(stmt_, sql_);
    if (mysql_stmt_execute(stmt_) != 0) link_.fail_statement(stmt_, sql_);
    affected_ = static_cast<std::int64_t>(mysql_stmt_affected_rows(stmt_));
    insert_id_ = mysql_stmt_insert_id(stmt_);
#else
    (void)rows;
    (void)params;
    throw InternalError(DatabaseErrorInfo{"array binding is not available", sql_, {}, 0, "mysql", false,
                                          Constraint::unknown});
#endif
  }

  /// The client's statement handle, for what alchemy does not wrap.
  MYSQL_STMT* native_handle() const noexcept { return stmt_; }

 private:
  void release_result() noexcept {
    if (has_result_) mysql_stmt_free_result(stmt_);
    has_result_ = false;
  }

  /// What a result column is read as.
  static detail::Column::Kind kind_of(const MYSQL_FIELD& f) noexcept {
    using K = detail::Column::Kind;
    switch (f.type) {
      case MYSQL_TYPE_TINY:
      case MYSQL_TYPE_SHORT:
      case MYSQL_TYPE_INT24:
      case MYSQL_TYPE_LONG:
      case MYSQL_TYPE_LONGLONG:
      case MYSQL_TYPE_YEAR: return K::integer;
      case MYSQL_TYPE_FLOAT:
      case MYSQL_TYPE_DOUBLE: return K::real;
      case MYSQL_TYPE_DATE:
      case MYSQL_TYPE_NEWDATE: return K::date;
      case MYSQL_TYPE_DATETIME:
      case MYSQL_TYPE_TIMESTAMP: return K::datetime;
      case MYSQL_TYPE_NULL: return K::null;
      default:
        // Strings, blobs, DECIMAL, TIME, ENUM, SET, JSON, BIT: the client converts to text.
        return f.type == MYSQL_TYPE_BIT || (detail::is_string_type(f.type) && f.charsetnr == detail::kBinaryCharset)
                   ? K::bytes
                   : K::text;
    }
  }

  /// Whether the result buffers bound by an earlier execution still fit this result: the same
  /// columns (name, kind, signedness) and no value longer than its buffer. The client keeps the
  /// bindings between executions, so they need not be made again.
  bool binding_fits(unsigned n, const MYSQL_FIELD* fields) const noexcept {
    if (!results_bound_ || n != columns_.size()) return false;
    for (unsigned i = 0; i < n; ++i) {
      const MYSQL_FIELD& f = fields[i];
      const auto& c = columns_[i];
      const auto kind = kind_of(f);
      const std::size_t name_length = f.name ? f.name_length : 0;
      if (kind != c.kind || c.name.size() != name_length ||
          (name_length != 0 && std::memcmp(c.name.data(), f.name, name_length) != 0))
        return false;
      if (kind == detail::Column::Kind::integer && c.is_unsigned != ((f.flags & UNSIGNED_FLAG) != 0)) return false;
      if ((kind == detail::Column::Kind::text || kind == detail::Column::Kind::bytes) &&
          std::max<std::size_t>(f.max_length, detail::kMinTextBuffer) > c.buffer.size())
        return false;
    }
    return true;
  }

  void bind_results() {
    MYSQL_RES* meta = mysql_stmt_result_metadata(stmt_);
    if (!meta) link_.fail_statement(stmt_, sql_);
    const unsigned n = mysql_num_fields(meta);
    const MYSQL_FIELD* fields = mysql_fetch_fields(meta);
    if (binding_fits(n, fields)) {
      mysql_free_result(meta);
      return;
    }
    results_bound_ = false;
    columns_.resize(n);
    result_binds_.assign(n, MYSQL_BIND{});
    using K = detail::Column::Kind;
    for (unsigned i = 0; i < n; ++i) {
      const MYSQL_FIELD& f = fields[i];
      auto& c = columns_[i];
      auto& b = result_binds_[i];
      c.kind = kind_of(f);
      c.is_unsigned = c.kind == K::integer && (f.flags & UNSIGNED_FLAG) != 0;
      c.name.assign(f.name ? f.name : "", f.name_length);
      switch (c.kind) {
        case K::integer:
          b.buffer_type = MYSQL_TYPE_LONGLONG;
          b.buffer = &c.integer;
          b.is_unsigned = static_cast<detail::Flag>(c.is_unsigned);
          break;
        case K::real:
          b.buffer_type = MYSQL_TYPE_DOUBLE;
          b.buffer = &c.real;
          break;
        case K::date:
          b.buffer_type = MYSQL_TYPE_DATE;
          b.buffer = &c.time;
          break;
        case K::datetime:
          b.buffer_type = MYSQL_TYPE_DATETIME;
          b.buffer = &c.time;
          break;
        case K::null: b.buffer_type = MYSQL_TYPE_NULL; break;
        case K::text:
        case K::bytes: {
          const std::size_t want = std::max<std::size_t>(f.max_length, detail::kMinTextBuffer);
          if (c.buffer.size() < want) c.buffer.resize(want);
          b.buffer_type = c.kind == K::bytes ? MYSQL_TYPE_BLOB : MYSQL_TYPE_STRING;
          b.buffer = c.buffer.data();
          b.buffer_length = static_cast<unsigned long>(c.buffer.size());
          break;
        }
      }
      b.length = &c.length;
      b.is_null = &c.is_null;
      b.error = &c.error;
    }
    mysql_free_result(meta);
    if (mysql_stmt_bind_result(stmt_, result_binds_.data())) link_.fail_statement(stmt_, sql_);
    results_bound_ = true;
  }

  /// A value longer than its buffer (max_length was not known): grow the buffer, read the
  /// column again, and rebind so later rows land in the bigger buffer.
  void fetch_truncated() {
    bool rebind = false;
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      auto& c = columns_[i];
      if (!c.error ||
          (c.kind != detail::Column::Kind::text && c.kind != detail::Column::Kind::bytes))
        continue;
      c.buffer.resize(std::max<std::size_t>(c.length, c.buffer.size() * 2));
      auto& b = result_binds_[i];
      b.buffer = c.buffer.data();
      b.buffer_length = static_cast<unsigned long>(c.buffer.size());
      MYSQL_BIND one = b;
      if (mysql_stmt_fetch_column(stmt_, &one, static_cast<unsigned>(i), 0) != 0)
        link_.fail_statement(stmt_, sql_);
      rebind = true;
    }
    if (rebind && mysql_stmt_bind_result(stmt_, result_binds_.data()))
      link_.fail_statement(stmt_, sql_);
  }

  detail::Link& link_;
  std::string sql_;
  MYSQL_STMT* stmt_ = nullptr;
  std::vector<detail::Param> params_;
  std::vector<MYSQL_BIND> param_binds_;
#if ALCHEMY_MYSQL_BULK
  std::vector<detail::BulkColumn> bulk_;  ///< execute_bulk()'s arrays, one per parameter
#endif
  std::vector<detail::Column> columns_;
  std::vector<MYSQL_BIND> result_binds_;
  bool has_result_ = false;
  bool results_bound_ = false;  // result_binds_ are the client's bindings (bind_results())
  std::int64_t affected_ = 0;
  unsigned long long insert_id_ = 0;
};

/// What insert_rows() did.
struct InsertRowsResult {
  std::int64_t rows = 0;                 ///< rows inserted
  std::optional<std::int64_t> first_id;  ///< the AUTO_INCREMENT key of the first row, if any
};

/// A live connection to a MySQL or MariaDB server.
class MysqlConnection final : public Connection {
 public:
  /// Takes ownership of a connected handle.
  explicit MysqlConnection(MYSQL* mysql) noexcept { link_.mysql = mysql; }

  ~MysqlConnection() override {
    statements_.clear();  // mysql_stmt_close needs the handle still open
    mysql_close(link_.mysql);
  }

  Statement& prepare(const std::string& sql) override { return prepare_mysql(sql); }

  void execute(std::string_view sql) override {
    detail::thread_init();
    link_.check_usable(sql);
    if (mysql_real_query(link_.mysql, sql.data(), static_cast<unsigned long>(sql.size())) != 0)
      link_.fail_connection(sql);
    // Rows a statement run here produces are read and dropped, so the connection stays in sync.
    for (;;) {
      if (MYSQL_RES* r = mysql_store_result(link_.mysql))
        mysql_free_result(r);
      else if (mysql_field_count(link_.mysql) != 0)
        link_.fail_connection(sql);
      const int more = mysql_next_result(link_.mysql);
      if (more < 0) break;
      if (more > 0) link_.fail_connection(sql);
    }
  }

  void begin() override { execute("START TRANSACTION"); }

  bool ping() noexcept override {
    if (link_.broken) return false;
    try {
      detail::thread_init();
    } catch (...) {
      return false;
    }
    // Without MYSQL_OPT_RECONNECT this never reconnects behind our back.
    if (mysql_ping(link_.mysql) != 0) {
      link_.broken = true;
      return false;
    }
    return true;
  }

  bool is_broken() const noexcept override { return link_.broken; }

  bool has_table(std::string_view name) override {
    auto& st = prepare_mysql(
        "SELECT 1 FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND table_name = ?");
    struct Reset {
      MysqlStatement& st;
      ~Reset() { st.reset(); }
    } reset{st};
    st.bind(0, sql::ValueRef::text(name));
    st.execute();
    return st.next();
  }

  /// Inserts rows of `columns` values each (`values` holds them row after row) with
  /// `head` + "(?, ?), (?, ?), ...", as few statements as `max_rows` per statement and the
  /// server's 65,535-placeholder limit allow. `head` is "INSERT INTO t (a, b) VALUES ".
  /// With InnoDB's default lock modes one multi-row INSERT gets consecutive keys from first_id.
  InsertRowsResult insert_rows(std::string_view head, std::size_t columns,
                               std::span<const sql::ValueRef> values, std::size_t max_rows = 1000) {
    if (columns == 0 || values.size() % columns != 0)
      throw ArgumentError("insert_rows: the values do not fill whole rows");
    const std::size_t rows = values.size() / columns;
    const std::size_t per = std::max<std::size_t>(1, std::min(max_rows, 65535 / columns));
    InsertRowsResult out;
    for (std::size_t done = 0; done < rows;) {
      const std::size_t n = std::min(per, rows - done);
      std::string sql(head);
      std::string group = "(";
      for (std::size_t c = 0; c < columns; ++c) group += c == 0 ? "?" : ", ?";
      group += ")";
      sql.reserve(sql.size() + n * (group.size() + 2));
      for (std::size_t r = 0; r < n; ++r) {
        if (r) sql += ", ";
        sql += group;
      }
      auto& st = prepare_mysql(sql);
      const auto chunk = values.subspan(done * columns, n * columns);
      for (std::size_t i = 0; i < chunk.size(); ++i) st.bind(static_cast<int>(i), chunk[i]);
      st.execute();
      out.rows += st.affected_rows();
      if (!out.first_id) out.first_id = st.last_insert_id();
      st.reset();
      done += n;
    }
    return out;
  }

  /// One multi-row INSERT gets consecutive AUTO_INCREMENT keys, auto_increment_increment apart,
  /// when InnoDB's lock mode is 0 ("traditional") or 1 ("consecutive", MariaDB's default): the
  /// row count of INSERT ... VALUES is known up front, so the table's counter is reserved for
  /// all rows at once. Mode 2 ("interleaved", MySQL 8's default) gives no such promise, and
  /// then the unit of work inserts rows with generated keys one statement at a time. Other
  /// engines (MyISAM, Aria, MEMORY) lock the table for the statement. Read once per connection:
  /// the lock mode is fixed at server start; a later SET auto_increment_increment is not seen.
  std::optional<std::int64_t> multirow_key_step() override {
    if (!key_step_) {
      auto& st = prepare_mysql("SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment");
      const ResetGuard reset(st);
      st.execute();
      std::int64_t step = 0;
      if (st.next()) {
        const auto mode = st.column(0, sql::TypeKind::big_integer);
        const auto inc = st.column(1, sql::TypeKind::big_integer);
        if (mode.kind() == sql::ValueKind::integer && inc.kind() == sql::ValueKind::integer &&
            (mode.as_integer() == 0 || mode.as_integer() == 1) && inc.as_integer() >= 1)
          step = inc.as_integer();
      }
      key_step_ = step;
    }
    if (*key_step_ == 0) return std::nullopt;
    return key_step_;
  }

  /// Rows per multi-row INSERT or DELETE ... IN of the unit of work (a round trip per row is
  /// what MySQL's prepared statements would cost otherwise).
  std::size_t multirow_rows() const noexcept override { return 1000; }

  /// A batch without generated keys (the unit of work's UPDATEs and DELETEs by key) goes in one
  /// execution through MariaDB's array binding where the server has it, split so that no
  /// execution carries more than bulk_bytes() of values (the server refuses a packet larger than
  /// its max_allowed_packet, where the same rows one by one would pass).
  /// Batches that need keys, or mix kinds of values in a parameter, go one execution per row.
  std::int64_t execute_batch(const std::string& sql, std::size_t width, std::span<const sql::ValueRef> params,
                             std::vector<std::int64_t>* keys,
                             const std::function<void(std::size_t)>& on_row = {}) override {
    if (keys || width == 0 || params.size() % width != 0)
      return Connection::execute_batch(sql, width, params, keys, on_row);
    auto& st = prepare_mysql(sql);
    const std::size_t rows = params.size() / width;
    if (static_cast<std::size_t>(st.param_count()) != width || !st.can_bulk(rows, params))
      return Connection::execute_batch(sql, width, params, keys, on_row);
    const std::size_t budget = bulk_bytes();
    std::int64_t affected = 0;
    for (std::size_t first = 0; first < rows;) {
      std::size_t end = first, bytes = 0;
      for (; end < rows; ++end) {
        std::size_t row_bytes = 0;
        for (std::size_t c = 0; c < width; ++c) {
          const auto v = params[end * width + c];
          row_bytes += v.kind() == sql::ValueKind::text || v.kind() == sql::ValueKind::blob ? v.as_text().size() + 9 : 9;
        }
        if (end > first && bytes + row_bytes > budget) break;
        bytes += row_bytes;
      }
      const auto chunk = params.subspan(first * width, (end - first) * width);
      if (end - first == 1) {  // one row: a plain execution
        affected += Connection::execute_batch(sql, width, chunk, nullptr, [&](std::size_t) {
          if (on_row) on_row(first);
        });
      } else {
        if (on_row)
          for (std::size_t r = first; r < end; ++r) on_row(r);
        const ResetGuard reset(st);
        st.execute_bulk(end - first, chunk);
        affected += st.affected_rows();
      }
      first = end;
    }
    return affected;
  }

  /// The most bytes of values one array-bound execution carries: 4 MiB, or a quarter of the
  /// server's max_allowed_packet if that is less (read once per connection).
  std::size_t bulk_bytes() {
    if (!bulk_bytes_) {
      auto& st = prepare_mysql("SELECT @@max_allowed_packet");
      const ResetGuard reset(st);
      st.execute();
      std::size_t limit = std::size_t{4} << 20;
      if (st.next()) {
        const auto v = st.column(0, sql::TypeKind::big_integer);
        if (v.kind() == sql::ValueKind::integer && v.as_integer() > 0)
          limit = std::min(limit, static_cast<std::size_t>(v.as_integer()) / 4);
      }
      bulk_bytes_ = limit;
    }
    return *bulk_bytes_;
  }

  /// The server's id for this connection (what `KILL` takes).
  unsigned long server_thread_id() const noexcept { return mysql_thread_id(link_.mysql); }
  /// The client handle, for what alchemy does not wrap.
  MYSQL* native_handle() const noexcept { return link_.mysql; }

 private:
  MysqlStatement& prepare_mysql(const std::string& sql) {
    auto it = statements_.find(sql);
    if (it != statements_.end()) return *it->second;
    detail::thread_init();
    link_.check_usable(sql);
    auto st = std::make_unique<MysqlStatement>(link_, sql);
    return *statements_.emplace(sql, std::move(st)).first->second;
  }

  detail::Link link_;
  std::unordered_map<std::string, std::unique_ptr<MysqlStatement>> statements_;
  std::optional<std::int64_t> key_step_;  // multirow_key_step(): 0 when there is none
  std::optional<std::size_t> bulk_bytes_;  // bulk_bytes()
};

namespace detail {

struct MysqlCloser {
  void operator()(MYSQL* m) const noexcept { mysql_close(m); }
};

inline unsigned parse_seconds(const std::string& key, const std::string& value) {
  unsigned v = 0;
  const auto r = std::from_chars(value.data(), value.data() + value.size(), v);
  if (r.ec != std::errc{} || r.ptr != value.data() + value.size() || v == 0)
    throw ArgumentError("MySQL URL option '" + key + "' must be a positive number of seconds");
  return v;
}

inline std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

/// The URL's query options, checked before anything is allocated.
struct Options {
  std::string charset = "utf8mb4";
  std::optional<unsigned> connect_timeout, read_timeout, write_timeout;
  std::string unix_socket, ssl_mode, ssl_ca, ssl_capath, ssl_cert, ssl_key;

  static Options parse(const ConnectParams& p) {
    Options o;
    for (const auto& [key, value] : p.query) {
      if (key == "charset") {
        if (value.empty()) throw ArgumentError("MySQL URL option 'charset' is empty");
        o.charset = value;
      } else if (key == "connect_timeout") {
        o.connect_timeout = parse_seconds(key, value);
      } else if (key == "read_timeout") {
        o.read_timeout = parse_seconds(key, value);
      } else if (key == "write_timeout") {
        o.write_timeout = parse_seconds(key, value);
      } else if (key == "unix_socket") {
        o.unix_socket = value;
      } else if (key == "ssl_mode") {
        o.ssl_mode = upper(value);
        if (o.ssl_mode != "DISABLED" && o.ssl_mode != "PREFERRED" && o.ssl_mode != "REQUIRED" &&
            o.ssl_mode != "VERIFY_CA" && o.ssl_mode != "VERIFY_IDENTITY")
          throw ArgumentError(
              "MySQL URL option 'ssl_mode' must be DISABLED, PREFERRED, REQUIRED, VERIFY_CA or "
              "VERIFY_IDENTITY");
      } else if (key == "ssl_ca") {
        o.ssl_ca = value;
      } else if (key == "ssl_capath") {
        o.ssl_capath = value;
      } else if (key == "ssl_cert") {
        o.ssl_cert = value;
      } else if (key == "ssl_key") {
        o.ssl_key = value;
      } else {
        throw ArgumentError("unknown MySQL URL option '" + key + "'");
      }
    }
    return o;
  }

  void apply(MYSQL* m) const {
    mysql_options(m, MYSQL_SET_CHARSET_NAME, charset.c_str());
    if (connect_timeout) mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &*connect_timeout);
    if (read_timeout) mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &*read_timeout);
    if (write_timeout) mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &*write_timeout);
#if defined(LIBMARIADB) || !defined(MYSQL_VERSION_ID) || MYSQL_VERSION_ID < 80034
    // Off by default everywhere; said out loud where the option is not deprecated (MySQL
    // 8.0.34 prints a warning whenever it is set).
    const Flag reconnect = 0;
    mysql_options(m, MYSQL_OPT_RECONNECT, &reconnect);
#endif
    if (!ssl_ca.empty()) mysql_options(m, MYSQL_OPT_SSL_CA, ssl_ca.c_str());
    if (!ssl_capath.empty()) mysql_options(m, MYSQL_OPT_SSL_CAPATH, ssl_capath.c_str());
    if (!ssl_cert.empty()) mysql_options(m, MYSQL_OPT_SSL_CERT, ssl_cert.c_str());
    if (!ssl_key.empty()) mysql_options(m, MYSQL_OPT_SSL_KEY, ssl_key.c_str());
    if (ssl_mode.empty()) return;
#if defined(LIBMARIADB)
    // Connector/C has no SSL mode: REQUIRED enforces TLS, VERIFY_* also checks the
    // certificate and host name. DISABLED and PREFERRED leave its default.
    if (ssl_mode == "REQUIRED" || ssl_mode == "VERIFY_CA" || ssl_mode == "VERIFY_IDENTITY") {
      const Flag on = 1;
      mysql_options(m, MYSQL_OPT_SSL_ENFORCE, &on);
      if (ssl_mode != "REQUIRED") mysql_options(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
    }
#else
    unsigned mode = SSL_MODE_PREFERRED;
    if (ssl_mode == "DISABLED")
      mode = SSL_MODE_DISABLED;
    else if (ssl_mode == "REQUIRED")
      mode = SSL_MODE_REQUIRED;
    else if (ssl_mode == "VERIFY_CA")
      mode = SSL_MODE_VERIFY_CA;
    else if (ssl_mode == "VERIFY_IDENTITY")
      mode = SSL_MODE_VERIFY_IDENTITY;
    mysql_options(m, MYSQL_OPT_SSL_MODE, &mode);
#endif
  }
};

/// `message` with every occurrence of `secret` masked; client messages should never quote a
/// password, and this makes sure.
inline std::string without(std::string message, const std::string& secret) {
  if (secret.empty()) return message;
  for (auto pos = message.find(secret); pos != std::string::npos;
       pos = message.find(secret, pos + 3))
    message.replace(pos, secret.size(), "***");
  return message;
}

}  // namespace detail

/// Opens MysqlConnections.
class MysqlDriver final : public Driver {
 public:
  std::string_view name() const noexcept override { return "mysql"; }
  const dialect::Dialect& dialect() const noexcept override { return dialect_instance(); }

  std::unique_ptr<Connection> connect(const ConnectParams& params) const override {
    return connect_mysql(params);
  }

  /// connect() with the concrete type, for insert_rows() and server_thread_id().
  std::unique_ptr<MysqlConnection> connect_mysql(const ConnectParams& params) const {
    detail::thread_init();
    const auto options = detail::Options::parse(params);
    std::unique_ptr<MYSQL, detail::MysqlCloser> m(mysql_init(nullptr));
    if (!m) throw OperationalError(detail::client_error("mysql_init: out of memory", {}));
    options.apply(m.get());
    const auto c_str_or_null = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    if (!mysql_real_connect(m.get(), c_str_or_null(params.host), params.username.c_str(),
                            params.password.c_str(), c_str_or_null(params.database),
                            params.port ? static_cast<unsigned>(*params.port) : 0U,
                            c_str_or_null(options.unix_socket), CLIENT_FOUND_ROWS)) {
      // Every failure to connect is operational (SQLAlchemy: unknown database, access denied,
      // no server alike); the pool may retry it.
      DatabaseErrorInfo info =
          make_error_info(mysql_errno(m.get()), mysql_sqlstate(m.get()),
                          detail::without(mysql_error(m.get()), params.password), {});
      info.connection_invalidated = false;  // there never was a connection to invalidate
      throw OperationalError(std::move(info));
    }
    auto conn = std::make_unique<MysqlConnection>(m.release());
    conn->execute(
        "SET SESSION sql_mode = CONCAT_WS(',', NULLIF(@@SESSION.sql_mode, ''), "
        "'STRICT_ALL_TABLES')");
    return conn;
  }
};

/// The driver, registered as mysql, mysql+mysqlclient, mariadb and mariadb+mariadbconnector.
inline const Driver& driver() {
  static const MysqlDriver instance;
  return instance;
}

inline const bool mysql_registered =
    register_driver("mysql", &driver) && register_driver("mysql+mysqlclient", &driver) &&
    register_driver("mariadb", &driver) && register_driver("mariadb+mariadbconnector", &driver);

}  // namespace alchemy::dialect::mysql

#endif  // ALCHEMY_DIALECT_MYSQL_DRIVER_HPP_
