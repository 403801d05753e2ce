// SPDX-License-Identifier: MIT
// examples/webapp/app.hpp — a small JSON service in the spirit of a Flask app: accounts and
// their notes over HTTP, one alchemy session per request. main.cpp runs it; test_webapp.cpp
// starts it in-process on a loopback port and drives it with real HTTP requests.
//
//   POST   /accounts                 {"handle": "jdoe", "display_name": "J. Doe", "email": null}
//   GET    /accounts?page=1&per_page=20
//   GET    /accounts/<id>
//   PATCH  /accounts/<id>            any of handle, display_name, email
//   DELETE /accounts/<id>            (its notes go with it: ON DELETE CASCADE)
//   POST   /accounts/<id>/notes      {"body": "..."}
//   GET    /accounts/<id>/notes?page=&per_page=
//
// Errors are JSON {"error": <message>, "status": <code>}: bad JSON or a bad value 400,
// alchemy::NotFound (get_or_404, a page past the end) 404, alchemy::IntegrityError (a taken
// handle) 409 after a rollback, so nothing is written; a deadlock or serialization failure is
// retried twice, then 503; anything else 500 with a generic message (the details go to stderr).
// docs/webapp.md has the whole contract.
#ifndef ALCHEMY_EXAMPLES_WEBAPP_APP_HPP_
#define ALCHEMY_EXAMPLES_WEBAPP_APP_HPP_

#include <alchemy/alchemy.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace webapp {

struct Account : alchemy::Model<Account> {
  ALCHEMY_TABLENAME("webapp_accounts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::optional<std::string>, display_name, alchemy::String(100));
  ALCHEMY_COLUMN(std::optional<std::string>, email, alchemy::String(120));
};

struct Note : alchemy::Model<Note> {
  ALCHEMY_TABLENAME("webapp_notes");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, account_id, alchemy::ForeignKey("webapp_accounts.id", alchemy::on_delete_cascade),
                 alchemy::index);
  ALCHEMY_COLUMN(std::string, body, alchemy::Text);
};

/// A request the client got wrong: HTTP 400 with this message.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A NULL-able value as JSON: null or the value (nlohmann-json 3.11 has no std::optional).
template <class T>
nlohmann::json or_null(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

inline nlohmann::json to_json(const Account& a) {
  return {{"id", a.id}, {"handle", a.handle}, {"display_name", or_null(a.display_name)}, {"email", or_null(a.email)}};
}
inline nlohmann::json to_json(const Note& n) {
  return {{"id", n.id}, {"account_id", n.account_id}, {"body", n.body}};
}

namespace detail {

/// The request body as a JSON object, or BadRequest.
inline nlohmann::json parse_object(const httplib::Request& req) {
  auto body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) throw BadRequest("the body is not valid JSON");
  if (!body.is_object()) throw BadRequest("the body must be a JSON object");
  return body;
}

/// Rejects keys a handler does not know, so a typo is not silently ignored.
inline void only_keys(const nlohmann::json& body, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : body.items()) {
    bool ok = false;
    for (auto k : known) ok = ok || key == k;
    if (!ok) throw BadRequest("unknown field '" + key + "'");
  }
}

inline std::string handle_value(const nlohmann::json& v) {
  if (!v.is_string()) throw BadRequest("handle must be a string");
  auto s = v.get<std::string>();
  if (s.empty() || s.size() > 50) throw BadRequest("handle must be 1 to 50 characters");
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) throw BadRequest("handle may hold only letters, digits, '_', '-' and '.'");
  }
  return s;
}

/// A NULL-able text field: a string of at most `max` bytes, or null.
inline std::optional<std::string> optional_text(const nlohmann::json& v, const char* name, std::size_t max) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) throw BadRequest(std::string(name) + " must be a string or null");
  auto s = v.get<std::string>();
  if (s.size() > max) throw BadRequest(std::string(name) + " is longer than " + std::to_string(max) + " bytes");
  return s;
}

/// An integer query parameter, absent → nullopt, anything but a decimal integer → BadRequest.
inline std::optional<std::int64_t> int_param(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  const auto s = req.get_param_value(name);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size())
    throw BadRequest(std::string(name) + " must be an integer");
  return v;
}

/// The <id> of a route /.../(\d+): digits that do not fit in 64 bits name no row (404).
inline std::int64_t id_param(const httplib::Request& req, std::size_t index = 1) {
  const auto s = req.matches[static_cast<int>(index)].str();
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size()) throw alchemy::NotFound("no such id");
  return v;
}

inline void send(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

inline void send_error(httplib::Response& res, int status, const std::string& message) {
  send(res, status, {{"error", message}, {"status", status}});
}

template <class T>
nlohmann::json page_json(const alchemy::Pagination<T>& p) {
  auto items = nlohmann::json::array();
  for (const auto& obj : p) items.push_back(to_json(*obj));
  return {{"items", std::move(items)},   {"total", p.total().value_or(0)}, {"page", p.page()},
          {"per_page", p.per_page()},     {"pages", p.pages()},             {"has_prev", p.has_prev()},
          {"has_next", p.has_next()},     {"prev_num", or_null(p.prev_num())},       {"next_num", or_null(p.next_num())}};
}

}  // namespace detail

/// The service: one SQLAlchemy object, an httplib::Server and its routes. Thread-safe as
/// httplib needs: each request runs on a worker thread and uses that thread's db.session.
class App {
 public:
  /// Opens the database and creates the missing tables; `reset` drops them first.
  explicit App(const std::string& url, bool reset = false) : db_(url) {
    if (reset) db_.drop_all<Note, Account>();
    db_.create_all<Account, Note>();
    routes();
  }

  /// Binds 127.0.0.1:port (0: a free port) and returns the port, or -1 when it cannot bind.
  int bind(int port) {
    if (port == 0) return server_.bind_to_any_port("127.0.0.1");
    return server_.bind_to_port("127.0.0.1", port) ? port : -1;
  }
  /// Serves until stop(); false when the server could not run.
  bool listen() { return server_.listen_after_bind(); }
  bool is_running() const { return server_.is_running(); }
  void stop() { server_.stop(); }

  alchemy::SQLAlchemy& db() { return db_; }

 private:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  /// Every route goes through here: the request's work, its errors mapped to HTTP codes, and
  /// db.session.remove() at the end whatever happened (Flask-SQLAlchemy's teardown).
  Handler route(Handler work) {
    return [this, work = std::move(work)](const httplib::Request& req, httplib::Response& res) {
      struct Teardown {
        alchemy::SQLAlchemy& db;
        ~Teardown() { db.session.remove(); }
      } teardown{db_};
      for (int attempt = 1;; ++attempt) {
        try {
          work(req, res);
          return;
        } catch (const BadRequest& e) {
          return detail::send_error(res, 400, e.what());
        } catch (const alchemy::NotFound& e) {
          return detail::send_error(res, 404, e.description().empty() ? "not found" : e.description());
        } catch (const alchemy::ValidationError& e) {
          return detail::send_error(res, 400, e.what());
        } catch (const alchemy::IntegrityError& e) {
          db_.session.rollback();  // nothing of this request is written
          return detail::send_error(res, 409, conflict_message(e));
        } catch (const alchemy::DatabaseError& e) {
          db_.session.rollback();
          if (e.retryable() && attempt < 3) continue;  // deadlock or serialization failure
          std::fprintf(stderr, "webapp: %s %s: %s\n", req.method.c_str(), req.path.c_str(), e.what());
          return detail::send_error(res, e.retryable() ? 503 : 500,
                                    e.retryable() ? "busy, try again" : "internal error");
        } catch (const std::exception& e) {
          std::fprintf(stderr, "webapp: %s %s: %s\n", req.method.c_str(), req.path.c_str(), e.what());
          return detail::send_error(res, 500, "internal error");
        }
      }
    };
  }

  static std::string conflict_message(const alchemy::IntegrityError& e) {
    if (e.constraint() == alchemy::Constraint::unique) return "an account with this handle exists";
    return "the request conflicts with the data";
  }

  void routes() {
    using httplib::Request;
    using httplib::Response;
    server_.Post("/accounts", route([this](const Request& req, Response& res) {
      auto body = detail::parse_object(req);
      detail::only_keys(body, {"handle", "display_name", "email"});
      if (!body.contains("handle")) throw BadRequest("handle is required");
      Account a;
      a.handle = detail::handle_value(body["handle"]);
      if (body.contains("display_name")) a.display_name = detail::optional_text(body["display_name"], "display_name", 100);
      if (body.contains("email")) a.email = detail::optional_text(body["email"], "email", 120);
      auto account = db_.session.add(std::move(a));
      db_.session.commit();
      res.set_header("Location", "/accounts/" + std::to_string(account->id));
      detail::send(res, 201, to_json(*account));
    }));

    server_.Get("/accounts", route([this](const Request& req, Response& res) {
      auto page = db_.session.query<Account>().order_by(Account::id_).paginate(
          {.page = detail::int_param(req, "page"), .per_page = detail::int_param(req, "per_page"), .max_per_page = 100});
      detail::send(res, 200, detail::page_json(page));
    }));

    server_.Get(R"(/accounts/(\d+))", route([this](const Request& req, Response& res) {
      auto account = db_.session.query<Account>().get_or_404(detail::id_param(req), "no account with this id");
      detail::send(res, 200, to_json(*account));
    }));

    server_.Patch(R"(/accounts/(\d+))", route([this](const Request& req, Response& res) {
      auto body = detail::parse_object(req);
      detail::only_keys(body, {"handle", "display_name", "email"});
      // Validate everything before touching the object: a 400 changes nothing.
      std::optional<std::string> handle;
      if (body.contains("handle")) handle = detail::handle_value(body["handle"]);
      std::optional<std::optional<std::string>> display_name, email;
      if (body.contains("display_name")) display_name = detail::optional_text(body["display_name"], "display_name", 100);
      if (body.contains("email")) email = detail::optional_text(body["email"], "email", 120);
      auto account = db_.session.query<Account>().get_or_404(detail::id_param(req), "no account with this id");
      if (handle) account->handle = *handle;
      if (display_name) account->display_name = *display_name;
      if (email) account->email = *email;
      db_.session.commit();
      detail::send(res, 200, to_json(*account));
    }));

    server_.Delete(R"(/accounts/(\d+))", route([this](const Request& req, Response& res) {
      auto account = db_.session.query<Account>().get_or_404(detail::id_param(req), "no account with this id");
      db_.session.delete_(account);
      db_.session.commit();
      res.status = 204;
    }));

    server_.Post(R"(/accounts/(\d+)/notes)", route([this](const Request& req, Response& res) {
      auto body = detail::parse_object(req);
      detail::only_keys(body, {"body"});
      if (!body.contains("body") || !body["body"].is_string()) throw BadRequest("body must be a string");
      auto text = body["body"].get<std::string>();
      if (text.empty() || text.size() > 10000) throw BadRequest("body must be 1 to 10000 bytes");
      auto account = db_.session.query<Account>().get_or_404(detail::id_param(req), "no account with this id");
      Note n;
      n.account_id = account->id;
      n.body = std::move(text);
      auto note = db_.session.add(std::move(n));
      db_.session.commit();
      detail::send(res, 201, to_json(*note));
    }));

    server_.Get(R"(/accounts/(\d+)/notes)", route([this](const Request& req, Response& res) {
      auto account = db_.session.query<Account>().get_or_404(detail::id_param(req), "no account with this id");
      auto page = db_.session.query<Note>().filter(Note::account_id_ == account->id).order_by(Note::id_).paginate(
          {.page = detail::int_param(req, "page"), .per_page = detail::int_param(req, "per_page"), .max_per_page = 100});
      detail::send(res, 200, detail::page_json(page));
    }));

    // Unknown paths and methods, and httplib's own errors, answer in JSON too.
    server_.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) detail::send_error(res, res.status, res.status == 404 ? "no such route" : "error");
    });
    server_.set_payload_max_length(1 << 20);
  }

  alchemy::SQLAlchemy db_;
  httplib::Server server_;
};

}  // namespace webapp

#endif  // ALCHEMY_EXAMPLES_WEBAPP_APP_HPP_
