// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/mapper.hpp>.
//
// One column of a snapshot (orm/detail/snapshot.hpp): a value as the database would store it,
// in 16 bytes, its text or bytes in the snapshot's own block. The field accesses write and
// compare cells (FieldAccess::capture and same), so this is all they need to know of snapshots.
#ifndef ALCHEMY_ORM_DETAIL_SNAPSHOT_CELL_HPP_
#define ALCHEMY_ORM_DETAIL_SNAPSHOT_CELL_HPP_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>

#include "alchemy/sql/value.hpp"

namespace alchemy::orm::detail {

/// Whether `a` (n bytes) and `b` (m bytes) hold the same bytes: the short strings most
/// columns hold without a call to memcmp.
inline bool snap_equal(const char* a, std::size_t n, const char* b, std::size_t m) noexcept {
  if (n != m) return false;
  if (n > 16) return std::memcmp(a, b, n) == 0;
  if (n >= 8) {
    std::uint64_t a0, a1, b0, b1;
    std::memcpy(&a0, a, 8);
    std::memcpy(&a1, a + n - 8, 8);
    std::memcpy(&b0, b, 8);
    std::memcpy(&b1, b + n - 8, 8);
    return a0 == b0 && a1 == b1;
  }
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return false;
  return true;
}

/// One column of a snapshot. Text and blob cells point into their own block.
struct SnapCell {
  union {
    std::int64_t i;  ///< integer, boolean, date (days), datetime (microseconds)
    double d;        ///< real
    const char* p;   ///< text, blob
  };
  std::uint32_t n;   ///< bytes of text or blob
  sql::ValueKind kind;

  sql::ValueRef ref() const noexcept {
    switch (kind) {
      case sql::ValueKind::null: return {};
      case sql::ValueKind::integer: return sql::ValueRef::integer(i);
      case sql::ValueKind::real: return sql::ValueRef::real(d);
      case sql::ValueKind::boolean: return sql::ValueRef::boolean(i != 0);
      case sql::ValueKind::text: return sql::ValueRef::text({p, n});
      case sql::ValueKind::blob:
        return sql::ValueRef::blob({reinterpret_cast<const std::uint8_t*>(p), n});
      case sql::ValueKind::date: return sql::ValueRef::date(Date(std::chrono::days(i)));
      case sql::ValueKind::datetime: return sql::ValueRef::datetime(DateTime(std::chrono::microseconds(i)));
    }
    return {};
  }

  /// Whether `v` is this cell's value (as the field's operator== would say for the built-in
  /// types: a NaN is never the same, 0.0 and -0.0 are).
  bool same(const sql::ValueRef& v) const noexcept {
    if (v.kind() != kind) return false;
    switch (kind) {
      case sql::ValueKind::null: return true;
      case sql::ValueKind::real: return v.as_real() == d;
      case sql::ValueKind::text: {
        const auto t = v.as_text();
        return snap_equal(p, n, t.data(), t.size());
      }
      case sql::ValueKind::blob: {
        const auto b = v.as_blob();
        return snap_equal(p, n, reinterpret_cast<const char*>(b.data()), b.size());
      }
      case sql::ValueKind::boolean: return v.as_boolean() == (i != 0);
      case sql::ValueKind::integer:
      case sql::ValueKind::date:
      case sql::ValueKind::datetime: return v.as_integer() == i;
    }
    return false;
  }
};
static_assert(sizeof(SnapCell) == 16, "a snapshot cell is two words");

inline bool snap_has_bytes(sql::ValueKind k) noexcept { return k == sql::ValueKind::text || k == sql::ValueKind::blob; }

/// The text or blob bytes of `v` (0 for other kinds).
inline std::size_t snap_bytes_of(const sql::ValueRef& v) noexcept {
  if (v.kind() == sql::ValueKind::text) return v.as_text().size();
  if (v.kind() == sql::ValueKind::blob) return v.as_blob().size();
  return 0;
}

/// Copies n bytes: the short strings most columns hold without a call to memcpy.
inline void snap_copy(char* dst, const char* src, std::size_t n) noexcept {
  if (n > 16) {
    std::memcpy(dst, src, n);
  } else if (n >= 8) {
    std::uint64_t a, b;
    std::memcpy(&a, src, 8);
    std::memcpy(&b, src + n - 8, 8);
    std::memcpy(dst, &a, 8);
    std::memcpy(dst + n - 8, &b, 8);
  } else {
    for (std::size_t i = 0; i < n; ++i) dst[i] = src[i];
  }
}

/// Writes a cell of kind `kind` holding `i` (integer, boolean, date, datetime) or nothing (null).
inline void put_fixed_cell(SnapCell& cell, sql::ValueKind kind, std::int64_t i) noexcept {
  SnapCell c;
  c.i = i;
  c.n = 0;
  c.kind = kind;
  ::new (&cell) SnapCell(c);
}
inline void put_null_cell(SnapCell& cell) noexcept { put_fixed_cell(cell, sql::ValueKind::null, 0); }
inline void put_integer_cell(SnapCell& cell, std::int64_t i) noexcept { put_fixed_cell(cell, sql::ValueKind::integer, i); }

/// Writes a text or blob cell of the n bytes at `src`, copied to `text`, which moves past them.
inline void put_bytes_cell(SnapCell& cell, sql::ValueKind kind, const char* src, std::size_t n, char*& text) noexcept {
  snap_copy(text, src, n);
  SnapCell c;
  c.p = text;
  c.n = std::uint32_t(n);
  c.kind = kind;
  text += n;
  ::new (&cell) SnapCell(c);
}
inline void put_text_cell(SnapCell& cell, std::string_view s, char*& text) noexcept {
  put_bytes_cell(cell, sql::ValueKind::text, s.data(), s.size(), text);
}

/// Writes `v` into `cell`, its bytes at `text`, which moves past them.
inline void put_cell(SnapCell& cell, const sql::ValueRef& v, char*& text) noexcept {
  switch (v.kind()) {
    case sql::ValueKind::null: return put_null_cell(cell);
    case sql::ValueKind::integer:
    case sql::ValueKind::date:
    case sql::ValueKind::datetime: return put_fixed_cell(cell, v.kind(), v.as_integer());
    case sql::ValueKind::boolean: return put_fixed_cell(cell, v.kind(), v.as_boolean() ? 1 : 0);
    case sql::ValueKind::real: {
      SnapCell c;
      c.d = v.as_real();
      c.n = 0;
      c.kind = sql::ValueKind::real;
      ::new (&cell) SnapCell(c);
      return;
    }
    case sql::ValueKind::text: return put_text_cell(cell, v.as_text(), text);
    case sql::ValueKind::blob: {
      const auto b = v.as_blob();
      return put_bytes_cell(cell, sql::ValueKind::blob, reinterpret_cast<const char*>(b.data()), b.size(), text);
    }
  }
}

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_SNAPSHOT_CELL_HPP_
