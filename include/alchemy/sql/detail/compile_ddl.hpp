// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/sql/compiler.hpp>.
//
// CREATE TABLE, CREATE INDEX and DROP TABLE, laid out as SQLAlchemy lays them out, so that a
// table made by alchemy and one made by Flask-SQLAlchemy read the same in `.schema`.
#ifndef ALCHEMY_SQL_DETAIL_COMPILE_DDL_HPP_
#define ALCHEMY_SQL_DETAIL_COMPILE_DDL_HPP_

#include "alchemy/config.hpp"

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
namespace alchemy::sql {

ALCHEMY_INLINE std::string Compiler::type_ddl(const Column& c) const {
  switch (c.type.kind) {
    case TypeKind::small_integer: return "SMALLINT";
    case TypeKind::integer: return "INTEGER";
    case TypeKind::big_integer: return "BIGINT";
    case TypeKind::boolean: return "BOOLEAN";
    case TypeKind::float_: return "FLOAT";
    case TypeKind::double_: return "DOUBLE";
    case TypeKind::string:
      return c.type.length > 0 ? "VARCHAR(" + std::to_string(c.type.length) + ")" : "VARCHAR";
    case TypeKind::text: return "TEXT";
    case TypeKind::blob: return "BLOB";
    case TypeKind::date: return "DATE";
    case TypeKind::datetime: return "DATETIME";
  }
  return "TEXT";
}

ALCHEMY_INLINE std::string Compiler::column_ddl(const Column& c) const {
  std::string out = quote(c.name) + " " + type_ddl(c);
  if (c.server_default) out += " DEFAULT " + *c.server_default;
  if (!c.nullable) out += " NOT NULL";
  return out;
}

ALCHEMY_INLINE std::string Compiler::create_table(const Table& t) const {
  std::string out = "CREATE TABLE " + quote(t.name()) + " (\n";
  std::vector<std::string> lines;
  for (const auto& c : t.columns()) lines.push_back(column_ddl(*c));
  const auto pk = t.primary_key();
  if (!pk.empty()) {
    std::string line = "PRIMARY KEY (";
    for (std::size_t i = 0; i < pk.size(); ++i) line += (i ? ", " : "") + quote(pk[i]->name);
    lines.push_back(line + ")");
  }
  for (const auto& c : t.columns())
    if (c->unique && !c->index) lines.push_back("UNIQUE (" + quote(c->name) + ")");
  for (const auto& c : t.columns()) {
    if (!c->foreign_key) continue;
    const auto& fk = *c->foreign_key;
    std::string line = "FOREIGN KEY(" + quote(c->name) + ") REFERENCES " + quote(fk.table) + " (" +
                       quote(fk.column) + ")";
    if (fk.on_delete != ReferentialAction::none) line += " ON DELETE " + std::string(action_sql(fk.on_delete));
    if (fk.on_update != ReferentialAction::none) line += " ON UPDATE " + std::string(action_sql(fk.on_update));
    lines.push_back(std::move(line));
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += '\t';
    out += lines[i];
    out += i + 1 < lines.size() ? ", \n" : "\n";
  }
  out += ")";
  return out;
}

ALCHEMY_INLINE std::vector<std::string> Compiler::create_indexes(const Table& t) const {
  std::vector<std::string> out;
  for (const auto& c : t.columns()) {
    if (!c->index) continue;
    out.push_back(std::string(c->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") +
                  quote("ix_" + t.name() + "_" + c->name) + " ON " + quote(t.name()) + " (" +
                  quote(c->name) + ")");
  }
  return out;
}

ALCHEMY_INLINE std::string Compiler::drop_table(const Table& t) const { return "DROP TABLE " + quote(t.name()); }

}  // namespace alchemy::sql
#endif  // ALCHEMY_IMPL

#endif  // ALCHEMY_SQL_DETAIL_COMPILE_DDL_HPP_
