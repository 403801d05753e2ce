// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/mapper.hpp>.
//
// What a mapper knows about one of its relationships (ALCHEMY_RELATIONSHIP): the options it was
// declared with, and what configure() (orm/detail/relationship_config.hpp) resolves from the
// foreign keys on first use: its direction, the columns that join the two sides, the
// association table of a many-to-many, and its back_populates partner. Also the non-template
// base of the relationship fields (One<T>, Many<T>), through which the session reads and
// fills them without knowing their target type.
#ifndef ALCHEMY_ORM_DETAIL_RELATIONSHIP_INFO_HPP_
#define ALCHEMY_ORM_DETAIL_RELATIONSHIP_INFO_HPP_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <typeinfo>
#include <vector>

#include "alchemy/sql/schema.hpp"

namespace alchemy::orm {

class Mapper;
struct InstanceState;
struct RelationshipInfo;

/// Which way a relationship points: many_to_one holds the foreign key on its own table,
/// one_to_many finds the key on the target's table, many_to_many goes through a `secondary`
/// association table.
enum class Direction : std::uint8_t { many_to_one, one_to_many, many_to_many };

/// How an unloaded relationship loads on first access (SQLAlchemy's lazy=).
enum class Lazy : std::uint8_t {
  select,    ///< one SELECT on first access (the default)
  selectin,  ///< loaded with the query that loads its owner, by a second SELECT ... IN
  joined,    ///< loaded with the query that loads its owner, by a LEFT OUTER JOIN
  raise,     ///< access throws InvalidRequestError: finds N+1 code
  noload,    ///< never loads: an empty collection or null (the per-query lazyload option aside)
};

/// What the session does along a relationship (SQLAlchemy's cascade=).
struct CascadeFlags {
  bool save_update = true;    ///< objects put into the relationship join the owner's session
  bool delete_ = false;       ///< deleting the owner deletes the related objects
  bool delete_orphan = false; ///< an object removed from the relationship is deleted
};

namespace detail {

/// The non-template part of One<T> and Many<T>. The session works through these virtuals
/// with StatePtrs (the owning handle of an object's node), whatever the target model.
class RelationshipField {
 public:
  using StatePtr = std::shared_ptr<InstanceState>;

  RelationshipField() = default;
  // A copy of a model object is a new object: it starts with the relationship unloaded.
  RelationshipField(const RelationshipField&) noexcept {}
  RelationshipField& operator=(const RelationshipField&) noexcept { return *this; }
  virtual ~RelationshipField() = default;

  /// Whether the relationship holds what the database has (or what was put into it).
  bool loaded() const noexcept { return loaded_; }
  InstanceState* owner() const noexcept { return owner_; }
  const RelationshipInfo* info() const noexcept { return info_; }

  /// The related objects held now (none when unloaded).
  virtual void items(std::vector<StatePtr>& out) const = 0;
  /// A loader's result: the relationship becomes loaded with exactly these objects.
  virtual void set_loaded(std::vector<StatePtr> objects) = 0;
  /// The other side of a back_populates pair changed: `object` now refers to the owner.
  /// Collections that are not loaded ignore it (their load will find it).
  virtual void back_add(const StatePtr& object) = 0;
  /// The other side no longer refers to the owner.
  virtual void back_remove(const InstanceState* object) = 0;
  /// Whether it refers to `object`.
  virtual bool refers_to(const InstanceState* object) const = 0;
  /// Back to unloaded (rollback expires relationships, as SQLAlchemy expires attributes).
  virtual void unload() = 0;
  /// Objects removed from a collection since the last flush (orphans, rows to unlink).
  virtual std::vector<StatePtr> take_removed() { return {}; }
  /// Objects added to a collection since the last flush (many-to-many rows to write).
  virtual std::vector<StatePtr> take_added() { return {}; }
  /// Keeps (or gives back) removals and additions a failed flush took.
  virtual void restore_history(std::vector<StatePtr>, std::vector<StatePtr>) {}
  /// One<T> only: whether it was set since the last flush (its foreign key needs writing).
  virtual bool take_changed() { return false; }
  virtual void mark_changed() {}
  /// One<T> only: hold the target weakly (its collection holds this object) or strongly.
  virtual void set_weak(bool) {}
  /// Called once the field belongs to a node: `owner` is its object's state.
  void bind(InstanceState* owner, const RelationshipInfo* info) noexcept {
    owner_ = owner;
    info_ = info;
  }

 protected:
  InstanceState* owner_ = nullptr;
  const RelationshipInfo* info_ = nullptr;
  bool loaded_ = false;
};

}  // namespace detail

/// One relationship of a model, as declared and as resolved.
struct RelationshipInfo {
  // --- Declared -------------------------------------------------------------------------------
  std::string name;                      ///< the field's name: "posts"
  Mapper* owner = nullptr;               ///< the declaring model's mapper
  Mapper& (*target)() = nullptr;         ///< the related model's mapper (mapper_of<Target>)
  bool collection = false;               ///< Many<T> (true) or One<T>
  std::string back_populates;            ///< the partner's field name on the target model
  std::string secondary;                 ///< the association table of a many-to-many
  std::string secondary_local;           ///< its column referring to the owner ("" = derived)
  std::string secondary_remote;          ///< its column referring to the target ("" = derived)
  std::string foreign_key;               ///< "table.column": the foreign key to follow ("" = infer)
  CascadeFlags cascade;
  Lazy lazy = Lazy::select;
  bool passive_deletes = false;          ///< rely on ON DELETE CASCADE: never load to delete
  /// The field of an object of the owner model.
  std::function<detail::RelationshipField&(void* object)> field;
  /// The member pointer the field was declared with (for options naming &Model::field).
  std::shared_ptr<const void> member;
  const std::type_info* member_type = nullptr;

  // --- Resolved by configure() ---------------------------------------------------------------
  bool configured = false;
  Direction direction = Direction::many_to_one;
  /// many_to_one: the foreign key columns of the owner; one_to_many: of the target.
  std::vector<std::size_t> fk;
  /// The columns those keys refer to: the target's (many_to_one) or the owner's (one_to_many).
  std::vector<std::size_t> ref;
  const RelationshipInfo* partner = nullptr;
  /// many_to_many: the association table (registered once per name) and its two columns.
  const sql::Table* assoc = nullptr;
  const sql::Column* assoc_local = nullptr;
  const sql::Column* assoc_remote = nullptr;
  bool self_referential() const noexcept;
  /// "Author.posts", for messages.
  std::string label() const;
};

}  // namespace alchemy::orm

#endif  // ALCHEMY_ORM_DETAIL_RELATIONSHIP_INFO_HPP_
