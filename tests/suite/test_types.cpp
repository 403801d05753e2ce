// SPDX-License-Identifier: MIT
// Every supported C++ type round-trips exactly: insert, commit, a fresh session, load. Limits,
// NULL against empty, Unicode, big values, dates at the edges of the calendar, a user type
// through TypeTraits, and the DataError for a value the field cannot hold.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "support.hpp"

namespace types_suite {

using namespace std::chrono;
using std::int16_t, std::int32_t, std::int64_t, std::int8_t, std::uint16_t, std::uint32_t, std::uint8_t;

struct Ints : alchemy::Model<Ints> {
  ALCHEMY_TABLENAME("ty_ints");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int8_t, i8);
  ALCHEMY_COLUMN(int16_t, i16);
  ALCHEMY_COLUMN(int32_t, i32);
  ALCHEMY_COLUMN(int64_t, i64);
  ALCHEMY_COLUMN(uint8_t, u8);
  ALCHEMY_COLUMN(uint16_t, u16);
  ALCHEMY_COLUMN(uint32_t, u32);
  ALCHEMY_COLUMN(std::optional<int64_t>, maybe);
};

struct Bools : alchemy::Model<Bools> {
  ALCHEMY_TABLENAME("ty_bools");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(bool, flag);
  ALCHEMY_COLUMN(std::optional<bool>, maybe);
};

struct Reals : alchemy::Model<Reals> {
  ALCHEMY_TABLENAME("ty_reals");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(float, f);
  ALCHEMY_COLUMN(double, d);
  ALCHEMY_COLUMN(std::optional<double>, maybe);
};

struct Strs : alchemy::Model<Strs> {
  ALCHEMY_TABLENAME("ty_strs");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::optional<std::string>, opt, alchemy::String(40));
  ALCHEMY_COLUMN(std::string, ten, alchemy::String(10));
  ALCHEMY_COLUMN(std::string, body, alchemy::Text);
};

struct Blobs : alchemy::Model<Blobs> {
  ALCHEMY_TABLENAME("ty_blobs");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(alchemy::Blob, data);
  ALCHEMY_COLUMN(std::optional<alchemy::Blob>, maybe);
};

struct Times : alchemy::Model<Times> {
  ALCHEMY_TABLENAME("ty_times");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(alchemy::Date, day);
  ALCHEMY_COLUMN(alchemy::DateTime, at);
  ALCHEMY_COLUMN(std::optional<alchemy::DateTime>, maybe);
};

/// A user type stored through a TypeTraits specialisation (below) as text.
enum class Color { red, green, blue };

}  // namespace types_suite

template <>
struct alchemy::TypeTraits<types_suite::Color> {
  static constexpr sql::SqlType sql_type{sql::TypeKind::string, 8};
  static sql::Value to_value(types_suite::Color c) {
    switch (c) {
      case types_suite::Color::red: return std::string("red");
      case types_suite::Color::green: return std::string("green");
      case types_suite::Color::blue: return std::string("blue");
    }
    return std::string("?");
  }
  static types_suite::Color from_ref(sql::ValueRef r) {
    const auto s = r.as_text();
    if (s == "red") return types_suite::Color::red;
    if (s == "green") return types_suite::Color::green;
    if (s == "blue") return types_suite::Color::blue;
    throw DataError(DatabaseErrorInfo{"not a color: " + std::string(s), {}, {}, 0, "test", false,
                                      Constraint::unknown});
  }
};

namespace types_suite {

struct Paint : alchemy::Model<Paint> {
  ALCHEMY_TABLENAME("ty_paint");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(Color, color);
  ALCHEMY_COLUMN(std::optional<Color>, trim);
};

/// The same table read with a 64-bit nullable field and with a 16-bit NOT NULL one.
struct Wide : alchemy::Model<Wide> {
  ALCHEMY_TABLENAME("ty_range");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::optional<int64_t>, v);
};
struct Narrow : alchemy::Model<Narrow> {
  ALCHEMY_TABLENAME("ty_range");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int16_t, v);
};

/// One table read through fields of another type than its column's (the loading paths that
/// take integers and text straight from the driver must do what column() and read() do).
struct MixedText : alchemy::Model<MixedText> {
  ALCHEMY_TABLENAME("ty_mixed");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::optional<std::string>, v, alchemy::String(20));
};
struct MixedInt : alchemy::Model<MixedInt> {
  ALCHEMY_TABLENAME("ty_mixed");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::optional<int64_t>, v);
};
struct MixedIntNotNull : alchemy::Model<MixedIntNotNull> {
  ALCHEMY_TABLENAME("ty_mixed");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int32_t, v);
};
struct MixedStringNotNull : alchemy::Model<MixedStringNotNull> {
  ALCHEMY_TABLENAME("ty_mixed");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, v, alchemy::String(20));
};

constexpr alchemy::Date ymd(int y, unsigned m, unsigned d) {
  return sys_days(year_month_day(year(y), month(m), day(d)));
}
constexpr alchemy::DateTime at(alchemy::Date d, int h, int mi, int s, int64_t us = 0) {
  return alchemy::DateTime(d) + hours(h) + minutes(mi) + seconds(s) + microseconds(us);
}

/// Commits what the session holds and loads row `id` of T in a fresh session.
template <class T>
std::shared_ptr<T> reload(alchemy::SQLAlchemy& db, int64_t id) {
  db.session.commit();
  db.session.remove();
  return db.session.query<T>().get(id);
}

}  // namespace types_suite

namespace types_suite {  // the tests too (see the note at the top of the other suite files)

TEST_CASE("every integer width round-trips its minimum and maximum", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Ints);
  using L8 = std::numeric_limits<int8_t>;
  using L16 = std::numeric_limits<int16_t>;
  using L32 = std::numeric_limits<int32_t>;
  using L64 = std::numeric_limits<int64_t>;
  Ints lo;
  lo.id = 1, lo.i8 = L8::min(), lo.i16 = L16::min(), lo.i32 = L32::min(), lo.i64 = L64::min();
  lo.u8 = 0, lo.u16 = 0, lo.u32 = 0, lo.maybe = L64::min();
  Ints hi;
  hi.id = 2, hi.i8 = L8::max(), hi.i16 = L16::max(), hi.i32 = L32::max(), hi.i64 = L64::max();
  hi.u8 = std::numeric_limits<uint8_t>::max(), hi.u16 = std::numeric_limits<uint16_t>::max();
  hi.u32 = std::numeric_limits<uint32_t>::max(), hi.maybe = std::nullopt;
  db->session.add(lo);
  db->session.add(hi);

  auto a = reload<Ints>(*db, 1);
  REQUIRE(a);
  CHECK(int(a->i8) == -128);
  CHECK(a->i16 == -32768);
  CHECK(a->i32 == L32::min());
  CHECK(a->i64 == L64::min());
  CHECK(int(a->u8) == 0);
  CHECK(a->u16 == 0);
  CHECK(a->u32 == 0u);
  CHECK(a->maybe == L64::min());
  auto b = db->session.query<Ints>().get(2);
  REQUIRE(b);
  CHECK(int(b->i8) == 127);
  CHECK(b->i16 == 32767);
  CHECK(b->i32 == L32::max());
  CHECK(b->i64 == L64::max());
  CHECK(int(b->u8) == 255);
  CHECK(b->u16 == 65535);
  CHECK(b->u32 == 4294967295u);
  CHECK_FALSE(b->maybe.has_value());

  // The limits compare exactly in filters too.
  auto q = db->session.query<Ints>();
  CHECK(q.filter(Ints::i64_ == L64::min()).one()->id == 1);
  CHECK(q.filter(Ints::i64_ == L64::max()).one()->id == 2);
  CHECK(q.filter(Ints::u32_ == 4294967295u).one()->id == 2);
  CHECK(q.filter(Ints::u16_ > 65534).one()->id == 2);
  CHECK(q.filter(Ints::maybe_.is_null()).one()->id == 2);
}

TEST_CASE("bool round-trips true, false and NULL and filters by value", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Bools);
  Bools t, f, n;
  t.id = 1, t.flag = true, t.maybe = false;
  f.id = 2, f.flag = false, f.maybe = true;
  n.id = 3, n.flag = true, n.maybe = std::nullopt;
  db->session.add(t);
  db->session.add(f);
  db->session.add(n);
  auto a = reload<Bools>(*db, 1);
  REQUIRE(a);
  CHECK(a->flag == true);
  CHECK(a->maybe == false);
  auto b = db->session.query<Bools>().get(2);
  CHECK(b->flag == false);
  CHECK(b->maybe == true);
  auto c = db->session.query<Bools>().get(3);
  CHECK(c->flag == true);
  CHECK_FALSE(c->maybe.has_value());
  auto q = db->session.query<Bools>();
  CHECK(q.filter(Bools::flag_ == true).count() == 2);
  CHECK(q.filter(Bools::flag_ == false).one()->id == 2);
  CHECK(q.filter(Bools::maybe_ == true).one()->id == 2);
  CHECK(q.filter(Bools::maybe_.is_null()).one()->id == 3);
  CHECK(q.filter_by("flag", false).one()->id == 2);
}

TEST_CASE("float and double round-trip exactly", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Reals);
  const std::vector<std::pair<float, double>> values = {
      {1.5f, 0.1},
      {-3.25f, 1e308},
      {0.0f, 0.1 + 0.2},  // 0.30000000000000004: needs all 17 digits
      {1024.0f, 1.0 / 3.0},
      {-0.5f, -1.7976931348623157e308},
      {65504.0f, 2.2250738585072014e-308},  // smallest normal double
      {3.0f, 123456789012345678.0},
      {0.125f, -2.5e-300},
  };
  for (std::size_t i = 0; i < values.size(); ++i) {
    Reals r;
    r.id = int64_t(i + 1);
    r.f = values[i].first;
    r.d = values[i].second;
    r.maybe = i % 2 ? std::optional<double>(values[i].second) : std::nullopt;
    db->session.add(r);
  }
  db->session.commit();
  db->session.remove();
  for (std::size_t i = 0; i < values.size(); ++i) {
    INFO("row " << i + 1);
    auto r = db->session.query<Reals>().get(int64_t(i + 1));
    REQUIRE(r);
    CHECK(r->f == values[i].first);
    CHECK(r->d == values[i].second);
    if (i % 2)
      CHECK(r->maybe == values[i].second);
    else
      CHECK_FALSE(r->maybe.has_value());
  }
  auto q = db->session.query<Reals>();
  CHECK(q.filter(Reals::d_ == 0.1).one()->id == 1);
  CHECK(q.filter(Reals::d_ == 0.1 + 0.2).one()->id == 3);
  CHECK(q.filter(Reals::d_ > 1e307).one()->id == 2);
  CHECK(q.filter(Reals::f_ == 1.5f).one()->id == 1);
}

TEST_CASE("floating point edge values: what each backend keeps", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Reals);
  const auto b = test::backend();
  // A float that needs nine digits: MariaDB's FLOAT is 4-byte and gives it back exactly; on
  // SQLite and PostgreSQL (whose FLOAT is double precision) it is stored as a double.
  Reals r;
  r.id = 1, r.f = 0.1f, r.d = 4.9406564584124654e-324, r.maybe = -0.0;  // subnormal; negative zero
  db->session.add(r);
  auto got = reload<Reals>(*db, 1);
  REQUIRE(got);
  CHECK(got->f == 0.1f);
  CHECK(got->d == 4.9406564584124654e-324);
  REQUIRE(got->maybe);
  CHECK(*got->maybe == 0.0);
  // The sign of zero: PostgreSQL keeps it, SQLite and MariaDB store a plain 0.
  if (b == "postgresql")
    CHECK(std::signbit(*got->maybe));
  else
    CHECK_FALSE(std::signbit(*got->maybe));

  // Infinity: SQLite and PostgreSQL store it; MariaDB refuses it.
  Reals inf;
  inf.id = 2, inf.f = 1.0f, inf.d = std::numeric_limits<double>::infinity();
  db->session.add(inf);
  if (b == "mysql") {
    CHECK_THROWS_AS(db->session.commit(), alchemy::DatabaseError);
    db->session.rollback();
  } else {
    auto back = reload<Reals>(*db, 2);
    REQUIRE(back);
    CHECK(back->d == std::numeric_limits<double>::infinity());
  }
}

TEST_CASE("strings: empty is not NULL, Unicode is kept, a megabyte round-trips", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Strs);
  std::string big;
  big.reserve(1 << 20);
  for (std::size_t i = 0; big.size() < (1u << 20); ++i) big += static_cast<char>('a' + i % 26);
  big.resize(1 << 20);
  big[1000] = '\'';
  big[2000] = '"';
  big[3000] = '\\';

  const std::string unicode = "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80\xF0\x9F\x8E\x89";  // café 中文 😀🎉
  Strs empty, null, uni, large;
  empty.id = 1, empty.opt = "", empty.ten = "", empty.body = "";
  null.id = 2, null.opt = std::nullopt, null.ten = "x", null.body = "x";
  uni.id = 3, uni.opt = unicode, uni.ten = "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80", uni.body = unicode + unicode;
  large.id = 4, large.opt = "some % value", large.ten = "some %% v", large.body = big;
  db->session.add(empty);
  db->session.add(null);
  db->session.add(uni);
  db->session.add(large);

  auto e = reload<Strs>(*db, 1);
  REQUIRE(e);
  REQUIRE(e->opt.has_value());
  CHECK(*e->opt == "");
  CHECK(e->ten == "");
  CHECK(e->body == "");
  auto n = db->session.query<Strs>().get(2);
  CHECK_FALSE(n->opt.has_value());
  auto u = db->session.query<Strs>().get(3);
  CHECK(u->opt == unicode);
  CHECK(u->ten == "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
  CHECK(u->body == unicode + unicode);
  auto l = db->session.query<Strs>().get(4);
  CHECK(l->opt == "some % value");
  CHECK(l->ten == "some %% v");
  CHECK(l->body.size() == big.size());
  CHECK(l->body == big);

  auto q = db->session.query<Strs>();
  CHECK(q.filter(Strs::opt_ == "").one()->id == 1);
  CHECK(q.filter(Strs::opt_.is_null()).one()->id == 2);
  CHECK(q.filter(Strs::opt_ == unicode).one()->id == 3);
  CHECK(q.filter(Strs::opt_.contains("\xE4\xB8\xAD\xE6\x96\x87")).one()->id == 3);
}

TEST_CASE("String(n) holds exactly n characters; longer values differ by backend", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Strs);
  const std::string ten_ascii = "abcdefghij";
  std::string ten_accents, ten_emoji;
  for (int i = 0; i < 10; ++i) ten_accents += "\xC3\xA9", ten_emoji += "\xF0\x9F\x98\x80";
  Strs a, b, c;
  a.id = 1, a.ten = ten_ascii, a.body = "a";
  b.id = 2, b.ten = ten_accents, b.body = "b";  // 10 characters, 20 bytes
  c.id = 3, c.ten = ten_emoji, c.body = "c";    // 10 characters, 40 bytes
  db->session.add(a);
  db->session.add(b);
  db->session.add(c);
  CHECK(reload<Strs>(*db, 1)->ten == ten_ascii);
  CHECK(db->session.query<Strs>().get(2)->ten == ten_accents);
  CHECK(db->session.query<Strs>().get(3)->ten == ten_emoji);

  // Eleven characters: SQLite ignores the length; PostgreSQL (22001) and MariaDB in strict mode
  // (1406) refuse the value instead of cutting it.
  Strs d;
  d.id = 4, d.ten = ten_ascii + "k", d.body = "d";
  db->session.add(d);
  if (test::backend() == "sqlite") {
    CHECK(reload<Strs>(*db, 4)->ten == ten_ascii + "k");
  } else {
    CHECK_THROWS_AS(db->session.commit(), alchemy::DataError);
    db->session.rollback();
    CHECK(db->session.query<Strs>().count() == 3);
  }
}

TEST_CASE("a NUL byte in text: kept by SQLite and MariaDB, refused by PostgreSQL", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Strs);
  const std::string with_nul("a\0b", 3);
  Strs s;
  s.id = 1, s.opt = with_nul, s.ten = "t", s.body = with_nul;
  db->session.add(s);
  if (test::backend() == "postgresql") {
    CHECK_THROWS_AS(db->session.commit(), alchemy::DataError);
    db->session.rollback();
  } else {
    auto back = reload<Strs>(*db, 1);
    REQUIRE(back);
    CHECK(back->opt == with_nul);
    CHECK(back->body == with_nul);
    CHECK(back->body.size() == 3);
  }
}

TEST_CASE("blobs keep NUL bytes and all 256 byte values; empty is not NULL", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Blobs);
  alchemy::Blob all;
  for (int round = 0; round < 3; ++round)
    for (int v = 0; v < 256; ++v) all.push_back(static_cast<std::uint8_t>(v));
  all.insert(all.end(), 5, 0);  // a run of NULs at the end
  alchemy::Blob large(300 * 1024);
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<std::uint8_t>((i * 7919) >> 3);

  Blobs a, b, c;
  a.id = 1, a.data = all, a.maybe = alchemy::Blob{0, 0, 0};
  b.id = 2, b.data = {}, b.maybe = std::nullopt;
  c.id = 3, c.data = large, c.maybe = alchemy::Blob{};
  db->session.add(a);
  db->session.add(b);
  db->session.add(c);

  auto x = reload<Blobs>(*db, 1);
  REQUIRE(x);
  CHECK(x->data.size() == all.size());
  CHECK(x->data == all);
  CHECK(x->maybe == alchemy::Blob{0, 0, 0});
  auto y = db->session.query<Blobs>().get(2);
  CHECK(y->data.empty());
  CHECK_FALSE(y->maybe.has_value());
  auto z = db->session.query<Blobs>().get(3);
  CHECK(z->data == large);
  REQUIRE(z->maybe.has_value());
  CHECK(z->maybe->empty());
  CHECK(db->session.query<Blobs>().filter(Blobs::maybe_.is_null()).one()->id == 2);
  CHECK(db->session.query<Blobs>().filter(Blobs::maybe_ == alchemy::Blob{}).one()->id == 3);
}

TEST_CASE("dates and timestamps round-trip at the edges, with and without microseconds", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Times);
  struct Row {
    alchemy::Date day;
    alchemy::DateTime at;
  };
  const std::vector<Row> rows = {
      {ymd(1970, 1, 1), at(ymd(1970, 1, 1), 0, 0, 0)},
      {ymd(2038, 1, 20), at(ymd(2038, 1, 19), 3, 14, 8)},  // past the 32-bit time_t end
      {ymd(9999, 12, 31), at(ymd(9999, 12, 31), 23, 59, 59, 999999)},
      {ymd(2024, 2, 29), at(ymd(2024, 2, 29), 23, 59, 59, 999999)},
      {ymd(1969, 12, 31), at(ymd(1969, 12, 31), 23, 59, 59, 500000)},  // before the epoch
      {ymd(2000, 1, 1), at(ymd(2000, 1, 1), 12, 0, 0, 1)},
      {ymd(1000, 1, 1), at(ymd(1000, 1, 1), 0, 0, 0)},  // MariaDB's documented minimum
      // Year 1 is outside MariaDB's documented range but stored and read back by all three.
      {ymd(1, 1, 1), at(ymd(1, 1, 1), 0, 0, 0)},
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Times t;
    t.id = int64_t(i + 1), t.day = rows[i].day, t.at = rows[i].at;
    t.maybe = i % 2 ? std::optional<alchemy::DateTime>(rows[i].at) : std::nullopt;
    db->session.add(t);
  }
  db->session.commit();
  db->session.remove();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO("row " << i + 1);
    auto t = db->session.query<Times>().get(int64_t(i + 1));
    REQUIRE(t);
    CHECK(t->day == rows[i].day);
    CHECK(t->at == rows[i].at);
    if (i % 2)
      CHECK(t->maybe == rows[i].at);
    else
      CHECK_FALSE(t->maybe.has_value());
  }
  auto q = db->session.query<Times>();
  CHECK(q.filter(Times::at_ == at(ymd(2024, 2, 29), 23, 59, 59, 999999)).one()->id == 4);
  CHECK(q.filter(Times::at_ == at(ymd(2024, 2, 29), 23, 59, 59, 999998)).count() == 0);
  CHECK(q.filter(Times::day_ < ymd(1970, 1, 2)).count() == 4);  // 1970-01-01, 1969-12-31, 1000, 1
  CHECK(q.filter(Times::day_.between(ymd(2000, 1, 1), ymd(2038, 1, 20))).count() == 3);
  std::vector<int64_t> order;
  for (const auto& t : q.order_by(Times::at_.desc())) order.push_back(t->id);
  CHECK(order == std::vector<int64_t>{3, 2, 4, 6, 1, 5, 7, 8});
}

TEST_CASE("a user type round-trips through its TypeTraits specialisation", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Paint);
  Paint a, b;
  a.id = 1, a.color = Color::green, a.trim = Color::blue;
  b.id = 2, b.color = Color::red, b.trim = std::nullopt;
  db->session.add(a);
  db->session.add(b);
  auto x = reload<Paint>(*db, 1);
  REQUIRE(x);
  CHECK(x->color == Color::green);
  CHECK(x->trim == Color::blue);
  auto y = db->session.query<Paint>().get(2);
  CHECK(y->color == Color::red);
  CHECK_FALSE(y->trim.has_value());
  auto q = db->session.query<Paint>();
  CHECK(q.filter(Paint::color_ == Color::red).one()->id == 2);
  CHECK(q.filter(Paint::color_.in_({Color::green, Color::blue})).one()->id == 1);
  CHECK(q.filter(Paint::trim_ == Color::blue).one()->id == 1);
  CHECK(q.filter(Paint::trim_ == std::nullopt).one()->id == 2);
  // Changing the field is detected and written as the type's text.
  x->color = Color::blue;
  db->session.commit();
  db->session.remove();
  CHECK(db->session.query<Paint>().filter(Paint::color_ == Color::blue).one()->id == 1);
  CHECK(db->session.query<Paint>().filter_by("color", "blue").one()->id == 1);
}

TEST_CASE("reading a value the field cannot hold is a DataError", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Wide);
  const std::pair<int64_t, std::optional<int64_t>> rows[] = {
      {1, 70000}, {2, std::nullopt}, {3, 123}, {4, -40000}, {5, 32767}, {6, -32768}, {7, int64_t{1} << 40}};
  for (const auto& [id, v] : rows) {
    Wide w;
    w.id = id, w.v = v;
    db->session.add(w);
  }
  db->session.commit();
  db->session.remove();

  auto q = db->session.query<Narrow>();
  CHECK(q.get(3)->v == 123);
  CHECK(q.get(5)->v == 32767);
  CHECK(q.get(6)->v == -32768);
  CHECK_THROWS_AS(q.get(1), alchemy::DataError);
  CHECK_THROWS_AS(q.get(4), alchemy::DataError);
  CHECK_THROWS_AS(q.get(7), alchemy::DataError);
  CHECK_THROWS_WITH(q.get(1), Catch::Contains("out of range"));
  // NULL into a field that is not a std::optional.
  CHECK_THROWS_AS(q.get(2), alchemy::DataError);
  CHECK_THROWS_WITH(q.get(2), Catch::Contains("is NULL in the database"));
  try {
    q.get(2);
  } catch (const alchemy::DataError& e) {
    CHECK(e.info().constraint == alchemy::Constraint::not_null);
  }
  CHECK_THROWS_AS(q.filter(Narrow::id_ > 0).all(), alchemy::DataError);
  // The session still works afterwards, and nothing half-read entered it.
  CHECK(q.filter(Narrow::id_.in_({3, 5, 6})).count() == 3);
  CHECK(q.filter(Narrow::id_.in_({3, 5, 6})).all().size() == 3);
  CHECK(db->session.query<Wide>().get(7)->v == int64_t{1} << 40);
}

TEST_CASE("a read that fails with DataError leaves no statement running", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, Wide);
  Wide w;
  w.id = 1, w.v = 70000;
  db->session.add(w);
  db->session.commit();
  db->session.remove();
  CHECK_THROWS_AS(db->session.query<Narrow>().get(1), alchemy::DataError);
  db->session.commit();
  db->session.remove();  // the connection goes back to the pool
  // Another connection writes: a statement left mid-result would still hold SQLite's read lock.
  auto other = alchemy::create_engine(test::backend() == "sqlite" ? test::url() + "?timeout=0.5" : test::url());
  auto conn = other->connect();
  conn.begin();
  auto& st = conn.prepare("UPDATE ty_range SET v = 5 WHERE id = 1");
  conn.run(st, {});
  st.reset();
  CHECK_NOTHROW(conn.commit());
  CHECK(db->session.query<Narrow>().get(1)->v == 5);
}

TEST_CASE("a flush that updates many rows at once keeps every kind of value", "[suite][types]") {
  // The UPDATEs of one changed-column set go out as one batch (MariaDB: array binding, each
  // kind in its own array, NULL by indicator): dates, timestamps, blobs, booleans and doubles
  // must come back as each row's own value.
  ALCHEMY_FRESH_DB(db, Times, Blobs, Bools, Reals);
  constexpr int n = 12;
  for (int i = 1; i <= n; ++i) {
    Times t;
    t.id = i, t.day = ymd(2000, 1, 1), t.at = at(ymd(2000, 1, 1), 0, 0, 0);
    db->session.add(t);
    Blobs b;
    b.id = i, b.data = alchemy::Blob{1};
    db->session.add(b);
    Bools f;
    f.id = i, f.flag = false;
    db->session.add(f);
    Reals r;
    r.id = i, r.f = 0, r.d = 0;
    db->session.add(r);
  }
  db->session.commit();
  const auto blob_of = [](int i) { return alchemy::Blob(std::size_t(i), static_cast<std::uint8_t>(i * 37)); };
  for (int i = 1; i <= n; ++i) {
    auto t = db->session.get<Times>(int64_t(i));
    t->day = ymd(2000 + i, unsigned(i), unsigned(i));
    t->at = at(ymd(1990 + i, 2, 3), i, i, i, i * 1000);
    t->maybe = i % 3 ? std::optional<alchemy::DateTime>(at(ymd(2020, 1, 1), 0, 0, i)) : std::nullopt;
    auto b = db->session.get<Blobs>(int64_t(i));
    b->data = blob_of(i);  // row 1 gets one byte, and so on; never empty: empty is its own test
    b->maybe = i % 2 ? std::optional<alchemy::Blob>(blob_of(i + 1)) : std::nullopt;
    auto f = db->session.get<Bools>(int64_t(i));
    f->flag = i % 2 == 1;
    f->maybe = i % 3 == 0 ? std::nullopt : std::optional<bool>(i % 3 == 1);
    auto r = db->session.get<Reals>(int64_t(i));
    r->d = i * 1.25;
    r->maybe = i % 4 ? std::optional<double>(-i * 0.5) : std::nullopt;
  }
  db->session.commit();
  db->session.remove();
  for (int i = 1; i <= n; ++i) {
    INFO("row " << i);
    auto t = db->session.get<Times>(int64_t(i));
    REQUIRE(t);
    CHECK(t->day == ymd(2000 + i, unsigned(i), unsigned(i)));
    CHECK(t->at == at(ymd(1990 + i, 2, 3), i, i, i, i * 1000));
    CHECK(t->maybe == (i % 3 ? std::optional<alchemy::DateTime>(at(ymd(2020, 1, 1), 0, 0, i)) : std::nullopt));
    auto b = db->session.get<Blobs>(int64_t(i));
    CHECK(b->data == blob_of(i));
    CHECK(b->maybe == (i % 2 ? std::optional<alchemy::Blob>(blob_of(i + 1)) : std::nullopt));
    auto f = db->session.get<Bools>(int64_t(i));
    CHECK(f->flag == (i % 2 == 1));
    CHECK(f->maybe == (i % 3 == 0 ? std::nullopt : std::optional<bool>(i % 3 == 1)));
    auto r = db->session.get<Reals>(int64_t(i));
    CHECK(r->d == i * 1.25);
    CHECK(r->maybe == (i % 4 ? std::optional<double>(-i * 0.5) : std::nullopt));
  }
}

TEST_CASE("text read into an integer field: digits are read, anything else is a DataError", "[suite][types]") {
  ALCHEMY_FRESH_DB(db, MixedText);
  const std::pair<int64_t, std::optional<std::string>> rows[] = {
      {1, "0"}, {2, "12"}, {3, "-7"}, {4, "abc"}, {5, ""}, {6, std::nullopt}};
  for (const auto& [id, v] : rows) {
    MixedText t;
    t.id = id, t.v = v;
    db->session.add(t);
  }
  db->session.commit();
  db->session.remove();

  auto q = db->session.query<MixedInt>();
  CHECK(q.get(1)->v == 0);  // 0, not NULL
  CHECK(q.get(2)->v == 12);
  CHECK(q.get(3)->v == -7);
  CHECK_THROWS_AS(q.get(4), alchemy::DataError);
  CHECK_THROWS_AS(q.get(5), alchemy::DataError);
  CHECK_FALSE(q.get(6)->v.has_value());
  CHECK(db->session.query<MixedIntNotNull>().get(1)->v == 0);
  CHECK_THROWS_WITH(db->session.query<MixedIntNotNull>().get(6),
                    Catch::Contains("column 'v' of") && Catch::Contains("is NULL in the database"));
  // The same rows as text: empty is not NULL.
  auto t = db->session.query<MixedText>();
  CHECK(t.get(1)->v == "0");
  CHECK(t.get(5)->v == "");
  CHECK_FALSE(t.get(6)->v.has_value());
  CHECK(db->session.query<MixedStringNotNull>().get(5)->v.empty());
  CHECK_THROWS_WITH(db->session.query<MixedStringNotNull>().get(6), Catch::Contains("is NULL in the database"));
}

TEST_CASE("SQLite: a value of another storage class than the field's is read as column() reads it", "[suite][types]") {
  if (test::backend() != "sqlite") return;  // only SQLite stores any value in any column
  ALCHEMY_FRESH_DB(db, MixedInt);
  // The column has INTEGER affinity: '12' becomes an integer, the others keep their class.
  db->session.execute(alchemy::text(
      "INSERT INTO ty_mixed (id, v) VALUES (1, 0), (2, 2.5), (3, 'abc'), (4, x'3132'), (5, '12'), "
      "(6, NULL), (7, ''), (8, -1)"));
  std::vector<std::string> classes;
  for (const auto& row : db->session.execute(alchemy::text("SELECT typeof(v) FROM ty_mixed ORDER BY id")))
    classes.push_back(row.get<std::string>(0));
  REQUIRE(classes == std::vector<std::string>{"integer", "real", "text", "blob", "integer", "null", "text", "integer"});

  auto i = db->session.query<MixedInt>();
  CHECK(i.get(1)->v == 0);
  CHECK_THROWS_WITH(i.get(2), Catch::Contains("cannot read a floating point value as integer"));
  CHECK_THROWS_WITH(i.get(3), Catch::Contains("cannot read a string value as integer"));
  CHECK_THROWS_WITH(i.get(4), Catch::Contains("cannot read a binary value as integer"));
  CHECK(i.get(5)->v == 12);
  CHECK_FALSE(i.get(6)->v.has_value());
  CHECK_THROWS_WITH(i.get(7), Catch::Contains("cannot read a string value as integer"));
  CHECK(i.get(8)->v == -1);
  CHECK_THROWS_WITH(db->session.query<MixedIntNotNull>().get(6), Catch::Contains("is NULL in the database"));

  auto t = db->session.query<MixedText>();
  CHECK_THROWS_WITH(t.get(1), Catch::Contains("cannot read a integer value as string"));
  CHECK_THROWS_WITH(t.get(2), Catch::Contains("cannot read a floating point value as string"));
  CHECK(t.get(3)->v == "abc");
  CHECK(t.get(4)->v == "12");  // a blob's bytes
  CHECK_FALSE(t.get(6)->v.has_value());
  CHECK(t.get(7)->v == "");
  CHECK(db->session.query<MixedStringNotNull>().get(7)->v.empty());
  // A query reads the same way as get().
  CHECK(i.filter(MixedInt::id_.in_({1, 5, 6, 8})).order_by(MixedInt::id_).all().size() == 4);
  CHECK_THROWS_AS(i.filter(MixedInt::id_ <= 2).all(), alchemy::DataError);
}

TEST_CASE("a flush that updates 20 MB of text in one batch writes each row", "[suite][types]") {
  // 20 MB of new text in one batch, more than MariaDB's default max_allowed_packet (16 MiB):
  // its array binding splits the batch into executions of at most 4 MiB (or a quarter of
  // max_allowed_packet), where one execution would be refused.
  ALCHEMY_FRESH_DB(db, Strs);
  constexpr int n = 40;
  const auto body = [](int i) { return std::string(512 * 1024, char('a' + i % 26)) + std::to_string(i); };
  for (int i = 1; i <= n; ++i) {
    Strs t;
    t.id = i, t.ten = "t", t.body = "old";
    db->session.add(t);
  }
  db->session.commit();
  for (int i = 1; i <= n; ++i) db->session.get<Strs>(int64_t(i))->body = body(i);
  db->session.commit();
  db->session.remove();
  int same = 0;
  for (int i = 1; i <= n; ++i)
    if (db->session.get<Strs>(int64_t(i))->body == body(i)) ++same;
  CHECK(same == n);
}

TEST_CASE("a cached statement reads right after its table's column changes type", "[suite][types]") {
  // MariaDB: the driver keeps a statement's result bindings between executions while the
  // result has the same columns; a column whose type changed under the statement must be bound
  // again (integer to text and back, signed to unsigned). PostgreSQL refuses a cached plan whose
  // result type changed, and SQLite has no ALTER COLUMN.
  if (test::backend() != "mysql") return;
  ALCHEMY_FRESH_DB(db, MixedInt);
  for (int64_t id = 1; id <= 3; ++id) {
    MixedInt t;
    t.id = id, t.v = id * 10;
    db->session.add(t);
  }
  db->session.commit();
  db->session.remove();
  const auto values = [&] {
    std::vector<std::optional<int64_t>> out;
    for (const auto& t : db->session.query<MixedInt>().order_by(MixedInt::id_).all()) out.push_back(t->v);
    db->session.remove();
    return out;
  };
  const auto alter = [&](const std::string& sql) {
    auto conn = db->engine().connect();
    conn.execute(sql);
  };
  using V = std::vector<std::optional<int64_t>>;
  CHECK(values() == V{10, 20, 30});
  alter("ALTER TABLE ty_mixed MODIFY v VARCHAR(40)");
  alter("UPDATE ty_mixed SET v = CONCAT(v, '1')");
  CHECK(values() == V{101, 201, 301});
  alter("ALTER TABLE ty_mixed MODIFY v BIGINT UNSIGNED");
  alter("UPDATE ty_mixed SET v = 18446744073709551615 WHERE id = 3");
  CHECK_THROWS_AS(values(), alchemy::DataError);  // above int64: handed over as digits, refused by the field
  db->session.remove();
  alter("UPDATE ty_mixed SET v = 7 WHERE id = 3");
  CHECK(values() == V{101, 201, 7});
  alter("ALTER TABLE ty_mixed MODIFY v BIGINT");
  CHECK(values() == V{101, 201, 7});
}

}  // namespace types_suite
