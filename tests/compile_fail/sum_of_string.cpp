// SPDX-License-Identifier: MIT
// func::sum over a string column must not compile.
// expect: func::sum\(\) needs a numeric column or expression
#include "models.hpp"
int main() { auto e = alchemy::func::sum(Account::handle_); (void)e; }
