// SPDX-License-Identifier: MIT
// Compiled with ALCHEMY_SEPARATE_COMPILATION: dialect().compiler() without
// <alchemy/sql/compiler.hpp> must fail with a note that says which header to include.
// expect: include <alchemy/sql/compiler.hpp> to use it
#define ALCHEMY_SEPARATE_COMPILATION 1
#include "alchemy/engine/engine.hpp"
#include "alchemy/sql/schema.hpp"
std::string ddl(const alchemy::Engine& engine, const alchemy::sql::Table& table) {
  return engine.dialect().compiler().create_table(table);
}
int main() {}
