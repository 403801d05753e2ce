// SPDX-License-Identifier: MIT
// Relationships on every backend: the order of the flush's statements, back_populates in
// memory, lazy loading (1 statement on first access, 0 after), selectinload (2 statements for
// N parents), cascades, orphans, many-to-many rows, a self-referential tree, one-to-one,
// lazy="raise", DetachedInstanceError, and the any()/has()/contains() filters.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <alchemy/alchemy.hpp>

#include "relationship_models.hpp"
#include "sql_helpers.hpp"
#include "support.hpp"

// Each file of the suite keeps its names in a namespace of its own, so that the suite can be
// compiled as a few large units (CMake UNITY_BUILD) without one file's names meeting another's.
namespace suite_relationships {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using namespace rel;

namespace {

/// The SQL statements of `rec` that start with `prefix` (INSERT, SELECT, ...).
std::vector<std::string> starting(const test::Recorder& rec, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& s : rec.sql())
    if (s.rfind(prefix, 0) == 0) out.push_back(s);
  return out;
}

std::set<std::string> titles(alchemy::Many<Post>& posts) {
  std::set<std::string> out;
  for (const auto& p : posts) out.insert(p->title);
  return out;
}

/// A number the database answers, read on a connection of its own (what was committed).
std::int64_t count(alchemy::SQLAlchemy& db, const std::string& sql) {
  auto conn = db.engine().connect();
  return test::scalar(conn, sql);
}

/// Authors with `per` posts each, committed; the session is then emptied.
void seed(alchemy::SQLAlchemy& db, int authors, int per) {
  auto& s = db.session();
  for (int i = 0; i < authors; ++i) {
    auto a = s.add(Author{.name = "author" + std::to_string(i)});
    for (int j = 0; j < per; ++j) a->posts().push_back(Post{.title = "a" + std::to_string(i) + "p" + std::to_string(j)});
  }
  s.commit();
  s.expunge_all();
}

}  // namespace

TEST_CASE("a parent is INSERTed before its children, which get its generated key", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Author{.name = "ada"});
  auto p = a->posts().push_back(Post{.title = "Notes"});
  CHECK(p->author() == a);  // back_populates, in memory, before any SQL
  CHECK(alchemy::inspect_state(*p) == alchemy::ObjectState::pending);  // cascade save-update
  CHECK(rec.sql().empty());
  s.commit();
  const auto sql = rec.sql();
  REQUIRE(sql.size() >= 2);
  CHECK_THAT(sql[0], StartsWith("INSERT INTO rl_author"));
  CHECK_THAT(sql[1], StartsWith("INSERT INTO rl_post"));
  CHECK(a->id > 0);
  CHECK(p->author_id == a->id);
  CHECK(count(*db, "SELECT count(*) FROM rl_post WHERE author_id = " + std::to_string(a->id)) == 1);
}

TEST_CASE("setting a many-to-one appends to the loaded collection and writes the key", "[suite][relationships]") {
  auto db = test::fresh_db<Author, Post, Tag>();
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Author{.name = "a"});
  auto b = s.add(Author{.name = "b"});
  s.commit();
  auto p = s.add(Post{.title = "moving", .author = a});
  CHECK(a->posts().size() == 1);
  s.commit();
  CHECK(p->author_id == a->id);
  p->author = b;  // leaves a's collection, joins b's
  CHECK(a->posts().empty());
  CHECK(b->posts().size() == 1);
  s.commit();
  CHECK(p->author_id == b->id);
  CHECK(count(*db, "SELECT author_id FROM rl_post WHERE id = " + std::to_string(p->id)) == b->id);
}

TEST_CASE("a lazy collection costs one SELECT on first access and none after", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  seed(*db, 1, 3);
  auto& s = db->session();
  auto a = s.query<Author>().one();
  rec.clear();
  CHECK(titles(a->posts()) == std::set<std::string>{"a0p0", "a0p1", "a0p2"});
  const auto first = rec.sql();
  REQUIRE(first.size() == 1);
  CHECK_THAT(first[0], Contains("FROM rl_post WHERE rl_post.author_id = "));
  rec.clear();
  CHECK(a->posts().size() == 3);
  for (const auto& p : a->posts()) CHECK(p->author() == a);  // the identity map answers: no SQL
  CHECK(rec.sql().empty());
}

TEST_CASE("a lazy many-to-one found in the identity map needs no SQL", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  seed(*db, 1, 2);
  auto& s = db->session();
  auto posts = s.query<Post>().all();
  rec.clear();
  auto a = posts[0]->author();
  REQUIRE(a);
  CHECK(rec.sql().size() == 1);  // one SELECT by key
  rec.clear();
  CHECK(posts[1]->author() == a);
  CHECK(rec.sql().empty());
}

TEST_CASE("selectinload loads the posts of N authors in 2 statements", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  seed(*db, 12, 3);
  auto& s = db->session();
  rec.clear();
  auto authors = s.query<Author>().options(alchemy::selectinload(Author::posts_)).all();
  REQUIRE(authors.size() == 12);
  std::size_t n = 0;
  for (const auto& a : authors) {
    n += a->posts().size();
    for (const auto& p : a->posts()) CHECK(p->author() == a);
  }
  CHECK(n == 36);
  const auto sql = rec.sql();
  REQUIRE(sql.size() == 2);
  CHECK_THAT(sql[1], Contains("rl_post.author_id IN ("));
  // The same through the member pointer spelling, and for many-to-one.
  s.expunge_all();
  rec.clear();
  auto posts = s.query<Post>().options(alchemy::selectinload(&Post::author)).all();
  for (const auto& p : posts) CHECK(p->author()->id == p->author_id);
  CHECK(rec.sql().size() == 2);
}

TEST_CASE("nested selectinload: authors, their posts, the posts' tags", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto red = s.add(Tag{.label = "red"});
  auto blue = s.add(Tag{.label = "blue"});
  for (int i = 0; i < 3; ++i) {
    auto a = s.add(Author{.name = "n" + std::to_string(i)});
    auto p = a->posts().push_back(Post{.title = "t" + std::to_string(i)});
    p->tags().push_back(red);
    if (i == 1) p->tags().push_back(blue);
  }
  s.commit();
  s.expunge_all();
  rec.clear();
  auto authors =
      s.query<Author>().options(alchemy::selectinload(Author::posts_).selectinload(Post::tags_)).order_by(Author::id_).all();
  const auto loads = rec.sql().size();
  std::vector<std::size_t> tags;
  for (const auto& a : authors)
    for (const auto& p : a->posts()) tags.push_back(p->tags().size());
  CHECK(tags == std::vector<std::size_t>{1, 2, 1});
  CHECK(rec.sql().size() == loads);  // everything was loaded up front
  CHECK(loads <= 4);                 // authors, posts, association rows, tags
}

TEST_CASE("many-to-many: association rows follow the collection", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Author{.name = "a"});
  auto p = a->posts().push_back(Post{.title = "p"});
  auto t1 = p->tags().push_back(Tag{.label = "x"});
  auto t2 = p->tags().push_back(Tag{.label = "y"});
  s.commit();
  CHECK(count(*db, "SELECT count(*) FROM rl_post_tag") == 2);
  // The association INSERT comes after both ends.
  const auto sql = rec.sql();
  const auto at = [&](const std::string& prefix) {
    return std::find_if(sql.begin(), sql.end(), [&](const std::string& x) { return x.rfind(prefix, 0) == 0; }) - sql.begin();
  };
  CHECK(at("INSERT INTO rl_post_tag") > at("INSERT INTO rl_tag"));
  CHECK(at("INSERT INTO rl_post_tag") > at("INSERT INTO rl_post "));
  p->tags().remove(t1);
  s.commit();
  CHECK(count(*db, "SELECT count(*) FROM rl_post_tag") == 1);
  CHECK(count(*db, "SELECT rl_tag_id FROM rl_post_tag") == t2->id);
  s.expunge_all();
  auto again = s.get<Post>(p->id);
  REQUIRE(again->tags().size() == 1);
  CHECK(again->tags()[0]->label == "y");
  // Deleting the post removes its association rows (ON DELETE CASCADE on the table).
  s.delete_(again);
  s.commit();
  CHECK(count(*db, "SELECT count(*) FROM rl_post_tag") == 0);
  CHECK(count(*db, "SELECT count(*) FROM rl_tag") == 2);
}

TEST_CASE("delete-orphan: a post taken out of its author's posts is deleted", "[suite][relationships]") {
  auto db = test::fresh_db<Author, Post, Tag>();
  if (!db) return;
  seed(*db, 1, 3);
  auto& s = db->session();
  auto a = s.query<Author>().one();
  auto first = a->posts()[0];
  CHECK(a->posts().remove(first));
  CHECK(first->author() == nullptr);
  s.commit();
  CHECK(count(*db, "SELECT count(*) FROM rl_post") == 2);
  CHECK(alchemy::inspect_state(*first) == alchemy::ObjectState::detached);
}

TEST_CASE("deleting a parent with cascade delete removes its children first", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  seed(*db, 2, 2);
  auto& s = db->session();
  auto a = s.query<Author>().order_by(Author::id_).first();
  rec.clear();
  s.delete_(a);  // the collection is not loaded: the flush loads it to delete the posts
  s.commit();
  const auto deletes = starting(rec, "DELETE");
  REQUIRE(deletes.size() >= 2);
  CHECK_THAT(deletes.front(), StartsWith("DELETE FROM rl_post"));
  CHECK_THAT(deletes.back(), StartsWith("DELETE FROM rl_author"));
  CHECK(count(*db, "SELECT count(*) FROM rl_post") == 2);
  CHECK(count(*db, "SELECT count(*) FROM rl_author") == 1);
}

TEST_CASE("without cascade delete, deleting a parent clears its children's keys", "[suite][relationships]") {
  auto db = test::fresh_db<Shelf, Book>();
  if (!db) return;
  auto& s = db->session();
  auto shelf = s.add(Shelf{.name = "top"});
  s.flush();
  auto b = s.add(Book{.shelf_id = shelf->id, .title = "SICP"});
  s.commit();
  s.delete_(shelf);
  s.commit();
  CHECK(count(*db, "SELECT count(*) FROM rl_book WHERE shelf_id IS NULL") == 1);
  CHECK(!b->shelf_id.has_value());
}

TEST_CASE("lazy=raise throws instead of querying, and selectinload still loads", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Shelf, Book>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto shelf = s.add(Shelf{.name = "top"});
  s.commit();
  s.add(Book{.shelf_id = shelf->id, .title = "a"});
  s.commit();
  s.expunge_all();
  auto loaded = s.query<Shelf>().one();
  rec.clear();
  CHECK_THROWS_MATCHES(loaded->books(), alchemy::InvalidRequestError,
                       Catch::Matchers::Message("'Shelf.books' is not available due to lazy='raise'"));
  CHECK(rec.sql().empty());
  s.expunge_all();
  auto eager = s.query<Shelf>().options(alchemy::selectinload(Shelf::books_)).one();
  CHECK(eager->books().size() == 1);
}

TEST_CASE("relationships loaded before close() stay readable on the detached objects", "[suite][relationships]") {
  auto db = test::fresh_db<Author, Post, Tag>();
  if (!db) return;
  seed(*db, 1, 2);
  auto& s = db->session();
  auto posts = s.query<Post>().options(alchemy::selectinload(Post::author_)).all();
  auto authors = s.query<Author>().options(alchemy::selectinload(Author::posts_)).all();
  s.close();
  REQUIRE(authors.size() == 1);
  CHECK(authors[0]->posts().size() == 2);
  CHECK(posts[0]->author() == authors[0]);
  Post plain;  // never in a session: nothing to load
  CHECK(plain.author() == nullptr);
  CHECK(plain.tags().empty());
}

TEST_CASE("a detached object's unloaded relationship is a DetachedInstanceError", "[suite][relationships]") {
  auto db = test::fresh_db<Author, Post, Tag>();
  if (!db) return;
  seed(*db, 1, 1);
  auto& s = db->session();
  auto a = s.query<Author>().one();
  s.close();
  CHECK_THROWS_AS(a->posts(), alchemy::DetachedInstanceError);
  CHECK_THROWS_WITH(a->posts(), Contains("is not bound to a Session; lazy load operation of attribute 'posts'"));
}

TEST_CASE("a self-referential tree is inserted parents first and deleted children first", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Category>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto root = s.add(Category{.name = "root"});
  auto mid = root->children().push_back(Category{.name = "mid"});
  auto leaf = mid->children().push_back(Category{.name = "leaf"});
  CHECK(leaf->parent() == mid);
  s.commit();
  CHECK(mid->parent_id == root->id);
  CHECK(leaf->parent_id == mid->id);
  CHECK(!root->parent_id);
  s.expunge_all();
  auto r = s.get<Category>(root->id);
  REQUIRE(r->children().size() == 1);
  CHECK(r->children()[0]->children()[0]->name == "leaf");
  rec.clear();
  s.delete_(r);  // cascade "all": the whole tree, leaves first
  s.commit();
  CHECK(count(*db, "SELECT count(*) FROM rl_category") == 0);
}

TEST_CASE("rows that refer to each other in a cycle are refused with a clear error, writing nothing", "[suite][relationships]") {
  auto db = test::fresh_db<Category>();
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Category{.name = "a"});
  auto b = s.add(Category{.name = "b", .parent = a});
  a->parent = b;  // a's parent is b, whose parent is a
  CHECK_THROWS_WITH(s.commit(), Contains("refer to each other in a cycle"));
  s.rollback();
  CHECK(count(*db, "SELECT count(*) FROM rl_category") == 0);
  a->parent = nullptr;  // a -> b -> a is a std::shared_ptr cycle of the test's making: break it
}

TEST_CASE("one-to-one: each side holds the other, and replacing it deletes the orphan", "[suite][relationships]") {
  auto db = test::fresh_db<User, Profile>();
  if (!db) return;
  auto& s = db->session();
  auto u = s.add(User{.login = "ada"});
  u->profile = alchemy::make<Profile>(Profile{.bio = "first"});
  s.commit();
  REQUIRE(u->profile());
  CHECK(u->profile()->user() == u);
  CHECK(u->profile()->user_id == u->id);
  u->profile = alchemy::make<Profile>(Profile{.bio = "second"});
  s.commit();
  CHECK(count(*db, "SELECT count(*) FROM rl_profile") == 1);
  s.expunge_all();
  auto again = s.get<User>(u->id);
  REQUIRE(again->profile());
  CHECK(again->profile()->bio == "second");
}

TEST_CASE("any(), has() and contains() filter through relationships", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto ada = s.add(Author{.name = "ada"});
  auto bob = s.add(Author{.name = "bob"});
  auto notes = ada->posts().push_back(Post{.title = "Notes"});
  bob->posts().push_back(Post{.title = "Other"});
  auto red = notes->tags().push_back(Tag{.label = "red"});
  s.commit();
  auto with_n = s.query<Author>().filter(Author::posts_.any(Post::title_.like("N%"))).all();
  REQUIRE(with_n.size() == 1);
  CHECK(with_n[0] == ada);
  CHECK(s.query<Author>().filter(Author::posts_.any()).count() == 2);
  auto by_ada = s.query<Post>().filter(Post::author_.has(Author::name_ == "ada")).all();
  REQUIRE(by_ada.size() == 1);
  CHECK(by_ada[0] == notes);
  auto tagged = s.query<Post>().filter(Post::tags_.any(Tag::label_ == "red")).all();
  REQUIRE(tagged.size() == 1);
  CHECK(tagged[0] == notes);
  CHECK(s.query<Post>().filter(Post::tags_.contains(red)).count() == 1);
  CHECK(s.query<Author>().filter(Author::posts_.contains(notes)).one() == ada);
  rec.clear();
  (void)s.query<Author>().filter(Author::posts_.any(Post::title_ == "x'); DROP TABLE rl_post; --")).all();
  for (const auto& q : rec.sql()) CHECK_THAT(q, !Contains("DROP TABLE"));
}

TEST_CASE("rollback expires loaded collections: they load what the database has", "[suite][relationships]") {
  auto db = test::fresh_db<Author, Post, Tag>();
  if (!db) return;
  seed(*db, 1, 1);
  auto& s = db->session();
  auto a = s.query<Author>().one();
  auto extra = a->posts().push_back(Post{.title = "rolled back"});
  CHECK(a->posts().size() == 2);
  s.flush();
  s.rollback();
  CHECK(a->posts().size() == 1);
  CHECK(alchemy::inspect_state(*extra) == alchemy::ObjectState::transient);
}

TEST_CASE("clearing a NOT NULL foreign key is refused before any SQL", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  seed(*db, 1, 1);
  auto& s = db->session();
  auto p = s.query<Post>().one();
  p->author = nullptr;
  rec.clear();
  CHECK_THROWS_WITH(s.flush(), Contains("rl_post.author_id") && Contains("not a std::optional"));
  CHECK(starting(rec, "UPDATE").empty());
}

TEST_CASE("joinedload loads a many-to-one and a collection in the query's own statement", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  seed(*db, 3, 2);
  auto& s = db->session();
  rec.clear();
  auto posts = s.query<Post>().options(alchemy::joinedload(Post::author_)).order_by(Post::id_).all();
  REQUIRE(posts.size() == 6);
  for (const auto& p : posts) CHECK(p->author()->id == p->author_id);
  auto sql = rec.sql();
  REQUIRE(sql.size() == 1);
  CHECK_THAT(sql[0], Contains("LEFT OUTER JOIN rl_author ON"));
  s.expunge_all();
  rec.clear();
  auto authors = s.query<Author>().options(alchemy::joinedload(&Author::posts)).order_by(Author::id_).all();
  REQUIRE(authors.size() == 3);  // each author once, though the join repeats it per post
  for (const auto& a : authors) {
    CHECK(a->posts().size() == 2);
    for (const auto& p : a->posts()) CHECK(p->author() == a);
  }
  CHECK(rec.sql().size() == 1);
  // With LIMIT a collection cannot be joined without cutting it: it loads like selectinload.
  s.expunge_all();
  rec.clear();
  auto two = s.query<Author>().options(alchemy::joinedload(Author::posts_)).order_by(Author::id_).limit(2).all();
  REQUIRE(two.size() == 2);
  CHECK(two[0]->posts().size() == 2);
  CHECK(rec.sql().size() == 2);
}

TEST_CASE("a many-to-many selectinload is one more statement, joined with its association table", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto a = s.add(Author{.name = "a"});
  auto t = s.add(Tag{.label = "t"});
  for (int i = 0; i < 4; ++i) a->posts().push_back(Post{.title = std::to_string(i)})->tags().push_back(t);
  s.commit();
  s.expunge_all();
  rec.clear();
  auto posts = s.query<Post>().options(alchemy::selectinload(Post::tags_)).all();
  REQUIRE(posts.size() == 4);
  for (const auto& p : posts) {
    REQUIRE(p->tags().size() == 1);
    CHECK(p->tags()[0] == posts[0]->tags()[0]);  // one object per row
  }
  CHECK(rec.sql().size() == 2);
}

TEST_CASE("join() and outerjoin() along relationships", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Author, Post, Tag>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto ada = s.add(Author{.name = "ada"});
  s.add(Author{.name = "nobody"});
  auto notes = ada->posts().push_back(Post{.title = "Notes"});
  ada->posts().push_back(Post{.title = "Letters"});
  notes->tags().push_back(Tag{.label = "red"});
  s.commit();
  rec.clear();
  auto by_ada = s.query<Post>().join(Post::author_).filter(Author::name_ == "ada").order_by(Post::id_).all();
  REQUIRE(by_ada.size() == 2);
  CHECK(by_ada[0] == notes);
  CHECK_THAT(rec.sql().at(0), Contains("JOIN rl_author ON rl_author.id = rl_post.author_id"));
  CHECK(s.query<Post>().join(&Post::author).filter(Author::name_ == "nobody").count() == 0);
  CHECK(s.query<Author>().join(Author::posts_).filter(Post::title_ == "Letters").one() == ada);
  CHECK(s.query<Author>().outerjoin(Author::posts_).filter(Post::id_.is_null()).one()->name == "nobody");
  auto red = s.query<Post>().join(Post::tags_).filter(Tag::label_ == "red").all();
  REQUIRE(red.size() == 1);
  CHECK(red[0] == notes);
  CHECK_THROWS_AS(s.query<Category>().join(Category::children_).all(), alchemy::InvalidRequestError);
}

TEST_CASE("passive_deletes leaves unloaded children to ON DELETE CASCADE: no SELECT", "[suite][relationships]") {
  test::Recorder rec;
  auto db = test::fresh_db<Thread, Comment>(&rec);
  if (!db) return;
  auto& s = db->session();
  auto t = s.add(Thread{});
  for (int i = 0; i < 3; ++i) t->comments().push_back(Comment{});
  s.commit();
  s.expunge_all();
  auto again = s.get<Thread>(t->id);
  rec.clear();
  s.delete_(again);
  s.commit();
  const auto sql = rec.sql();
  REQUIRE(sql.size() == 1);
  CHECK_THAT(sql[0], StartsWith("DELETE FROM rl_thread"));
  CHECK(count(*db, "SELECT count(*) FROM rl_comment") == 0);
}

TEST_CASE("a savepoint rolled back takes its children out of the loaded collections", "[suite][relationships]") {
  auto db = test::fresh_db<Author, Post, Tag>();
  if (!db) return;
  seed(*db, 1, 1);
  auto& s = db->session();
  auto a = s.query<Author>().one();
  {
    auto sp = s.begin_nested();
    auto p = a->posts().push_back(Post{.title = "inside"});
    s.flush();
    sp.rollback();
    CHECK(alchemy::inspect_state(*p) == alchemy::ObjectState::transient);
  }
  CHECK(a->posts().size() == 1);  // loaded again: the savepoint's post is gone
  s.commit();
  CHECK(count(*db, "SELECT count(*) FROM rl_post") == 1);
}

}  // namespace suite_relationships
