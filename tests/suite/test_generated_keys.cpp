// SPDX-License-Identifier: MIT
// Generated keys of a flush's INSERTs: every object gets the key of its own row, whichever way
// the rows went (PostgreSQL's RETURNING, MariaDB's consecutive AUTO_INCREMENT keys, SQLite's
// keys named by the unit of work after its first row, or one INSERT per row), with another
// connection inserting at the same time, after a rolled-back savepoint and after a failed
// flush. Each test compares every object's key with a SELECT of its unique handle. The SQLite
// cases at the end cover where the unit of work must not name keys itself
// (docs/dialects/sqlite.md, "Generated keys").
#include <alchemy/alchemy.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sql_helpers.hpp"
#include "suite/models.hpp"
#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_generated_keys {

using alchemy::ObjectState;
using alchemy::inspect_state;
using suite::Account;
using Accounts = std::vector<std::shared_ptr<Account>>;

namespace {

/// id by handle, for every row of accounts, read through a new connection.
std::map<std::string, std::int64_t> ids_by_handle(alchemy::SQLAlchemy& db) {
  auto conn = db.engine().connect();
  auto& st = conn.prepare("SELECT id, handle FROM accounts");
  const alchemy::dialect::ResetGuard reset(st);
  conn.run(st, {});
  std::map<std::string, std::int64_t> out;
  while (st.next())
    out.emplace(std::string(st.column(1, alchemy::sql::TypeKind::string).as_text()),
                st.column(0, alchemy::sql::TypeKind::big_integer).as_integer());
  return out;
}

/// Checks that every object's key is the id of the row holding its handle, and that no two
/// objects share a key.
void check_keys(alchemy::SQLAlchemy& db, const Accounts& objects) {
  const auto stored = ids_by_handle(db);
  std::map<std::int64_t, std::string> seen;
  for (const auto& a : objects) {
    INFO("handle " << a->handle);
    REQUIRE(stored.count(a->handle) == 1);
    CHECK(a->id == stored.at(a->handle));
    CHECK(seen.emplace(a->id, a->handle).second);
  }
}

Accounts add_accounts(alchemy::Session& s, const std::string& prefix, int n) {
  Accounts out;
  for (int i = 0; i < n; ++i) out.push_back(s.add(Account(prefix + std::to_string(i), "k" + std::to_string(i))));
  return out;
}

/// The INSERTs a flush sent, reduced to "one row" and "rows named with their keys".
std::vector<std::string> insert_shapes(const test::Recorder& rec) {
  std::vector<std::string> out;
  for (const auto& s : rec.sql()) {
    if (s.rfind("INSERT INTO accounts (id, ", 0) == 0) out.push_back("keyed");
    else if (s.rfind("INSERT INTO accounts (handle, secret_key) VALUES (?, ?)", 0) == 0 && s.find("), (") == std::string::npos)
      out.push_back("one");
    else if (s.rfind("INSERT", 0) == 0) out.push_back("other");
  }
  return out;
}

}  // namespace

TEST_CASE("every object of a large flush gets the key of its own row", "[suite][keys]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  // 1,000 rows per chunk, then 100 per statement on SQLite: full statements, a power of two, a tail.
  auto first = add_accounts(s, "a", 1237);
  s.commit();
  check_keys(*db, first);
  for (const auto& a : first) CHECK(s.get<Account>(a->id) == a);

  if (test::backend() == "sqlite") {
    // One INSERT whose key SQLite picks, then the rest with the keys that follow it, per chunk.
    const auto shapes = insert_shapes(rec);
    CHECK(std::count(shapes.begin(), shapes.end(), "one") == 2);
    CHECK(std::count(shapes.begin(), shapes.end(), "keyed") > 2);
    CHECK(std::count(shapes.begin(), shapes.end(), "other") == 0);
    // SQLite's own keys: 1, 2, ... in add order.
    for (std::size_t i = 0; i < first.size(); ++i) CHECK(first[i]->id == std::int64_t(i) + 1);
  }

  // The last rows deleted (SQLite gives their keys again), a row far above the others, then
  // more rows.
  for (std::size_t i = first.size() - 10; i < first.size(); ++i) s.delete_(first[i]);
  s.commit();
  auto far = s.add(Account("far"));
  far->id = 5000;
  s.commit();
  auto second = add_accounts(s, "b", 150);
  s.commit();
  check_keys(*db, second);
  for (const auto& a : second) CHECK(a->id > 0);
  if (test::backend() != "postgresql")  // a sequence does not move for a given key
    for (const auto& a : second) CHECK(a->id > 5000);
  first.resize(first.size() - 10);
  check_keys(*db, first);
}

TEST_CASE("keys stay right while another connection inserts into the same table", "[suite][keys]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  std::string journal = "default";
  SECTION("the backend's default journal") {}
  if (test::backend() == "sqlite") {
    SECTION("SQLite in WAL mode: the write lock is WAL's, readers never wait") { journal = "wal"; }
  }
  // Before the flush: a row committed by another connection, with a key above the others.
  {
    auto conn = db->engine().connect();
    if (journal == "wal") {
      conn.execute("PRAGMA journal_mode = WAL");  // kept in the file, for every connection
      CHECK(test::scalar(conn, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'") == 1);
    }
    test::exec(conn, "INSERT INTO accounts (id, handle) VALUES (100000, 'other-first')");
  }
  std::atomic<bool> done{false};
  std::atomic<int> written{0};
  std::string failure;
  std::thread writer([&] {
    try {
      auto conn = db->engine().connect();
      // SQLite's busy handler polls: a writer that holds the lock most of the time (an fsync
      // per commit takes milliseconds on a VM disk) would starve the session's connection for
      // the whole busy timeout. This one commits without fsync and pauses between commits.
      if (test::backend() == "sqlite") conn.execute("PRAGMA synchronous = OFF");
      for (int i = 0; !done.load() && i < 5000; ++i) {
        test::exec(conn, "INSERT INTO accounts (handle) VALUES ('other" + std::to_string(i) + "')");
        written.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  while (written.load() == 0 && failure.empty()) std::this_thread::yield();
  const int at_start = written.load();
  alchemy::Session s(db->engine_ptr());
  Accounts mine;
  std::string mine_failure;
  try {
    // At least 12 flushes, and on until the writer has got in between them a few times.
    for (int round = 0; round < 12 || (written.load() - at_start < 3 && round < 200 && failure.empty()); ++round) {
      auto batch = add_accounts(s, "mine" + std::to_string(round) + "-", 120);
      s.commit();  // no read before the INSERTs: SQLite's lock upgrade never deadlocks with the writer
      mine.insert(mine.end(), batch.begin(), batch.end());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the writer's turn
    }
  } catch (const std::exception& e) {
    mine_failure = e.what();
  }
  const int during = written.load() - at_start;
  done = true;
  writer.join();
  CHECK(failure == "");
  CHECK(mine_failure == "");
  CHECK(during > 0);
  check_keys(*db, mine);
  const auto stored = ids_by_handle(*db);
  CHECK(stored.size() == mine.size() + std::size_t(written.load()) + 1);
  for (const auto& a : mine)
    if (test::backend() != "postgresql") CHECK(a->id > 100000);
}

TEST_CASE("a rolled-back savepoint takes its keys with it, and later rows get theirs", "[suite][keys]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  auto before = add_accounts(s, "before", 30);
  Accounts gone;
  {
    auto sp = s.begin_nested();
    gone = add_accounts(s, "gone", 40);
    s.flush();
    for (const auto& a : gone) CHECK(a->id > 0);
    sp.rollback();
  }
  for (const auto& a : gone) {
    CHECK(inspect_state(*a) == ObjectState::transient);
    CHECK(a->id == 0);
  }
  auto after = add_accounts(s, "after", 50);
  for (std::size_t i = 0; i < 20; ++i) s.add(gone[i]);  // back in, under a new key
  s.commit();
  check_keys(*db, before);
  check_keys(*db, after);
  check_keys(*db, Accounts(gone.begin(), gone.begin() + 20));
  CHECK(ids_by_handle(*db).size() == 100);
}

TEST_CASE("a failed flush of many rows clears every key it gave, and a retry gets them right",
          "[suite][keys]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  auto& s = db->session();
  auto old = add_accounts(s, "old", 5);
  s.commit();
  auto batch = add_accounts(s, "new", 150);
  batch[120]->handle = "old3";  // inside a multi-row statement on SQLite
  CHECK_THROWS_AS(s.commit(), alchemy::IntegrityError);
  for (const auto& a : batch) CHECK(a->id == 0);
  CHECK(ids_by_handle(*db).size() == 5);
  s.rollback();
  batch[120]->handle = "new120";
  for (const auto& a : batch) s.add(a);
  s.commit();
  check_keys(*db, old);
  check_keys(*db, batch);
}

TEST_CASE("a failed flush inside begin_nested clears the keys of its rows only", "[suite][keys][savepoint]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  auto kept = add_accounts(s, "kept", 20);
  s.flush();
  Accounts failed;
  {
    auto sp = s.begin_nested();
    failed = add_accounts(s, "failed", 60);
    failed[59]->handle = "kept0";
    CHECK_THROWS_AS(s.flush(), alchemy::IntegrityError);
  }
  for (const auto& a : failed) CHECK(a->id == 0);
  for (const auto& a : kept) CHECK(a->id > 0);
  auto later = add_accounts(s, "later", 60);
  s.commit();
  check_keys(*db, kept);
  check_keys(*db, later);
}

// --- SQLite: where the unit of work names no keys itself ---------------------------------------

namespace {

/// accounts made by hand on SQLite, for the tests below.
std::unique_ptr<alchemy::SQLAlchemy> sqlite_accounts(test::Recorder& rec, const std::string& ddl) {
  if (test::backend() != "sqlite") return nullptr;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return nullptr;
  auto conn = db->engine().connect();
  test::exec(conn, "DROP TABLE accounts");
  test::exec(conn, ddl);
  rec.clear();
  return db;
}

}  // namespace

TEST_CASE("SQLite: a trigger that inserts into the table keeps one INSERT per row", "[suite][keys][sqlite]") {
  test::Recorder rec;
  auto db = sqlite_accounts(rec, "CREATE TABLE accounts (id INTEGER NOT NULL PRIMARY KEY, handle VARCHAR(50) NOT NULL "
                                 "UNIQUE, secret_key VARCHAR(128))");
  if (!db) return;
  auto& s = db->session();
  // Before the trigger exists, the keys are named (the driver remembers that answer until
  // the schema changes).
  auto before = add_accounts(s, "b", 17);
  s.commit();
  CHECK(insert_shapes(rec) == std::vector<std::string>{"one", "keyed"});
  {
    auto conn = db->engine().connect();
    // It fires for one row in the middle of the flush, not for the first: the largest key after
    // the first row tells nothing of it.
    test::exec(conn, "CREATE TRIGGER accounts_shadow AFTER INSERT ON accounts WHEN new.handle = 't20' "
                     "BEGIN INSERT INTO accounts (handle) VALUES (new.handle || '-shadow'); END");
  }
  rec.clear();
  auto objects = add_accounts(s, "t", 30);
  s.commit();
  check_keys(*db, before);
  check_keys(*db, objects);
  CHECK(ids_by_handle(*db).size() == 48);
  CHECK(insert_shapes(rec) == std::vector<std::string>(30, "one"));
}

TEST_CASE("SQLite: AUTOINCREMENT keys continue after sqlite_sequence, which follows them", "[suite][keys][sqlite]") {
  test::Recorder rec;
  auto db = sqlite_accounts(rec, "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, handle VARCHAR(50) NOT NULL "
                                 "UNIQUE, secret_key VARCHAR(128))");
  if (!db) return;
  {
    auto conn = db->engine().connect();
    test::exec(conn, "INSERT INTO accounts (id, handle) VALUES (500, 'high')");
    test::exec(conn, "DELETE FROM accounts");  // the largest key ever used stays 500
  }
  rec.clear();
  auto& s = db->session();
  auto objects = add_accounts(s, "a", 40);
  s.commit();
  check_keys(*db, objects);
  for (std::size_t i = 0; i < objects.size(); ++i) CHECK(objects[i]->id == 501 + std::int64_t(i));
  auto conn = db->engine().connect();
  CHECK(test::scalar(conn, "SELECT seq FROM sqlite_sequence WHERE name = 'accounts'") == 540);
  const auto shapes = insert_shapes(rec);
  CHECK(std::count(shapes.begin(), shapes.end(), "keyed") >= 1);
}

TEST_CASE("SQLite: at the largest rowid, keys SQLite picks at random still go to the right objects",
          "[suite][keys][sqlite]") {
  test::Recorder rec;
  auto db = sqlite_accounts(rec, "CREATE TABLE accounts (id INTEGER NOT NULL PRIMARY KEY, handle VARCHAR(50) NOT NULL "
                                 "UNIQUE, secret_key VARCHAR(128))");
  if (!db) return;
  SECTION("the largest rowid is taken") {
    auto conn = db->engine().connect();
    test::exec(conn, "INSERT INTO accounts (id, handle) VALUES (9223372036854775807, 'top')");
  }
  SECTION("the keys would run past it") {
    auto conn = db->engine().connect();
    test::exec(conn, "INSERT INTO accounts (id, handle) VALUES (9223372036854775797, 'top')");
  }
  rec.clear();
  auto& s = db->session();
  auto objects = add_accounts(s, "r", 40);
  s.commit();
  check_keys(*db, objects);
  CHECK(insert_shapes(rec) == std::vector<std::string>(40, "one"));
}

TEST_CASE("SQLite: a key column that is not the rowid, or an ON CONFLICT clause, keeps one INSERT per row",
          "[suite][keys][sqlite]") {
  test::Recorder rec;
  std::string ddl;
  SECTION("ON CONFLICT IGNORE") {
    ddl = "CREATE TABLE accounts (id INTEGER NOT NULL PRIMARY KEY, handle VARCHAR(50) NOT NULL UNIQUE ON CONFLICT "
          "IGNORE, secret_key VARCHAR(128))";
  }
  SECTION("a WITHOUT ROWID table") {
    ddl = "CREATE TABLE accounts (id INTEGER NOT NULL PRIMARY KEY, handle VARCHAR(50) NOT NULL UNIQUE, secret_key "
          "VARCHAR(128)) WITHOUT ROWID";
  }
  auto db = sqlite_accounts(rec, ddl);
  if (!db) return;
  auto& s = db->session();
  auto objects = add_accounts(s, "c", 20);
  if (ddl.find("WITHOUT ROWID") != std::string::npos) {
    // Without a rowid nothing generates the key: SQLite refuses the row, as before.
    CHECK_THROWS_AS(s.commit(), alchemy::IntegrityError);
    for (const auto& a : objects) CHECK(a->id == 0);
    s.rollback();
    return;
  }
  s.commit();
  check_keys(*db, objects);
  CHECK(insert_shapes(rec) == std::vector<std::string>(20, "one"));
}

}  // namespace suite_generated_keys
