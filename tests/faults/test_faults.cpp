// SPDX-License-Identifier: MIT
// Fault injection, SQLite's way: an operation runs with driver call N failing, for N = 1, 2, ...
// until it completes without reaching call N; once with a single failure, once with every call
// from N on failing (SQLite's "persistent" mode). Operations: the tutorial sequence, and one
// commit of 100 mixed inserts, updates and deletes over two tables linked by a foreign key.
//
// After each failure, checked through a separate clean connection and the session:
//   - the database holds all or none of the failed commit: exactly the state before it, since
//     the fault comes before the real call (and never a state in between);
//   - PRAGMA integrity_check says ok;
//   - the session is in its documented state: PendingRollbackError from every call until
//     rollback() when commit() failed; after rollback(), objects added in the transaction are
//     transient with their generated key cleared, deleted ones persistent again, changed ones
//     back to the database's values; and it works again (the work can be redone and committed);
//   - no pooled connection stays checked out (and ASan/LSan report no leak in the ASan build).
// Real faults where they are cheap: a read-only database (?mode=ro), a locked database (busy
// timeout, then OperationalError), a full disk (a file-size limit, and a tiny tmpfs where
// mount works).
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <alchemy/alchemy.hpp>
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "faulty_driver.hpp"

namespace faults_test {

struct Account : alchemy::Model<Account> {
  ALCHEMY_TABLENAME("accounts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::optional<std::string>, secret_key, alchemy::Text);

  Account() = default;
  explicit Account(std::string h, std::optional<std::string> s = std::nullopt)
      : handle(std::move(h)), secret_key(std::move(s)) {}
};

struct Entry : alchemy::Model<Entry> {
  ALCHEMY_TABLENAME("entries");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, account_id, alchemy::ForeignKey("accounts.id"));
  ALCHEMY_COLUMN(std::string, note, alchemy::String(100));

  Entry() = default;
  Entry(int64_t account, std::string n) : account_id(account), note(std::move(n)) {}
};

namespace fs = std::filesystem;
using alchemy::ObjectState;

// --- Files and the clean view of the database ----------------------------------------------------

fs::path work_dir() {
  static const fs::path dir = [] {
    // /dev/shm when there is one: the loops commit thousands of times, and fsync there is free.
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    auto d = base / ("alchemy-faults-" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

void remove_db(const fs::path& p) {
  fs::remove(p);
  fs::remove(p.string() + "-journal");
}

/// Table name → its rows, each rendered as text, in key order; nullopt when the table is missing.
using DbState = std::map<std::string, std::optional<std::vector<std::string>>>;

std::string render(alchemy::sql::ValueRef v) {
  switch (v.kind()) {
    case alchemy::sql::ValueKind::null: return "NULL";
    case alchemy::sql::ValueKind::integer: return std::to_string(v.as_integer());
    case alchemy::sql::ValueKind::text: return "'" + std::string(v.as_text()) + "'";
    default: return "?";
  }
}

/// What the database holds, read through a new engine on the plain sqlite driver.
DbState read_db(const fs::path& path, const std::vector<std::string>& tables) {
  auto clean = alchemy::create_engine("sqlite:///" + path.string());
  auto conn = clean->connect();
  DbState out;
  for (const auto& t : tables) {
    if (!conn.has_table(t)) {
      out[t] = std::nullopt;
      continue;
    }
    auto& st = conn.prepare("SELECT * FROM " + t + " ORDER BY id");
    conn.run(st, {});
    std::vector<std::string> rows;
    while (st.next()) {
      std::string row;
      for (int i = 0; i < st.column_count(); ++i)
        row += (i ? "|" : "") + render(st.column(i, alchemy::sql::TypeKind::text));
      rows.push_back(std::move(row));
    }
    st.reset();
    out[t] = std::move(rows);
  }
  return out;
}

std::string integrity(const fs::path& path) {
  auto clean = alchemy::create_engine("sqlite:///" + path.string());
  auto conn = clean->connect();
  auto& st = conn.prepare("PRAGMA integrity_check");
  conn.run(st, {});
  std::string result = st.next() ? std::string(st.column(0, alchemy::sql::TypeKind::text).as_text()) : "no row";
  st.reset();
  return result;
}

/// Whether another connection can take the write lock at once: the failed session holds no
/// open transaction (a failed flush or commit rolls back at once, SQLAlchemy's contract).
bool writable_now(const fs::path& path) {
  auto clean = alchemy::create_engine("sqlite:///" + path.string() + "?timeout=0");
  auto conn = clean->connect();
  try {
    conn.execute("BEGIN IMMEDIATE");
  } catch (const alchemy::OperationalError&) {
    return false;
  }
  conn.execute("ROLLBACK");
  return true;
}

std::string describe(const DbState& s) {
  std::string out;
  for (const auto& [t, rows] : s) {
    out += t + ": ";
    if (!rows) {
      out += "(no table)\n";
      continue;
    }
    out += std::to_string(rows->size()) + " rows\n";
    for (const auto& r : *rows) out += "  " + r + "\n";
  }
  return out;
}

/// The figures this run measured, printed at the end.
struct Figures {
  std::int64_t fault_points = 0;  ///< iterations in which a fault was injected
  std::int64_t faults = 0;        ///< faults thrown (persistent mode throws several per point)
  std::int64_t operations = 0;    ///< iterations in all, the completing one included
};

void report(const char* what, const Figures& f) {
  std::printf("fault injection: %-45s %6lld fault points, %6lld faults thrown, %6lld runs\n", what,
              static_cast<long long>(f.fault_points), static_cast<long long>(f.faults),
              static_cast<long long>(f.operations));
  std::fflush(stdout);
}

/// Whether `e` is the fault the plan injected (and not some other failure).
bool is_injected(const alchemy::Error& e) {
  return dynamic_cast<const alchemy::OperationalError*>(&e) != nullptr &&
         std::string(e.what()).find("injected fault") != std::string::npos;
}

// --- (a) The tutorial sequence -----------------------------------------------------------------

/// The states of the accounts table the tutorial goes through, one per commit.
const std::vector<DbState>& tutorial_states() {
  static const std::vector<DbState> states = {
      {{"accounts", std::nullopt}},                                  // 0: before create_all
      {{"accounts", std::vector<std::string>{}}},                    // 1: empty table
      {{"accounts", std::vector<std::string>{"1|'jdoe'|'s3cr3t'"}}},  // 2: added
      {{"accounts", std::vector<std::string>{"1|'jdoe'|'n3w'"}}},     // 3: changed
      {{"accounts", std::vector<std::string>{}}},                    // 4: deleted
  };
  return states;
}

struct Progress {
  int phase = 0;            ///< index of the last state committed (tutorial_states)
  bool in_commit = false;   ///< the failure came out of Session::commit()
  std::shared_ptr<Account> user;
};

void commit(alchemy::SQLAlchemy& db, Progress& p) {
  p.in_commit = true;
  db.session.commit();
  p.in_commit = false;
  ++p.phase;
}

/// A wrong result inside an operation under faults. (Catch's REQUIRE would catch the injected
/// fault itself and report it as a failure, so the operations check with this instead.)
void expect(bool ok, const char* what) {
  if (!ok) throw std::logic_error(std::string("wrong result: ") + what);
}

/// Appendix A of the SQLAlchemy reference, step by step.
void tutorial(alchemy::SQLAlchemy& db, Progress& p) {
  db.create_all<Account>();
  p.phase = 1;
  p.user = db.session.add(Account("jdoe", "s3cr3t"));
  commit(db, p);
  expect(p.user->id == 1, "the generated key");
  expect(Account::query().get(1) == p.user, "get(1) from the identity map");
  auto found = Account::query().filter_by("handle", "jdoe").first();
  expect(found == p.user, "filter_by().first()");
  expect(Account::query().filter(Account::handle_.like("%doe%")).all().size() == 1, "like");
  expect(Account::query().filter(or_(Account::handle_ == "alice", Account::handle_ == "bob")).all().empty(), "or_");
  expect(Account::query().filter(and_(Account::handle_ != "admin", Account::id_ > 10)).all().empty(), "and_");
  expect(Account::query().filter(not_(Account::handle_ == "admin")).all().size() == 1, "not_");
  found->secret_key = "n3w";
  commit(db, p);
  db.session.delete_(found);
  commit(db, p);
  expect(Account::query().count() == 0, "count() after the delete");
}

/// Disarms the plan however the scope is left.
struct Armed {
  Armed(std::int64_t n, bool persistent) { faults::plan().arm(n, persistent); }
  ~Armed() { faults::plan().disarm(); }
  Armed(const Armed&) = delete;
  Armed& operator=(const Armed&) = delete;
};

Figures run_tutorial(bool persistent) {
  Figures fig;
  const auto path = work_dir() / "tutorial.db";
  for (std::int64_t n = 1;; ++n) {
    INFO("fault at driver call " << n << (persistent ? " and every later call" : " only"));
    remove_db(path);
    alchemy::SQLAlchemy db("sqlite+faulty:///" + path.string());
    Progress p;
    bool completed = false;
    try {
      Armed armed(n, persistent);
      tutorial(db, p);
      completed = true;
    } catch (const alchemy::Error& e) {
      INFO("the operation failed with: " << e.what());
      REQUIRE(is_injected(e));
    }
    const auto injected = faults::plan().injected;
    INFO("first fault in " << faults::plan().first_fault << "; phase " << p.phase
                           << (p.in_commit ? ", in commit()" : ""));
    ++fig.operations;
    fig.faults += injected;
    if (injected > 0) ++fig.fault_points;

    const auto db_state = read_db(path, {"accounts"});
    INFO("database:\n" << describe(db_state));
    CHECK(integrity(path) == "ok");
    if (completed) {
      // Only a fault the library handled itself (a failed ROLLBACK it discards) may go unseen.
      CHECK(db_state == tutorial_states().back());
      db.session.remove();
      CHECK(db.engine().pool().checked_out() == 0);
      if (injected == 0) break;  // call N was never reached: the loop is over
      continue;
    }
    // All or nothing: the fault came before the real call, so the failed commit left nothing.
    REQUIRE(db_state == tutorial_states()[static_cast<std::size_t>(p.phase)]);

    // The session's documented state: a failed commit rolled back at once.
    if (p.in_commit) {
      CHECK_FALSE(db.session().in_transaction());
      CHECK(writable_now(path));
      CHECK_THROWS_AS(db.session.get<Account>(1), alchemy::PendingRollbackError);
      CHECK_THROWS_AS(db.session.commit(), alchemy::PendingRollbackError);
      CHECK_THROWS_AS(Account::query().all(), alchemy::PendingRollbackError);
    }
    CHECK_NOTHROW(db.session.rollback());
    if (p.user) {
      const auto& rows = *db_state.at("accounts");
      if (rows.empty() && p.phase < 4) {  // its INSERT never committed
        CHECK(alchemy::inspect_state(*p.user) == ObjectState::transient);
        CHECK(p.user->id == 0);
      } else if (p.phase == 4) {          // its DELETE committed
        CHECK(alchemy::inspect_state(*p.user) == ObjectState::detached);
      } else {                            // in the database: persistent, with the database's values
        CHECK(alchemy::inspect_state(*p.user) == ObjectState::persistent);
        CHECK(db.session.get<Account>(1) == p.user);
        CHECK(rows.front() == "1|'" + p.user->handle + "'|'" + p.user->secret_key.value_or("?") + "'");
      }
    }
    // The session works again and sees what the database holds.
    if (db_state.at("accounts")) {
      std::vector<std::string> seen;
      for (const auto& a : Account::query().order_by(Account::id_).all())
        seen.push_back(std::to_string(a->id) + "|'" + a->handle + "'|'" + a->secret_key.value_or("?") + "'");
      CHECK(seen == *db_state.at("accounts"));
    }
    db.session.remove();
    CHECK(db.engine().pool().checked_out() == 0);
  }
  return fig;
}

TEST_CASE("the tutorial sequence under a fault at every driver call, failing once", "[faults][tutorial]") {
  const auto fig = run_tutorial(false);
  CHECK(fig.fault_points > 20);
  report("tutorial sequence, fail once", fig);
}

TEST_CASE("the tutorial sequence under a fault at every driver call, failing from then on", "[faults][tutorial]") {
  const auto fig = run_tutorial(true);
  CHECK(fig.fault_points > 20);
  report("tutorial sequence, fail persistently", fig);
}

// --- (b) One commit of 100 mixed inserts, updates and deletes -----------------------------------

constexpr int kAccounts = 60;
constexpr int kEntries = 40;

std::string key_of(int i) { return "key-" + std::to_string(i); }
std::string note_of(int i) { return "note " + std::to_string(i); }

/// The database every iteration starts from: 60 accounts, 40 entries (entry i → account i).
const fs::path& template_db() {
  static const fs::path path = [] {
    auto p = work_dir() / "template.db";
    remove_db(p);
    auto engine = alchemy::create_engine("sqlite:///" + p.string());
    {
      auto conn = engine->connect();
      const auto& c = engine->dialect().compiler();
      conn.begin();
      conn.execute(c.create_table(Account::mapper().table()));
      conn.execute(c.create_table(Entry::mapper().table()));
      conn.commit();
    }
    alchemy::Session s(engine);
    for (int i = 1; i <= kAccounts; ++i) s.add(Account("user-" + std::to_string(i), key_of(i)));
    s.commit();
    for (int i = 1; i <= kEntries; ++i) s.add(Entry(i, note_of(i)));
    s.commit();
    return p;
  }();
  return path;
}

/// The objects one flush works on, and the 100 changes made to them.
struct Work {
  std::vector<std::shared_ptr<Account>> accounts;  // loaded, 1..60
  std::vector<std::shared_ptr<Entry>> entries;     // loaded, 1..40
  std::vector<std::shared_ptr<Account>> new_accounts;
  std::vector<std::shared_ptr<Entry>> new_entries;

  void load(alchemy::Session& s) {
    accounts = s.query<Account>().order_by(Account::id_).all();
    entries = s.query<Entry>().order_by(Entry::id_).all();
    REQUIRE(accounts.size() == kAccounts);
    REQUIRE(entries.size() == kEntries);
  }
  /// 30 inserts, 40 updates, 30 deletes. On the first call the new objects are made; on a redo
  /// the same (transient again) objects are added back.
  void change(alchemy::Session& s) {
    const bool redo = !new_accounts.empty();
    for (int i = 0; i < 15; ++i) {
      if (redo) s.add(new_accounts[i]);
      else new_accounts.push_back(s.add(Account("new-" + std::to_string(i), "new key")));
    }
    for (int i = 0; i < 15; ++i) {  // entries of accounts 41..45, which keep existing
      if (redo) s.add(new_entries[i]);
      else new_entries.push_back(s.add(Entry(41 + i / 3, "new note " + std::to_string(i))));
    }
    for (int i = 0; i < 25; ++i) accounts[i]->secret_key = "changed " + std::to_string(i);
    for (int i = 0; i < 15; ++i) entries[i]->note = "changed note " + std::to_string(i);
    for (int i = 25; i < 40; ++i) s.delete_(entries[i]);
    for (int i = 45; i < 60; ++i) s.delete_(accounts[i]);  // accounts no entry refers to
  }
};

const DbState& state_before() {
  static const DbState s = read_db(template_db(), {"accounts", "entries"});
  return s;
}

const DbState& state_after() {
  static const DbState s = [] {
    const auto path = work_dir() / "reference.db";
    remove_db(path);
    fs::copy_file(template_db(), path);
    {
      alchemy::Session s(alchemy::create_engine("sqlite:///" + path.string()));
      Work w;
      w.load(s);
      w.change(s);
      s.commit();
    }
    return read_db(path, {"accounts", "entries"});
  }();
  return s;
}

Figures run_flush(bool persistent) {
  Figures fig;
  const auto path = work_dir() / "flush.db";
  REQUIRE(state_before() != state_after());
  REQUIRE(state_after().at("accounts")->size() == kAccounts + 15 - 15);
  for (std::int64_t n = 1;; ++n) {
    INFO("fault at driver call " << n << (persistent ? " and every later call" : " only"));
    remove_db(path);
    fs::copy_file(template_db(), path);
    auto engine = alchemy::create_engine("sqlite+faulty:///" + path.string());
    alchemy::Session s(engine);
    Work w;
    w.load(s);
    w.change(s);
    bool completed = false;
    try {
      Armed armed(n, persistent);
      s.commit();
      completed = true;
    } catch (const alchemy::Error& e) {
      INFO("commit() failed with: " << e.what());
      REQUIRE(is_injected(e));
    }
    const auto injected = faults::plan().injected;
    INFO("first fault in " << faults::plan().first_fault);
    ++fig.operations;
    fig.faults += injected;
    if (injected > 0) ++fig.fault_points;

    const auto db_state = read_db(path, {"accounts", "entries"});
    CHECK(integrity(path) == "ok");
    if (completed) {
      CHECK(db_state == state_after());
      s.close();
      CHECK(engine->pool().checked_out() == 0);
      if (injected == 0) break;
      continue;
    }
    // All or nothing, and here nothing: the fault came before the real call.
    if (db_state != state_before()) {
      FAIL_CHECK("the database holds part or all of a failed commit:\n" << describe(db_state));
      break;
    }

    // The failed commit rolled back, or (when its ROLLBACK failed too) closed its connection, at
    // once: another connection can write at once. Until rollback(), the session refuses work.
    CHECK_FALSE(s.in_transaction());
    CHECK(writable_now(path));
    CHECK_THROWS_AS(s.commit(), alchemy::PendingRollbackError);
    CHECK_THROWS_AS(s.flush(), alchemy::PendingRollbackError);
    CHECK_THROWS_AS(s.get<Account>(1), alchemy::PendingRollbackError);
    CHECK_THROWS_AS(s.query<Entry>().count(), alchemy::PendingRollbackError);
    CHECK_NOTHROW(s.rollback());
    CHECK(writable_now(path));

    // rollback(): new objects transient with the generated key cleared, deleted ones persistent
    // and in the identity map, changed ones back to the database's values.
    for (const auto& a : w.new_accounts) {
      CHECK(alchemy::inspect_state(*a) == ObjectState::transient);
      CHECK(a->id == 0);
    }
    for (const auto& e : w.new_entries) {
      CHECK(alchemy::inspect_state(*e) == ObjectState::transient);
      CHECK(e->id == 0);
    }
    for (int i = 0; i < kAccounts; ++i) {
      CHECK(alchemy::inspect_state(*w.accounts[i]) == ObjectState::persistent);
      CHECK(w.accounts[i]->secret_key == key_of(i + 1));
    }
    for (int i = 0; i < kEntries; ++i) {
      CHECK(alchemy::inspect_state(*w.entries[i]) == ObjectState::persistent);
      CHECK(w.entries[i]->note == note_of(i + 1));
    }
    CHECK(s.size() == kAccounts + kEntries);
    CHECK(s.get<Account>(std::int64_t{60}) == w.accounts[59]);  // identity map, deleted one back
    CHECK(s.get<Entry>(std::int64_t{40}) == w.entries[39]);

    // And the same work can be done again and committed.
    w.change(s);
    s.commit();
    CHECK(read_db(path, {"accounts", "entries"}) == state_after());
    for (const auto& a : w.new_accounts) CHECK(a->id > kAccounts);
    s.close();
    CHECK(engine->pool().checked_out() == 0);
  }
  return fig;
}

TEST_CASE("a flush of 100 mixed changes under a fault at every driver call, failing once", "[faults][flush]") {
  const auto fig = run_flush(false);
  CHECK(fig.fault_points >= 100);
  report("flush of 100 changes, fail once", fig);
}

TEST_CASE("a flush of 100 mixed changes under a fault at every driver call, failing from then on", "[faults][flush]") {
  const auto fig = run_flush(true);
  CHECK(fig.fault_points >= 100);
  report("flush of 100 changes, fail persistently", fig);
}

// When a flush fails and its own ROLLBACK fails too, the connection is invalidated and given back
// (and so closed) at once: kept until the caller's rollback(), it held SQLite's write lock and
// every other connection got "database is locked" meanwhile. Every N is tried.
TEST_CASE("a flush whose own ROLLBACK fails releases its connection at once", "[faults][flush]") {
  const auto path = work_dir() / "flush-lock.db";
  for (std::int64_t n = 1; n < 1000; ++n) {
    INFO("fault at driver call " << n << " and every later call");
    remove_db(path);
    fs::copy_file(template_db(), path);
    alchemy::Session s(alchemy::create_engine("sqlite+faulty:///" + path.string()));
    Work w;
    w.load(s);
    w.change(s);
    bool failed = false;
    try {
      Armed armed(n, true);
      s.commit();
    } catch (const alchemy::OperationalError&) {
      failed = true;
    }
    if (!failed) break;
    REQUIRE(writable_now(path));
  }
}

// --- Real faults ---------------------------------------------------------------------------------

/// A database with the two tables and one account, at `path`.
void make_small_db(const fs::path& path) {
  remove_db(path);
  alchemy::SQLAlchemy db("sqlite:///" + path.string());
  db.create_all<Account, Entry>();
  db.session.add(Account("first", "k"));
  db.session.commit();
}

TEST_CASE("a read-only database refuses a commit with OperationalError and stays as it was", "[faults][real]") {
  const auto path = work_dir() / "readonly.db";
  make_small_db(path);
  const auto before = read_db(path, {"accounts", "entries"});
  alchemy::SQLAlchemy db("sqlite:///" + path.string() + "?mode=ro");
  CHECK(Account::query().count() == 1);  // reading works
  auto a = db.session.add(Account("second"));
  try {
    db.session.commit();
    FAIL("commit on a read-only database succeeded");
  } catch (const alchemy::OperationalError& e) {
    CHECK_THAT(e.what(), Catch::Contains("readonly"));
  }
  CHECK_THROWS_AS(db.session.commit(), alchemy::PendingRollbackError);
  db.session.rollback();
  CHECK(alchemy::inspect_state(*a) == ObjectState::transient);
  CHECK(a->id == 0);
  CHECK(Account::query().count() == 1);
  db.session.remove();
  CHECK(read_db(path, {"accounts", "entries"}) == before);
  CHECK(integrity(path) == "ok");
}

TEST_CASE("a locked database waits for the busy timeout, then fails with OperationalError", "[faults][real]") {
  const auto path = work_dir() / "locked.db";
  make_small_db(path);
  const auto before = read_db(path, {"accounts", "entries"});
  auto holder_engine = alchemy::create_engine("sqlite:///" + path.string());
  auto holder = holder_engine->connect();
  holder.execute("BEGIN IMMEDIATE");  // a writer elsewhere holds the write lock

  alchemy::SQLAlchemy db("sqlite:///" + path.string() + "?timeout=0.3");
  auto a = db.session.add(Account("second"));
  const auto start = std::chrono::steady_clock::now();
  try {
    db.session.commit();
    FAIL("commit succeeded while another connection held the write lock");
  } catch (const alchemy::OperationalError& e) {
    CHECK_THAT(e.what(), Catch::Contains("locked"));
  }
  const auto waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(waited >= 0.25);  // the busy timeout was honoured
  CHECK(waited < 5.0);
  CHECK_THROWS_AS(db.session.get<Account>(1), alchemy::PendingRollbackError);
  db.session.rollback();
  CHECK(alchemy::inspect_state(*a) == ObjectState::transient);
  CHECK(read_db(path, {"accounts", "entries"}) == before);

  holder.execute("ROLLBACK");  // the lock is released: the same work now commits
  db.session.add(a);
  db.session.commit();
  CHECK(a->id == 2);
  db.session.remove();
  CHECK(integrity(path) == "ok");
}

/// Adds rows worth `bytes` to the session and commits; returns the error, which must come.
void commit_too_much(alchemy::SQLAlchemy& db, std::size_t bytes, const fs::path& path, const DbState& before,
                     const char* message) {
  std::vector<std::shared_ptr<Account>> added;
  const std::string big(4000, 'x');
  for (std::size_t i = 0; i * big.size() < bytes; ++i)
    added.push_back(db.session.add(Account("big-" + std::to_string(i), big)));
  try {
    db.session.commit();
    FAIL("commit of " << bytes << " bytes succeeded on a full disk");
  } catch (const alchemy::OperationalError& e) {
    CHECK_THAT(e.what(), Catch::Contains(message));
  }
  CHECK_THROWS_AS(db.session.commit(), alchemy::PendingRollbackError);
  db.session.rollback();
  for (const auto& a : added) CHECK(alchemy::inspect_state(*a) == ObjectState::transient);
  CHECK(read_db(path, {"accounts", "entries"}) == before);
  CHECK(integrity(path) == "ok");
  // A small change still fits.
  db.session.add(Account("small"));
  db.session.commit();
  CHECK(Account::query().count() == 2);
  db.session.remove();
}

TEST_CASE("a disk that fills up (file size limit) fails the commit, which leaves nothing", "[faults][real]") {
  const auto path = work_dir() / "fsize.db";
  make_small_db(path);
  const auto before = read_db(path, {"accounts", "entries"});
  alchemy::SQLAlchemy db("sqlite:///" + path.string());
  // RLIMIT_FSIZE makes writes past the limit fail with EFBIG (SQLite: SQLITE_IOERR_WRITE, "disk
  // I/O error"): a disk that fills up for this process, without root. SIGXFSZ is ignored so the
  // write fails instead of the process being killed.
  rlimit old{};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit tight = old;
  tight.rlim_cur = static_cast<rlim_t>(fs::file_size(path) + 16 * 1024);
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &tight) == 0);
  struct Restore {
    rlimit old;
    decltype(SIG_IGN) handler;
    ~Restore() {
      ::setrlimit(RLIMIT_FSIZE, &old);
      std::signal(SIGXFSZ, handler);
    }
  } restore{old, old_handler};
  commit_too_much(db, 200 * 1024, path, before, "disk I/O error");
}

TEST_CASE("a full tmpfs fails the commit, which leaves nothing", "[faults][real]") {
  const auto dir = work_dir() / "tmpfs";
  fs::create_directories(dir);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=192k") != 0) {
    WARN("not tested: cannot mount a tmpfs here (" << std::strerror(errno)
         << "); the file-size-limit test covers a full disk");
    fs::remove(dir);
    return;
  }
  struct Unmount {
    fs::path dir;
    ~Unmount() {
      ::umount2(dir.c_str(), MNT_DETACH);
      std::error_code ec;
      fs::remove(dir, ec);
    }
  } unmount{dir};
  const auto path = dir / "full.db";
  make_small_db(path);
  const auto before = read_db(path, {"accounts", "entries"});
  alchemy::SQLAlchemy db("sqlite:///" + path.string());
  commit_too_much(db, 400 * 1024, path, before, "database or disk is full");
}

}  // namespace faults_test
