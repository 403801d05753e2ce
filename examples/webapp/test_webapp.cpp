// SPDX-License-Identifier: MIT
// End-to-end test of the webapp example: each test case starts app.hpp's service in this process
// on a free loopback port (tables dropped and created again), drives it with real HTTP requests
// through httplib::Client, and checks the database through a separate engine and session.
// The database URL comes from WEBAPP_TEST_URL (examples/CMakeLists.txt sets it per backend).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include "app.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

using nlohmann::json;
using webapp::Account;
using webapp::Note;

namespace {

std::string test_url() {
  const char* url = std::getenv("WEBAPP_TEST_URL");
  if (url == nullptr || *url == '\0') throw std::runtime_error("WEBAPP_TEST_URL is not set");
  return url;
}

/// The service on a free port of 127.0.0.1, served by a thread; stopped and joined on scope
/// exit whatever the test did.
class RunningApp {
 public:
  RunningApp() : app_(test_url(), /*reset=*/true), port_(app_.bind(0)) {
    if (port_ <= 0) return;
    thread_ = std::thread([this] {
      app_.listen();
      done_ = true;
    });
    // stop() before listen() is running would be lost: wait (bounded) until it runs.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!app_.is_running() && !done_ && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~RunningApp() {
    if (!thread_.joinable()) return;
    // stop() is a no-op until listen() runs, and listen() may also have failed and returned.
    while (!app_.is_running() && !done_) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    app_.stop();
    thread_.join();
  }
  RunningApp(const RunningApp&) = delete;
  RunningApp& operator=(const RunningApp&) = delete;

  bool running() const { return port_ > 0 && app_.is_running(); }
  int port() const { return port_; }

  /// A client with bounded timeouts, so a hung server fails the test instead of the CI job.
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(5);
    c.set_read_timeout(30);
    c.set_write_timeout(5);
    return c;
  }

 private:
  webapp::App app_;
  int port_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

struct Reply {
  int status = -1;  ///< -1: no HTTP answer at all
  json body;
  std::string location;
};

Reply reply_of(const httplib::Result& r) {
  Reply out;
  if (!r) return out;
  out.status = r->status;
  out.location = r->get_header_value("Location");
  if (!r->body.empty()) out.body = json::parse(r->body, nullptr, false);
  return out;
}

Reply post(httplib::Client& c, const std::string& path, const std::string& body) {
  return reply_of(c.Post(path.c_str(), body, "application/json"));
}
Reply patch(httplib::Client& c, const std::string& path, const std::string& body) {
  return reply_of(c.Patch(path.c_str(), body, "application/json"));
}
Reply get(httplib::Client& c, const std::string& path) { return reply_of(c.Get(path.c_str())); }
Reply del(httplib::Client& c, const std::string& path) { return reply_of(c.Delete(path.c_str())); }

std::string account_json(const std::string& handle) { return json{{"handle", handle}}.dump(); }

/// The database as a separate client sees it: its own engine, its own session.
struct Database {
  alchemy::Session session{alchemy::create_engine(test_url())};

  std::int64_t accounts() { return session.query<Account>().count(); }
  std::int64_t notes() { return session.query<Note>().count(); }
  std::set<std::string> handles() {
    std::set<std::string> out;
    for (const auto& a : session.query<Account>().all()) out.insert(a->handle);
    return out;
  }
  /// Handles stored more than once (the UNIQUE constraint says none).
  std::size_t duplicate_handles() {
    return session.query<Account>()
        .with_entities(Account::handle_, alchemy::func::count(Account::id_))
        .group_by(Account::handle_)
        .having(alchemy::func::count(Account::id_) > 1)
        .all()
        .size();
  }
  std::shared_ptr<Account> account(const std::string& handle) {
    return session.query<Account>().filter_by("handle", handle).first();
  }
};

}  // namespace

TEST_CASE("the webapp creates, fetches, updates and deletes an account over HTTP", "[webapp]") {
  RunningApp server;
  REQUIRE(server.running());
  auto c = server.client();

  auto created = post(c, "/accounts", R"({"handle": "jdoe", "display_name": "J. Doe"})");
  REQUIRE(created.status == 201);
  const auto id = created.body.at("id").get<std::int64_t>();
  CHECK(id > 0);
  CHECK(created.body.at("handle") == "jdoe");
  CHECK(created.body.at("display_name") == "J. Doe");
  CHECK(created.body.at("email").is_null());
  CHECK(created.location == "/accounts/" + std::to_string(id));

  auto fetched = get(c, "/accounts/" + std::to_string(id));
  REQUIRE(fetched.status == 200);
  CHECK(fetched.body == created.body);

  auto updated = patch(c, "/accounts/" + std::to_string(id), R"({"email": "jdoe@example.org", "display_name": null})");
  REQUIRE(updated.status == 200);
  CHECK(updated.body.at("email") == "jdoe@example.org");
  CHECK(updated.body.at("display_name").is_null());
  CHECK(updated.body.at("handle") == "jdoe");
  {
    Database db;
    auto row = db.account("jdoe");
    REQUIRE(row);
    CHECK(row->id == id);
    CHECK(row->email == std::optional<std::string>("jdoe@example.org"));
    CHECK_FALSE(row->display_name);
  }

  // One session per request: a change made outside the service shows in the next request,
  // whichever worker thread serves it (a session kept across requests would answer from its
  // identity map).
  for (int i = 0; i < 32; ++i) REQUIRE(get(c, "/accounts/" + std::to_string(id)).status == 200);
  {
    Database db;
    auto row = db.account("jdoe");
    REQUIRE(row);
    row->display_name = "changed elsewhere";
    db.session.commit();
  }
  for (int i = 0; i < 32; ++i) {
    auto again = get(c, "/accounts/" + std::to_string(id));
    REQUIRE(again.status == 200);
    REQUIRE(again.body.at("display_name") == "changed elsewhere");
  }

  auto note = post(c, "/accounts/" + std::to_string(id) + "/notes", R"({"body": "first note"})");
  REQUIRE(note.status == 201);
  CHECK(note.body.at("account_id") == id);
  CHECK(Database{}.notes() == 1);

  CHECK(del(c, "/accounts/" + std::to_string(id)).status == 204);
  CHECK(get(c, "/accounts/" + std::to_string(id)).status == 404);
  CHECK(del(c, "/accounts/" + std::to_string(id)).status == 404);
  CHECK(patch(c, "/accounts/" + std::to_string(id), R"({"email": null})").status == 404);
  CHECK(get(c, "/accounts/" + std::to_string(id) + "/notes").status == 404);
  Database db;
  CHECK(db.accounts() == 0);
  CHECK(db.notes() == 0);  // ON DELETE CASCADE
}

TEST_CASE("a missing account or route is HTTP 404 with a JSON body", "[webapp]") {
  RunningApp server;
  REQUIRE(server.running());
  auto c = server.client();
  auto missing = get(c, "/accounts/424242");
  CHECK(missing.status == 404);
  CHECK(missing.body.at("status") == 404);
  CHECK(missing.body.at("error") == "no account with this id");
  CHECK(get(c, "/accounts/99999999999999999999999").status == 404);  // no 64-bit id
  auto route = get(c, "/no/such/route");
  CHECK(route.status == 404);
  CHECK(route.body.at("status") == 404);
}

TEST_CASE("a taken handle is HTTP 409 and writes nothing", "[webapp]") {
  RunningApp server;
  REQUIRE(server.running());
  auto c = server.client();
  REQUIRE(post(c, "/accounts", account_json("jdoe")).status == 201);
  auto other = post(c, "/accounts", account_json("alice"));
  REQUIRE(other.status == 201);

  auto dup = post(c, "/accounts", R"({"handle": "jdoe", "email": "second@example.org"})");
  CHECK(dup.status == 409);
  CHECK(dup.body.at("error") == "an account with this handle exists");
  auto rename = patch(c, "/accounts/" + std::to_string(other.body.at("id").get<std::int64_t>()),
                      R"({"handle": "jdoe", "email": "alice@example.org"})");
  CHECK(rename.status == 409);

  {
    Database db;
    CHECK(db.accounts() == 2);
    CHECK(db.handles() == std::set<std::string>{"alice", "jdoe"});
    auto jdoe = db.account("jdoe");
    REQUIRE(jdoe);
    CHECK_FALSE(jdoe->email);  // the 409's email was not written
    auto alice = db.account("alice");
    REQUIRE(alice);
    CHECK_FALSE(alice->email);  // neither was the failed PATCH's
  }
  // The worker's session was rolled back and removed: the service goes on.
  for (int i = 0; i < 10; ++i) CHECK(post(c, "/accounts", account_json("after" + std::to_string(i))).status == 201);
  CHECK(Database{}.accounts() == 12);
}

TEST_CASE("bad JSON and bad values are HTTP 400 and write nothing", "[webapp]") {
  RunningApp server;
  REQUIRE(server.running());
  auto c = server.client();
  const std::vector<std::string> bad_bodies = {
      "",
      "not json",
      R"({"handle": "jdoe")",
      "[1, 2]",
      R"("jdoe")",
      R"({})",
      R"({"handle": 5})",
      R"({"handle": null})",
      R"({"handle": ""})",
      R"({"handle": "has space"})",
      R"({"handle": "x'; DROP TABLE webapp_accounts; --"})",
      "{\"handle\": \"" + std::string(51, 'a') + "\"}",
      R"({"handle": "ok", "admin": true})",
      R"({"handle": "ok", "email": 7})",
      "{\"handle\": \"ok\", \"display_name\": \"" + std::string(101, 'x') + "\"}",
  };
  for (const auto& body : bad_bodies) {
    INFO("body: " << body);
    auto r = post(c, "/accounts", body);
    CHECK(r.status == 400);
    CHECK(r.body.at("status") == 400);
    CHECK(r.body.at("error").is_string());
  }
  CHECK(Database{}.accounts() == 0);

  auto ok = post(c, "/accounts", account_json("jdoe"));
  REQUIRE(ok.status == 201);
  const auto path = "/accounts/" + std::to_string(ok.body.at("id").get<std::int64_t>());
  CHECK(patch(c, path, R"({"handle": "", "email": "x@example.org"})").status == 400);
  CHECK(patch(c, path, R"({"email": "x@example.org", "role": "admin"})").status == 400);
  CHECK(patch(c, path, "nope").status == 400);
  CHECK(post(c, path + "/notes", R"({"body": 3})").status == 400);
  CHECK(post(c, path + "/notes", R"({"body": ""})").status == 400);
  for (const char* query : {"?page=x", "?per_page=abc", "?page=1.5", "?page=", "?per_page=99999999999999999999"}) {
    INFO("query: " << query);
    CHECK(get(c, std::string("/accounts") + query).status == 400);
  }
  Database db;
  CHECK(db.accounts() == 1);
  CHECK(db.notes() == 0);
  auto jdoe = db.account("jdoe");
  REQUIRE(jdoe);
  CHECK_FALSE(jdoe->email);
}

TEST_CASE("list endpoints page through the rows with Flask-SQLAlchemy's numbers", "[webapp]") {
  RunningApp server;
  REQUIRE(server.running());
  auto c = server.client();
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 45; ++i) {
    auto r = post(c, "/accounts", account_json("user" + std::to_string(i)));
    REQUIRE(r.status == 201);
    ids.push_back(r.body.at("id").get<std::int64_t>());
  }

  auto first = get(c, "/accounts?per_page=20");
  REQUIRE(first.status == 200);
  CHECK(first.body.at("items").size() == 20);
  CHECK(first.body.at("total") == 45);
  CHECK(first.body.at("page") == 1);
  CHECK(first.body.at("per_page") == 20);
  CHECK(first.body.at("pages") == 3);
  CHECK(first.body.at("has_prev") == false);
  CHECK(first.body.at("prev_num").is_null());
  CHECK(first.body.at("has_next") == true);
  CHECK(first.body.at("next_num") == 2);

  // Following next_num visits every account once, in id order.
  std::vector<std::int64_t> seen;
  json page = first.body;
  for (int guard = 0; guard < 10; ++guard) {
    for (const auto& item : page.at("items")) seen.push_back(item.at("id").get<std::int64_t>());
    if (page.at("next_num").is_null()) break;
    auto next = get(c, "/accounts?per_page=20&page=" + std::to_string(page.at("next_num").get<int>()));
    REQUIRE(next.status == 200);
    page = next.body;
  }
  CHECK(seen == ids);
  CHECK(page.at("page") == 3);
  CHECK(page.at("items").size() == 5);
  CHECK(page.at("has_next") == false);
  CHECK(page.at("prev_num") == 2);

  CHECK(get(c, "/accounts").body.at("per_page") == 20);              // the default
  CHECK(get(c, "/accounts?per_page=1000").body.at("per_page") == 100);  // max_per_page
  CHECK(get(c, "/accounts?per_page=20&page=4").status == 404);        // past the end
  CHECK(get(c, "/accounts?page=0").status == 404);                    // error_out, as Flask
  CHECK(get(c, "/accounts?per_page=0").status == 404);

  // An account's notes page the same way.
  const auto notes = "/accounts/" + std::to_string(ids[3]) + "/notes";
  for (int i = 0; i < 7; ++i)
    REQUIRE(post(c, notes, json{{"body", "note " + std::to_string(i)}}.dump()).status == 201);
  auto notes_page = get(c, notes + "?per_page=3&page=3");
  REQUIRE(notes_page.status == 200);
  CHECK(notes_page.body.at("total") == 7);
  CHECK(notes_page.body.at("pages") == 3);
  REQUIRE(notes_page.body.at("items").size() == 1);
  CHECK(notes_page.body.at("items")[0].at("body") == "note 6");
  CHECK(get(c, "/accounts/" + std::to_string(ids[4]) + "/notes").body.at("total") == 0);
}

TEST_CASE("concurrent clients create and read accounts, and the database agrees", "[webapp][concurrency]") {
  RunningApp server;
  REQUIRE(server.running());
  constexpr int threads = 8;
  constexpr int per_thread = 25;
  constexpr int contested = 5;  // handles every thread tries to take: one wins each

  struct Outcome {
    std::vector<std::string> created;       // handles answered 201
    std::map<int, int> create_statuses;     // of the unique handles
    std::map<int, int> contested_statuses;  // of the shared handles
    std::map<int, int> read_statuses;
    int bad_pages = 0;                      // a 200 page whose numbers do not add up
  };
  std::vector<Outcome> outcomes(threads);
  std::atomic<int> ready{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&, t] {
      auto c = server.client();
      auto& out = outcomes[static_cast<std::size_t>(t)];
      ++ready;
      while (ready.load() < threads) std::this_thread::yield();  // start together
      for (int i = 0; i < per_thread; ++i) {
        const auto handle = "t" + std::to_string(t) + "-" + std::to_string(i);
        auto r = post(c, "/accounts", account_json(handle));
        ++out.create_statuses[r.status];
        if (r.status == 201) out.created.push_back(handle);
        if (i < contested) {
          const auto shared = "shared-" + std::to_string((i + t) % contested);
          auto s = post(c, "/accounts", account_json(shared));
          ++out.contested_statuses[s.status];
          if (s.status == 201) out.created.push_back(shared);
        }
        auto page = get(c, "/accounts?per_page=10&page=1");
        ++out.read_statuses[page.status];
        if (page.status == 200) {
          const auto& b = page.body;
          const auto total = b.at("total").get<std::int64_t>();
          const auto n = static_cast<std::int64_t>(b.at("items").size());
          // The page's SELECT and its count are two statements: under READ COMMITTED (PostgreSQL)
          // the count may already include rows inserted after the SELECT, never fewer.
          if (n < 1 || n > 10 || total < n || b.at("pages") != (total + 9) / 10) ++out.bad_pages;
        }
      }
    });
  }
  for (auto& t : clients) t.join();

  std::map<int, int> create_statuses, contested_statuses, read_statuses;
  std::vector<std::string> created;
  int bad_pages = 0;
  for (const auto& o : outcomes) {
    for (auto [k, v] : o.create_statuses) create_statuses[k] += v;
    for (auto [k, v] : o.contested_statuses) contested_statuses[k] += v;
    for (auto [k, v] : o.read_statuses) read_statuses[k] += v;
    created.insert(created.end(), o.created.begin(), o.created.end());
    bad_pages += o.bad_pages;
  }
  CHECK(create_statuses == std::map<int, int>{{201, threads * per_thread}});
  CHECK(contested_statuses == std::map<int, int>{{201, contested}, {409, threads * contested - contested}});
  CHECK(read_statuses == std::map<int, int>{{200, threads * per_thread}});
  CHECK(bad_pages == 0);

  Database db;
  CHECK(db.accounts() == static_cast<std::int64_t>(created.size()));
  CHECK(created.size() == threads * per_thread + contested);
  CHECK(db.duplicate_handles() == 0);
  CHECK(db.handles() == std::set<std::string>(created.begin(), created.end()));
}
