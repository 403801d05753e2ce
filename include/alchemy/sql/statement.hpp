// SPDX-License-Identifier: MIT
// File: sql/statement.hpp
//
// The statements the compiler renders: a SELECT with its clauses, and the descriptions of
// INSERT, UPDATE and DELETE that the unit of work and bulk queries need.
#ifndef ALCHEMY_SQL_STATEMENT_HPP_
#define ALCHEMY_SQL_STATEMENT_HPP_

#include <optional>
#include <utility>
#include <vector>

#include "alchemy/sql/expression.hpp"
#include "alchemy/sql/schema.hpp"

namespace alchemy::sql {

/// One ORDER BY term.
struct OrderBy {
  ExprPtr expr;
  bool descending = false;
};

/// SELECT columns FROM table WHERE ... ORDER BY ... LIMIT ... OFFSET ...
struct Select {
  const Table* table = nullptr;
  std::vector<const Column*> columns;  ///< empty: every column of the table
  std::vector<ExprPtr> where;          ///< joined with AND
  std::vector<OrderBy> order_by;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> offset;
  bool distinct = false;
};

/// Which statement the compiler should make of a Select.
enum class SelectForm { rows, count, exists };

/// Compiled SQL text and its parameters, in placeholder order.
struct Compiled {
  std::string sql;
  std::vector<Value> params;
};

}  // namespace alchemy::sql

#endif  // ALCHEMY_SQL_STATEMENT_HPP_
