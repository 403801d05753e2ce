// SPDX-License-Identifier: MIT
// A string column compared with a number must not compile.
// expect: the value's C\+\+ type does not match the column's type
#include "models.hpp"
int main() { auto c = Account::handle_ == 42; (void)c; }
