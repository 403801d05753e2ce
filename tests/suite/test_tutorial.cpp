// SPDX-License-Identifier: MIT
// The seed tutorial, step by step, with the SQL each step sends.
#include "support.hpp"
#include "suite/models.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_tutorial {

using suite::Account;

TEST_CASE("the tutorial sequence stores, finds, updates and deletes an account", "[suite][tutorial]") {
  test::Recorder rec;
  auto db = test::fresh_db<Account>(&rec);
  if (!db) return;
  const auto dialect = std::string(db->engine().dialect().name());
  const std::string p1 = dialect == "postgresql" ? "$1" : "?";
  const std::string p2 = dialect == "postgresql" ? "$2" : "?";

  auto user = db->session.add(Account("jdoe", "s3cr3t"));
  CHECK(alchemy::inspect_state(*user) == alchemy::ObjectState::pending);
  CHECK(user->id == 0);
  db->session.commit();
  CHECK(user->id == 1);
  CHECK(alchemy::inspect_state(*user) == alchemy::ObjectState::persistent);
  CHECK(rec.statements() == std::vector<std::string>{
                                "BEGIN (implicit)",
                                dialect == "postgresql"
                                    ? "INSERT INTO accounts (handle, secret_key) VALUES ($1, $2) RETURNING accounts.id"
                                    : "INSERT INTO accounts (handle, secret_key) VALUES (?, ?)",
                                "COMMIT"});

  rec.clear();
  auto same = Account::query().get(1);
  CHECK(same == user);
  CHECK(rec.statements().empty());  // identity map: no SQL

  auto found = Account::query().filter_by("handle", "jdoe").first();
  CHECK(found == user);
  CHECK(Account::query().filter(Account::handle_.like("%doe%")).all().size() == 1);
  CHECK(Account::query().filter(or_(Account::handle_ == "alice", Account::handle_ == "bob")).all().empty());
  CHECK(Account::query().filter(and_(Account::handle_ != "admin", Account::id_ > 10)).all().empty());
  CHECK(Account::query().filter(not_(Account::handle_ == "admin")).all().size() == 1);

  rec.clear();
  found->handle = "jane_doe";
  db->session.commit();
  CHECK(rec.sql() == std::vector<std::string>{"UPDATE accounts SET handle=" + p1 + " WHERE accounts.id = " + p2});

  rec.clear();
  db->session.commit();  // nothing changed: no SQL at all
  CHECK(rec.statements().empty());

  auto target = Account::query().filter_by("handle", "jane_doe").first();
  REQUIRE(target);
  db->session.delete_(target);
  db->session.commit();
  CHECK(alchemy::inspect_state(*target) == alchemy::ObjectState::detached);
  CHECK(Account::query().count() == 0);
  db->session.remove();
}

}  // namespace suite_tutorial
