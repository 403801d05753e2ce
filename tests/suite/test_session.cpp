// SPDX-License-Identifier: MIT
// The Session: identity map, object states, change detection, flush order, generated keys,
// the rollback contract, refresh, bulk update/delete and db.session's scope. What the database
// holds is always read back through another Session.
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "suite/models.hpp"
#include "suite/session_models.hpp"
#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_session {

using alchemy::ObjectState;
using alchemy::inspect_state;
using suite::Account;
using suite::session::ph;
using suite::session::stored_accounts;
using suite::session::stored_handles;
using Catch::Matchers::Contains;
using Strings = std::vector<std::string>;

namespace {

/// The SELECT a get() by key sends.
std::string select_by_id() {
  return "SELECT accounts.id, accounts.handle, accounts.secret_key FROM accounts WHERE accounts.id = " + ph(1);
}

std::string insert_account() {
  return test::backend() == "postgresql"
             ? "INSERT INTO accounts (handle, secret_key) VALUES ($1, $2) RETURNING accounts.id"
             : "INSERT INTO accounts (handle, secret_key) VALUES (?, ?)";
}

/// Three committed accounts: alice (1), bob (2), carol (3), each with a secret key.
void seed(alchemy::SQLAlchemy& db) {
  db.session.add_all(std::vector<Account>{Account("alice", "k1"), Account("bob", "k2"), Account("carol", "k3")});
  db.session.commit();
}

}  // namespace

// --- Identity map ----------------------------------------------------------------------------

TEST_CASE("two queries for the same row return the same object", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  seed(*db);
  db->session.remove();

  auto a = db->session.query<Account>().filter_by("handle", "bob").one();
  auto b = db->session.query<Account>().filter(Account::id_ == a->id).first();
  auto all = db->session.query<Account>().order_by(Account::id_).all();
  CHECK(a == b);
  REQUIRE(all.size() == 3);
  CHECK(all[1] == a);
  CHECK(db->session().size() == 3);
  db->session.remove();
}

TEST_CASE("get() of an object already in the session sends no SQL", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  db->session.remove();
  rec.clear();

  auto bob = db->session.get<Account>(2);
  REQUIRE(bob);
  CHECK(bob->handle == "bob");
  CHECK(rec.statements() == Strings{"BEGIN (implicit)", select_by_id()});

  rec.clear();
  CHECK(db->session.get<Account>(2) == bob);
  CHECK(db->session.query<Account>().get(2) == bob);
  CHECK(Account::query().get(2) == bob);
  CHECK(rec.lines.empty());
  db->session.remove();
}

TEST_CASE("get() of a key with no row returns null after one SELECT", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  rec.clear();

  CHECK(db->session.get<Account>(42) == nullptr);
  CHECK(rec.sql() == Strings{select_by_id()});
  CHECK(db->session().size() == 3);  // the seeded objects only
  db->session.remove();
}

TEST_CASE("a re-query does not overwrite unflushed local edits", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  s.set_autoflush(false);  // with autoflush the edit would be written before the SELECT

  auto bob = s.get<Account>(2);
  bob->secret_key = "local-change";
  auto again = s.query<Account>().filter_by("handle", "bob").one();
  CHECK(again == bob);
  CHECK(bob->secret_key == "local-change");
  CHECK(s.is_modified(*bob));
  CHECK(stored_accounts(*db).at(1).second == "k2");  // not written yet

  s.commit();
  CHECK(stored_accounts(*db).at(1).second == "local-change");
  db->session.remove();
}

TEST_CASE("a re-query with autoflush writes local edits first and keeps them", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto bob = db->session.get<Account>(2);
  rec.clear();

  bob->secret_key = "local-change";
  auto again = db->session.query<Account>().filter_by("handle", "bob").one();
  CHECK(again == bob);
  CHECK(bob->secret_key == "local-change");
  const auto sql = rec.sql();
  REQUIRE(sql.size() == 2);
  CHECK(sql[0] == "UPDATE accounts SET secret_key=" + ph(1) + " WHERE accounts.id = " + ph(2));
  CHECK(sql[1].rfind("SELECT ", 0) == 0);
  db->session.remove();
}

TEST_CASE("expunge() detaches an object and a later get() loads a new one", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto bob = s.get<Account>(2);

  s.expunge(bob);
  CHECK(inspect_state(*bob) == ObjectState::detached);
  CHECK(s.size() == 2);
  CHECK_FALSE(s.is_modified(*bob));

  rec.clear();
  auto bob2 = s.get<Account>(2);
  REQUIRE(bob2);
  CHECK(bob2 != bob);
  CHECK(bob2->handle == "bob");
  CHECK(inspect_state(*bob2) == ObjectState::persistent);
  CHECK(rec.sql() == Strings{select_by_id()});

  // The key is taken by bob2: the detached object cannot come back.
  CHECK_THROWS_AS(s.add(bob), alchemy::InvalidRequestError);
  CHECK(inspect_state(*bob) == ObjectState::detached);

  // Once the key is free it can, and edits made while detached are flushed.
  s.expunge(bob2);
  bob->secret_key = "edited-while-detached";
  CHECK(s.add(bob) == bob);
  CHECK(inspect_state(*bob) == ObjectState::persistent);
  rec.clear();
  CHECK(s.get<Account>(2) == bob);
  CHECK(rec.lines.empty());
  s.commit();
  CHECK(rec.sql() == Strings{"UPDATE accounts SET secret_key=" + ph(1) + " WHERE accounts.id = " + ph(2)});
  CHECK(stored_accounts(*db).at(1).second == "edited-while-detached");
  db->session.remove();
}

TEST_CASE("expunge() of a pending object makes it transient and it is never inserted", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Account("alice"));
  auto b = s.add(Account("bob"));
  s.expunge(a);
  CHECK(inspect_state(*a) == ObjectState::transient);
  s.commit();
  CHECK(a->id == 0);
  CHECK(b->id == 1);
  CHECK(stored_handles(*db) == Strings{"bob"});
  db->session.remove();
}

// --- Object states ---------------------------------------------------------------------------

TEST_CASE("an object moves transient, pending, persistent, deleted, detached", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  auto& s = db->session();

  auto a = alchemy::make<Account>("alice");
  CHECK(inspect_state(*a) == ObjectState::transient);
  Account plain("plain");
  CHECK(inspect_state(plain) == ObjectState::transient);

  s.add(a);
  CHECK(inspect_state(*a) == ObjectState::pending);
  CHECK(s.is_modified(*a));
  s.flush();
  CHECK(inspect_state(*a) == ObjectState::persistent);
  CHECK(a->id == 1);
  s.commit();
  CHECK(inspect_state(*a) == ObjectState::persistent);
  CHECK(stored_handles(*db) == Strings{"alice"});

  s.delete_(a);
  CHECK(inspect_state(*a) == ObjectState::persistent);  // until the DELETE is flushed
  s.flush();
  CHECK(inspect_state(*a) == ObjectState::deleted);
  CHECK(s.get<Account>(1) == nullptr);
  s.commit();
  CHECK(inspect_state(*a) == ObjectState::detached);
  CHECK(stored_handles(*db).empty());

  // A detached object is not this session's to delete.
  CHECK_THROWS_AS(s.delete_(a), alchemy::InvalidRequestError);
  db->session.remove();
}

TEST_CASE("delete_() of a pending object just forgets it", "[suite][session]") {
  // SQLAlchemy raises InvalidRequestError ("is not persisted") here; alchemy expunges the
  // object instead (documented on Session::delete_).
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Account("alice"));
  s.delete_(a);
  CHECK(inspect_state(*a) == ObjectState::transient);
  s.commit();
  CHECK(rec.lines.empty());
  db->session.remove();
}

TEST_CASE("close() detaches every object and the session can be used again", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto alice = s.get<Account>(1);
  auto bob = s.get<Account>(2);
  auto dave = s.add(Account("dave"));
  s.delete_(bob);
  s.flush();
  alice->secret_key = "unflushed";
  rec.clear();

  s.close();
  CHECK(rec.statements() == Strings{"ROLLBACK"});
  CHECK(inspect_state(*alice) == ObjectState::detached);
  CHECK(alice->secret_key == "k1");  // the unflushed edit was rolled back with the transaction
  CHECK(inspect_state(*bob) == ObjectState::detached);
  CHECK(inspect_state(*dave) == ObjectState::transient);
  CHECK(dave->id == 0);
  CHECK(s.size() == 0);
  CHECK_FALSE(s.in_transaction());
  CHECK(stored_handles(*db) == Strings{"alice", "bob", "carol"});

  auto again = s.get<Account>(1);
  REQUIRE(again);
  CHECK(again != alice);
  CHECK(again->secret_key == "k1");
  db->session.remove();
}

TEST_CASE("close() after a large commit still rolls back the unflushed edit of an object someone holds",
          "[suite][session]") {
  // close() compares only the objects someone besides the session still holds; the others (here
  // the one the query found and nobody kept) are freed unseen, and a held one still returns to
  // its row's values.
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  std::vector<std::shared_ptr<Account>> kept;
  for (int i = 0; i < 300; ++i) {
    auto a = s.add(Account("h" + std::to_string(i), "k" + std::to_string(i)));
    if (i % 100 == 7) kept.push_back(a);
  }
  s.commit();
  const std::weak_ptr<Account> gone = s.query<Account>().filter_by("handle", "h8").first();
  CHECK_FALSE(gone.expired());
  for (const auto& a : kept) a->secret_key = "edited";
  rec.clear();
  s.close();
  CHECK(rec.statements() == Strings{"ROLLBACK"});
  CHECK(gone.expired());
  REQUIRE(kept.size() == 3);
  for (std::size_t i = 0; i < kept.size(); ++i) {
    CHECK(kept[i]->secret_key == "k" + std::to_string(100 * i + 7));
    CHECK(inspect_state(*kept[i]) == ObjectState::detached);
  }
  CHECK(stored_handles(*db).size() == 300);
}

TEST_CASE("add_all() adds objects as pending, in order", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  auto objs = db->session.add_all(std::vector<Account>{Account("x"), Account("y"), Account("z")});
  REQUIRE(objs.size() == 3);
  for (const auto& o : objs) CHECK(inspect_state(*o) == ObjectState::pending);
  db->session.commit();
  CHECK(objs[0]->id == 1);
  CHECK(objs[1]->id == 2);
  CHECK(objs[2]->id == 3);
  for (const auto& o : objs) CHECK(inspect_state(*o) == ObjectState::persistent);
  CHECK(stored_handles(*db) == Strings{"x", "y", "z"});
  db->session.remove();
}

// --- Change detection ------------------------------------------------------------------------

TEST_CASE("assigning the value a field already holds sends no SQL", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto bob = db->session.get<Account>(2);
  db->session.commit();
  rec.clear();

  bob->handle = "bob";
  bob->secret_key = "k2";
  CHECK_FALSE(db->session.is_modified(*bob));
  db->session.commit();
  CHECK(rec.lines.empty());
  db->session.remove();
}

TEST_CASE("a changed field sends one UPDATE naming only that column", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto bob = db->session.get<Account>(2);
  db->session.commit();
  rec.clear();

  bob->secret_key = "n3w";
  CHECK(db->session.is_modified(*bob));
  db->session.commit();
  CHECK(rec.lines == Strings{"BEGIN (implicit)",
                             "UPDATE accounts SET secret_key=" + ph(1) + " WHERE accounts.id = " + ph(2),
                             "[parameters: ('n3w', 2)]", "COMMIT"});
  CHECK_FALSE(db->session.is_modified(*bob));
  CHECK(stored_accounts(*db).at(1).second == "n3w");
  db->session.remove();
}

TEST_CASE("two changed fields go in one UPDATE", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto bob = db->session.get<Account>(2);
  db->session.commit();
  rec.clear();

  bob->handle = "robert";
  bob->secret_key = std::nullopt;
  db->session.commit();
  CHECK(rec.lines ==
        Strings{"BEGIN (implicit)",
                "UPDATE accounts SET handle=" + ph(1) + ", secret_key=" + ph(2) + " WHERE accounts.id = " + ph(3),
                "[parameters: ('robert', None, 2)]", "COMMIT"});
  const auto rows = stored_accounts(*db);
  CHECK(rows.at(1).first == "robert");
  CHECK(rows.at(1).second == std::nullopt);
  db->session.remove();
}

TEST_CASE("commit() with nothing to write sends no SQL at all", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  rec.clear();
  db->session.commit();
  db->session.flush();
  db->session.commit();
  CHECK(rec.lines.empty());
  CHECK_FALSE(db->session().in_transaction());
  db->session.remove();
}

TEST_CASE("is_modified() reports the net change since the last load or flush", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto bob = s.get<Account>(2);
  CHECK_FALSE(s.is_modified(*bob));
  bob->secret_key = "other";
  CHECK(s.is_modified(*bob));
  bob->secret_key = "k2";  // back to the loaded value
  CHECK_FALSE(s.is_modified(*bob));
  bob->handle = "bobby";
  CHECK(s.is_modified(*bob));
  s.flush();
  CHECK_FALSE(s.is_modified(*bob));
  // Another session's objects, and transient ones, are not modified in this one.
  CHECK_FALSE(s.is_modified(Account("nobody")));
  db->session.remove();
}

// --- Flush order -----------------------------------------------------------------------------

TEST_CASE("inserts are flushed in the order the objects were added", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto c = s.add(Account("carol"));
  auto a = s.add(Account("alice"));
  auto b = s.add(Account("bob"));
  s.commit();
  if (test::backend() == "mysql")  // one multi-row INSERT, rows in add order (see flush.hpp)
    CHECK(rec.lines == Strings{"BEGIN (implicit)",
                               "INSERT INTO accounts (handle, secret_key) VALUES (?, ?), (?, ?), (?, ?)",
                               "[parameters: ('carol', None, 'alice', None, 'bob', None)]", "COMMIT"});
  else if (test::backend() == "postgresql")  // the same, the keys read back through RETURNING
    CHECK(rec.lines == Strings{"BEGIN (implicit)",
                               "INSERT INTO accounts (handle, secret_key) VALUES ($1, $2), ($3, $4), ($5, $6) "
                               "RETURNING accounts.id",
                               "[parameters: ('carol', None, 'alice', None, 'bob', None)]", "COMMIT"});
  else
    CHECK(rec.lines == Strings{"BEGIN (implicit)", insert_account(), "[parameters: ('carol', None)]",
                               insert_account(), "[parameters: ('alice', None)]", insert_account(),
                               "[parameters: ('bob', None)]", "COMMIT"});
  CHECK(c->id == 1);
  CHECK(a->id == 2);
  CHECK(b->id == 3);
  CHECK(stored_handles(*db) == Strings{"carol", "alice", "bob"});
  db->session.remove();
}

TEST_CASE("an update and a delete go in one flush, the UPDATE first", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto alice = s.get<Account>(1);
  auto carol = s.get<Account>(3);
  s.commit();
  rec.clear();

  s.delete_(alice);
  carol->secret_key = "changed";
  s.commit();
  CHECK(rec.statements() == Strings{"BEGIN (implicit)",
                                    "UPDATE accounts SET secret_key=" + ph(1) + " WHERE accounts.id = " + ph(2),
                                    "DELETE FROM accounts WHERE accounts.id = " + ph(1), "COMMIT"});
  const auto rows = stored_accounts(*db);
  REQUIRE(rows.size() == 2);
  CHECK(rows.at(0).first == "bob");
  CHECK(rows.at(1).second == "changed");
  db->session.remove();
}

TEST_CASE("a query autoflushes pending objects before its SELECT", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Account("alice"));
  auto found = s.query<Account>().filter_by("handle", "alice").first();
  CHECK(found == a);
  CHECK(a->id == 1);
  const auto st = rec.statements();
  REQUIRE(st.size() == 3);
  CHECK(st[0] == "BEGIN (implicit)");
  CHECK(st[1] == insert_account());
  CHECK(st[2].rfind("SELECT ", 0) == 0);
  s.rollback();
  CHECK(stored_handles(*db).empty());
  db->session.remove();
}

TEST_CASE("with autoflush off a query does not see a pending object", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  s.set_autoflush(false);
  CHECK_FALSE(s.autoflush());
  auto a = s.add(Account("alice"));
  CHECK(s.query<Account>().filter_by("handle", "alice").first() == nullptr);
  CHECK(s.query<Account>().count() == 0);
  CHECK(inspect_state(*a) == ObjectState::pending);
  for (const auto& line : rec.statements()) CHECK(line.rfind("INSERT", 0) != 0);

  s.flush();
  CHECK(s.query<Account>().filter_by("handle", "alice").first() == a);
  s.commit();
  CHECK(stored_handles(*db) == Strings{"alice"});

  // The SQLAlchemy object's config sets it for every session it makes.
  alchemy::Config config;
  config.session_options.autoflush = false;
  db.reset();
  auto db2 = test::fresh_db<Account>(nullptr, config);
  REQUIRE(db2);
  CHECK_FALSE(db2->session().autoflush());
  db2->session.remove();
}

// --- Generated keys --------------------------------------------------------------------------

TEST_CASE("generated keys 1, 2, 3 are filled in by the commit", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  auto a = db->session.add(Account("a"));
  auto b = db->session.add(Account("b"));
  auto c = db->session.add(Account("c"));
  CHECK(a->id == 0);
  CHECK(b->id == 0);
  CHECK(c->id == 0);
  db->session.commit();
  CHECK(a->id == 1);
  CHECK(b->id == 2);
  CHECK(c->id == 3);
  CHECK(db->session.get<Account>(2) == b);
  db->session.remove();
  auto again = db->session.get<Account>(3);
  REQUIRE(again);
  CHECK(again->handle == "c");
  db->session.remove();
}

TEST_CASE("a commit of 2,345 new objects gives each the key of its own row", "[suite][session]") {
  // More rows than one multi-row INSERT holds (1,000), and a remainder split into smaller
  // statements (256, 64, 16, 9 rows): each object's key must be the row that holds its values.
  auto db = test::fresh_db<Account>();
  if (!db) return;
  std::vector<std::shared_ptr<Account>> objs;
  for (int i = 0; i < 2345; ++i) objs.push_back(db->session.add(Account("h" + std::to_string(i))));
  db->session.commit();
  std::map<std::int64_t, std::string> by_key;
  {
    alchemy::Session s(db->engine_ptr());
    for (const auto& a : s.query<Account>().all()) by_key[a->id] = a->handle;
  }
  REQUIRE(by_key.size() == objs.size());
  std::size_t matching = 0;
  for (std::size_t i = 0; i < objs.size(); ++i)
    if (by_key[objs[i]->id] == "h" + std::to_string(i)) ++matching;
  CHECK(matching == objs.size());
  db->session.remove();
}

TEST_CASE("a commit that deletes 250 of 300 objects removes exactly their rows", "[suite][session]") {
  // Deletes by key go out as IN lists (of 100, 100, 32, 16 and 2 keys on SQLite; 128, 64, 32, 16
  // and 10 on the servers): every deleted object's row goes, every other stays.
  auto db = test::fresh_db<Account>();
  if (!db) return;
  std::vector<std::shared_ptr<Account>> objs;
  for (int i = 0; i < 300; ++i) objs.push_back(db->session.add(Account("d" + std::to_string(i))));
  db->session.commit();
  std::vector<std::string> kept;
  for (int i = 0; i < 300; ++i) {
    if (i % 6 == 0) kept.push_back("d" + std::to_string(i));
    else db->session.delete_(objs[std::size_t(i)]);
  }
  db->session.commit();
  CHECK(stored_handles(*db) == kept);
  db->session.remove();
}


TEST_CASE("a commit that changes 40 objects the same way writes each row, NULLs and empty text too",
          "[suite][session]") {
  // The UPDATEs of one changed column go out as one batch: PostgreSQL's pipeline, MariaDB's
  // array binding (every row in one execution, NULL by indicator), one statement per row on
  // SQLite. Each row must get its own value.
  auto db = test::fresh_db<Account>();
  if (!db) return;
  std::vector<std::shared_ptr<Account>> objs;
  for (int i = 0; i < 40; ++i) objs.push_back(db->session.add(Account("u" + std::to_string(i), "old")));
  db->session.commit();
  std::vector<std::pair<std::string, std::optional<std::string>>> want;
  for (int i = 0; i < 40; ++i) {
    std::optional<std::string> v;
    if (i % 4 == 1) v = "";
    else if (i % 4 == 2) v = "new " + std::to_string(i) + std::string(std::size_t(i) * 3, 'x');
    else if (i % 4 == 3) v = "k" + std::to_string(i);
    objs[std::size_t(i)]->secret_key = v;
    want.emplace_back("u" + std::to_string(i), v);
  }
  db->session.commit();
  CHECK(stored_accounts(*db) == want);
  db->session.remove();
}
TEST_CASE("an explicit primary key is inserted as given", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  Account x("explicit");
  x.id = 42;
  auto a = db->session.add(std::move(x));
  db->session.commit();
  CHECK(a->id == 42);
  CHECK(rec.sql() == Strings{"INSERT INTO accounts (id, handle, secret_key) VALUES (" + ph(1) + ", " + ph(2) +
                             ", " + ph(3) + ")"});
  db->session.remove();
  auto again = db->session.get<Account>(42);
  REQUIRE(again);
  CHECK(again->handle == "explicit");
  db->session.remove();
}

// --- The rollback contract -------------------------------------------------------------------

TEST_CASE("rollback() makes pending objects transient and writes nothing", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Account("alice", "k"));
  s.rollback();
  CHECK(rec.lines.empty());  // nothing was sent, so there is nothing to roll back
  CHECK(inspect_state(*a) == ObjectState::transient);
  CHECK(a->handle == "alice");  // attributes are kept
  CHECK(a->secret_key == "k");
  s.commit();
  CHECK(rec.lines.empty());
  CHECK(stored_handles(*db).empty());
  db->session.remove();
}

TEST_CASE("rollback() makes objects inserted in the transaction transient with their key reset",
          "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Account("alice"));
  auto b = s.add(Account("bob"));
  s.flush();
  CHECK(a->id == 1);
  CHECK(inspect_state(*b) == ObjectState::persistent);
  rec.clear();

  s.rollback();
  CHECK(rec.statements() == Strings{"ROLLBACK"});
  CHECK(inspect_state(*a) == ObjectState::transient);
  CHECK(inspect_state(*b) == ObjectState::transient);
  CHECK(a->id == 0);
  CHECK(b->id == 0);
  CHECK(a->handle == "alice");
  CHECK(s.size() == 0);
  CHECK(stored_handles(*db).empty());

  // They can be added again.
  s.add(a);
  s.add(b);
  s.commit();
  CHECK(a->id > 0);
  CHECK(b->id > a->id);
  CHECK(stored_handles(*db) == Strings{"alice", "bob"});
  db->session.remove();
}

TEST_CASE("rollback() brings back objects deleted in the transaction", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto alice = s.get<Account>(1);
  auto bob = s.get<Account>(2);
  s.delete_(alice);
  s.flush();  // alice's DELETE is sent, bob's is not
  s.delete_(bob);
  CHECK(inspect_state(*alice) == ObjectState::deleted);

  s.rollback();
  CHECK(inspect_state(*alice) == ObjectState::persistent);
  CHECK(inspect_state(*bob) == ObjectState::persistent);
  CHECK(s.get<Account>(1) == alice);
  CHECK(s.get<Account>(2) == bob);
  s.commit();  // nothing is deleted any more
  CHECK(stored_handles(*db) == Strings{"alice", "bob", "carol"});
  db->session.remove();
}

TEST_CASE("rollback() reverts unflushed edits to the database values", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto bob = s.get<Account>(2);
  bob->handle = "robert";
  bob->secret_key = std::nullopt;
  s.rollback();
  CHECK(bob->handle == "bob");
  CHECK(bob->secret_key == "k2");
  CHECK(inspect_state(*bob) == ObjectState::persistent);
  CHECK_FALSE(s.is_modified(*bob));
  rec.clear();
  s.commit();
  CHECK(rec.lines.empty());
  db->session.remove();
}

TEST_CASE("rollback() reverts UPDATEs flushed in the transaction, in memory too", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto bob = s.get<Account>(2);
  bob->secret_key = "first";
  s.flush();
  bob->secret_key = "second";
  bob->handle = "robert";
  s.flush();
  bob->secret_key = "third (unflushed)";

  s.rollback();
  CHECK(bob->handle == "bob");
  CHECK(bob->secret_key == "k2");
  CHECK_FALSE(s.is_modified(*bob));
  CHECK(stored_accounts(*db).at(1) == std::pair<std::string, std::optional<std::string>>{"bob", "k2"});

  // And the object is usable: the next change is sent against the restored values.
  bob->secret_key = "after";
  s.commit();
  CHECK(stored_accounts(*db).at(1) == std::pair<std::string, std::optional<std::string>>{"bob", "after"});
  db->session.remove();
}

TEST_CASE("an object inserted and deleted in a rolled-back transaction ends transient", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Account("ghost"));
  s.flush();
  const auto id = a->id;
  s.delete_(a);
  s.flush();
  CHECK(inspect_state(*a) == ObjectState::deleted);

  s.rollback();
  CHECK(inspect_state(*a) == ObjectState::transient);
  CHECK(a->id == 0);
  CHECK(s.size() == 0);
  CHECK(s.get<Account>(id) == nullptr);
  // It belongs to no session, so it can be added again as new.
  s.add(a);
  CHECK(inspect_state(*a) == ObjectState::pending);
  s.commit();
  CHECK(stored_handles(*db) == Strings{"ghost"});
  db->session.remove();
}

TEST_CASE("an object expunged after its DELETE was flushed stays detached after rollback()",
          "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto bob = s.get<Account>(2);
  s.delete_(bob);
  s.flush();
  s.expunge(bob);
  CHECK(inspect_state(*bob) == ObjectState::detached);

  s.rollback();
  CHECK(inspect_state(*bob) == ObjectState::detached);
  CHECK(s.size() == 2);  // alice and carol, from seed()
  auto again = s.get<Account>(2);  // the row is back, loaded as a new object
  REQUIRE(again);
  CHECK(again != bob);
  CHECK(inspect_state(*again) == ObjectState::persistent);
  db->session.remove();
}

TEST_CASE("objects that were persistent before the transaction stay so after rollback()", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto alice = s.get<Account>(1);
  s.commit();
  s.rollback();  // nothing open: a no-op
  CHECK(inspect_state(*alice) == ObjectState::persistent);
  CHECK(alice->id == 1);
  CHECK(s.get<Account>(1) == alice);
  db->session.remove();
}

// --- Snapshots -------------------------------------------------------------------------------
// A session keeps its objects' snapshots in an arena (orm/detail/snapshot.hpp): a value that
// outgrows its block gets a new one, and the session moves the live blocks together once the old
// ones outweigh them. These tests make that happen and check what rests on the moved blocks.

namespace {
using suite::session::Doc;

/// (body, n) of every doc, by id, read through a new Session.
std::vector<std::pair<std::string, std::int64_t>> stored_docs(alchemy::SQLAlchemy& db) {
  alchemy::Session s(db.engine_ptr());
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& d : s.query<Doc>().order_by(Doc::id_).all()) out.emplace_back(d->body, d->n);
  return out;
}

/// The body of doc `i` in round `round`: longer every round, so each snapshot outgrows its block.
std::string body(int i, int round) { return std::string(std::size_t(2000 + 500 * round), char('a' + (i + round) % 26)); }
}  // namespace

TEST_CASE("a session that rewrites its objects round after round writes every change and no other",
          "[suite][session][snapshot]") {
  test::Recorder rec;
  auto db = test::fresh_db<Doc>(&rec);
  if (!db) return;
  auto& s = db->session();
  std::vector<std::shared_ptr<Doc>> docs;
  for (int i = 0; i < 60; ++i) docs.push_back(s.add(Doc(body(i, 0), i)));
  s.commit();
  const auto& arena = alchemy::orm::detail::SessionDiagnostics::snapshots(s);
  for (int round = 1; round <= 12; ++round) {
    for (int i = 0; i < 60; ++i)
      if (i % 3 != 0) docs[std::size_t(i)]->body = body(i, round);  // a third stays as it is
    rec.clear();
    s.commit();
    std::size_t updates = 0;
    for (const auto& l : rec.lines) updates += l.rfind("UPDATE sess_docs SET body=", 0) == 0 ? 1 : 0;
    CHECK(updates == 40);
    for (const auto& d : docs) CHECK_FALSE(s.is_modified(*d));
  }
  // The old blocks were collected at least once, and what the session holds is the last round's.
  CHECK(arena.compactions() >= 1);
  CHECK(arena.garbage_bytes() <= std::max<std::size_t>(arena.live_bytes(), 1024 * 1024));
  const auto stored = stored_docs(*db);
  REQUIRE(stored.size() == 60);
  for (int i = 0; i < 60; ++i) {
    CHECK(stored[std::size_t(i)].first == (i % 3 != 0 ? body(i, 12) : body(i, 0)));
    CHECK(docs[std::size_t(i)]->body == stored[std::size_t(i)].first);
  }
  db->session.remove();
}

TEST_CASE("rollback() restores the values a transaction found, after its snapshots were moved",
          "[suite][session][snapshot]") {
  auto db = test::fresh_db<Doc>();
  if (!db) return;
  auto& s = db->session();
  std::vector<std::shared_ptr<Doc>> docs;
  for (int i = 0; i < 60; ++i) docs.push_back(s.add(Doc(body(i, 0), i)));
  s.commit();
  const auto& arena = alchemy::orm::detail::SessionDiagnostics::snapshots(s);
  const auto before = arena.compactions();
  // One transaction, many flushes: the before-images stay while the snapshots outgrow their
  // blocks, until the session moves every block (before-images too).
  for (int round = 1; round <= 12; ++round) {
    for (int i = 0; i < 60; ++i) {
      docs[std::size_t(i)]->body = body(i, round);
      docs[std::size_t(i)]->n = 1000 * round + i;
    }
    s.flush();
  }
  CHECK(arena.compactions() > before);
  docs[7]->body = "unflushed";
  s.rollback();
  for (int i = 0; i < 60; ++i) {
    CHECK(docs[std::size_t(i)]->body == body(i, 0));
    CHECK(docs[std::size_t(i)]->n == i);
    CHECK_FALSE(s.is_modified(*docs[std::size_t(i)]));
  }
  // The next change goes out against the restored values.
  docs[5]->n = -5;
  s.commit();
  const auto stored = stored_docs(*db);
  REQUIRE(stored.size() == 60);
  CHECK(stored[5] == std::pair<std::string, std::int64_t>{body(5, 0), -5});
  CHECK(stored[6] == std::pair<std::string, std::int64_t>{body(6, 0), 6});
  db->session.remove();
}

TEST_CASE("an object kept after its session closed brings its snapshot to the next session",
          "[suite][session][snapshot]") {
  test::Recorder rec;
  auto db = test::fresh_db<Doc>(&rec);
  if (!db) return;
  std::shared_ptr<Doc> changed, unchanged;
  {
    alchemy::Session s(db->engine_ptr());
    s.add(Doc("one", 1));
    s.add(Doc("two", 2));
    s.commit();
    changed = s.get<Doc>(1);
    unchanged = s.get<Doc>(2);
  }  // closed: both are detached now, and the session's memory is gone
  CHECK(inspect_state(*changed) == ObjectState::detached);
  changed->body = "one, edited while detached";
  alchemy::Session s2(db->engine_ptr());
  s2.add(changed);
  s2.add(unchanged);
  CHECK(s2.is_modified(*changed));
  CHECK_FALSE(s2.is_modified(*unchanged));
  rec.clear();
  s2.commit();
  std::size_t updates = 0;
  for (const auto& l : rec.lines) updates += l.rfind("UPDATE sess_docs", 0) == 0 ? 1 : 0;
  CHECK(updates == 1);
  CHECK(stored_docs(*db) == std::vector<std::pair<std::string, std::int64_t>>{{"one, edited while detached", 1}, {"two", 2}});
}

TEST_CASE("objects loaded by a session outlive it with their own values, and its memory goes with the last of them",
          "[suite][session][snapshot]") {
  using alchemy::orm::detail::NodePool;
  auto db = test::fresh_db<Doc>();
  if (!db) return;
  {
    alchemy::Session s(db->engine_ptr());
    for (int i = 0; i < 600; ++i) s.add(Doc("doc" + std::to_string(i), i));
    s.commit();
  }
  const std::size_t blocks_before = NodePool::blocks_alive();
  std::vector<std::shared_ptr<Doc>> kept;
  {
    alchemy::Session s(db->engine_ptr());
    // 600 rows fill several of the session's blocks; every 97th object is kept.
    const auto all = s.query<Doc>().order_by(Doc::id_).all();
    REQUIRE(all.size() == 600);
    for (std::size_t i = 0; i < all.size(); i += 97) kept.push_back(all[i]);
    CHECK(NodePool::blocks_alive() > blocks_before);
  }
  // The session is gone; the blocks holding a kept object are not.
  CHECK(NodePool::blocks_alive() > blocks_before);
  REQUIRE(kept.size() == 7);
  for (std::size_t k = 0; k < kept.size(); ++k) {
    CHECK(kept[k]->body == "doc" + std::to_string(k * 97));
    CHECK(kept[k]->n == std::int64_t(k * 97));
    CHECK(inspect_state(*kept[k]) == ObjectState::detached);
  }
  // A kept object works in the next session like any other.
  {
    alchemy::Session s2(db->engine_ptr());
    s2.add(kept[3]);
    kept[3]->body = "edited after its session closed";
    s2.commit();
  }
  CHECK(stored_docs(*db)[291] == std::pair<std::string, std::int64_t>{"edited after its session closed", 291});
  kept.clear();
  CHECK(NodePool::blocks_alive() == blocks_before);
}

TEST_CASE("an object expunged in a transaction keeps its values when the transaction rolls back",
          "[suite][session][snapshot]") {
  auto db = test::fresh_db<Doc>();
  if (!db) return;
  auto& s = db->session();
  s.add(Doc("one", 1));
  s.commit();
  auto d = s.get<Doc>(1);
  d->body = "flushed";
  s.flush();
  s.expunge(d);
  s.rollback();
  // SQLAlchemy leaves an expunged object alone: it keeps the values it had.
  CHECK(d->body == "flushed");
  CHECK(inspect_state(*d) == ObjectState::detached);
  CHECK(stored_docs(*db) == std::vector<std::pair<std::string, std::int64_t>>{{"one", 1}});
  CHECK(s.get<Doc>(1)->body == "one");
  db->session.remove();
}

// --- refresh ---------------------------------------------------------------------------------

TEST_CASE("refresh() reloads an object and drops its unflushed edits", "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto bob = s.get<Account>(2);
  s.commit();  // ends the transaction, so the next one sees other sessions' commits

  {
    alchemy::Session other(db->engine_ptr());
    auto b = other.get<Account>(2);
    b->secret_key = "changed elsewhere";
    other.commit();
  }
  bob->handle = "local edit";
  rec.clear();
  s.refresh(bob);
  CHECK(rec.sql() == Strings{select_by_id()});  // no autoflush: the edit is not written
  CHECK(bob->handle == "bob");
  CHECK(bob->secret_key == "changed elsewhere");
  CHECK_FALSE(s.is_modified(*bob));
  CHECK(inspect_state(*bob) == ObjectState::persistent);
  db->session.remove();
}

TEST_CASE("refresh() of a row deleted behind the session's back throws InvalidRequestError",
          "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto bob = s.get<Account>(2);
  s.commit();
  {
    alchemy::Session other(db->engine_ptr());
    other.delete_(other.get<Account>(2));
    other.commit();
  }
  CHECK_THROWS_AS(s.refresh(bob), alchemy::InvalidRequestError);
  CHECK(bob->handle == "bob");  // untouched
  // It is not a flush failure: the session goes on.
  CHECK(s.query<Account>().count() == 2);
  CHECK_THROWS_AS(s.refresh(alchemy::make<Account>("transient")), alchemy::InvalidRequestError);
  db->session.remove();
}

// --- Bulk update and delete ------------------------------------------------------------------

TEST_CASE("Query::update() changes matched rows and the session's objects; rollback() restores them",
          "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto all = s.query<Account>().order_by(Account::id_).all();
  REQUIRE(all.size() == 3);
  rec.clear();

  const auto n = s.query<Account>().filter(Account::id_ > 1).update({{"secret_key", nullptr}});
  CHECK(n == 2);
  const auto sql = rec.sql();
  REQUIRE_FALSE(sql.empty());
  CHECK(sql.back() == "UPDATE accounts SET secret_key=" + ph(1) + " WHERE accounts.id > " + ph(2));
  CHECK(all[0]->secret_key == "k1");
  CHECK(all[1]->secret_key == std::nullopt);
  CHECK(all[2]->secret_key == std::nullopt);
  CHECK_FALSE(s.is_modified(*all[1]));  // the object matches the database

  s.rollback();
  CHECK(all[1]->secret_key == "k2");
  CHECK(all[2]->secret_key == "k3");
  CHECK(stored_accounts(*db).at(2).second == "k3");

  CHECK(s.query<Account>().filter_by("handle", "carol").update({{"secret_key", "bulk"}}) == 1);
  CHECK(all[2]->secret_key == "bulk");
  CHECK(s.query<Account>().filter_by("handle", "nobody").update({{"secret_key", "x"}}) == 0);
  s.commit();
  const auto rows = stored_accounts(*db);
  CHECK(rows.at(1).second == "k2");
  CHECK(rows.at(2).second == "bulk");
  db->session.remove();
}

TEST_CASE("Query::delete_() removes matched rows and the session's objects become deleted",
          "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto& s = db->session();
  auto all = s.query<Account>().order_by(Account::id_).all();
  REQUIRE(all.size() == 3);
  rec.clear();

  const auto n = s.query<Account>().filter(Account::handle_ != "alice").delete_();
  CHECK(n == 2);
  const auto sql = rec.sql();
  REQUIRE_FALSE(sql.empty());
  CHECK(sql.back() == "DELETE FROM accounts WHERE accounts.handle != " + ph(1));
  CHECK(inspect_state(*all[0]) == ObjectState::persistent);
  CHECK(inspect_state(*all[1]) == ObjectState::deleted);
  CHECK(inspect_state(*all[2]) == ObjectState::deleted);
  CHECK(s.size() == 1);
  CHECK(s.query<Account>().count() == 1);

  s.rollback();
  CHECK(inspect_state(*all[1]) == ObjectState::persistent);
  CHECK(inspect_state(*all[2]) == ObjectState::persistent);
  CHECK(s.get<Account>(2) == all[1]);
  CHECK(stored_handles(*db) == Strings{"alice", "bob", "carol"});

  CHECK(s.query<Account>().filter(Account::id_ >= 2).delete_() == 2);
  s.commit();
  CHECK(inspect_state(*all[1]) == ObjectState::detached);
  CHECK(inspect_state(*all[2]) == ObjectState::detached);
  CHECK(stored_handles(*db) == Strings{"alice"});
  db->session.remove();
}

// --- db.session ------------------------------------------------------------------------------

TEST_CASE("db.session is one Session per thread", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  alchemy::Session* mine = &db->session();
  CHECK(&db->session() == mine);
  db->session.add(Account("alice"));
  db->session.commit();

  alchemy::Session* theirs = nullptr;
  bool stable = false;
  std::int64_t seen = -1;
  std::size_t their_size = 99;
  std::thread t([&] {
    theirs = &db->session();
    stable = &db->session() == theirs;
    their_size = db->session().size();
    seen = suite::Account::query().count();  // Model::query() uses the calling thread's session
    db->session.remove();
  });
  t.join();
  CHECK(theirs != nullptr);
  CHECK(theirs != mine);
  CHECK(stable);
  CHECK(their_size == 0);  // alice is in this thread's session only
  CHECK(seen == 1);
  CHECK(&db->session() == mine);
  CHECK(db->session().size() == 1);
  db->session.remove();
}

TEST_CASE("db.session.remove() closes the thread's session and the next use gets a fresh one",
          "[suite][session]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  seed(*db);
  auto bob = db->session.get<Account>(2);
  auto pending = db->session.add(Account("dave"));
  bob->secret_key = "unflushed";
  db->session.remove();
  CHECK(inspect_state(*bob) == ObjectState::detached);
  CHECK(inspect_state(*pending) == ObjectState::transient);

  CHECK(db->session().size() == 0);
  rec.clear();
  auto bob2 = db->session.get<Account>(2);
  REQUIRE(bob2);
  CHECK(bob2 != bob);
  CHECK(bob2->secret_key == "k2");
  CHECK(rec.sql() == Strings{select_by_id()});
  CHECK(stored_handles(*db) == Strings{"alice", "bob", "carol"});
  db->session.remove();
  db->session.remove();  // twice is harmless
}

TEST_CASE("db.session can be used and removed from several threads at once", "[suite][session]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  seed(*db);
  db->session.remove();
  std::atomic<int> wrong{0};
  std::mutex error_mutex;
  std::string first_error;  // Catch2's macros are for the main thread only
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        try {
          auto a = db->session.get<Account>(1);
          if (!a || a->handle != "alice" || db->session().size() != 1) ++wrong;
          db->session.remove();  // each removal changes what every thread's cache checks
        } catch (const std::exception& e) {
          std::lock_guard lock(error_mutex);
          if (first_error.empty()) first_error = e.what();
          ++wrong;
        }
      }
    });
  for (auto& t : threads) t.join();
  INFO(first_error);
  CHECK(wrong == 0);
}

}  // namespace suite_session
