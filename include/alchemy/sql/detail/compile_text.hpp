// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/sql/compiler.hpp>.
//
// Raw SQL from text(): named `:name` parameters become the dialect's placeholders.
#ifndef ALCHEMY_SQL_DETAIL_COMPILE_TEXT_HPP_
#define ALCHEMY_SQL_DETAIL_COMPILE_TEXT_HPP_

#include "alchemy/config.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
namespace alchemy::sql {

ALCHEMY_INLINE Compiled Compiler::text(std::string_view sql,
                               std::span<const std::pair<std::string, Value>> params) const {
  const auto word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  std::vector<bool> used(params.size(), false);
  for (std::size_t i = 0; i < params.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (params[i].first == params[j].first)
        throw ArgumentError("text(): parameter '" + params[i].first + "' is given twice");
  CompileState s;
  s.sql.reserve(sql.size() + 16);
  const std::size_t n = sql.size();
  std::size_t i = 0;
  // Copies a quoted run (string literal or quoted identifier) that starts at sql[i].
  const auto quoted = [&](char q) {
    const bool backslash = q == '\'' && backslash_escapes();
    std::size_t j = i + 1;
    while (j < n) {
      if (backslash && sql[j] == '\\' && j + 1 < n) {
        j += 2;
        continue;
      }
      if (sql[j] == q) {
        if (j + 1 < n && sql[j + 1] == q) {  // doubled quote: still inside
          j += 2;
          continue;
        }
        ++j;
        break;
      }
      ++j;
    }
    s.sql.append(sql.substr(i, j - i));
    i = j;
  };
  while (i < n) {
    const char c = sql[i];
    // Backquotes quote identifiers on MySQL and SQLite, and are no valid SQL on PostgreSQL.
    if (c == '\'' || c == '"' || c == '`') {
      quoted(c);
    } else if (c == '-' && i + 1 < n && sql[i + 1] == '-') {  // -- comment to the end of line
      const auto end = std::min(sql.find('\n', i), n);
      s.sql.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '/' && i + 1 < n && sql[i + 1] == '*') {  // /* comment */
      const auto close = sql.find("*/", i + 2);
      const auto end = close == std::string_view::npos ? n : close + 2;
      s.sql.append(sql.substr(i, end - i));
      i = end;
    } else if (c == '\\' && i + 1 < n && sql[i + 1] == ':') {  // \: a literal colon
      s.sql += ':';
      i += 2;
    } else if (c == ':' && i + 1 < n && sql[i + 1] == ':') {  // PostgreSQL's :: cast
      s.sql += "::";
      i += 2;
    } else if (c == ':' && i + 1 < n && word(sql[i + 1]) && (i == 0 || !word(sql[i - 1]))) {
      std::size_t j = i + 1;
      while (j < n && word(sql[j])) ++j;
      const auto name = sql.substr(i + 1, j - i - 1);
      std::size_t k = 0;
      while (k < params.size() && params[k].first != name) ++k;
      if (k == params.size())
        throw ArgumentError("text(): no value given for parameter '" + std::string(name) + "'");
      used[k] = true;
      bind(s, params[k].second);
      i = j;
    } else {
      s.sql += c;
      ++i;
    }
  }
  for (std::size_t k = 0; k < params.size(); ++k)
    if (!used[k])
      throw ArgumentError("text(): parameter '" + params[k].first +
                          "' is not used by the statement");
  return Compiled{std::move(s.sql), std::move(s.params)};
}

}  // namespace alchemy::sql
#endif  // ALCHEMY_IMPL

#endif  // ALCHEMY_SQL_DETAIL_COMPILE_TEXT_HPP_
