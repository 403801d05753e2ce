// SPDX-License-Identifier: MIT
// 020 — The session: create, read, update and delete, the identity map, change detection, and
// the states an object goes through (transient, pending, persistent, deleted, detached). The
// SQL each step sends is echoed with "  |".
//
//   ./020-session-crud              # in-memory SQLite
//   ./020-session-crud mysql://app:secret@127.0.0.1:3306/app
#include <alchemy/alchemy.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/core.h>

struct Account : alchemy::Model<Account> {
  ALCHEMY_TABLENAME("crud_accounts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::optional<std::string>, email, alchemy::String(120));

  Account() = default;
  explicit Account(std::string h, std::optional<std::string> e = std::nullopt)
      : handle(std::move(h)), email(std::move(e)) {}
};

std::string_view state(const std::shared_ptr<Account>& a) {
  return alchemy::state_name(alchemy::inspect_state(*a));
}

int main(int argc, char** argv) {
  alchemy::Config config;
  config.SQLALCHEMY_DATABASE_URI = argc > 1 ? argv[1] : "sqlite://";
  config.SQLALCHEMY_ENGINE_OPTIONS.log = [](std::string_view line) { fmt::print("  | {}\n", line); };
  alchemy::SQLAlchemy db(config);
  db.drop_all();  // a server keeps tables between runs
  db.create_all();
  auto& echo = db.engine().logger();

  // Create: add() returns the session's object; commit() INSERTs it and fills in the key.
  auto jdoe = alchemy::make<Account>("jdoe");
  fmt::print("made: {} is {}\n", jdoe->handle, state(jdoe));
  db.session.add(jdoe);
  fmt::print("added: {} is {}, id {}\n", jdoe->handle, state(jdoe), jdoe->id);
  echo.set_enabled(true);
  db.session.commit();
  echo.set_enabled(false);
  fmt::print("committed: {} is {}, id {}\n", jdoe->handle, state(jdoe), jdoe->id);
  auto more = db.session.add_all(std::vector<Account>{Account("alice", "alice@example.org"), Account("bob")});
  db.session.commit();
  fmt::print("add_all + commit: ids {} and {}\n", more[0]->id, more[1]->id);

  // Read: get() by key answers from the identity map without SQL when it can.
  echo.set_enabled(true);
  auto same = db.session.get<Account>(jdoe->id);
  echo.set_enabled(false);
  fmt::print("get({}) -> {} (the same object: {}, no SQL)\n", jdoe->id, same->handle, same == jdoe);
  auto alice = Account::query().filter_by("handle", "alice").one();
  fmt::print("filter_by(handle='alice').one() -> id {}, email {}\n", alice->id, *alice->email);

  // Update: assign, then commit. Only the changed column is written.
  jdoe->email = "jdoe@example.org";
  fmt::print("is_modified(jdoe): {}\n", db.session.is_modified(*jdoe));
  echo.set_enabled(true);
  db.session.commit();
  echo.set_enabled(false);
  fmt::print("is_modified(jdoe) after commit: {}\n", db.session.is_modified(*jdoe));

  // Changes not yet committed are undone by rollback(): the fields return to the database's.
  alice->handle = "mallory";
  db.session.rollback();
  fmt::print("after rollback: alice's handle is {}\n", alice->handle);

  // refresh() reloads an object from the database.
  db.session.refresh(alice);
  fmt::print("refresh(alice): handle {}, email {}\n", alice->handle, *alice->email);

  // Delete: delete_() marks the object; commit() sends the DELETE.
  auto bob = more[1];
  db.session.delete_(bob);
  echo.set_enabled(true);
  db.session.commit();
  echo.set_enabled(false);

  // A new session (db.session.remove(), as at the end of a request) loads fresh objects.
  db.session.remove();
  auto fresh = Account::query().get(jdoe->id);
  fmt::print("after remove(): get({}) is a new object: {}, email {}\n", jdoe->id, fresh != jdoe,
             *fresh->email);
  // States: loaded in this session; deleted and committed; left behind by the old session.
  fmt::print("{} accounts left, fresh jdoe is {}, bob is {}, the old jdoe is {}\n",
             Account::query().count(), state(fresh), state(bob), state(jdoe));
  return 0;
}

// Output (on SQLite):
// made: jdoe is transient
// added: jdoe is pending, id 0
//   | BEGIN (implicit)
//   | INSERT INTO crud_accounts (handle, email) VALUES (?, ?)
//   | [parameters: ('jdoe', None)]
//   | COMMIT
// committed: jdoe is persistent, id 1
// add_all + commit: ids 2 and 3
// get(1) -> jdoe (the same object: true, no SQL)
// filter_by(handle='alice').one() -> id 2, email alice@example.org
// is_modified(jdoe): true
//   | UPDATE crud_accounts SET email=? WHERE crud_accounts.id = ?
//   | [parameters: ('jdoe@example.org', 1)]
//   | COMMIT
// is_modified(jdoe) after commit: false
// after rollback: alice's handle is alice
// refresh(alice): handle alice, email alice@example.org
//   | DELETE FROM crud_accounts WHERE crud_accounts.id = ?
//   | [parameters: (3,)]
//   | COMMIT
// after remove(): get(1) is a new object: true, email jdoe@example.org
// 2 accounts left, fresh jdoe is persistent, bob is detached, the old jdoe is detached
