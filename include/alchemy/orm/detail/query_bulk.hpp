// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/query.hpp>.
//
// What Query<T> does that does not depend on T: its bulk update() and delete_() (SQLAlchemy's
// synchronize_session="fetch": the matching keys are read first, and the session's objects of
// those keys follow the statement), and statement(). Query<T> forwards to these, so a model
// instantiates one-line calls; with ALCHEMY_SEPARATE_COMPILATION they are compiled once.
#ifndef ALCHEMY_ORM_DETAIL_QUERY_BULK_HPP_
#define ALCHEMY_ORM_DETAIL_QUERY_BULK_HPP_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
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
struct QueryBulk {
  using Values = std::initializer_list<std::pair<std::string_view, sql::Value>>;
  /// UPDATE of the rows `s` matches (a query of model `m`); the number of rows matched.
  static std::int64_t update(Session& session, const Mapper& m, const sql::Select& s, Values values);
  /// DELETE of the rows `s` matches; the session's objects of those rows become deleted.
  static std::int64_t delete_(Session& session, const Mapper& m, const sql::Select& s);
  /// The SQL of `s` in the dialect of `m`'s engine, after the FROM check.
  static std::string statement(Session& session, const Mapper& m, const sql::Select& s);

 private:
  static void refuse_joins(const sql::Select& s);
  static std::vector<sql::Value> matching_keys(Session& session, const Mapper& m, const sql::Select& s);
  static std::int64_t execute_counted(engine::Connection& conn, const sql::Compiled& c);
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void QueryBulk::refuse_joins(const sql::Select& s) {
  // SQLAlchemy's rule for Query.update() / delete().
  if (!s.joins.empty())
    throw InvalidRequestError("Can't call update() or delete_() when join() or outerjoin() has been called");
}

ALCHEMY_INLINE std::int64_t QueryBulk::execute_counted(engine::Connection& conn, const sql::Compiled& c) {
  auto& st = conn.prepare(c.sql);
  const dialect::ResetGuard reset(st);
  std::vector<sql::ValueRef> refs;
  refs.reserve(c.params.size());
  for (const auto& p : c.params) refs.push_back(p.ref());
  conn.run(st, refs);
  return st.affected_rows();
}

ALCHEMY_INLINE std::vector<sql::Value> QueryBulk::matching_keys(Session& session, const Mapper& m,
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
  std::vector<sql::ValueRef> refs;
  refs.reserve(compiled.params.size());
  for (const auto& p : compiled.params) refs.push_back(p.ref());
  conn.run(st, refs);
  while (st.next()) keys.emplace_back(st.column(0, m.column(m.key_columns()[0]).type.kind));
  return keys;
}

ALCHEMY_INLINE std::int64_t QueryBulk::update(Session& session, const Mapper& m, const sql::Select& s, Values values) {
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
    if (!st->before_transaction && !st->new_in_transaction) {
      st->before_transaction = m.clone(st->snapshot);
      session.tx_touched_.push_back(st);
    }
    for (const auto& [c, v] : sets) {
      m.access(std::size_t(c->position)).set(st->object, v);
      m.access(std::size_t(c->position)).set(st->snapshot, v);
    }
  }
  return n;
}

ALCHEMY_INLINE std::int64_t QueryBulk::delete_(Session& session, const Mapper& m, const sql::Select& s) {
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

ALCHEMY_INLINE std::string QueryBulk::statement(Session& session, const Mapper& m, const sql::Select& s) {
  check_from(s);
  return session.conn_dialect(m).compiler().select(s).sql;
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_QUERY_BULK_HPP_
