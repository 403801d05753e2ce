// SPDX-License-Identifier: MIT
// File: engine/result.hpp
//
// The rows of a raw SQL statement (session.execute(text(...))), read in full when it runs, and
// its row count. A Row gives its values by index and by column name, converted to C++ types
// through TypeTraits<T>; std::optional<T> reads NULL.
//
//   auto r = db.session.execute(alchemy::text("SELECT id, handle FROM accounts"));
//   for (const auto& row : r) fmt::print("{} {}\n", row.get<int64_t>("id"), row.get<std::string>(1));
//   auto n = db.session.execute(alchemy::text("SELECT count(*) FROM accounts")).scalar<int64_t>();
#ifndef ALCHEMY_ENGINE_RESULT_HPP_
#define ALCHEMY_ENGINE_RESULT_HPP_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/dialect/driver.hpp"
#include "alchemy/error.hpp"
#include "alchemy/sql/type_traits.hpp"
#include "alchemy/sql/value.hpp"

namespace alchemy {

namespace engine::detail {
template <class T>
T convert(const sql::Value& v, std::string_view column) {
  if constexpr (sql::Nullable<T>::value) {
    if (v.is_null()) return std::nullopt;
    return convert<typename sql::Nullable<T>::value_type>(v, column);
  } else {
    static_assert(ColumnValue<T>, "alchemy: Row::get<T>() needs a type with TypeTraits<T>");
    if (v.is_null())
      throw DataError(DatabaseErrorInfo{"column '" + std::string(column) +
                                            "' is NULL; read it as std::optional<T>",
                                        {}, {}, 0, "alchemy", false, Constraint::unknown});
    return TypeTraits<T>::from_ref(v.ref());
  }
}
}  // namespace engine::detail

/// One row of a Result.
class Row {
 public:
  Row(std::shared_ptr<const std::vector<std::string>> keys, std::vector<sql::Value> values)
      : keys_(std::move(keys)), values_(std::move(values)) {}

  std::size_t size() const noexcept { return values_.size(); }
  /// The column names, in order.
  const std::vector<std::string>& keys() const noexcept { return *keys_; }

  /// The value of column `i` (0-based) as T; std::optional<T> for a column that may be NULL.
  template <class T>
  T get(std::size_t i) const {
    return engine::detail::convert<T>(at(i), (*keys_)[i]);
  }
  /// The value of the column named `name` as T.
  template <class T>
  T get(std::string_view name) const {
    return engine::detail::convert<T>(values_[index_of(name)], name);
  }
  /// The raw value of column `i`, as the driver returned it.
  const sql::Value& operator[](std::size_t i) const { return at(i); }
  const sql::Value& operator[](std::string_view name) const { return values_[index_of(name)]; }
  bool is_null(std::size_t i) const { return at(i).is_null(); }
  bool is_null(std::string_view name) const { return values_[index_of(name)].is_null(); }

  /// The index of the column named `name`; InvalidRequestError when there is none.
  std::size_t index_of(std::string_view name) const {
    for (std::size_t i = 0; i < keys_->size(); ++i)
      if ((*keys_)[i] == name) return i;
    throw InvalidRequestError("Could not locate column in row for column '" + std::string(name) + "'");
  }

 private:
  const sql::Value& at(std::size_t i) const {
    if (i >= values_.size())
      throw InvalidRequestError("column index " + std::to_string(i) + " out of range for a row of " +
                                std::to_string(values_.size()) + " columns");
    return values_[i];
  }
  std::shared_ptr<const std::vector<std::string>> keys_;
  std::vector<sql::Value> values_;
};

/// What a raw statement returned: its rows (read in full) and, for INSERT / UPDATE / DELETE,
/// the number of rows it matched.
class Result {
 public:
  Result() = default;

  /// Reads every row of an executed statement. The caller resets the statement afterwards.
  static Result read(dialect::Statement& st);

  /// Whether the statement returned rows (a SELECT, or RETURNING).
  bool returns_rows() const noexcept { return returns_rows_; }
  /// Rows matched by an INSERT, UPDATE or DELETE; -1 for a statement that returns rows.
  std::int64_t rowcount() const noexcept { return rowcount_; }
  /// The column names.
  const std::vector<std::string>& keys() const noexcept { return *keys_; }

  const std::vector<Row>& all() const noexcept { return rows_; }
  std::size_t size() const noexcept { return rows_.size(); }
  bool empty() const noexcept { return rows_.empty(); }
  auto begin() const noexcept { return rows_.begin(); }
  auto end() const noexcept { return rows_.end(); }

  /// The first row, or nothing.
  std::optional<Row> first() const {
    if (rows_.empty()) return std::nullopt;
    return rows_.front();
  }
  /// Exactly one row; NoResultFound or MultipleResultsFound otherwise.
  const Row& one() const {
    if (rows_.empty()) throw NoResultFound("No row was found when one was required");
    if (rows_.size() > 1) throw MultipleResultsFound("Multiple rows were found when exactly one was required");
    return rows_.front();
  }
  /// One row or nothing; MultipleResultsFound when there are several.
  std::optional<Row> one_or_none() const {
    if (rows_.size() > 1) throw MultipleResultsFound("Multiple rows were found when exactly one was required");
    return first();
  }
  /// The first column of the first row as T. With no row: std::nullopt for an optional T,
  /// NoResultFound otherwise.
  template <class T>
  T scalar() const {
    if (rows_.empty()) {
      if constexpr (sql::Nullable<T>::value) return std::nullopt;
      else throw NoResultFound("scalar(): the statement returned no row");
    }
    return rows_.front().get<T>(0);
  }

 private:
  std::shared_ptr<const std::vector<std::string>> keys_ = std::make_shared<std::vector<std::string>>();
  std::vector<Row> rows_;
  std::int64_t rowcount_ = -1;
  bool returns_rows_ = false;
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE Result Result::read(dialect::Statement& st) {
  Result r;
  const int n = st.column_count();
  r.returns_rows_ = n > 0;
  auto keys = std::make_shared<std::vector<std::string>>();
  for (int i = 0; i < n; ++i) keys->push_back(st.column_name(i));
  r.keys_ = keys;
  if (!r.returns_rows_) {
    r.rowcount_ = st.affected_rows();
    return r;
  }
  while (st.next()) {
    std::vector<sql::Value> values;
    values.reserve(static_cast<std::size_t>(n));
    // Text is the neutral hint: drivers hand over their native kind, PostgreSQL its text form;
    // Row::get<T> converts either.
    for (int i = 0; i < n; ++i) values.emplace_back(st.column(i, sql::TypeKind::text));
    r.rows_.emplace_back(keys, std::move(values));
  }
  return r;
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy

#endif  // ALCHEMY_ENGINE_RESULT_HPP_
