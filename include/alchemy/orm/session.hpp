// SPDX-License-Identifier: MIT
// File: orm/session.hpp
//
// The Session: identity map and unit of work (SQLAlchemy's Session).
//
//   alchemy::Session session(engine);
//   auto a = session.add(Account("jdoe", "pw"));   // pending; the session owns the object
//   session.commit();                                // INSERT, COMMIT; a->id is filled in
//   a->handle = "jane";                              // plain assignment
//   session.commit();                                // UPDATE accounts SET handle=? WHERE accounts.id = ?
//   session.get<Account>(1);                         // the same object, no SQL
//
// Transactions begin on the first statement (autobegin) and end with commit(), rollback() or
// close(). Changes are found by comparing each object with a snapshot taken when it was loaded
// or last flushed. A failed flush rolls the transaction back and the session refuses work with
// PendingRollbackError until rollback(). A session is for one thread at a time.
//
// Which objects a flush compares: those the session handed out (get, queries, add) since a
// flush last found them unchanged while nothing but the session held them. An object nobody
// holds a shared_ptr to cannot change, so a flush costs what was handed out, not the size of the
// identity map. Keep the shared_ptr while you change an object: a change made through a plain
// reference after the last shared_ptr to the object is gone, and after a flush, is not seen.
#ifndef ALCHEMY_ORM_SESSION_HPP_
#define ALCHEMY_ORM_SESSION_HPP_

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/engine/engine.hpp"
#include "alchemy/engine/result.hpp"
#include "alchemy/orm/detail/identity_map.hpp"
#include "alchemy/orm/detail/thread_check.hpp"
#include "alchemy/orm/events.hpp"
#include "alchemy/orm/instance_state.hpp"
#include "alchemy/orm/model.hpp"
#include "alchemy/orm/signals.hpp"
#include "alchemy/sql/statement.hpp"

namespace alchemy {

template <class T>
class Query;

namespace orm::detail {
struct Flush;
struct SessionAccess;
struct SessionDiagnostics;
class QueryRun;
struct QueryCore;
struct RelationshipFlush;

/// The session's identity key for a key value given by the user.
template <class K>
sql::Value key_value(const K& k) {
  using U = std::remove_cvref_t<K>;
  if constexpr (std::is_same_v<U, sql::Value>) return k;
  else if constexpr (std::is_integral_v<U> && !std::is_same_v<U, bool>) return std::int64_t(k);
  else if constexpr (std::is_convertible_v<const U&, std::string_view>) return std::string(std::string_view(k));
  else if constexpr (requires { TypeTraits<U>::to_value(k); }) return TypeTraits<U>::to_value(k);
  else static_assert(sizeof(U) == 0, "alchemy: get() takes the primary key value (an integer or a string)");
}
}  // namespace orm::detail

template <class T>
class OnConflict;

class Session;

/// A transaction of a Session (session.begin()) or a savepoint in it (session.begin_nested()),
/// as an RAII guard: commit() ends it, and a guard destroyed without commit() rolls it back
/// (its destructor never throws). Move-only; it must not outlive its session.
///
///   auto tx = session.begin();        { auto sp = session.begin_nested();
///   session.add(Account("a"));          session.add(Account("dup"));
///   tx.commit();                        sp.commit();  // on IntegrityError: ROLLBACK TO SAVEPOINT
///                                     }                // the outer transaction carries on
class SessionTransaction {
 public:
  SessionTransaction(SessionTransaction&& o) noexcept
      : session_(std::exchange(o.session_, nullptr)), id_(o.id_), nested_(o.nested_) {}
  SessionTransaction& operator=(SessionTransaction&&) = delete;
  SessionTransaction(const SessionTransaction&) = delete;
  SessionTransaction& operator=(const SessionTransaction&) = delete;
  ~SessionTransaction();

  /// begin(): Session::commit(). begin_nested(): flushes, then RELEASE SAVEPOINT; the objects
  /// stay as they are, and the outer transaction commits them or rolls them back.
  void commit();
  /// begin(): Session::rollback(). begin_nested(): ROLLBACK TO SAVEPOINT; objects added since
  /// become transient, deleted ones come back, edited ones get their values at the savepoint.
  /// Does nothing once the transaction ended.
  void rollback();
  /// Whether the transaction (or savepoint) is still open.
  bool is_active() const noexcept;
  bool nested() const noexcept { return nested_; }

 private:
  friend class Session;
  SessionTransaction(Session& s, std::uint64_t id, bool nested) noexcept : session_(&s), id_(id), nested_(nested) {}
  Session* session_;
  std::uint64_t id_;  ///< the savepoint's serial, or the session's transaction generation
  bool nested_;
};

/// Options of a Session (SQLAlchemy's sessionmaker arguments).
struct SessionOptions {
  /// Flush pending changes before each query, so that the query sees them.
  bool autoflush = true;
};

class Session {
 public:
  explicit Session(std::shared_ptr<Engine> engine, SessionOptions options = {},
                   std::map<std::string, std::shared_ptr<Engine>, std::less<>> binds = {})
      : engine_(std::move(engine)), binds_(std::move(binds)), options_(options) {
    if (!engine_) throw ArgumentError("Session needs an engine");
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session() { close(); }

  // --- Objects -------------------------------------------------------------------------------
  /// Adds a new object; the session owns it and returns a shared pointer to it.
  template <ModelType T>
  std::shared_ptr<T> add(T obj) {
    const auto guard = use();
    check_usable();
    auto st = orm::detail::make_node<T>(std::move(obj), &nodes_);
    validate(*st);
    attach_new(st);
    if (st->mapper->has_relationships()) cascade_from(st);
    T* object = static_cast<T*>(st->object);
    return std::shared_ptr<T>(std::move(st), object);
  }
  /// Adds an object made by alchemy::make or detached from another session.
  template <ModelType T>
  std::shared_ptr<T> add(const std::shared_ptr<T>& obj) {
    const auto guard = use();
    check_usable();
    if (!obj) throw ArgumentError("add(): null object");
    auto st = state_ptr(obj);
    if (st->session == this) return obj;
    if (st->session)
      throw InvalidRequestError("Object '" + st->mapper->repr(st->object) +
                                "' is already attached to another session");
    if (st->state != ObjectState::transient && st->state != ObjectState::detached)
      throw InvalidRequestError("add(): object is " + std::string(state_name(st->state)));
    add_state(st);  // with what its relationships hold (cascade save-update)
    return obj;
  }
  /// Adds several new objects, in order.
  template <ModelType T>
  std::vector<std::shared_ptr<T>> add_all(std::vector<T> objs) {
    std::vector<std::shared_ptr<T>> out;
    out.reserve(objs.size());
    for (auto& o : objs) out.push_back(add(std::move(o)));
    return out;
  }

  /// Marks a persistent object for deletion; the DELETE is flushed with the next flush/commit.
  template <ModelType T>
  void delete_(const std::shared_ptr<T>& obj) {
    const auto guard = use();
    check_usable();
    if (!obj) throw ArgumentError("delete_(): null object");
    auto st = state_ptr(obj);
    if (st->session != this)
      throw InvalidRequestError("Instance '" + st->mapper->repr(st->object) +
                                "' is not persisted in this session");
    if (st->state == ObjectState::pending) {  // never flushed: just forget it
      expunge_state(st);
      return;
    }
    if (st->state != ObjectState::persistent || st->delete_pending) return;
    st->delete_pending = true;
    deleted_.push_back(st);
  }

  /// The object with this primary key: from the identity map without SQL, else one SELECT.
  /// Null when there is no such row.
  template <ModelType T, class K>
  std::shared_ptr<T> get(const K& key) {
    // The typed part: the key's C++ type. The lookup itself is plain code (get_state).
    if constexpr (std::is_integral_v<K> && !std::is_same_v<K, bool>)
      return orm::detail::object_ptr<T>(get_state(mapper_of<T>(), nullptr, std::int64_t(key)));
    else {
      const sql::Value owned = orm::detail::key_value(key);
      return orm::detail::object_ptr<T>(get_state(mapper_of<T>(), &owned, 0));
    }
  }

  /// A query over model T in this session.
  template <ModelType T>
  Query<T> query();

  /// Raw SQL on the default engine, in the session's transaction (after an autoflush):
  /// execute(alchemy::text("SELECT id FROM accounts WHERE handle = :h"), {{"h", "jdoe"}}).
  /// The SQL text is trusted; values are always bound. One statement per call. Objects in the
  /// session do not see what the statement changes until refresh(). (orm/detail/execute.hpp)
  Result execute(const sql::TextClause& statement, const sql::Params& params = {});
  /// INSERT, or on a conflict with `on`'s unique columns UPDATE them / do nothing, in one
  /// statement (orm/upsert.hpp): session.upsert(Account{...}, on_conflict(Account::handle_).do_update()).
  /// Returns the row count the database reports (see docs/raw-sql-and-upsert.md).
  template <ModelType T>
  std::int64_t upsert(const T& obj, const OnConflict<T>& on);
  /// The same for several objects, in one statement.
  template <ModelType T>
  std::int64_t upsert(const std::vector<T>& objs, const OnConflict<T>& on);
  /// SQLAlchemy's merge(): the object of `obj`'s primary key in this session (from the identity
  /// map, else loaded with one SELECT) gets every field of `obj` and is returned; with no such
  /// row (or no key set), a new pending copy is added and returned. `obj` itself is never
  /// attached. (orm/detail/execute.hpp)
  template <ModelType T>
  std::shared_ptr<T> merge(const T& obj);

  // --- Transactions -----------------------------------------------------------------------------
  /// Writes pending inserts, changes and deletes, in dependency order, in the open transaction.
  void flush();
  /// Flushes, then commits the transaction (if one began) and returns the connection to the pool.
  void commit();
  /// Rolls back the transaction. Objects added in it are expunged, deleted ones come back, and
  /// every object's fields return to what the database holds.
  void rollback();
  /// Rolls back what is open and detaches every object; the session can be used again.
  void close() noexcept;
  /// A guard for the session's transaction: `auto tx = session.begin(); ...; tx.commit();`.
  /// The transaction itself still begins with the first statement. InvalidRequestError when a
  /// transaction is already open (SQLAlchemy's rule): commit() or rollback() it first.
  [[nodiscard]] SessionTransaction begin();
  /// Flushes, then opens a SAVEPOINT (SQLAlchemy's begin_nested()) and returns its guard. A
  /// flush that fails inside it rolls back to the savepoint only: the outer transaction carries
  /// on (on PostgreSQL, the only way to continue after an error). Savepoints nest.
  [[nodiscard]] SessionTransaction begin_nested();

  /// Reloads an object's fields from the database, dropping unflushed changes.
  template <ModelType T>
  void refresh(const std::shared_ptr<T>& obj) {
    const auto guard = use();
    check_usable();
    refresh_state(state_ptr(obj));
  }
  /// Removes an object from the session: persistent → detached, pending → transient.
  template <ModelType T>
  void expunge(const std::shared_ptr<T>& obj) {
    const auto guard = use();
    auto st = state_ptr(obj);
    if (st->session != this) throw InvalidRequestError("expunge(): object is not in this session");
    expunge_state(st);
  }
  void expunge_all();

  /// Whether a flush would write this object (new, deleted, or a field differs from its snapshot).
  template <ModelType T>
  bool is_modified(const T& obj) const {
    const auto* st = orm::detail::state_of(obj);
    if (!st || st->session != this) return false;
    return st->state == ObjectState::pending || changed_mask(*st) != 0;
  }

  bool in_transaction() const noexcept;
  /// Objects in the identity map.
  std::size_t size() const noexcept { return identity_.size(); }
  /// What a commit() now would write: the objects this transaction's flushes wrote, then those
  /// pending, changed or marked for deletion, each once (orm/signals.hpp says how).
  std::vector<ModelChange> model_changes() const;
  bool autoflush() const noexcept { return options_.autoflush; }
  /// Calls fn(session) on before_commit, after_commit or after_rollback (orm/events.hpp).
  event::Listener listen(event::SessionEvent e, std::function<void(Session&)> fn);
  void set_autoflush(bool on) noexcept { options_.autoflush = on; }
  Engine& engine() const noexcept { return *engine_; }

 private:
  friend struct orm::detail::Flush;
  friend struct orm::detail::SessionAccess;
  friend struct orm::detail::SessionDiagnostics;
  friend class orm::detail::QueryRun;
  friend struct orm::detail::QueryCore;
  friend struct orm::detail::RelationshipFlush;
  friend class SessionTransaction;
  template <class>
  friend class Query;
  using StatePtr = std::shared_ptr<orm::InstanceState>;
  using StateList = std::vector<StatePtr, orm::detail::BigAllocator<StatePtr>>;

  /// Marks the session in use by the calling thread (see detail/thread_check.hpp).
  orm::detail::ThreadCheck::Guard use() const { return orm::detail::ThreadCheck::Guard(thread_check_); }

  template <class T>
  static StatePtr state_ptr(const std::shared_ptr<T>& obj) {
    auto* st = orm::detail::state_of(*obj);
    if (!st)
      throw ArgumentError("this object was not created by alchemy: pass it by value "
                          "(session.add(Account{...})) or make it with alchemy::make<T>(...)");
    return StatePtr(obj, st);
  }

  /// Puts a persistent object on the list a flush compares with snapshots (see the top).
  void watch(const StatePtr& st) {
    if (st->watched_by == this) return;
    st->watched_by = this;
    watch_.push_back(st);
  }
  /// Drops watched objects that left the session (expunged, deleted, rolled back).
  void prune_watch();
  /// A persistent object as the caller receives it: watched from now on.
  template <class T>
  std::shared_ptr<T> hand_out(const StatePtr& st) {
    watch(st);
    return orm::detail::object_ptr<T>(st);
  }
  template <class T>
  std::shared_ptr<T> hand_out(StatePtr&& st) {
    watch(st);
    T* obj = static_cast<T*>(st->object);
    return std::shared_ptr<T>(std::move(st), obj);
  }
  /// The same, untyped.
  StatePtr hand_out(const StatePtr& st) {
    watch(st);
    return st;
  }

  /// upsert() of objects of `m`, once the action is known (orm/detail/execute.hpp); `update_all`:
  /// do_update() without columns, else the columns `on_update` (none: do_nothing()).
  std::int64_t upsert_rows(const orm::Mapper& m, const std::vector<const void*>& objs,
                           const std::vector<std::size_t>& on_target, const std::vector<std::size_t>& on_update,
                           bool update_all);
  /// refresh() once the object's state is known (orm/detail/flush.hpp).
  void refresh_state(const StatePtr& st);

  /// A transient object becomes pending, a detached one persistent again; then cascade
  /// save-update along its relationships (orm/detail/relationship_load.hpp).
  void add_state(const StatePtr& st);
  void cascade_from(const StatePtr& st);

  void attach_new(const StatePtr& st) {
    st->session = this;
    st->state = ObjectState::pending;
    new_.push_back(st);
  }

  void check_usable() const {
    if (pending_rollback_) throw_pending_rollback();
  }
  [[noreturn]] void throw_pending_rollback() const;

  static void check_key_kind(const orm::Mapper& m, sql::ValueKind got) {
    const auto want = sql::value_kind(m.column(m.key_columns()[0]).type.kind);
    if (got != want) throw_key_kind(m, want, got);
  }
  [[noreturn]] static void throw_key_kind(const orm::Mapper& m, sql::ValueKind want, sql::ValueKind got);

  Engine& engine_for(const orm::Mapper& m);
  const dialect::Dialect& conn_dialect(const orm::Mapper& m) { return engine_for(m).dialect(); }

  /// The connection for a model's engine, with a transaction begun (autobegin).
  engine::Connection& connection_for(const orm::Mapper& m) { return connection_for(engine_for(m)); }
  engine::Connection& connection_for(Engine& e);

  /// Runs the autoflush a query needs.
  void autoflush_for_query() {
    check_usable();
    if (options_.autoflush) flush();
  }

  std::uint64_t changed_mask(const orm::InstanceState& st) const {
    return st.snapshot ? orm::detail::changed_columns(*st.mapper, st.object, st.snapshot) : 0;
  }

  // --- Snapshots (orm/detail/snapshot.hpp) ---------------------------------------------------
  /// Takes the snapshot of an object of this session from its fields, in the session's arena
  /// (in place when the block it has is large enough).
  void take_snapshot(orm::InstanceState& st) { take_snapshot(st, orm::detail::snapshot_size(*st.mapper, st.object)); }
  /// take_snapshot() of an object whose snapshot_size() the caller knows.
  void take_snapshot(orm::InstanceState& st, std::size_t size);
  /// Sets the snapshot to a copy of `src` (rollback's before-image, a savepoint's image).
  void set_snapshot(orm::InstanceState& st, const orm::detail::SnapBlock* src);
  /// Replaces one column of the snapshot (a bulk UPDATE's new value). With `keep_before`, the
  /// old snapshot becomes the transaction's before-image.
  void set_snapshot_column(orm::InstanceState& st, std::size_t column, sql::ValueRef v, bool keep_before);
  /// Writes the snapshot back into the object's column fields.
  static void restore_snapshot(const orm::InstanceState& st) {
    orm::detail::restore_columns(*st.mapper, st.object, st.snapshot);
  }
  /// Keeps the snapshot as the transaction's before-image of an object about to be UPDATEd (its
  /// block becomes the before-image; the next take_snapshot() takes a new one).
  void keep_before_image(orm::InstanceState& st);
  /// Forgets the before-image (the transaction ended, or the object left the session).
  void drop_before_image(orm::InstanceState& st) noexcept {
    if (!st.before_transaction) return;
    snapshots_.release(st.before_transaction);
    st.before_transaction = nullptr;
  }
  /// The before-image becomes the snapshot again (rollback()).
  void restore_before_image(orm::InstanceState& st) noexcept {
    drop_snapshot(st);
    st.snapshot = std::exchange(st.before_transaction, nullptr);
    st.snapshot->role = orm::detail::SnapBlock::snapshot;
  }
  /// Forgets the snapshot (an object that is transient again).
  void drop_snapshot(orm::InstanceState& st) noexcept {
    if (!st.snapshot) return;
    if (st.snapshot_on_heap) ::operator delete(st.snapshot);
    else snapshots_.release(st.snapshot);
    st.snapshot = nullptr;
    st.snapshot_on_heap = false;
  }
  /// The object leaves the session: its snapshot moves out of the session's arena onto the heap
  /// when the object may be used again (`keep`: someone else holds it), else it goes.
  void release_snapshot(orm::InstanceState& st, bool keep);
  /// "<Account 1>" with the key the snapshot holds (the row's key in the database).
  static std::string snapshot_repr(const orm::InstanceState& st);
  /// Moves the arena's live blocks together once garbage outweighs them. Only where no block
  /// pointer is held (the ends of flush, rollback, expunge).
  void compact_snapshots() {
    if (snapshots_.wants_compaction()) snapshots_.compact();
  }

  /// The identity key of the object whose columns start at result column `offset`.
  static sql::Value key_of_row(const orm::Mapper& m, dialect::Statement& row, int offset = 0);

  static sql::Value key_of_object(const orm::Mapper& m, const void* obj);

  /// get()'s work: the object of `m` with key `*key`, or with the integer key `int_key` when
  /// `key` is null; handed out, or null when there is no such row.
  StatePtr get_state(const orm::Mapper& m, const sql::Value* key, std::int64_t int_key);

  /// The object for the current row: the one in the identity map (its unflushed changes kept,
  /// as SQLAlchemy does), or a new persistent one read from the row. T's columns start at
  /// result column `offset` (a row of several models: EntitiesQuery).
  template <class T>
  std::shared_ptr<T> materialize(dialect::Statement& row, int offset = 0) {
    return orm::detail::object_ptr<T>(load_row(mapper_of<T>(), row, offset));
  }
  /// materialize() for a model known at run time: the object handed out.
  StatePtr load_row(const orm::Mapper& m, dialect::Statement& row, int offset = 0);

  void expunge_state(const StatePtr& st);

  /// Releases every connection, rolling back what is open.
  void release_connections(bool commit);

  // --- Events, validators, defaults (orm/detail/flush_hooks.hpp) ----------------------------
  /// Objects whose model listens to after_insert / after_update / after_delete in one flush.
  struct FlushHooks {
    std::vector<StatePtr> inserted, updated, deleted;
  };
  /// Runs the validators of a new object's model; ValidationError leaves nothing changed.
  void validate(const orm::InstanceState& st) const {
    if (!orm::hooks_in_use().load(std::memory_order_relaxed)) return;
    for (const auto& v : st.mapper->hooks.validators) v.fn(st.object);
  }
  /// Before a flush writes: validators, before_* listeners, default_ and onupdate values; the
  /// masks of `dirty` are computed again (a listener may change more columns).
  template <class Dirty>
  FlushHooks before_flush_hooks(Dirty& dirty);
  void after_flush_hooks(const FlushHooks& hooks);
  void fire(event::SessionEvent e);

  // --- Savepoints (orm/detail/transaction.hpp) ----------------------------------------------
  /// One open SAVEPOINT: where the transaction's lists stood, and the values at the savepoint of
  /// the objects UPDATEd since (rollback to it restores them).
  struct Savepoint {
    std::uint64_t id = 0;
    std::string name;
    std::size_t touched_mark = 0;
    std::size_t deleted_mark = 0;
    std::vector<std::pair<StatePtr, orm::detail::HeapSnapshot>> images;
    std::unordered_map<const orm::InstanceState*, std::size_t> imaged;
  };
  /// Called by flush for each object it is about to UPDATE: keeps its values at the savepoint.
  void note_update(const StatePtr& st) {
    if (!savepoints_.empty()) keep_savepoint_image(st);
  }
  void keep_savepoint_image(const StatePtr& st);
  std::size_t savepoint_index(std::uint64_t id) const noexcept;
  /// ROLLBACK TO SAVEPOINT savepoints_[index], and the objects back to their state there.
  void rollback_to_savepoint(std::size_t index);
  void release_savepoint(std::uint64_t id);
  void restore_to(Savepoint& sp);
  /// An object INSERTed by a transaction (or savepoint) that rolled back: out of the identity
  /// map, transient again, its generated key back to 0.
  void forget_insert(const StatePtr& st);
  /// Pending objects become transient, marks for deletion are dropped: the unflushed work goes.
  void discard_unflushed() noexcept;
  /// A failed flush: back to the innermost savepoint if there is one, else the whole
  /// transaction rolls back and the session waits for rollback().
  void abort_flush(const std::string& what);
  /// Rolls back every connection and waits for rollback(): the transaction is lost.
  void abort_transaction(const std::string& what) noexcept;

  std::shared_ptr<Engine> engine_;
  std::map<std::string, std::shared_ptr<Engine>, std::less<>> binds_;
  SessionOptions options_;
  std::map<Engine*, engine::Connection> connections_;
  orm::detail::IdentityMap identity_;
  orm::detail::SnapshotArena snapshots_;  ///< the snapshots of the session's objects
  /// Where the objects loaded from rows, and those add() makes, live. Its destructor only gives
  /// up its claim on the block it carves from: a block lives while nodes in it do, whatever is
  /// destroyed first.
  orm::detail::NodePool nodes_;
  // The lists that grow with the session take big pages past 1 MiB (orm/detail/big_pages.hpp).
  StateList new_;                      ///< pending, in add order
  std::vector<StatePtr> deleted_;      ///< marked for deletion, not flushed
  StateList tx_touched_;               ///< inserted or updated in the open transaction
  std::vector<StatePtr> tx_deleted_;   ///< DELETE flushed in the open transaction
  StateList watch_;                    ///< persistent objects a flush compares (see the top)
  std::optional<std::string> pending_rollback_;
  std::vector<Savepoint> savepoints_;  ///< open savepoints, outermost first
  std::uint64_t savepoint_serial_ = 0;
  std::uint64_t tx_generation_ = 0;    ///< counts ended transactions (SessionTransaction's id)
  std::vector<std::pair<std::uint64_t, std::function<void(Session&)>>> session_listeners_[3];
  bool flushing_ = false;
  bool closing_ = false;  ///< close() is rolling back: objects keep their loaded relationships
  mutable orm::detail::ThreadCheck thread_check_;
};

namespace orm::detail {
/// A session's internals, for tests that check what its bookkeeping holds.
struct SessionDiagnostics {
  static const SnapshotArena& snapshots(const Session& s) noexcept { return s.snapshots_; }
};
}  // namespace orm::detail

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE event::Listener Session::listen(event::SessionEvent e, std::function<void(Session&)> fn) {
  auto& list = session_listeners_[static_cast<int>(e)];
  const auto id = orm::next_hook_id();
  list.emplace_back(id, std::move(fn));
  return event::Listener([&list, id] { std::erase_if(list, [id](const auto& l) { return l.first == id; }); });
}

ALCHEMY_INLINE void Session::prune_watch() {
  std::erase_if(watch_, [this](const StatePtr& st) {
    if (st->session == this && st->state == ObjectState::persistent) return false;
    st->watched_by = nullptr;
    return true;
  });
}

ALCHEMY_INLINE void Session::throw_pending_rollback() const {
  throw PendingRollbackError(
      "This Session's transaction has been rolled back due to a previous exception during "
      "flush. To begin a new transaction with this Session, first issue Session.rollback(). "
      "Original exception was: " + *pending_rollback_);
}

ALCHEMY_INLINE void Session::throw_key_kind(const orm::Mapper& m, sql::ValueKind want, sql::ValueKind got) {
  throw ArgumentError("get(): the primary key of " + m.class_name() + " is " +
                      std::string(sql::kind_name(want)) + ", got " + std::string(sql::kind_name(got)));
}

ALCHEMY_INLINE void Session::take_snapshot(orm::InstanceState& st, std::size_t size) {
  orm::detail::SnapBlock* b = st.snapshot;
  if (!b || b->size < size) {
    drop_snapshot(st);
    b = snapshots_.allocate(size, &st);
    st.snapshot = b;
  }
  orm::detail::fill_snapshot(*st.mapper, st.object, b);
}

ALCHEMY_INLINE Session::StatePtr Session::load_row(const orm::Mapper& m, dialect::Statement& row, int offset) {
  const auto& keys = m.key_columns();
  // A single integer key (the usual case) is read once and looked up without a sql::Value.
  std::int64_t int_key = 0;
  bool by_int = false;
  if (keys.size() == 1) {
    const int index = offset + int(keys[0]);
    const auto hint = m.column(keys[0]).type.kind;
    by_int = row.integer_column(index, hint, int_key);
    if (!by_int) {
      const auto v = row.column(index, hint);
      by_int = v.kind() == sql::ValueKind::integer;
      if (by_int) int_key = v.as_integer();
    }
  }
  std::optional<orm::IdentityKey> other_key;  // any other key
  std::uint64_t key_hash = 0;                 // of the integer key
  if (by_int) {
    key_hash = orm::detail::IdentityMap::hash(&m, int_key);
    if (auto it = identity_.find(&m, int_key, key_hash); it != identity_.end()) return hand_out(it->second);
  } else {
    other_key.emplace(orm::IdentityKey{&m, key_of_row(m, row, offset)});
    if (auto it = identity_.find(*other_key); it != identity_.end()) return hand_out(it->second);
  }
  auto st = m.new_node(&nodes_);
  // Every column straight into its field where its type is a direct one, else through
  // read_column(), which reads integers and text without a ValueRef; an integer key already
  // read is written from int_key (read() converts it as read_column() would) instead of being
  // fetched and parsed again. The text the fields took is counted on the way, so that the
  // snapshot's size needs no second pass over the fields.
  const std::size_t key_index = by_int ? keys[0] : m.column_count();
  orm::ModelBase* base = m.model_base(st->object);
  std::size_t text = 0;
  bool counted = true;  // `text` holds the bytes of every text and blob column
  for (std::size_t i = 0, n = m.column_count(); i < n; ++i) {
    const auto& direct = m.direct(i);
    const auto hint = m.column(i).type.kind;
    std::optional<std::size_t> bytes;  // the text the field took, when known
    if (i == key_index) {
      if (!orm::detail::direct_set_integer(direct, base, int_key))
        m.access(i).read(st->object, sql::ValueRef::integer(int_key));
      bytes = orm::detail::direct_bytes(direct, base);
    } else if (!(bytes = orm::detail::direct_read(direct, base, row, offset + int(i), hint))) {
      // A direct field's read_column() would only ask the driver again what direct_read() just
      // asked (a NULL, another kind): such a field goes straight to column() and read().
      if (direct.kind == orm::detail::DirectField::Kind::none)
        m.access(i).read_column(st->object, row, offset + int(i), hint);
      else
        m.access(i).read(st->object, row.column(offset + int(i), hint));
      bytes = orm::detail::direct_bytes(direct, base);
    }
    if (bytes) {
      text += *bytes;
      counted = counted && *bytes <= 0xFFFFFFFFu;  // else snapshot_size() says what is wrong
    } else if (orm::detail::snap_has_bytes(sql::value_kind(hint))) {
      counted = false;
    }
  }
  take_snapshot(*st, counted ? orm::detail::snapshot_size_for(m, text) : orm::detail::snapshot_size(m, st->object));
  st->state = ObjectState::persistent;
  st->session = this;
  // find() found no object for the key, and nothing since added one: no key to compare with.
  if (by_int) {  // set in place: no IdentityKey to move, its hash known
    st->key.mapper = &m;
    st->key.key.set_integer(int_key);
    identity_.insert_absent(st, key_hash);
  } else {
    st->key = std::move(*other_key);
    identity_.insert_absent(st);
  }
  watch(st);
  return st;
}

ALCHEMY_INLINE Session::StatePtr Session::get_state(const orm::Mapper& m, const sql::Value* key, std::int64_t int_key) {
  const auto guard = use();
  check_usable();
  if (m.key_columns().size() != 1)
    throw InvalidRequestError("get(): " + m.class_name() + " has a composite key; use filter_by()");
  const sql::ValueRef key_ref = key ? key->ref() : sql::ValueRef::integer(int_key);
  check_key_kind(m, key_ref.kind());
  const auto it = key ? identity_.find(orm::IdentityKey{&m, *key}) : identity_.find(&m, int_key);
  if (it != identity_.end()) return hand_out(it->second);
  // A lookup by key only needs what is pending or deleted to be in the database.
  if (options_.autoflush && (!new_.empty() || !deleted_.empty())) flush();
  Engine& engine = engine_for(m);
  auto& conn = connection_for(engine);
  auto& st = conn.prepare(m.sql_for(engine.dialect()).select_by_key);
  const sql::ValueRef params[] = {key_ref};
  const dialect::ResetGuard reset(st);
  conn.run(st, params);
  return st.next() ? load_row(m, st) : nullptr;
}

ALCHEMY_INLINE Engine& Session::engine_for(const orm::Mapper& m) {
  if (m.bind_key().empty()) return *engine_;
  auto it = binds_.find(m.bind_key());
  if (it == binds_.end())
    throw InvalidRequestError("model " + m.class_name() + " uses bind key '" + m.bind_key() +
                              "', which SQLALCHEMY_BINDS does not name");
  return *it->second;
}

ALCHEMY_INLINE engine::Connection& Session::connection_for(Engine& e) {
  auto it = connections_.find(&e);
  if (it == connections_.end()) it = connections_.emplace(&e, e.connect()).first;
  if (!it->second.in_transaction()) {
    it->second.begin();
    // A connection that joins inside savepoints gets them too, so that every connection
    // rolls back to (or releases) the same points.
    for (const auto& sp : savepoints_) it->second.execute(e.dialect().compiler().savepoint(sp.name));
  }
  return it->second;
}

ALCHEMY_INLINE sql::Value Session::key_of_row(const orm::Mapper& m, dialect::Statement& row, int offset) {
  const auto& keys = m.key_columns();
  if (keys.size() == 1) return sql::Value(row.column(offset + int(keys[0]), m.column(keys[0]).type.kind));
  std::string packed;  // several key columns: one text value, each part length-prefixed
  for (auto k : keys) {
    const auto v = sql::Value(row.column(offset + int(k), m.column(k).type.kind));
    const auto ref = v.ref();
    std::string part = v.kind() == sql::ValueKind::integer ? std::to_string(v.as_integer())
                       : v.kind() == sql::ValueKind::text  ? std::string(ref.as_text())
                                                           : std::string("?");
    packed += std::to_string(part.size()) + ":" + part + ";";
  }
  return packed;
}

ALCHEMY_INLINE sql::Value Session::key_of_object(const orm::Mapper& m, const void* obj) {
  const auto& keys = m.key_columns();
  if (keys.size() == 1) return m.access(keys[0]).get(obj);
  std::string packed;
  for (auto k : keys) {
    const auto v = m.access(k).get(obj);
    std::string part = v.kind() == sql::ValueKind::integer ? std::to_string(v.as_integer())
                       : v.kind() == sql::ValueKind::text  ? v.as_text()
                                                           : std::string("?");
    packed += std::to_string(part.size()) + ":" + part + ";";
  }
  return packed;
}

ALCHEMY_INLINE void Session::expunge_state(const StatePtr& st) {
  if (st->state == ObjectState::pending) {
    new_.erase(std::remove(new_.begin(), new_.end(), st), new_.end());
    st->state = ObjectState::transient;
  } else {
    identity_.erase(st->key);
    if (st->delete_pending) deleted_.erase(std::remove(deleted_.begin(), deleted_.end(), st), deleted_.end());
    st->delete_pending = false;
    st->state = ObjectState::detached;
    release_snapshot(*st, true);  // the caller holds it
    drop_before_image(*st);       // a rollback leaves objects outside the session as they are
  }
  if (st->watched_by == this) {
    st->watched_by = nullptr;
    watch_.erase(std::remove(watch_.begin(), watch_.end(), st), watch_.end());
  }
  st->session = nullptr;
}

ALCHEMY_INLINE void Session::forget_insert(const StatePtr& st) {
  identity_.erase(st->key);
  if (st->key_generated)
    st->mapper->access(std::size_t(st->mapper->generated_key())).set(st->object, std::int64_t{0});
  st->state = ObjectState::transient;
  st->session = nullptr;
  drop_snapshot(*st);
  st->new_in_transaction = st->key_generated = false;
}

ALCHEMY_INLINE void Session::set_snapshot(orm::InstanceState& st, const orm::detail::SnapBlock* src) {
  orm::detail::SnapBlock* b = st.snapshot;
  if (b && b->size >= src->size) {
    const auto capacity = b->size;  // the block keeps its size: the arena counts it so
    orm::detail::copy_snapshot(src, b, st.snapshot_on_heap ? nullptr : &st)->size = capacity;
    return;
  }
  drop_snapshot(st);
  st.snapshot = orm::detail::copy_snapshot(src, snapshots_.allocate(src->size, &st), &st);
}

ALCHEMY_INLINE void Session::set_snapshot_column(orm::InstanceState& st, std::size_t column, sql::ValueRef v,
                                                 bool keep_before) {
  const auto& m = *st.mapper;
  const std::size_t size = orm::detail::snapshot_size_with(m, st.snapshot, column, v);
  // A new block even when the old one is large enough: the new value may be the old one's text.
  orm::detail::SnapBlock* b = snapshots_.allocate(size, &st);
  orm::detail::fill_snapshot_with(st.snapshot, b, column, v);
  if (keep_before) keep_before_image(st);
  else drop_snapshot(st);
  st.snapshot = b;
  st.snapshot_on_heap = false;
}

ALCHEMY_INLINE void Session::keep_before_image(orm::InstanceState& st) {
  orm::detail::SnapBlock* b = st.snapshot;
  if (st.snapshot_on_heap) {  // an object that came back from another session: into the arena
    b = orm::detail::copy_snapshot(b, snapshots_.allocate(b->size, &st), &st);
    drop_snapshot(st);
  }
  b->role = orm::detail::SnapBlock::before_image;
  st.before_transaction = b;
  st.snapshot = nullptr;
  st.snapshot_on_heap = false;
}

ALCHEMY_INLINE std::string Session::snapshot_repr(const orm::InstanceState& st) {
  const auto& m = *st.mapper;
  std::string key;
  for (auto k : m.key_columns()) {
    const auto v = st.snapshot->cell(k).ref();
    if (!key.empty()) key += ", ";
    switch (v.kind()) {
      case sql::ValueKind::integer: key += std::to_string(v.as_integer()); break;
      case sql::ValueKind::text: key += v.as_text(); break;
      default: key += "?"; break;
    }
  }
  return "<" + m.class_name() + " " + key + ">";
}

ALCHEMY_INLINE void Session::release_snapshot(orm::InstanceState& st, bool keep) {
  orm::detail::SnapBlock* b = st.snapshot;
  if (!b || st.snapshot_on_heap) return;  // a heap block goes with the state
  if (keep) {
    st.snapshot = orm::detail::copy_snapshot(b, ::operator new(b->size), nullptr);
    st.snapshot_on_heap = true;
  } else {
    st.snapshot = nullptr;
  }
  snapshots_.release(b);
}

ALCHEMY_INLINE void Session::discard_unflushed() noexcept {
  for (const auto& st : new_) {
    st->state = ObjectState::transient;
    st->session = nullptr;
  }
  for (const auto& st : deleted_) st->delete_pending = false;
  new_.clear();
  deleted_.clear();
}

ALCHEMY_INLINE bool Session::in_transaction() const noexcept {
  for (const auto& [e, c] : connections_)
    if (c.in_transaction()) return true;
  return false;
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy

#include "alchemy/orm/detail/query_run.hpp"
#include "alchemy/orm/detail/relationship_load.hpp"
#if ALCHEMY_IMPL  // the unit of work and transactions: nothing in them is a template a user instantiates
#include "alchemy/orm/detail/relationship_flush.hpp"
#include "alchemy/orm/detail/flush.hpp"
#include "alchemy/orm/detail/transaction.hpp"
#endif
#include "alchemy/orm/detail/flush_hooks.hpp"
#include "alchemy/orm/detail/execute.hpp"

#endif  // ALCHEMY_ORM_SESSION_HPP_
