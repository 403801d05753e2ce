// SPDX-License-Identifier: MIT
// Selecting another model's column in a query must not compile.
// expect: with_entities\(\) takes columns of the query's model
#include "models.hpp"
int main() {
  auto q = [](alchemy::Query<Account> a) { return a.with_entities(Post::title_); };
  (void)q;
}
