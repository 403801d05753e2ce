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
//
// A query may join other models' tables and then filter and order by their columns; it checks
// when it runs that every column it uses is in its FROM (orm/detail/from_check.hpp):
//   Post::query().join<Author>(Post::author_id_ == Author::id_).filter(Author::name_ == "ada").all();
#ifndef ALCHEMY_ORM_QUERY_HPP_
#define ALCHEMY_ORM_QUERY_HPP_

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "alchemy/orm/detail/from_check.hpp"
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

  /// Adds a condition (joined to earlier ones with AND). It may use the columns of T and of
  /// the models joined (before or after this call); another model's column is an
  /// InvalidRequestError naming it when the query runs.
  template <class C>
  Query filter(const C& condition) const {
    if constexpr (!alchemy::detail::is_condition_v<C>) {
      static_assert(alchemy::detail::is_condition_v<C>,
                    "alchemy: filter() takes a condition, such as Account::id_ > 10 or and_(a, b)");
      return *this;
    } else {
      Query q = *this;
      q.stmt_.where.push_back(condition.expr);
      return q;
    }
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

  /// ORDER BY a column of T or of a joined model, or its asc() / desc().
  template <class M>
  Query order_by(const OrderTerm<M>& term) const {
    Query q = *this;
    q.stmt_.order_by.push_back(term.term);
    return q;
  }
  template <class M, class F>
  Query order_by(const Column<M, F>& column) const {
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

  /// JOIN model U's table ON `on`, a condition over the models in the query and U:
  ///   Post::query().join<Author>(Post::author_id_ == Author::id_)
  /// Rows of T without a match are left out; see outerjoin(). A model already in the FROM (T,
  /// or one joined before) is an InvalidRequestError: a table twice needs an alias, which
  /// alchemy does not support yet. Objects repeated by the join come back once, as
  /// Flask-SQLAlchemy's Query does; count() counts rows.
  template <class U, class C>
  Query join(const C& on) const {
    return join_model<U>(on, false);
  }
  /// LEFT OUTER JOIN model U's table ON `on`: rows of T without a match are kept, with NULL for
  /// U's columns.
  template <class U, class C>
  Query outerjoin(const C& on) const {
    return join_model<U>(on, true);
  }
  /// JOIN along a relationship (its ON comes from the foreign key; a many-to-many joins its
  /// association table too): Post::query().join(Post::author_).filter(Author::name_ == "ada"),
  /// or join(&Post::author).
  template <orm::detail::RelationshipRef R>
  Query join(const R& relationship) const {
    return join_relationship(orm::detail::relationship_ref(relationship)(), false);
  }
  /// LEFT OUTER JOIN along a relationship.
  template <orm::detail::RelationshipRef R>
  Query outerjoin(const R& relationship) const {
    return join_relationship(orm::detail::relationship_ref(relationship)(), true);
  }
  /// The join itself, for code that holds a table and an ON expression (relationships).
  Query join_on(const sql::Table& table, sql::ExprPtr on, bool outer = false) const {
    if (!on) throw ArgumentError("join(): the JOIN of '" + table.name() + "' needs an ON condition");
    const bool twice = &table == stmt_.table ||
                       std::any_of(stmt_.joins.begin(), stmt_.joins.end(),
                                   [&](const sql::Join& j) { return j.table == &table; });
    if (twice)
      throw InvalidRequestError("join(): table '" + table.name() +
                                "' is already in the query's FROM; joining a table twice (or a "
                                "model to itself) needs an alias, which alchemy does not support yet");
    Query q = *this;
    q.stmt_.joins.push_back({&table, std::move(on), outer});
    return q;
  }

  /// Objects of T and of the joined model U in each row (orm/entities_query.hpp):
  ///   Post::query().join<Author>(...).add_entity<Author>().all()
  ///       // std::vector<std::tuple<std::shared_ptr<Post>, std::shared_ptr<Author>>>
  template <class U>
  auto add_entity() const;

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

  /// Loader options for relationships (orm/relationship.hpp):
  /// Author::query().options(alchemy::selectinload(Author::posts_)).all().
  template <class... Os>
    requires(std::is_same_v<Os, LoadOption> && ...)
  Query options(const Os&... opts) const {
    Query q = *this;
    (q.load_.push_back(opts), ...);
    return q;
  }

  /// Every matching object, each once (a join can repeat one).
  std::vector<std::shared_ptr<T>> all(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    const LoadOption* joined = joined_option();
    auto out = joined ? objects_joined(*joined) : objects(stmt_);
    eager_load(out);
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
    if (out) eager_load({out});
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
    // A join repeats an object in several rows: then every row is read, so that two rows of
    // one object are not taken for two objects, nor a third hidden by the limit.
    if (s.joins.empty() && (!s.limit || *s.limit > 2)) s.limit = 2;
    const auto rows = objects(s);
    if (rows.size() > 1) throw MultipleResultsFound("Multiple rows were found when exactly one was required");
    eager_load(rows);
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
    refuse_bulk_with_joins();
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
      const bool first = !st->before_transaction && !st->new_in_transaction;
      if (first) session_->tx_touched_.push_back(st);
      bool keep_before = first;  // the snapshot as it was becomes the before-image
      for (const auto& [c, v] : sets) {
        m.access(std::size_t(c->position)).set(st->object, v);
        session_->set_snapshot_column(*st, std::size_t(c->position), v.ref(), std::exchange(keep_before, false));
      }
    }
    return n;
  }

  /// Bulk DELETE of every matching row; objects in the session become deleted.
  std::int64_t delete_(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    refuse_bulk_with_joins();
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
  std::string statement() const { return compile(stmt_).sql; }
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

  /// The loader options, and the relationships declared eager, over the objects a query loaded.
  void eager_load(const std::vector<std::shared_ptr<T>>& objects) const {
    const auto& m = mapper_of<T>();
    if (objects.empty() || (load_.empty() && !m.has_relationships())) return;
    std::vector<std::shared_ptr<orm::InstanceState>> states;
    states.reserve(objects.size());
    for (const auto& o : objects) states.emplace_back(o, orm::detail::state_of(*o));
    const auto guard = session_->use();
    orm::detail::eager_load(*session_, m, states, load_);
  }

  /// The SQL of `s`, after checking that it uses only columns of its FROM.
  sql::Compiled compile(const sql::Select& s, sql::SelectForm form = sql::SelectForm::rows) const {
    orm::detail::check_from(s);
    return conn_dialect().compiler().select(s, form);
  }

  /// The objects of `s`'s rows; with joins, each once, in the order first seen.
  std::vector<std::shared_ptr<T>> objects(const sql::Select& s) const {
    std::vector<std::shared_ptr<T>> out;
    if (s.joins.empty()) {
      run(s, [&](dialect::Statement& row) { out.push_back(session_->materialize<T>(row)); });
      return out;
    }
    std::unordered_set<const void*> seen;  // not T*: one instantiation for every model
    run(s, [&](dialect::Statement& row) {
      auto obj = session_->materialize<T>(row);
      if (seen.insert(obj.get()).second) out.push_back(std::move(obj));
    });
    return out;
  }

  /// The object of model U whose columns start at result column `offset`; null when its key
  /// columns are all NULL (the missing side of an outer join).
  template <class U>
  std::shared_ptr<U> load(dialect::Statement& row, int offset) const {
    return orm::detail::row_has_object(mapper_of<U>(), row, offset) ? session_->materialize<U>(row, offset) : nullptr;
  }

  template <class U, class C>
  Query join_model(const C& on, bool outer) const {
    if constexpr (!ModelType<U>) {
      static_assert(ModelType<U>, "alchemy: join<U>() and outerjoin<U>() need a model type");
      return *this;
    } else if constexpr (!alchemy::detail::is_condition_v<C>) {
      static_assert(alchemy::detail::is_condition_v<C>,
                    "alchemy: join<U>(on) and outerjoin<U>(on) take a condition, such as "
                    "Post::author_id_ == Author::id_");
      return *this;
    } else {
      return join_on(mapper_of<U>().table(), on.expr, outer);
    }
  }

  Query join_relationship(const orm::RelationshipInfo& r, bool outer) const {
    Query q = *this;
    for (auto& j : orm::detail::relationship_joins(r, outer)) q = q.join_on(*j.table, j.on, j.outer);
    return q;
  }

  /// The first joinedload() a JOIN can serve, or null (orm::detail::joined_option).
  const LoadOption* joined_option() const { return orm::detail::joined_option(mapper_of<T>(), stmt_, load_); }

  /// The objects, with relationship `o` loaded by LEFT OUTER JOINs in the same statement.
  std::vector<std::shared_ptr<T>> objects_joined(const LoadOption& o) const {
    auto states = orm::detail::load_joined(*session_, mapper_of<T>(), stmt_, o);
    std::vector<std::shared_ptr<T>> out;
    out.reserve(states.size());
    for (auto& st : states) {
      T* obj = static_cast<T*>(st->object);
      out.emplace_back(std::move(st), obj);
    }
    return out;
  }

  void refuse_bulk_with_joins() const {
    // SQLAlchemy's rule for Query.update() / delete().
    if (!stmt_.joins.empty())
      throw InvalidRequestError("Can't call update() or delete_() when join() or outerjoin() has been called");
  }

  template <class OnRow>
  void run(const sql::Select& s, OnRow&& on_row) const {
    orm::detail::QueryRun run(*session_, mapper_of<T>(), s);
    auto& st = run.statement();
    while (st.next()) on_row(st);
  }

  static void bind_and_run(engine::Connection& conn, dialect::Statement& st, const sql::Compiled& c) {
    std::vector<sql::ValueRef> refs;
    refs.reserve(c.params.size());
    for (const auto& p : c.params) refs.push_back(p.ref());
    conn.run(st, refs);
  }

  std::int64_t scalar(sql::SelectForm form) const {
    orm::detail::QueryRun run(*session_, mapper_of<T>(), stmt_, form);
    auto& st = run.statement();
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
    const auto compiled = compile(s);
    auto& st = conn.prepare(compiled.sql);
    const dialect::ResetGuard reset(st);
    bind_and_run(conn, st, compiled);
    while (st.next()) keys.emplace_back(st.column(0, m.column(m.key_columns()[0]).type.kind));
    return keys;
  }

  template <class, class...>
  friend class RowQuery;
  template <class, class...>
  friend class EntitiesQuery;

  Session* session_;
  sql::Select stmt_;
  std::vector<LoadOption> load_;
  mutable std::shared_ptr<std::vector<std::shared_ptr<T>>> results_;
};

template <class T, class... Vs>
class RowQuery;
template <class T, class... Us>
class EntitiesQuery;

template <ModelType T>
Query<T> Session::query() {
  return Query<T>(*this);
}

}  // namespace alchemy

#include "alchemy/orm/pagination.hpp"

#include "alchemy/orm/row_query.hpp"

#include "alchemy/orm/entities_query.hpp"

#endif  // ALCHEMY_ORM_QUERY_HPP_
