// SPDX-License-Identifier: MIT
// File: dialect/mysql/dialect.hpp
//
// MySQL's and MariaDB's SQL flavour: `?` placeholders (server-side prepared statements),
// `backticks`, LIMIT offset, count, AUTO_INCREMENT, DATETIME(6) so that microseconds survive,
// LONGTEXT / LONGBLOB for unbounded text and binary.
// No client library needed: the driver lives in driver.hpp.
#ifndef ALCHEMY_DIALECT_MYSQL_DIALECT_HPP_
#define ALCHEMY_DIALECT_MYSQL_DIALECT_HPP_

#include "alchemy/dialect/dialect.hpp"
#include "alchemy/dialect/driver.hpp"
#include "alchemy/sql/compiler.hpp"

namespace alchemy::dialect::mysql {

/// MySQL's compiler overrides.
class Compiler final : public sql::Compiler {
 public:
  char quote_char() const noexcept override { return '`'; }

  const sql::ReservedWords& reserved_words() const noexcept override {
    static const sql::ReservedWords words{
        "accessible", "add", "all", "alter", "analyze", "and", "as", "asc", "asensitive",
        "before", "between", "bigint", "binary", "blob", "both", "by", "call", "cascade", "case",
        "change", "char", "character", "check", "collate", "column", "condition", "constraint",
        "continue", "convert", "create", "cross", "cube", "cume_dist", "current_date",
        "current_role", "current_time", "current_timestamp", "current_user", "cursor",
        "database", "databases", "day_hour", "day_microsecond", "day_minute", "day_second",
        "dec", "decimal", "declare", "default", "delayed", "delete", "dense_rank", "desc",
        "describe", "deterministic", "distinct", "distinctrow", "div", "double", "drop", "dual",
        "each", "else", "elseif", "empty", "enclosed", "escaped", "except", "exists", "exit",
        "explain", "false", "fetch", "first_value", "float", "float4", "float8", "for", "force",
        "foreign", "from", "fulltext", "function", "general", "generated", "get", "grant",
        "group", "grouping", "groups", "having", "high_priority", "hour_microsecond",
        "hour_minute", "hour_second", "if", "ignore", "in", "index", "infile", "inner", "inout",
        "insensitive", "insert", "int", "int1", "int2", "int3", "int4", "int8", "integer",
        "intersect", "interval", "into", "is", "iterate", "join", "json_table", "key", "keys",
        "kill", "lag", "last_value", "lateral", "lead", "leading", "leave", "left", "like",
        "limit", "linear", "lines", "load", "localtime", "localtimestamp", "lock", "long",
        "longblob", "longtext", "loop", "low_priority", "master_bind", "match", "maxvalue",
        "mediumblob", "mediumint", "mediumtext", "middleint", "minute_microsecond",
        "minute_second", "mod", "modifies", "natural", "not", "no_write_to_binlog",
        "nth_value", "ntile", "null", "numeric", "of", "on", "optimize", "option", "optionally",
        "or", "order", "out", "outer", "outfile", "over", "partition", "percent_rank",
        "precision", "primary", "procedure", "purge", "range", "rank", "read", "reads",
        "read_write", "real", "recursive", "references", "regexp", "release", "rename",
        "repeat", "replace", "require", "resignal", "restrict", "return", "returning", "revoke",
        "right", "rlike", "row", "rows", "row_number", "schema", "schemas", "second_microsecond",
        "select", "sensitive", "separator", "set", "show", "signal", "smallint", "spatial",
        "specific", "sql", "sqlexception", "sqlstate", "sqlwarning", "sql_big_result",
        "sql_calc_found_rows", "sql_small_result", "ssl", "starting", "stored", "straight_join",
        "system", "table", "terminated", "then", "tinyblob", "tinyint", "tinytext", "to",
        "trailing", "trigger", "true", "undo", "union", "unique", "unlock", "unsigned",
        "update", "usage", "use", "using", "utc_date", "utc_time", "utc_timestamp", "values",
        "varbinary", "varchar", "varcharacter", "varying", "virtual", "when", "where", "while",
        "window", "with", "write", "xor", "year_month", "zerofill"};
    return words;
  }

  void limit_offset(sql::CompileState& s, const sql::Select& stmt) const override {
    // MySQL's LIMIT offset, count: the offset comes first. Without a limit, the largest
    // unsigned 64-bit count, as SQLAlchemy renders it.
    s.sql += " LIMIT ";
    if (stmt.offset) {
      bind(s, *stmt.offset);
      s.sql += ", ";
    }
    if (stmt.limit)
      bind(s, *stmt.limit);
    else
      s.sql += "18446744073709551615";
  }

  std::string type_ddl(const sql::Column& c) const override {
    using sql::TypeKind;
    switch (c.type.kind) {
      case TypeKind::boolean: return "BOOL";
      case TypeKind::string:
        if (c.type.length <= 0)
          throw CompileError("VARCHAR requires a length on dialect mysql (column '" + c.name +
                             "': use alchemy::String(n) or alchemy::Text)");
        return sql::Compiler::type_ddl(c);
      case TypeKind::text: return "LONGTEXT";
      case TypeKind::blob: return "LONGBLOB";
      case TypeKind::datetime: return "DATETIME(6)";
      default: return sql::Compiler::type_ddl(c);
    }
  }

  std::string column_ddl(const sql::Column& c) const override {
    std::string out = quote(c.name) + " " + type_ddl(c);
    if (!c.nullable) out += " NOT NULL";
    if (c.server_default) out += " DEFAULT " + *c.server_default;
    if (c.autoincrement) out += " AUTO_INCREMENT";
    return out;
  }

  void insert_default_values(std::string& out) const override { out += " () VALUES ()"; }
  bool backslash_escapes() const noexcept override { return true; }
  /// MySQL has no ON CONFLICT: ON DUPLICATE KEY UPDATE fires on any unique key, and "do
  /// nothing" is an update of a conflict column to itself.
  void on_conflict(std::string& out, sql::ColumnList cols, sql::ColumnList conflict,
                   sql::ColumnList update) const override {
    out += " ON DUPLICATE KEY UPDATE ";
    if (update.empty()) {
      const auto name = quote((conflict.empty() ? cols : conflict)[0]->name);
      out += name + " = " + name;
      return;
    }
    for (std::size_t i = 0; i < update.size(); ++i) {
      if (i) out += ", ";
      const auto name = quote(update[i]->name);
      out += name + " = VALUES(" + name + ")";
    }
  }
};

/// MySQL / MariaDB: keys from the last insert id.
class Dialect final : public dialect::Dialect {
 public:
  std::string_view name() const noexcept override { return "mysql"; }
  const sql::Compiler& compiler() const noexcept override { return compiler_; }
  bool insert_returning() const noexcept override { return false; }

 private:
  Compiler compiler_;
};

inline const dialect::Dialect& dialect_instance() noexcept {
  static const Dialect d;
  return d;
}

}  // namespace alchemy::dialect::mysql

#endif  // ALCHEMY_DIALECT_MYSQL_DIALECT_HPP_
