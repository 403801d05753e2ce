// SPDX-License-Identifier: MIT
// Columns of two models may be compared (a join condition), but not when they hold different
// C++ types.
// expect: the two columns hold different C\+\+ types
#include "models.hpp"
int main() { auto c = Post::id_ == Account::handle_; (void)c; }
