// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/dialect/mysql/driver.hpp>.
//
// What the MySQL driver's MYSQL_BIND buffers hold: dates in and out of MYSQL_TIME, one bound
// parameter's and one result column's storage, and the columns of MariaDB's array binding (the
// unit of work's batches in one execution), with the check that the server takes it.
#ifndef ALCHEMY_DIALECT_MYSQL_DETAIL_BIND_HPP_
#define ALCHEMY_DIALECT_MYSQL_DETAIL_BIND_HPP_

#include <mysql.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "alchemy/dialect/mysql/errors.hpp"
#include "alchemy/sql/value.hpp"

// MariaDB Connector/C has array binding (one execution for many rows); Oracle's client has not.
#if defined(MARIADB_PACKAGE_VERSION_ID) && defined(MARIADB_CLIENT_STMT_BULK_OPERATIONS)
#define ALCHEMY_MYSQL_BULK 1
#else
#define ALCHEMY_MYSQL_BULK 0
#endif

namespace alchemy::dialect::mysql::detail {

/// The client's boolean: `my_bool` (char) in MariaDB, `bool` in MySQL 8, which removed my_bool.
using Flag = std::remove_pointer_t<decltype(MYSQL_BIND::is_null)>;

inline MYSQL_TIME to_mysql_date(Date d) {
  const std::chrono::year_month_day ymd{d};
  const int y = static_cast<int>(ymd.year());
  if (y < 0 || y > 9999)
    throw DataError(client_error("date outside MySQL's range (years 0 to 9999)", {}, "22008"));
  MYSQL_TIME t{};
  t.year = static_cast<unsigned>(y);
  t.month = static_cast<unsigned>(ymd.month());
  t.day = static_cast<unsigned>(ymd.day());
  t.time_type = MYSQL_TIMESTAMP_DATE;
  return t;
}

inline MYSQL_TIME to_mysql_datetime(DateTime v) {
  const auto day = std::chrono::floor<std::chrono::days>(v);
  MYSQL_TIME t = to_mysql_date(day);
  const std::chrono::hh_mm_ss<std::chrono::microseconds> hms{v - day};
  t.hour = static_cast<unsigned>(hms.hours().count());
  t.minute = static_cast<unsigned>(hms.minutes().count());
  t.second = static_cast<unsigned>(hms.seconds().count());
  t.second_part = static_cast<unsigned long>(hms.subseconds().count());
  t.time_type = MYSQL_TIMESTAMP_DATETIME;
  return t;
}

/// MySQL's zero dates ('0000-00-00', or a zero month or day) have no calendar value.
inline bool is_zero_date(const MYSQL_TIME& t) noexcept { return t.month == 0 || t.day == 0; }

inline Date from_mysql_date(const MYSQL_TIME& t) {
  return std::chrono::sys_days(
      std::chrono::year_month_day{std::chrono::year(static_cast<int>(t.year)),
                                  std::chrono::month(t.month), std::chrono::day(t.day)});
}

inline DateTime from_mysql_datetime(const MYSQL_TIME& t) {
  return DateTime(from_mysql_date(t)) + std::chrono::hours(t.hour) +
         std::chrono::minutes(t.minute) + std::chrono::seconds(t.second) +
         std::chrono::microseconds(t.second_part);
}

/// One bound parameter's storage; MYSQL_BIND points into it (or at the caller's text).
struct Param {
  std::int64_t integer = 0;
  double real = 0;
  signed char boolean = 0;
  MYSQL_TIME time{};
  unsigned long length = 0;
  bool bound = false;
};

/// One result column's storage and how to read it back.
struct Column {
  enum class Kind : std::uint8_t { integer, real, date, datetime, text, bytes, null };
  Kind kind = Kind::null;
  bool is_unsigned = false;
  std::int64_t integer = 0;
  double real = 0;
  MYSQL_TIME time{};
  std::vector<char> buffer;  ///< text and binary values; grows to the longest value seen
  unsigned long length = 0;
  Flag is_null{};
  Flag error{};
  std::string name;  ///< the column's name in the result
};

inline bool is_string_type(enum_field_types t) noexcept {
  switch (t) {
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB: return true;
    default: return false;
  }
}

#if ALCHEMY_MYSQL_BULK
/// Whether the server takes MariaDB's array binding (what MARIADB_STMT_BULK_SUPPORTED checks,
/// through the public API): a MariaDB server (not MySQL) announcing bulk operations.
inline bool bulk_supported(MYSQL* m) noexcept {
  unsigned long server = 0, extended = 0;
  if (mariadb_get_infov(m, MARIADB_CONNECTION_SERVER_CAPABILITIES, &server) != 0 ||
      mariadb_get_infov(m, MARIADB_CONNECTION_EXTENDED_SERVER_CAPABILITIES, &extended) != 0)
    return false;
  return !(server & CLIENT_MYSQL) && (extended & (MARIADB_CLIENT_STMT_BULK_OPERATIONS >> 32)) != 0;
}

/// One parameter's values for MariaDB's column-wise array binding: a typed array and a NULL
/// indicator per row. The client steps through arrays of fixed-size values (integers, doubles)
/// and reads the others through an array of pointers: text and blobs (the caller's bytes, with
/// their lengths), dates and datetimes.
struct BulkColumn {
  enum_field_types type = MYSQL_TYPE_LONGLONG;
  std::vector<std::int64_t> integers;
  std::vector<double> reals;
  std::vector<signed char> booleans;
  std::vector<MYSQL_TIME> times;
  std::vector<const MYSQL_TIME*> time_ptrs;  ///< the client reads dates through an array of pointers
  std::vector<const char*> texts;
  std::vector<unsigned long> length;
  std::vector<char> indicator;

  void* buffer() noexcept {
    switch (type) {
      case MYSQL_TYPE_DOUBLE: return reals.data();
      case MYSQL_TYPE_TINY: return booleans.data();
      case MYSQL_TYPE_DATE:
      case MYSQL_TYPE_DATETIME: return time_ptrs.data();
      case MYSQL_TYPE_STRING:
      case MYSQL_TYPE_BLOB: return texts.data();
      default: return integers.data();
    }
  }

  /// Column `c` of `rows` rows of `width` values each, all of one kind or NULL (can_bulk()).
  void fill(std::size_t rows, std::span<const sql::ValueRef> params, std::size_t width, std::size_t c) {
    static const char empty = 0;
    sql::ValueKind kind = sql::ValueKind::null;
    for (std::size_t r = 0; r < rows && kind == sql::ValueKind::null; ++r) kind = params[r * width + c].kind();
    integers.clear();
    reals.clear();
    booleans.clear();
    times.clear();
    time_ptrs.clear();
    texts.clear();
    length.clear();
    indicator.assign(rows, STMT_INDICATOR_NONE);
    switch (kind) {
      case sql::ValueKind::null:
      case sql::ValueKind::integer: type = MYSQL_TYPE_LONGLONG; integers.resize(rows); break;
      case sql::ValueKind::real: type = MYSQL_TYPE_DOUBLE; reals.resize(rows); break;
      case sql::ValueKind::boolean: type = MYSQL_TYPE_TINY; booleans.resize(rows); break;
      case sql::ValueKind::text:
      case sql::ValueKind::blob:
        type = kind == sql::ValueKind::text ? MYSQL_TYPE_STRING : MYSQL_TYPE_BLOB;
        texts.resize(rows);
        length.resize(rows);
        break;
      case sql::ValueKind::date:
      case sql::ValueKind::datetime:
        type = kind == sql::ValueKind::date ? MYSQL_TYPE_DATE : MYSQL_TYPE_DATETIME;
        times.resize(rows);
        for (const auto& t : times) time_ptrs.push_back(&t);
        break;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const auto v = params[r * width + c];
      switch (v.kind()) {
        case sql::ValueKind::null: indicator[r] = STMT_INDICATOR_NULL; break;
        case sql::ValueKind::integer: integers[r] = v.as_integer(); break;
        case sql::ValueKind::real: reals[r] = v.as_real(); break;
        case sql::ValueKind::boolean: booleans[r] = v.as_boolean() ? 1 : 0; break;
        case sql::ValueKind::text:
        case sql::ValueKind::blob: {
          const auto t = v.as_text();  // a blob's bytes, viewed as chars
          texts[r] = t.data() ? t.data() : &empty;
          length[r] = static_cast<unsigned long>(t.size());
          break;
        }
        case sql::ValueKind::date: times[r] = to_mysql_date(v.as_date()); break;
        case sql::ValueKind::datetime: times[r] = to_mysql_datetime(v.as_datetime()); break;
      }
    }
  }
};

#endif  // ALCHEMY_MYSQL_BULK

constexpr unsigned kBinaryCharset = 63;  // the "binary" character set: BLOB, VARBINARY, BIT
constexpr std::size_t kMinTextBuffer = 64;

}  // namespace alchemy::dialect::mysql::detail

#endif  // ALCHEMY_DIALECT_MYSQL_DETAIL_BIND_HPP_
