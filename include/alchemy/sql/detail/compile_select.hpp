// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/sql/compiler.hpp>.
//
// SELECT (with its JOINs), and the count and exists forms of it.
#ifndef ALCHEMY_SQL_DETAIL_COMPILE_SELECT_HPP_
#define ALCHEMY_SQL_DETAIL_COMPILE_SELECT_HPP_

#include "alchemy/config.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
namespace alchemy::sql {

ALCHEMY_INLINE void Compiler::select_into(CompileState& s, const Select& stmt) const {
  if (!stmt.table) throw CompileError("SELECT without a table");
  if (!stmt.unions.empty()) {
    // Members are plain SELECTs (SQLite allows no parentheses, ORDER BY or LIMIT in them); the
    // first member's LIMIT / OFFSET is the whole union's.
    const auto check = [](const Select& m) {
      if (!m.order_by.empty())
        throw CompileError("a query in a union cannot have ORDER BY; sort the rows it returns");
    };
    check(stmt);
    Select first = stmt;
    first.unions.clear();
    first.limit.reset();
    first.offset.reset();
    select_into(s, first);
    for (const auto& u : stmt.unions) {
      check(*u.select);
      if (u.select->limit || u.select->offset)
        throw CompileError("a query in a union cannot have LIMIT or OFFSET");
      s.sql += u.all ? " UNION ALL " : " UNION ";
      select_into(s, *u.select);
    }
    if (stmt.limit || stmt.offset) limit_offset(s, stmt);
    return;
  }
  s.sql += stmt.distinct ? "SELECT DISTINCT " : "SELECT ";
  if (!stmt.exprs.empty()) {
    // Functions and subqueries get SQLAlchemy's anonymous labels (count_1, anon_1, ...), so
    // that the statement can itself be a subquery: MySQL refuses duplicate derived columns.
    std::vector<std::pair<std::string_view, int>> used;
    const auto label = [&](std::string_view base) {
      auto it = std::find_if(used.begin(), used.end(), [&](const auto& u) { return u.first == base; });
      if (it == used.end()) it = used.insert(used.end(), {base, 0});
      s.sql += " AS ";
      s.sql += base;
      s.sql += '_';
      s.sql += std::to_string(++it->second);
    };
    // A column whose name an earlier column of the list already has (jn_post.id, jn_author.id)
    // is labelled id_1, as SQLAlchemy 2.0's select() does: a derived table (count()) must not
    // have two columns of one name on MySQL and PostgreSQL.
    std::vector<std::string_view> names;
    for (std::size_t i = 0; i < stmt.exprs.size(); ++i) {
      if (i) s.sql += ", ";
      const Expr& e = *stmt.exprs[i];
      expression(s, e);
      if (e.op == Op::func) label(e.name);
      else if (e.op != Op::column) label("anon");
      else if (std::find(names.begin(), names.end(), e.column->name) != names.end()) label(e.column->name);
      else names.push_back(e.column->name);
    }
  } else {
    bool first = true;
    const auto add = [&](const Column& c) {
      if (!first) s.sql += ", ";
      first = false;
      s.sql += qualified(c);
    };
    if (stmt.columns.empty())
      for (const auto& c : stmt.table->columns()) add(*c);
    else
      for (const Column* c : stmt.columns) add(*c);
  }
  s.sql += " FROM ";
  s.sql += quote(stmt.table->name());
  for (const auto& j : stmt.joins) {
    if (!j.table || !j.on) throw CompileError("JOIN without a table or an ON condition");
    s.sql += j.outer ? " LEFT OUTER JOIN " : " JOIN ";
    s.sql += quote(j.table->name());
    s.sql += " ON ";
    expression(s, *j.on);
  }
  const auto criteria = [&](const std::vector<ExprPtr>& parts) {
    if (parts.size() == 1)
      expression(s, *parts.front());
    else
      expression(s, *and_(parts));
  };
  if (!stmt.where.empty()) {
    s.sql += " WHERE ";
    criteria(stmt.where);
  }
  if (!stmt.group_by.empty()) {
    s.sql += " GROUP BY ";
    for (std::size_t i = 0; i < stmt.group_by.size(); ++i) {
      if (i) s.sql += ", ";
      expression(s, *stmt.group_by[i]);
    }
  }
  if (!stmt.having.empty()) {
    s.sql += " HAVING ";
    criteria(stmt.having);
  }
  if (!stmt.order_by.empty()) {
    s.sql += " ORDER BY ";
    for (std::size_t i = 0; i < stmt.order_by.size(); ++i) {
      if (i) s.sql += ", ";
      expression(s, *stmt.order_by[i].expr);
      if (stmt.order_by[i].descending) s.sql += " DESC";
    }
  }
  if (stmt.limit || stmt.offset) limit_offset(s, stmt);
}

ALCHEMY_INLINE Compiled Compiler::select(const Select& stmt, SelectForm form, std::vector<const Value*>* sources) const {
  CompileState s;
  s.sources = sources;
  s.sql.reserve(160);
  switch (form) {
    case SelectForm::rows: select_into(s, stmt); break;
    case SelectForm::count:
      // SQLAlchemy's Query.count(): count the rows of the query as a subquery.
      s.sql += "SELECT count(*) AS count_1 FROM (";
      select_into(s, stmt);
      s.sql += ") AS anon_1";
      break;
    case SelectForm::exists:
      s.sql += "SELECT EXISTS (";
      select_into(s, stmt);
      s.sql += ") AS anon_1";
      break;
  }
  return Compiled{std::move(s.sql), std::move(s.params)};
}

}  // namespace alchemy::sql
#endif  // ALCHEMY_IMPL

#endif  // ALCHEMY_SQL_DETAIL_COMPILE_SELECT_HPP_
