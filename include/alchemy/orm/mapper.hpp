// SPDX-License-Identifier: MIT
// File: orm/mapper.hpp
//
// A Mapper ties a model class to its table: the sql::Table, type-erased access to each
// field, the key columns, and the SQL of the fixed-shape statements (get, insert, update and
// delete by key), compiled once per dialect. Mappers are built by the column macros when the
// program starts; every model registers itself, so create_all() finds them all.
#ifndef ALCHEMY_ORM_MAPPER_HPP_
#define ALCHEMY_ORM_MAPPER_HPP_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/dialect/dialect.hpp"
#include "alchemy/dialect/driver.hpp"
#include "alchemy/error.hpp"
#include "alchemy/orm/detail/direct_field.hpp"
#include "alchemy/orm/detail/hooks.hpp"
#include "alchemy/orm/detail/relationship_info.hpp"
#include "alchemy/orm/detail/snapshot_cell.hpp"
#include "alchemy/sql/schema.hpp"
#include "alchemy/sql/type_traits.hpp"

namespace alchemy {
class Session;
}  // namespace alchemy

namespace alchemy::orm::detail {
class NodePool;
}  // namespace alchemy::orm::detail

namespace alchemy::orm {

/// Reads and writes one field of a model object, whatever its C++ type.
class FieldAccess {
 public:
  virtual ~FieldAccess() = default;
  /// The field as a borrowed value; `scratch` keeps a converted copy alive when needed.
  virtual sql::ValueRef ref(const void* obj, sql::Value& scratch) const = 0;
  virtual sql::Value get(const void* obj) const = 0;
  /// Stores a value read from the database (NULL into a non-optional field is a DataError).
  virtual void read(void* obj, sql::ValueRef v) const = 0;
  /// read() of result column `index` of `row`'s current row (whose column type is `hint`).
  /// Fields of a type the driver can hand over directly override it (the session loads every
  /// row through it).
  virtual void read_column(void* obj, dialect::Statement& row, int index, sql::TypeKind hint) const {
    read(obj, row.column(index, hint));
  }
  virtual void set(void* obj, const sql::Value& v) const { read(obj, v.ref()); }
  virtual void copy(void* dst, const void* src) const = 0;
  /// The field as the session reads and compares it without these virtual calls, when its
  /// type allows (orm/detail/direct_field.hpp); kind none otherwise. Asked once, by Mapper::add.
  virtual detail::DirectField direct() const { return {}; }

  // Snapshots (orm/detail/snapshot.hpp): the text or blob bytes the field's value takes in a
  // snapshot, writing its cell (the bytes at `text`, which moves past them), and whether the
  // field still holds the cell's value, compared as the database would store it. These go
  // through ref(); field types whose value has a to_ref() do the same without the call.
  virtual std::size_t snapshot_bytes(const void* obj) const {
    sql::Value scratch;
    return detail::snap_bytes_of(ref(obj, scratch));
  }
  virtual void capture(const void* obj, detail::SnapCell& cell, char*& text) const {
    sql::Value scratch;
    detail::put_cell(cell, ref(obj, scratch), text);
  }
  virtual bool same(const void* obj, const detail::SnapCell& cell) const {
    sql::Value scratch;
    return cell.same(ref(obj, scratch));
  }
};

class Mapper;

/// SQL of the statements whose shape depends only on the model, for one dialect.
struct MapperSql {
  std::string select_by_key;
  std::string insert_with_key;     ///< every column
  std::string insert_without_key;  ///< every column but the generated key
  std::string delete_by_key;
  std::unordered_map<std::uint64_t, std::string> update_by_mask;  ///< changed columns → UPDATE
  /// Multi-row statements by (rows << 2 | what): INSERT with key (0), without it (1), DELETE IN (2).
  std::unordered_map<std::uint64_t, std::string> multirow;
};

/// A model class's mapping.
class Mapper {
 public:
  explicit Mapper(std::string class_name);
  Mapper(const Mapper&) = delete;
  Mapper& operator=(const Mapper&) = delete;
  ~Mapper();

  const std::string& class_name() const noexcept { return class_name_; }
  const sql::Table& table() const noexcept { return table_; }
  sql::Table& table() noexcept { return table_; }
  const std::string& bind_key() const noexcept { return bind_key_; }
  void set_bind_key(std::string key) { bind_key_ = std::move(key); }

  std::size_t column_count() const noexcept { return access_.size(); }
  const sql::Column& column(std::size_t i) const noexcept { return *table_.columns()[i]; }
  const FieldAccess& access(std::size_t i) const noexcept { return *access_[i]; }
  /// Column i's field for the session's row loading, snapshots and change detection: kind
  /// none means through access(i).
  const detail::DirectField& direct(std::size_t i) const noexcept { return direct_[i]; }
  /// A model object as the ModelBase its direct fields are reached from (null when the
  /// model's field accesses gave no way to reach it; then no column is direct).
  const ModelBase* model_base(const void* obj) const noexcept {
    return base_ ? base_(const_cast<void*>(obj)) : nullptr;
  }
  ModelBase* model_base(void* obj) const noexcept { return base_ ? base_(obj) : nullptr; }
  const std::vector<std::size_t>& key_columns() const noexcept { return key_; }
  /// The columns whose values are text or bytes (the ones whose snapshot cell has a length).
  const std::vector<std::size_t>& byte_columns() const noexcept { return byte_columns_; }
  /// The column the database generates (an autoincrement key), or -1.
  int generated_key() const noexcept { return generated_; }
  /// The version counter column (alchemy::version_id), or -1.
  int version_column() const noexcept { return version_; }

  /// The column named `name`, or nullptr.
  const sql::Column* find(std::string_view name) const noexcept { return table_.find(name); }

  /// Adds a column with its field access. Called by the column macros at program start.
  std::size_t add(sql::Column column, std::unique_ptr<FieldAccess> access, bool explicit_autoinc);

  /// The fixed-shape statements for `dialect`, compiled on first use. After that, a lookup is
  /// a few loads without the lock (it runs once per row the session reads or writes).
  MapperSql& sql_for(const dialect::Dialect& dialect) const {
    for (const auto& f : fast_)
      if (f.dialect.load(std::memory_order_acquire) == &dialect) return *f.sql;
    return compile_for(dialect);
  }

  /// UPDATE ... SET <columns in mask> WHERE key, compiled once per mask and dialect.
  const std::string& update_sql(const dialect::Dialect& dialect, std::uint64_t mask) const;

  /// INSERT of `rows` rows with every column (`with_key`) or all but the generated key, which
  /// then comes back through RETURNING where the dialect has it (one row per VALUES row, in
  /// their order); compiled once per row count and dialect.
  const std::string& insert_rows_sql(const dialect::Dialect& dialect, bool with_key, std::size_t rows) const;

  /// DELETE ... WHERE key IN (rows placeholders), for a single-column key.
  const std::string& delete_rows_sql(const dialect::Dialect& dialect, std::size_t rows) const;

  // --- Relationships (orm/relationship.hpp) ---------------------------------------------------
  /// Adds a relationship. Called by ALCHEMY_RELATIONSHIP at program start.
  std::size_t add_relationship(std::unique_ptr<RelationshipInfo> r);
  /// The relationships, resolved against the foreign keys of every model on first use
  /// (orm/detail/relationship_config.hpp says how).
  const std::vector<std::unique_ptr<RelationshipInfo>>& relationships() const;
  /// The relationships as declared, for the resolver.
  const std::vector<std::unique_ptr<RelationshipInfo>>& relationships_unconfigured() const noexcept {
    return relationships_;
  }
  /// Whether the model declares relationships (without resolving them).
  bool has_relationships() const noexcept { return !relationships_.empty(); }
  /// The relationship named `name`, or nullptr.
  const RelationshipInfo* find_relationship(std::string_view name) const {
    for (const auto& r : relationships())
      if (r->name == name) return r.get();
    return nullptr;
  }

  /// Type-erased object operations, set by the model.
  std::string (*repr)(const void* obj) = nullptr;
  /// A new node holding a default-constructed object of this model, for a row being loaded
  /// (Session::load_row, which knows the model only at run time), from `pool` (null: the heap).
  std::shared_ptr<InstanceState> (*new_node)(detail::NodePool* pool) = nullptr;
  /// Event listeners, validators, defaults and onupdate values (orm/events.hpp, orm/options.hpp).
  MapperHooks hooks;

 private:
  /// sql_for()'s first use of `dialect`: compiles and publishes under the lock.
  MapperSql& compile_for(const dialect::Dialect& dialect) const;
  void resolve_keys();

  std::unique_ptr<MapperSql> compile(const dialect::Dialect& dialect) const;

  std::string class_name_;
  sql::Table table_;
  std::vector<std::unique_ptr<FieldAccess>> access_;
  std::vector<detail::DirectField> direct_;  // one per column, from access_[i]->direct()
  ModelBase* (*base_)(void*) = nullptr;
  std::vector<bool> explicit_autoinc_;
  std::vector<std::size_t> key_;
  std::vector<std::size_t> byte_columns_;
  int generated_ = -1;
  int version_ = -1;
  std::string bind_key_;
  std::vector<std::unique_ptr<RelationshipInfo>> relationships_;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<const dialect::Dialect*, std::unique_ptr<MapperSql>> cache_;
  struct FastSlot {  // written under cache_mutex_, read without it
    std::atomic<const dialect::Dialect*> dialect{nullptr};
    MapperSql* sql = nullptr;
  };
  mutable FastSlot fast_[4];  // a program uses one dialect or a few; more go through cache_
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE Mapper::Mapper(std::string class_name) : class_name_(std::move(class_name)), table_("") {}
ALCHEMY_INLINE Mapper::~Mapper() = default;

ALCHEMY_INLINE std::size_t Mapper::add(sql::Column column, std::unique_ptr<FieldAccess> access, bool explicit_autoinc) {
  if (table_.find(column.name))
    throw ArgumentError("model " + class_name_ + " declares column '" + column.name + "' twice");
  if (column.version_id) {
    if (version_ >= 0)
      throw ArgumentError("model " + class_name_ + " declares a second version_id column '" +
                          column.name + "'");
    if (!sql::is_integer(column.type.kind) || column.primary_key)
      throw ArgumentError("model " + class_name_ + ": the version_id column '" + column.name +
                          "' must be an integer column outside the primary key");
    version_ = static_cast<int>(access_.size());
  }
  const bool bytes = detail::snap_has_bytes(sql::value_kind(column.type.kind));
  detail::DirectField direct = access->direct();
  if (direct.base) {
    if (!base_) base_ = direct.base;
    // One way to the ModelBase per model: a field access that brings another is not direct.
    if (direct.base != base_) direct.kind = detail::DirectField::Kind::none;
  } else {
    direct.kind = detail::DirectField::Kind::none;
  }
  table_.add_column(std::move(column));
  direct_.push_back(direct);
  access_.push_back(std::move(access));
  if (bytes) byte_columns_.push_back(access_.size() - 1);
  explicit_autoinc_.push_back(explicit_autoinc);
  resolve_keys();
  return access_.size() - 1;
}

ALCHEMY_INLINE const std::string& Mapper::update_sql(const dialect::Dialect& dialect, std::uint64_t mask) const {
  MapperSql& s = sql_for(dialect);
  std::lock_guard lock(cache_mutex_);
  auto it = s.update_by_mask.find(mask);
  if (it != s.update_by_mask.end()) return it->second;
  std::vector<const sql::Column*> set, key;
  for (std::size_t i = 0; i < access_.size(); ++i)
    if (mask & (std::uint64_t{1} << i)) set.push_back(&column(i));
  for (auto k : key_) key.push_back(&column(k));
  if (version_ >= 0) key.push_back(&column(std::size_t(version_)));  // ... AND version = old
  return s.update_by_mask.emplace(mask, dialect.compiler().update(table_, set, key)).first->second;
}

ALCHEMY_INLINE const std::string& Mapper::insert_rows_sql(const dialect::Dialect& dialect, bool with_key, std::size_t rows) const {
  MapperSql& s = sql_for(dialect);
  std::lock_guard lock(cache_mutex_);
  auto& out = s.multirow[(std::uint64_t(rows) << 2) | (with_key ? 0u : 1u)];
  if (out.empty()) {
    std::vector<const sql::Column*> cols, returning;
    for (std::size_t i = 0; i < access_.size(); ++i)
      if (with_key || static_cast<int>(i) != generated_) cols.push_back(&column(i));
    if (!with_key && generated_ >= 0 && dialect.insert_returning())
      returning.push_back(&column(std::size_t(generated_)));
    out = dialect.compiler().insert(table_, cols, returning, rows);
  }
  return out;
}

ALCHEMY_INLINE const std::string& Mapper::delete_rows_sql(const dialect::Dialect& dialect, std::size_t rows) const {
  MapperSql& s = sql_for(dialect);
  std::lock_guard lock(cache_mutex_);
  auto& out = s.multirow[(std::uint64_t(rows) << 2) | 2u];
  if (out.empty()) out = dialect.compiler().delete_many(table_, column(key_.at(0)), rows);
  return out;
}

ALCHEMY_INLINE MapperSql& Mapper::compile_for(const dialect::Dialect& dialect) const {
  std::lock_guard lock(cache_mutex_);
  auto& slot = cache_[&dialect];
  if (!slot) slot = compile(dialect);
  for (auto& f : fast_) {  // publish: sql first, then the dialect that makes it visible
    if (f.dialect.load(std::memory_order_relaxed) != nullptr) continue;
    f.sql = slot.get();
    f.dialect.store(&dialect, std::memory_order_release);
    break;
  }
  return *slot;
}

ALCHEMY_INLINE void Mapper::resolve_keys() {
  key_.clear();
  for (std::size_t i = 0; i < access_.size(); ++i)
    if (table_.columns()[i]->primary_key) key_.push_back(i);
  generated_ = -1;
  for (std::size_t i = 0; i < access_.size(); ++i) {
    sql::Column& c = *table_.columns()[i];
    // SQLAlchemy's autoincrement="auto": a single integer primary key is generated.
    const bool candidate = key_.size() == 1 && key_[0] == i && sql::is_integer(c.type.kind);
    c.autoincrement = candidate && (explicit_autoinc_[i] ? c.autoincrement : true);
    if (c.autoincrement) generated_ = static_cast<int>(i);
  }
}

ALCHEMY_INLINE std::unique_ptr<MapperSql> Mapper::compile(const dialect::Dialect& dialect) const {
  if (key_.empty())
    throw ArgumentError("model " + class_name_ + " (table '" + table_.name() +
                        "') has no primary key; mark a column with alchemy::primary_key");
  const auto& c = dialect.compiler();
  auto s = std::make_unique<MapperSql>();
  std::vector<const sql::Column*> all, no_key, key;
  for (std::size_t i = 0; i < access_.size(); ++i) {
    all.push_back(&column(i));
    if (static_cast<int>(i) != generated_) no_key.push_back(&column(i));
  }
  for (auto k : key_) key.push_back(&column(k));
  sql::Select get;
  get.table = &table_;
  for (auto k : key_)
    get.where.push_back(sql::binary(sql::Op::eq, sql::column(column(k)), sql::bind(std::int64_t{0})));
  s->select_by_key = c.select(get).sql;
  std::vector<const sql::Column*> returning;
  if (generated_ >= 0 && dialect.insert_returning()) returning.push_back(&column(std::size_t(generated_)));
  s->insert_with_key = c.insert(table_, all);
  s->insert_without_key = c.insert(table_, no_key, returning);
  if (version_ >= 0) key.push_back(&column(std::size_t(version_)));  // ... AND version = old
  s->delete_by_key = c.delete_(table_, key);
  return s;
}
#endif  // ALCHEMY_IMPL

/// Every mapped model, in the order the program registered them.
inline std::vector<Mapper*>& all_mappers() {
  static std::vector<Mapper*> mappers;
  return mappers;
}

}  // namespace alchemy::orm

#include "alchemy/orm/detail/relationship_config.hpp"

#endif  // ALCHEMY_ORM_MAPPER_HPP_
