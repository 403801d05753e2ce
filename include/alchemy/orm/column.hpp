// SPDX-License-Identifier: MIT
// File: orm/column.hpp
//
// Typed handles for building filters: `Account::handle_` (made by ALCHEMY_COLUMN) is a
// Column<Account, std::string>, and its operators make a Condition<Account>, a thin typed wrapper
// over the runtime expression tree. The types only check; the tree does the work.
//
//   Account::handle_ == "jdoe"                 Account::id_ > 10
//   Account::handle_.like("%doe%")             Account::secret_key_.is_null()
//   Account::id_.in_({1, 2, 3})                Account::id_.between(1, 9)
//   or_(a, b), and_(a, b), not_(a), a && b, a || b, !a
//
// Comparing a column with a value of another type, or with a column holding another C++ type,
// does not compile, and the error says so in one line. Columns of two models may be compared
// (`Post::author_id_ == Author::id_`, a join condition): the condition is then a
// Condition<void>, and the query that uses it checks when it runs that every column's table is
// in its FROM.
#ifndef ALCHEMY_ORM_COLUMN_HPP_
#define ALCHEMY_ORM_COLUMN_HPP_

#include <concepts>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/orm/mapper.hpp"
#include "alchemy/sql/expression.hpp"
#include "alchemy/sql/statement.hpp"
#include "alchemy/sql/type_traits.hpp"

namespace alchemy {

template <class M>
orm::Mapper& mapper_of();

/// A filter condition over model M (void: over no model's columns, or over several models').
template <class M>
struct Condition {
  sql::ExprPtr expr;
};

/// One ORDER BY term over model M.
template <class M>
struct OrderTerm {
  sql::OrderBy term;
};

namespace detail {
template <class C>
inline constexpr bool is_condition_v = false;
template <class M>
inline constexpr bool is_condition_v<Condition<M>> = true;
template <class O>
inline constexpr bool is_order_term_v = false;
template <class M>
inline constexpr bool is_order_term_v<OrderTerm<M>> = true;

template <class T>
inline constexpr bool is_optional_v = false;
template <class T>
inline constexpr bool is_optional_v<std::optional<T>> = true;

/// Whether a value of type V may stand for a field of type T (T not optional).
template <class T, class V>
inline constexpr bool compatible_v = [] {
  using U = std::remove_cvref_t<V>;
  if constexpr (std::is_same_v<T, bool>) return std::is_same_v<U, bool>;
  else if constexpr (std::is_integral_v<T>)
    return std::is_integral_v<U> && !std::is_same_v<U, bool>;
  else if constexpr (std::is_floating_point_v<T>)
    return std::is_arithmetic_v<U> && !std::is_same_v<U, bool>;
  else if constexpr (std::is_same_v<T, std::string>)
    return std::is_convertible_v<const U&, std::string_view>;
  else
    return std::is_convertible_v<const U&, T>;
}();

/// The model of a condition or expression over models A and B: void stands for none, and two
/// different models give void (several models, checked against the query's FROM at run time).
template <class A, class B>
using joint_model_t = std::conditional_t<std::is_void_v<A>, B,
                                         std::conditional_t<std::is_void_v<B> || std::is_same_v<A, B>, A, void>>;
template <class M, class... Ms>
struct joint_models {
  using type = M;
};
template <class M, class N, class... Ms>
struct joint_models<M, N, Ms...> : joint_models<joint_model_t<M, N>, Ms...> {};

template <class V>
inline constexpr bool is_null_v = std::is_same_v<std::remove_cvref_t<V>, std::nullopt_t> ||
                                  std::is_same_v<std::remove_cvref_t<V>, std::nullptr_t>;

/// The bound value for a field of type F (maybe optional) compared with `v`.
template <class F, class V>
sql::Value bound_value(const V& v) {
  using T = typename sql::Nullable<F>::value_type;
  if constexpr (is_null_v<V>) {
    return {};
  } else if constexpr (is_optional_v<std::remove_cvref_t<V>>) {
    return v ? bound_value<F>(*v) : sql::Value{};
  } else if constexpr (!compatible_v<T, V>) {
    static_assert(compatible_v<T, V>,
                  "alchemy: the value's C++ type does not match the column's type (for example a "
                  "std::string column compared with a number); convert the value first");
    return {};
  } else {
    if constexpr (std::is_same_v<T, std::string>)
      return TypeTraits<T>::to_value(std::string(std::string_view(v)));
    else
      return TypeTraits<T>::to_value(static_cast<T>(v));
  }
}

// What the column handles build, without their types: compiled once, not per model and column
// (with ALCHEMY_SEPARATE_COMPILATION, once per program).
/// `c op v`, v bound.
ALCHEMY_INLINE sql::ExprPtr compare(const sql::Column& c, sql::Op op, sql::Value v);
/// `c [NOT] [I]LIKE pattern [ESCAPE escape]`.
ALCHEMY_INLINE sql::ExprPtr pattern(const sql::Column& c, sql::Op op, std::string_view pattern, char escape);
/// `v` with `%`, `_` and `/` escaped by `/` (SQLAlchemy's autoescape=True).
ALCHEMY_INLINE std::string escape_like(std::string_view v);
/// AND (`any` false) or OR (`any` true) of the conditions `parts` point to.
ALCHEMY_INLINE sql::ExprPtr junction(bool any, std::initializer_list<const sql::ExprPtr*> parts);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE sql::ExprPtr compare(const sql::Column& c, sql::Op op, sql::Value v) {
  return sql::binary(op, sql::column(c), sql::bind(std::move(v)));
}

ALCHEMY_INLINE sql::ExprPtr pattern(const sql::Column& c, sql::Op op, std::string_view pattern, char escape) {
  return sql::binary(op, sql::column(c), sql::bind(std::string(pattern)), escape);
}

ALCHEMY_INLINE sql::ExprPtr junction(bool any, std::initializer_list<const sql::ExprPtr*> parts) {
  std::vector<sql::ExprPtr> exprs;
  exprs.reserve(parts.size());
  for (const auto* p : parts) exprs.push_back(*p);
  return any ? sql::or_(std::move(exprs)) : sql::and_(std::move(exprs));
}

ALCHEMY_INLINE std::string escape_like(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '%' || c == '_' || c == '/') out += '/';
    out += c;
  }
  return out;
}
#endif  // ALCHEMY_IMPL
}  // namespace detail

/// The typed handle of one column of model M whose field has C++ type F.
template <class M, class F>
class Column {
 public:
  using model_type = M;
  using field_type = F;
  using value_type = typename sql::Nullable<F>::value_type;

  explicit Column(std::size_t index) noexcept : index_(index) {}

  std::size_t index() const noexcept { return index_; }
  const sql::Column& sql_column() const { return mapper_of<M>().column(index_); }
  const std::string& name() const { return sql_column().name; }
  sql::ExprPtr expr() const { return sql::column(sql_column()); }

  template <class V> auto operator==(const V& v) const { return cmp(sql::Op::eq, v); }
  template <class V> auto operator!=(const V& v) const { return cmp(sql::Op::ne, v); }
  template <class V> auto operator<(const V& v) const { return cmp(sql::Op::lt, v); }
  template <class V> auto operator<=(const V& v) const { return cmp(sql::Op::le, v); }
  template <class V> auto operator>(const V& v) const { return cmp(sql::Op::gt, v); }
  template <class V> auto operator>=(const V& v) const { return cmp(sql::Op::ge, v); }

  /// SQL LIKE: `%` any run of characters, `_` one character; `escape` makes them literal.
  Condition<M> like(std::string_view pattern, char escape = 0) const { return pat(sql::Op::like, pattern, escape); }
  Condition<M> not_like(std::string_view pattern, char escape = 0) const { return pat(sql::Op::not_like, pattern, escape); }
  /// Case-insensitive LIKE (ILIKE on PostgreSQL, lower(x) LIKE lower(y) elsewhere).
  Condition<M> ilike(std::string_view pattern, char escape = 0) const { return pat(sql::Op::ilike, pattern, escape); }
  Condition<M> not_ilike(std::string_view pattern, char escape = 0) const { return pat(sql::Op::not_ilike, pattern, escape); }
  /// LIKE 'value%' with `%`, `_` and `/` in value escaped (SQLAlchemy's autoescape=True).
  Condition<M> startswith(std::string_view v) const { return pat(sql::Op::like, detail::escape_like(v) + "%", '/'); }
  Condition<M> endswith(std::string_view v) const { return pat(sql::Op::like, "%" + detail::escape_like(v), '/'); }
  Condition<M> contains(std::string_view v) const {
    return pat(sql::Op::like, "%" + detail::escape_like(v) + "%", '/');
  }

  /// IN (...). An empty list matches nothing (and NOT IN matches everything), as SQLAlchemy.
  template <class V> Condition<M> in_(const std::vector<V>& values) const { return list(values, false); }
  template <class V> Condition<M> in_(std::initializer_list<V> values) const { return list(values, false); }
  template <class V> Condition<M> not_in(const std::vector<V>& values) const { return list(values, true); }
  template <class V> Condition<M> not_in(std::initializer_list<V> values) const { return list(values, true); }

  /// IN (SELECT ...): a with_entities() query of one column of the same C++ type.
  template <class Q>
    requires requires(const Q& q) { q.subquery_select(); typename Q::scalar_type; }
  Condition<M> in_(const Q& q) const { return sub(q, false); }
  template <class Q>
    requires requires(const Q& q) { q.subquery_select(); typename Q::scalar_type; }
  Condition<M> not_in(const Q& q) const { return sub(q, true); }

  template <class V1, class V2>
  Condition<M> between(const V1& low, const V2& high) const {
    return {sql::between(expr(), detail::bound_value<F>(low), detail::bound_value<F>(high))};
  }
  Condition<M> is_null() const { return {sql::is_null(expr())}; }
  Condition<M> is_not_null() const { return {sql::is_null(expr(), true)}; }

  OrderTerm<M> asc() const { return {{expr(), false}}; }
  OrderTerm<M> desc() const { return {{expr(), true}}; }

 private:
  template <class V>
  auto cmp(sql::Op op, const V& v) const {
    if constexpr (requires { typename V::model_type; typename V::field_type; }) {
      static_assert(std::is_same_v<typename sql::Nullable<typename V::field_type>::value_type, value_type>,
                    "alchemy: the two columns hold different C++ types");
      return Condition<detail::joint_model_t<M, typename V::model_type>>{sql::binary(op, expr(), v.expr())};
    } else {
      return Condition<M>{detail::compare(sql_column(), op, detail::bound_value<F>(v))};
    }
  }
  Condition<M> pat(sql::Op op, std::string_view pattern, char escape) const {
    static_assert(std::is_same_v<value_type, std::string>,
                  "alchemy: like/ilike/startswith/endswith/contains need a string column");
    return {detail::pattern(sql_column(), op, pattern, escape)};
  }
  template <class List>
  Condition<M> list(const List& values, bool negated) const {
    std::vector<sql::Value> out;
    out.reserve(values.size());
    for (const auto& v : values) out.push_back(detail::bound_value<F>(v));
    return {sql::in(expr(), std::move(out), negated)};
  }
  template <class Q>
  Condition<M> sub(const Q& q, bool negated) const {
    static_assert(Q::entity_count == 1, "alchemy: in_(subquery) needs a query of exactly one column");
    static_assert(std::is_same_v<typename sql::Nullable<typename Q::scalar_type>::value_type, value_type>,
                  "alchemy: in_(subquery): the subquery's column holds a different C++ type");
    return {sql::subquery(negated ? sql::Op::not_in_select : sql::Op::in_select, q.subquery_select(), expr())};
  }
  std::size_t index_;
};

/// All of the conditions (SQL AND). They may be over different models (of a joined query).
template <class M, class... Ms>
Condition<typename detail::joint_models<M, Ms...>::type> and_(const Condition<M>& first, const Condition<Ms>&... rest) {
  return {detail::junction(false, {&first.expr, &rest.expr...})};
}
/// Any of the conditions (SQL OR).
template <class M, class... Ms>
Condition<typename detail::joint_models<M, Ms...>::type> or_(const Condition<M>& first, const Condition<Ms>&... rest) {
  return {detail::junction(true, {&first.expr, &rest.expr...})};
}
/// The negation (folded into the operator where SQL has one: != , NOT LIKE, NOT IN, IS NOT NULL).
template <class M>
Condition<M> not_(const Condition<M>& c) {
  return {sql::not_(c.expr)};
}
template <class A, class B>
auto operator&&(const Condition<A>& a, const Condition<B>& b) { return and_(a, b); }
template <class A, class B>
auto operator||(const Condition<A>& a, const Condition<B>& b) { return or_(a, b); }
template <class M>
Condition<M> operator!(const Condition<M>& c) { return not_(c); }

/// Ascending / descending order of a column.
template <class M, class F>
OrderTerm<M> asc(const Column<M, F>& c) { return c.asc(); }
template <class M, class F>
OrderTerm<M> desc(const Column<M, F>& c) { return c.desc(); }

}  // namespace alchemy

#endif  // ALCHEMY_ORM_COLUMN_HPP_
