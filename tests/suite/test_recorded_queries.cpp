// SPDX-License-Identifier: MIT
// SQLALCHEMY_RECORD_QUERIES and get_recorded_queries(): what is recorded (statement, parameters
// unless hidden, times, the user's call site), per thread, and cleared by db.session.remove().
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_recorded_queries {

namespace recording_suite {

struct Rec : alchemy::Model<Rec> {
  ALCHEMY_TABLENAME("rq_rows");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(20));

  Rec() = default;
  explicit Rec(std::string n) : name(std::move(n)) {}
};

std::unique_ptr<alchemy::SQLAlchemy> db_with(bool record, bool hide = false) {
  alchemy::Config cfg;
  cfg.SQLALCHEMY_RECORD_QUERIES = record;
  cfg.SQLALCHEMY_ENGINE_OPTIONS.hide_parameters = hide;
  auto db = test::fresh_db<Rec>(nullptr, std::move(cfg));
  if (!db) return db;
  db->session.add_all(std::vector<Rec>{Rec("a"), Rec("b"), Rec("c")});
  db->session.commit();
  db->clear_recorded_queries();
  return db;
}

std::string here(int line) { return std::string("test_recorded_queries.cpp:") + std::to_string(line) + " ("; }

}  // namespace recording_suite

using recording_suite::Rec;
using recording_suite::here;

TEST_CASE("recorded queries hold the statement, its parameters, times and the call site", "[suite][recording]") {
  auto db = recording_suite::db_with(true);
  if (!db) return;

  const int line = __LINE__ + 1;
  const auto b = Rec::query().filter(Rec::name_ == "b").first();
  REQUIRE(b);
  auto rq = db->get_recorded_queries();
  REQUIRE(rq.size() == 1);
  CHECK(rq[0].statement == Rec::query().filter(Rec::name_ == "b").limit(1).statement());
  REQUIRE_FALSE(rq[0].parameters.empty());
  CHECK(rq[0].parameters[0].as_text() == "b");
  CHECK_FALSE(rq[0].parameters_hidden);
  CHECK(rq[0].executions == 1);
  CHECK(rq[0].end_time >= rq[0].start_time);
  CHECK(rq[0].duration() == rq[0].end_time - rq[0].start_time);
  CHECK(rq[0].location.find(here(line)) != std::string::npos);

  // paginate's SELECT and COUNT both carry the paginate() call's site.
  db->clear_recorded_queries();
  CHECK(db->get_recorded_queries().empty());
  const int pline = __LINE__ + 1;
  const auto p = Rec::query().order_by(Rec::id_).paginate({.per_page = 2});
  rq = db->get_recorded_queries();
  REQUIRE(rq.size() == 2);
  CHECK(rq[1].statement.rfind("SELECT count(*)", 0) == 0);
  for (const auto& q : rq) CHECK(q.location.find(here(pline)) != std::string::npos);
  CHECK(rq[0].start_time <= rq[1].start_time);

  // The 404 helpers, get() and range-for are marked too.
  db->clear_recorded_queries();
  db->session.expunge_all();
  const int gline = __LINE__ + 1;
  CHECK_THROWS_AS(db->get_or_404<Rec>(99), alchemy::NotFound);
  const int rline = __LINE__ + 1;
  for (const auto& r : Rec::query().filter(Rec::id_ < 0)) CHECK(r == nullptr);
  rq = db->get_recorded_queries();
  REQUIRE(rq.size() == 2);
  CHECK(rq[0].location.find(here(gline)) != std::string::npos);
  CHECK(rq[1].location.find(here(rline)) != std::string::npos);

  // commit()'s flush has no query call site; its INSERT is still recorded with its values.
  db->clear_recorded_queries();
  db->session.add(Rec("d"));
  db->session.commit();
  rq = db->get_recorded_queries();
  REQUIRE(rq.size() == 1);
  CHECK(rq[0].statement.rfind("INSERT INTO", 0) == 0);
  REQUIRE(rq[0].parameters.size() == 1);
  CHECK(rq[0].parameters[0].as_text() == "d");
  CHECK(rq[0].location.empty());
}

TEST_CASE("recorded queries are per thread and end with db.session.remove()", "[suite][recording]") {
  auto db = recording_suite::db_with(true);
  if (!db) return;
  (void)Rec::query().count();
  std::size_t other = 0;
  std::thread t([&] {
    (void)Rec::query().all();
    (void)Rec::query().all();
    other = db->get_recorded_queries().size();
    db->session.remove();
  });
  t.join();
  CHECK(other == 2);
  REQUIRE(db->get_recorded_queries().size() == 1);
  db->session.remove();
  CHECK(db->get_recorded_queries().empty());
}

TEST_CASE("recorded queries respect hide_parameters and are off by default", "[suite][recording]") {
  {
    auto db = recording_suite::db_with(true, true);
    if (!db) return;
    (void)Rec::query().filter_by("name", "secret").first();
    const auto rq = db->get_recorded_queries();
    REQUIRE(rq.size() == 1);
    CHECK(rq[0].parameters.empty());
    CHECK(rq[0].parameters_hidden);
  }
  auto off = recording_suite::db_with(false);
  if (!off) return;
  (void)Rec::query().all();
  CHECK(off->get_recorded_queries().empty());
}

}  // namespace suite_recorded_queries
