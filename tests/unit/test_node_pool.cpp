// SPDX-License-Identifier: MIT
// The blocks a session's loaded objects live in (orm/detail/node_pool.hpp): a block is freed
// when its last node is, whether the pool is still there or not, and in whichever thread that
// happens. The ASan build of these tests also checks that no node is reached after it was given
// back (freed nodes are poisoned inside their block).
#include <alchemy/orm/detail/node_pool.hpp>
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using alchemy::orm::detail::NodeControl;
using alchemy::orm::detail::NodeMemory;
using alchemy::orm::detail::NodePool;

namespace {

constexpr std::size_t kNode = 256;
constexpr std::size_t kPerBlock = NodePool::per_block(kNode);

struct Obj {
  std::string text;
  long n = 0;
};

/// An object owned by a shared_ptr whose control block sits in front of it in one piece of
/// node memory (NodeControl), from `pool` when it takes such nodes: how the session makes its
/// nodes (orm/model.hpp, new_node), for any type.
template <class T, class... Args>
std::shared_ptr<T> make_pooled(NodePool* pool, Args&&... args) {
  constexpr std::size_t at = (NodeControl<T>::kControlBytes + alignof(T) - 1) / alignof(T) * alignof(T);
  const NodeMemory m = alchemy::orm::detail::node_memory(pool, at + sizeof(T), alignof(T));
  T* obj = ::new (static_cast<void*>(m.data + at)) T{std::forward<Args>(args)...};
  return std::shared_ptr<T>(obj, [](T* p) { p->~T(); }, NodeControl<T>(m));
}

}  // namespace

TEST_CASE("a pool frees a block once its last node is given back and the pool has moved on", "[orm][node_pool]") {
  const std::size_t base = NodePool::blocks_alive();
  std::vector<void*> nodes;
  {
    NodePool pool;
    for (std::size_t i = 0; i < 3 * kPerBlock + 1; ++i) {
      void* p = pool.allocate(kNode);
      std::memset(p, int(i & 0x7f), kNode);  // the whole node is usable
      nodes.push_back(p);
    }
    CHECK(NodePool::blocks_alive() == base + 4);
    // The first block's nodes all go: it is freed at once, the pool no longer carves from it.
    for (std::size_t i = 0; i < kPerBlock; ++i) NodePool::deallocate(nodes[i], kNode);
    CHECK(NodePool::blocks_alive() == base + 3);
    // The last block's one node goes: the pool still carves from that block, so it stays.
    NodePool::deallocate(nodes.back(), kNode);
    nodes.pop_back();
    CHECK(NodePool::blocks_alive() == base + 3);
  }
  // The pool is gone: its last block, empty, went with it; the two full ones stay for their nodes.
  CHECK(NodePool::blocks_alive() == base + 2);
  for (std::size_t i = kPerBlock; i < 2 * kPerBlock - 1; ++i) NodePool::deallocate(nodes[i], kNode);
  CHECK(NodePool::blocks_alive() == base + 2);  // one node of the second block is still alive
  NodePool::deallocate(nodes[2 * kPerBlock - 1], kNode);
  CHECK(NodePool::blocks_alive() == base + 1);
  for (std::size_t i = 2 * kPerBlock; i < 3 * kPerBlock; ++i) NodePool::deallocate(nodes[i], kNode);
  CHECK(NodePool::blocks_alive() == base);
}

TEST_CASE("a pool that handed out nothing, or whose nodes all died first, leaves no block", "[orm][node_pool]") {
  const std::size_t base = NodePool::blocks_alive();
  { NodePool pool; }
  CHECK(NodePool::blocks_alive() == base);
  {
    NodePool pool;
    void* a = pool.allocate(100);
    void* b = pool.allocate(100);
    CHECK(a != b);
    NodePool::deallocate(a, 100);
    NodePool::deallocate(b, 100);
    CHECK(NodePool::blocks_alive() == base + 1);  // the pool may still carve from it
  }
  CHECK(NodePool::blocks_alive() == base);
}

TEST_CASE("shared_ptr nodes from a pool outlive it and die in other threads", "[orm][node_pool]") {
  const std::size_t base = NodePool::blocks_alive();
  std::vector<std::shared_ptr<Obj>> kept;
  {
    NodePool pool;
    for (int i = 0; i < 1000; ++i) {
      auto p = make_pooled<Obj>(&pool, std::string(40, char('a' + i % 26)), long(i));
      if (i % 7 == 0) kept.push_back(std::move(p));  // the others die here, in the pool's blocks
    }
    CHECK(NodePool::blocks_alive() > base);
  }
  REQUIRE(kept.size() == 143);
  for (std::size_t k = 0; k < kept.size(); ++k) {
    CHECK(kept[k]->n == long(k * 7));
    CHECK(kept[k]->text == std::string(40, char('a' + (k * 7) % 26)));
  }
  // Four threads drop a quarter each; the blocks go when their last object does.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    std::vector<std::shared_ptr<Obj>> mine;
    for (std::size_t k = std::size_t(t); k < kept.size(); k += 4) mine.push_back(kept[k]);
    threads.emplace_back([m = std::move(mine)]() mutable { m.clear(); });
  }
  for (auto& t : threads) t.join();
  CHECK(NodePool::blocks_alive() > base);  // `kept` still holds them all
  kept.clear();
  CHECK(NodePool::blocks_alive() == base);
}

TEST_CASE("nodes too large or too aligned for a block, or without a pool, come from the heap", "[orm][node_pool]") {
  struct Big {
    char bytes[NodePool::kMaxNode + 1];
  };
  struct alignas(64) Aligned {
    int x = 0;
  };
  const std::size_t base = NodePool::blocks_alive();
  NodePool pool;
  auto big = make_pooled<Big>(&pool);
  auto aligned = make_pooled<Aligned>(&pool);
  auto plain = make_pooled<Obj>(nullptr);
  CHECK(reinterpret_cast<std::uintptr_t>(aligned.get()) % 64 == 0);
  CHECK(NodePool::blocks_alive() == base);  // none of them took a block
  auto pooled = make_pooled<Obj>(&pool);
  CHECK(NodePool::blocks_alive() == base + 1);
}
