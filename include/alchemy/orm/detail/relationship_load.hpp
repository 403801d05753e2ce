// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/query.hpp>.
//
// Loading relationships, and putting related objects into the session:
//   - lazy_load: the first access to an unloaded relationship of a persistent object (one
//     SELECT; a many-to-one found in the identity map needs none), or DetachedInstanceError,
//     or InvalidRequestError under lazy="raise";
//   - SessionAccess::load: the batch loader behind lazy loads and selectinload(): one
//     SELECT ... WHERE key IN (...) per 500 owners (a many-to-many joins its association
//     table);
//   - cascade save-update: objects put into a relationship of an object in a session join it.
#ifndef ALCHEMY_ORM_DETAIL_RELATIONSHIP_LOAD_HPP_
#define ALCHEMY_ORM_DETAIL_RELATIONSHIP_LOAD_HPP_

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"

namespace alchemy {
namespace orm::detail {

/// A map key for a column value (keys and foreign keys are integers or strings in practice).
inline std::string value_key(sql::ValueRef v) {
  switch (v.kind()) {
    case sql::ValueKind::null: return {};
    case sql::ValueKind::integer: return "i" + std::to_string(v.as_integer());
    case sql::ValueKind::text: return "t" + std::string(v.as_text());
    case sql::ValueKind::blob: return "b" + std::string(reinterpret_cast<const char*>(v.as_blob().data()), v.as_blob().size());
    case sql::ValueKind::boolean: return v.as_boolean() ? "B1" : "B0";
    case sql::ValueKind::real: return "r" + std::to_string(v.as_real());
    default: return "d" + std::to_string(v.as_integer());  // date, datetime: their integer count
  }
}

/// Whether the row holds an object of `m` at result column `offset`: not when every key column
/// is NULL (the missing side of an outer join).
inline bool row_has_object(const Mapper& m, dialect::Statement& row, int offset) {
  return !std::all_of(m.key_columns().begin(), m.key_columns().end(), [&](std::size_t k) {
    return row.column(offset + int(k), m.column(k).type.kind).is_null();
  });
}

/// The session's internals that relationships use (a friend of Session).
/// The loader options and eager relationships of a query, over the objects it loaded (Query<T>
/// calls this; SessionAccess::after_query does the work).
ALCHEMY_INLINE void eager_load(Session& s, const Mapper& m, const std::vector<StatePtr>& objects,
                               const std::vector<LoadOption>& options);

/// The first joinedload() in `options` that a JOIN can serve for a query of `m` whose
/// statement is `stmt`: a relationship of m, not self-referential, whose tables the query does
/// not join already, and not a collection when LIMIT/OFFSET would cut its rows. Others load like
/// selectinload (docs/relationships.md). Null when there is none.
ALCHEMY_INLINE const LoadOption* joined_option(const Mapper& m, const sql::Select& stmt,
                                               const std::vector<LoadOption>& options);
/// The objects of `stmt`'s rows, each once in the order first seen, with relationship `o`
/// loaded by LEFT OUTER JOINs in the same statement.
ALCHEMY_INLINE std::vector<StatePtr> load_joined(Session& s, const Mapper& m, sql::Select stmt, const LoadOption& o);

struct SessionAccess {
  static constexpr std::size_t kInChunk = 500;  // SQLAlchemy's selectin batch size

  /// An object reached through a relationship joins `s`: transient → pending, detached →
  /// persistent again; then the same for what its relationships hold.
  static void add(Session& s, const StatePtr& st);

  /// Cascade save-update from `st`: what its loaded relationships hold joins the session.
  static void cascade_from(Session& s, const StatePtr& st);

  // --- Loading ---------------------------------------------------------------------------------

  /// The object for the current row (Session::load_row), for a model known at run time.
  static StatePtr materialize(Session& s, const Mapper& m, dialect::Statement& row, int offset) {
    return s.load_row(m, row, offset);
  }

  /// orm::detail::load_joined's work: the rows of `stmt` with `o`'s related columns joined.
  static std::vector<StatePtr> load_joined(Session& s, const Mapper& m, sql::Select stmt, const LoadOption& o);

  /// Runs `sel` on `m`'s connection and calls on_row(statement) for each row.
  template <class OnRow>
  static void run(Session& s, const Mapper& m, const sql::Select& sel, OnRow&& on_row);

  /// SELECT target.* WHERE target.<column> IN (values), each row materialized; on_row gets the
  /// object and the row (to read the column that groups it).
  template <class OnRow>
  static void select_in(Session& s, const Mapper& target, const sql::Column& column, std::vector<sql::Value> values,
                        OnRow&& on_row);

  /// Loads relationship `r` of each owner (all of r's model, all persistent in `s`) whose
  /// field is not loaded yet.
  /// Returns the owners it loaded.
  static std::vector<StatePtr> load(Session& s, const RelationshipInfo& r, const std::vector<StatePtr>& all_owners);

  /// After a query loaded `objects` of model `m`: the loader options, then the relationships
  /// declared lazy="selectin"/"joined", each over all the objects at once.
  static void after_query(Session& s, const Mapper& m, const std::vector<StatePtr>& objects,
                          const std::vector<LoadOption>& options);

  static std::vector<StatePtr> related(const RelationshipInfo& r, const std::vector<StatePtr>& owners);

  /// Rollback expires the relationships of the objects that stay in the session.
  static void expire_relationships(Session& s);
};


template <class Field>
void lazy_load(Field& field) {
  InstanceState* owner = field.owner();
  const RelationshipInfo* info = field.info();
  if (!owner || !info || owner->state == ObjectState::transient || owner->state == ObjectState::pending) {
    field.set_loaded({});  // nothing in the database yet: what was put in is all there is
    return;
  }
  if (!owner->session)
    throw DetachedInstanceError("Parent instance '" + owner->mapper->repr(owner->object) +
                                "' is not bound to a Session; lazy load operation of attribute '" + info->name +
                                "' cannot proceed");
  if (info->lazy == Lazy::raise)
    throw InvalidRequestError("'" + info->label() + "' is not available due to lazy='raise'");
  if (info->lazy == Lazy::noload) {
    field.set_loaded({});
    return;
  }
  auto self = self_of(owner);
  SessionAccess::load(*owner->session, *info, {self});
}

template <class Owner>
void cascade_save(const InstanceState& owner, const StatePtr& object) {
  if (!owner.session || !object) return;
  if (owner.state != ObjectState::pending && owner.state != ObjectState::persistent) return;
  SessionAccess::add(*owner.session, object);
}

}  // namespace orm::detail

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
namespace orm::detail {
ALCHEMY_INLINE void SessionAccess::add(Session& s, const StatePtr& st) {
  if (st->session == &s) return;
  if (st->session)
    throw InvalidRequestError("Object '" + st->mapper->repr(st->object) +
                              "' is already attached to another session");
  if (st->state == ObjectState::transient) {
    s.validate(*st);
    s.attach_new(st);
  } else if (st->state == ObjectState::detached) {
    auto [it, inserted] = s.identity_.emplace(st->key, st);
    if (!inserted)
      throw InvalidRequestError("Can't attach instance '" + st->mapper->repr(st->object) +
                                "': another instance with the same key is already in this session");
    st->session = &s;
    st->state = ObjectState::persistent;
    s.watch(st);
  } else {
    return;
  }
  cascade_from(s, st);
}

ALCHEMY_INLINE void SessionAccess::cascade_from(Session& s, const StatePtr& st) {
  if (!st->mapper->has_relationships()) return;
  std::vector<StatePtr> related;
  for (const auto& r : st->mapper->relationships()) {
    if (!r->cascade.save_update) continue;
    auto& f = r->field(st->object);
    if (!f.loaded()) continue;
    related.clear();
    f.items(related);
    for (const auto& o : related)
      if (o->session != &s && (o->state == ObjectState::transient || o->state == ObjectState::detached)) add(s, o);
  }
}

ALCHEMY_INLINE std::vector<StatePtr> SessionAccess::load_joined(Session& s, const Mapper& m, sql::Select stmt, const LoadOption& o) {
  const auto& r = o.relationship();
  const auto& target = r.target();
  stmt.columns.clear();
  for (std::size_t i = 0; i < m.column_count(); ++i) stmt.columns.push_back(&m.column(i));
  for (std::size_t i = 0; i < target.column_count(); ++i) stmt.columns.push_back(&target.column(i));
  for (auto& j : relationship_joins(r, true)) stmt.joins.push_back(std::move(j));
  const int offset = static_cast<int>(m.column_count());
  std::vector<StatePtr> out;
  std::unordered_map<const InstanceState*, std::vector<StatePtr>> related;
  {
    QueryRun run(s, m, stmt);
    auto& row = run.statement();
    while (row.next()) {
      auto obj = SessionAccess::materialize(s, m, row, 0);
      auto [it, fresh] = related.try_emplace(obj.get());
      if (fresh) out.push_back(obj);
      if (!row_has_object(target, row, offset)) continue;
      auto child = SessionAccess::materialize(s, target, row, offset);
      if (std::find(it->second.begin(), it->second.end(), child) == it->second.end()) it->second.push_back(child);
    }
  }
  const auto guard = s.use();
  for (const auto& p : out) {
    auto& f = r.field(p->object);
    if (!f.loaded()) f.set_loaded(std::move(related[p.get()]));
  }
  return out;
}

template <class OnRow>
void SessionAccess::run(Session& s, const Mapper& m, const sql::Select& sel, OnRow&& on_row) {
  // A lazy load's SELECT has one shape: QueryRun compiles it once.
  QueryRun run(s, m, sel, sql::SelectForm::rows, QueryRun::Kind::loader);
  auto& st = run.statement();
  while (st.next()) on_row(st);
}

template <class OnRow>
void SessionAccess::select_in(Session& s, const Mapper& target, const sql::Column& column, std::vector<sql::Value> values,
                      OnRow&& on_row) {
  for (std::size_t done = 0; done < values.size(); done += kInChunk) {
    const std::size_t n = std::min(kInChunk, values.size() - done);
    sql::Select sel;
    sel.table = &target.table();
    if (n == 1)
      sel.where.push_back(sql::binary(sql::Op::eq, sql::column(column), sql::bind(values[done])));
    else
      sel.where.push_back(sql::in(sql::column(column),
                                  std::vector<sql::Value>(values.begin() + std::ptrdiff_t(done),
                                                          values.begin() + std::ptrdiff_t(done + n))));
    run(s, target, sel, [&](dialect::Statement& row) { on_row(SessionAccess::materialize(s, target, row, 0), row); });
  }
}

ALCHEMY_INLINE std::vector<StatePtr> SessionAccess::load(Session& s, const RelationshipInfo& r, const std::vector<StatePtr>& all_owners) {
  std::vector<StatePtr> owners;
  for (const auto& o : all_owners)
    if (!r.field(o->object).loaded() && o->session == &s && o->state != ObjectState::pending) owners.push_back(o);
  if (owners.empty()) return owners;
  const auto guard = s.use();
  const Mapper& owner = *r.owner;
  const Mapper& target = r.target();
  std::unordered_map<std::string, std::vector<StatePtr>> found;  // owner key value → objects
  if (r.direction == Direction::many_to_one) {
    const auto& fk = owner.access(r.fk[0]);
    const auto& ref = target.column(r.ref[0]);
    const bool by_key = target.key_columns().size() == 1 && target.key_columns()[0] == r.ref[0];
    std::vector<sql::Value> wanted;
    std::unordered_map<std::string, bool> seen;
    for (const auto& o : owners) {
      const auto v = fk.get(o->object);
      if (v.is_null()) continue;
      const auto k = value_key(v.ref());
      if (seen.count(k)) continue;
      seen[k] = true;
      if (by_key) {  // the identity map answers without SQL (SQLAlchemy's lazy get)
        const auto it = s.identity_.find(IdentityKey{&target, v});
        if (it != s.identity_.end()) {
          found[k].push_back(it->second);
          continue;
        }
      }
      wanted.push_back(v);
    }
    if (!wanted.empty()) {
      s.autoflush_for_query();
      select_in(s, target, ref, std::move(wanted), [&](const StatePtr& obj, dialect::Statement& row) {
        found[value_key(row.column(ref.position, ref.type.kind))].push_back(obj);
      });
    }
    for (const auto& o : owners) {
      const auto v = fk.get(o->object);
      auto it = v.is_null() ? found.end() : found.find(value_key(v.ref()));
      std::vector<StatePtr> objs;
      if (it != found.end() && !it->second.empty()) objs.push_back(it->second.front());
      r.field(o->object).set_loaded(std::move(objs));
    }
    return owners;
  }
  s.autoflush_for_query();
  if (r.direction == Direction::one_to_many) {
    const auto& ref = owner.access(r.ref[0]);
    const auto& fk = target.column(r.fk[0]);
    std::vector<sql::Value> keys;
    for (const auto& o : owners) keys.push_back(ref.get(o->object));
    select_in(s, target, fk, std::move(keys), [&](const StatePtr& obj, dialect::Statement& row) {
      found[value_key(row.column(fk.position, fk.type.kind))].push_back(obj);
    });
    for (const auto& o : owners) {
      auto it = found.find(value_key(ref.get(o->object).ref()));
      r.field(o->object).set_loaded(it == found.end() ? std::vector<StatePtr>{} : std::move(it->second));
    }
    return owners;
  }
  // many-to-many: SELECT assoc.local, target.* FROM target JOIN assoc ON target.key =
  // assoc.remote WHERE assoc.local IN (...): one statement, as SQLAlchemy's selectin.
  const auto& okey = owner.access(owner.key_columns()[0]);
  const auto& tkey = target.column(target.key_columns()[0]);
  std::vector<sql::Value> keys;
  for (const auto& o : owners) keys.push_back(okey.get(o->object));
  for (std::size_t done = 0; done < keys.size(); done += kInChunk) {
    const std::size_t n = std::min(kInChunk, keys.size() - done);
    sql::Select sel;
    sel.table = &target.table();
    sel.joins.push_back({r.assoc, sql::binary(sql::Op::eq, sql::column(tkey), sql::column(*r.assoc_remote)), false});
    sel.columns.push_back(r.assoc_local);
    for (std::size_t i = 0; i < target.column_count(); ++i) sel.columns.push_back(&target.column(i));
    sel.where.push_back(sql::in(sql::column(*r.assoc_local),
                                std::vector<sql::Value>(keys.begin() + std::ptrdiff_t(done),
                                                        keys.begin() + std::ptrdiff_t(done + n))));
    run(s, target, sel, [&](dialect::Statement& row) {
      const auto owner_key = value_key(row.column(0, r.assoc_local->type.kind));
      found[owner_key].push_back(SessionAccess::materialize(s, target, row, 1));
    });
  }
  for (const auto& o : owners) {
    auto it = found.find(value_key(okey.get(o->object).ref()));
    r.field(o->object).set_loaded(it == found.end() ? std::vector<StatePtr>{} : std::move(it->second));
  }
  return owners;
}

ALCHEMY_INLINE void SessionAccess::after_query(Session& s, const Mapper& m, const std::vector<StatePtr>& objects,
                        const std::vector<LoadOption>& options) {
  if (objects.empty()) return;
  for (const auto& o : options) {
    const RelationshipInfo& r = o.relationship();
    if (r.owner != &m)
      throw ArgumentError("loader option for " + r.label() + " given to a query of " + m.class_name());
    const auto loaded = o.strategy == Lazy::selectin || o.strategy == Lazy::joined ? load(s, r, objects)
                                                                                     : std::vector<StatePtr>{};
    if (!o.then.empty()) after_query(s, r.target(), related(r, objects), o.then);
    else after_query(s, r.target(), related(r, loaded), {});
  }
  if (!m.has_relationships()) return;
  for (const auto& r : m.relationships()) {
    if (r->lazy != Lazy::selectin && r->lazy != Lazy::joined) continue;
    if (std::any_of(options.begin(), options.end(), [&](const LoadOption& o) { return &o.relationship() == r.get(); }))
      continue;
    // Only what this call loaded goes on: each field loads once, so a cycle of eager
    // relationships ends.
    const auto loaded = load(s, *r, objects);
    after_query(s, r->target(), related(*r, loaded), {});
  }
}

ALCHEMY_INLINE std::vector<StatePtr> SessionAccess::related(const RelationshipInfo& r, const std::vector<StatePtr>& owners) {
  std::vector<StatePtr> out;
  for (const auto& o : owners) r.field(o->object).items(out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ALCHEMY_INLINE void SessionAccess::expire_relationships(Session& s) {
  if (!relationships_declared().load(std::memory_order_relaxed)) return;
  for (const auto& [key, st] : s.identity_)
    if (st->mapper->has_relationships())
      for (const auto& r : st->mapper->relationships()) r->field(st->object).unload();
}
}  // namespace orm::detail

ALCHEMY_INLINE void Session::add_state(const StatePtr& st) { orm::detail::SessionAccess::add(*this, st); }
ALCHEMY_INLINE void Session::cascade_from(const StatePtr& st) { orm::detail::SessionAccess::cascade_from(*this, st); }
ALCHEMY_INLINE const LoadOption* orm::detail::joined_option(const Mapper& m, const sql::Select& stmt,
                                                                 const std::vector<LoadOption>& options) {
  if (!stmt.unions.empty()) return nullptr;
  for (const auto& o : options) {
    if (o.strategy != Lazy::joined) continue;
    const auto& r = o.relationship();
    if (r.owner != &m || r.self_referential()) continue;
    if (r.collection && (stmt.limit || stmt.offset)) continue;
    const auto joined = [&](const sql::Table* t) {
      return std::any_of(stmt.joins.begin(), stmt.joins.end(), [&](const sql::Join& j) { return j.table == t; });
    };
    if (joined(&r.target().table()) || (r.assoc && joined(r.assoc))) continue;
    return &o;
  }
  return nullptr;
}
ALCHEMY_INLINE std::vector<orm::detail::StatePtr> orm::detail::load_joined(Session& s, const Mapper& m, sql::Select stmt,
                                                                         const LoadOption& o) {
  return SessionAccess::load_joined(s, m, std::move(stmt), o);
}
ALCHEMY_INLINE void orm::detail::eager_load(Session& s, const Mapper& m, const std::vector<StatePtr>& objects,
                                            const std::vector<LoadOption>& options) {
  SessionAccess::after_query(s, m, objects, options);
}
#endif

template <class T>
std::shared_ptr<T> Many<T>::push_back(T&& object) {
  auto st = orm::detail::make_node<T>(std::move(object));
  auto p = orm::detail::object_ptr<T>(st);
  push_back(p);
  return p;
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_DETAIL_RELATIONSHIP_LOAD_HPP_
