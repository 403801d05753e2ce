// SPDX-License-Identifier: MIT
// Comparing count(...) (an integer) with a string must not compile.
// expect: the value's C\+\+ type does not match the column's type
#include "models.hpp"
int main() { auto c = alchemy::func::count(Account::id_) > "many"; (void)c; }
