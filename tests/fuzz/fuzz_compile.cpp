// SPDX-License-Identifier: MIT
// libFuzzer target: random expression trees and statements, compiled by all three dialects.
//
// The input bytes drive a builder that makes, over a small table whose column names are awkward
// on purpose (a reserved word, spaces, both quote characters, '?' and '$1' inside names):
//   - values of every kind: NULL, any int64, any double bit pattern (NaN, infinities), booleans,
//     arbitrary byte strings (quotes, backslashes, %, _, NUL, invalid UTF-8, up to ~4 KB), blobs,
//     dates and datetimes;
//   - every operator: comparisons, [NOT] [I]LIKE with any ESCAPE byte, [NOT] IN with lists of any
//     length including empty, [NOT] BETWEEN, IS [NOT] NULL, and_/or_ (empty ones too), not_,
//     constants, and comparisons nested as operands;
//   - SELECT with a column subset, WHERE, ORDER BY, LIMIT/OFFSET of any int64, DISTINCT, in its
//     rows / count / exists forms; bulk UPDATE/DELETE by criteria; INSERT/UPDATE/DELETE by key.
// Each statement is compiled by the SQLite, PostgreSQL and MySQL compilers. Properties:
//   1. No crash, no sanitizer report, and no exception but CompileError / ArgumentError.
//   2. The number of placeholders in the SQL (outside quoted names) equals params.size();
//      PostgreSQL's are numbered $1, $2, ... in order.
//   3. Values are never spliced into the SQL: the same tree built with every non-NULL value
//      replaced by 0 compiles to byte-identical SQL (so no text value can appear in the SQL
//      unless it is part of the value-free SQL: a column or table name or a keyword), and the
//      only string literal the SQL may hold is a LIKE ESCAPE character that is printable ASCII
//      and neither a quote nor a backslash. Parentheses balance outside quotes.
// Any violation aborts, which libFuzzer reports as a crash with the input saved.
#include <alchemy/dialect/mysql/dialect.hpp>
#include <alchemy/dialect/postgresql/dialect.hpp>
#include <alchemy/dialect/sqlite/dialect.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"

namespace {

using namespace alchemy;

const sql::Table& table() {
  static const sql::Table* t = [] {
    auto* tab = new sql::Table("fuzz table");
    const auto add = [&](std::string name, sql::TypeKind kind, bool pk = false) {
      sql::Column c;
      c.name = std::move(name);
      c.type.kind = kind;
      c.type.length = kind == sql::TypeKind::string ? 50 : 0;
      c.primary_key = pk;
      c.nullable = !pk;
      c.autoincrement = pk;
      tab->add_column(std::move(c));
    };
    add("id", sql::TypeKind::big_integer, true);
    add("name", sql::TypeKind::string);
    add("select", sql::TypeKind::string);        // reserved everywhere
    add("Mixed Case", sql::TypeKind::text);
    add("we\"ird", sql::TypeKind::text);         // the quote character of SQLite and PostgreSQL
    add("back`tick", sql::TypeKind::text);       // MySQL's
    add("q?mark", sql::TypeKind::integer);       // a placeholder character inside a name
    add("price$1", sql::TypeKind::double_);      // unquoted, and looks like a PostgreSQL placeholder
    add("flag", sql::TypeKind::boolean);
    add("born", sql::TypeKind::date);
    add("seen", sql::TypeKind::datetime);
    add("data", sql::TypeKind::blob);
    return tab;
  }();
  return *t;
}

/// Builds trees from the input. With `neutral`, every non-NULL value becomes the integer 0 while
/// the same bytes are consumed, so the tree has the same shape.
class Builder {
 public:
  Builder(const std::uint8_t* data, std::size_t size, bool neutral) : in_(data, size), neutral_(neutral) {}

  std::vector<std::string> texts;  ///< the text and blob values used, as bytes

  const sql::Column& column() {
    const auto& cols = table().columns();
    return *cols[in_.pick(cols.size())];
  }

  sql::Value value() {
    sql::Value v;
    switch (in_.pick(8)) {
      case 0: break;  // NULL
      case 1: v = static_cast<std::int64_t>(in_.u64()); break;
      case 2: v = in_.real(); break;
      case 3: v = in_.flag(); break;
      case 4: {
        std::string s = in_.bytes(1 << 16);
        texts.push_back(s);
        v = std::move(s);
        break;
      }
      case 5: {
        const std::string s = in_.bytes(1 << 16);
        texts.push_back(s);
        v = Blob(s.begin(), s.end());
        break;
      }
      case 6: v = Date(std::chrono::days(static_cast<std::int32_t>(in_.u32()))); break;
      default: v = DateTime(std::chrono::microseconds(static_cast<std::int64_t>(in_.u64()))); break;
    }
    if (neutral_ && !v.is_null()) return sql::Value(std::int64_t{0});
    return v;
  }

  sql::ExprPtr operand(int depth) {
    switch (in_.pick(8)) {
      case 0: case 1: case 2: case 3: return sql::column(column());
      case 4: case 5: case 6: return sql::bind(value());
      default: return depth < 4 ? expr(depth + 1) : sql::column(column());
    }
  }

  std::vector<sql::Value> values(std::size_t max) {
    std::vector<sql::Value> out(in_.pick(max + 1));
    for (auto& v : out) v = value();
    return out;
  }

  sql::ExprPtr expr(int depth = 0) {
    static constexpr sql::Op comparisons[] = {sql::Op::eq, sql::Op::ne, sql::Op::lt,
                                              sql::Op::le, sql::Op::gt, sql::Op::ge};
    static constexpr sql::Op patterns[] = {sql::Op::like, sql::Op::not_like, sql::Op::ilike,
                                           sql::Op::not_ilike};
    const std::size_t kind = depth >= 5 ? in_.pick(2) : in_.pick(10);
    switch (kind) {
      case 0: {
        const auto op = comparisons[in_.pick(6)];
        auto left = operand(depth);
        return sql::binary(op, std::move(left), operand(depth));
      }
      case 1: {
        const auto op = patterns[in_.pick(4)];
        auto left = operand(depth);
        auto right = operand(depth);
        const char escape = in_.flag() ? static_cast<char>(in_.byte()) : 0;
        return sql::binary(op, std::move(left), std::move(right), escape);
      }
      case 2: {
        auto target = operand(depth);
        const bool negated = in_.flag();
        return sql::in(std::move(target), values(12), negated);
      }
      case 3: {
        auto target = operand(depth);
        auto low = value();
        auto high = value();
        return sql::between(std::move(target), std::move(low), std::move(high), in_.flag());
      }
      case 4: {
        auto target = operand(depth);
        return sql::is_null(std::move(target), in_.flag());
      }
      case 5:
      case 6: {
        std::vector<sql::ExprPtr> parts(in_.pick(5));
        for (auto& p : parts) p = expr(depth + 1);
        return kind == 5 ? sql::and_(std::move(parts)) : sql::or_(std::move(parts));
      }
      case 7: return sql::not_(expr(depth + 1));
      case 8: return sql::constant(in_.flag());
      default: return sql::binary(comparisons[in_.pick(6)], expr(depth + 1), operand(depth));
    }
  }

  sql::Select select() {
    sql::Select s;
    s.table = &table();
    for (std::size_t n = in_.pick(4); n > 0; --n) s.columns.push_back(&column());
    for (std::size_t n = in_.pick(4); n > 0; --n) s.where.push_back(expr());
    for (std::size_t n = in_.pick(3); n > 0; --n) s.order_by.push_back({in_.flag() ? expr(3) : operand(3), in_.flag()});
    if (in_.flag()) s.limit = number();
    if (in_.flag()) s.offset = number();
    s.distinct = in_.flag();
    return s;
  }

  /// Any int64 (LIMIT / OFFSET): bound like a value, so neutralised like one.
  std::int64_t number() {
    const auto n = static_cast<std::int64_t>(in_.u64());
    return neutral_ ? 0 : n;
  }

  std::size_t pick(std::size_t n) { return in_.pick(n); }
  bool flag() { return in_.flag(); }

 private:
  fuzz::Input in_;
  bool neutral_;
};

/// What one compilation gave: SQL and parameter nullness, or the error's kind.
struct Outcome {
  bool error = false;
  std::string sql;
  std::vector<bool> null_params;
  std::size_t params = 0;
};

[[noreturn]] void fail(const char* dialect, const char* what, const std::string& sql, const std::string& detail = {}) {
  std::fprintf(stderr, "fuzz_compile [%s]: %s\n  sql: ", dialect, what);
  for (unsigned char c : sql) std::fprintf(stderr, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
  std::fprintf(stderr, "\n  %s\n", detail.c_str());
  std::abort();
}

bool ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
}

/// Checks the SQL's lexical structure; returns the number of placeholders.
std::size_t scan(const char* dialect, const std::string& sql, char quote, bool dollar) {
  std::size_t placeholders = 0;
  int depth = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\0') fail(dialect, "NUL byte in the SQL", sql);
    if (c == quote) {  // a quoted name: up to the closing quote, doubled quotes inside
      for (++i;; ++i) {
        if (i >= sql.size()) fail(dialect, "unterminated quoted name", sql);
        if (sql[i] == quote) {
          if (i + 1 < sql.size() && sql[i + 1] == quote) { ++i; continue; }
          break;
        }
      }
      continue;
    }
    if (c == '\'') {  // the only literal allowed: ESCAPE 'c'
      const bool after_escape = i >= 7 && sql.compare(i - 7, 7, "ESCAPE ") == 0;
      if (!after_escape || i + 2 >= sql.size() || sql[i + 2] != '\'')
        fail(dialect, "string literal in the SQL (a spliced value?)", sql, "at offset " + std::to_string(i));
      const auto e = static_cast<unsigned char>(sql[i + 1]);
      if (e == '\'' || e == '\\' || e < 0x20 || e > 0x7e)
        fail(dialect, "ESCAPE character that is not a safe printable character", sql);
      i += 2;
      continue;
    }
    if (c == '(') ++depth;
    if (c == ')' && --depth < 0) fail(dialect, "unbalanced parentheses", sql);
    if (!dollar && c == '?') ++placeholders;
    if (dollar && c == '$' && (i == 0 || !ident_char(sql[i - 1])) && i + 1 < sql.size() &&
        sql[i + 1] >= '0' && sql[i + 1] <= '9') {
      std::size_t j = i + 1;
      std::size_t n = 0;
      while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + std::size_t(sql[j++] - '0');
      if (n != placeholders + 1)
        fail(dialect, "PostgreSQL placeholders out of order", sql, "$" + std::to_string(n) + " after " + std::to_string(placeholders));
      ++placeholders;
      i = j - 1;
    }
  }
  if (depth != 0) fail(dialect, "unbalanced parentheses", sql);
  return placeholders;
}

struct Dialect {
  const char* name;
  const sql::Compiler& compiler;
  char quote;
  bool dollar;
};

/// Builds one statement from the input and compiles it with dialect `d`.
Outcome compile(const Dialect& d, const std::uint8_t* data, std::size_t size, bool neutral,
                std::vector<std::string>* texts) {
  Builder b(data, size, neutral);
  Outcome out;
  const auto& c = d.compiler;
  const auto& t = table();
  const auto done = [&](std::string sql, std::vector<bool> nulls, std::size_t params) {
    out.sql = std::move(sql);
    out.null_params = std::move(nulls);
    out.params = params;
  };
  const auto nulls_of = [](const std::vector<sql::Value>& ps) {
    std::vector<bool> n;
    for (const auto& p : ps) n.push_back(p.is_null());
    return n;
  };
  try {
    switch (b.pick(6)) {
      case 0:
      case 1: {
        auto s = b.select();
        const auto form = static_cast<sql::SelectForm>(b.pick(3));
        auto q = c.select(s, form);
        done(q.sql, nulls_of(q.params), q.params.size());
        break;
      }
      case 2: {
        std::vector<std::pair<const sql::Column*, sql::Value>> sets(b.pick(4));
        for (auto& [col, v] : sets) {
          col = &b.column();
          v = b.value();
        }
        std::vector<sql::ExprPtr> where(b.pick(3));
        for (auto& w : where) w = b.expr();
        auto q = c.update_where(t, sets, where);
        done(q.sql, nulls_of(q.params), q.params.size());
        break;
      }
      case 3: {
        std::vector<sql::ExprPtr> where(b.pick(3));
        for (auto& w : where) w = b.expr();
        auto q = c.delete_where(t, where);
        done(q.sql, nulls_of(q.params), q.params.size());
        break;
      }
      default: {
        // Statements by key: placeholders only, so their count is what is checked.
        std::vector<const sql::Column*> cols(b.pick(6)), keys(1 + b.pick(2));
        for (auto& col : cols) col = &b.column();
        for (auto& k : keys) k = &b.column();
        const std::size_t rows = 1 + b.pick(4);
        switch (b.pick(4)) {
          case 0: {
            std::vector<const sql::Column*> ret;
            if (b.flag()) ret.push_back(keys[0]);
            done(c.insert(t, cols, ret, rows), std::vector<bool>(cols.size() * rows, false), cols.size() * rows);
            break;
          }
          case 1:
            if (cols.empty()) cols.push_back(keys[0]);
            done(c.update(t, cols, keys), std::vector<bool>(cols.size() + keys.size(), false), cols.size() + keys.size());
            break;
          case 2: done(c.delete_(t, keys), std::vector<bool>(keys.size(), false), keys.size()); break;
          default: done(c.delete_many(t, *keys[0], rows), std::vector<bool>(rows, false), rows); break;
        }
        break;
      }
    }
  } catch (const CompileError&) {
    out.error = true;
  } catch (const ArgumentError&) {
    out.error = true;
  } catch (const std::exception& e) {
    fail(d.name, "unexpected exception", "", e.what());
  }
  if (texts) *texts = std::move(b.texts);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Dialect dialects[] = {
      {"sqlite", dialect::sqlite::dialect_instance().compiler(), '"', false},
      {"postgresql", dialect::postgresql::dialect_instance().compiler(), '"', true},
      {"mysql", dialect::mysql::dialect_instance().compiler(), '`', false},
  };
  for (const auto& d : dialects) {
    std::vector<std::string> texts;
    const Outcome real = compile(d, data, size, false, &texts);
    const Outcome neutral = compile(d, data, size, true, nullptr);
    if (real.error != neutral.error)
      fail(d.name, "whether compiling fails depends on the values", real.sql + " | " + neutral.sql);
    if (real.error) continue;
    const std::size_t placeholders = scan(d.name, real.sql, d.quote, d.dollar);
    if (placeholders != real.params)
      fail(d.name, "placeholder count differs from the parameter count", real.sql,
           std::to_string(placeholders) + " placeholders, " + std::to_string(real.params) + " parameters");
    if (real.sql != neutral.sql)
      fail(d.name, "the SQL depends on the values bound (a value was spliced)", real.sql, "value-free: " + neutral.sql);
    if (real.null_params != neutral.null_params)
      fail(d.name, "parameters differ between the value and value-free builds", real.sql);
    for (const auto& v : texts)
      if (!v.empty() && real.sql.find(v) != std::string::npos && neutral.sql.find(v) == std::string::npos)
        fail(d.name, "a text value appears in the SQL", real.sql, v);
  }
  return 0;
}
