// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// The unit of work: flush (inserts and updates parents first, deletes children first, all or
// nothing), commit, rollback and close.
#ifndef ALCHEMY_ORM_DETAIL_FLUSH_HPP_
#define ALCHEMY_ORM_DETAIL_FLUSH_HPP_

#include <algorithm>
#include <vector>

namespace alchemy {
namespace orm::detail {

/// Mappers ordered so that a table comes after the tables its foreign keys reference.
inline std::vector<const Mapper*> dependency_order(std::vector<const Mapper*> mappers) {
  std::vector<const Mapper*> out;
  std::vector<const Mapper*> rest = std::move(mappers);
  while (!rest.empty()) {
    bool progressed = false;
    for (std::size_t i = 0; i < rest.size(); ++i) {
      const Mapper* m = rest[i];
      bool ready = true;
      for (const auto& c : m->table().columns()) {
        if (!c->foreign_key || c->foreign_key->table == m->table().name()) continue;
        for (const Mapper* other : rest)
          if (other != m && other->table().name() == c->foreign_key->table) ready = false;
      }
      if (ready) {
        out.push_back(m);
        rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
        progressed = true;
        break;
      }
    }
    if (!progressed) {  // a cycle: keep declaration order for what is left
      out.insert(out.end(), rest.begin(), rest.end());
      break;
    }
  }
  return out;
}

struct Flush {
  using StatePtr = std::shared_ptr<InstanceState>;
  struct Update {
    StatePtr state;
    std::uint64_t mask;
  };

  Session& s;
  std::vector<StatePtr> inserted;  // rows INSERTed by this flush, to undo key assignment on failure
  std::vector<sql::Value> scratch;
  std::vector<sql::ValueRef> params;

  void insert(engine::Connection& conn, const StatePtr& st) {
    const Mapper& m = *st->mapper;
    const auto& d = s.conn_dialect(m);
    const MapperSql& q = m.sql_for(d);
    const int gen = m.generated_key();
    bool generate = false;
    if (gen >= 0) {
      const auto v = m.access(std::size_t(gen)).get(st->object);
      generate = v.kind() == sql::ValueKind::integer && v.as_integer() == 0;
    }
    scratch.resize(m.column_count());
    params.clear();
    for (std::size_t i = 0; i < m.column_count(); ++i)
      if (!(generate && static_cast<int>(i) == gen)) params.push_back(m.access(i).ref(st->object, scratch[i]));
    auto& stmt = conn.prepare(generate ? q.insert_without_key : q.insert_with_key);
    inserted.push_back(st);
    const dialect::ResetGuard reset(stmt);
    conn.run(stmt, params);
    if (generate) {
      if (d.insert_returning()) {
        if (!stmt.next())
          throw InvalidRequestError("INSERT ... RETURNING returned no row for " + m.class_name());
        m.access(std::size_t(gen)).read(st->object, stmt.column(0, m.column(std::size_t(gen)).type.kind));
      } else {
        const auto id = stmt.last_insert_id();
        if (!id) throw InvalidRequestError("the driver reported no generated key for " + m.class_name());
        m.access(std::size_t(gen)).read(st->object, sql::ValueRef::integer(*id));
      }
      st->key_generated = true;
    }
  }

  void update(engine::Connection& conn, const Update& u) {
    const Mapper& m = *u.state->mapper;
    for (auto k : m.key_columns())
      if (u.mask & (std::uint64_t{1} << k))
        throw InvalidRequestError("changing the primary key of " + m.repr(u.state->snapshot) +
                                  " is not supported; delete the object and add a new one");
    const auto& d = s.conn_dialect(m);
    scratch.resize(m.column_count() + m.key_columns().size());
    params.clear();
    for (std::size_t i = 0; i < m.column_count(); ++i)
      if (u.mask & (std::uint64_t{1} << i)) params.push_back(m.access(i).ref(u.state->object, scratch[i]));
    std::size_t j = m.column_count();
    for (auto k : m.key_columns()) params.push_back(m.access(k).ref(u.state->snapshot, scratch[j++]));
    auto& stmt = conn.prepare(m.update_sql(d, u.mask));
    std::int64_t matched = 0;
    {
      const dialect::ResetGuard reset(stmt);
      conn.run(stmt, params);
      matched = stmt.affected_rows();
    }
    if (matched != 1)
      throw StaleDataError("UPDATE statement on table '" + m.table().name() +
                           "' expected to update 1 row(s); " + std::to_string(matched) +
                           " were matched.");
  }

  void remove(engine::Connection& conn, const StatePtr& st) {
    const Mapper& m = *st->mapper;
    scratch.resize(m.key_columns().size());
    params.clear();
    std::size_t j = 0;
    for (auto k : m.key_columns()) params.push_back(m.access(k).ref(st->snapshot, scratch[j++]));
    auto& stmt = conn.prepare(m.sql_for(s.conn_dialect(m)).delete_by_key);
    const dialect::ResetGuard reset(stmt);
    conn.run(stmt, params);
  }
};

}  // namespace orm::detail

inline void Session::flush() {
  const auto guard = use();
  check_usable();
  if (flushing_) return;
  using orm::detail::Flush;
  // The dirty scan, over the watched objects only (see session.hpp). An unchanged one that
  // only the session holds (the identity map and this list: use_count 2) cannot change until
  // the session hands it out again, so it leaves the list.
  std::vector<Flush::Update> dirty;
  std::erase_if(watch_, [&](const StatePtr& st) {
    if (st->session != this || st->state != ObjectState::persistent) {
      st->watched_by = nullptr;
      return true;
    }
    if (const auto mask = changed_mask(*st)) {
      dirty.push_back({st, mask});
      return false;
    }
    if (st.use_count() > 2) return false;
    st->watched_by = nullptr;
    return true;
  });
  if (new_.empty() && deleted_.empty() && dirty.empty()) return;
  // SQLAlchemy orders updates by primary key within a table.
  std::sort(dirty.begin(), dirty.end(), [](const Flush::Update& a, const Flush::Update& b) {
    if (a.state->mapper != b.state->mapper) return a.state->mapper < b.state->mapper;
    if (a.state->key.key.kind() == sql::ValueKind::integer && b.state->key.key.kind() == sql::ValueKind::integer)
      return a.state->key.key.as_integer() < b.state->key.key.as_integer();
    return a.state->key.key.kind() == sql::ValueKind::text && b.state->key.key.kind() == sql::ValueKind::text &&
           a.state->key.key.as_text() < b.state->key.key.as_text();
  });
  std::vector<const orm::Mapper*> mappers;
  const auto note = [&](const orm::Mapper* m) {
    if (std::find(mappers.begin(), mappers.end(), m) == mappers.end()) mappers.push_back(m);
  };
  for (const auto& st : new_) note(st->mapper);
  for (const auto& u : dirty) note(u.state->mapper);
  for (const auto& st : deleted_) note(st->mapper);
  mappers = orm::detail::dependency_order(std::move(mappers));

  Flush f{*this, {}, {}, {}};
  flushing_ = true;
  try {
    for (const orm::Mapper* m : mappers) {
      for (const auto& st : new_)
        if (st->mapper == m) f.insert(connection_for(*m), st);
      for (const auto& u : dirty)
        if (u.state->mapper == m) f.update(connection_for(*m), u);
    }
    for (auto it = mappers.rbegin(); it != mappers.rend(); ++it)
      for (const auto& st : deleted_)
        if (st->mapper == *it) f.remove(connection_for(**it), st);
  } catch (const std::exception& e) {
    flushing_ = false;
    // Nothing of a failed flush stays: keys it generated are cleared, the transaction is rolled
    // back, and the session waits for rollback() (SQLAlchemy's contract).
    for (const auto& st : f.inserted) {
      if (st->key_generated) {
        st->mapper->access(std::size_t(st->mapper->generated_key())).set(st->object, std::int64_t{0});
        st->key_generated = false;
      }
    }
    for (auto& [e, conn] : connections_) {
      try {
        if (conn.in_transaction()) conn.rollback();
      } catch (...) {
        conn.invalidate();
      }
    }
    pending_rollback_ = e.what();
    throw;
  }
  flushing_ = false;

  for (const auto& st : new_) {
    st->state = ObjectState::persistent;
    st->new_in_transaction = true;
    st->key = orm::IdentityKey{st->mapper, key_of_object(*st->mapper, st->object)};
    st->mapper->assign(st->snapshot, st->object);
    st->has_snapshot = true;
    identity_.insert_or_assign(st->key, st);
    tx_touched_.push_back(st);
    watch(st);  // add() handed it out
  }
  for (const auto& u : dirty) {
    if (!u.state->before_transaction && !u.state->new_in_transaction) {
      u.state->before_transaction = u.state->mapper->clone(u.state->snapshot);
      tx_touched_.push_back(u.state);
    }
    u.state->mapper->assign(u.state->snapshot, u.state->object);
  }
  for (const auto& st : deleted_) {
    st->state = ObjectState::deleted;
    st->delete_pending = false;
    identity_.erase(st->key);
    tx_deleted_.push_back(st);
  }
  new_.clear();
  deleted_.clear();
}

inline void Session::release_connections(bool commit) {
  std::exception_ptr error;
  for (auto& [e, conn] : connections_) {
    try {
      if (conn.in_transaction()) {
        if (commit)
          conn.commit();
        else
          conn.rollback();
      }
    } catch (...) {
      conn.invalidate();
      if (!error) error = std::current_exception();
    }
  }
  connections_.clear();
  if (error) std::rethrow_exception(error);
}

inline void Session::commit() {
  const auto guard = use();
  flush();
  try {
    release_connections(true);
  } catch (const std::exception& e) {
    // The transaction is gone (e.g. a serialization failure at COMMIT): as after a failed
    // flush, the caller must roll back before the session does more work.
    pending_rollback_ = e.what();
    throw;
  }
  for (const auto& st : tx_touched_) {
    st->new_in_transaction = false;
    st->key_generated = false;
    st->before_transaction.reset();
  }
  tx_touched_.clear();
  for (const auto& st : tx_deleted_) {
    st->state = ObjectState::detached;
    st->session = nullptr;
  }
  if (!tx_deleted_.empty()) prune_watch();
  tx_deleted_.clear();
}

inline void Session::rollback() {
  const auto guard = use();
  pending_rollback_.reset();
  try {
    release_connections(false);
  } catch (...) {
    // A ROLLBACK that fails means the connection is gone, and a server rolls back the work of a
    // lost connection: the connection was discarded, and the session carries on.
  }
  // Objects INSERTed in the transaction no longer exist: they become transient again.
  for (const auto& st : tx_touched_) {
    if (!st->new_in_transaction) continue;
    identity_.erase(st->key);
    if (st->key_generated)
      st->mapper->access(std::size_t(st->mapper->generated_key())).set(st->object, std::int64_t{0});
    st->state = ObjectState::transient;
    st->session = nullptr;
    st->has_snapshot = false;
    st->new_in_transaction = st->key_generated = false;
  }
  // Deleted ones come back, unless they left the session: inserted in this transaction (made
  // transient just above) or expunged since (SQLAlchemy's _deleted minus _new).
  for (const auto& st : tx_deleted_) {
    if (st->session != this) continue;
    st->state = ObjectState::persistent;
    identity_.insert_or_assign(st->key, st);
    watch(st);
  }
  for (const auto& st : new_) {
    st->state = ObjectState::transient;
    st->session = nullptr;
  }
  for (const auto& st : deleted_) st->delete_pending = false;
  new_.clear();
  deleted_.clear();
  // Every object returns to the database's values: the before-image of what this transaction
  // updated, the snapshot (last loaded values) for the rest. SQLAlchemy expires them instead.
  // Only watched objects can differ from their snapshots (see session.hpp).
  for (const auto& st : tx_touched_) {
    if (!st->before_transaction) continue;
    st->mapper->assign(st->snapshot, st->before_transaction.get());
    st->before_transaction.reset();
    st->mapper->assign(st->object, st->snapshot);
  }
  prune_watch();
  for (const auto& st : watch_)
    if (st->has_snapshot && changed_mask(*st)) st->mapper->assign(st->object, st->snapshot);
  tx_touched_.clear();
  tx_deleted_.clear();
}

inline void Session::expunge_all() {
  const auto guard = use();
  for (const auto& [key, st] : identity_) {
    st->state = ObjectState::detached;
    st->session = nullptr;
  }
  for (const auto& st : new_) {
    st->state = ObjectState::transient;
    st->session = nullptr;
  }
  for (const auto& st : tx_deleted_) {
    st->state = ObjectState::detached;
    st->session = nullptr;
  }
  for (const auto& st : deleted_) st->delete_pending = false;
  for (const auto& st : watch_)
    if (st->watched_by == this) st->watched_by = nullptr;
  identity_.clear();
  new_.clear();
  deleted_.clear();
  watch_.clear();
  tx_touched_.clear();
  tx_deleted_.clear();
}

inline void Session::close() noexcept {
  try {
    rollback();
  } catch (...) {
    // The connections are released whatever happened.
  }
  connections_.clear();
  expunge_all();
  pending_rollback_.reset();
}

template <ModelType T>
void Session::refresh(const std::shared_ptr<T>& obj) {
  const auto guard = use();
  check_usable();
  auto st = state_ptr(obj);
  if (st->session != this || st->state != ObjectState::persistent)
    throw InvalidRequestError("Instance '" + st->mapper->repr(st->object) + "' is not persistent within this Session");
  const auto& m = *st->mapper;
  auto& conn = connection_for(m);
  auto& stmt = conn.prepare(m.sql_for(conn_dialect(m)).select_by_key);
  const sql::ValueRef params[] = {st->key.key.ref()};
  if (m.key_columns().size() != 1) throw InvalidRequestError("refresh(): composite keys are not supported yet");
  {
    const dialect::ResetGuard reset(stmt);
    conn.run(stmt, params);
    if (!stmt.next())
      throw InvalidRequestError("Could not refresh instance '" + m.repr(st->object) + "': the row is gone");
    for (std::size_t i = 0; i < m.column_count(); ++i)
      m.access(i).read(st->object, stmt.column(int(i), m.column(i).type.kind));
  }
  m.assign(st->snapshot, st->object);
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_DETAIL_FLUSH_HPP_
