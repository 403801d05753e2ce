// SPDX-License-Identifier: MIT
// libFuzzer target: alchemy::make_url on arbitrary bytes.
//
// Properties checked on every input:
//   1. make_url never crashes and throws nothing but UrlError.
//   2. A URL it accepts renders (render(false)) to text that parses back to the same URL, field
//      by field; and render() (the masked form) is the same URL with the password as "***".
//   3. A UrlError's message never holds the input's password, raw or decoded. The check is
//      differential, so English words in the message cannot give false alarms: the input is
//      parsed a second time with every letter and digit of the password region replaced by
//      another of its class (hex digits stay hex digits, punctuation is kept, so the URL's
//      structure and validity do not change). A leak is a message that holds the password in
//      the first run and the replaced password in the second.
// Any violation aborts, which libFuzzer reports as a crash with the input saved.
#include <alchemy/engine/url.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail) {
  std::fprintf(stderr, "fuzz_url: %s\n  input (%zu bytes): ", what, input.size());
  for (unsigned char c : input) std::fprintf(stderr, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
  std::fprintf(stderr, "\n  detail: %s\n", detail.c_str());
  std::abort();
}

/// Where make_url's grammar puts the password in `raw`: [begin, end), or nothing.
std::optional<std::pair<std::size_t, std::size_t>> password_region(std::string_view raw) {
  const auto scheme_end = raw.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  const std::size_t start = scheme_end + 3;
  std::string_view rest = raw.substr(start);
  rest = rest.substr(0, rest.find('?'));
  const std::string_view authority = rest.substr(0, rest.find('/'));
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  const auto colon = authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return std::make_pair(start + colon + 1, start + at);
}

/// Percent-decoding that never fails (bad escapes are kept as they are).
std::string lenient_decode(std::string_view s) {
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

/// Another character of the same class: digits and the hex letters stay within their ranges.
char rotate(char c) {
  const auto in = [&](char lo, char hi) { return c >= lo && c <= hi; };
  const auto rot = [&](char lo, char hi) { return static_cast<char>(c == hi ? lo : c + 1); };
  if (in('0', '9')) return rot('0', '9');
  if (in('a', 'f')) return rot('a', 'f');
  if (in('A', 'F')) return rot('A', 'F');
  if (in('g', 'z')) return rot('g', 'z');
  if (in('G', 'Z')) return rot('G', 'Z');
  return c;
}

/// `s` without the characters rotate() keeps (quotes, '*', bytes...) at either end. The message
/// quotes the URL, so a password ending in "'" would otherwise match "...pw'" wherever the text
/// before that quote is the end of the database name; a copied password holds its core too.
std::string_view core_of(std::string_view s) {
  const auto keeps = [](char c) { return rotate(c) == c; };
  while (!s.empty() && keeps(s.front())) s.remove_prefix(1);
  while (!s.empty() && keeps(s.back())) s.remove_suffix(1);
  return s;
}

bool has_alnum(std::string_view s) {
  for (char c : s)
    if (rotate(c) != c) return true;
  return false;
}

std::string repr(const alchemy::Url& u) {
  std::string s = "drivername=[" + u.drivername + "] username=[" + u.username + "] password=[" +
                  u.password + "] host=[" + u.host + "] port=[" +
                  (u.port ? std::to_string(*u.port) : std::string("-")) + "] database=[" +
                  u.database + "] query=";
  for (const auto& [k, v] : u.query) s += "[" + k + "=" + v + "]";
  return s;
}

bool same(const alchemy::Url& a, const alchemy::Url& b) {
  return a.drivername == b.drivername && a.username == b.username && a.password == b.password &&
         a.host == b.host && a.port == b.port && a.database == b.database && a.query == b.query;
}

std::optional<std::string> error_of(std::string_view raw) {
  try {
    (void)alchemy::make_url(raw);
    return std::nullopt;
  } catch (const alchemy::UrlError& e) {
    return std::string(e.what());
  }
}

void check_accepted(std::string_view raw, const alchemy::Url& url) {
  const std::string text = url.render(false);
  alchemy::Url again;
  try {
    again = alchemy::make_url(text);
  } catch (const alchemy::UrlError& e) {
    fail("render(false) of an accepted URL does not parse", raw,
         repr(url) + " rendered as [" + text + "]: " + e.what());
  }
  if (!same(url, again))
    fail("render(false) does not round-trip", raw,
         repr(url) + " rendered as [" + text + "] parses as " + repr(again));
  if (!url.password.empty()) {
    alchemy::Url masked = url;
    masked.password = "***";
    if (url.render() != masked.render(false))
      fail("render() is not the URL with its password masked", raw, url.render());
  }
}

void check_rejected(std::string_view raw, const std::string& message) {
  (void)message;
  const auto region = password_region(raw);
  if (!region) return;
  const auto [begin, end] = *region;
  const std::string_view pw_raw = raw.substr(begin, end - begin);
  if (pw_raw.size() < 3 || !has_alnum(pw_raw)) return;
  const std::string_view before = raw.substr(0, begin), after = raw.substr(end);
  const auto elsewhere = [&](std::string_view s) {  // s occurs in the input outside the password
    if (s.empty()) return true;
    for (const auto part : {before, after})
      if (part.find(s) != std::string_view::npos || lenient_decode(part).find(s) != std::string::npos) return true;
    return false;
  };
  // Replace the password's letters and digits (keeping their classes, so the URL parses the
  // same way) until it is a text found nowhere else in the input: then a message that holds it
  // can only have copied it from the password. (With the original password a user name or port
  // that happens to contain the same text would look like an echo.)
  for (int steps = 1; steps <= 9; ++steps) {
    std::string other(raw);
    for (std::size_t i = begin; i < end; ++i)
      for (int k = 0; k < steps; ++k) other[i] = rotate(other[i]);
    const std::string_view other_pw_raw = core_of(std::string_view(other).substr(begin, end - begin));
    const std::string decoded = lenient_decode(std::string_view(other).substr(begin, end - begin));
    const std::string other_pw(core_of(decoded));
    const bool check_raw = other_pw_raw.size() >= 3 && !elsewhere(other_pw_raw);
    const bool check_decoded = other_pw.size() >= 3 && !elsewhere(other_pw);
    if (!check_raw && !check_decoded) continue;
    const auto other_message = error_of(other);
    if (!other_message) fail("replacing the password's letters made the URL valid", raw, other);
    if (check_raw && other_message->find(other_pw_raw) != std::string::npos)
      fail("UrlError message holds the raw password", other, *other_message);
    if (check_decoded && other_message->find(other_pw) != std::string::npos)
      fail("UrlError message holds the decoded password", other, *other_message);
    return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  alchemy::Url url;
  try {
    url = alchemy::make_url(raw);
  } catch (const alchemy::UrlError& e) {
    check_rejected(raw, e.what());
    return 0;
  } catch (const std::exception& e) {
    fail("make_url threw something other than UrlError", raw, e.what());
  }
  check_accepted(raw, url);
  return 0;
}
