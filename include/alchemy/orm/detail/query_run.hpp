// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/session.hpp>.
//
// Sending a query's SELECT, the part that does not depend on its model. Query<T>'s object
// loads (orm/detail/query_core.hpp) and the loaders use it as it is; row and entity queries
// instantiate only the loop over the rows. With ALCHEMY_SEPARATE_COMPILATION the rest is
// compiled once, not again for every model (docs/performance.md, "Compile cost").
#ifndef ALCHEMY_ORM_DETAIL_QUERY_RUN_HPP_
#define ALCHEMY_ORM_DETAIL_QUERY_RUN_HPP_

#include <memory>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/orm/detail/from_check.hpp"
#if ALCHEMY_IMPL
#include "alchemy/sql/compiler.hpp"
#endif

namespace alchemy::sql::detail {
struct CompiledShape;
}  // namespace alchemy::sql::detail

namespace alchemy::orm::detail {

/// One SELECT sent on `m`'s connection: while this lives the session is marked in use by the
/// calling thread, and the statement (compiled once per shape, prepared, bound and run) is open
/// for reading rows. It is reset when this goes away. `s` must outlive it: SQLite binds its
/// values without copying them.
class QueryRun {
 public:
  /// A user's query autoflushes first and is checked against its FROM; a relationship loader's
  /// SELECT, built from the mapping, is sent as it is.
  enum class Kind { query, loader };

  QueryRun(Session& session, const Mapper& m, const sql::Select& s,
           sql::SelectForm form = sql::SelectForm::rows, Kind kind = Kind::query);
  ~QueryRun() { st_->reset(); }
  QueryRun(const QueryRun&) = delete;
  QueryRun& operator=(const QueryRun&) = delete;

  dialect::Statement& statement() noexcept { return *st_; }

 private:
  ThreadCheck::Guard guard_;
  std::shared_ptr<const sql::detail::CompiledShape> shape_;  ///< holds bound constants
  dialect::Statement* st_ = nullptr;
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE QueryRun::QueryRun(Session& session, const Mapper& m, const sql::Select& s, sql::SelectForm form,
                                  Kind kind)
    : guard_(session.use()) {
  if (kind == Kind::query) session.autoflush_for_query();
  auto& conn = session.connection_for(m);
  if (kind == Kind::query) check_from(s);  // only columns of its FROM
  std::vector<sql::ValueRef> params;  // SQL compiled once per statement shape
  shape_ = sql::compile_cached(session.conn_dialect(m).compiler(), s, form, params);
  auto& st = conn.prepare(shape_->sql);
  try {
    conn.run(st, params);
  } catch (...) {
    st.reset();
    throw;
  }
  st_ = &st;
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy::orm::detail

#endif  // ALCHEMY_ORM_DETAIL_QUERY_RUN_HPP_
