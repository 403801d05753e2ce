// SPDX-License-Identifier: MIT
// A session used from two threads at once is detected (debug builds, or ALCHEMY_THREAD_CHECKS).
#define ALCHEMY_THREAD_CHECKS 1
#include <alchemy/orm/detail/thread_check.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using alchemy::orm::detail::ThreadCheck;

TEST_CASE("a guard taken by another thread makes a second thread's guard throw", "[orm][threads]") {
  ThreadCheck check;
  std::atomic<bool> held{false}, release{false};
  std::thread owner([&] {
    ThreadCheck::Guard g(check);
    held = true;
    while (!release) std::this_thread::yield();
  });
  while (!held) std::this_thread::yield();
  CHECK_THROWS_AS(ThreadCheck::Guard(check), alchemy::InvalidRequestError);
  CHECK_THROWS_WITH(ThreadCheck::Guard(check), Catch::Contains("two threads at the same time"));
  release = true;
  owner.join();
  CHECK_NOTHROW(ThreadCheck::Guard(check));  // free again once the owner is done
}

TEST_CASE("the same thread may nest guards, and a session may move between threads", "[orm][threads]") {
  ThreadCheck check;
  {
    ThreadCheck::Guard a(check);
    ThreadCheck::Guard b(check);
  }
  std::thread other([&] { CHECK_NOTHROW(ThreadCheck::Guard(check)); });
  other.join();
}
