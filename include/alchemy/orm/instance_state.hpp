// SPDX-License-Identifier: MIT
// File: orm/instance_state.hpp
//
// What the session knows about one object (SQLAlchemy's InstanceState): its lifecycle state,
// its identity key, and the snapshot that change detection compares against.
//
//   transient  — not in a session, never saved        (Account a;)
//   pending    — added, INSERT not yet flushed        (session.add(...))
//   persistent — in the session and in the database   (after flush, or loaded by a query)
//   deleted    — delete_() flushed, not yet committed
//   detached   — was persistent; its session closed or expunged it
#ifndef ALCHEMY_ORM_INSTANCE_STATE_HPP_
#define ALCHEMY_ORM_INSTANCE_STATE_HPP_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "alchemy/config.hpp"
#include "alchemy/orm/detail/snapshot.hpp"
#include "alchemy/orm/mapper.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy {

class Session;

/// An object's lifecycle state.
enum class ObjectState : std::uint8_t { transient, pending, persistent, deleted, detached };

constexpr std::string_view state_name(ObjectState s) noexcept {
  switch (s) {
    case ObjectState::transient: return "transient";
    case ObjectState::pending: return "pending";
    case ObjectState::persistent: return "persistent";
    case ObjectState::deleted: return "deleted";
    case ObjectState::detached: return "detached";
  }
  return "?";
}

namespace orm {

/// (model, primary key): one object per identity per session.
struct IdentityKey {
  const Mapper* mapper = nullptr;
  sql::Value key;  ///< the key value; several key columns are packed into one text value
  friend bool operator==(const IdentityKey&, const IdentityKey&) = default;
};

struct IdentityKeyHash {
  std::size_t operator()(const IdentityKey& k) const noexcept {
    std::size_t h = std::hash<const void*>{}(k.mapper);
    std::size_t v = 0;
    switch (k.key.kind()) {
      case sql::ValueKind::integer: v = std::hash<std::int64_t>{}(k.key.as_integer()); break;
      case sql::ValueKind::text: v = std::hash<std::string>{}(k.key.as_text()); break;
      default: v = static_cast<std::size_t>(k.key.kind()); break;
    }
    return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  }
};

/// The session's record of one object. Lives in the same allocation as the object.
struct InstanceState {
  const Mapper* mapper = nullptr;
  void* object = nullptr;  ///< the model object
  /// The column values as last loaded or flushed (orm/detail/snapshot.hpp); null while the
  /// object is transient or pending. In the session's arena, or owned here (`snapshot_on_heap`).
  detail::SnapBlock* snapshot = nullptr;
  Session* session = nullptr;
  ObjectState state = ObjectState::transient;
  bool snapshot_on_heap = false;     ///< `snapshot` is this state's own heap block
  bool new_in_transaction = false;   ///< INSERTed by this session's open transaction
  bool key_generated = false;        ///< the key was filled in by that INSERT
  bool delete_pending = false;       ///< delete_() was called; the DELETE is not flushed yet
  /// The session whose watch list holds this object: the objects a flush compares with their
  /// snapshots (see Session). Only ever compared, never dereferenced.
  const Session* watched_by = nullptr;
  IdentityKey key;
  /// The snapshot as the transaction found it, kept (in the session's arena) once an UPDATE was
  /// flushed in it, so that rollback() can restore it.
  detail::SnapBlock* before_transaction = nullptr;
  /// The node's own owning pointer, for models with relationships (a collection appends the
  /// owner to the other side of a back_populates pair). Empty for other models.
  std::weak_ptr<InstanceState> self;

  InstanceState() = default;
  InstanceState(const InstanceState&) = delete;
  InstanceState& operator=(const InstanceState&) = delete;
  ~InstanceState() {
    // The session lets go of its objects' arena blocks before they can die; the two resets only
    // keep a compaction away from a dead state should that ever fail.
    if (before_transaction) before_transaction->owner = nullptr;
    if (!snapshot) return;
    if (snapshot_on_heap) ::operator delete(snapshot);
    else snapshot->owner = nullptr;
  }
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void detail::SnapshotArena::compact() {
  // What can throw comes before anything moves: the live blocks are measured, one chunk that
  // holds them all is taken, and only then are they copied (memcpy) and the old chunks freed.
  // A compaction that fails leaves the arena as it was, and no owner pointing into freed memory.
  const auto each_live = [this](auto&& fn) {
    for (const Chunk& c : chunks_)
      for (std::size_t at = 0; at < c.used;) {
        const SnapBlock* b = std::launder(reinterpret_cast<const SnapBlock*>(c.data + at));
        at += b->size;
        if (b->owner) fn(b);
      }
  };
  std::size_t live = 0;
  each_live([&](const SnapBlock* b) { live += b->size; });
  std::vector<Chunk> fresh;
  if (live > 0) {
    fresh.reserve(16);
    fresh.push_back(make_chunk(live));
    Chunk& to = fresh.front();
    each_live([&](const SnapBlock* b) {
      InstanceState* owner = b->owner;
      SnapBlock* moved = copy_snapshot(b, to.data + to.used, owner);
      to.used += b->size;
      (b->role == SnapBlock::before_image ? owner->before_transaction : owner->snapshot) = moved;
    });
  }
  for (const Chunk& c : chunks_) free_chunk(c);
  chunks_.swap(fresh);
  live_ = live;
  garbage_ = 0;
  ++compactions_;
}
#endif  // ALCHEMY_IMPL

}  // namespace orm
}  // namespace alchemy

#endif  // ALCHEMY_ORM_INSTANCE_STATE_HPP_
