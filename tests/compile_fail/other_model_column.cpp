// SPDX-License-Identifier: MIT
// Columns of two models in one comparison must not compile.
// expect: cannot compare columns of two different models
#include "models.hpp"
int main() { auto c = Account::handle_ == Post::title_; (void)c; }
