// SPDX-License-Identifier: MIT
// 050 — Your own column types: specialise alchemy::TypeTraits<T> to say which SQL type stores
// a T and how to convert. Here an enum stored as its name (VARCHAR) and a money type stored as
// whole cents (BIGINT); both work in filters and as NULL-able std::optional columns.
//
//   ./050-custom-type               # in-memory SQLite
//   ./050-custom-type postgresql://app:secret@127.0.0.1:5432/app
#include <alchemy/alchemy.hpp>
#include <alchemy/sql/compiler.hpp>  // dialect().compiler(), to print the DDL

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

enum class Color { red, green, blue };

constexpr std::array<std::string_view, 3> color_names{"red", "green", "blue"};

// Stored as its name: readable in the database, and safe when the enum is reordered.
template <>
struct alchemy::TypeTraits<Color> {
  static constexpr sql::SqlType sql_type{sql::TypeKind::string, 8};  // VARCHAR(8)
  static sql::Value to_value(Color c) { return std::string(color_names[std::size_t(c)]); }
  static Color from_ref(sql::ValueRef r) {
    for (std::size_t i = 0; i < color_names.size(); ++i)
      if (r.as_text() == color_names[i]) return Color(i);
    throw alchemy::DataError({.message = "not a color: '" + std::string(r.as_text()) + "'"});
  }
};

// Money as whole cents: exact, unlike a double.
struct Money {
  int64_t cents = 0;
  friend bool operator==(Money, Money) = default;  // the session compares fields to find changes
  std::string str() const { return fmt::format("{}.{:02}", cents / 100, cents % 100); }
};

template <>
struct alchemy::TypeTraits<Money> {
  static constexpr sql::SqlType sql_type{sql::TypeKind::big_integer};  // BIGINT (SQLite: INTEGER)
  static sql::Value to_value(Money m) { return m.cents; }
  static sql::ValueRef to_ref(Money m) noexcept { return sql::ValueRef::integer(m.cents); }  // optional: no copy
  static Money from_ref(sql::ValueRef r) { return Money{TypeTraits<int64_t>::from_ref(r)}; }
};

struct Item : alchemy::Model<Item> {
  ALCHEMY_COLUMN(int64_t, id, alchemy::primary_key);
  ALCHEMY_COLUMN(std::string, name, alchemy::String(50));
  ALCHEMY_COLUMN(Color, color);
  ALCHEMY_COLUMN(Money, price);
  ALCHEMY_COLUMN(std::optional<Money>, discount);  // NULL-able

  Item() = default;
  Item(std::string n, Color c, Money p, std::optional<Money> d = std::nullopt)
      : name(std::move(n)), color(c), price(p), discount(d) {}
};

int main(int argc, char** argv) {
  alchemy::SQLAlchemy db(argc > 1 ? argv[1] : "sqlite://");
  db.drop_all();  // a server keeps tables between runs
  db.create_all();
  fmt::print("{}\n", db.engine().dialect().compiler().create_table(Item::mapper().table()));

  db.session.add_all(std::vector<Item>{
      {"Pen", Color::blue, Money{1'50}},
      {"Mug", Color::red, Money{8'00}, Money{1'00}},
      {"Lamp", Color::green, Money{24'99}},
  });
  db.session.commit();

  // What the database holds: the plain values the traits made.
  {
    auto conn = db.engine().connect();
    auto& st = conn.prepare("SELECT name, color, price FROM item ORDER BY id");
    conn.run(st, {});
    while (st.next())
      fmt::print("row: {} | {} | {}\n", st.column(0, alchemy::sql::TypeKind::string).as_text(),
                 st.column(1, alchemy::sql::TypeKind::string).as_text(),
                 st.column(2, alchemy::sql::TypeKind::big_integer).as_integer());
    st.reset();
  }

  // Filters take the C++ values; they are converted by the same traits.
  for (const auto& item : Item::query().filter(Item::price_ > Money{5'00}).order_by(Item::price_))
    fmt::print("price > 5.00: {} costs {}{}\n", item->name, item->price.str(),
               item->discount ? ", discount " + item->discount->str() : "");
  auto lamp = Item::query().filter(Item::color_ == Color::green).one();
  lamp->discount = Money{5'00};  // a change the session finds through Money's ==
  db.session.commit();
  fmt::print("discounted: {}\n", Item::query().filter(Item::discount_.is_not_null()).count());

  std::string blue = "[";
  for (const auto& item : Item::query().filter(Item::color_ == Color::blue))
    blue += (blue.size() > 1 ? ", " : "") + item->name;
  fmt::print("{} items, the blue ones: {}]\n", Item::query().count(), blue);
  return 0;
}

// Output (on SQLite):
// CREATE TABLE item (
// 	id INTEGER NOT NULL,
// 	name VARCHAR(50) NOT NULL,
// 	color VARCHAR(8) NOT NULL,
// 	price INTEGER NOT NULL,
// 	discount INTEGER,
// 	PRIMARY KEY (id)
// )
// row: Pen | blue | 150
// row: Mug | red | 800
// row: Lamp | green | 2499
// price > 5.00: Mug costs 8.00, discount 1.00
// price > 5.00: Lamp costs 24.99
// discounted: 2
// 3 items, the blue ones: [Pen]
