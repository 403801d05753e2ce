// SPDX-License-Identifier: MIT
// File: engine/pool.hpp
//
// The connection pool, as SQLAlchemy's QueuePool: up to pool_size idle connections, up to
// max_overflow more under load, checkouts that wait pool_timeout and then throw
// PoolTimeoutError, pre-ping and recycle at checkout, rollback on return. A SQLite memory
// database gets a pool of exactly one connection that is never closed (SQLAlchemy's
// StaticPool), handed to one user at a time. Thread-safe.
#ifndef ALCHEMY_ENGINE_POOL_HPP_
#define ALCHEMY_ENGINE_POOL_HPP_

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "alchemy/config.hpp"
#include "alchemy/dialect/driver.hpp"
#include "alchemy/engine/options.hpp"
#include "alchemy/error.hpp"

namespace alchemy::engine {

/// One pooled database connection.
struct PoolEntry {
  std::unique_ptr<dialect::Connection> connection;
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
  bool fresh = true;         ///< never checked out: no need to pre-ping
  bool invalidated = false;  ///< discard on return
};

class Pool {
 public:
  Pool(const dialect::Driver& driver, dialect::ConnectParams params, const EngineOptions& options,
       bool single_connection)
      : driver_(driver), params_(std::move(params)), options_(options),
        single_(single_connection) {
    if (single_) {
      options_.pool_size = 1;
      options_.max_overflow = 0;
    }
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Takes a connection, opening one if the pool allows; waits up to pool_timeout otherwise.
  std::unique_ptr<PoolEntry> checkout();

  /// Gives a connection back: rolled back by the caller, kept if the pool has room and the
  /// connection is healthy, closed otherwise.
  void checkin(std::unique_ptr<PoolEntry> entry) noexcept;

  /// Closes every idle connection; checked-out ones close when returned.
  void dispose() noexcept;

  int checked_out() const {
    std::lock_guard lock(mutex_);
    return checked_out_;
  }
  int size() const {
    std::lock_guard lock(mutex_);
    return open_;
  }
  const EngineOptions& options() const noexcept { return options_; }

 private:
  std::unique_ptr<PoolEntry> open_new();

  /// Gives back the slot of a checkout that could not produce a connection.
  void release_slot() noexcept;

  std::unique_ptr<PoolEntry> prepare_checkout(std::unique_ptr<PoolEntry> entry);

  const dialect::Driver& driver_;
  dialect::ConnectParams params_;
  EngineOptions options_;
  bool single_;
  mutable std::mutex mutex_;
  std::condition_variable cond_;
  std::deque<std::unique_ptr<PoolEntry>> idle_;
  int open_ = 0;
  int checked_out_ = 0;
  bool disposed_ = false;
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::unique_ptr<PoolEntry> Pool::checkout() {
  std::unique_lock lock(mutex_);
  if (disposed_) throw ResourceClosedError("this engine was disposed; create a new one");
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(options_.pool_timeout);
  for (;;) {
    if (!idle_.empty()) {
      auto entry = std::move(idle_.front());
      idle_.pop_front();
      ++checked_out_;
      lock.unlock();
      return prepare_checkout(std::move(entry));
    }
    if (open_ < options_.pool_size + options_.max_overflow) {
      ++open_;
      ++checked_out_;
      lock.unlock();
      return open_new();
    }
    if (cond_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= options_.pool_size + options_.max_overflow) {
      char timeout[32];
      std::snprintf(timeout, sizeof timeout, "%.2f", options_.pool_timeout.count());
      throw PoolTimeoutError("QueuePool limit of size " + std::to_string(options_.pool_size) +
                             " overflow " + std::to_string(options_.max_overflow) +
                             " reached, connection timed out, timeout " + timeout);
    }
  }
}

ALCHEMY_INLINE void Pool::checkin(std::unique_ptr<PoolEntry> entry) noexcept {
  std::unique_ptr<PoolEntry> discard;
  {
    std::lock_guard lock(mutex_);
    --checked_out_;
    const bool keep = !disposed_ && !entry->invalidated && !entry->connection->is_broken() &&
                      static_cast<int>(idle_.size()) < options_.pool_size;
    if (keep) {
      idle_.push_back(std::move(entry));
    } else {
      --open_;
      discard = std::move(entry);
    }
  }
  cond_.notify_one();
  discard.reset();  // close outside the lock
}

ALCHEMY_INLINE void Pool::dispose() noexcept {
  std::deque<std::unique_ptr<PoolEntry>> closing;
  {
    std::lock_guard lock(mutex_);
    disposed_ = true;
    open_ -= static_cast<int>(idle_.size());
    closing.swap(idle_);
  }
  cond_.notify_all();
}

ALCHEMY_INLINE std::unique_ptr<PoolEntry> Pool::open_new() {
  try {
    auto entry = std::make_unique<PoolEntry>();
    entry->connection = driver_.connect(params_);
    entry->fresh = false;  // this checkout opened it: no ping now, but at every later checkout
    return entry;
  } catch (...) {
    release_slot();
    throw;
  }
}

ALCHEMY_INLINE void Pool::release_slot() noexcept {
  {
    std::lock_guard lock(mutex_);
    --open_;
    --checked_out_;
  }
  cond_.notify_one();
}

ALCHEMY_INLINE std::unique_ptr<PoolEntry> Pool::prepare_checkout(std::unique_ptr<PoolEntry> entry) {
  const auto now = std::chrono::steady_clock::now();
  bool replace = entry->connection->is_broken();
  if (!replace && options_.pool_recycle &&
      now - entry->created > std::chrono::duration_cast<std::chrono::steady_clock::duration>(*options_.pool_recycle))
    replace = true;
  // A connection opened by this checkout needs no ping.
  if (!replace && options_.pool_pre_ping && !entry->fresh) replace = !entry->connection->ping();
  if (replace) {
    entry->connection.reset();
    try {
      entry->connection = driver_.connect(params_);
      entry->created = now;
    } catch (...) {
      release_slot();
      throw;
    }
  }
  entry->fresh = false;
  return entry;
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::engine

#endif  // ALCHEMY_ENGINE_POOL_HPP_
