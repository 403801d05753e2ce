// SPDX-License-Identifier: MIT
// The session's direct way to the common field types (orm/detail/direct_field.hpp) against the
// way through FieldAccess it stands in for: the same snapshot cells, the same answer to "is
// the field still the cell's value", the same text sizes, the same conversions of an integer
// read from the database. Loading rows through it, on every backend, is the behaviour suite's
// (tests/suite/test_types.cpp, test_session.cpp).
#include <alchemy/orm/model.hpp>
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace {

using alchemy::orm::detail::DirectField;
using alchemy::orm::detail::SnapCell;

struct Direct : alchemy::Model<Direct> {
  ALCHEMY_TABLENAME("direct_fields");
  ALCHEMY_COLUMN(std::int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::int32_t, small);
  ALCHEMY_COLUMN(std::optional<std::int64_t>, maybe_big);
  ALCHEMY_COLUMN(std::optional<std::int32_t>, maybe_small);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(80));
  ALCHEMY_COLUMN(std::optional<std::string>, note, alchemy::String(80));
  ALCHEMY_COLUMN(double, ratio);  // not a direct type: the way through FieldAccess stays
};

const std::vector<std::string>& texts() {
  // Around the lengths where snap_equal changes method (8 and 16 bytes), and a long one.
  static const std::vector<std::string> t = [] {
    std::vector<std::string> out{"", "a", "user123", "user1234", "user12345", "abcdefghijklmnop",
                                 "abcdefghijklmnopq", std::string(40, 'x')};
    out.push_back(std::string(40, 'x') + "y");
    return out;
  }();
  return t;
}

/// Objects covering each direct kind's values: NULLs, empty and short and long text, limits.
std::vector<Direct> samples() {
  std::vector<Direct> out;
  const std::int64_t ints[] = {0, 1, -1, 2147483647, -2147483647 - 1};
  for (std::size_t i = 0; i < texts().size(); ++i) {
    Direct d;
    d.id = std::int64_t(i) * 1000003 - 7;
    d.small = std::int32_t(ints[i % 5]);
    if (i % 3) d.maybe_big = ints[(i + 1) % 5] * 4294967296LL;
    if (i % 2) d.maybe_small = std::int32_t(ints[(i + 2) % 5]);
    d.name = texts()[i];
    if (i % 4 != 1) d.note = texts()[texts().size() - 1 - i];
    d.ratio = double(i) / 3;
    out.push_back(std::move(d));
  }
  return out;
}

bool same_cells(const SnapCell& a, const SnapCell& b) {
  if (a.kind != b.kind || a.n != b.n) return false;
  if (alchemy::orm::detail::snap_has_bytes(a.kind)) return a.n == 0 || std::memcmp(a.p, b.p, a.n) == 0;
  return a.i == b.i;
}

}  // namespace

TEST_CASE("a model's fields of the common types are direct, others are not", "[orm][direct]") {
  const auto& m = Direct::mapper();
  using K = DirectField::Kind;
  const K kinds[] = {K::int64, K::int32, K::optional_int64, K::optional_int32, K::text, K::optional_text, K::none};
  REQUIRE(m.column_count() == std::size(kinds));
  for (std::size_t i = 0; i < m.column_count(); ++i) CHECK(m.direct(i).kind == kinds[i]);
  Direct d;
  CHECK(m.model_base(&d) == static_cast<alchemy::orm::ModelBase*>(&d));
}

TEST_CASE("direct snapshot cells, sizes and comparisons are FieldAccess's", "[orm][direct]") {
  const auto& m = Direct::mapper();
  const auto objects = samples();
  for (std::size_t c = 0; c < m.column_count(); ++c) {
    const auto& d = m.direct(c);
    if (d.kind == DirectField::Kind::none) continue;
    const auto& access = m.access(c);
    for (const auto& obj : objects) {
      const auto* base = m.model_base(&obj);
      // The cell each way, into buffers with room for the longest text.
      SnapCell direct_cell{}, access_cell{};
      char direct_text[64], access_text[64];
      char* dt = direct_text;
      char* at = access_text;
      REQUIRE(alchemy::orm::detail::direct_capture(d, base, direct_cell, dt));
      access.capture(&obj, access_cell, at);
      INFO("column " << m.column(c).name << ", object " << obj.id);
      CHECK(same_cells(direct_cell, access_cell));
      CHECK(dt - direct_text == at - access_text);
      if (alchemy::orm::detail::snap_has_bytes(direct_cell.kind)) CHECK(direct_cell.p == direct_text);
      if (const auto bytes = alchemy::orm::detail::direct_bytes(d, base)) CHECK(*bytes == access.snapshot_bytes(&obj));
      // Every object's field against every object's cell: both ways agree, and a field
      // matches its own cell.
      for (const auto& other : objects) {
        SnapCell cell{};
        char text[64];
        char* t = text;
        access.capture(&other, cell, t);
        const bool direct = alchemy::orm::detail::direct_same(d, base, cell);
        CHECK(direct == access.same(&obj, cell));
        if (&other == &obj) CHECK(direct);
      }
    }
  }
}

TEST_CASE("snap_equal compares every byte at every length", "[orm][direct]") {
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::string a(n, 'k');
    CHECK(alchemy::orm::detail::snap_equal(a.data(), n, a.c_str(), n));
    if (n > 0) CHECK_FALSE(alchemy::orm::detail::snap_equal(a.data(), n, a.data(), n - 1));
    for (std::size_t at = 0; at < n; ++at) {
      std::string b = a;
      b[at] = 'j';
      INFO("length " << n << ", differing at " << at);
      CHECK_FALSE(alchemy::orm::detail::snap_equal(a.data(), n, b.data(), n));
    }
  }
}

TEST_CASE("an integer set directly converts as FieldAccess::read does", "[orm][direct]") {
  const auto& m = Direct::mapper();
  const std::int64_t values[] = {0, 42, -42, 2147483647, -2147483648LL, 2147483648LL, -2147483649LL,
                                 9223372036854775807LL};
  for (std::size_t c = 0; c < 4; ++c) {  // the integer columns
    const auto& d = m.direct(c);
    for (const auto v : values) {
      Direct direct, through;
      INFO("column " << m.column(c).name << ", value " << v);
      bool access_threw = false, direct_threw = false;
      try {
        m.access(c).read(&through, alchemy::sql::ValueRef::integer(v));
      } catch (const alchemy::DataError&) {
        access_threw = true;
      }
      bool set = false;
      try {
        set = alchemy::orm::detail::direct_set_integer(d, m.model_base(&direct), v);
      } catch (const alchemy::DataError&) {
        direct_threw = true;
      }
      CHECK(set != direct_threw);
      CHECK(direct_threw == access_threw);
      CHECK(m.access(c).get(&direct) == m.access(c).get(&through));
    }
  }
  Direct d;
  CHECK_FALSE(alchemy::orm::detail::direct_set_integer(m.direct(4), m.model_base(&d), 1));  // text
  CHECK_FALSE(alchemy::orm::detail::direct_set_integer(m.direct(6), m.model_base(&d), 1));  // double
}
