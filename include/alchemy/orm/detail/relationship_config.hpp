// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/mapper.hpp>.
//
// Resolving relationships (SQLAlchemy's configure_mappers()): on first use, every declared
// relationship of every model is matched with the ForeignKey columns that link its two tables.
// The side whose table holds the key is many-to-one, the other one-to-many; `secondary` makes a
// many-to-many and registers its association table. back_populates pairs are checked to be
// each other's mirror. A declaration that cannot be resolved is an ArgumentError naming the
// relationship and saying what to add.
#ifndef ALCHEMY_ORM_DETAIL_RELATIONSHIP_CONFIG_HPP_
#define ALCHEMY_ORM_DETAIL_RELATIONSHIP_CONFIG_HPP_

#include "alchemy/config.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace alchemy::orm {

inline bool RelationshipInfo::self_referential() const noexcept { return owner == &target(); }
inline std::string RelationshipInfo::label() const { return owner->class_name() + "." + name; }

namespace detail {

/// Whether every declared relationship is resolved; a new declaration clears it.
inline std::atomic<bool>& relationships_configured() noexcept {
  static std::atomic<bool> done{false};
  return done;
}

/// Whether any model declares a relationship (set at program start): flushes and rollbacks of
/// programs without relationships skip their relationship passes.
inline std::atomic<bool>& relationships_declared() noexcept {
  static std::atomic<bool> declared{false};
  return declared;
}

/// The association tables of many-to-many relationships, by name (created by create_all()).
struct AssociationTable {
  std::unique_ptr<sql::Table> table;
  const Mapper* owner = nullptr;  ///< the model whose bind (engine) holds it
};
inline std::map<std::string, AssociationTable, std::less<>>& association_tables() {
  static std::map<std::string, AssociationTable, std::less<>> tables;
  return tables;
}

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::size_t single_key(const Mapper& m, const RelationshipInfo& r) {
  if (m.key_columns().size() != 1)
    throw ArgumentError(r.label() + ": " + m.class_name() +
                        " has a composite primary key; relationships need a single-column key");
  return m.key_columns().front();
}

ALCHEMY_INLINE void resolve_association(RelationshipInfo& r) {
  const Mapper& owner = *r.owner;
  const Mapper& target = r.target();
  const auto& ok = owner.column(single_key(owner, r));
  const auto& tk = target.column(single_key(target, r));
  auto& tables = association_tables();
  auto it = tables.find(r.secondary);
  if (it == tables.end()) {
    const std::string local = r.secondary_local.empty() ? owner.table().name() + "_" + ok.name : r.secondary_local;
    const std::string remote = r.secondary_remote.empty() ? target.table().name() + "_" + tk.name : r.secondary_remote;
    if (local == remote)
      throw ArgumentError(r.label() + ": secondary(\"" + r.secondary + "\") would have two columns named '" + local +
                          "'; name them: secondary(\"" + r.secondary + "\", \"<owner column>\", \"<target column>\")");
    AssociationTable a{std::make_unique<sql::Table>(r.secondary), &owner};
    const auto add = [&](const std::string& name, const sql::Column& key) {
      sql::Column c;
      c.name = name;
      c.type = key.type;
      c.nullable = false;
      c.primary_key = true;
      c.foreign_key = sql::ForeignKeyRef{key.table->name(), key.name, sql::ReferentialAction::cascade,
                                         sql::ReferentialAction::none};
      a.table->add_column(std::move(c));
    };
    add(local, ok);
    add(remote, tk);
    it = tables.emplace(r.secondary, std::move(a)).first;
  }
  const sql::Table& t = *it->second.table;
  if (t.columns().size() != 2)
    throw ArgumentError(r.label() + ": table '" + r.secondary + "' is not an association table of two columns");
  // Each side finds its column: by the name given, else by what the column refers to.
  const auto pick = [&](const std::string& named, const Mapper& m, const sql::Column* not_this) -> const sql::Column* {
    if (!named.empty()) {
      const auto* c = t.find(named);
      if (!c) throw ArgumentError(r.label() + ": association table '" + r.secondary + "' has no column '" + named + "'");
      return c;
    }
    const sql::Column* found = nullptr;
    for (const auto& c : t.columns()) {
      if (c.get() == not_this || !c->foreign_key || c->foreign_key->table != m.table().name()) continue;
      if (found)
        throw ArgumentError(r.label() + ": both columns of '" + r.secondary + "' refer to table '" + m.table().name() +
                            "'; name them in secondary(\"" + r.secondary + "\", \"<owner column>\", \"<target column>\")");
      found = c.get();
    }
    if (!found)
      throw ArgumentError(r.label() + ": association table '" + r.secondary + "' has no column referring to '" +
                          m.table().name() + "'");
    return found;
  };
  r.assoc = &t;
  r.assoc_local = pick(r.secondary_local, owner, nullptr);
  r.assoc_remote = pick(r.secondary_remote, target, r.assoc_local);
}

ALCHEMY_INLINE void resolve_foreign_key(RelationshipInfo& r) {
  const Mapper& owner = *r.owner;
  const Mapper& target = r.target();
  struct Candidate {
    const Mapper* holder;
    std::size_t column;
  };
  const auto refs = [](const Mapper& from, const Mapper& to) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < from.column_count(); ++i) {
      const auto& fk = from.column(i).foreign_key;
      if (fk && fk->table == to.table().name()) out.push_back(i);
    }
    return out;
  };
  std::vector<std::size_t> forward = refs(owner, target), backward = refs(target, owner);
  if (!r.foreign_key.empty()) {
    const auto dot = r.foreign_key.rfind('.');
    const std::string table = dot == std::string::npos ? "" : r.foreign_key.substr(0, dot);
    const std::string column = dot == std::string::npos ? r.foreign_key : r.foreign_key.substr(dot + 1);
    const auto only = [&](std::vector<std::size_t>& v, const Mapper& m) {
      std::erase_if(v, [&](std::size_t i) { return m.column(i).name != column; });
      if (!table.empty() && table != m.table().name()) v.clear();
    };
    only(forward, owner);
    only(backward, target);
    if (forward.empty() && backward.empty())
      throw ArgumentError(r.label() + ": foreign_keys(\"" + r.foreign_key + "\") names no foreign key between '" +
                          owner.table().name() + "' and '" + target.table().name() + "'");
  }
  if (&owner == &target) {
    // Self-referential: the same column both ways; a collection is the parent's side.
    if (forward.size() != 1)
      throw ArgumentError(r.label() + ": " + std::to_string(forward.size()) + " foreign keys of '" +
                          owner.table().name() + "' refer to itself; name one with alchemy::foreign_keys(\"table.column\")");
    backward = forward;
    if (r.collection) forward.clear();
    else backward.clear();
  }
  if (forward.size() + backward.size() == 0)
    throw ArgumentError(r.label() + ": no foreign key links '" + owner.table().name() + "' and '" +
                        target.table().name() + "'; add an alchemy::ForeignKey(\"table.column\") column, or "
                        "alchemy::secondary(\"table\") for a many-to-many");
  if (forward.size() + backward.size() > 1)
    throw ArgumentError(r.label() + ": several foreign keys link '" + owner.table().name() + "' and '" +
                        target.table().name() + "'; name the one to follow with alchemy::foreign_keys(\"table.column\")");
  const bool mto = !forward.empty();
  const Mapper& holder = mto ? owner : target;
  const Mapper& referenced = mto ? target : owner;
  const std::size_t col = mto ? forward.front() : backward.front();
  const auto& fk = *holder.column(col).foreign_key;
  const auto* refc = referenced.find(fk.column);
  if (!refc)
    throw ArgumentError(r.label() + ": the foreign key " + holder.table().name() + "." + holder.column(col).name +
                        " refers to column '" + fk.column + "', which " + referenced.class_name() + " does not have");
  if (mto && r.collection)
    throw ArgumentError(r.label() + " is a collection, but its foreign key " + holder.table().name() + "." +
                        holder.column(col).name + " is on " + owner.class_name() +
                        "'s table: declare it as a single object (ALCHEMY_RELATIONSHIP(" + target.class_name() +
                        ", ...)), or put the key on " + target.class_name());
  r.direction = mto ? Direction::many_to_one : Direction::one_to_many;
  r.fk = {col};
  r.ref = {static_cast<std::size_t>(refc->position)};
}

/// Resolves every relationship of every model. Throws ArgumentError for the first one that
/// cannot be resolved, and tries again on the next use.
ALCHEMY_INLINE void configure_relationships() {
  static std::mutex m;
  std::lock_guard lock(m);
  if (relationships_configured().load(std::memory_order_acquire)) return;
  std::vector<RelationshipInfo*> all;
  for (Mapper* mapper : all_mappers())
    for (const auto& r : mapper->relationships_unconfigured()) all.push_back(r.get());
  for (auto* r : all) {
    if (r->configured) continue;
    if (!r->secondary.empty()) {
      r->direction = Direction::many_to_many;
      resolve_association(*r);
    } else {
      resolve_foreign_key(*r);
    }
    r->configured = true;
  }
  const auto same_key = [](const RelationshipInfo& a, const RelationshipInfo& b) {
    // a and b follow the same foreign key column in opposite directions (or the same table).
    if (a.direction == Direction::many_to_many || b.direction == Direction::many_to_many)
      return a.direction == b.direction && a.assoc == b.assoc;
    if (&a.target() != b.owner || &b.target() != a.owner) return false;
    const Mapper& ha = a.direction == Direction::many_to_one ? *a.owner : a.target();
    const Mapper& hb = b.direction == Direction::many_to_one ? *b.owner : b.target();
    return &ha == &hb && a.fk == b.fk && a.direction != b.direction;
  };
  for (auto* r : all) {
    r->partner = nullptr;
    if (r->back_populates.empty()) continue;
    Mapper& target = r->target();
    const RelationshipInfo* p = nullptr;
    for (const auto& o : target.relationships_unconfigured())
      if (o->name == r->back_populates) p = o.get();
    if (!p)
      throw ArgumentError(r->label() + ": back_populates(\"" + r->back_populates + "\"): " + target.class_name() +
                          " has no relationship '" + r->back_populates + "'");
    if (&p->target() != r->owner || (!p->back_populates.empty() && p->back_populates != r->name))
      throw ArgumentError(r->label() + ": back_populates(\"" + r->back_populates + "\"): " + p->label() +
                          " does not point back at " + r->label());
    if (r->direction == Direction::many_to_many)
      throw ArgumentError(r->label() + ": back_populates on a many-to-many is not supported yet: declare the "
                          "relationship on one model and query the other way with any()/contains()");
    if (!same_key(*r, *p))
      throw ArgumentError(r->label() + " and " + p->label() + " are named as each other's back_populates but follow "
                          "different foreign keys");
    r->partner = p;
  }
  // Two relationships over the same key without back_populates would both write it, and hold
  // each other's objects in a reference cycle: refuse them, as SQLAlchemy warns about them.
  for (std::size_t i = 0; i < all.size(); ++i)
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      const auto& a = *all[i];
      const auto& b = *all[j];
      if (a.partner == &b || !same_key(a, b) || &a == &b) continue;
      throw ArgumentError(a.label() + " and " + b.label() + " follow the same " +
                          (a.direction == Direction::many_to_many ? "association table '" + a.secondary + "'"
                                                                  : std::string("foreign key")) +
                          (a.direction == Direction::many_to_many
                               ? ": declare a many-to-many on one side only"
                               : ": link them with back_populates(\"" + b.name + "\") and back_populates(\"" + a.name + "\")"));
    }
  relationships_configured().store(true, std::memory_order_release);
}

#endif  // ALCHEMY_IMPL
}  // namespace detail

inline std::size_t Mapper::add_relationship(std::unique_ptr<RelationshipInfo> r) {
  for (const auto& o : relationships_)
    if (o->name == r->name)
      throw ArgumentError("model " + class_name_ + " declares relationship '" + r->name + "' twice");
  if (table_.find(r->name))
    throw ArgumentError("model " + class_name_ + ": relationship '" + r->name + "' has the name of a column");
  relationships_.push_back(std::move(r));
  detail::relationships_declared().store(true, std::memory_order_relaxed);
  detail::relationships_configured().store(false, std::memory_order_release);
  return relationships_.size() - 1;
}

#if ALCHEMY_IMPL
ALCHEMY_INLINE const std::vector<std::unique_ptr<RelationshipInfo>>& Mapper::relationships() const {
  if (!relationships_.empty() && !detail::relationships_configured().load(std::memory_order_acquire))
    detail::configure_relationships();
  return relationships_;
}
#endif

}  // namespace alchemy::orm

#endif  // ALCHEMY_ORM_DETAIL_RELATIONSHIP_CONFIG_HPP_
