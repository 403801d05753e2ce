// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/query.hpp>.
//
// What Query<T> does that does not depend on T: loading its objects (all, first, one_or_none,
// with joinedload and the other loader options), count() and exists(), its bulk update() and
// delete_() (SQLAlchemy's synchronize_session="fetch": the matching keys are read first, and the
// session's objects of those keys follow the statement), and statement(). Query<T> forwards to
// these and only turns states into std::shared_ptr<T>, so a model instantiates one-line calls;
// with ALCHEMY_SEPARATE_COMPILATION they are compiled once (docs/performance.md, "Compile cost").
#ifndef ALCHEMY_ORM_DETAIL_QUERY_CORE_HPP_
#define ALCHEMY_ORM_DETAIL_QUERY_CORE_HPP_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/orm/detail/from_check.hpp"
#include "alchemy/orm/session.hpp"
#include "alchemy/sql/statement.hpp"

namespace alchemy::orm::detail {

/// Checks that a value fits a column named at run time.
inline void check_value(const Mapper& m, const sql::Column& c, const sql::Value& v, std::string_view what) {
  if (v.is_null()) return;
  const auto want = sql::value_kind(c.type.kind);
  const bool ok = v.kind() == want || (want == sql::ValueKind::real && v.kind() == sql::ValueKind::integer);
  if (!ok)
    throw ArgumentError(std::string(what) + ": column '" + c.name + "' of " + m.class_name() + " holds " +
                        std::string(sql::kind_name(want)) + " values, got " +
                        std::string(sql::kind_name(v.kind())));
}

inline const sql::Column& find_column(const Mapper& m, std::string_view name) {
  const auto* c = m.find(name);
  if (!c)
    throw InvalidRequestError("Entity namespace for \"" + m.table().name() + "\" has no property \"" +
                              std::string(name) + "\"");
  return *c;
}

struct QueryCore {
  using StatePtr = std::shared_ptr<InstanceState>;
  using Values = std::initializer_list<std::pair<std::string_view, sql::Value>>;
  /// The objects of the rows of `s` (a query of model `m` with loader options `load`), each
  /// once (a join can repeat one), their relationships loaded as the options say.
  static std::vector<StatePtr> all(Session& session, const Mapper& m, const sql::Select& s,
                                   const std::vector<LoadOption>& load);
  /// The object of the first row (LIMIT 1), or null.
  static StatePtr first(Session& session, const Mapper& m, const sql::Select& s, const std::vector<LoadOption>& load);
  /// The one object, or null; MultipleResultsFound when there are several.
  static StatePtr one_or_none(Session& session, const Mapper& m, const sql::Select& s,
                              const std::vector<LoadOption>& load);
  /// SELECT count(*) or EXISTS over `s`.
  static std::int64_t scalar(Session& session, const Mapper& m, const sql::Select& s, sql::SelectForm form);
  /// UPDATE of the rows `s` matches (a query of model `m`); the number of rows matched.
  static std::int64_t update(Session& session, const Mapper& m, const sql::Select& s, Values values);
  /// DELETE of the rows `s` matches; the session's objects of those rows become deleted.
  static std::int64_t delete_(Session& session, const Mapper& m, const sql::Select& s);
  /// The SQL of `s` in the dialect of `m`'s engine, after the FROM check.
  static std::string statement(Session& session, const Mapper& m, const sql::Select& s);

 private:
  /// The objects of `s`'s rows; with joins, each once, in the order first seen.
  static std::vector<StatePtr> objects(Session& session, const Mapper& m, const sql::Select& s);
  /// The loader options, and the relationships declared eager, over the objects a query loaded.
  static void eager_load(Session& session, const Mapper& m, const std::vector<StatePtr>& objects,
                         const std::vector<LoadOption>& load);
  static void refuse_joins(const sql::Select& s);
  static std::vector<sql::Value> matching_keys(Session& session, const Mapper& m, const sql::Select& s);
  static std::int64_t execute_counted(engine::Connection& conn, const sql::Compiled& c);
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::vector<QueryCore::StatePtr> QueryCore::objects(Session& session, const Mapper& m,
                                                                 const sql::Select& s) {
  std::vector<StatePtr> out;
  QueryRun run(session, m, s);
  auto& row = run.statement();
  if (s.joins.empty()) {
    while (row.next()) out.push_back(session.load_row(m, row, 0));
    return out;
  }
  std::unordered_set<const InstanceState*> seen;
  while (row.next()) {
    auto st = session.load_row(m, row, 0);
    if (seen.insert(st.get()).second) out.push_back(std::move(st));
  }
  return out;
}

ALCHEMY_INLINE void QueryCore::eager_load(Session& session, const Mapper& m, const std::vector<StatePtr>& objects,
                                         const std::vector<LoadOption>& load) {
  if (objects.empty() || (load.empty() && !m.has_relationships())) return;
  const auto guard = session.use();
  orm::detail::eager_load(session, m, objects, load);
}

ALCHEMY_INLINE std::vector<QueryCore::StatePtr> QueryCore::all(Session& session, const Mapper& m,
                                                             const sql::Select& s,
                                                             const std::vector<LoadOption>& load) {
  const LoadOption* joined = joined_option(m, s, load);
  auto out = joined ? load_joined(session, m, s, *joined) : objects(session, m, s);
  eager_load(session, m, out, load);
  return out;
}

ALCHEMY_INLINE QueryCore::StatePtr QueryCore::first(Session& session, const Mapper& m, const sql::Select& query,
                                                   const std::vector<LoadOption>& load) {
  sql::Select s = query;
  s.limit = 1;
  StatePtr out;
  {
    QueryRun run(session, m, s);
    auto& row = run.statement();
    while (row.next())
      if (!out) out = session.load_row(m, row, 0);
  }
  if (out) eager_load(session, m, {out}, load);
  return out;
}

ALCHEMY_INLINE QueryCore::StatePtr QueryCore::one_or_none(Session& session, const Mapper& m,
                                                         const sql::Select& query,
                                                         const std::vector<LoadOption>& load) {
  sql::Select s = query;
  // A join repeats an object in several rows: then every row is read, so that two rows of
  // one object are not taken for two objects, nor a third hidden by the limit.
  if (s.joins.empty() && (!s.limit || *s.limit > 2)) s.limit = 2;
  const auto rows = objects(session, m, s);
  if (rows.size() > 1) throw MultipleResultsFound("Multiple rows were found when exactly one was required");
  eager_load(session, m, rows, load);
  return rows.empty() ? nullptr : rows.front();
}

ALCHEMY_INLINE std::int64_t QueryCore::scalar(Session& session, const Mapper& m, const sql::Select& s,
                                             sql::SelectForm form) {
  QueryRun run(session, m, s, form);
  auto& st = run.statement();
  std::int64_t n = 0;
  if (st.next()) n = TypeTraits<std::int64_t>::from_ref(st.column(0, sql::TypeKind::big_integer));
  return n;
}

ALCHEMY_INLINE void QueryCore::refuse_joins(const sql::Select& s) {
  // SQLAlchemy's rule for Query.update() / delete().
  if (!s.joins.empty())
    throw InvalidRequestError("Can't call update() or delete_() when join() or outerjoin() has been called");
}

ALCHEMY_INLINE std::int64_t QueryCore::execute_counted(engine::Connection& conn, const sql::Compiled& c) {
  auto& st = conn.prepare(c.sql);
  const dialect::ResetGuard reset(st);
  conn.run(st, sql::refs_of(c.params));
  return st.affected_rows();
}

ALCHEMY_INLINE std::vector<sql::Value> QueryCore::matching_keys(Session& session, const Mapper& m,
                                                               const sql::Select& query) {
  if (m.key_columns().size() != 1)
    throw InvalidRequestError("bulk update()/delete_() need a single-column primary key");
  sql::Select s;
  s.table = query.table;
  s.columns = {&m.column(m.key_columns()[0])};
  s.where = query.where;
  std::vector<sql::Value> keys;
  auto& conn = session.connection_for(m);
  check_from(s);
  const auto compiled = session.conn_dialect(m).compiler().select(s);
  auto& st = conn.prepare(compiled.sql);
  const dialect::ResetGuard reset(st);
  conn.run(st, sql::refs_of(compiled.params));
  while (st.next()) keys.emplace_back(st.column(0, m.column(m.key_columns()[0]).type.kind));
  return keys;
}

ALCHEMY_INLINE std::int64_t QueryCore::update(Session& session, const Mapper& m, const sql::Select& s, Values values) {
  refuse_joins(s);
  std::vector<std::pair<const sql::Column*, sql::Value>> sets;
  for (const auto& [name, v] : values) {
    const auto& c = find_column(m, name);
    if (c.primary_key) throw InvalidRequestError("update(): changing primary keys is not supported");
    if (v.is_null() && !c.nullable)
      throw ArgumentError("update(): column '" + c.name + "' is NOT NULL");
    check_value(m, c, v, "update()");
    sets.emplace_back(&c, v);
  }
  const auto guard = session.use();
  session.autoflush_for_query();
  auto keys = matching_keys(session, m, s);
  auto& conn = session.connection_for(m);
  const auto compiled = session.conn_dialect(m).compiler().update_where(m.table(), sets, s.where);
  const auto n = execute_counted(conn, compiled);
  // Keep the session's objects in step (SQLAlchemy's synchronize_session="fetch").
  for (auto& k : keys) {
    auto it = session.identity_.find(IdentityKey{&m, std::move(k)});
    if (it == session.identity_.end()) continue;
    const auto& st = it->second;
    const bool first = !st->before_transaction && !st->new_in_transaction;
    if (first) session.tx_touched_.push_back(st);
    bool keep_before = first;  // the snapshot as it was becomes the before-image
    for (const auto& [c, v] : sets) {
      m.access(std::size_t(c->position)).set(st->object, v);
      session.set_snapshot_column(*st, std::size_t(c->position), v.ref(), std::exchange(keep_before, false));
    }
  }
  return n;
}

ALCHEMY_INLINE std::int64_t QueryCore::delete_(Session& session, const Mapper& m, const sql::Select& s) {
  refuse_joins(s);
  const auto guard = session.use();
  session.autoflush_for_query();
  auto keys = matching_keys(session, m, s);
  auto& conn = session.connection_for(m);
  const auto n = execute_counted(conn, session.conn_dialect(m).compiler().delete_where(m.table(), s.where));
  for (auto& k : keys) {
    auto it = session.identity_.find(IdentityKey{&m, std::move(k)});
    if (it == session.identity_.end()) continue;
    auto st = it->second;
    session.identity_.erase(it);
    st->state = ObjectState::deleted;
    session.tx_deleted_.push_back(st);
  }
  return n;
}

ALCHEMY_INLINE std::string QueryCore::statement(Session& session, const Mapper& m, const sql::Select& s) {
  check_from(s);
  return session.conn_dialect(m).compiler().select(s).sql;
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_QUERY_CORE_HPP_
