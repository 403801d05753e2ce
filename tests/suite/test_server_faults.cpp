// SPDX-License-Identifier: MIT
// Real server faults on PostgreSQL (pg_terminate_backend) and MariaDB (KILL), beyond the single
// kills of test_engine.cpp: a run of commits with kills between transactions and inside one (a
// flush of inserts, updates and deletes already sent), a statement killed while it runs, and
// a kill without pool_pre_ping. In-flight work fails with OperationalError, nothing of it is
// written, later work succeeds, and every committed row is there. SQLite has no server to lose.
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>

#include "sql_helpers.hpp"
#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_server_faults {

namespace server_faults_suite {

using test::kill_connection;
using test::scalar;
using test::server_backend;
using test::server_id;

using namespace std::chrono_literals;

struct Row : alchemy::Model<Row> {
  ALCHEMY_TABLENAME("sf_rows");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key, alchemy::no_autoincrement);
  ALCHEMY_COLUMN(std::string, body, alchemy::String(40));
};

inline void add_rows(alchemy::Session& s, int64_t a, int64_t b) {
  for (int64_t i = a; i <= b; ++i) {
    Row r;
    r.id = i, r.body = "row " + std::to_string(i);
    s.add(r);
  }
}

}  // namespace server_faults_suite

using namespace server_faults_suite;

TEST_CASE("kills between and inside transactions: committed rows all there, the killed flush wrote nothing",
          "[suite][faults]") {
  alchemy::Config config;
  config.SQLALCHEMY_ENGINE_OPTIONS.pool_size = 1;  // the session always gets the pool's one connection
  config.SQLALCHEMY_ENGINE_OPTIONS.max_overflow = 0;
  config.SQLALCHEMY_ENGINE_OPTIONS.pool_timeout = std::chrono::duration<double>(0.5);
  config.SQLALCHEMY_ENGINE_OPTIONS.pool_pre_ping = true;
  auto db = test::fresh_db<Row>(nullptr, config);
  if (!db) return;
  if (!server_backend()) {
    SUCCEED("SQLite has no server to lose");
    return;
  }
  auto killer = alchemy::create_engine(test::url());
  auto& s = db->session();
  const auto pooled_id = [&] {
    auto conn = db->engine().connect();
    return server_id(conn);
  };

  add_rows(s, 1, 50);
  s.commit();
  const auto first = pooled_id();
  kill_connection(*killer, first);  // between transactions
  add_rows(s, 51, 100);
  REQUIRE_NOTHROW(s.commit());  // pre-ping replaced the dead connection
  const auto second = pooled_id();
  CHECK(second != first);
  CHECK(test::ids_in(*killer, "sf_rows") == test::id_range(1, 100));

  // Inside a transaction: inserts, updates and deletes flushed, then the connection dies.
  add_rows(s, 101, 150);
  for (int64_t i = 1; i <= 10; ++i) s.query<Row>().get(i)->body = "changed";
  for (int64_t i = 11; i <= 20; ++i) s.delete_(s.query<Row>().get(i));
  s.flush();
  kill_connection(*killer, second);
  try {
    s.commit();
    FAIL("commit succeeded on a killed connection");
  } catch (const alchemy::OperationalError& e) {
    CHECK(e.connection_invalidated());
  }
  s.rollback();
  CHECK(test::ids_in(*killer, "sf_rows") == test::id_range(1, 100));  // no insert, no delete
  s.close();
  for (int64_t i = 1; i <= 10; ++i) CHECK(s.query<Row>().get(i)->body == "row " + std::to_string(i));

  // Later work succeeds and the first two batches are intact.
  add_rows(s, 151, 200);
  REQUIRE_NOTHROW(s.commit());
  auto want = test::id_range(1, 100);
  for (auto i : test::id_range(151, 200)) want.insert(i);
  CHECK(test::ids_in(*killer, "sf_rows") == want);
  s.close();
}

TEST_CASE("a statement running when its connection is killed fails with OperationalError and its transaction is gone",
          "[suite][faults]") {
  auto db = test::fresh_db<Row>();
  if (!db) return;
  if (!server_backend()) {
    SUCCEED("SQLite has no server to lose");
    return;
  }
  auto killer = alchemy::create_engine(test::url());
  alchemy::EngineOptions opts;
  opts.pool_pre_ping = true;
  auto engine = alchemy::create_engine(test::url(), opts);
  {
    auto conn = engine->connect();
    const auto id = server_id(conn);
    conn.begin();
    conn.execute("INSERT INTO sf_rows (id, body) VALUES (1, 'in flight')");
    std::string kill_error;
    std::thread k([&] {
      std::this_thread::sleep_for(300ms);
      try {
        kill_connection(*killer, id);
      } catch (const std::exception& e) {
        kill_error = e.what();
      }
    });
    const auto start = std::chrono::steady_clock::now();
    try {
      scalar(conn, test::backend() == "postgresql" ? "SELECT 1 FROM pg_sleep(10)" : "SELECT SLEEP(10)");
      FAIL_CHECK("the killed statement returned normally");
    } catch (const alchemy::OperationalError& e) {
      INFO(e.what());
      CHECK(e.connection_invalidated());
    }
    k.join();
    CHECK(kill_error.empty());
    CHECK(std::chrono::steady_clock::now() - start < 8s);
  }
  CHECK(test::ids_in(*engine, "sf_rows").empty());
  auto conn = engine->connect();
  CHECK(scalar(conn, "SELECT 1") == 1);
}

TEST_CASE("without pool_pre_ping the first commit after a kill fails, writes nothing, and the retry succeeds",
          "[suite][faults]") {
  alchemy::Config config;
  config.SQLALCHEMY_ENGINE_OPTIONS.pool_size = 1;
  config.SQLALCHEMY_ENGINE_OPTIONS.max_overflow = 0;
  config.SQLALCHEMY_ENGINE_OPTIONS.pool_timeout = std::chrono::duration<double>(0.5);
  auto db = test::fresh_db<Row>(nullptr, config);
  if (!db) return;
  if (!server_backend()) {
    SUCCEED("SQLite has no server to lose");
    return;
  }
  auto killer = alchemy::create_engine(test::url());
  auto& s = db->session();
  add_rows(s, 1, 5);
  s.commit();
  {
    auto conn = db->engine().connect();
    kill_connection(*killer, server_id(conn));
  }
  add_rows(s, 6, 10);
  try {
    s.commit();
    FAIL("commit succeeded on a dead pooled connection");
  } catch (const alchemy::OperationalError& e) {
    CHECK(e.connection_invalidated());
  }
  CHECK(test::ids_in(*killer, "sf_rows") == test::id_range(1, 5));
  s.rollback();  // the added objects are expunged: add them again
  add_rows(s, 6, 10);
  REQUIRE_NOTHROW(s.commit());
  CHECK(test::ids_in(*killer, "sf_rows") == test::id_range(1, 10));
  s.close();
}

}  // namespace suite_server_faults
