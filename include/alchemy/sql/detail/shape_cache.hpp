// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/sql/compiler.hpp>.
//
// SELECTs compiled once per statement shape. Two SELECTs have the same shape when they differ
// only in the values they bind: the same table and column names, operators, number and kind of
// bound values, LIMIT and OFFSET (their values too: they are few), for the same compiler type
// and form. The compiler's output depends on nothing else (no value is ever written into the SQL),
// so the SQL of a shape is compiled once per thread and reused; only the parameters are
// gathered again, from the statement's own tree. Tables and columns are known by their names,
// not their addresses, since the SQL holds the names (and a table built for one statement may
// be at the address of an earlier one).
//
//   std::vector<sql::ValueRef> params;
//   const auto shape = sql::compile_cached(compiler, stmt, sql::SelectForm::rows, params);
//   conn.prepare(shape->sql) ...                  // params: valid while stmt and shape live
//
// Where each parameter comes from is learnt when the shape is first compiled: the compiler
// reports the address of every value it binds (CompileState::sources), and a parameter whose
// value is a node of the tree is read from the same node of the next statement of that shape;
// any other (SQLite's LIMIT -1 and OFFSET 0, LIMIT and OFFSET themselves) is kept with the shape.
#ifndef ALCHEMY_SQL_DETAIL_SHAPE_CACHE_HPP_
#define ALCHEMY_SQL_DETAIL_SHAPE_CACHE_HPP_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "alchemy/config.hpp"

namespace alchemy::sql {

namespace detail {

/// The number of fields of an aggregate: what the tripwires below compare.
struct AnyField {
  template <class T>
  operator T() const;  // never defined: used only in unevaluated context
};
template <class T, class... A>
constexpr std::size_t field_count() {
  if constexpr (requires { T{A{}..., AnyField{}}; }) return field_count<T, A..., AnyField>();
  else return sizeof...(A);
}

// A field added to one of these types must be added to the shape below, or two statements that
// differ in it would share their SQL. These fail to compile until it is.
static_assert(field_count<Select>() == 12, "sql::Select changed: update ShapeKey::select()");
static_assert(field_count<Join>() == 3, "sql::Join changed: update ShapeKey::select()");
static_assert(field_count<Expr>() == 8, "sql::Expr changed: update ShapeKey::expr()");
static_assert(field_count<OrderBy>() == 2, "sql::OrderBy changed: update ShapeKey::select()");
static_assert(field_count<SelectUnion>() == 2, "sql::SelectUnion changed: update ShapeKey::select()");

/// A statement's shape as bytes, and the addresses of the values it binds, in tree order.
struct ShapeKey {
  std::string bytes;
  std::vector<const Value*> values;

  void raw(const void* p, std::size_t n) { bytes.append(static_cast<const char*>(p), n); }
  template <class V>
  void put(const V& v) {
    raw(&v, sizeof v);
  }
  void text(std::string_view t) {
    put(t.size());
    raw(t.data(), t.size());
  }
  void column(const Column* c) {
    put(c != nullptr);
    if (!c) return;
    text(c->table ? std::string_view(c->table->name()) : std::string_view());
    text(c->name);
  }
  void value(const Value& v) {
    put(static_cast<std::uint8_t>(v.kind()));
    values.push_back(&v);
  }
  void exprs(const std::vector<ExprPtr>& list) {
    put(list.size());
    for (const auto& e : list) expr(e.get());
  }
  void expr(const Expr* e) {
    if (!e) return put(std::uint8_t{0xff});
    put(static_cast<std::uint8_t>(e->op));
    column(e->column);
    put(e->escape);
    text(e->name ? std::string_view(e->name) : std::string_view());
    if (e->op == Op::bind) value(e->value);
    put(e->values.size());
    for (const auto& v : e->values) value(v);
    exprs(e->args);
    put(e->select != nullptr);
    if (e->select) select(*e->select);
  }
  void select(const Select& s) {
    put(s.table != nullptr);
    if (s.table) {
      text(s.table->name());
      if (s.columns.empty() && s.exprs.empty()) {  // every column of the table
        put(s.table->columns().size());
        for (const auto& c : s.table->columns()) text(c->name);
      }
    }
    put(s.joins.size());
    for (const auto& j : s.joins) {
      put(j.table != nullptr);
      if (j.table) text(j.table->name());
      put(j.outer);
      expr(j.on.get());
    }
    put(s.columns.size());
    for (const Column* c : s.columns) column(c);
    exprs(s.exprs);
    exprs(s.where);
    exprs(s.group_by);
    exprs(s.having);
    put(s.order_by.size());
    for (const auto& o : s.order_by) {
      expr(o.expr.get());
      put(o.descending);
    }
    put(s.limit.has_value());
    put(s.limit.value_or(0));
    put(s.offset.has_value());
    put(s.offset.value_or(0));
    put(s.distinct);
    put(s.unions.size());
    for (const auto& u : s.unions) {
      put(u.all);
      select(*u.select);
    }
  }
};

/// One compiled shape: its SQL and, per parameter, the index of the tree value it takes, or -1
/// and the value kept here.
struct CompiledShape {
  std::string sql;
  std::vector<int> source;
  std::vector<Value> constant;
};

/// The shapes one thread compiled, for every dialect. Bounded: a program that builds SELECTs of
/// endless shapes (an IN list of every length) starts again from empty now and then. A caller
/// shares the shape it got, so that its SQL and constants outlive such a restart (a query run
/// from inside another's echo logger, say).
class ShapeCache {
 public:
  static constexpr std::size_t kMaxShapes = 2048;

  static ShapeCache& of_this_thread() {
    thread_local ShapeCache cache;
    return cache;
  }

  std::shared_ptr<const CompiledShape> select(const Compiler& compiler, const Select& stmt, SelectForm form,
                                              std::vector<ValueRef>& params) {
    key_.bytes.clear();
    key_.values.clear();
    key_.text(typeid(compiler).name());  // compilers are stateless: the type says the SQL
    key_.put(form);
    key_.select(stmt);
    auto it = shapes_.find(key_.bytes);
    if (it == shapes_.end()) {
      if (shapes_.size() >= kMaxShapes) shapes_.clear();
      it = shapes_.emplace(key_.bytes, std::make_shared<const CompiledShape>(learn(compiler, stmt, form))).first;
    }
    const CompiledShape& shape = *it->second;
    params.clear();
    params.reserve(shape.source.size());
    for (std::size_t i = 0; i < shape.source.size(); ++i)
      params.push_back(shape.source[i] >= 0 ? key_.values[std::size_t(shape.source[i])]->ref()
                                            : shape.constant[i].ref());
    return it->second;
  }

  std::size_t size() const noexcept { return shapes_.size(); }

 private:
  CompiledShape learn(const Compiler& compiler, const Select& stmt, SelectForm form) const {
    std::vector<const Value*> sources;
    Compiled c = compiler.select(stmt, form, &sources);
    CompiledShape shape;
    shape.sql = std::move(c.sql);
    shape.source.assign(c.params.size(), -1);
    shape.constant.resize(c.params.size());
    for (std::size_t i = 0; i < c.params.size(); ++i) {
      int found = -1;
      for (std::size_t k = 0; k < key_.values.size(); ++k)
        if (key_.values[k] == sources[i]) found = static_cast<int>(k);
      shape.source[i] = found;
      if (found < 0) shape.constant[i] = std::move(c.params[i]);
    }
    return shape;
  }

  ShapeKey key_;
  std::unordered_map<std::string, std::shared_ptr<const CompiledShape>> shapes_;
};

}  // namespace detail

/// The compiled shape of `stmt` for `compiler` (its `sql`), compiled once per shape on this
/// thread; `params` gets the parameters in placeholder order, borrowed from `stmt` and from the
/// returned shape: valid while both live.
ALCHEMY_INLINE std::shared_ptr<const detail::CompiledShape> compile_cached(const Compiler& compiler, const Select& stmt,
                                                                           SelectForm form, std::vector<ValueRef>& params);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::shared_ptr<const detail::CompiledShape> compile_cached(const Compiler& compiler, const Select& stmt,
                                                                           SelectForm form, std::vector<ValueRef>& params) {
  return detail::ShapeCache::of_this_thread().select(compiler, stmt, form, params);
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::sql

#endif  // ALCHEMY_SQL_DETAIL_SHAPE_CACHE_HPP_
