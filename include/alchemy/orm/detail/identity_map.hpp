// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// The session's identity map: (model, primary key) → the one object for it. An open-addressing
// table of {hash, state} slots; the key is the state's own InstanceState::key, so an entry costs
// 24 bytes and no allocation (std::unordered_map allocated a node per object and kept a second
// copy of the key). The interface is the part of std::unordered_map the session uses.
#ifndef ALCHEMY_ORM_DETAIL_IDENTITY_MAP_HPP_
#define ALCHEMY_ORM_DETAIL_IDENTITY_MAP_HPP_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "alchemy/orm/instance_state.hpp"

namespace alchemy::orm::detail {

/// One slot of the table: empty when `state` is null.
struct IdentitySlot {
  std::size_t hash = 0;
  std::shared_ptr<InstanceState> state;
};

class IdentityMap {
 public:
  using StatePtr = std::shared_ptr<InstanceState>;
  using value_type = std::pair<const IdentityKey&, const StatePtr&>;

  class iterator {
   public:
    iterator() = default;
    value_type operator*() const { return {slot_->state->key, slot_->state}; }
    struct Arrow {
      value_type pair;
      const value_type* operator->() const { return &pair; }
    };
    Arrow operator->() const { return {**this}; }
    iterator& operator++() {
      ++slot_;
      skip();
      return *this;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.slot_ == b.slot_; }

   private:
    friend class IdentityMap;
    iterator(const IdentitySlot* slot, const IdentitySlot* end) : slot_(slot), end_(end) {}
    void skip() {
      while (slot_ != end_ && !slot_->state) ++slot_;
    }
    const IdentitySlot* slot_ = nullptr;
    const IdentitySlot* end_ = nullptr;
  };

  static std::size_t hash(const Mapper* m, std::int64_t key) noexcept {
    return mix(reinterpret_cast<std::uintptr_t>(m) ^ (std::uint64_t(key) * 0x9e3779b97f4a7c15ULL));
  }
  static std::size_t hash(const IdentityKey& k) noexcept {
    if (k.key.kind() == sql::ValueKind::integer) return hash(k.mapper, k.key.as_integer());
    return mix(IdentityKeyHash{}(k));
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  iterator begin() const {
    iterator it(slots_.data(), slots_.data() + slots_.size());
    it.skip();
    return it;
  }
  iterator end() const { return iterator(slots_.data() + slots_.size(), slots_.data() + slots_.size()); }

  iterator find(const IdentityKey& k) const {
    const std::size_t h = hash(k);
    return at(probe(h, [&](const StatePtr& s) { return s->key == k; }));
  }
  /// find() for a single integer key, without making an IdentityKey.
  iterator find(const Mapper* m, std::int64_t key) const {
    const std::size_t h = hash(m, key);
    return at(probe(h, [&](const StatePtr& s) {
      return s->key.mapper == m && s->key.key.kind() == sql::ValueKind::integer && s->key.key.as_integer() == key;
    }));
  }

  /// Inserts `st` under its own key `k` (== st->key) unless the key is present.
  std::pair<iterator, bool> emplace(const IdentityKey& k, const StatePtr& st) {
    reserve_one();
    const std::size_t h = hash(k);
    std::size_t i = index(h);
    for (; slots_[i].state; i = next(i))
      if (slots_[i].hash == h && slots_[i].state->key == k) return {at(i), false};
    slots_[i] = {h, st};
    ++size_;
    return {at(i), true};
  }
  /// Inserts `st` under its own key, which the caller knows is not in the map (find() just
  /// failed): emplace() without comparing keys.
  void insert_absent(const StatePtr& st) {
    reserve_one();
    const std::size_t h = hash(st->key);
    std::size_t i = index(h);
    while (slots_[i].state) i = next(i);
    slots_[i].hash = h;
    slots_[i].state = st;
    ++size_;
  }
  /// Inserts `st` under `k` (== st->key), replacing what held the key.
  void insert_or_assign(const IdentityKey& k, const StatePtr& st) {
    reserve_one();
    const std::size_t h = hash(k);
    std::size_t i = index(h);
    for (; slots_[i].state; i = next(i))
      if (slots_[i].hash == h && slots_[i].state->key == k) {
        slots_[i].state = st;
        return;
      }
    slots_[i] = {h, st};
    ++size_;
  }

  std::size_t erase(const IdentityKey& k) {
    const auto it = find(k);
    if (it == end()) return 0;
    erase(it);
    return 1;
  }
  void erase(iterator it) {
    // Backward-shift deletion: later slots of the same run move up, so no tombstones.
    std::size_t i = std::size_t(it.slot_ - slots_.data());
    slots_[i].state.reset();
    for (std::size_t j = next(i);; j = next(j)) {
      if (!slots_[j].state) break;
      const std::size_t home = index(slots_[j].hash);
      // Move j into the hole at i when its home position does not lie in (i, j].
      if (((j - home) & mask()) >= ((j - i) & mask())) {
        slots_[i] = std::move(slots_[j]);
        slots_[j].state.reset();
        i = j;
      }
    }
    --size_;
  }

  void clear() noexcept {
    slots_.clear();
    size_ = 0;
  }
  /// Calls fn(state) for each entry and empties the map, in one pass: each state is visited
  /// while its cache line is still loaded for the release.
  template <class F>
  void clear(F&& fn) {
    for (auto& s : slots_) {
      if (!s.state) continue;
      fn(s.state);
      s.state.reset();
    }
    slots_.clear();
    size_ = 0;
  }

 private:
  using Slot = IdentitySlot;

  static std::size_t mix(std::uint64_t h) noexcept {
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return std::size_t(h);
  }
  std::size_t mask() const noexcept { return slots_.size() - 1; }
  std::size_t index(std::size_t h) const noexcept { return h & mask(); }
  std::size_t next(std::size_t i) const noexcept { return (i + 1) & mask(); }
  iterator at(std::size_t i) const {
    if (i == npos) return end();
    return iterator(slots_.data() + i, slots_.data() + slots_.size());
  }
  static constexpr std::size_t npos = ~std::size_t{0};

  template <class Eq>
  std::size_t probe(std::size_t h, Eq&& eq) const {
    if (slots_.empty()) return npos;
    for (std::size_t i = index(h); slots_[i].state; i = next(i))
      if (slots_[i].hash == h && eq(slots_[i].state)) return i;
    return npos;
  }

  /// Room for one more entry at a load factor of at most 1/2. The test stays inline in each
  /// insert; the rare rehash is a call.
  void reserve_one() {
    if ((size_ + 1) * 2 > slots_.size()) grow();
  }
  void grow() {
    std::vector<Slot> old(std::max<std::size_t>(16, slots_.size() * 2));
    old.swap(slots_);
    for (auto& s : old) {
      if (!s.state) continue;
      std::size_t i = index(s.hash);
      while (slots_[i].state) i = next(i);
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot> slots_;  // power-of-two size, or empty
  std::size_t size_ = 0;
};

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_IDENTITY_MAP_HPP_
