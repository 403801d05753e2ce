// SPDX-License-Identifier: MIT
// Two small models for the compile-fail cases.
#include <alchemy/orm/query.hpp>

#include <cstdint>
#include <string>

struct Account : alchemy::Model<Account> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, handle, alchemy::String(50));
};
struct Post : alchemy::Model<Post> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, title, alchemy::String(50));
};
