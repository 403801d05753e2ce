// SPDX-License-Identifier: MIT
// File: engine/url.hpp
//
// Database URLs in SQLAlchemy's grammar:
//
//   dialect[+driver]://[user[:password]@][host[:port]][/database][?key=value&...]
//
//   make_url("postgresql://app:s%40cret@db:5432/app?sslmode=require")
//   make_url("sqlite:///relative.db")      // file relative to the working directory
//   make_url("sqlite:////abs/path.db")     // absolute path
//   make_url("sqlite://")                  // in memory (so is sqlite:///:memory:)
//
// User, password, database and query parts are percent-decoded. A URL prints with its password
// as "***"; so does every error message that quotes one.
#ifndef ALCHEMY_ENGINE_URL_HPP_
#define ALCHEMY_ENGINE_URL_HPP_

#include <algorithm>
#include <charconv>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alchemy/config.hpp"
#include "alchemy/dialect/driver.hpp"
#include "alchemy/error.hpp"

namespace alchemy {

/// A parsed database URL.
struct Url {
  std::string drivername;  ///< "postgresql+libpq", or just the dialect
  std::string username;
  std::string password;
  std::string host;
  std::optional<int> port;
  std::string database;
  std::vector<std::pair<std::string, std::string>> query;

  /// "postgresql" of "postgresql+libpq".
  std::string_view dialect() const noexcept {
    std::string_view d = drivername;
    return d.substr(0, d.find('+'));
  }
  /// "libpq" of "postgresql+libpq"; empty when none is named.
  std::string_view driver() const noexcept {
    std::string_view d = drivername;
    const auto plus = d.find('+');
    return plus == std::string_view::npos ? std::string_view{} : d.substr(plus + 1);
  }
  /// True for SQLite's in-memory database: "sqlite://" and "sqlite:///:memory:".
  bool is_memory() const noexcept {
    return dialect() == "sqlite" && (database.empty() || database == ":memory:");
  }

  /// The URL as text; the password is "***" unless `hide_password` is false.
  std::string render(bool hide_password = true) const;

  /// The parts a driver needs to connect.
  dialect::ConnectParams connect_params() const {
    dialect::ConnectParams p;
    p.host = host;
    p.port = port;
    p.username = username;
    p.password = password;
    p.database = is_memory() ? std::string(":memory:") : database;
    p.query = query;
    return p;
  }

  friend std::ostream& operator<<(std::ostream& os, const Url& u) { return os << u.render(); }

 private:
  static std::string encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
      if (c == ':' || c == '@' || c == '/' || c == '%' || c == '?' || c == '&' || c == '=' ||
          c == '#' || c <= 0x20 || c >= 0x7f) {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      } else {
        out += static_cast<char>(c);
      }
    }
    return out;
  }
  /// A database name or path: '/' and ':' stay as they are (sqlite:////abs/path, C:/x.db); what
  /// make_url would split on or decode ('?', '%', and '@', which would end a password) is
  /// percent-encoded.
  static std::string encode_path(std::string_view s) {
    std::string out;
    for (char c : s) {
      if (c == '%')
        out += "%25";
      else if (c == '?')
        out += "%3F";
      else if (c == '@')
        out += "%40";
      else
        out += c;
    }
    return out;
  }
};

/// Parses a URL string. Throws UrlError naming what is wrong; the password is never echoed.
ALCHEMY_INLINE Url make_url(std::string_view raw);

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE std::string Url::render(bool hide_password) const {
  std::string s = drivername + "://";
  if (!username.empty() || !password.empty()) {  // "postgresql://:pw@host" has a password too
    s += encode(username);
    if (!password.empty()) s += ":" + (hide_password ? std::string("***") : encode(password));
    s += "@";
  }
  if (host.find(':') != std::string::npos)
    s += "[" + host + "]";
  else
    s += host;
  if (port) s += ":" + std::to_string(*port);
  if (!database.empty()) s += "/" + encode_path(database);
  for (std::size_t i = 0; i < query.size(); ++i)
    s += (i == 0 ? "?" : "&") + encode(query[i].first) + "=" + encode(query[i].second);
  return s;
}

namespace detail {

/// `raw` with anything between "user:" and "@" replaced by "***", for error messages.
ALCHEMY_INLINE std::string mask_raw_url(std::string_view raw) {
  const auto scheme_end = raw.find("://");
  // Without a well-formed scheme in front, "://" may be anywhere (even inside a password).
  const auto scheme_ok = [&] {
    for (char c : raw.substr(0, scheme_end))
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
            c == '_' || c == '-' || c == '.'))
        return false;
    return true;
  };
  if (scheme_end == std::string_view::npos || !scheme_ok()) {
    // No recognisable structure: show nothing that might be a secret.
    const auto at = raw.rfind('@');
    return at == std::string_view::npos ? std::string(raw) : "***" + std::string(raw.substr(at));
  }
  const auto auth_start = scheme_end + 3;
  const auto at = raw.rfind('@');
  if (at == std::string_view::npos || at < auth_start) return std::string(raw);
  const auto colon = raw.find(':', auth_start);
  if (colon == std::string_view::npos || colon > at) return std::string(raw);
  return std::string(raw.substr(0, colon + 1)) + "***" + std::string(raw.substr(at));
}

ALCHEMY_INLINE std::string percent_decode(std::string_view s, std::string_view part, std::string_view raw) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    const auto hex = [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    if (i + 2 >= s.size() || !hex(s[i + 1]) || !hex(s[i + 2]))
      throw UrlError("Invalid percent-encoding in the " + std::string(part) + " of URL '" +
                     mask_raw_url(raw) + "'");
    int v = 0;
    std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

}  // namespace detail

ALCHEMY_INLINE Url make_url(std::string_view raw) {
  const auto fail = [&](const std::string& why) -> UrlError {
    return UrlError("Could not parse database URL '" + detail::mask_raw_url(raw) + "': " + why);
  };
  const auto scheme_end = raw.find("://");
  if (scheme_end == std::string_view::npos)
    throw fail("expected 'dialect[+driver]://...', e.g. 'sqlite:///app.db'");
  Url url;
  url.drivername = std::string(raw.substr(0, scheme_end));
  if (url.drivername.empty()) throw fail("the dialect name is empty");
  for (char c : url.drivername) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '_' || c == '-' || c == '.';
    // Not quoted: text before "://" that is no dialect name may be part of a password.
    if (!ok) throw fail("the dialect name has an invalid character");
  }
  std::string_view rest = raw.substr(scheme_end + 3);

  // user[:password]@, read as SQLAlchemy's URL pattern reads it: the user name stops at ':' or
  // '/', and the password runs to the first '@', whatever it holds ('/' and '?' included).
  {
    const auto stop = std::min(rest.find_first_of(":/"), rest.size());
    std::size_t at = std::string_view::npos;
    if (stop < rest.size() && rest[stop] == ':') at = rest.find('@', stop + 1);
    if (at != std::string_view::npos) {
      url.username = detail::percent_decode(rest.substr(0, stop), "user name", raw);
      url.password = detail::percent_decode(rest.substr(stop + 1, at - stop - 1), "password", raw);
      rest = rest.substr(at + 1);
    } else if (const auto user_at = rest.substr(0, stop).rfind('@'); user_at != std::string_view::npos) {
      url.username = detail::percent_decode(rest.substr(0, user_at), "user name", raw);
      rest = rest.substr(user_at + 1);
    }
  }

  // The query string.
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    std::string_view qs = rest.substr(q + 1);
    rest = rest.substr(0, q);
    while (!qs.empty()) {
      const auto amp = qs.find('&');
      const std::string_view pair = qs.substr(0, amp);
      qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      if (eq == std::string_view::npos || eq == 0)
        throw fail("query option '" + std::string(pair.substr(0, eq)) + "' needs the form key=value");
      url.query.emplace_back(detail::percent_decode(pair.substr(0, eq), "query", raw),
                             detail::percent_decode(pair.substr(eq + 1), "query", raw));
    }
  }

  // Host and port, then the database path.
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos)
    url.database = detail::percent_decode(rest.substr(slash + 1), "database", raw);

  // A second '@' (the password runs to the first one): host and port would hold the rest of the
  // password, so neither is echoed.
  if (authority.find('@') != std::string_view::npos)
    throw fail("the host contains '@': write an '@' in the user name or password as %40");
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    const auto close = authority.find(']');
    if (close == std::string_view::npos) throw fail("unterminated '[' in the host");
    url.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw fail("unexpected text after the IPv6 host");
      port_text = after.substr(1);
      if (port_text.empty()) throw fail("the port is empty");
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    url.host = std::string(authority.substr(0, colon));
    port_text = authority.substr(colon + 1);
    if (port_text.empty()) throw fail("the port is empty");
  } else {
    url.host = std::string(authority);
  }
  // Brackets only delimit an IPv6 address; inside a host name they could not be rendered back.
  if (url.host.find_first_of("[]") != std::string::npos)
    throw fail("'[' and ']' may only enclose an IPv6 host, as in [::1]:5432");
  if (!port_text.empty()) {
    int port = 0;
    const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || ptr != port_text.data() + port_text.size() || port < 1 || port > 65535)
      throw fail("the port '" + std::string(port_text) + "' is not a number from 1 to 65535");
    url.port = port;
  }
  if (url.dialect() == "sqlite" && (!url.host.empty() || url.port))
    throw fail("a SQLite URL has no host: use sqlite:///relative.db or sqlite:////absolute.db");
  return url;
}
#endif  // ALCHEMY_IMPL

}  // namespace alchemy

#endif  // ALCHEMY_ENGINE_URL_HPP_
