// SPDX-License-Identifier: MIT
// Raw-SQL helpers for tests that look at a database behind the ORM's back: read a number, run a
// statement, find and kill a server connection, read the ids a table holds.
#ifndef ALCHEMY_TESTS_SQL_HELPERS_HPP_
#define ALCHEMY_TESTS_SQL_HELPERS_HPP_

#include <alchemy/alchemy.hpp>

#include <chrono>
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>

#include "support.hpp"

namespace test {

/// Runs a statement that returns one integer (or boolean) and returns it.
inline std::int64_t scalar(alchemy::engine::Connection& conn, const std::string& sql) {
  auto& st = conn.prepare(sql);
  const alchemy::dialect::ResetGuard reset(st);
  conn.run(st, {});
  if (!st.next()) throw std::runtime_error("no row from: " + sql);
  return st.column(0, alchemy::sql::TypeKind::big_integer).as_integer();
}

/// Runs a statement that returns no rows.
inline void exec(alchemy::engine::Connection& conn, const std::string& sql) {
  auto& st = conn.prepare(sql);
  const alchemy::dialect::ResetGuard reset(st);
  conn.run(st, {});
}

/// Whether the backend under test is a server (PostgreSQL or MariaDB).
inline bool server_backend() { return backend() != "sqlite"; }

/// The server's id for this connection (backend pid, connection id); servers only.
inline std::int64_t server_id(alchemy::engine::Connection& conn) {
  return scalar(conn, backend() == "postgresql" ? "SELECT pg_backend_pid()" : "SELECT CONNECTION_ID()");
}

/// Ends server connection `id` from a connection of `killer` and waits (at most 5 s) until the
/// server no longer lists it.
inline void kill_connection(alchemy::Engine& killer, std::int64_t id) {
  using namespace std::chrono_literals;
  auto conn = killer.connect();
  const auto pg = backend() == "postgresql";
  if (pg) {
    if (scalar(conn, "SELECT pg_terminate_backend(" + std::to_string(id) + ")") != 1)
      throw std::runtime_error("pg_terminate_backend refused " + std::to_string(id));
  } else {
    conn.execute("KILL " + std::to_string(id));
  }
  const std::string gone =
      pg ? "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(id)
         : "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = " + std::to_string(id);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (scalar(conn, gone) != 0) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("the server kept connection " + std::to_string(id));
    std::this_thread::sleep_for(10ms);
  }
}

/// The ids in `table` (column id), read through a new connection of `engine`.
inline std::set<std::int64_t> ids_in(alchemy::Engine& engine, const std::string& table) {
  auto conn = engine.connect();
  auto& st = conn.prepare("SELECT id FROM " + table);
  const alchemy::dialect::ResetGuard reset(st);
  conn.run(st, {});
  std::set<std::int64_t> out;
  while (st.next()) out.insert(st.column(0, alchemy::sql::TypeKind::big_integer).as_integer());
  return out;
}

/// {a, a+1, ..., b}.
inline std::set<std::int64_t> id_range(std::int64_t a, std::int64_t b) {
  std::set<std::int64_t> out;
  for (std::int64_t i = a; i <= b; ++i) out.insert(i);
  return out;
}

}  // namespace test

#endif  // ALCHEMY_TESTS_SQL_HELPERS_HPP_
