// SPDX-License-Identifier: MIT
// SQL power on every backend: raw SQL through text() with bound parameters and rows by name and
// by index; func:: aggregates, GROUP BY / HAVING, DISTINCT and tuples from with_entities();
// subqueries (IN, EXISTS, scalar); and upsert with its row counts and final values.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_sql_power {

namespace sql_power {

namespace func = alchemy::func;
using alchemy::text;

struct Member : alchemy::Model<Member> {
  ALCHEMY_TABLENAME("sp_members");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::string, team, alchemy::String(20));
  ALCHEMY_COLUMN(int32_t, score);
  ALCHEMY_COLUMN(std::optional<std::string>, nickname, alchemy::String(30));

  Member() = default;
  Member(std::string h, std::string t, int32_t s, std::optional<std::string> n = std::nullopt)
      : handle(std::move(h)), team(std::move(t)), score(s), nickname(std::move(n)) {}
};

struct Note : alchemy::Model<Note> {
  ALCHEMY_TABLENAME("sp_notes");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, member_id);
  ALCHEMY_COLUMN(std::string, body, alchemy::String(40));

  Note() = default;
  Note(int64_t m, std::string b) : member_id(m), body(std::move(b)) {}
};

//  id handle  team  score nickname     notes
//   1 ann     red   10    Annie        2
//   2 bob     red   20    -            1
//   3 cid     blue  30    Cid          0
//   4 dee     blue  5     -            0
//   5 eve     green 7     Evie         1
void seed(alchemy::SQLAlchemy& db) {
  db.session.add_all(std::vector<Member>{{"ann", "red", 10, "Annie"},
                                         {"bob", "red", 20},
                                         {"cid", "blue", 30, "Cid"},
                                         {"dee", "blue", 5},
                                         {"eve", "green", 7, "Evie"}});
  db.session.add_all(std::vector<Note>{{1, "a1"}, {1, "a2"}, {2, "b1"}, {5, "e1"}});
  db.session.commit();
}

// === Raw SQL ===================================================================================

TEST_CASE("text() binds named parameters and gives rows by name and by index", "[suite][sql_power][text]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  auto r = db->session.execute(
      text("SELECT id, handle, score, nickname FROM sp_members WHERE team = :t AND score >= :min ORDER BY id"),
      {{"t", "red"}, {"min", 10}});
  REQUIRE(r.returns_rows());
  REQUIRE(r.size() == 2);
  CHECK(r.keys() == std::vector<std::string>{"id", "handle", "score", "nickname"});
  const auto& first = r.all()[0];
  CHECK(first.get<int64_t>("id") == 1);
  CHECK(first.get<std::string>(1) == "ann");
  CHECK(first.get<int32_t>("score") == 10);
  CHECK(first.get<std::optional<std::string>>("nickname") == "Annie");
  const auto& second = r.all()[1];
  CHECK(second.get<std::string>("handle") == "bob");
  CHECK(second.is_null("nickname"));
  CHECK(second.get<std::optional<std::string>>(3) == std::nullopt);
  CHECK_THROWS_AS(second.get<std::string>("nickname"), alchemy::DataError);
  CHECK_THROWS_AS(second.get<int64_t>("nope"), alchemy::InvalidRequestError);
  CHECK_THROWS_AS(second.get<int64_t>(4), alchemy::InvalidRequestError);
  std::vector<std::string> handles;
  for (const auto& row : r) handles.push_back(row.get<std::string>("handle"));
  CHECK(handles == std::vector<std::string>{"ann", "bob"});
}

TEST_CASE("text() results: scalar, one, first, one_or_none", "[suite][sql_power][text]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  CHECK(db->session.execute(text("SELECT count(*) FROM sp_members")).scalar<int64_t>() == 5);
  CHECK(db->session.execute(text("SELECT handle FROM sp_members WHERE id = :id"), {{"id", 3}}).one().get<std::string>(0) ==
        "cid");
  CHECK_THROWS_AS(db->session.execute(text("SELECT handle FROM sp_members WHERE id > :id"), {{"id", 9}}).one(),
                  alchemy::NoResultFound);
  CHECK_THROWS_AS(db->session.execute(text("SELECT handle FROM sp_members")).one(), alchemy::MultipleResultsFound);
  CHECK_THROWS_AS(db->session.execute(text("SELECT handle FROM sp_members")).one_or_none(),
                  alchemy::MultipleResultsFound);
  CHECK_FALSE(db->session.execute(text("SELECT handle FROM sp_members WHERE id > :id"), {{"id", 9}}).first());
  CHECK(db->session.execute(text("SELECT max(score) FROM sp_members WHERE id > :id"), {{"id", 9}})
            .scalar<std::optional<int64_t>>() == std::nullopt);
  CHECK_THROWS_AS(db->session.execute(text("SELECT id FROM sp_members WHERE id > 9")).scalar<int64_t>(),
                  alchemy::NoResultFound);
}

TEST_CASE("text() DML reports its row count and runs in the session's transaction", "[suite][sql_power][text]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  auto r = db->session.execute(text("UPDATE sp_members SET score = score + :d WHERE team = :t"), {{"d", 1}, {"t", "blue"}});
  CHECK_FALSE(r.returns_rows());
  CHECK(r.rowcount() == 2);
  CHECK(db->session.execute(text("SELECT sum(score) FROM sp_members WHERE team = 'blue'")).scalar<int64_t>() == 37);
  db->session.rollback();
  CHECK(db->session.execute(text("SELECT sum(score) FROM sp_members WHERE team = 'blue'")).scalar<int64_t>() == 35);
  CHECK(db->session.execute(text("DELETE FROM sp_notes WHERE member_id = :m"), {{"m", 1}}).rowcount() == 2);
  db->session.commit();
  CHECK(Note::query().count() == 2);
}

TEST_CASE("text() autoflushes pending objects first", "[suite][sql_power][text]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  db->session.add(Member("zed", "red", 1));
  CHECK(db->session.execute(text("SELECT count(*) FROM sp_members WHERE handle = :h"), {{"h", "zed"}}).scalar<int64_t>() == 1);
}

TEST_CASE("text() values are bound: quotes and colons in values and literals are data", "[suite][sql_power][text]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  const std::string evil = "x' OR '1'='1";
  CHECK(db->session.execute(text("SELECT id FROM sp_members WHERE handle = :h"), {{"h", evil}}).empty());
  // A ':' inside a string literal is not a parameter, on every backend.
  auto r = db->session.execute(text("SELECT 'a:b' AS lit, handle FROM sp_members WHERE handle = :h"), {{"h", "ann"}});
  CHECK(r.one().get<std::string>("lit") == "a:b");
  db->session.execute(text("INSERT INTO sp_members (handle, team, score) VALUES (:h, :t, :s)"),
                      {{"h", "o'neil:x"}, {"t", "red"}, {"s", 3}});
  CHECK(db->session.execute(text("SELECT score FROM sp_members WHERE handle = :h"), {{"h", "o'neil:x"}}).scalar<int32_t>() == 3);
}

TEST_CASE("text() keeps PostgreSQL's :: casts", "[suite][sql_power][text][postgresql]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  if (test::backend() != "postgresql") return;
  seed(*db);
  auto r = db->session.execute(text("SELECT id::text AS s, :n::int + 1 AS n FROM sp_members WHERE id = :id"),
                               {{"n", 41}, {"id", 2}});
  CHECK(r.one().get<std::string>("s") == "2");
  CHECK(r.one().get<int64_t>("n") == 42);
}

TEST_CASE("text() names a missing or unused parameter and runs nothing", "[suite][sql_power][text]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  try {
    db->session.execute(text("DELETE FROM sp_members WHERE handle = :h"));
    FAIL("no ArgumentError");
  } catch (const alchemy::ArgumentError& e) {
    CHECK(std::string(e.what()) == "text(): no value given for parameter 'h'");
  }
  CHECK_THROWS_WITH(db->session.execute(text("DELETE FROM sp_members WHERE id = :id"), {{"id", 1}, {"oops", 2}}),
                    "text(): parameter 'oops' is not used by the statement");
  db->session.commit();
  CHECK(Member::query().count() == 5);
}

// === Aggregates, grouping, tuples ==============================================================

TEST_CASE("with_entities, group_by and having give typed tuples", "[suite][sql_power][func]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  std::vector<std::tuple<std::string, int64_t>> per_team =
      Member::query()
          .with_entities(Member::team_, func::count(Member::id_))
          .group_by(Member::team_)
          .order_by(Member::team_)
          .all();
  CHECK(per_team == std::vector<std::tuple<std::string, int64_t>>{{"blue", 2}, {"green", 1}, {"red", 2}});

  auto big = Member::query()
                 .with_entities(Member::team_, func::sum(Member::score_))
                 .group_by(Member::team_)
                 .having(func::sum(Member::score_) > 20)
                 .order_by(func::sum(Member::score_).desc())
                 .all();
  REQUIRE(big.size() == 2);
  CHECK(std::get<0>(big[0]) == "blue");
  CHECK(std::get<1>(big[0]) == 35);
  CHECK(std::get<0>(big[1]) == "red");
  CHECK(std::get<1>(big[1]) == 30);

  CHECK(Member::query().with_entities(Member::team_).group_by(Member::team_).count() == 3);
  CHECK(Member::query().with_entities(Member::team_).distinct().count() == 3);
  auto teams = Member::query().with_entities(Member::team_).distinct().order_by(Member::team_.desc()).scalars();
  CHECK(teams == std::vector<std::string>{"red", "green", "blue"});
}

TEST_CASE("count, sum, avg, min, max over the whole table and over no rows", "[suite][sql_power][func]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  auto [n, total, mean, lo, hi] = Member::query()
                                      .with_entities(func::count(), func::sum(Member::score_), func::avg(Member::score_),
                                                     func::min(Member::score_), func::max(Member::handle_))
                                      .one();
  CHECK(n == 5);
  CHECK(total == 72);
  REQUIRE(mean);
  CHECK(*mean == Approx(14.4));
  CHECK(lo == 5);
  CHECK(hi == "eve");

  const auto none = Member::query().filter(Member::score_ > 100);
  CHECK(none.with_entities(func::sum(Member::score_)).scalar() == std::nullopt);
  CHECK(none.with_entities(func::max(Member::handle_)).scalar() == std::nullopt);
  CHECK(none.with_entities(func::coalesce(func::sum(Member::score_), 0)).scalar() == 0);
  CHECK(none.with_entities(func::count(Member::id_)).scalar() == 0);
  // count(column) skips NULLs, count() does not.
  CHECK(Member::query().with_entities(func::count(Member::nickname_)).scalar() == 3);
}

TEST_CASE("lower, upper, length and coalesce in the select list and in filters", "[suite][sql_power][func]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  auto rows = Member::query()
                  .with_entities(Member::id_, func::upper(Member::handle_), func::length(Member::handle_),
                                 func::coalesce(Member::nickname_, Member::handle_), func::lower(Member::nickname_))
                  .order_by(Member::id_)
                  .limit(2)
                  .all();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == std::make_tuple(int64_t{1}, std::string("ANN"), int64_t{3}, std::string("Annie"),
                                   std::optional<std::string>("annie")));
  CHECK(rows[1] == std::make_tuple(int64_t{2}, std::string("BOB"), int64_t{3}, std::string("bob"),
                                   std::optional<std::string>()));
  auto found = Member::query().filter(func::upper(Member::handle_) == "CID").all();
  REQUIRE(found.size() == 1);
  CHECK(found[0]->handle == "cid");
  CHECK(Member::query().filter(func::coalesce(Member::nickname_, "none") == "none").count() == 2);
}

// === Subqueries ================================================================================

TEST_CASE("in_ and not_in a subquery, exists, and a scalar subquery", "[suite][sql_power][subquery]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  const auto authors = Note::query().with_entities(Note::member_id_);
  auto with_notes = Member::query().filter(Member::id_.in_(authors)).order_by(Member::id_).all();
  REQUIRE(with_notes.size() == 3);
  CHECK(with_notes[0]->handle == "ann");
  CHECK(with_notes[1]->handle == "bob");
  CHECK(with_notes[2]->handle == "eve");
  CHECK(Member::query().filter(Member::id_.not_in(authors)).count() == 2);
  CHECK(Member::query().filter(Member::id_.in_(Note::query().filter(Note::body_ == "b1").with_entities(Note::member_id_)))
            .one()
            ->handle == "bob");

  CHECK(Member::query().filter(alchemy::exists(Note::query().filter(Note::body_ == "e1"))).count() == 5);
  CHECK(Member::query().filter(alchemy::exists(Note::query().filter(Note::body_ == "zz"))).count() == 0);

  const auto best = Member::query().with_entities(func::max(Member::score_)).as_scalar();
  CHECK(Member::query().filter(Member::score_ == best).one()->handle == "cid");
  const auto mean = Member::query().with_entities(func::avg(Member::score_));
  CHECK(mean.scalar() == Approx(14.4));
}

// === Upsert ====================================================================================

TEST_CASE("upsert inserts a new row and updates the named columns on a conflict", "[suite][sql_power][upsert]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  const auto on_handle = alchemy::on_conflict(Member::handle_).do_update(Member::score_, Member::nickname_);
  const bool mysql = test::backend() == "mysql";

  CHECK(db->session.upsert(Member("fay", "green", 1, "Fay"), on_handle) == 1);
  // MySQL counts an updated row twice (its documented ON DUPLICATE KEY UPDATE row count).
  CHECK(db->session.upsert(Member("ann", "nope", 99, std::nullopt), on_handle) == (mysql ? 2 : 1));
  db->session.commit();

  CHECK(Member::query().count() == 6);
  auto ann = db->session.execute(text("SELECT team, score, nickname FROM sp_members WHERE handle = :h"), {{"h", "ann"}}).one();
  CHECK(ann.get<std::string>("team") == "red");  // not in do_update: kept
  CHECK(ann.get<int32_t>("score") == 99);
  CHECK(ann.get<std::optional<std::string>>("nickname") == std::nullopt);
  auto fay = Member::query().filter_by("handle", "fay").one();
  CHECK(fay->team == "green");
  CHECK(fay->id == 6);
}

TEST_CASE("upsert do_nothing keeps the existing row", "[suite][sql_power][upsert]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  const auto n = db->session.upsert(Member("bob", "blue", 0), alchemy::on_conflict(Member::handle_).do_nothing());
  // MySQL's "do nothing" sets the handle to itself: a found row, counted once.
  CHECK(n == (test::backend() == "mysql" ? 1 : 0));
  db->session.commit();
  auto bob = db->session.execute(text("SELECT team, score FROM sp_members WHERE handle = 'bob'")).one();
  CHECK(bob.get<std::string>(0) == "red");
  CHECK(bob.get<int32_t>(1) == 20);
  CHECK(Member::query().count() == 5);
}

TEST_CASE("upsert of several objects in one statement, do_update() of every column", "[suite][sql_power][upsert]") {
  test::Recorder rec;
  auto db = test::fresh_db<Member, Note>(&rec);
  if (!db) return;
  seed(*db);
  rec.clear();
  db->session.upsert(std::vector<Member>{{"cid", "green", 31}, {"gus", "red", 2, "G"}, {"dee", "red", 6, "D"}},
                     alchemy::on_conflict(Member::handle_).do_update());
  db->session.commit();
  const auto sql = rec.sql();
  REQUIRE(sql.size() == 1);
  CHECK(sql[0].find(test::backend() == "mysql" ? "ON DUPLICATE KEY UPDATE" : "ON CONFLICT (handle) DO UPDATE") !=
        std::string::npos);
  auto rows = Member::query()
                  .with_entities(Member::handle_, Member::team_, Member::score_, Member::nickname_)
                  .filter(Member::handle_.in_({"cid", "dee", "gus"}))
                  .order_by(Member::handle_)
                  .all();
  using R = std::tuple<std::string, std::string, int32_t, std::optional<std::string>>;
  CHECK(rows == std::vector<R>{{"cid", "green", 31, std::nullopt}, {"dee", "red", 6, "D"}, {"gus", "red", 2, "G"}});
  CHECK(Member::query().count() == 6);
}

TEST_CASE("upsert without an action is an ArgumentError and writes nothing", "[suite][sql_power][upsert]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  CHECK_THROWS_AS(db->session.upsert(Member("new", "red", 1), alchemy::on_conflict(Member::handle_)),
                  alchemy::ArgumentError);
  db->session.commit();
  CHECK(Member::query().count() == 5);
}

}  // namespace sql_power

namespace sql_power {

TEST_CASE("union_ and union_all of row queries over two models", "[suite][sql_power][union]") {
  ALCHEMY_FRESH_DB(db, Member, Note);
  seed(*db);
  const auto red = Member::query().with_entities(Member::handle_).filter(Member::team_ == "red");
  const auto bodies = Note::query().with_entities(Note::body_).filter(Note::member_id_ == 1);
  auto names = red.union_(bodies).union_(red).scalars();
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"a1", "a2", "ann", "bob"});
  CHECK(red.union_all(bodies).union_all(red).count() == 6);
  CHECK(red.union_all(red).limit(3).all().size() == 3);
  CHECK_THROWS_AS(red.order_by(Member::handle_).union_(bodies).all(), alchemy::CompileError);
}

}  // namespace sql_power

namespace sql_power {

TEST_CASE("merge copies a detached object's state onto the persistent one, or adds a copy", "[suite][sql_power][merge]") {
  test::Recorder rec;
  auto db = test::fresh_db<Member, Note>(&rec);
  if (!db) return;
  seed(*db);

  Member outside("ann2", "blue", 11, std::nullopt);  // never in a session
  outside.id = 1;
  db->session.expunge_all();  // the seeded objects stay in the identity map after commit
  rec.clear();
  auto merged = db->session.merge(outside);
  REQUIRE(merged);
  CHECK(rec.sql().size() == 1);  // one SELECT by key: id 1 was not in the identity map
  CHECK(merged->id == 1);
  CHECK(merged->handle == "ann2");
  CHECK(merged->nickname == std::nullopt);
  CHECK(db->session.get<Member>(int64_t{1}) == merged);
  rec.clear();
  outside.team = "green";
  CHECK(db->session.merge(outside) == merged);  // already in the session: no SQL
  CHECK(rec.sql().empty());
  CHECK(merged->team == "green");

  Member fresh("hal", "red", 4);
  fresh.id = 99;
  auto added = db->session.merge(fresh);
  CHECK(added.get() != &fresh);
  Member keyless("ivy", "red", 5);
  auto generated = db->session.merge(keyless);
  db->session.commit();
  // SQLite and MySQL continue after the largest key; a PostgreSQL sequence ignores explicit keys.
  CHECK(generated->id == (test::backend() == "postgresql" ? 6 : 100));
  CHECK(added->id == 99);

  auto rows = db->session.execute(
      text("SELECT id, handle, team, nickname FROM sp_members WHERE id IN (1, 99, :g) ORDER BY handle"),
      {{"g", generated->id}});
  REQUIRE(rows.size() == 3);
  CHECK(rows.all()[0].get<std::string>("handle") == "ann2");
  CHECK(rows.all()[0].get<std::string>("team") == "green");
  CHECK(rows.all()[0].is_null("nickname"));
  CHECK(rows.all()[1].get<std::string>("handle") == "hal");
  CHECK(rows.all()[1].get<int64_t>("id") == 99);
  CHECK(rows.all()[2].get<std::string>("handle") == "ivy");
  CHECK(Member::query().count() == 7);
}

}  // namespace sql_power

}  // namespace suite_sql_power
