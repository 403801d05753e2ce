// SPDX-License-Identifier: MIT
// File: orm/relationship.hpp
//
// Relationships between models (SQLAlchemy's relationship()):
//
//   struct Post;
//   struct Author : alchemy::Model<Author> {
//     ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
//     ALCHEMY_COLUMN(std::string, name, alchemy::String(80));
//     ALCHEMY_RELATIONSHIP(std::vector<Post>, posts, alchemy::back_populates("author"),
//                          alchemy::cascade("all, delete-orphan"));
//   };
//   struct Post : alchemy::Model<Post> {
//     ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
//     ALCHEMY_COLUMN(int64_t, author_id, alchemy::ForeignKey("author.id"));
//     ALCHEMY_RELATIONSHIP(Author, author, alchemy::back_populates("posts"));
//     ALCHEMY_RELATIONSHIP(std::vector<Tag>, tags, alchemy::secondary("post_tag"));
//   };
//
// ALCHEMY_RELATIONSHIP(std::vector<X>, name, ...) declares a collection field (alchemy::Many<X>),
// ALCHEMY_RELATIONSHIP(X, name, ...) a single reference (alchemy::One<X>), and the static handle
// `name_` for queries (Author::posts_.any(...), selectinload(Author::posts_), join). Direction
// and join columns come from the ForeignKey columns: the side whose table holds the key is
// many-to-one; the other side one-to-many (or one-to-one with One<X>); `secondary("table")`
// makes a many-to-many through an association table that create_all() creates.
//
// Access loads: `a->posts()` is the loaded collection (one SELECT on first access while the
// object is in a session, none after), `p->author()` the object or null. Assignment and
// push_back update the other side of a back_populates pair in memory, and the flush writes
// the foreign keys (orm/detail/relationship_flush.hpp).
//
// Ownership: a collection (and the one-to-one side without the key) holds its objects; the
// many-to-one side of a back_populates pair holds its object weakly while that object's
// collection holds it back, so that a pair never makes a reference cycle.
#ifndef ALCHEMY_ORM_RELATIONSHIP_HPP_
#define ALCHEMY_ORM_RELATIONSHIP_HPP_

#include <algorithm>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "alchemy/error.hpp"
#include "alchemy/orm/column.hpp"
#include "alchemy/orm/instance_state.hpp"
#include "alchemy/orm/loader_options.hpp"
#include "alchemy/orm/mapper.hpp"
#include "alchemy/orm/relationship_options.hpp"

namespace alchemy {

template <class T>
class Model;
template <class T>
orm::Mapper& mapper_of();

namespace orm::detail {
using StatePtr = std::shared_ptr<InstanceState>;
/// Loads an unloaded relationship of a persistent object (orm/detail/relationship_load.hpp).
template <class Field>
void lazy_load(Field& field);
/// Puts a transient object reached through a relationship of `owner` into owner's session
/// (cascade save-update), when owner is in one.
template <class Owner = void>
void cascade_save(const InstanceState& owner, const StatePtr& object);
/// The node state of a model object made by alchemy (null for a plain stack object).
template <class T>
InstanceState* state_of(const T& obj);
/// The owning pointer of an object's node.
inline StatePtr self_of(const InstanceState* st) { return st ? st->self.lock() : nullptr; }
/// The partner field (the other side of a back_populates pair) in `object`.
inline RelationshipField* partner_field(const RelationshipInfo* info, const InstanceState* object) {
  if (!info || !info->partner || !object) return nullptr;
  return &info->partner->field(object->object);
}
/// A typed pointer to an object whose state is `st`.
template <class T>
std::shared_ptr<T> typed(const StatePtr& st) {
  return st ? std::shared_ptr<T>(st, static_cast<T*>(st->object)) : nullptr;
}
template <class T>
StatePtr state_ptr_of(const std::shared_ptr<T>& obj, const char* what) {
  if (!obj) return nullptr;
  auto* st = state_of(*obj);
  if (!st)
    throw ArgumentError(std::string(what) +
                        ": this object was not created by alchemy; pass it by value or make it "
                        "with alchemy::make<T>(...)");
  return StatePtr(obj, st);
}
}  // namespace orm::detail

/// A single related object (many-to-one, or one-to-one): `p->author()` reads it (loading it on
/// first access), `p->author = a;` sets it.
template <class T>
class One final : public orm::detail::RelationshipField {
 public:
  using target_type = T;
  static constexpr bool is_collection = false;

  One() = default;
  /// For aggregate initialisation: Post{.title = "x", .author = a}.
  One(std::shared_ptr<T> target) : strong_(std::move(target)), changed_(true) { loaded_ = true; }  // NOLINT
  One(std::nullptr_t) : changed_(true) { loaded_ = true; }                                          // NOLINT
  One(const One&) noexcept : RelationshipField() {}  // a copied object starts unloaded
  One(One&& o) noexcept
      : strong_(std::move(o.strong_)), weak_(std::move(o.weak_)), weak_mode_(o.weak_mode_), changed_(o.changed_) {
    loaded_ = o.loaded_;
    o.loaded_ = false;
  }
  /// Points at the same object as `o` (only its object is copied; nothing else).
  One& operator=(const One& o) {
    if (this != &o) set(o.current());
    return *this;
  }
  One& operator=(std::shared_ptr<T> target) {
    set(std::move(target));
    return *this;
  }
  One& operator=(std::nullptr_t) {
    set(nullptr);
    return *this;
  }

  /// The related object (null when there is none), loaded on first access.
  std::shared_ptr<T> operator()() {
    if (!loaded_) orm::detail::lazy_load(*this);
    auto p = current();
    if (!p && weak_mode_) p = reload_released();
    return p;
  }
  std::shared_ptr<T> get() { return (*this)(); }

  /// Sets the related object, updating the other side of a back_populates pair.
  void set(std::shared_ptr<T> target) {
    auto old = loaded_ ? current() : nullptr;
    auto target_state = orm::detail::state_ptr_of(target, "relationship assignment");
    if (loaded_ && old == target) return;
    // The one-to-one side without the key remembers the object it let go (an orphan for the
    // flush). A many-to-one needs no history: holding the old object could make a cycle.
    if (old && old != target && info_ && info_->direction == orm::Direction::one_to_many)
      removed_ = orm::detail::state_ptr_of(old, "relationship assignment");
    strong_ = std::move(target);
    weak_.reset();
    weak_mode_ = false;
    loaded_ = true;
    changed_ = true;
    if (!owner_ || !info_) return;
    const auto self = orm::detail::self_of(owner_);
    if (old && old.get() != strong_.get())
      if (auto* pf = orm::detail::partner_field(info_, orm::detail::state_of(*old))) pf->back_remove(owner_);
    if (target_state) {
      if (auto* pf = orm::detail::partner_field(info_, target_state.get())) {
        if (self) pf->back_add(self);
        if (pf->refers_to(owner_) && pf->info()->collection) set_weak(true);
      }
      if (info_->cascade.save_update) orm::detail::cascade_save(*owner_, target_state);
    }
  }

  // --- The session's side (RelationshipField) ----------------------------------------------
  void items(std::vector<orm::detail::StatePtr>& out) const override {
    if (!loaded_) return;
    if (auto p = current()) out.push_back(orm::detail::state_ptr_of(p, "relationship"));
  }
  void set_loaded(std::vector<orm::detail::StatePtr> objects) override {
    strong_ = objects.empty() ? nullptr : orm::detail::typed<T>(objects.front());
    weak_.reset();
    weak_mode_ = false;
    loaded_ = true;
    // A loaded many-to-one whose object's collection is loaded and holds this one: weak.
    if (strong_ && owner_)
      if (auto* pf = orm::detail::partner_field(info_, objects.front().get()))
        if (pf->info()->collection && pf->refers_to(owner_)) set_weak(true);
    // The one-to-one side without the key holds its object; that object's reference back is weak.
    if (strong_ && owner_ && !info_->collection && info_->direction == orm::Direction::one_to_many)
      if (auto* pf = orm::detail::partner_field(info_, objects.front().get())) {
        if (auto self = orm::detail::self_of(owner_)) pf->back_add(self);
      }
  }
  void back_add(const orm::detail::StatePtr& object) override {
    auto t = orm::detail::typed<T>(object);
    if (loaded_ && current() == t) {
      set_weak(true);
      return;
    }
    if (auto old = loaded_ ? current() : nullptr)
      if (auto* pf = orm::detail::partner_field(info_, orm::detail::state_of(*old))) pf->back_remove(owner_);
    strong_ = std::move(t);
    weak_.reset();
    weak_mode_ = false;
    loaded_ = true;
    changed_ = true;
    set_weak(true);
  }
  void back_remove(const orm::InstanceState* object) override {
    if (!loaded_) return;
    auto p = current();
    if (p && orm::detail::state_of(*p) == object) {
      strong_.reset();
      weak_.reset();
      weak_mode_ = false;
      changed_ = true;
    }
  }
  bool refers_to(const orm::InstanceState* object) const override {
    if (!loaded_) return false;
    auto p = current();
    return p && orm::detail::state_of(*p) == object;
  }
  void unload() override {
    strong_.reset();
    weak_.reset();
    weak_mode_ = false;
    loaded_ = false;
    changed_ = false;
    removed_.reset();
  }
  /// The one-to-one side without the key: the object it was set to writes its key to it.
  std::vector<orm::detail::StatePtr> take_added() override {
    std::vector<orm::detail::StatePtr> out;
    if (changed_ && info_ && info_->direction == orm::Direction::one_to_many)
      if (auto p = current()) out.push_back(orm::detail::state_ptr_of(p, "relationship"));
    return out;
  }
  bool take_changed() override { return std::exchange(changed_, false); }
  void mark_changed() override { changed_ = true; }
  std::vector<orm::detail::StatePtr> take_removed() override {
    std::vector<orm::detail::StatePtr> out;
    if (removed_) out.push_back(std::move(removed_));
    removed_.reset();
    return out;
  }
  void restore_history(std::vector<orm::detail::StatePtr> removed, std::vector<orm::detail::StatePtr>) override {
    if (!removed.empty()) removed_ = std::move(removed.front());
  }
  void set_weak(bool weak) override {
    // Only the many-to-one side of a pair is ever weak (its object's collection owns it).
    if (weak && (!info_ || info_->direction != orm::Direction::many_to_one)) return;
    if (weak && !weak_mode_) {
      weak_ = strong_;
      strong_.reset();
      weak_mode_ = true;
    } else if (!weak && weak_mode_) {
      strong_ = weak_.lock();
      weak_.reset();
      weak_mode_ = false;
    }
  }
  /// The object held now, without loading.
  std::shared_ptr<T> current() const { return weak_mode_ ? weak_.lock() : strong_; }

 private:
  /// A weak reference whose object was released: the session still knows it by key.
  std::shared_ptr<T> reload_released() {
    weak_mode_ = false;
    loaded_ = false;
    orm::detail::lazy_load(*this);
    return current();
  }

  std::shared_ptr<T> strong_;
  std::weak_ptr<T> weak_;
  bool weak_mode_ = false;
  bool changed_ = false;  ///< set since the last flush: the flush writes the foreign key
  orm::detail::StatePtr removed_;  ///< the object it referred to before the last change (orphan)
};

/// A collection of related objects (one-to-many, many-to-many): `a->posts()` loads it on first
/// access and returns it; it reads like a std::vector<std::shared_ptr<T>>.
template <class T>
class Many final : public orm::detail::RelationshipField {
 public:
  using target_type = T;
  using value_type = std::shared_ptr<T>;
  using const_iterator = typename std::vector<std::shared_ptr<T>>::const_iterator;
  using iterator = const_iterator;
  static constexpr bool is_collection = true;

  Many() = default;
  Many(const Many&) noexcept : RelationshipField() {}  // a copied object starts unloaded
  /// Copying a collection between owners would give its objects two parents: not done.
  /// Assign the objects explicitly (`b->posts().assign(a->posts().begin(), ...)`).
  Many& operator=(const Many&) noexcept { return *this; }
  Many(Many&& o) noexcept
      : items_(std::move(o.items_)), removed_(std::move(o.removed_)), added_(std::move(o.added_)) {
    loaded_ = o.loaded_;
    o.loaded_ = false;
  }

  /// The collection, loaded on first access.
  Many& operator()() {
    ensure_loaded();
    return *this;
  }

  const_iterator begin() { return (ensure_loaded(), items_.cbegin()); }
  const_iterator end() { return (ensure_loaded(), items_.cend()); }
  std::size_t size() { return (ensure_loaded(), items_.size()); }
  bool empty() { return size() == 0; }
  const std::shared_ptr<T>& operator[](std::size_t i) { return (ensure_loaded(), items_[i]); }
  const std::shared_ptr<T>& at(std::size_t i) { return (ensure_loaded(), items_.at(i)); }
  const std::vector<std::shared_ptr<T>>& as_vector() { return (ensure_loaded(), items_); }
  bool contains(const std::shared_ptr<T>& obj) {
    ensure_loaded();
    return std::find(items_.begin(), items_.end(), obj) != items_.end();
  }

  /// Appends a new object (the collection owns it, and its session gets it) and returns it.
  std::shared_ptr<T> push_back(T&& object);
  /// Appends an object made by alchemy (from a query, alchemy::make, or another collection).
  void push_back(const std::shared_ptr<T>& object) {
    ensure_loaded();
    auto st = orm::detail::state_ptr_of(object, "Many::push_back");
    if (!st) throw ArgumentError("Many::push_back: null object");
    if (std::find(items_.begin(), items_.end(), object) != items_.end()) return;
    items_.push_back(object);
    std::erase(removed_, st);
    added_.push_back(st);
    link_back(st);
    if (owner_ && info_ && info_->cascade.save_update) orm::detail::cascade_save(*owner_, st);
  }
  /// Removes an object (an orphan: deleted with cascade delete-orphan, else its key is
  /// cleared at the next flush). Returns whether it was there.
  bool remove(const std::shared_ptr<T>& object) {
    ensure_loaded();
    auto it = std::find(items_.begin(), items_.end(), object);
    if (it == items_.end()) return false;
    erase(it);
    return true;
  }
  const_iterator erase(const_iterator it) {
    ensure_loaded();
    auto st = orm::detail::state_ptr_of(*it, "Many::erase");
    const auto at = items_.erase(it);
    std::erase(added_, st);
    removed_.push_back(st);
    if (auto* pf = orm::detail::partner_field(info_, st.get())) pf->back_remove(owner_);
    return at;
  }
  void clear() {
    ensure_loaded();
    while (!items_.empty()) erase(items_.cend() - 1);
  }

  // --- The session's side (RelationshipField) ----------------------------------------------
  void items(std::vector<orm::detail::StatePtr>& out) const override {
    for (const auto& p : items_) out.push_back(orm::detail::state_ptr_of(p, "relationship"));
  }
  void set_loaded(std::vector<orm::detail::StatePtr> objects) override {
    // What was appended before the load (to a pending owner) stays.
    std::vector<std::shared_ptr<T>> keep = std::move(items_);
    items_.clear();
    items_.reserve(objects.size() + keep.size());
    for (auto& st : objects) items_.push_back(orm::detail::typed<T>(st));
    for (auto& p : keep)
      if (std::find(items_.begin(), items_.end(), p) == items_.end()) items_.push_back(std::move(p));
    loaded_ = true;
    if (owner_ && info_ && info_->partner)
      for (auto& st : objects) link_back(st);
  }
  void back_add(const orm::detail::StatePtr& object) override {
    if (!loaded_) return;
    auto t = orm::detail::typed<T>(object);
    if (std::find(items_.begin(), items_.end(), t) != items_.end()) return;
    items_.push_back(std::move(t));
    std::erase(removed_, object);
    added_.push_back(object);
  }
  void back_remove(const orm::InstanceState* object) override {
    if (!loaded_) return;
    auto it = std::find_if(items_.begin(), items_.end(),
                           [&](const auto& p) { return orm::detail::state_of(*p) == object; });
    if (it == items_.end()) return;
    auto st = orm::detail::state_ptr_of(*it, "relationship");
    items_.erase(it);
    std::erase(added_, st);
    removed_.push_back(std::move(st));
  }
  bool refers_to(const orm::InstanceState* object) const override {
    return std::any_of(items_.begin(), items_.end(),
                       [&](const auto& p) { return orm::detail::state_of(*p) == object; });
  }
  void unload() override {
    // Objects whose reference back was weak because this collection held them hold it again.
    for (const auto& p : items_)
      if (auto* pf = orm::detail::partner_field(info_, orm::detail::state_of(*p))) pf->set_weak(false);
    items_.clear();
    removed_.clear();
    added_.clear();
    loaded_ = false;
  }
  std::vector<orm::detail::StatePtr> take_removed() override { return std::exchange(removed_, {}); }
  std::vector<orm::detail::StatePtr> take_added() override { return std::exchange(added_, {}); }
  void restore_history(std::vector<orm::detail::StatePtr> removed, std::vector<orm::detail::StatePtr> added) override {
    removed_.insert(removed_.end(), removed.begin(), removed.end());
    added_.insert(added_.end(), added.begin(), added.end());
  }

 private:
  void ensure_loaded() {
    if (!loaded_) orm::detail::lazy_load(*this);
  }
  /// The object's side of the pair now refers to the owner (and holds it weakly).
  void link_back(const orm::detail::StatePtr& st) {
    if (!owner_) return;
    if (auto* pf = orm::detail::partner_field(info_, st.get()))
      if (auto self = orm::detail::self_of(owner_)) pf->back_add(self);
  }

  std::vector<std::shared_ptr<T>> items_;
  std::vector<orm::detail::StatePtr> removed_;
  std::vector<orm::detail::StatePtr> added_;
};

// --- The handle for queries ---------------------------------------------------------------------

/// The static handle `name_` of a relationship of model M to model T: for any()/has(),
/// contains(), joins and loader options.
template <class M, class T, bool IsCollection>
class Relationship {
 public:
  using model_type = M;
  using target_type = T;
  static constexpr bool is_collection = IsCollection;

  explicit Relationship(std::size_t index) noexcept : index_(index) {}
  std::size_t index() const noexcept { return index_; }
  /// The resolved relationship (configures the mappers on first use).
  const orm::RelationshipInfo& info() const;

  /// EXISTS a related object matching `condition` (a collection: SQLAlchemy's any()).
  template <class C>
  Condition<M> any(const C& condition) const
    requires IsCollection;
  Condition<M> any() const
    requires IsCollection;
  /// The related object matches `condition` (a reference: SQLAlchemy's has()).
  template <class C>
  Condition<M> has(const C& condition) const
    requires(!IsCollection);
  Condition<M> has() const
    requires(!IsCollection);
  /// The collection holds `object` (SQLAlchemy's contains()).
  Condition<M> contains(const std::shared_ptr<T>& object) const
    requires IsCollection;

 private:
  std::size_t index_;
};

namespace orm::detail {

template <class Type>
struct relationship_field {
  using type = One<Type>;
};
template <class Type>
struct relationship_field<std::vector<Type>> {
  using type = Many<Type>;
};
template <class Type>
struct relationship_field<std::shared_ptr<Type>> {
  using type = One<Type>;
};
template <class Owner, class Type>
using relationship_handle_t =
    Relationship<Owner, typename relationship_field<Type>::type::target_type, relationship_field<Type>::type::is_collection>;

template <class Owner, class Field, class... Options>
relationship_handle_t<Owner, Field> register_relationship(std::string_view name,
                                                           typename relationship_field<Field>::type Owner::*member,
                                                           const Options&... options) {
  using F = typename relationship_field<Field>::type;
  using Target = typename F::target_type;
  static_assert((RelationshipOption<Options> && ...),
                "alchemy: ALCHEMY_RELATIONSHIP takes relationship options after the name "
                "(alchemy::back_populates(\"x\"), alchemy::secondary(\"t\"), alchemy::cascade(\"all\"), ...)");
  auto info = std::make_unique<RelationshipInfo>();
  info->name = std::string(name);
  info->owner = &mapper_of<Owner>();
  info->target = &mapper_of<Target>;
  info->collection = F::is_collection;
  info->field = [member](void* obj) -> RelationshipField& { return static_cast<Owner*>(obj)->*member; };
  info->member = std::make_shared<F Owner::*>(member);
  info->member_type = &typeid(F Owner::*);
  (options.apply(*info), ...);
  return relationship_handle_t<Owner, Field>(mapper_of<Owner>().add_relationship(std::move(info)));
}

/// The relationship of model M declared as field `member` (for options naming &M::posts).
template <class M, class F>
const RelationshipInfo& relationship_of(F M::*member) {
  for (const auto& r : mapper_of<M>().relationships())
    if (r->member_type && *r->member_type == typeid(F M::*) &&
        *static_cast<F M::* const*>(r->member.get()) == member)
      return *r;
  throw ArgumentError("this member of " + mapper_of<M>().class_name() + " is not a relationship");
}

}  // namespace orm::detail

template <class M, class T, bool C>
const orm::RelationshipInfo& Relationship<M, T, C>::info() const {
  return *mapper_of<M>().relationships().at(index_);
}

}  // namespace alchemy

/// Declares relationship field `name` (alchemy::Many<X> for std::vector<X>, else alchemy::One<X>)
/// and its handle `name_`. See the file comment.
#define ALCHEMY_RELATIONSHIP(Type, name, ...)                                                       \
  typename ::alchemy::orm::detail::relationship_field<Type>::type name{};                          \
  static inline const ::alchemy::orm::detail::relationship_handle_t<alchemy_model_type, Type> name##_ = \
      ::alchemy::orm::detail::register_relationship<alchemy_model_type, Type>(                     \
          #name, &alchemy_model_type::name __VA_OPT__(, ) __VA_ARGS__)

#include "alchemy/orm/detail/relationship_sql.hpp"

#endif  // ALCHEMY_ORM_RELATIONSHIP_HPP_
