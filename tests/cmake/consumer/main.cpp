// SPDX-License-Identifier: MIT
// The consumer project's program: one model, one row written and read back on SQLite.
#include <alchemy/alchemy.hpp>

#include <cstdint>
#include <string>

#include <fmt/core.h>

struct Note : alchemy::Model<Note> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, text, alchemy::String(100));

  Note() = default;
  explicit Note(std::string t) : text(std::move(t)) {}
};

int main(int argc, char** argv) {
  alchemy::SQLAlchemy db(argc > 1 ? argv[1] : "sqlite://");
  db.create_all();
  auto note = db.session.add(Note("hello from a consumer"));
  db.session.commit();  // INSERT: note->id is set
  const auto id = note->id;
  db.session.remove();  // a new session: the row comes from the database, not the identity map
  const auto back = Note::query().filter_by("text", "hello from a consumer").one();
  fmt::print("consumer: note {} written, read back as note {}: {}\n", id, back->id, back->text);
  return back->id == id ? 0 : 1;
}
