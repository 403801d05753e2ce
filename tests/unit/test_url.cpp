// SPDX-License-Identifier: MIT
// Database URLs: SQLAlchemy's grammar, percent-decoding, SQLite's slashes, rendering with the
// password masked, and errors that say what is wrong without ever repeating the password.
//
// This binary links no driver: it includes the engine header only, so create_engine() can find
// no driver and must say which library to link.
#include <catch2/catch.hpp>

#include <alchemy/engine/engine.hpp>
#include <alchemy/engine/url.hpp>

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using alchemy::make_url;
using alchemy::Url;
using alchemy::UrlError;
using Query = std::vector<std::pair<std::string, std::string>>;

namespace {

/// The message of the UrlError that parsing `raw` throws ("" and a failed check if none).
std::string url_error(std::string_view raw) {
  try {
    (void)make_url(raw);
  } catch (const UrlError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("make_url(\"" << raw << "\") threw something other than UrlError: " << e.what());
    return "";
  }
  FAIL("make_url(\"" << raw << "\") did not throw");
  return "";
}

/// The message of the UrlError that create_engine(raw) throws.
std::string engine_error(std::string_view raw) {
  try {
    (void)alchemy::create_engine(raw);
  } catch (const UrlError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("create_engine(\"" << raw << "\") threw something other than UrlError: " << e.what());
    return "";
  }
  FAIL("create_engine(\"" << raw << "\") did not throw");
  return "";
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

// --- The grammar --------------------------------------------------------------------------------

TEST_CASE("make_url reads every part of dialect+driver://user:password@host:port/database?key=value",
          "[engine][url]") {
  const Url u = make_url("postgresql+libpq://scott:tiger@db.example.com:5433/app?sslmode=require");
  CHECK(u.drivername == "postgresql+libpq");
  CHECK(u.dialect() == "postgresql");
  CHECK(u.driver() == "libpq");
  CHECK(u.username == "scott");
  CHECK(u.password == "tiger");
  CHECK(u.host == "db.example.com");
  REQUIRE(u.port.has_value());
  CHECK(*u.port == 5433);
  CHECK(u.database == "app");
  CHECK(u.query == Query{{"sslmode", "require"}});
  CHECK_FALSE(u.is_memory());
}

TEST_CASE("make_url leaves out the parts a URL does not give", "[engine][url]") {
  const Url u = make_url("mysql://db/shop");
  CHECK(u.drivername == "mysql");
  CHECK(u.dialect() == "mysql");
  CHECK(u.driver().empty());
  CHECK(u.username.empty());
  CHECK(u.password.empty());
  CHECK(u.host == "db");
  CHECK_FALSE(u.port.has_value());
  CHECK(u.database == "shop");
  CHECK(u.query.empty());
}

TEST_CASE("make_url reads a user without a password", "[engine][url]") {
  const Url u = make_url("postgresql://scott@localhost/app");
  CHECK(u.username == "scott");
  CHECK(u.password.empty());
  CHECK(u.host == "localhost");
  CHECK(u.database == "app");
}

TEST_CASE("make_url keeps a colon inside the password", "[engine][url]") {
  const Url u = make_url("postgresql://scott:ti:ger@localhost/app");
  CHECK(u.username == "scott");
  CHECK(u.password == "ti:ger");
}

TEST_CASE("make_url percent-decodes the user, password, database and query", "[engine][url]") {
  const Url u = make_url("postgresql://us%65r%20name:p%40ss@h/my%2Fdb?k%3D=v%26w&ch%61rset=utf8mb4");
  CHECK(u.username == "user name");
  CHECK(u.password == "p@ss");
  CHECK(u.host == "h");
  CHECK(u.database == "my/db");
  CHECK(u.query == Query{{"k=", "v&w"}, {"charset", "utf8mb4"}});
}

TEST_CASE("make_url decodes upper- and lower-case hex digits alike", "[engine][url]") {
  CHECK(make_url("postgresql://u:%2f%2F@h/db").password == "//");
  CHECK(make_url("postgresql://u:%C3%A9@h/db").password == "\xC3\xA9");  // é in UTF-8
}

TEST_CASE("make_url keeps repeated query keys in order", "[engine][url]") {
  const Url u = make_url("mysql://u@h/db?a=1&b=2&a=3&empty=");
  CHECK(u.query == Query{{"a", "1"}, {"b", "2"}, {"a", "3"}, {"empty", ""}});
}

TEST_CASE("make_url reads an IPv6 host in brackets", "[engine][url]") {
  const Url u = make_url("postgresql://u:pw@[::1]:5432/db");
  CHECK(u.host == "::1");
  REQUIRE(u.port.has_value());
  CHECK(*u.port == 5432);
  CHECK(u.database == "db");

  const Url v = make_url("postgresql://[fe80::1%25eth0]/db");
  CHECK(v.host == "fe80::1%25eth0");  // the host is not percent-decoded
  CHECK_FALSE(v.port.has_value());
}

TEST_CASE("make_url accepts the edge ports 1 and 65535", "[engine][url]") {
  CHECK(make_url("postgresql://h:1/db").port == std::optional<int>(1));
  CHECK(make_url("postgresql://h:65535/db").port == std::optional<int>(65535));
}

// --- SQLite -------------------------------------------------------------------------------------

TEST_CASE("sqlite:///relative.db names a file relative to the working directory", "[engine][url][sqlite]") {
  const Url u = make_url("sqlite:///relative.db");
  CHECK(u.dialect() == "sqlite");
  CHECK(u.host.empty());
  CHECK(u.database == "relative.db");
  CHECK_FALSE(u.is_memory());
  CHECK(u.connect_params().database == "relative.db");
}

TEST_CASE("sqlite://// with four slashes names an absolute path", "[engine][url][sqlite]") {
  const Url u = make_url("sqlite:////abs/path.db");
  CHECK(u.database == "/abs/path.db");
  CHECK_FALSE(u.is_memory());
}

TEST_CASE("sqlite:// and sqlite:///:memory: are the in-memory database", "[engine][url][sqlite]") {
  const Url bare = make_url("sqlite://");
  CHECK(bare.database.empty());
  CHECK(bare.is_memory());
  CHECK(bare.connect_params().database == ":memory:");

  const Url memory = make_url("sqlite:///:memory:");
  CHECK(memory.database == ":memory:");
  CHECK(memory.is_memory());
  CHECK(memory.connect_params().database == ":memory:");

  CHECK(make_url("sqlite+pysqlite:///:memory:").is_memory());
  CHECK_FALSE(make_url("postgresql:///:memory:").is_memory());
}

TEST_CASE("a SQLite URL keeps its query options", "[engine][url][sqlite]") {
  const Url u = make_url("sqlite:///app.db?timeout=5&mode=ro");
  CHECK(u.database == "app.db");
  CHECK(u.query == Query{{"timeout", "5"}, {"mode", "ro"}});
}

// --- Rendering ----------------------------------------------------------------------------------

TEST_CASE("render() masks the password as ***", "[engine][url]") {
  const Url u = make_url("postgresql://scott:p%40ss@db:5432/app?sslmode=require");
  CHECK(u.render() == "postgresql://scott:***@db:5432/app?sslmode=require");
  CHECK_FALSE(contains(u.render(), "p@ss"));
  CHECK_FALSE(contains(u.render(), "p%40ss"));
}

TEST_CASE("render(false) shows the password, percent-encoded again", "[engine][url]") {
  const Url u = make_url("postgresql://scott:p%40ss%3A%2F@db:5432/app?sslmode=require");
  CHECK(u.password == "p@ss:/");
  CHECK(u.render(false) == "postgresql://scott:p%40ss%3A%2F@db:5432/app?sslmode=require");
  CHECK(make_url(u.render(false)).password == "p@ss:/");
}

TEST_CASE("render() round-trips URLs without a password", "[engine][url]") {
  CHECK(make_url("sqlite:///relative.db").render() == "sqlite:///relative.db");
  CHECK(make_url("sqlite:////abs/path.db").render() == "sqlite:////abs/path.db");
  CHECK(make_url("sqlite://").render() == "sqlite://");
  CHECK(make_url("mysql+mysqlclient://u@h/db?a=1&a=2").render() == "mysql+mysqlclient://u@h/db?a=1&a=2");
  CHECK(make_url("postgresql://u@[::1]:5432/db").render() == "postgresql://u@[::1]:5432/db");
}

TEST_CASE("render() keeps a password given with an empty user name, masked", "[engine][url]") {
  const Url u = make_url("postgresql://:hunter2@db/app");
  CHECK(u.username.empty());
  CHECK(u.password == "hunter2");
  CHECK(u.render() == "postgresql://:***@db/app");
  CHECK(u.render(false) == "postgresql://:hunter2@db/app");
}

TEST_CASE("render(false) output parses back to the same URL", "[engine][url]") {
  for (const char* raw : {"postgresql+libpq://us%40er:p%40ss%2Fw%3Fd@db.example.com:5433/app?sslmode=require&a=%26",
                          "sqlite:////abs/dir%3Fx/pa%25th.db", "mysql://:pw@[::1]:3306/db%3F",
                          "sqlite:///:memory:", "sqlite://"}) {
    INFO(raw);
    const Url u = make_url(raw);
    const Url back = make_url(u.render(false));
    CHECK(back.drivername == u.drivername);
    CHECK(back.username == u.username);
    CHECK(back.password == u.password);
    CHECK(back.host == u.host);
    CHECK(back.port == u.port);
    CHECK(back.database == u.database);
    CHECK(back.query == u.query);
  }
}

TEST_CASE("brackets in a host name that is not an IPv6 address are a UrlError", "[engine][url][errors]") {
  const auto msg = url_error("postgresql://scott:hunter2@db[1]/app");
  CHECK(contains(msg, "IPv6"));
  CHECK_FALSE(contains(msg, "hunter2"));
}

TEST_CASE("printing a Url masks the password", "[engine][url]") {
  std::ostringstream os;
  os << make_url("mysql://root:hunter2@localhost/db");
  CHECK(os.str() == "mysql://root:***@localhost/db");
}

// --- Errors -------------------------------------------------------------------------------------

TEST_CASE("a URL without :// is a UrlError that shows the expected form", "[engine][url][errors]") {
  const auto msg = url_error("postgresql:/scott:hunter2@db/app");
  CHECK(contains(msg, "dialect[+driver]://"));
  CHECK_FALSE(contains(msg, "hunter2"));

  const auto plain = url_error("app.db");
  CHECK(contains(plain, "dialect[+driver]://"));
}

TEST_CASE("UrlError is an ArgumentError and an alchemy::Error", "[engine][url][errors]") {
  CHECK_THROWS_AS(make_url("nonsense"), UrlError);
  CHECK_THROWS_AS(make_url("nonsense"), alchemy::ArgumentError);
  CHECK_THROWS_AS(make_url("nonsense"), alchemy::Error);
}

TEST_CASE("an empty dialect name is a UrlError", "[engine][url][errors]") {
  const auto msg = url_error("://scott:hunter2@db/app");
  CHECK(contains(msg, "dialect name is empty"));
  CHECK_FALSE(contains(msg, "hunter2"));
}

TEST_CASE("a dialect name with an invalid character is a UrlError", "[engine][url][errors]") {
  for (const char* raw : {"post gres://scott:hunter2@db/app", "postgre$ql://scott:hunter2@db/app",
                          "sql/ite://scott:hunter2@db/app"}) {
    INFO(raw);
    const auto msg = url_error(raw);
    CHECK(contains(msg, "invalid character"));
    CHECK_FALSE(contains(msg, "hunter2"));
  }
}

TEST_CASE("a port that is not a number from 1 to 65535 is a UrlError", "[engine][url][errors]") {
  for (const char* raw : {"postgresql://scott:hunter2@db:abc/app", "postgresql://scott:hunter2@db:0/app",
                          "postgresql://scott:hunter2@db:65536/app", "postgresql://scott:hunter2@db:-1/app",
                          "postgresql://scott:hunter2@db:54x/app", "postgresql://scott:hunter2@db:99999999999/app",
                          "postgresql://scott:hunter2@[::1]:http/app"}) {
    INFO(raw);
    const auto msg = url_error(raw);
    CHECK(contains(msg, "port"));
    CHECK(contains(msg, "1 to 65535"));
    CHECK_FALSE(contains(msg, "hunter2"));
  }
}

TEST_CASE("an empty port is a UrlError", "[engine][url][errors]") {
  for (const char* raw : {"postgresql://scott:hunter2@db:/app", "postgresql://scott:hunter2@[::1]:/app"}) {
    INFO(raw);
    const auto msg = url_error(raw);
    CHECK(contains(msg, "port is empty"));
    CHECK_FALSE(contains(msg, "hunter2"));
  }
}

TEST_CASE("a malformed IPv6 host is a UrlError", "[engine][url][errors]") {
  CHECK(contains(url_error("postgresql://scott:hunter2@[::1/app"), "unterminated"));
  CHECK(contains(url_error("postgresql://scott:hunter2@[::1]x/app"), "IPv6"));
  CHECK_FALSE(contains(url_error("postgresql://scott:hunter2@[::1/app"), "hunter2"));
}

TEST_CASE("bad percent-encoding is a UrlError naming the part, without the password",
          "[engine][url][errors]") {
  struct Case {
    const char* raw;
    const char* part;
  };
  for (const auto& c : {Case{"postgresql://scott:hun%zzter2@db/app", "password"},
                        Case{"postgresql://scott:hunter2%4@db/app", "password"},
                        Case{"postgresql://scott:hunter2%-1@db/app", "password"},
                        Case{"postgresql://scott:hunter2%@db/app", "password"},
                        Case{"postgresql://sc%zzott:hunter2@db/app", "user name"},
                        Case{"postgresql://scott:hunter2@db/ap%zzp", "database"},
                        Case{"postgresql://scott:hunter2@db/app%4", "database"},
                        Case{"postgresql://scott:hunter2@db/app?ssl%-1mode=x", "query"},
                        Case{"postgresql://scott:hunter2@db/app?sslmode=x%g0", "query"}}) {
    INFO(c.raw);
    const auto msg = url_error(c.raw);
    CHECK(contains(msg, "percent-encoding"));
    CHECK(contains(msg, c.part));
    CHECK_FALSE(contains(msg, "hunter2"));
    CHECK_FALSE(contains(msg, "hun%zzter2"));
  }
}

TEST_CASE("a query option without = is a UrlError", "[engine][url][errors]") {
  const auto msg = url_error("postgresql://scott:hunter2@db/app?sslmode");
  CHECK(contains(msg, "'sslmode'"));
  CHECK(contains(msg, "key=value"));
  CHECK_FALSE(contains(msg, "hunter2"));

  const auto no_key = url_error("postgresql://scott:hunter2@db/app?=require");
  CHECK(contains(no_key, "key=value"));
  CHECK_FALSE(contains(no_key, "hunter2"));
}

TEST_CASE("a SQLite URL with a host or port is a UrlError", "[engine][url][errors][sqlite]") {
  for (const char* raw : {"sqlite://localhost/app.db", "sqlite://relative.db", "sqlite://:5432/app.db",
                          "sqlite://user:hunter2@localhost/app.db"}) {
    INFO(raw);
    const auto msg = url_error(raw);
    CHECK(contains(msg, "SQLite URL has no host"));
    CHECK(contains(msg, "sqlite:///"));
    CHECK_FALSE(contains(msg, "hunter2"));
  }
}

TEST_CASE("an error message masks the password but keeps the rest of the URL", "[engine][url][errors]") {
  const auto msg = url_error("postgresql://scott:hunter2@db:0/app");
  CHECK(contains(msg, "postgresql://scott:***@db:0/app"));
}

// SQLAlchemy's pattern reads the password as [^@]*, so "u:zq/secret@h/db" has password
// "zq/secret". Reading '/' or '?' first once put pieces of the password in error messages, and
// parsed "u:1234/secret@h/db" as host u, port 1234 — rendering the password in clear.
TEST_CASE("a password holding an unencoded / or ? parses as SQLAlchemy reads it",
          "[engine][url][errors]") {
  for (const char* raw : {"postgresql://u:zq/secret@h/db", "postgresql://u:zq?secret@h/db",
                          "postgresql://u:1234/secret@h/db"}) {
    INFO(raw);
    std::string msg;
    try {
      const Url u = make_url(raw);
      CHECK(u.username == "u");
      const std::string_view r(raw);
      CHECK(u.password == r.substr(15, r.rfind('@') - 15));
      CHECK(u.host == "h");
      CHECK(u.database == "db");
      CHECK_FALSE(contains(u.render(), "secret"));
    } catch (const UrlError& e) {
      msg = e.what();
    }
    CHECK(msg.empty());
    CHECK_FALSE(contains(msg, "zq"));
    CHECK_FALSE(contains(msg, "secret"));
  }
}

// --- create_engine ------------------------------------------------------------------------------

TEST_CASE("create_engine with an unknown dialect is a UrlError saying so", "[engine][url][errors]") {
  const auto msg = engine_error("foo://x");
  CHECK(contains(msg, "unknown database"));
  CHECK(contains(msg, "'foo'"));

  const auto with_password = engine_error("foo://scott:pw@x/db");
  CHECK(contains(with_password, "unknown database"));
  CHECK_FALSE(contains(with_password, "pw"));
}

TEST_CASE("create_engine without the PostgreSQL driver linked says what to link", "[engine][url][errors]") {
  const auto msg = engine_error("postgresql://u:pw@h/db");
  CHECK(contains(msg, "alchemy::postgresql"));
  CHECK(contains(msg, "alchemy/dialect/postgresql/driver.hpp"));
  CHECK(contains(msg, "postgresql://u:***@h/db"));
  CHECK_FALSE(contains(msg, "pw"));
}

TEST_CASE("create_engine without the MySQL driver linked says what to link, for mariadb too",
          "[engine][url][errors]") {
  for (const char* raw : {"mysql://u:pw@h/db", "mariadb://u:pw@h/db", "mysql+mysqlclient://u:pw@h/db"}) {
    INFO(raw);
    const auto msg = engine_error(raw);
    CHECK(contains(msg, "alchemy::mysql"));
    CHECK_FALSE(contains(msg, "pw"));
  }
}

TEST_CASE("create_engine without the SQLite driver linked says what to link", "[engine][url][errors]") {
  const auto msg = engine_error("sqlite:///app.db");
  CHECK(contains(msg, "alchemy::sqlite"));
}

TEST_CASE("create_engine reports a malformed URL before looking for a driver", "[engine][url][errors]") {
  const auto msg = engine_error("postgresql://u:pw@h:0/db");
  CHECK(contains(msg, "port"));
  CHECK_FALSE(contains(msg, "pw"));
}
