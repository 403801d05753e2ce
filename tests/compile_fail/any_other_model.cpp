// SPDX-License-Identifier: MIT
// any() takes a condition over the related model, not over another one.
// expect: any\(\) and has\(\) take a condition over the related model
#include "models.hpp"

struct Comment;
struct Thread : alchemy::Model<Thread> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_RELATIONSHIP(std::vector<Comment>, comments);
};
struct Comment : alchemy::Model<Comment> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, thread_id, alchemy::ForeignKey("thread.id"));
};
void f(alchemy::Session& s) { auto q = s.query<Thread>().filter(Thread::comments_.any(Account::handle_ == "x")); (void)q; }
int main() {}
