// SPDX-License-Identifier: MIT
// Concurrency on the backend under test (ALCHEMY_TEST_BACKEND, as the behaviour suite), with one
// shared Engine:
//  - 8 threads, each with its own Session, move money between accounts for a bounded time. A
//    transfer reads both balances, then writes each with a conditional UPDATE
//    (WHERE id = ? AND balance = <read value>) and records itself in a ledger row, all in one
//    transaction. An UPDATE that matches no row means another thread got there first: roll back
//    and try again. Errors the docs call retryable (TransactionRollbackError; SQLite's "database
//    is locked") are rolled back and retried too. This is correct under every backend's default
//    isolation (READ COMMITTED, REPEATABLE READ, SQLite's serialized writers) without locks.
//    Afterwards: the sum of balances is unchanged, every balance is its start plus the ledger
//    rows, and the ledger holds exactly the transfers the threads saw commit.
//  - the pool under 8 threads hammering checkout and return: never more than
//    pool_size + max_overflow connections out, never more than pool_size kept.
//  - db.session in 8 threads: a different Session per thread, all writes present.
// Built as its own binary so a ThreadSanitizer build can run just these (scripts/test.sh).
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "support.hpp"

namespace concurrency_test {

using namespace std::chrono_literals;

struct Account : alchemy::Model<Account> {
  ALCHEMY_TABLENAME("cc_accounts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key, alchemy::no_autoincrement);
  ALCHEMY_COLUMN(int64_t, balance);
};

struct Transfer : alchemy::Model<Transfer> {
  ALCHEMY_TABLENAME("cc_transfers");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key, alchemy::no_autoincrement);
  ALCHEMY_COLUMN(int64_t, from_id);
  ALCHEMY_COLUMN(int64_t, to_id);
  ALCHEMY_COLUMN(int64_t, amount);
};

struct Entry : alchemy::Model<Entry> {
  ALCHEMY_TABLENAME("cc_entries");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key, alchemy::no_autoincrement);
  ALCHEMY_COLUMN(std::string, who, alchemy::String(40));
};

constexpr int kThreads = 8;
constexpr int64_t kAccounts = 10;
constexpr int64_t kStart = 1000;

/// The time each transfer run lasts; ALCHEMY_CONCURRENCY_SECONDS overrides it.
inline std::chrono::duration<double> run_time() {
  const auto s = test::env("ALCHEMY_CONCURRENCY_SECONDS");
  return std::chrono::duration<double>(s.empty() ? 2.0 : std::stod(s));
}

/// Whether the docs say the same work may succeed if run again: TransactionRollbackError
/// (deadlock, serialization failure, lock wait timeout) and SQLite's busy/locked database.
inline bool retryable(const alchemy::DatabaseError& e) {
  if (e.retryable()) return true;
  const auto primary = e.native_code() & 0xff;
  return e.driver() == "sqlite" && (primary == SQLITE_BUSY || primary == SQLITE_LOCKED);
}

struct Stats {
  int64_t commits = 0;
  int64_t conflicts = 0;  ///< a conditional UPDATE matched nothing: rolled back, tried again
  int64_t retries = 0;    ///< a retryable error: rolled back, tried again
  std::vector<std::string> failures;
  std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t>> committed;  // id, from, to, amount
};

/// One thread's transfers until `deadline`.
inline void transfer_worker(std::shared_ptr<alchemy::Engine> engine, int thread, std::chrono::steady_clock::time_point deadline,
                            Stats& st) {
  alchemy::Session s(engine);
  std::mt19937 rng(static_cast<std::uint32_t>(1000 + thread));
  std::uniform_int_distribution<int64_t> account(1, kAccounts), amount(1, 50);
  int64_t seq = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    int64_t from = account(rng), to = account(rng);
    if (from == to) continue;
    const int64_t amt = amount(rng);
    const int64_t transfer_id = int64_t(thread + 1) * 1000000 + ++seq;
    for (int attempt = 0; std::chrono::steady_clock::now() < deadline + 10s; ++attempt) {
      try {
        s.close();  // a fresh identity map: read what the database holds now
        auto a = s.query<Account>().filter_by("id", from).one();
        auto b = s.query<Account>().filter_by("id", to).one();
        const int64_t from_was = a->balance, to_was = b->balance;
        // Always write the lower id first: two transfers never wait for each other in a cycle.
        std::vector<std::pair<int64_t, int64_t>> writes = {{from, from_was}, {to, to_was}};
        if (to < from) std::swap(writes[0], writes[1]);
        bool lost = false;
        for (const auto& [id, was] : writes) {
          const int64_t now = id == from ? was - amt : was + amt;
          const auto n = s.query<Account>()
                             .filter(Account::id_ == id, Account::balance_ == was)
                             .update({{"balance", alchemy::sql::Value(now)}});
          if (n != 1) {
            lost = true;
            break;
          }
        }
        if (lost) {
          s.rollback();
          ++st.conflicts;
          continue;
        }
        Transfer t;
        t.id = transfer_id, t.from_id = from, t.to_id = to, t.amount = amt;
        s.add(t);
        s.commit();
        ++st.commits;
        st.committed.emplace_back(transfer_id, from, to, amt);
        break;
      } catch (const alchemy::DatabaseError& e) {
        try {
          s.rollback();
        } catch (const std::exception& e2) {
          st.failures.push_back(std::string("rollback failed: ") + e2.what());
          return;
        }
        if (!retryable(e)) {
          st.failures.push_back(e.what());
          return;
        }
        ++st.retries;
        std::this_thread::yield();
      } catch (const std::exception& e) {
        st.failures.push_back(e.what());
        return;
      }
    }
  }
  s.close();
}

}  // namespace concurrency_test

using namespace concurrency_test;

TEST_CASE("8 threads with their own sessions transfer money: nothing lost, nothing half-done", "[concurrency]") {
  auto db = test::fresh_db<Account, Transfer>();
  if (!db) return;
  for (int64_t i = 1; i <= kAccounts; ++i) {
    Account a;
    a.id = i, a.balance = kStart;
    db->session.add(a);
  }
  db->session.commit();
  db->session.remove();

  alchemy::EngineOptions opts;
  opts.pool_size = kThreads;
  opts.max_overflow = 0;
  auto engine = alchemy::create_engine(test::url(), opts);  // one engine shared by all threads
  std::vector<Stats> stats(kThreads);
  std::vector<std::thread> threads;
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(run_time());
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(transfer_worker, engine, t, deadline, std::ref(stats[std::size_t(t)]));
  for (auto& th : threads) th.join();

  Stats total;
  for (auto& s : stats) {
    total.commits += s.commits;
    total.conflicts += s.conflicts;
    total.retries += s.retries;
    total.failures.insert(total.failures.end(), s.failures.begin(), s.failures.end());
    total.committed.insert(total.committed.end(), s.committed.begin(), s.committed.end());
  }
  for (const auto& f : total.failures) FAIL_CHECK("a transfer failed with a non-retryable error: " << f);
  std::printf("concurrency: %s: %d threads, %lld transfers committed, %lld conflicts and %lld retryable errors rolled back and retried\n",
              test::backend().c_str(), kThreads, static_cast<long long>(total.commits),
              static_cast<long long>(total.conflicts), static_cast<long long>(total.retries));
  CHECK(total.commits > 0);
  CHECK(engine->pool().checked_out() == 0);

  // Read the result through a fresh session.
  alchemy::Session check(engine);
  std::map<int64_t, int64_t> expected;
  for (int64_t i = 1; i <= kAccounts; ++i) expected[i] = kStart;
  std::set<std::tuple<int64_t, int64_t, int64_t, int64_t>> ledger;
  for (const auto& t : check.query<Transfer>().all()) {
    ledger.emplace(t->id, t->from_id, t->to_id, t->amount);
    expected[t->from_id] -= t->amount;
    expected[t->to_id] += t->amount;
  }
  // The ledger holds exactly the transfers whose commit() returned.
  const std::set<std::tuple<int64_t, int64_t, int64_t, int64_t>> reported(total.committed.begin(), total.committed.end());
  CHECK(ledger.size() == total.committed.size());
  CHECK(ledger == reported);
  // Every balance is its start plus its ledger rows: no transfer half-applied, none lost.
  int64_t sum = 0;
  const auto accounts = check.query<Account>().order_by(Account::id_).all();
  REQUIRE(accounts.size() == std::size_t(kAccounts));
  for (const auto& a : accounts) {
    INFO("account " << a->id);
    CHECK(a->balance == expected[a->id]);
    sum += a->balance;
  }
  CHECK(sum == kAccounts * kStart);
}

TEST_CASE("8 threads hammer one engine's pool: the limits hold and every connection comes back", "[concurrency]") {
  if (!test::available()) return;
  alchemy::EngineOptions opts;
  opts.pool_size = 3;
  opts.max_overflow = 2;
  opts.pool_timeout = std::chrono::seconds(20);
  auto engine = alchemy::create_engine(test::url(), opts);
  std::atomic<int> out{0}, max_out{0}, max_open{0};
  std::atomic<int64_t> checkouts{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(t));
      try {
        while (std::chrono::steady_clock::now() < deadline) {
          auto conn = engine->connect();
          const int now = ++out;
          int seen = max_out.load();
          while (now > seen && !max_out.compare_exchange_weak(seen, now)) {
          }
          const int open = engine->pool().size();
          seen = max_open.load();
          while (open > seen && !max_open.compare_exchange_weak(seen, open)) {
          }
          auto& st = conn.prepare("SELECT 1");
          conn.run(st, {});
          const bool row = st.next();
          st.reset();
          if (!row) throw std::runtime_error("SELECT 1 returned no row");
          if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 500));
          --out;
          ++checkouts;
        }
      } catch (const std::exception& e) {
        std::lock_guard lock(failures_mutex);
        failures.push_back(e.what());
      }
    });
  for (auto& th : threads) th.join();
  for (const auto& f : failures) FAIL_CHECK(f);
  std::printf("concurrency: %s: %lld pool checkouts by %d threads, at most %d out at once\n", test::backend().c_str(),
              static_cast<long long>(checkouts.load()), kThreads, max_out.load());
  CHECK(checkouts > kThreads);
  CHECK(max_out <= opts.pool_size + opts.max_overflow);
  CHECK(max_open <= opts.pool_size + opts.max_overflow);
  CHECK(max_out > 1);  // the threads really overlapped
  CHECK(engine->pool().checked_out() == 0);
  CHECK(engine->pool().size() <= opts.pool_size);  // overflow connections were closed on return
}

TEST_CASE("db.session in 8 threads: one session per thread, every write kept", "[concurrency]") {
  alchemy::Config config;
  config.SQLALCHEMY_RECORD_QUERIES = true;  // one recorder shared by the threads, a list per thread
  auto db = test::fresh_db<Entry>(nullptr, config);
  if (!db) return;
  constexpr int kRows = 25;
  std::mutex m;
  std::set<const alchemy::Session*> sessions;
  std::latch all_alive(kThreads);  // no session is removed (its address reused) before all are counted
  std::vector<std::string> failures;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      try {
        {
          std::lock_guard lock(m);
          sessions.insert(&db->session());
        }
        all_alive.arrive_and_wait();
        for (int i = 0; i < kRows; ++i) {
          for (int attempt = 0;; ++attempt) {
            try {
              Entry e;
              e.id = t * 1000 + i, e.who = "thread " + std::to_string(t);
              db->session.add(e);
              db->session.commit();
              break;
            } catch (const alchemy::DatabaseError& e) {
              db->session.rollback();
              if (!retryable(e) || attempt > 100) throw;
            }
          }
        }
        const std::string who = "thread " + std::to_string(t);
        const auto mine = db->session.query<Entry>().filter_by("who", who).count();
        if (mine != kRows) throw std::runtime_error(who + " sees " + std::to_string(mine) + " rows");
        // The thread's recorded statements are its own: each INSERT carries its name.
        int inserts = 0;
        for (const auto& q : db->get_recorded_queries()) {
          if (q.statement.rfind("INSERT", 0) != 0) continue;
          ++inserts;
          bool own = false;
          for (const auto& v : q.parameters)
            own = own || (v.kind() == alchemy::sql::ValueKind::text && v.as_text() == who);
          if (!own) throw std::runtime_error(who + " has another thread's INSERT in its recorded queries");
        }
        if (inserts < kRows) throw std::runtime_error(who + " recorded " + std::to_string(inserts) + " INSERTs");
        db->session.remove();
      } catch (const std::exception& e) {
        std::lock_guard lock(m);
        failures.push_back(e.what());
      }
    });
  for (auto& th : threads) th.join();
  for (const auto& f : failures) FAIL_CHECK(f);
  CHECK(sessions.size() == std::size_t(kThreads));
  CHECK(db->session.query<Entry>().count() == kThreads * kRows);
  db->session.remove();
}
