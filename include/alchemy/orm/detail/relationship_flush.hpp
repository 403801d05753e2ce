// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// What relationships add to a flush (SQLAlchemy's dependency processors):
//   before the dirty scan (prepare):
//     - cascade save-update: what the relationships of new and handed-out objects hold joins
//       the session;
//     - cascade delete: deleting an object deletes what its one-to-many relationships hold
//       (loading them unless passive_deletes), or clears their foreign keys without it;
//     - orphans: an object taken out of a collection is deleted (delete-orphan) or gets a
//       NULL foreign key;
//     - foreign keys: a changed many-to-one, and each object added to a collection, copy the
//       referenced key into the foreign key column, now when it is known, else once the
//       referenced object's INSERT generated it (before_mapper);
//   between the INSERT/UPDATEs and the DELETEs (write_links): the association rows of
//   many-to-many collections, deletions first.
// Statements stay ordered by foreign-key dependency (dependency_order); rows of a
// self-referential table are INSERTed parents first and DELETEd children first.
#ifndef ALCHEMY_ORM_DETAIL_RELATIONSHIP_FLUSH_HPP_
#define ALCHEMY_ORM_DETAIL_RELATIONSHIP_FLUSH_HPP_

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace alchemy::orm::detail {

/// Whether one of the model's foreign keys refers to its own table.
inline bool references_itself(const Mapper& m) {
  for (const auto& c : m.table().columns())
    if (c->foreign_key && c->foreign_key->table == m.table().name()) return true;
  return false;
}

struct RelationshipFlush {
  using StatePtr = std::shared_ptr<InstanceState>;
  /// `object`'s foreign key (of relationship `rel`, seen from `object`'s side) gets the
  /// referenced value of `source` once source has it.
  struct Deferred {
    StatePtr object;
    const RelationshipInfo* rel;
    StatePtr source;
    bool done = false;
  };
  /// A many-to-many association row to write or delete.
  struct Link {
    const RelationshipInfo* rel;
    StatePtr owner, target;
  };
  /// What this flush took from a relationship's history (given back if the flush fails).
  struct Taken {
    StatePtr owner;
    const RelationshipInfo* rel;
    std::vector<StatePtr> removed, added;
    bool changed = false;
  };

  Session& s;
  std::vector<Deferred> deferred;
  std::vector<Link> link_add, link_remove;
  std::vector<Taken> taken;

  static bool has_relationships(const StatePtr& st) { return st->mapper->has_relationships(); }

  /// Whether `st` holds the value of column `col` of its model: it is in the database, or it
  /// was given the value (not a key the database has yet to generate).
  static bool keyed(const InstanceState& st, std::size_t col) {
    if (st.state == ObjectState::persistent || st.state == ObjectState::deleted) return true;
    const Mapper& m = *st.mapper;
    if (static_cast<int>(col) != m.generated_key() || st.key_generated) return true;
    const auto v = m.access(col).get(st.object);
    return !(v.kind() == sql::ValueKind::integer && v.as_integer() == 0);
  }

  /// Sets `obj`'s column `fk` to `value`; a NULL into a field that cannot hold it is an
  /// InvalidRequestError saying which relationship asked for it.
  void set_fk(const StatePtr& obj, std::size_t fk, const sql::Value& value, const std::string& why) {
    const Mapper& m = *obj->mapper;
    const auto& c = m.column(fk);
    if (value.is_null() && !c.nullable)
      throw InvalidRequestError(why + " would set " + m.table().name() + "." + c.name + " of " + m.repr(obj->object) +
                                " to NULL, but the field is not a std::optional");
    if (m.access(fk).get(obj->object) == value) return;
    m.access(fk).set(obj->object, value);
    if (obj->state == ObjectState::persistent && obj->session == &s) s.watch(obj);
  }

  /// obj.fk := source.ref for relationship r (seen from obj: r's foreign key is on obj's table).
  void sync(const StatePtr& obj, const RelationshipInfo& r, const StatePtr& source) {
    // Columns: many_to_one seen from its owner (obj = owner), or one_to_many seen from the
    // parent (obj = a child of r's target model).
    const std::size_t fk = r.fk[0];
    const std::size_t ref = r.ref[0];
    if (!source) {
      set_fk(obj, fk, {}, "clearing " + r.label());
      return;
    }
    if (!keyed(*source, ref)) {
      deferred.push_back({obj, &r, source});
      return;
    }
    set_fk(obj, fk, source->mapper->access(ref).get(source->object), r.label());
  }

  /// An object taken out of `parent`'s one-to-many `r`: deleted, or its key cleared, unless it
  /// went to another parent since.
  void orphan(const StatePtr& child, const RelationshipInfo& r, const StatePtr& parent) {
    if (child->session != &s || child->delete_pending || child->state == ObjectState::deleted) return;
    if (r.partner) {
      auto& back = r.partner->field(child->object);
      std::vector<StatePtr> now;
      back.items(now);
      if (!now.empty() && now.front() != parent) return;  // moved to another parent
    }
    if (r.cascade.delete_orphan) {
      remove(child);
      return;
    }
    const auto& fkv = child->mapper->access(r.fk[0]).get(child->object);
    const auto& refv = parent->mapper->access(r.ref[0]).get(parent->object);
    if (!(fkv == refv) && child->state == ObjectState::persistent) return;  // re-pointed by hand
    set_fk(child, r.fk[0], {}, "removing it from " + r.label() + " (without cascade delete-orphan)");
  }

  /// Deletes an object as part of a cascade.
  void remove(const StatePtr& st) {
    if (st->session != &s) return;
    if (st->state == ObjectState::pending) {
      s.expunge_state(st);
      return;
    }
    if (st->state != ObjectState::persistent || st->delete_pending) return;
    st->delete_pending = true;
    s.deleted_.push_back(st);
  }

  /// Everything that has to happen before the dirty scan (see the top of the file).
  void prepare() {
    if (!relationships_declared().load(std::memory_order_relaxed)) return;  // the common flush
    bool any = false;
    for (const auto& st : s.new_) any = any || has_relationships(st);
    for (const auto& st : s.watch_) any = any || has_relationships(st);
    for (const auto& st : s.deleted_) any = any || has_relationships(st);
    if (!any) return;
    // 1. Cascade save-update (new_ grows while it is walked).
    for (std::size_t i = 0; i < s.new_.size(); ++i) SessionAccess::cascade_from(s, s.new_[i]);
    const std::vector<StatePtr> watched(s.watch_.begin(), s.watch_.end());
    for (const auto& st : watched)
      if (st->session == &s && st->state == ObjectState::persistent) SessionAccess::cascade_from(s, st);
    // 2. Relationship histories: orphans, many-to-many rows, changed many-to-ones.
    std::vector<StatePtr> live(s.new_.begin(), s.new_.end());
    for (const auto& st : s.watch_)
      if (st->session == &s && st->state == ObjectState::persistent) live.push_back(st);
    for (const auto& st : live) {
      if (!has_relationships(st)) continue;
      for (const auto& r : st->mapper->relationships()) {
        auto& f = r->field(st->object);
        if (!f.loaded()) continue;
        Taken t{st, r.get(), f.take_removed(), f.take_added(), f.take_changed()};
        if (t.removed.empty() && t.added.empty() && !t.changed) continue;
        taken.push_back(std::move(t));
      }
    }
    for (const auto& t : taken) {
      const RelationshipInfo& r = *t.rel;
      switch (r.direction) {
        case Direction::one_to_many:
          for (const auto& c : t.removed) orphan(c, r, t.owner);
          break;
        case Direction::many_to_many:
          for (const auto& c : t.removed) link_remove.push_back({&r, t.owner, c});
          for (const auto& c : t.added) link_add.push_back({&r, t.owner, c});
          break;
        case Direction::many_to_one: break;
      }
    }
    // 3. Cascade delete (deleted_ grows while it is walked).
    for (std::size_t i = 0; i < s.deleted_.size(); ++i) {
      const StatePtr st = s.deleted_[i];
      if (!has_relationships(st)) continue;
      for (const auto& r : st->mapper->relationships()) {
        if (r->direction != Direction::one_to_many) continue;
        auto& f = r->field(st->object);
        if (!f.loaded()) {
          if (r->passive_deletes) continue;
          SessionAccess::load(s, *r, {st});
        }
        std::vector<StatePtr> children;
        f.items(children);
        for (const auto& c : children) {
          if (r->cascade.delete_) remove(c);
          else if (!c->delete_pending && c->session == &s)
            set_fk(c, r->fk[0], {}, "deleting " + st->mapper->repr(st->object) + " (" + r->label() +
                                        " has no cascade delete)");
        }
      }
    }
    // Children of a self-referential table go before their parents: a cascade found them after.
    std::stable_partition(s.deleted_.begin(), s.deleted_.end(), [](const StatePtr& st) { return !references_itself(*st->mapper); });
    {
      auto first = std::find_if(s.deleted_.begin(), s.deleted_.end(), [](const StatePtr& st) { return references_itself(*st->mapper); });
      std::reverse(first, s.deleted_.end());
    }
    // 4. Foreign keys of changed many-to-ones and of objects added to one-to-manys.
    for (const auto& t : taken) {
      const RelationshipInfo& r = *t.rel;
      if (t.owner->delete_pending) continue;
      if (r.direction == Direction::many_to_one && t.changed) {
        std::vector<StatePtr> now;
        r.field(t.owner->object).items(now);
        sync(t.owner, r, now.empty() ? nullptr : now.front());
      } else if (r.direction == Direction::one_to_many) {
        for (const auto& c : t.added)
          if (!c->delete_pending && c->session == &s) sync(c, r, t.owner);
      }
    }
  }

  /// The mappers whose objects wait for a generated key (the flush must visit them).
  void note_mappers(std::vector<const Mapper*>& mappers) const {
    for (const auto& d : deferred)
      if (std::find(mappers.begin(), mappers.end(), d.object->mapper) == mappers.end()) mappers.push_back(d.object->mapper);
  }

  /// Before the statements of mapper m: the foreign keys whose referenced keys were generated
  /// by now. A persistent object whose key changed that way is UPDATEd too.
  template <class Update>
  void before_mapper(const Mapper& m, std::vector<Update>& dirty) {
    for (auto& d : deferred) {
      if (d.done || d.object->mapper != &m || !keyed(*d.source, d.rel->ref[0])) continue;
      d.done = true;
      set_fk(d.object, d.rel->fk[0], d.source->mapper->access(d.rel->ref[0]).get(d.source->object), d.rel->label());
      if (d.object->state != ObjectState::persistent) continue;
      const auto mask = s.changed_mask(*d.object);
      auto it = std::find_if(dirty.begin(), dirty.end(), [&](const Update& u) { return u.state == d.object; });
      if (it != dirty.end()) it->mask |= mask;
      else if (mask) dirty.push_back({d.object, mask});
    }
  }

  /// Throws when a pending row of m still waits for the key of a row its table comes before:
  /// the foreign keys of two tables form a cycle, and the row cannot be written whole.
  void check_not_blocked(const Mapper& m) const {
    for (const auto& d : deferred)
      if (!d.done && d.object->mapper == &m && d.object->state == ObjectState::pending && d.source->mapper != &m &&
          !keyed(*d.source, d.rel->ref[0]))
        throw InvalidRequestError("circular dependency: " + m.repr(d.object->object) + " (" + d.rel->label() +
                                  ") refers to " + d.source->mapper->repr(d.source->object) +
                                  ", which is not INSERTed yet because its table refers back to '" +
                                  m.table().name() + "'; flush one of them first, then set the reference");
  }

  /// Whether mapper m has pending rows that wait for keys of other pending rows of m.
  bool waits_on_itself(const Mapper& m) const {
    return std::any_of(deferred.begin(), deferred.end(), [&](const Deferred& d) {
      return !d.done && d.object->mapper == &m && d.source->mapper == &m;
    });
  }

  /// The INSERTs of a self-referential model: rows whose parents have keys go first, in
  /// rounds, so that each round's generated keys fill in the next round's foreign keys.
  template <class Flush, class Update>
  void insert_in_rounds(Flush& f, engine::Connection& conn, const Mapper& m, std::vector<Update>& dirty) {
    std::vector<StatePtr> left;
    for (const auto& st : s.new_)
      if (st->mapper == &m) left.push_back(st);
    while (!left.empty()) {
      std::vector<StatePtr> ready, wait;
      for (const auto& st : left) {
        const bool blocked = std::any_of(deferred.begin(), deferred.end(), [&](const Deferred& d) {
          return !d.done && d.object == st && !keyed(*d.source, d.rel->ref[0]);
        });
        (blocked ? wait : ready).push_back(st);
      }
      if (ready.empty())
        throw InvalidRequestError("rows of " + m.class_name() + " refer to each other in a cycle through " +
                                  "their foreign key; set one of the references after a first flush");
      f.insert_all(conn, m, ready);
      left = std::move(wait);
      before_mapper(m, dirty);
    }
  }

  /// The association rows of many-to-many collections: deletions, then insertions.
  void write_links() {
    const auto key = [](const StatePtr& st) { return st->mapper->access(st->mapper->key_columns()[0]).get(st->object); };
    const auto usable = [&](const Link& l) {
      return l.owner->session == &s && l.target->session == &s && !l.owner->delete_pending &&
             !l.target->delete_pending && l.owner->state != ObjectState::deleted && l.target->state != ObjectState::deleted;
    };
    // A row removed and added again in one flush stays as it is.
    std::vector<Link> adds, removes;
    const auto same = [](const Link& a, const Link& b) {
      return a.rel->assoc == b.rel->assoc && a.owner == b.owner && a.target == b.target;
    };
    for (const auto& l : link_remove)
      if (std::none_of(link_add.begin(), link_add.end(), [&](const Link& a) { return same(a, l); })) removes.push_back(l);
    for (const auto& l : link_add)
      if (usable(l) && std::none_of(link_remove.begin(), link_remove.end(), [&](const Link& r) { return same(r, l); }) &&
          std::none_of(adds.begin(), adds.end(), [&](const Link& a) { return same(a, l); }))
        adds.push_back(l);
    const auto write = [&](const std::vector<Link>& links, bool insert) {
      for (std::size_t i = 0; i < links.size();) {
        const RelationshipInfo& r = *links[i].rel;
        std::vector<sql::Value> values;
        std::size_t j = i;
        for (; j < links.size() && links[j].rel->assoc == r.assoc; ++j) {
          // Columns in the table's order: the pair as seen from the relationship's side.
          const bool local_first = r.assoc_local == r.assoc->columns()[0].get();
          const auto a = key(links[j].owner), b = key(links[j].target);
          values.push_back(local_first ? a : b);
          values.push_back(local_first ? b : a);
        }
        auto& conn = s.connection_for(*r.owner);
        const auto& c = s.conn_dialect(*r.owner).compiler();
        std::vector<const sql::Column*> cols{r.assoc->columns()[0].get(), r.assoc->columns()[1].get()};
        const std::string sql = insert ? c.insert(*r.assoc, cols) : c.delete_(*r.assoc, cols);
        conn.run_batch(sql, 2, sql::refs_of(values), nullptr);
        i = j;
      }
    };
    write(removes, false);
    write(adds, true);
  }

  /// A failed flush gives the relationships back the history it took.
  void failed() noexcept {
    for (auto& t : taken) {
      try {
        auto& f = t.rel->field(t.owner->object);
        f.restore_history(std::move(t.removed), std::move(t.added));
        if (t.changed) f.mark_changed();
      } catch (...) {
      }
    }
  }

  /// After a successful flush: deleted objects leave the collections that held them.
  void succeeded(const std::vector<StatePtr>& deleted) {
    for (const auto& st : deleted) {
      if (!has_relationships(st)) continue;
      for (const auto& r : st->mapper->relationships()) {
        if (r->direction != Direction::many_to_one || !r->partner) continue;
        std::vector<StatePtr> now;
        r->field(st->object).items(now);
        for (const auto& parent : now) r->partner->field(parent->object).back_remove(st.get());
      }
    }
  }
};

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_RELATIONSHIP_FLUSH_HPP_
