// SPDX-License-Identifier: MIT
// The README's first code block, verbatim: ctest checks that the two stay identical.
#include <alchemy/alchemy.hpp>

struct Account : alchemy::Model<Account> {
    ALCHEMY_TABLENAME("accounts");
    ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
    ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);   // NOT NULL
    ALCHEMY_COLUMN(std::optional<std::string>, secret_key, alchemy::String(128)); // NULL-able

    Account() = default;
    Account(std::string h, std::string /*secret*/)
        : handle(std::move(h)), secret_key(alchemy::token_hex(16)) {}
    std::string repr() const { return fmt::format("<Account {}>", handle); }
};

int main() {
    alchemy::SQLAlchemy db("sqlite:///app_data.db");
    db.create_all();                                   // creates missing tables, never alters

    auto user = db.session.add(Account("jdoe", "supersecret"));
    db.session.commit();                               // INSERT INTO accounts (handle, secret_key) VALUES (?, ?)
    fmt::print("{}\n", user->id);                      // 1: the key was filled in by the flush

    auto a = Account::query().get(1);                  // identity map hit: same object, no SQL
    auto b = Account::query().filter_by("handle", "jdoe").first();          // null when no row
    auto c = Account::query().filter(Account::handle_.like("%doe%")).all();
    auto d = Account::query().filter(or_(Account::handle_ == "alice", Account::handle_ == "bob")).all();
    auto e = Account::query().filter(and_(Account::handle_ != "admin", Account::id_ > 10)).all();
    auto f = Account::query().filter(not_(Account::handle_ == "admin")).all();
    fmt::print("{} {} {} {} {} {}\n", *a, *b, c.size(), d.size(), e.size(), f.size());  // <Account jdoe> ...

    if (auto t = Account::query().filter_by("handle", "jdoe").first()) {
        t->handle = "jane_doe";                        // plain assignment
        db.session.commit();                           // UPDATE accounts SET handle=? WHERE accounts.id = ?
    }
    if (auto t = Account::query().filter_by("handle", "jane_doe").first()) {
        db.session.delete_(t);
        db.session.commit();                           // DELETE FROM accounts WHERE accounts.id = ?
    }
}
