// SPDX-License-Identifier: MIT
// 030 — Queries: filters and their operators, and_/or_/not_, ordering, limit and offset,
// first/one/one_or_none, count and exists, the SQL a query compiles to, and bulk update and
// delete.
//
//   ./030-queries                   # in-memory SQLite
//   ./030-queries postgresql://app:secret@127.0.0.1:5432/app
#include <alchemy/alchemy.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

struct Book : alchemy::Model<Book> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, title, alchemy::String(100));
  ALCHEMY_COLUMN(std::string, author, alchemy::String(100));
  ALCHEMY_COLUMN(int32_t, year);
  ALCHEMY_COLUMN(double, price);
  ALCHEMY_COLUMN(std::optional<std::string>, isbn, alchemy::String(20));

  Book() = default;
  Book(std::string t, std::string a, int32_t y, double p, std::optional<std::string> i = std::nullopt)
      : title(std::move(t)), author(std::move(a)), year(y), price(p), isbn(std::move(i)) {}
};

// Runs the query (a range-for runs it once) and lists the titles.
std::string titles(const alchemy::Query<Book>& q) {
  std::string s = "[";
  for (const auto& b : q) s += (s.size() > 1 ? ", " : "") + b->title;
  return s + "]";
}

int main(int argc, char** argv) {
  alchemy::SQLAlchemy db(argc > 1 ? argv[1] : "sqlite://");
  db.drop_all();  // a server keeps tables between runs
  db.create_all();
  db.session.add_all(std::vector<Book>{
      {"Dune", "Frank Herbert", 1965, 9.99, "978-0441013593"},
      {"Neuromancer", "William Gibson", 1984, 8.5},
      {"Foundation", "Isaac Asimov", 1951, 7.25, "978-0553293357"},
      {"The Caves of Steel", "Isaac Asimov", 1954, 6.0},
      {"Hyperion", "Dan Simmons", 1989, 10.0, "978-0553283686"},
  });
  db.session.commit();

  // Queries are values: each call returns a new query; nothing runs until results are asked for.
  const auto by_id = Book::query().order_by(Book::id_);
  fmt::print("all: {}\n", titles(by_id));
  fmt::print("year < 1960: {}\n", titles(by_id.filter(Book::year_ < 1960)));
  fmt::print("author == 'Isaac Asimov' and price > 7: {}\n",
             titles(by_id.filter(Book::author_ == "Isaac Asimov", Book::price_ > 7)));
  fmt::print("or_(year < 1952, year > 1985): {}\n",
             titles(by_id.filter(or_(Book::year_ < 1952, Book::year_ > 1985))));
  fmt::print("not_(author.like('Isaac%')): {}\n", titles(by_id.filter(not_(Book::author_.like("Isaac%")))));
  fmt::print("title.ilike('%STEEL%'): {}\n", titles(by_id.filter(Book::title_.ilike("%STEEL%"))));
  fmt::print("title.startswith('The '): {}\n", titles(by_id.filter(Book::title_.startswith("The "))));
  fmt::print("year.in_({{1965, 1984}}): {}\n", titles(by_id.filter(Book::year_.in_({1965, 1984}))));
  fmt::print("year.between(1950, 1965): {}\n", titles(by_id.filter(Book::year_.between(1950, 1965))));
  fmt::print("isbn.is_null(): {}\n", titles(by_id.filter(Book::isbn_.is_null())));
  fmt::print("year > 1950 && !(price >= 9): {}\n",
             titles(by_id.filter(Book::year_ > 1950 && !(Book::price_ >= 9))));

  // Ordering, limit and offset.
  const auto page = Book::query().order_by(Book::price_.desc()).limit(2).offset(1);
  fmt::print("by price desc, limit 2 offset 1: {}\n", titles(page));
  fmt::print("  SQL: {}\n", page.statement());
  fmt::print("order_by(author, year): {}\n", titles(Book::query().order_by(Book::author_, Book::year_)));

  // One row: first() is null when there is none; one() insists on exactly one.
  auto cheapest = Book::query().order_by(Book::price_).first();
  fmt::print("first() by price: {} ({})\n", cheapest->title, cheapest->price);
  fmt::print("first() of nothing is null: {}\n", Book::query().filter(Book::year_ > 2000).first() == nullptr);
  try {
    Book::query().filter(Book::author_ == "Isaac Asimov").one();
  } catch (const alchemy::MultipleResultsFound& e) {
    fmt::print("one() of two rows: MultipleResultsFound: {}\n", e.what());
  }
  try {
    Book::query().filter(Book::author_ == "Jules Verne").one();
  } catch (const alchemy::NoResultFound& e) {
    fmt::print("one() of no rows: NoResultFound: {}\n", e.what());
  }
  fmt::print("one_or_none() of no rows is null: {}\n",
             Book::query().filter(Book::author_ == "Jules Verne").one_or_none() == nullptr);

  // Counting, and a column named at run time.
  fmt::print("count(): {}, exists(year > 1980): {}\n", Book::query().count(),
             Book::query().filter(Book::year_ > 1980).exists());
  fmt::print("filter_by(\"author\", \"Isaac Asimov\").count(): {}\n",
             Book::query().filter_by("author", "Isaac Asimov").count());

  // Bulk UPDATE and DELETE run one statement; objects in the session are kept in step.
  const auto n = Book::query().filter(Book::author_ == "Isaac Asimov").update({{"price", 5.0}});
  fmt::print("bulk update: {} rows now cost 5; Foundation in the session costs {}\n", n,
             Book::query().filter(Book::title_ == "Foundation").one()->price);
  const auto removed = Book::query().filter(Book::isbn_.is_null()).delete_();
  db.session.commit();
  fmt::print("bulk delete: {} rows removed, {} left\n", removed, Book::query().count());
  return 0;
}

// Output (on SQLite; the SQL line is the dialect's):
// all: [Dune, Neuromancer, Foundation, The Caves of Steel, Hyperion]
// year < 1960: [Foundation, The Caves of Steel]
// author == 'Isaac Asimov' and price > 7: [Foundation]
// or_(year < 1952, year > 1985): [Foundation, Hyperion]
// not_(author.like('Isaac%')): [Dune, Neuromancer, Hyperion]
// title.ilike('%STEEL%'): [The Caves of Steel]
// title.startswith('The '): [The Caves of Steel]
// year.in_({1965, 1984}): [Dune, Neuromancer]
// year.between(1950, 1965): [Dune, Foundation, The Caves of Steel]
// isbn.is_null(): [Neuromancer, The Caves of Steel]
// year > 1950 && !(price >= 9): [Neuromancer, Foundation, The Caves of Steel]
// by price desc, limit 2 offset 1: [Dune, Neuromancer]
//   SQL: SELECT book.id, book.title, book.author, book.year, book.price, book.isbn FROM book ORDER BY book.price DESC LIMIT ? OFFSET ?
// order_by(author, year): [Hyperion, Dune, Foundation, The Caves of Steel, Neuromancer]
// first() by price: The Caves of Steel (6)
// first() of nothing is null: true
// one() of two rows: MultipleResultsFound: Multiple rows were found when exactly one was required
// one() of no rows: NoResultFound: No row was found when one was required
// one_or_none() of no rows is null: true
// count(): 5, exists(year > 1980): true
// filter_by("author", "Isaac Asimov").count(): 2
// bulk update: 2 rows now cost 5; Foundation in the session costs 5
// bulk delete: 2 rows removed, 3 left
