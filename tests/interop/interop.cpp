// SPDX-License-Identifier: MIT
// The alchemy half of the interoperability tests (the Flask-SQLAlchemy half is flask_side.py).
//
//   alchemy_interop write    DB   create_all<Everything>() and write the reference rows
//   alchemy_interop read     DB   read `everything` (written by Flask) and check every value
//   alchemy_interop ddl      DB   create_all<Account, Everything>(), nothing else
//   alchemy_interop tutorial DB   the tutorial's operations; prints a transcript
//
// The reference rows are written independently in flask_side.py: a change here must be made
// there too. Exit status 0 when every check passed; 1 with one line per mismatch.
#include <alchemy/alchemy.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

using namespace std::chrono;

// The tutorial's model (examples/tutorial.cpp).
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

// Every common column type once; flask_side.py's Everything.
struct Everything : alchemy::Model<Everything> {
  ALCHEMY_TABLENAME("everything");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::optional<std::string>, nickname, alchemy::String(80));
  ALCHEMY_COLUMN(bool, active);
  ALCHEMY_COLUMN(std::optional<double>, score);
  ALCHEMY_COLUMN(std::optional<alchemy::DateTime>, created);
  ALCHEMY_COLUMN(std::optional<alchemy::Date>, born);
  ALCHEMY_COLUMN(std::optional<alchemy::Blob>, data);
  ALCHEMY_COLUMN(std::optional<std::string>, notes, alchemy::Text);
};

namespace {

alchemy::Blob bytes(std::string_view s) { return alchemy::Blob(s.begin(), s.end()); }

alchemy::DateTime at(year_month_day d, hours h, minutes m, seconds s, microseconds us) {
  return alchemy::DateTime(sys_days(d)) + h + m + s + us;
}

// flask_side.py's ROWS, value for value.
std::vector<Everything> reference_rows() {
  std::vector<Everything> rows(4);
  auto& r1 = rows[0];
  r1.id = 1;
  r1.name = "alice";
  r1.active = true;
  r1.score = 0.1;
  r1.created = at(2024y / 2 / 29, 23h, 59min, 59s, 999999us);
  r1.born = sys_days(2000y / 2 / 29);
  r1.data = bytes(std::string_view("\x00\x01\x02\xff\x00tail\x00", 10));
  r1.notes = "Ünïcødé ✓ 日本語 🎉\nsecond line\ttab";

  auto& r2 = rows[1];
  r2.id = 2;
  r2.name = "Ωmega ☃ 🐍";
  r2.nickname = "bob 'single' \"double\"";
  r2.active = false;
  r2.score = -1.5e300;
  r2.created = at(1970y / 1 / 1, 0h, 0min, 0s, 1us);
  r2.born = sys_days(1969y / 12 / 31);
  r2.data = alchemy::Blob{};  // empty, not NULL
  r2.notes = "";

  auto& r3 = rows[2];
  r3.id = 3;
  r3.name = "nulls";
  r3.active = true;

  auto& r4 = rows[3];
  r4.id = int64_t{1} << 40;
  r4.name = "big key";
  r4.nickname = std::string(80, 'x');
  r4.active = false;
  r4.score = 1.0 / 3.0;
  r4.created = at(9999y / 12 / 31, 23h, 59min, 59s, 0us);
  r4.born = sys_days(1y / 1 / 1);
  alchemy::Blob all(256);
  for (int i = 0; i < 256; ++i) all[std::size_t(i)] = std::uint8_t(i);
  r4.data = all;
  r4.notes = "€";
  return rows;
}

std::vector<std::string> failures;

std::string show(const std::string& s) { return "'" + s + "'"; }
std::string show(bool b) { return b ? "true" : "false"; }
std::string show(int64_t v) { return std::to_string(v); }
std::string show(double d) { return fmt::format("{:a}", d); }  // every bit
std::string show(alchemy::DateTime t) { return alchemy::sql::detail::format_datetime(t); }
std::string show(alchemy::Date d) { return alchemy::sql::detail::format_date(d); }
std::string show(const alchemy::Blob& b) {
  std::string s = "x'";
  for (auto c : b) s += fmt::format("{:02x}", c);
  return s + "'";
}
template <class T>
std::string show(const std::optional<T>& v) {
  return v ? show(*v) : "NULL";
}
std::string show(const std::vector<int64_t>& ids) {
  std::string s = "[";
  for (auto id : ids) s += (s.size() > 1 ? ", " : "") + std::to_string(id);
  return s + "]";
}

template <class T>
void expect(const std::string& what, const T& got, const T& want) {
  bool same = got == want;
  if constexpr (std::is_same_v<T, std::optional<double>>) {
    // == on doubles is exact; memcmp also tells -0.0 from 0.0.
    same = got.has_value() == want.has_value() &&
           (!got || std::memcmp(&*got, &*want, sizeof(double)) == 0);
  }
  if (!same) failures.push_back(what + ": got " + show(got) + ", want " + show(want));
}

std::string list(const std::vector<std::shared_ptr<Account>>& rows) {
  std::string s = "[";
  for (const auto& r : rows) s += (s.size() > 1 ? ", " : "") + r->repr();
  return s + "]";
}

void write(alchemy::SQLAlchemy& db) {
  db.create_all<Everything>();
  const auto rows = db.session.add_all(reference_rows());
  db.session.commit();
  fmt::print("alchemy: wrote {} rows to everything\n", rows.size());
}

void read(alchemy::SQLAlchemy&) {
  const auto want = reference_rows();
  const auto got = Everything::query().order_by(Everything::id_).all();
  expect("row count", int64_t(got.size()), int64_t(want.size()));
  for (std::size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    const auto& g = *got[i];
    const auto& w = want[i];
    const auto row = "row " + std::to_string(w.id) + " ";
    expect(row + "id", g.id, w.id);
    expect(row + "name", g.name, w.name);
    expect(row + "nickname", g.nickname, w.nickname);
    expect(row + "active", g.active, w.active);
    expect(row + "score", g.score, w.score);
    expect(row + "created", g.created, w.created);
    expect(row + "born", g.born, w.born);
    expect(row + "data", g.data, w.data);
    expect(row + "notes", g.notes, w.notes);
  }
  // Lookups by the values Flask stored: key, Unicode text, timestamp, date, boolean, NULL.
  using Ids = std::vector<int64_t>;
  const auto ids = [](const auto& query) {
    Ids out;
    for (const auto& e : query.order_by(Everything::id_)) out.push_back(e->id);
    return out;
  };
  const auto big = Everything::query().get(int64_t{1} << 40);
  expect("get(2**40) name", big ? std::optional(big->name) : std::nullopt, std::optional(want[3].name));
  expect("filter(name == 'Ωmega ☃ 🐍')", ids(Everything::query().filter(Everything::name_ == "Ωmega ☃ 🐍")), Ids{2});
  expect("filter(created == ...59.999999)",
         ids(Everything::query().filter(Everything::created_ == *want[0].created)), Ids{1});
  expect("filter(born < 1970-01-01)",
         ids(Everything::query().filter(Everything::born_ < sys_days(1970y / 1 / 1))), Ids{2, int64_t{1} << 40});
  expect("filter(active == true)", ids(Everything::query().filter(Everything::active_ == true)), Ids{1, 3});
  expect("filter(data IS NULL)", ids(Everything::query().filter(Everything::data_.is_null())), Ids{3});
  fmt::print("alchemy: checked {} rows, 9 columns each, and 6 lookups\n", got.size());
}

void ddl(alchemy::SQLAlchemy& db) {
  db.create_all<Account, Everything>();
  fmt::print("alchemy: create_all done\n");
}

// flask_side.py's cmd_tutorial, line for line.
void tutorial(alchemy::SQLAlchemy& db) {
  db.create_all<Account>();
  auto new_user = db.session.add(Account("jdoe", "supersecret"));
  db.session.commit();
  fmt::print("new_user.id = {}\n", new_user->id);
  auto user = Account::query().get(1);
  fmt::print("get(1) -> {} (same object: {})\n", user, user == new_user ? "True" : "False");
  user = Account::query().filter_by("handle", "jdoe").first();
  fmt::print("filter_by(handle='jdoe').first() -> {}\n", user);
  fmt::print("like('%doe%') -> {}\n", list(Account::query().filter(Account::handle_.like("%doe%")).all()));
  fmt::print("or_ -> {}\n", list(Account::query()
                                     .filter(or_(Account::handle_ == "alice", Account::handle_ == "bob"))
                                     .all()));
  fmt::print("and_ -> {}\n",
             list(Account::query().filter(and_(Account::handle_ != "admin", Account::id_ > 10)).all()));
  fmt::print("not_ -> {}\n", list(Account::query().filter(not_(Account::handle_ == "admin")).all()));

  db.session.add_all(std::vector<Account>{{"alice", "a"}, {"bob", "b"}, {"carol", "c"}});
  db.session.commit();
  auto target = Account::query().filter_by("handle", "jdoe").first();
  target->handle = "jane_doe";
  db.session.commit();
  auto bob = Account::query().filter_by("handle", "bob").first();
  db.session.delete_(bob);
  db.session.commit();
  const auto n = Account::query().filter(Account::id_ > 3).update({{"secret_key", {}}});
  db.session.commit();
  fmt::print("bulk update matched {}\n", n);
  db.session.add(Account("bob", "b2"));
  db.session.commit();
  fmt::print("final -> {}\n", list(Account::query().order_by(Account::id_).all()));
  fmt::print("count = {}\n", Account::query().count());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string cmd = argc == 3 ? argv[1] : "";
  if (cmd != "write" && cmd != "read" && cmd != "ddl" && cmd != "tutorial") {
    std::fprintf(stderr, "usage: alchemy_interop write|read|ddl|tutorial DB\n");
    return 2;
  }
  try {
    alchemy::SQLAlchemy db("sqlite:///" + std::filesystem::absolute(argv[2]).string());
    if (cmd == "write") write(db);
    if (cmd == "read") read(db);
    if (cmd == "ddl") ddl(db);
    if (cmd == "tutorial") tutorial(db);
  } catch (const std::exception& e) {
    failures.push_back(std::string("exception: ") + e.what());
  }
  for (const auto& f : failures) fmt::print("MISMATCH {}\n", f);
  if (!failures.empty()) {
    fmt::print("alchemy: {} mismatches\n", failures.size());
    return 1;
  }
  return 0;
}
