// SPDX-License-Identifier: MIT
// The shape cache (sql/detail/shape_cache.hpp): a SELECT whose shape was compiled before reuses
// that SQL, and its parameters are always its own values, in placeholder order. Every golden
// SELECT of test_compiler.cpp also goes through the cache (its check() helper); these cases
// are about statements that share a shape with different values.
#include <catch2/catch.hpp>

#include <alchemy/dialect/mysql/dialect.hpp>
#include <alchemy/dialect/postgresql/dialect.hpp>
#include <alchemy/dialect/sqlite/dialect.hpp>
#include <alchemy/orm/query.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sql = alchemy::sql;
using alchemy::mapper_of;
using alchemy::dialect::Dialect;
using Params = std::vector<sql::Value>;

namespace shape_cache_test {

struct Member : alchemy::Model<Member> {
  ALCHEMY_TABLENAME("members");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50));
  ALCHEMY_COLUMN(int32_t, score);
  ALCHEMY_COLUMN(std::optional<int64_t>, referrer_id);
};

}  // namespace shape_cache_test

using shape_cache_test::Member;

namespace {

std::vector<const Dialect*> dialects() {
  return {&alchemy::dialect::sqlite::dialect_instance(), &alchemy::dialect::postgresql::dialect_instance(),
          &alchemy::dialect::mysql::dialect_instance()};
}

sql::Select members(std::vector<sql::ExprPtr> where) {
  sql::Select s;
  s.table = &mapper_of<Member>().table();
  s.where = std::move(where);
  return s;
}

/// The cached compilation of `stmt` is the direct one: same SQL, same parameters in order.
void same_as_direct(const Dialect& d, const sql::Select& stmt, sql::SelectForm form = sql::SelectForm::rows) {
  INFO("dialect " << d.name());
  const sql::Compiled direct = d.compiler().select(stmt, form);
  std::vector<sql::ValueRef> refs;
  const auto cached = sql::compile_cached(d.compiler(), stmt, form, refs);
  CHECK(cached->sql == direct.sql);
  CHECK(Params(refs.begin(), refs.end()) == direct.params);
}

}  // namespace

TEST_CASE("a SELECT of a shape compiled before reuses its SQL and binds its own values", "[sql][shape-cache]") {
  for (const Dialect* d : dialects()) {
    const auto a = members({(Member::score_ > 10).expr, (Member::handle_ == "alice").expr});
    const auto b = members({(Member::score_ > 77).expr, (Member::handle_ == "bob").expr});
    std::vector<sql::ValueRef> ra, rb;
    const auto sa = sql::compile_cached(d->compiler(), a, sql::SelectForm::rows, ra);
    CHECK(Params(ra.begin(), ra.end()) == Params{10, "alice"});
    const auto sb = sql::compile_cached(d->compiler(), b, sql::SelectForm::rows, rb);
    CHECK(sa == sb);  // one compiled shape
    CHECK(Params(rb.begin(), rb.end()) == Params{77, "bob"});
    same_as_direct(*d, b);
  }
}

TEST_CASE("values that were equal when a shape was first compiled are still read from their own nodes",
          "[sql][shape-cache]") {
  for (const Dialect* d : dialects()) {
    same_as_direct(*d, members({(Member::score_ == 5).expr, (Member::id_ == 5).expr, (Member::score_ != 5).expr}));
    same_as_direct(*d, members({(Member::score_ == 1).expr, (Member::id_ == 2).expr, (Member::score_ != 3).expr}));
    same_as_direct(*d, members({(Member::score_ == 3).expr, (Member::id_ == 2).expr, (Member::score_ != 1).expr}));
  }
}

TEST_CASE("LIMIT and OFFSET, present or not, give every statement its own values", "[sql][shape-cache]") {
  for (const Dialect* d : dialects()) {
    for (int limit : {0, 1, 5}) {
      for (int offset : {0, 10, 20}) {
        auto s = members({(Member::score_ < limit + offset + 3).expr});
        if (limit) s.limit = limit;
        if (offset) s.offset = offset;
        same_as_direct(*d, s);
        same_as_direct(*d, s, sql::SelectForm::count);
        same_as_direct(*d, s, sql::SelectForm::exists);
      }
    }
  }
}

TEST_CASE("shapes differ in IN list lengths, operators, columns, NULL tests and LIKE escapes", "[sql][shape-cache]") {
  for (const Dialect* d : dialects()) {
    same_as_direct(*d, members({Member::id_.in_({1, 2}).expr}));
    same_as_direct(*d, members({Member::id_.in_({3, 4, 5}).expr}));
    same_as_direct(*d, members({Member::id_.in_(std::vector<int>{}).expr}));
    same_as_direct(*d, members({Member::id_.not_in({6, 7}).expr}));
    same_as_direct(*d, members({(Member::id_ < 3).expr}));
    same_as_direct(*d, members({(Member::id_ <= 3).expr}));
    same_as_direct(*d, members({(Member::score_ <= 3).expr}));
    same_as_direct(*d, members({(Member::referrer_id_ == std::nullopt).expr}));
    same_as_direct(*d, members({(Member::referrer_id_ == 9).expr}));
    same_as_direct(*d, members({Member::handle_.like("a%").expr}));
    same_as_direct(*d, members({Member::handle_.like("a%", '!').expr}));
    same_as_direct(*d, members({Member::handle_.ilike("b%").expr}));
    same_as_direct(*d, members({Member::handle_.startswith("c_").expr}));
    same_as_direct(*d, members({Member::score_.between(1, 9).expr}));
    same_as_direct(*d, members({alchemy::or_(Member::score_ == 1, Member::score_ == 2).expr}));
    same_as_direct(*d, members({alchemy::not_(alchemy::or_(Member::score_ == 3, Member::handle_ == "x")).expr}));
  }
}

TEST_CASE("subqueries and unions take their parameters in placeholder order", "[sql][shape-cache]") {
  for (const Dialect* d : dialects()) {
    for (int k : {1, 2}) {
      auto sub = std::make_shared<sql::Select>(members({(Member::score_ > 100 * k).expr}));
      sub->columns = {&Member::referrer_id_.sql_column()};
      auto outer = members({(Member::handle_ != "h" + std::to_string(k)).expr,
                            sql::subquery(sql::Op::in_select, sub, Member::id_.expr()),
                            (Member::score_ < 50 * k).expr});
      outer.limit = 3;
      same_as_direct(*d, outer);

      auto first = members({(Member::score_ == k).expr});
      first.columns = {&Member::id_.sql_column()};
      auto second = members({(Member::score_ == 10 + k).expr});
      second.columns = {&Member::id_.sql_column()};
      first.unions.push_back({k == 1, std::make_shared<sql::Select>(second)});
      same_as_direct(*d, first);
    }
  }
}

TEST_CASE("the shape cache stays bounded and correct past its size", "[sql][shape-cache]") {
  const Dialect& d = alchemy::dialect::sqlite::dialect_instance();
  for (int n = 1; n <= int(sql::detail::ShapeCache::kMaxShapes) + 50; ++n) {
    std::vector<int> ids(std::size_t(n % 300 + 1), n);
    auto s = members({Member::id_.in_(ids).expr});
    s.offset = n;  // every statement a new shape
    if (n % 97 == 0) same_as_direct(d, s);
    std::vector<sql::ValueRef> refs;
    sql::compile_cached(d.compiler(), s, sql::SelectForm::rows, refs);
  }
  CHECK(sql::detail::ShapeCache::of_this_thread().size() <= sql::detail::ShapeCache::kMaxShapes);
}

TEST_CASE("a shape and its constants stay valid for their holder when the cache starts again",
          "[sql][shape-cache]") {
  const Dialect& d = alchemy::dialect::sqlite::dialect_instance();
  auto held = members({(Member::score_ == 4).expr});
  held.limit = 3;  // SQLite binds OFFSET 0: a constant kept with the shape
  std::vector<sql::ValueRef> refs;
  const auto shape = sql::compile_cached(d.compiler(), held, sql::SelectForm::rows, refs);
  for (int n = 1; n <= int(sql::detail::ShapeCache::kMaxShapes) + 10; ++n) {  // the cache restarts
    auto s = members({(Member::score_ == n).expr});
    s.offset = n;
    std::vector<sql::ValueRef> other;
    sql::compile_cached(d.compiler(), s, sql::SelectForm::rows, other);
  }
  CHECK(shape->sql == d.compiler().select(held).sql);
  CHECK(Params(refs.begin(), refs.end()) == Params{4, 3, 0});
}

TEST_CASE("shape cache: joins are part of the shape, and values in their ON are parameters", "[unit][shape_cache]") {
  const auto& m = mapper_of<Member>();
  const auto& id = m.column(0);
  const auto& referrer = m.column(3);
  sql::Table other("others");
  sql::Column oid;
  oid.name = "id";
  const auto& other_id = other.add_column(oid);
  sql::Table third("thirds");
  const auto& third_id = third.add_column(oid);
  for (const Dialect* d : dialects()) {
    const auto on = [&](const sql::Column& key, std::int64_t v) {
      return sql::and_({sql::binary(sql::Op::eq, sql::column(key), sql::column(referrer)),
                        sql::binary(sql::Op::gt, sql::column(key), sql::bind(v))});
    };
    auto a = members({sql::binary(sql::Op::eq, sql::column(id), sql::bind(1))});
    a.joins.push_back({&other, on(other_id, 5), false});
    auto b = a;
    b.joins[0].on = on(other_id, 7);  // same shape, another value in the ON
    auto c = a;
    c.joins[0].outer = true;  // LEFT OUTER JOIN: another shape
    auto e = a;
    e.joins[0] = {&third, on(third_id, 5), false};  // another table: another shape
    for (const auto* s : {&a, &b, &c, &e}) same_as_direct(*d, *s);
  }
}
