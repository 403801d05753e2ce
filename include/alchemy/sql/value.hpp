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
#include <vector>

#include "alchemy/config.hpp"
#if ALCHEMY_IMPL
#include <variant>  // std::bad_variant_access
#endif

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

namespace detail {
/// What Value::as_*() throws for a value of another kind (as std::get did when Value held a
/// std::variant).
[[noreturn]] ALCHEMY_INLINE void wrong_value_kind();
}  // namespace detail

/// An owned value: NULL, integer, real, boolean, text, blob, date or datetime.
///
/// A tagged union written out rather than a std::variant: every translation unit that copies or
/// compares values instantiated the variant's visitors, a measurable part of what alchemy cost a
/// build (docs/performance.md, "Compile cost").
class Value {
 public:
  Value() noexcept {}
  Value(std::nullptr_t) noexcept {}
  template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  Value(I v) noexcept : kind_(ValueKind::integer), i_(static_cast<std::int64_t>(v)) {}
  template <class F>
    requires std::is_floating_point_v<F>
  Value(F v) noexcept : kind_(ValueKind::real), d_(static_cast<double>(v)) {}
  template <class B>
    requires std::is_same_v<B, bool>
  Value(B v) noexcept : kind_(ValueKind::boolean), b_(v) {}
  Value(std::string v) noexcept : kind_(ValueKind::text), s_(std::move(v)) {}
  Value(std::string_view v) : kind_(ValueKind::text), s_(v) {}
  Value(const char* v) : kind_(ValueKind::text), s_(v) {}
  Value(Blob v) noexcept : kind_(ValueKind::blob), blob_(std::move(v)) {}
  Value(Date v) noexcept : kind_(ValueKind::date), i_(v.time_since_epoch().count()) {}
  Value(DateTime v) noexcept : kind_(ValueKind::datetime), i_(v.time_since_epoch().count()) {}
  explicit Value(ValueRef r) {
    switch (r.kind()) {
      case ValueKind::null: break;
      case ValueKind::integer:
      case ValueKind::date:
      case ValueKind::datetime: i_ = r.as_integer(); break;
      case ValueKind::real: d_ = r.as_real(); break;
      case ValueKind::boolean: b_ = r.as_boolean(); break;
      case ValueKind::text: new (&s_) std::string(r.as_text()); break;
      case ValueKind::blob: new (&blob_) Blob(r.as_blob().begin(), r.as_blob().end()); break;
    }
    kind_ = r.kind();
  }

  Value(const Value& o) { copy_from(o); }
  Value(Value&& o) noexcept { move_from(std::move(o)); }
  Value& operator=(const Value& o) {
    if (this != &o) {
      Value copy(o);  // may throw; this is left as it was
      reset();
      move_from(std::move(copy));
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      reset();
      move_from(std::move(o));
    }
    return *this;
  }
  ~Value() { reset(); }

  /// `*this = Value(v)` without the temporary (the session sets a loaded object's key so).
  void set_integer(std::int64_t v) noexcept {
    reset();
    i_ = v;
    kind_ = ValueKind::integer;
  }

  ValueKind kind() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == ValueKind::null; }
  std::int64_t as_integer() const {
    expect(ValueKind::integer);
    return i_;
  }
  double as_real() const {
    expect(ValueKind::real);
    return d_;
  }
  bool as_boolean() const {
    expect(ValueKind::boolean);
    return b_;
  }
  const std::string& as_text() const {
    expect(ValueKind::text);
    return s_;
  }
  const Blob& as_blob() const {
    expect(ValueKind::blob);
    return blob_;
  }
  Date as_date() const {
    expect(ValueKind::date);
    return Date(std::chrono::days(i_));
  }
  DateTime as_datetime() const {
    expect(ValueKind::datetime);
    return DateTime(std::chrono::microseconds(i_));
  }

  /// A borrowed view of this value; valid while this Value lives unchanged.
  ValueRef ref() const noexcept {
    switch (kind_) {
      case ValueKind::null: return {};
      case ValueKind::integer: return ValueRef::integer(i_);
      case ValueKind::real: return ValueRef::real(d_);
      case ValueKind::boolean: return ValueRef::boolean(b_);
      case ValueKind::text: return ValueRef::text(s_);
      case ValueKind::blob: return ValueRef::blob(blob_);
      case ValueKind::date: return ValueRef::date(Date(std::chrono::days(i_)));
      case ValueKind::datetime: return ValueRef::datetime(DateTime(std::chrono::microseconds(i_)));
    }
    return {};
  }

  /// The same kind and the same value (a NaN equals nothing, as with std::variant).
  friend bool operator==(const Value& a, const Value& b) noexcept {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
      case ValueKind::null: return true;
      case ValueKind::real: return a.d_ == b.d_;
      case ValueKind::boolean: return a.b_ == b.b_;
      case ValueKind::text: return a.s_ == b.s_;
      case ValueKind::blob: return a.blob_ == b.blob_;
      default: return a.i_ == b.i_;  // integer, date, datetime
    }
  }

 private:
  void expect(ValueKind k) const {
    if (kind_ != k) detail::wrong_value_kind();
  }
  void reset() noexcept {
    if (kind_ == ValueKind::text) s_.~basic_string();
    else if (kind_ == ValueKind::blob) blob_.~Blob();
    kind_ = ValueKind::null;
  }
  // Both leave `this`, which holds nothing, with o's kind and value; only o's active member is read.
  void copy_from(const Value& o) {
    switch (o.kind_) {
      case ValueKind::null: break;
      case ValueKind::real: d_ = o.d_; break;
      case ValueKind::boolean: b_ = o.b_; break;
      case ValueKind::text: new (&s_) std::string(o.s_); break;
      case ValueKind::blob: new (&blob_) Blob(o.blob_); break;
      default: i_ = o.i_; break;  // integer, date, datetime
    }
    kind_ = o.kind_;
  }
  void move_from(Value&& o) noexcept {
    switch (o.kind_) {
      case ValueKind::null: break;
      case ValueKind::real: d_ = o.d_; break;
      case ValueKind::boolean: b_ = o.b_; break;
      case ValueKind::text: new (&s_) std::string(std::move(o.s_)); break;
      case ValueKind::blob: new (&blob_) Blob(std::move(o.blob_)); break;
      default: i_ = o.i_; break;
    }
    kind_ = o.kind_;
  }

  ValueKind kind_ = ValueKind::null;
  union {
    std::int64_t i_ = 0;  ///< integer, and the count of a date or datetime
    double d_;
    bool b_;
    std::string s_;
    Blob blob_;
  };
};

/// Views of `values`, in order, for engine::Connection::run() and run_batch(); they refer into
/// `values`, which must outlive them.
inline std::vector<ValueRef> refs_of(std::span<const Value> values) {
  std::vector<ValueRef> refs;
  refs.reserve(values.size());
  for (const auto& v : values) refs.push_back(v.ref());
  return refs;
}

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void detail::wrong_value_kind() { throw std::bad_variant_access(); }
#endif  // ALCHEMY_IMPL

}  // namespace sql
}  // namespace alchemy

#endif  // ALCHEMY_SQL_VALUE_HPP_
