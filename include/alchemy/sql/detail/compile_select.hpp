// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/sql/compiler.hpp>.
//
// SELECT, and the count and exists forms of it.
#ifndef ALCHEMY_SQL_DETAIL_COMPILE_SELECT_HPP_
#define ALCHEMY_SQL_DETAIL_COMPILE_SELECT_HPP_

namespace alchemy::sql {

inline Compiled Compiler::select(const Select& stmt, SelectForm form) const {
  CompileState s;
  s.sql.reserve(160);
  const auto rows = [&] {
    s.sql += stmt.distinct ? "SELECT DISTINCT " : "SELECT ";
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
    s.sql += " FROM ";
    s.sql += quote(stmt.table->name());
    if (!stmt.where.empty()) {
      s.sql += " WHERE ";
      if (stmt.where.size() == 1)
        expression(s, *stmt.where.front());
      else
        expression(s, *and_(stmt.where));
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
  };
  switch (form) {
    case SelectForm::rows: rows(); break;
    case SelectForm::count:
      // SQLAlchemy's Query.count(): count the rows of the query as a subquery.
      s.sql += "SELECT count(*) AS count_1 FROM (";
      rows();
      s.sql += ") AS anon_1";
      break;
    case SelectForm::exists:
      s.sql += "SELECT EXISTS (";
      rows();
      s.sql += ") AS anon_1";
      break;
  }
  return Compiled{std::move(s.sql), std::move(s.params)};
}

}  // namespace alchemy::sql

#endif  // ALCHEMY_SQL_DETAIL_COMPILE_SELECT_HPP_
