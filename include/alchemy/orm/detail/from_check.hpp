// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/query.hpp>.
//
// The run-time check that a query uses only columns of the tables in its FROM: its model's table
// and the ones it joined. Conditions over several models compile (Post::author_id_ ==
// Author::id_ is a join condition), so a filter, order_by or with_entities() over a model the
// query did not join is caught here, with the column named, rather than by the database.
//
// Scopes nest as in SQL: a JOIN's ON sees the tables to its left and its own; a subquery
// (EXISTS, IN (SELECT ...), a scalar subquery) sees its own FROM and every enclosing one, so a
// correlated subquery may use the outer query's columns; a UNION member sees its own FROM.
#ifndef ALCHEMY_ORM_DETAIL_FROM_CHECK_HPP_
#define ALCHEMY_ORM_DETAIL_FROM_CHECK_HPP_

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/error.hpp"
#include "alchemy/sql/statement.hpp"

namespace alchemy::orm::detail {

/// The tables a part of a statement may use: the first `visible` entries of `tables`.
struct FromScope {
  std::vector<const sql::Table*> tables;
  std::size_t visible = 0;
  bool in_on = false;  ///< checking a JOIN's ON (for the message)

  bool has(const sql::Table* t) const {
    return std::find(tables.begin(), tables.begin() + std::ptrdiff_t(visible), t) !=
           tables.begin() + std::ptrdiff_t(visible);
  }
};

/// Throws InvalidRequestError, naming the column, when `s` uses a column outside its FROM and
/// the enclosing queries' FROMs (`outer`).
ALCHEMY_INLINE void check_select(const sql::Select& s, std::vector<const sql::Table*> outer);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
[[noreturn]] inline void column_not_in_from(const sql::Column& c, const FromScope& scope) {
  std::string from;
  for (std::size_t i = 0; i < scope.visible; ++i) {
    if (i) from += ", ";
    from += scope.tables[i]->name();
  }
  const std::string name = c.table->name() + "." + c.name;
  if (scope.in_on)
    throw InvalidRequestError("column " + name + " is not in a table joined so far (" + from +
                              "): a JOIN's ON can use the query's table, the tables joined before "
                              "it, and its own");
  throw InvalidRequestError("column " + name + " is not in the query's FROM (" + from +
                            "): join its model first, with join<Model>(on) or outerjoin<Model>(on)");
}

ALCHEMY_INLINE void check_expr(const sql::Expr& e, const FromScope& scope) {
  if (e.op == sql::Op::column) {
    if (e.column && !scope.has(e.column->table)) column_not_in_from(*e.column, scope);
    return;
  }
  for (const auto& a : e.args) check_expr(*a, scope);
  if (e.select)
    check_select(*e.select, std::vector<const sql::Table*>(
                                scope.tables.begin(), scope.tables.begin() + std::ptrdiff_t(scope.visible)));
}

ALCHEMY_INLINE void check_select(const sql::Select& s, std::vector<const sql::Table*> outer) {
  if (!s.table) return;  // the compiler refuses it
  FromScope scope;
  const std::size_t base = outer.size();
  scope.tables = std::move(outer);
  scope.tables.push_back(s.table);
  for (const auto& j : s.joins) scope.tables.push_back(j.table);
  scope.in_on = true;
  for (std::size_t i = 0; i < s.joins.size(); ++i) {
    scope.visible = base + 2 + i;
    if (s.joins[i].on) check_expr(*s.joins[i].on, scope);
  }
  scope.in_on = false;
  scope.visible = scope.tables.size();
  for (const sql::Column* c : s.columns)
    if (!scope.has(c->table)) column_not_in_from(*c, scope);
  for (const auto* part : {&s.exprs, &s.where, &s.group_by, &s.having})
    for (const auto& e : *part) check_expr(*e, scope);
  for (const auto& o : s.order_by) check_expr(*o.expr, scope);
  for (const auto& u : s.unions)
    check_select(*u.select, std::vector<const sql::Table*>(scope.tables.begin(),
                                                          scope.tables.begin() + std::ptrdiff_t(base)));
}

#endif  // ALCHEMY_IMPL
/// The check for a whole statement.
inline void check_from(const sql::Select& s) { check_select(s, {}); }

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_FROM_CHECK_HPP_
