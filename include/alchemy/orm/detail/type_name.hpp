// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/model.hpp>.
//
// The unqualified name of a class, from the compiler's pretty function name, and Flask-SQLAlchemy's
// rule that turns it into a table name (HTTPRequestLog → http_request_log).
#ifndef ALCHEMY_ORM_DETAIL_TYPE_NAME_HPP_
#define ALCHEMY_ORM_DETAIL_TYPE_NAME_HPP_

#include <cctype>
#include <string>
#include <string_view>

namespace alchemy::orm::detail {

template <class T>
constexpr std::string_view raw_type_name() {
  return __PRETTY_FUNCTION__;  // "... [with T = app::Account; ...]" or "... [T = app::Account]"
}

/// The class name in a raw_type_name(): "Account" for app::Account.
ALCHEMY_INLINE std::string class_name_in(std::string_view s);

/// "Account" for app::Account.
template <class T>
std::string class_name() {
  return class_name_in(raw_type_name<T>());
}

/// Flask-SQLAlchemy's automatic table name: re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))",
/// r"_\1", name).lower().lstrip("_").
ALCHEMY_INLINE std::string snake_case(std::string_view name);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::string class_name_in(std::string_view s) {
  const auto start = s.find("T = ");
  if (start == std::string_view::npos) return std::string(s);
  s.remove_prefix(start + 4);
  s = s.substr(0, s.find_first_of(";]"));
  // Drop namespaces, but not the ones inside template arguments.
  int depth = 0;
  std::size_t last = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') ++depth;
    if (s[i] == '>') --depth;
    if (depth == 0 && s[i] == ':' && i + 1 < s.size() && s[i + 1] == ':') last = i + 2;
  }
  return std::string(s.substr(last));
}

ALCHEMY_INLINE std::string snake_case(std::string_view name) {
  const auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (upper(c)) {
      const bool after_lower_or_digit = i > 0 && (lower(name[i - 1]) || digit(name[i - 1]));
      const bool before_lower = i > 0 && i + 1 < name.size() && lower(name[i + 1]);
      if (after_lower_or_digit || before_lower) out += '_';
    }
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const auto first = out.find_first_not_of('_');
  return first == std::string::npos ? std::string() : out.substr(first);
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_TYPE_NAME_HPP_
