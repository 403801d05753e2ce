// SPDX-License-Identifier: MIT
// File: orm/row_query.hpp
//
// RowQuery<T, Vs...>: a query over model T's table (and the tables it joined) that selects
// columns and expressions rather than objects (Query<T>::with_entities). Its rows are
// std::tuple<Vs...>, each V the C++ type of one entity (a column's field type, or an
// Expression's), so the row type is deduced:
//
//   std::vector<std::tuple<std::string, int64_t>> per_handle =
//       Post::query()
//           .with_entities(Post::author_, func::count(Post::id_))
//           .group_by(Post::author_)
//           .having(func::count(Post::id_) > 1)
//           .order_by(func::count(Post::id_).desc())
//           .all();
//   int64_t top = Post::query().with_entities(func::max(Post::id_)).scalar().value_or(0);
//   auto ids = Post::query().with_entities(Post::account_id_);     // a subquery for in_()
//   Account::query().filter(Account::id_.in_(ids)).all();
//   auto titled = Post::query().join<Account>(Post::account_id_ == Account::id_)
//                     .with_entities(Post::title_, Account::handle_).all();   // across models
#ifndef ALCHEMY_ORM_ROW_QUERY_HPP_
#define ALCHEMY_ORM_ROW_QUERY_HPP_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "alchemy/orm/func.hpp"
#include "alchemy/orm/query.hpp"

namespace alchemy {

namespace orm::detail {
/// Reads one result column as V (std::optional<...> reads NULL).
template <class V>
V read_entity(dialect::Statement& row, int index) {
  using B = base_t<V>;
  const auto ref = row.column(index, TypeTraits<B>::sql_type.kind);
  if (ref.is_null()) {
    if constexpr (nullable_v<V>)
      return std::nullopt;
    else
      throw DataError(DatabaseErrorInfo{"column " + std::to_string(index + 1) +
                                            " of the result is NULL but its C++ type is not "
                                            "std::optional",
                                        {}, {}, 0, "alchemy", false, Constraint::unknown});
  }
  return TypeTraits<B>::from_ref(ref);
}

template <class... Vs, std::size_t... I>
std::tuple<Vs...> read_row(dialect::Statement& row, std::index_sequence<I...>) {
  return std::tuple<Vs...>{read_entity<Vs>(row, int(I))...};
}
}  // namespace orm::detail

template <class T, class... Vs>
class RowQuery {
 public:
  using row_type = std::tuple<Vs...>;
  static constexpr std::size_t entity_count = sizeof...(Vs);
  /// The first entity's type: what scalar() and scalars() return.
  using scalar_type = std::tuple_element_t<0, row_type>;

  explicit RowQuery(Query<T> q) : q_(std::move(q)) {}

  /// Adds a WHERE condition (joined to earlier ones with AND).
  template <class C, class... Cs>
  RowQuery filter(const C& condition, const Cs&... rest) const {
    return RowQuery(q_.filter(condition, rest...));
  }
  template <class V, class... Rest>
  RowQuery filter_by(std::string_view column, const V& value, const Rest&... rest) const {
    return RowQuery(q_.filter_by(column, value, rest...));
  }
  /// JOIN / LEFT OUTER JOIN, as Query<T>::join, outerjoin and join_on.
  template <class U, class C>
  RowQuery join(const C& on) const { return RowQuery(q_.template join<U>(on)); }
  template <class U, class C>
  RowQuery outerjoin(const C& on) const { return RowQuery(q_.template outerjoin<U>(on)); }
  RowQuery join_on(const sql::Table& table, sql::ExprPtr on, bool outer = false) const {
    return RowQuery(q_.join_on(table, std::move(on), outer));
  }
  /// GROUP BY columns or expressions (of T or of a joined model).
  template <class... Xs>
  RowQuery group_by(const Xs&... xs) const {
    static_assert((SqlOperand<Xs> && ...), "alchemy: group_by() takes columns or expressions");
    RowQuery r = *this;
    (r.q_.stmt_.group_by.push_back(xs.expr()), ...);
    return r;
  }
  /// HAVING: a condition over the groups, usually on an aggregate (func::count(...) > 1).
  template <class C>
  RowQuery having(const C& condition) const {
    static_assert(alchemy::detail::is_condition_v<C>,
                  "alchemy: having() takes a condition, such as func::count(Post::id_) > 1");
    RowQuery r = *this;
    r.q_.stmt_.having.push_back(condition.expr);
    return r;
  }
  /// ORDER BY columns, expressions, or their asc()/desc().
  template <class... Xs>
  RowQuery order_by(const Xs&... xs) const {
    RowQuery r = *this;
    (r.q_.stmt_.order_by.push_back(order_term(xs)), ...);
    return r;
  }
  /// UNION / UNION ALL with another row query (of any model) whose rows have the same C++
  /// types. Neither may have an ORDER BY, nor the other a LIMIT; a limit set on the result
  /// applies to the whole union.
  template <class U, class... Ws>
  RowQuery union_(const RowQuery<U, Ws...>& other) const { return compound(other, false); }
  template <class U, class... Ws>
  RowQuery union_all(const RowQuery<U, Ws...>& other) const { return compound(other, true); }

  RowQuery limit(std::int64_t n) const { return RowQuery(q_.limit(n)); }
  RowQuery offset(std::int64_t n) const { return RowQuery(q_.offset(n)); }
  RowQuery distinct() const { return RowQuery(q_.distinct()); }

  /// Every row.
  std::vector<row_type> all() const {
    std::vector<row_type> out;
    q_.run(q_.stmt_, [&](dialect::Statement& row) { out.push_back(read(row)); });
    return out;
  }
  /// The first row (LIMIT 1), or nothing.
  std::optional<row_type> first() const {
    sql::Select s = q_.stmt_;
    s.limit = 1;
    std::optional<row_type> out;
    q_.run(s, [&](dialect::Statement& row) {
      if (!out) out = read(row);
    });
    return out;
  }
  /// One row or nothing; MultipleResultsFound when there are several.
  std::optional<row_type> one_or_none() const {
    sql::Select s = q_.stmt_;
    if (!s.limit || *s.limit > 2) s.limit = 2;
    std::vector<row_type> rows;
    q_.run(s, [&](dialect::Statement& row) { rows.push_back(read(row)); });
    if (rows.size() > 1) throw MultipleResultsFound("Multiple rows were found when exactly one was required");
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }
  /// Exactly one row; NoResultFound or MultipleResultsFound otherwise.
  row_type one() const {
    auto r = one_or_none();
    if (!r) throw NoResultFound("No row was found when one was required");
    return std::move(*r);
  }
  /// The first entity of the first row. With no row: std::nullopt when it is an optional
  /// (as func::max(...) is), NoResultFound otherwise.
  scalar_type scalar() const {
    auto r = first();
    if (!r) {
      if constexpr (orm::detail::nullable_v<scalar_type>) return std::nullopt;
      else throw NoResultFound("scalar(): the query returned no row");
    }
    return std::get<0>(std::move(*r));
  }
  /// The first entity of every row.
  std::vector<scalar_type> scalars() const {
    std::vector<scalar_type> out;
    q_.run(q_.stmt_, [&](dialect::Statement& row) { out.push_back(orm::detail::read_entity<scalar_type>(row, 0)); });
    return out;
  }
  /// The number of rows (SELECT count(*) FROM (query)): with group_by, the number of groups.
  std::int64_t count() const { return q_.count(); }
  /// Whether the query returns any row.
  bool exists() const { return q_.exists(); }

  /// This query as a value inside another: (SELECT ...). One entity only; NULL when it returns
  /// no row, so its type is optional.
  Expression<std::optional<orm::detail::base_t<scalar_type>>> as_scalar() const {
    static_assert(entity_count == 1, "alchemy: as_scalar() needs a query of exactly one column");
    return Expression<std::optional<orm::detail::base_t<scalar_type>>>(
        sql::subquery(sql::Op::scalar_subquery, subquery_select()));
  }
  /// The SELECT, shared, for in_(query) and exists(query).
  sql::SelectPtr subquery_select() const { return std::make_shared<sql::Select>(q_.stmt_); }

  /// The SQL this query runs, with placeholders.
  std::string statement() const { return q_.statement(); }
  const sql::Select& select() const noexcept { return q_.stmt_; }

 private:
  template <class, class...>
  friend class RowQuery;

  template <class U, class... Ws>
  RowQuery compound(const RowQuery<U, Ws...>& other, bool all) const {
    static_assert(std::is_same_v<std::tuple<Vs...>, std::tuple<Ws...>>,
                  "alchemy: union_() needs queries whose rows have the same C++ types");
    RowQuery r = *this;
    r.q_.stmt_.unions.push_back({all, std::make_shared<sql::Select>(other.q_.stmt_)});
    return r;
  }
  static row_type read(dialect::Statement& row) {
    return orm::detail::read_row<Vs...>(row, std::index_sequence_for<Vs...>{});
  }
  template <class X>
  static sql::OrderBy order_term(const X& x) {
    if constexpr (alchemy::detail::is_order_term_v<X>) {
      return x.term;
    } else {
      static_assert(SqlOperand<X>, "alchemy: order_by() takes columns or expressions, or their asc() / desc()");
      return {x.expr(), false};
    }
  }

  Query<T> q_;
};

template <class T>
template <class... Es>
auto Query<T>::with_entities(const Es&... entities) const {
  static_assert(sizeof...(Es) > 0, "alchemy: with_entities() needs at least one column or expression");
  // Columns of a model the query did not join are refused when it runs (InvalidRequestError).
  static_assert((SqlOperand<Es> && ...), "alchemy: with_entities() takes columns and func:: expressions");
  Query q = *this;
  q.stmt_.exprs = {entities.expr()...};
  return RowQuery<T, typename Es::field_type...>(std::move(q));
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_ROW_QUERY_HPP_
