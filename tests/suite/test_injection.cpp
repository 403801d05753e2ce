// SPDX-License-Identifier: MIT
// Injection properties on all three backends. Hostile byte strings (quotes, backslashes, LIKE
// wildcards, placeholders, NUL, invalid UTF-8, a megabyte, random bytes from a fixed seed) are
// used in insert, update (dirty tracking and bulk), filter_by, ==, in_ and like:
//  - the SQL text sent is byte for byte the text sent for a plain value (so the value can never
//    reach it), and
//  - every value the backend can store comes back exactly; one it cannot (NUL in PostgreSQL
//    text, invalid UTF-8 in PostgreSQL or MariaDB utf8mb4 text) is refused with DataError, and
//    nothing is written.
// Blob columns take every byte string on every backend.
#include <algorithm>
#include <cstdio>
#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_injection {

namespace injection_suite {

struct Doc : alchemy::Model<Doc> {
  ALCHEMY_TABLENAME("inj_docs");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, body, alchemy::Text);
  ALCHEMY_COLUMN(std::optional<std::string>, note, alchemy::Text);
};

struct Bin : alchemy::Model<Bin> {
  ALCHEMY_TABLENAME("inj_bins");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(alchemy::Blob, data);
};

struct Payload {
  std::string name;
  std::string value;
};

/// The seed of the random payloads: fixed, so a failure names a reproducible input.
constexpr std::uint32_t kSeed = 20261124;

/// Hostile strings: hand-picked, a megabyte, random bytes and random mixes of SQL fragments.
inline std::vector<Payload> payloads() {
  std::vector<Payload> out;
  const auto add = [&](std::string name, std::string v) { out.push_back({std::move(name), std::move(v)}); };
  add("single quote", "'");
  add("doubled quotes", "''");
  add("tautology", "' OR '1'='1");
  add("stacked statement", "x'); DROP TABLE inj_docs; --");
  add("double quote", "\" OR \"\"=\"");
  add("backtick", "`inj_docs`");
  add("backslash", "\\");
  add("backslash quote", "\\'; SELECT 1; --");
  add("trailing backslash", "abc\\");
  add("percent", "%");
  add("underscore", "_");
  add("like wildcards and escapes", "%_%\\%\\_/%/_");
  add("comments", "/* x */ -- # y");
  add("placeholders", "? $1 :name %s %(x)s {} @p");
  add("NUL", std::string("\0", 1));
  add("NUL inside", std::string("a\0b'c", 5));
  add("control characters", "\x01\x02\t\n\r\x1a\x1b\x7f");
  add("valid UTF-8", "caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80");
  add("invalid lead bytes", "\xff\xfe");
  add("truncated sequence", "ok\xC3");
  add("lone continuation byte", "\x80" "abc");
  add("overlong slash", "\xC0\xAF");
  add("UTF-16 surrogate", "\xED\xA0\x80");
  add("above U+10FFFF", "\xF4\x90\x80\x80");
  add("quote after a multibyte lead", "\xBF' OR 1=1 -- ");
  add("empty", "");

  std::string mb;  // a megabyte of valid UTF-8 with quotes, backslashes and wildcards spread in
  mb.reserve(1 << 20);
  const std::string_view cycle = "ab'c\"d\\e%f_g`h;i-j\n";
  for (std::size_t i = 0; mb.size() < (1u << 20); ++i) mb += cycle[i % cycle.size()];
  mb.resize(1 << 20);
  add("1 MB", mb);

  std::mt19937 rng(kSeed);
  std::uniform_int_distribution<int> byte(0, 255), len(1, 64);
  for (int i = 0; i < 24; ++i) {
    std::string s;
    for (int n = len(rng); n > 0; --n) s += static_cast<char>(byte(rng));
    add("random bytes #" + std::to_string(i), s);
  }
  const std::vector<std::string> fragments = {
      "'", "''", "\"", "`", "\\", "%", "_", ";", "--", "/*", "*/", "$1", "?", ":p", std::string(1, '\0'),
      " OR 1=1", " ", "\n", "\xC3\xA9", "\xFF", "DROP TABLE inj_docs", "x"};
  std::uniform_int_distribution<std::size_t> pick(0, fragments.size() - 1), count(1, 12);
  for (int i = 0; i < 24; ++i) {
    std::string s;
    for (auto n = count(rng); n > 0; --n) s += fragments[pick(rng)];
    add("random fragments #" + std::to_string(i), s);
  }
  return out;
}

/// Well-formed UTF-8 as PostgreSQL checks it: no overlong forms, no surrogates, nothing above
/// U+10FFFF. MariaDB's utf8mb4 also takes the three-byte forms of UTF-16 surrogates
/// (`surrogates`).
inline bool valid_utf8(std::string_view s, bool surrogates = false) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) n = 0, cp = c;
    else if (c >= 0xC2 && c <= 0xDF) n = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) n = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) n = 3, cp = c & 0x07;
    else return false;
    if (i + std::size_t(n) >= s.size()) return false;  // cut short
    for (int k = 1; k <= n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + std::size_t(k)]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (!surrogates && cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += std::size_t(n) + 1;
  }
  return true;
}

/// Whether the backend under test can store `v` in a text column.
inline bool storable(const std::string& v) {
  const auto b = test::backend();
  if (b == "sqlite") return true;  // text is bytes with a length
  if (b == "postgresql") return v.find('\0') == std::string::npos && valid_utf8(v);
  return valid_utf8(v, true);  // MariaDB, utf8mb4 (NUL is stored)
}

/// `v` as a LIKE pattern that matches only itself, with '/' as the escape character.
inline std::string literal_pattern(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '%' || c == '_' || c == '/') out += '/';
    out += c;
  }
  return out;
}

/// SQLite refuses LIKE patterns over SQLITE_LIMIT_LIKE_PATTERN_LENGTH (50000 bytes by default).
constexpr std::size_t kSqliteLikeLimit = 50000;

using Ids = std::set<int64_t>;

/// The second value of every in_() list.
inline const std::string kSentinel = "\x01 no such value";

template <class T>
Ids ids_of(const std::vector<std::shared_ptr<T>>& rows) {
  Ids out;
  for (const auto& r : rows) out.insert(r->id);
  return out;
}

/// A short, printable name for a value in failure messages.
inline std::string shown(std::string_view v) {
  std::string out;
  for (char c : v.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) out += c;
    else out += "\\x" + std::string(1, "0123456789abcdef"[u >> 4]) + "0123456789abcdef"[u & 15];
  }
  if (v.size() > 40) out += "... (" + std::to_string(v.size()) + " bytes)";
  return out;
}

/// Checks that no statement holds `v` (meaningful for values of a few bytes or more).
inline void check_not_in_sql(const std::vector<std::string>& statements, const std::string& v) {
  if (v.size() < 4) return;
  for (const auto& s : statements) CHECK(s.find(v) == std::string::npos);
}

/// The backend compares text exactly (byte for byte) in = and IN. MariaDB's default collation
/// ignores case and trailing spaces, so there a match is a superset of the exact rows.
inline bool exact_compare() { return test::backend() != "mysql"; }
/// LIKE compares exactly only on PostgreSQL: SQLite folds ASCII case and reads the pattern up
/// to a NUL, MariaDB follows its collation.
inline bool exact_like() { return test::backend() == "postgresql"; }

inline void check_match(const Ids& got, const Ids& exact, bool exact_backend) {
  if (exact_backend) {
    CHECK(got == exact);
  } else {
    CHECK(std::includes(got.begin(), got.end(), exact.begin(), exact.end()));
  }
}

}  // namespace injection_suite

using namespace injection_suite;

TEST_CASE("hostile strings never reach the SQL text and round-trip exactly where storable", "[suite][injection]") {
  test::Recorder rec;
  auto db = test::fresh_db<Doc>(&rec);
  if (!db) return;
  auto& session = db->session();
  const auto all = payloads();
  const int64_t plain_id = 1000000;
  const std::string plain = "plain value";

  // The statements each operation sends for a plain value: every payload must send the same.
  const auto record = [&](auto&& op) {
    rec.clear();
    op();
    return rec.sql();
  };
  const auto insert = [&](int64_t id, const std::string& v) {
    return record([&] {
      Doc d;
      d.id = id, d.body = v, d.note = v;
      session.add(d);
      session.commit();
    });
  };
  const auto by_filter_by = [&](const std::string& v, Ids* got) {
    return record([&] { *got = ids_of(session.query<Doc>().filter_by("body", v).all()); });
  };
  const auto by_eq = [&](const std::string& v, Ids* got) {
    return record([&] { *got = ids_of(session.query<Doc>().filter(Doc::body_ == v).all()); });
  };
  const auto by_in = [&](const std::string& v, Ids* got) {
    return record([&] {
      *got = ids_of(session.query<Doc>().filter(Doc::body_.in_(std::vector<std::string>{v, kSentinel})).all());
    });
  };
  const auto by_like = [&](const std::string& v, Ids* got) {
    return record([&] { *got = ids_of(session.query<Doc>().filter(Doc::body_.like(literal_pattern(v), '/')).all()); });
  };
  const auto update_dirty = [&](int64_t id, const std::string& v) {
    auto d = session.query<Doc>().get(id);
    REQUIRE(d);
    return record([&] {
      d->note = v;
      session.commit();
    });
  };
  const auto update_bulk = [&](int64_t id, const std::string& v) {
    return record([&] {
      CHECK(session.query<Doc>().filter_by("id", id).update({{"body", alchemy::sql::Value(v)}}) == 1);
      session.commit();
    });
  };

  const auto base_insert = insert(plain_id, plain);
  REQUIRE(base_insert.size() == 1);
  Ids dummy;
  const auto base_filter_by = by_filter_by(plain, &dummy);
  CHECK(dummy == Ids{plain_id});
  const auto base_eq = by_eq(plain, &dummy);
  const auto base_in = by_in(plain, &dummy);
  const auto base_like = by_like(plain, &dummy);
  CHECK(dummy == Ids{plain_id});
  session.close();

  // Insert every payload, one commit each, and read it back in a fresh session.
  std::vector<std::pair<int64_t, std::string>> stored = {{plain_id, plain}};
  int refused = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& [name, v] = all[i];
    INFO("payload '" << name << "': " << shown(v));
    const auto id = int64_t(i) + 1;
    if (storable(v)) {
      const auto sql = insert(id, v);
      CHECK(sql == base_insert);
      check_not_in_sql(sql, v);
      stored.emplace_back(id, v);
      session.close();
      auto back = session.query<Doc>().get(id);
      REQUIRE(back);
      CHECK(back->body.size() == v.size());
      CHECK(back->body == v);
      CHECK(back->note == v);
    } else {
      ++refused;
      std::vector<std::string> sql;
      try {
        sql = insert(id, v);
        FAIL("an unstorable value was accepted");
      } catch (const alchemy::DataError& e) {
        sql = rec.sql();
        const std::string what = e.what();
        CHECK(what.find(v) == std::string::npos);
      }
      check_not_in_sql(sql, v);
      session.rollback();
      session.close();
      CHECK(session.query<Doc>().get(id) == nullptr);
    }
    session.close();
  }
  CHECK(session.query<Doc>().count() == int64_t(stored.size()));
  std::printf("injection: %s: %zu hostile strings, %zu stored and read back exactly, %d refused with DataError\n",
              test::backend().c_str(), all.size(), stored.size() - 1, refused);
  if (test::backend() == "sqlite") CHECK(refused == 0);
  else CHECK(refused > 0);  // the hand-picked NUL and invalid UTF-8 payloads at least

  // Find each stored value by filter_by, ==, in_ and like: same SQL, the exact rows.
  for (const auto& [id, v] : stored) {
    INFO("value " << shown(v));
    Ids exact;
    for (const auto& [j, w] : stored)
      if (w == v) exact.insert(j);
    Ids got;
    CHECK(by_filter_by(v, &got) == base_filter_by);
    check_match(got, exact, exact_compare());
    CHECK(by_eq(v, &got) == base_eq);
    check_match(got, exact, exact_compare());
    Ids exact_in = exact;
    for (const auto& [j, w] : stored)
      if (w == kSentinel) exact_in.insert(j);
    CHECK(by_in(v, &got) == base_in);
    check_match(got, exact_in, exact_compare());
    if (test::backend() == "sqlite" && literal_pattern(v).size() > kSqliteLikeLimit) {
      CHECK_THROWS_AS(by_like(v, &got), alchemy::OperationalError);
      session.rollback();
    } else {
      CHECK(by_like(v, &got) == base_like);
      check_match(got, exact, exact_like());
    }
    session.close();
  }

  // Update every stored row to the next value, through dirty tracking and a bulk UPDATE.
  std::vector<std::string> base_dirty, base_bulk;
  for (std::size_t k = 0; k < stored.size(); ++k) {
    const auto id = stored[k].first;
    const auto& next = stored[(k + 1) % stored.size()].second;
    INFO("row " << id << " updated to " << shown(next));
    auto dirty = update_dirty(id, next);
    auto bulk = update_bulk(id, next);
    if (k == 0) base_dirty = dirty, base_bulk = bulk;
    CHECK(dirty == base_dirty);
    CHECK(bulk == base_bulk);
    check_not_in_sql(dirty, next);
    check_not_in_sql(bulk, next);
    session.close();
    auto back = session.query<Doc>().get(id);
    REQUIRE(back);
    CHECK(back->note == next);
    CHECK(back->body == next);
    session.close();
  }
}

TEST_CASE("a value the backend cannot store is refused by update and by queries, writing nothing", "[suite][injection]") {
  test::Recorder rec;
  auto db = test::fresh_db<Doc>(&rec);
  if (!db) return;
  auto& session = db->session();
  Doc d;
  d.id = 1, d.body = "kept", d.note = "kept";
  session.add(d);
  session.commit();
  session.close();

  int unstorable = 0;
  for (const auto& [name, v] : payloads()) {
    if (storable(v)) continue;
    ++unstorable;
    INFO("payload '" << name << "': " << shown(v));
    // Dirty tracking: the UPDATE fails, the row keeps its value.
    auto row = session.query<Doc>().get(1);
    REQUIRE(row);
    row->note = v;
    rec.clear();
    CHECK_THROWS_AS(session.commit(), alchemy::DataError);
    check_not_in_sql(rec.sql(), v);
    session.rollback();
    // A bulk UPDATE: the same.
    CHECK_THROWS_AS(session.query<Doc>().filter_by("id", 1).update({{"body", alchemy::sql::Value(v)}}),
                    alchemy::DataError);
    session.rollback();
    session.close();
    auto back = session.query<Doc>().get(1);
    CHECK(back->body == "kept");
    CHECK(back->note == "kept");
    session.close();

    // A query with the value: PostgreSQL refuses it (DataError); MariaDB compares it and finds
    // nothing. Either way the SQL text is the plain one and no row is returned.
    rec.clear();
    for (const bool in : {false, true}) {
      std::vector<std::shared_ptr<Doc>> rows;
      try {
        rows = in ? session.query<Doc>().filter(Doc::body_.in_(std::vector<std::string>{v})).all()
                  : session.query<Doc>().filter(Doc::body_ == v).all();
      } catch (const alchemy::DataError& e) {
        CHECK(test::backend() == "postgresql");
        CHECK(std::string(e.what()).find(v) == std::string::npos);
        session.rollback();
      }
      CHECK(rows.empty());
    }
    check_not_in_sql(rec.sql(), v);
    session.rollback();
    session.close();
  }
  if (test::backend() == "sqlite") CHECK(unstorable == 0);
  else CHECK(unstorable > 0);
  CHECK(session.query<Doc>().count() == 1);
}

TEST_CASE("a blob column stores every hostile byte string on every backend", "[suite][injection]") {
  test::Recorder rec;
  auto db = test::fresh_db<Bin>(&rec);
  if (!db) return;
  auto& session = db->session();
  auto all = payloads();
  std::string every_byte;
  for (int v = 0; v < 256; ++v) every_byte += static_cast<char>(v);
  all.push_back({"all 256 byte values", every_byte});
  const auto blob = [](const std::string& s) { return alchemy::Blob(s.begin(), s.end()); };

  std::vector<std::string> base_insert, base_eq, base_in;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& [name, v] = all[i];
    INFO("payload '" << name << "': " << shown(v));
    Bin b;
    b.id = int64_t(i) + 1, b.data = blob(v);
    rec.clear();
    session.add(b);
    session.commit();
    const auto sql = rec.sql();
    if (i == 0) base_insert = sql;
    CHECK(sql == base_insert);
    check_not_in_sql(sql, v);
  }
  session.close();
  for (std::size_t i = 0; i < all.size(); ++i) {
    const auto& [name, v] = all[i];
    INFO("payload '" << name << "': " << shown(v));
    const auto id = int64_t(i) + 1;
    auto back = session.query<Bin>().get(id);
    REQUIRE(back);
    CHECK(back->data == blob(v));
    Ids exact, exact_in;
    for (std::size_t j = 0; j < all.size(); ++j) {
      if (all[j].value == v) exact.insert(int64_t(j) + 1);
      if (all[j].value == v || all[j].value == kSentinel) exact_in.insert(int64_t(j) + 1);
    }
    rec.clear();
    CHECK(ids_of(session.query<Bin>().filter(Bin::data_ == blob(v)).all()) == exact);
    const auto eq = rec.sql();
    rec.clear();
    CHECK(ids_of(session.query<Bin>().filter(Bin::data_.in_(std::vector<alchemy::Blob>{blob(v), blob(kSentinel)})).all()) ==
          exact_in);
    const auto in = rec.sql();
    if (i == 0) base_eq = eq, base_in = in;
    CHECK(eq == base_eq);
    CHECK(in == base_in);
    session.close();
  }
}

}  // namespace suite_injection
