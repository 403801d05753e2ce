// SPDX-License-Identifier: MIT
// Names: Flask-SQLAlchemy's automatic table names, the class name alchemy reads from the
// compiler, and token_hex.
#include <catch2/catch.hpp>

#include <alchemy/orm/query.hpp>
#include <alchemy/orm/token.hpp>

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using alchemy::orm::detail::class_name;
using alchemy::orm::detail::snake_case;

// Models live in a namespace of their own: every test file is linked into one binary, and a model
// class is registered by name (mapper_of<T>), so two files must never define the same class.
namespace names_test {

struct UserAccount : alchemy::Model<UserAccount> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
};

struct HTTPRequestLog : alchemy::Model<HTTPRequestLog> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
};

struct Renamed : alchemy::Model<Renamed> {
  ALCHEMY_TABLENAME("custom_things");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
};

namespace deeper::still {
struct PlainThing {};
template <class T>
struct Box {};
}  // namespace deeper::still

struct Outer {
  struct Inner {};
};

}  // namespace names_test

namespace {
struct Hidden {};
}  // namespace

TEST_CASE("snake_case reproduces every automatic table name Flask-SQLAlchemy was observed to make",
          "[orm][names]") {
  // Section 1.1 of the SQLAlchemy behaviour reference, plus Flask-SQLAlchemy's own test vectors.
  const std::vector<std::pair<std::string_view, std::string_view>> vectors{
      {"Account", "account"},
      {"UserAccount", "user_account"},
      {"HTTPRequestLog", "http_request_log"},
      {"FOOBar", "foo_bar"},
      {"ABC", "abc"},
      {"XMLHttpRequest", "xml_http_request"},
      {"User2FA", "user2_fa"},
      {"OAuth2Token", "o_auth2_token"},
      {"Page404", "page404"},
      {"_Private", "private"},
      {"IPv6Address", "i_pv6_address"},
      {"getHTTPResponseCode", "get_http_response_code"},
      {"BazBar", "baz_bar"},
  };
  for (const auto& [name, table] : vectors) {
    INFO("class " << name);
    CHECK(snake_case(name) == table);
  }
}

TEST_CASE("snake_case agrees with Flask-SQLAlchemy's regular expression on edge cases",
          "[orm][names]") {
  // Expected values computed with Python's re.sub(r"((?<=[a-z0-9])[A-Z]|(?!^)[A-Z](?=[a-z]))",
  // r"_\1", name).lower().lstrip("_").
  const std::vector<std::pair<std::string_view, std::string_view>> vectors{
      {"A", "a"},
      {"a", "a"},
      {"ID", "id"},
      {"MyID", "my_id"},
      {"IDs", "i_ds"},
      {"X1Y", "x1_y"},
      {"ABCDef", "abc_def"},
      {"__Init__", "init__"},
      {"Already_Snake", "already__snake"},
      {"snake_case", "snake_case"},
      {"HTML5Parser", "html5_parser"},
      {"Sha256Sum", "sha256_sum"},
      {"A1B2C3", "a1_b2_c3"},
      {"v2API", "v2_api"},
      {"APIv2", "ap_iv2"},
      {"", ""},
      {"___", ""},
  };
  for (const auto& [name, table] : vectors) {
    INFO("class '" << name << "'");
    CHECK(snake_case(name) == table);
  }
}

TEST_CASE("class_name drops the namespaces of a class", "[orm][names]") {
  CHECK(class_name<names_test::deeper::still::PlainThing>() == "PlainThing");
  CHECK(class_name<names_test::UserAccount>() == "UserAccount");
  CHECK(class_name<names_test::Outer::Inner>() == "Inner");
  CHECK(class_name<Hidden>() == "Hidden");
}

TEST_CASE("class_name keeps the namespaces inside template arguments", "[orm][names]") {
  CHECK(class_name<names_test::deeper::still::Box<names_test::deeper::still::PlainThing>>() ==
        "Box<names_test::deeper::still::PlainThing>");
}

TEST_CASE("a model without ALCHEMY_TABLENAME is stored in the snake_case of its class name",
          "[orm][names]") {
  CHECK(alchemy::mapper_of<names_test::UserAccount>().class_name() == "UserAccount");
  CHECK(alchemy::mapper_of<names_test::UserAccount>().table().name() == "user_account");
  CHECK(alchemy::mapper_of<names_test::HTTPRequestLog>().table().name() == "http_request_log");
}

TEST_CASE("ALCHEMY_TABLENAME overrides the automatic table name", "[orm][names]") {
  CHECK(alchemy::mapper_of<names_test::Renamed>().class_name() == "Renamed");
  CHECK(alchemy::mapper_of<names_test::Renamed>().table().name() == "custom_things");
}

TEST_CASE("token_hex gives 2n lowercase hex digits", "[orm][token]") {
  const auto is_lower_hex = [](const std::string& s) {
    for (char c : s)
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    return true;
  };
  for (std::size_t n : {std::size_t{1}, std::size_t{16}, std::size_t{32}, std::size_t{100}}) {
    INFO("n = " << n);
    const auto t = alchemy::token_hex(n);
    CHECK(t.size() == 2 * n);
    CHECK(is_lower_hex(t));
  }
  CHECK(alchemy::token_hex().size() == 64);  // Python's secrets default: 32 bytes
  CHECK(alchemy::token_hex(0).empty());
}

TEST_CASE("token_hex never returns the same token twice", "[orm][token]") {
  CHECK(alchemy::token_hex(16) != alchemy::token_hex(16));
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) seen.insert(alchemy::token_hex(8));
  CHECK(seen.size() == 200);
}

TEST_CASE("token_hex uses every hex digit over many draws", "[orm][token]") {
  // 4096 random digits: the chance that one of the 16 never appears is about 16 * (15/16)^4096.
  const auto t = alchemy::token_hex(2048);
  for (char c : std::string_view("0123456789abcdef")) {
    INFO("digit " << c);
    CHECK(t.find(c) != std::string::npos);
  }
}
