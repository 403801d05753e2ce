// SPDX-License-Identifier: MIT
// Golden SQL: for every operator and statement, the exact SQL text and bound parameters that each
// dialect's compiler produces. The expected values are what SQLAlchemy 2.x emits (see
// shared/reference/sqlalchemy-behaviour.md, sections 2.1 to 2.4), on one line, with `?`
// placeholders for SQLite and MySQL and `$n` for PostgreSQL. No database and no client library
// is needed.
#include <catch2/catch.hpp>

#include <alchemy/dialect/mysql/dialect.hpp>
#include <alchemy/dialect/postgresql/dialect.hpp>
#include <alchemy/dialect/sqlite/dialect.hpp>
#include <alchemy/orm/query.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sql = alchemy::sql;
using alchemy::Condition;
using alchemy::mapper_of;
using alchemy::dialect::Dialect;
using sql::Value;
using Params = std::vector<Value>;

namespace Catch {
template <>
struct StringMaker<alchemy::sql::Value> {
  static std::string convert(const alchemy::sql::Value& v) {
    using alchemy::sql::ValueKind;
    switch (v.kind()) {
      case ValueKind::null: return "NULL";
      case ValueKind::integer: return std::to_string(v.as_integer());
      case ValueKind::real: return std::to_string(v.as_real());
      case ValueKind::boolean: return v.as_boolean() ? "true" : "false";
      case ValueKind::text: return "'" + v.as_text() + "'";
      case ValueKind::blob: return "<blob of " + std::to_string(v.as_blob().size()) + " bytes>";
      case ValueKind::date: return "<date>";
      case ValueKind::datetime: return "<datetime>";
    }
    return "?";
  }
};
}  // namespace Catch

// Models live in a namespace of their own: every test file is linked into one binary, and
// mapper_of<T> registers a model class once, so two files must never define the same class.
namespace compiler_test {

/// The tutorial's model.
struct Account : alchemy::Model<Account> {
  ALCHEMY_TABLENAME("accounts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::optional<std::string>, secret_key, alchemy::String(128));
};

namespace sa {
/// The model of the reference's section 2.3, exactly: Integer key, automatic table name.
struct Account : alchemy::Model<Account> {
  ALCHEMY_COLUMN(int32_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::optional<std::string>, secret_key, alchemy::String(128));
};
}  // namespace sa

/// One column of each C++ type alchemy maps.
struct Typed : alchemy::Model<Typed> {
  ALCHEMY_TABLENAME("typed");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(bool, flag);
  ALCHEMY_COLUMN(float, ratio);
  ALCHEMY_COLUMN(double, score);
  ALCHEMY_COLUMN(std::string, body, alchemy::Text);
  ALCHEMY_COLUMN(alchemy::Blob, data);
  ALCHEMY_COLUMN(alchemy::Date, day);
  ALCHEMY_COLUMN(alchemy::DateTime, created);
  ALCHEMY_COLUMN(int16_t, small);
  ALCHEMY_COLUMN(int32_t, medium);
  ALCHEMY_COLUMN(int64_t, big);
  ALCHEMY_COLUMN(std::optional<double>, maybe);
};

/// Server defaults: the DEFAULT clause's place differs on MySQL.
struct Flagged : alchemy::Model<Flagged> {
  ALCHEMY_TABLENAME("flagged");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(bool, active, alchemy::server_default("0"));
  ALCHEMY_COLUMN(std::optional<alchemy::DateTime>, created, alchemy::server_default("CURRENT_TIMESTAMP"));
};

/// Foreign keys and indexes.
struct Post : alchemy::Model<Post> {
  ALCHEMY_TABLENAME("posts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, author_id, alchemy::ForeignKey("accounts.id", alchemy::on_delete_cascade));
  ALCHEMY_COLUMN(std::string, title, alchemy::String(100), alchemy::index);
  ALCHEMY_COLUMN(std::string, slug, alchemy::String(100), alchemy::unique, alchemy::index);
  ALCHEMY_COLUMN(std::optional<int64_t>, editor_id,
                 alchemy::ForeignKey("accounts.id", alchemy::on_delete_set_null, alchemy::on_update_cascade));
};

/// Nothing but the generated key: INSERT takes every default.
struct Ticker : alchemy::Model<Ticker> {
  ALCHEMY_TABLENAME("ticks");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
};

/// A string without a length: fine on SQLite and PostgreSQL, an error on MySQL.
struct Loose : alchemy::Model<Loose> {
  ALCHEMY_TABLENAME("loose");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, note);
};

/// A natural (string) key: nothing is generated.
struct Country : alchemy::Model<Country> {
  ALCHEMY_TABLENAME("countries");
  ALCHEMY_COLUMN(std::string, code, alchemy::String(2), alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(80));
};

/// A composite key: nothing is generated, every key column is in the WHERE.
struct Pair : alchemy::Model<Pair> {
  ALCHEMY_TABLENAME("pairs");
  ALCHEMY_COLUMN(int64_t, a, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, b, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, label, alchemy::String(20));
};

/// Reserved words as table and column names.
struct Order : alchemy::Model<Order> {
  ALCHEMY_TABLENAME("order");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, select_, alchemy::name("select"), alchemy::String(10), alchemy::index);
};

/// A 16-bit generated key.
struct SmallKey : alchemy::Model<SmallKey> {
  ALCHEMY_TABLENAME("small_keys");
  ALCHEMY_COLUMN(int16_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, label, alchemy::String(20));
};

}  // namespace compiler_test

using compiler_test::Account;

namespace {

const Dialect& sqlite() { return alchemy::dialect::sqlite::dialect_instance(); }
const Dialect& postgresql() { return alchemy::dialect::postgresql::dialect_instance(); }
const Dialect& mysql() { return alchemy::dialect::mysql::dialect_instance(); }

/// Compiles `stmt` with `d` and checks the SQL text and the parameters, compiled directly and
/// through the shape cache (sql/detail/shape_cache.hpp), the second time from the cache.
void check(const Dialect& d, const sql::Select& stmt, std::string_view expected, const Params& params,
           sql::SelectForm form = sql::SelectForm::rows) {
  INFO("dialect " << d.name());
  const sql::Compiled c = d.compiler().select(stmt, form);
  CHECK(c.sql == expected);
  CHECK(c.params == params);
  for (int pass = 0; pass < 2; ++pass) {
    INFO("shape cache, pass " << pass);
    std::vector<sql::ValueRef> refs;
    const auto shape = sql::compile_cached(d.compiler(), stmt, form, refs);
    CHECK(shape->sql == expected);
    CHECK(Params(refs.begin(), refs.end()) == params);
  }
}

/// SELECT every column of M.
template <class M>
sql::Select select_all() {
  sql::Select s;
  s.table = &mapper_of<M>().table();
  return s;
}

/// SELECT accounts.id FROM accounts WHERE <cond>.
sql::Select where(const Condition<Account>& cond) {
  sql::Select s;
  s.table = &mapper_of<Account>().table();
  s.columns = {&Account::id_.sql_column()};
  s.where.push_back(cond.expr);
  return s;
}

const std::string kWhere = "SELECT accounts.id FROM accounts WHERE ";
const std::string kAll = "SELECT accounts.id, accounts.handle, accounts.secret_key FROM accounts";

/// `cond` in a WHERE, with one expected text per dialect.
void check_where(const Condition<Account>& cond, std::string_view for_sqlite, std::string_view for_postgresql,
                 std::string_view for_mysql, const Params& params) {
  check(sqlite(), where(cond), kWhere + std::string(for_sqlite), params);
  check(postgresql(), where(cond), kWhere + std::string(for_postgresql), params);
  check(mysql(), where(cond), kWhere + std::string(for_mysql), params);
}

/// `cond` in a WHERE, where SQLite and MySQL agree (`?`) and PostgreSQL differs only in `$n`.
void check_where(const Condition<Account>& cond, std::string_view qmark, std::string_view dollar,
                 const Params& params) {
  check_where(cond, qmark, dollar, qmark, params);
}

/// A hand-built column.
sql::Column& add_column(sql::Table& t, std::string name, sql::TypeKind kind = sql::TypeKind::integer,
                        int length = 0) {
  sql::Column c;
  c.name = std::move(name);
  c.type = sql::SqlType{kind, length};
  return t.add_column(std::move(c));
}

/// The message of the CompileError that `f` throws.
template <class F>
std::string compile_error(F&& f) {
  try {
    f();
  } catch (const alchemy::CompileError& e) {
    return e.what();
  }
  FAIL("no CompileError");
  return "";
}

}  // namespace

// === Comparisons ================================================================================

TEST_CASE("each comparison operator renders with a bound parameter", "[sql][compiler]") {
  check_where(Account::id_ == 5, "accounts.id = ?", "accounts.id = $1", {5});
  check_where(Account::id_ != 5, "accounts.id != ?", "accounts.id != $1", {5});
  check_where(Account::id_ < 5, "accounts.id < ?", "accounts.id < $1", {5});
  check_where(Account::id_ <= 5, "accounts.id <= ?", "accounts.id <= $1", {5});
  check_where(Account::id_ > 5, "accounts.id > ?", "accounts.id > $1", {5});
  check_where(Account::id_ >= 5, "accounts.id >= ?", "accounts.id >= $1", {5});
}

TEST_CASE("a string comparison binds the string, never inlines it", "[sql][compiler]") {
  check_where(Account::handle_ == "jdoe", "accounts.handle = ?", "accounts.handle = $1", {"jdoe"});
  check_where(Account::handle_ == std::string("x' OR '1'='1"), "accounts.handle = ?", "accounts.handle = $1",
              {"x' OR '1'='1"});
  check_where(Account::handle_ != std::string_view("admin"), "accounts.handle != ?", "accounts.handle != $1",
              {"admin"});
}

TEST_CASE("comparing two columns of one model binds nothing", "[sql][compiler]") {
  check_where(Account::handle_ == Account::secret_key_, "accounts.handle = accounts.secret_key",
              "accounts.handle = accounts.secret_key", {});
  check_where(Account::handle_ != Account::secret_key_, "accounts.handle != accounts.secret_key",
              "accounts.handle != accounts.secret_key", {});
}

TEST_CASE("comparing with std::nullopt renders IS NULL and IS NOT NULL", "[sql][compiler]") {
  check_where(Account::secret_key_ == std::nullopt, "accounts.secret_key IS NULL", "accounts.secret_key IS NULL",
              {});
  check_where(Account::secret_key_ != std::nullopt, "accounts.secret_key IS NOT NULL",
              "accounts.secret_key IS NOT NULL", {});
  check_where(Account::secret_key_ == std::optional<std::string>{}, "accounts.secret_key IS NULL",
              "accounts.secret_key IS NULL", {});
  check_where(Account::secret_key_ == std::optional<std::string>{"k"}, "accounts.secret_key = ?",
              "accounts.secret_key = $1", {"k"});
}

TEST_CASE("is_null and is_not_null render IS NULL and IS NOT NULL", "[sql][compiler]") {
  check_where(Account::secret_key_.is_null(), "accounts.secret_key IS NULL", "accounts.secret_key IS NULL", {});
  check_where(Account::secret_key_.is_not_null(), "accounts.secret_key IS NOT NULL",
              "accounts.secret_key IS NOT NULL", {});
}

TEST_CASE("between binds both bounds", "[sql][compiler]") {
  check_where(Account::id_.between(1, 9), "accounts.id BETWEEN ? AND ?", "accounts.id BETWEEN $1 AND $2", {1, 9});
  check_where(not_(Account::id_.between(1, 9)), "accounts.id NOT BETWEEN ? AND ?",
              "accounts.id NOT BETWEEN $1 AND $2", {1, 9});
}

// === Pattern matching ===========================================================================

TEST_CASE("like and not_like bind the pattern", "[sql][compiler]") {
  check_where(Account::handle_.like("%doe%"), "accounts.handle LIKE ?", "accounts.handle LIKE $1", {"%doe%"});
  check_where(Account::handle_.not_like("%adm%"), "accounts.handle NOT LIKE ?", "accounts.handle NOT LIKE $1",
              {"%adm%"});
}

TEST_CASE("like with an escape character renders ESCAPE", "[sql][compiler]") {
  check_where(Account::handle_.like("10!%", '!'), "accounts.handle LIKE ? ESCAPE '!'",
              "accounts.handle LIKE $1 ESCAPE '!'", {"10!%"});
  check_where(Account::handle_.not_like("10!%", '!'), "accounts.handle NOT LIKE ? ESCAPE '!'",
              "accounts.handle NOT LIKE $1 ESCAPE '!'", {"10!%"});
}

TEST_CASE("a quote or backslash as LIKE escape character is a CompileError", "[sql][compiler]") {
  for (const Dialect* d : {&sqlite(), &postgresql(), &mysql()}) {
    INFO("dialect " << d->name());
    CHECK_THROWS_AS(d->compiler().select(where(Account::handle_.like("x", '\''))), alchemy::CompileError);
    CHECK_THROWS_AS(d->compiler().select(where(Account::handle_.like("x", '\\'))), alchemy::CompileError);
    CHECK_THROWS_AS(d->compiler().select(where(Account::handle_.not_like("x", '\''))), alchemy::CompileError);
  }
}

// ILIKE writes its escape character into the SQL too (it was not checked before aae37a5).
TEST_CASE("a quote or backslash as ILIKE escape character is a CompileError", "[sql][compiler]") {
  for (const Dialect* d : {&sqlite(), &postgresql(), &mysql()}) {
    INFO("dialect " << d->name());
    CHECK_THROWS_AS(d->compiler().select(where(Account::handle_.ilike("x", '\''))), alchemy::CompileError);
    CHECK_THROWS_AS(d->compiler().select(where(Account::handle_.ilike("x", '\\'))), alchemy::CompileError);
    CHECK_THROWS_AS(d->compiler().select(where(Account::handle_.not_ilike("x", '\''))), alchemy::CompileError);
  }
}

TEST_CASE("a non-printable LIKE escape character is a CompileError", "[sql][compiler]") {
  for (const Dialect* d : {&sqlite(), &postgresql(), &mysql()}) {
    INFO("dialect " << d->name());
    for (const char bad : {'\n', '\x01', '\x7f', static_cast<char>(0x80), static_cast<char>(0xff)}) {
      INFO("escape character code " << static_cast<int>(static_cast<unsigned char>(bad)));
      CHECK_THROWS_AS(d->compiler().select(where(Account::handle_.like("x", bad))), alchemy::CompileError);
      CHECK_THROWS_AS(d->compiler().select(where(Account::handle_.ilike("x", bad))), alchemy::CompileError);
    }
  }
}

TEST_CASE("ilike is ILIKE on PostgreSQL and lower() LIKE lower() elsewhere", "[sql][compiler]") {
  check_where(Account::handle_.ilike("%DoE%"), "lower(accounts.handle) LIKE lower(?)", "accounts.handle ILIKE $1",
              "lower(accounts.handle) LIKE lower(?)", {"%DoE%"});
  check_where(Account::handle_.not_ilike("%DoE%"), "lower(accounts.handle) NOT LIKE lower(?)",
              "accounts.handle NOT ILIKE $1", "lower(accounts.handle) NOT LIKE lower(?)", {"%DoE%"});
  check_where(Account::handle_.ilike("a!_%", '!'), "lower(accounts.handle) LIKE lower(?) ESCAPE '!'",
              "accounts.handle ILIKE $1 ESCAPE '!'", "lower(accounts.handle) LIKE lower(?) ESCAPE '!'", {"a!_%"});
}

// SQLAlchemy renders startswith(v, autoescape=True) as "x LIKE ? || '%' ESCAPE '/'" with the
// escaped value bound (concat() on MySQL); alchemy binds the whole escaped pattern instead, which
// matches the same rows with one text for all three dialects.
TEST_CASE("startswith, endswith and contains escape % _ and / and use ESCAPE '/'", "[sql][compiler]") {
  check_where(Account::handle_.startswith("a%_/b"), "accounts.handle LIKE ? ESCAPE '/'",
              "accounts.handle LIKE $1 ESCAPE '/'", {"a/%/_//b%"});
  check_where(Account::handle_.endswith("_x"), "accounts.handle LIKE ? ESCAPE '/'",
              "accounts.handle LIKE $1 ESCAPE '/'", {"%/_x"});
  check_where(Account::handle_.contains("50%"), "accounts.handle LIKE ? ESCAPE '/'",
              "accounts.handle LIKE $1 ESCAPE '/'", {"%50/%%"});
  check_where(Account::handle_.contains("plain"), "accounts.handle LIKE ? ESCAPE '/'",
              "accounts.handle LIKE $1 ESCAPE '/'", {"%plain%"});
  check_where(Account::handle_.startswith(""), "accounts.handle LIKE ? ESCAPE '/'",
              "accounts.handle LIKE $1 ESCAPE '/'", {"%"});
}

TEST_CASE("negated startswith renders NOT LIKE with the escape kept", "[sql][compiler]") {
  check_where(not_(Account::handle_.startswith("a_")), "accounts.handle NOT LIKE ? ESCAPE '/'",
              "accounts.handle NOT LIKE $1 ESCAPE '/'", {"a/_%"});
}

// === IN =========================================================================================

TEST_CASE("in_ binds one parameter per value", "[sql][compiler]") {
  check_where(Account::id_.in_({1, 2, 3}), "accounts.id IN (?, ?, ?)", "accounts.id IN ($1, $2, $3)", {1, 2, 3});
  check_where(Account::handle_.in_(std::vector<std::string>{"a", "b"}), "accounts.handle IN (?, ?)",
              "accounts.handle IN ($1, $2)", {"a", "b"});
  check_where(Account::id_.in_({7}), "accounts.id IN (?)", "accounts.id IN ($1)", {7});
}

TEST_CASE("not_in is parenthesised, as SQLAlchemy renders it", "[sql][compiler]") {
  check_where(Account::id_.not_in({1, 2}), "(accounts.id NOT IN (?, ?))", "(accounts.id NOT IN ($1, $2))", {1, 2});
  // ~handle.in_(['a', 'b']) in section 2.1.
  check_where(not_(Account::handle_.in_({"a", "b"})), "(accounts.handle NOT IN (?, ?))",
              "(accounts.handle NOT IN ($1, $2))", {"a", "b"});
}

TEST_CASE("PostgreSQL numbers placeholders past nine", "[sql][compiler][postgresql]") {
  const auto cond = Account::id_.in_({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  check(postgresql(), where(cond),
        kWhere + "accounts.id IN ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
}

TEST_CASE("an empty in_ matches nothing, in each dialect's form", "[sql][compiler]") {
  const auto cond = Account::id_.in_(std::vector<int64_t>{});
  check_where(cond, "accounts.id IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)",
              "(accounts.id IN (NULL) AND (1 != 1))", "(accounts.id IN (NULL) AND (1 != 1))", {});
}

TEST_CASE("an empty not_in matches everything on PostgreSQL and MySQL", "[sql][compiler]") {
  const auto cond = Account::id_.not_in(std::vector<int64_t>{});
  check(postgresql(), where(cond), kWhere + "(accounts.id NOT IN (NULL) OR (1 = 1))", {});
  check(mysql(), where(cond), kWhere + "(accounts.id NOT IN (NULL) OR (1 = 1))", {});
  check(postgresql(), where(not_(Account::id_.in_(std::vector<int64_t>{}))),
        kWhere + "(accounts.id NOT IN (NULL) OR (1 = 1))", {});
}

// SQLAlchemy's visit_not_in_op_binary always wraps NOT IN in parentheses, and its SQLite empty
// set goes inside them.
TEST_CASE("an empty not_in on SQLite is parenthesised like every NOT IN", "[sql][compiler][sqlite]") {
  check(sqlite(), where(Account::id_.not_in(std::vector<int64_t>{})),
        kWhere + "(accounts.id NOT IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1))", {});
}

TEST_CASE("an empty IN keeps its meaning inside OR", "[sql][compiler]") {
  const auto cond = Account::id_ == 1 || Account::id_.in_(std::vector<int64_t>{});
  check_where(cond, "accounts.id = ? OR accounts.id IN (SELECT 1 FROM (SELECT 1) WHERE 1!=1)",
              "accounts.id = $1 OR (accounts.id IN (NULL) AND (1 != 1))",
              "accounts.id = ? OR (accounts.id IN (NULL) AND (1 != 1))", {1});
}

// === AND, OR, NOT ===============================================================================

TEST_CASE("and_ and && join with AND, or_ and || join with OR", "[sql][compiler]") {
  // Section 2.1: filter(and_(handle != 'admin', id > 10)) and filter(or_(handle == 'alice', handle == 'bob')).
  const auto a = Account::handle_ != "admin";
  const auto b = Account::id_ > 10;
  check_where(and_(a, b), "accounts.handle != ? AND accounts.id > ?", "accounts.handle != $1 AND accounts.id > $2",
              {"admin", 10});
  check_where(a && b, "accounts.handle != ? AND accounts.id > ?", "accounts.handle != $1 AND accounts.id > $2",
              {"admin", 10});
  check_where(or_(Account::handle_ == "alice", Account::handle_ == "bob"), "accounts.handle = ? OR accounts.handle = ?",
              "accounts.handle = $1 OR accounts.handle = $2", {"alice", "bob"});
  check_where(Account::handle_ == "alice" || Account::handle_ == "bob", "accounts.handle = ? OR accounts.handle = ?",
              "accounts.handle = $1 OR accounts.handle = $2", {"alice", "bob"});
}

TEST_CASE("and_ of one condition is that condition", "[sql][compiler]") {
  check_where(and_(Account::id_ == 1), "accounts.id = ?", "accounts.id = $1", {1});
  check_where(or_(Account::id_ == 1), "accounts.id = ?", "accounts.id = $1", {1});
}

TEST_CASE("nested and_ and nested or_ flatten", "[sql][compiler]") {
  const auto a = Account::id_ == 1;
  const auto b = Account::id_ == 2;
  const auto c = Account::id_ == 3;
  check_where(and_(a, and_(b, c)), "accounts.id = ? AND accounts.id = ? AND accounts.id = ?",
              "accounts.id = $1 AND accounts.id = $2 AND accounts.id = $3", {1, 2, 3});
  check_where((a || b) || c, "accounts.id = ? OR accounts.id = ? OR accounts.id = ?",
              "accounts.id = $1 OR accounts.id = $2 OR accounts.id = $3", {1, 2, 3});
}

TEST_CASE("an OR inside an AND is parenthesised", "[sql][compiler]") {
  const auto cond = (Account::handle_ == "a" || Account::handle_ == "b") && Account::id_ > 10;
  check_where(cond, "(accounts.handle = ? OR accounts.handle = ?) AND accounts.id > ?",
              "(accounts.handle = $1 OR accounts.handle = $2) AND accounts.id > $3", {"a", "b", 10});
  const auto both = and_(Account::id_ == 1 || Account::id_ == 2, Account::id_ == 3 || Account::id_ == 4);
  check_where(both, "(accounts.id = ? OR accounts.id = ?) AND (accounts.id = ? OR accounts.id = ?)",
              "(accounts.id = $1 OR accounts.id = $2) AND (accounts.id = $3 OR accounts.id = $4)", {1, 2, 3, 4});
}

TEST_CASE("an AND inside an OR is not parenthesised", "[sql][compiler]") {
  const auto cond = (Account::handle_ == "a" && Account::id_ > 10) || Account::id_ < 5;
  check_where(cond, "accounts.handle = ? AND accounts.id > ? OR accounts.id < ?",
              "accounts.handle = $1 AND accounts.id > $2 OR accounts.id < $3", {"a", 10, 5});
}

TEST_CASE("several WHERE criteria join with AND, parenthesising an OR", "[sql][compiler]") {
  sql::Select s = where(Account::handle_ == "a" || Account::handle_ == "b");
  s.where.push_back((Account::id_ > 10).expr);
  check(sqlite(), s, kWhere + "(accounts.handle = ? OR accounts.handle = ?) AND accounts.id > ?", {"a", "b", 10});
  check(postgresql(), s, kWhere + "(accounts.handle = $1 OR accounts.handle = $2) AND accounts.id > $3",
        {"a", "b", 10});
}

TEST_CASE("not_ folds into the comparison operator", "[sql][compiler]") {
  // Section 2.4: not_(c == 'admin') is c != ?.
  check_where(not_(Account::handle_ == "admin"), "accounts.handle != ?", "accounts.handle != $1", {"admin"});
  check_where(!(Account::handle_ == "admin"), "accounts.handle != ?", "accounts.handle != $1", {"admin"});
  check_where(not_(Account::id_ != 1), "accounts.id = ?", "accounts.id = $1", {1});
  check_where(not_(Account::id_ < 1), "accounts.id >= ?", "accounts.id >= $1", {1});
  check_where(not_(Account::id_ <= 1), "accounts.id > ?", "accounts.id > $1", {1});
  check_where(not_(Account::id_ > 1), "accounts.id <= ?", "accounts.id <= $1", {1});
  check_where(not_(Account::id_ >= 1), "accounts.id < ?", "accounts.id < $1", {1});
}

TEST_CASE("not_ folds into LIKE, ILIKE, IN and IS NULL", "[sql][compiler]") {
  check_where(not_(Account::handle_.like("%adm%")), "accounts.handle NOT LIKE ?", "accounts.handle NOT LIKE $1",
              {"%adm%"});
  check_where(not_(Account::handle_.not_like("%adm%")), "accounts.handle LIKE ?", "accounts.handle LIKE $1",
              {"%adm%"});
  check_where(not_(Account::handle_.ilike("%adm%")), "lower(accounts.handle) NOT LIKE lower(?)",
              "accounts.handle NOT ILIKE $1", "lower(accounts.handle) NOT LIKE lower(?)", {"%adm%"});
  check_where(!Account::id_.in_({1, 2}), "(accounts.id NOT IN (?, ?))", "(accounts.id NOT IN ($1, $2))", {1, 2});
  check_where(not_(Account::id_.not_in({1, 2})), "accounts.id IN (?, ?)", "accounts.id IN ($1, $2)", {1, 2});
  check_where(not_(Account::secret_key_.is_null()), "accounts.secret_key IS NOT NULL",
              "accounts.secret_key IS NOT NULL", {});
  check_where(not_(Account::secret_key_ != std::nullopt), "accounts.secret_key IS NULL",
              "accounts.secret_key IS NULL", {});
}

TEST_CASE("not_ of AND or OR renders NOT (...)", "[sql][compiler]") {
  check_where(not_(and_(Account::handle_ == "x", Account::id_ > 5)), "NOT (accounts.handle = ? AND accounts.id > ?)",
              "NOT (accounts.handle = $1 AND accounts.id > $2)", {"x", 5});
  check_where(!(Account::handle_ == "x" || Account::handle_ == "y"), "NOT (accounts.handle = ? OR accounts.handle = ?)",
              "NOT (accounts.handle = $1 OR accounts.handle = $2)", {"x", "y"});
  check_where(not_(Account::id_ == 1 || Account::id_ == 2) && Account::id_ < 9,
              "NOT (accounts.id = ? OR accounts.id = ?) AND accounts.id < ?",
              "NOT (accounts.id = $1 OR accounts.id = $2) AND accounts.id < $3", {1, 2, 9});
}

TEST_CASE("a double negation cancels out", "[sql][compiler]") {
  check_where(not_(not_(Account::id_ == 1)), "accounts.id = ?", "accounts.id = $1", {1});
  check_where(!!Account::handle_.like("a%"), "accounts.handle LIKE ?", "accounts.handle LIKE $1", {"a%"});
  check_where(not_(not_(Account::id_ == 1 && Account::id_ == 2)), "accounts.id = ? AND accounts.id = ?",
              "accounts.id = $1 AND accounts.id = $2", {1, 2});
  check_where(!!Account::id_.in_({1}), "accounts.id IN (?)", "accounts.id IN ($1)", {1});
}

TEST_CASE("empty and_ and or_ are the constants true and false", "[sql][compiler]") {
  sql::Select s = select_all<Account>();
  s.columns = {&Account::id_.sql_column()};
  s.where = {sql::and_({})};
  check(sqlite(), s, kWhere + "1 = 1", {});
  s.where = {sql::or_({})};
  check(postgresql(), s, kWhere + "1 != 1", {});
  s.where = {sql::not_(sql::or_({}))};
  check(mysql(), s, kWhere + "1 = 1", {});
}

// === SELECT: the tutorial's queries, ORDER BY, LIMIT / OFFSET, count ============================

TEST_CASE("a SELECT lists every column qualified by its table", "[sql][compiler]") {
  check(sqlite(), select_all<Account>(), kAll, {});
  check(postgresql(), select_all<Account>(), kAll, {});
  check(mysql(), select_all<Account>(), kAll, {});
}

TEST_CASE("get by key selects by the primary key", "[sql][compiler]") {
  const auto& m = mapper_of<Account>();
  CHECK(m.sql_for(sqlite()).select_by_key == kAll + " WHERE accounts.id = ?");
  CHECK(m.sql_for(postgresql()).select_by_key == kAll + " WHERE accounts.id = $1");
  CHECK(m.sql_for(mysql()).select_by_key == kAll + " WHERE accounts.id = ?");
  CHECK(mapper_of<compiler_test::Pair>().sql_for(postgresql()).select_by_key ==
        "SELECT pairs.a, pairs.b, pairs.label FROM pairs WHERE pairs.a = $1 AND pairs.b = $2");
}

TEST_CASE("first() is LIMIT 1, with OFFSET 0 on SQLite only", "[sql][compiler]") {
  // Section 2.1/2.2: filter_by(handle='jdoe').first().
  sql::Select s = select_all<Account>();
  s.where.push_back((Account::handle_ == "jdoe").expr);
  s.limit = 1;
  check(sqlite(), s, kAll + " WHERE accounts.handle = ? LIMIT ? OFFSET ?", {"jdoe", 1, 0});
  check(postgresql(), s, kAll + " WHERE accounts.handle = $1 LIMIT $2", {"jdoe", 1});
  check(mysql(), s, kAll + " WHERE accounts.handle = ? LIMIT ?", {"jdoe", 1});
}

TEST_CASE("PostgreSQL numbers the parameters of WHERE and LIMIT in one sequence", "[sql][compiler][postgresql]") {
  // Section 2.4's libpq row: WHERE account.handle = $1 OR account.handle = $2 LIMIT $3.
  sql::Select s = select_all<Account>();
  s.where.push_back((Account::handle_ == "alice" || Account::handle_ == "bob").expr);
  s.limit = 1;
  check(postgresql(), s, kAll + " WHERE accounts.handle = $1 OR accounts.handle = $2 LIMIT $3", {"alice", "bob", 1});
}

TEST_CASE("order_by renders ascending terms bare and descending terms with DESC", "[sql][compiler]") {
  sql::Select s = select_all<Account>();
  s.order_by = {Account::handle_.desc().term};
  check(sqlite(), s, kAll + " ORDER BY accounts.handle DESC", {});
  s.order_by = {Account::handle_.desc().term, Account::id_.asc().term};
  check(postgresql(), s, kAll + " ORDER BY accounts.handle DESC, accounts.id", {});
  s.order_by = {alchemy::asc(Account::id_).term, alchemy::desc(Account::secret_key_).term};
  check(mysql(), s, kAll + " ORDER BY accounts.id, accounts.secret_key DESC", {});
}

TEST_CASE("limit and offset are bound parameters in each dialect's form", "[sql][compiler]") {
  // Section 2.1: order_by(handle.desc()).limit(5).offset(10).
  sql::Select s = select_all<Account>();
  s.order_by = {Account::handle_.desc().term};
  s.limit = 5;
  s.offset = 10;
  const std::string head = kAll + " ORDER BY accounts.handle DESC";
  check(sqlite(), s, head + " LIMIT ? OFFSET ?", {5, 10});
  check(postgresql(), s, head + " LIMIT $1 OFFSET $2", {5, 10});
  check(mysql(), s, head + " LIMIT ?, ?", {10, 5});  // MySQL: offset first
}

TEST_CASE("a limit without an offset", "[sql][compiler]") {
  sql::Select s = select_all<Account>();
  s.limit = 5;
  check(sqlite(), s, kAll + " LIMIT ? OFFSET ?", {5, 0});
  check(postgresql(), s, kAll + " LIMIT $1", {5});
  check(mysql(), s, kAll + " LIMIT ?", {5});
}

TEST_CASE("an offset without a limit", "[sql][compiler]") {
  sql::Select s = select_all<Account>();
  s.offset = 10;
  check(sqlite(), s, kAll + " LIMIT ? OFFSET ?", {-1, 10});
  check(postgresql(), s, kAll + " OFFSET $1", {10});
  check(mysql(), s, kAll + " LIMIT ?, 18446744073709551615", {10});
}

TEST_CASE("limit and offset parameters follow the WHERE parameters", "[sql][compiler]") {
  sql::Select s = select_all<Account>();
  s.where.push_back((Account::id_ > 100).expr);
  s.limit = 5;
  s.offset = 10;
  check(sqlite(), s, kAll + " WHERE accounts.id > ? LIMIT ? OFFSET ?", {100, 5, 10});
  check(postgresql(), s, kAll + " WHERE accounts.id > $1 LIMIT $2 OFFSET $3", {100, 5, 10});
  check(mysql(), s, kAll + " WHERE accounts.id > ? LIMIT ?, ?", {100, 10, 5});
}

TEST_CASE("a SELECT without limit or offset has no LIMIT clause", "[sql][compiler]") {
  for (const Dialect* d : {&sqlite(), &postgresql(), &mysql()}) {
    const auto c = d->compiler().select(select_all<Account>());
    CHECK(c.sql.find("LIMIT") == std::string::npos);
    CHECK(c.sql.find("OFFSET") == std::string::npos);
  }
}

TEST_CASE("distinct renders SELECT DISTINCT", "[sql][compiler]") {
  sql::Select s = select_all<Account>();
  s.columns = {&Account::handle_.sql_column()};
  s.distinct = true;
  check(sqlite(), s, "SELECT DISTINCT accounts.handle FROM accounts", {});
  check(postgresql(), s, "SELECT DISTINCT accounts.handle FROM accounts", {});
  check(mysql(), s, "SELECT DISTINCT accounts.handle FROM accounts", {});
}

TEST_CASE("count() counts the query as a subquery named anon_1", "[sql][compiler]") {
  const std::string count = "SELECT count(*) AS count_1 FROM (" + kAll + ") AS anon_1";
  check(sqlite(), select_all<Account>(), count, {}, sql::SelectForm::count);
  check(postgresql(), select_all<Account>(), count, {}, sql::SelectForm::count);
  check(mysql(), select_all<Account>(), count, {}, sql::SelectForm::count);
}

TEST_CASE("count() keeps the query's criteria, limit and distinct", "[sql][compiler]") {
  sql::Select s = select_all<Account>();
  s.where.push_back((Account::id_ > 10).expr);
  check(sqlite(), s, "SELECT count(*) AS count_1 FROM (" + kAll + " WHERE accounts.id > ?) AS anon_1", {10},
        sql::SelectForm::count);
  check(postgresql(), s, "SELECT count(*) AS count_1 FROM (" + kAll + " WHERE accounts.id > $1) AS anon_1", {10},
        sql::SelectForm::count);
  s.limit = 5;
  s.offset = 10;
  check(mysql(), s, "SELECT count(*) AS count_1 FROM (" + kAll + " WHERE accounts.id > ? LIMIT ?, ?) AS anon_1",
        {10, 10, 5}, sql::SelectForm::count);

  sql::Select d = select_all<Account>();
  d.columns = {&Account::handle_.sql_column()};
  d.distinct = true;
  check(sqlite(), d, "SELECT count(*) AS count_1 FROM (SELECT DISTINCT accounts.handle FROM accounts) AS anon_1", {},
        sql::SelectForm::count);
}

TEST_CASE("exists() wraps the query in SELECT EXISTS", "[sql][compiler]") {
  sql::Select s = where(Account::handle_ == "jdoe");
  check(sqlite(), s, "SELECT EXISTS (" + kWhere + "accounts.handle = ?) AS anon_1", {"jdoe"},
        sql::SelectForm::exists);
  check(postgresql(), s, "SELECT EXISTS (" + kWhere + "accounts.handle = $1) AS anon_1", {"jdoe"},
        sql::SelectForm::exists);
}

// === DDL ========================================================================================

TEST_CASE("CREATE TABLE for the reference's Account model matches SQLAlchemy in each dialect",
          "[sql][compiler][ddl]") {
  // Section 2.3, Integer key: SERIAL on PostgreSQL, AUTO_INCREMENT on MySQL.
  const auto& t = mapper_of<compiler_test::sa::Account>().table();
  REQUIRE(t.name() == "account");
  CHECK(sqlite().compiler().create_table(t) ==
        "CREATE TABLE account (\n"
        "\tid INTEGER NOT NULL, \n"
        "\thandle VARCHAR(50) NOT NULL, \n"
        "\tsecret_key VARCHAR(128), \n"
        "\tPRIMARY KEY (id), \n"
        "\tUNIQUE (handle)\n"
        ")");
  CHECK(postgresql().compiler().create_table(t) ==
        "CREATE TABLE account (\n"
        "\tid SERIAL NOT NULL, \n"
        "\thandle VARCHAR(50) NOT NULL, \n"
        "\tsecret_key VARCHAR(128), \n"
        "\tPRIMARY KEY (id), \n"
        "\tUNIQUE (handle)\n"
        ")");
  CHECK(mysql().compiler().create_table(t) ==
        "CREATE TABLE account (\n"
        "\tid INTEGER NOT NULL AUTO_INCREMENT, \n"
        "\thandle VARCHAR(50) NOT NULL, \n"
        "\tsecret_key VARCHAR(128), \n"
        "\tPRIMARY KEY (id), \n"
        "\tUNIQUE (handle)\n"
        ")");
}

TEST_CASE("CREATE TABLE for the tutorial's Account model with an int64_t key", "[sql][compiler][ddl]") {
  // SQLite keeps INTEGER so that the key aliases the rowid; BigInteger elsewhere.
  const auto& t = mapper_of<Account>().table();
  CHECK(sqlite().compiler().create_table(t) ==
        "CREATE TABLE accounts (\n"
        "\tid INTEGER NOT NULL, \n"
        "\thandle VARCHAR(50) NOT NULL, \n"
        "\tsecret_key VARCHAR(128), \n"
        "\tPRIMARY KEY (id), \n"
        "\tUNIQUE (handle)\n"
        ")");
  CHECK(postgresql().compiler().create_table(t) ==
        "CREATE TABLE accounts (\n"
        "\tid BIGSERIAL NOT NULL, \n"
        "\thandle VARCHAR(50) NOT NULL, \n"
        "\tsecret_key VARCHAR(128), \n"
        "\tPRIMARY KEY (id), \n"
        "\tUNIQUE (handle)\n"
        ")");
  CHECK(mysql().compiler().create_table(t) ==
        "CREATE TABLE accounts (\n"
        "\tid BIGINT NOT NULL AUTO_INCREMENT, \n"
        "\thandle VARCHAR(50) NOT NULL, \n"
        "\tsecret_key VARCHAR(128), \n"
        "\tPRIMARY KEY (id), \n"
        "\tUNIQUE (handle)\n"
        ")");
}

TEST_CASE("each C++ type has its DDL type in each dialect", "[sql][compiler][ddl]") {
  const auto& t = mapper_of<compiler_test::Typed>().table();
  CHECK(sqlite().compiler().create_table(t) ==
        "CREATE TABLE typed (\n"
        "\tid INTEGER NOT NULL, \n"
        "\tflag BOOLEAN NOT NULL, \n"
        "\tratio FLOAT NOT NULL, \n"
        "\tscore DOUBLE NOT NULL, \n"
        "\tbody TEXT NOT NULL, \n"
        "\tdata BLOB NOT NULL, \n"
        "\tday DATE NOT NULL, \n"
        "\tcreated DATETIME NOT NULL, \n"
        "\tsmall SMALLINT NOT NULL, \n"
        "\tmedium INTEGER NOT NULL, \n"
        "\tbig INTEGER NOT NULL, \n"
        "\tmaybe DOUBLE, \n"
        "\tPRIMARY KEY (id)\n"
        ")");
  CHECK(postgresql().compiler().create_table(t) ==
        "CREATE TABLE typed (\n"
        "\tid BIGSERIAL NOT NULL, \n"
        "\tflag BOOLEAN NOT NULL, \n"
        "\tratio FLOAT NOT NULL, \n"
        "\tscore DOUBLE PRECISION NOT NULL, \n"
        "\tbody TEXT NOT NULL, \n"
        "\tdata BYTEA NOT NULL, \n"
        "\tday DATE NOT NULL, \n"
        "\tcreated TIMESTAMP WITHOUT TIME ZONE NOT NULL, \n"
        "\tsmall SMALLINT NOT NULL, \n"
        "\tmedium INTEGER NOT NULL, \n"
        "\tbig BIGINT NOT NULL, \n"
        "\tmaybe DOUBLE PRECISION, \n"
        "\tPRIMARY KEY (id)\n"
        ")");
  CHECK(mysql().compiler().create_table(t) ==
        "CREATE TABLE typed (\n"
        "\tid BIGINT NOT NULL AUTO_INCREMENT, \n"
        "\tflag BOOL NOT NULL, \n"
        "\tratio FLOAT NOT NULL, \n"
        "\tscore DOUBLE NOT NULL, \n"
        "\tbody LONGTEXT NOT NULL, \n"
        "\tdata LONGBLOB NOT NULL, \n"
        "\tday DATE NOT NULL, \n"
        "\tcreated DATETIME(6) NOT NULL, \n"
        "\tsmall SMALLINT NOT NULL, \n"
        "\tmedium INTEGER NOT NULL, \n"
        "\tbig BIGINT NOT NULL, \n"
        "\tmaybe DOUBLE, \n"
        "\tPRIMARY KEY (id)\n"
        ")");
}

TEST_CASE("each integer type maps to the smallest signed SQL integer that holds all its values",
          "[sql][compiler][ddl]") {
  using sql::TypeKind;
  CHECK(alchemy::TypeTraits<int8_t>::sql_type.kind == TypeKind::small_integer);
  CHECK(alchemy::TypeTraits<uint8_t>::sql_type.kind == TypeKind::small_integer);
  CHECK(alchemy::TypeTraits<int16_t>::sql_type.kind == TypeKind::small_integer);
  CHECK(alchemy::TypeTraits<uint16_t>::sql_type.kind == TypeKind::integer);  // 65535 > SMALLINT
  CHECK(alchemy::TypeTraits<int32_t>::sql_type.kind == TypeKind::integer);
  CHECK(alchemy::TypeTraits<uint32_t>::sql_type.kind == TypeKind::big_integer);  // 4294967295 > INTEGER
  CHECK(alchemy::TypeTraits<int64_t>::sql_type.kind == TypeKind::big_integer);
  CHECK(alchemy::TypeTraits<bool>::sql_type.kind == TypeKind::boolean);
  CHECK(alchemy::TypeTraits<std::string>::sql_type == sql::SqlType{TypeKind::string, 0});
}

TEST_CASE("a server default goes before NOT NULL, except on MySQL", "[sql][compiler][ddl]") {
  const auto& t = mapper_of<compiler_test::Flagged>().table();
  CHECK(sqlite().compiler().create_table(t) ==
        "CREATE TABLE flagged (\n"
        "\tid INTEGER NOT NULL, \n"
        "\tactive BOOLEAN DEFAULT 0 NOT NULL, \n"
        "\tcreated DATETIME DEFAULT CURRENT_TIMESTAMP, \n"
        "\tPRIMARY KEY (id)\n"
        ")");
  CHECK(postgresql().compiler().create_table(t) ==
        "CREATE TABLE flagged (\n"
        "\tid BIGSERIAL NOT NULL, \n"
        "\tactive BOOLEAN DEFAULT 0 NOT NULL, \n"
        "\tcreated TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP, \n"
        "\tPRIMARY KEY (id)\n"
        ")");
  CHECK(mysql().compiler().create_table(t) ==
        "CREATE TABLE flagged (\n"
        "\tid BIGINT NOT NULL AUTO_INCREMENT, \n"
        "\tactive BOOL NOT NULL DEFAULT 0, \n"
        "\tcreated DATETIME(6) DEFAULT CURRENT_TIMESTAMP, \n"
        "\tPRIMARY KEY (id)\n"
        ")");
}

TEST_CASE("a VARCHAR without a length is VARCHAR on SQLite and PostgreSQL and a CompileError on MySQL",
          "[sql][compiler][ddl]") {
  const auto& t = mapper_of<compiler_test::Loose>().table();
  const std::string expected =
      "CREATE TABLE loose (\n"
      "\tid {ID} NOT NULL, \n"
      "\tnote VARCHAR NOT NULL, \n"
      "\tPRIMARY KEY (id)\n"
      ")";
  auto with = [&](std::string id) {
    std::string s = expected;
    s.replace(s.find("{ID}"), 4, id);
    return s;
  };
  CHECK(sqlite().compiler().create_table(t) == with("INTEGER"));
  CHECK(postgresql().compiler().create_table(t) == with("BIGSERIAL"));
  const auto msg = compile_error([&] { (void)mysql().compiler().create_table(t); });
  CHECK(msg.find("VARCHAR requires a length on dialect mysql") != std::string::npos);
  CHECK(msg.find("'note'") != std::string::npos);
}

TEST_CASE("a foreign key renders FOREIGN KEY ... REFERENCES with its ON DELETE and ON UPDATE actions",
          "[sql][compiler][ddl]") {
  const auto& t = mapper_of<compiler_test::Post>().table();
  CHECK(sqlite().compiler().create_table(t) ==
        "CREATE TABLE posts (\n"
        "\tid INTEGER NOT NULL, \n"
        "\tauthor_id INTEGER NOT NULL, \n"
        "\ttitle VARCHAR(100) NOT NULL, \n"
        "\tslug VARCHAR(100) NOT NULL, \n"
        "\teditor_id INTEGER, \n"
        "\tPRIMARY KEY (id), \n"
        "\tFOREIGN KEY(author_id) REFERENCES accounts (id) ON DELETE CASCADE, \n"
        "\tFOREIGN KEY(editor_id) REFERENCES accounts (id) ON DELETE SET NULL ON UPDATE CASCADE\n"
        ")");
  CHECK(postgresql().compiler().create_table(t) ==
        "CREATE TABLE posts (\n"
        "\tid BIGSERIAL NOT NULL, \n"
        "\tauthor_id BIGINT NOT NULL, \n"
        "\ttitle VARCHAR(100) NOT NULL, \n"
        "\tslug VARCHAR(100) NOT NULL, \n"
        "\teditor_id BIGINT, \n"
        "\tPRIMARY KEY (id), \n"
        "\tFOREIGN KEY(author_id) REFERENCES accounts (id) ON DELETE CASCADE, \n"
        "\tFOREIGN KEY(editor_id) REFERENCES accounts (id) ON DELETE SET NULL ON UPDATE CASCADE\n"
        ")");
  CHECK(mysql().compiler().create_table(t) ==
        "CREATE TABLE posts (\n"
        "\tid BIGINT NOT NULL AUTO_INCREMENT, \n"
        "\tauthor_id BIGINT NOT NULL, \n"
        "\ttitle VARCHAR(100) NOT NULL, \n"
        "\tslug VARCHAR(100) NOT NULL, \n"
        "\teditor_id BIGINT, \n"
        "\tPRIMARY KEY (id), \n"
        "\tFOREIGN KEY(author_id) REFERENCES accounts (id) ON DELETE CASCADE, \n"
        "\tFOREIGN KEY(editor_id) REFERENCES accounts (id) ON DELETE SET NULL ON UPDATE CASCADE\n"
        ")");
}

TEST_CASE("an indexed column gets CREATE INDEX ix_<table>_<column>, unique ones CREATE UNIQUE INDEX",
          "[sql][compiler][ddl]") {
  const auto& t = mapper_of<compiler_test::Post>().table();
  const std::vector<std::string> expected{"CREATE INDEX ix_posts_title ON posts (title)",
                                          "CREATE UNIQUE INDEX ix_posts_slug ON posts (slug)"};
  CHECK(sqlite().compiler().create_indexes(t) == expected);
  CHECK(postgresql().compiler().create_indexes(t) == expected);
  CHECK(mysql().compiler().create_indexes(t) == expected);
  // A unique index replaces the UNIQUE constraint.
  CHECK(sqlite().compiler().create_table(t).find("UNIQUE") == std::string::npos);
  CHECK(sqlite().compiler().create_indexes(mapper_of<Account>().table()).empty());
}

TEST_CASE("a composite primary key lists every key column and generates none", "[sql][compiler][ddl]") {
  const auto& t = mapper_of<compiler_test::Pair>().table();
  CHECK(mapper_of<compiler_test::Pair>().generated_key() == -1);
  CHECK(postgresql().compiler().create_table(t) ==
        "CREATE TABLE pairs (\n"
        "\ta BIGINT NOT NULL, \n"
        "\tb BIGINT NOT NULL, \n"
        "\tlabel VARCHAR(20) NOT NULL, \n"
        "\tPRIMARY KEY (a, b)\n"
        ")");
  CHECK(mysql().compiler().create_table(t) ==
        "CREATE TABLE pairs (\n"
        "\ta BIGINT NOT NULL, \n"
        "\tb BIGINT NOT NULL, \n"
        "\tlabel VARCHAR(20) NOT NULL, \n"
        "\tPRIMARY KEY (a, b)\n"
        ")");
}

TEST_CASE("a 16-bit generated key is SMALLSERIAL on PostgreSQL", "[sql][compiler][ddl][postgresql]") {
  CHECK(mapper_of<compiler_test::SmallKey>().generated_key() == 0);
  const auto sql = postgresql().compiler().create_table(mapper_of<compiler_test::SmallKey>().table());
  CHECK(sql.find("\tid SMALLSERIAL NOT NULL, \n") != std::string::npos);
}

// Only a column declared exactly INTEGER PRIMARY KEY aliases the rowid and autoincrements, so a
// generated int16_t key must be INTEGER too (as SMALLINT, every INSERT failed with NOT NULL).
TEST_CASE("a 16-bit generated key on SQLite is declared INTEGER so that it aliases the rowid",
          "[sql][compiler][ddl][sqlite]") {
  const auto sql = sqlite().compiler().create_table(mapper_of<compiler_test::SmallKey>().table());
  CHECK(sql.find("\tid INTEGER NOT NULL, \n") != std::string::npos);
}

TEST_CASE("DROP TABLE quotes the name when it must", "[sql][compiler][ddl]") {
  CHECK(sqlite().compiler().drop_table(mapper_of<Account>().table()) == "DROP TABLE accounts");
  CHECK(postgresql().compiler().drop_table(mapper_of<Account>().table()) == "DROP TABLE accounts");
  CHECK(mysql().compiler().drop_table(mapper_of<Account>().table()) == "DROP TABLE accounts");
  CHECK(sqlite().compiler().drop_table(mapper_of<compiler_test::Order>().table()) == "DROP TABLE \"order\"");
  CHECK(postgresql().compiler().drop_table(mapper_of<compiler_test::Order>().table()) == "DROP TABLE \"order\"");
  CHECK(mysql().compiler().drop_table(mapper_of<compiler_test::Order>().table()) == "DROP TABLE `order`");
}

// === INSERT, UPDATE, DELETE =====================================================================

TEST_CASE("INSERT leaves out the generated key, which PostgreSQL returns", "[sql][compiler][dml]") {
  const auto& m = mapper_of<Account>();
  CHECK(m.generated_key() == 0);
  CHECK(m.sql_for(sqlite()).insert_without_key == "INSERT INTO accounts (handle, secret_key) VALUES (?, ?)");
  CHECK(m.sql_for(postgresql()).insert_without_key ==
        "INSERT INTO accounts (handle, secret_key) VALUES ($1, $2) RETURNING accounts.id");
  CHECK(m.sql_for(mysql()).insert_without_key == "INSERT INTO accounts (handle, secret_key) VALUES (?, ?)");
}

TEST_CASE("INSERT with the key lists every column and returns nothing", "[sql][compiler][dml]") {
  const auto& m = mapper_of<Account>();
  CHECK(m.sql_for(sqlite()).insert_with_key == "INSERT INTO accounts (id, handle, secret_key) VALUES (?, ?, ?)");
  CHECK(m.sql_for(postgresql()).insert_with_key ==
        "INSERT INTO accounts (id, handle, secret_key) VALUES ($1, $2, $3)");
  CHECK(m.sql_for(mysql()).insert_with_key == "INSERT INTO accounts (id, handle, secret_key) VALUES (?, ?, ?)");
}

TEST_CASE("INSERT of a row with nothing but a generated key takes every default", "[sql][compiler][dml]") {
  const auto& m = mapper_of<compiler_test::Ticker>();
  CHECK(m.sql_for(sqlite()).insert_without_key == "INSERT INTO ticks DEFAULT VALUES");
  CHECK(m.sql_for(postgresql()).insert_without_key == "INSERT INTO ticks DEFAULT VALUES RETURNING ticks.id");
  CHECK(m.sql_for(mysql()).insert_without_key == "INSERT INTO ticks () VALUES ()");
}

TEST_CASE("INSERT of a model with a natural key always lists the key", "[sql][compiler][dml]") {
  const auto& m = mapper_of<compiler_test::Country>();
  CHECK(m.generated_key() == -1);
  CHECK(m.sql_for(postgresql()).insert_without_key == "INSERT INTO countries (code, name) VALUES ($1, $2)");
  CHECK(m.sql_for(sqlite()).insert_without_key == "INSERT INTO countries (code, name) VALUES (?, ?)");
}

TEST_CASE("a multi-row INSERT repeats the VALUES group and numbers on", "[sql][compiler][dml]") {
  const auto& t = mapper_of<Account>().table();
  const std::vector<const sql::Column*> cols{&Account::handle_.sql_column(), &Account::secret_key_.sql_column()};
  const std::vector<const sql::Column*> ret{&Account::id_.sql_column()};
  CHECK(sqlite().compiler().insert(t, cols, {}, 3) ==
        "INSERT INTO accounts (handle, secret_key) VALUES (?, ?), (?, ?), (?, ?)");
  CHECK(postgresql().compiler().insert(t, cols, ret, 3) ==
        "INSERT INTO accounts (handle, secret_key) VALUES ($1, $2), ($3, $4), ($5, $6) RETURNING accounts.id");
  CHECK(mysql().compiler().insert(t, cols, {}, 2) == "INSERT INTO accounts (handle, secret_key) VALUES (?, ?), (?, ?)");
}

TEST_CASE("UPDATE by key sets only the changed columns", "[sql][compiler][dml]") {
  // Section 2.1: UPDATE account SET secret_key=? WHERE account.id = ?.
  const auto& m = mapper_of<Account>();
  const std::uint64_t secret_key = std::uint64_t{1} << 2;
  const std::uint64_t handle = std::uint64_t{1} << 1;
  CHECK(m.update_sql(sqlite(), secret_key) == "UPDATE accounts SET secret_key=? WHERE accounts.id = ?");
  CHECK(m.update_sql(postgresql(), secret_key) == "UPDATE accounts SET secret_key=$1 WHERE accounts.id = $2");
  CHECK(m.update_sql(mysql(), secret_key) == "UPDATE accounts SET secret_key=? WHERE accounts.id = ?");
  CHECK(m.update_sql(postgresql(), handle | secret_key) ==
        "UPDATE accounts SET handle=$1, secret_key=$2 WHERE accounts.id = $3");
}

TEST_CASE("UPDATE and DELETE by a composite key match every key column", "[sql][compiler][dml]") {
  const auto& m = mapper_of<compiler_test::Pair>();
  CHECK(m.update_sql(postgresql(), std::uint64_t{1} << 2) ==
        "UPDATE pairs SET label=$1 WHERE pairs.a = $2 AND pairs.b = $3");
  CHECK(m.update_sql(sqlite(), std::uint64_t{1} << 2) == "UPDATE pairs SET label=? WHERE pairs.a = ? AND pairs.b = ?");
  CHECK(m.sql_for(postgresql()).delete_by_key == "DELETE FROM pairs WHERE pairs.a = $1 AND pairs.b = $2");
  CHECK(m.sql_for(mysql()).delete_by_key == "DELETE FROM pairs WHERE pairs.a = ? AND pairs.b = ?");
}

TEST_CASE("DELETE by key", "[sql][compiler][dml]") {
  const auto& m = mapper_of<Account>();
  CHECK(m.sql_for(sqlite()).delete_by_key == "DELETE FROM accounts WHERE accounts.id = ?");
  CHECK(m.sql_for(postgresql()).delete_by_key == "DELETE FROM accounts WHERE accounts.id = $1");
  CHECK(m.sql_for(mysql()).delete_by_key == "DELETE FROM accounts WHERE accounts.id = ?");
}

TEST_CASE("DELETE of many rows by key uses IN", "[sql][compiler][dml]") {
  const auto& t = mapper_of<Account>().table();
  CHECK(sqlite().compiler().delete_many(t, Account::id_.sql_column(), 3) ==
        "DELETE FROM accounts WHERE accounts.id IN (?, ?, ?)");
  CHECK(postgresql().compiler().delete_many(t, Account::id_.sql_column(), 3) ==
        "DELETE FROM accounts WHERE accounts.id IN ($1, $2, $3)");
}

TEST_CASE("bulk update_where sets the values, then binds the criteria", "[sql][compiler][dml]") {
  // Section 2.1: filter(id > 100).update({"secret_key": None}).
  const auto& t = mapper_of<Account>().table();
  const std::vector<std::pair<const sql::Column*, Value>> sets{{&Account::secret_key_.sql_column(), Value{}}};
  const std::vector<sql::ExprPtr> crit{(Account::id_ > 100).expr};
  auto c = sqlite().compiler().update_where(t, sets, crit);
  CHECK(c.sql == "UPDATE accounts SET secret_key=? WHERE accounts.id > ?");
  CHECK(c.params == Params{nullptr, 100});
  c = postgresql().compiler().update_where(t, sets, crit);
  CHECK(c.sql == "UPDATE accounts SET secret_key=$1 WHERE accounts.id > $2");
  CHECK(c.params == Params{nullptr, 100});
  c = mysql().compiler().update_where(t, sets, crit);
  CHECK(c.sql == "UPDATE accounts SET secret_key=? WHERE accounts.id > ?");
}

TEST_CASE("bulk update_where joins several criteria with AND and needs a column to set", "[sql][compiler][dml]") {
  const auto& t = mapper_of<Account>().table();
  const std::vector<std::pair<const sql::Column*, Value>> sets{{&Account::handle_.sql_column(), Value{"x"}},
                                                                {&Account::secret_key_.sql_column(), Value{"k"}}};
  const std::vector<sql::ExprPtr> crit{(Account::id_ == 1 || Account::id_ == 2).expr, (Account::handle_ != "a").expr};
  const auto c = postgresql().compiler().update_where(t, sets, crit);
  CHECK(c.sql ==
        "UPDATE accounts SET handle=$1, secret_key=$2 WHERE (accounts.id = $3 OR accounts.id = $4) AND accounts.handle != $5");
  CHECK(c.params == Params{"x", "k", 1, 2, "a"});
  const auto all = sqlite().compiler().update_where(t, sets, {});
  CHECK(all.sql == "UPDATE accounts SET handle=?, secret_key=?");
  CHECK_THROWS_AS(sqlite().compiler().update_where(t, {}, crit), alchemy::ArgumentError);
}

TEST_CASE("bulk delete_where binds the criteria", "[sql][compiler][dml]") {
  const auto& t = mapper_of<Account>().table();
  const std::vector<sql::ExprPtr> crit{(Account::id_ > 100).expr};
  auto c = sqlite().compiler().delete_where(t, crit);
  CHECK(c.sql == "DELETE FROM accounts WHERE accounts.id > ?");
  CHECK(c.params == Params{100});
  c = postgresql().compiler().delete_where(t, crit);
  CHECK(c.sql == "DELETE FROM accounts WHERE accounts.id > $1");
  c = mysql().compiler().delete_where(t, crit);
  CHECK(c.sql == "DELETE FROM accounts WHERE accounts.id > ?");
  c = mysql().compiler().delete_where(t, {});
  CHECK(c.sql == "DELETE FROM accounts");
  CHECK(c.params.empty());
}

// === Identifier quoting =========================================================================

TEST_CASE("a reserved word is quoted per dialect: user only on PostgreSQL", "[sql][compiler][quoting]") {
  CHECK(sqlite().compiler().quote("user") == "user");
  CHECK(postgresql().compiler().quote("user") == "\"user\"");
  CHECK(mysql().compiler().quote("user") == "user");
  for (const char* word : {"order", "select", "from", "where", "table"}) {
    INFO(word);
    CHECK(sqlite().compiler().quote(word) == "\"" + std::string(word) + "\"");
    CHECK(postgresql().compiler().quote(word) == "\"" + std::string(word) + "\"");
    CHECK(mysql().compiler().quote(word) == "`" + std::string(word) + "`");
  }
}

TEST_CASE("an ordinary lower-case name is never quoted", "[sql][compiler][quoting]") {
  for (const Dialect* d : {&sqlite(), &postgresql(), &mysql()}) {
    INFO("dialect " << d->name());
    for (const char* name : {"accounts", "secret_key", "_private", "a1", "x$y", "handle"})
      CHECK(d->compiler().quote(name) == name);
  }
}

TEST_CASE("upper case, spaces, a leading digit or $ and punctuation force quoting", "[sql][compiler][quoting]") {
  CHECK(sqlite().compiler().quote("Name") == "\"Name\"");
  CHECK(postgresql().compiler().quote("Name") == "\"Name\"");
  CHECK(mysql().compiler().quote("Name") == "`Name`");
  CHECK(sqlite().compiler().quote("x y") == "\"x y\"");
  CHECK(mysql().compiler().quote("x y") == "`x y`");
  CHECK(postgresql().compiler().quote("1abc") == "\"1abc\"");
  CHECK(postgresql().compiler().quote("$abc") == "\"$abc\"");
  CHECK(postgresql().compiler().quote("a-b") == "\"a-b\"");
  CHECK(mysql().compiler().quote("a.b") == "`a.b`");
  CHECK(sqlite().compiler().quote("") == "\"\"");
}

TEST_CASE("an embedded quote character is doubled", "[sql][compiler][quoting]") {
  CHECK(sqlite().compiler().quote("we\"ird`tbl") == "\"we\"\"ird`tbl\"");
  CHECK(postgresql().compiler().quote("we\"ird`tbl") == "\"we\"\"ird`tbl\"");
  CHECK(mysql().compiler().quote("we\"ird`tbl") == "`we\"ird``tbl`");
  CHECK(mysql().compiler().quote("``") == "``````");
  CHECK(postgresql().compiler().quote("\"") == "\"\"\"\"");
}

TEST_CASE("a SELECT over a table with odd names quotes as SQLAlchemy does", "[sql][compiler][quoting]") {
  // Section 2.4, verbatim.
  sql::Table t("we\"ird`tbl");
  add_column(t, "a\"b");
  add_column(t, "user");
  add_column(t, "Name");
  add_column(t, "x y");
  sql::Select s;
  s.table = &t;
  check(sqlite(), s, "SELECT \"we\"\"ird`tbl\".\"a\"\"b\", \"we\"\"ird`tbl\".user, \"we\"\"ird`tbl\".\"Name\", "
                     "\"we\"\"ird`tbl\".\"x y\" FROM \"we\"\"ird`tbl\"", {});
  check(postgresql(), s, "SELECT \"we\"\"ird`tbl\".\"a\"\"b\", \"we\"\"ird`tbl\".\"user\", \"we\"\"ird`tbl\".\"Name\", "
                         "\"we\"\"ird`tbl\".\"x y\" FROM \"we\"\"ird`tbl\"", {});
  check(mysql(), s, "SELECT `we\"ird``tbl`.`a\"b`, `we\"ird``tbl`.user, `we\"ird``tbl`.`Name`, "
                    "`we\"ird``tbl`.`x y` FROM `we\"ird``tbl`", {});
}

TEST_CASE("a reserved-word table and column are quoted everywhere they appear", "[sql][compiler][quoting]") {
  // Section 2.4: SELECT "order"."select", "order"."Mixed" FROM "order".
  sql::Table t("order");
  add_column(t, "select");
  add_column(t, "Mixed");
  sql::Select s;
  s.table = &t;
  check(sqlite(), s, "SELECT \"order\".\"select\", \"order\".\"Mixed\" FROM \"order\"", {});
  check(postgresql(), s, "SELECT \"order\".\"select\", \"order\".\"Mixed\" FROM \"order\"", {});
  check(mysql(), s, "SELECT `order`.`select`, `order`.`Mixed` FROM `order`", {});
}

TEST_CASE("a model named with reserved words compiles every statement quoted", "[sql][compiler][quoting]") {
  const auto& m = mapper_of<compiler_test::Order>();
  const auto& t = m.table();
  CHECK(sqlite().compiler().create_table(t) ==
        "CREATE TABLE \"order\" (\n"
        "\tid INTEGER NOT NULL, \n"
        "\t\"select\" VARCHAR(10) NOT NULL, \n"
        "\tPRIMARY KEY (id)\n"
        ")");
  CHECK(mysql().compiler().create_table(t) ==
        "CREATE TABLE `order` (\n"
        "\tid BIGINT NOT NULL AUTO_INCREMENT, \n"
        "\t`select` VARCHAR(10) NOT NULL, \n"
        "\tPRIMARY KEY (id)\n"
        ")");
  CHECK(sqlite().compiler().create_indexes(t) ==
        std::vector<std::string>{"CREATE INDEX ix_order_select ON \"order\" (\"select\")"});
  CHECK(mysql().compiler().create_indexes(t) ==
        std::vector<std::string>{"CREATE INDEX ix_order_select ON `order` (`select`)"});
  CHECK(m.sql_for(sqlite()).insert_without_key == "INSERT INTO \"order\" (\"select\") VALUES (?)");
  CHECK(m.sql_for(postgresql()).insert_without_key ==
        "INSERT INTO \"order\" (\"select\") VALUES ($1) RETURNING \"order\".id");
  CHECK(m.sql_for(mysql()).insert_without_key == "INSERT INTO `order` (`select`) VALUES (?)");
  CHECK(m.sql_for(sqlite()).select_by_key == "SELECT \"order\".id, \"order\".\"select\" FROM \"order\" WHERE \"order\".id = ?");
  CHECK(m.update_sql(postgresql(), std::uint64_t{1} << 1) ==
        "UPDATE \"order\" SET \"select\"=$1 WHERE \"order\".id = $2");
  CHECK(m.update_sql(mysql(), std::uint64_t{1} << 1) == "UPDATE `order` SET `select`=? WHERE `order`.id = ?");
  CHECK(m.sql_for(mysql()).delete_by_key == "DELETE FROM `order` WHERE `order`.id = ?");

  sql::Select s = select_all<compiler_test::Order>();
  s.where.push_back((compiler_test::Order::select__ == "x").expr);
  check(postgresql(), s, "SELECT \"order\".id, \"order\".\"select\" FROM \"order\" WHERE \"order\".\"select\" = $1",
        {"x"});
}

namespace {

// SQLAlchemy's DifficultParametersTest names (testing/suite/test_dialect.py).
const std::vector<std::string> kDifficultNames{
    "per cent",     "per % cent",     "%percent",   "par(ens)",      "percent%(ens)yah",
    "col:ons",      "_starts_with_underscore",      "dot.s",         "more :: %colons%",
    "_name",        "___name",        "[BracketsAndCase]",           "42numbers",
    "percent%signs", "has spaces",    "/slashes/",  "more/slashes",  "q?marks",
    "1param",       "1col:on",        "boring"};

/// Whether `name` may appear unquoted: [a-z0-9_$] only, not starting with a digit or $.
bool plain_identifier(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9') || name[0] == '$') return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$')) return false;
  return true;
}

}  // namespace

TEST_CASE("SQLAlchemy's 21 difficult parameter names are quoted exactly when they must be",
          "[sql][compiler][quoting]") {
  REQUIRE(kDifficultNames.size() == 21);
  for (const Dialect* d : {&sqlite(), &postgresql(), &mysql()}) {
    const auto& c = d->compiler();
    const char q = d->name() == "mysql" ? '`' : '"';
    for (const auto& name : kDifficultNames) {
      INFO("dialect " << d->name() << ", column '" << name << "'");
      sql::Table t("t");
      const sql::Column& col = add_column(t, name);
      sql::Select s;
      s.table = &t;
      s.where.push_back(sql::binary(sql::Op::eq, sql::column(col), sql::bind(1)));
      const auto compiled = c.select(s);

      // "SELECT t.<id> FROM t WHERE t.<id> = <placeholder>": find <id> as rendered.
      const std::string head = "SELECT t.";
      REQUIRE(compiled.sql.rfind(head, 0) == 0);
      const auto from = compiled.sql.find(" FROM t WHERE t.");
      REQUIRE(from != std::string::npos);
      const std::string rendered = compiled.sql.substr(head.size(), from - head.size());

      std::string quoted(1, q);
      for (char ch : name) {
        if (ch == q) quoted += q;
        quoted += ch;
      }
      quoted += q;
      const bool plain = plain_identifier(name) && !c.reserved_words().contains(name);
      CHECK(rendered == (plain ? name : quoted));
      if (rendered == name) CHECK(plain);  // an unquoted name only when it is safe

      const std::string placeholder = d->name() == "postgresql" ? "$1" : "?";
      CHECK(compiled.sql == "SELECT t." + rendered + " FROM t WHERE t." + rendered + " = " + placeholder);
      CHECK(compiled.params == Params{1});
    }
  }
}

TEST_CASE("difficult names compile to exactly quoted SQL", "[sql][compiler][quoting]") {
  const auto one = [](const Dialect& d, const std::string& name) {
    sql::Table t("t");
    const sql::Column& col = add_column(t, name);
    sql::Select s;
    s.table = &t;
    s.where.push_back(sql::binary(sql::Op::eq, sql::column(col), sql::bind(1)));
    return d.compiler().select(s).sql;
  };
  CHECK(one(sqlite(), "per % cent") == "SELECT t.\"per % cent\" FROM t WHERE t.\"per % cent\" = ?");
  CHECK(one(postgresql(), "percent%(ens)yah") ==
        "SELECT t.\"percent%(ens)yah\" FROM t WHERE t.\"percent%(ens)yah\" = $1");
  CHECK(one(mysql(), "q?marks") == "SELECT t.`q?marks` FROM t WHERE t.`q?marks` = ?");
  CHECK(one(sqlite(), "[BracketsAndCase]") ==
        "SELECT t.\"[BracketsAndCase]\" FROM t WHERE t.\"[BracketsAndCase]\" = ?");
  CHECK(one(postgresql(), "42numbers") == "SELECT t.\"42numbers\" FROM t WHERE t.\"42numbers\" = $1");
  CHECK(one(mysql(), "more :: %colons%") == "SELECT t.`more :: %colons%` FROM t WHERE t.`more :: %colons%` = ?");
  CHECK(one(sqlite(), "_starts_with_underscore") ==
        "SELECT t._starts_with_underscore FROM t WHERE t._starts_with_underscore = ?");
  CHECK(one(postgresql(), "boring") == "SELECT t.boring FROM t WHERE t.boring = $1");
}

TEST_CASE("a table of every difficult name compiles its DDL and DML in each dialect", "[sql][compiler][quoting]") {
  sql::Table t("difficult");
  std::vector<const sql::Column*> cols;
  for (const auto& name : kDifficultNames) cols.push_back(&add_column(t, name, sql::TypeKind::string, 20));
  for (const Dialect* d : {&sqlite(), &postgresql(), &mysql()}) {
    INFO("dialect " << d->name());
    const auto& c = d->compiler();
    const auto ddl = c.create_table(t);
    const auto insert = c.insert(t, cols);
    for (const auto& name : kDifficultNames) {
      INFO("column '" << name << "'");
      CHECK(ddl.find("\t" + c.quote(name) + " VARCHAR(20)") != std::string::npos);
    }
    CHECK(insert.rfind("INSERT INTO difficult (" + c.quote("per cent") + ", " + c.quote("per % cent") + ", ", 0) == 0);
    const std::string last = d->name() == "postgresql" ? "$21)" : "?)";
    CHECK(insert.size() >= last.size());
    CHECK(insert.compare(insert.size() - last.size(), last.size(), last) == 0);
  }
  CHECK(mysql().compiler().insert(t, std::vector<const sql::Column*>{cols[0], cols[17], cols[20]}) ==
        "INSERT INTO difficult (`per cent`, `q?marks`, boring) VALUES (?, ?, ?)");
  CHECK(postgresql().compiler().update(t, std::vector<const sql::Column*>{cols[1]},
                                       std::vector<const sql::Column*>{cols[4]}) ==
        "UPDATE difficult SET \"per % cent\"=$1 WHERE difficult.\"percent%(ens)yah\" = $2");
}

// === SQL power: functions, GROUP BY / HAVING, subqueries, raw text(), upsert ======================

namespace {
namespace func = alchemy::func;
using compiler_test::Post;

/// SELECT <exprs> FROM accounts.
sql::Select select_exprs(std::vector<sql::ExprPtr> exprs) {
  sql::Select s = select_all<Account>();
  s.exprs = std::move(exprs);
  return s;
}

/// Compiles text() for `d`.
sql::Compiled text(const Dialect& d, std::string_view sql, const sql::Params& params = {}) {
  return d.compiler().text(sql, params);
}

/// The message of the ArgumentError that `f` throws.
template <class F>
std::string argument_error(F&& f) {
  try {
    f();
  } catch (const alchemy::ArgumentError& e) {
    return e.what();
  }
  FAIL("no ArgumentError");
  return "";
}

template <class M>
std::vector<const sql::Column*> cols(std::initializer_list<std::size_t> idx) {
  std::vector<const sql::Column*> out;
  for (auto i : idx) out.push_back(&mapper_of<M>().column(i));
  return out;
}
}  // namespace

TEST_CASE("func:: renders SQL functions with SQLAlchemy's anonymous labels", "[sql][compiler][func]") {
  const auto s = select_exprs({Account::handle_.expr(), func::count(Account::id_).expr(), func::count().expr(),
                               func::max(Account::id_).expr(), func::lower(Account::handle_).expr()});
  const std::string expected =
      "SELECT accounts.handle, count(accounts.id) AS count_1, count(*) AS count_2, "
      "max(accounts.id) AS max_1, lower(accounts.handle) AS lower_1 FROM accounts";
  check(sqlite(), s, expected, {});
  check(postgresql(), s, expected, {});
  check(mysql(), s, expected, {});
}

TEST_CASE("func:: expressions deduce their C++ types", "[sql][compiler][func]") {
  STATIC_REQUIRE(std::is_same_v<decltype(func::count())::field_type, int64_t>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::count(Account::id_))::model_type, Account>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::sum(Account::id_))::field_type, std::optional<int64_t>>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::avg(Account::id_))::field_type, std::optional<double>>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::min(Account::handle_))::field_type, std::optional<std::string>>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::lower(Account::handle_))::field_type, std::string>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::upper(Account::secret_key_))::field_type, std::optional<std::string>>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::length(Account::handle_))::field_type, int64_t>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::coalesce(func::sum(Account::id_), 0))::field_type, int64_t>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::coalesce(Account::secret_key_, Account::handle_))::field_type, std::string>);
  STATIC_REQUIRE(std::is_same_v<decltype(func::coalesce(Account::secret_key_, std::nullopt))::field_type,
                                std::optional<std::string>>);
}

TEST_CASE("coalesce binds its fallback value", "[sql][compiler][func]") {
  const auto s = select_exprs({func::coalesce(func::sum(Account::id_), 0).expr(),
                               func::coalesce(Account::secret_key_, "none").expr()});
  check(sqlite(), s, "SELECT coalesce(sum(accounts.id), ?) AS coalesce_1, coalesce(accounts.secret_key, ?) AS coalesce_2 FROM accounts",
        {0, "none"});
  check(postgresql(), s,
        "SELECT coalesce(sum(accounts.id), $1) AS coalesce_1, coalesce(accounts.secret_key, $2) AS coalesce_2 FROM accounts",
        {0, "none"});
}

TEST_CASE("a function compared with a value is a condition for WHERE", "[sql][compiler][func]") {
  check_where(func::lower(Account::handle_) == "jdoe", "lower(accounts.handle) = ?", "lower(accounts.handle) = $1",
              {"jdoe"});
  check_where(func::length(Account::handle_) > 3, "length(accounts.handle) > ?", "length(accounts.handle) > $1", {3});
}

TEST_CASE("GROUP BY and HAVING come between WHERE and ORDER BY, parameters in order", "[sql][compiler][func]") {
  sql::Select s = select_exprs({Account::handle_.expr(), func::count(Account::id_).expr()});
  s.where.push_back((Account::id_ > 1).expr);
  s.group_by.push_back(Account::handle_.expr());
  s.having.push_back((func::count(Account::id_) > 2).expr);
  s.order_by.push_back(func::count(Account::id_).desc().term);
  s.limit = 5;
  const std::string head = "SELECT accounts.handle, count(accounts.id) AS count_1 FROM accounts ";
  check(sqlite(), s,
        head + "WHERE accounts.id > ? GROUP BY accounts.handle HAVING count(accounts.id) > ? "
               "ORDER BY count(accounts.id) DESC LIMIT ? OFFSET ?",
        {1, 2, 5, 0});
  check(postgresql(), s,
        head + "WHERE accounts.id > $1 GROUP BY accounts.handle HAVING count(accounts.id) > $2 "
               "ORDER BY count(accounts.id) DESC LIMIT $3",
        {1, 2, 5});
  check(mysql(), s,
        head + "WHERE accounts.id > ? GROUP BY accounts.handle HAVING count(accounts.id) > ? "
               "ORDER BY count(accounts.id) DESC LIMIT ?",
        {1, 2, 5});
}

TEST_CASE("count() over a grouped query counts the groups", "[sql][compiler][func]") {
  sql::Select s = select_exprs({Account::handle_.expr(), func::count().expr()});
  s.group_by.push_back(Account::handle_.expr());
  check(mysql(), s,
        "SELECT count(*) AS count_1 FROM (SELECT accounts.handle, count(*) AS count_1 FROM accounts "
        "GROUP BY accounts.handle) AS anon_1",
        {}, sql::SelectForm::count);
}

TEST_CASE("in_ a subquery renders IN (SELECT ...), numbering parameters through it", "[sql][compiler][subquery]") {
  sql::Select inner;
  inner.table = &mapper_of<Post>().table();
  inner.exprs = {Post::author_id_.expr()};
  inner.where.push_back((Post::title_ == "x").expr);
  auto sub = std::make_shared<sql::Select>(inner);
  sql::Select s = select_all<Account>();
  s.where.push_back((Account::handle_ != "a").expr);
  s.where.push_back(sql::subquery(sql::Op::in_select, sub, Account::id_.expr()));
  s.where.push_back((Account::id_ < 9).expr);
  check(postgresql(), s,
        kAll + " WHERE accounts.handle != $1 AND accounts.id IN (SELECT posts.author_id FROM posts WHERE "
               "posts.title = $2) AND accounts.id < $3",
        {"a", "x", 9});
  sql::Select n = select_all<Account>();
  n.where.push_back(sql::not_(sql::subquery(sql::Op::in_select, sub, Account::id_.expr())));
  check(sqlite(), n,
        kAll + " WHERE (accounts.id NOT IN (SELECT posts.author_id FROM posts WHERE posts.title = ?))", {"x"});
}

TEST_CASE("EXISTS and scalar subqueries", "[sql][compiler][subquery]") {
  sql::Select inner;
  inner.table = &mapper_of<Post>().table();
  inner.exprs = {func::max(Post::author_id_).expr()};
  auto sub = std::make_shared<sql::Select>(inner);
  const alchemy::Expression<std::optional<int64_t>> top(sql::subquery(sql::Op::scalar_subquery, sub));
  check_where(Account::id_ == top, "accounts.id = (SELECT max(posts.author_id) AS max_1 FROM posts)",
              "accounts.id = (SELECT max(posts.author_id) AS max_1 FROM posts)", {});
  sql::Select e = select_all<Account>();
  e.where.push_back(sql::subquery(sql::Op::exists, sub));
  check(mysql(), e, kAll + " WHERE EXISTS (SELECT max(posts.author_id) AS max_1 FROM posts)", {});
  check(sqlite(), select_exprs({top.expr()}), "SELECT (SELECT max(posts.author_id) AS max_1 FROM posts) AS anon_1 FROM accounts", {});
}

TEST_CASE("text() turns :name into each dialect's placeholder and binds the value", "[sql][compiler][text]") {
  const std::string_view q = "SELECT id FROM accounts WHERE handle = :h AND id > :n OR handle = :h";
  const sql::Params p{{"h", "jdoe"}, {"n", 3}};
  auto c = text(sqlite(), q, p);
  CHECK(c.sql == "SELECT id FROM accounts WHERE handle = ? AND id > ? OR handle = ?");
  CHECK(c.params == Params{"jdoe", 3, "jdoe"});
  c = text(postgresql(), q, p);
  CHECK(c.sql == "SELECT id FROM accounts WHERE handle = $1 AND id > $2 OR handle = $3");
  c = text(mysql(), q, p);
  CHECK(c.sql == "SELECT id FROM accounts WHERE handle = ? AND id > ? OR handle = ?");
}

TEST_CASE("text() leaves quoted strings, identifiers, comments and :: casts alone", "[sql][compiler][text]") {
  auto c = text(postgresql(), "SELECT ':x', 'it''s :y', \":z\", id::text, :a::int -- :c\nFROM t /* :d */ WHERE a = :a",
                {{"a", 1}});
  CHECK(c.sql == "SELECT ':x', 'it''s :y', \":z\", id::text, $1::int -- :c\nFROM t /* :d */ WHERE a = $2");
  CHECK(c.params == Params{1, 1});
  c = text(sqlite(), "SELECT '10:30', x\\:y, a:b FROM t");
  CHECK(c.sql == "SELECT '10:30', x:y, a:b FROM t");
  CHECK(c.params.empty());
  // MySQL strings take backslash escapes: \' does not end the literal.
  c = text(mysql(), "SELECT 'a\\' :no', `:col` FROM t WHERE x = :yes", {{"yes", 2}});
  CHECK(c.sql == "SELECT 'a\\' :no', `:col` FROM t WHERE x = ?");
  CHECK(c.params == Params{2});
}

TEST_CASE("text() names a missing, unused or repeated parameter", "[sql][compiler][text]") {
  CHECK(argument_error([] { text(sqlite(), "SELECT :a, :b", {{"a", 1}}); }) ==
        "text(): no value given for parameter 'b'");
  CHECK(argument_error([] { text(postgresql(), "SELECT :a", {{"a", 1}, {"zz", 2}}); }) ==
        "text(): parameter 'zz' is not used by the statement");
  CHECK(argument_error([] { text(mysql(), "SELECT :a", {{"a", 1}, {"a", 2}}); }) ==
        "text(): parameter 'a' is given twice");
}

TEST_CASE("upsert is ON CONFLICT on SQLite and PostgreSQL and ON DUPLICATE KEY UPDATE on MySQL", "[sql][compiler][upsert]") {
  const auto& t = mapper_of<Account>().table();
  const auto insert_cols = cols<Account>({1, 2});
  const auto target = cols<Account>({1});
  const auto update = cols<Account>({2});
  CHECK(sqlite().compiler().upsert(t, insert_cols, target, update) ==
        "INSERT INTO accounts (handle, secret_key) VALUES (?, ?) ON CONFLICT (handle) DO UPDATE SET "
        "secret_key = excluded.secret_key");
  CHECK(postgresql().compiler().upsert(t, insert_cols, target, update, 2) ==
        "INSERT INTO accounts (handle, secret_key) VALUES ($1, $2), ($3, $4) ON CONFLICT (handle) DO UPDATE "
        "SET secret_key = excluded.secret_key");
  CHECK(mysql().compiler().upsert(t, insert_cols, target, update) ==
        "INSERT INTO accounts (handle, secret_key) VALUES (?, ?) ON DUPLICATE KEY UPDATE secret_key = "
        "VALUES(secret_key)");
  CHECK(sqlite().compiler().upsert(t, insert_cols, target, {}) ==
        "INSERT INTO accounts (handle, secret_key) VALUES (?, ?) ON CONFLICT (handle) DO NOTHING");
  CHECK(mysql().compiler().upsert(t, insert_cols, target, {}) ==
        "INSERT INTO accounts (handle, secret_key) VALUES (?, ?) ON DUPLICATE KEY UPDATE handle = handle");
  // Reserved words are quoted in the SET list too.
  const auto& o = mapper_of<compiler_test::Order>().table();
  CHECK(postgresql().compiler().upsert(o, cols<compiler_test::Order>({0, 1}), cols<compiler_test::Order>({0}),
                                       cols<compiler_test::Order>({1})) ==
        "INSERT INTO \"order\" (id, \"select\") VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET \"select\" = "
        "excluded.\"select\"");
  CHECK(compile_error([&] { sqlite().compiler().upsert(t, insert_cols, {}, update); }) ==
        "ON CONFLICT DO UPDATE needs the conflict columns (a unique key)");
}

TEST_CASE("a UNION joins plain SELECTs, and the first query's LIMIT limits the whole", "[sql][compiler][union]") {
  sql::Select a = select_exprs({Account::handle_.expr()});
  a.where.push_back((Account::id_ < 3).expr);
  sql::Select b;
  b.table = &mapper_of<Post>().table();
  b.exprs = {Post::title_.expr()};
  b.where.push_back((Post::id_ > 7).expr);
  sql::Select u = a;
  u.unions.push_back({false, std::make_shared<sql::Select>(b)});
  u.unions.push_back({true, std::make_shared<sql::Select>(b)});
  u.limit = 10;
  check(postgresql(), u,
        "SELECT accounts.handle FROM accounts WHERE accounts.id < $1 UNION SELECT posts.title FROM posts WHERE "
        "posts.id > $2 UNION ALL SELECT posts.title FROM posts WHERE posts.id > $3 LIMIT $4",
        {3, 7, 7, 10});
  u.limit.reset();
  check(sqlite(), u, "SELECT count(*) AS count_1 FROM (SELECT accounts.handle FROM accounts WHERE accounts.id < ? UNION "
                     "SELECT posts.title FROM posts WHERE posts.id > ? UNION ALL SELECT posts.title FROM posts WHERE "
                     "posts.id > ?) AS anon_1",
        {3, 7, 7}, sql::SelectForm::count);
  sql::Select ordered = u;
  ordered.order_by.push_back(Account::handle_.asc().term);
  CHECK(compile_error([&] { mysql().compiler().select(ordered); }) ==
        "a query in a union cannot have ORDER BY; sort the rows it returns");
  b.limit = 1;
  sql::Select limited = a;
  limited.unions.push_back({false, std::make_shared<sql::Select>(b)});
  CHECK(compile_error([&] { sqlite().compiler().select(limited); }) == "a query in a union cannot have LIMIT or OFFSET");
}

TEST_CASE("text() copies unterminated quotes and comments and odd colons through unchanged", "[sql][compiler][text]") {
  for (const Dialect* d : {&sqlite(), &postgresql(), &mysql()}) {
    INFO("dialect " << d->name());
    for (std::string_view s : {"SELECT 'open :a", "SELECT \"open :a", "SELECT `x :a", "SELECT 1 /* open :a",
                               "SELECT 1 -- :a", ":", "x:", "::", ":::", "\\", "\\:", "'\\", "'", "", "a: b", ":1x::"}) {
      INFO("text " << s);
      if (s == ":1x::") {
        CHECK(text(*d, s, {{"1x", 5}}).params == Params{5});
        continue;
      }
      const auto c = text(*d, s);
      CHECK(c.params.empty());
      if (s == "\\:")
        CHECK(c.sql == ":");
      else
        CHECK(c.sql == s);
    }
  }
}

// === Joins =======================================================================================

namespace {
/// posts.author_id = accounts.id, built from the tree (no typed cross-model condition needed).
sql::ExprPtr posts_by_author() {
  return sql::binary(sql::Op::eq, Post::author_id_.expr(), Account::id_.expr());
}
}  // namespace

TEST_CASE("a join renders JOIN ... ON and an outer join LEFT OUTER JOIN ... ON", "[sql][compiler][join]") {
  sql::Select s = select_all<Post>();
  s.columns = {&Post::title_.sql_column()};
  s.joins.push_back({&mapper_of<Account>().table(), posts_by_author()});
  s.where.push_back((Account::handle_ == "ada").expr);
  const std::string head = "SELECT posts.title FROM posts JOIN accounts ON posts.author_id = accounts.id WHERE ";
  check(sqlite(), s, head + "accounts.handle = ?", {"ada"});
  check(postgresql(), s, head + "accounts.handle = $1", {"ada"});
  check(mysql(), s, head + "accounts.handle = ?", {"ada"});

  s.joins.front().outer = true;
  check(sqlite(), s,
        "SELECT posts.title FROM posts LEFT OUTER JOIN accounts ON posts.author_id = accounts.id WHERE "
        "accounts.handle = ?",
        {"ada"});
}

TEST_CASE("joins render in order, quoted, with ON parameters numbered before the WHERE's", "[sql][compiler][join]") {
  const auto& order = mapper_of<compiler_test::Order>();
  sql::Select s = select_all<Post>();
  s.columns = {&Post::id_.sql_column()};
  s.joins.push_back({&mapper_of<Account>().table(),
                     sql::and_({posts_by_author(), (Account::handle_ != "root").expr})});
  s.joins.push_back({&order.table(),
                     sql::and_({sql::binary(sql::Op::eq, sql::column(order.column(0)), Post::id_.expr()),
                                sql::binary(sql::Op::eq, sql::column(order.column(1)), sql::bind("x"))}),
                     true});
  s.where.push_back((Post::title_ == "t").expr);
  s.limit = 3;
  check(sqlite(), s,
        "SELECT posts.id FROM posts JOIN accounts ON posts.author_id = accounts.id AND accounts.handle != ? "
        "LEFT OUTER JOIN \"order\" ON \"order\".id = posts.id AND \"order\".\"select\" = ? "
        "WHERE posts.title = ? LIMIT ? OFFSET ?",
        {"root", "x", "t", 3, 0});
  check(postgresql(), s,
        "SELECT posts.id FROM posts JOIN accounts ON posts.author_id = accounts.id AND accounts.handle != $1 "
        "LEFT OUTER JOIN \"order\" ON \"order\".id = posts.id AND \"order\".\"select\" = $2 "
        "WHERE posts.title = $3 LIMIT $4",
        {"root", "x", "t", 3});
  check(mysql(), s,
        "SELECT posts.id FROM posts JOIN accounts ON posts.author_id = accounts.id AND accounts.handle != ? "
        "LEFT OUTER JOIN `order` ON `order`.id = posts.id AND `order`.`select` = ? "
        "WHERE posts.title = ? LIMIT ?",
        {"root", "x", "t", 3});
}

TEST_CASE("count() and exists() wrap a joined query whole", "[sql][compiler][join]") {
  sql::Select s = select_all<Post>();
  s.columns = {&Post::id_.sql_column()};
  s.joins.push_back({&mapper_of<Account>().table(), posts_by_author(), true});
  s.where.push_back((Account::handle_ == "ada").expr);
  const std::string inner =
      "SELECT posts.id FROM posts LEFT OUTER JOIN accounts ON posts.author_id = accounts.id WHERE accounts.handle = ";
  check(postgresql(), s, "SELECT count(*) AS count_1 FROM (" + inner + "$1) AS anon_1", {"ada"},
        sql::SelectForm::count);
  check(mysql(), s, "SELECT EXISTS (" + inner + "?) AS anon_1", {"ada"}, sql::SelectForm::exists);
}

TEST_CASE("a subquery keeps its own joins, and may refer to the outer query's table", "[sql][compiler][join][subquery]") {
  sql::Select inner = select_all<Post>();
  inner.exprs = {Post::id_.expr()};
  inner.joins.push_back({&mapper_of<compiler_test::Order>().table(),
                         sql::binary(sql::Op::eq, sql::column(mapper_of<compiler_test::Order>().column(0)),
                                     Post::id_.expr())});
  inner.where.push_back(posts_by_author());  // correlated: accounts is the outer query's
  inner.where.push_back((Post::title_ == "t").expr);
  sql::Select s = select_all<Account>();
  s.where.push_back((Account::handle_ == "a").expr);
  s.where.push_back(sql::subquery(sql::Op::exists, std::make_shared<sql::Select>(inner)));
  check(postgresql(), s,
        kAll + " WHERE accounts.handle = $1 AND EXISTS (SELECT posts.id FROM posts JOIN \"order\" ON "
               "\"order\".id = posts.id WHERE posts.author_id = accounts.id AND posts.title = $2)",
        {"a", "t"});
}

TEST_CASE("a column whose name an earlier one has is labelled name_1, as SQLAlchemy's select()", "[sql][compiler][join]") {
  sql::Select s = select_all<Post>();
  s.exprs = {Post::id_.expr(), Post::title_.expr(), Account::id_.expr(), Account::handle_.expr(),
             Post::id_.expr(), func::count().expr()};
  s.joins.push_back({&mapper_of<Account>().table(), posts_by_author()});
  check(mysql(), s,
        "SELECT count(*) AS count_1 FROM (SELECT posts.id, posts.title, accounts.id AS id_1, accounts.handle, "
        "posts.id AS id_2, count(*) AS count_1 FROM posts JOIN accounts ON posts.author_id = accounts.id) AS anon_1",
        {}, sql::SelectForm::count);
}

TEST_CASE("a join without a table or an ON condition is a CompileError", "[sql][compiler][join]") {
  sql::Select s = select_all<Post>();
  s.joins.push_back({&mapper_of<Account>().table(), nullptr});
  CHECK(compile_error([&] { sqlite().compiler().select(s); }) == "JOIN without a table or an ON condition");
  s.joins.front() = {nullptr, posts_by_author()};
  CHECK(compile_error([&] { mysql().compiler().select(s); }) == "JOIN without a table or an ON condition");
}
