// SPDX-License-Identifier: MIT
// File: orm/signals.hpp
//
// Flask-SQLAlchemy's modification tracking (SQLALCHEMY_TRACK_MODIFICATIONS): the signals
// before_models_committed and models_committed, sent by db.session's commit() with the list of
// objects the transaction inserts, updates and deletes.
//
//   alchemy::Config config;
//   config.SQLALCHEMY_TRACK_MODIFICATIONS = true;
//   alchemy::SQLAlchemy db(config);
//   auto c = db.models_committed.connect([](alchemy::SQLAlchemy&, const auto& changes) {
//     for (const auto& change : changes)
//       if (auto a = change.as<Account>()) fmt::print("{} {}\n", change.operation(), *a);
//   });
//
// As in Flask-SQLAlchemy: before_models_committed is sent at the start of commit(), before its
// final flush, with what earlier flushes wrote and what is pending; models_committed after the
// COMMIT succeeded, with the same list. A rollback forgets the list. Each object appears once:
// "insert" for an object inserted by the transaction (even if changed since), "update", or
// "delete" (which wins over the others). Only db.session sends them; a Session you construct
// yourself has Session::model_changes() and session events (orm/events.hpp) instead.
//
// Connect receivers at start-up: sessions of every thread send, each receiver runs on the
// committing thread. An exception from a before_models_committed receiver stops the commit
// before anything is written (the transaction stays open for rollback()); one from a
// models_committed receiver reaches the caller of commit(), whose work is already committed.
#ifndef ALCHEMY_ORM_SIGNALS_HPP_
#define ALCHEMY_ORM_SIGNALS_HPP_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/orm/events.hpp"
#include "alchemy/orm/instance_state.hpp"
#include "alchemy/orm/model.hpp"

namespace alchemy {

class SQLAlchemy;

/// One object a transaction writes, and how.
class ModelChange {
 public:
  enum class Kind : std::uint8_t { insert, update, delete_ };

  ModelChange(std::shared_ptr<orm::InstanceState> state, Kind kind) noexcept
      : state_(std::move(state)), kind_(kind) {}

  Kind kind() const noexcept { return kind_; }
  /// "insert", "update" or "delete", Flask-SQLAlchemy's operation names.
  std::string_view operation() const noexcept {
    return kind_ == Kind::insert ? "insert" : kind_ == Kind::update ? "update" : "delete";
  }
  /// The object, when it is a T; null otherwise.
  template <ModelType T>
  std::shared_ptr<T> as() const {
    if (state_->mapper != &mapper_of<T>()) return nullptr;
    return orm::detail::object_ptr<T>(state_);
  }
  const orm::Mapper& mapper() const noexcept { return *state_->mapper; }
  /// The object's repr(), e.g. "<Account jdoe>".
  std::string repr() const { return state_->mapper->repr(state_->object); }

 private:
  friend class Session;
  std::shared_ptr<orm::InstanceState> state_;
  Kind kind_;
};

/// A signal of a SQLAlchemy object: receivers get the object and the list of changes.
class ModelsSignal {
 public:
  using Receiver = std::function<void(SQLAlchemy&, const std::vector<ModelChange>&)>;

  /// Adds a receiver; the returned Listener's remove() disconnects it.
  event::Listener connect(Receiver fn);
  bool empty() const;
  /// Calls every receiver, in the order they were connected.
  void send(SQLAlchemy& db, const std::vector<ModelChange>& changes) const;

 private:
  struct State {
    mutable std::mutex mutex;
    std::vector<std::pair<std::uint64_t, Receiver>> receivers;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE event::Listener ModelsSignal::connect(Receiver fn) {
  const auto id = orm::next_hook_id();
  {
    std::lock_guard lock(state_->mutex);
    state_->receivers.emplace_back(id, std::move(fn));
  }
  return event::Listener([weak = std::weak_ptr<State>(state_), id] {
    if (auto s = weak.lock()) {
      std::lock_guard lock(s->mutex);
      std::erase_if(s->receivers, [id](const auto& r) { return r.first == id; });
    }
  });
}

ALCHEMY_INLINE bool ModelsSignal::empty() const {
  std::lock_guard lock(state_->mutex);
  return state_->receivers.empty();
}

ALCHEMY_INLINE void ModelsSignal::send(SQLAlchemy& db, const std::vector<ModelChange>& changes) const {
  std::vector<Receiver> receivers;
  {
    std::lock_guard lock(state_->mutex);
    for (const auto& [id, fn] : state_->receivers) receivers.push_back(fn);
  }
  for (const auto& fn : receivers) fn(db, changes);
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy

#endif  // ALCHEMY_ORM_SIGNALS_HPP_
