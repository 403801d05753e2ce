// SPDX-License-Identifier: MIT
// Secrets stay out of what alchemy writes: no parameter value in any exception message (with or
// without hide_parameters), none in the echo log with hide_parameters, and no password in a
// connection error, a log line, Engine::repr() or Url::render() -- for a host that does not
// resolve, a wrong password and a database that does not exist, with a password full of URL
// metacharacters. (test_engine.cpp checks the plain-password cases.)
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_secrets {

namespace secrets_suite {

struct Secret : alchemy::Model<Secret> {
  ALCHEMY_TABLENAME("sec_secrets");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key, alchemy::no_autoincrement);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(20), alchemy::unique);
  ALCHEMY_COLUMN(std::string, body, alchemy::Text);
};

/// Every value below holds this marker; no message or hidden log may.
constexpr const char* kMarker = "S3CRET";

struct Log {
  std::vector<std::string> lines;
  alchemy::LogSink sink() {
    return [this](std::string_view l) { lines.emplace_back(l); };
  }
  bool contains(std::string_view text) const {
    for (const auto& l : lines)
      if (l.find(text) != std::string::npos) return true;
    return false;
  }
};

}  // namespace secrets_suite

using namespace secrets_suite;

TEST_CASE("no exception message holds a parameter value, and hide_parameters keeps them out of the log",
          "[suite][secrets]") {
  for (const bool hide : {false, true}) {
    INFO("hide_parameters = " << hide);
    Log log;
    alchemy::Config config;
    config.SQLALCHEMY_ENGINE_OPTIONS.echo = true;
    config.SQLALCHEMY_ENGINE_OPTIONS.hide_parameters = hide;
    config.SQLALCHEMY_ENGINE_OPTIONS.log = log.sink();
    auto db = test::fresh_db<Secret>(nullptr, config);
    if (!db) return;
    auto& s = db->session();
    Secret ok;
    ok.id = 1, ok.handle = "S3CRET-handle", ok.body = "S3CRET-body";
    s.add(ok);
    s.commit();

    std::vector<std::string> messages;
    int thrown = 0;
    const auto attempt = [&](int64_t id, std::string handle, std::string body) {
      Secret x;
      x.id = id, x.handle = std::move(handle), x.body = std::move(body);
      s.add(x);
      try {
        s.commit();
        s.close();
        return false;
      } catch (const alchemy::DatabaseError& e) {
        ++thrown;
        messages.push_back(e.what());
        messages.push_back(e.server_message());
        messages.push_back(e.statement());
        s.rollback();
        return true;
      }
    };
    {
      Secret dup;
      dup.id = 2, dup.handle = "S3CRET-handle", dup.body = "S3CRET-dup";
      s.add(dup);
      try {
        s.commit();
        FAIL("a duplicate unique value was accepted");
      } catch (const alchemy::IntegrityError& e) {
        messages.push_back(e.what());
        messages.push_back(e.server_message());
        s.rollback();
      }
    }
    const bool server = test::backend() != "sqlite";
    CHECK(attempt(3, "S3CRET-is-longer-than-20", "b") == server);             // String(20) overflow
    CHECK(attempt(4, "h4", std::string("S3CRET\0nul", 10)) == (test::backend() == "postgresql"));
    CHECK(attempt(5, "h5", "S3CRET-\xff\xfe-not-utf8") == server);             // invalid UTF-8
    CHECK(attempt(6, "h6", "S3CRET-\xC3\x28") == server);
    try {
      s.query<Secret>().filter_by("handle", int64_t(73313)).count();
      FAIL("filter_by with a number on a text column was accepted");
    } catch (const alchemy::ArgumentError& e) {
      messages.push_back(e.what());
      CHECK(messages.back().find("73313") == std::string::npos);
    }
    s.close();
    CHECK(thrown >= (server ? 3 : 0));
    for (const auto& m : messages) {
      INFO(m);
      CHECK(m.find(kMarker) == std::string::npos);
    }
    if (hide) {
      CHECK_FALSE(log.contains(kMarker));
      CHECK(log.contains("[SQL parameters hidden due to hide_parameters=True]"));
    } else {
      CHECK(log.contains(kMarker));  // the capture works: echo shows values unless hidden
    }
    s.close();
  }
}

TEST_CASE("a password with URL metacharacters stays out of connection errors, echo logs, repr and render",
          "[suite][secrets]") {
  if (!test::available()) return;
  const auto base = alchemy::make_url(test::url());
  const std::string secret = "S3CRET-p@ss:w/rd?%&#x";
  std::vector<std::string> texts;
  Log log;
  alchemy::EngineOptions opts;
  opts.echo = true;
  opts.log = log.sink();
  opts.pool_timeout = std::chrono::duration<double>(0.2);
  const auto fails = [&](alchemy::Url url) {
    url.password = secret;
    alchemy::Engine engine(url, opts);
    texts.push_back(engine.repr());
    texts.push_back(engine.url().render());
    std::ostringstream os;
    os << engine << " " << engine.url();
    texts.push_back(os.str());
    try {
      engine.connect();
      return false;
    } catch (const alchemy::Error& e) {
      texts.push_back(e.what());
      return true;
    }
  };
  if (test::backend() == "sqlite") {
    // No server to reject a password: the URL must still never print it.
    auto url = alchemy::make_url("postgresql://u@127.0.0.1:1/db");
    url.password = secret;
    texts.push_back(url.render());
    std::ostringstream os;
    os << url;
    texts.push_back(os.str());
    CHECK(alchemy::make_url(url.render(false)).password == secret);  // kept, only never shown
  } else {
    auto bad_host = base;
    bad_host.host = "no-such-host.invalid";
    CHECK(fails(bad_host));
    CHECK(fails(base));  // wrong password
    auto bad_db = base;
    bad_db.database = "no_such_database_s3cret";
    CHECK(fails(bad_db));
  }
  texts.insert(texts.end(), log.lines.begin(), log.lines.end());
  REQUIRE_FALSE(texts.empty());
  for (const auto& t : texts) {
    INFO(t);
    CHECK(t.find(kMarker) == std::string::npos);
    CHECK(t.find("p@ss") == std::string::npos);
    CHECK(t.find("p%40ss") == std::string::npos);
  }
}

}  // namespace suite_secrets
