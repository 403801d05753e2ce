// SPDX-License-Identifier: MIT
// The Flask-SQLAlchemy tutorial (../shared/seed/flask-sqlalchemy-tutorial.txt), step by step in
// C++. Runs on SQLite by default; pass a URL to run it elsewhere (then it drops `accounts` first):
//
//   ./tutorial                                              # sqlite:///app_data.db
//   ./tutorial postgresql://app:secret@127.0.0.1:5432/app
//   ./tutorial mysql://app:secret@127.0.0.1:3306/app
#include <alchemy/alchemy.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include <fmt/core.h>

// 2. Defining Models
struct Account : alchemy::Model<Account> {
  ALCHEMY_TABLENAME("accounts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::optional<std::string>, secret_key, alchemy::String(128));

  Account() = default;
  Account(std::string h, std::string /*secret*/)
      : handle(std::move(h)), secret_key(alchemy::token_hex(16)) {}
  std::string repr() const { return fmt::format("<Account {}>", handle); }
};

template <class Rows>
std::string list(const Rows& rows) {
  std::string s = "[";
  for (const auto& r : rows) s += (s.size() > 1 ? ", " : "") + r->repr();
  return s + "]";
}

int main(int argc, char** argv) {
  // 1. Initializing the Extension
  alchemy::Config config;
  config.SQLALCHEMY_DATABASE_URI = argc > 1 ? argv[1] : "sqlite:///app_data.db";
  config.SQLALCHEMY_ECHO = std::getenv("ALCHEMY_ECHO") != nullptr;
  alchemy::SQLAlchemy db(config);
  fmt::print("1. engine: {}\n", db.engine().repr());

  // 2. Create tables based on defined models
  if (argc > 1) db.drop_all<Account>();  // a server keeps `accounts` between runs: start afresh
  db.create_all();
  fmt::print("2. create_all: table accounts exists\n");

  // 3. Data Persistence
  auto new_user = db.session.add(Account("jdoe", "supersecret"));
  db.session.commit();
  fmt::print("3. new_user.id = {}\n", new_user->id);

  // 4. Querying Records
  auto user = Account::query().get(1);
  fmt::print("4. get(1) -> {} (same object: {})\n", user, user == new_user);
  user = Account::query().filter_by("handle", "jdoe").first();
  fmt::print("   filter_by(handle='jdoe').first() -> {}\n", user);
  auto users = Account::query().filter(Account::handle_.like("%doe%")).all();
  fmt::print("   filter(handle.like('%doe%')).all() -> {}\n", list(users));
  auto results = Account::query().filter(or_(Account::handle_ == "alice", Account::handle_ == "bob")).all();
  fmt::print("   or_(handle == 'alice', handle == 'bob') -> {}\n", list(results));
  results = Account::query().filter(and_(Account::handle_ != "admin", Account::id_ > 10)).all();
  fmt::print("   and_(handle != 'admin', id > 10) -> {}\n", list(results));
  results = Account::query().filter(not_(Account::handle_ == "admin")).all();
  fmt::print("   not_(handle == 'admin') -> {}\n", list(results));

  // 5. Modifying and Removing Data
  if (auto target = Account::query().filter_by("handle", "jdoe").first()) {
    target->handle = "jane_doe";
    db.session.commit();
    fmt::print("5. update: handle is now {}\n", target->handle);
  }
  if (auto target = Account::query().filter_by("handle", "jane_doe").first()) {
    db.session.delete_(target);
    db.session.commit();
    fmt::print("   delete: {} deleted; accounts left: {}\n", target, Account::query().count());
  }
  return 0;
}
