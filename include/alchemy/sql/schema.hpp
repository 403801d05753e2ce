// SPDX-License-Identifier: MIT
// File: sql/schema.hpp
//
// Table and column metadata: what CREATE TABLE says and what the compiler names. The ORM's
// mapper builds one Table per model; nothing here knows about models.
#ifndef ALCHEMY_SQL_SCHEMA_HPP_
#define ALCHEMY_SQL_SCHEMA_HPP_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alchemy/sql/type_traits.hpp"

namespace alchemy::sql {

class Table;

/// What a foreign key does when the referenced row is deleted or updated.
enum class ReferentialAction { none, cascade, set_null, set_default, restrict, no_action };

/// `REFERENCES table (column)`, named by "table.column" in the model.
struct ForeignKeyRef {
  std::string table;
  std::string column;
  ReferentialAction on_delete = ReferentialAction::none;
  ReferentialAction on_update = ReferentialAction::none;
};

/// One column of a table.
struct Column {
  std::string name;
  SqlType type;
  bool nullable = true;
  bool primary_key = false;
  bool autoincrement = false;  ///< the database generates the key (single integer primary key)
  bool unique = false;
  bool index = false;
  bool version_id = false;     ///< the ORM's version counter (alchemy::version_id)
  /// DDL DEFAULT clause. Trusted SQL text: never build it from user input.
  std::optional<std::string> server_default;
  std::optional<ForeignKeyRef> foreign_key;
  const Table* table = nullptr;
  int position = 0;
};

/// A table: its name and columns, in declaration order.
class Table {
 public:
  explicit Table(std::string name) : name_(std::move(name)) {}
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  const std::string& name() const noexcept { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  Column& add_column(Column c) {
    c.table = this;
    c.position = static_cast<int>(columns_.size());
    columns_.push_back(std::make_unique<Column>(std::move(c)));
    return *columns_.back();
  }
  const std::vector<std::unique_ptr<Column>>& columns() const noexcept { return columns_; }
  const Column* find(std::string_view name) const noexcept {
    for (const auto& c : columns_)
      if (c->name == name) return c.get();
    return nullptr;
  }
  std::vector<const Column*> primary_key() const {
    std::vector<const Column*> pk;
    for (const auto& c : columns_)
      if (c->primary_key) pk.push_back(c.get());
    return pk;
  }

 private:
  std::string name_;
  std::vector<std::unique_ptr<Column>> columns_;
};

}  // namespace alchemy::sql

#endif  // ALCHEMY_SQL_SCHEMA_HPP_
