// SPDX-License-Identifier: MIT
// The engine and its pool against the real backends: exhaustion and the PoolTimeoutError
// message, reuse with rollback on return, server-side kills with and without pre-ping and in
// the middle of a session's transaction, recycle, SQLite's shared memory database, echo logs,
// passwords that never leak, dispose, and the SQLALCHEMY_ENGINE_OPTIONS path to the pool.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "alchemy/sql/compiler.hpp"
#include "sql_helpers.hpp"
#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_engine {

namespace engine_suite {

using test::kill_connection;
using test::scalar;
using test::server_backend;
using test::server_id;
using test::exec;

using namespace std::chrono_literals;
using Seconds = std::chrono::duration<double>;

struct Note : alchemy::Model<Note> {
  ALCHEMY_TABLENAME("eng_notes");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, body, alchemy::String(60));

  Note() = default;
  Note(int64_t i, std::string b) : id(i), body(std::move(b)) {}
};

/// Lines of echo output, kept in memory.
struct Log {
  std::vector<std::string> lines;
  alchemy::LogSink sink() {
    return [this](std::string_view l) { lines.emplace_back(l); };
  }
  bool contains(std::string_view text) const {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
  bool has_line(std::string_view text) const {
    for (const auto& l : lines)
      if (l == text) return true;
    return false;
  }
};

inline std::string ph(int n) { return test::backend() == "postgresql" ? "$" + std::to_string(n) : "?"; }

}  // namespace engine_suite

using namespace engine_suite;

TEST_CASE("the pool gives out pool_size + max_overflow connections, then times out", "[suite][engine]") {
  if (!test::available()) return;
  alchemy::EngineOptions opts;
  opts.pool_size = 2;
  opts.max_overflow = 1;
  opts.pool_timeout = Seconds(0.2);
  auto engine = alchemy::create_engine(test::url(), opts);
  std::optional<alchemy::engine::Connection> c1(engine->connect()), c2(engine->connect()), c3(engine->connect());
  CHECK(engine->pool().checked_out() == 3);
  CHECK(engine->pool().size() == 3);
  CHECK(scalar(*c3, "SELECT 1") == 1);

  const auto start = std::chrono::steady_clock::now();
  std::string message;
  try {
    auto c4 = engine->connect();
    FAIL("a fourth connection was given out");
  } catch (const alchemy::PoolTimeoutError& e) {
    message = e.what();
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(message == "QueuePool limit of size 2 overflow 1 reached, connection timed out, timeout 0.20");
  CHECK(waited >= 190ms);
  CHECK(waited < 2s);
  CHECK(engine->pool().checked_out() == 3);

  // A returned connection is the next one given out.
  auto* raw3 = &c3->raw();
  c3.reset();
  CHECK(engine->pool().checked_out() == 2);
  auto c5 = engine->connect();
  CHECK(&c5.raw() == raw3);

  // A checkout that waits gets the connection returned meanwhile.
  auto* raw1 = &c1->raw();
  std::optional<alchemy::engine::Connection> waiter;
  std::thread t([&] { waiter.emplace(engine->connect()); });
  std::this_thread::sleep_for(50ms);
  c1.reset();
  t.join();
  REQUIRE(waiter);
  CHECK(&waiter->raw() == raw1);
  waiter.reset();

  // Once everything is back the overflow connection is closed: pool_size stay open.
  c2.reset();
  { auto gone = std::move(c5); }
  CHECK(engine->pool().checked_out() == 0);
  CHECK(engine->pool().size() == 2);
}

TEST_CASE("a returned connection is rolled back and reused", "[suite][engine]") {
  ALCHEMY_FRESH_DB(db, Note);
  Log log;
  alchemy::EngineOptions opts;
  opts.pool_size = 1;
  opts.max_overflow = 0;
  opts.pool_timeout = Seconds(0.3);
  opts.echo = true;
  opts.log = log.sink();
  auto engine = alchemy::create_engine(test::url(), opts);

  const void* first = nullptr;
  {
    auto conn = engine->connect();
    first = &conn.raw();
    conn.begin();
    exec(conn, "INSERT INTO eng_notes (id, body) VALUES (1, 'not committed')");
    CHECK(scalar(conn, "SELECT count(*) FROM eng_notes") == 1);
    CHECK(conn.in_transaction());
    log.lines.clear();
  }  // dies without commit
  CHECK(log.lines == std::vector<std::string>{"ROLLBACK"});

  auto conn = engine->connect();
  CHECK(&conn.raw() == first);
  CHECK_FALSE(conn.in_transaction());
  // The same connection would still see its own uncommitted row had it not been rolled back.
  CHECK(scalar(conn, "SELECT count(*) FROM eng_notes") == 0);
  CHECK(db->session.query<Note>().count() == 0);
  db->session.remove();  // ends the session's read transaction (SQLite would block the COMMIT below)

  // A committed transaction stays.
  conn.begin();
  exec(conn, "INSERT INTO eng_notes (id, body) VALUES (2, 'committed')");
  conn.commit();
  CHECK(db->session.query<Note>().count() == 1);
  db->session.remove();
}

TEST_CASE("a connection killed while pooled fails once with connection_invalidated, then is replaced", "[suite][engine]") {
  if (!test::available()) return;
  if (!server_backend()) {
    SUCCEED("SQLite has no server to lose");
    return;
  }
  auto killer = alchemy::create_engine(test::url());
  alchemy::EngineOptions opts;
  opts.pool_size = 1;
  opts.max_overflow = 0;
  opts.pool_timeout = Seconds(0.3);
  auto engine = alchemy::create_engine(test::url(), opts);
  int64_t pid = 0;
  {
    auto conn = engine->connect();
    pid = server_id(conn);
  }
  kill_connection(*killer, pid);

  bool invalidated = false;
  std::string message;
  {
    auto conn = engine->connect();  // no pre-ping: the dead connection comes back
    try {
      server_id(conn);
      FAIL("a statement on a killed connection succeeded");
    } catch (const alchemy::OperationalError& e) {
      invalidated = e.connection_invalidated();
      message = e.what();
    }
  }  // returned invalidated: the pool closes it
  CHECK(invalidated);
  INFO(message);
  CHECK(engine->pool().size() == 0);
  auto conn = engine->connect();
  const auto fresh = server_id(conn);
  CHECK(fresh != pid);
  CHECK(scalar(conn, "SELECT 1") == 1);
}

TEST_CASE("with pool_pre_ping a connection killed while pooled is replaced without an error", "[suite][engine]") {
  if (!test::available()) return;
  if (!server_backend()) {
    SUCCEED("SQLite has no server to lose");
    return;
  }
  auto killer = alchemy::create_engine(test::url());
  alchemy::EngineOptions opts;
  opts.pool_size = 1;
  opts.max_overflow = 0;
  opts.pool_timeout = Seconds(0.3);
  opts.pool_pre_ping = true;
  auto engine = alchemy::create_engine(test::url(), opts);
  int64_t pid = 0;
  {
    auto conn = engine->connect();
    pid = server_id(conn);
  }
  {
    auto conn = engine->connect();  // pinged and alive: the same connection
    CHECK(server_id(conn) == pid);
  }
  kill_connection(*killer, pid);
  auto conn = engine->connect();
  int64_t fresh = 0;
  REQUIRE_NOTHROW(fresh = server_id(conn));
  CHECK(fresh != pid);
  CHECK(engine->pool().size() == 1);
}

TEST_CASE("a kill inside a session's transaction surfaces from commit or flush and the session recovers", "[suite][engine]") {
  alchemy::Config config;
  config.SQLALCHEMY_ENGINE_OPTIONS.pool_size = 1;
  config.SQLALCHEMY_ENGINE_OPTIONS.max_overflow = 0;
  config.SQLALCHEMY_ENGINE_OPTIONS.pool_timeout = Seconds(0.3);
  config.SQLALCHEMY_ENGINE_OPTIONS.pool_pre_ping = true;  // no help inside a transaction
  auto db = test::fresh_db<Note>(nullptr, config);
  if (!db) return;
  if (!server_backend()) {
    SUCCEED("SQLite has no server to lose");
    return;
  }
  auto killer = alchemy::create_engine(test::url());
  int64_t pid = 0;
  {
    auto conn = db->engine().connect();  // the pool's only connection, which the session gets next
    pid = server_id(conn);
  }
  db->session.add(Note(1, "lost with the transaction"));
  db->session.flush();  // INSERT sent: the session holds the connection, in a transaction
  kill_connection(*killer, pid);

  SECTION("from commit") {
    try {
      db->session.commit();
      FAIL("commit succeeded on a killed connection");
    } catch (const alchemy::OperationalError& e) {
      CHECK(e.connection_invalidated());
    }
  }
  SECTION("from flush") {
    db->session.add(Note(2, "never written"));
    try {
      db->session.flush();
      FAIL("flush succeeded on a killed connection");
    } catch (const alchemy::OperationalError& e) {
      CHECK(e.connection_invalidated());
    }
  }
  // Not retried behind the caller's back: until rollback() the session refuses work.
  CHECK_THROWS_AS(db->session.query<Note>().count(), alchemy::PendingRollbackError);
  {
    auto other = killer->connect();
    CHECK(scalar(other, "SELECT count(*) FROM eng_notes") == 0);
  }
  db->session.rollback();
  db->session.add(Note(3, "after recovery"));
  db->session.commit();
  db->session.remove();
  auto rows = db->session.query<Note>().all();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]->id == 3);
  CHECK(rows[0]->body == "after recovery");
}

TEST_CASE("pool_recycle replaces a connection older than the limit at checkout", "[suite][engine]") {
  if (!test::available()) return;
  alchemy::EngineOptions opts;
  opts.pool_size = 1;
  opts.max_overflow = 0;
  opts.pool_timeout = Seconds(0.3);
  opts.pool_recycle = Seconds(0.3);
  auto engine = alchemy::create_engine(test::url(), opts);
  const std::string temp = test::backend() == "sqlite" ? "CREATE TEMP TABLE eng_marker (x INTEGER)"
                                                       : "CREATE TEMPORARY TABLE eng_marker (x INTEGER)";
  int64_t pid = 0;
  {
    auto conn = engine->connect();
    conn.execute(temp);  // a per-connection table: it disappears with the connection
    if (server_backend()) pid = server_id(conn);
  }
  {
    auto conn = engine->connect();  // younger than the limit: the same connection
    CHECK(scalar(conn, "SELECT count(*) FROM eng_marker") == 0);
    if (server_backend()) CHECK(server_id(conn) == pid);
  }
  std::this_thread::sleep_for(400ms);
  auto conn = engine->connect();
  CHECK_THROWS_AS(scalar(conn, "SELECT count(*) FROM eng_marker"), alchemy::DatabaseError);
  if (server_backend()) CHECK(server_id(conn) != pid);
  CHECK(engine->pool().size() == 1);
}

TEST_CASE("sqlite:// is one memory database shared by every session of the engine", "[suite][engine]") {
  alchemy::EngineOptions opts;
  opts.pool_size = 7;  // ignored: a memory database has exactly one connection
  opts.pool_timeout = Seconds(0.2);
  auto engine = alchemy::create_engine("sqlite://", opts);
  CHECK(engine->pool().options().pool_size == 1);
  CHECK(engine->pool().options().max_overflow == 0);
  {
    auto conn = engine->connect();
    conn.execute(engine->dialect().compiler().create_table(Note::mapper().table()));
  }
  {
    auto conn = engine->connect();  // another checkout sees the table
    CHECK(conn.has_table("eng_notes"));
  }
  alchemy::Session s1(engine), s2(engine);
  s1.add(Note(1, "from s1"));
  s1.commit();
  auto seen = s2.query<Note>().get(1);
  REQUIRE(seen);
  CHECK(seen->body == "from s1");
  // The one connection goes to one user at a time: while s2's transaction holds it, s1 waits
  // pool_timeout and gives up.
  CHECK_THROWS_AS(s1.query<Note>().count(), alchemy::PoolTimeoutError);
  s2.commit();
  CHECK(s1.query<Note>().count() == 1);
  s1.close();
  s2.close();
  // The database lives as long as the engine: a new engine starts empty.
  auto other = alchemy::create_engine("sqlite://");
  auto conn = other->connect();
  CHECK_FALSE(conn.has_table("eng_notes"));
}

TEST_CASE("echo logs statements and parameters; hide_parameters keeps the values out", "[suite][engine]") {
  for (const bool hide : {false, true}) {
    INFO("hide_parameters = " << hide);
    Log log;
    alchemy::Config config;
    config.SQLALCHEMY_ECHO = true;  // echo from the Flask key, the rest from ENGINE_OPTIONS
    config.SQLALCHEMY_ENGINE_OPTIONS.hide_parameters = hide;
    config.SQLALCHEMY_ENGINE_OPTIONS.log = log.sink();
    auto db = test::fresh_db<Note>(nullptr, config);
    if (!db) return;
    log.lines.clear();
    db->session.add(Note(1, "s3cr3t-value"));
    db->session.commit();
    CHECK(db->session.query<Note>().filter(Note::body_ == "another-s3cr3t").count() == 0);
    db->session.remove();

    CHECK(log.has_line("BEGIN (implicit)"));
    CHECK(log.has_line("INSERT INTO eng_notes (id, body) VALUES (" + ph(1) + ", " + ph(2) + ")"));
    CHECK(log.has_line("COMMIT"));
    CHECK(log.contains("WHERE eng_notes.body = " + ph(1)));
    if (hide) {
      CHECK(log.has_line("[SQL parameters hidden due to hide_parameters=True]"));
      CHECK_FALSE(log.contains("s3cr3t"));
      CHECK_FALSE(log.contains("[parameters:"));
    } else {
      CHECK(log.has_line("[parameters: (1, 's3cr3t-value')]"));
      CHECK(log.contains("'another-s3cr3t'"));
    }
  }
}

// A statement the server refuses at prepare time (unknown table or column, syntax error) is in the
// log too: SQLAlchemy logs every statement it sends.
TEST_CASE("echo shows a statement the server refuses", "[suite][engine]") {
  if (!test::available()) return;
  Log log;
  alchemy::EngineOptions opts;
  opts.echo = true;
  opts.log = log.sink();
  auto engine = alchemy::create_engine(test::url(), opts);
  auto conn = engine->connect();
  CHECK_THROWS_AS(exec(conn, "SELECT no_such_column FROM no_such_table"), alchemy::DatabaseError);
  CHECK(log.has_line("SELECT no_such_column FROM no_such_table"));
}

TEST_CASE("no log line, error message or repr holds the URL's password", "[suite][engine]") {
  if (!test::available()) return;
  const auto url = alchemy::make_url(test::url());
  // SQLite URLs have no password; a made-up one still must not leak from URL handling.
  const std::string password = url.password.empty() ? "n0t-a-real-pw" : url.password;
  std::vector<std::string> texts;  // everything that must not hold the password
  const auto collect = [&](auto&& f) {
    try {
      f();
      texts.push_back("(no error)");
    } catch (const std::exception& e) {
      texts.push_back(e.what());
    }
  };

  Log log;
  alchemy::EngineOptions opts;
  opts.echo = true;
  opts.log = log.sink();
  opts.pool_size = 1;
  opts.max_overflow = 0;
  opts.pool_timeout = Seconds(0.1);
  auto engine = alchemy::create_engine(test::url(), opts);
  texts.push_back(engine->repr());
  std::ostringstream printed;
  printed << *engine << " " << engine->url();
  texts.push_back(printed.str());
  {
    auto conn = engine->connect();
    conn.begin();
    collect([&] { exec(conn, "SELECT no_such_column FROM no_such_table"); });
    collect([&] { engine->connect(); });  // PoolTimeoutError
  }
  if (server_backend()) {
    CHECK(engine->repr() == "Engine(" + url.drivername + "://" + url.username + ":***@" + url.host + ":" +
                                std::to_string(*url.port) + "/" + url.database + ")");
    // Connection failures: wrong password, wrong database, nothing listening.
    auto wrong = url;
    wrong.password = "Wr0ng-" + password;
    collect([&] { alchemy::Engine(wrong, {}).connect(); });
    CHECK(texts.back().find("Wr0ng-") == std::string::npos);
    auto no_db = url;
    no_db.database = "no_such_database_x";
    collect([&] { alchemy::Engine(no_db, {}).connect(); });
    auto no_server = url;
    no_server.port = 1;
    collect([&] { alchemy::Engine(no_server, {}).connect(); });
    for (std::size_t i = texts.size() - 3; i < texts.size(); ++i) CHECK(texts[i] != "(no error)");
  }
  // URL errors quote the URL with the password masked.
  collect([&] { alchemy::make_url("postgresql://alchemy:" + password + "@127.0.0.1:notaport/db"); });
  CHECK(texts.back() != "(no error)");
  collect([&] { alchemy::create_engine("oracle://alchemy:" + password + "@127.0.0.1/db"); });
  CHECK(texts.back() != "(no error)");
  collect([&] { alchemy::create_engine("postgresql://alchemy:" + password + "@127.0.0.1:1/db?no_such_option=1"); });
  collect([&] { alchemy::make_url("mysql://alchemy:" + password + "@[::1/db"); });

  CHECK(texts[2].find("no_such_table") != std::string::npos);  // the SQL is in the error message
  CHECK(log.has_line("BEGIN (implicit)"));
  texts.insert(texts.end(), log.lines.begin(), log.lines.end());
  for (const auto& t : texts) {
    INFO(t);
    CHECK(t.find(password) == std::string::npos);
  }
}

TEST_CASE("after dispose() the engine refuses new connections", "[suite][engine]") {
  if (!test::available()) return;
  auto engine = alchemy::create_engine(test::url());
  { auto warm = engine->connect(); }
  CHECK(engine->pool().size() == 1);
  auto held = engine->connect();
  engine->dispose();
  CHECK_THROWS_AS(engine->connect(), alchemy::ResourceClosedError);
  // A connection checked out before dispose() still works, and closes when returned.
  CHECK(scalar(held, "SELECT 1") == 1);
  { auto gone = std::move(held); }
  CHECK(engine->pool().size() == 0);
  CHECK_THROWS_AS(engine->connect(), alchemy::ResourceClosedError);
}

TEST_CASE("SQLALCHEMY_ENGINE_OPTIONS reach the default engine's pool", "[suite][engine]") {
  alchemy::Config config;
  auto& o = config.SQLALCHEMY_ENGINE_OPTIONS;
  o.pool_size = 3;
  o.max_overflow = 1;
  o.pool_timeout = Seconds(0.25);
  o.pool_recycle = Seconds(3600);
  o.pool_pre_ping = true;
  auto db = test::fresh_db<Note>(nullptr, config);
  if (!db) return;
  const auto& got = db->engine().pool().options();
  CHECK(got.pool_size == 3);
  CHECK(got.max_overflow == 1);
  CHECK(got.pool_timeout == Seconds(0.25));
  REQUIRE(got.pool_recycle);
  CHECK(*got.pool_recycle == Seconds(3600));
  CHECK(got.pool_pre_ping);

  std::vector<alchemy::engine::Connection> held;
  for (int i = 0; i < 4; ++i) held.push_back(db->engine().connect());
  try {
    db->session.query<Note>().count();  // the session draws from the same pool
    FAIL("a fifth connection was given out");
  } catch (const alchemy::PoolTimeoutError& e) {
    CHECK(std::string(e.what()) == "QueuePool limit of size 3 overflow 1 reached, connection timed out, timeout 0.25");
  }
  held.pop_back();
  CHECK(db->session.query<Note>().count() == 0);
  db->session.remove();
  held.clear();
  CHECK(db->engine().pool().size() == 3);
}

}  // namespace suite_engine
