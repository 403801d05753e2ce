// SPDX-License-Identifier: MIT
// File: dialect/dialect.hpp
//
// A Dialect is a SQL flavour: its compiler (placeholders, quoting, LIMIT, DDL types) and its
// capabilities. It needs no client library, so every dialect is tested without one.
#ifndef ALCHEMY_DIALECT_DIALECT_HPP_
#define ALCHEMY_DIALECT_DIALECT_HPP_

#include <string_view>

#include "alchemy/config.hpp"
#if ALCHEMY_IMPL  // a user's unit compiled separately needs only the name (alchemy/config.hpp)
#include "alchemy/sql/compiler.hpp"
#endif

namespace alchemy::sql {
class Compiler;  // With ALCHEMY_SEPARATE_COMPILATION, include <alchemy/sql/compiler.hpp> to use it
}  // namespace alchemy::sql

namespace alchemy::dialect {

struct ConnectParams;

/// A SQL flavour: the compiler to use and what the database can do.
class Dialect {
 public:
  virtual ~Dialect() = default;
  /// "sqlite", "postgresql" or "mysql".
  virtual std::string_view name() const noexcept = 0;
  virtual const sql::Compiler& compiler() const noexcept = 0;
  /// INSERT ... RETURNING gives generated keys (PostgreSQL); otherwise the driver's
  /// last_insert_id() does (SQLite, MySQL).
  virtual bool insert_returning() const noexcept = 0;
  /// One INSERT with many VALUES rows returns consecutive generated keys that the unit of work
  /// may rely on (PostgreSQL through RETURNING; MySQL/MariaDB with InnoDB's consecutive
  /// auto-increment lock mode).
  virtual bool multirow_insert_keys() const noexcept { return false; }
  /// Whether all connections must share one database handle (SQLite in memory).
  virtual bool single_connection(const ConnectParams&) const noexcept { return false; }
};

}  // namespace alchemy::dialect

#endif  // ALCHEMY_DIALECT_DIALECT_HPP_
