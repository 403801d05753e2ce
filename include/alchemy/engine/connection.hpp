// SPDX-License-Identifier: MIT
// File: engine/connection.hpp
//
// A connection checked out of an Engine's pool: transaction control, statement execution with
// echo logging, and return to the pool (after a rollback) when it goes out of scope.
//
//   auto conn = engine->connect();
//   conn.begin();
//   auto& st = conn.prepare("INSERT INTO t (x) VALUES (?)");
//   sql::ValueRef params[] = {sql::ValueRef::integer(1)};
//   conn.run(st, params);
//   conn.commit();
#ifndef ALCHEMY_ENGINE_CONNECTION_HPP_
#define ALCHEMY_ENGINE_CONNECTION_HPP_

#include <chrono>
#include <functional>
#include <memory>
#include <type_traits>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/engine/log.hpp"
#include "alchemy/engine/pool.hpp"

namespace alchemy::engine {

class Connection {
 public:
  Connection(Pool& pool, std::unique_ptr<PoolEntry> entry, const Logger* logger) noexcept
      : pool_(&pool), entry_(std::move(entry)), logger_(logger) {}
  Connection(Connection&& o) noexcept
      : pool_(o.pool_), entry_(std::move(o.entry_)), logger_(o.logger_), in_tx_(o.in_tx_) {
    o.in_tx_ = false;
  }
  Connection& operator=(Connection&& o) noexcept {
    if (this != &o) {
      close();
      pool_ = o.pool_;
      entry_ = std::move(o.entry_);
      logger_ = o.logger_;
      in_tx_ = std::exchange(o.in_tx_, false);
    }
    return *this;
  }
  ~Connection() { close(); }

  bool in_transaction() const noexcept { return in_tx_; }
  bool echo() const noexcept { return logger_ && logger_->enabled(); }

  void begin();
  void commit();
  void rollback();

  /// A prepared statement for `sql`, cached on the connection.
  dialect::Statement& prepare(const std::string& sql);

  /// Binds `params` in order and executes `st`. Rows, if any, are read from `st`.
  void run(dialect::Statement& st, std::span<const sql::ValueRef> params) {
    if (echo()) logger_->statement(st.sql(), params);
    const auto start = recording() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    guard([&] {
      for (std::size_t i = 0; i < params.size(); ++i) st.bind(static_cast<int>(i), params[i]);
      st.execute();
    });
    if (recording()) record(st.sql(), params, 1, start);
  }

  /// Runs `sql` once per row of `params` (`width` values per row) in as few round trips as the
  /// driver can (dialect::Connection::execute_batch) and returns the rows affected in all; with
  /// `keys`, one generated key per row is appended. Echo logs every row, as run() would.
  std::int64_t run_batch(const std::string& sql, std::size_t width,
                         std::span<const sql::ValueRef> params, std::vector<std::int64_t>* keys);

  /// Runs SQL without parameters or results (DDL).
  void execute(std::string_view sql);

  bool has_table(std::string_view name);

  /// The driver's connection, for what the engine does not wrap.
  dialect::Connection& raw() {
    if (!entry_) throw ResourceClosedError("this connection was closed");
    return *entry_->connection;
  }

  /// Marks the connection dead so that the pool discards it.
  void invalidate() noexcept {
    if (entry_) entry_->invalidated = true;
  }

  /// Rolls back what is open and returns the connection to the pool.
  void close() noexcept;

 private:
  bool recording() const noexcept { return logger_ && logger_->recorder(); }
  void record(std::string_view sql, std::span<const sql::ValueRef> params, std::size_t executions,
              std::chrono::steady_clock::time_point start) {
    logger_->recorder()->record(sql, params, executions, logger_->hide_parameters(), start,
                                std::chrono::steady_clock::now());
  }

  template <class F>
  std::invoke_result_t<F> guard(F&& f) {
    try {
      return f();
    } catch (const DatabaseError& e) {
      if (e.connection_invalidated() || (entry_ && entry_->connection->is_broken())) {
        invalidate();
        in_tx_ = false;
      }
      throw;
    }
  }

  Pool* pool_;
  std::unique_ptr<PoolEntry> entry_;
  const Logger* logger_;
  bool in_tx_ = false;
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void Connection::begin() {
  if (echo()) logger_->line("BEGIN (implicit)");
  guard([&] { raw().begin(); });
  in_tx_ = true;
}

ALCHEMY_INLINE void Connection::commit() {
  if (echo()) logger_->line("COMMIT");
  guard([&] { raw().commit(); });
  in_tx_ = false;
}

ALCHEMY_INLINE void Connection::rollback() {
  in_tx_ = false;
  if (echo()) logger_->line("ROLLBACK");
  guard([&] { raw().rollback(); });
}

ALCHEMY_INLINE dialect::Statement& Connection::prepare(const std::string& sql) {
  try {
    return guard([&]() -> dialect::Statement& { return raw().prepared(sql); });
  } catch (...) {
    // A statement the server refuses at prepare time never reaches run(), which logs: echo
    // it here, as SQLAlchemy logs every statement it sends (no parameters were bound yet).
    if (echo()) logger_->line(sql);
    throw;
  }
}

ALCHEMY_INLINE std::int64_t Connection::run_batch(const std::string& sql, std::size_t width,
                                                 std::span<const sql::ValueRef> params, std::vector<std::int64_t>* keys) {
  // Echo: each row as the driver runs it (or sends it, in PostgreSQL's pipeline).
  std::function<void(std::size_t)> log;
  if (echo() && width != 0)
    log = [&](std::size_t row) { logger_->statement(sql, params.subspan(row * width, width)); };
  const auto start = recording() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  const auto n = guard([&] { return raw().execute_batch(sql, width, params, keys, log); });
  if (recording()) record(sql, params, width ? params.size() / width : 1, start);
  return n;
}

ALCHEMY_INLINE void Connection::execute(std::string_view sql) {
  if (echo()) logger_->statement(sql, {});
  const auto start = recording() ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  guard([&] { raw().execute(sql); });
  if (recording()) record(sql, {}, 1, start);
}

ALCHEMY_INLINE bool Connection::has_table(std::string_view name) {
  return guard([&] { return raw().has_table(name); });
}

ALCHEMY_INLINE void Connection::close() noexcept {
  if (!entry_) return;
  if (in_tx_ && !entry_->invalidated && !entry_->connection->is_broken()) {
    try {
      rollback();
    } catch (...) {
      entry_->invalidated = true;
    }
  }
  in_tx_ = false;
  pool_->checkin(std::move(entry_));
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::engine

#endif  // ALCHEMY_ENGINE_CONNECTION_HPP_
