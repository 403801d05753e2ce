// SPDX-License-Identifier: MIT
// Test support shared by the behaviour suite: which backend this run targets, a fresh database
// per test, and a recorder of the SQL an operation sends.
//
// The suite binary runs once per backend; ctest sets ALCHEMY_TEST_BACKEND to sqlite, postgresql
// or mysql. The server URLs come from ALCHEMY_TEST_POSTGRESQL_URL and ALCHEMY_TEST_MYSQL_URL.
// Without a URL a server test is skipped with a warning, unless ALCHEMY_TEST_REQUIRE_SERVERS is
// set (as under CI), where it fails.
#ifndef ALCHEMY_TESTS_SUPPORT_HPP_
#define ALCHEMY_TESTS_SUPPORT_HPP_

#include <unistd.h>

#include <alchemy/alchemy.hpp>
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace test {

inline std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

/// "sqlite", "postgresql" or "mysql".
inline std::string backend() {
  auto b = env("ALCHEMY_TEST_BACKEND");
  return b.empty() ? "sqlite" : b;
}

/// A scratch SQLite file for this process.
inline std::string sqlite_path() {
  return "/tmp/alchemy-test-" + std::to_string(::getpid()) + ".db";
}

/// The URL of the database under test, or "" when its server is not configured.
inline std::string url() {
  const auto b = backend();
  if (b == "sqlite") return "sqlite:///" + sqlite_path();
  if (b == "postgresql") return env("ALCHEMY_TEST_POSTGRESQL_URL");
  if (b == "mysql") return env("ALCHEMY_TEST_MYSQL_URL");
  FAIL("unknown ALCHEMY_TEST_BACKEND '" << b << "'");
  return "";
}

/// Whether the backend can be tested; fails the test when a required server is not configured.
inline bool available() {
  if (!url().empty()) return true;
  if (!env("ALCHEMY_TEST_REQUIRE_SERVERS").empty())
    FAIL("ALCHEMY_TEST_" << (backend() == "mysql" ? "MYSQL" : "POSTGRESQL")
                         << "_URL is not set, and ALCHEMY_TEST_REQUIRE_SERVERS requires it");
  WARN("skipped: no " << backend() << " server configured");
  return false;
}

/// Collects the SQL statements an engine sends (echo on, into memory).
struct Recorder {
  std::vector<std::string> lines;
  /// Statements only (BEGIN/COMMIT/ROLLBACK included, parameter lines left out).
  std::vector<std::string> statements() const {
    std::vector<std::string> out;
    for (const auto& l : lines)
      if (l.rfind("[", 0) != 0) out.push_back(l);
    return out;
  }
  /// Statements other than BEGIN / COMMIT / ROLLBACK.
  std::vector<std::string> sql() const {
    std::vector<std::string> out;
    for (const auto& s : statements())
      if (s != "BEGIN (implicit)" && s != "COMMIT" && s != "ROLLBACK") out.push_back(s);
    return out;
  }
  void clear() { lines.clear(); }
};

/// A SQLAlchemy object on the backend under test with fresh tables for the given models.
/// Returns null (after WARN) when the backend is not configured; see available().
template <class... Models>
std::unique_ptr<alchemy::SQLAlchemy> fresh_db(Recorder* recorder = nullptr, alchemy::Config config = {}) {
  if (!available()) return nullptr;
  if (backend() == "sqlite") std::remove(sqlite_path().c_str());
  config.SQLALCHEMY_DATABASE_URI = url();
  if (recorder) {
    config.SQLALCHEMY_ENGINE_OPTIONS.echo = true;
    config.SQLALCHEMY_ENGINE_OPTIONS.log = [recorder](std::string_view line) {
      recorder->lines.emplace_back(line);
    };
  }
  auto db = std::make_unique<alchemy::SQLAlchemy>(std::move(config));
  db->drop_all<Models...>();
  db->create_all<Models...>();
  if (recorder) recorder->clear();
  return db;
}

}  // namespace test

/// Opens a fresh database for `Models...` into `db`, or ends the test when the backend is not
/// configured (a failure under CI).
#define ALCHEMY_FRESH_DB(db, ...)                          \
  auto db = ::test::fresh_db<__VA_ARGS__>();               \
  if (!db) return

#endif  // ALCHEMY_TESTS_SUPPORT_HPP_
