// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// Session::execute (raw SQL through text()), Session::upsert and Session::merge.
#ifndef ALCHEMY_ORM_DETAIL_EXECUTE_HPP_
#define ALCHEMY_ORM_DETAIL_EXECUTE_HPP_

#include "alchemy/config.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "alchemy/orm/upsert.hpp"

namespace alchemy {

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE Result Session::execute(const sql::TextClause& statement, const sql::Params& params) {
  const auto guard = use();
  autoflush_for_query();
  const auto compiled = engine_->dialect().compiler().text(statement.sql, params);
  auto& conn = connection_for(*engine_);
  auto& st = conn.prepare(compiled.sql);
  const dialect::ResetGuard reset(st);
  conn.run(st, sql::refs_of(compiled.params));
  return Result::read(st);
}

ALCHEMY_INLINE std::int64_t Session::upsert_rows(const orm::Mapper& m, const std::vector<const void*>& objs,
                                                const std::vector<std::size_t>& on_target,
                                                const std::vector<std::size_t>& on_update, bool update_all) {
  // The generated key is left to the database when every object leaves it at 0.
  const int gen = m.generated_key();
  std::size_t unset_keys = 0;
  if (gen >= 0)
    for (const void* o : objs) {
      const auto v = m.access(std::size_t(gen)).get(o);
      if (v.kind() == sql::ValueKind::integer && v.as_integer() == 0) ++unset_keys;
    }
  if (unset_keys != 0 && unset_keys != objs.size())
    throw ArgumentError("upsert(): either every object sets the primary key of " + m.class_name() +
                        " or none does");
  const bool skip_key = gen >= 0 && unset_keys == objs.size();
  std::vector<const sql::Column*> cols, target, update;
  std::vector<std::size_t> fields;
  for (std::size_t i = 0; i < m.column_count(); ++i) {
    if (skip_key && int(i) == gen) continue;
    cols.push_back(&m.column(i));
    fields.push_back(i);
  }
  for (auto i : on_target) target.push_back(&m.column(i));
  if (!update_all) {
    for (auto i : on_update) update.push_back(&m.column(i));
  } else {
    for (auto i : fields)
      if (!m.column(i).primary_key && std::find(on_target.begin(), on_target.end(), i) == on_target.end())
        update.push_back(&m.column(i));
  }
  std::vector<sql::Value> values;
  values.reserve(objs.size() * fields.size());
  for (const void* o : objs)
    for (auto i : fields) {
      auto v = m.access(i).get(o);
      if (v.is_null() && !m.column(i).nullable)
        throw ArgumentError("upsert(): column '" + m.column(i).name + "' of " + m.class_name() +
                            " is NOT NULL");
      values.push_back(std::move(v));
    }
  autoflush_for_query();
  Engine& e = engine_for(m);
  const auto sql = e.dialect().compiler().upsert(m.table(), cols, target, update, objs.size());
  auto& conn = connection_for(e);
  auto& st = conn.prepare(sql);
  const dialect::ResetGuard reset(st);
  conn.run(st, sql::refs_of(values));
  return st.affected_rows();
}

#endif  // ALCHEMY_IMPL
template <ModelType T>
std::int64_t Session::upsert(const T& obj, const OnConflict<T>& on) {
  return upsert(std::vector<T>{obj}, on);
}

template <ModelType T>
std::int64_t Session::upsert(const std::vector<T>& objs, const OnConflict<T>& on) {
  const auto guard = use();
  if (on.action() == OnConflict<T>::Action::unset)
    throw ArgumentError("upsert(): say what a conflict does: on_conflict(...).do_update(...) or "
                        ".do_nothing()");
  if (objs.empty()) return 0;
  std::vector<const void*> rows;
  rows.reserve(objs.size());
  for (const auto& o : objs) rows.push_back(&o);
  return upsert_rows(mapper_of<T>(), rows, on.target(), on.update(), on.action() == OnConflict<T>::Action::update_all);
}

template <ModelType T>
std::shared_ptr<T> Session::merge(const T& obj) {
  const auto guard = use();
  check_usable();
  const auto& m = mapper_of<T>();
  if (m.key_columns().size() != 1)
    throw InvalidRequestError("merge(): " + m.class_name() + " has a composite key");
  const std::size_t k = m.key_columns()[0];
  const auto key = m.access(k).get(&obj);
  const bool unset = key.is_null() || (int(k) == m.generated_key() && key.kind() == sql::ValueKind::integer &&
                                       key.as_integer() == 0);
  if (!unset) {
    if (auto existing = get<T>(key)) {
      if (existing.get() == &obj) return existing;
      for (std::size_t i = 0; i < m.column_count(); ++i)
        if (i != k) m.access(i).copy(existing.get(), &obj);
      return existing;
    }
  }
  return add(T(obj));
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_DETAIL_EXECUTE_HPP_
