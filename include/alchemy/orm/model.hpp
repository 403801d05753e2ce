// SPDX-License-Identifier: MIT
// File: orm/model.hpp
//
// Declaring a model: derive from Model<T> and declare each column once.
//
//   struct Account : alchemy::Model<Account> {
//     ALCHEMY_TABLENAME("accounts");                 // default: snake_case of the class name
//     ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
//     ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
//     ALCHEMY_COLUMN(std::optional<std::string>, secret_key, alchemy::String(128));
//   };
//
// ALCHEMY_COLUMN(Type, name, options...) declares the field `name` and the static column handle
// `name_` used in filters (Account::handle_ == "jdoe"). The column is NOT NULL unless Type is a
// std::optional. The macros only declare and register: no SQL is written in them.
//
// A model needs a default constructor: objects are built when rows are loaded.
#ifndef ALCHEMY_ORM_MODEL_HPP_
#define ALCHEMY_ORM_MODEL_HPP_

#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include <fmt/format.h>  // fmt 9 defines formatter<string_view>::format, which models' formatters use, here

#include "alchemy/config.hpp"
#include "alchemy/orm/column.hpp"
#include "alchemy/orm/detail/node_pool.hpp"
#include "alchemy/orm/detail/type_name.hpp"
#include "alchemy/orm/instance_state.hpp"
#include "alchemy/orm/mapper.hpp"
#include "alchemy/orm/model_base.hpp"
#include "alchemy/orm/options.hpp"
#include "alchemy/orm/relationship.hpp"

namespace alchemy {

template <class T>
class Query;
template <class T>
class Model;

namespace orm::detail {
struct StateAccess;
template <class T>
std::string repr_of(const T& obj);
}

/// Base of every model class (CRTP): `struct Account : alchemy::Model<Account>`.
template <class T>
class Model : public orm::ModelBase {
 public:
  using alchemy_model_type = T;

  Model() noexcept = default;
  // Copies are new, unsaved objects: the session's bookkeeping stays with the original.
  Model(const Model&) noexcept : orm::ModelBase() {}
  Model& operator=(const Model&) noexcept { return *this; }
  ~Model() = default;

  /// A query over this model in the current thread's session of the SQLAlchemy object
  /// (Flask-SQLAlchemy's Model.query).
  static Query<T> query();
  /// The mapping of this model: its table and columns.
  static const orm::Mapper& mapper() { return mapper_of<T>(); }

  friend std::ostream& operator<<(std::ostream& os, const T& obj) {
    return os << orm::detail::repr_of(obj);
  }

 private:
  friend struct orm::detail::StateAccess;
  orm::InstanceState* alchemy_state_ = nullptr;
};

/// A model type: a class derived from Model<itself>.
template <class T>
concept ModelType = std::is_base_of_v<Model<T>, T>;

namespace orm::detail {

struct StateAccess {
  template <class T>
  static InstanceState*& of(const Model<T>& m) {
    return const_cast<Model<T>&>(m).alchemy_state_;
  }
};

template <class T>
InstanceState* state_of(const T& obj) {
  return StateAccess::of<T>(obj);
}

/// A node: the shared_ptr's control block (NodeControl), the object's InstanceState and the
/// object, one after the other in one piece of memory (orm/detail/node_pool.hpp), as
/// std::allocate_shared would lay out a struct of the two; the snapshot is a block of the
/// session's (orm/detail/snapshot.hpp). Only the placing and the destruction of the object
/// depend on T; the control block's type, and the code that makes it, are the same for every
/// model (adopt_node), so that each model does not instantiate the shared_ptr machinery again:
/// with std::allocate_shared that cost some 100 ms of compile time per model.
template <class T>
struct NodeLayout {
  static constexpr std::size_t state = NodeControl<InstanceState>::kControlBytes;
  static constexpr std::size_t object = (state + sizeof(InstanceState) + alignof(T) - 1) / alignof(T) * alignof(T);
  static constexpr std::size_t bytes = object + sizeof(T);
  static constexpr std::size_t align = alignof(T) > alignof(InstanceState) ? alignof(T) : alignof(InstanceState);
};
static_assert(NodeControl<InstanceState>::kControlBytes % alignof(InstanceState) == 0);
static_assert(std::is_nothrow_default_constructible_v<InstanceState>);

/// Ends a node's object and state; its memory goes back with the control block.
struct NodeDeleter {
  void (*destroy)(InstanceState*) noexcept;
  void operator()(InstanceState* st) const noexcept { destroy(st); }
};

template <class T>
void destroy_node(InstanceState* st) noexcept {
  static_cast<T*>(st->object)->~T();
  st->~InstanceState();
}

/// The owning pointer of `st`, a node's state in `memory`, whose control block goes in front of
/// it and whose object `destroy` ends. Allocates nothing.
ALCHEMY_INLINE std::shared_ptr<InstanceState> adopt_node(InstanceState* st, void (*destroy)(InstanceState*) noexcept,
                                                        const NodeMemory& memory);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::shared_ptr<InstanceState> adopt_node(InstanceState* st, void (*destroy)(InstanceState*) noexcept,
                                                        const NodeMemory& memory) {
  return std::shared_ptr<InstanceState>(st, NodeDeleter{destroy}, NodeControl<InstanceState>(memory));
}
#endif  // ALCHEMY_IMPL

/// Binds the relationship fields of a new node's object to its state. An object moved in with
/// related objects already set (Author{...} with posts appended) links them to itself now:
/// the other side of each back_populates pair refers to the node's object.
ALCHEMY_INLINE void bind_relationships(const std::shared_ptr<InstanceState>& st, bool moved_in);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void bind_relationships(const std::shared_ptr<InstanceState>& st, bool moved_in) {
  st->self = st;
  for (const auto& r : st->mapper->relationships()) {
    auto& field = r->field(st->object);
    field.bind(st.get(), r.get());
    if (!moved_in || !r->partner || !field.loaded()) continue;
    std::vector<std::shared_ptr<InstanceState>> related;
    field.items(related);
    for (const auto& other : related) {
      auto& back = r->partner->field(other->object);
      back.back_add(st);
      if (!r->collection && back.info() && back.info()->collection && back.refers_to(st.get())) field.set_weak(true);
    }
  }
}
#endif  // ALCHEMY_IMPL

/// A new node of model T, its object made from `args` (none: default-initialised, as a row
/// about to be loaded into it), from `pool` when one is given and takes it, else from the heap.
/// `moved_in`: the object came with related objects set (bind_relationships).
template <class T, class... Args>
std::shared_ptr<InstanceState> new_node(NodePool* pool, bool moved_in, Args&&... args) {
  using L = NodeLayout<T>;
  const Mapper& mapper = mapper_of<T>();
  const NodeMemory memory = node_memory(pool, L::bytes, L::align);
  T* object = nullptr;
  try {
    void* at = memory.data + L::object;
    if constexpr (sizeof...(Args) == 0) object = ::new (at) T;
    else object = ::new (at) T(std::forward<Args>(args)...);
  } catch (...) {
    free_node_memory(memory);
    throw;
  }
  auto* state = ::new (static_cast<void*>(memory.data + L::state)) InstanceState();
  state->mapper = &mapper;
  state->object = object;
  StateAccess::of<T>(*object) = state;
  auto st = adopt_node(state, &destroy_node<T>, memory);
  if (mapper.has_relationships()) bind_relationships(st, moved_in);
  return st;
}
/// A new transient object; the shared_ptr owns its node. From `pool` when a session makes it
/// (Session::add of an object), else from the heap.
template <class T>
std::shared_ptr<InstanceState> make_node(T&& obj, NodePool* pool = nullptr) {
  return new_node<T>(pool, true, std::move(obj));
}
/// A node for a row the session loads, from the session's pool (orm/detail/node_pool.hpp).
template <class T>
std::shared_ptr<InstanceState> make_empty_node(NodePool* pool) {
  return new_node<T>(pool, false);
}
template <class T>
std::shared_ptr<T> object_ptr(const std::shared_ptr<InstanceState>& st) {
  if (!st) return nullptr;
  return std::shared_ptr<T>(st, static_cast<T*>(st->object));
}
template <class T>
std::shared_ptr<T> object_ptr(std::shared_ptr<InstanceState>&& st) {
  if (!st) return nullptr;
  T* obj = static_cast<T*>(st->object);
  return std::shared_ptr<T>(std::move(st), obj);  // moved: no count traffic
}

/// "<Account 1>" for an object of `m` in state `st` (Flask-SQLAlchemy's default repr).
ALCHEMY_INLINE std::string default_repr(const Mapper& m, const void* obj, const InstanceState* st);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::string default_repr(const Mapper& m, const void* obj, const InstanceState* st) {
  if (!st || st->state == ObjectState::transient || st->state == ObjectState::pending)
    return fmt::format("<{} ({})>", m.class_name(), st ? state_name(st->state) : "transient");
  std::string key;
  for (auto k : m.key_columns()) {
    const auto v = m.access(k).get(obj);
    if (!key.empty()) key += ", ";
    switch (v.kind()) {
      case sql::ValueKind::integer: key += std::to_string(v.as_integer()); break;
      case sql::ValueKind::text: key += v.as_text(); break;
      default: key += "?"; break;
    }
  }
  return fmt::format("<{} {}>", m.class_name(), key);
}
#endif  // ALCHEMY_IMPL

template <class T>
std::string default_repr(const T& obj) {
  return default_repr(mapper_of<T>(), &obj, state_of(obj));
}

/// `obj.repr()` when the model defines it, else "<Account 1>" (Flask-SQLAlchemy's default).
template <class T>
std::string repr_of(const T& obj) {
  if constexpr (requires { { obj.repr() } -> std::convertible_to<std::string>; })
    return obj.repr();
  else
    return default_repr(obj);
}

/// The DataError of a NULL read into a field that is not a std::optional.
[[noreturn]] ALCHEMY_INLINE void null_into_field(const std::string& model, const std::string& column);

/// A model object seen as its ModelBase: the one function per model that field access needs
/// (the other way, from void* to ModelBase*, would be undefined without T).
template <class T>
ModelBase* model_base(void* obj) noexcept {
  return static_cast<T*>(obj);
}

/// Field access for every column whose field has C++ type F, whatever its model: the field is
/// `base(obj)->*member`. One class per field type, so a model's columns add no code of their own.
template <class F>
class FieldAccessImpl final : public FieldAccess {
  using N = sql::Nullable<F>;
  using V = typename N::value_type;

 public:
  FieldAccessImpl(F ModelBase::*member, ModelBase* (*base)(void*), const Mapper* mapper, std::string column)
      : member_(member), base_(base), mapper_(mapper), column_(std::move(column)) {}

  sql::ValueRef ref(const void* obj, sql::Value& scratch) const override {
    const F& f = field(obj);
    if constexpr (N::value) {
      if (!f) return {};
      return one(*f, scratch);
    } else {
      return one(f, scratch);
    }
  }
  sql::Value get(const void* obj) const override {
    const F& f = field(obj);
    if constexpr (N::value) {
      if (!f) return {};
      return TypeTraits<V>::to_value(*f);
    } else {
      return TypeTraits<V>::to_value(f);
    }
  }
  void read(void* obj, sql::ValueRef v) const override {
    F& f = field(obj);
    if (v.is_null()) {
      if constexpr (N::value) {
        f.reset();
        return;
      } else {
        null_into_field(mapper_->class_name(), column_);
      }
    }
    f = TypeTraits<V>::from_ref(v);
  }
  void read_column(void* obj, dialect::Statement& row, int index, sql::TypeKind hint) const override {
    // Integer and text values, what most columns hold, straight from the driver when it can
    // hand them over: exactly what column() would have returned, without building a ValueRef
    // and a second virtual call. Anything else (NULL, another kind, another driver) goes through
    // column() and read() as before.
    if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
      std::int64_t v = 0;
      if (row.integer_column(index, hint, v)) {
        field(obj) = TypeTraits<V>::from_ref(sql::ValueRef::integer(v));
        return;
      }
    } else if constexpr (std::is_same_v<V, std::string>) {
      std::string_view v;
      if (row.text_column(index, hint, v)) {
        F& f = field(obj);
        if constexpr (N::value) f.emplace(v);
        else f.assign(v);
        return;
      }
    }
    read(obj, row.column(index, hint));
  }
  void copy(void* dst, const void* src) const override { field(dst) = field(src); }
  detail::DirectField direct() const override { return detail::DirectField::of<F>(member_, base_); }

  // Snapshots: with a to_ref(), the value's kind is known here, so the cell is written and
  // compared without a ValueRef passed through a virtual call (ref()) and a switch on its kind.
  std::size_t snapshot_bytes(const void* obj) const override {
    if constexpr (sql::has_to_ref<V>) {
      const F& f = field(obj);
      if constexpr (N::value) {
        if (!f) return 0;
        return detail::snap_bytes_of(TypeTraits<V>::to_ref(*f));
      } else {
        return detail::snap_bytes_of(TypeTraits<V>::to_ref(f));
      }
    } else {
      return FieldAccess::snapshot_bytes(obj);
    }
  }
  void capture(const void* obj, detail::SnapCell& cell, char*& text) const override {
    if constexpr (sql::has_to_ref<V>) {
      const F& f = field(obj);
      if constexpr (N::value) {
        if (!f) return detail::put_cell(cell, sql::ValueRef(), text);
        detail::put_cell(cell, TypeTraits<V>::to_ref(*f), text);
      } else {
        detail::put_cell(cell, TypeTraits<V>::to_ref(f), text);
      }
    } else {
      FieldAccess::capture(obj, cell, text);
    }
  }
  bool same(const void* obj, const detail::SnapCell& cell) const override {
    if constexpr (sql::has_to_ref<V>) {
      const F& f = field(obj);
      if constexpr (N::value) {
        if (!f) return cell.kind == sql::ValueKind::null;
        return cell.same(TypeTraits<V>::to_ref(*f));
      } else {
        return cell.same(TypeTraits<V>::to_ref(f));
      }
    } else {
      return FieldAccess::same(obj, cell);
    }
  }

 private:
  F& field(void* obj) const noexcept { return base_(obj)->*member_; }
  // The object is only read through the result (base_ takes void* to serve both).
  const F& field(const void* obj) const noexcept { return base_(const_cast<void*>(obj))->*member_; }
  static sql::ValueRef one(const V& v, sql::Value& scratch) {
    if constexpr (sql::has_to_ref<V>) {
      return TypeTraits<V>::to_ref(v);
    } else {
      scratch = TypeTraits<V>::to_value(v);
      return scratch.ref();
    }
  }
  F ModelBase::*member_;
  ModelBase* (*base_)(void*);
  const Mapper* mapper_;
  std::string column_;
};

/// The field access of a column of field type F (one instantiation per F, not per column).
template <class F>
std::unique_ptr<FieldAccess> make_field_access(F ModelBase::*member, ModelBase* (*base)(void*), const Mapper& m,
                                               std::string_view column) {
  return std::make_unique<FieldAccessImpl<F>>(member, base, &m, std::string(column));
}

#if defined(ALCHEMY_SEPARATE_COMPILATION)
// With separate compilation, the field accesses of the column types alchemy maps itself are
// instantiated once, in the unit of <alchemy/src.hpp>: a user's unit declares them (extern
// template) instead of compiling a dozen virtual functions per type again. Other types (the
// user's own TypeTraits) are instantiated where they are used, as in header-only mode.
#if ALCHEMY_IMPL
#define ALCHEMY_DETAIL_FIELD_ACCESS(...)                                                        \
  template class FieldAccessImpl<__VA_ARGS__>;                                                 \
  template class FieldAccessImpl<std::optional<__VA_ARGS__>>;                                  \
  template std::unique_ptr<FieldAccess> make_field_access<__VA_ARGS__>(                        \
      __VA_ARGS__ ModelBase::*, ModelBase* (*)(void*), const Mapper&, std::string_view);       \
  template std::unique_ptr<FieldAccess> make_field_access<std::optional<__VA_ARGS__>>(         \
      std::optional<__VA_ARGS__> ModelBase::*, ModelBase* (*)(void*), const Mapper&, std::string_view);
#else
#define ALCHEMY_DETAIL_FIELD_ACCESS(...)                                                        \
  extern template class FieldAccessImpl<__VA_ARGS__>;                                          \
  extern template class FieldAccessImpl<std::optional<__VA_ARGS__>>;                           \
  extern template std::unique_ptr<FieldAccess> make_field_access<__VA_ARGS__>(                 \
      __VA_ARGS__ ModelBase::*, ModelBase* (*)(void*), const Mapper&, std::string_view);       \
  extern template std::unique_ptr<FieldAccess> make_field_access<std::optional<__VA_ARGS__>>(  \
      std::optional<__VA_ARGS__> ModelBase::*, ModelBase* (*)(void*), const Mapper&, std::string_view);
#endif
ALCHEMY_DETAIL_FIELD_ACCESS(bool)
ALCHEMY_DETAIL_FIELD_ACCESS(signed char)
ALCHEMY_DETAIL_FIELD_ACCESS(unsigned char)
ALCHEMY_DETAIL_FIELD_ACCESS(short)
ALCHEMY_DETAIL_FIELD_ACCESS(unsigned short)
ALCHEMY_DETAIL_FIELD_ACCESS(int)
ALCHEMY_DETAIL_FIELD_ACCESS(unsigned int)
ALCHEMY_DETAIL_FIELD_ACCESS(long)
ALCHEMY_DETAIL_FIELD_ACCESS(long long)
ALCHEMY_DETAIL_FIELD_ACCESS(float)
ALCHEMY_DETAIL_FIELD_ACCESS(double)
ALCHEMY_DETAIL_FIELD_ACCESS(std::string)
ALCHEMY_DETAIL_FIELD_ACCESS(Blob)
ALCHEMY_DETAIL_FIELD_ACCESS(Date)
ALCHEMY_DETAIL_FIELD_ACCESS(DateTime)
#undef ALCHEMY_DETAIL_FIELD_ACCESS
#endif  // ALCHEMY_SEPARATE_COMPILATION

/// Applies column options to a column: `options` is a std::tuple<const Options&...>.
template <class... Options>
void apply_options(sql::Column& c, const void* options) {
  std::apply([&](const auto&... x) { (x.apply(c), ...); }, *static_cast<const std::tuple<const Options&...>*>(options));
}

/// mapper_of<T>()'s model-independent part: the table name (`table`, or the class name in
/// snake_case as Flask-SQLAlchemy makes it), the bind key, and the list of all mappers.
ALCHEMY_INLINE void register_mapper(Mapper& m, std::string_view table, std::string_view bind_key);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE void register_mapper(Mapper& m, std::string_view table, std::string_view bind_key) {
  m.table().set_name(table.empty() ? snake_case(m.class_name()) : std::string(table));
  if (!bind_key.empty()) m.set_bind_key(std::string(bind_key));
  all_mappers().push_back(&m);
}

#endif  // ALCHEMY_IMPL

/// register_column's model-independent part: the column `field` of type `type`, NOT NULL unless
/// `nullable`, with `apply(column, options)` applying its options, is added to `m` with the field
/// access `make_access(member, column name)` builds. Returns the column's index.
ALCHEMY_INLINE std::size_t add_column(Mapper& m, std::string_view field, sql::SqlType type, bool nullable,
                                      void (*apply)(sql::Column&, const void*), const void* options,
                                      bool explicit_autoinc, std::unique_ptr<FieldAccess> access);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::size_t add_column(Mapper& m, std::string_view field, sql::SqlType type, bool nullable,
                                      void (*apply)(sql::Column&, const void*), const void* options,
                                      bool explicit_autoinc, std::unique_ptr<FieldAccess> access) {
  sql::Column c;
  c.name = std::string(field);
  c.type = type;
  c.nullable = nullable;
  apply(c, options);
  if (c.primary_key && c.nullable)
    throw ArgumentError("model " + m.class_name() + ": primary key column '" + c.name +
                        "' cannot be a std::optional");
  return m.add(std::move(c), std::move(access), explicit_autoinc);
}

ALCHEMY_INLINE void null_into_field(const std::string& model, const std::string& column) {
  throw DataError(DatabaseErrorInfo{"column '" + column + "' of " + model +
                                        " is NULL in the database, but its field is not a std::optional",
                                    {}, {}, 0, "alchemy", false, Constraint::not_null});
}
#endif  // ALCHEMY_IMPL

template <class T, class F, class... Options>
Column<T, F> register_column(std::string_view field, F T::*member, const Options&... options) {
  using V = typename sql::Nullable<F>::value_type;
  static_assert(ColumnValue<V>,
                "alchemy: no TypeTraits for this column's C++ type; specialise alchemy::TypeTraits<T>");
  static_assert((ColumnOption<Options> && ...),
                "alchemy: ALCHEMY_COLUMN takes column options after the name (alchemy::primary_key, "
                "alchemy::String(n), alchemy::unique, ...)");
  static_assert(std::is_default_constructible_v<T>,
                "alchemy: a model needs a default constructor (rows are loaded into new objects)");
  auto& m = mapper_of<T>();
  // Only what depends on the model and the field's type is instantiated here, per column: the
  // field access is per type (FieldAccessImpl<F>), the options per option list, the rest is
  // add_column's.
  const std::tuple<const Options&...> opts(options...);
  const std::size_t index = add_column(
      m, field, TypeTraits<V>::sql_type, sql::Nullable<F>::value, &apply_options<Options...>, &opts,
      (std::is_same_v<Options, Autoincrement> || ...),
      make_field_access<F>(static_cast<F ModelBase::*>(member), &model_base<T>, m, field));
  // Options that act on objects (default_, onupdate) register with the mapper.
  const auto attach = [&](const auto& o) {
    if constexpr (requires { o.template attach<T, F>(m, index, member); }) o.template attach<T, F>(m, index, member);
  };
  (attach(options), ...);
  (void)attach;
  return Column<T, F>(index);
}

}  // namespace orm::detail

/// The mapping of model T, built at program start by its column declarations.
template <class T>
orm::Mapper& mapper_of() {
  static orm::Mapper& m = [] () -> orm::Mapper& {
    static orm::Mapper mapper(orm::detail::class_name<T>());
    std::string_view table, bind_key;
    if constexpr (requires { T::alchemy_tablename; }) table = T::alchemy_tablename;
    if constexpr (requires { T::alchemy_bind_key; }) bind_key = T::alchemy_bind_key;
    mapper.repr = [](const void* obj) { return orm::detail::repr_of(*static_cast<const T*>(obj)); };
    mapper.new_node = &orm::detail::make_empty_node<T>;
    orm::detail::register_mapper(mapper, table, bind_key);
    return mapper;
  }();
  return m;
}

/// A transient model object created the way the session creates them, for code that wants a
/// shared_ptr before add(): `auto a = alchemy::make<Account>("jdoe", "pw"); session.add(a);`
template <ModelType T, class... Args>
std::shared_ptr<T> make(Args&&... args) {
  return orm::detail::object_ptr<T>(orm::detail::make_node<T>(T(std::forward<Args>(args)...)));
}

/// The lifecycle state of a model object.
template <ModelType T>
ObjectState inspect_state(const T& obj) {
  const auto* st = orm::detail::state_of(obj);
  return st ? st->state : ObjectState::transient;
}

}  // namespace alchemy

/// The table name of a model (default: the class name in snake_case, as Flask-SQLAlchemy).
#define ALCHEMY_TABLENAME(table) static constexpr ::std::string_view alchemy_tablename = table

/// The SQLALCHEMY_BINDS key whose engine holds this model's table.
#define ALCHEMY_BIND_KEY(key) static constexpr ::std::string_view alchemy_bind_key = key

/// Declares field `name` of type `Type` and its column handle `name_`. See the file comment.
#define ALCHEMY_COLUMN(Type, name, ...)                                                          \
  Type name{};                                                                                   \
  static inline const ::alchemy::Column<alchemy_model_type, Type> name##_ =                      \
      ::alchemy::orm::detail::register_column<alchemy_model_type, Type>(                         \
          #name, &alchemy_model_type::name __VA_OPT__(, ) __VA_ARGS__)

template <class T>
  requires alchemy::ModelType<T>
struct fmt::formatter<T> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const T& obj, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(alchemy::orm::detail::repr_of(obj), ctx);
  }
};

template <class T>
  requires alchemy::ModelType<T>
struct fmt::formatter<std::shared_ptr<T>> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const std::shared_ptr<T>& obj, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(obj ? alchemy::orm::detail::repr_of(*obj) : "None", ctx);
  }
};

#endif  // ALCHEMY_ORM_MODEL_HPP_
