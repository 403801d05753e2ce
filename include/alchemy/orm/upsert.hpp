// SPDX-License-Identifier: MIT
// File: orm/upsert.hpp
//
// What an upsert does on a conflict: alchemy::on_conflict(unique columns...) followed by
// do_update(columns...) or do_nothing(). Session::upsert compiles it to
// INSERT ... ON CONFLICT (cols) DO UPDATE SET ... / DO NOTHING on SQLite and PostgreSQL, and to
// INSERT ... ON DUPLICATE KEY UPDATE ... on MySQL.
//
//   db.session.upsert(Account{"jdoe", "key"},
//                     alchemy::on_conflict(Account::handle_).do_update(Account::secret_key_));
//   db.session.upsert(Account{"jdoe"}, alchemy::on_conflict(Account::handle_).do_nothing());
#ifndef ALCHEMY_ORM_UPSERT_HPP_
#define ALCHEMY_ORM_UPSERT_HPP_

#include <cstddef>
#include <vector>

#include "alchemy/orm/column.hpp"

namespace alchemy {

/// The conflict target and action of an upsert over model M.
template <class M>
class OnConflict {
 public:
  enum class Action { unset, update, update_all, nothing };

  explicit OnConflict(std::vector<std::size_t> target) : target_(std::move(target)) {}

  /// On a conflict, set these columns to the values the INSERT proposed.
  template <class F, class... Rest>
  OnConflict do_update(const Column<M, F>& first, const Rest&... rest) const {
    static_assert((std::is_same_v<typename Rest::model_type, M> && ...),
                  "alchemy: do_update() takes columns of the upserted model");
    OnConflict c = *this;
    c.action_ = Action::update;
    c.update_ = {first.index(), rest.index()...};
    return c;
  }
  /// On a conflict, set every inserted column but the conflict columns and the primary key.
  OnConflict do_update() const {
    OnConflict c = *this;
    c.action_ = Action::update_all;
    c.update_.clear();
    return c;
  }
  /// On a conflict, leave the existing row as it is.
  OnConflict do_nothing() const {
    OnConflict c = *this;
    c.action_ = Action::nothing;
    c.update_.clear();
    return c;
  }

  Action action() const noexcept { return action_; }
  const std::vector<std::size_t>& target() const noexcept { return target_; }
  const std::vector<std::size_t>& update() const noexcept { return update_; }

 private:
  std::vector<std::size_t> target_;
  std::vector<std::size_t> update_;
  Action action_ = Action::unset;
};

/// The unique columns whose conflict the upsert handles (MySQL: any unique key conflicts).
template <class M, class F, class... Rest>
OnConflict<M> on_conflict(const Column<M, F>& first, const Rest&... rest) {
  static_assert((std::is_same_v<typename Rest::model_type, M> && ...),
                "alchemy: on_conflict() takes columns of one model");
  return OnConflict<M>({first.index(), rest.index()...});
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_UPSERT_HPP_
