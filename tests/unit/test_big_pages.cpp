// SPDX-License-Identifier: MIT
// The memory of large sessions (orm/detail/big_pages.hpp): node pools and snapshot arenas go on
// in 2 MiB pieces after their first MiB, arrays past 1 MiB take such pieces, every piece is given
// back, and (Linux, outside AddressSanitizer builds) each is aligned and marked for huge pages
// unless set_huge_pages(false) said otherwise.
#include <alchemy/orm/detail/big_pages.hpp>
#include <alchemy/orm/detail/node_pool.hpp>
#include <alchemy/orm/detail/snapshot.hpp>
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using alchemy::big_piece_bytes;
using alchemy::orm::detail::BigAllocator;
using alchemy::orm::detail::kBigPiece;
using alchemy::orm::detail::NodePool;
using alchemy::orm::detail::SnapshotArena;

TEST_CASE("a node pool goes on in big pieces after its first blocks and frees them like the others",
          "[orm][big_pages]") {
  const std::size_t bytes0 = big_piece_bytes();
  const std::size_t blocks0 = NodePool::blocks_alive();
  constexpr std::size_t kNode = 200;
  const std::size_t small_nodes = NodePool::kSmallBlocks * NodePool::per_block(kNode);
  std::vector<void*> nodes;
  {
    NodePool pool;
    for (std::size_t i = 0; i < small_nodes; ++i) nodes.push_back(pool.allocate(kNode));
    CHECK(big_piece_bytes() == bytes0);  // the first blocks come from malloc()
    for (std::size_t i = 0; i < 12'000; ++i) {
      void* p = pool.allocate(kNode);
      std::memset(p, int(i & 0x7f), kNode);  // the whole node is usable
      nodes.push_back(p);
    }
    CHECK(big_piece_bytes() == bytes0 + 2 * kBigPiece);  // 12,000 nodes of 208 bytes: two pieces
    CHECK(NodePool::blocks_alive() == blocks0 + NodePool::kSmallBlocks + 2);
  }
  for (void* p : nodes) NodePool::deallocate(p, kNode);
  CHECK(big_piece_bytes() == bytes0);
  CHECK(NodePool::blocks_alive() == blocks0);
}

TEST_CASE("a snapshot arena goes on in big pieces after its first MiB and frees them when cleared",
          "[orm][big_pages]") {
  const std::size_t bytes0 = big_piece_bytes();
  SnapshotArena arena;
  std::size_t taken = 0;
  while (taken < (std::size_t{1} << 20)) taken += arena.allocate(1024, nullptr)->size;
  CHECK(big_piece_bytes() == bytes0);
  arena.allocate(1024, nullptr);
  CHECK(big_piece_bytes() == bytes0 + kBigPiece);
  arena.allocate(3 * kBigPiece, nullptr);  // a block larger than a piece gets whole pieces
  CHECK(big_piece_bytes() == bytes0 + 4 * kBigPiece);
  arena.clear();
  CHECK(big_piece_bytes() == bytes0);
}

TEST_CASE("an array takes big pieces only past 1 MiB and gives them back", "[orm][big_pages]") {
  const std::size_t bytes0 = big_piece_bytes();
  {
    std::vector<std::uint64_t, BigAllocator<std::uint64_t>> v(100'000, 7);  // 800 KB: the heap
    CHECK(big_piece_bytes() == bytes0);
    v.resize(300'000, 9);  // 2.4 MB: two pieces
    CHECK(big_piece_bytes() == bytes0 + 2 * kBigPiece);
    CHECK(v[99'999] == 7);
    CHECK(v[299'999] == 9);
  }
  CHECK(big_piece_bytes() == bytes0);
}

#ifndef ALCHEMY_BIG_PAGES_HEAP
#ifdef __linux__
namespace {
/// The VmFlags line of the mapping of /proc/self/smaps that holds `p`.
std::string vm_flags_of(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  const auto at = reinterpret_cast<std::uintptr_t>(p);
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::uintptr_t lo = 0, hi = 0;
    char dash = 0;
    std::istringstream head(line);
    if (head >> std::hex >> lo >> dash >> hi && dash == '-') {
      inside = lo <= at && at < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}
}  // namespace

TEST_CASE("big pieces are aligned to their size and marked for huge pages unless that is turned off",
          "[orm][big_pages]") {
  using alchemy::orm::detail::big_alloc;
  using alchemy::orm::detail::big_free;
  REQUIRE(alchemy::huge_pages());
  void* a = big_alloc(kBigPiece);
  CHECK(reinterpret_cast<std::uintptr_t>(a) % kBigPiece == 0);
  const std::string on = vm_flags_of(a);
  CHECK(on.find(" hg") != std::string::npos);

  alchemy::set_huge_pages(false);
  void* b = big_alloc(2 * kBigPiece);
  alchemy::set_huge_pages(true);
  CHECK(reinterpret_cast<std::uintptr_t>(b) % kBigPiece == 0);
  const std::string off = vm_flags_of(b);
  CHECK_FALSE(off.empty());
  CHECK(off.find(" hg") == std::string::npos);
  big_free(a, kBigPiece);
  big_free(b, 2 * kBigPiece);
}
#endif
#endif
