// SPDX-License-Identifier: MIT
// File: orm/keyset.hpp
//
// Keyset ("seek") pagination: the rows that come after a given row in a query's ORDER BY, as a
// WHERE condition with bound parameters instead of an OFFSET that the database must count off.
// A deep page then costs what the first page costs (an index range scan), and rows inserted
// or deleted before the cursor do not shift the page. Flask-SQLAlchemy has no equivalent.
//
//   auto q = Account::query().order_by(Account::id_);
//   auto page1 = q.limit(20).all();
//   auto page2 = q.seek_after(page1.back()->id).limit(20).all();
//   // ORDER BY created DESC, id:  WHERE created < ? OR (created = ? AND id > ?)
//   auto next = Account::query().order_by(Account::created_.desc(), Account::id_)
//                   .seek_after(last->created, last->id);
//
// The cursor holds one value per ORDER BY term, in order. The ordering must be total (end it
// with the primary key or another unique NOT NULL column) or rows that tie are skipped; NULL
// cursor values are refused because SQL comparisons with NULL match nothing.
#ifndef ALCHEMY_ORM_KEYSET_HPP_
#define ALCHEMY_ORM_KEYSET_HPP_

#include <string>
#include <vector>

#include "alchemy/error.hpp"
#include "alchemy/sql/statement.hpp"

namespace alchemy::orm::detail {

/// `WHERE (c1, c2, ...) comes after (v1, v2, ...)` in the order of `order_by`, spelled
/// `c1 > v1 OR (c1 = v1 AND c2 > v2) OR ...` (`<` for descending terms) so that every database
/// and every mix of ASC and DESC terms takes it.
inline sql::ExprPtr seek_condition(const std::vector<sql::OrderBy>& order_by, const std::vector<sql::Value>& cursor) {
  if (order_by.empty())
    throw InvalidRequestError("seek_after() needs an ordered query: call order_by() first");
  if (cursor.size() != order_by.size())
    throw ArgumentError("seek_after(): the query is ordered by " + std::to_string(order_by.size()) +
                        " term(s) but the cursor has " + std::to_string(cursor.size()) + " value(s)");
  for (std::size_t i = 0; i < order_by.size(); ++i) {
    const auto& e = *order_by[i].expr;
    if (e.op != sql::Op::column || !e.column)
      throw ArgumentError("seek_after(): ORDER BY term " + std::to_string(i + 1) + " is not a column");
    const auto& v = cursor[i];
    if (v.is_null())
      throw ArgumentError("seek_after(): the cursor value for column '" + e.column->name +
                          "' is NULL; keyset pagination needs NOT NULL ordering columns");
    const auto want = sql::value_kind(e.column->type.kind);
    if (v.kind() != want && !(want == sql::ValueKind::real && v.kind() == sql::ValueKind::integer))
      throw ArgumentError("seek_after(): column '" + e.column->name + "' holds " +
                          std::string(sql::kind_name(want)) + " values, the cursor has " +
                          std::string(sql::kind_name(v.kind())));
  }
  std::vector<sql::ExprPtr> any;
  any.reserve(order_by.size());
  for (std::size_t i = 0; i < order_by.size(); ++i) {
    std::vector<sql::ExprPtr> all;
    all.reserve(i + 1);
    for (std::size_t j = 0; j < i; ++j)
      all.push_back(sql::binary(sql::Op::eq, order_by[j].expr, sql::bind(cursor[j])));
    all.push_back(sql::binary(order_by[i].descending ? sql::Op::lt : sql::Op::gt, order_by[i].expr,
                              sql::bind(cursor[i])));
    any.push_back(sql::and_(std::move(all)));
  }
  return sql::or_(std::move(any));
}

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_KEYSET_HPP_
