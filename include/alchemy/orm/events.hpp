// SPDX-License-Identifier: MIT
// File: orm/events.hpp
//
// Mapper events, session events and column validators (SQLAlchemy's event.listen and @validates).
//
//   auto l = alchemy::event::listen<Account>(alchemy::event::before_insert,
//                                            [](Account& a) { a.handle = lower(a.handle); });
//   alchemy::event::listen(session, alchemy::event::after_commit, [](alchemy::Session&) { ... });
//   alchemy::validates(Account::handle_, [](const std::string& h) { return !h.empty(); },
//                      "must not be empty");
//   l.remove();                                      // unregisters
//
// Mapper events run inside flush(), for each object written: before_insert / before_update /
// before_delete before the flush sends any statement (what they change is written), after_*
// once every statement succeeded. Session events: before_commit (before commit's flush),
// after_commit, after_rollback (after the database rolled back: rollback(), close(), a failed
// flush). Register listeners at start-up, before sessions use the model: registration is not
// synchronised with flushes in other threads. Nothing is run, and nothing costs, until a
// listener, validator or column default exists.
//
// Validators differ from SQLAlchemy's: C++ has no hook on `a.handle = x`, so a validator runs
// when the object is added (add(), add_all()) and again at flush for new objects and changed
// columns, before any SQL. A rejected value throws alchemy::ValidationError naming the model and
// column; nothing is written and the session stays usable (fix the value, or expunge it).
#ifndef ALCHEMY_ORM_EVENTS_HPP_
#define ALCHEMY_ORM_EVENTS_HPP_

#include <algorithm>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "alchemy/error.hpp"
#include "alchemy/orm/model.hpp"

namespace alchemy {

class Session;

namespace event {

using orm::MapperEvent;
inline constexpr MapperEvent before_insert = MapperEvent::before_insert;
inline constexpr MapperEvent after_insert = MapperEvent::after_insert;
inline constexpr MapperEvent before_update = MapperEvent::before_update;
inline constexpr MapperEvent after_update = MapperEvent::after_update;
inline constexpr MapperEvent before_delete = MapperEvent::before_delete;
inline constexpr MapperEvent after_delete = MapperEvent::after_delete;

/// Session events.
enum class SessionEvent : std::uint8_t { before_commit, after_commit, after_rollback };
inline constexpr SessionEvent before_commit = SessionEvent::before_commit;
inline constexpr SessionEvent after_commit = SessionEvent::after_commit;
inline constexpr SessionEvent after_rollback = SessionEvent::after_rollback;

/// A registered listener or validator; remove() unregisters it (once; later calls do nothing).
/// Dropping the handle keeps the registration.
class Listener {
 public:
  Listener() = default;
  explicit Listener(std::function<void()> remove) : remove_(std::move(remove)) {}
  void remove() {
    if (auto f = std::exchange(remove_, nullptr)) f();
  }

 private:
  std::function<void()> remove_;
};

namespace detail {
inline Listener add_hook(std::vector<orm::MapperHooks::Entry>& list, std::size_t column, orm::MapperHooks::Fn fn) {
  const auto id = orm::next_hook_id();
  list.push_back({id, column, std::move(fn)});
  return Listener([&list, id] {
    std::erase_if(list, [id](const orm::MapperHooks::Entry& e) { return e.id == id; });
  });
}
}  // namespace detail

/// Calls fn(obj) for each object of model T the flush inserts, updates or deletes (see the top).
template <ModelType T, class Fn>
Listener listen(MapperEvent e, Fn fn) {
  static_assert(std::is_invocable_v<Fn&, T&>, "alchemy: a mapper event listener is called as fn(T& object)");
  return detail::add_hook(mapper_of<T>().hooks.on(e), 0,
                          [fn = std::move(fn)](void* obj) mutable { fn(*static_cast<T*>(obj)); });
}

/// Unregisters a listener or validator.
inline void remove(Listener& l) { l.remove(); }

}  // namespace event

namespace orm::detail {
/// A value as the text ValidationError::value() holds.
inline std::string value_text(const sql::Value& v) {
  switch (v.kind()) {
    case sql::ValueKind::null: return "NULL";
    case sql::ValueKind::integer: return std::to_string(v.as_integer());
    case sql::ValueKind::text: return v.as_text();
    case sql::ValueKind::boolean: return v.as_boolean() ? "true" : "false";
    default: return "(" + std::string(sql::kind_name(v.kind())) + " value)";
  }
}
}  // namespace orm::detail

/// A validator of one column (SQLAlchemy's @validates): `fn(const F& value)` returns false to
/// reject the value, which throws ValidationError("Model.column: <reason>"). See the top for
/// when it runs.
template <class M, class F, class Fn>
event::Listener validates(const Column<M, F>& column, Fn fn, std::string reason = "rejected by its validator") {
  static_assert(std::is_invocable_r_v<bool, Fn&, const F&>,
                "alchemy: a validator is called as fn(const F& value) and returns whether the value is valid");
  const std::size_t index = column.index();
  return event::detail::add_hook(
      mapper_of<M>().hooks.validators, index,
      [fn = std::move(fn), index, reason = std::move(reason)](void* obj) mutable {
        const auto& m = mapper_of<M>();
        const sql::Value v = m.access(index).get(obj);
        using V = typename sql::Nullable<F>::value_type;
        F typed{};
        if (!v.is_null()) typed = F(TypeTraits<V>::from_ref(v.ref()));
        if (!fn(std::as_const(typed)))
          throw ValidationError(m.class_name(), m.column(index).name, orm::detail::value_text(v), reason);
      });
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_EVENTS_HPP_
