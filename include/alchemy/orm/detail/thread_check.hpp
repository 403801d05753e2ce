// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// Detects a Session used from two threads at the same time. A session may move between threads
// (one at a time); overlapping use is the bug this catches. On in debug builds (no NDEBUG) or
// with ALCHEMY_THREAD_CHECKS defined; compiled out otherwise.
#ifndef ALCHEMY_ORM_DETAIL_THREAD_CHECK_HPP_
#define ALCHEMY_ORM_DETAIL_THREAD_CHECK_HPP_

#include <atomic>
#include <thread>

#include "alchemy/error.hpp"

#if !defined(NDEBUG) || defined(ALCHEMY_THREAD_CHECKS)
#define ALCHEMY_DETAIL_THREAD_CHECKS 1
#endif

namespace alchemy::orm::detail {

class ThreadCheck {
 public:
  /// Marks the session in use by this thread for the guard's lifetime (nesting allowed).
  class Guard {
   public:
    explicit Guard([[maybe_unused]] ThreadCheck& c) {
#ifdef ALCHEMY_DETAIL_THREAD_CHECKS
      check_ = &c;
      const auto me = std::this_thread::get_id();
      std::thread::id expected{};
      if (!c.owner_.compare_exchange_strong(expected, me) && expected != me)
        throw InvalidRequestError(
            "a Session was used from two threads at the same time; a session is for one thread at "
            "a time (give each thread its own, e.g. db.session)");
      ++c.depth_;
#endif
    }
    ~Guard() {
#ifdef ALCHEMY_DETAIL_THREAD_CHECKS
      if (--check_->depth_ == 0) check_->owner_.store(std::thread::id{});
#endif
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
#ifdef ALCHEMY_DETAIL_THREAD_CHECKS
    ThreadCheck* check_ = nullptr;
#endif
  };

 private:
#ifdef ALCHEMY_DETAIL_THREAD_CHECKS
  std::atomic<std::thread::id> owner_{};
  int depth_ = 0;
#endif
};

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_THREAD_CHECK_HPP_
