// SPDX-License-Identifier: MIT
// Savepoints and transaction guards: begin_nested() as SAVEPOINT / ROLLBACK TO SAVEPOINT /
// RELEASE SAVEPOINT, the objects restored to their state at the savepoint, a failed flush inside
// a savepoint leaving the outer transaction committable (PostgreSQL included), nesting, and the
// begin() guard that rolls back when destroyed.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "suite/models.hpp"
#include "suite/session_models.hpp"
#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_savepoints {

using alchemy::ObjectState;
using alchemy::inspect_state;
using suite::Account;
using suite::session::stored_accounts;
using suite::session::stored_handles;
using Strings = std::vector<std::string>;

namespace {

/// The statements recorded, with every INSERT / UPDATE / DELETE shortened to its first two
/// words and table ("INSERT accounts"), so that one list holds on every backend.
Strings shape(const test::Recorder& rec) {
  Strings out;
  for (const auto& s : rec.statements()) {
    if (s.rfind("INSERT INTO accounts", 0) == 0) out.push_back("INSERT accounts");
    else if (s.rfind("UPDATE accounts", 0) == 0) out.push_back("UPDATE accounts");
    else if (s.rfind("DELETE FROM accounts", 0) == 0) out.push_back("DELETE accounts");
    else if (s.rfind("SELECT", 0) == 0) out.push_back("SELECT");
    else out.push_back(s);
  }
  return out;
}

/// Three committed accounts, a/b/c with secret keys "a0"/"b0"/"c0", through `s`.
std::vector<std::shared_ptr<Account>> seed(alchemy::Session& s) {
  auto a = s.add(Account("a", "a0"));
  auto b = s.add(Account("b", "b0"));
  auto c = s.add(Account("c", "c0"));
  s.commit();
  return {a, b, c};
}

}  // namespace

static_assert(std::is_nothrow_destructible_v<alchemy::SessionTransaction>);
static_assert(!std::is_copy_constructible_v<alchemy::SessionTransaction>);

TEST_CASE("a failed INSERT inside begin_nested rolls back to the savepoint and the outer transaction commits",
          "[suite][savepoint]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());

  auto alice = s.add(Account("alice"));
  std::shared_ptr<Account> dup;
  {
    auto sp = s.begin_nested();  // flushes alice first
    CHECK(sp.is_active());
    CHECK(sp.nested());
    dup = s.add(Account("alice"));
    CHECK_THROWS_AS(sp.commit(), alchemy::IntegrityError);
    CHECK_FALSE(sp.is_active());
  }
  // The session is usable: no PendingRollbackError, and the failed object left it.
  CHECK(inspect_state(*dup) == ObjectState::transient);
  CHECK(dup->id == 0);
  CHECK(inspect_state(*alice) == ObjectState::persistent);
  auto bob = s.add(Account("bob"));
  s.commit();

  CHECK(shape(rec) == Strings{"BEGIN (implicit)", "INSERT accounts", "SAVEPOINT sa_savepoint_1", "INSERT accounts",
                              "ROLLBACK TO SAVEPOINT sa_savepoint_1", "INSERT accounts", "COMMIT"});
  CHECK(stored_handles(*db) == Strings{"alice", "bob"});
  CHECK(bob->id > alice->id);
}

TEST_CASE("a failed flush inside begin_nested leaves the transaction usable on every backend, PostgreSQL included",
          "[suite][savepoint]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  s.add(Account("alice"));
  s.flush();
  for (int i = 0; i < 3; ++i) {  // try a duplicate three times, each in its own savepoint
    auto sp = s.begin_nested();
    s.add(Account("alice"));
    CHECK_THROWS_AS(s.flush(), alchemy::IntegrityError);
    CHECK_FALSE(sp.is_active());
    CHECK_THROWS_AS(sp.commit(), alchemy::InvalidRequestError);  // already rolled back
  }
  // The next statements run in the same transaction: on PostgreSQL this is what fails with
  // 25P02 (current transaction is aborted) without a savepoint.
  CHECK(s.query<Account>().count() == 1);
  s.add(Account("carol"));
  s.commit();
  CHECK(stored_handles(*db) == Strings{"alice", "carol"});
}

TEST_CASE("rolling back a savepoint restores objects added, deleted and edited since it", "[suite][savepoint]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  auto objs = seed(s);
  auto a = objs[0], b = objs[1], c = objs[2];
  const auto b_id = b->id;

  a->secret_key = "outer";  // before the savepoint: flushed by begin_nested, kept
  auto sp = s.begin_nested();
  a->secret_key = "inner";
  s.delete_(b);
  auto d = s.add(Account("d"));
  s.flush();
  CHECK(d->id != 0);
  CHECK(inspect_state(*b) == ObjectState::deleted);
  c->secret_key = "never flushed";
  rec.clear();
  sp.rollback();

  CHECK(shape(rec) == Strings{"ROLLBACK TO SAVEPOINT sa_savepoint_1"});
  CHECK(a->secret_key == "outer");
  CHECK(c->secret_key == "c0");
  CHECK(inspect_state(*b) == ObjectState::persistent);
  CHECK(inspect_state(*d) == ObjectState::transient);
  CHECK(d->id == 0);
  CHECK_FALSE(s.is_modified(*a));
  rec.clear();
  CHECK(s.get<Account>(b_id) == b);  // back in the identity map: no SQL
  CHECK(rec.statements().empty());

  s.commit();
  CHECK(stored_accounts(*db) == std::vector<std::pair<std::string, std::optional<std::string>>>{
                                    {"a", "outer"}, {"b", "b0"}, {"c", "c0"}});
}

TEST_CASE("a savepoint guard destroyed without commit rolls back to the savepoint", "[suite][savepoint]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  auto a = s.add(Account("a"));
  std::shared_ptr<Account> x;
  {
    auto sp = s.begin_nested();
    x = s.add(Account("x"));
    s.flush();
  }
  CHECK(inspect_state(*x) == ObjectState::transient);
  CHECK(inspect_state(*a) == ObjectState::persistent);
  s.commit();
  CHECK(shape(rec) == Strings{"BEGIN (implicit)", "INSERT accounts", "SAVEPOINT sa_savepoint_1", "INSERT accounts",
                              "ROLLBACK TO SAVEPOINT sa_savepoint_1", "COMMIT"});
  CHECK(stored_handles(*db) == Strings{"a"});
}

TEST_CASE("committing a savepoint releases it and keeps its objects for the outer commit", "[suite][savepoint]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  auto sp = s.begin_nested();  // no pending work: begins the transaction, then SAVEPOINT
  auto x = s.add(Account("x"));
  sp.commit();
  CHECK_FALSE(sp.is_active());
  CHECK(inspect_state(*x) == ObjectState::persistent);
  CHECK(shape(rec) == Strings{"BEGIN (implicit)", "SAVEPOINT sa_savepoint_1", "INSERT accounts",
                              "RELEASE SAVEPOINT sa_savepoint_1"});
  CHECK(stored_handles(*db).empty());  // not committed yet: another session does not see it
  rec.clear();
  s.commit();
  CHECK(shape(rec) == Strings{"COMMIT"});
  CHECK(stored_handles(*db) == Strings{"x"});
}

TEST_CASE("savepoints nest two levels deep", "[suite][savepoint]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  auto objs = seed(s);
  auto a = objs[0];

  SECTION("inner rolled back, outer released") {
    auto b1 = s.add(Account("level1"));
    auto sp1 = s.begin_nested();
    auto b2 = s.add(Account("level2"));
    auto sp2 = s.begin_nested();
    auto b3 = s.add(Account("level3"));
    a->secret_key = "in level 2";
    s.flush();
    rec.clear();
    sp2.rollback();
    CHECK(inspect_state(*b3) == ObjectState::transient);
    CHECK(a->secret_key == "a0");
    CHECK(inspect_state(*b2) == ObjectState::persistent);
    sp1.commit();
    s.commit();
    CHECK(shape(rec) == Strings{"ROLLBACK TO SAVEPOINT sa_savepoint_2", "RELEASE SAVEPOINT sa_savepoint_1", "COMMIT"});
    CHECK(stored_handles(*db) == Strings{"a", "b", "c", "level1", "level2"});
  }
  SECTION("inner released, outer rolled back: both levels are undone") {
    auto sp1 = s.begin_nested();
    a->secret_key = "in level 1";
    auto sp2 = s.begin_nested();  // flushes the UPDATE
    a->secret_key = "in level 2";
    auto b3 = s.add(Account("level2"));
    sp2.commit();
    CHECK(a->secret_key == "in level 2");
    sp1.rollback();
    CHECK(a->secret_key == "a0");
    CHECK(inspect_state(*b3) == ObjectState::transient);
    s.commit();
    CHECK(stored_accounts(*db)[0] == std::pair<std::string, std::optional<std::string>>{"a", "a0"});
    CHECK(stored_handles(*db) == Strings{"a", "b", "c"});
  }
  SECTION("rolling back the outer one while the inner is open undoes both") {
    auto sp1 = s.begin_nested();
    auto x = s.add(Account("x"));
    auto sp2 = s.begin_nested();
    auto y = s.add(Account("y"));
    s.flush();
    rec.clear();
    sp1.rollback();
    CHECK_FALSE(sp2.is_active());
    CHECK(inspect_state(*x) == ObjectState::transient);
    CHECK(inspect_state(*y) == ObjectState::transient);
    CHECK_THROWS_AS(sp2.commit(), alchemy::InvalidRequestError);
    s.commit();
    CHECK(shape(rec) == Strings{"ROLLBACK TO SAVEPOINT sa_savepoint_1", "COMMIT"});
    CHECK(stored_handles(*db) == Strings{"a", "b", "c"});
  }
  SECTION("a failed INSERT two levels deep leaves level one and the transaction usable") {
    auto sp1 = s.begin_nested();
    auto ok = s.add(Account("ok"));
    auto sp2 = s.begin_nested();
    s.add(Account("a"));  // duplicate handle
    CHECK_THROWS_AS(sp2.commit(), alchemy::IntegrityError);
    CHECK(sp1.is_active());
    CHECK(inspect_state(*ok) == ObjectState::persistent);
    sp1.commit();
    s.commit();
    CHECK(stored_handles(*db) == Strings{"a", "b", "c", "ok"});
  }
}

TEST_CASE("session.commit() inside a savepoint commits everything and ends the guard", "[suite][savepoint]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  {
    auto sp = s.begin_nested();
    s.add(Account("x"));
    s.commit();
    CHECK_FALSE(sp.is_active());
  }  // the guard's destructor sends nothing
  CHECK(shape(rec) == Strings{"BEGIN (implicit)", "SAVEPOINT sa_savepoint_1", "INSERT accounts", "COMMIT"});
  CHECK(stored_handles(*db) == Strings{"x"});
}

TEST_CASE("the begin() guard commits, or rolls back when destroyed", "[suite][savepoint][transaction]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());

  SECTION("commit") {
    auto tx = s.begin();
    CHECK(tx.is_active());
    CHECK_FALSE(tx.nested());
    auto a = s.add(Account("a"));
    tx.commit();
    CHECK_FALSE(tx.is_active());
    CHECK(shape(rec) == Strings{"BEGIN (implicit)", "INSERT accounts", "COMMIT"});
    CHECK(stored_handles(*db) == Strings{"a"});
  }
  SECTION("destroyed without commit") {
    std::shared_ptr<Account> a;
    {
      auto tx = s.begin();
      a = s.add(Account("a"));
      s.flush();
    }
    CHECK(inspect_state(*a) == ObjectState::transient);
    CHECK(shape(rec) == Strings{"BEGIN (implicit)", "INSERT accounts", "ROLLBACK"});
    CHECK(stored_handles(*db).empty());
  }
  SECTION("a failed flush: the destructor's rollback makes the session usable again") {
    s.add(Account("a"));
    s.commit();
    {
      auto tx = s.begin();
      s.add(Account("a"));
      CHECK_THROWS_AS(s.flush(), alchemy::IntegrityError);
      CHECK_THROWS_AS(s.query<Account>().count(), alchemy::PendingRollbackError);
    }
    CHECK(s.query<Account>().count() == 1);
  }
  SECTION("moved guards roll back once") {
    std::shared_ptr<Account> a;
    {
      auto tx = s.begin();
      a = s.add(Account("a"));
      s.flush();
      auto moved = std::move(tx);
      CHECK(moved.is_active());
      CHECK_FALSE(tx.is_active());  // NOLINT(bugprone-use-after-move): the moved-from guard is inert
    }
    CHECK(inspect_state(*a) == ObjectState::transient);
    CHECK(shape(rec) == Strings{"BEGIN (implicit)", "INSERT accounts", "ROLLBACK"});
  }
  SECTION("begin() refuses while a transaction is open, and a guard of an ended transaction") {
    (void)s.query<Account>().count();  // autobegin
    CHECK_THROWS_AS((void)s.begin(), alchemy::InvalidRequestError);
    s.commit();
    auto tx = s.begin();
    s.rollback();
    CHECK_FALSE(tx.is_active());
    CHECK_THROWS_AS(tx.commit(), alchemy::InvalidRequestError);
  }
}

TEST_CASE("db.session forwards begin() and begin_nested() to the thread's session", "[suite][savepoint]") {
  auto db = test::fresh_db<Account>();
  if (!db) return;
  {
    auto tx = db->session.begin();
    db->session.add(Account("kept"));
    {
      auto sp = db->session.begin_nested();
      db->session.add(Account("kept"));  // duplicate
      CHECK_THROWS_AS(sp.commit(), alchemy::IntegrityError);
    }
    tx.commit();
  }
  CHECK(stored_handles(*db) == Strings{"kept"});
}

namespace savepoint_binds {

struct Person : alchemy::Model<Person> {
  ALCHEMY_TABLENAME("sp_people");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(40));
  Person() = default;
  explicit Person(std::string n) : name(std::move(n)) {}
};

struct Audit : alchemy::Model<Audit> {
  ALCHEMY_TABLENAME("sp_audit");
  ALCHEMY_BIND_KEY("aux");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, what, alchemy::String(80));
  Audit() = default;
  explicit Audit(std::string w) : what(std::move(w)) {}
};

}  // namespace savepoint_binds

TEST_CASE("a savepoint spans every engine of the session, including one that joins inside it",
          "[suite][savepoint][binds]") {
  using savepoint_binds::Audit;
  using savepoint_binds::Person;
  const std::string aux = "/tmp/alchemy-test-" + std::to_string(::getpid()) + "-spaux.db";
  std::remove(aux.c_str());
  alchemy::Config config;
  config.SQLALCHEMY_BINDS = {{"aux", "sqlite:///" + aux}};
  test::Recorder rec;
  auto db = test::fresh_db<Person, Audit>(&rec, std::move(config));
  if (!db) return;
  auto& s = db->session();

  auto kept = s.add(Person("kept"));
  auto sp = s.begin_nested();            // the default engine: INSERT, SAVEPOINT
  auto lost = s.add(Audit("lost"));
  s.flush();                             // the aux engine begins here and gets the savepoint too
  const auto savepoints = [&](const std::string& sql) {
    const auto all = rec.statements();
    return std::count(all.begin(), all.end(), sql);
  };
  // The recorder hears the default engine only (echo is an option of the default bind). The aux
  // connection's savepoint shows in the outcome: without it, ROLLBACK TO SAVEPOINT fails there,
  // the whole transaction is rolled back, and "kept" is lost too.
  CHECK(savepoints("SAVEPOINT sa_savepoint_1") == 1);
  CHECK_NOTHROW(sp.rollback());
  CHECK(savepoints("ROLLBACK TO SAVEPOINT sa_savepoint_1") == 1);
  CHECK(inspect_state(*lost) == ObjectState::transient);
  s.add(Audit("written"));
  s.commit();
  CHECK(s.query<Person>().count() == 1);  // after the commit: what the databases hold
  CHECK(s.query<Audit>().count() == 1);
  CHECK(kept->id != 0);
  db->session.remove();
  db->drop_all<Person, Audit>();
  std::remove(aux.c_str());
}

}  // namespace suite_savepoints
