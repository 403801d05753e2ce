// SPDX-License-Identifier: MIT
// SQLALCHEMY_TRACK_MODIFICATIONS: before_models_committed and models_committed (orm/signals.hpp).
#include <string>
#include <vector>

#include "../support.hpp"
#include "models.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_signals {

using suite::Account;

namespace {

/// What one signal delivered: "operation handle id" per change, one list per send.
struct Seen {
  std::vector<std::vector<std::string>> sends;

  alchemy::event::Listener connect(alchemy::ModelsSignal& signal) {
    return signal.connect([this](alchemy::SQLAlchemy&, const std::vector<alchemy::ModelChange>& changes) {
      std::vector<std::string> send;
      for (const auto& c : changes) {
        const auto a = c.as<Account>();
        REQUIRE(a);
        send.push_back(std::string(c.operation()) + " " + a->handle + " " + std::to_string(a->id));
      }
      sends.push_back(std::move(send));
    });
  }
};

alchemy::Config tracking(bool on = true) {
  alchemy::Config config;
  config.SQLALCHEMY_TRACK_MODIFICATIONS = on;
  return config;
}

using Sends = std::vector<std::vector<std::string>>;

}  // namespace

TEST_CASE("commit() sends before_models_committed before its flush and models_committed after", "[suite][signals]") {
  auto db = test::fresh_db<Account>(nullptr, tracking());
  if (!db) return;
  Seen before, after;
  auto l1 = before.connect(db->before_models_committed);
  auto l2 = after.connect(db->models_committed);

  db->session.add(Account("ada"));
  db->session.add(Account("bob"));
  db->session.commit();
  // Before the final flush the keys are not generated yet; after the COMMIT they are.
  CHECK(before.sends == Sends{{"insert ada 0", "insert bob 0"}});
  CHECK(after.sends == Sends{{"insert ada 1", "insert bob 2"}});

  auto ada = db->session.get<Account>(1);
  auto bob = db->session.get<Account>(2);
  ada->handle = "ada2";
  db->session.delete_(bob);
  db->session.commit();
  CHECK(after.sends.size() == 2);
  CHECK(after.sends[1] == std::vector<std::string>{"update ada2 1", "delete bob 2"});

  db->session.commit();  // nothing to write: no signal
  CHECK(before.sends.size() == 2);
  CHECK(after.sends.size() == 2);
}

TEST_CASE("each object is listed once: inserted then changed is an insert, then deleted is a delete", "[suite][signals]") {
  auto db = test::fresh_db<Account>(nullptr, tracking());
  if (!db) return;
  Seen after;
  auto l = after.connect(db->models_committed);
  auto kept = db->session.add(Account("kept"));
  auto gone = db->session.add(Account("gone"));
  db->session.flush();
  kept->handle = "kept2";       // changed after its INSERT, in the same transaction
  db->session.flush();
  db->session.delete_(gone);    // inserted, then deleted, in the same transaction
  db->session.commit();
  CHECK(after.sends == Sends{{"insert kept2 1", "delete gone 2"}});
  CHECK(db->session.query<Account>().count() == 1);
}

TEST_CASE("a rollback forgets the changes, and a receiver that throws stops the commit", "[suite][signals]") {
  auto db = test::fresh_db<Account>(nullptr, tracking());
  if (!db) return;
  Seen after;
  auto l = after.connect(db->models_committed);
  db->session.add(Account("rolled back"));
  db->session.flush();
  db->session.rollback();
  db->session.commit();
  CHECK(after.sends.empty());

  auto veto = db->before_models_committed.connect(
      [](alchemy::SQLAlchemy&, const std::vector<alchemy::ModelChange>&) { throw std::runtime_error("vetoed"); });
  db->session.add(Account("vetoed"));
  CHECK_THROWS_WITH(db->session.commit(), "vetoed");
  db->session.rollback();
  CHECK(after.sends.empty());
  CHECK(db->session.query<Account>().count() == 0);

  veto.remove();
  db->session.add(Account("allowed"));
  db->session.commit();
  // (No id here: on the servers the rolled-back inserts used up sequence values.)
  REQUIRE(after.sends.size() == 1);
  REQUIRE(after.sends[0].size() == 1);
  CHECK(after.sends[0][0].rfind("insert allowed ", 0) == 0);
  l.remove();
  db->session.add(Account("unheard"));
  db->session.commit();
  CHECK(after.sends.size() == 1);
}

TEST_CASE("without SQLALCHEMY_TRACK_MODIFICATIONS no signal is sent, and model_changes() still tells", "[suite][signals]") {
  auto db = test::fresh_db<Account>(nullptr, tracking(false));
  if (!db) return;
  Seen before, after;
  auto l1 = before.connect(db->before_models_committed);
  auto l2 = after.connect(db->models_committed);
  db->session.add(Account("ada"));
  db->session.flush();
  db->session.add(Account("bob"));
  const auto changes = db->session().model_changes();
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].operation() == "insert");
  CHECK(changes[0].repr() == "<Account 1>");
  CHECK(changes[1].kind() == alchemy::ModelChange::Kind::insert);
  db->session.commit();
  CHECK(before.sends.empty());
  CHECK(after.sends.empty());
  CHECK(db->session().model_changes().empty());
}

}  // namespace suite_signals
