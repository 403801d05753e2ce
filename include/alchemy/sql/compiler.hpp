// SPDX-License-Identifier: MIT
// File: sql/compiler.hpp
//
// The generic SQL compiler: visit methods per node, with virtual hooks that each dialect
// overrides only where its SQL differs (placeholders, quoting, LIMIT, ILIKE, empty IN, DDL
// types). Statement kinds live in separate files: detail/compile_select.hpp,
// detail/compile_dml.hpp, detail/compile_ddl.hpp.
//
//   const sql::Compiler& c = dialect.compiler();
//   sql::Compiled q = c.select(stmt);     // q.sql == "SELECT ... WHERE account.id = ?"
#ifndef ALCHEMY_SQL_COMPILER_HPP_
#define ALCHEMY_SQL_COMPILER_HPP_

#include <algorithm>
#include <charconv>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alchemy/error.hpp"
#include "alchemy/sql/expression.hpp"
#include "alchemy/sql/identifier.hpp"
#include "alchemy/sql/schema.hpp"
#include "alchemy/sql/statement.hpp"

namespace alchemy::sql {

/// The state of one compilation: the SQL text so far and the parameters in order.
struct CompileState {
  std::string sql;
  std::vector<Value> params;
  /// When set, the address of the value each parameter was bound from (a node of the statement,
  /// or a temporary): how the shape cache (detail/shape_cache.hpp) learns where parameters come from.
  std::vector<const Value*>* sources = nullptr;
};

using ColumnList = std::span<const Column* const>;

/// Renders statements for one dialect. Stateless: one instance serves every thread.
class Compiler {
 public:
  virtual ~Compiler() = default;

  // --- Statements -------------------------------------------------------------------------
  /// SELECT (or a count / exists over it). With `sources`, the address of the value behind each
  /// parameter is appended to it (see CompileState).
  Compiled select(const Select& stmt, SelectForm form = SelectForm::rows,
                  std::vector<const Value*>* sources = nullptr) const;
  /// Appends a SELECT to `s` (a whole statement, or a subquery inside one).
  void select_into(CompileState& s, const Select& stmt) const;
  /// Raw SQL from text(): each `:name` becomes this dialect's placeholder with the named value
  /// bound. Quoted strings, quoted identifiers, comments and `::` casts are left alone; `\:` is
  /// a literal colon. A parameter the SQL names but `params` lacks, or one it gives that the
  /// SQL does not use, is an ArgumentError naming it.
  Compiled text(std::string_view sql, std::span<const std::pair<std::string, Value>> params) const;
  /// INSERT ... ON CONFLICT (conflict) DO UPDATE SET col = excluded.col ... (or DO NOTHING when
  /// `update` is empty); MySQL: INSERT ... ON DUPLICATE KEY UPDATE col = VALUES(col).
  std::string upsert(const Table& t, ColumnList cols, ColumnList conflict, ColumnList update,
                     std::size_t rows = 1) const;
  /// INSERT INTO t (cols) VALUES (...) [, (...) × rows] [RETURNING returning].
  std::string insert(const Table& t, ColumnList cols, ColumnList returning = {},
                     std::size_t rows = 1) const;
  /// UPDATE t SET set_cols WHERE key_cols (one row by key; parameters: set values, then keys).
  std::string update(const Table& t, ColumnList set_cols, ColumnList key_cols) const;
  /// DELETE FROM t WHERE key_cols (one row by key).
  std::string delete_(const Table& t, ColumnList key_cols) const;
  /// DELETE FROM t WHERE key IN (rows placeholders): a batch of rows with a single-column key.
  std::string delete_many(const Table& t, const Column& key, std::size_t rows) const;
  /// UPDATE t SET col=?, ... WHERE criteria (bulk update from a query).
  Compiled update_where(const Table& t, const std::vector<std::pair<const Column*, Value>>& sets,
                        const std::vector<ExprPtr>& where) const;
  /// DELETE FROM t WHERE criteria (bulk delete from a query).
  Compiled delete_where(const Table& t, const std::vector<ExprPtr>& where) const;
  /// CREATE TABLE, as SQLAlchemy formats it.
  std::string create_table(const Table& t) const;
  /// CREATE [UNIQUE] INDEX statements for columns declared with `index`.
  std::vector<std::string> create_indexes(const Table& t) const;
  std::string drop_table(const Table& t) const;
  /// SAVEPOINT name / ROLLBACK TO SAVEPOINT name / RELEASE SAVEPOINT name (the same words on
  /// SQLite, PostgreSQL and MySQL; only the quoting of the name is the dialect's).
  std::string savepoint(std::string_view name) const { return "SAVEPOINT " + quote(name); }
  std::string rollback_to_savepoint(std::string_view name) const { return "ROLLBACK TO SAVEPOINT " + quote(name); }
  std::string release_savepoint(std::string_view name) const { return "RELEASE SAVEPOINT " + quote(name); }

  // --- Pieces ------------------------------------------------------------------------------
  /// `name`, quoted if the dialect needs it.
  std::string quote(std::string_view name) const {
    return quote_identifier(name, quote_char(), reserved_words());
  }
  /// "table.column", each part quoted as needed.
  std::string qualified(const Column& c) const { return quote(c.table->name()) + "." + quote(c.name); }
  /// Renders an expression, appending its parameters.
  void expression(CompileState& s, const Expr& e) const;

  // --- Dialect hooks -----------------------------------------------------------------------
  virtual char quote_char() const noexcept { return '"'; }
  virtual const ReservedWords& reserved_words() const noexcept = 0;
  /// Appends the placeholder for parameter number `n` (1-based).
  virtual void placeholder(std::string& out, std::size_t /*n*/) const { out += '?'; }
  /// LIMIT / OFFSET, as bound parameters.
  virtual void limit_offset(CompileState& s, const Select& stmt) const;
  /// Case-insensitive LIKE (default: lower(x) LIKE lower(?)).
  virtual void visit_ilike(CompileState& s, const Expr& e, bool negated) const;
  /// `x IN ()` and `x NOT IN ()`, which SQL has no syntax for.
  virtual void visit_empty_in(CompileState& s, const Expr& e, bool negated) const;
  /// The DDL type of a column (without NULL / DEFAULT).
  virtual std::string type_ddl(const Column& c) const;
  /// One column line of CREATE TABLE, without the leading tab.
  virtual std::string column_ddl(const Column& c) const;
  /// INSERT without any column (every column takes its default).
  virtual void insert_default_values(std::string& out) const { out += " DEFAULT VALUES"; }
  /// The conflict clause of an upsert (default: ON CONFLICT, as SQLite and PostgreSQL).
  virtual void on_conflict(std::string& out, ColumnList cols, ColumnList conflict,
                           ColumnList update) const;
  /// Whether a backslash escapes the next character inside a quoted string (MySQL).
  virtual bool backslash_escapes() const noexcept { return false; }

 protected:
  void bind(CompileState& s, const Value& v) const {
    if (s.sources) s.sources->push_back(&v);
    s.params.push_back(v);
    placeholder(s.sql, s.params.size());
  }
  void operand(CompileState& s, const Expr& e, int parent_precedence) const;
  /// ` ESCAPE 'c'` for a [NOT] [I]LIKE with an escape character (nothing for none); a
  /// CompileError for a character that could break out of the literal.
  void escape_clause(CompileState& s, char escape) const;
  static int precedence(Op op) noexcept {
    switch (op) {
      case Op::or_: return 1;
      case Op::and_: return 2;
      case Op::not_: return 3;
      default: return 4;
    }
  }
  static std::string_view action_sql(ReferentialAction a) noexcept {
    switch (a) {
      case ReferentialAction::cascade: return "CASCADE";
      case ReferentialAction::set_null: return "SET NULL";
      case ReferentialAction::set_default: return "SET DEFAULT";
      case ReferentialAction::restrict: return "RESTRICT";
      case ReferentialAction::no_action: return "NO ACTION";
      case ReferentialAction::none: break;
    }
    return {};
  }
};

inline void Compiler::operand(CompileState& s, const Expr& e, int parent_precedence) const {
  const bool wrap = precedence(e.op) < parent_precedence;
  if (wrap) s.sql += '(';
  expression(s, e);
  if (wrap) s.sql += ')';
}

inline void Compiler::expression(CompileState& s, const Expr& e) const {
  const auto comparison = [&](std::string_view op) {
    operand(s, *e.args[0], 4);
    s.sql += op;
    operand(s, *e.args[1], 4);
  };
  const auto like = [&](std::string_view op) {
    comparison(op);
    escape_clause(s, e.escape);
  };
  switch (e.op) {
    case Op::column: s.sql += qualified(*e.column); return;
    case Op::bind: bind(s, e.value); return;
    case Op::eq: return comparison(" = ");
    case Op::ne: return comparison(" != ");
    case Op::lt: return comparison(" < ");
    case Op::le: return comparison(" <= ");
    case Op::gt: return comparison(" > ");
    case Op::ge: return comparison(" >= ");
    case Op::like: return like(" LIKE ");
    case Op::not_like: return like(" NOT LIKE ");
    case Op::ilike: return visit_ilike(s, e, false);
    case Op::not_ilike: return visit_ilike(s, e, true);
    case Op::in:
    case Op::not_in: {
      const bool negated = e.op == Op::not_in;
      if (e.values.empty()) return visit_empty_in(s, e, negated);
      if (negated) s.sql += '(';  // SQLAlchemy renders (x NOT IN (...))
      operand(s, *e.args[0], 4);
      s.sql += negated ? " NOT IN (" : " IN (";
      for (std::size_t i = 0; i < e.values.size(); ++i) {
        if (i) s.sql += ", ";
        bind(s, e.values[i]);
      }
      s.sql += ')';
      if (negated) s.sql += ')';
      return;
    }
    case Op::between:
    case Op::not_between:
      operand(s, *e.args[0], 4);
      s.sql += e.op == Op::between ? " BETWEEN " : " NOT BETWEEN ";
      bind(s, e.values[0]);
      s.sql += " AND ";
      bind(s, e.values[1]);
      return;
    case Op::is_null:
    case Op::is_not_null:
      operand(s, *e.args[0], 4);
      s.sql += e.op == Op::is_null ? " IS NULL" : " IS NOT NULL";
      return;
    case Op::and_:
    case Op::or_:
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        if (i) s.sql += e.op == Op::and_ ? " AND " : " OR ";
        operand(s, *e.args[i], precedence(e.op));
      }
      return;
    case Op::not_:
      s.sql += "NOT (";
      expression(s, *e.args[0]);
      s.sql += ')';
      return;
    case Op::true_: s.sql += "1 = 1"; return;
    case Op::false_: s.sql += "1 != 1"; return;
    case Op::func:
      s.sql += e.name;
      s.sql += '(';
      if (e.args.empty() && std::string_view(e.name) == "count") s.sql += '*';
      for (std::size_t i = 0; i < e.args.size(); ++i) {
        if (i) s.sql += ", ";
        expression(s, *e.args[i]);
      }
      s.sql += ')';
      return;
    case Op::scalar_subquery:
      s.sql += '(';
      select_into(s, *e.select);
      s.sql += ')';
      return;
    case Op::in_select:
    case Op::not_in_select: {
      const bool negated = e.op == Op::not_in_select;
      if (negated) s.sql += '(';
      operand(s, *e.args[0], 4);
      s.sql += negated ? " NOT IN (" : " IN (";
      select_into(s, *e.select);
      s.sql += negated ? "))" : ")";
      return;
    }
    case Op::exists:
      s.sql += "EXISTS (";
      select_into(s, *e.select);
      s.sql += ')';
      return;
  }
}

inline void Compiler::visit_ilike(CompileState& s, const Expr& e, bool negated) const {
  s.sql += "lower(";
  expression(s, *e.args[0]);
  s.sql += negated ? ") NOT LIKE lower(" : ") LIKE lower(";
  expression(s, *e.args[1]);
  s.sql += ')';
  escape_clause(s, e.escape);
}

inline void Compiler::escape_clause(CompileState& s, char escape) const {
  if (!escape) return;
  // The one character of a LIKE that is written into the SQL rather than bound: it must not be
  // able to end the literal (a quote; a backslash on MySQL) or make the text invalid UTF-8.
  const auto c = static_cast<unsigned char>(escape);
  if (c == '\'' || c == '\\' || c < 0x20 || c > 0x7e)
    throw CompileError("LIKE escape character must be a printable ASCII character other than a "
                       "quote or backslash");
  s.sql += " ESCAPE '";
  s.sql += escape;
  s.sql += '\'';
}

inline void Compiler::visit_empty_in(CompileState& s, const Expr& e, bool negated) const {
  // SQLAlchemy's rendering for PostgreSQL and MySQL: always false / always true. Wrapped in
  // parentheses so that an enclosing AND / OR cannot split it.
  s.sql += '(';
  operand(s, *e.args[0], 4);
  s.sql += negated ? " NOT IN (NULL) OR (1 = 1))" : " IN (NULL) AND (1 != 1))";
}

inline void Compiler::limit_offset(CompileState& s, const Select& stmt) const {
  if (stmt.limit) {
    s.sql += " LIMIT ";
    bind(s, *stmt.limit);
  }
  if (stmt.offset) {
    s.sql += " OFFSET ";
    bind(s, *stmt.offset);
  }
}

}  // namespace alchemy::sql

#include "alchemy/sql/detail/compile_ddl.hpp"
#include "alchemy/sql/detail/compile_dml.hpp"
#include "alchemy/sql/detail/compile_select.hpp"
#include "alchemy/sql/detail/compile_text.hpp"
#include "alchemy/sql/detail/shape_cache.hpp"

#endif  // ALCHEMY_SQL_COMPILER_HPP_
