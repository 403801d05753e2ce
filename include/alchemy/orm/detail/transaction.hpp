// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// Transaction guards and savepoints: Session::begin(), Session::begin_nested() and
// SessionTransaction. A savepoint remembers where the transaction's lists (tx_touched_,
// tx_deleted_) stood and, for each object UPDATEd inside it, its values at the savepoint; rolling
// back to it undoes the database with ROLLBACK TO SAVEPOINT and the objects with those marks.
#ifndef ALCHEMY_ORM_DETAIL_TRANSACTION_HPP_
#define ALCHEMY_ORM_DETAIL_TRANSACTION_HPP_

#include "alchemy/config.hpp"

#include <string>
#include <utility>

namespace alchemy {

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE SessionTransaction Session::begin() {
  const auto guard = use();
  check_usable();
  if (in_transaction() || !savepoints_.empty())
    throw InvalidRequestError("A transaction is already begun on this Session: commit() or rollback() it "
                              "first, or use begin_nested() for a savepoint");
  return SessionTransaction(*this, tx_generation_, false);
}

ALCHEMY_INLINE SessionTransaction Session::begin_nested() {
  const auto guard = use();
  check_usable();
  flush();
  Savepoint sp;
  sp.id = ++savepoint_serial_;
  sp.name = "sa_savepoint_" + std::to_string(sp.id);
  sp.touched_mark = tx_touched_.size();
  sp.deleted_mark = tx_deleted_.size();
  // The default engine's transaction begins now if it has not (SQLAlchemy emits SAVEPOINT at
  // once); connections that join later get the open savepoints in connection_for().
  {
    auto it = connections_.find(engine_.get());
    if (it == connections_.end()) it = connections_.emplace(engine_.get(), engine_->connect()).first;
    if (!it->second.in_transaction()) {
      it->second.begin();
      for (const auto& open : savepoints_) it->second.execute(engine_->dialect().compiler().savepoint(open.name));
    }
  }
  for (auto& [e, conn] : connections_) {
    if (!conn.in_transaction()) continue;
    try {
      conn.execute(e->dialect().compiler().savepoint(sp.name));
    } catch (const std::exception& ex) {
      abort_transaction(ex.what());
      throw;
    }
  }
  savepoints_.push_back(std::move(sp));
  return SessionTransaction(*this, savepoints_.back().id, true);
}

ALCHEMY_INLINE std::size_t Session::savepoint_index(std::uint64_t id) const noexcept {
  for (std::size_t i = 0; i < savepoints_.size(); ++i)
    if (savepoints_[i].id == id) return i;
  return savepoints_.size();
}

ALCHEMY_INLINE void Session::keep_savepoint_image(const StatePtr& st) {
  auto& sp = savepoints_.back();
  if (!st->snapshot || sp.imaged.count(st.get())) return;
  sp.imaged.emplace(st.get(), sp.images.size());
  sp.images.emplace_back(st, orm::detail::HeapSnapshot::copy_of(st->snapshot));
}

ALCHEMY_INLINE void Session::restore_to(Savepoint& sp) {
  // Unflushed work is all younger than the savepoint (begin_nested() flushed).
  discard_unflushed();
  // INSERTed since: transient again. UPDATEd since for the first time in the transaction: the
  // transaction's before-image goes (the savepoint image below restores the same values).
  for (std::size_t i = sp.touched_mark; i < tx_touched_.size(); ++i) {
    const auto& st = tx_touched_[i];
    if (!st->new_in_transaction) {
      drop_before_image(*st);
      continue;
    }
    forget_insert(st);
  }
  tx_touched_.resize(sp.touched_mark);
  // DELETEd since: back, unless they left the session (inserted since, or expunged).
  for (std::size_t i = sp.deleted_mark; i < tx_deleted_.size(); ++i) {
    const auto& st = tx_deleted_[i];
    if (st->session != this) continue;
    st->state = ObjectState::persistent;
    identity_.insert_or_assign(st->key, st);
    watch(st);
  }
  tx_deleted_.resize(sp.deleted_mark);
  for (const auto& [st, image] : sp.images) {
    if (st->session != this || st->state != ObjectState::persistent) continue;
    set_snapshot(*st, image.get());
    restore_snapshot(*st);
  }
  // Edits never flushed go too: every watched object returns to its snapshot.
  prune_watch();
  for (const auto& st : watch_)
    if (st->snapshot && changed_mask(*st)) restore_snapshot(*st);
}

ALCHEMY_INLINE void Session::rollback_to_savepoint(std::size_t index) {
  const std::string& name = savepoints_[index].name;
  for (auto& [e, conn] : connections_) {
    if (!conn.in_transaction()) continue;
    try {
      conn.execute(e->dialect().compiler().rollback_to_savepoint(name));
    } catch (const std::exception& ex) {
      abort_transaction(ex.what());
      throw;
    }
  }
  while (savepoints_.size() > index) {
    restore_to(savepoints_.back());
    savepoints_.pop_back();
  }
  compact_snapshots();
  // As rollback(): loaded relationships may hold what the savepoint added; they load again.
  orm::detail::SessionAccess::expire_relationships(*this);
}

ALCHEMY_INLINE void Session::release_savepoint(std::uint64_t id) {
  const auto index = savepoint_index(id);
  if (index == savepoints_.size())
    throw InvalidRequestError("this savepoint is no longer active (it was rolled back, or the "
                              "transaction ended)");
  if (index + 1 != savepoints_.size())
    throw InvalidRequestError("a nested transaction inside this savepoint is still open: commit or "
                              "roll back the innermost one first");
  flush();  // a failure here rolls back to this savepoint and throws
  for (auto& [e, conn] : connections_) {
    if (!conn.in_transaction()) continue;
    try {
      conn.execute(e->dialect().compiler().release_savepoint(savepoints_.back().name));
    } catch (const std::exception& ex) {
      abort_transaction(ex.what());
      throw;
    }
  }
  // The outer savepoint takes over the images it lacks: its own rollback must undo them too.
  Savepoint done = std::move(savepoints_.back());
  savepoints_.pop_back();
  if (!savepoints_.empty()) {
    auto& outer = savepoints_.back();
    for (auto& [st, image] : done.images) {
      if (outer.imaged.count(st.get())) continue;
      outer.imaged.emplace(st.get(), outer.images.size());
      outer.images.emplace_back(std::move(st), std::move(image));
    }
  }
}

ALCHEMY_INLINE void Session::abort_transaction(const std::string& what) noexcept {
  for (auto& [e, conn] : connections_) {
    try {
      if (conn.in_transaction()) conn.rollback();
    } catch (...) {
      conn.invalidate();
    }
  }
  // The transaction is over: give the connections back now. One whose ROLLBACK failed is
  // invalidated and closed by the pool, so it cannot keep SQLite's write lock (or a server
  // transaction) until the caller gets round to rollback().
  connections_.clear();
  savepoints_.clear();
  try {
    pending_rollback_ = what;
  } catch (...) {
    pending_rollback_.emplace();
  }
}

ALCHEMY_INLINE void Session::abort_flush(const std::string& what) {
  if (savepoints_.empty()) {
    abort_transaction(what);
    try {
      fire(event::after_rollback);
    } catch (...) {
      // The flush's own error is the one the caller gets.
    }
    return;
  }
  try {
    rollback_to_savepoint(savepoints_.size() - 1);
  } catch (...) {
    // ROLLBACK TO SAVEPOINT failed: the whole transaction was rolled back instead and the session
    // waits for rollback(). The flush's own error is the one the caller gets.
  }
}

// --- SessionTransaction ---------------------------------------------------------------------

ALCHEMY_INLINE bool SessionTransaction::is_active() const noexcept {
  if (!session_) return false;
  if (nested_) return session_->savepoint_index(id_) < session_->savepoints_.size();
  return session_->tx_generation_ == id_;
}

ALCHEMY_INLINE void SessionTransaction::commit() {
  if (!session_) throw InvalidRequestError("this transaction was already committed or moved from");
  if (nested_) {
    session_->release_savepoint(id_);
  } else {
    if (session_->tx_generation_ != id_)
      throw InvalidRequestError("this transaction already ended (the session was committed, rolled "
                                "back or closed)");
    session_->commit();
  }
  session_ = nullptr;
}

ALCHEMY_INLINE void SessionTransaction::rollback() {
  if (!session_) return;
  Session* s = std::exchange(session_, nullptr);
  if (nested_) {
    const auto index = s->savepoint_index(id_);
    if (index < s->savepoints_.size()) {
      const auto guard = s->use();
      s->rollback_to_savepoint(index);
    }
  } else if (s->tx_generation_ == id_) {
    s->rollback();
  }
}

ALCHEMY_INLINE SessionTransaction::~SessionTransaction() {
  try {
    rollback();
  } catch (...) {
    // A destructor must not throw. A failed ROLLBACK TO SAVEPOINT already rolled back the whole
    // transaction (the session waits for rollback()); a failed ROLLBACK discarded the connection.
  }
}

// --- model_changes() ---------------------------------------------------------------------

ALCHEMY_INLINE std::vector<ModelChange> Session::model_changes() const {
  std::vector<ModelChange> out;
  std::unordered_map<const orm::InstanceState*, std::size_t> at;
  const auto put = [&](const StatePtr& st, ModelChange::Kind kind) {
    const auto [it, fresh] = at.try_emplace(st.get(), out.size());
    if (fresh) {
      out.emplace_back(st, kind);
      return;
    }
    auto& c = out[it->second];
    if (kind == ModelChange::Kind::delete_) c.kind_ = kind;  // an insert stays an insert
  };
  for (const auto& st : tx_touched_)
    put(st, st->new_in_transaction ? ModelChange::Kind::insert : ModelChange::Kind::update);
  for (const auto& st : tx_deleted_) put(st, ModelChange::Kind::delete_);
  for (const auto& st : new_) put(st, ModelChange::Kind::insert);
  for (const auto& st : watch_)
    if (st->session == this && st->state == ObjectState::persistent && !st->delete_pending &&
        st->snapshot && changed_mask(*st) != 0)
      put(st, ModelChange::Kind::update);
  for (const auto& st : deleted_) put(st, ModelChange::Kind::delete_);
  return out;
}

#endif  // ALCHEMY_IMPL
}  // namespace alchemy

#endif  // ALCHEMY_ORM_DETAIL_TRANSACTION_HPP_
