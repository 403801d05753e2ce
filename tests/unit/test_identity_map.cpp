// SPDX-License-Identifier: MIT
// The session's identity map (orm/detail/identity_map.hpp) and the growth of the session's
// arrays: room reserved before a flush registers its new objects is room the inserts then use,
// with nothing moved, and every object is still found after the slots were re-indexed.
#include <alchemy/orm/detail/big_pages.hpp>
#include <alchemy/orm/detail/identity_map.hpp>
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <vector>

using alchemy::orm::InstanceState;
using alchemy::orm::detail::IdentityMap;
using alchemy::orm::detail::reserve_more;

namespace {
std::shared_ptr<InstanceState> state_with_key(std::int64_t key) {
  auto st = std::make_shared<InstanceState>();
  st->key.key = key;  // no mapper: a null one is as good a part of the key as any
  return st;
}
}  // namespace

TEST_CASE("reserve_more makes room for what is coming, growing as push_back would", "[orm][identity_map]") {
  std::vector<int> v;
  reserve_more(v, 10);
  CHECK(v.capacity() >= 10);
  v.resize(v.capacity());
  const std::size_t cap = v.capacity();
  reserve_more(v, 1);  // one more: doubled, not grown by one
  CHECK(v.capacity() >= 2 * cap);
  const int* data = v.data();
  reserve_more(v, v.capacity() - v.size());  // fits: nothing moves
  CHECK(v.data() == data);
  const std::size_t extra = 10 * v.capacity();  // more than doubling gives: at least that
  reserve_more(v, extra);
  CHECK(v.capacity() >= v.size() + extra);
}

TEST_CASE("an identity map's reserved room takes the inserts without moving or losing entries",
          "[orm][identity_map]") {
  IdentityMap map;
  std::vector<std::shared_ptr<InstanceState>> states;
  for (std::int64_t k = 1; k <= 1000; ++k) {
    states.push_back(state_with_key(k * 7));
    map.insert_absent(states.back());
  }
  map.reserve_more(100'000);  // the slots are re-indexed for 101,000
  for (std::int64_t k = 1; k <= 1000; ++k) {
    const auto it = map.find(nullptr, k * 7);
    REQUIRE(it != map.end());
    CHECK(it->second.get() == states[std::size_t(k - 1)].get());
  }
  CHECK(map.find(nullptr, 8) == map.end());
  const auto* first = &(*map.begin()).second;  // where the entries live
  for (std::int64_t k = 1; k <= 100'000; ++k) map.insert_absent(state_with_key(1'000'000 + k));
  CHECK(&(*map.begin()).second == first);  // no reallocation for the 100,000 reserved
  CHECK(map.size() == 101'000);
  for (std::int64_t k = 1; k <= 100'000; k += 997) CHECK(map.find(nullptr, 1'000'000 + k) != map.end());
  CHECK(map.find(nullptr, 7000)->second.get() == states.back().get());
}
