// SPDX-License-Identifier: MIT
// File: tests/dialect/mysql/test_driver.cpp
//
// The MySQL / MariaDB driver used directly, below the engine: value round trips at their
// limits, error mapping, matched-row counts, statement caching and lost connections.
// Needs a server: ALCHEMY_TEST_MYSQL_URL=mysql://user:pw@127.0.0.1:port/db. Without it the
// server tests warn and pass, unless ALCHEMY_TEST_REQUIRE_SERVERS is set (CI), where they fail.
// The error-mapping and URL-option tests need no server.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "alchemy/dialect/mysql/driver.hpp"
#include "alchemy/engine/url.hpp"

namespace {

using namespace std::chrono_literals;
using alchemy::Blob;
using alchemy::Constraint;
using alchemy::Date;
using alchemy::DateTime;
using alchemy::dialect::Connection;
using alchemy::dialect::ConnectParams;
using alchemy::dialect::Statement;
using alchemy::sql::TypeKind;
using alchemy::sql::Value;
using alchemy::sql::ValueKind;
using alchemy::sql::ValueRef;
namespace my = alchemy::dialect::mysql;

/// The test server's parameters; nullopt (after a warning) when no server is configured.
std::optional<ConnectParams> server() {
  const char* url = std::getenv("ALCHEMY_TEST_MYSQL_URL");
  if (url == nullptr || *url == '\0') {
    if (std::getenv("ALCHEMY_TEST_REQUIRE_SERVERS") != nullptr)
      FAIL("ALCHEMY_TEST_MYSQL_URL is not set");
    WARN("ALCHEMY_TEST_MYSQL_URL is not set: MySQL driver test skipped");
    return std::nullopt;
  }
  return alchemy::make_url(url).connect_params();
}

std::unique_ptr<my::MysqlConnection> connect(const ConnectParams& p) {
  return static_cast<const my::MysqlDriver&>(my::driver()).connect_mysql(p);
}

/// A table for one test, with a name no other test or concurrent run uses; dropped at the end.
class Table {
 public:
  Table(Connection& conn, std::string_view stem, const std::string& columns)
      : conn_(conn), name_("alc_" + std::string(stem) + "_" + std::to_string(::getpid())) {
    conn_.execute("DROP TABLE IF EXISTS " + name_);
    conn_.execute("CREATE TABLE " + name_ + " (" + columns +
                  ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
  }
  ~Table() {
    try {
      if (!conn_.is_broken()) conn_.execute("DROP TABLE IF EXISTS " + name_);
    } catch (...) {
    }
  }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  const std::string& name() const { return name_; }

 private:
  Connection& conn_;
  std::string name_;
};

/// Runs `sql` with `params` bound and returns the statement (results unread).
Statement& run(Connection& conn, const std::string& sql, std::vector<ValueRef> params = {}) {
  auto& st = conn.prepare(sql);
  for (std::size_t i = 0; i < params.size(); ++i) st.bind(static_cast<int>(i), params[i]);
  st.execute();
  return st;
}

/// The single value a one-row, one-column query returns, copied out.
Value scalar(Connection& conn, const std::string& sql, std::vector<ValueRef> params = {},
             TypeKind hint = TypeKind::text) {
  auto& st = run(conn, sql, std::move(params));
  REQUIRE(st.next());
  Value v(st.column(0, hint));
  REQUIRE_FALSE(st.next());
  st.reset();
  return v;
}

/// Inserts `v` into column v of `table` and reads it back with `hint`.
Value round_trip(Connection& conn, const Table& table, ValueRef v, TypeKind hint) {
  auto& ins = run(conn, "INSERT INTO " + table.name() + " (v) VALUES (?)", {v});
  const auto id = ins.last_insert_id();
  REQUIRE(id.has_value());
  ins.reset();
  return scalar(conn, "SELECT v FROM " + table.name() + " WHERE id = ?", {ValueRef::integer(*id)},
                hint);
}

Blob all_bytes() {
  Blob b;
  for (int i = 0; i < 256; ++i) b.push_back(static_cast<std::uint8_t>(i));
  b.push_back(0);
  b.push_back(0);
  return b;
}

template <class E>
E thrown_by(auto&& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  FAIL("the expected exception was not thrown");
  throw;  // unreachable
}

}  // namespace

TEST_CASE("MySQL error numbers map to the exception tree and constraint kinds", "[mysql][driver]") {
  using C = my::ErrorClass;
  CHECK(my::classify(1062, "23000").cls == C::integrity);
  CHECK(my::classify(1062, "23000").constraint == Constraint::unique);
  CHECK(my::classify(1586, "23000").constraint == Constraint::unique);
  CHECK(my::classify(1048, "23000").constraint == Constraint::not_null);
  CHECK(my::classify(1364, "HY000").constraint == Constraint::not_null);
  for (unsigned code : {1451u, 1452u, 1216u, 1217u})
    CHECK(my::classify(code, "23000").constraint == Constraint::foreign_key);
  CHECK(my::classify(3819, "HY000").constraint == Constraint::check);
  CHECK(my::classify(4025, "23000").constraint == Constraint::check);
  CHECK(my::classify(1213, "40001").cls == C::transaction_rollback);
  CHECK(my::classify(1205, "HY000").cls == C::transaction_rollback);
  for (unsigned code : {1406u, 1264u, 1366u, 1292u, 1365u})
    CHECK(my::classify(code, "22001").cls == C::data);
  for (unsigned code : {1064u, 1146u, 1054u, 1049u})
    CHECK(my::classify(code, "42000").cls == C::programming);
  for (unsigned code : {1927u, 2006u, 2013u, 2014u, 2045u, 2055u, 4031u}) {
    CHECK(my::classify(code, "HY000").cls == C::operational);
    CHECK(my::classify(code, "HY000").disconnect);
  }
  for (unsigned code : {2002u, 2003u, 2005u, 1045u}) {
    CHECK(my::classify(code, "HY000").cls == C::operational);
    CHECK_FALSE(my::classify(code, "HY000").disconnect);
  }
  CHECK(my::classify(9999, "23000").cls == C::integrity);
  CHECK(my::classify(9999, "22003").cls == C::data);
  CHECK(my::classify(9999, "42S02").cls == C::programming);
  CHECK(my::classify(9999, "08S01").cls == C::operational);
  CHECK(my::classify(9999, "HY000").cls == C::operational);
  CHECK(my::classify(9999, "XX000").cls == C::database);

  const auto deadlock = thrown_by<alchemy::TransactionRollbackError>(
      [] { my::throw_error(1213, "40001", "Deadlock found", "UPDATE t SET a = ?"); });
  CHECK(deadlock.retryable());
  CHECK(deadlock.native_code() == 1213);
  CHECK(deadlock.driver() == "mysql");
  CHECK(deadlock.statement() == "UPDATE t SET a = ?");
  const auto lost = thrown_by<alchemy::OperationalError>(
      [] { my::throw_error(2013, "HY000", "Lost connection", "SELECT 1"); });
  CHECK(lost.connection_invalidated());
  CHECK_THROWS_AS(my::throw_error(1146, "42S02", "no table", ""), alchemy::ProgrammingError);
}

TEST_CASE("MySQL error messages never quote the offending value", "[mysql][driver]") {
  const auto dup = my::redact_message(1062, "Duplicate entry 'jdoe' for key 'handle'");
  CHECK(dup == "Duplicate entry '***' for key 'handle'");
  CHECK(my::redact_message(1062, "Duplicate entry 'a' for key 'x' for key 'PRIMARY'") ==
        "Duplicate entry '***' for key 'PRIMARY'");
  CHECK(my::redact_message(1366,
                           "Incorrect integer value: 's3cr3t' for column `db`.`t`.`n` at row 1") ==
        "Incorrect integer value: '***' for column `db`.`t`.`n` at row 1");
  CHECK(my::redact_message(1292, "Truncated incorrect DOUBLE value: 's3cr3t'") ==
        "Truncated incorrect DOUBLE value: '***'");
  CHECK(my::redact_message(1062, "Eintrag 's3cr3t' doppelt") == "Duplicate entry for a unique key");
  const auto e = thrown_by<alchemy::IntegrityError>(
      [] { my::throw_error(1062, "23000", "Duplicate entry 's3cr3t' for key 'u'", "INSERT"); });
  CHECK(std::string(e.what()).find("s3cr3t") == std::string::npos);
  CHECK(e.constraint() == Constraint::unique);
}

TEST_CASE("an unknown or malformed MySQL URL option is an ArgumentError naming the key only",
          "[mysql][driver]") {
  ConnectParams p;
  p.host = "127.0.0.1";
  p.query = {{"no_such_option", "s3cr3t-value"}};
  const auto e = thrown_by<alchemy::ArgumentError>([&] { my::driver().connect(p); });
  CHECK(std::string(e.what()).find("no_such_option") != std::string::npos);
  CHECK(std::string(e.what()).find("s3cr3t-value") == std::string::npos);

  p.query = {{"connect_timeout", "soon"}};
  CHECK_THROWS_AS(my::driver().connect(p), alchemy::ArgumentError);
  p.query = {{"ssl_mode", "sometimes"}};
  CHECK_THROWS_AS(my::driver().connect(p), alchemy::ArgumentError);
}

TEST_CASE("connecting to MySQL where no server listens raises OperationalError",
          "[mysql][driver]") {
  ConnectParams p;
  p.host = "127.0.0.1";
  p.port = 1;
  p.username = "nobody";
  p.password = "s3cr3t-pw";
  p.query = {{"connect_timeout", "5"}};
  const auto e = thrown_by<alchemy::OperationalError>([&] { my::driver().connect(p); });
  CHECK_FALSE(e.connection_invalidated());
  CHECK(std::string(e.what()).find("s3cr3t-pw") == std::string::npos);
}

TEST_CASE("the MySQL driver is registered under its URL schemes", "[mysql][driver]") {
  for (const char* scheme : {"mysql", "mysql+mysqlclient", "mariadb", "mariadb+mariadbconnector"})
    CHECK(alchemy::dialect::find_driver(scheme) == &my::driver());
  CHECK(my::driver().name() == "mysql");
  CHECK(my::driver().dialect().name() == "mysql");
}

TEST_CASE("a wrong MySQL password raises OperationalError that does not show it",
          "[mysql][driver]") {
  auto params = server();
  if (!params) return;
  params->password = "Wr0ng-Pa55word";
  const auto e = thrown_by<alchemy::OperationalError>([&] { my::driver().connect(*params); });
  CHECK(e.native_code() == 1045);
  CHECK(std::string(e.what()).find("Wr0ng-Pa55word") == std::string::npos);
}

TEST_CASE("a MySQL connection uses utf8mb4 and a strict sql_mode", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  CHECK(scalar(*conn, "SELECT @@character_set_client").as_text() == "utf8mb4");
  CHECK(scalar(*conn, "SELECT @@sql_mode").as_text().find("STRICT_ALL_TABLES") !=
        std::string::npos);
  CHECK(conn->ping());
  CHECK_FALSE(conn->is_broken());
}

TEST_CASE("MySQL URL options set the character set, timeouts and socket", "[mysql][driver]") {
  auto params = server();
  if (!params) return;
  params->query = {{"charset", "latin1"},
                   {"connect_timeout", "5"},
                   {"read_timeout", "30"},
                   {"write_timeout", "30"}};
  auto conn = connect(*params);
  CHECK(scalar(*conn, "SELECT @@character_set_client").as_text() == "latin1");
  const std::string socket = scalar(*conn, "SELECT @@socket").as_text();
  // The socket is only reachable when the server runs on this machine.
  if (!socket.empty() && std::filesystem::exists(socket)) {
    params->host = "localhost";
    params->port.reset();
    params->query = {{"unix_socket", socket}};
    auto local = connect(*params);
    CHECK(scalar(*local, "SELECT 1").as_integer() == 1);
  }
}

TEST_CASE("MySQL NULL, TIME, DECIMAL, JSON and binary string columns are read", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  auto& st = run(*conn,
                 "SELECT NULL, CAST('12:34:56.5' AS TIME(1)), CAST(-1.5 AS DECIMAL(5,2)), "
                 "JSON_OBJECT('a', 1), CAST('ab' AS BINARY), 'x', CAST(? AS DATE)",
                 {ValueRef::text("0000-00-00")});
  REQUIRE(st.column_count() == 7);
  REQUIRE(st.next());
  CHECK(st.column(0, TypeKind::text).is_null());
  CHECK(st.column(1, TypeKind::text).as_text() == "12:34:56.5");
  CHECK(st.column(2, TypeKind::text).as_text() == "-1.50");
  CHECK(st.column(3, TypeKind::text).as_text().find("\"a\"") != std::string::npos);
  const auto bin = st.column(4, TypeKind::blob);
  REQUIRE(bin.kind() == ValueKind::blob);
  CHECK(bin.as_blob().size() == 2);
  CHECK(st.column(4, TypeKind::string).as_text() == "ab");
  CHECK(st.column(5, TypeKind::blob).kind() == ValueKind::blob);
  CHECK(st.column(6, TypeKind::date).is_null());  // a zero date has no calendar value
  CHECK_FALSE(st.next());
  st.reset();
}

TEST_CASE("integers round trip through MySQL at the limits of int64", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "ints", "id BIGINT AUTO_INCREMENT PRIMARY KEY, v BIGINT NULL");
  for (std::int64_t v :
       {std::numeric_limits<std::int64_t>::min(), std::int64_t{-1}, std::int64_t{0},
        std::int64_t{1}, std::numeric_limits<std::int64_t>::max()})
    CHECK(round_trip(*conn, t, ValueRef::integer(v), TypeKind::big_integer) == Value(v));
  CHECK(round_trip(*conn, t, nullptr, TypeKind::big_integer).is_null());
  // BIGINT UNSIGNED beyond int64 comes back as its digits, never as a wrapped negative number.
  CHECK(scalar(*conn, "SELECT CAST(18446744073709551615 AS UNSIGNED)").as_text() ==
        "18446744073709551615");
  CHECK(scalar(*conn, "SELECT CAST(42 AS UNSIGNED)").as_integer() == 42);
}

TEST_CASE("reals, booleans and decimals round trip through MySQL", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "reals",
          "id BIGINT AUTO_INCREMENT PRIMARY KEY, v DOUBLE NULL, b BOOL NULL, d DECIMAL(10,2)");
  for (double v : {0.0, -1.5, 3.141592653589793, 1e308, -2.2250738585072014e-308})
    CHECK(round_trip(*conn, t, ValueRef::real(v), TypeKind::double_) == Value(v));

  run(*conn, "INSERT INTO " + t.name() + " (b, d) VALUES (?, ?), (?, ?)",
      {ValueRef::boolean(true), ValueRef::text("12.34"), ValueRef::boolean(false), nullptr})
      .reset();
  auto& st = run(*conn, "SELECT b, d FROM " + t.name() + " WHERE b IS NOT NULL ORDER BY id");
  REQUIRE(st.next());
  CHECK(st.column(0, TypeKind::boolean).kind() == ValueKind::boolean);
  CHECK(st.column(0, TypeKind::boolean).as_boolean());
  CHECK(st.column(0, TypeKind::integer).as_integer() == 1);
  CHECK(st.column(1, TypeKind::text).as_text() == "12.34");  // DECIMAL is text, exactly
  CHECK(st.column(1, TypeKind::double_).as_real() == 12.34);
  REQUIRE(st.next());
  CHECK_FALSE(st.column(0, TypeKind::boolean).as_boolean());
  CHECK(st.column(1, TypeKind::text).is_null());
  CHECK_FALSE(st.next());
  st.reset();
}

TEST_CASE("MySQL text round trips: empty is not NULL, 4-byte Unicode survives, 1 MB fits",
          "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "text", "id BIGINT AUTO_INCREMENT PRIMARY KEY, v LONGTEXT NULL");

  const Value empty = round_trip(*conn, t, ValueRef::text(""), TypeKind::text);
  REQUIRE(empty.kind() == ValueKind::text);
  CHECK(empty.as_text().empty());
  CHECK(round_trip(*conn, t, nullptr, TypeKind::text).is_null());

  const std::string unicode = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 \xF0\x9D\x84\x9E";
  CHECK(round_trip(*conn, t, ValueRef::text(unicode), TypeKind::text) == Value(unicode));
  CHECK(scalar(*conn, "SELECT CHAR_LENGTH(?)", {ValueRef::text("\xF0\x9F\x98\x80")}).as_integer() ==
        1);

  std::string big(1 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  CHECK(round_trip(*conn, t, ValueRef::text(big), TypeKind::text) == Value(big));
  CHECK(round_trip(*conn, t, ValueRef::text("short again"), TypeKind::text) ==
        Value(std::string("short again")));
}

TEST_CASE("MySQL blobs round trip with NUL bytes, every byte value and 1 MB", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "blob", "id BIGINT AUTO_INCREMENT PRIMARY KEY, v LONGBLOB NULL");

  const Blob bytes = all_bytes();
  CHECK(round_trip(*conn, t, ValueRef::blob(bytes), TypeKind::blob) == Value(bytes));
  const Value empty = round_trip(*conn, t, ValueRef::blob({}), TypeKind::blob);
  REQUIRE(empty.kind() == ValueKind::blob);
  CHECK(empty.as_blob().empty());
  CHECK(round_trip(*conn, t, nullptr, TypeKind::blob).is_null());

  Blob big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7 + i / 256);
  CHECK(round_trip(*conn, t, ValueRef::blob(big), TypeKind::blob) == Value(big));
  // A binary column read without a hint is still a blob.
  CHECK(
      scalar(*conn, "SELECT v FROM " + t.name() + " WHERE id = 1", {}, TypeKind::integer).kind() ==
      ValueKind::blob);
}

TEST_CASE("long MySQL values read correctly when buffer sizes are not known up front",
          "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "grow", "id BIGINT AUTO_INCREMENT PRIMARY KEY, v LONGTEXT NULL, b LONGBLOB");
  const std::string big(1 << 20, 'q');
  const Blob bytes = all_bytes();
  const std::vector<std::string> texts{"a", big, "", "bb", big + "!"};
  for (const auto& s : texts)
    run(*conn, "INSERT INTO " + t.name() + " (v, b) VALUES (?, ?)",
        {ValueRef::text(s), ValueRef::blob(bytes)})
        .reset();

  auto& st = dynamic_cast<my::MysqlStatement&>(
      conn->prepare("SELECT v, b FROM " + t.name() + " ORDER BY id"));
  // Without max_length the driver must grow its buffers on MYSQL_DATA_TRUNCATED.
  const my::detail::Flag off = 0;
  REQUIRE(mysql_stmt_attr_set(st.native_handle(), STMT_ATTR_UPDATE_MAX_LENGTH, &off) == 0);
  st.execute();
  for (const auto& s : texts) {
    REQUIRE(st.next());
    CHECK(st.column(0, TypeKind::text).as_text() == s);
    const auto b = st.column(1, TypeKind::blob).as_blob();
    CHECK(Blob(b.begin(), b.end()) == bytes);
  }
  CHECK_FALSE(st.next());
  st.reset();
}

TEST_CASE("dates and datetimes with microseconds round trip through MySQL", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "dt", "id BIGINT AUTO_INCREMENT PRIMARY KEY, v DATETIME(6) NULL, d DATE NULL");
  const Date day = std::chrono::sys_days(std::chrono::year(2024) / 2 / 29);
  for (DateTime v : {DateTime(day) + 13h + 45min + 30s + 123456us, DateTime(day),
                     DateTime(std::chrono::sys_days(std::chrono::year(1000) / 1 / 1)),
                     DateTime(std::chrono::sys_days(std::chrono::year(9999) / 12 / 31)) + 23h +
                         59min + 59s + 999999us,
                     DateTime(std::chrono::sys_days(std::chrono::year(1969) / 12 / 31)) + 1us})
    CHECK(round_trip(*conn, t, ValueRef::datetime(v), TypeKind::datetime) == Value(v));

  run(*conn, "INSERT INTO " + t.name() + " (d) VALUES (?), (?), (?)",
      {ValueRef::date(day), ValueRef::date(std::chrono::sys_days(std::chrono::year(1000) / 1 / 1)),
       ValueRef::date(std::chrono::sys_days(std::chrono::year(9999) / 12 / 31))})
      .reset();
  auto& st = run(*conn, "SELECT d FROM " + t.name() + " WHERE d IS NOT NULL ORDER BY id");
  REQUIRE(st.next());
  CHECK(Value(st.column(0, TypeKind::date)) == Value(day));
  CHECK(Value(st.column(0, TypeKind::datetime)) == Value(DateTime(day)));
  REQUIRE(st.next());
  CHECK(Value(st.column(0, TypeKind::date)) ==
        Value(Date(std::chrono::sys_days(std::chrono::year(1000) / 1 / 1))));
  REQUIRE(st.next());
  CHECK(Value(st.column(0, TypeKind::date)) ==
        Value(Date(std::chrono::sys_days(std::chrono::year(9999) / 12 / 31))));
  CHECK_FALSE(st.next());
  st.reset();

  // A year MySQL cannot store is refused before it reaches the server.
  CHECK_THROWS_AS(
      conn->prepare("SELECT ?")
          .bind(0, ValueRef::date(std::chrono::sys_days(std::chrono::year(10000) / 1 / 1))),
      alchemy::DataError);
  CHECK(Value(scalar(*conn, "SELECT TIMESTAMP('2001-02-03 04:05:06.5')", {}, TypeKind::datetime)) ==
        Value(DateTime(std::chrono::sys_days(std::chrono::year(2001) / 2 / 3)) + 4h + 5min + 6s +
              500000us));
}

TEST_CASE("MySQL unique, not null, foreign key and check violations raise IntegrityError",
          "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table parent(*conn, "parent", "id BIGINT PRIMARY KEY, handle VARCHAR(50) NOT NULL UNIQUE");
  Table child(*conn, "child",
              "id BIGINT AUTO_INCREMENT PRIMARY KEY, pid BIGINT NOT NULL, qty INT, "
              "CONSTRAINT ck_qty_" +
                  std::to_string(::getpid()) +
                  " CHECK (qty >= 0), "
                  "FOREIGN KEY (pid) REFERENCES " +
                  parent.name() + " (id)");
  const std::string ins = "INSERT INTO " + parent.name() + " (id, handle) VALUES (?, ?)";
  run(*conn, ins, {ValueRef::integer(1), ValueRef::text("jdoe")}).reset();

  const auto dup = thrown_by<alchemy::IntegrityError>([&] {
    run(*conn, ins, {ValueRef::integer(2), ValueRef::text("jdoe")});
  });
  CHECK(dup.constraint() == Constraint::unique);
  CHECK(dup.native_code() == 1062);
  CHECK(dup.sqlstate() == "23000");
  CHECK(dup.statement() == ins);
  CHECK(std::string(dup.what()).find("jdoe") == std::string::npos);

  const auto pk = thrown_by<alchemy::IntegrityError>([&] {
    run(*conn, ins, {ValueRef::integer(1), ValueRef::text("other")});
  });
  CHECK(pk.constraint() == Constraint::unique);

  const auto null = thrown_by<alchemy::IntegrityError>([&] {
    run(*conn, ins, {ValueRef::integer(3), nullptr});
  });
  CHECK(null.constraint() == Constraint::not_null);

  const std::string cins = "INSERT INTO " + child.name() + " (pid, qty) VALUES (?, ?)";
  const auto fk = thrown_by<alchemy::IntegrityError>([&] {
    run(*conn, cins, {ValueRef::integer(99), ValueRef::integer(1)});
  });
  CHECK(fk.constraint() == Constraint::foreign_key);

  run(*conn, cins, {ValueRef::integer(1), ValueRef::integer(1)}).reset();
  const auto parent_fk = thrown_by<alchemy::IntegrityError>([&] {
    run(*conn, "DELETE FROM " + parent.name() + " WHERE id = ?", {ValueRef::integer(1)});
  });
  CHECK(parent_fk.constraint() == Constraint::foreign_key);

  const auto check = thrown_by<alchemy::IntegrityError>([&] {
    run(*conn, cins, {ValueRef::integer(1), ValueRef::integer(-5)});
  });
  CHECK(check.constraint() == Constraint::check);

  // The connection is fine after all that.
  CHECK(scalar(*conn, "SELECT COUNT(*) FROM " + parent.name()).as_integer() == 1);
  conn->execute("DROP TABLE " + child.name());
}

TEST_CASE("MySQL strict mode makes a bad value a DataError, not a warning", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "strict", "id BIGINT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(3), n TINYINT");
  const auto too_long = thrown_by<alchemy::DataError>(
      [&] { run(*conn, "INSERT INTO " + t.name() + " (s) VALUES (?)", {ValueRef::text("abcd")}); });
  CHECK(too_long.native_code() == 1406);
  const auto range = thrown_by<alchemy::DataError>([&] {
    run(*conn, "INSERT INTO " + t.name() + " (n) VALUES (?)", {ValueRef::integer(1000)});
  });
  CHECK(range.native_code() == 1264);
  const auto wrong = thrown_by<alchemy::DataError>([&] {
    run(*conn, "INSERT INTO " + t.name() + " (n) VALUES (?)", {ValueRef::text("s3cr3t")});
  });
  CHECK(std::string(wrong.what()).find("s3cr3t") == std::string::npos);
  CHECK(scalar(*conn, "SELECT COUNT(*) FROM " + t.name()).as_integer() == 0);
}

TEST_CASE("bad SQL on MySQL raises ProgrammingError carrying the statement", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  const auto syntax = thrown_by<alchemy::ProgrammingError>([&] { conn->prepare("SELEC 1"); });
  CHECK(syntax.native_code() == 1064);
  CHECK(syntax.statement() == "SELEC 1");
  const auto missing = thrown_by<alchemy::ProgrammingError>(
      [&] { conn->execute("SELECT * FROM alc_no_such_table_anywhere"); });
  CHECK(missing.native_code() == 1146);
  CHECK_FALSE(missing.connection_invalidated());
  CHECK_FALSE(conn->is_broken());
  CHECK(conn->ping());
}

TEST_CASE("a MySQL UPDATE that sets the same value reports one matched row", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "found", "id BIGINT PRIMARY KEY, v VARCHAR(20)");
  run(*conn, "INSERT INTO " + t.name() + " (id, v) VALUES (1, 'same'), (2, 'same')").reset();
  const std::string upd = "UPDATE " + t.name() + " SET v = ? WHERE id = ?";
  auto& st = run(*conn, upd, {ValueRef::text("same"), ValueRef::integer(1)});
  CHECK(st.affected_rows() == 1);  // CLIENT_FOUND_ROWS: matched, not changed
  st.reset();
  CHECK(run(*conn, upd, {ValueRef::text("new"), ValueRef::integer(1)}).affected_rows() == 1);
  CHECK(run(*conn, upd, {ValueRef::text("new"), ValueRef::integer(42)}).affected_rows() == 0);
  CHECK(run(*conn, "UPDATE " + t.name() + " SET v = ?", {ValueRef::text("new")}).affected_rows() ==
        2);
  CHECK(run(*conn, "DELETE FROM " + t.name() + " WHERE id = ?", {ValueRef::integer(2)})
            .affected_rows() == 1);
}

TEST_CASE("MySQL last_insert_id gives the AUTO_INCREMENT key of an INSERT", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "autoinc", "id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT");
  const std::string ins = "INSERT INTO " + t.name() + " (v) VALUES (?)";
  auto& st = run(*conn, ins, {ValueRef::integer(10)});
  CHECK(st.affected_rows() == 1);
  CHECK(st.last_insert_id() == std::optional<std::int64_t>(1));
  st.reset();
  CHECK(run(*conn, ins, {ValueRef::integer(11)}).last_insert_id() ==
        std::optional<std::int64_t>(2));
  CHECK_FALSE(run(*conn, "UPDATE " + t.name() + " SET v = ?", {ValueRef::integer(1)})
                  .last_insert_id()
                  .has_value());
  CHECK_FALSE(run(*conn, "SELECT v FROM " + t.name()).last_insert_id().has_value());
}

TEST_CASE("the same SQL text gives the same cached MySQL Statement", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Statement& a = conn->prepare("SELECT ? + 1");
  Statement& b = conn->prepare("SELECT ? + 1");
  Statement& c = conn->prepare("SELECT ? + 2");
  CHECK(&a == &b);
  CHECK(&a != &c);
  CHECK(a.sql() == "SELECT ? + 1");
  CHECK(a.param_count() == 1);

  // Two cached statements may be executed in turn, each keeping its own rows.
  a.bind(0, ValueRef::integer(1));
  a.execute();
  c.bind(0, ValueRef::integer(1));
  c.execute();
  REQUIRE(a.next());
  REQUIRE(c.next());
  CHECK(a.column(0, TypeKind::big_integer).as_integer() == 2);
  CHECK(c.column(0, TypeKind::big_integer).as_integer() == 3);
  CHECK(a.column_count() == 1);
  a.reset();
  c.reset();

  // After reset() the bindings are gone: executing without them is a caller bug.
  CHECK_THROWS_AS(a.execute(), alchemy::ArgumentError);
  CHECK_THROWS_AS(a.bind(1, ValueRef::integer(1)), alchemy::ArgumentError);
  a.bind(0, ValueRef::integer(41));
  a.execute();
  REQUIRE(a.next());
  CHECK(a.column(0, TypeKind::big_integer).as_integer() == 42);
  a.reset();

  // execute() drops any rows, leaving the connection in sync for the next statement.
  conn->execute("SELECT 1");
  CHECK(scalar(*conn, "SELECT 7").as_integer() == 7);
}

TEST_CASE("MySQL has_table sees a created table and not a dropped one", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  std::string name;
  {
    Table t(*conn, "hastable", "id INT PRIMARY KEY");
    name = t.name();
    CHECK(conn->has_table(name));
  }
  CHECK_FALSE(conn->has_table(name));
  CHECK_FALSE(conn->has_table("alc_never_created_' OR 1=1 -- "));
}

TEST_CASE("MySQL transactions: rollback discards and commit keeps", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  auto other = connect(*params);
  Table t(*conn, "tx", "id BIGINT PRIMARY KEY");
  const std::string ins = "INSERT INTO " + t.name() + " (id) VALUES (?)";
  const std::string count = "SELECT COUNT(*) FROM " + t.name();
  conn->begin();
  run(*conn, ins, {ValueRef::integer(1)}).reset();
  CHECK(scalar(*other, count).as_integer() == 0);
  conn->rollback();
  CHECK(scalar(*conn, count).as_integer() == 0);
  conn->begin();
  run(*conn, ins, {ValueRef::integer(2)}).reset();
  conn->commit();
  CHECK(scalar(*other, count).as_integer() == 1);
}

TEST_CASE("a MySQL lock wait timeout raises a retryable TransactionRollbackError",
          "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  auto other = connect(*params);
  Table t(*conn, "lock", "id BIGINT PRIMARY KEY, v INT");
  run(*conn, "INSERT INTO " + t.name() + " (id, v) VALUES (1, 0)").reset();
  conn->begin();
  run(*conn, "UPDATE " + t.name() + " SET v = 1 WHERE id = 1").reset();
  other->execute("SET SESSION innodb_lock_wait_timeout = 1");
  other->begin();
  const auto e = thrown_by<alchemy::TransactionRollbackError>(
      [&] { run(*other, "UPDATE " + t.name() + " SET v = 2 WHERE id = 1"); });
  CHECK(e.native_code() == 1205);
  CHECK(e.retryable());
  other->rollback();
  conn->commit();
}

TEST_CASE("a MySQL connection killed by the server raises OperationalError and stays broken",
          "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto victim = connect(*params);
  auto killer = connect(*params);
  const auto id = scalar(*victim, "SELECT CONNECTION_ID()").as_integer();
  CHECK(static_cast<unsigned long>(id) == victim->server_thread_id());
  Statement& st = victim->prepare("SELECT ?");
  killer->execute("KILL " + std::to_string(id));

  const auto e = thrown_by<alchemy::OperationalError>([&] {
    st.bind(0, ValueRef::integer(1));
    st.execute();
  });
  INFO("error after KILL: " << e.what());
  CHECK(my::is_disconnect(static_cast<unsigned>(e.native_code())));
  CHECK(e.connection_invalidated());
  CHECK(victim->is_broken());
  CHECK_FALSE(victim->ping());
  // Never silently reconnected: every later use fails the same way.
  const auto again = thrown_by<alchemy::OperationalError>([&] { victim->execute("SELECT 1"); });
  CHECK(again.connection_invalidated());
  CHECK_THROWS_AS(victim->prepare("SELECT 2"), alchemy::OperationalError);
  CHECK(killer->ping());
}

TEST_CASE("a dead MySQL connection is found by ping without throwing", "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto victim = connect(*params);
  auto killer = connect(*params);
  killer->execute("KILL " + std::to_string(victim->server_thread_id()));
  CHECK_FALSE(victim->ping());
  CHECK(victim->is_broken());
}

TEST_CASE("MySQL insert_rows inserts many rows in multi-row INSERTs with consecutive keys",
          "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "bulk", "id BIGINT AUTO_INCREMENT PRIMARY KEY, n BIGINT, s VARCHAR(20)");
  std::vector<std::string> texts;
  for (int i = 0; i < 2500; ++i) texts.push_back("row " + std::to_string(i));
  std::vector<ValueRef> values;
  for (int i = 0; i < 2500; ++i) {
    values.push_back(ValueRef::integer(i));
    values.push_back(ValueRef::text(texts[static_cast<std::size_t>(i)]));
  }
  const auto r = conn->insert_rows("INSERT INTO " + t.name() + " (n, s) VALUES ", 2, values);
  CHECK(r.rows == 2500);
  CHECK(r.first_id == std::optional<std::int64_t>(1));
  CHECK(scalar(*conn, "SELECT COUNT(*) FROM " + t.name()).as_integer() == 2500);
  CHECK(scalar(*conn, "SELECT s FROM " + t.name() + " WHERE id = 2500").as_text() == "row 2499");
  CHECK_THROWS_AS(conn->insert_rows("INSERT INTO x (a, b) VALUES ", 2,
                                    std::span<const ValueRef>(values).first(3)),
                  alchemy::ArgumentError);
}

TEST_CASE("MySQL connections can be opened and used from several threads at once",
          "[mysql][driver]") {
  const auto params = server();
  if (!params) return;
  std::vector<std::thread> threads;
  std::vector<std::int64_t> sums(4, 0);
  std::vector<std::string> errors(4);
  for (std::size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      try {
        auto conn = connect(*params);
        for (int i = 0; i < 50; ++i) {
          auto& st = run(*conn, "SELECT ? + 1", {ValueRef::integer(i)});
          if (st.next()) sums[t] += st.column(0, TypeKind::big_integer).as_integer();
          st.reset();
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (std::size_t t = 0; t < 4; ++t) {
    CHECK(errors[t].empty());
    CHECK(sums[t] == 50 * 51 / 2);
  }
}
