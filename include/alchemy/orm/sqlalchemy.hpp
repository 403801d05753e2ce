// SPDX-License-Identifier: MIT
// File: orm/sqlalchemy.hpp
//
// The Flask-SQLAlchemy style entry point: one object that holds the engine(s), the config and
// a scoped session per thread.
//
//   alchemy::SQLAlchemy db("sqlite:///app_data.db");
//   db.create_all();
//   auto user = db.session.add(Account("jdoe", "pw"));
//   db.session.commit();
//   auto same = Account::query().get(user->id);   // the current thread's session of `db`
//
// Flask-SQLAlchemy scopes db.session to the application context; alchemy scopes it to the
// thread. db.session.remove() ends the thread's session (call it at the end of a request).
#ifndef ALCHEMY_ORM_SQLALCHEMY_HPP_
#define ALCHEMY_ORM_SQLALCHEMY_HPP_

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/engine/engine.hpp"
#include "alchemy/orm/query.hpp"
#include "alchemy/orm/session.hpp"

namespace alchemy {

/// Flask-SQLAlchemy's configuration keys.
struct Config {
  std::string SQLALCHEMY_DATABASE_URI;
  bool SQLALCHEMY_ECHO = false;
  EngineOptions SQLALCHEMY_ENGINE_OPTIONS{};
  /// bind key → URL, for models declared with ALCHEMY_BIND_KEY.
  std::map<std::string, std::string> SQLALCHEMY_BINDS;
  SessionOptions session_options{};
  /// Record every statement for get_recorded_queries() (engine/record.hpp).
  bool SQLALCHEMY_RECORD_QUERIES = false;
  /// Send before_models_committed and models_committed from db.session (orm/signals.hpp).
  bool SQLALCHEMY_TRACK_MODIFICATIONS = false;
};

class SQLAlchemy;

/// db.session: forwards to the calling thread's Session of one SQLAlchemy object.
class ScopedSession {
 public:
  explicit ScopedSession(SQLAlchemy& db) noexcept : db_(&db) {}
  ScopedSession(const ScopedSession&) = delete;
  ScopedSession& operator=(const ScopedSession&) = delete;

  /// The calling thread's session, created on first use.
  Session& operator()() const;
  /// Closes and forgets the calling thread's session (Flask-SQLAlchemy's teardown).
  void remove() const;

  template <ModelType T> std::shared_ptr<T> add(T obj) const { return (*this)().add(std::move(obj)); }
  template <ModelType T> std::shared_ptr<T> add(const std::shared_ptr<T>& obj) const { return (*this)().add(obj); }
  template <ModelType T> std::vector<std::shared_ptr<T>> add_all(std::vector<T> objs) const {
    return (*this)().add_all(std::move(objs));
  }
  template <ModelType T> void delete_(const std::shared_ptr<T>& obj) const { (*this)().delete_(obj); }
  template <ModelType T, class K> std::shared_ptr<T> get(const K& key) const { return (*this)().get<T>(key); }
  template <ModelType T> Query<T> query() const { return (*this)().query<T>(); }
  template <ModelType T> void refresh(const std::shared_ptr<T>& obj) const { (*this)().refresh(obj); }
  template <ModelType T> void expunge(const std::shared_ptr<T>& obj) const { (*this)().expunge(obj); }
  template <ModelType T> bool is_modified(const T& obj) const { return (*this)().is_modified(obj); }
  void expunge_all() const { (*this)().expunge_all(); }
  Result execute(const sql::TextClause& statement, const sql::Params& params = {}) const {
    return (*this)().execute(statement, params);
  }
  template <ModelType T> std::int64_t upsert(const T& obj, const OnConflict<T>& on) const {
    return (*this)().upsert(obj, on);
  }
  template <ModelType T> std::int64_t upsert(const std::vector<T>& objs, const OnConflict<T>& on) const {
    return (*this)().upsert(objs, on);
  }
  template <ModelType T> std::shared_ptr<T> merge(const T& obj) const { return (*this)().merge(obj); }
  void flush() const { (*this)().flush(); }
  void commit() const { (*this)().commit(); }
  void rollback() const { (*this)().rollback(); }
  void close() const { (*this)().close(); }
  [[nodiscard]] SessionTransaction begin() const { return (*this)().begin(); }
  [[nodiscard]] SessionTransaction begin_nested() const { return (*this)().begin_nested(); }

 private:
  SQLAlchemy* db_;
};

namespace orm::detail {
/// The SQLAlchemy object Model<T>::query() uses: the most recent one alive.
struct DefaultDb {
  std::mutex mutex;
  std::vector<SQLAlchemy*> stack;
};
inline DefaultDb& default_db() {
  static DefaultDb d;
  return d;
}
inline std::atomic<std::uint64_t>& db_generation() {
  static std::atomic<std::uint64_t> g{0};
  return g;
}
}  // namespace orm::detail

class SQLAlchemy {
 public:
  explicit SQLAlchemy(std::string_view database_uri, EngineOptions options = {})
      : SQLAlchemy(Config{std::string(database_uri), options.echo, std::move(options), {}, {}}) {}
  explicit SQLAlchemy(Config config);

  SQLAlchemy(const SQLAlchemy&) = delete;
  SQLAlchemy& operator=(const SQLAlchemy&) = delete;
  ~SQLAlchemy();

  /// db.session: the calling thread's session.
  ScopedSession session;
  /// Sent by db.session's commit() when SQLALCHEMY_TRACK_MODIFICATIONS is on (orm/signals.hpp).
  ModelsSignal before_models_committed;
  ModelsSignal models_committed;

  Engine& engine() const noexcept { return *engine_; }
  std::shared_ptr<Engine> engine_ptr() const noexcept { return engine_; }
  /// The engine of a bind key ("" is the default).
  Engine& engine(std::string_view bind_key) const;
  const Config& config() const noexcept { return config_; }

  /// Flask-SQLAlchemy's db.get_or_404(Model, id), db.first_or_404(select), db.one_or_404(select)
  /// and db.paginate(select), over the calling thread's session; NotFound is HTTP 404.
  template <ModelType T, class K>
  std::shared_ptr<T> get_or_404(const K& key, std::string description = {}, SourceLocation where = SourceLocation::current()) {
    return session.query<T>().get_or_404(key, std::move(description), where);
  }
  template <class T>
  std::shared_ptr<T> first_or_404(const Query<T>& query, std::string description = {}, SourceLocation where = SourceLocation::current()) const {
    return query.first_or_404(std::move(description), where);
  }
  template <class T>
  std::shared_ptr<T> one_or_404(const Query<T>& query, std::string description = {}, SourceLocation where = SourceLocation::current()) const {
    return query.one_or_404(std::move(description), where);
  }
  template <class T>
  Pagination<T> paginate(const Query<T>& query, const PageOptions& options = {}, SourceLocation where = SourceLocation::current()) const {
    return query.paginate(options, where);
  }

  /// The statements the calling thread sent through this object's engines since its session
  /// was last removed (SQLALCHEMY_RECORD_QUERIES; empty when it is off). Flask-SQLAlchemy keeps
  /// them per request; alchemy per thread, and db.session.remove() ends the list as a request's
  /// teardown does.
  std::vector<RecordedQuery> get_recorded_queries() const {
    return recorder_ ? recorder_->get() : std::vector<RecordedQuery>{};
  }
  /// Forgets the calling thread's recorded statements.
  void clear_recorded_queries() {
    if (recorder_) recorder_->clear();
  }

  /// Creates the missing tables of every model (never alters existing ones).
  void create_all() { create(all_models()); }
  /// Creates the missing tables of the given models only.
  template <ModelType... Ts>
  void create_all() { create({&mapper_of<Ts>()...}); }
  /// Drops the tables of every model that exist.
  void drop_all() { drop(all_models()); }
  template <ModelType... Ts>
  void drop_all() { drop({&mapper_of<Ts>()...}); }

  /// The SQLAlchemy object Model<T>::query() uses; throws when there is none.
  static SQLAlchemy& current();

  /// The calling thread's session, created on first use.
  Session& thread_session() {
    auto& cache = session_cache();
    if (cache.generation == generation_.load(std::memory_order_acquire) && cache.session) return *cache.session;
    return open_thread_session();
  }

  /// Flask-SQLAlchemy's _SessionSignalEvents: the list is taken at before_commit (before the
  /// final flush) and sent again once the COMMIT succeeded; a rollback forgets it.
  void track_modifications(Session& s);

  void remove_thread_session();

 private:
  /// create_engine with Flask-SQLAlchemy's driver defaults: MySQL connections are recycled
  /// after 2 hours unless pool_recycle is set (servers drop idle ones after 8).
  static std::shared_ptr<Engine> make_engine(const std::string& uri, EngineOptions opts);
  /// The one thread_local cache of the last (db, session) pair: keeps db.session.x() cheap.
  struct SessionCache {
    std::uint64_t generation = 0;
    Session* session = nullptr;
  };
  static SessionCache& session_cache() noexcept {
    thread_local SessionCache cache;
    return cache;
  }
  Session& open_thread_session();

  std::vector<const orm::Mapper*> all_models() const {
    return {orm::all_mappers().begin(), orm::all_mappers().end()};
  }

  /// The association tables of the many-to-many relationships of `models`, each once.
  static std::vector<std::pair<const sql::Table*, const orm::Mapper*>> association_tables(
      const std::vector<const orm::Mapper*>& models);
  void create_table(Engine& e, const sql::Table& t);
  void drop_table(Engine& e, const sql::Table& t);
  void create(std::vector<const orm::Mapper*> models);
  void drop(std::vector<const orm::Mapper*> models);

  Config config_;
  std::shared_ptr<Engine> engine_;
  std::map<std::string, std::shared_ptr<Engine>, std::less<>> binds_;
  std::shared_ptr<engine::QueryRecorder> recorder_;
  std::mutex sessions_mutex_;
  std::unordered_map<std::thread::id, std::unique_ptr<Session>> sessions_;
  std::atomic<std::uint64_t> generation_{++orm::detail::db_generation()};
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE SQLAlchemy::SQLAlchemy(Config config) : session(*this), config_(std::move(config)) {
  if (config_.SQLALCHEMY_DATABASE_URI.empty())
    throw ArgumentError("SQLALCHEMY_DATABASE_URI must be set");
  EngineOptions opts = config_.SQLALCHEMY_ENGINE_OPTIONS;
  opts.echo = opts.echo || config_.SQLALCHEMY_ECHO;
  engine_ = make_engine(config_.SQLALCHEMY_DATABASE_URI, std::move(opts));
  for (const auto& [key, url] : config_.SQLALCHEMY_BINDS) {
    EngineOptions bind_opts;
    bind_opts.echo = config_.SQLALCHEMY_ECHO;
    bind_opts.log = config_.SQLALCHEMY_ENGINE_OPTIONS.log;
    binds_[key] = make_engine(url, std::move(bind_opts));
  }
  if (config_.SQLALCHEMY_RECORD_QUERIES) {
    recorder_ = std::make_shared<engine::QueryRecorder>();
    engine_->logger().set_recorder(recorder_);
    for (auto& [key, e] : binds_) e->logger().set_recorder(recorder_);
  }
  auto& d = orm::detail::default_db();
  std::lock_guard lock(d.mutex);
  d.stack.push_back(this);
}

ALCHEMY_INLINE SQLAlchemy::~SQLAlchemy() {
  {
    auto& d = orm::detail::default_db();
    std::lock_guard lock(d.mutex);
    std::erase(d.stack, this);
  }
  std::lock_guard lock(sessions_mutex_);
  sessions_.clear();  // close every thread's session before the engines go
}

ALCHEMY_INLINE Engine& SQLAlchemy::engine(std::string_view bind_key) const {
  if (bind_key.empty()) return *engine_;
  auto it = binds_.find(bind_key);
  if (it == binds_.end()) throw InvalidRequestError("SQLALCHEMY_BINDS has no key '" + std::string(bind_key) + "'");
  return *it->second;
}

ALCHEMY_INLINE SQLAlchemy& SQLAlchemy::current() {
  auto& d = orm::detail::default_db();
  std::lock_guard lock(d.mutex);
  if (d.stack.empty())
    throw InvalidRequestError(
        "Model::query() needs an alchemy::SQLAlchemy object (as Flask-SQLAlchemy needs an app "
        "context): create one first, or use session.query<T>() on a Session");
  return *d.stack.back();
}

ALCHEMY_INLINE Session& SQLAlchemy::open_thread_session() {
  std::lock_guard lock(sessions_mutex_);
  auto& s = sessions_[std::this_thread::get_id()];
  if (!s) {
    s = std::make_unique<Session>(engine_, config_.session_options, binds_);
    if (config_.SQLALCHEMY_TRACK_MODIFICATIONS) track_modifications(*s);
  }
  session_cache() = {generation_.load(std::memory_order_relaxed), s.get()};
  return *s;
}

ALCHEMY_INLINE void SQLAlchemy::track_modifications(Session& s) {
  auto changes = std::make_shared<std::vector<ModelChange>>();
  s.listen(event::before_commit, [this, changes](Session& session) {
    *changes = session.model_changes();
    if (!changes->empty()) before_models_committed.send(*this, *changes);
  });
  s.listen(event::after_commit, [this, changes](Session&) {
    const auto done = std::exchange(*changes, {});
    if (!done.empty()) models_committed.send(*this, done);
  });
  s.listen(event::after_rollback, [changes](Session&) { changes->clear(); });
}

ALCHEMY_INLINE void SQLAlchemy::remove_thread_session() {
  if (recorder_) recorder_->clear();
  std::unique_ptr<Session> s;
  {
    std::lock_guard lock(sessions_mutex_);
    auto it = sessions_.find(std::this_thread::get_id());
    if (it == sessions_.end()) return;
    s = std::move(it->second);
    sessions_.erase(it);
  }
  // A new generation makes every thread's cache miss once; only this thread's entry is gone.
  // Atomic: other threads read it without the lock (ThreadSanitizer found the plain read).
  generation_.store(++orm::detail::db_generation(), std::memory_order_release);
  s.reset();
}

ALCHEMY_INLINE std::shared_ptr<Engine> SQLAlchemy::make_engine(const std::string& uri, EngineOptions opts) {
  auto url = make_url(uri);
  if ((url.dialect() == "mysql" || url.dialect() == "mariadb") && !opts.pool_recycle)
    opts.pool_recycle = std::chrono::hours(2);
  return std::make_shared<Engine>(std::move(url), std::move(opts));
}

ALCHEMY_INLINE std::vector<std::pair<const sql::Table*, const orm::Mapper*>> SQLAlchemy::association_tables(
    const std::vector<const orm::Mapper*>& models) {
  std::vector<std::pair<const sql::Table*, const orm::Mapper*>> out;
  for (const auto* m : models) {
    if (!m->has_relationships()) continue;
    for (const auto& r : m->relationships())
      if (r->direction == orm::Direction::many_to_many &&
          std::none_of(out.begin(), out.end(), [&](const auto& t) { return t.first == r->assoc; }))
        out.emplace_back(r->assoc, r->owner);
  }
  return out;
}

ALCHEMY_INLINE void SQLAlchemy::create_table(Engine& e, const sql::Table& t) {
  auto conn = e.connect();
  if (conn.has_table(t.name())) return;
  const auto& c = e.dialect().compiler();
  conn.begin();
  conn.execute(c.create_table(t));
  for (const auto& ix : c.create_indexes(t)) conn.execute(ix);
  conn.commit();
}

ALCHEMY_INLINE void SQLAlchemy::drop_table(Engine& e, const sql::Table& t) {
  auto conn = e.connect();
  if (!conn.has_table(t.name())) return;
  conn.begin();
  conn.execute(e.dialect().compiler().drop_table(t));
  conn.commit();
}

ALCHEMY_INLINE void SQLAlchemy::create(std::vector<const orm::Mapper*> models) {
  const auto links = association_tables(models);
  for (const auto* m : orm::detail::dependency_order(std::move(models))) create_table(engine(m->bind_key()), m->table());
  // After both ends: an association table refers to them.
  for (const auto& [t, owner] : links) create_table(engine(owner->bind_key()), *t);
}

ALCHEMY_INLINE void SQLAlchemy::drop(std::vector<const orm::Mapper*> models) {
  for (const auto& [t, owner] : association_tables(models)) drop_table(engine(owner->bind_key()), *t);
  auto order = orm::detail::dependency_order(std::move(models));
  for (auto it = order.rbegin(); it != order.rend(); ++it) drop_table(engine((*it)->bind_key()), (*it)->table());
}
#endif  // ALCHEMY_IMPL

inline Session& ScopedSession::operator()() const { return db_->thread_session(); }
inline void ScopedSession::remove() const { db_->remove_thread_session(); }

template <class T>
Query<T> Model<T>::query() {
  return SQLAlchemy::current().session.query<T>();
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_SQLALCHEMY_HPP_
