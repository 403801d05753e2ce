// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// The session's identity map: (model, primary key) → the one object for it.
//
// Two arrays. `entries_` holds the session's owning pointers in the order the objects entered
// the map (an erased entry leaves a hole until the next compaction). `slots_` is an
// open-addressing table of 8-byte slots, each the entry's index and 32 bits of its key's hash,
// so a lookup reads one small, dense table and dereferences a state only when those 32 bits
// match; for 100,000 objects the table is 2 MiB instead of 6 MiB of {hash, shared_ptr} slots,
// and a miss (every get() of an object not loaded yet) costs one cache line.
//
// Walking the map, and releasing it (clear), goes through `entries_`: in load order, which is
// the order the objects were allocated in, so a session's teardown frees memory front to back
// instead of in hash order (three times faster for 100,000 objects, docs/performance.md).
//
// The interface is the part of std::unordered_map the session uses.
#ifndef ALCHEMY_ORM_DETAIL_IDENTITY_MAP_HPP_
#define ALCHEMY_ORM_DETAIL_IDENTITY_MAP_HPP_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "alchemy/orm/detail/big_pages.hpp"
#include "alchemy/orm/instance_state.hpp"

namespace alchemy::orm::detail {

class IdentityMap {
 public:
  using StatePtr = std::shared_ptr<InstanceState>;
  using value_type = std::pair<const IdentityKey&, const StatePtr&>;

  /// Walks the entries in the order they entered the map.
  class iterator {
   public:
    iterator() = default;
    value_type operator*() const { return {(*entry_)->key, *entry_}; }
    struct Arrow {
      value_type pair;
      const value_type* operator->() const { return &pair; }
    };
    Arrow operator->() const { return {**this}; }
    iterator& operator++() {
      ++entry_;
      skip();
      return *this;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.entry_ == b.entry_; }

   private:
    friend class IdentityMap;
    iterator(const StatePtr* entry, const StatePtr* end) : entry_(entry), end_(end) {}
    void skip() {
      while (entry_ != end_ && !*entry_) ++entry_;
    }
    const StatePtr* entry_ = nullptr;
    const StatePtr* end_ = nullptr;
  };

  /// An integer key's hash keeps its low three bits: keys that differ only there (1..8, the
  /// rows a flush just INSERTed with consecutive generated keys) share one 64-byte line of
  /// slots, while the rest of the key scatters the groups of eight over the table.
  static std::uint64_t hash(const Mapper* m, std::int64_t key) noexcept {
    const auto k = std::uint64_t(key);
    const std::uint64_t group = mix(reinterpret_cast<std::uintptr_t>(m) ^ ((k >> 3) * 0x9e3779b97f4a7c15ULL));
    return (group & ~std::uint64_t{7}) | (k & 7);
  }
  static std::uint64_t hash(const IdentityKey& k) noexcept {
    if (k.key.kind() == sql::ValueKind::integer) return hash(k.mapper, k.key.as_integer());
    return mix(IdentityKeyHash{}(k));
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  iterator begin() const {
    iterator it(entries_.data(), entries_.data() + entries_.size());
    it.skip();
    return it;
  }
  iterator end() const { return at(npos); }

  iterator find(const IdentityKey& k) const {
    return at(probe(hash(k), [&](const StatePtr& s) { return s->key == k; }));
  }
  /// find() for a single integer key, without making an IdentityKey.
  iterator find(const Mapper* m, std::int64_t key) const { return find(m, key, hash(m, key)); }
  /// find(m, key) whose hash(m, key) the caller has.
  iterator find(const Mapper* m, std::int64_t key, std::uint64_t key_hash) const {
    return at(probe(key_hash, [&](const StatePtr& s) {
      return s->key.mapper == m && s->key.key.kind() == sql::ValueKind::integer && s->key.key.as_integer() == key;
    }));
  }

  /// Inserts `st` under its own key `k` (== st->key) unless the key is present.
  std::pair<iterator, bool> emplace(const IdentityKey& k, const StatePtr& st) {
    const std::uint64_t h = hash(k);
    if (const auto e = probe(h, [&](const StatePtr& s) { return s->key == k; }); e != npos) return {at(e), false};
    append(h, st);
    return {at(entries_.size() - 1), true};
  }
  /// Room for `extra` more objects: inserting that many neither reallocates the entries nor
  /// rehashes (a flush about to register its new objects).
  void reserve_more(std::size_t extra) {
    if (extra == 0) return;
    detail::reserve_more(entries_, extra);
    std::size_t n = slots_.empty() ? 16 : slots_.size();
    while ((size_ + extra) * 2 > n) n *= 2;
    if (n > slots_.size()) rehash(n);
  }
  /// Inserts `st` under its own key, which the caller knows is not in the map (find() just
  /// failed): emplace() without comparing keys.
  void insert_absent(const StatePtr& st) { append(hash(st->key), st); }
  /// insert_absent() of a state whose key's hash() the caller has (it just looked the key up).
  void insert_absent(const StatePtr& st, std::uint64_t key_hash) { append(key_hash, st); }
  /// Inserts `st` under `k` (== st->key), replacing what held the key.
  void insert_or_assign(const IdentityKey& k, const StatePtr& st) {
    const std::uint64_t h = hash(k);
    if (const auto e = probe(h, [&](const StatePtr& s) { return s->key == k; }); e != npos) {
      entries_[e] = st;
      return;
    }
    append(h, st);
  }

  std::size_t erase(const IdentityKey& k) {
    const auto it = find(k);
    if (it == end()) return 0;
    erase(it);
    return 1;
  }
  void erase(iterator it) {
    const std::size_t e = std::size_t(it.entry_ - entries_.data());
    std::size_t i = index(hash((*it.entry_)->key));
    while (slot_entry(slots_[i]) != e) i = next(i);
    // Backward-shift deletion: later slots of the same run move up, so no tombstones.
    slots_[i] = 0;
    for (std::size_t j = next(i); slots_[j]; j = next(j)) {
      const std::size_t home = index(slots_[j]);
      // Move j into the hole at i when its home position does not lie in (i, j].
      if (((j - home) & mask()) >= ((j - i) & mask())) {
        slots_[i] = slots_[j];
        slots_[j] = 0;
        i = j;
      }
    }
    entries_[e].reset();
    --size_;
    // Holes are skipped by walks; once they are half of the entries, close them up.
    if (entries_.size() >= 64 && size_ * 2 < entries_.size()) compact();
  }

  void clear() noexcept {
    entries_.clear();
    slots_.clear();
    size_ = 0;
  }
  /// Calls fn(state) for each entry, in the order they entered, and empties the map: each
  /// state is visited while its cache line is still loaded for the release.
  template <class F>
  void clear(F&& fn) {
    for (auto& s : entries_) {
      if (!s) continue;
      fn(s);
      s.reset();
    }
    clear();
  }

 private:
  // A slot: (entry index + 1) << 32 | the low 32 bits of the key's hash; 0 is an empty slot.
  // The home position is the hash's low bits, so a slot alone says where its run starts.
  static constexpr std::size_t npos = ~std::size_t{0};
  static constexpr std::size_t kMaxEntries = 0xFFFFFFFEu;

  static std::uint64_t mix(std::uint64_t h) noexcept {
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return h;
  }
  static std::size_t slot_entry(std::uint64_t slot) noexcept { return std::size_t(slot >> 32) - 1; }
  std::size_t mask() const noexcept { return slots_.size() - 1; }
  std::size_t index(std::uint64_t h) const noexcept { return std::size_t(std::uint32_t(h)) & mask(); }
  std::size_t next(std::size_t i) const noexcept { return (i + 1) & mask(); }
  iterator at(std::size_t e) const {
    const StatePtr* end = entries_.data() + entries_.size();
    return iterator(e == npos ? end : entries_.data() + e, end);
  }

  template <class Eq>
  std::size_t probe(std::uint64_t h, Eq&& eq) const {
    if (slots_.empty()) return npos;
    const auto tag = std::uint32_t(h);
    for (std::size_t i = index(h); slots_[i]; i = next(i))
      if (std::uint32_t(slots_[i]) == tag && eq(entries_[slot_entry(slots_[i])])) return slot_entry(slots_[i]);
    return npos;
  }

  void append(std::uint64_t h, const StatePtr& st) {
    // Room for one more at a load factor of at most 1/2; the test stays inline, the rare
    // rehash is a call.
    if ((size_ + 1) * 2 > slots_.size()) grow();
    if (entries_.size() >= kMaxEntries) compact();
    if (entries_.size() >= kMaxEntries) throw std::length_error("alchemy: too many objects in one session");
    entries_.push_back(st);
    place(h, entries_.size() - 1);
    ++size_;
  }
  void place(std::uint64_t h, std::size_t e) {
    std::size_t i = index(h);
    while (slots_[i]) i = next(i);
    slots_[i] = (std::uint64_t(e + 1) << 32) | std::uint32_t(h);
  }
  void grow() { rehash(std::max<std::size_t>(16, slots_.size() * 2)); }
  /// Re-indexes the entries in `n` slots (a power of two, at least twice size_).
  void rehash(std::size_t n) {
    std::vector<std::uint64_t, BigAllocator<std::uint64_t>> old(n);
    old.swap(slots_);
    for (const auto s : old) {
      if (!s) continue;
      std::size_t i = index(s);
      while (slots_[i]) i = next(i);
      slots_[i] = s;
    }
  }
  /// Drops the holes erase() left in `entries_`, keeping the order, and re-indexes the slots.
  void compact() {
    std::size_t w = 0;
    for (auto& s : entries_)
      if (s) entries_[w++] = std::move(s);
    entries_.resize(w);
    std::fill(slots_.begin(), slots_.end(), 0);
    for (std::size_t e = 0; e < w; ++e) place(hash(entries_[e]->key), e);
  }

  // Both arrays take big pages past 1 MiB (orm/detail/big_pages.hpp).
  std::vector<StatePtr, BigAllocator<StatePtr>> entries_;  // owning, in the order they entered; null = erased
  std::vector<std::uint64_t, BigAllocator<std::uint64_t>> slots_;  // power-of-two size, or empty
  std::size_t size_ = 0;
};

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_IDENTITY_MAP_HPP_
