// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/sql/compiler.hpp>.
//
// INSERT, UPDATE and DELETE: by key for the unit of work, by criteria for bulk queries.
#ifndef ALCHEMY_SQL_DETAIL_COMPILE_DML_HPP_
#define ALCHEMY_SQL_DETAIL_COMPILE_DML_HPP_

#include "alchemy/config.hpp"

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
namespace alchemy::sql {

ALCHEMY_INLINE std::string Compiler::insert(const Table& t, ColumnList cols, ColumnList returning,
                                    std::size_t rows) const {
  std::string out = "INSERT INTO " + quote(t.name());
  if (cols.empty()) {
    insert_default_values(out);
  } else {
    out += " (";
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) out += ", ";
      out += quote(cols[i]->name);
    }
    out += ") VALUES ";
    std::size_t n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      out += r ? ", (" : "(";
      for (std::size_t i = 0; i < cols.size(); ++i) {
        if (i) out += ", ";
        placeholder(out, ++n);
      }
      out += ')';
    }
  }
  if (!returning.empty()) {
    out += " RETURNING ";
    for (std::size_t i = 0; i < returning.size(); ++i) {
      if (i) out += ", ";
      out += qualified(*returning[i]);
    }
  }
  return out;
}

ALCHEMY_INLINE std::string Compiler::upsert(const Table& t, ColumnList cols, ColumnList conflict,
                                    ColumnList update, std::size_t rows) const {
  if (cols.empty()) throw CompileError("an upsert needs at least one column to insert");
  std::string out = insert(t, cols, {}, rows);
  on_conflict(out, cols, conflict, update);
  return out;
}

ALCHEMY_INLINE void Compiler::on_conflict(std::string& out, ColumnList /*cols*/, ColumnList conflict,
                                  ColumnList update) const {
  if (conflict.empty() && !update.empty())
    throw CompileError("ON CONFLICT DO UPDATE needs the conflict columns (a unique key)");
  out += " ON CONFLICT";
  if (!conflict.empty()) {
    out += " (";
    for (std::size_t i = 0; i < conflict.size(); ++i) {
      if (i) out += ", ";
      out += quote(conflict[i]->name);
    }
    out += ')';
  }
  if (update.empty()) {
    out += " DO NOTHING";
    return;
  }
  out += " DO UPDATE SET ";
  for (std::size_t i = 0; i < update.size(); ++i) {
    if (i) out += ", ";
    const auto name = quote(update[i]->name);
    out += name;
    out += " = excluded.";
    out += name;
  }
}

ALCHEMY_INLINE std::string Compiler::update(const Table& t, ColumnList set_cols, ColumnList key_cols) const {
  std::string out = "UPDATE " + quote(t.name()) + " SET ";
  std::size_t n = 0;
  for (std::size_t i = 0; i < set_cols.size(); ++i) {
    if (i) out += ", ";
    out += quote(set_cols[i]->name);
    out += '=';
    placeholder(out, ++n);
  }
  out += " WHERE ";
  for (std::size_t i = 0; i < key_cols.size(); ++i) {
    if (i) out += " AND ";
    out += qualified(*key_cols[i]);
    out += " = ";
    placeholder(out, ++n);
  }
  return out;
}

ALCHEMY_INLINE std::string Compiler::delete_(const Table& t, ColumnList key_cols) const {
  std::string out = "DELETE FROM " + quote(t.name()) + " WHERE ";
  for (std::size_t i = 0; i < key_cols.size(); ++i) {
    if (i) out += " AND ";
    out += qualified(*key_cols[i]);
    out += " = ";
    placeholder(out, i + 1);
  }
  return out;
}

ALCHEMY_INLINE std::string Compiler::delete_many(const Table& t, const Column& key, std::size_t rows) const {
  std::string out = "DELETE FROM " + quote(t.name()) + " WHERE " + qualified(key) + " IN (";
  for (std::size_t i = 0; i < rows; ++i) {
    if (i) out += ", ";
    placeholder(out, i + 1);
  }
  out += ')';
  return out;
}

ALCHEMY_INLINE Compiled Compiler::update_where(const Table& t,
                                       const std::vector<std::pair<const Column*, Value>>& sets,
                                       const std::vector<ExprPtr>& where) const {
  if (sets.empty()) throw ArgumentError("update() needs at least one column to set");
  CompileState s;
  s.sql = "UPDATE " + quote(t.name()) + " SET ";
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (i) s.sql += ", ";
    s.sql += quote(sets[i].first->name);
    s.sql += '=';
    bind(s, sets[i].second);
  }
  if (!where.empty()) {
    s.sql += " WHERE ";
    expression(s, *and_(where));
  }
  return Compiled{std::move(s.sql), std::move(s.params)};
}

ALCHEMY_INLINE Compiled Compiler::delete_where(const Table& t, const std::vector<ExprPtr>& where) const {
  CompileState s;
  s.sql = "DELETE FROM " + quote(t.name());
  if (!where.empty()) {
    s.sql += " WHERE ";
    expression(s, *and_(where));
  }
  return Compiled{std::move(s.sql), std::move(s.params)};
}

}  // namespace alchemy::sql
#endif  // ALCHEMY_IMPL

#endif  // ALCHEMY_SQL_DETAIL_COMPILE_DML_HPP_
