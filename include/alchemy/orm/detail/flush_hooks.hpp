// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// What a flush runs around its statements when a model has hooks (orm/detail/hooks.hpp):
// validators first (a rejection writes nothing and fires nothing), then before_insert +
// default_ per new object, before_update + onupdate per changed object, before_delete per
// deleted one; after_* once all statements succeeded. Objects are visited in the flush's lists'
// order (add order for new objects), not table by table as SQLAlchemy does.
#ifndef ALCHEMY_ORM_DETAIL_FLUSH_HOOKS_HPP_
#define ALCHEMY_ORM_DETAIL_FLUSH_HOOKS_HPP_

#include "alchemy/config.hpp"

#include <vector>

namespace alchemy {

template <class Dirty>
Session::FlushHooks Session::before_flush_hooks(Dirty& dirty) {
  FlushHooks out;
  if (!orm::hooks_in_use().load(std::memory_order_relaxed)) return out;
  using orm::MapperEvent;
  const auto bit = [](std::size_t i) { return std::uint64_t{1} << (i & 63); };
  for (const auto& st : new_) validate(*st);
  for (const auto& u : dirty)
    for (const auto& v : u.state->mapper->hooks.validators)
      if (u.mask & bit(v.column)) v.fn(u.state->object);

  for (const auto& st : new_) {
    const auto& h = st->mapper->hooks;
    for (const auto& l : h.on(MapperEvent::before_insert)) l.fn(st->object);
    for (const auto& d : h.defaults) d.fn(st->object);
    if (!h.on(MapperEvent::after_insert).empty()) out.inserted.push_back(st);
  }
  bool recheck = false;
  for (auto& u : dirty) {
    const auto& h = u.state->mapper->hooks;
    if (h.on(MapperEvent::before_update).empty() && h.onupdate.empty()) continue;
    for (const auto& l : h.on(MapperEvent::before_update)) l.fn(u.state->object);
    for (const auto& o : h.onupdate)
      if (!(u.mask & bit(o.column))) o.fn(u.state->object);
    u.mask = changed_mask(*u.state);
    recheck = true;
  }
  if (recheck)  // a listener may have undone every change
    std::erase_if(dirty, [](const auto& u) { return u.mask == 0; });
  for (const auto& u : dirty)
    if (!u.state->mapper->hooks.on(MapperEvent::after_update).empty()) out.updated.push_back(u.state);
  for (const auto& st : deleted_) {
    const auto& h = st->mapper->hooks;
    for (const auto& l : h.on(MapperEvent::before_delete)) l.fn(st->object);
    if (!h.on(MapperEvent::after_delete).empty()) out.deleted.push_back(st);
  }
  return out;
}

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void Session::after_flush_hooks(const FlushHooks& hooks) {
  using orm::MapperEvent;
  for (const auto& st : hooks.inserted)
    for (const auto& l : st->mapper->hooks.on(MapperEvent::after_insert)) l.fn(st->object);
  for (const auto& st : hooks.updated)
    for (const auto& l : st->mapper->hooks.on(MapperEvent::after_update)) l.fn(st->object);
  for (const auto& st : hooks.deleted)
    for (const auto& l : st->mapper->hooks.on(MapperEvent::after_delete)) l.fn(st->object);
}

ALCHEMY_INLINE void Session::fire(event::SessionEvent e) {
  const auto& list = session_listeners_[static_cast<int>(e)];
  if (list.empty()) return;
  const auto copy = list;  // a listener may remove itself
  for (const auto& [id, fn] : copy) fn(*this);
}

#endif  // ALCHEMY_IMPL
namespace event {
/// Calls fn(session) on before_commit, after_commit or after_rollback of this session.
template <class Fn>
Listener listen(Session& session, SessionEvent e, Fn fn) {
  return session.listen(e, std::function<void(Session&)>(std::move(fn)));
}
}  // namespace event

}  // namespace alchemy

#endif  // ALCHEMY_ORM_DETAIL_FLUSH_HOOKS_HPP_
