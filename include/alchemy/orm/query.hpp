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
#include <utility>
#include <vector>

#include "alchemy/orm/detail/from_check.hpp"
#include "alchemy/orm/detail/query_core.hpp"
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
    return objects_of(orm::detail::QueryCore::all(*session_, mapper_of<T>(), stmt_, load_));
  }
  /// The first matching object (LIMIT 1), or null.
  std::shared_ptr<T> first(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return object_of(orm::detail::QueryCore::first(*session_, mapper_of<T>(), stmt_, load_));
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
    return object_of(orm::detail::QueryCore::one_or_none(*session_, mapper_of<T>(), stmt_, load_));
  }
  /// The number of matching rows (SELECT count(*) FROM (query)).
  std::int64_t count(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return orm::detail::QueryCore::scalar(*session_, mapper_of<T>(), stmt_, sql::SelectForm::count);
  }
  /// Whether any row matches.
  bool exists(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return orm::detail::QueryCore::scalar(*session_, mapper_of<T>(), stmt_, sql::SelectForm::exists) != 0;
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
    return orm::detail::QueryCore::update(*session_, mapper_of<T>(), stmt_, values);
  }

  /// Bulk DELETE of every matching row; objects in the session become deleted.
  std::int64_t delete_(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return orm::detail::QueryCore::delete_(*session_, mapper_of<T>(), stmt_);
  }

  /// The SQL this query runs, with placeholders (SQLAlchemy's str(query)).
  std::string statement() const { return orm::detail::QueryCore::statement(*session_, mapper_of<T>(), stmt_); }
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
  /// The model's objects for the states QueryCore loaded (their nodes own them).
  static std::shared_ptr<T> object_of(std::shared_ptr<orm::InstanceState>&& st) noexcept {
    T* obj = st ? static_cast<T*>(st->object) : nullptr;
    return std::shared_ptr<T>(std::move(st), obj);
  }
  static std::vector<std::shared_ptr<T>> objects_of(std::vector<std::shared_ptr<orm::InstanceState>>&& states) {
    std::vector<std::shared_ptr<T>> out;
    out.reserve(states.size());
    for (auto& st : states) out.push_back(object_of(std::move(st)));
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

  template <class OnRow>
  void run(const sql::Select& s, OnRow&& on_row) const {
    orm::detail::QueryRun run(*session_, mapper_of<T>(), s);
    auto& st = run.statement();
    while (st.next()) on_row(st);
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
