// SPDX-License-Identifier: MIT
// filter() takes conditions (of any model: the query checks its FROM when it runs), not values.
// expect: filter\(\) takes a condition
#include "models.hpp"
void f(alchemy::Session& s) { auto q = s.query<Account>().filter(Account::id_); (void)q; }
int main() {}
