// SPDX-License-Identifier: MIT
// File: sql/expression.hpp
//
// The runtime expression tree that filters compile from. Nodes are immutable and shared, so
// generative queries copy handles, not trees. Every value is a bound parameter: no node holds
// SQL text built from a value.
//
//   auto e = sql::and_({sql::binary(sql::Op::ne, sql::column(handle), sql::bind("admin")),
//                       sql::binary(sql::Op::gt, sql::column(id), sql::bind(10))});
#ifndef ALCHEMY_SQL_EXPRESSION_HPP_
#define ALCHEMY_SQL_EXPRESSION_HPP_

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/sql/schema.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy::sql {

enum class Op : std::uint8_t {
  column, bind,                           // leaves
  eq, ne, lt, le, gt, ge,                 // comparisons
  like, not_like, ilike, not_ilike,       // pattern matches (optional ESCAPE)
  in, not_in, between, not_between,       // lists and ranges (values in `values`)
  is_null, is_not_null,
  and_, or_, not_,                        // logic over `args`
  true_, false_,                          // constants (an empty and_/or_)
  func,                                   // name(args...); count with no args is count(*)
  scalar_subquery,                        // (SELECT ...) as a value
  in_select, not_in_select,               // x [NOT] IN (SELECT ...)
  exists,                                 // EXISTS (SELECT ...)
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;
struct Select;
using SelectPtr = std::shared_ptr<const Select>;

/// One node of an expression.
struct Expr {
  Op op = Op::true_;
  const Column* column = nullptr;  ///< Op::column
  Value value;                     ///< Op::bind
  std::vector<ExprPtr> args;       ///< operands
  std::vector<Value> values;       ///< IN lists, BETWEEN bounds
  char escape = 0;                 ///< LIKE ... ESCAPE 'c' when non-zero
  const char* name = nullptr;      ///< Op::func: the SQL function's name (a string literal)
  SelectPtr select;                ///< subquery operators
};

ALCHEMY_INLINE ExprPtr column(const Column& c);

ALCHEMY_INLINE ExprPtr bind(Value v);

/// `left op right` for a comparison or pattern operator. Comparing with NULL gives IS [NOT] NULL,
/// as SQLAlchemy does for `col == None`.
ALCHEMY_INLINE ExprPtr binary(Op op, ExprPtr left, ExprPtr right, char escape = 0);

ALCHEMY_INLINE ExprPtr is_null(ExprPtr operand, bool negated = false);

ALCHEMY_INLINE ExprPtr in(ExprPtr operand, std::vector<Value> values, bool negated = false);

ALCHEMY_INLINE ExprPtr between(ExprPtr operand, Value low, Value high, bool negated = false);

ALCHEMY_INLINE ExprPtr constant(bool v);

/// A SQL function call, `name(args...)`; `name` must be a string literal the caller controls.
ALCHEMY_INLINE ExprPtr func(const char* name, std::vector<ExprPtr> args);

/// A subquery operator: `(SELECT ...)`, `EXISTS (SELECT ...)`, or `operand [NOT] IN (SELECT ...)`.
ALCHEMY_INLINE ExprPtr subquery(Op op, SelectPtr select, ExprPtr operand = nullptr);

/// All of `parts`; true when empty.
ALCHEMY_INLINE ExprPtr and_(std::vector<ExprPtr> parts);

/// Any of `parts`; false when empty.
ALCHEMY_INLINE ExprPtr or_(std::vector<ExprPtr> parts);

/// The negation of `e`. Negation folds into the operator where SQL has one, as SQLAlchemy does:
/// not_(a == b) is a != b, not_(a LIKE p) is a NOT LIKE p, not_(a IN (...)) is a NOT IN (...).
ALCHEMY_INLINE ExprPtr not_(const ExprPtr& e);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
namespace detail {
inline ExprPtr conjunction(Op op, std::vector<ExprPtr> parts) {
  std::vector<ExprPtr> flat;
  for (auto& p : parts) {
    if (p->op == op)  // and_(a, and_(b, c)) is and_(a, b, c)
      flat.insert(flat.end(), p->args.begin(), p->args.end());
    else
      flat.push_back(std::move(p));
  }
  if (flat.size() == 1) return flat.front();
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->args = std::move(flat);
  return e;
}
}  // namespace detail

ALCHEMY_INLINE ExprPtr column(const Column& c) {
  auto e = std::make_shared<Expr>();
  e->op = Op::column;
  e->column = &c;
  return e;
}

ALCHEMY_INLINE ExprPtr bind(Value v) {
  auto e = std::make_shared<Expr>();
  e->op = Op::bind;
  e->value = std::move(v);
  return e;
}

ALCHEMY_INLINE ExprPtr binary(Op op, ExprPtr left, ExprPtr right, char escape) {
  if (right->op == Op::bind && right->value.is_null() && (op == Op::eq || op == Op::ne)) {
    auto e = std::make_shared<Expr>();
    e->op = op == Op::eq ? Op::is_null : Op::is_not_null;
    e->args = {std::move(left)};
    return e;
  }
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->args = {std::move(left), std::move(right)};
  e->escape = escape;
  return e;
}

ALCHEMY_INLINE ExprPtr is_null(ExprPtr operand, bool negated) {
  auto e = std::make_shared<Expr>();
  e->op = negated ? Op::is_not_null : Op::is_null;
  e->args = {std::move(operand)};
  return e;
}

ALCHEMY_INLINE ExprPtr in(ExprPtr operand, std::vector<Value> values, bool negated) {
  auto e = std::make_shared<Expr>();
  e->op = negated ? Op::not_in : Op::in;
  e->args = {std::move(operand)};
  e->values = std::move(values);
  return e;
}

ALCHEMY_INLINE ExprPtr between(ExprPtr operand, Value low, Value high, bool negated) {
  auto e = std::make_shared<Expr>();
  e->op = negated ? Op::not_between : Op::between;
  e->args = {std::move(operand)};
  e->values = {std::move(low), std::move(high)};
  return e;
}

ALCHEMY_INLINE ExprPtr constant(bool v) {
  auto e = std::make_shared<Expr>();
  e->op = v ? Op::true_ : Op::false_;
  return e;
}

ALCHEMY_INLINE ExprPtr func(const char* name, std::vector<ExprPtr> args) {
  auto e = std::make_shared<Expr>();
  e->op = Op::func;
  e->name = name;
  e->args = std::move(args);
  return e;
}

ALCHEMY_INLINE ExprPtr subquery(Op op, SelectPtr select, ExprPtr operand) {
  auto e = std::make_shared<Expr>();
  e->op = op;
  e->select = std::move(select);
  if (operand) e->args = {std::move(operand)};
  return e;
}

ALCHEMY_INLINE ExprPtr and_(std::vector<ExprPtr> parts) {
  if (parts.empty()) return constant(true);
  return detail::conjunction(Op::and_, std::move(parts));
}

ALCHEMY_INLINE ExprPtr or_(std::vector<ExprPtr> parts) {
  if (parts.empty()) return constant(false);
  return detail::conjunction(Op::or_, std::move(parts));
}

ALCHEMY_INLINE ExprPtr not_(const ExprPtr& e) {
  const auto flip = [&](Op to) {
    auto n = std::make_shared<Expr>(*e);
    n->op = to;
    return ExprPtr(std::move(n));
  };
  switch (e->op) {
    case Op::eq: return flip(Op::ne);
    case Op::ne: return flip(Op::eq);
    case Op::lt: return flip(Op::ge);
    case Op::le: return flip(Op::gt);
    case Op::gt: return flip(Op::le);
    case Op::ge: return flip(Op::lt);
    case Op::like: return flip(Op::not_like);
    case Op::not_like: return flip(Op::like);
    case Op::ilike: return flip(Op::not_ilike);
    case Op::not_ilike: return flip(Op::ilike);
    case Op::in: return flip(Op::not_in);
    case Op::not_in: return flip(Op::in);
    case Op::between: return flip(Op::not_between);
    case Op::not_between: return flip(Op::between);
    case Op::is_null: return flip(Op::is_not_null);
    case Op::is_not_null: return flip(Op::is_null);
    case Op::true_: return constant(false);
    case Op::false_: return constant(true);
    case Op::not_: return e->args.front();
    case Op::in_select: return flip(Op::not_in_select);
    case Op::not_in_select: return flip(Op::in_select);
    default: break;
  }
  auto n = std::make_shared<Expr>();
  n->op = Op::not_;
  n->args = {e};
  return n;
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::sql

#endif  // ALCHEMY_SQL_EXPRESSION_HPP_
