// SPDX-License-Identifier: MIT
// File: orm/pagination.hpp
//
// Flask-SQLAlchemy's paginate(): one page of a query's rows with the numbers a page list needs,
// and keyset pages for deep paging.
//
//   auto p = Account::query().order_by(Account::id_).paginate({.page = 2, .per_page = 20});
//   for (const auto& a : p) ...                      // p.items()
//   p.total();  p.pages();  p.has_next();  p.next_num();
//   for (auto n : p.iter_pages()) n ? link(*n) : ellipsis();
//
//   auto k = Account::query().order_by(Account::id_).keyset_page({.per_page = 20});
//   auto k2 = Account::query().order_by(Account::id_).keyset_page({.per_page = 20, .after = k.next_after});
//
// paginate() runs the page's SELECT (LIMIT/OFFSET) and then, unless count is false, one
// SELECT count(*) of the query without its ORDER BY. Bad page numbers follow Flask-SQLAlchemy
// 3.1: with error_out (the default) page < 1, per_page < 1, or an empty page other than the first
// throw alchemy::NotFound (HTTP 404); without it, page < 1 becomes 1 and per_page < 1 becomes 20.
#ifndef ALCHEMY_ORM_PAGINATION_HPP_
#define ALCHEMY_ORM_PAGINATION_HPP_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "alchemy/error.hpp"
#include "alchemy/orm/query.hpp"

namespace alchemy {

/// paginate()'s arguments, with Flask-SQLAlchemy's defaults: q.paginate({.page = 2}).
struct PageOptions {
  /// The 1-based page number; 1 when not given.
  std::optional<std::int64_t> page;
  /// Items per page; 20 when not given.
  std::optional<std::int64_t> per_page;
  /// Caps per_page. Not given: no cap, as Query.paginate and db.paginate pass None (the
  /// Pagination class's own default of 100 never applies there). Set it when per_page comes
  /// from the request.
  std::optional<std::int64_t> max_per_page;
  /// Throw NotFound for page < 1, per_page < 1, or an empty page other than page 1. When false,
  /// page < 1 becomes 1, per_page < 1 becomes 20, and a page past the end is empty.
  bool error_out = true;
  /// Count the query's rows (one more statement). When false, total() is empty and pages() is 0.
  bool count = true;
};

/// iter_pages()'s arguments: how many page numbers to show at each edge and around the current
/// page (Flask-SQLAlchemy's defaults).
struct IterPagesOptions {
  std::int64_t left_edge = 2;
  std::int64_t left_current = 2;
  std::int64_t right_current = 4;
  std::int64_t right_edge = 2;
};

/// One page of a query's results (Flask-SQLAlchemy's Pagination).
template <class T>
class Pagination {
 public:
  using value_type = std::shared_ptr<T>;
  using iterator = typename std::vector<std::shared_ptr<T>>::const_iterator;

  /// Runs the page's query (and its count). Query<T>::paginate() calls this.
  Pagination(const Query<T>& query, const PageOptions& options) : query_(query) {
    auto page = options.page.value_or(1);
    auto per_page = options.per_page.value_or(20);
    if (options.max_per_page) per_page = std::min(per_page, *options.max_per_page);
    if (page < 1) {
      if (options.error_out) throw NotFound("page " + std::to_string(page) + " does not exist");
      page = 1;
    }
    if (per_page < 1) {
      if (options.error_out) throw NotFound("per_page must be at least 1, got " + std::to_string(per_page));
      per_page = 20;
    }
    page_ = page;
    per_page_ = per_page;
    max_per_page_ = options.max_per_page;
    // A page whose offset does not fit in 64 bits cannot hold rows; no statement is sent for it.
    if (page - 1 <= std::numeric_limits<std::int64_t>::max() / per_page)
      items_ = query_.limit(per_page).offset((page - 1) * per_page).all();
    if (items_.empty() && page != 1 && options.error_out)
      throw NotFound("page " + std::to_string(page) + " is past the last page");
    if (options.count) total_ = query_.order_by(nullptr).count();
  }

  /// The objects on this page.
  const std::vector<std::shared_ptr<T>>& items() const noexcept { return items_; }
  iterator begin() const noexcept { return items_.begin(); }
  iterator end() const noexcept { return items_.end(); }
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }

  /// The page number (1-based) after correction.
  std::int64_t page() const noexcept { return page_; }
  /// Items per page after max_per_page and correction.
  std::int64_t per_page() const noexcept { return per_page_; }
  std::optional<std::int64_t> max_per_page() const noexcept { return max_per_page_; }
  /// Rows of the whole query; empty when paginated with count = false.
  std::optional<std::int64_t> total() const noexcept { return total_; }

  /// The 1-based number of the first item on this page, or 0 when the page is empty.
  std::int64_t first() const noexcept {
    return items_.empty() ? 0 : (page_ - 1) * per_page_ + 1;
  }
  /// The 1-based number of the last item on this page, or 0 when the page is empty.
  std::int64_t last() const noexcept {
    const auto f = first();
    return std::max(f, f + static_cast<std::int64_t>(items_.size()) - 1);
  }
  /// ceil(total / per_page); 0 when there are no rows or no count.
  std::int64_t pages() const noexcept {
    if (!total_ || *total_ == 0) return 0;
    return *total_ / per_page_ + (*total_ % per_page_ != 0);
  }
  bool has_prev() const noexcept { return page_ > 1; }
  std::optional<std::int64_t> prev_num() const noexcept {
    if (!has_prev()) return std::nullopt;
    return page_ - 1;
  }
  /// Whether a later page exists. Needs the count: always false with count = false, as in
  /// Flask-SQLAlchemy.
  bool has_next() const noexcept { return page_ < pages(); }
  std::optional<std::int64_t> next_num() const noexcept {
    if (!has_next()) return std::nullopt;
    return page_ + 1;
  }

  /// The previous page (one SELECT; the total is carried over, not counted again).
  Pagination prev(bool error_out = false, SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return sibling(page_ - 1, error_out);
  }
  /// The next page (one SELECT; the total is carried over, not counted again).
  Pagination next(bool error_out = false, SourceLocation where = SourceLocation::current()) const {
    const engine::CallSite site(where);
    return sibling(page_ + 1, error_out);
  }

  /// Page numbers for a page list, with std::nullopt where numbers are left out:
  /// 23 pages, page 7 → 1 2 … 5 6 7 8 9 10 11 … 22 23.
  std::vector<std::optional<std::int64_t>> iter_pages(const IterPagesOptions& o = {}) const {
    std::vector<std::optional<std::int64_t>> out;
    const auto pages_end = pages() + 1;
    if (pages_end == 1) return out;
    const auto range = [&](std::int64_t from, std::int64_t to) {
      for (auto i = from; i < to; ++i) out.emplace_back(i);
    };
    const auto left_end = std::min(1 + o.left_edge, pages_end);
    range(1, left_end);
    if (left_end == pages_end) return out;
    const auto mid_start = std::max(left_end, page_ - o.left_current);
    const auto mid_end = std::min(page_ + o.right_current + 1, pages_end);
    if (mid_start - left_end > 0) out.emplace_back(std::nullopt);
    range(mid_start, mid_end);
    if (mid_end == pages_end) return out;
    const auto right_start = std::max(mid_end, pages_end - o.right_edge);
    if (right_start - mid_end > 0) out.emplace_back(std::nullopt);
    range(right_start, pages_end);
    return out;
  }

 private:
  Pagination sibling(std::int64_t page, bool error_out) const {
    Pagination p(query_, PageOptions{.page = page, .per_page = per_page_, .max_per_page = max_per_page_,
                                     .error_out = error_out, .count = false});
    p.total_ = total_;
    return p;
  }

  Query<T> query_;
  std::vector<std::shared_ptr<T>> items_;
  std::optional<std::int64_t> total_;
  std::int64_t page_ = 1;
  std::int64_t per_page_ = 20;
  std::optional<std::int64_t> max_per_page_;
};

/// keyset_page()'s arguments.
struct KeysetOptions {
  /// Items per page.
  std::int64_t per_page = 20;
  /// The previous page's next_after; empty for the first page.
  std::vector<sql::Value> after;
};

/// One keyset page: its items and the cursor of the next page. One SELECT of per_page + 1 rows
/// (the extra row tells whether there is a next page); no COUNT, no OFFSET.
template <class T>
struct KeysetPage {
  std::vector<std::shared_ptr<T>> items;
  /// Whether rows follow this page.
  bool has_next = false;
  /// The ORDER BY values of the last item: pass as KeysetOptions::after for the next page.
  /// Empty when the page is empty.
  std::vector<sql::Value> next_after;

  using iterator = typename std::vector<std::shared_ptr<T>>::const_iterator;
  iterator begin() const noexcept { return items.begin(); }
  iterator end() const noexcept { return items.end(); }
};

template <class T>
Pagination<T> Query<T>::paginate(SourceLocation where) const {
  const engine::CallSite site(where);
  return Pagination<T>(*this, PageOptions{});
}

template <class T>
Pagination<T> Query<T>::paginate(const PageOptions& options, SourceLocation where) const {
  const engine::CallSite site(where);
  return Pagination<T>(*this, options);
}

template <class T>
KeysetPage<T> Query<T>::keyset_page(const KeysetOptions& options, SourceLocation where) const {
  const engine::CallSite site(where);
  if (options.per_page < 1) throw ArgumentError("keyset_page(): per_page must be at least 1");
  if (stmt_.order_by.empty()) throw InvalidRequestError("keyset_page() needs an ordered query: call order_by() first");
  for (const auto& term : stmt_.order_by) {
    if (term.expr->op != sql::Op::column || !term.expr->column)
      throw ArgumentError("keyset_page(): every ORDER BY term must be a column");
    // The next cursor is read from the last object, so a joined model's column cannot be one.
    if (term.expr->column->table != stmt_.table)
      throw InvalidRequestError("keyset_page(): ORDER BY column " + term.expr->column->table->name() + "." +
                                term.expr->column->name + " is not a column of " + mapper_of<T>().class_name() +
                                "; order by the query's own columns, or use seek_after()");
  }
  const Query q = options.after.empty() ? *this : seek_after(options.after);
  KeysetPage<T> out;
  const auto n = options.per_page;
  out.items = q.limit(n == std::numeric_limits<std::int64_t>::max() ? n : n + 1).all();
  if (static_cast<std::int64_t>(out.items.size()) > n) {
    out.has_next = true;
    out.items.resize(static_cast<std::size_t>(n));
  }
  if (!out.items.empty()) {
    const auto& m = mapper_of<T>();
    const T& last = *out.items.back();
    for (const auto& term : stmt_.order_by)
      out.next_after.push_back(m.access(static_cast<std::size_t>(term.expr->column->position)).get(&last));
  }
  return out;
}

}  // namespace alchemy

#endif  // ALCHEMY_ORM_PAGINATION_HPP_
