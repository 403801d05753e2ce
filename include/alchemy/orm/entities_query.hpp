// SPDX-License-Identifier: MIT
// File: orm/entities_query.hpp
//
// EntitiesQuery<T, Us...>: a joined query whose rows hold an object of T and one of each model U
// it joined (Query<T>::add_entity<U>()), as SQLAlchemy's session.query(Post, Author):
//
//   for (const auto& [post, author] : Post::query()
//                                         .outerjoin<Author>(Post::author_id_ == Author::id_)
//                                         .add_entity<Author>()
//                                         .all())
//     fmt::print("{} by {}\n", post->title, author ? author->name : "nobody");
//
// The objects come through the session's identity map, as Query<T>'s do: one object per key, an
// object already in the session comes back unchanged. On an outer join the missing side is null
// (its key columns are all NULL). A row that repeats the objects of an earlier row is left out,
// as Flask-SQLAlchemy's Query does; count() counts rows.
#ifndef ALCHEMY_ORM_ENTITIES_QUERY_HPP_
#define ALCHEMY_ORM_ENTITIES_QUERY_HPP_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "alchemy/orm/query.hpp"

namespace alchemy {

template <class T, class... Us>
class EntitiesQuery {
 public:
  using row_type = std::tuple<std::shared_ptr<T>, std::shared_ptr<Us>...>;

  /// Selects every column of T, then of each U, from `q`'s FROM.
  explicit EntitiesQuery(Query<T> q) : q_(std::move(q)) {
    auto& exprs = q_.stmt_.exprs;
    exprs.clear();
    const auto add = [&](const orm::Mapper& m) {
      for (const auto& c : m.table().columns()) exprs.push_back(sql::column(*c));
    };
    add(mapper_of<T>());
    (add(mapper_of<Us>()), ...);
  }

  /// As Query<T>'s: conditions, joins, order, limit, offset, distinct.
  template <class C, class... Cs>
  EntitiesQuery filter(const C& condition, const Cs&... rest) const {
    return EntitiesQuery(q_.filter(condition, rest...), keep);
  }
  template <class V, class... Rest>
  EntitiesQuery filter_by(std::string_view column, const V& value, const Rest&... rest) const {
    return EntitiesQuery(q_.filter_by(column, value, rest...), keep);
  }
  template <class V, class C>
  EntitiesQuery join(const C& on) const { return EntitiesQuery(q_.template join<V>(on), keep); }
  template <class V, class C>
  EntitiesQuery outerjoin(const C& on) const { return EntitiesQuery(q_.template outerjoin<V>(on), keep); }
  EntitiesQuery join_on(const sql::Table& table, sql::ExprPtr on, bool outer = false) const {
    return EntitiesQuery(q_.join_on(table, std::move(on), outer), keep);
  }
  template <class... Xs>
  EntitiesQuery order_by(const Xs&... xs) const { return EntitiesQuery(q_.order_by(xs...), keep); }
  EntitiesQuery limit(std::int64_t n) const { return EntitiesQuery(q_.limit(n), keep); }
  EntitiesQuery offset(std::int64_t n) const { return EntitiesQuery(q_.offset(n), keep); }
  EntitiesQuery distinct() const { return EntitiesQuery(q_.distinct(), keep); }

  /// One more joined model's object in each row.
  template <class V>
  EntitiesQuery<T, Us..., V> add_entity() const {
    static_assert(ModelType<V>, "alchemy: add_entity<U>() needs a model type");
    return EntitiesQuery<T, Us..., V>(q_);
  }

  /// Every row, each distinct tuple of objects once.
  std::vector<row_type> all(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return rows(q_.stmt_);
  }
  /// The first row (LIMIT 1), or nothing.
  std::optional<row_type> first(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    sql::Select s = q_.stmt_;
    s.limit = 1;
    auto r = rows(s);
    if (r.empty()) return std::nullopt;
    return std::move(r.front());
  }
  /// One row or nothing; MultipleResultsFound when there are several.
  std::optional<row_type> one_or_none(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    sql::Select s = q_.stmt_;
    if (s.joins.empty() && (!s.limit || *s.limit > 2)) s.limit = 2;  // see Query<T>::one_or_none
    auto r = rows(s);
    if (r.size() > 1) throw MultipleResultsFound("Multiple rows were found when exactly one was required");
    if (r.empty()) return std::nullopt;
    return std::move(r.front());
  }
  /// Exactly one row; NoResultFound or MultipleResultsFound otherwise.
  row_type one(SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    auto r = one_or_none();
    if (!r) throw NoResultFound("No row was found when one was required");
    return std::move(*r);
  }
  /// The number of rows (SELECT count(*) FROM (query)).
  std::int64_t count(SourceLocation where = SourceLocation::current()) const { return q_.count(where); }
  /// Whether the query returns any row.
  bool exists(SourceLocation where = SourceLocation::current()) const { return q_.exists(where); }

  /// The SQL this query runs, with placeholders.
  std::string statement() const { return q_.statement(); }
  const sql::Select& select() const noexcept { return q_.stmt_; }

 private:
  template <class, class...>
  friend class EntitiesQuery;

  static constexpr std::size_t width = 1 + sizeof...(Us);
  struct Keep {};
  static constexpr Keep keep{};
  EntitiesQuery(Query<T> q, Keep) : q_(std::move(q)) {}

  std::vector<row_type> rows(const sql::Select& s) const {
    // Where each model's columns start in the row.
    std::array<int, width> at{};
    const std::array<std::size_t, width> n{mapper_of<T>().column_count(), mapper_of<Us>().column_count()...};
    for (std::size_t i = 1; i < width; ++i) at[i] = at[i - 1] + int(n[i - 1]);
    std::vector<row_type> out;
    std::set<std::array<std::uintptr_t, width>> seen;
    q_.run(s, [&](dialect::Statement& row) {
      auto r = read(row, at, std::index_sequence_for<Us...>{});
      const auto id = std::apply(
          [](const auto&... p) {
            return std::array<std::uintptr_t, width>{reinterpret_cast<std::uintptr_t>(p.get())...};
          },
          r);
      if (seen.insert(id).second) out.push_back(std::move(r));
    });
    return out;
  }
  template <std::size_t... I>
  row_type read(dialect::Statement& row, const std::array<int, width>& at, std::index_sequence<I...>) const {
    return row_type{q_.template load<T>(row, 0), q_.template load<Us>(row, at[I + 1])...};
  }

  Query<T> q_;
};

template <class T>
template <class U>
auto Query<T>::add_entity() const {
  static_assert(ModelType<U>, "alchemy: add_entity<U>() needs a model type");
  return EntitiesQuery<T, U>(*this);
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_ENTITIES_QUERY_HPP_
