// SPDX-License-Identifier: MIT
// File: engine/record.hpp
//
// Query recording (Flask-SQLAlchemy's SQLALCHEMY_RECORD_QUERIES and get_recorded_queries()):
// every statement an engine executes successfully, with its parameters, start and end time and
// the user's call site when known.
//
//   alchemy::Config cfg{.SQLALCHEMY_DATABASE_URI = url, .SQLALCHEMY_RECORD_QUERIES = true};
//   alchemy::SQLAlchemy db(cfg);
//   Account::query().filter_by("handle", "jdoe").first();
//   for (const auto& q : db.get_recorded_queries())
//     fmt::print("{} {}us {}\n", q.statement, q.duration().count() / 1000, q.location);
//
// Flask-SQLAlchemy keeps the list per request. Here it is kept per thread of each SQLAlchemy
// object (a request is served by one thread): get_recorded_queries() returns the calling
// thread's, clear_recorded_queries() and db.session.remove() empty it.
#ifndef ALCHEMY_ENGINE_RECORD_HPP_
#define ALCHEMY_ENGINE_RECORD_HPP_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy {

/// One statement that ran.
struct RecordedQuery {
  /// The SQL text, with placeholders.
  std::string statement;
  /// The bound values in placeholder order (all rows, one after the other, for a batch). Empty
  /// when the engine has hide_parameters.
  std::vector<sql::Value> parameters;
  bool parameters_hidden = false;
  /// How many times the statement ran with its own parameters (more than 1 for a batch).
  std::size_t executions = 1;
  std::chrono::steady_clock::time_point start_time;
  std::chrono::steady_clock::time_point end_time;
  /// "file:line (function)" of the Query, Session or SQLAlchemy call that sent the statement
  /// from user code; empty for statements sent without one (e.g. commit()'s flush).
  std::string location;

  std::chrono::nanoseconds duration() const noexcept { return end_time - start_time; }
};

/// The source position of a call, like SourceLocation::current() as a default argument.
/// Not SourceLocation: clang 14 with libstdc++ 12 has none (it lacks the builtin libstdc++
/// needs), while __builtin_FILE/LINE/FUNCTION in a default argument name the caller on both.
struct SourceLocation {
  static constexpr SourceLocation current(const char* file = __builtin_FILE(),
                                          unsigned line = __builtin_LINE(),
                                          const char* function = __builtin_FUNCTION()) noexcept {
    return SourceLocation{file, line, function};
  }
  constexpr const char* file_name() const noexcept { return file_; }
  constexpr unsigned line() const noexcept { return line_; }
  constexpr const char* function_name() const noexcept { return function_; }

  const char* file_ = "";
  unsigned line_ = 0;
  const char* function_ = "";
};

namespace engine {

namespace detail {
/// The user's call site of the outermost alchemy call running on this thread.
inline const SourceLocation*& current_call_site() noexcept {
  thread_local const SourceLocation* site = nullptr;
  return site;
}
}  // namespace detail

/// Marks the user's call site for the statements sent while it lives. Nested guards keep the
/// outermost site, which is the user's.
class CallSite {
 public:
  explicit CallSite(const SourceLocation& where) noexcept
      : outer_(detail::current_call_site() == nullptr) {
    if (outer_) detail::current_call_site() = &where;
  }
  CallSite(const CallSite&) = delete;
  CallSite& operator=(const CallSite&) = delete;
  ~CallSite() {
    if (outer_) detail::current_call_site() = nullptr;
  }

 private:
  bool outer_;
};

/// The recorded statements of one SQLAlchemy object (shared by its engines), per thread.
class QueryRecorder {
 public:
  void record(std::string_view sql, std::span<const sql::ValueRef> params, std::size_t executions,
              bool hide_parameters, std::chrono::steady_clock::time_point start,
              std::chrono::steady_clock::time_point end);

  /// The calling thread's statements, oldest first.
  std::vector<RecordedQuery> get() const;
  /// Forgets the calling thread's statements.
  void clear();
  /// Forgets every thread's statements.
  void clear_all();

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::thread::id, std::vector<RecordedQuery>> by_thread_;
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void QueryRecorder::record(std::string_view sql, std::span<const sql::ValueRef> params,
                                          std::size_t executions, bool hide_parameters,
                                          std::chrono::steady_clock::time_point start,
                                          std::chrono::steady_clock::time_point end) {
  RecordedQuery q;
  q.statement = std::string(sql);
  q.parameters_hidden = hide_parameters;
  if (!hide_parameters) {
    q.parameters.reserve(params.size());
    for (const auto& p : params) q.parameters.emplace_back(p);
  }
  q.executions = executions;
  q.start_time = start;
  q.end_time = end;
  if (const auto* where = detail::current_call_site())
    q.location = std::string(where->file_name()) + ":" + std::to_string(where->line()) + " (" +
                 where->function_name() + ")";
  std::lock_guard lock(mutex_);
  by_thread_[std::this_thread::get_id()].push_back(std::move(q));
}

ALCHEMY_INLINE std::vector<RecordedQuery> QueryRecorder::get() const {
  std::lock_guard lock(mutex_);
  auto it = by_thread_.find(std::this_thread::get_id());
  return it == by_thread_.end() ? std::vector<RecordedQuery>{} : it->second;
}

ALCHEMY_INLINE void QueryRecorder::clear() {
  std::lock_guard lock(mutex_);
  by_thread_.erase(std::this_thread::get_id());
}

ALCHEMY_INLINE void QueryRecorder::clear_all() {
  std::lock_guard lock(mutex_);
  by_thread_.clear();
}
#endif  // ALCHEMY_IMPL

}  // namespace engine
}  // namespace alchemy

#endif  // ALCHEMY_ENGINE_RECORD_HPP_
