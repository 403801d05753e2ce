// SPDX-License-Identifier: MIT
// File: sql/type_traits.hpp
//
// SQL column types and the one customisation point that maps a C++ type to them.
// Specialise `alchemy::TypeTraits<T>` for your own types:
//
//   template <> struct alchemy::TypeTraits<Color> {
//     static constexpr sql::SqlType sql_type{sql::TypeKind::string, 8};
//     static sql::Value to_value(Color c) { return std::string(name(c)); }
//     static Color from_ref(sql::ValueRef r) { return parse_color(r.as_text()); }
//   };
//
// `to_ref(const T&) -> ValueRef` may be given as well; it lets alchemy bind a field without a
// copy and is what the built-in string and blob traits do.
#ifndef ALCHEMY_SQL_TYPE_TRAITS_HPP_
#define ALCHEMY_SQL_TYPE_TRAITS_HPP_

#include <charconv>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>

#include "alchemy/config.hpp"
#include "alchemy/error.hpp"
#include "alchemy/sql/detail/datetime.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy {
namespace sql {

/// The SQL type of a column, as rendered in DDL.
enum class TypeKind : std::uint8_t {
  small_integer, integer, big_integer, boolean, float_, double_, string, text, blob, date, datetime
};

/// A column type: its kind and, for strings, a length (0: none).
struct SqlType {
  TypeKind kind = TypeKind::text;
  int length = 0;
  friend constexpr bool operator==(SqlType, SqlType) = default;
};

constexpr bool is_integer(TypeKind k) noexcept {
  return k == TypeKind::small_integer || k == TypeKind::integer || k == TypeKind::big_integer;
}

/// The value kind a column of this type holds.
constexpr ValueKind value_kind(TypeKind k) noexcept {
  switch (k) {
    case TypeKind::small_integer:
    case TypeKind::integer:
    case TypeKind::big_integer: return ValueKind::integer;
    case TypeKind::boolean: return ValueKind::boolean;
    case TypeKind::float_:
    case TypeKind::double_: return ValueKind::real;
    case TypeKind::string:
    case TypeKind::text: return ValueKind::text;
    case TypeKind::blob: return ValueKind::blob;
    case TypeKind::date: return ValueKind::date;
    case TypeKind::datetime: return ValueKind::datetime;
  }
  return ValueKind::null;
}

namespace detail {
// The conversions' uncommon cases, compiled once (with ALCHEMY_SEPARATE_COMPILATION, once per
// program): the common one, a value already of the field's kind, stays inline.
/// The DataError of a value that cannot be read as `what`.
[[noreturn]] ALCHEMY_INLINE void bad_value(std::string_view what, ValueRef got);
/// The integer in a value that is not an integer: a boolean, decimal text, an exact real.
ALCHEMY_INLINE std::int64_t int_from(ValueRef r);
/// The DataError of an integer that does not fit the field's C++ type.
[[noreturn]] ALCHEMY_INLINE void int_out_of_range();
/// The number in decimal text (PostgreSQL's text form).
ALCHEMY_INLINE double real_from_text(ValueRef r);

template <class Int>
Int to_int(ValueRef r) {
  const std::int64_t v = r.kind() == ValueKind::integer ? r.as_integer() : int_from(r);
  if constexpr (!std::is_same_v<Int, std::int64_t>) {
    if (!std::in_range<Int>(v)) int_out_of_range();
  }
  return static_cast<Int>(v);
}

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void bad_value(std::string_view what, ValueRef got) {
  throw DataError(DatabaseErrorInfo{
      "cannot read a " + std::string(kind_name(got.kind())) + " value as " + std::string(what),
      {}, {}, 0, "alchemy", false, Constraint::unknown});
}

ALCHEMY_INLINE std::int64_t int_from(ValueRef r) {
  std::int64_t v = 0;
  switch (r.kind()) {
    case ValueKind::integer:
    case ValueKind::boolean: v = r.as_integer(); break;
    case ValueKind::text: {
      const auto s = r.as_text();
      if (std::from_chars(s.data(), s.data() + s.size(), v).ec != std::errc{}) bad_value("integer", r);
      break;
    }
    case ValueKind::real: {
      const double d = r.as_real();
      if (!(d >= -9.2233720368547758e18 && d < 9.2233720368547758e18) || d != double(std::int64_t(d)))
        bad_value("integer", r);
      v = static_cast<std::int64_t>(d);
      break;
    }
    default: bad_value("integer", r);
  }
  return v;
}

ALCHEMY_INLINE void int_out_of_range() {
  throw DataError(DatabaseErrorInfo{"integer value out of range for the field's C++ type",
                                    {}, {}, 0, "alchemy", false, Constraint::unknown});
}

ALCHEMY_INLINE double real_from_text(ValueRef r) {
  double d = 0;
  const auto s = r.as_text();
  if (std::from_chars(s.data(), s.data() + s.size(), d).ec != std::errc{}) bad_value("floating point", r);
  return d;
}
#endif  // ALCHEMY_IMPL
}  // namespace detail
}  // namespace sql

/// The customisation point: how a C++ type is stored. See the file comment.
template <class T>
struct TypeTraits;

template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && sizeof(T) <= 8 &&
           !(std::is_unsigned_v<T> && sizeof(T) == 8))
struct TypeTraits<T> {
  static constexpr sql::SqlType sql_type{
      // The smallest signed SQL type that holds every value: uint16_t needs INTEGER, uint32_t BIGINT.
      (sizeof(T) == 1 || (sizeof(T) == 2 && std::is_signed_v<T>)) ? sql::TypeKind::small_integer
      : (sizeof(T) == 2 || (sizeof(T) == 4 && std::is_signed_v<T>)) ? sql::TypeKind::integer
                                                                      : sql::TypeKind::big_integer};
  static sql::ValueRef to_ref(T v) noexcept { return sql::ValueRef::integer(std::int64_t(v)); }
  static sql::Value to_value(T v) noexcept { return std::int64_t(v); }
  static T from_ref(sql::ValueRef r) { return sql::detail::to_int<T>(r); }
};

template <>
struct TypeTraits<bool> {
  static constexpr sql::SqlType sql_type{sql::TypeKind::boolean};
  static sql::ValueRef to_ref(bool v) noexcept { return sql::ValueRef::boolean(v); }
  static sql::Value to_value(bool v) noexcept { return v; }
  static bool from_ref(sql::ValueRef r) {
    if (r.kind() == sql::ValueKind::text) {
      const auto s = r.as_text();  // PostgreSQL's text form
      if (s == "t" || s == "true" || s == "1") return true;
      if (s == "f" || s == "false" || s == "0") return false;
    }
    return sql::detail::to_int<std::int64_t>(r) != 0;
  }
};

template <std::floating_point T>
struct TypeTraits<T> {
  static constexpr sql::SqlType sql_type{sizeof(T) <= 4 ? sql::TypeKind::float_
                                                        : sql::TypeKind::double_};
  static sql::ValueRef to_ref(T v) noexcept { return sql::ValueRef::real(double(v)); }
  static sql::Value to_value(T v) noexcept { return double(v); }
  static T from_ref(sql::ValueRef r) {
    switch (r.kind()) {
      case sql::ValueKind::real: return static_cast<T>(r.as_real());
      case sql::ValueKind::integer: return static_cast<T>(r.as_integer());
      case sql::ValueKind::text: return static_cast<T>(sql::detail::real_from_text(r));
      default: break;
    }
    sql::detail::bad_value("floating point", r);
  }
};

template <>
struct TypeTraits<std::string> {
  static constexpr sql::SqlType sql_type{sql::TypeKind::string};
  static sql::ValueRef to_ref(const std::string& v) noexcept { return sql::ValueRef::text(v); }
  static sql::Value to_value(const std::string& v) { return v; }
  static std::string from_ref(sql::ValueRef r) {
    if (r.kind() == sql::ValueKind::text) return std::string(r.as_text());
    if (r.kind() == sql::ValueKind::blob) {
      const auto b = r.as_blob();
      return std::string(reinterpret_cast<const char*>(b.data()), b.size());
    }
    sql::detail::bad_value("string", r);
  }
};

template <>
struct TypeTraits<Blob> {
  static constexpr sql::SqlType sql_type{sql::TypeKind::blob};
  static sql::ValueRef to_ref(const Blob& v) noexcept { return sql::ValueRef::blob(v); }
  static sql::Value to_value(const Blob& v) { return v; }
  static Blob from_ref(sql::ValueRef r) {
    if (r.kind() == sql::ValueKind::blob) return Blob(r.as_blob().begin(), r.as_blob().end());
    if (r.kind() == sql::ValueKind::text) return Blob(r.as_text().begin(), r.as_text().end());
    sql::detail::bad_value("binary", r);
  }
};

template <>
struct TypeTraits<Date> {
  static constexpr sql::SqlType sql_type{sql::TypeKind::date};
  static sql::ValueRef to_ref(Date v) noexcept { return sql::ValueRef::date(v); }
  static sql::Value to_value(Date v) noexcept { return v; }
  static Date from_ref(sql::ValueRef r) {
    if (r.kind() == sql::ValueKind::date) return r.as_date();
    if (r.kind() == sql::ValueKind::datetime)
      return std::chrono::floor<std::chrono::days>(r.as_datetime());
    if (r.kind() == sql::ValueKind::text)
      if (auto d = sql::detail::parse_date(r.as_text())) return *d;
    sql::detail::bad_value("date", r);
  }
};

template <>
struct TypeTraits<DateTime> {
  static constexpr sql::SqlType sql_type{sql::TypeKind::datetime};
  static sql::ValueRef to_ref(DateTime v) noexcept { return sql::ValueRef::datetime(v); }
  static sql::Value to_value(DateTime v) noexcept { return v; }
  static DateTime from_ref(sql::ValueRef r) {
    if (r.kind() == sql::ValueKind::datetime) return r.as_datetime();
    if (r.kind() == sql::ValueKind::date) return DateTime(r.as_date());
    if (r.kind() == sql::ValueKind::text)
      if (auto t = sql::detail::parse_datetime(r.as_text())) return *t;
    sql::detail::bad_value("datetime", r);
  }
};

/// A C++ type alchemy knows how to store: TypeTraits<T> is specialised for it.
template <class T>
concept ColumnValue = requires(const T& v, sql::ValueRef r) {
  { TypeTraits<T>::sql_type } -> std::convertible_to<sql::SqlType>;
  { TypeTraits<T>::to_value(v) } -> std::convertible_to<sql::Value>;
  { TypeTraits<T>::from_ref(r) } -> std::convertible_to<T>;
};

namespace sql {
/// `std::optional<T>` is a NULL-able column of T; anything else is NOT NULL.
template <class T>
struct Nullable {
  using value_type = T;
  static constexpr bool value = false;
};
template <class T>
struct Nullable<std::optional<T>> {
  using value_type = T;
  static constexpr bool value = true;
};

/// Binds a C++ value without copying it when the traits allow.
template <class T>
inline constexpr bool has_to_ref =
    requires(const T& v) { { TypeTraits<T>::to_ref(v) } -> std::same_as<ValueRef>; };

}  // namespace sql
}  // namespace alchemy

#endif  // ALCHEMY_SQL_TYPE_TRAITS_HPP_
