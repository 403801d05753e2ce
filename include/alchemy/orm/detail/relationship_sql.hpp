// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/relationship.hpp>.
//
// The SQL a relationship stands for: the correlated EXISTS behind any()/has()/contains(), and
// the JOINs behind Query::join(relationship) and joinedload().
#ifndef ALCHEMY_ORM_DETAIL_RELATIONSHIP_SQL_HPP_
#define ALCHEMY_ORM_DETAIL_RELATIONSHIP_SQL_HPP_

#include <memory>
#include <type_traits>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/sql/statement.hpp"

namespace alchemy {

namespace orm::detail {
/// EXISTS (SELECT ... FROM the related table WHERE it is related to the outer row [AND cond]):
/// the correlated subquery behind any() and has().
ALCHEMY_INLINE sql::ExprPtr related_exists(const RelationshipInfo& r, sql::ExprPtr condition);

/// The JOINs that go from r's owner to its target: one, or two through a many-to-many's
/// association table.
ALCHEMY_INLINE std::vector<sql::Join> relationship_joins(const RelationshipInfo& r, bool outer);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE sql::ExprPtr related_exists(const RelationshipInfo& r, sql::ExprPtr condition) {
  if (r.self_referential())
    throw InvalidRequestError(r.label() + ": any()/has() on a self-referential relationship needs an aliased "
                              "table, which alchemy does not have yet");
  const Mapper& owner = *r.owner;
  const Mapper& target = r.target();
  auto sel = std::make_shared<sql::Select>();
  if (r.direction == Direction::many_to_many) {
    sel->table = r.assoc;
    sel->where.push_back(sql::binary(sql::Op::eq, sql::column(*r.assoc_local),
                                     sql::column(owner.column(owner.key_columns()[0]))));
    if (condition) {
      auto inner = std::make_shared<sql::Select>();
      inner->table = &target.table();
      inner->columns = {&target.column(target.key_columns()[0])};
      inner->where.push_back(std::move(condition));
      sel->where.push_back(sql::subquery(sql::Op::in_select, std::move(inner), sql::column(*r.assoc_remote)));
    }
  } else {
    sel->table = &target.table();
    const bool mto = r.direction == Direction::many_to_one;
    const auto& here = mto ? owner.column(r.fk[0]) : owner.column(r.ref[0]);
    const auto& there = mto ? target.column(r.ref[0]) : target.column(r.fk[0]);
    sel->where.push_back(sql::binary(sql::Op::eq, sql::column(there), sql::column(here)));
    if (condition) sel->where.push_back(std::move(condition));
  }
  return sql::subquery(sql::Op::exists, std::move(sel));
}

ALCHEMY_INLINE std::vector<sql::Join> relationship_joins(const RelationshipInfo& r, bool outer) {
  if (r.self_referential())
    throw InvalidRequestError(r.label() + ": a join along a self-referential relationship needs an aliased table, "
                              "which alchemy does not have yet");
  const Mapper& owner = *r.owner;
  const Mapper& target = r.target();
  const auto eq = [](const sql::Column& a, const sql::Column& b) {
    return sql::binary(sql::Op::eq, sql::column(a), sql::column(b));
  };
  if (r.direction == Direction::many_to_many)
    return {{r.assoc, eq(*r.assoc_local, owner.column(owner.key_columns()[0])), outer},
            {&target.table(), eq(target.column(target.key_columns()[0]), *r.assoc_remote), outer}};
  if (r.direction == Direction::many_to_one) return {{&target.table(), eq(target.column(r.ref[0]), owner.column(r.fk[0])), outer}};
  return {{&target.table(), eq(target.column(r.fk[0]), owner.column(r.ref[0])), outer}};
}
#endif  // ALCHEMY_IMPL
}  // namespace orm::detail

namespace orm::detail {
/// The condition of any()/has(): over the related model T (or no model's columns).
template <class T, class Cond>
sql::ExprPtr related_condition(const Cond& condition) {
  static_assert(std::is_same_v<Cond, Condition<T>> || std::is_same_v<Cond, Condition<void>>,
                "alchemy: any() and has() take a condition over the related model's columns");
  return condition.expr;
}
}  // namespace orm::detail

template <class M, class T, bool C>
template <class Cond>
Condition<M> Relationship<M, T, C>::any(const Cond& condition) const
  requires C
{
  return {orm::detail::related_exists(info(), orm::detail::related_condition<T>(condition))};
}
template <class M, class T, bool C>
Condition<M> Relationship<M, T, C>::any() const
  requires C
{
  return {orm::detail::related_exists(info(), nullptr)};
}
template <class M, class T, bool C>
template <class Cond>
Condition<M> Relationship<M, T, C>::has(const Cond& condition) const
  requires(!C)
{
  return {orm::detail::related_exists(info(), orm::detail::related_condition<T>(condition))};
}
template <class M, class T, bool C>
Condition<M> Relationship<M, T, C>::has() const
  requires(!C)
{
  return {orm::detail::related_exists(info(), nullptr)};
}
template <class M, class T, bool C>
Condition<M> Relationship<M, T, C>::contains(const std::shared_ptr<T>& object) const
  requires C
{
  const auto& r = info();
  if (!object) throw ArgumentError(r.label() + ".contains(): null object");
  const auto& target = r.target();
  if (r.direction == orm::Direction::many_to_many) {
    const auto key = target.access(target.key_columns()[0]).get(object.get());
    return {orm::detail::related_exists(
        r, sql::binary(sql::Op::eq, sql::column(target.column(target.key_columns()[0])), sql::bind(key)))};
  }
  // SQLAlchemy renders the owner's key against the object's foreign key value.
  const auto fk = target.access(r.fk[0]).get(object.get());
  return {sql::binary(sql::Op::eq, sql::column(r.owner->column(r.ref[0])), sql::bind(fk))};
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_DETAIL_RELATIONSHIP_SQL_HPP_
