// SPDX-License-Identifier: MIT
// 060 — Relationships: a blog of authors, posts and tags. One-to-many with back_populates and
// cascade "all, delete-orphan", many-to-one, many-to-many through an association table, lazy
// loading, selectinload (2 statements for every author's posts), any()/has() filters, and
// deleting an author with its posts. The SQL of the steps that matter is echoed with "  |".
//
//   ./060-blog              # in-memory SQLite
//   ./060-blog postgresql://app:secret@127.0.0.1:5432/app
#include <alchemy/alchemy.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>  // fmt::join

struct Post;
struct Tag;

// Table names of their own: the examples share one database on a server.
struct Author : alchemy::Model<Author> {
  ALCHEMY_TABLENAME("rel_author");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(80), alchemy::unique);
  ALCHEMY_RELATIONSHIP(std::vector<Post>, posts, alchemy::back_populates("author"),
                       alchemy::cascade("all, delete-orphan"));
};

struct Post : alchemy::Model<Post> {
  ALCHEMY_TABLENAME("rel_post");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, author_id, alchemy::ForeignKey("rel_author.id", alchemy::on_delete_cascade));
  ALCHEMY_COLUMN(std::string, title, alchemy::String(200));
  ALCHEMY_RELATIONSHIP(Author, author, alchemy::back_populates("posts"));
  ALCHEMY_RELATIONSHIP(std::vector<Tag>, tags, alchemy::secondary("rel_post_tag"));  // many-to-many
};

struct Tag : alchemy::Model<Tag> {
  ALCHEMY_TABLENAME("rel_tag");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, label, alchemy::String(40), alchemy::unique);
};

int main(int argc, char** argv) {
  alchemy::Config config;
  config.SQLALCHEMY_DATABASE_URI = argc > 1 ? argv[1] : "sqlite://";
  config.SQLALCHEMY_ENGINE_OPTIONS.log = [](std::string_view line) {
    if (line.rfind("[", 0) != 0) fmt::print("  | {}\n", line);  // statements, not parameters
  };
  alchemy::SQLAlchemy db(config);
  db.drop_all();  // a server keeps tables between runs
  db.create_all();  // rel_author, rel_post, rel_tag, and the association table rel_post_tag
  auto& echo = db.engine().logger();

  // Build a graph in memory; commit() INSERTs parents before children, then the links.
  auto ada = db.session.add(Author{.name = "ada"});
  auto notes = ada->posts().push_back(Post{.title = "Notes on the Analytical Engine"});
  auto letters = ada->posts().push_back(Post{.title = "Letters"});
  auto grace = db.session.add(Author{.name = "grace"});
  auto cobol = grace->posts().push_back(Post{.title = "Nanoseconds"});
  auto history = db.session.add(Tag{.label = "history"});
  notes->tags().push_back(history);
  notes->tags().push_back(Tag{.label = "engines"});
  cobol->tags().push_back(history);
  fmt::print("before commit: {}'s author is {} (back_populates, no SQL yet)\n", notes->title, notes->author()->name);
  echo.set_enabled(true);
  db.session.commit();
  echo.set_enabled(false);
  fmt::print("committed: ada id {}, her posts' author_id {} and {}\n", ada->id, notes->author_id, letters->author_id);

  // A fresh session: lazy loading is one SELECT on first access, none after.
  db.session.remove();
  auto a = Author::query().filter(Author::name_ == "ada").one();
  echo.set_enabled(true);
  fmt::print("ada has {} posts\n", a->posts().size());
  echo.set_enabled(false);
  fmt::print("again: {} posts, no SQL\n", a->posts().size());

  // selectinload: every author's posts in one more statement, whatever the number of authors.
  db.session.remove();
  echo.set_enabled(true);
  auto authors = Author::query().options(alchemy::selectinload(Author::posts_)).order_by(Author::name_).all();
  echo.set_enabled(false);
  for (const auto& au : authors) {
    std::vector<std::string> t;
    for (const auto& p : au->posts()) t.push_back(p->title);
    fmt::print("{}: {}\n", au->name, fmt::join(t, ", "));
  }

  // Filters through relationships: EXISTS subqueries with bound values.
  auto tagged = Post::query().filter(Post::tags_.any(Tag::label_ == "history")).order_by(Post::id_).all();
  auto by_grace = Post::query().filter(Post::author_.has(Author::name_ == "grace")).all();
  auto wrote_n = Author::query().filter(Author::posts_.any(Post::title_.like("N%"))).order_by(Author::id_).all();
  fmt::print("posts tagged history: {}, posts by grace: {}, authors with an N title: {}\n", tagged.size(),
             by_grace.size(), wrote_n.size());

  // Cascades: a post taken out of its author's posts is an orphan and is deleted; deleting an
  // author deletes her posts first.
  auto ada2 = Author::query().filter(Author::name_ == "ada").one();
  ada2->posts().remove(ada2->posts()[1]);
  db.session.commit();
  fmt::print("after removing one post: ada has {} post(s) in the database\n",
             Post::query().filter(Post::author_id_ == ada2->id).count());
  db.session.delete_(ada2);
  echo.set_enabled(true);
  db.session.commit();
  echo.set_enabled(false);
  fmt::print("deleted ada: {} authors, {} posts, {} tags left\n", Author::query().count(), Post::query().count(),
             Tag::query().count());
}
