// SPDX-License-Identifier: MIT
// File: orm/memory.hpp
//
// The memory of large sessions. A session that loads or adds many objects keeps them, their
// snapshots and its identity map in pieces of 2 MiB once it passes its first MiB of each, and
// asks the kernel to back those pieces with transparent huge pages (Linux; effective where
// /sys/kernel/mm/transparent_hugepage/enabled says "madvise" or "always"): one page fault per
// piece instead of 512 (docs/performance.md). Small sessions use the ordinary heap.
//
//   alchemy::set_huge_pages(false);   // keep the pieces in ordinary 4 KiB pages
//
// Turn it off where huge pages are unwelcome, for example where the kernel's defrag setting
// makes the first touch of one stall while memory is compacted.
#ifndef ALCHEMY_ORM_MEMORY_HPP_
#define ALCHEMY_ORM_MEMORY_HPP_

#include <atomic>
#include <cstddef>

namespace alchemy {
namespace orm::detail {
inline std::atomic<bool> huge_pages_on{true};
inline std::atomic<std::size_t> big_bytes{0};
}  // namespace orm::detail

/// Whether the pieces of large sessions ask for huge pages (default: yes). Applies to pieces
/// taken after the call; any thread may call it.
inline void set_huge_pages(bool on) noexcept {
  orm::detail::huge_pages_on.store(on, std::memory_order_relaxed);
}
inline bool huge_pages() noexcept { return orm::detail::huge_pages_on.load(std::memory_order_relaxed); }

/// Bytes the program's sessions hold in those pieces now: memory that malloc()'s statistics do
/// not see, for measuring what a session costs.
inline std::size_t big_piece_bytes() noexcept {
  return orm::detail::big_bytes.load(std::memory_order_relaxed);
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_MEMORY_HPP_
