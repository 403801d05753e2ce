// SPDX-License-Identifier: MIT
// Models and helpers of the session and error tests (test_session.cpp, test_errors.cpp).
#ifndef ALCHEMY_TESTS_SUITE_SESSION_MODELS_HPP_
#define ALCHEMY_TESTS_SUITE_SESSION_MODELS_HPP_

#include <alchemy/alchemy.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "suite/models.hpp"
#include "support.hpp"

namespace suite::session {

/// A child of suite::Account, for foreign-key violations and flush order.
struct Post : alchemy::Model<Post> {
  ALCHEMY_TABLENAME("sess_posts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, account_id, alchemy::ForeignKey("accounts.id"));
  ALCHEMY_COLUMN(std::string, title, alchemy::String(100));

  Post() = default;
  Post(int64_t account, std::string t) : account_id(account), title(std::move(t)) {}
};

/// A model whose field may be NULL, stored in a table whose column is NOT NULL (the tests
/// create the table with their own DDL): a model out of step with its schema, the one way a
/// C++ model binds NULL into a NOT NULL column.
struct Note : alchemy::Model<Note> {
  ALCHEMY_TABLENAME("sess_notes");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::optional<std::string>, body, alchemy::String(100));

  Note() = default;
  explicit Note(std::optional<std::string> b) : body(std::move(b)) {}
};

/// A model with a long text, for the snapshot tests: its values outgrow their snapshot blocks.
struct Doc : alchemy::Model<Doc> {
  ALCHEMY_TABLENAME("sess_docs");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, body, alchemy::Text);
  ALCHEMY_COLUMN(int64_t, n);

  Doc() = default;
  Doc(std::string b, int64_t v) : body(std::move(b)), n(v) {}
};

/// The placeholder of the n-th parameter (1-based) on the backend under test.
inline std::string ph(int n) { return test::backend() == "postgresql" ? "$" + std::to_string(n) : "?"; }

/// (handle, secret_key) of every account, by id, read through a new Session on the same engine:
/// what the database holds, not what the session under test believes.
inline std::vector<std::pair<std::string, std::optional<std::string>>> stored_accounts(alchemy::SQLAlchemy& db) {
  alchemy::Session s(db.engine_ptr());
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  for (const auto& a : s.query<Account>().order_by(Account::id_).all()) out.emplace_back(a->handle, a->secret_key);
  return out;
}

/// The handles of every account, by id, read through a new Session.
inline std::vector<std::string> stored_handles(alchemy::SQLAlchemy& db) {
  std::vector<std::string> out;
  for (auto& [h, s] : stored_accounts(db)) out.push_back(h);
  return out;
}

/// Rows in a model's table, counted through a new Session.
template <class T>
std::int64_t stored_count(alchemy::SQLAlchemy& db) {
  alchemy::Session s(db.engine_ptr());
  return s.query<T>().count();
}

/// Drops child tables at the end of a test, so that later tests can drop their parent
/// (PostgreSQL and MariaDB refuse to drop a table another table references).
template <class... Models>
struct DropAtExit {
  alchemy::SQLAlchemy* db;
  explicit DropAtExit(alchemy::SQLAlchemy* d) : db(d) {}
  DropAtExit(const DropAtExit&) = delete;
  DropAtExit& operator=(const DropAtExit&) = delete;
  ~DropAtExit() {
    if (!db) return;
    try {
      db->session.remove();  // its transaction would hold locks that DROP TABLE waits for
      db->drop_all<Models...>();
    } catch (const std::exception& e) {
      WARN("could not drop a test table: " << e.what());
    }
  }
};

}  // namespace suite::session

#endif  // ALCHEMY_TESTS_SUITE_SESSION_MODELS_HPP_
