// SPDX-License-Identifier: MIT
// File: sql/value.hpp
//
// The values that cross the boundary between alchemy and a driver.
//   - `Value` owns its data: bound parameters of compiled statements, filter_by arguments.
//   - `ValueRef` borrows it: the hot paths bind fields and read columns through it without
//     copying strings.
//
//   sql::Value v = std::string("jdoe");
//   sql::ValueRef r = v.ref();          // r.text() == "jdoe", no copy
#ifndef ALCHEMY_SQL_VALUE_HPP_
#define ALCHEMY_SQL_VALUE_HPP_

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace alchemy {

/// Binary data (SQLAlchemy's LargeBinary).
using Blob = std::vector<std::uint8_t>;
/// A calendar date (SQLAlchemy's Date).
using Date = std::chrono::sys_days;
/// A timestamp without time zone, microsecond precision (SQLAlchemy's DateTime).
using DateTime = std::chrono::sys_time<std::chrono::microseconds>;

namespace sql {

/// What kind of value a Value or ValueRef holds.
enum class ValueKind : std::uint8_t { null, integer, real, boolean, text, blob, date, datetime };

constexpr std::string_view kind_name(ValueKind k) noexcept {
  switch (k) {
    case ValueKind::null: return "NULL";
    case ValueKind::integer: return "integer";
    case ValueKind::real: return "floating point";
    case ValueKind::boolean: return "boolean";
    case ValueKind::text: return "string";
    case ValueKind::blob: return "binary";
    case ValueKind::date: return "date";
    case ValueKind::datetime: return "datetime";
  }
  return "?";
}

/// A borrowed value: cheap to copy, points into a Value, a model field or a driver's row buffer.
class ValueRef {
 public:
  constexpr ValueRef() noexcept = default;
  constexpr ValueRef(std::nullptr_t) noexcept {}
  static ValueRef integer(std::int64_t v) noexcept { ValueRef r(ValueKind::integer); r.i_ = v; return r; }
  static ValueRef real(double v) noexcept { ValueRef r(ValueKind::real); r.d_ = v; return r; }
  static ValueRef boolean(bool v) noexcept { ValueRef r(ValueKind::boolean); r.i_ = v; return r; }
  static ValueRef text(std::string_view v) noexcept {
    ValueRef r(ValueKind::text); r.p_ = v.data(); r.n_ = v.size(); return r;
  }
  static ValueRef blob(std::span<const std::uint8_t> v) noexcept {
    ValueRef r(ValueKind::blob); r.p_ = reinterpret_cast<const char*>(v.data()); r.n_ = v.size();
    return r;
  }
  static ValueRef date(Date v) noexcept {
    ValueRef r(ValueKind::date); r.i_ = v.time_since_epoch().count(); return r;
  }
  static ValueRef datetime(DateTime v) noexcept {
    ValueRef r(ValueKind::datetime); r.i_ = v.time_since_epoch().count(); return r;
  }

  ValueKind kind() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == ValueKind::null; }
  std::int64_t as_integer() const noexcept { return i_; }
  double as_real() const noexcept { return d_; }
  bool as_boolean() const noexcept { return i_ != 0; }
  std::string_view as_text() const noexcept { return {p_, n_}; }
  std::span<const std::uint8_t> as_blob() const noexcept {
    return {reinterpret_cast<const std::uint8_t*>(p_), n_};
  }
  Date as_date() const noexcept { return Date(std::chrono::days(i_)); }
  DateTime as_datetime() const noexcept { return DateTime(std::chrono::microseconds(i_)); }

 private:
  explicit constexpr ValueRef(ValueKind k) noexcept : kind_(k) {}
  ValueKind kind_ = ValueKind::null;
  union {
    std::int64_t i_ = 0;
    double d_;
  };
  const char* p_ = nullptr;
  std::size_t n_ = 0;
};

/// An owned value: NULL, integer, real, boolean, text, blob, date or datetime.
class Value {
 public:
  Value() noexcept = default;
  Value(std::nullptr_t) noexcept {}
  template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  Value(I v) noexcept : v_(static_cast<std::int64_t>(v)) {}
  template <class F>
    requires std::is_floating_point_v<F>
  Value(F v) noexcept : v_(static_cast<double>(v)) {}
  template <class B>
    requires std::is_same_v<B, bool>
  Value(B v) noexcept : v_(v) {}
  Value(std::string v) noexcept : v_(std::move(v)) {}
  Value(std::string_view v) : v_(std::string(v)) {}
  Value(const char* v) : v_(std::string(v)) {}
  Value(Blob v) noexcept : v_(std::move(v)) {}
  Value(Date v) noexcept : v_(v) {}
  Value(DateTime v) noexcept : v_(v) {}
  explicit Value(ValueRef r) {
    switch (r.kind()) {
      case ValueKind::null: break;
      case ValueKind::integer: v_ = r.as_integer(); break;
      case ValueKind::real: v_ = r.as_real(); break;
      case ValueKind::boolean: v_ = r.as_boolean(); break;
      case ValueKind::text: v_ = std::string(r.as_text()); break;
      case ValueKind::blob: v_ = Blob(r.as_blob().begin(), r.as_blob().end()); break;
      case ValueKind::date: v_ = r.as_date(); break;
      case ValueKind::datetime: v_ = r.as_datetime(); break;
    }
  }

  ValueKind kind() const noexcept { return static_cast<ValueKind>(v_.index()); }
  bool is_null() const noexcept { return kind() == ValueKind::null; }
  std::int64_t as_integer() const { return std::get<std::int64_t>(v_); }
  double as_real() const { return std::get<double>(v_); }
  bool as_boolean() const { return std::get<bool>(v_); }
  const std::string& as_text() const { return std::get<std::string>(v_); }
  const Blob& as_blob() const { return std::get<Blob>(v_); }
  Date as_date() const { return std::get<Date>(v_); }
  DateTime as_datetime() const { return std::get<DateTime>(v_); }

  /// A borrowed view of this value; valid while this Value lives unchanged.
  ValueRef ref() const noexcept {
    switch (kind()) {
      case ValueKind::null: return {};
      case ValueKind::integer: return ValueRef::integer(*std::get_if<std::int64_t>(&v_));
      case ValueKind::real: return ValueRef::real(*std::get_if<double>(&v_));
      case ValueKind::boolean: return ValueRef::boolean(*std::get_if<bool>(&v_));
      case ValueKind::text: return ValueRef::text(*std::get_if<std::string>(&v_));
      case ValueKind::blob: return ValueRef::blob(*std::get_if<Blob>(&v_));
      case ValueKind::date: return ValueRef::date(*std::get_if<Date>(&v_));
      case ValueKind::datetime: return ValueRef::datetime(*std::get_if<DateTime>(&v_));
    }
    return {};
  }

  friend bool operator==(const Value&, const Value&) = default;

 private:
  // The order matches ValueKind.
  std::variant<std::monostate, std::int64_t, double, bool, std::string, Blob, Date, DateTime> v_;
};

}  // namespace sql
}  // namespace alchemy

#endif  // ALCHEMY_SQL_VALUE_HPP_
