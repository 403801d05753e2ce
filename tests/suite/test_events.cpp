// SPDX-License-Identifier: MIT
// Events, validators and column defaults: mapper events (before/after insert, update, delete)
// with their objects, order and counts; session events (before_commit, after_commit,
// after_rollback); validators that reject a value before any SQL; default_ and onupdate values
// and callables, self-setting timestamps, and server_default in CREATE TABLE.
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "alchemy/sql/compiler.hpp"
#include "suite/session_models.hpp"
#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_events {

using alchemy::ObjectState;
using alchemy::inspect_state;
using Catch::Matchers::Contains;
using Strings = std::vector<std::string>;

namespace suite::events {

inline int label_calls = 0;  ///< how often Gadget's label default ran
inline int stamp_calls = 0;  ///< how often Gadget's onupdate stamp ran

struct Gadget : alchemy::Model<Gadget> {
  ALCHEMY_TABLENAME("ev_gadgets");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(50));
  ALCHEMY_COLUMN(int64_t, karma, alchemy::default_(10));
  ALCHEMY_COLUMN(std::optional<std::string>, label, alchemy::String(50),
                 alchemy::default_([] { return "label-" + std::to_string(++label_calls); }));
  ALCHEMY_COLUMN(std::string, stamp, alchemy::String(50), alchemy::default_("new"),
                 alchemy::onupdate([] { return "stamp-" + std::to_string(++stamp_calls); }));
  ALCHEMY_COLUMN(alchemy::DateTime, created_at, alchemy::default_(alchemy::utcnow));
  ALCHEMY_COLUMN(alchemy::DateTime, updated_at, alchemy::default_(alchemy::utcnow), alchemy::onupdate(alchemy::utcnow));

  Gadget() = default;
  explicit Gadget(std::string n, int64_t k = 0) : name(std::move(n)), karma(k) {}
};

/// A model whose column has only a server-side default.
struct Setting : alchemy::Model<Setting> {
  ALCHEMY_TABLENAME("ev_settings");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(50));
  ALCHEMY_COLUMN(int64_t, level, alchemy::server_default("7"));
};

/// Removes the listeners it holds when the test ends, however it ends.
struct Listeners {
  std::vector<alchemy::event::Listener> held;
  Listeners() = default;
  Listeners(const Listeners&) = delete;
  Listeners& operator=(const Listeners&) = delete;
  ~Listeners() {
    for (auto& l : held) l.remove();
  }
  void operator+=(alchemy::event::Listener l) { held.push_back(std::move(l)); }
};

/// Names of the gadgets stored, by id, through a new session.
inline Strings stored_names(alchemy::SQLAlchemy& db) {
  alchemy::Session s(db.engine_ptr());
  Strings out;
  for (const auto& g : s.query<Gadget>().order_by(Gadget::id_).all()) out.push_back(g->name);
  return out;
}

/// How many recorded statements are INSERT, UPDATE or DELETE.
inline std::size_t writes(const test::Recorder& rec) {
  std::size_t n = 0;
  for (const auto& s : rec.sql())
    if (s.rfind("INSERT", 0) == 0 || s.rfind("UPDATE", 0) == 0 || s.rfind("DELETE", 0) == 0) ++n;
  return n;
}

}  // namespace suite::events

using suite::events::Gadget;
using suite::events::Listeners;
using suite::events::Setting;
using suite::events::stored_names;
using suite::events::writes;

TEST_CASE("mapper events fire in order, with their objects, before and after the statements", "[suite][events]") {
  test::Recorder rec;
  auto db = test::fresh_db<Gadget>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  Strings log;
  Listeners l;
  const auto note = [&](const char* what) {
    return [&log, &rec, what](Gadget& g) {
      // The id shows whether the INSERT ran; writes() how many statements were sent.
      log.push_back(std::string(what) + " " + g.name + (g.id ? " id" : " no-id") + " w" + std::to_string(writes(rec)));
    };
  };
  using namespace alchemy::event;
  l += listen<Gadget>(before_insert, note("before_insert"));
  l += listen<Gadget>(after_insert, note("after_insert"));
  l += listen<Gadget>(before_update, note("before_update"));
  l += listen<Gadget>(after_update, note("after_update"));
  l += listen<Gadget>(before_delete, note("before_delete"));
  l += listen<Gadget>(after_delete, note("after_delete"));

  auto g1 = s.add(Gadget("g1"));
  auto g2 = s.add(Gadget("g2"));
  s.commit();
  const auto inserts = writes(rec);
  CHECK(inserts >= 1);  // one INSERT per row, or one for both where the flush batches them
  CHECK(log == Strings{"before_insert g1 no-id w0", "before_insert g2 no-id w0",
                       "after_insert g1 id w" + std::to_string(inserts),
                       "after_insert g2 id w" + std::to_string(inserts)});

  log.clear();
  rec.clear();
  g1->name = "g1b";  // g2 unchanged: no events for it
  s.commit();
  CHECK(log == Strings{"before_update g1b id w0", "after_update g1b id w1"});

  log.clear();
  rec.clear();
  s.delete_(g2);
  s.commit();
  CHECK(log == Strings{"before_delete g2 id w0", "after_delete g2 id w1"});

  log.clear();
  rec.clear();
  s.commit();  // nothing to flush: no events
  CHECK(log.empty());
  CHECK(stored_names(*db) == Strings{"g1b"});
}

TEST_CASE("what before_insert and before_update change is written", "[suite][events]") {
  test::Recorder rec;
  auto db = test::fresh_db<Gadget>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  Listeners l;
  l += alchemy::event::listen<Gadget>(alchemy::event::before_insert, [](Gadget& g) { g.name += "!"; });
  l += alchemy::event::listen<Gadget>(alchemy::event::before_update, [](Gadget& g) { g.label = "touched"; });
  auto g = s.add(Gadget("a"));
  s.commit();
  CHECK(g->name == "a!");
  g->karma = 3;
  s.commit();
  alchemy::Session other(db->engine_ptr());
  auto stored = other.get<Gadget>(g->id);
  REQUIRE(stored);
  CHECK(stored->name == "a!");
  CHECK(stored->karma == 3);
  CHECK(stored->label == "touched");
}

TEST_CASE("an exception from a before_insert listener writes nothing and leaves the session usable",
          "[suite][events]") {
  test::Recorder rec;
  auto db = test::fresh_db<Gadget>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  Listeners l;
  l += alchemy::event::listen<Gadget>(alchemy::event::before_insert, [](Gadget& g) {
    if (g.name == "bad") throw std::runtime_error("refused by the listener");
  });
  auto good = s.add(Gadget("good"));
  auto bad = s.add(Gadget("bad"));
  CHECK_THROWS_WITH(s.commit(), "refused by the listener");
  CHECK(writes(rec) == 0);
  CHECK(inspect_state(*bad) == ObjectState::pending);
  s.expunge(bad);
  s.commit();
  CHECK(stored_names(*db) == Strings{"good"});
}

TEST_CASE("a removed listener is not called again", "[suite][events]") {
  auto db = test::fresh_db<Gadget>();
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  int calls = 0;
  auto l = alchemy::event::listen<Gadget>(alchemy::event::after_insert, [&](Gadget&) { ++calls; });
  s.add(Gadget("a"));
  s.commit();
  alchemy::event::remove(l);
  l.remove();  // a second remove does nothing
  s.add(Gadget("b"));
  s.commit();
  CHECK(calls == 1);
}

TEST_CASE("session events: before_commit, after_commit and after_rollback", "[suite][events]") {
  test::Recorder rec;
  auto db = test::fresh_db<::suite::Account>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  Strings log;
  const auto note = [&](const char* what) {
    return [&log, &rec, what](alchemy::Session&) {
      log.push_back(std::string(what) + " after " + std::to_string(rec.statements().size()) + " statements");
    };
  };
  alchemy::event::listen(s, alchemy::event::before_commit, note("before_commit"));
  alchemy::event::listen(s, alchemy::event::after_commit, note("after_commit"));
  alchemy::event::listen(s, alchemy::event::after_rollback, note("after_rollback"));

  s.add(::suite::Account("a"));
  s.commit();  // BEGIN, INSERT, COMMIT
  CHECK(rec.statements().size() == 3);
  CHECK(log == Strings{"before_commit after 0 statements", "after_commit after 3 statements"});

  log.clear();
  rec.clear();
  s.rollback();  // no transaction open: nothing rolled back, no event
  CHECK(log.empty());
  (void)s.query<::suite::Account>().count();
  s.rollback();
  CHECK(log == Strings{"after_rollback after 3 statements"});  // BEGIN, SELECT, ROLLBACK

  log.clear();
  rec.clear();
  s.add(::suite::Account("a"));  // a duplicate: the failed flush rolls back at once
  CHECK_THROWS_AS(s.commit(), alchemy::IntegrityError);
  CHECK(log.size() == 2);
  CHECK(log[0] == "before_commit after 0 statements");
  CHECK_THAT(log[1], Contains("after_rollback"));
  s.rollback();  // the transaction is already gone: no second event
  CHECK(log.size() == 2);
}

TEST_CASE("a validator rejects a bad value at add() and at flush, and nothing is written", "[suite][events]") {
  test::Recorder rec;
  auto db = test::fresh_db<Gadget>(&rec);
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  int calls = 0;
  Listeners l;
  l += alchemy::validates(
      Gadget::name_,
      [&](const std::string& v) {
        ++calls;
        return !v.empty() && v.size() <= 10;
      },
      "must be 1 to 10 characters");

  SECTION("at add()") {
    try {
      s.add(Gadget(""));
      FAIL("add() accepted an empty name");
    } catch (const alchemy::ValidationError& e) {
      CHECK(e.model() == "Gadget");
      CHECK(e.column() == "name");
      CHECK(e.value() == "");
      CHECK(std::string(e.what()) == "Gadget.name: must be 1 to 10 characters");
    }
    CHECK(s.size() == 0);
    CHECK_THROWS_AS(s.add(alchemy::make<Gadget>("far too long a name")), alchemy::ValidationError);
    CHECK_THROWS_AS(s.add_all(std::vector<Gadget>{Gadget("ok"), Gadget("")}), alchemy::ValidationError);
    s.commit();  // "ok" was added before the bad one
    CHECK(stored_names(*db) == Strings{"ok"});
  }
  SECTION("at flush, for a changed column") {
    auto g = s.add(Gadget("fine"));
    s.commit();
    rec.clear();
    g->name = "";
    try {
      s.commit();
      FAIL("commit() wrote an empty name");
    } catch (const alchemy::ValidationError& e) {
      CHECK(e.column() == "name");
    }
    CHECK(writes(rec) == 0);
    g->name = "mended";
    s.commit();
    CHECK(stored_names(*db) == Strings{"mended"});
    // A change to another column does not run the name validator.
    const int before = calls;
    g->karma = 99;
    s.commit();
    CHECK(calls == before);
  }
}

TEST_CASE("default_ and onupdate fill in values and callables at INSERT and UPDATE", "[suite][defaults]") {
  auto db = test::fresh_db<Gadget>();
  if (!db) return;
  alchemy::Session s(db->engine_ptr());
  const auto t0 = alchemy::utcnow();
  auto plain = s.add(Gadget("plain"));
  auto chosen = s.add(Gadget("chosen", 5));
  CHECK(plain->karma == 0);  // as SQLAlchemy: the default is applied by the flush
  CHECK(plain->label == std::nullopt);
  const int labels = suite::events::label_calls;
  s.commit();
  const auto t1 = alchemy::utcnow();

  CHECK(plain->karma == 10);
  CHECK(chosen->karma == 5);  // a value was given: the default does not apply
  CHECK(suite::events::label_calls == labels + 2);
  CHECK(plain->label == "label-" + std::to_string(labels + 1));
  CHECK(chosen->label == "label-" + std::to_string(labels + 2));
  CHECK(plain->stamp == "new");
  CHECK(plain->created_at >= t0);
  CHECK(plain->created_at <= t1);
  CHECK(plain->updated_at >= t0);

  // An UPDATE of other columns sets the onupdate columns; an explicit value wins.
  const int stamps = suite::events::stamp_calls;
  const auto created = plain->created_at;
  plain->karma = 11;
  chosen->karma = 6;
  chosen->stamp = "mine";
  s.commit();
  CHECK(plain->stamp == "stamp-" + std::to_string(stamps + 1));
  CHECK(chosen->stamp == "mine");
  CHECK(suite::events::stamp_calls == stamps + 1);
  CHECK(plain->created_at == created);
  CHECK(plain->updated_at >= t1);

  alchemy::Session other(db->engine_ptr());
  auto stored = other.query<Gadget>().order_by(Gadget::id_).all();
  REQUIRE(stored.size() == 2);
  CHECK(stored[0]->karma == 11);
  CHECK(stored[0]->stamp == plain->stamp);
  CHECK(stored[0]->label == plain->label);
  CHECK(stored[1]->stamp == "mine");
  // The timestamps round-trip (DATETIME(6) / TIMESTAMP keep microseconds).
  CHECK(stored[0]->created_at == plain->created_at);
  CHECK(stored[0]->updated_at == plain->updated_at);

  // No change, no UPDATE, no onupdate.
  s.commit();
  CHECK(suite::events::stamp_calls == stamps + 1);
}

TEST_CASE("server_default is in CREATE TABLE and fills a column an INSERT leaves out", "[suite][defaults]") {
  auto db = test::fresh_db<Setting>();
  if (!db) return;
  const auto ddl = db->engine().dialect().compiler().create_table(Setting::mapper().table());
  CHECK_THAT(ddl, Contains("DEFAULT 7"));
  {
    auto conn = db->engine().connect();
    conn.begin();
    conn.execute("INSERT INTO ev_settings (name) VALUES ('raw')");
    conn.commit();
  }
  alchemy::Session s(db->engine_ptr());
  auto got = s.query<Setting>().filter_by("name", "raw").one();
  CHECK(got->level == 7);
}

}  // namespace suite_events
