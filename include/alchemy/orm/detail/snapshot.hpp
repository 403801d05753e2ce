// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/instance_state.hpp>.
//
// An object's snapshot: its column values as last loaded or flushed. Change detection compares
// the object with it, rollback() writes it back, and an UPDATE or DELETE takes its WHERE key
// (and version counter) from it.
//
// A snapshot is one block: a header, a 16-byte cell per column, then the text and bytes the
// cells point to. Taking one costs a copy of the column values into that block, not a second
// model object with a heap allocation for every string longer than its small-string buffer.
// The session keeps the blocks of its objects in a SnapshotArena (64 KiB chunks, then 2 MiB ones
// from orm/detail/big_pages.hpp once a session has filled 1 MiB, freed together), so loading N
// objects allocates no snapshot one by one, and closing the session frees them in a few calls.
// Blocks that outlive their session (a detached object the program still holds), and the copies
// a transaction or savepoint keeps for rollback, are single heap allocations.
#ifndef ALCHEMY_ORM_DETAIL_SNAPSHOT_HPP_
#define ALCHEMY_ORM_DETAIL_SNAPSHOT_HPP_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/orm/detail/big_pages.hpp"
#include "alchemy/orm/detail/snapshot_cell.hpp"
#include "alchemy/orm/mapper.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy::orm {
struct InstanceState;
}  // namespace alchemy::orm

namespace alchemy::orm::detail {

/// A snapshot block: this header, `columns` cells, then the bytes of their text and blobs.
struct SnapBlock {
  /// What an arena block is to its owner.
  enum Role : std::uint16_t { snapshot = 0, before_image = 1 };
  InstanceState* owner;    ///< arena blocks: the state this block belongs to; null once freed
  std::uint32_t size;      ///< bytes the block occupies (a multiple of 8)
  std::uint16_t columns;
  Role role;               ///< which of the owner's pointers points here

  SnapCell* cells() noexcept {
    return std::launder(reinterpret_cast<SnapCell*>(reinterpret_cast<std::byte*>(this) + sizeof(SnapBlock)));
  }
  const SnapCell* cells() const noexcept { return const_cast<SnapBlock*>(this)->cells(); }
  const SnapCell& cell(std::size_t i) const noexcept { return cells()[i]; }
};
static_assert(sizeof(SnapBlock) == 16 && alignof(SnapBlock) <= 8, "cells follow the header unpadded");

/// A snapshot block on the heap, owned: the copies rollback() and savepoints restore from, and
/// the snapshot of an object that left its session.
class HeapSnapshot {
 public:
  HeapSnapshot() noexcept = default;
  explicit HeapSnapshot(SnapBlock* b) noexcept : b_(b) {}
  HeapSnapshot(HeapSnapshot&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  HeapSnapshot& operator=(HeapSnapshot&& o) noexcept {
    if (this != &o) {
      reset();
      b_ = std::exchange(o.b_, nullptr);
    }
    return *this;
  }
  HeapSnapshot(const HeapSnapshot&) = delete;
  HeapSnapshot& operator=(const HeapSnapshot&) = delete;
  ~HeapSnapshot() { reset(); }

  const SnapBlock* get() const noexcept { return b_; }
  explicit operator bool() const noexcept { return b_ != nullptr; }
  SnapBlock* release() noexcept { return std::exchange(b_, nullptr); }
  void reset() noexcept {
    if (b_) ::operator delete(b_);
    b_ = nullptr;
  }

  /// A heap copy of `src` (null for null).
  ALCHEMY_INLINE static HeapSnapshot copy_of(const SnapBlock* src);

 private:
  SnapBlock* b_ = nullptr;
};

/// The blocks of one session's snapshots: chunks filled front to back, 64 KiB ones for the
/// first MiB, then big pieces. A block whose object took a larger snapshot, or left, stays as
/// garbage until compact() moves the live ones to fresh chunks (the session does it once garbage
/// outweighs live blocks).
class SnapshotArena {
 public:
  SnapshotArena() = default;
  SnapshotArena(const SnapshotArena&) = delete;
  SnapshotArena& operator=(const SnapshotArena&) = delete;
  ~SnapshotArena() { clear(); }

  /// An uninitialised block of `bytes` (a multiple of 8) for `owner`.
  SnapBlock* allocate(std::size_t bytes, InstanceState* owner) {
    if (chunks_.empty() || chunks_.back().cap - chunks_.back().used < bytes) add_chunk(bytes);
    Chunk& c = chunks_.back();
    auto* b = ::new (c.data + c.used) SnapBlock{owner, std::uint32_t(bytes), 0, SnapBlock::snapshot};
    c.used += bytes;
    live_ += bytes;
    return b;
  }
  /// `b` holds no snapshot any more.
  void release(SnapBlock* b) noexcept {
    b->owner = nullptr;
    live_ -= b->size;
    garbage_ += b->size;
  }
  bool wants_compaction() const noexcept { return garbage_ > kMinGarbage && garbage_ > live_; }
  /// Moves the live blocks to fresh chunks and points their owners' `snapshot` (or
  /// `before_transaction`) at the copies (defined in orm/instance_state.hpp, which knows owners).
  ALCHEMY_INLINE void compact();
  /// Frees every chunk. No state may still point into them.
  void clear() noexcept {
    for (const Chunk& c : chunks_) free_chunk(c);
    chunks_.clear();
    live_ = garbage_ = 0;
  }
  std::size_t live_bytes() const noexcept { return live_; }
  std::size_t garbage_bytes() const noexcept { return garbage_; }
  /// How many times compact() ran (for tests).
  std::size_t compactions() const noexcept { return compactions_; }

 private:
  static constexpr std::size_t kChunk = 64 * 1024;
  static constexpr std::size_t kMinGarbage = 1024 * 1024;
  struct Chunk {
    std::byte* data = nullptr;
    std::size_t used = 0;
    std::size_t cap = 0;
    bool big = false;  ///< from big_alloc()
  };
  void add_chunk(std::size_t at_least) {
    // Room first, so that the push_back below cannot throw and leak the chunk.
    if (chunks_.size() == chunks_.capacity()) chunks_.reserve(chunks_.empty() ? 16 : 2 * chunks_.size());
    chunks_.push_back(make_chunk(at_least));
  }
  /// A chunk of at least `at_least` (> 0) bytes: from operator new for the arena's first MiB,
  /// then big pieces.
  Chunk make_chunk(std::size_t at_least) {
    Chunk c;
    if (small_bytes_ < kHeapFirst) {
      c.cap = at_least > kChunk ? at_least : kChunk;
      c.data = static_cast<std::byte*>(::operator new(c.cap));
      small_bytes_ += c.cap;
    } else {
      c.cap = big_size(at_least);
      c.data = static_cast<std::byte*>(big_alloc(c.cap));
      c.big = true;
    }
    return c;
  }
  static void free_chunk(const Chunk& c) noexcept {
    if (c.big) big_free(c.data, c.cap);
    else ::operator delete(c.data);
  }

  std::vector<Chunk> chunks_;
  std::size_t small_bytes_ = 0;  ///< bytes of operator new chunks taken so far
  std::size_t live_ = 0;
  std::size_t garbage_ = 0;
  std::size_t compactions_ = 0;
};

/// The bytes a snapshot of `obj` (an object of `m`) needs.
ALCHEMY_INLINE std::size_t snapshot_size(const Mapper& m, const void* obj);
/// The bytes a snapshot of an object of `m` needs whose text and blob columns hold `text`
/// bytes in all, none more than 4 GiB (what snapshot_size() finds by asking the fields).
ALCHEMY_INLINE std::size_t snapshot_size_for(const Mapper& m, std::size_t text);
/// Writes the snapshot of `obj` into `b`, which has room for snapshot_size(m, obj) bytes.
ALCHEMY_INLINE void fill_snapshot(const Mapper& m, const void* obj, SnapBlock* b);
/// A bit per column of `m` (bit i & 63) whose field in `obj` differs from the snapshot.
ALCHEMY_INLINE std::uint64_t changed_columns(const Mapper& m, const void* obj, const SnapBlock* b);
/// Writes the snapshot's values into the column fields of `obj`.
ALCHEMY_INLINE void restore_columns(const Mapper& m, void* obj, const SnapBlock* b);
/// Copies `src` (any block) into `dst`, which has room for src->size bytes; the cells point into
/// `dst`. Returns `dst` as a block; its owner is `owner`.
ALCHEMY_INLINE SnapBlock* copy_snapshot(const SnapBlock* src, void* dst, InstanceState* owner) noexcept;
/// The bytes of a block of `m`'s snapshot with column `column` replaced by `v`.
ALCHEMY_INLINE std::size_t snapshot_size_with(const Mapper& m, const SnapBlock* b, std::size_t column, sql::ValueRef v);
/// Writes into `dst` the snapshot `src` with column `column` replaced by `v`.
ALCHEMY_INLINE void fill_snapshot_with(const SnapBlock* src, SnapBlock* dst, std::size_t column, sql::ValueRef v);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
namespace snapshot_impl {
inline std::size_t round8(std::size_t n) noexcept { return (n + 7) & ~std::size_t{7}; }
}  // namespace snapshot_impl

ALCHEMY_INLINE std::size_t snapshot_size_for(const Mapper& m, std::size_t text) {
  const std::size_t n = m.column_count();
  if (n > 0xFFFF) throw ArgumentError("model " + m.class_name() + " has more than 65,535 columns");
  return snapshot_impl::round8(sizeof(SnapBlock) + n * sizeof(SnapCell) + text);
}

ALCHEMY_INLINE std::size_t snapshot_size(const Mapper& m, const void* obj) {
  std::size_t bytes = 0;
  // Only text and blob columns have a length; the fixed-size rest needs no call.
  const ModelBase* base = m.model_base(obj);
  for (const std::size_t i : m.byte_columns()) {
    const auto direct = direct_bytes(m.direct(i), base);
    const std::size_t len = direct ? *direct : m.access(i).snapshot_bytes(obj);
    if (len > 0xFFFFFFFFu) throw ArgumentError("column '" + m.column(i).name + "' of " + m.class_name() +
                                               " holds more than 4 GiB");
    bytes += len;
  }
  return snapshot_size_for(m, bytes);
}

ALCHEMY_INLINE void fill_snapshot(const Mapper& m, const void* obj, SnapBlock* b) {
  const std::size_t n = m.column_count();
  b->columns = std::uint16_t(n);
  SnapCell* cells = b->cells();
  char* text = reinterpret_cast<char*>(cells + n);
  const ModelBase* base = m.model_base(obj);
  for (std::size_t i = 0; i < n; ++i)
    if (!direct_capture(m.direct(i), base, cells[i], text)) m.access(i).capture(obj, cells[i], text);
}

ALCHEMY_INLINE std::uint64_t changed_columns(const Mapper& m, const void* obj, const SnapBlock* b) {
  std::uint64_t mask = 0;
  const SnapCell* cells = b->cells();
  const ModelBase* base = m.model_base(obj);
  // The count is read once: for all the compiler knows, the calls could change it.
  for (std::size_t i = 0, n = m.column_count(); i < n; ++i) {
    const auto& d = m.direct(i);
    const bool same = d.kind != DirectField::Kind::none ? direct_same(d, base, cells[i]) : m.access(i).same(obj, cells[i]);
    if (!same) mask |= std::uint64_t{1} << (i & 63);
  }
  return mask;
}

ALCHEMY_INLINE void restore_columns(const Mapper& m, void* obj, const SnapBlock* b) {
  const SnapCell* cells = b->cells();
  for (std::size_t i = 0, n = m.column_count(); i < n; ++i) m.access(i).read(obj, cells[i].ref());
}

ALCHEMY_INLINE SnapBlock* copy_snapshot(const SnapBlock* src, void* dst, InstanceState* owner) noexcept {
  std::memcpy(dst, static_cast<const void*>(src), src->size);
  auto* b = std::launder(static_cast<SnapBlock*>(dst));
  b->owner = owner;
  // Text and blob cells point into the block: move them with it.
  const auto delta = reinterpret_cast<const std::byte*>(b) - reinterpret_cast<const std::byte*>(src);
  SnapCell* cells = b->cells();
  for (std::size_t i = 0; i < b->columns; ++i)
    if (snap_has_bytes(cells[i].kind)) cells[i].p += delta;
  return b;
}

ALCHEMY_INLINE std::size_t snapshot_size_with(const Mapper& m, const SnapBlock* b, std::size_t column, sql::ValueRef v) {
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < b->columns; ++i) bytes += i == column ? snap_bytes_of(v) : b->cell(i).n;
  if (bytes > 0xFFFFFFFFu) throw ArgumentError("a snapshot of " + m.class_name() + " would hold more than 4 GiB");
  return snapshot_impl::round8(sizeof(SnapBlock) + b->columns * sizeof(SnapCell) + bytes);
}

ALCHEMY_INLINE void fill_snapshot_with(const SnapBlock* src, SnapBlock* dst, std::size_t column, sql::ValueRef v) {
  dst->columns = src->columns;
  SnapCell* cells = dst->cells();
  char* text = reinterpret_cast<char*>(cells + src->columns);
  for (std::size_t i = 0; i < src->columns; ++i) put_cell(cells[i], i == column ? v : src->cell(i).ref(), text);
}

ALCHEMY_INLINE HeapSnapshot HeapSnapshot::copy_of(const SnapBlock* src) {
  if (!src) return {};
  return HeapSnapshot(copy_snapshot(src, ::operator new(src->size), nullptr));
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_SNAPSHOT_HPP_
