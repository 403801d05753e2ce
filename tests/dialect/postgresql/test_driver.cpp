// SPDX-License-Identifier: MIT
// File: tests/dialect/postgresql/test_driver.cpp
//
// The libpq driver used directly, below the engine: value round trips at their limits, error
// mapping, statement caching and re-preparing, pipelined batches and lost connections.
// Needs a server: ALCHEMY_TEST_POSTGRESQL_URL=postgresql://user:pw@127.0.0.1:port/db. Without it
// the server tests warn and pass, unless ALCHEMY_TEST_REQUIRE_SERVERS is set (CI), where they
// fail. The registration and error-mapping tests need no server.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "alchemy/dialect/postgresql/driver.hpp"
#include "alchemy/dialect/postgresql/errors.hpp"
#include "alchemy/dialect/registry.hpp"
#include "alchemy/engine/url.hpp"

namespace {

using namespace std::chrono_literals;
using alchemy::Blob;
using alchemy::Constraint;
using alchemy::Date;
using alchemy::DateTime;
using alchemy::dialect::ConnectParams;
using alchemy::dialect::Statement;
using alchemy::sql::TypeKind;
using alchemy::sql::Value;
using alchemy::sql::ValueKind;
using alchemy::sql::ValueRef;
namespace pg = alchemy::dialect::postgresql;

/// The test server's parameters; nullopt (after a warning) when no server is configured.
std::optional<ConnectParams> server() {
  const char* url = std::getenv("ALCHEMY_TEST_POSTGRESQL_URL");
  if (url == nullptr || *url == '\0') {
    if (std::getenv("ALCHEMY_TEST_REQUIRE_SERVERS") != nullptr)
      FAIL("ALCHEMY_TEST_POSTGRESQL_URL is not set");
    WARN("ALCHEMY_TEST_POSTGRESQL_URL is not set: PostgreSQL driver test skipped");
    return std::nullopt;
  }
  return alchemy::make_url(url).connect_params();
}

std::unique_ptr<pg::PgConnection> connect(const ConnectParams& p) {
  return static_cast<const pg::PgDriver&>(pg::driver()).connect_pg(p);
}

/// A table for one test, with a name no other test or concurrent run uses; dropped at the end.
class Table {
 public:
  Table(pg::PgConnection& conn, std::string_view stem, const std::string& columns)
      : conn_(conn), name_("alc_pg_" + std::string(stem) + "_" + std::to_string(::getpid())) {
    conn_.execute("DROP TABLE IF EXISTS " + name_ + " CASCADE");
    conn_.execute("CREATE TABLE " + name_ + " (" + columns + ")");
  }
  ~Table() {
    try {
      if (!conn_.is_broken()) conn_.execute("DROP TABLE IF EXISTS " + name_ + " CASCADE");
    } catch (...) {
    }
  }
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;
  const std::string& name() const { return name_; }

 private:
  pg::PgConnection& conn_;
  std::string name_;
};

/// Inserts `v` into `column` and reads it back through RETURNING, converted by `hint`.
Value round_trip(pg::PgConnection& c, const Table& t, const std::string& column, ValueRef v,
                 TypeKind hint) {
  Statement& st =
      c.prepare("INSERT INTO " + t.name() + " (" + column + ") VALUES ($1) RETURNING " + column);
  st.bind(0, v);
  st.execute();
  REQUIRE(st.next());
  Value out(st.column(0, hint));
  CHECK_FALSE(st.next());
  st.reset();
  return out;
}

/// The single value of a one-row, one-column query.
Value scalar(pg::PgConnection& c, const std::string& sql, TypeKind hint = TypeKind::text) {
  Statement& st = c.prepare(sql);
  st.execute();
  REQUIRE(st.next());
  Value out(st.column(0, hint));
  st.reset();
  return out;
}

DateTime at(Date d, std::chrono::microseconds since_midnight) {
  return DateTime(d) + since_midnight;
}

pg::ErrorReport report(std::string_view sqlstate, std::string_view primary) {
  pg::ErrorReport r;
  r.sqlstate = sqlstate;
  r.primary = primary;
  r.severity = "ERROR";
  r.statement = "SELECT $1";
  return r;
}

template <class E>
E thrown(const pg::ErrorReport& r) {
  try {
    pg::throw_error(r);
  } catch (const E& e) {
    return e;
  }
}

}  // namespace

// ---- no server needed ------------------------------------------------------------------------

TEST_CASE("the postgresql driver registers itself as postgresql and postgresql+libpq",
          "[postgresql][driver]") {
  REQUIRE(pg::postgresql_registered);
  CHECK(alchemy::dialect::find_driver("postgresql") == &pg::driver());
  CHECK(alchemy::dialect::find_driver("postgresql+libpq") == &pg::driver());
  CHECK(pg::driver().name() == "postgresql");
  CHECK(pg::driver().dialect().name() == "postgresql");
}

TEST_CASE("SQLSTATEs map to SQLAlchemy's exception classes", "[postgresql][driver]") {
  CHECK(thrown<alchemy::IntegrityError>(report("23505", "dup")).constraint() == Constraint::unique);
  CHECK(thrown<alchemy::IntegrityError>(report("23502", "null")).constraint() ==
        Constraint::not_null);
  CHECK(thrown<alchemy::IntegrityError>(report("23503", "fk")).constraint() ==
        Constraint::foreign_key);
  CHECK(thrown<alchemy::IntegrityError>(report("23514", "ck")).constraint() == Constraint::check);
  CHECK(thrown<alchemy::DataError>(report("22021", "enc")).sqlstate() == "22021");
  CHECK(thrown<alchemy::DataError>(report("22003", "range")).driver() == "postgresql");
  CHECK(thrown<alchemy::TransactionRollbackError>(report("40001", "ser")).retryable());
  CHECK(thrown<alchemy::TransactionRollbackError>(report("40P01", "deadlock")).retryable());
  CHECK(thrown<alchemy::InternalError>(report("25P02", "aborted")).statement() == "SELECT $1");
  CHECK(thrown<alchemy::ProgrammingError>(report("42P01", "no table")).server_message() ==
        "no table");
  CHECK_FALSE(thrown<alchemy::OperationalError>(report("53300", "too many"))
                  .connection_invalidated());
  CHECK(thrown<alchemy::OperationalError>(report("57P01", "terminating connection due to "
                                                          "administrator command"))
            .connection_invalidated());

  SECTION("a lost connection is an OperationalError whatever the SQLSTATE") {
    auto r = report("", "");
    r.full = "server closed the connection unexpectedly\n\tThis probably means ...\n";
    const auto e = thrown<alchemy::OperationalError>(r);
    CHECK(e.connection_invalidated());
    CHECK(e.server_message() == "server closed the connection unexpectedly This probably means ...");
    r = report("42601", "syntax error");
    r.connection_bad = true;
    CHECK(thrown<alchemy::OperationalError>(r).connection_invalidated());
  }
}

TEST_CASE("error messages drop DETAIL and mask the values quoted by data errors",
          "[postgresql][driver]") {
  auto r = report("23505", "");
  r.full = "ERROR:  duplicate key value violates unique constraint \"t_handle_key\"\n"
           "DETAIL:  Key (handle)=(s3cret) already exists.\n";
  auto e = thrown<alchemy::IntegrityError>(r);
  CHECK(e.server_message() == "duplicate key value violates unique constraint \"t_handle_key\"");
  CHECK_THAT(e.what(), !Catch::Contains("s3cret"));

  e = thrown<alchemy::IntegrityError>(
      report("23505", "duplicate key value violates unique constraint \"t_handle_key\""));
  CHECK_THAT(e.what(), Catch::Contains("t_handle_key"));

  CHECK(thrown<alchemy::DataError>(
            report("22P02", "invalid input syntax for type integer: \"s3\"cret\""))
            .server_message() == "invalid input syntax for type integer: \"***\"");
  CHECK(thrown<alchemy::DataError>(
            report("22003", "value \"99999999999\" is out of range for type integer"))
            .server_message() == "value \"***\" is out of range for type integer");
  CHECK(thrown<alchemy::DataError>(
            report("22021", "invalid byte sequence for encoding \"UTF8\": 0xc3 0x28"))
            .server_message() == "invalid byte sequence for encoding \"UTF8\": 0x?? 0x??");
  CHECK(thrown<alchemy::DataError>(report("22001", "value too long for type character varying(3)"))
            .server_message() == "value too long for type character varying(3)");
}

// ---- against a server ------------------------------------------------------------------------

TEST_CASE("a connection runs DDL and has_table sees the tables it creates",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  CHECK(conn->ping());
  CHECK_FALSE(conn->is_broken());
  {
    Table t(*conn, "ddl", "id SERIAL PRIMARY KEY, handle VARCHAR(50) NOT NULL UNIQUE");
    CHECK(conn->has_table(t.name()));
    CHECK_FALSE(conn->has_table(t.name() + "_missing"));
    conn->execute("CREATE TEMPORARY TABLE alc_pg_temp_ddl (x INTEGER)");
    CHECK(conn->has_table("alc_pg_temp_ddl"));
  }
  CHECK_FALSE(conn->has_table("alc_pg_ddl_" + std::to_string(::getpid())));
  CHECK(scalar(*conn, "SHOW client_encoding").as_text() == "UTF8");
  CHECK(scalar(*conn, "SHOW application_name").as_text() == "alchemy");
}

TEST_CASE("URL options reach libpq as connection keywords", "[postgresql][driver]") {
  auto params = server();
  if (!params) return;
  params->query.emplace_back("application_name", "alchemy-test");
  params->query.emplace_back("connect_timeout", "5");
  params->query.emplace_back("options", "-c search_path=public -c DateStyle=German");
  params->query.emplace_back("client_encoding", "utf8");
  auto conn = connect(*params);
  CHECK(scalar(*conn, "SHOW application_name").as_text() == "alchemy-test");
  CHECK(scalar(*conn, "SHOW search_path").as_text() == "public");
  // The driver reads ISO dates, so it puts a non-ISO DateStyle back to ISO.
  CHECK(scalar(*conn, "SELECT DATE '2024-03-01'", TypeKind::date) ==
        Value(Date(std::chrono::sys_days(std::chrono::year(2024) / 3 / 1))));
}

TEST_CASE("integers round-trip at the limits of SMALLINT, INTEGER and BIGINT",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "ints", "s SMALLINT, i INTEGER, b BIGINT, n NUMERIC(30, 0)");
  for (const std::int64_t v : {std::int64_t{-32768}, std::int64_t{0}, std::int64_t{32767}})
    CHECK(round_trip(*conn, t, "s", ValueRef::integer(v), TypeKind::small_integer) == Value(v));
  for (const std::int64_t v : {std::int64_t{INT32_MIN}, std::int64_t{-1}, std::int64_t{INT32_MAX}})
    CHECK(round_trip(*conn, t, "i", ValueRef::integer(v), TypeKind::integer) == Value(v));
  for (const std::int64_t v : {std::numeric_limits<std::int64_t>::min(), std::int64_t{0},
                               std::numeric_limits<std::int64_t>::max()}) {
    CHECK(round_trip(*conn, t, "b", ValueRef::integer(v), TypeKind::big_integer) == Value(v));
    CHECK(round_trip(*conn, t, "n", ValueRef::integer(v), TypeKind::big_integer) == Value(v));
  }
  CHECK(round_trip(*conn, t, "b", ValueRef(), TypeKind::big_integer).is_null());
  // A hint the text cannot satisfy comes back as text, for the type traits to report.
  CHECK(scalar(*conn, "SELECT 'abc'::text", TypeKind::integer) == Value(std::string("abc")));
  // Booleans bound to an integer column, as SQLite and MySQL store them.
  CHECK(round_trip(*conn, t, "s", ValueRef::boolean(true), TypeKind::boolean).kind() ==
        ValueKind::integer);
}

TEST_CASE("booleans and doubles round-trip, infinities and shortest forms included",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "reals", "f BOOLEAN, d DOUBLE PRECISION, r REAL");
  CHECK(round_trip(*conn, t, "f", ValueRef::boolean(true), TypeKind::boolean) == Value(true));
  CHECK(round_trip(*conn, t, "f", ValueRef::boolean(false), TypeKind::boolean) == Value(false));
  CHECK(round_trip(*conn, t, "f", ValueRef::integer(1), TypeKind::boolean) == Value(true));
  for (const double d : {0.1, -0.0, 1.0 / 3.0, 1e300, -1e-300, 4.9e-324,
                         std::numeric_limits<double>::max(),
                         std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity()})
    CHECK(round_trip(*conn, t, "d", ValueRef::real(d), TypeKind::double_) == Value(d));
  const Value nan = round_trip(*conn, t, "d", ValueRef::real(std::nan("")), TypeKind::double_);
  REQUIRE(nan.kind() == ValueKind::real);
  CHECK(std::isnan(nan.as_real()));
  CHECK(static_cast<float>(
            round_trip(*conn, t, "r", ValueRef::real(3.14159f), TypeKind::float_).as_real()) ==
        3.14159f);
  CHECK(round_trip(*conn, t, "d", ValueRef::integer(7), TypeKind::double_) == Value(7.0));
}

TEST_CASE("text round-trips Unicode and keeps the empty string apart from NULL",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "text", "s VARCHAR(20), t TEXT, c CHAR(3), j JSON, u UUID");
  const std::string unicode = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD";
  CHECK(round_trip(*conn, t, "s", ValueRef::text(unicode), TypeKind::string) == Value(unicode));
  CHECK(round_trip(*conn, t, "s", ValueRef::text(""), TypeKind::string) == Value(std::string()));
  CHECK(round_trip(*conn, t, "s", ValueRef(), TypeKind::string).is_null());
  CHECK(round_trip(*conn, t, "c", ValueRef::text("ab"), TypeKind::string) ==
        Value(std::string("ab ")));
  CHECK(round_trip(*conn, t, "j", ValueRef::text("{\"a\": [1, 2]}"), TypeKind::text) ==
        Value(std::string("{\"a\": [1, 2]}")));
  // A UUID column takes text in its text form (sent with a terminator, not as raw bytes).
  CHECK(round_trip(*conn, t, "u", ValueRef::text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                   TypeKind::string) == Value(std::string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")));
  const std::string big(1 << 20, 'x');
  CHECK(round_trip(*conn, t, "t", ValueRef::text(big), TypeKind::text) == Value(big));
  // A string_view into the middle of a buffer: no terminator after it.
  const std::string buffer = "quotes ' and \" and \\ backslash-TAIL";
  CHECK(round_trip(*conn, t, "t", ValueRef::text(std::string_view(buffer).substr(0, 30)),
                   TypeKind::text) == Value(buffer.substr(0, 30)));
  // Invalid UTF-8 is refused by the server, not stored.
  CHECK_THROWS_AS(round_trip(*conn, t, "t", ValueRef::text("\xC3\x28"), TypeKind::text),
                  alchemy::DataError);
}

TEST_CASE("text with a NUL byte raises DataError before anything is sent",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "nul", "t TEXT");
  Statement& st = conn->prepare("INSERT INTO " + t.name() + " (t) VALUES ($1)");
  const std::string with_nul("ab\0cd", 5);
  try {
    st.bind(0, ValueRef::text(with_nul));
    FAIL("bind accepted a NUL byte");
  } catch (const alchemy::DataError& e) {
    CHECK(e.server_message() == "PostgreSQL text cannot contain NUL bytes");
    CHECK(e.statement() == st.sql());
  }
  CHECK_FALSE(conn->is_broken());
  conn->begin();
  st.bind(0, ValueRef::text("fine"));
  st.execute();  // the transaction was not aborted
  conn->commit();
  CHECK(scalar(*conn, "SELECT count(*) FROM " + t.name(), TypeKind::integer) ==
        Value(std::int64_t{1}));
}

TEST_CASE("bytea round-trips NUL bytes and all 256 byte values", "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "blob", "b BYTEA, t TEXT");
  Blob all(512);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(255 - i % 256);
  const Blob nuls{0, 0, 'a', 0};
  CHECK(round_trip(*conn, t, "b", ValueRef::blob(all), TypeKind::blob) == Value(all));
  CHECK(round_trip(*conn, t, "b", ValueRef::blob(nuls), TypeKind::blob) == Value(nuls));
  CHECK(round_trip(*conn, t, "b", ValueRef::blob(Blob{}), TypeKind::blob) == Value(Blob{}));
  CHECK(round_trip(*conn, t, "b", ValueRef(), TypeKind::blob).is_null());
  // Whatever the hint, a bytea column comes back decoded.
  CHECK(round_trip(*conn, t, "b", ValueRef::blob(nuls), TypeKind::text) == Value(nuls));
  // A blob bound where text is expected goes as bytea's hex text form.
  CHECK(round_trip(*conn, t, "t", ValueRef::blob(Blob{0xAB, 0x01}), TypeKind::text) ==
        Value(std::string("\\xab01")));

  SECTION("the escape output format is decoded too") {
    conn->execute("SET bytea_output = escape");
    CHECK(round_trip(*conn, t, "b", ValueRef::blob(all), TypeKind::blob) == Value(all));
  }
  SECTION("two blob columns of one row stay valid together") {
    Statement& st = conn->prepare("SELECT $1::bytea, $2::bytea");
    const Blob a{1, 2, 3}, b{0, 9};
    st.bind(0, ValueRef::blob(a));
    st.bind(1, ValueRef::blob(b));
    st.execute();
    REQUIRE(st.next());
    const ValueRef ra = st.column(0, TypeKind::blob);
    const ValueRef rb = st.column(1, TypeKind::blob);
    CHECK(Value(ra) == Value(a));
    CHECK(Value(rb) == Value(b));
    st.reset();
  }
}

TEST_CASE("dates and timestamps round-trip with microseconds", "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "dates", "d DATE, ts TIMESTAMP WITHOUT TIME ZONE, tz TIMESTAMPTZ");
  using std::chrono::year_month_day, std::chrono::year, std::chrono::month, std::chrono::day;
  const Date epoch{}, leap = std::chrono::sys_days(year(2000) / 2 / 29),
             first = std::chrono::sys_days(year(1) / 1 / 1),
             last = std::chrono::sys_days(year(9999) / 12 / 31);
  for (const Date d : {epoch, leap, first, last})
    CHECK(round_trip(*conn, t, "d", ValueRef::date(d), TypeKind::date) == Value(d));

  const DateTime stamps[] = {
      at(leap, 13h + 14min + 15s + 123456us),
      at(epoch, -1us),  // 1969-12-31 23:59:59.999999
      at(first, 0us),
      at(last, 23h + 59min + 59s + 999999us),
      at(leap, 1us),
  };
  for (const DateTime ts : stamps) {
    CHECK(round_trip(*conn, t, "ts", ValueRef::datetime(ts), TypeKind::datetime) == Value(ts));
    CHECK(round_trip(*conn, t, "tz", ValueRef::datetime(ts), TypeKind::datetime) == Value(ts));
  }
  // A date column read as a datetime is its midnight.
  CHECK(round_trip(*conn, t, "d", ValueRef::date(leap), TypeKind::datetime) ==
        Value(DateTime(leap)));

  SECTION("timestamptz is UTC whatever the session's time zone") {
    conn->execute("SET TimeZone = 'Asia/Kolkata'");  // +05:30, and +05:53:28 (LMT) in year 1
    // Not `last`: in this zone it prints as year 10000, which the ISO parser does not read.
    for (const DateTime ts : {stamps[0], stamps[1], stamps[2], stamps[4]})
      CHECK(round_trip(*conn, t, "tz", ValueRef::datetime(ts), TypeKind::datetime) == Value(ts));
    CHECK(scalar(*conn, "SELECT TIMESTAMPTZ '2024-03-01 10:00:00+00'", TypeKind::datetime) ==
          Value(at(std::chrono::sys_days(year(2024) / 3 / 1), 10h)));
    conn->execute("SET TimeZone = 'America/St_Johns'");  // -03:30 or -02:30
    CHECK(scalar(*conn, "SELECT TIMESTAMPTZ '2024-07-01 00:00:00.5+00'", TypeKind::datetime) ==
          Value(at(std::chrono::sys_days(year(2024) / 7 / 1), 500000us)));
  }
}

TEST_CASE("constraint violations raise IntegrityError naming the constraint",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table parent(*conn, "parent", "id INTEGER PRIMARY KEY");
  Table child(*conn, "child",
              "id SERIAL PRIMARY KEY, handle VARCHAR(20) NOT NULL UNIQUE, qty INTEGER CHECK "
              "(qty >= 0), parent_id INTEGER REFERENCES " + parent.name() + " (id)");
  conn->execute("INSERT INTO " + parent.name() + " VALUES (1)");
  Statement& ins = conn->prepare("INSERT INTO " + child.name() +
                                 " (handle, qty, parent_id) VALUES ($1, $2, $3)");
  auto insert = [&](ValueRef handle, std::int64_t qty, std::int64_t parent_id) {
    ins.bind(0, handle);
    ins.bind(1, ValueRef::integer(qty));
    ins.bind(2, ValueRef::integer(parent_id));
    ins.execute();
    ins.reset();
  };
  insert(ValueRef::text("jdoe-s3cret"), 1, 1);
  auto violation = [&](ValueRef handle, std::int64_t qty, std::int64_t parent_id) {
    try {
      insert(handle, qty, parent_id);
    } catch (const alchemy::IntegrityError& e) {
      CHECK(e.driver() == "postgresql");
      CHECK(e.statement() == ins.sql());
      CHECK_THAT(e.what(), !Catch::Contains("jdoe-s3cret"));
      CHECK_FALSE(e.connection_invalidated());
      return e.constraint();
    }
    FAIL("no IntegrityError");
    return Constraint::unknown;
  };
  CHECK(violation(ValueRef::text("jdoe-s3cret"), 1, 1) == Constraint::unique);
  CHECK(violation(ValueRef(), 1, 1) == Constraint::not_null);
  CHECK(violation(ValueRef::text("other"), 1, 42) == Constraint::foreign_key);
  CHECK(violation(ValueRef::text("other"), -1, 1) == Constraint::check);
  CHECK_FALSE(conn->is_broken());
}

TEST_CASE("after an error inside a transaction statements raise InternalError until ROLLBACK",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "aborted", "id INTEGER PRIMARY KEY");
  Statement& ins = conn->prepare("INSERT INTO " + t.name() + " (id) VALUES ($1)");
  conn->begin();
  ins.bind(0, ValueRef::integer(1));
  ins.execute();
  ins.bind(0, ValueRef::integer(1));
  CHECK_THROWS_AS(ins.execute(), alchemy::IntegrityError);
  ins.bind(0, ValueRef::integer(2));
  try {
    ins.execute();
    FAIL("no InternalError");
  } catch (const alchemy::InternalError& e) {
    CHECK(e.sqlstate() == "25P02");
  }
  CHECK_THROWS_AS(conn->execute("SELECT 1"), alchemy::InternalError);
  CHECK(conn->ping());  // the connection itself is fine

  SECTION("ROLLBACK ends it") {
    conn->rollback();
    ins.bind(0, ValueRef::integer(3));
    ins.execute();
    CHECK(scalar(*conn, "SELECT count(*) FROM " + t.name(), TypeKind::integer) ==
          Value(std::int64_t{1}));
  }
  SECTION("COMMIT of the aborted transaction raises instead of silently rolling back") {
    CHECK_THROWS_AS(conn->commit(), alchemy::InternalError);
    CHECK(scalar(*conn, "SELECT count(*) FROM " + t.name(), TypeKind::integer) ==
          Value(std::int64_t{0}));
  }
}

TEST_CASE("out-of-range and malformed values raise DataError without echoing the value",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "range", "i INTEGER, s VARCHAR(3), d DATE");
  auto data_error = [&](const std::string& column, ValueRef v) {
    try {
      round_trip(*conn, t, column, v, TypeKind::text);
    } catch (const alchemy::DataError& e) {
      return std::string(e.what());
    }
    FAIL("no DataError");
    return std::string();
  };
  const auto too_big = data_error("i", ValueRef::integer(9876543210123));
  CHECK_THAT(too_big, Catch::Contains("22003") && !Catch::Contains("9876543210123"));
  CHECK_THAT(data_error("s", ValueRef::text("abcd")), Catch::Contains("22001"));
  CHECK_THAT(data_error("i", ValueRef::text("s3cret-value")),
             Catch::Contains("22P02") && !Catch::Contains("s3cret-value"));
  CHECK_THAT(data_error("d", ValueRef::text("2024-02-30")), !Catch::Contains("2024-02-30"));
}

TEST_CASE("UPDATE and DELETE report matched rows and last_insert_id is empty",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "rows", "id SERIAL PRIMARY KEY, v INTEGER");
  Statement& ins = conn->prepare("INSERT INTO " + t.name() + " (v) VALUES ($1) RETURNING id");
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) {
    ins.bind(0, ValueRef::integer(5));
    ins.execute();
    CHECK(ins.affected_rows() == 1);
    CHECK_FALSE(ins.last_insert_id().has_value());
    REQUIRE(ins.next());
    ids.push_back(ins.column(0, TypeKind::integer).as_integer());
    ins.reset();
  }
  CHECK(ids == std::vector<std::int64_t>{1, 2, 3});
  Statement& upd = conn->prepare("UPDATE " + t.name() + " SET v = $1 WHERE v = $2");
  upd.bind(0, ValueRef::integer(5));  // same value: still matched, still counted
  upd.bind(1, ValueRef::integer(5));
  upd.execute();
  CHECK(upd.affected_rows() == 3);
  CHECK(upd.column_count() == 0);
  CHECK_FALSE(upd.next());
  upd.reset();
  Statement& del = conn->prepare("DELETE FROM " + t.name() + " WHERE id > $1");
  del.bind(0, ValueRef::integer(1));
  del.execute();
  CHECK(del.affected_rows() == 2);
  del.reset();
}

TEST_CASE("prepare caches statements per connection", "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Statement& a = conn->prepare("SELECT $1::integer + 1");
  Statement& b = conn->prepare("SELECT $1::integer + 1");
  Statement& c = conn->prepare("SELECT $1::integer + 2");
  CHECK(&a == &b);
  CHECK(&a != &c);
  CHECK(a.param_count() == 1);
  CHECK(a.column_count() == 1);
  CHECK(static_cast<pg::PgStatement&>(a).name() != static_cast<pg::PgStatement&>(c).name());
  for (std::int64_t i = 0; i < 3; ++i) {
    a.bind(0, ValueRef::integer(i));
    a.execute();
    REQUIRE(a.next());
    CHECK(a.column(0, TypeKind::integer).as_integer() == i + 1);
    a.reset();
  }
  // A statement the server refuses is not cached: the next prepare tries again.
  CHECK_THROWS_AS(conn->prepare("SELEC 1"), alchemy::ProgrammingError);
  CHECK_THROWS_AS(conn->prepare("SELEC 1"), alchemy::ProgrammingError);

  SECTION("an unbound parameter raises ArgumentError") {
    CHECK_THROWS_AS(a.execute(), alchemy::ArgumentError);
    CHECK_THROWS_AS(a.bind(1, ValueRef::integer(1)), alchemy::ArgumentError);
  }
}

TEST_CASE("a statement the server lost is prepared again outside a transaction",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "lost", "id INTEGER");
  conn->execute("INSERT INTO " + t.name() + " VALUES (7)");
  auto& sel = static_cast<pg::PgStatement&>(conn->prepare("SELECT * FROM " + t.name()));
  auto run = [&] {
    sel.execute();
    REQUIRE(sel.next());
    const auto n = sel.column_count();
    sel.reset();
    return n;
  };
  CHECK(run() == 1);

  SECTION("dropped behind the cache's back") {
    // Through a second statement, so the connection cannot see it coming.
    Statement& drop = conn->prepare("DEALLOCATE " + sel.name());
    drop.execute();
    CHECK(run() == 1);
  }
  SECTION("DISCARD ALL through execute()") {
    conn->execute("DISCARD ALL");
    CHECK(run() == 1);
  }
  SECTION("the table changed shape") {
    conn->execute("ALTER TABLE " + t.name() + " ADD COLUMN extra TEXT");
    CHECK(run() == 2);
  }
  SECTION("inside a transaction the error is raised, and a later use prepares again") {
    conn->prepare("DEALLOCATE " + sel.name()).execute();
    conn->begin();
    CHECK_THROWS_AS(run(), alchemy::OperationalError);
    conn->rollback();
    CHECK(run() == 1);
  }
}

TEST_CASE("an unknown URL option raises ArgumentError naming only the option",
          "[postgresql][driver]") {
  ConnectParams p;  // no server needed: refused before connecting
  p.host = "127.0.0.1";
  p.query.emplace_back("sslmoed", "s3cret-value");
  try {
    pg::driver().connect(p);
    FAIL("no ArgumentError");
  } catch (const alchemy::ArgumentError& e) {
    CHECK_THAT(e.what(), Catch::Contains("sslmoed") && !Catch::Contains("s3cret-value"));
  }
  p.query = {{"client_encoding", "LATIN1"}};
  CHECK_THROWS_AS(pg::driver().connect(p), alchemy::ArgumentError);
}

TEST_CASE("a wrong password raises OperationalError without the password",
          "[postgresql][driver]") {
  auto params = server();
  if (!params) return;
  params->password = "wr0ng-Pa55word";
  try {
    pg::driver().connect(*params);
    FAIL("connected with a wrong password");
  } catch (const alchemy::OperationalError& e) {
    CHECK_THAT(e.what(), !Catch::Contains("wr0ng-Pa55word"));
    CHECK_THAT(e.what(), Catch::Contains("password authentication failed"));
    CHECK_FALSE(e.connection_invalidated());
  }
  params->port = 1;  // nothing listens there
  CHECK_THROWS_AS(pg::driver().connect(*params), alchemy::OperationalError);
}

TEST_CASE("a backend terminated from another connection invalidates the connection",
          "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto victim = connect(*params);
  auto killer = connect(*params);
  const auto pid = scalar(*victim, "SELECT pg_backend_pid()", TypeKind::integer).as_integer();
  Statement& kill = killer->prepare("SELECT pg_terminate_backend($1, 5000)");
  kill.bind(0, ValueRef::integer(pid));
  kill.execute();
  REQUIRE(kill.next());
  REQUIRE(kill.column(0, TypeKind::boolean).as_boolean());
  kill.reset();

  try {
    scalar(*victim, "SELECT 1");
    FAIL("the terminated connection still answered");
  } catch (const alchemy::OperationalError& e) {
    CHECK(e.connection_invalidated());
  }
  CHECK(victim->is_broken());
  CHECK_FALSE(victim->ping());
  // Never retried behind the caller's back: each use fails again.
  CHECK_THROWS_AS(victim->execute("SELECT 1"), alchemy::OperationalError);
  CHECK(killer->ping());
}

TEST_CASE("execute_many pipelines rows and returns generated keys", "[postgresql][driver]") {
  const auto params = server();
  if (!params) return;
  auto conn = connect(*params);
  Table t(*conn, "many", "id SERIAL PRIMARY KEY, handle TEXT NOT NULL UNIQUE, n BIGINT");
  const std::string insert = "INSERT INTO " + t.name() + " (handle, n) VALUES ($1, $2) RETURNING id";
  std::vector<std::string> handles;
  for (int i = 0; i < 1000; ++i) handles.push_back("user" + std::to_string(i));
  std::vector<ValueRef> rows;
  for (int i = 0; i < 1000; ++i) {
    rows.push_back(ValueRef::text(handles[static_cast<std::size_t>(i)]));
    rows.push_back(ValueRef::integer(i));
  }
  std::vector<std::int64_t> ids;
  conn->begin();
  CHECK(conn->execute_many(insert, rows, &ids) == 1000);
  conn->commit();
  REQUIRE(ids.size() == 1000);
  CHECK(ids.front() == 1);
  CHECK(ids.back() == 1000);
  CHECK(scalar(*conn, "SELECT sum(n) FROM " + t.name(), TypeKind::big_integer) ==
        Value(std::int64_t{999 * 1000 / 2}));

  SECTION("a failing row raises its error and, in a transaction, keeps nothing") {
    std::vector<ValueRef> again{ValueRef::text("fresh"), ValueRef::integer(1),
                                ValueRef::text("user5"), ValueRef::integer(2),
                                ValueRef::text("fresh2"), ValueRef::integer(3)};
    conn->begin();
    try {
      conn->execute_many(insert, again);
      FAIL("no IntegrityError");
    } catch (const alchemy::IntegrityError& e) {
      CHECK(e.constraint() == Constraint::unique);
    }
    conn->rollback();
    CHECK(scalar(*conn, "SELECT count(*) FROM " + t.name(), TypeKind::integer) ==
          Value(std::int64_t{1000}));
    CHECK(conn->ping());
  }
  SECTION("a ragged parameter list is refused") {
    CHECK_THROWS_AS(conn->execute_many(insert, std::span(rows).first(3)), alchemy::ArgumentError);
  }
}
