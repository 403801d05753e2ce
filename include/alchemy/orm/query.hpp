// SPDX-License-Identifier: MIT
// File: orm/query.hpp
//
// Query<T>: a generative query over one model (each call returns a new query), compiled by the
// session's dialect when it runs. Every value is a bound parameter.
//
//   auto q = Account::query().filter(Account::id_ > 10).order_by(Account::handle_.desc());
//   for (auto& a : q.limit(5)) ...                      // range-for runs the query
//   auto one = Account::query().filter_by("handle", "jdoe").first();   // null when no row
//   auto n = Account::query().filter(Account::secret_key_.is_null()).count();
#ifndef ALCHEMY_ORM_QUERY_HPP_
#define ALCHEMY_ORM_QUERY_HPP_

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alchemy/orm/keyset.hpp"
#include "alchemy/orm/session.hpp"
#include "alchemy/sql/statement.hpp"

namespace alchemy {

template <class T>
class Pagination;
template <class T>
struct KeysetPage;
struct PageOptions;
struct KeysetOptions;

namespace orm::detail {
/// Any C++ value as a bound value, for filter_by() and update() where the column is named at
/// run time.
template <class V>
sql::Value any_value(const V& v) {
  using U = std::remove_cvref_t<V>;
  if constexpr (std::is_same_v<U, sql::Value>) return v;
  else if constexpr (std::is_same_v<U, std::nullopt_t> || std::is_same_v<U, std::nullptr_t>) return {};
  else if constexpr (alchemy::detail::is_optional_v<U>) return v ? any_value(*v) : sql::Value{};
  else if constexpr (std::is_same_v<U, bool>) return sql::Value(v);
  else if constexpr (std::is_integral_v<U>) return sql::Value(static_cast<std::int64_t>(v));
  else if constexpr (std::is_floating_point_v<U>) return sql::Value(static_cast<double>(v));
  else if constexpr (std::is_convertible_v<const U&, std::string_view>) return sql::Value(std::string(std::string_view(v)));
  else if constexpr (requires { TypeTraits<U>::to_value(v); }) return TypeTraits<U>::to_value(v);
  else static_assert(sizeof(U) == 0, "alchemy: no TypeTraits for this value's type");
}

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
}  // namespace orm::detail

template <class T>
class Query {
  static_assert(ModelType<T>, "alchemy: Query<T> needs a model type (struct T : alchemy::Model<T>)");

 public:
  using value_type = std::shared_ptr<T>;

  explicit Query(Session& session) : session_(&session) { stmt_.table = &mapper_of<T>().table(); }

  /// Adds a condition (joined to earlier ones with AND).
  template <class C>
  Query filter(const C& condition) const {
    static_assert(std::is_same_v<C, Condition<T>> || std::is_same_v<C, Condition<void>>,
                  "alchemy: Query<T>::filter() takes a condition over T's own columns");
    Query q = *this;
    q.stmt_.where.push_back(condition.expr);
    return q;
  }
  template <class C, class... Cs>
  Query filter(const C& first, const Cs&... rest) const {
    return filter(first).filter(rest...);
  }

  /// `column = value` for a column named at run time (Flask-SQLAlchemy's filter_by). An
  /// unknown column is an InvalidRequestError naming it.
  template <class V>
  Query filter_by(std::string_view column, const V& value) const {
    const auto& m = mapper_of<T>();
    const auto& c = orm::detail::find_column(m, column);
    auto v = orm::detail::any_value(value);
    orm::detail::check_value(m, c, v, "filter_by()");
    Query q = *this;
    q.stmt_.where.push_back(sql::binary(sql::Op::eq, sql::column(c), sql::bind(std::move(v))));
    return q;
  }
  template <class V, class... Rest>
  Query filter_by(std::string_view column, const V& value, const Rest&... rest) const {
    static_assert(sizeof...(Rest) % 2 == 0, "alchemy: filter_by() takes column, value pairs");
    return filter_by(column, value).filter_by(rest...);
  }

  Query order_by(const OrderTerm<T>& term) const {
    Query q = *this;
    q.stmt_.order_by.push_back(term.term);
    return q;
  }
  template <class F>
  Query order_by(const Column<T, F>& column) const {
    return order_by(column.asc());
  }
  template <class A, class B, class... Rest>
  Query order_by(const A& a, const B& b, const Rest&... rest) const {
    return order_by(a).order_by(b, rest...);
  }
  /// Drops the ORDER BY (SQLAlchemy's order_by(None)).
  Query order_by(std::nullptr_t) const {
    Query q = *this;
    q.stmt_.order_by.clear();
    return q;
  }
  Query limit(std::int64_t n) const {
    Query q = *this;
    q.stmt_.limit = n;
    return q;
  }
  Query offset(std::int64_t n) const {
    Query q = *this;
    q.stmt_.offset = n;
    return q;
  }
  Query distinct() const {
    Query q = *this;
    q.stmt_.distinct = true;
    return q;
  }

  /// A query of columns and expressions instead of objects (orm/row_query.hpp): rows are
  /// std::tuple<...> of the entities' C++ types.
  ///   Account::query().with_entities(Account::handle_, func::count(Account::id_))
  ///       .group_by(Account::handle_).all();   // std::vector<std::tuple<std::string, int64_t>>
  template <class... Es>
  auto with_entities(const Es&... entities) const;

  /// Keyset pagination: only the rows after the row whose ORDER BY values are `values`, one per
  /// term (orm/keyset.hpp). q.order_by(Account::id_).seek_after(last->id).limit(20)
  template <class V, class... Vs>
  Query seek_after(const V& value, const Vs&... values) const {
    return seek_after(std::vector<sql::Value>{orm::detail::any_value(value), orm::detail::any_value(values)...});
  }
  Query seek_after(const std::vector<sql::Value>& cursor) const {
    return filter(Condition<T>{orm::detail::seek_condition(stmt_.order_by, cursor)});
  }

  /// One page with Flask-SQLAlchemy's numbers (orm/pagination.hpp): q.paginate({.page = 2}).
  Pagination<T> paginate(SourceLocation where = SourceLocation::current()) const;
  Pagination<T> paginate(const PageOptions& options, SourceLocation where = SourceLocation::current()) const;
  /// One keyset page and the cursor of the next (orm/pagination.hpp).
  KeysetPage<T> keyset_page(const KeysetOptions& options, SourceLocation where = SourceLocation::current()) const;

  /// Flask-SQLAlchemy's 404 helpers: the object, or alchemy::NotFound (code() 404) for a web
  /// framework to turn into an HTTP 404. one_or_404 also 404s when several rows match.
  template <class K>
  std::shared_ptr<T> get_or_404(const K& key, std::string description = {}, SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    if (auto r = get(key)) return r;
    throw NotFound(std::move(description));
  }
  std::shared_ptr<T> first_or_404(std::string description = {}, SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    if (auto r = first()) return r;
    throw NotFound(std::move(description));
  }
  std::shared_ptr<T> one_or_404(std::string description = {}, SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    try {
      return one();
    } catch (const NoResultFound&) {
    } catch (const MultipleResultsFound&) {
    }
    throw NotFound(std::move(description));
  }

  /// Every matching object.
  std::vector<std::shared_ptr<T>> all(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    std::vector<std::shared_ptr<T>> out;
    run(stmt_, [&](dialect::Statement& row) { out.push_back(session_->materialize<T>(row)); });
    return out;
  }
  /// The first matching object (LIMIT 1), or null.
  std::shared_ptr<T> first(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    sql::Select s = stmt_;
    s.limit = 1;
    std::shared_ptr<T> out;
    run(s, [&](dialect::Statement& row) {
      if (!out) out = session_->materialize<T>(row);
    });
    return out;
  }
  /// Exactly one object; NoResultFound or MultipleResultsFound otherwise.
  std::shared_ptr<T> one(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    auto r = one_or_none();
    if (!r) throw NoResultFound("No row was found when one was required");
    return r;
  }
  /// One object or null; MultipleResultsFound when there are several.
  std::shared_ptr<T> one_or_none(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    sql::Select s = stmt_;
    if (!s.limit || *s.limit > 2) s.limit = 2;
    std::vector<std::shared_ptr<T>> rows;
    run(s, [&](dialect::Statement& row) { rows.push_back(session_->materialize<T>(row)); });
    if (rows.size() > 1) throw MultipleResultsFound("Multiple rows were found when exactly one was required");
    return rows.empty() ? nullptr : rows.front();
  }
  /// The number of matching rows (SELECT count(*) FROM (query)).
  std::int64_t count(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return scalar(sql::SelectForm::count);
  }
  /// Whether any row matches.
  bool exists(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return scalar(sql::SelectForm::exists) != 0;
  }
  /// The object with this primary key (Session::get).
  template <class K>
  std::shared_ptr<T> get(const K& key, SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return session_->get<T>(key);
  }

  /// Bulk UPDATE of every matching row; objects in the session are updated to match.
  /// Returns the number of rows matched.
  std::int64_t update(std::initializer_list<std::pair<std::string_view, sql::Value>> values,
                      SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    const auto& m = mapper_of<T>();
    std::vector<std::pair<const sql::Column*, sql::Value>> sets;
    for (const auto& [name, v] : values) {
      const auto& c = orm::detail::find_column(m, name);
      if (c.primary_key) throw InvalidRequestError("update(): changing primary keys is not supported");
      if (v.is_null() && !c.nullable)
        throw ArgumentError("update(): column '" + c.name + "' is NOT NULL");
      orm::detail::check_value(m, c, v, "update()");
      sets.emplace_back(&c, v);
    }
    const auto guard = session_->use();
    session_->autoflush_for_query();
    auto keys = matching_keys();
    auto& conn = session_->connection_for(m);
    const auto compiled = conn_dialect().compiler().update_where(m.table(), sets, stmt_.where);
    const auto n = execute_counted(conn, compiled);
    // Keep the session's objects in step (SQLAlchemy's synchronize_session="fetch").
    for (auto& k : keys) {
      auto it = session_->identity_.find(orm::IdentityKey{&m, std::move(k)});
      if (it == session_->identity_.end()) continue;
      const auto& st = it->second;
      if (!st->before_transaction && !st->new_in_transaction) {
        st->before_transaction = m.clone(st->snapshot);
        session_->tx_touched_.push_back(st);
      }
      for (const auto& [c, v] : sets) {
        m.access(std::size_t(c->position)).set(st->object, v);
        m.access(std::size_t(c->position)).set(st->snapshot, v);
      }
    }
    return n;
  }

  /// Bulk DELETE of every matching row; objects in the session become deleted.
  std::int64_t delete_(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    const auto& m = mapper_of<T>();
    const auto guard = session_->use();
    session_->autoflush_for_query();
    auto keys = matching_keys();
    auto& conn = session_->connection_for(m);
    const auto n = execute_counted(conn, conn_dialect().compiler().delete_where(m.table(), stmt_.where));
    for (auto& k : keys) {
      auto it = session_->identity_.find(orm::IdentityKey{&m, std::move(k)});
      if (it == session_->identity_.end()) continue;
      auto st = it->second;
      session_->identity_.erase(it);
      st->state = ObjectState::deleted;
      session_->tx_deleted_.push_back(st);
    }
    return n;
  }

  /// The SQL this query runs, with placeholders (SQLAlchemy's str(query)).
  std::string statement() const { return conn_dialect().compiler().select(stmt_).sql; }
  /// The SELECT this query compiles from.
  const sql::Select& select() const noexcept { return stmt_; }

  // Range-for: runs the query once, on begin().
  using iterator = typename std::vector<std::shared_ptr<T>>::const_iterator;
  iterator begin(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    results_ = std::make_shared<std::vector<std::shared_ptr<T>>>(all());
    return results_->begin();
  }
  iterator end() const {
    if (!results_) results_ = std::make_shared<std::vector<std::shared_ptr<T>>>(all());
    return results_->end();
  }

 private:
  const dialect::Dialect& conn_dialect() const { return session_->conn_dialect(mapper_of<T>()); }

  template <class OnRow>
  void run(const sql::Select& s, OnRow&& on_row) const {
    const auto guard = session_->use();
    session_->autoflush_for_query();
    auto& conn = session_->connection_for(mapper_of<T>());
    std::vector<sql::ValueRef> params;  // SQL compiled once per statement shape
    const auto shape = sql::compile_cached(conn_dialect().compiler(), s, sql::SelectForm::rows, params);
    auto& st = conn.prepare(shape->sql);
    const dialect::ResetGuard reset(st);
    conn.run(st, params);
    while (st.next()) on_row(st);
  }

  static void bind_and_run(engine::Connection& conn, dialect::Statement& st, const sql::Compiled& c) {
    std::vector<sql::ValueRef> refs;
    refs.reserve(c.params.size());
    for (const auto& p : c.params) refs.push_back(p.ref());
    conn.run(st, refs);
  }

  std::int64_t scalar(sql::SelectForm form) const {
    const auto guard = session_->use();
    session_->autoflush_for_query();
    auto& conn = session_->connection_for(mapper_of<T>());
    std::vector<sql::ValueRef> params;
    const auto shape = sql::compile_cached(conn_dialect().compiler(), stmt_, form, params);
    auto& st = conn.prepare(shape->sql);
    const dialect::ResetGuard reset(st);
    conn.run(st, params);
    std::int64_t n = 0;
    if (st.next()) n = TypeTraits<std::int64_t>::from_ref(st.column(0, sql::TypeKind::big_integer));
    return n;
  }

  std::int64_t execute_counted(engine::Connection& conn, const sql::Compiled& c) const {
    auto& st = conn.prepare(c.sql);
    const dialect::ResetGuard reset(st);
    bind_and_run(conn, st, c);
    return st.affected_rows();
  }

  /// Keys of the rows the criteria match, read before a bulk UPDATE or DELETE.
  std::vector<sql::Value> matching_keys() const {
    const auto& m = mapper_of<T>();
    if (m.key_columns().size() != 1)
      throw InvalidRequestError("bulk update()/delete_() need a single-column primary key");
    sql::Select s;
    s.table = stmt_.table;
    s.columns = {&m.column(m.key_columns()[0])};
    s.where = stmt_.where;
    std::vector<sql::Value> keys;
    auto& conn = session_->connection_for(m);
    const auto compiled = conn_dialect().compiler().select(s);
    auto& st = conn.prepare(compiled.sql);
    const dialect::ResetGuard reset(st);
    bind_and_run(conn, st, compiled);
    while (st.next()) keys.emplace_back(st.column(0, m.column(m.key_columns()[0]).type.kind));
    return keys;
  }

  template <class, class...>
  friend class RowQuery;

  Session* session_;
  sql::Select stmt_;
  mutable std::shared_ptr<std::vector<std::shared_ptr<T>>> results_;
};

template <class T, class... Vs>
class RowQuery;

template <ModelType T>
Query<T> Session::query() {
  return Query<T>(*this);
}

}  // namespace alchemy

#include "alchemy/orm/pagination.hpp"

#include "alchemy/orm/row_query.hpp"

#endif  // ALCHEMY_ORM_QUERY_HPP_
