// SPDX-License-Identifier: MIT
// paginate() with Flask-SQLAlchemy 3.1's numbers and error_out rules (its iter_pages table and
// the 45-rows example), keyset pages against offset pages, the statements each costs, and the
// 404 helpers, on every backend.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_pagination {

namespace pagination_suite {

struct PageRow : alchemy::Model<PageRow> {
  ALCHEMY_TABLENAME("p_rows");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int32_t, grp);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(20));
  ALCHEMY_COLUMN(std::optional<int32_t>, score);

  PageRow() = default;
  PageRow(int64_t i, int32_t g, std::string n, std::optional<int32_t> s = std::nullopt)
      : id(i), grp(g), name(std::move(n)), score(s) {}
};

using Ids = std::vector<int64_t>;
using Pages = std::vector<std::optional<int64_t>>;

/// Rows 1..n; grp cycles 0..4 in a scrambled order so that (grp, id) differs from id order.
void seed(alchemy::SQLAlchemy& db, int64_t n) {
  std::vector<PageRow> rows;
  for (int64_t i = 1; i <= n; ++i)
    rows.emplace_back(i, static_cast<int32_t>((i * 3) % 5), "row" + std::to_string(i));
  db.session.add_all(std::move(rows));
  db.session.commit();
  db.session.remove();
}

template <class Range>
Ids ids(const Range& r) {
  Ids out;
  for (const auto& o : r) out.push_back(o->id);
  return out;
}

Ids range_ids(int64_t from, int64_t to) {
  Ids out;
  for (auto i = from; i <= to; ++i) out.push_back(i);
  return out;
}

}  // namespace pagination_suite

using pagination_suite::Ids;
using pagination_suite::PageRow;
using pagination_suite::Pages;
using pagination_suite::ids;
using pagination_suite::range_ids;

TEST_CASE("paginate gives Flask-SQLAlchemy's numbers for 45 rows at 20 per page", "[suite][pagination]") {
  ALCHEMY_FRESH_DB(db, PageRow);
  pagination_suite::seed(*db, 45);
  const auto q = PageRow::query().order_by(PageRow::id_);

  const auto p2 = q.paginate({.page = 2, .per_page = 20});
  CHECK(ids(p2) == range_ids(21, 40));
  CHECK(p2.page() == 2);
  CHECK(p2.per_page() == 20);
  CHECK(p2.total() == 45);
  CHECK(p2.first() == 21);
  CHECK(p2.last() == 40);
  CHECK(p2.pages() == 3);
  CHECK(p2.has_prev());
  CHECK(p2.prev_num() == 1);
  CHECK(p2.has_next());
  CHECK(p2.next_num() == 3);
  CHECK(p2.size() == 20);

  const auto p1 = q.paginate();  // page 1, 20 per page
  CHECK(ids(p1.items()) == range_ids(1, 20));
  CHECK_FALSE(p1.has_prev());
  CHECK(p1.prev_num() == std::nullopt);
  CHECK(p1.first() == 1);
  CHECK(p1.last() == 20);

  const auto p3 = q.paginate({.page = 3});  // the last, partial page
  CHECK(ids(p3) == range_ids(41, 45));
  CHECK(p3.first() == 41);
  CHECK(p3.last() == 45);
  CHECK_FALSE(p3.has_next());
  CHECK(p3.next_num() == std::nullopt);
  CHECK(p3.iter_pages() == Pages{1, 2, 3});

  // A filter is paginated and counted with the page.
  const auto even = q.filter(PageRow::grp_ == 0).paginate({.page = 2, .per_page = 4});
  CHECK(ids(even) == Ids{25, 30, 35, 40});
  CHECK(even.total() == 9);
  CHECK(even.pages() == 3);

  // db.paginate(query) is the same call.
  CHECK(ids(db->paginate(q, {.page = 2, .per_page = 20})) == range_ids(21, 40));
}

TEST_CASE("iter_pages matches Flask-SQLAlchemy's test table for 15 pages", "[suite][pagination]") {
  ALCHEMY_FRESH_DB(db, PageRow);
  pagination_suite::seed(*db, 23);
  // 15 rows at one per page make the 15 pages of Flask-SQLAlchemy's test_iter_pages.
  const auto q = PageRow::query().filter(PageRow::id_ <= 15).order_by(PageRow::id_);
  const std::vector<Pages> expected = {
      {1, 2, 3, 4, 5, std::nullopt, 14, 15},
      {1, 2, 3, 4, 5, 6, std::nullopt, 14, 15},
      {1, 2, 3, 4, 5, 6, 7, std::nullopt, 14, 15},
      {1, 2, 3, 4, 5, 6, 7, 8, std::nullopt, 14, 15},
      {1, 2, 3, 4, 5, 6, 7, 8, 9, std::nullopt, 14, 15},
      {1, 2, std::nullopt, 4, 5, 6, 7, 8, 9, 10, std::nullopt, 14, 15},
      {1, 2, std::nullopt, 5, 6, 7, 8, 9, 10, 11, std::nullopt, 14, 15},
      {1, 2, std::nullopt, 6, 7, 8, 9, 10, 11, 12, std::nullopt, 14, 15},
      {1, 2, std::nullopt, 7, 8, 9, 10, 11, 12, 13, 14, 15},
      {1, 2, std::nullopt, 8, 9, 10, 11, 12, 13, 14, 15},
      {1, 2, std::nullopt, 9, 10, 11, 12, 13, 14, 15},
      {1, 2, std::nullopt, 10, 11, 12, 13, 14, 15},
      {1, 2, std::nullopt, 11, 12, 13, 14, 15},
      {1, 2, std::nullopt, 12, 13, 14, 15},
      {1, 2, std::nullopt, 13, 14, 15},
  };
  for (int64_t page = 1; page <= 15; ++page) {
    INFO("page " << page);
    const auto p = q.paginate({.page = page, .per_page = 1});
    REQUIRE(p.pages() == 15);
    CHECK(ids(p) == Ids{page});
    CHECK(p.iter_pages() == expected[static_cast<std::size_t>(page - 1)]);
  }

  // The reference's 23 pages at page 7, and other edges and windows.
  const auto all = PageRow::query().order_by(PageRow::id_);
  const auto p7 = all.paginate({.page = 7, .per_page = 1});
  CHECK(p7.iter_pages() == Pages{1, 2, std::nullopt, 5, 6, 7, 8, 9, 10, 11, std::nullopt, 22, 23});
  CHECK(p7.iter_pages({.left_edge = 1, .left_current = 1, .right_current = 1, .right_edge = 1}) ==
        Pages{1, std::nullopt, 6, 7, 8, std::nullopt, 23});
  CHECK(p7.iter_pages({.left_edge = 0, .left_current = 0, .right_current = 0, .right_edge = 0}) ==
        Pages{std::nullopt, 7, std::nullopt});
  CHECK(all.paginate({.per_page = 23}).iter_pages() == Pages{1});
  CHECK(all.paginate({.per_page = 5}).iter_pages() == Pages{1, 2, 3, 4, 5});
}

TEST_CASE("paginate on an empty query and past the last page", "[suite][pagination]") {
  ALCHEMY_FRESH_DB(db, PageRow);
  const auto empty = PageRow::query().order_by(PageRow::id_);

  const auto p = empty.paginate();
  CHECK(p.empty());
  CHECK(p.total() == 0);
  CHECK(p.pages() == 0);
  CHECK(p.first() == 0);
  CHECK(p.last() == 0);
  CHECK_FALSE(p.has_prev());
  CHECK_FALSE(p.has_next());
  CHECK(p.iter_pages().empty());
  CHECK_THROWS_AS(empty.paginate({.page = 2}), alchemy::NotFound);

  pagination_suite::seed(*db, 7);
  const auto q = PageRow::query().order_by(PageRow::id_);
  CHECK_THROWS_AS(q.paginate({.page = 3, .per_page = 5}), alchemy::NotFound);
  CHECK(ids(q.paginate({.page = 2, .per_page = 5})) == Ids{6, 7});

  const auto beyond = q.paginate({.page = 3, .per_page = 5, .error_out = false});
  CHECK(beyond.empty());
  CHECK(beyond.page() == 3);
  CHECK(beyond.total() == 7);
  CHECK(beyond.pages() == 2);
  CHECK(beyond.first() == 0);
  CHECK(beyond.last() == 0);
  CHECK(beyond.prev_num() == 2);
  CHECK_FALSE(beyond.has_next());

  // A page so far out that its offset overflows is just past the end.
  constexpr auto huge = std::numeric_limits<int64_t>::max();
  CHECK_THROWS_AS(q.paginate({.page = huge, .per_page = 100}), alchemy::NotFound);
  CHECK(q.paginate({.page = huge, .per_page = 100, .error_out = false}).empty());
  CHECK(q.paginate({.page = huge / 100, .per_page = 100, .error_out = false}).empty());
}

TEST_CASE("paginate's error_out rules and max_per_page follow Flask-SQLAlchemy", "[suite][pagination]") {
  ALCHEMY_FRESH_DB(db, PageRow);
  pagination_suite::seed(*db, 30);
  const auto q = PageRow::query().order_by(PageRow::id_);

  // Flask-SQLAlchemy's (0, None) and (None, -1) cases, and more: all 404 with error_out.
  CHECK_THROWS_AS(q.paginate({.page = 0}), alchemy::NotFound);
  CHECK_THROWS_AS(q.paginate({.page = -3}), alchemy::NotFound);
  CHECK_THROWS_AS(q.paginate({.per_page = 0}), alchemy::NotFound);
  CHECK_THROWS_AS(q.paginate({.per_page = -1}), alchemy::NotFound);
  try {
    (void)q.paginate({.page = 0});
    FAIL("no NotFound");
  } catch (const alchemy::NotFound& e) {
    CHECK(e.code() == 404);
  }

  // Without error_out: page 1 and 20 per page instead.
  const auto fixed = q.paginate({.page = 0, .per_page = -5, .error_out = false});
  CHECK(fixed.page() == 1);
  CHECK(fixed.per_page() == 20);
  CHECK(ids(fixed) == range_ids(1, 20));
  CHECK(q.paginate({.page = -1, .per_page = 7, .error_out = false}).page() == 1);
  CHECK(q.paginate({.page = 2, .per_page = 0, .error_out = false}).per_page() == 20);

  // max_per_page caps per_page before the checks; no cap when it is not given.
  const auto capped = q.paginate({.page = 2, .per_page = 50, .max_per_page = 10});
  CHECK(capped.per_page() == 10);
  CHECK(capped.max_per_page() == 10);
  CHECK(ids(capped) == range_ids(11, 20));
  CHECK(capped.pages() == 3);
  CHECK(q.paginate({.per_page = 500}).per_page() == 500);
  CHECK(q.paginate({.per_page = 500}).size() == 30);
  CHECK_THROWS_AS(q.paginate({.per_page = 10, .max_per_page = 0}), alchemy::NotFound);
  CHECK(q.paginate({.per_page = 10, .max_per_page = 0, .error_out = false}).per_page() == 20);
}

TEST_CASE("paginate sends one SELECT and one COUNT, and count=false only the SELECT", "[suite][pagination]") {
  test::Recorder rec;
  auto db = test::fresh_db<PageRow>(&rec);
  if (!db) return;
  pagination_suite::seed(*db, 12);
  const auto q = PageRow::query().filter(PageRow::grp_ != 4).order_by(PageRow::name_.desc());
  rec.clear();

  const auto p = q.paginate({.page = 2, .per_page = 3});
  auto sql = rec.sql();
  REQUIRE(sql.size() == 2);
  CHECK(sql[0].find("ORDER BY") != std::string::npos);
  CHECK((sql[0].find("LIMIT") != std::string::npos));
  CHECK(sql[1].rfind("SELECT count(*)", 0) == 0);
  CHECK(sql[1].find("ORDER BY") == std::string::npos);  // the count drops the ORDER BY
  CHECK(p.total() == q.count());
  CHECK(p.items() == q.limit(3).offset(3).all());
  rec.clear();

  const auto nc = q.paginate({.page = 2, .per_page = 3, .count = false});
  CHECK(rec.sql().size() == 1);
  CHECK(nc.total() == std::nullopt);
  CHECK(nc.pages() == 0);
  CHECK_FALSE(nc.has_next());  // as in Flask-SQLAlchemy: has_next needs the count
  CHECK(nc.items() == p.items());
  rec.clear();

  // prev() and next() carry the total over: one SELECT each.
  const auto p3 = p.next();
  CHECK(rec.sql().size() == 1);
  CHECK(p3.page() == 3);
  CHECK(p3.total() == p.total());
  CHECK(p3.items() == q.limit(3).offset(6).all());
  rec.clear();
  const auto p1 = p.prev();
  CHECK(rec.sql().size() == 1);
  CHECK(p1.page() == 1);
  CHECK(p1.items() == q.limit(3).all());
  rec.clear();

  // An empty page past the end 404s after its SELECT, without counting.
  CHECK_THROWS_AS(q.paginate({.page = 50, .per_page = 3}), alchemy::NotFound);
  CHECK(rec.sql().size() == 1);
  rec.clear();
  // A bad page number 404s before any statement.
  CHECK_THROWS_AS(q.paginate({.page = 0}), alchemy::NotFound);
  CHECK(rec.sql().empty());
}

TEST_CASE("keyset pages equal offset pages on one and on two ordering columns", "[suite][pagination]") {
  test::Recorder rec;
  auto db = test::fresh_db<PageRow>(&rec);
  if (!db) return;
  pagination_suite::seed(*db, 47);

  SECTION("by id") {
    const auto q = PageRow::query().order_by(PageRow::id_);
    alchemy::KeysetOptions opts{.per_page = 10};
    for (int64_t page = 1;; ++page) {
      INFO("page " << page);
      rec.clear();
      const auto k = q.keyset_page(opts);
      REQUIRE(rec.sql().size() == 1);  // no COUNT
      // No OFFSET (SQLite's compiler always binds one, as SQLAlchemy does: 0 here).
      if (test::backend() != "sqlite") CHECK(rec.sql().front().find("OFFSET") == std::string::npos);
      if (page > 1) CHECK(rec.sql().front().find("WHERE p_rows.id > ") != std::string::npos);
      CHECK(ids(k) == ids(q.paginate({.page = page, .per_page = 10})));
      if (!k.has_next) {
        CHECK(page == 5);
        CHECK(ids(k) == range_ids(41, 47));
        break;
      }
      REQUIRE(page < 5);
      opts.after = k.next_after;
    }
    // seek_after with a typed value is the same as a cursor.
    CHECK(ids(q.seek_after(20).limit(3)) == Ids{21, 22, 23});
    CHECK(ids(q.seek_after(int64_t{47}).limit(3)).empty());
  }

  SECTION("by grp descending, then name and id ascending") {
    const auto q = PageRow::query().order_by(PageRow::grp_.desc(), PageRow::name_, PageRow::id_);
    Ids keyset, offset;
    alchemy::KeysetOptions opts{.per_page = 6};
    int pages = 0;
    for (;;) {
      const auto k = q.keyset_page(opts);
      ++pages;
      for (auto i : ids(k)) keyset.push_back(i);
      REQUIRE(k.next_after.size() == 3);
      if (!k.has_next) break;
      REQUIRE(pages < 20);
      opts.after = k.next_after;
    }
    CHECK(pages == 8);
    for (int64_t page = 1; page <= 8; ++page)
      for (auto i : ids(q.paginate({.page = page, .per_page = 6}))) offset.push_back(i);
    CHECK(keyset == offset);
    CHECK(keyset.size() == 47);

    // The condition is bound parameters over the ordering columns.
    const auto after = q.seek_after(int32_t{1}, std::string("row22"), int64_t{22});  // row 22's key
    const auto s = after.statement();
    CHECK(s.find("row22") == std::string::npos);
    CHECK(s.find(" OR ") != std::string::npos);
    Ids tail;
    for (auto i : ids(after)) tail.push_back(i);
    const auto pos = std::find(offset.begin(), offset.end(), 22);
    REQUIRE(pos != offset.end());
    CHECK(tail == Ids(pos + 1, offset.end()));
  }
}

TEST_CASE("keyset pagination refuses cursors it cannot honour", "[suite][pagination]") {
  ALCHEMY_FRESH_DB(db, PageRow);
  pagination_suite::seed(*db, 3);
  const auto q = PageRow::query().order_by(PageRow::grp_, PageRow::id_);
  CHECK_THROWS_AS(PageRow::query().seek_after(1), alchemy::InvalidRequestError);
  CHECK_THROWS_AS(PageRow::query().keyset_page({}), alchemy::InvalidRequestError);
  CHECK_THROWS_AS(q.seek_after(1), alchemy::ArgumentError);                       // two terms, one value
  CHECK_THROWS_AS(q.seek_after(1, 2, 3), alchemy::ArgumentError);
  CHECK_THROWS_AS(q.seek_after(1, std::nullopt), alchemy::ArgumentError);        // NULL
  CHECK_THROWS_AS(q.seek_after(std::string("x"), 1), alchemy::ArgumentError);    // text for an integer
  CHECK_THROWS_AS(q.keyset_page({.per_page = 0}), alchemy::ArgumentError);
  CHECK(q.keyset_page({.per_page = 3}).items.size() == 3);
  CHECK_FALSE(q.keyset_page({.per_page = 3}).has_next);
  const auto empty = PageRow::query().filter(PageRow::id_ > 100).order_by(PageRow::id_).keyset_page({});
  CHECK(empty.items.empty());
  CHECK(empty.next_after.empty());
  CHECK_FALSE(empty.has_next);
}

TEST_CASE("get_or_404, first_or_404 and one_or_404 throw NotFound", "[suite][pagination][404]") {
  static_assert(!std::is_base_of_v<alchemy::DatabaseError, alchemy::NotFound>);
  static_assert(std::is_base_of_v<alchemy::Error, alchemy::NotFound>);
  ALCHEMY_FRESH_DB(db, PageRow);
  pagination_suite::seed(*db, 5);

  CHECK(PageRow::query().get_or_404(3)->id == 3);
  CHECK(db->get_or_404<PageRow>(4)->id == 4);
  CHECK_THROWS_AS(PageRow::query().get_or_404(99), alchemy::NotFound);
  try {
    (void)db->get_or_404<PageRow>(99, "no such row");
    FAIL("no NotFound");
  } catch (const alchemy::NotFound& e) {
    CHECK(e.code() == 404);
    CHECK(e.description() == "no such row");
    CHECK(std::string(e.what()) == "404 Not Found: no such row");
  }

  const auto q = PageRow::query().order_by(PageRow::id_);
  CHECK(q.first_or_404()->id == 1);
  CHECK(db->first_or_404(q.filter(PageRow::id_ > 3))->id == 4);
  CHECK_THROWS_AS(q.filter(PageRow::id_ > 5).first_or_404(), alchemy::NotFound);

  CHECK(q.filter(PageRow::id_ == 2).one_or_404()->id == 2);
  CHECK(db->one_or_404(q.filter(PageRow::name_ == "row5"))->id == 5);
  CHECK_THROWS_AS(q.filter(PageRow::id_ > 5).one_or_404(), alchemy::NotFound);
  CHECK_THROWS_AS(q.filter(PageRow::id_ > 3).one_or_404(), alchemy::NotFound);  // two rows
  try {
    (void)q.filter(PageRow::id_ > 5).first_or_404();
    FAIL("no NotFound");
  } catch (const alchemy::NotFound& e) {
    CHECK(e.description().empty());
    CHECK(std::string(e.what()) == "404 Not Found");
  }
  // The session is usable after a 404 (nothing was rolled back or left pending).
  db->session.add(PageRow(6, 1, "row6"));
  db->session.commit();
  CHECK(q.get_or_404(6)->name == "row6");
}

}  // namespace suite_pagination
