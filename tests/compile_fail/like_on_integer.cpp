// SPDX-License-Identifier: MIT
// LIKE on an integer column must not compile.
// expect: like/ilike/startswith/endswith/contains need a string column
#include "models.hpp"
int main() { auto c = Account::id_.like("1%"); (void)c; }
