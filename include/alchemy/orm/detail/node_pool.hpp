// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/model.hpp>.
//
// Where a session puts the objects it loads or makes. Every row a query or get() materialises,
// and every object add() moves in, becomes a node (the object and its InstanceState,
// orm/model.hpp) owned by a std::shared_ptr. From the general-purpose heap, each node costs a
// malloc() and, when it dies, a free(), about 300 instructions of the 2,000 a session spends
// per loaded row. A NodePool hands out nodes from 16 KiB blocks instead, front to back, and
// frees a block when the last node in it dies. The first 64 blocks of a pool are 16 KiB from
// malloc(); a pool that has filled them (a session of some 4,000 objects) goes on in 2 MiB blocks
// from orm/detail/big_pages.hpp, where the kernel can map them with huge pages.
//
// The nodes stay ordinary shared_ptr-owned objects: they may outlive the session and die in any
// thread. A block counts its live nodes atomically; the pool's own claim on the block it carves
// from is a large bias, taken off when it moves on, so handing out a node needs no atomic
// operation. A node that outlives its session keeps its whole block (16 KiB, some 60 nodes of a
// small model, or 2 MiB in a large session) until it dies. Nodes larger than an eighth of a
// small block, or aligned beyond 8 bytes, come from operator new as before. A node's memory
// holds the shared_ptr's control block first (NodeControl), as std::allocate_shared would lay
// it out.
#ifndef ALCHEMY_ORM_DETAIL_NODE_POOL_HPP_
#define ALCHEMY_ORM_DETAIL_NODE_POOL_HPP_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "alchemy/orm/detail/big_pages.hpp"

#ifdef ALCHEMY_DETAIL_ASAN  // big_pages.hpp
#include <sanitizer/asan_interface.h>
#endif

namespace alchemy::orm::detail {

class NodePool {
 public:
  static constexpr std::size_t kBlock = 16 * 1024;
  /// Blocks of kBlock bytes a pool takes from malloc() before it goes on in big pieces.
  static constexpr std::size_t kSmallBlocks = kHeapFirst / kBlock;
  /// Larger nodes come from operator new.
  static constexpr std::size_t kMaxNode = kBlock / 8;
  static constexpr std::size_t kAlign = 8;  // what a node needs to be pooled; nodes are 8-byte aligned

  NodePool() = default;
  NodePool(const NodePool&) = delete;
  NodePool& operator=(const NodePool&) = delete;
  /// The block being carved is left to the nodes in it (freed now if it has none).
  ~NodePool() { retire(); }

  /// Whether nodes of `bytes` bytes and alignment `align` come from a pool.
  static constexpr bool pooled(std::size_t bytes, std::size_t align) noexcept {
    return bytes <= kMaxNode && align <= kAlign;
  }
  static constexpr std::size_t rounded(std::size_t bytes) noexcept { return (bytes + kAlign - 1) & ~(kAlign - 1); }
  /// How many nodes of `bytes` bytes one of the first (kBlock) blocks holds.
  static constexpr std::size_t per_block(std::size_t bytes) noexcept {
    return (kBlock - kHeader) / (kPrefix + rounded(bytes));
  }
  /// Blocks of every pool of the program not yet freed (for tests; counted per block, not per node).
  static std::size_t blocks_alive() noexcept { return blocks_alive_.load(std::memory_order_acquire); }

  /// Room for a node of `bytes` (pooled(bytes, ...)): the next free bytes of the current block.
  void* allocate(std::size_t bytes) {
    const std::size_t need = kPrefix + rounded(bytes);
    if (cap_ - used_ < need) next_block();
    std::byte* slot = reinterpret_cast<std::byte*>(current_) + used_;
    used_ += need;
    ++handed_;
#ifdef ALCHEMY_DETAIL_ASAN
    ASAN_UNPOISON_MEMORY_REGION(slot, need);
#endif
    ::new (slot) Block*(current_);
    return slot + kPrefix;
  }
  /// Gives back a node allocate() handed out, from any thread, whether or not its pool is alive.
  static void deallocate(void* p, std::size_t bytes) noexcept {
    std::byte* slot = static_cast<std::byte*>(p) - kPrefix;
    Block* b = *std::launder(reinterpret_cast<Block**>(slot));
#ifdef ALCHEMY_DETAIL_ASAN
    ASAN_POISON_MEMORY_REGION(slot, kPrefix + rounded(bytes));
#else
    (void)bytes;
#endif
    if (b->live.fetch_sub(1, std::memory_order_acq_rel) == 1) free_block(b);
  }

 private:
  // A block: this header, then slots, each the block's address (kPrefix bytes) and a node.
  // `live` is the number of its nodes not yet deallocated, plus kBias while the pool still
  // carves from it; `bytes` is its size (kBlock from malloc(), or a big piece). The address in
  // front of each node is how a node finds its block: small blocks are plain malloc()ed memory
  // (aligned_alloc() of a block-sized alignment, which would let the address alone say, left the
  // heap fragmented: 15 % more peak memory in the benchmark).
  struct Block {
    std::atomic<std::uint64_t> live;
    std::size_t bytes;
  };
  static constexpr std::uint64_t kBias = std::uint64_t{1} << 40;
  static constexpr std::size_t kHeader = (sizeof(Block) + kAlign - 1) & ~(kAlign - 1);
  static constexpr std::size_t kPrefix = kAlign;
  static_assert(sizeof(Block*) <= kPrefix);

  static void free_block(Block* b) noexcept {
    const std::size_t bytes = b->bytes;
    b->~Block();
#ifdef ALCHEMY_DETAIL_ASAN
    ASAN_UNPOISON_MEMORY_REGION(b, bytes);
#endif
    if (bytes == kBlock) std::free(b);
    else big_free(b, bytes);
    blocks_alive_.fetch_sub(1, std::memory_order_release);
  }
  void next_block() {
    const std::size_t bytes = small_blocks_ < kSmallBlocks ? kBlock : kBigPiece;
    void* mem = bytes == kBlock ? std::malloc(kBlock) : big_alloc(bytes);
    if (!mem) throw std::bad_alloc();
    if (bytes == kBlock) ++small_blocks_;
    blocks_alive_.fetch_add(1, std::memory_order_relaxed);
    retire();
    current_ = ::new (mem) Block{kBias, bytes};
#ifdef ALCHEMY_DETAIL_ASAN
    ASAN_POISON_MEMORY_REGION(static_cast<std::byte*>(mem) + kHeader, bytes - kHeader);
#endif
    cap_ = bytes;
    used_ = kHeader;
    handed_ = 0;
  }
  /// Drops the pool's claim on the current block: what is left is a count of its live nodes.
  void retire() noexcept {
    if (!current_) return;
    if (current_->live.fetch_sub(kBias - handed_, std::memory_order_acq_rel) == kBias - handed_) free_block(current_);
    current_ = nullptr;
    used_ = cap_ = 0;
  }

  inline static std::atomic<std::size_t> blocks_alive_{0};

  Block* current_ = nullptr;
  std::size_t used_ = 0;          ///< bytes of current_ in use
  std::size_t cap_ = 0;           ///< bytes of current_ (0: no block)
  std::uint64_t handed_ = 0;      ///< nodes handed out from current_
  std::size_t small_blocks_ = 0;  ///< kBlock blocks taken so far
};

/// The memory of one node: from a pool's block when the pool takes nodes of its size and
/// alignment, else from operator new (no pool, a node too large or aligned beyond 8 bytes).
struct NodeMemory {
  std::byte* data = nullptr;
  std::uint32_t bytes = 0;
  std::uint32_t heap_align = 0;  ///< 0: from a NodePool; else operator new's alignment
};

inline NodeMemory node_memory(NodePool* pool, std::size_t bytes, std::size_t align) {
  if (bytes > 0xFFFFFFFFu) throw std::bad_alloc();
  if (pool && NodePool::pooled(bytes, align))
    return {static_cast<std::byte*>(pool->allocate(bytes)), std::uint32_t(bytes), 0};
  const std::size_t a = align < alignof(std::max_align_t) ? alignof(std::max_align_t) : align;
  return {static_cast<std::byte*>(::operator new(bytes, std::align_val_t(a))), std::uint32_t(bytes), std::uint32_t(a)};
}

inline void free_node_memory(const NodeMemory& m) noexcept {
  if (m.heap_align == 0) NodePool::deallocate(m.data, m.bytes);
  else ::operator delete(m.data, std::align_val_t(m.heap_align));
}

/// The allocator of a std::shared_ptr whose control block sits at the front of a node's memory,
/// in the kControlBytes kept there: allocate() hands out that front, and the control block's
/// deallocation, when the last shared and weak pointer are gone, gives the whole node's memory
/// back. This is what std::allocate_shared does, with one control block type for every object
/// type (its deleter and this allocator do not depend on the type), so that a program's models
/// do not each instantiate the shared_ptr machinery again (orm/model.hpp, new_node).
template <class U>
struct NodeControl {
  using value_type = U;
  /// Room for the control block of a shared_ptr with a one-pointer deleter and this allocator:
  /// 48 bytes in libstdc++ (measured); libc++ is given 64, which was not measured here. Should a
  /// library's block not fit, allocate() fails to compile with the message below.
#if defined(_LIBCPP_VERSION)
  static constexpr std::size_t kControlBytes = 64;
#else
  static constexpr std::size_t kControlBytes = 48;
#endif

  explicit NodeControl(const NodeMemory& m) noexcept : memory(m) {}
  template <class V>
  NodeControl(const NodeControl<V>& o) noexcept : memory(o.memory) {}  // NOLINT: rebinding

  U* allocate(std::size_t n) noexcept {
    static_assert(sizeof(U) <= kControlBytes && alignof(U) <= NodePool::kAlign,
                  "the shared_ptr control block does not fit in front of the node");
    (void)n;  // std::shared_ptr asks for its one control block
    return static_cast<U*>(static_cast<void*>(memory.data));
  }
  void deallocate(U*, std::size_t) noexcept { free_node_memory(memory); }
  template <class V>
  friend bool operator==(const NodeControl&, const NodeControl<V>&) noexcept {
    return true;
  }

  NodeMemory memory;
};

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_NODE_POOL_HPP_
