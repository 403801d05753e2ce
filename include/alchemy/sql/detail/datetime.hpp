// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/sql/type_traits.hpp>.
//
// Text forms of dates and timestamps, as SQLAlchemy stores them in SQLite and as PostgreSQL and
// MySQL print them: "YYYY-MM-DD" and "YYYY-MM-DD HH:MM:SS.ffffff".
#ifndef ALCHEMY_SQL_DETAIL_DATETIME_HPP_
#define ALCHEMY_SQL_DETAIL_DATETIME_HPP_

#include <charconv>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "alchemy/config.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy::sql::detail {

/// "YYYY-MM-DD".
ALCHEMY_INLINE std::string format_date(Date d);
/// "YYYY-MM-DD HH:MM:SS.ffffff", always with six fraction digits, as SQLAlchemy's SQLite DateTime.
ALCHEMY_INLINE std::string format_datetime(DateTime t);
/// Parses "YYYY-MM-DD" (anything after the date is ignored by the caller's choice).
ALCHEMY_INLINE std::optional<Date> parse_date(std::string_view s);
/// Parses "YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]]"; a date alone means midnight.
ALCHEMY_INLINE std::optional<DateTime> parse_datetime(std::string_view s);

namespace parse {
/// Reads the n decimal digits at s[pos] into out; false if any is missing or not a digit. Also
/// used by the PostgreSQL driver's timestamp parsing, hence outside the compiled-once part.
inline bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return std::from_chars(s.data() + pos, s.data() + pos + n, out).ec == std::errc{};
}
}  // namespace parse

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::string format_date(Date d) {
  const std::chrono::year_month_day ymd{d};
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                              static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return std::string(buf, static_cast<std::size_t>(n));
}

/// "YYYY-MM-DD HH:MM:SS.ffffff", always with six fraction digits, as SQLAlchemy's SQLite DateTime.
ALCHEMY_INLINE std::string format_datetime(DateTime t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::hh_mm_ss<std::chrono::microseconds> hms{t - day};
  const std::chrono::year_month_day ymd{day};
  char buf[48];
  const int n = std::snprintf(
      buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d.%06lld", static_cast<int>(ymd.year()),
      static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
      static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
      static_cast<int>(hms.seconds().count()), static_cast<long long>(hms.subseconds().count()));
  return std::string(buf, static_cast<std::size_t>(n));
}

ALCHEMY_INLINE std::optional<Date> parse_date(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (!parse::digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !parse::digits(s, 5, 2, m) ||
      s[7] != '-' || !parse::digits(s, 8, 2, d))
    return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(unsigned(m)),
                                        std::chrono::day(unsigned(d))};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days(ymd);
}

ALCHEMY_INLINE std::optional<DateTime> parse_datetime(std::string_view s) {
  const auto date = parse_date(s);
  if (!date) return std::nullopt;
  DateTime t = std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::sys_time<std::chrono::microseconds>(*date));
  if (s.size() == 10) return t;
  int h = 0, mi = 0, sec = 0;
  if ((s[10] != ' ' && s[10] != 'T') || !parse::digits(s, 11, 2, h) || s.size() < 16 ||
      s[13] != ':' || !parse::digits(s, 14, 2, mi))
    return std::nullopt;
  std::size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    if (!parse::digits(s, pos + 1, 2, sec)) return std::nullopt;
    pos += 3;
  }
  long long micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int scale = 100000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      micros += (s[pos] - '0') * scale;  // digits past the sixth are dropped
      scale /= 10;
      ++pos;
    }
  }
  if (pos != s.size() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  return t + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec) +
         std::chrono::microseconds(micros);
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::sql::detail

#endif  // ALCHEMY_SQL_DETAIL_DATETIME_HPP_
