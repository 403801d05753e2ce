// SPDX-License-Identifier: MIT
// Joins on every backend: join<U>() and outerjoin<U>() with an explicit ON condition, filters
// and order over the joined models' columns, add_entity<U>() tuples through the identity map,
// with_entities() across models, count(), correlated EXISTS, and the errors: a column of a
// model the query did not join, a table joined twice, bulk update of a joined query. Values in
// ON and WHERE are bound parameters.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_joins {

namespace joins_suite {

struct Author : alchemy::Model<Author> {
  ALCHEMY_TABLENAME("jn_author");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(30));

  Author() = default;
  Author(int64_t i, std::string n) : id(i), name(std::move(n)) {}
};

struct Post : alchemy::Model<Post> {
  ALCHEMY_TABLENAME("jn_post");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::optional<int64_t>, author_id, alchemy::ForeignKey("jn_author.id"));
  ALCHEMY_COLUMN(std::string, title, alchemy::String(40));

  Post() = default;
  Post(int64_t i, std::optional<int64_t> a, std::string t) : id(i), author_id(a), title(std::move(t)) {}
};

struct Tag : alchemy::Model<Tag> {
  ALCHEMY_TABLENAME("jn_tag");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, post_id, alchemy::ForeignKey("jn_post.id"));
  ALCHEMY_COLUMN(std::string, label, alchemy::String(10));

  Tag() = default;
  Tag(int64_t i, int64_t p, std::string l) : id(i), post_id(p), label(std::move(l)) {}
};

//  author       post                  tags
//   1 ada        1 "a1"  by ada        x, y
//   2 bob        2 "a2"  by ada        -
//   3 cyd        3 "b1"  by bob        x
//                4 "orphan" (no author) -
void seed(alchemy::SQLAlchemy& db) {
  db.session.add_all(std::vector<Author>{{1, "ada"}, {2, "bob"}, {3, "cyd"}});
  db.session.add_all(std::vector<Post>{{1, 1, "a1"}, {2, 1, "a2"}, {3, 2, "b1"}, {4, std::nullopt, "orphan"}});
  db.session.add_all(std::vector<Tag>{{1, 1, "x"}, {2, 1, "y"}, {3, 3, "x"}});
  db.session.commit();
  db.session.close();  // the queries below load their objects from the rows
}

using Ids = std::vector<int64_t>;

template <class T>
Ids ids(const std::vector<std::shared_ptr<T>>& objs) {
  Ids out;
  for (const auto& o : objs) out.push_back(o->id);
  return out;
}

/// The posts' join condition (a function: the column handles are ready only once the models are).
alchemy::Condition<void> by_author() { return Post::author_id_ == Author::id_; }

/// The message of the InvalidRequestError that `f` throws.
template <class F>
std::string invalid_request(F&& f) {
  try {
    f();
  } catch (const alchemy::InvalidRequestError& e) {
    return e.what();
  }
  FAIL("no InvalidRequestError");
  return "";
}

}  // namespace joins_suite

using joins_suite::Author;
using joins_suite::Post;
using joins_suite::Tag;
using joins_suite::by_author;
using joins_suite::ids;
using joins_suite::Ids;
namespace func = alchemy::func;

TEST_CASE("join<U>() filters and orders by the joined model's columns", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  joins_suite::seed(*db);
  const auto q = Post::query().join<Author>(by_author());
  CHECK(ids(q.filter(Author::name_ == "ada").order_by(Post::id_).all()) == Ids{1, 2});
  CHECK(ids(q.filter(Author::name_ != "ada", Post::title_.startswith("b")).all()) == Ids{3});
  CHECK(ids(q.order_by(Author::name_.desc(), Post::id_).all()) == Ids{3, 1, 2});
  // A condition over both models, and the filter before the join: the FROM is checked when it runs.
  CHECK(ids(Post::query()
                .filter(or_(Author::name_ == "bob", Post::title_ == "a2"))
                .join<Author>(by_author())
                .order_by(Post::id_)
                .all()) == Ids{2, 3});
  // The ON condition may carry more than the keys.
  CHECK(ids(Post::query().join<Author>(by_author() && Author::name_ == "bob").all()) == Ids{3});
  // Three tables.
  CHECK(ids(Post::query()
                .join<Author>(by_author())
                .join<Tag>(Tag::post_id_ == Post::id_)
                .filter(Tag::label_ == "x")
                .order_by(Post::id_)
                .all()) == Ids{1, 3});
}

TEST_CASE("an inner join leaves out rows without a match, outerjoin keeps them with NULLs", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  joins_suite::seed(*db);
  CHECK(ids(Post::query().join<Author>(by_author()).order_by(Post::id_).all()) == Ids{1, 2, 3});
  CHECK(ids(Post::query().outerjoin<Author>(by_author()).order_by(Post::id_).all()) == Ids{1, 2, 3, 4});
  CHECK(ids(Post::query().outerjoin<Author>(by_author()).filter(Author::id_.is_null()).all()) == Ids{4});
  CHECK(ids(Author::query().outerjoin<Post>(by_author()).filter(Post::id_.is_null()).all()) == Ids{3});
}

TEST_CASE("count() counts the joined rows; all() gives each object once", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  joins_suite::seed(*db);
  CHECK(Post::query().join<Author>(by_author()).count() == 3);
  CHECK(Post::query().outerjoin<Author>(by_author()).count() == 4);
  CHECK(Post::query().join<Author>(by_author()).filter(Author::name_ == "cyd").count() == 0);
  CHECK(Post::query().join<Author>(by_author()).filter(Author::name_ == "bob").exists());
  // One author per post row: ada twice in the rows, once in the objects (Flask-SQLAlchemy's Query).
  const auto authors = Author::query().join<Post>(by_author());
  CHECK(authors.count() == 3);
  CHECK(ids(authors.order_by(Author::id_).all()) == Ids{1, 2});
  CHECK(authors.distinct().count() == 2);
  Ids seen;
  for (const auto& a : authors.order_by(Author::id_)) seen.push_back(a->id);
  CHECK(seen == Ids{1, 2});
  // one() sees every row: ada's two rows are one object; two authors are too many.
  CHECK(authors.filter(Author::name_ == "ada").one()->id == 1);
  CHECK_THROWS_AS(authors.one(), alchemy::MultipleResultsFound);
  CHECK(authors.filter(Author::name_ == "cyd").one_or_none() == nullptr);
  // A row query counts its rows too: with group_by, the groups.
  CHECK(authors.with_entities(Author::name_).group_by(Author::name_).count() == 2);
}

TEST_CASE("add_entity<U>() gives tuples of objects, from the identity map, null for no match", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  joins_suite::seed(*db);
  const auto ada = db->session.get<Author>(1);
  REQUIRE(ada);
  const auto rows = Post::query().outerjoin<Author>(by_author()).add_entity<Author>().order_by(Post::id_).all();
  static_assert(std::is_same_v<decltype(rows),
                               const std::vector<std::tuple<std::shared_ptr<Post>, std::shared_ptr<Author>>>>);
  REQUIRE(rows.size() == 4);
  CHECK(std::get<0>(rows[0])->title == "a1");
  CHECK(std::get<1>(rows[0]) == ada);  // the same object as get() returned
  CHECK(std::get<1>(rows[1]) == ada);
  CHECK(std::get<1>(rows[2])->name == "bob");
  CHECK(std::get<0>(rows[3])->title == "orphan");
  CHECK(std::get<1>(rows[3]) == nullptr);
  CHECK(std::get<0>(rows[2]) == db->session.get<Post>(3));

  // Structured bindings, first(), one(), and a third model.
  for (const auto& [post, author] : Post::query().join<Author>(by_author()).add_entity<Author>().all())
    CHECK(*post->author_id == author->id);
  const auto first = Post::query().join<Author>(by_author()).add_entity<Author>().order_by(Post::id_.desc()).first();
  REQUIRE(first);
  CHECK(std::get<0>(*first)->id == 3);
  const auto [post, author, tag] = Post::query()
                                       .join<Author>(by_author())
                                       .join<Tag>(Tag::post_id_ == Post::id_)
                                       .add_entity<Author>()
                                       .add_entity<Tag>()
                                       .filter(Tag::label_ == "y")
                                       .one();
  CHECK(post->id == 1);
  CHECK(author == ada);
  CHECK(tag->label == "y");
  CHECK(Post::query().join<Author>(by_author()).add_entity<Author>().filter(Author::name_ == "cyd").one_or_none() ==
        std::nullopt);
  CHECK_THROWS_AS(Post::query().join<Author>(by_author()).add_entity<Author>().one(), alchemy::MultipleResultsFound);
  // Both models' keys are named id: the count subquery labels the second one.
  CHECK(Post::query().outerjoin<Author>(by_author()).add_entity<Author>().count() == 4);
  CHECK(Post::query().join<Author>(by_author()).add_entity<Author>().filter(Author::id_ == 2).exists());
}

TEST_CASE("an object already in the session comes back from a join unchanged", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  joins_suite::seed(*db);
  db->session().set_autoflush(false);
  const auto ada = db->session.get<Author>(1);
  REQUIRE(ada);
  ada->name = "not flushed";
  const auto rows = Post::query().join<Author>(by_author()).add_entity<Author>().filter(Post::id_ == 1).one();
  CHECK(std::get<1>(rows) == ada);
  CHECK(ada->name == "not flushed");
  db->session.rollback();
}

TEST_CASE("with_entities() selects columns of several joined models", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  joins_suite::seed(*db);
  std::vector<std::tuple<std::string, std::string>> titled =
      Post::query().join<Author>(by_author()).with_entities(Post::title_, Author::name_).order_by(Post::id_).all();
  CHECK(titled == std::vector<std::tuple<std::string, std::string>>{{"a1", "ada"}, {"a2", "ada"}, {"b1", "bob"}});

  std::vector<std::tuple<std::string, int64_t>> per_author = Author::query()
                                                                 .outerjoin<Post>(by_author())
                                                                 .with_entities(Author::name_, func::count(Post::id_))
                                                                 .group_by(Author::name_)
                                                                 .order_by(Author::name_)
                                                                 .all();
  CHECK(per_author == std::vector<std::tuple<std::string, int64_t>>{{"ada", 2}, {"bob", 1}, {"cyd", 0}});

  // Both keys, named id: labelled apart, so the query can be counted.
  const auto both = Post::query().join<Author>(by_author()).with_entities(Post::id_, Author::id_);
  CHECK(both.count() == 3);
  // join() after with_entities(), and a subquery over a join.
  CHECK(Post::query().with_entities(Post::title_).join<Author>(by_author()).filter(Author::id_ == 2).scalars() ==
        std::vector<std::string>{"b1"});
  const auto tagged_authors = Post::query().join<Tag>(Tag::post_id_ == Post::id_).with_entities(Post::author_id_);
  CHECK(ids(Author::query().filter(Author::id_.in_(tagged_authors)).order_by(Author::id_).all()) == Ids{1, 2});
}

TEST_CASE("a correlated EXISTS uses the outer query's columns", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  joins_suite::seed(*db);
  const auto has_posts = alchemy::exists(Post::query().filter(Post::author_id_ == Author::id_));
  CHECK(ids(Author::query().filter(has_posts).order_by(Author::id_).all()) == Ids{1, 2});
  CHECK(ids(Author::query().filter(!has_posts).all()) == Ids{3});
  // A subquery with a join of its own, correlated with the outer query.
  const auto tagged_x = alchemy::exists(
      Post::query().join<Tag>(Tag::post_id_ == Post::id_).filter(Post::author_id_ == Author::id_, Tag::label_ == "x"));
  CHECK(ids(Author::query().filter(tagged_x).order_by(Author::id_).all()) == Ids{1, 2});
}

TEST_CASE("a column of a model the query did not join is an InvalidRequestError naming it", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  joins_suite::seed(*db);
  using joins_suite::invalid_request;
  const std::string msg = "column jn_author.name is not in the query's FROM (jn_post): join its model first, "
                          "with join<Model>(on) or outerjoin<Model>(on)";
  CHECK(invalid_request([] { Post::query().filter(Author::name_ == "ada").all(); }) == msg);
  CHECK(invalid_request([] { Post::query().filter(Author::name_ == "ada").count(); }) == msg);
  CHECK(invalid_request([] { Post::query().filter(Author::name_ == "ada").statement(); }) == msg);
  CHECK(invalid_request([] { Post::query().order_by(Author::name_).first(); }) == msg);
  CHECK(invalid_request([] { Post::query().with_entities(Post::title_, Author::name_).all(); }) == msg);
  CHECK(invalid_request([] { Post::query().filter(Author::name_ == "ada").delete_(); }) == msg);
  CHECK(invalid_request([] { Post::query().add_entity<Author>().all(); }).find("column jn_author.id is not in") == 0);
  CHECK(invalid_request([] { Post::query().join<Author>(by_author()).filter(Tag::label_ == "x").all(); }) ==
        "column jn_tag.label is not in the query's FROM (jn_post, jn_author): join its model first, with "
        "join<Model>(on) or outerjoin<Model>(on)");
  // An ON condition sees the tables joined before it and its own, not later ones.
  CHECK(invalid_request([] {
          Post::query().join<Author>(by_author() && Tag::label_ == "x").join<Tag>(Tag::post_id_ == Post::id_).all();
        }) == "column jn_tag.label is not in a table joined so far (jn_post, jn_author): a JOIN's ON can use the "
              "query's table, the tables joined before it, and its own");
  // Inside a subquery: neither its FROM nor the outer query's.
  CHECK(invalid_request([] {
          Author::query().filter(alchemy::exists(Post::query().filter(Tag::label_ == "x"))).all();
        }).find("column jn_tag.label is not in the query's FROM (jn_author, jn_post)") == 0);
  // keyset_page() reads its cursor from the objects, so it orders by the query's own columns.
  CHECK(invalid_request([] {
          Post::query().join<Author>(by_author()).order_by(Author::name_, Post::id_).keyset_page({.per_page = 2});
        }).find("keyset_page(): ORDER BY column jn_author.name is not a column of Post") == 0);
}

TEST_CASE("joining a table already in the FROM is an InvalidRequestError; aliases are not supported", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  using joins_suite::invalid_request;
  CHECK(invalid_request([] { (void)Post::query().join<Author>(by_author()).outerjoin<Author>(by_author()); }) ==
        "join(): table 'jn_author' is already in the query's FROM; joining a table twice (or a model to "
        "itself) needs an alias, which alchemy does not support yet");
  CHECK(invalid_request([] { (void)Post::query().join<Post>(Post::id_ == Post::id_); }).find(
            "join(): table 'jn_post' is already in the query's FROM") == 0);
  CHECK_THROWS_AS(Post::query().join_on(alchemy::mapper_of<Author>().table(), nullptr), alchemy::ArgumentError);
  // SQLAlchemy's rule for bulk update / delete.
  CHECK(invalid_request([] { Post::query().join<Author>(by_author()).delete_(); }) ==
        "Can't call update() or delete_() when join() or outerjoin() has been called");
  CHECK(invalid_request([] { Post::query().join<Author>(by_author()).update({{"title", "x"}}); }) ==
        "Can't call update() or delete_() when join() or outerjoin() has been called");
}

TEST_CASE("join_on() takes a table and an ON expression, for relationship code", "[suite][query][join]") {
  ALCHEMY_FRESH_DB(db, Author, Post, Tag);
  joins_suite::seed(*db);
  const auto& authors = alchemy::mapper_of<Author>().table();
  const auto on = alchemy::sql::binary(alchemy::sql::Op::eq, Post::author_id_.expr(), Author::id_.expr());
  CHECK(ids(Post::query().join_on(authors, on).filter(Author::name_ == "bob").all()) == Ids{3});
  CHECK(Post::query().join_on(authors, on, true).count() == 4);
}

TEST_CASE("values in a join's ON and WHERE are bound parameters", "[suite][query][join]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  joins_suite::seed(*db);
  const std::string secret = "ada'; DROP TABLE jn_post; --";
  rec.clear();
  const auto q = Post::query()
                     .join<Author>(by_author() && Author::name_ != secret)
                     .filter(Author::name_ == "bob")
                     .order_by(Post::id_);
  CHECK(ids(q.all()) == Ids{3});
  const auto sql = rec.sql();
  REQUIRE(sql.size() == 1);
  const bool pg = test::backend() == "postgresql";
  CHECK(sql[0] == q.statement());
  CHECK(sql[0] == std::string("SELECT jn_post.id, jn_post.author_id, jn_post.title FROM jn_post JOIN jn_author ON "
                              "jn_post.author_id = jn_author.id AND jn_author.name != ") +
                      (pg ? "$1" : "?") + " WHERE jn_author.name = " + (pg ? "$2" : "?") + " ORDER BY jn_post.id");
  CHECK(sql[0].find("DROP") == std::string::npos);
  CHECK(sql[0].find("bob") == std::string::npos);
  bool bound = false;
  for (const auto& l : rec.lines)
    if (l.rfind("[", 0) == 0 && l.find("bob") != std::string::npos) bound = true;
  CHECK(bound);
  CHECK(db->session.query<Author>().get(1)->name == "ada");
  CHECK(Post::query().count() == 4);
}

}  // namespace suite_joins
