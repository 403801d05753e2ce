// SPDX-License-Identifier: MIT
// File: sql/statement.hpp
//
// The statements the compiler renders: a SELECT with its clauses, and the descriptions of
// INSERT, UPDATE and DELETE that the unit of work and bulk queries need.
#ifndef ALCHEMY_SQL_STATEMENT_HPP_
#define ALCHEMY_SQL_STATEMENT_HPP_

#include <optional>
#include <string>
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

/// One JOIN of a SELECT's FROM: `JOIN table ON on`, or `LEFT OUTER JOIN table ON on`. The ON
/// condition may use the columns of the FROM's table, of earlier joins, and of this one.
struct Join {
  const Table* table = nullptr;
  ExprPtr on;
  bool outer = false;
};

/// One member after the first of a UNION [ALL].
struct SelectUnion {
  bool all = false;
  SelectPtr select;
};

/// SELECT columns FROM table [JOIN ...] WHERE ... GROUP BY ... HAVING ... ORDER BY ... LIMIT ...
/// OFFSET ...
struct Select {
  const Table* table = nullptr;
  std::vector<Join> joins;             ///< after `table`, in order
  std::vector<const Column*> columns;  ///< empty: every column of the table
  std::vector<ExprPtr> exprs;          ///< when not empty: the select list, instead of columns
  std::vector<ExprPtr> where;          ///< joined with AND
  std::vector<ExprPtr> group_by;
  std::vector<ExprPtr> having;         ///< joined with AND
  std::vector<OrderBy> order_by;
  std::optional<std::int64_t> limit;
  std::optional<std::int64_t> offset;
  bool distinct = false;
  /// UNION [ALL] members after this one; `limit`/`offset` then apply to the whole union.
  std::vector<SelectUnion> unions;
};

/// Which statement the compiler should make of a Select.
enum class SelectForm { rows, count, exists };

/// Raw SQL made by alchemy::text(): trusted SQL text with `:name` parameters.
struct TextClause {
  std::string sql;
};

/// Named parameters of a text() statement: {{"h", "jdoe"}, {"n", 3}}.
using Params = std::vector<std::pair<std::string, Value>>;

/// Compiled SQL text and its parameters, in placeholder order.
struct Compiled {
  std::string sql;
  std::vector<Value> params;
};

}  // namespace alchemy::sql

namespace alchemy {
/// Raw SQL, as SQLAlchemy's text(). The SQL text is trusted input: write it in the program,
/// never build it from user data. Values go in `:name` parameters, always bound:
///   db.session.execute(alchemy::text("SELECT id FROM accounts WHERE handle = :h"), {{"h", h}});
inline sql::TextClause text(std::string sql) { return sql::TextClause{std::move(sql)}; }
}  // namespace alchemy

#endif  // ALCHEMY_SQL_STATEMENT_HPP_
