// SPDX-License-Identifier: MIT
// File: orm/func.hpp
//
// Typed SQL expressions beyond a plain column: SQL functions (alchemy::func::count, sum, avg,
// min, max, lower, upper, length, coalesce), scalar subqueries and EXISTS. An Expression<V, M>
// knows the C++ type V its value reads as and the model M whose columns it uses (void: none),
// so with_entities() deduces its row type and a mismatch fails to compile with one message.
//
//   func::count()                      count(*)                    int64_t
//   func::count(Account::id_)          count(accounts.id)          int64_t
//   func::sum(Item::n_)                sum(items.n)                std::optional<int64_t> (NULL over no rows)
//   func::avg(Item::n_)                avg(items.n)                std::optional<double>
//   func::max(Account::handle_)        max(accounts.handle)        std::optional<std::string>
//   func::lower(Account::handle_)      lower(accounts.handle)      std::string
//   func::coalesce(func::sum(Item::n_), 0)                         int64_t
//   func::count(Account::id_) > 1      a condition, for filter() or having()
#ifndef ALCHEMY_ORM_FUNC_HPP_
#define ALCHEMY_ORM_FUNC_HPP_

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "alchemy/orm/column.hpp"
#include "alchemy/sql/expression.hpp"
#include "alchemy/sql/statement.hpp"

namespace alchemy {

/// A column handle or an Expression: something with a value type, a model and a tree node.
template <class X>
concept SqlOperand = requires(const X& x) {
  typename X::model_type;
  typename X::field_type;
  { x.expr() } -> std::same_as<sql::ExprPtr>;
};

namespace orm::detail {
template <class V>
using base_t = typename sql::Nullable<V>::value_type;
template <class V>
inline constexpr bool nullable_v = sql::Nullable<V>::value;
}  // namespace orm::detail

/// A typed SQL expression whose value reads as V (std::optional<...> when it may be NULL), over
/// the columns of model M (void: no model's columns, or several models' in a joined query).
template <class V, class M = void>
class Expression {
 public:
  using model_type = M;
  using field_type = V;
  using value_type = orm::detail::base_t<V>;

  explicit Expression(sql::ExprPtr e) noexcept : e_(std::move(e)) {}
  sql::ExprPtr expr() const { return e_; }

  template <class X> auto operator==(const X& x) const { return cmp(sql::Op::eq, x); }
  template <class X> auto operator!=(const X& x) const { return cmp(sql::Op::ne, x); }
  template <class X> auto operator<(const X& x) const { return cmp(sql::Op::lt, x); }
  template <class X> auto operator<=(const X& x) const { return cmp(sql::Op::le, x); }
  template <class X> auto operator>(const X& x) const { return cmp(sql::Op::gt, x); }
  template <class X> auto operator>=(const X& x) const { return cmp(sql::Op::ge, x); }
  Condition<M> is_null() const { return {sql::is_null(e_)}; }
  Condition<M> is_not_null() const { return {sql::is_null(e_, true)}; }

  OrderTerm<M> asc() const { return {{e_, false}}; }
  OrderTerm<M> desc() const { return {{e_, true}}; }

 private:
  template <class X>
  auto cmp(sql::Op op, const X& x) const {
    if constexpr (SqlOperand<X>) {
      static_assert(std::is_same_v<orm::detail::base_t<typename X::field_type>, value_type> ||
                        (std::is_arithmetic_v<value_type> && !std::is_same_v<value_type, bool> &&
                         std::is_arithmetic_v<orm::detail::base_t<typename X::field_type>>),
                    "alchemy: the two sides of the comparison hold different C++ types");
      return Condition<alchemy::detail::joint_model_t<M, typename X::model_type>>{
          sql::binary(op, e_, x.expr())};
    } else {
      return Condition<M>{sql::binary(op, e_, sql::bind(detail::bound_value<V>(x)))};
    }
  }
  sql::ExprPtr e_;
};

namespace func {
namespace detail {
template <class V, class X>
Expression<V, typename X::model_type> call(const char* name, const X& x) {
  return Expression<V, typename X::model_type>(sql::func(name, {x.expr()}));
}
}  // namespace detail

/// count(*): the number of rows.
inline Expression<std::int64_t> count() { return Expression<std::int64_t>(sql::func("count", {})); }
/// count(x): the number of rows where x is not NULL.
template <SqlOperand X>
Expression<std::int64_t, typename X::model_type> count(const X& x) {
  return detail::call<std::int64_t>("count", x);
}

/// sum(x) over a numeric column: NULL over no rows, so an optional (see coalesce).
template <SqlOperand X>
auto sum(const X& x) {
  using T = orm::detail::base_t<typename X::field_type>;
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>,
                "alchemy: func::sum() needs a numeric column or expression");
  using R = std::conditional_t<std::is_floating_point_v<T>, double, std::int64_t>;
  return detail::call<std::optional<R>>("sum", x);
}
/// avg(x) over a numeric column, as a double; NULL over no rows.
template <SqlOperand X>
auto avg(const X& x) {
  using T = orm::detail::base_t<typename X::field_type>;
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>,
                "alchemy: func::avg() needs a numeric column or expression");
  return detail::call<std::optional<double>>("avg", x);
}
/// min(x) / max(x): x's type; NULL over no rows.
template <SqlOperand X>
auto min(const X& x) {
  return detail::call<std::optional<orm::detail::base_t<typename X::field_type>>>("min", x);
}
template <SqlOperand X>
auto max(const X& x) {
  return detail::call<std::optional<orm::detail::base_t<typename X::field_type>>>("max", x);
}
/// lower(x) / upper(x) of a string column; NULL stays NULL.
template <SqlOperand X>
auto lower(const X& x) {
  static_assert(std::is_same_v<orm::detail::base_t<typename X::field_type>, std::string>,
                "alchemy: func::lower() needs a string column or expression");
  return detail::call<typename X::field_type>("lower", x);
}
template <SqlOperand X>
auto upper(const X& x) {
  static_assert(std::is_same_v<orm::detail::base_t<typename X::field_type>, std::string>,
                "alchemy: func::upper() needs a string column or expression");
  return detail::call<typename X::field_type>("upper", x);
}
/// length(x) of a string column: characters on SQLite and PostgreSQL, bytes on MySQL (its
/// LENGTH; CHAR_LENGTH counts characters there).
template <SqlOperand X>
auto length(const X& x) {
  static_assert(std::is_same_v<orm::detail::base_t<typename X::field_type>, std::string>,
                "alchemy: func::length() needs a string column or expression");
  using R = std::conditional_t<orm::detail::nullable_v<typename X::field_type>,
                               std::optional<std::int64_t>, std::int64_t>;
  return detail::call<R>("length", x);
}
/// coalesce(x, fallback): x, or fallback where x is NULL. The fallback is a value (bound) or
/// another column or expression; the result may be NULL only if the fallback may.
template <SqlOperand X, class Y>
auto coalesce(const X& x, const Y& fallback) {
  using T = orm::detail::base_t<typename X::field_type>;
  if constexpr (SqlOperand<Y>) {
    static_assert(std::is_same_v<orm::detail::base_t<typename Y::field_type>, T>,
                  "alchemy: func::coalesce() arguments hold different C++ types");
    using M = alchemy::detail::joint_model_t<typename X::model_type, typename Y::model_type>;
    using R = std::conditional_t<orm::detail::nullable_v<typename Y::field_type>, std::optional<T>, T>;
    return Expression<R, M>(sql::func("coalesce", {x.expr(), fallback.expr()}));
  } else {
    constexpr bool null = alchemy::detail::is_null_v<Y> || alchemy::detail::is_optional_v<std::remove_cvref_t<Y>>;
    using R = std::conditional_t<null, std::optional<T>, T>;
    return Expression<R, typename X::model_type>(
        sql::func("coalesce", {x.expr(), sql::bind(alchemy::detail::bound_value<std::optional<T>>(fallback))}));
  }
}
}  // namespace func

/// EXISTS (subquery), for filter(): `query` is a Query<U> or a with_entities() query. It may use
/// the outer query's columns (a correlated subquery):
///   Author::query().filter(exists(Post::query().filter(Post::author_id_ == Author::id_)))
template <class Q>
  requires requires(const Q& q) { { q.select() } -> std::convertible_to<const sql::Select&>; }
Condition<void> exists(const Q& query) {
  return {sql::subquery(sql::Op::exists, std::make_shared<sql::Select>(query.select()))};
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_FUNC_HPP_
