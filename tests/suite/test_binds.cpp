// SPDX-License-Identifier: MIT
// SQLALCHEMY_BINDS: a model declared with ALCHEMY_BIND_KEY lives in another database. Here the
// default bind is the backend under test and the "aux" bind a SQLite file, so every backend run
// also checks that one session spans two engines (and two dialects on the server runs).
#include <unistd.h>

#include <cstdio>
#include <string>

#include "../sql_helpers.hpp"
#include "../support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_binds {

namespace binds_test {

struct Person : alchemy::Model<Person> {
  ALCHEMY_TABLENAME("bind_people");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(40));
  Person() = default;
  explicit Person(std::string n) : name(std::move(n)) {}
};

struct AuditEntry : alchemy::Model<AuditEntry> {
  ALCHEMY_TABLENAME("bind_audit");
  ALCHEMY_BIND_KEY("aux");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, what, alchemy::String(80));
  AuditEntry() = default;
  explicit AuditEntry(std::string w) : what(std::move(w)) {}
};

std::string aux_path() { return "/tmp/alchemy-test-" + std::to_string(::getpid()) + "-aux.db"; }

std::unique_ptr<alchemy::SQLAlchemy> two_binds(test::Recorder* recorder = nullptr) {
  std::remove(aux_path().c_str());
  alchemy::Config config;
  config.SQLALCHEMY_BINDS = {{"aux", "sqlite:///" + aux_path()}};
  auto db = test::fresh_db<Person, AuditEntry>(recorder, std::move(config));
  return db;
}

/// Whether `table` exists in `engine`'s database (a connection of its own).
bool has_table(alchemy::Engine& engine, const std::string& table) {
  auto conn = engine.connect();
  return conn.has_table(table);
}

/// COUNT(*) of `table` through a connection of its own, so only committed rows count.
int64_t committed_rows(alchemy::Engine& engine, const std::string& table) {
  auto conn = engine.connect();
  return test::scalar(conn, "SELECT COUNT(*) FROM " + table);
}

}  // namespace binds_test

using namespace binds_test;

TEST_CASE("create_all puts each model's table in its bind's database only", "[suite][binds]") {
  auto db = two_binds();
  if (!db) return;
  CHECK(has_table(db->engine(), "bind_people"));
  CHECK_FALSE(has_table(db->engine(), "bind_audit"));
  CHECK(has_table(db->engine("aux"), "bind_audit"));
  CHECK_FALSE(has_table(db->engine("aux"), "bind_people"));
  CHECK(db->engine("aux").url().render() == "sqlite:///" + aux_path());
  CHECK(&db->engine("") == &db->engine());
  db->drop_all<Person, AuditEntry>();
  CHECK_FALSE(has_table(db->engine("aux"), "bind_audit"));
  CHECK_FALSE(has_table(db->engine(), "bind_people"));
}

TEST_CASE("one session writes and reads each model through its own bind", "[suite][binds]") {
  auto db = two_binds();
  if (!db) return;
  auto ada = db->session.add(Person("ada"));
  auto entry = db->session.add(AuditEntry("created ada"));
  db->session.commit();
  CHECK(ada->id == 1);
  CHECK(entry->id == 1);
  CHECK(committed_rows(db->engine(), "bind_people") == 1);
  CHECK(committed_rows(db->engine("aux"), "bind_audit") == 1);

  db->session.remove();
  auto people = db->session.query<Person>().all();
  auto audit = db->session.query<AuditEntry>().filter(AuditEntry::what_.like("created%")).all();
  REQUIRE(people.size() == 1);
  REQUIRE(audit.size() == 1);
  CHECK(people[0]->name == "ada");
  CHECK(audit[0]->what == "created ada");
  CHECK(db->session.get<AuditEntry>(1) == audit[0]);  // the identity map spans both binds
}

TEST_CASE("rollback() undoes the work on every bind of the session", "[suite][binds]") {
  auto db = two_binds();
  if (!db) return;
  db->session.add(Person("ada"));
  db->session.add(AuditEntry("created ada"));
  db->session.flush();  // both INSERTs sent, each in its own transaction
  db->session.rollback();
  CHECK(committed_rows(db->engine(), "bind_people") == 0);
  CHECK(committed_rows(db->engine("aux"), "bind_audit") == 0);
  CHECK(db->session.query<Person>().count() == 0);
  CHECK(db->session.query<AuditEntry>().count() == 0);
}

TEST_CASE("a bind key missing from SQLALCHEMY_BINDS is an InvalidRequestError naming it", "[suite][binds]") {
  auto db = test::fresh_db<Person>();
  if (!db) return;
  CHECK_THROWS_AS(db->engine("aux"), alchemy::InvalidRequestError);
  CHECK_THROWS_WITH(db->create_all<AuditEntry>(), Catch::Contains("'aux'"));
  db->session.add(AuditEntry("nowhere to go"));
  CHECK_THROWS_AS(db->session.commit(), alchemy::InvalidRequestError);
  db->session.rollback();
  // The default bind is untouched and still works.
  db->session.add(Person("ada"));
  CHECK_NOTHROW(db->session.commit());
  CHECK(committed_rows(db->engine(), "bind_people") == 1);
}

}  // namespace suite_binds
