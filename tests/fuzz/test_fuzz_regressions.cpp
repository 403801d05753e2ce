// SPDX-License-Identifier: MIT
// One test per bug the fuzz targets found, through the public API, so that each stays fixed in
// every build (the fuzzers themselves run in clang builds only). The crashing inputs are kept in
// corpus/<target>/regress-* and replayed by the "fuzz replay" tests.
#include <alchemy/dialect/mysql/dialect.hpp>
#include <alchemy/dialect/postgresql/dialect.hpp>
#include <alchemy/dialect/sqlite/dialect.hpp>
#include <alchemy/engine/url.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace alchemy;

namespace {

const sql::Table& table() {
  static const sql::Table* t = [] {
    auto* tab = new sql::Table("t");
    sql::Column c;
    c.name = "name";
    c.type.kind = sql::TypeKind::text;
    tab->add_column(std::move(c));
    return tab;
  }();
  return *t;
}

std::vector<const dialect::Dialect*> dialects() {
  return {&dialect::sqlite::dialect_instance(), &dialect::postgresql::dialect_instance(),
          &dialect::mysql::dialect_instance()};
}

sql::Compiled compile_pattern(const dialect::Dialect& d, sql::Op op, char escape) {
  sql::Select s;
  s.table = &table();
  s.where.push_back(sql::binary(op, sql::column(*table().columns()[0]), sql::bind("x!%"), escape));
  return d.compiler().select(s);
}

}  // namespace

// fuzz_compile, corpus/compile/regress-ilike-escape-non-ascii: visit_ilike wrote any escape byte
// into the SQL ("... ESCAPE '\xd3'"; with a quote, an unterminated literal).
TEST_CASE("ILIKE's escape character is checked like LIKE's in every dialect", "[fuzz][regression][sql]") {
  for (const auto* d : dialects()) {
    INFO("dialect " << d->name());
    for (const auto op : {sql::Op::like, sql::Op::not_like, sql::Op::ilike, sql::Op::not_ilike}) {
      INFO("operator " << int(op));
      for (const char bad : {'\'', '\\', '\x01', '\x7f', '\xd3', '\xff'})
        CHECK_THROWS_AS(compile_pattern(*d, op, bad), CompileError);
      const auto ok = compile_pattern(*d, op, '!');
      CHECK(ok.sql.find(" ESCAPE '!'") != std::string::npos);
      CHECK(ok.params.size() == 1);
    }
  }
}

// fuzz_url, corpus/url/regress-empty-username-with-password: render() dropped the password of
// "dialect://:password@host" because it only wrote user info when the user name was set.
TEST_CASE("a URL with a password and no user name renders and parses back", "[fuzz][regression][url]") {
  const Url u = make_url("postgresql://:s3cret@db/app");
  CHECK(u.username.empty());
  CHECK(u.password == "s3cret");
  CHECK(u.render(false) == "postgresql://:s3cret@db/app");
  CHECK(u.render() == "postgresql://:***@db/app");
  const Url again = make_url(u.render(false));
  CHECK(again.password == "s3cret");
  CHECK(again.host == "db");
}

// Same fuzz run: a database holding '?' or '%' (percent-decoded by make_url) rendered as is, so
// the text no longer parsed (bad percent-encoding) or parsed with a different database and query.
TEST_CASE("a database name with '?' or '%' renders percent-encoded", "[fuzz][regression][url]") {
  const Url u = make_url("sqlite:///a%3Fb%25c.db");
  CHECK(u.database == "a?b%c.db");
  CHECK(u.render(false) == "sqlite:///a%3Fb%25c.db");
  const Url again = make_url(u.render(false));
  CHECK(again.database == u.database);
  CHECK(again.query.empty());
  CHECK(make_url("sqlite:////abs/dir/app.db").render() == "sqlite:////abs/dir/app.db");
}

// fuzz_url, corpus/url/regress-bracket-in-host: a host such as "x:]y" was accepted, rendered as
// "[x:]y]" and could not be parsed back.
TEST_CASE("brackets in a host name are refused, an IPv6 host keeps them", "[fuzz][regression][url]") {
  CHECK_THROWS_AS(make_url("mysql://u@x:]y:5/db"), UrlError);
  CHECK_THROWS_AS(make_url("mysql://u@a[b/db"), UrlError);
  const Url v6 = make_url("mysql://u:pw@[::1]:3306/db");
  CHECK(v6.host == "::1");
  CHECK(v6.render(false) == "mysql://u:pw@[::1]:3306/db");
}

// Found by fuzz_url: "+://:@@e\0/\x14/@@[" parsed with host "@e\0", which render() could not
// write back. An '@' after the password's '@' is refused, and the message does not echo the text
// around it (it is likely the rest of a password).
TEST_CASE("a second '@' in the authority is refused without echoing the password", "[fuzz][regression][url]") {
  CHECK_THROWS_AS(make_url(std::string_view("+://:@@e\0/\x14/@@[", 15)), UrlError);
  try {
    make_url("postgresql://app:p@ssw0rd@db:5432/app");
    FAIL("accepted a host holding '@'");
  } catch (const UrlError& e) {
    const std::string msg = e.what();
    CHECK(msg.find("%40") != std::string::npos);
    CHECK(msg.find("ssw0rd") == std::string::npos);
  }
  CHECK(make_url("postgresql://app:p%40ssw0rd@db:5432/app").password == "p@ssw0rd");
  // Found by fuzz_url too: the '@' past the password's end in the port, whose error echoed it.
  try {
    make_url("postgresql://app:p@ss:w0rdX@db/app");
    FAIL("accepted a port holding '@'");
  } catch (const UrlError& e) {
    CHECK(std::string(e.what()).find("w0rdX") == std::string::npos);
  }
}

// fuzz_url, corpus/url/regress-at-in-database: a database path holding '@' ("db/u:p%40ss",
// decoded to "db/u:p@ss") rendered with the '@' as is, which then ended a password: the text
// parsed back with another user name, password and host.
TEST_CASE("a database name holding '@' renders as %40 and parses back", "[fuzz][regression][url]") {
  const Url u = make_url("postgresql://u@h:5432/db3/u:p%40ss");
  CHECK(u.username == "u");
  CHECK(u.database == "db3/u:p@ss");
  CHECK(u.render(false) == "postgresql://u@h:5432/db3/u:p%40ss");
  const Url again = make_url(u.render(false));
  CHECK(again.username == "u");
  CHECK(again.password.empty());
  CHECK(again.host == "h");
  CHECK(again.database == u.database);
  CHECK(make_url("sqlite:////tmp/a@b.db").render() == "sqlite:////tmp/a%40b.db");
  CHECK(make_url("sqlite:////tmp/a%40b.db").database == "/tmp/a@b.db");
}

// fuzz_url, corpus/url/regress-password-before-scheme: text before "://" that is no dialect name
// ("q2/u:pw@h://...") was quoted in the message twice (as the dialect name, and unmasked in the
// URL), and it may hold a password. Neither is echoed now.
TEST_CASE("text before :// that is no dialect name is not echoed", "[fuzz][regression][url]") {
  try {
    make_url("q2/u:hunter2@h://u:hunter2@h/db");
    FAIL("accepted an invalid dialect name");
  } catch (const UrlError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("hunter2") == std::string::npos);
    CHECK(msg.find("invalid character") != std::string::npos);
  }
}
