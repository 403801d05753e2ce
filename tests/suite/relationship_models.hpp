// SPDX-License-Identifier: MIT
// Models of the relationship tests: authors, posts and tags (one-to-many, many-to-one,
// many-to-many), a self-referential category tree, users with one profile (one-to-one), and
// shelves whose books load with lazy="raise".
#ifndef ALCHEMY_TESTS_SUITE_RELATIONSHIP_MODELS_HPP_
#define ALCHEMY_TESTS_SUITE_RELATIONSHIP_MODELS_HPP_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <alchemy/alchemy.hpp>

namespace rel {

struct Post;
struct Tag;

struct Author : alchemy::Model<Author> {
  ALCHEMY_TABLENAME("rl_author");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(80));
  ALCHEMY_RELATIONSHIP(std::vector<Post>, posts, alchemy::back_populates("author"),
                       alchemy::cascade("all, delete-orphan"));
};

struct Post : alchemy::Model<Post> {
  ALCHEMY_TABLENAME("rl_post");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, author_id, alchemy::ForeignKey("rl_author.id", alchemy::on_delete_cascade));
  ALCHEMY_COLUMN(std::string, title, alchemy::String(200));
  ALCHEMY_RELATIONSHIP(Author, author, alchemy::back_populates("posts"));
  ALCHEMY_RELATIONSHIP(std::vector<Tag>, tags, alchemy::secondary("rl_post_tag"));
};

struct Tag : alchemy::Model<Tag> {
  ALCHEMY_TABLENAME("rl_tag");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, label, alchemy::String(40), alchemy::unique);
};

/// A tree: parent_id refers to the same table.
struct Category : alchemy::Model<Category> {
  ALCHEMY_TABLENAME("rl_category");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::optional<int64_t>, parent_id, alchemy::ForeignKey("rl_category.id"));
  ALCHEMY_COLUMN(std::string, name, alchemy::String(40));
  ALCHEMY_RELATIONSHIP(Category, parent, alchemy::back_populates("children"));
  ALCHEMY_RELATIONSHIP(std::vector<Category>, children, alchemy::back_populates("parent"), alchemy::cascade("all"));
};

struct Profile;
struct User : alchemy::Model<User> {
  ALCHEMY_TABLENAME("rl_user");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, login, alchemy::String(40));
  ALCHEMY_RELATIONSHIP(Profile, profile, alchemy::back_populates("user"), alchemy::cascade("all, delete-orphan"));
};
struct Profile : alchemy::Model<Profile> {
  ALCHEMY_TABLENAME("rl_profile");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, user_id, alchemy::ForeignKey("rl_user.id"));
  ALCHEMY_COLUMN(std::string, bio, alchemy::String(200));
  ALCHEMY_RELATIONSHIP(User, user, alchemy::back_populates("profile"));
};

/// Books keep a nullable key: without cascade delete, deleting a shelf clears it.
struct Book;
struct Shelf : alchemy::Model<Shelf> {
  ALCHEMY_TABLENAME("rl_shelf");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(40));
  ALCHEMY_RELATIONSHIP(std::vector<Book>, books, alchemy::lazy_raise);
};
struct Book : alchemy::Model<Book> {
  ALCHEMY_TABLENAME("rl_book");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::optional<int64_t>, shelf_id, alchemy::ForeignKey("rl_shelf.id"));
  ALCHEMY_COLUMN(std::string, title, alchemy::String(80));
};

/// Threads leave their comments to the database's ON DELETE CASCADE (passive_deletes).
struct Comment;
struct Thread : alchemy::Model<Thread> {
  ALCHEMY_TABLENAME("rl_thread");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_RELATIONSHIP(std::vector<Comment>, comments, alchemy::cascade("all, delete-orphan"),
                       alchemy::passive_deletes);
};
struct Comment : alchemy::Model<Comment> {
  ALCHEMY_TABLENAME("rl_comment");
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(int64_t, thread_id, alchemy::ForeignKey("rl_thread.id", alchemy::on_delete_cascade));
};

}  // namespace rel

#endif  // ALCHEMY_TESTS_SUITE_RELATIONSHIP_MODELS_HPP_
