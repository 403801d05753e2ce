// SPDX-License-Identifier: MIT
// 040 — Transactions: a commit that breaks a UNIQUE constraint (IntegrityError), the session
// refusing work until rollback() (PendingRollbackError), what rollback() does to the objects,
// and undoing work of your own with rollback().
//
//   ./040-transactions              # in-memory SQLite
//   ./040-transactions mysql://app:secret@127.0.0.1:3306/app
#include <alchemy/alchemy.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/core.h>

struct Wallet : alchemy::Model<Wallet> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, owner, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(int64_t, cents);

  Wallet() = default;
  Wallet(std::string o, int64_t c) : owner(std::move(o)), cents(c) {}
};

std::string_view constraint_name(alchemy::Constraint c) {
  switch (c) {
    case alchemy::Constraint::unique: return "unique";
    case alchemy::Constraint::not_null: return "not null";
    case alchemy::Constraint::foreign_key: return "foreign key";
    case alchemy::Constraint::check: return "check";
    case alchemy::Constraint::primary_key: return "primary key";
    case alchemy::Constraint::unknown: break;
  }
  return "unknown";
}

int main(int argc, char** argv) {
  alchemy::SQLAlchemy db(argc > 1 ? argv[1] : "sqlite://");
  db.drop_all();  // a server keeps tables between runs
  db.create_all();
  auto alice = db.session.add(Wallet("alice", 100'00));
  db.session.commit();
  fmt::print("committed: alice has {} cents\n", alice->cents);

  // 1. A second "alice" breaks UNIQUE (owner). The failed flush rolls the transaction back.
  auto twin = db.session.add(Wallet("alice", 5'00));
  try {
    db.session.commit();
  } catch (const alchemy::IntegrityError& e) {
    fmt::print("commit: IntegrityError, constraint: {}\n", constraint_name(e.constraint()));
  }

  // 2. Until rollback(), the session refuses work, as SQLAlchemy's does.
  try {
    Wallet::query().count();
  } catch (const alchemy::PendingRollbackError&) {
    fmt::print("query before rollback(): PendingRollbackError\n");
  }

  // 3. rollback(): the object that was never stored leaves the session; the rest stay.
  db.session.rollback();
  fmt::print("after rollback(): the twin is {}, alice is {}; {} wallet in the database\n",
             alchemy::state_name(alchemy::inspect_state(*twin)),
             alchemy::state_name(alchemy::inspect_state(*alice)), Wallet::query().count());

  // 4. Your own all-or-nothing: a transfer checks a rule after its changes are flushed, and
  //    rolls back when the rule fails. Both changes are undone.
  auto bob = db.session.add(Wallet("bob", 0));
  db.session.commit();
  const auto transfer = [&](int64_t cents) {
    alice->cents -= cents;
    bob->cents += cents;
    db.session.flush();  // the UPDATEs run inside the open transaction
    if (Wallet::query().filter(Wallet::cents_ < 0).exists()) {
      db.session.rollback();
      return false;
    }
    db.session.commit();
    return true;
  };
  fmt::print("transfer 30.00: {}; alice {}, bob {}\n", transfer(30'00) ? "done" : "refused",
             alice->cents, bob->cents);
  fmt::print("transfer 500.00: {}; alice {}, bob {}\n", transfer(500'00) ? "done" : "refused",
             alice->cents, bob->cents);

  // 5. The session works again, and the database holds only committed work.
  db.session.remove();
  std::int64_t total = 0;
  for (const auto& w : Wallet::query()) total += w->cents;
  fmt::print("total in the database: {} cents\n", total);
  fmt::print("the session works again: {} accounts committed\n", Wallet::query().count());
  return 0;
}

// Output:
// committed: alice has 10000 cents
// commit: IntegrityError, constraint: unique
// query before rollback(): PendingRollbackError
// after rollback(): the twin is transient, alice is persistent; 1 wallet in the database
// transfer 30.00: done; alice 7000, bob 3000
// transfer 500.00: refused; alice 7000, bob 3000
// total in the database: 10000 cents
// the session works again: 2 accounts committed
