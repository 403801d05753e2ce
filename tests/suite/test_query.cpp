// SPDX-License-Identifier: MIT
// Query<T> against real rows on every backend: each operator with the exact ids it must match,
// SQLAlchemy's LikeFunctionsTest fixture, empty IN (ExpandingBoundInTest), NULL logic, nesting,
// ordering, LIMIT / OFFSET, count / exists / first / distinct, and the SQL text per dialect.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_query {

namespace query_suite {

/// Six rows with a nullable string and a nullable integer, for the operator tests.
struct Item : alchemy::Model<Item> {
  ALCHEMY_TABLENAME("q_items");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(30));
  ALCHEMY_COLUMN(std::optional<std::string>, tag, alchemy::String(10));
  ALCHEMY_COLUMN(int32_t, n);
  ALCHEMY_COLUMN(std::optional<int32_t>, score);
  ALCHEMY_COLUMN(int32_t, grp);

  Item() = default;
  Item(int64_t i, std::string nm, std::optional<std::string> t, int32_t n_, std::optional<int32_t> s, int32_t g)
      : id(i), name(std::move(nm)), tag(std::move(t)), n(n_), score(s), grp(g) {}
};

/// SQLAlchemy's LikeFunctionsTest table (test_select.py), ids 1 to 11.
struct LikeRow : alchemy::Model<LikeRow> {
  ALCHEMY_TABLENAME("q_like");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::optional<std::string>, data, alchemy::String(50));

  LikeRow() = default;
  LikeRow(int64_t i, std::optional<std::string> d) : id(i), data(std::move(d)) {}
};

using Ids = std::vector<int64_t>;

/// The ids a query returns, sorted.
template <class T>
Ids ids(const alchemy::Query<T>& q) {
  Ids out;
  for (const auto& o : q.all()) out.push_back(o->id);
  std::sort(out.begin(), out.end());
  return out;
}

/// The ids a query returns, in the order it returns them.
template <class T>
Ids ordered(const alchemy::Query<T>& q) {
  Ids out;
  for (const auto& o : q.all()) out.push_back(o->id);
  return out;
}

//  id  name     tag   n   score grp
//   1  alpha    a     10  5     2
//   2  beta     b     20  NULL  1
//   3  gamma    NULL  30  7     2
//   4  delta    a     40  5     1
//   5  epsilon  c     50  NULL  1
//   6  ALPHA    NULL  60  9     2
void seed_items(alchemy::SQLAlchemy& db) {
  db.session.add(Item(1, "alpha", "a", 10, 5, 2));
  db.session.add(Item(2, "beta", "b", 20, std::nullopt, 1));
  db.session.add(Item(3, "gamma", std::nullopt, 30, 7, 2));
  db.session.add(Item(4, "delta", "a", 40, 5, 1));
  db.session.add(Item(5, "epsilon", "c", 50, std::nullopt, 1));
  db.session.add(Item(6, "ALPHA", std::nullopt, 60, 9, 2));
  db.session.commit();
  db.session.remove();  // every test reads through a fresh session
}

void seed_like(alchemy::SQLAlchemy& db) {
  const char* rows[] = {"abcdefg", "ab/cdefg", "ab%cdefg", "ab_cdefg", "abcde/fg",
                        "abcde%fg", "ab#cdefg", "ab9cdefg", "abcde#fg", "abcd9fg"};
  int64_t id = 1;
  for (const char* r : rows) db.session.add(LikeRow(id++, std::string(r)));
  db.session.add(LikeRow(11, std::nullopt));
  db.session.commit();
  db.session.remove();
}

}  // namespace query_suite

using query_suite::Ids;
using query_suite::Item;
using query_suite::LikeRow;
using query_suite::ids;
using query_suite::ordered;

TEST_CASE("comparison operators match exactly the rows they should", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = db->session.query<Item>();

  CHECK(ids(q.filter(Item::n_ == 30)) == Ids{3});
  CHECK(ids(q.filter(Item::n_ != 30)) == Ids{1, 2, 4, 5, 6});
  CHECK(ids(q.filter(Item::n_ < 30)) == Ids{1, 2});
  CHECK(ids(q.filter(Item::n_ <= 30)) == Ids{1, 2, 3});
  CHECK(ids(q.filter(Item::n_ > 30)) == Ids{4, 5, 6});
  CHECK(ids(q.filter(Item::n_ >= 30)) == Ids{3, 4, 5, 6});
  CHECK(ids(q.filter(Item::id_ == int64_t{6})) == Ids{6});
  CHECK(ids(q.filter(Item::n_ == 31)).empty());
  // A value of another integer width converts to the column's type.
  CHECK(ids(q.filter(Item::n_ > int64_t{45})) == Ids{5, 6});
  CHECK(ids(q.filter(Item::name_ == "beta")) == Ids{2});
  CHECK(ids(q.filter(Item::name_ == std::string("gamma"))) == Ids{3});
  CHECK(ids(q.filter(Item::name_ > "delta")) == Ids{3, 5});
  // Column against column of the same model: NULL on either side matches nothing.
  CHECK(ids(q.filter(Item::score_ < Item::n_)) == Ids{1, 3, 4, 6});
  CHECK(ids(q.filter(Item::score_ == Item::score_)) == Ids{1, 3, 4, 6});
}

TEST_CASE("pattern operators like, not_like, ilike, startswith, endswith and contains", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query();

  CHECK(ids(q.filter(Item::name_.like("%ta"))) == Ids{2, 4});
  CHECK(ids(q.filter(Item::name_.like("_amma"))) == Ids{3});
  CHECK(ids(q.filter(Item::name_.like("e%"))) == Ids{5});
  CHECK(ids(q.filter(Item::name_.not_like("%ta"))) == Ids{1, 3, 5, 6});
  CHECK(ids(q.filter(Item::name_.ilike("alpha"))) == Ids{1, 6});
  CHECK(ids(q.filter(Item::name_.ilike("%PSI%"))) == Ids{5});
  CHECK(ids(q.filter(Item::name_.not_ilike("ALPHA"))) == Ids{2, 3, 4, 5});
  CHECK(ids(q.filter(Item::name_.startswith("de"))) == Ids{4});
  CHECK(ids(q.filter(Item::name_.endswith("ma"))) == Ids{3});
  CHECK(ids(q.filter(Item::name_.contains("ps"))) == Ids{5});
  CHECK(ids(q.filter(Item::name_.contains("zz"))).empty());
  // NOT LIKE on a NULL is NULL: rows 3 and 6 (tag NULL) are in neither.
  CHECK(ids(q.filter(Item::tag_.like("a"))) == Ids{1, 4});
  CHECK(ids(q.filter(Item::tag_.not_like("a"))) == Ids{2, 5});
}

TEST_CASE("string comparison and LIKE follow each backend's collation", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query();
  const auto b = test::backend();
  // Rows 1 "alpha" and 6 "ALPHA". SQLite compares with BINARY but its LIKE ignores ASCII case;
  // PostgreSQL is case-sensitive for both; MariaDB's utf8mb4_unicode_ci ignores case for both.
  if (b == "sqlite") {
    CHECK(ids(q.filter(Item::name_ == "alpha")) == Ids{1});
    CHECK(ids(q.filter(Item::name_.like("alpha"))) == Ids{1, 6});
    CHECK(ids(q.filter(Item::name_.startswith("AL"))) == Ids{1, 6});
  } else if (b == "postgresql") {
    CHECK(ids(q.filter(Item::name_ == "alpha")) == Ids{1});
    CHECK(ids(q.filter(Item::name_.like("alpha"))) == Ids{1});
    CHECK(ids(q.filter(Item::name_.startswith("AL"))) == Ids{6});
  } else {
    CHECK(ids(q.filter(Item::name_ == "alpha")) == Ids{1, 6});
    CHECK(ids(q.filter(Item::name_.like("alpha"))) == Ids{1, 6});
    CHECK(ids(q.filter(Item::name_.startswith("AL"))) == Ids{1, 6});
  }
  // ilike is case-insensitive everywhere.
  CHECK(ids(q.filter(Item::name_.ilike("AlPhA"))) == Ids{1, 6});
}

TEST_CASE("IN, NOT IN and BETWEEN over integers and strings", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query();

  CHECK(ids(q.filter(Item::id_.in_({2, 4, 99}))) == Ids{2, 4});
  CHECK(ids(q.filter(Item::id_.not_in({2, 4}))) == Ids{1, 3, 5, 6});
  CHECK(ids(q.filter(Item::n_.in_(std::vector<int32_t>{10}))) == Ids{1});
  CHECK(ids(q.filter(Item::tag_.in_({"a", "c"}))) == Ids{1, 4, 5});
  // x NOT IN (...) is NULL for a NULL x: rows 3 and 6 are left out.
  CHECK(ids(q.filter(Item::tag_.not_in({"a"}))) == Ids{2, 5});
  CHECK(ids(q.filter(Item::n_.between(20, 40))) == Ids{2, 3, 4});  // inclusive
  CHECK(ids(q.filter(Item::n_.between(21, 39))) == Ids{3});
  CHECK(ids(q.filter(Item::n_.between(40, 20))).empty());
  CHECK(ids(q.filter(not_(Item::n_.between(20, 40)))) == Ids{1, 5, 6});
  CHECK(ids(q.filter(Item::name_.between("b", "e"))) == Ids{2, 4});
  // A long list is as many bound parameters.
  std::vector<int64_t> many;
  for (int64_t i = 1000; i > 0; --i) many.push_back(i);
  CHECK(ids(q.filter(Item::id_.in_(many))) == Ids{1, 2, 3, 4, 5, 6});
}

TEST_CASE("an empty IN matches nothing and an empty NOT IN everything, NULLs included", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query();
  const std::vector<int32_t> no_ints;
  const std::vector<std::string> no_strings;

  CHECK(ids(q.filter(Item::n_.in_(no_ints))).empty());
  CHECK(ids(q.filter(Item::n_.not_in(no_ints))) == Ids{1, 2, 3, 4, 5, 6});
  // ExpandingBoundInTest: NULL IN () is false and NULL NOT IN () is true.
  CHECK(ids(q.filter(Item::tag_.in_(no_strings))).empty());
  CHECK(ids(q.filter(Item::tag_.not_in(no_strings))) == Ids{1, 2, 3, 4, 5, 6});
  CHECK(ids(q.filter(Item::score_.not_in(no_ints))) == Ids{1, 2, 3, 4, 5, 6});
  CHECK(ids(q.filter(Item::score_.in_(no_ints))).empty());
  // Inside AND / OR / NOT the empty list keeps its meaning.
  CHECK(ids(q.filter(or_(Item::n_.in_(no_ints), Item::n_ == 10))) == Ids{1});
  CHECK(ids(q.filter(and_(Item::n_.not_in(no_ints), Item::n_ == 10))) == Ids{1});
  CHECK(ids(q.filter(and_(Item::n_.in_(no_ints), Item::n_ == 10))).empty());
  CHECK(ids(q.filter(or_(Item::tag_.not_in(no_strings), Item::n_ == 10))) == Ids{1, 2, 3, 4, 5, 6});
  CHECK(ids(q.filter(not_(Item::n_.in_(no_ints)))) == Ids{1, 2, 3, 4, 5, 6});
  CHECK(ids(q.filter(not_(Item::tag_.not_in(no_strings)))).empty());
  CHECK(q.filter(Item::n_.in_(no_ints)).count() == 0);
  CHECK_FALSE(q.filter(Item::n_.in_(no_ints)).exists());
}

TEST_CASE("NULL comparisons render IS NULL and a NULL row is in neither = nor !=", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query();

  CHECK(ids(q.filter(Item::tag_ == std::nullopt)) == Ids{3, 6});
  CHECK(ids(q.filter(Item::tag_ != std::nullopt)) == Ids{1, 2, 4, 5});
  CHECK(ids(q.filter(Item::tag_ == std::optional<std::string>{})) == Ids{3, 6});
  CHECK(ids(q.filter(Item::tag_ == std::optional<std::string>{"b"})) == Ids{2});
  CHECK(ids(q.filter(Item::tag_.is_null())) == Ids{3, 6});
  CHECK(ids(q.filter(Item::tag_.is_not_null())) == Ids{1, 2, 4, 5});
  CHECK(ids(q.filter(Item::score_.is_null())) == Ids{2, 5});
  CHECK(ids(q.filter(Item::score_ == std::nullopt)) == Ids{2, 5});
  CHECK(ids(q.filter(not_(Item::tag_.is_null()))) == Ids{1, 2, 4, 5});
  // Three-valued logic: tag = 'a' and tag != 'a' are both unknown for rows 3 and 6.
  CHECK(ids(q.filter(Item::tag_ == "a")) == Ids{1, 4});
  CHECK(ids(q.filter(Item::tag_ != "a")) == Ids{2, 5});
  CHECK(ids(q.filter(not_(Item::tag_ == "a"))) == Ids{2, 5});
  CHECK(ids(q.filter(or_(Item::tag_ == "a", Item::tag_ != "a"))) == Ids{1, 2, 4, 5});
  CHECK(ids(q.filter(not_(or_(Item::tag_ == "a", Item::n_ > 100)))) == Ids{2, 5});
  CHECK(ids(q.filter(Item::score_ > 5)) == Ids{3, 6});
  CHECK(ids(q.filter(Item::score_ <= 5)) == Ids{1, 4});
  // The statement says IS NULL, never "= NULL".
  const auto sql = q.filter(Item::tag_ == std::nullopt).statement();
  CHECK(sql.find("q_items.tag IS NULL") != std::string::npos);
  CHECK(q.filter(Item::tag_ != std::nullopt).statement().find("q_items.tag IS NOT NULL") != std::string::npos);
}

TEST_CASE("and_, or_ and not_ nest with the right precedence", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query();

  // (n < 20 OR n > 50) AND tag IS NULL: without the parentheses row 1 would match too.
  const auto or_in_and = and_(or_(Item::n_ < 20, Item::n_ > 50), Item::tag_.is_null());
  CHECK(ids(q.filter(or_in_and)) == Ids{6});
  CHECK(ids(q.filter((Item::n_ < 20 || Item::n_ > 50) && Item::tag_.is_null())) == Ids{6});
  // Two filter() calls are ANDed, the OR kept whole.
  CHECK(ids(q.filter(or_(Item::n_ < 20, Item::n_ > 50)).filter(Item::tag_.is_null())) == Ids{6});
  // n < 20 OR (n > 50 AND tag IS NULL).
  CHECK(ids(q.filter(or_(Item::n_ < 20, and_(Item::n_ > 50, Item::tag_.is_null())))) == Ids{1, 6});
  CHECK(ids(q.filter(Item::n_ < 20 || (Item::n_ > 50 && Item::tag_.is_null()))) == Ids{1, 6});
  // NOT over AND / OR keeps its parentheses.
  CHECK(ids(q.filter(not_(and_(Item::grp_ == 1, Item::n_ > 30)))) == Ids{1, 2, 3, 6});
  CHECK(ids(q.filter(!(Item::grp_ == 1 || Item::n_ > 30))) == Ids{1, 3});
  CHECK(ids(q.filter(not_(not_(Item::grp_ == 1)))) == Ids{2, 4, 5});
  // Deeper: grp = 2 AND (tag = 'a' OR (score IS NULL OR n = 30)) OR id = 5
  const auto deep = or_(and_(Item::grp_ == 2, or_(Item::tag_ == "a", or_(Item::score_.is_null(), Item::n_ == 30))),
                        Item::id_ == int64_t{5});
  CHECK(ids(q.filter(deep)) == Ids{1, 3, 5});
  CHECK(ids(q.filter(and_(Item::grp_ == 2, Item::n_ > 10, Item::n_ < 60))) == Ids{3});
  CHECK(ids(q.filter(or_(Item::id_ == int64_t{1}, Item::id_ == int64_t{2}, Item::id_ == int64_t{3}))) == Ids{1, 2, 3});

  const auto sql = q.filter(or_in_and).statement();
  CHECK(sql.find("WHERE (q_items.n < ") != std::string::npos);
  CHECK(sql.find(" OR q_items.n > ") != std::string::npos);
  CHECK(sql.find(") AND q_items.tag IS NULL") != std::string::npos);
}

TEST_CASE("order_by sorts by several columns, ascending and descending", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query();

  CHECK(ordered(q.order_by(Item::n_)) == Ids{1, 2, 3, 4, 5, 6});
  CHECK(ordered(q.order_by(Item::n_.desc())) == Ids{6, 5, 4, 3, 2, 1});
  CHECK(ordered(q.order_by(Item::grp_.asc(), Item::n_.desc())) == Ids{5, 4, 2, 6, 3, 1});
  CHECK(ordered(q.order_by(Item::grp_.desc(), Item::id_)) == Ids{1, 3, 6, 2, 4, 5});
  CHECK(ordered(q.order_by(alchemy::desc(Item::grp_)).order_by(alchemy::asc(Item::n_))) == Ids{1, 3, 6, 2, 4, 5});
  CHECK(ordered(q.filter(Item::grp_ == 1).order_by(Item::name_)) == Ids{2, 4, 5});
  // Where NULLs sort differs: PostgreSQL puts them last in ascending order, SQLite and MariaDB
  // first (and the other way round in descending order).
  const auto nulls = ordered(q.order_by(Item::score_.asc(), Item::id_.asc()));
  const auto nulls_desc = ordered(q.order_by(Item::score_.desc(), Item::id_.asc()));
  if (test::backend() == "postgresql") {
    CHECK(nulls == Ids{1, 4, 3, 6, 2, 5});
    CHECK(nulls_desc == Ids{2, 5, 6, 3, 1, 4});
  } else {
    CHECK(nulls == Ids{2, 5, 1, 4, 3, 6});
    CHECK(nulls_desc == Ids{6, 3, 1, 4, 2, 5});
  }
}

TEST_CASE("limit and offset page through ordered rows", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query().order_by(Item::id_);

  CHECK(ordered(q.limit(2)) == Ids{1, 2});
  CHECK(ordered(q.offset(4)) == Ids{5, 6});
  CHECK(ordered(q.limit(2).offset(3)) == Ids{4, 5});
  CHECK(ordered(q.offset(3).limit(2)) == Ids{4, 5});
  CHECK(ordered(q.limit(10)) == Ids{1, 2, 3, 4, 5, 6});
  CHECK(ordered(q.offset(6)).empty());
  CHECK(ordered(q.offset(100)).empty());
  CHECK(ordered(q.limit(3).offset(100)).empty());
  CHECK(ordered(q.limit(0)).empty());
  CHECK(ordered(q.offset(0)) == Ids{1, 2, 3, 4, 5, 6});
  CHECK(ordered(q.order_by(Item::n_.desc()).limit(1)) == Ids{1});  // id still the first key
  CHECK(ordered(Item::query().order_by(Item::n_.desc()).limit(2).offset(1)) == Ids{5, 4});
  // A later limit() replaces an earlier one.
  CHECK(ordered(q.limit(1).limit(3)) == Ids{1, 2, 3});
  CHECK(ordered(q.filter(Item::grp_ == 2).limit(2).offset(1)) == Ids{3, 6});
}

TEST_CASE("first, one, count and exists", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query();

  auto top = q.order_by(Item::n_.desc()).first();
  REQUIRE(top);
  CHECK(top->id == 6);
  CHECK(top->name == "ALPHA");
  auto low = q.filter(Item::grp_ == 1).order_by(Item::n_).first();
  REQUIRE(low);
  CHECK(low->id == 2);
  CHECK(q.filter(Item::n_ > 1000).first() == nullptr);
  CHECK(q.filter(Item::n_ == 40).one()->id == 4);
  CHECK_THROWS_AS(q.filter(Item::n_ == 41).one(), alchemy::NoResultFound);
  CHECK_THROWS_AS(q.filter(Item::grp_ == 1).one(), alchemy::MultipleResultsFound);
  CHECK(q.filter(Item::n_ == 41).one_or_none() == nullptr);

  CHECK(q.count() == 6);
  CHECK(q.filter(Item::grp_ == 1).count() == 3);
  CHECK(q.filter(Item::tag_.is_null()).count() == 2);
  CHECK(q.filter(Item::n_ > 1000).count() == 0);
  // count() counts the rows of the query, LIMIT and OFFSET included.
  CHECK(q.order_by(Item::id_).limit(4).count() == 4);
  CHECK(q.order_by(Item::id_).limit(2).offset(3).count() == 2);
  CHECK(q.order_by(Item::id_).offset(5).count() == 1);
  CHECK(q.order_by(Item::id_).offset(6).count() == 0);
  CHECK(q.order_by(Item::id_).limit(10).offset(4).count() == 2);

  CHECK(q.exists());
  CHECK(q.filter(Item::name_ == "gamma").exists());
  CHECK_FALSE(q.filter(Item::name_ == "omega").exists());
  CHECK_FALSE(q.filter(Item::tag_ == "a", Item::score_.is_null()).exists());
}

TEST_CASE("distinct, range-for, filter_by pairs and generative queries", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  auto q = Item::query();

  // Whole objects have distinct keys: DISTINCT is rendered and drops nothing.
  const auto d = q.distinct();
  CHECK(d.statement().rfind("SELECT DISTINCT q_items.id, ", 0) == 0);
  CHECK(ids(d) == Ids{1, 2, 3, 4, 5, 6});
  CHECK(d.filter(Item::grp_ == 2).count() == 3);

  Ids seen;
  for (const auto& item : q.filter(Item::grp_ == 2).order_by(Item::n_.desc())) seen.push_back(item->id);
  CHECK(seen == Ids{6, 3, 1});
  int loops = 0;
  for (const auto& item : q.filter(Item::n_ > 1000)) loops += item ? 1 : 2;
  CHECK(loops == 0);

  CHECK(ids(q.filter_by("tag", "a", "grp", 1)) == Ids{4});
  CHECK(ids(q.filter_by("grp", 2, "score", 9, "name", "ALPHA")) == Ids{6});
  CHECK(ids(q.filter_by("tag", std::nullopt)) == Ids{3, 6});
  CHECK(ids(q.filter_by("grp", 2).filter(Item::n_ > 15)) == Ids{3, 6});
  CHECK_THROWS_AS(q.filter_by("nope", 1), alchemy::InvalidRequestError);
  CHECK_THROWS_AS(q.filter_by("grp", "text"), alchemy::ArgumentError);

  // Each call returns a new query; the one it was made from does not change.
  const auto base = q.filter(Item::n_ > 10);
  const auto base_sql = base.statement();
  const auto narrower = base.filter(Item::n_ < 40);
  const auto paged = base.order_by(Item::n_.desc()).limit(1);
  CHECK(ids(narrower) == Ids{2, 3});
  CHECK(ordered(paged) == Ids{6});
  CHECK(ids(base) == Ids{2, 3, 4, 5, 6});
  CHECK(base.statement() == base_sql);
  CHECK(base.select().where.size() == 1);
  CHECK_FALSE(base.select().limit);
  CHECK(base.select().order_by.empty());
  CHECK(ids(q) == Ids{1, 2, 3, 4, 5, 6});
}

TEST_CASE("statement() renders one query in each dialect's SQL", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  query_suite::seed_items(*db);
  const auto q = Item::query()
                     .filter(and_(Item::name_ != "admin", Item::n_ > 10))
                     .filter(or_(Item::tag_.is_null(), Item::tag_.in_({"a", "b"})))
                     .order_by(Item::n_.desc())
                     .limit(2)
                     .offset(1);
  const std::string cols =
      "SELECT q_items.id, q_items.name, q_items.tag, q_items.n, q_items.score, q_items.grp FROM q_items";
  const auto b = test::backend();
  if (b == "sqlite") {
    CHECK(q.statement() == cols +
                               " WHERE q_items.name != ? AND q_items.n > ? AND (q_items.tag IS NULL OR "
                               "q_items.tag IN (?, ?)) ORDER BY q_items.n DESC LIMIT ? OFFSET ?");
  } else if (b == "postgresql") {
    CHECK(q.statement() == cols +
                               " WHERE q_items.name != $1 AND q_items.n > $2 AND (q_items.tag IS NULL OR "
                               "q_items.tag IN ($3, $4)) ORDER BY q_items.n DESC LIMIT $5 OFFSET $6");
  } else {
    CHECK(q.statement() == cols +
                               " WHERE q_items.name != ? AND q_items.n > ? AND (q_items.tag IS NULL OR "
                               "q_items.tag IN (?, ?)) ORDER BY q_items.n DESC LIMIT ?, ?");
  }
  // Rows 6 (60, NULL), 4 (40, a), 3 (30, NULL) and 2 (20, b) match; the page skips 6.
  CHECK(ordered(q) == Ids{4, 3});
  CHECK(q.count() == 2);
  // Values never appear in the SQL text.
  CHECK(q.statement().find("admin") == std::string::npos);
}

TEST_CASE("a value with % and quotes is bound, never spliced into SQL", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, Item);
  // EscapingTest's values and an injection attempt, compared with = (no LIKE wildcards).
  db->session.add(Item(1, "some % value", "x", 1, std::nullopt, 1));
  db->session.add(Item(2, "some %% other value", "y", 2, std::nullopt, 1));
  db->session.add(Item(3, "o'brien\" OR 1=1 --", "z", 3, std::nullopt, 1));
  db->session.commit();
  db->session.remove();
  auto q = Item::query();
  CHECK(ids(q.filter(Item::name_ == "some % value")) == Ids{1});
  CHECK(ids(q.filter(Item::name_ == "some %% other value")) == Ids{2});
  CHECK(ids(q.filter(Item::name_ == "o'brien\" OR 1=1 --")) == Ids{3});
  CHECK(ids(q.filter(Item::name_ == "x' OR '1'='1")).empty());
  CHECK(ids(q.filter_by("name", "some % value")) == Ids{1});
  CHECK(q.get(2)->name == "some %% other value");
  CHECK(q.get(1)->name == "some % value");
}

// --- SQLAlchemy's LikeFunctionsTest ---------------------------------------------------------------

TEST_CASE("LikeFunctionsTest: startswith, endswith and contains escape % _ and /", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, LikeRow);
  query_suite::seed_like(*db);
  auto q = LikeRow::query();
  const auto& data = LikeRow::data_;

  // Unescaped: the wildcards work as wildcards.
  CHECK(ids(q.filter(data.like("ab%c%"))) == Ids{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(ids(q.filter(data.like("%e%fg"))) == Ids{1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(ids(q.filter(data.like("%b%cde%"))) == Ids{1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(ids(q.filter(data.like("ab_cdefg"))) == Ids{2, 3, 4, 7, 8});
  CHECK(ids(q.filter(data.like("abcd_fg"))) == Ids{1, 10});
  // autoescape: the value is matched literally.
  CHECK(ids(q.filter(data.startswith("ab%c"))) == Ids{3});
  CHECK(ids(q.filter(data.endswith("e%fg"))) == Ids{6});
  CHECK(ids(q.filter(data.contains("b%cde"))) == Ids{3});
  CHECK(ids(q.filter(data.startswith("ab_c"))) == Ids{4});
  CHECK(ids(q.filter(data.contains("b_cd"))) == Ids{4});
  CHECK(ids(q.filter(data.startswith("ab/c"))) == Ids{2});
  CHECK(ids(q.filter(data.endswith("e/fg"))) == Ids{5});
  CHECK(ids(q.filter(data.startswith("ab#c"))) == Ids{7});
  CHECK(ids(q.filter(data.endswith("e#fg"))) == Ids{9});
  CHECK(ids(q.filter(data.contains("b#cd"))) == Ids{7});
  CHECK(ids(q.filter(data.startswith("ab"))) == Ids{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(ids(q.filter(data.endswith("9fg"))) == Ids{10});
  // The NULL row matches neither a pattern nor its negation.
  CHECK(ids(q.filter(not_(data.contains("b%cde")))) == Ids{1, 2, 4, 5, 6, 7, 8, 9, 10});
  CHECK(ids(q.filter(data.is_null())) == Ids{11});
}

TEST_CASE("LikeFunctionsTest: an explicit escape character", "[suite][query]") {
  ALCHEMY_FRESH_DB(db, LikeRow);
  query_suite::seed_like(*db);
  auto q = LikeRow::query();
  const auto& data = LikeRow::data_;

  CHECK(ids(q.filter(data.like("ab##c%", '#'))) == Ids{7});
  CHECK(ids(q.filter(data.like("%e##fg", '#'))) == Ids{9});
  CHECK(ids(q.filter(data.like("%b##cde%", '#'))) == Ids{7});
  CHECK(ids(q.filter(data.like("ab#%c%", '#'))) == Ids{3});
  CHECK(ids(q.filter(data.like("ab#_c%", '#'))) == Ids{4});
  CHECK(ids(q.filter(data.like("%e#%fg", '#'))) == Ids{6});
  CHECK(ids(q.filter(data.like("ab!%c%", '!'))) == Ids{3});
  CHECK(ids(q.filter(data.not_like("ab#%c%", '#'))) == Ids{1, 2, 4, 5, 6, 7, 8, 9, 10});
  // ilike with an escape: case-insensitive, wildcard escaped.
  CHECK(ids(q.filter(data.ilike("AB#%C%", '#'))) == Ids{3});
  CHECK(ids(q.filter(data.ilike("AB%CDEFG"))) == Ids{1, 2, 3, 4, 7, 8});
  CHECK(ids(q.filter(data.not_ilike("AB%CDEFG"))) == Ids{5, 6, 9, 10});
  // A quote or backslash cannot be the escape character.
  CHECK_THROWS_AS(q.filter(data.like("a%", '\'')).all(), alchemy::CompileError);
  CHECK_THROWS_AS(q.filter(data.like("a%", '\\')).all(), alchemy::CompileError);
}

}  // namespace suite_query
