// SPDX-License-Identifier: MIT
// File: dialect/sqlite/dialect.hpp
//
// SQLite's SQL flavour: `?` placeholders, "double quotes", LIMIT ? OFFSET ? (always both, as
// SQLAlchemy renders them), INTEGER for every integer key so that it aliases the rowid.
// No client library needed: the driver lives in driver.hpp.
#ifndef ALCHEMY_DIALECT_SQLITE_DIALECT_HPP_
#define ALCHEMY_DIALECT_SQLITE_DIALECT_HPP_

#include "alchemy/dialect/dialect.hpp"
#include "alchemy/dialect/driver.hpp"
#include "alchemy/sql/compiler.hpp"

namespace alchemy::dialect::sqlite {

/// SQLite's compiler overrides.
class Compiler final : public sql::Compiler {
 public:
  const sql::ReservedWords& reserved_words() const noexcept override {
    static const sql::ReservedWords words{
        "abort", "action", "add", "after", "all", "alter", "analyze", "and", "as", "asc",
        "attach", "autoincrement", "before", "begin", "between", "by", "cascade", "case", "cast",
        "check", "collate", "column", "commit", "conflict", "constraint", "create", "cross",
        "current_date", "current_time", "current_timestamp", "database", "default", "deferrable",
        "deferred", "delete", "desc", "detach", "distinct", "drop", "each", "else", "end",
        "escape", "except", "exclusive", "exists", "explain", "false", "fail", "for", "foreign",
        "from", "full", "glob", "group", "having", "if", "ignore", "immediate", "in", "index",
        "indexed", "initially", "inner", "insert", "instead", "intersect", "into", "is",
        "isnull", "join", "key", "left", "like", "limit", "match", "natural", "not", "notnull",
        "null", "of", "offset", "on", "or", "order", "outer", "plan", "pragma", "primary",
        "query", "raise", "references", "reindex", "rename", "replace", "restrict", "right",
        "rollback", "row", "select", "set", "table", "temp", "temporary", "then", "to",
        "transaction", "trigger", "true", "union", "unique", "update", "using", "vacuum",
        "values", "view", "virtual", "when", "where"};
    return words;
  }

  void limit_offset(sql::CompileState& s, const sql::Select& stmt) const override {
    // SQLite needs a LIMIT before an OFFSET; -1 means none. SQLAlchemy always binds both.
    s.sql += " LIMIT ";
    bind(s, stmt.limit ? *stmt.limit : std::int64_t{-1});
    s.sql += " OFFSET ";
    bind(s, stmt.offset ? *stmt.offset : std::int64_t{0});
  }

  void visit_empty_in(sql::CompileState& s, const sql::Expr& e, bool negated) const override {
    // SQLAlchemy's SQLite form; like every NOT IN, the negated one is parenthesised.
    if (negated) s.sql += '(';
    operand(s, *e.args[0], 4);
    s.sql += negated ? " NOT IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1))"
                     : " IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)";
  }

  std::string type_ddl(const sql::Column& c) const override {
    // SQLite integers are 64-bit whatever the name, and only a column declared exactly INTEGER
    // PRIMARY KEY aliases the rowid and autoincrements: int64_t columns and every generated
    // key are INTEGER.
    if (c.type.kind == sql::TypeKind::big_integer || c.autoincrement) return "INTEGER";
    return sql::Compiler::type_ddl(c);
  }
};

/// SQLite: keys come from sqlite3_last_insert_rowid() (or are named by a large flush, see
/// Connection::assigns_next_keys()); `:memory:` needs one shared connection.
class Dialect final : public dialect::Dialect {
 public:
  std::string_view name() const noexcept override { return "sqlite"; }
  const sql::Compiler& compiler() const noexcept override { return compiler_; }
  bool insert_returning() const noexcept override { return false; }
  bool single_connection(const ConnectParams& p) const noexcept override {
    return p.database.empty() || p.database == ":memory:";
  }

 private:
  Compiler compiler_;
};

inline const dialect::Dialect& dialect_instance() noexcept {
  static const Dialect d;
  return d;
}

}  // namespace alchemy::dialect::sqlite

#endif  // ALCHEMY_DIALECT_SQLITE_DIALECT_HPP_
