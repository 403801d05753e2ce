// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by node_pool.hpp, snapshot.hpp and
// identity_map.hpp (orm/detail).
//
// Memory for what a large session holds: node blocks, snapshot chunks, the identity map's and
// the object lists' arrays once they pass 1 MiB. These come straight from the system in
// 2 MiB-aligned pieces marked for transparent huge pages (Linux: madvise(MADV_HUGEPAGE), which
// takes effect where /sys/kernel/mm/transparent_hugepage/enabled says "madvise" or "always").
//
// Why: a session of 100,000 objects holds about 48 MB, freed when the session closes, and the
// next large session touches the same amount again. With 4 KiB pages that is some 12,000 page
// faults each time; on the virtual machines of docs/performance.md a fault cost 12 µs (48 MB
// faulted in 146 to 185 ms with 4 KiB pages, 3 to 4.5 ms with 2 MiB ones), and the benchmark's
// P1 (add and commit 100,000 objects) took 0.242 s of CPU before these pieces, 0.180 s after.
// Small sessions never get here: a node pool and a snapshot arena switch to these pieces only
// after their first MiB, and an array only when it needs more than 1 MiB.
//
// set_huge_pages(false) (orm/memory.hpp) keeps the pieces but leaves them in 4 KiB pages.
// Builds with AddressSanitizer, and systems without mmap(), take the pieces from operator new:
// LeakSanitizer only looks for pointers in memory the heap handed out.
#ifndef ALCHEMY_ORM_DETAIL_BIG_PAGES_HPP_
#define ALCHEMY_ORM_DETAIL_BIG_PAGES_HPP_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

#include "alchemy/orm/memory.hpp"

// ALCHEMY_DETAIL_ASAN: built with AddressSanitizer (g++ says so one way, clang another). The node
// pool poisons its free slots under it too.
#if defined(__SANITIZE_ADDRESS__)
#define ALCHEMY_DETAIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALCHEMY_DETAIL_ASAN 1
#endif
#endif
#if defined(ALCHEMY_DETAIL_ASAN) || !(defined(__unix__) || defined(__APPLE__))
#define ALCHEMY_BIG_PAGES_HEAP 1
#endif
#ifndef ALCHEMY_BIG_PAGES_HEAP
#include <sys/mman.h>
#endif

namespace alchemy {
namespace orm::detail {

/// The size and alignment of a big piece: one huge page on x86-64 and arm64 Linux.
inline constexpr std::size_t kBigPiece = std::size_t{2} << 20;
/// What a session's node pool and snapshot arena take from the heap before they go on in big
/// pieces, and the largest array that stays on the heap.
inline constexpr std::size_t kHeapFirst = std::size_t{1} << 20;

/// `bytes` rounded up to whole big pieces.
constexpr std::size_t big_size(std::size_t bytes) noexcept { return (bytes + kBigPiece - 1) & ~(kBigPiece - 1); }

/// `bytes` (a multiple of kBigPiece) of uninitialised memory, aligned to kBigPiece (from the heap:
/// as operator new aligns).
inline void* big_alloc(std::size_t bytes) {
#ifdef ALCHEMY_BIG_PAGES_HEAP
  void* p = ::operator new(bytes);
  big_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return p;
#else
  // Map one piece more than asked, then unmap the ends that lie outside the aligned range.
  const std::size_t span = bytes + kBigPiece;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const auto start = reinterpret_cast<std::uintptr_t>(raw);
  const auto aligned = (start + kBigPiece - 1) & ~std::uintptr_t(kBigPiece - 1);
  if (aligned > start) ::munmap(raw, aligned - start);
  if (const std::size_t tail = (start + span) - (aligned + bytes); tail > 0)
    ::munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  void* p = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
  if (huge_pages_on.load(std::memory_order_relaxed)) ::madvise(p, bytes, MADV_HUGEPAGE);  // advice only
#endif
  big_bytes.fetch_add(bytes, std::memory_order_relaxed);
  return p;
#endif
}

/// Returns what big_alloc(bytes) gave.
inline void big_free(void* p, std::size_t bytes) noexcept {
  big_bytes.fetch_sub(bytes, std::memory_order_relaxed);
#ifdef ALCHEMY_BIG_PAGES_HEAP
  ::operator delete(p);
#else
  ::munmap(p, bytes);
#endif
}

/// std::allocator, except that an array of more than kHeapFirst bytes takes big pieces. For the
/// arrays that grow with a session: the identity map's, and its lists of objects.
template <class T>
struct BigAllocator {
  static_assert(alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__,
                "big pieces from the heap are aligned as operator new aligns");
  using value_type = T;
  BigAllocator() noexcept = default;
  template <class U>
  BigAllocator(const BigAllocator<U>&) noexcept {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    if (n > max_size()) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (bytes <= kHeapFirst) return std::allocator<T>{}.allocate(n);
    return static_cast<T*>(big_alloc(big_size(bytes)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    const std::size_t bytes = n * sizeof(T);
    if (bytes <= kHeapFirst) std::allocator<T>{}.deallocate(p, n);
    else big_free(p, big_size(bytes));
  }
  static constexpr std::size_t max_size() noexcept { return (~std::size_t{0} - kBigPiece) / sizeof(T); }

  template <class U>
  friend bool operator==(const BigAllocator&, const BigAllocator<U>&) noexcept {
    return true;
  }
};

/// Room in `v` for `extra` more elements, grown geometrically as push_back() grows it. A caller
/// that knows how many are coming (a flush registering its new objects) makes one allocation
/// instead of a chain of doublings, each of which copies the array into fresh memory that the
/// kernel then faults in page by page.
template <class V>
void reserve_more(V& v, std::size_t extra) {
  const std::size_t need = v.size() + extra;
  if (need > v.capacity()) v.reserve(need > 2 * v.capacity() ? need : 2 * v.capacity());
}

}  // namespace orm::detail
}  // namespace alchemy

#endif  // ALCHEMY_ORM_DETAIL_BIG_PAGES_HPP_
