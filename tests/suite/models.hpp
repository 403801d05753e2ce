// SPDX-License-Identifier: MIT
// Models shared by the behaviour suite.
#ifndef ALCHEMY_TESTS_SUITE_MODELS_HPP_
#define ALCHEMY_TESTS_SUITE_MODELS_HPP_

#include <alchemy/alchemy.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace suite {

/// The tutorial's model.
struct Account : alchemy::Model<Account> {
  ALCHEMY_TABLENAME("accounts");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50), alchemy::unique);
  ALCHEMY_COLUMN(std::optional<std::string>, secret_key, alchemy::String(128));

  Account() = default;
  explicit Account(std::string h, std::optional<std::string> s = std::nullopt)
      : handle(std::move(h)), secret_key(std::move(s)) {}
};

}  // namespace suite

#endif  // ALCHEMY_TESTS_SUITE_MODELS_HPP_
