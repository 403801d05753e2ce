// SPDX-License-Identifier: MIT
// File: sql/identifier.hpp
//
// Quoting of table and column names, as SQLAlchemy's IdentifierPreparer: a name is quoted only
// when it must be (a reserved word of the dialect, an upper-case letter, a character outside
// [a-z0-9_$], or a leading digit or $), and an embedded quote character is doubled.
#ifndef ALCHEMY_SQL_IDENTIFIER_HPP_
#define ALCHEMY_SQL_IDENTIFIER_HPP_

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_set>

namespace alchemy::sql {

/// A set of reserved words (lower case).
class ReservedWords {
 public:
  ReservedWords(std::initializer_list<std::string_view> words) : words_(words.begin(), words.end()) {}
  bool contains(std::string_view lower) const { return words_.count(lower) != 0; }

 private:
  std::unordered_set<std::string_view> words_;
};

/// Whether `name` must be quoted, given the dialect's reserved words.
inline bool needs_quoting(std::string_view name, const ReservedWords& reserved) {
  if (name.empty()) return true;
  const char first = name.front();
  if ((first >= '0' && first <= '9') || first == '$') return true;
  for (char c : name) {
    const bool legal = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$';
    if (!legal) return true;
  }
  return reserved.contains(name);
}

/// `name` quoted with `quote` when it must be, with embedded quote characters doubled.
inline std::string quote_identifier(std::string_view name, char quote, const ReservedWords& reserved) {
  if (!needs_quoting(name, reserved)) return std::string(name);
  std::string out;
  out.reserve(name.size() + 2);
  out += quote;
  for (char c : name) {
    if (c == quote) out += quote;
    out += c;
  }
  out += quote;
  return out;
}

}  // namespace alchemy::sql

#endif  // ALCHEMY_SQL_IDENTIFIER_HPP_
