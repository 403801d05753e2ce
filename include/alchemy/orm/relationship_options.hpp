// SPDX-License-Identifier: MIT
// File: orm/relationship_options.hpp
//
// The options an ALCHEMY_RELATIONSHIP declaration takes after its name (orm/relationship.hpp):
//
//   ALCHEMY_RELATIONSHIP(std::vector<Post>, posts, alchemy::back_populates("author"),
//                        alchemy::cascade("all, delete-orphan"), alchemy::lazy_selectin);
//   ALCHEMY_RELATIONSHIP(std::vector<Tag>, tags, alchemy::secondary("post_tag"));
#ifndef ALCHEMY_ORM_RELATIONSHIP_OPTIONS_HPP_
#define ALCHEMY_ORM_RELATIONSHIP_OPTIONS_HPP_

#include <string>
#include <string_view>
#include <utility>

#include "alchemy/config.hpp"
#include "alchemy/error.hpp"
#include "alchemy/orm/detail/relationship_info.hpp"

namespace alchemy {

/// The partner relationship on the other model, kept in step in memory (SQLAlchemy's
/// back_populates; name it on both sides).
struct BackPopulates {
  std::string name;
  void apply(orm::RelationshipInfo& r) const { r.back_populates = name; }
};
inline BackPopulates back_populates(std::string partner) { return {std::move(partner)}; }

/// A many-to-many through the association table `table`, created by create_all() with two
/// columns: <owner table>_<key> and <target table>_<key> (or the names given), each a foreign
/// key ON DELETE CASCADE, together the primary key.
struct Secondary {
  std::string table, local, remote;
  void apply(orm::RelationshipInfo& r) const {
    r.secondary = table;
    r.secondary_local = local;
    r.secondary_remote = remote;
  }
};
inline Secondary secondary(std::string table, std::string local_column = {}, std::string remote_column = {}) {
  return {std::move(table), std::move(local_column), std::move(remote_column)};
}

/// SQLAlchemy's cascade string: "save-update", "delete", "delete-orphan", "all" (save-update,
/// delete), comma-separated: cascade("all, delete-orphan"). An unknown word is an ArgumentError.
struct Cascade {
  orm::CascadeFlags flags;
  void apply(orm::RelationshipInfo& r) const { r.cascade = flags; }
};
ALCHEMY_INLINE Cascade cascade(std::string_view spec);
inline constexpr Cascade cascade_all{{.save_update = true, .delete_ = true}};
inline constexpr Cascade cascade_all_delete_orphan{{.save_update = true, .delete_ = true, .delete_orphan = true}};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE Cascade cascade(std::string_view spec) {
  Cascade c;
  c.flags.save_update = false;
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    auto end = spec.find(',', pos);
    if (end == std::string_view::npos) end = spec.size();
    auto word = spec.substr(pos, end - pos);
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    if (word == "all") c.flags.save_update = c.flags.delete_ = true;
    else if (word == "save-update") c.flags.save_update = true;
    else if (word == "delete") c.flags.delete_ = true;
    else if (word == "delete-orphan") c.flags.delete_orphan = true;
    else if (word == "merge" || word == "expunge" || word == "refresh-expire" || word.empty()) {
    } else {
      throw ArgumentError("cascade(\"" + std::string(spec) + "\"): unknown cascade '" + std::string(word) +
                          "' (known: all, save-update, delete, delete-orphan)");
    }
    pos = end + 1;
  }
  return c;
}
#endif  // ALCHEMY_IMPL

/// How the relationship loads when nothing else is asked for (SQLAlchemy's lazy=).
struct LazyOption {
  orm::Lazy lazy;
  void apply(orm::RelationshipInfo& r) const { r.lazy = lazy; }
};
inline constexpr LazyOption lazy_select{orm::Lazy::select};
inline constexpr LazyOption lazy_selectin{orm::Lazy::selectin};
inline constexpr LazyOption lazy_joined{orm::Lazy::joined};
inline constexpr LazyOption lazy_raise{orm::Lazy::raise};
inline constexpr LazyOption lazy_noload{orm::Lazy::noload};

/// Deleting the owner leaves unloaded related rows to the database's ON DELETE CASCADE
/// (SQLAlchemy's passive_deletes=True): no SELECT to find them.
struct PassiveDeletes {
  void apply(orm::RelationshipInfo& r) const { r.passive_deletes = true; }
};
inline constexpr PassiveDeletes passive_deletes{};

/// The foreign key column to follow, "table.column", when several link the two models.
struct ForeignKeys {
  std::string column;
  void apply(orm::RelationshipInfo& r) const { r.foreign_key = column; }
};
inline ForeignKeys foreign_keys(std::string table_dot_column) { return {std::move(table_dot_column)}; }

template <class O>
concept RelationshipOption = requires(const O& o, orm::RelationshipInfo& r) { o.apply(r); };

}  // namespace alchemy

#endif  // ALCHEMY_ORM_RELATIONSHIP_OPTIONS_HPP_
