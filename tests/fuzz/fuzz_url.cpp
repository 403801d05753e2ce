// SPDX-License-Identifier: MIT
// libFuzzer target: alchemy::make_url on arbitrary bytes.
//
// Properties checked on every input:
//   1. make_url never crashes and throws nothing but UrlError.
//   2. A URL it accepts renders (render(false)) to text that parses back to the same URL, field
//      by field; and render() (the masked form) is the same URL with the password as "***".
//   3. A UrlError's message never holds any of the input's password, raw or decoded. The check
//      is differential: the input is parsed a second time with every letter and digit of the
//      password region replaced by another of its class (hex digits stay hex digits,
//      punctuation is kept, so the URL's structure and validity do not change), and the two
//      messages must be the same text. Searching the second message for the new password alone
//      gave false alarms on English words ("ted" in "unexpected", "dat" in "database").
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
  const auto region = password_region(raw);
  if (!region) return;
  const auto [begin, end] = *region;
  if (!has_alnum(raw.substr(begin, end - begin))) return;
  // The same URL with another password of the same shape: the parse takes the same path, so a
  // message that names no part of the password is the same text, word for word.
  std::string other(raw);
  for (std::size_t i = begin; i < end; ++i) other[i] = rotate(other[i]);
  const auto other_message = error_of(other);
  if (!other_message) fail("replacing the password's letters made the URL valid", raw, other);
  if (*other_message != message)
    fail("the UrlError message changes with the password, so it holds some of it", raw,
         "[" + message + "]\n  with the password's letters replaced: [" + *other_message + "]");
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
