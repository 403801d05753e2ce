// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/mapper.hpp>.
//
// The fields the session reads, snapshots and compares without a virtual call. A column whose
// field has one of the common C++ types (std::int64_t, int, std::string, and their
// std::optional) is described once, when its model registers, by a DirectField: the type's tag
// and the field's pointer to member of ModelBase. Loading a row, taking a snapshot and finding
// the changed columns then switch on the tag and reach the field through the pointer, in code
// compiled once for every model, instead of two virtual calls per column through FieldAccess
// (whose FieldAccessImpl<F> does the same thing, type by type). Other field types, and a NULL or
// a value of another kind in the result, go through FieldAccess as before; both ways store and
// compare exactly the same values (tests/unit/test_direct_field.cpp checks them against each
// other).
#ifndef ALCHEMY_ORM_DETAIL_DIRECT_FIELD_HPP_
#define ALCHEMY_ORM_DETAIL_DIRECT_FIELD_HPP_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "alchemy/dialect/driver.hpp"
#include "alchemy/orm/detail/snapshot_cell.hpp"
#include "alchemy/orm/model_base.hpp"
#include "alchemy/sql/type_traits.hpp"

namespace alchemy::orm::detail {

/// A column's field, when its type is one the session handles without FieldAccess.
struct DirectField {
  enum class Kind : std::uint8_t { none, int64, int32, optional_int64, optional_int32, text, optional_text };
  union Member {
    std::int64_t ModelBase::*int64;
    std::int32_t ModelBase::*int32;
    std::optional<std::int64_t> ModelBase::*optional_int64;
    std::optional<std::int32_t> ModelBase::*optional_int32;
    std::string ModelBase::*text;
    std::optional<std::string> ModelBase::*optional_text;
  };

  Kind kind = Kind::none;
  Member member{};
  /// The model object as its ModelBase (set for every field of a model, direct or not).
  ModelBase* (*base)(void*) = nullptr;

  /// The description of a field of type F at `m` (kind none when F is not one of the types).
  template <class F>
  static DirectField of(F ModelBase::*m, ModelBase* (*base)(void*)) noexcept {
    DirectField d;
    d.base = base;
    if constexpr (std::is_same_v<F, std::int64_t>) {
      d.kind = Kind::int64;
      d.member.int64 = m;
    } else if constexpr (std::is_same_v<F, std::int32_t>) {
      d.kind = Kind::int32;
      d.member.int32 = m;
    } else if constexpr (std::is_same_v<F, std::optional<std::int64_t>>) {
      d.kind = Kind::optional_int64;
      d.member.optional_int64 = m;
    } else if constexpr (std::is_same_v<F, std::optional<std::int32_t>>) {
      d.kind = Kind::optional_int32;
      d.member.optional_int32 = m;
    } else if constexpr (std::is_same_v<F, std::string>) {
      d.kind = Kind::text;
      d.member.text = m;
    } else if constexpr (std::is_same_v<F, std::optional<std::string>>) {
      d.kind = Kind::optional_text;
      d.member.optional_text = m;
    }
    return d;
  }
};

/// Stores the integer `i` (read from the database) into an integer field, converted as
/// FieldAccess::read would (an int that cannot hold it is a DataError). False, with the field
/// untouched, when `d` is not a direct integer field.
inline bool direct_set_integer(const DirectField& d, ModelBase* b, std::int64_t i) {
  using K = DirectField::Kind;
  switch (d.kind) {
    case K::int64: b->*d.member.int64 = i; return true;
    case K::int32: b->*d.member.int32 = TypeTraits<std::int32_t>::from_ref(sql::ValueRef::integer(i)); return true;
    case K::optional_int64: b->*d.member.optional_int64 = i; return true;
    case K::optional_int32:
      b->*d.member.optional_int32 = TypeTraits<std::int32_t>::from_ref(sql::ValueRef::integer(i));
      return true;
    case K::none:
    case K::text:
    case K::optional_text: return false;
  }
  return false;
}

/// Reads result column `index` of `row` (column type `hint`) into the field, as
/// FieldAccess::read_column would, and returns the bytes of text it stored (0 for an
/// integer). Nothing, with the field untouched, when `d` is not direct or the driver cannot
/// hand the value over as an integer or text (a NULL, another kind): the caller then reads it
/// through FieldAccess.
inline std::optional<std::size_t> direct_read(const DirectField& d, ModelBase* b, dialect::Statement& row, int index,
                                              sql::TypeKind hint) {
  using K = DirectField::Kind;
  std::string_view t;
  switch (d.kind) {
    case K::none: return std::nullopt;
    case K::text:
      if (!row.text_column(index, hint, t)) return std::nullopt;
      (b->*d.member.text).assign(t);
      return t.size();
    case K::optional_text:
      if (!row.text_column(index, hint, t)) return std::nullopt;
      (b->*d.member.optional_text).emplace(t);
      return t.size();
    case K::int64:
    case K::int32:
    case K::optional_int64:
    case K::optional_int32: {
      std::int64_t i = 0;
      if (!row.integer_column(index, hint, i) || !direct_set_integer(d, b, i)) return std::nullopt;
      return 0;
    }
  }
  return std::nullopt;
}

/// The bytes the field's text takes in a snapshot (0 for NULL), or nothing when `d` is not
/// a direct text field.
inline std::optional<std::size_t> direct_bytes(const DirectField& d, const ModelBase* b) noexcept {
  using K = DirectField::Kind;
  if (d.kind == K::text) return (b->*d.member.text).size();
  if (d.kind == K::optional_text) {
    const auto& f = b->*d.member.optional_text;
    return f ? f->size() : 0;
  }
  return std::nullopt;
}

namespace direct_impl {
template <class I>
void put_optional_integer(SnapCell& cell, const std::optional<I>& f) noexcept {
  if (f) put_integer_cell(cell, *f);
  else put_null_cell(cell);
}
template <class I>
bool same_optional_integer(const SnapCell& cell, const std::optional<I>& f) noexcept {
  return f ? cell.kind == sql::ValueKind::integer && cell.i == *f : cell.kind == sql::ValueKind::null;
}
inline bool same_text(const SnapCell& cell, const std::string& s) noexcept {
  return cell.kind == sql::ValueKind::text && snap_equal(cell.p, cell.n, s.data(), s.size());
}
}  // namespace direct_impl

/// Writes the field's snapshot cell, its text at `text` (which moves past it), as
/// FieldAccess::capture would; false, writing nothing, when `d` is not direct.
inline bool direct_capture(const DirectField& d, const ModelBase* b, SnapCell& cell, char*& text) noexcept {
  using K = DirectField::Kind;
  switch (d.kind) {
    case K::none: return false;
    case K::int64: put_integer_cell(cell, b->*d.member.int64); return true;
    case K::int32: put_integer_cell(cell, b->*d.member.int32); return true;
    case K::optional_int64: direct_impl::put_optional_integer(cell, b->*d.member.optional_int64); return true;
    case K::optional_int32: direct_impl::put_optional_integer(cell, b->*d.member.optional_int32); return true;
    case K::text: put_text_cell(cell, b->*d.member.text, text); return true;
    case K::optional_text: {
      const auto& f = b->*d.member.optional_text;
      if (f) put_text_cell(cell, *f, text);
      else put_null_cell(cell);
      return true;
    }
  }
  return false;
}

/// Whether the field still holds the cell's value, as FieldAccess::same would say. `d` is
/// direct (kind not none).
inline bool direct_same(const DirectField& d, const ModelBase* b, const SnapCell& cell) noexcept {
  using K = DirectField::Kind;
  switch (d.kind) {
    case K::int64: return cell.kind == sql::ValueKind::integer && cell.i == b->*d.member.int64;
    case K::int32: return cell.kind == sql::ValueKind::integer && cell.i == b->*d.member.int32;
    case K::optional_int64: return direct_impl::same_optional_integer(cell, b->*d.member.optional_int64);
    case K::optional_int32: return direct_impl::same_optional_integer(cell, b->*d.member.optional_int32);
    case K::text: return direct_impl::same_text(cell, b->*d.member.text);
    case K::optional_text: {
      const auto& f = b->*d.member.optional_text;
      return f ? direct_impl::same_text(cell, *f) : cell.kind == sql::ValueKind::null;
    }
    case K::none: break;
  }
  return false;
}

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_DIRECT_FIELD_HPP_
