// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// The unit of work: flush (inserts and updates parents first, deletes children first, all or
// nothing), commit, rollback and close.
#ifndef ALCHEMY_ORM_DETAIL_FLUSH_HPP_
#define ALCHEMY_ORM_DETAIL_FLUSH_HPP_

#include "alchemy/config.hpp"

#include <algorithm>
#include <bit>
#include <optional>
#include <span>
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

/// One flush's statements. Rows of one mapper with the same statement shape go out together
/// (multi-row INSERT, with RETURNING on PostgreSQL or with the keys named on SQLite (see
/// insert_own_keys()), and DELETE ... IN, see multirow_rows(); otherwise
/// dialect::Connection::execute_batch: PostgreSQL's pipeline for UPDATEs, one prepared statement
/// per row on SQLite), at most kChunk rows at a time so that the parameters of a large flush are
/// never all held at once.
struct Flush {
  using StatePtr = std::shared_ptr<InstanceState>;
  struct Update {
    StatePtr state;
    std::uint64_t mask;
  };
  struct Versioned {  // a version counter this flush wrote into an object, and its old value
    StatePtr state;
    sql::Value old;
  };
  static constexpr std::size_t kChunk = 1000;
  /// Rows that need a generated key go multi-row through insert_own_keys() from this many on;
  /// below, the driver's checks cost more than the statements they save.
  static constexpr std::size_t kOwnKeysFrom = 8;

  Session& s;
  // Rows INSERTed by this flush, to undo key assignment on failure. The session's list of new
  // objects owns them until the flush has ended, however it ends.
  std::vector<InstanceState*> inserted;
  std::vector<sql::Value> scratch;
  std::vector<sql::ValueRef> params;
  std::vector<std::int64_t> keys;
  std::vector<sql::ValueRef> keyed;  // insert_own_keys(): the rows with the keys it gives them
  std::vector<Versioned> versioned;

  static bool wants_key(const Mapper& m, const void* obj) {
    const int gen = m.generated_key();
    if (gen < 0) return false;
    const auto v = m.access(std::size_t(gen)).get(obj);
    return v.kind() == sql::ValueKind::integer && v.as_integer() == 0;
  }

  /// The version counter of the row as the snapshot has it.
  static std::int64_t version_of(const Mapper& m, const InstanceState& st) {
    const auto& c = st.snapshot->cell(std::size_t(m.version_column()));
    return c.kind == sql::ValueKind::integer ? c.i : 0;
  }

  /// Sets the version counter of `st`'s object, remembering the old value for undo().
  void set_version(const StatePtr& st, std::int64_t value) {
    const Mapper& m = *st->mapper;
    const auto& access = m.access(std::size_t(m.version_column()));
    versioned.push_back({st, access.get(st->object)});
    access.set(st->object, sql::Value(value));
  }

  /// What a failed flush leaves behind in memory: generated keys cleared, version counters back.
  void undo() noexcept {
    for (const auto& st : inserted) {
      if (!st->key_generated) continue;
      try {
        st->mapper->access(std::size_t(st->mapper->generated_key())).set(st->object, std::int64_t{0});
      } catch (...) {
      }
      st->key_generated = false;
    }
    for (auto it = versioned.rbegin(); it != versioned.rend(); ++it) {
      try {
        it->state->mapper->access(std::size_t(it->state->mapper->version_column())).set(it->state->object, it->old);
      } catch (...) {
      }
    }
  }

  // ---- INSERT ---------------------------------------------------------------------------------

  /// The pending objects of `m`, in add order, in runs of one statement shape.
  void insert_all(engine::Connection& conn, const Mapper& m, std::span<const StatePtr> all) {
    if (std::all_of(all.begin(), all.end(), [&](const StatePtr& st) { return st->mapper == &m; })) {
      // All of one model (the common case): the runs are slices of the list, not copies.
      std::size_t start = 0;
      bool generate = false;
      for (std::size_t i = 0; i < all.size(); ++i) {
        const bool g = wants_key(m, all[i]->object);
        if (i > start && (g != generate || i - start == kChunk)) {
          insert(conn, all.subspan(start, i - start), generate);
          start = i;
        }
        generate = g;
      }
      if (start < all.size()) insert(conn, all.subspan(start), generate);
      return;
    }
    std::vector<StatePtr> run;
    bool generate = false;
    for (const auto& st : all) {
      if (st->mapper != &m) continue;
      const bool g = wants_key(m, st->object);
      if (!run.empty() && (g != generate || run.size() == kChunk)) {
        insert(conn, run, generate);
        run.clear();
      }
      generate = g;
      run.push_back(st);
    }
    if (!run.empty()) insert(conn, run, generate);
  }

  void insert(engine::Connection& conn, std::span<const StatePtr> rows, bool generate) {
    const Mapper& m = *rows.front()->mapper;
    const auto& d = s.conn_dialect(m);
    const int gen = generate ? m.generated_key() : -1;
    const int ver = m.version_column();
    const std::size_t cols = m.column_count();
    const std::size_t width = cols - (generate ? 1 : 0);
    scratch.clear();
    scratch.resize(rows.size() * cols);
    params.clear();
    for (std::size_t r = 0; r < rows.size(); ++r) {
      for (std::size_t i = 0; i < cols; ++i) {
        if (static_cast<int>(i) == gen) continue;
        if (static_cast<int>(i) == ver) params.push_back(sql::ValueRef::integer(1));
        else params.push_back(m.access(i).ref(rows[r]->object, scratch[r * cols + i]));
      }
      inserted.push_back(rows[r].get());
    }
    keys.clear();
    const MapperSql& q = m.sql_for(d);
    const std::string& one = generate ? q.insert_without_key : q.insert_with_key;
    std::optional<std::int64_t> step;
    if (width == 0) {  // INSERT ... DEFAULT VALUES: nothing to batch
      for (std::size_t r = 0; r < rows.size(); ++r) insert_default(conn, one, generate, m);
    } else if (rows.size() > 1 && conn.raw().multirow_rows() > 1 &&
               (!generate || d.insert_returning() || (step = conn.raw().multirow_key_step()))) {
      const std::size_t per =
          std::max<std::size_t>(1, std::min(conn.raw().multirow_rows(), conn.raw().max_params() / width));
      for (std::size_t done = 0; done < rows.size();) {
        // Full statements, then powers of two (any count up to 16): few statement shapes to cache.
        const std::size_t left = rows.size() - done;
        const std::size_t k = left >= per ? per : left <= 16 ? left : std::bit_floor(left);
        auto& stmt = conn.prepare(m.insert_rows_sql(d, !generate, k));
        const dialect::ResetGuard reset(stmt);
        conn.run(stmt, std::span<const sql::ValueRef>(params).subspan(done * width, k * width));
        if (generate && d.insert_returning()) {
          // PostgreSQL returns the rows of INSERT ... VALUES ... RETURNING in VALUES order.
          while (stmt.next()) {
            std::int64_t key = 0;
            if (!stmt.integer_column(0, sql::TypeKind::big_integer, key)) {
              const auto v = stmt.column(0, sql::TypeKind::big_integer);
              if (v.kind() != sql::ValueKind::integer)
                throw InvalidRequestError("RETURNING gave no integer key for " + m.class_name());
              key = v.as_integer();
            }
            keys.push_back(key);
          }
        } else if (generate) {
          const auto first = stmt.last_insert_id();
          if (!first) throw InvalidRequestError("the driver reported no generated key for " + m.class_name());
          for (std::size_t j = 0; j < k; ++j) keys.push_back(*first + std::int64_t(j) * *step);
        }
        done += k;
      }
    } else if (generate && rows.size() > kOwnKeysFrom && conn.raw().multirow_rows() > 1) {
      insert_own_keys(conn, m, one, width, rows.size());
    } else {
      conn.run_batch(one, width, params, generate ? &keys : nullptr);
    }
    if (generate) {
      if (keys.size() != rows.size())
        throw InvalidRequestError("the driver reported " + std::to_string(keys.size()) +
                                  " generated keys for " + std::to_string(rows.size()) + " rows of " +
                                  m.class_name());
      for (std::size_t r = 0; r < rows.size(); ++r) {
        m.access(std::size_t(gen)).read(rows[r]->object, sql::ValueRef::integer(keys[r]));
        rows[r]->key_generated = true;
      }
    }
    if (ver >= 0)
      for (const auto& st : rows) set_version(st, 1);
  }

  /// `n` rows that need a generated key where the dialect returns none for a multi-row INSERT
  /// (SQLite): the first row alone, which takes the write lock and gets the database's key;
  /// then, if the driver vouches that the next keys are the following integers
  /// (assigns_next_keys()), the other rows with those keys named in multi-row INSERTs, else
  /// one INSERT per row as before. Either way each object's key is the one its own row has.
  void insert_own_keys(engine::Connection& conn, const Mapper& m, const std::string& one, std::size_t width,
                       std::size_t n) {
    const auto& d = s.conn_dialect(m);
    const auto all = std::span<const sql::ValueRef>(params);
    conn.run_batch(one, width, all.first(width), &keys);
    if (keys.size() != 1 ||
        !conn.raw().assigns_next_keys(m.table().name(), m.column(std::size_t(m.generated_key())).name, keys[0], n - 1)) {
      conn.run_batch(one, width, all.subspan(width), &keys);
      return;
    }
    // The rows after the first, every column in the table's order, the key included.
    const std::size_t gen = std::size_t(m.generated_key()), cols = width + 1;
    keyed.clear();
    keyed.reserve((n - 1) * cols);
    for (std::size_t r = 1; r < n; ++r) {
      const auto row = all.subspan(r * width, width);
      keyed.insert(keyed.end(), row.begin(), row.begin() + std::ptrdiff_t(gen));
      keyed.push_back(sql::ValueRef::integer(keys[0] + std::int64_t(r)));
      keyed.insert(keyed.end(), row.begin() + std::ptrdiff_t(gen), row.end());
    }
    const std::size_t per =
        std::max<std::size_t>(1, std::min(conn.raw().multirow_rows(), conn.raw().max_params() / cols));
    for (std::size_t done = 0; done < n - 1;) {
      const std::size_t left = n - 1 - done;
      const std::size_t k = left >= per ? per : left <= 16 ? left : std::bit_floor(left);
      auto& stmt = conn.prepare(m.insert_rows_sql(d, true, k));
      const dialect::ResetGuard reset(stmt);
      conn.run(stmt, std::span<const sql::ValueRef>(keyed).subspan(done * cols, k * cols));
      if (stmt.affected_rows() != std::int64_t(k))
        throw InvalidRequestError("a multi-row INSERT into " + m.table().name() + " stored " +
                                  std::to_string(stmt.affected_rows()) + " of " + std::to_string(k) + " rows");
      done += k;
    }
    for (std::size_t r = 1; r < n; ++r) keys.push_back(keys[0] + std::int64_t(r));
  }

  void insert_default(engine::Connection& conn, const std::string& sql, bool generate, const Mapper& m) {
    auto& stmt = conn.prepare(sql);
    const dialect::ResetGuard reset(stmt);
    conn.run(stmt, {});
    if (!generate) return;
    if (stmt.column_count() > 0) {
      if (!stmt.next()) throw InvalidRequestError("INSERT ... RETURNING returned no row for " + m.class_name());
      keys.push_back(stmt.column(0, sql::TypeKind::big_integer).as_integer());
    } else {
      const auto id = stmt.last_insert_id();
      if (!id) throw InvalidRequestError("the driver reported no generated key for " + m.class_name());
      keys.push_back(*id);
    }
  }

  // ---- UPDATE ---------------------------------------------------------------------------------

  /// The changed objects of `m` (sorted by key), in runs of the same changed columns.
  void update_all(engine::Connection& conn, const Mapper& m, const std::vector<Update>& dirty) {
    std::vector<Update> run;
    for (const auto& u : dirty) {
      if (u.state->mapper != &m) continue;
      for (auto k : m.key_columns())
        if (u.mask & (std::uint64_t{1} << k))
          throw InvalidRequestError("changing the primary key of " + Session::snapshot_repr(*u.state) +
                                    " is not supported; delete the object and add a new one");
      if (!run.empty() && (u.mask != run.front().mask || run.size() == kChunk)) {
        update(conn, run);
        run.clear();
      }
      run.push_back(u);
    }
    if (!run.empty()) update(conn, run);
  }

  void update(engine::Connection& conn, std::span<const Update> rows) {
    const Mapper& m = *rows.front().state->mapper;
    const auto& d = s.conn_dialect(m);
    const int ver = m.version_column();
    std::uint64_t mask = rows.front().mask;
    if (ver >= 0) mask |= std::uint64_t{1} << ver;  // SET version = old + 1 ... AND version = old
    const std::size_t cols = m.column_count();
    const std::size_t width =
        std::size_t(std::popcount(mask)) + m.key_columns().size() + (ver >= 0 ? 1 : 0);
    scratch.clear();
    scratch.resize(rows.size() * (cols + m.key_columns().size()));
    params.clear();
    std::size_t j = 0;
    for (const auto& u : rows) {
      const std::int64_t old = ver >= 0 ? version_of(m, *u.state) : 0;
      for (std::size_t i = 0; i < cols; ++i) {
        if (!(mask & (std::uint64_t{1} << i))) continue;
        if (static_cast<int>(i) == ver) params.push_back(sql::ValueRef::integer(old + 1));
        else params.push_back(m.access(i).ref(u.state->object, scratch[j++]));
      }
      for (auto k : m.key_columns()) params.push_back(u.state->snapshot->cell(k).ref());
      if (ver >= 0) params.push_back(sql::ValueRef::integer(old));
    }
    const std::int64_t matched = conn.run_batch(m.update_sql(d, mask), width, params, nullptr);
    // Each statement matches its key's row or none, so a short total means one (at least)
    // matched 0; SQLAlchemy's message is about that statement.
    if (matched != std::int64_t(rows.size()))
      throw StaleDataError("UPDATE statement on table '" + m.table().name() +
                           "' expected to update 1 row(s); 0 were matched.");
    if (ver >= 0)
      for (const auto& u : rows) set_version(u.state, version_of(m, *u.state) + 1);
  }

  // ---- DELETE ---------------------------------------------------------------------------------

  void remove_all(engine::Connection& conn, const Mapper& m, const std::vector<StatePtr>& deleted) {
    std::vector<StatePtr> run;
    for (const auto& st : deleted) {
      if (st->mapper != &m) continue;
      if (run.size() == kChunk) {
        remove(conn, run);
        run.clear();
      }
      run.push_back(st);
    }
    if (!run.empty()) remove(conn, run);
  }

  void remove(engine::Connection& conn, std::span<const StatePtr> rows) {
    const Mapper& m = *rows.front()->mapper;
    const auto& d = s.conn_dialect(m);
    const int ver = m.version_column();
    const std::size_t nkey = m.key_columns().size();
    const std::size_t width = nkey + (ver >= 0 ? 1 : 0);
    scratch.clear();
    scratch.resize(rows.size() * nkey);
    params.clear();
    for (const auto& st : rows) {
      for (auto k : m.key_columns()) params.push_back(st->snapshot->cell(k).ref());
      if (ver >= 0) params.push_back(sql::ValueRef::integer(version_of(m, *st)));
    }
    if (ver < 0 && nkey == 1 && rows.size() > 1 && conn.raw().multirow_rows() > 1 && !references_itself(m)) {
      // DELETE ... WHERE id IN (...): without a version counter a missing row is not an error
      // (SQLAlchemy only warns), as for the one-row DELETE.
      const std::size_t per = std::max<std::size_t>(1, std::min(conn.raw().multirow_rows(), conn.raw().max_params()));
      for (std::size_t done = 0; done < rows.size();) {
        const std::size_t left = rows.size() - done;
        const std::size_t k = left >= per ? per : left <= 16 ? left : std::bit_floor(left);
        auto& stmt = conn.prepare(m.delete_rows_sql(d, k));
        const dialect::ResetGuard reset(stmt);
        conn.run(stmt, std::span<const sql::ValueRef>(params).subspan(done, k));
        done += k;
      }
      return;
    }
    const std::int64_t matched = conn.run_batch(m.sql_for(d).delete_by_key, width, params, nullptr);
    if (ver >= 0 && matched != std::int64_t(rows.size()))
      throw StaleDataError("DELETE statement on table '" + m.table().name() +
                           "' expected to delete 1 row(s); 0 were matched.");
  }
};

}  // namespace orm::detail

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void Session::flush() {
  const auto guard = use();
  check_usable();
  if (flushing_) return;
  using orm::detail::Flush;
  // Relationships first: cascades, orphans and foreign keys change what the scan finds. The
  // loads a cascade needs must not flush (flushing_).
  orm::detail::RelationshipFlush rel{*this, {}, {}, {}, {}};
  flushing_ = true;
  try {
    rel.prepare();
  } catch (...) {
    flushing_ = false;
    rel.failed();
    throw;
  }
  flushing_ = false;
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
  if (new_.empty() && deleted_.empty() && dirty.empty() && rel.link_add.empty() && rel.link_remove.empty()) return;
  const auto hooks = before_flush_hooks(dirty);  // validators, before_* events, defaults
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
  rel.note_mappers(mappers);
  mappers = orm::detail::dependency_order(std::move(mappers));

  for (const auto& u : dirty) note_update(u.state);  // values at the open savepoint, if any

  // Room, before any SQL, in the lists the new and changed objects join when the flush has
  // run: one allocation each instead of a doubling per power of two, each into fresh memory
  // the kernel faults in page by page; and these lists cannot fail to grow once the database
  // has the rows.
  identity_.reserve_more(new_.size());
  orm::detail::reserve_more(tx_touched_, new_.size() + dirty.size());
  orm::detail::reserve_more(watch_, new_.size());
  Flush f{*this, {}, {}, {}, {}, {}, {}};
  f.inserted.reserve(new_.size());
  flushing_ = true;
  try {
    for (const orm::Mapper* m : mappers) {
      rel.before_mapper(*m, dirty);  // foreign keys whose referenced keys were generated by now
      if (rel.waits_on_itself(*m)) {
        rel.insert_in_rounds(f, connection_for(*m), *m, dirty);
      } else {
        rel.check_not_blocked(*m);
        f.insert_all(connection_for(*m), *m, new_);
      }
      f.update_all(connection_for(*m), *m, dirty);
    }
    rel.write_links();
    for (auto it = mappers.rbegin(); it != mappers.rend(); ++it)
      f.remove_all(connection_for(**it), **it, deleted_);
  } catch (const std::exception& e) {
    flushing_ = false;
    rel.failed();
    // Nothing of a failed flush stays: keys it generated are cleared, the transaction is rolled
    // back, and the session waits for rollback() (SQLAlchemy's contract).
    f.undo();
    // Inside begin_nested(), only back to the savepoint (see detail/transaction.hpp).
    abort_flush(e.what());
    throw;
  }
  flushing_ = false;

  for (const auto& st : new_) {
    st->state = ObjectState::persistent;
    st->new_in_transaction = true;
    st->key = orm::IdentityKey{st->mapper, key_of_object(*st->mapper, st->object)};
    take_snapshot(*st);
    identity_.insert_or_assign(st->key, st);
    tx_touched_.push_back(st);
    watch(st);  // add() handed it out
  }
  for (const auto& u : dirty) {
    if (!u.state->before_transaction && !u.state->new_in_transaction) {
      keep_before_image(*u.state);  // the snapshot's block, as it is: no copy
      tx_touched_.push_back(u.state);
    }
    take_snapshot(*u.state);
  }
  for (const auto& st : deleted_) {
    st->state = ObjectState::deleted;
    st->delete_pending = false;
    identity_.erase(st->key);
    tx_deleted_.push_back(st);
  }
  rel.succeeded(deleted_);
  new_.clear();
  deleted_.clear();
  compact_snapshots();
  after_flush_hooks(hooks);
}

ALCHEMY_INLINE void Session::release_connections(bool commit) {
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

ALCHEMY_INLINE void Session::commit() {
  const auto guard = use();
  fire(event::before_commit);
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
    drop_before_image(*st);
  }
  tx_touched_.clear();
  compact_snapshots();  // the before-images just let go
  for (const auto& st : tx_deleted_) {
    st->state = ObjectState::detached;
    st->session = nullptr;
  }
  if (!tx_deleted_.empty()) {
    prune_watch();
    // Out of the session: a snapshot only this list still holds goes with its object.
    for (const auto& st : tx_deleted_) release_snapshot(*st, st.use_count() > 1);
  }
  tx_deleted_.clear();
  savepoints_.clear();  // committed with the transaction
  ++tx_generation_;
  fire(event::after_commit);
}

ALCHEMY_INLINE void Session::rollback() {
  const auto guard = use();
  const bool had_transaction = in_transaction();
  pending_rollback_.reset();
  savepoints_.clear();
  ++tx_generation_;
  try {
    release_connections(false);
  } catch (...) {
    // A ROLLBACK that fails means the connection is gone, and a server rolls back the work of a
    // lost connection: the connection was discarded, and the session carries on.
  }
  // Objects INSERTed in the transaction no longer exist: they become transient again.
  for (const auto& st : tx_touched_) {
    if (!st->new_in_transaction) continue;
    forget_insert(st);
  }
  // Deleted ones come back, unless they left the session: inserted in this transaction (made
  // transient just above) or expunged since (SQLAlchemy's _deleted minus _new).
  for (const auto& st : tx_deleted_) {
    if (st->session != this) continue;
    st->state = ObjectState::persistent;
    identity_.insert_or_assign(st->key, st);
    watch(st);
  }
  discard_unflushed();
  // Every object returns to the database's values: the before-image of what this transaction
  // updated, the snapshot (last loaded values) for the rest. SQLAlchemy expires them instead.
  // Only watched objects can differ from their snapshots (see session.hpp).
  for (const auto& st : tx_touched_) {
    if (!st->before_transaction) continue;
    restore_before_image(*st);
    restore_snapshot(*st);
  }
  // prune_watch() and the revert in one pass over the watched objects. close() skips the
  // compare for an object held only by this list and the identity map (a persistent object is
  // in it): it is freed right after and nobody can see its fields. A large commit leaves every
  // new object watched, and comparing them all made a remove() after it cost ~250 instructions
  // per object.
  std::erase_if(watch_, [this](const StatePtr& st) {
    if (st->session == this && st->state == ObjectState::persistent) {
      const bool unseen = closing_ && st.use_count() <= 2;
      if (st->snapshot && !unseen && changed_mask(*st)) restore_snapshot(*st);
      return false;
    }
    st->watched_by = nullptr;
    return true;
  });
  tx_touched_.clear();
  tx_deleted_.clear();
  compact_snapshots();
  // Loaded relationships may hold what the transaction added or lost: they load again
  // (close() detaches the objects instead, with what they hold).
  if (!closing_) orm::detail::SessionAccess::expire_relationships(*this);
  if (had_transaction) fire(event::after_rollback);
}

ALCHEMY_INLINE void Session::expunge_all() {
  const auto guard = use();
  for (const auto& st : new_) {
    st->state = ObjectState::transient;
    st->session = nullptr;
  }
  new_.clear();
  for (const auto& st : deleted_) st->delete_pending = false;
  deleted_.clear();
  for (const auto& st : tx_touched_) drop_before_image(*st);  // expunge_all() inside a transaction
  tx_touched_.clear();
  // The session's lists let go first, so that each object's use count tells whether anyone
  // else still holds it: a snapshot moves out of the session's arena only for those.
  for (auto& st : watch_) {
    if (st->watched_by == this) st->watched_by = nullptr;
    st.reset();
  }
  watch_.clear();
  for (auto& st : tx_deleted_) {
    st->state = ObjectState::detached;
    st->session = nullptr;
    release_snapshot(*st, st.use_count() > 1);
    st.reset();
  }
  tx_deleted_.clear();
  // One pass over the identity map, in load order: each object is detached as its entry goes.
  identity_.clear([this](const StatePtr& st) {
    st->state = ObjectState::detached;
    st->session = nullptr;
    release_snapshot(*st, st.use_count() > 1);
  });
  snapshots_.clear();  // every block was released above
}

ALCHEMY_INLINE void Session::close() noexcept {
  closing_ = true;
  try {
    rollback();
  } catch (...) {
    // The connections are released whatever happened.
  }
  closing_ = false;
  connections_.clear();
  expunge_all();
  pending_rollback_.reset();
}

ALCHEMY_INLINE void Session::refresh_state(const StatePtr& st) {
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
  take_snapshot(*st);
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy

#endif  // ALCHEMY_ORM_DETAIL_FLUSH_HPP_
