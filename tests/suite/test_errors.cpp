// SPDX-License-Identifier: MIT
// Errors: what a failed flush leaves behind (SQLAlchemy's rollback contract and
// PendingRollbackError), the query errors, argument errors, stale data, each backend's refusal
// of statements in a failed transaction, and SQLite's file, read-only and lock failures.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "suite/models.hpp"
#include "suite/session_models.hpp"
#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_errors {

using alchemy::ObjectState;
using alchemy::inspect_state;
using suite::Account;
using suite::session::DropAtExit;
using suite::session::Note;
using suite::session::ph;
using suite::session::Post;
using suite::session::stored_accounts;
using suite::session::stored_count;
using suite::session::stored_handles;
using Catch::Matchers::Contains;
using Strings = std::vector<std::string>;

namespace {

/// Runs f and returns the exception of type E it threw, or nothing if it threw none. Any other
/// exception escapes and fails the test.
template <class E, class F>
std::optional<E> thrown(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  return std::nullopt;
}

/// Every call that needs the session's transaction refuses with PendingRollbackError, whose
/// message carries the error of the failed flush. `persistent` is an object of the session.
void check_pending_rollback(alchemy::Session& s, const std::string& original,
                            const std::shared_ptr<Account>& persistent) {
  const auto check = [&](const char* call, auto&& f) {
    INFO("call: " << call);
    const auto e = thrown<alchemy::PendingRollbackError>(f);
    CHECK(e.has_value());
    if (e) {
      CHECK_THAT(e->what(), Contains("first issue Session.rollback()"));
      CHECK_THAT(e->what(), Contains(original));
    }
  };
  check("add", [&] { s.add(Account("zed")); });
  check("add(shared_ptr)", [&] { s.add(alchemy::make<Account>("zed")); });
  check("add_all", [&] { s.add_all(std::vector<Account>{Account("zed")}); });
  check("get", [&] { (void)s.get<Account>(1); });
  check("query().all()", [&] { (void)s.query<Account>().all(); });
  check("query().first()", [&] { (void)s.query<Account>().first(); });
  check("query().count()", [&] { (void)s.query<Account>().count(); });
  check("query().update()", [&] { (void)s.query<Account>().update({{"secret_key", "x"}}); });
  check("query().delete_()", [&] { (void)s.query<Account>().delete_(); });
  check("flush", [&] { s.flush(); });
  check("commit", [&] { s.commit(); });
  check("delete_", [&] { s.delete_(persistent); });
  check("refresh", [&] { s.refresh(persistent); });
  // Autoflush off changes nothing: the transaction is still gone.
  s.set_autoflush(false);
  check("query() without autoflush", [&] { (void)s.query<Account>().all(); });
  s.set_autoflush(true);
}

/// CREATE TABLE sess_notes with body NOT NULL, although Note's field is optional.
void create_strict_notes(alchemy::SQLAlchemy& db) {
  const auto b = test::backend();
  const std::string id = b == "postgresql" ? "id SERIAL NOT NULL"
                         : b == "mysql"    ? "id INTEGER NOT NULL AUTO_INCREMENT"
                                           : "id INTEGER NOT NULL";
  auto conn = db.engine().connect();
  conn.begin();
  conn.execute("DROP TABLE IF EXISTS sess_notes");
  conn.execute("CREATE TABLE sess_notes (" + id + ", body VARCHAR(100) NOT NULL, PRIMARY KEY (id))");
  conn.commit();
}

}  // namespace

// --- A failed flush --------------------------------------------------------------------------

TEST_CASE("a UNIQUE violation on commit raises IntegrityError and the session waits for rollback()",
          "[suite][errors]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto jdoe = s.add(Account("jdoe", "k"));
  s.commit();
  rec.clear();

  auto alice = s.add(Account("alice"));
  auto dup = s.add(Account("jdoe"));
  jdoe->secret_key = "edited";
  const auto err = thrown<alchemy::IntegrityError>([&] { s.commit(); });
  REQUIRE(err);
  CHECK(err->constraint() == alchemy::Constraint::unique);
  CHECK(err->driver() == test::backend());
  // PostgreSQL and MySQL/MariaDB: the two pending rows go out as one multi-row INSERT (see
  // flush.hpp).
  CHECK(err->statement() == (test::backend() == "postgresql"
                                 ? "INSERT INTO accounts (handle, secret_key) VALUES ($1, $2), ($3, $4) "
                                   "RETURNING accounts.id"
                             : test::backend() == "mysql"
                                 ? "INSERT INTO accounts (handle, secret_key) VALUES (?, ?), (?, ?)"
                                 : "INSERT INTO accounts (handle, secret_key) VALUES (?, ?)"));
  if (test::backend() == "postgresql") CHECK(err->sqlstate() == "23505");
  if (test::backend() == "mysql") CHECK(err->native_code() == 1062);
  // Inserts come before updates within a table, so the failure is at the second INSERT and
  // the UPDATE is never sent. The flush rolls back at once: one ROLLBACK.
  if (test::backend() != "sqlite")
    CHECK(rec.statements() == Strings{"BEGIN (implicit)", err->statement(), "ROLLBACK"});
  else
    CHECK(rec.statements() == Strings{"BEGIN (implicit)", err->statement(), err->statement(), "ROLLBACK"});
  CHECK_FALSE(s.in_transaction());

  // Nothing was written.
  CHECK(stored_accounts(*db) ==
        std::vector<std::pair<std::string, std::optional<std::string>>>{{"jdoe", "k"}});

  // Until rollback(): the objects keep their states, generated keys are cleared.
  CHECK(inspect_state(*alice) == ObjectState::pending);
  CHECK(inspect_state(*dup) == ObjectState::pending);
  CHECK(alice->id == 0);
  CHECK(dup->id == 0);
  CHECK(inspect_state(*jdoe) == ObjectState::persistent);
  CHECK(jdoe->secret_key == "edited");
  check_pending_rollback(s, err->what(), jdoe);
  CHECK(inspect_state(*alice) == ObjectState::pending);

  rec.clear();
  s.rollback();
  CHECK(rec.statements().empty());  // the database transaction is already rolled back
  CHECK(inspect_state(*alice) == ObjectState::transient);
  CHECK(inspect_state(*dup) == ObjectState::transient);
  CHECK(alice->handle == "alice");
  CHECK(jdoe->secret_key == "k");  // back to the database value
  CHECK(inspect_state(*jdoe) == ObjectState::persistent);

  // Usable again: the corrected objects commit.
  dup->handle = "bob";
  s.add(alice);
  s.add(dup);
  s.commit();
  CHECK(alice->id > jdoe->id);
  CHECK(dup->id > alice->id);
  CHECK(inspect_state(*dup) == ObjectState::persistent);
  CHECK(stored_handles(*db) == Strings{"jdoe", "alice", "bob"});
  db->session.remove();
}

TEST_CASE("close() also ends the pending rollback of a failed flush", "[suite][errors]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  auto& s = db->session();
  s.add(Account("jdoe"));
  s.commit();
  auto dup = s.add(Account("jdoe"));
  CHECK_THROWS_AS(s.flush(), alchemy::IntegrityError);
  CHECK_THROWS_AS(s.commit(), alchemy::PendingRollbackError);
  s.close();
  CHECK(inspect_state(*dup) == ObjectState::transient);
  CHECK(s.query<Account>().count() == 1);
  db->session.remove();
}

TEST_CASE("a NOT NULL violation on commit raises IntegrityError and writes nothing", "[suite][errors]") {
  test::Recorder rec;
  auto db = test::fresh_db<Note>(&rec);
  if (!db) return;
  DropAtExit<Note> drop(db.get());  // its DDL is not Note's
  create_strict_notes(*db);
  auto& s = db->session();
  auto ok = s.add(Note("written first"));
  s.flush();
  auto bad = s.add(Note(std::nullopt));
  rec.clear();

  const auto err = thrown<alchemy::IntegrityError>([&] { s.commit(); });
  REQUIRE(err);
  CHECK(err->constraint() == alchemy::Constraint::not_null);
  if (test::backend() == "postgresql") CHECK(err->sqlstate() == "23502");
  if (test::backend() == "mysql") CHECK(err->native_code() == 1048);
  CHECK(rec.lines.size() == 3);  // INSERT, its parameters, ROLLBACK
  CHECK(rec.statements().back() == "ROLLBACK");
  CHECK(stored_count<Note>(*db) == 0);  // the earlier flush was in the same transaction

  CHECK(inspect_state(*bad) == ObjectState::pending);
  CHECK(inspect_state(*ok) == ObjectState::persistent);  // until rollback()
  CHECK_THROWS_AS(s.query<Note>().count(), alchemy::PendingRollbackError);
  CHECK_THROWS_AS(s.add(Note("x")), alchemy::PendingRollbackError);
  s.rollback();
  CHECK(inspect_state(*bad) == ObjectState::transient);
  CHECK(inspect_state(*ok) == ObjectState::transient);
  CHECK(ok->id == 0);
  CHECK(ok->body == "written first");

  bad->body = "now set";
  s.add(ok);
  s.add(bad);
  s.commit();
  CHECK(stored_count<Note>(*db) == 2);
  db->session.remove();
}

TEST_CASE("a foreign key violation on flush raises IntegrityError and writes nothing", "[suite][errors]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account, Post>(&rec);
  if (!db) return;
  DropAtExit<Post> drop(db.get());
  auto& s = db->session();
  auto jdoe = s.add(Account("jdoe"));
  s.commit();
  auto good = s.add(Post(jdoe->id, "fine"));
  auto orphan = s.add(Post(999, "orphan"));
  rec.clear();

  const auto err = thrown<alchemy::IntegrityError>([&] { s.flush(); });
  REQUIRE(err);
  CHECK(err->constraint() == alchemy::Constraint::foreign_key);
  if (test::backend() == "postgresql") CHECK(err->sqlstate() == "23503");
  if (test::backend() == "mysql") CHECK(err->native_code() == 1452);
  const auto st = rec.statements();
  if (test::backend() != "sqlite") {  // one two-row INSERT
    REQUIRE(st.size() == 3);
    CHECK(st[1].rfind("INSERT INTO sess_posts", 0) == 0);
  } else {
    REQUIRE(st.size() == 4);
    CHECK(st[1] == st[2]);  // two INSERTs into sess_posts
  }
  CHECK(st.back() == "ROLLBACK");
  CHECK(good->id == 0);
  CHECK(orphan->id == 0);
  CHECK(inspect_state(*good) == ObjectState::pending);
  CHECK(stored_count<Post>(*db) == 0);
  CHECK_THROWS_AS(s.flush(), alchemy::PendingRollbackError);
  CHECK_THROWS_AS(s.get<Post>(1), alchemy::PendingRollbackError);

  s.rollback();
  CHECK(inspect_state(*orphan) == ObjectState::transient);
  orphan->account_id = jdoe->id;
  s.add(good);
  s.add(orphan);
  s.commit();
  CHECK(stored_count<Post>(*db) == 2);
  db->session.remove();
}

TEST_CASE("a flush whose third of five inserts fails leaves none of them, nor earlier updates",
          "[suite][errors]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account, Post>(&rec);
  if (!db) return;
  DropAtExit<Post> drop(db.get());
  auto& s = db->session();
  auto alice = s.add(Account("alice", "a0"));
  auto bob = s.add(Account("bob", "b0"));
  s.commit();
  rec.clear();

  alice->secret_key = "a1";
  s.flush();  // an UPDATE flushed earlier in the same transaction
  bob->secret_key = "b1";  // an UPDATE in the failing flush, sent before the posts (parents first)
  auto carol = s.add(Account("carol"));
  std::vector<std::shared_ptr<Post>> posts;
  for (int i = 0; i < 5; ++i) posts.push_back(s.add(Post(i == 2 ? 999 : alice->id, "post " + std::to_string(i))));

  const auto err = thrown<alchemy::IntegrityError>([&] { s.commit(); });
  REQUIRE(err);
  CHECK(err->constraint() == alchemy::Constraint::foreign_key);
  const auto st = rec.sql();
  // UPDATE alice; then accounts (INSERT carol, UPDATE bob), then the posts: up to the third
  // on SQLite; one five-row INSERT on PostgreSQL and MySQL/MariaDB.
  const std::size_t posts_sent = test::backend() == "sqlite" ? 3 : 1;
  REQUIRE(st.size() == 3 + posts_sent);
  CHECK(st[0].rfind("UPDATE accounts", 0) == 0);
  CHECK(st[1].rfind("INSERT INTO accounts", 0) == 0);
  CHECK(st[2].rfind("UPDATE accounts", 0) == 0);
  for (std::size_t i = 3; i < st.size(); ++i) CHECK(st[i].rfind("INSERT INTO sess_posts", 0) == 0);
  CHECK(rec.statements().back() == "ROLLBACK");

  CHECK(stored_count<Post>(*db) == 0);
  CHECK(stored_accounts(*db) == std::vector<std::pair<std::string, std::optional<std::string>>>{
                                    {"alice", "a0"}, {"bob", "b0"}});
  for (const auto& p : posts) {
    CHECK(p->id == 0);
    CHECK(inspect_state(*p) == ObjectState::pending);
  }
  CHECK(carol->id == 0);

  s.rollback();
  CHECK(alice->secret_key == "a0");
  CHECK(bob->secret_key == "b0");
  CHECK(inspect_state(*carol) == ObjectState::transient);
  for (const auto& p : posts) CHECK(inspect_state(*p) == ObjectState::transient);
  db->session.remove();
}

TEST_CASE("UPDATE of a row deleted behind the session's back raises StaleDataError", "[suite][errors]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto jdoe = s.add(Account("jdoe"));
  auto keep = s.add(Account("keep"));
  s.commit();
  {
    alchemy::Session other(db->engine_ptr());
    other.delete_(other.get<Account>(jdoe->id));
    other.commit();
  }
  jdoe->secret_key = "lost";
  keep->secret_key = "kept?";
  rec.clear();
  const auto err = thrown<alchemy::StaleDataError>([&] { s.commit(); });
  REQUIRE(err);
  CHECK(std::string(err->what()) ==
        "UPDATE statement on table 'accounts' expected to update 1 row(s); 0 were matched.");
  CHECK(rec.statements().back() == "ROLLBACK");
  CHECK_THROWS_AS(s.commit(), alchemy::PendingRollbackError);
  s.rollback();
  CHECK(keep->secret_key == std::nullopt);
  CHECK(stored_accounts(*db) ==
        std::vector<std::pair<std::string, std::optional<std::string>>>{{"keep", std::nullopt}});
  // A later change to an existing row goes through.
  keep->secret_key = "kept";
  s.commit();
  CHECK(stored_accounts(*db).at(0).second == "kept");
  db->session.remove();
}

TEST_CASE("an UPDATE that changes nothing in the database still matches its row", "[suite][errors]") {
  // MySQL counts changed rows unless CLIENT_FOUND_ROWS is set; a row already holding the new
  // value must not look deleted.
  auto db = test::fresh_db<Account>();
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Account("jdoe", "old"));
  s.commit();
  {
    alchemy::Session other(db->engine_ptr());
    other.get<Account>(a->id)->secret_key = "new";
    other.commit();
  }
  a->secret_key = "new";  // the snapshot says "old": an UPDATE is sent, and changes nothing
  CHECK_NOTHROW(s.commit());
  CHECK(stored_accounts(*db).at(0).second == "new");
  db->session.remove();
}

// --- Each backend's failed transaction -------------------------------------------------------

TEST_CASE("after an error inside a transaction PostgreSQL refuses statements until ROLLBACK",
          "[suite][errors]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  db->session.add(Account("jdoe"));
  db->session.commit();
  db->session.remove();

  auto conn = db->engine().connect();
  conn.begin();
  CHECK_THROWS_AS(conn.execute("INSERT INTO accounts (handle) VALUES ('jdoe')"), alchemy::IntegrityError);
  if (test::backend() == "postgresql") {
    // SQLSTATE 25P02, in_failed_sql_transaction: psycopg2 (and so alchemy) says InternalError.
    const auto err = thrown<alchemy::InternalError>([&] { conn.execute("INSERT INTO accounts (handle) VALUES ('x')"); });
    REQUIRE(err);
    CHECK(err->sqlstate() == "25P02");
    CHECK_THAT(err->server_message(), Contains("current transaction is aborted"));
    conn.rollback();
    CHECK(stored_handles(*db) == Strings{"jdoe"});
  } else {
    // SQLite and MariaDB undo the failed statement only; the transaction goes on.
    CHECK_NOTHROW(conn.execute("INSERT INTO accounts (handle) VALUES ('x')"));
    conn.commit();
    CHECK(stored_handles(*db) == Strings{"jdoe", "x"});
  }
}

// --- Query errors ----------------------------------------------------------------------------

TEST_CASE("one(), one_or_none() and first() with no row or several", "[suite][errors]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  auto& s = db->session();
  const auto none = s.query<Account>().filter_by("handle", "nobody");
  CHECK_THROWS_AS(none.one(), alchemy::NoResultFound);
  CHECK_THROWS_WITH(none.one(), "No row was found when one was required");
  CHECK(none.one_or_none() == nullptr);
  CHECK(none.first() == nullptr);

  s.add_all(std::vector<Account>{Account("a", "same"), Account("b", "same")});
  s.commit();
  const auto two = s.query<Account>().filter_by("secret_key", "same");
  CHECK_THROWS_AS(two.one(), alchemy::MultipleResultsFound);
  CHECK_THROWS_AS(two.one_or_none(), alchemy::MultipleResultsFound);
  CHECK_THROWS_WITH(two.one(), "Multiple rows were found when exactly one was required");
  CHECK(two.order_by(Account::handle_).first()->handle == "a");
  CHECK(s.query<Account>().filter_by("handle", "b").one()->handle == "b");
  CHECK(s.query<Account>().filter_by("handle", "b").one_or_none()->handle == "b");
  // NoResultFound and MultipleResultsFound are InvalidRequestErrors, as in SQLAlchemy.
  CHECK_THROWS_AS(none.one(), alchemy::InvalidRequestError);
  // Neither is a flush failure: the session goes on.
  CHECK(s.query<Account>().count() == 2);
  db->session.remove();
}

TEST_CASE("filter_by() with an unknown column raises InvalidRequestError naming it", "[suite][errors]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  const auto err = thrown<alchemy::InvalidRequestError>([&] { (void)db->session.query<Account>().filter_by("nope", 1); });
  REQUIRE(err);
  CHECK(std::string(err->what()) == "Entity namespace for \"accounts\" has no property \"nope\"");
  CHECK_THROWS_AS(db->session.query<Account>().update({{"nope", 1}}), alchemy::InvalidRequestError);
  db->session.remove();
}

TEST_CASE("a value of the wrong type for a column raises ArgumentError", "[suite][errors]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  const auto err = thrown<alchemy::ArgumentError>([&] { (void)s.query<Account>().filter_by("handle", 5); });
  REQUIRE(err);
  CHECK_THAT(err->what(), Contains("handle"));
  CHECK_THROWS_AS(s.get<Account>("x"), alchemy::ArgumentError);
  CHECK_THROWS_AS(s.get<Account>(std::string("1")), alchemy::ArgumentError);
  CHECK_THROWS_AS(s.query<Account>().update({{"handle", 5}}), alchemy::ArgumentError);
  CHECK_THROWS_AS(s.query<Account>().update({{"handle", nullptr}}), alchemy::ArgumentError);  // NOT NULL
  CHECK_THROWS_AS(s.query<Account>().update({{"id", 7}}), alchemy::InvalidRequestError);
  CHECK(rec.lines.empty());  // all refused before any SQL
  // Not flush failures: the session goes on.
  CHECK(s.query<Account>().count() == 0);
  db->session.remove();
}

TEST_CASE("Model::query() without a SQLAlchemy object raises InvalidRequestError", "[suite][errors]") {
  {
    auto& d = alchemy::orm::detail::default_db();
    std::lock_guard lock(d.mutex);
    REQUIRE(d.stack.empty());  // no other test may leave one alive
  }
  const auto err = thrown<alchemy::InvalidRequestError>([] { (void)Account::query(); });
  REQUIRE(err);
  CHECK_THAT(err->what(), Contains("alchemy::SQLAlchemy"));
  CHECK_THAT(err->what(), Contains("session.query<T>()"));
  {
    alchemy::SQLAlchemy db("sqlite://");
    db.create_all<Account>();
    CHECK(Account::query().count() == 0);
  }
  CHECK_THROWS_AS(Account::query(), alchemy::InvalidRequestError);
}

// --- SQLite: files, read-only databases, locks -----------------------------------------------

TEST_CASE("SQLite: a file that is not a database raises DatabaseError", "[suite][errors]") {
  if (test::backend() != "sqlite") return;
  const std::string path = test::sqlite_path() + ".garbage";
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) f.put(static_cast<char>((i * 37 + 11) & 0xff));
  }
  const std::string url = "sqlite:///" + path;
  const auto check = [&](const char* what, auto&& f) {
    INFO(what);
    try {
      f();
      FAIL_CHECK("no exception");
    } catch (const alchemy::DatabaseError& e) {
      // pysqlite's class for SQLITE_NOTADB is DatabaseError itself, not a subclass.
      CHECK(typeid(e) == typeid(alchemy::DatabaseError));
      CHECK((e.native_code() & 0xff) == SQLITE_NOTADB);
      CHECK_THAT(e.what(), Contains("not a database"));
    }
  };
  check("connect", [&] { (void)alchemy::create_engine(url)->connect(); });
  check("create_all", [&] {
    alchemy::SQLAlchemy db(url);
    db.create_all<Account>();
  });
  check("session query", [&] {
    alchemy::Session s(alchemy::create_engine(url));
    (void)s.query<Account>().count();
  });
  std::remove(path.c_str());
}

TEST_CASE("SQLite: a read-only database refuses the commit with OperationalError", "[suite][errors]") {
  if (test::backend() != "sqlite") return;
  auto db = test::fresh_db<Account>();
  if (!db) return;
  db->session.add(Account("jdoe"));
  db->session.commit();
  db->session.remove();

  const auto check_refused = [&](const std::string& url) {
    INFO(url);
    alchemy::Session s(alchemy::create_engine(url));
    CHECK(s.query<Account>().count() == 1);  // reading works
    auto a = s.add(Account("alice"));
    const auto err = thrown<alchemy::OperationalError>([&] { s.commit(); });
    REQUIRE(err);
    CHECK((err->native_code() & 0xff) == SQLITE_READONLY);
    CHECK_THAT(err->what(), Contains("readonly"));
    CHECK(a->id == 0);
    CHECK_THROWS_AS(s.commit(), alchemy::PendingRollbackError);
    s.rollback();
    CHECK(inspect_state(*a) == ObjectState::transient);
    CHECK(s.query<Account>().count() == 1);
    CHECK(stored_handles(*db) == Strings{"jdoe"});
  };
  check_refused(test::url() + "?mode=ro");
  if (::geteuid() != 0) {  // root writes to a 0444 file anyway
    REQUIRE(::chmod(test::sqlite_path().c_str(), 0444) == 0);
    check_refused(test::url());
    ::chmod(test::sqlite_path().c_str(), 0644);
  } else {
    WARN("running as root: the file-permission case is skipped (?mode=ro covers read-only)");
  }
}

TEST_CASE("SQLite: a locked database raises OperationalError after the busy timeout", "[suite][errors]") {
  if (test::backend() != "sqlite") return;
  auto db = test::fresh_db<Account>();
  if (!db) return;

  sqlite3* holder = nullptr;
  REQUIRE(sqlite3_open(test::sqlite_path().c_str(), &holder) == SQLITE_OK);
  REQUIRE(sqlite3_exec(holder, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);

  alchemy::Session s(alchemy::create_engine(test::url() + "?timeout=0.1"));
  auto a = s.add(Account("jdoe"));
  const auto t0 = std::chrono::steady_clock::now();
  const auto err = thrown<alchemy::OperationalError>([&] { s.commit(); });
  const auto waited = std::chrono::steady_clock::now() - t0;
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);

  REQUIRE(err);
  CHECK((err->native_code() & 0xff) == SQLITE_BUSY);
  CHECK_THAT(err->what(), Contains("locked"));
  CHECK(waited >= std::chrono::milliseconds(90));
  CHECK(waited < std::chrono::seconds(4));  // the URL's timeout, not the 5 s default
  CHECK(a->id == 0);
  CHECK_THROWS_AS(s.query<Account>().count(), alchemy::PendingRollbackError);

  s.rollback();
  s.add(a);
  s.commit();
  CHECK(a->id == 1);
  CHECK(stored_handles(*db) == Strings{"jdoe"});
  db->session.remove();
}

TEST_CASE("SQLite: a COMMIT refused by a reader's lock leaves the work for rollback() to undo",
          "[suite][errors]") {
  if (test::backend() != "sqlite") return;
  auto db = test::fresh_db<Account>();
  if (!db) return;
  db->session.add(Account("alice", "k"));
  db->session.commit();
  db->session.remove();

  // A reader in a transaction holds SHARED: INSERT gets RESERVED, COMMIT cannot get EXCLUSIVE.
  sqlite3* reader = nullptr;
  REQUIRE(sqlite3_open(test::sqlite_path().c_str(), &reader) == SQLITE_OK);
  REQUIRE(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM accounts;", nullptr, nullptr, nullptr) == SQLITE_OK);

  alchemy::Session s(alchemy::create_engine(test::url() + "?timeout=0.1"));
  auto alice = s.get<Account>(1);
  alice->secret_key = "changed";
  auto bob = s.add(Account("bob"));
  const auto err = thrown<alchemy::OperationalError>([&] { s.commit(); });
  sqlite3_exec(reader, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(reader);
  REQUIRE(err);
  CHECK((err->native_code() & 0xff) == SQLITE_BUSY);
  CHECK(stored_accounts(*db) == std::vector<std::pair<std::string, std::optional<std::string>>>{{"alice", "k"}});
  // The transaction is gone: as after a failed flush, the session asks for rollback() first.
  const auto again = thrown<alchemy::PendingRollbackError>([&] { s.commit(); });
  REQUIRE(again);
  CHECK_THAT(again->what(), Contains(err->what()));
  CHECK(inspect_state(*bob) == ObjectState::persistent);  // flushed, until rollback()

  s.rollback();
  CHECK(inspect_state(*bob) == ObjectState::transient);
  CHECK(bob->id == 0);
  CHECK(alice->secret_key == "k");
  s.add(bob);
  alice->secret_key = "changed";
  s.commit();
  CHECK(stored_accounts(*db) ==
        std::vector<std::pair<std::string, std::optional<std::string>>>{{"alice", "changed"}, {"bob", std::nullopt}});
}

}  // namespace suite_errors
