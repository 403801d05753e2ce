// SPDX-License-Identifier: MIT
// A query over Account filtered by a Post column must not compile.
// expect: filter\(\) takes a condition over T's own columns
#include "models.hpp"
void f(alchemy::Session& s) { auto q = s.query<Account>().filter(Post::title_ == "x"); (void)q; }
int main() {}
