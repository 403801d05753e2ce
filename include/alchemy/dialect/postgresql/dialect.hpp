// SPDX-License-Identifier: MIT
// File: dialect/postgresql/dialect.hpp
//
// PostgreSQL's SQL flavour: `$1` placeholders, ILIKE, SERIAL / BIGSERIAL keys returned by
// INSERT ... RETURNING, BYTEA, TIMESTAMP WITHOUT TIME ZONE, DOUBLE PRECISION.
// No client library needed: the libpq driver lives in driver.hpp.
#ifndef ALCHEMY_DIALECT_POSTGRESQL_DIALECT_HPP_
#define ALCHEMY_DIALECT_POSTGRESQL_DIALECT_HPP_

#include <charconv>

#include "alchemy/dialect/dialect.hpp"
#include "alchemy/dialect/driver.hpp"
#include "alchemy/sql/compiler.hpp"

namespace alchemy::dialect::postgresql {

/// PostgreSQL's compiler overrides.
class Compiler final : public sql::Compiler {
 public:
  const sql::ReservedWords& reserved_words() const noexcept override {
    static const sql::ReservedWords words{
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
        "authorization", "between", "binary", "both", "case", "cast", "check", "collate",
        "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog",
        "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
        "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
        "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group",
        "having", "ilike", "in", "initially", "inner", "intersect", "into", "is", "isnull",
        "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp",
        "natural", "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer",
        "overlaps", "placing", "primary", "references", "returning", "right", "select",
        "session_user", "similar", "some", "symmetric", "table", "tablesample", "then", "to",
        "trailing", "true", "union", "unique", "user", "using", "variadic", "verbose", "when",
        "where", "window", "with"};
    return words;
  }

  void placeholder(std::string& out, std::size_t n) const override {
    char buf[24];
    buf[0] = '$';
    const auto r = std::to_chars(buf + 1, buf + sizeof buf, n);
    out.append(buf, r.ptr);
  }

  void visit_ilike(sql::CompileState& s, const sql::Expr& e, bool negated) const override {
    operand(s, *e.args[0], 4);
    s.sql += negated ? " NOT ILIKE " : " ILIKE ";
    operand(s, *e.args[1], 4);
    escape_clause(s, e.escape);
  }

  std::string type_ddl(const sql::Column& c) const override {
    using sql::TypeKind;
    if (c.autoincrement) {
      if (c.type.kind == TypeKind::big_integer) return "BIGSERIAL";
      if (c.type.kind == TypeKind::small_integer) return "SMALLSERIAL";
      return "SERIAL";
    }
    switch (c.type.kind) {
      case TypeKind::double_: return "DOUBLE PRECISION";
      case TypeKind::blob: return "BYTEA";
      case TypeKind::datetime: return "TIMESTAMP WITHOUT TIME ZONE";
      default: return sql::Compiler::type_ddl(c);
    }
  }
};

/// PostgreSQL: generated keys through RETURNING.
class Dialect final : public dialect::Dialect {
 public:
  std::string_view name() const noexcept override { return "postgresql"; }
  const sql::Compiler& compiler() const noexcept override { return compiler_; }
  bool insert_returning() const noexcept override { return true; }
  bool multirow_insert_keys() const noexcept override { return true; }

 private:
  Compiler compiler_;
};

inline const dialect::Dialect& dialect_instance() noexcept {
  static const Dialect d;
  return d;
}

}  // namespace alchemy::dialect::postgresql

#endif  // ALCHEMY_DIALECT_POSTGRESQL_DIALECT_HPP_
