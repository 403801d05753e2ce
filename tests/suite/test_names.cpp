// SPDX-License-Identifier: MIT
// Tables and columns with names that need quoting on every backend: reserved words, upper case,
// spaces, quotes and backticks, and the 21 names of SQLAlchemy's DifficultParametersTest. Each
// table is created, filled, filtered, updated and emptied through the ORM.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_names {

namespace names_suite {

/// A reserved-word table whose columns are reserved words or hold odd characters.
struct Order : alchemy::Model<Order> {
  ALCHEMY_TABLENAME("order");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, select_, alchemy::String(40), alchemy::name("select"));
  ALCHEMY_COLUMN(std::optional<std::string>, user, alchemy::String(40));
  ALCHEMY_COLUMN(int32_t, mixed, alchemy::name("Mixed"), alchemy::index);
  ALCHEMY_COLUMN(std::string, x_y, alchemy::String(40), alchemy::name("x y"));
  ALCHEMY_COLUMN(std::optional<int64_t>, a_dq_b, alchemy::name("a\"b"), alchemy::unique);
  ALCHEMY_COLUMN(std::string, a_bt_b, alchemy::String(40), alchemy::name("a`b"));

  Order() = default;
  Order(int64_t i, std::string s, std::optional<std::string> u, int32_t m, std::string xy,
        std::optional<int64_t> dq, std::string bt)
      : id(i), select_(std::move(s)), user(std::move(u)), mixed(m), x_y(std::move(xy)), a_dq_b(dq),
        a_bt_b(std::move(bt)) {}
};

/// A table whose own name holds both quote characters and upper case, pointing at "order".
struct Weird : alchemy::Model<Weird> {
  ALCHEMY_TABLENAME("we\"ird`Tbl");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name_, alchemy::String(40), alchemy::name("Name"));
  ALCHEMY_COLUMN(int64_t, order_id, alchemy::name("order"), alchemy::ForeignKey("order.id", alchemy::on_delete_cascade));
};

/// SQLAlchemy's DifficultParametersTest names, as column names.
struct Difficult : alchemy::Model<Difficult> {
  ALCHEMY_TABLENAME("nm_difficult");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int32_t, c01, alchemy::name("per cent"));
  ALCHEMY_COLUMN(int32_t, c02, alchemy::name("per % cent"));
  ALCHEMY_COLUMN(int32_t, c03, alchemy::name("%percent"));
  ALCHEMY_COLUMN(int32_t, c04, alchemy::name("par(ens)"));
  ALCHEMY_COLUMN(int32_t, c05, alchemy::name("percent%(ens)yah"));
  ALCHEMY_COLUMN(int32_t, c06, alchemy::name("col:ons"));
  ALCHEMY_COLUMN(int32_t, c07, alchemy::name("_starts_with_underscore"));
  ALCHEMY_COLUMN(int32_t, c08, alchemy::name("dot.s"));
  ALCHEMY_COLUMN(int32_t, c09, alchemy::name("more :: %colons%"));
  ALCHEMY_COLUMN(int32_t, c10, alchemy::name("_name"));
  ALCHEMY_COLUMN(int32_t, c11, alchemy::name("___name"));
  ALCHEMY_COLUMN(int32_t, c12, alchemy::name("[BracketsAndCase]"));
  ALCHEMY_COLUMN(int32_t, c13, alchemy::name("42numbers"));
  ALCHEMY_COLUMN(int32_t, c14, alchemy::name("percent%signs"));
  ALCHEMY_COLUMN(int32_t, c15, alchemy::name("has spaces"));
  ALCHEMY_COLUMN(int32_t, c16, alchemy::name("/slashes/"));
  ALCHEMY_COLUMN(int32_t, c17, alchemy::name("more/slashes"));
  ALCHEMY_COLUMN(int32_t, c18, alchemy::name("q?marks"));
  ALCHEMY_COLUMN(int32_t, c19, alchemy::name("1param"));
  ALCHEMY_COLUMN(int32_t, c20, alchemy::name("1col:on"));
  ALCHEMY_COLUMN(std::optional<std::string>, c21, alchemy::String(20), alchemy::name("boring"));
};

const std::vector<std::string> difficult_names = {
    "per cent", "per % cent", "%percent", "par(ens)", "percent%(ens)yah", "col:ons",
    "_starts_with_underscore", "dot.s", "more :: %colons%", "_name", "___name", "[BracketsAndCase]",
    "42numbers", "percent%signs", "has spaces", "/slashes/", "more/slashes", "q?marks", "1param",
    "1col:on"};  // and "boring", the one string column

/// 63 characters: PostgreSQL's identifier limit, within MariaDB's 64.
struct Long63 : alchemy::Model<Long63> {
  ALCHEMY_TABLENAME("nm_long63");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int32_t, v, alchemy::name(std::string(63, 'c')));
};

/// 70 characters: over every server's limit.
struct Long70 : alchemy::Model<Long70> {
  ALCHEMY_TABLENAME("nm_long70");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int32_t, v, alchemy::name(std::string(70, 'd')));
};

using Ids = std::vector<int64_t>;

template <class T>
Ids ids(const alchemy::Query<T>& q) {
  Ids out;
  for (const auto& o : q.order_by(T::id_).all()) out.push_back(o->id);
  return out;
}

int32_t value_of(const Difficult& d, std::size_t i) {
  const int32_t Difficult::*fields[] = {&Difficult::c01, &Difficult::c02, &Difficult::c03, &Difficult::c04,
                                        &Difficult::c05, &Difficult::c06, &Difficult::c07, &Difficult::c08,
                                        &Difficult::c09, &Difficult::c10, &Difficult::c11, &Difficult::c12,
                                        &Difficult::c13, &Difficult::c14, &Difficult::c15, &Difficult::c16,
                                        &Difficult::c17, &Difficult::c18, &Difficult::c19, &Difficult::c20};
  return d.*fields[i];
}

Difficult make_difficult(int64_t id, int32_t base) {
  Difficult d;
  d.id = id;
  int32_t* fields[] = {&d.c01, &d.c02, &d.c03, &d.c04, &d.c05, &d.c06, &d.c07, &d.c08, &d.c09, &d.c10,
                       &d.c11, &d.c12, &d.c13, &d.c14, &d.c15, &d.c16, &d.c17, &d.c18, &d.c19, &d.c20};
  for (std::size_t i = 0; i < 20; ++i) *fields[i] = base + int32_t(i);
  d.c21 = "row " + std::to_string(id);
  return d;
}

}  // namespace names_suite

using namespace names_suite;

TEST_CASE("reserved words, upper case, spaces, quotes and backticks work as names", "[suite][names]") {
  ALCHEMY_FRESH_DB(db, Order, Weird);
  db->session.add(Order(1, "s1", "u1", 10, "xy1", 100, "bt1"));
  db->session.add(Order(2, "s2", std::nullopt, 20, "xy2", std::nullopt, "bt2"));
  db->session.add(Order(3, "s3", "u3", 30, "xy3", 300, "bt3"));
  db->session.commit();
  db->session.remove();

  auto q = Order::query();
  auto one = q.get(1);
  REQUIRE(one);
  CHECK(one->select_ == "s1");
  CHECK(one->user == "u1");
  CHECK(one->mixed == 10);
  CHECK(one->x_y == "xy1");
  CHECK(one->a_dq_b == 100);
  CHECK(one->a_bt_b == "bt1");

  // Filters through each column handle, and through each name.
  CHECK(ids(q.filter(Order::select__ == "s2")) == Ids{2});
  CHECK(ids(q.filter(Order::user_.is_null())) == Ids{2});
  CHECK(ids(q.filter(Order::mixed_ >= 20)) == Ids{2, 3});
  CHECK(ids(q.filter(Order::x_y_.in_({"xy1", "xy3"}))) == Ids{1, 3});
  CHECK(ids(q.filter(Order::a_dq_b_ > 150)) == Ids{3});
  CHECK(ids(q.filter(Order::a_bt_b_.like("bt%"))) == Ids{1, 2, 3});
  CHECK(ids(q.filter_by("select", "s3")) == Ids{3});
  CHECK(ids(q.filter_by("user", "u1")) == Ids{1});
  CHECK(ids(q.filter_by("Mixed", 20)) == Ids{2});
  CHECK(ids(q.filter_by("x y", "xy2")) == Ids{2});
  CHECK(ids(q.filter_by("a\"b", 300)) == Ids{3});
  CHECK(ids(q.filter_by("a`b", "bt1")) == Ids{1});
  std::vector<int64_t> by_mixed;
  for (const auto& o : q.order_by(Order::mixed_.desc())) by_mixed.push_back(o->id);
  CHECK(by_mixed == Ids{3, 2, 1});
  CHECK(q.filter(Order::select__ != "s1").count() == 2);

  // The UNIQUE constraint on "a\"b" is there.
  db->session.add(Order(4, "s4", "u4", 40, "xy4", 100, "bt4"));
  CHECK_THROWS_AS(db->session.commit(), alchemy::IntegrityError);
  db->session.rollback();

  // UPDATE through dirty tracking and through a bulk update.
  one->select_ = "changed";
  one->x_y = "x y changed";
  one->a_bt_b = "a`b changed";
  db->session.commit();
  CHECK(q.filter(Order::mixed_ < 25).update({{"user", "bulk"}}) == 2);
  CHECK(q.filter_by("Mixed", 10).update({{"a\"b", int64_t{7}}, {"x y", "bulk x y"}}) == 1);
  db->session.commit();
  db->session.remove();
  auto again = Order::query().get(1);
  REQUIRE(again);
  CHECK(again->select_ == "changed");
  CHECK(again->x_y == "bulk x y");
  CHECK(again->a_bt_b == "a`b changed");
  CHECK(again->a_dq_b == 7);
  CHECK(again->user == "bulk");
  CHECK(Order::query().get(2)->user == "bulk");
  CHECK(Order::query().get(3)->user == "u3");

  // A child table with a quoted name and a column called "order", cascading from "order".
  Weird w;
  w.id = 1, w.name_ = "child", w.order_id = 3;
  db->session.add(w);
  db->session.commit();
  CHECK(Weird::query().filter(Weird::order_id_ == int64_t{3}).one()->name_ == "child");
  CHECK(Weird::query().filter_by("Name", "child").count() == 1);

  // DELETE through the session and in bulk.
  db->session.delete_(Order::query().get(1));
  db->session.commit();
  CHECK(Order::query().filter_by("x y", "xy3").delete_() == 1);
  db->session.commit();
  db->session.remove();
  CHECK(ids(Order::query()) == Ids{2});
  CHECK(Weird::query().count() == 0);  // ON DELETE CASCADE from "order"
}

TEST_CASE("odd names are quoted the way each dialect quotes them", "[suite][names]") {
  ALCHEMY_FRESH_DB(db, Order, Weird);
  const auto sql = Order::query().filter(Order::select__ == "x").statement();
  const auto weird = Weird::query().filter_by("Name", "n").statement();
  const auto b = test::backend();
  if (b == "sqlite") {
    CHECK(sql ==
          "SELECT \"order\".id, \"order\".\"select\", \"order\".user, \"order\".\"Mixed\", \"order\".\"x y\", "
          "\"order\".\"a\"\"b\", \"order\".\"a`b\" FROM \"order\" WHERE \"order\".\"select\" = ?");
    CHECK(weird ==
          "SELECT \"we\"\"ird`Tbl\".id, \"we\"\"ird`Tbl\".\"Name\", \"we\"\"ird`Tbl\".\"order\" FROM "
          "\"we\"\"ird`Tbl\" WHERE \"we\"\"ird`Tbl\".\"Name\" = ?");
  } else if (b == "postgresql") {
    // "user" is reserved on PostgreSQL only.
    CHECK(sql ==
          "SELECT \"order\".id, \"order\".\"select\", \"order\".\"user\", \"order\".\"Mixed\", \"order\".\"x y\", "
          "\"order\".\"a\"\"b\", \"order\".\"a`b\" FROM \"order\" WHERE \"order\".\"select\" = $1");
    CHECK(weird ==
          "SELECT \"we\"\"ird`Tbl\".id, \"we\"\"ird`Tbl\".\"Name\", \"we\"\"ird`Tbl\".\"order\" FROM "
          "\"we\"\"ird`Tbl\" WHERE \"we\"\"ird`Tbl\".\"Name\" = $1");
  } else {
    CHECK(sql ==
          "SELECT `order`.id, `order`.`select`, `order`.user, `order`.`Mixed`, `order`.`x y`, "
          "`order`.`a\"b`, `order`.`a``b` FROM `order` WHERE `order`.`select` = ?");
    CHECK(weird ==
          "SELECT `we\"ird``Tbl`.id, `we\"ird``Tbl`.`Name`, `we\"ird``Tbl`.`order` FROM `we\"ird``Tbl` "
          "WHERE `we\"ird``Tbl`.`Name` = ?");
  }
  // The tables exist under their exact names.
  auto conn = db->engine().connect();
  CHECK(conn.has_table("order"));
  CHECK(conn.has_table("we\"ird`Tbl"));
}

TEST_CASE("the 21 DifficultParametersTest names work as column names", "[suite][names]") {
  // SQLAlchemy also uses them as bound-parameter names; alchemy's parameters are positional
  // (?, $n), so only the column-name half applies. None is over a backend's length limit.
  ALCHEMY_FRESH_DB(db, Difficult);
  db->session.add(make_difficult(1, 0));
  db->session.add(make_difficult(2, 100));
  db->session.add(make_difficult(3, 200));
  db->session.commit();
  db->session.remove();

  auto loaded = Difficult::query().get(2);
  REQUIRE(loaded);
  for (std::size_t i = 0; i < 20; ++i) {
    INFO(difficult_names[i]);
    CHECK(value_of(*loaded, i) == 100 + int32_t(i));
  }
  CHECK(loaded->c21 == "row 2");

  for (std::size_t i = 0; i < difficult_names.size(); ++i) {
    const auto& name = difficult_names[i];
    INFO(name);
    auto q = Difficult::query();
    CHECK(ids(q.filter_by(name, 200 + int32_t(i))) == Ids{3});
    CHECK(q.filter_by(name, 200 + int32_t(i)).statement().find("WHERE ") != std::string::npos);
    // A bulk UPDATE and a filter on the same column.
    CHECK(q.filter_by(name, int32_t(i)).update({{name, 1000 + int32_t(i)}}) == 1);
    CHECK(ids(q.filter_by(name, 1000 + int32_t(i))) == Ids{1});
  }
  CHECK(ids(Difficult::query().filter_by("boring", "row 3")) == Ids{3});
  CHECK(ids(Difficult::query().filter(Difficult::c18_ > 110, Difficult::c12_ < 300)) == Ids{2, 3});
  db->session.commit();

  // An UPDATE of every column at once, through dirty tracking.
  auto two = Difficult::query().get(2);
  auto changed = make_difficult(2, 500);
  *two = changed;  // copies fields only; the session's bookkeeping stays with `two`
  db->session.commit();
  db->session.remove();
  auto back = Difficult::query().get(2);
  for (std::size_t i = 0; i < 20; ++i) {
    INFO(difficult_names[i]);
    CHECK(value_of(*back, i) == 500 + int32_t(i));
  }
  auto first = Difficult::query().get(1);
  for (std::size_t i = 0; i < 20; ++i) CHECK(value_of(*first, i) == 1000 + int32_t(i));

  CHECK(Difficult::query().filter_by("q?marks", 517, "1col:on", 519).delete_() == 1);
  CHECK(Difficult::query().filter(Difficult::c13_.in_({1012, 212})).delete_() == 2);
  db->session.commit();
  CHECK(Difficult::query().count() == 0);
}

TEST_CASE("a 63-character column name works everywhere; 70 characters only where the backend allows", "[suite][names]") {
  {
    ALCHEMY_FRESH_DB(db, Long63);
    Long63 row;
    row.id = 1, row.v = 63;
    db->session.add(row);
    db->session.commit();
    db->session.remove();
    CHECK(Long63::query().filter_by(std::string(63, 'c'), 63).one()->id == 1);
  }
  if (test::backend() == "mysql") {
    // MariaDB refuses identifiers over 64 characters (error 1059): the table cannot be made.
    CHECK_THROWS_AS(test::fresh_db<Long70>(), alchemy::ProgrammingError);
    return;
  }
  // SQLite has no limit. PostgreSQL truncates every identifier to 63 bytes, in CREATE TABLE and
  // in queries alike, so the long name keeps working (with a NOTICE alchemy does not show).
  ALCHEMY_FRESH_DB(db, Long70);
  Long70 row;
  row.id = 1, row.v = 70;
  db->session.add(row);
  db->session.commit();
  db->session.remove();
  CHECK(Long70::query().filter_by(std::string(70, 'd'), 70).one()->id == 1);
  CHECK(Long70::query().filter(Long70::v_ == 70).count() == 1);
}

}  // namespace suite_names
