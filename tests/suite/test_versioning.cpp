// SPDX-License-Identifier: MIT
// The version counter (alchemy::version_id, SQLAlchemy's version_id_col): 1 on INSERT, +1 on
// every UPDATE, and every UPDATE or DELETE must still find the version it loaded, else
// StaleDataError. Concurrent writers are a second engine (its own pool and connections).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <alchemy/alchemy.hpp>

#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_versioning {

using Catch::Matchers::Contains;

namespace {

struct Doc : alchemy::Model<Doc> {
  ALCHEMY_TABLENAME("ver_docs");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, title, alchemy::String(100));
  ALCHEMY_COLUMN(int64_t, version, alchemy::version_id);

  Doc() = default;
  explicit Doc(std::string t) : title(std::move(t)) {}
};

/// (title, version) of every row, by id, read through a second engine.
std::vector<std::pair<std::string, std::int64_t>> stored() {
  alchemy::Session s(alchemy::create_engine(test::url()));
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& d : s.query<Doc>().order_by(Doc::id_).all()) out.emplace_back(d->title, d->version);
  return out;
}

using Rows = std::vector<std::pair<std::string, std::int64_t>>;

}  // namespace

TEST_CASE("version_id is 1 after INSERT and grows by one with each UPDATE", "[suite][versioning]") {
  test::Recorder rec;
  auto db = test::fresh_db<Doc>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Doc("a"));
  auto b = s.add(Doc("b"));
  a->version = 42;  // the session owns the counter: whatever the object held, INSERT writes 1
  s.commit();
  CHECK(a->version == 1);
  CHECK(b->version == 1);
  CHECK(stored() == Rows{{"a", 1}, {"b", 1}});

  rec.clear();
  a->title = "a2";
  s.commit();
  CHECK(a->version == 2);
  CHECK(b->version == 1);
  const auto sql = rec.sql();
  REQUIRE(sql.size() == 1);
  CHECK_THAT(sql[0], Contains("UPDATE"));
  CHECK_THAT(sql[0], Contains("version"));
  CHECK_THAT(sql[0], Contains(" AND "));
  a->title = "a3";
  b->title = "b2";
  s.commit();
  CHECK(a->version == 3);
  CHECK(b->version == 2);
  CHECK(stored() == Rows{{"a3", 3}, {"b2", 2}});
  // Nothing changed: no UPDATE, no new version.
  rec.clear();
  s.commit();
  CHECK(rec.sql().empty());
  CHECK(a->version == 3);
  db->session.remove();
}

TEST_CASE("an UPDATE after another engine changed the row raises StaleDataError", "[suite][versioning]") {
  test::Recorder rec;
  auto db = test::fresh_db<Doc>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto mine = s.add(Doc("draft"));
  s.commit();
  const auto id = mine->id;
  REQUIRE(mine->title == "draft");  // loaded: version 1

  {  // another process: a second engine, its own connection, commits version 2
    alchemy::Session other(alchemy::create_engine(test::url()));
    auto theirs = other.get<Doc>(id);
    REQUIRE(theirs);
    theirs->title = "theirs";
    other.commit();
    CHECK(theirs->version == 2);
  }

  mine->title = "mine";
  rec.clear();
  std::optional<alchemy::StaleDataError> err;
  try {
    s.commit();
  } catch (const alchemy::StaleDataError& e) {
    err = e;
  }
  REQUIRE(err);
  CHECK(std::string(err->what()) ==
        "UPDATE statement on table 'ver_docs' expected to update 1 row(s); 0 were matched.");
  CHECK(mine->version == 1);  // the failed flush left the counter as it was
  CHECK(rec.statements().back() == "ROLLBACK");
  CHECK_THROWS_AS(s.commit(), alchemy::PendingRollbackError);
  s.rollback();
  CHECK(stored() == Rows{{"theirs", 2}});  // their write stands; ours was not applied

  // Loading the row again gives their version, and then an update goes through.
  s.expunge_all();
  auto fresh = s.get<Doc>(id);
  REQUIRE(fresh);
  CHECK(fresh->version == 2);
  fresh->title = "merged";
  s.commit();
  CHECK(fresh->version == 3);
  CHECK(stored() == Rows{{"merged", 3}});
  db->session.remove();
}

TEST_CASE("a DELETE of a row another engine changed raises StaleDataError", "[suite][versioning]") {
  auto db = test::fresh_db<Doc>();
  if (!db) return;
  auto& s = db->session();
  auto d = s.add(Doc("x"));
  auto keep = s.add(Doc("keep"));
  s.commit();
  {
    alchemy::Session other(alchemy::create_engine(test::url()));
    other.get<Doc>(d->id)->title = "x2";
    other.commit();
  }
  s.delete_(d);
  s.delete_(keep);
  std::optional<alchemy::StaleDataError> err;
  try {
    s.commit();
  } catch (const alchemy::StaleDataError& e) {
    err = e;
  }
  REQUIRE(err);
  CHECK(std::string(err->what()) ==
        "DELETE statement on table 'ver_docs' expected to delete 1 row(s); 0 were matched.");
  s.rollback();
  CHECK(stored() == Rows{{"x2", 2}, {"keep", 1}});  // all or nothing: "keep" is still there
  CHECK(alchemy::inspect_state(*keep) == alchemy::ObjectState::persistent);
  // A DELETE of the row at the version the session holds goes through.
  s.delete_(keep);
  s.commit();
  CHECK(stored() == Rows{{"x2", 2}});
  db->session.remove();
}

TEST_CASE("one stale row among many fails the whole versioned flush", "[suite][versioning]") {
  auto db = test::fresh_db<Doc>();
  if (!db) return;
  auto& s = db->session();
  std::vector<std::shared_ptr<Doc>> docs;
  for (int i = 0; i < 50; ++i) docs.push_back(s.add(Doc("d" + std::to_string(i))));
  s.commit();
  {
    alchemy::Session other(alchemy::create_engine(test::url()));
    other.get<Doc>(docs[37]->id)->title = "changed elsewhere";
    other.commit();
  }
  for (auto& d : docs) d->title += "!";
  CHECK_THROWS_AS(s.commit(), alchemy::StaleDataError);
  for (auto& d : docs) CHECK(d->version == 1);  // no counter moved in memory
  s.rollback();
  const auto rows = stored();
  REQUIRE(rows.size() == 50);
  for (int i = 0; i < 50; ++i) {
    INFO("row " << i);
    if (i == 37) {
      CHECK(rows[std::size_t(i)] == std::pair<std::string, std::int64_t>{"changed elsewhere", 2});
    } else {
      CHECK(rows[std::size_t(i)] == std::pair<std::string, std::int64_t>{"d" + std::to_string(i), 1});
    }
  }
  CHECK(docs[0]->title == "d0");  // rollback() put the loaded values back
  db->session.remove();
}

TEST_CASE("version_id must be one integer column outside the primary key", "[suite][versioning]") {
  using alchemy::sql::Column;
  using alchemy::sql::TypeKind;
  struct NoAccess : alchemy::orm::FieldAccess {
    alchemy::sql::ValueRef ref(const void*, alchemy::sql::Value&) const override { return {}; }
    alchemy::sql::Value get(const void*) const override { return {}; }
    void read(void*, alchemy::sql::ValueRef) const override {}
    void copy(void*, const void*) const override {}
  };
  const auto column = [](std::string name, TypeKind kind, bool version, bool key = false) {
    Column c;
    c.name = std::move(name);
    c.type.kind = kind;
    c.version_id = version;
    c.primary_key = key;
    return c;
  };
  alchemy::orm::Mapper m("Bad");
  m.add(column("id", TypeKind::big_integer, false, true), std::make_unique<NoAccess>(), false);
  CHECK_THROWS_WITH(m.add(column("v", TypeKind::string, true), std::make_unique<NoAccess>(), false),
                    Contains("must be an integer column"));
  CHECK_THROWS_WITH(m.add(column("k", TypeKind::big_integer, true, true), std::make_unique<NoAccess>(), false),
                    Contains("must be an integer column"));
  m.add(column("v1", TypeKind::integer, true), std::make_unique<NoAccess>(), false);
  CHECK(m.version_column() == 1);
  CHECK_THROWS_WITH(m.add(column("v2", TypeKind::integer, true), std::make_unique<NoAccess>(), false),
                    Contains("second version_id column"));
  CHECK(Doc::mapper().version_column() == 2);
}

}  // namespace suite_versioning
