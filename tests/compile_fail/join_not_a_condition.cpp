// SPDX-License-Identifier: MIT
// join<U>() takes an ON condition.
// expect: join<U>\(on\) and outerjoin<U>\(on\) take a condition
#include "models.hpp"
void f(alchemy::Session& s) { auto q = s.query<Post>().join<Account>(Account::id_); (void)q; }
int main() {}
