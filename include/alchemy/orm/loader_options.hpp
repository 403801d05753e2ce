// SPDX-License-Identifier: MIT
// File: orm/loader_options.hpp
//
// Per-query loader options for relationships (SQLAlchemy's selectinload, joinedload, lazyload),
// given to Query<T>::options():
//
//   Author::query().options(alchemy::selectinload(Author::posts_)).all();      // 2 statements
//   Post::query().options(alchemy::joinedload(&Post::author)).all();            // 1 statement
//   Author::query().options(alchemy::selectinload(Author::posts_).selectinload(Post::tags_));
//
// A relationship is named by its handle (Author::posts_) or its member (&Author::posts).
// orm/detail/relationship_load.hpp and Query<T> carry them out.
#ifndef ALCHEMY_ORM_LOADER_OPTIONS_HPP_
#define ALCHEMY_ORM_LOADER_OPTIONS_HPP_

#include <functional>
#include <type_traits>
#include <vector>

#include "alchemy/orm/detail/relationship_info.hpp"

namespace alchemy {

template <class M, class T, bool IsCollection>
class Relationship;

/// A per-query loader option: selectinload(Author::posts_), joinedload(&Post::author), ...
/// Chain them for the next level: selectinload(Author::posts_).selectinload(Post::tags_).
struct LoadOption {
  std::function<const orm::RelationshipInfo&()> relationship;
  orm::Lazy strategy = orm::Lazy::selectin;
  std::vector<LoadOption> then;

  template <class R>
  LoadOption selectinload(const R& next) const;
  template <class R>
  LoadOption joinedload(const R& next) const;
};

namespace orm::detail {
template <class M, class F>
const RelationshipInfo& relationship_of(F M::*member);
template <class M, class T, bool C>
std::function<const RelationshipInfo&()> relationship_ref(const Relationship<M, T, C>& handle) {
  return [&handle]() -> const RelationshipInfo& { return handle.info(); };
}
template <class M, class F>
  requires std::is_base_of_v<RelationshipField, F>
std::function<const RelationshipInfo&()> relationship_ref(F M::*member) {
  return [member]() -> const RelationshipInfo& { return relationship_of(member); };
}
template <class R>
concept RelationshipRef = requires(const R& r) { relationship_ref(r); };
}  // namespace orm::detail

/// Load the relationship of every object the query returns with one more SELECT ... IN
/// (per 500 objects): 2 statements for N objects instead of N + 1.
template <orm::detail::RelationshipRef R>
LoadOption selectinload(const R& relationship) {
  return {orm::detail::relationship_ref(relationship), orm::Lazy::selectin, {}};
}
/// Load the relationship with the query itself. See docs/relationships.md for how alchemy
/// runs it.
template <orm::detail::RelationshipRef R>
LoadOption joinedload(const R& relationship) {
  return {orm::detail::relationship_ref(relationship), orm::Lazy::joined, {}};
}
/// Load on first access (the default), whatever the declaration says.
template <orm::detail::RelationshipRef R>
LoadOption lazyload(const R& relationship) {
  return {orm::detail::relationship_ref(relationship), orm::Lazy::select, {}};
}
template <class R>
LoadOption LoadOption::selectinload(const R& next) const {
  LoadOption o = *this;
  o.then.push_back(alchemy::selectinload(next));
  return o;
}
template <class R>
LoadOption LoadOption::joinedload(const R& next) const {
  LoadOption o = *this;
  o.then.push_back(alchemy::joinedload(next));
  return o;
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_LOADER_OPTIONS_HPP_
