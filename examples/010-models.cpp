// SPDX-License-Identifier: MIT
// 010 — Declaring models: columns, C++ types and the SQL types they map to, NULL-able columns,
// keys, unique columns, indexes, server defaults and foreign keys, and the tables create_all()
// makes of them.
//
//   ./010-models                    # in-memory SQLite
//   ./010-models postgresql://app:secret@127.0.0.1:5432/app
#include <alchemy/alchemy.hpp>
#include <alchemy/sql/compiler.hpp>  // dialect().compiler(), to print the DDL

#include <cstdint>
#include <optional>
#include <string>

#include <fmt/core.h>

// The table name defaults to the class name in snake_case: "author".
struct Author : alchemy::Model<Author> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);                           // INTEGER, generated
  ALCHEMY_COLUMN(std::string, name, alchemy::String(80), alchemy::unique);     // VARCHAR(80) NOT NULL
  ALCHEMY_COLUMN(std::optional<std::string>, bio, alchemy::Text);              // TEXT, NULL-able

  Author() = default;
  explicit Author(std::string n) : name(std::move(n)) {}
};

// "blog_post". Each C++ type picks its SQL type; std::optional makes the column NULL-able.
struct BlogPost : alchemy::Model<BlogPost> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, author_id, alchemy::ForeignKey("author.id", alchemy::on_delete_cascade),
                 alchemy::index);
  ALCHEMY_COLUMN(std::string, title, alchemy::String(200));
  ALCHEMY_COLUMN(bool, published, alchemy::server_default("false"));  // BOOLEAN
  ALCHEMY_COLUMN(int32_t, views);                                      // INTEGER
  ALCHEMY_COLUMN(double, rating);                                      // DOUBLE
  ALCHEMY_COLUMN(std::optional<alchemy::DateTime>, published_at);      // DATETIME / TIMESTAMP
  ALCHEMY_COLUMN(std::optional<alchemy::Blob>, cover);                 // BLOB / BYTEA

  BlogPost() = default;
  BlogPost(int64_t author, std::string t) : author_id(author), title(std::move(t)) {}
};

int main(int argc, char** argv) {
  alchemy::SQLAlchemy db(argc > 1 ? argv[1] : "sqlite://");
  fmt::print("010-models on {}\n", db.engine().url().dialect());

  // What each model maps to. The DDL is the dialect's: this is SQLite's.
  for (const alchemy::orm::Mapper* m : {&Author::mapper(), &BlogPost::mapper()}) {
    fmt::print("model {} -> table {} ({} columns)\n", m->class_name(), m->table().name(),
               m->column_count());
    fmt::print("{}\n", db.engine().dialect().compiler().create_table(m->table()));
    for (const auto& ix : db.engine().dialect().compiler().create_indexes(m->table()))
      fmt::print("{}\n", ix);
  }

  // A server keeps tables between runs: start from none. (Referencing tables are dropped first
  // and created last, whatever the order here.)
  db.drop_all();
  db.create_all();
  fmt::print("create_all: tables author and blog_post exist\n");

  auto ada = db.session.add(Author("Ada"));
  db.session.commit();
  auto post = db.session.add(BlogPost(ada->id, "Notes on the Analytical Engine"));
  db.session.commit();
  fmt::print("author {} wrote post {}: published={}, views={}, bio is {}\n", ada->id, post->id,
             post->published, post->views, ada->bio ? "set" : "NULL");

  // ON DELETE CASCADE: deleting the author deletes the post in the database.
  db.session.delete_(ada);
  db.session.commit();
  fmt::print("posts left after deleting the author: {} (ON DELETE CASCADE)\n",
             BlogPost::query().count());
  return 0;
}

// Output (on SQLite):
// 010-models on sqlite
// model Author -> table author (3 columns)
// CREATE TABLE author (
// 	id INTEGER NOT NULL,
// 	name VARCHAR(80) NOT NULL,
// 	bio TEXT,
// 	PRIMARY KEY (id),
// 	UNIQUE (name)
// )
// model BlogPost -> table blog_post (8 columns)
// CREATE TABLE blog_post (
// 	id INTEGER NOT NULL,
// 	author_id INTEGER NOT NULL,
// 	title VARCHAR(200) NOT NULL,
// 	published BOOLEAN DEFAULT false NOT NULL,
// 	views INTEGER NOT NULL,
// 	rating DOUBLE NOT NULL,
// 	published_at DATETIME,
// 	cover BLOB,
// 	PRIMARY KEY (id),
// 	FOREIGN KEY(author_id) REFERENCES author (id) ON DELETE CASCADE
// )
// CREATE INDEX ix_blog_post_author_id ON blog_post (author_id)
// create_all: tables author and blog_post exist
// author 1 wrote post 1: published=false, views=0, bio is NULL
// posts left after deleting the author: 0 (ON DELETE CASCADE)
