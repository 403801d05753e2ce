// SPDX-License-Identifier: MIT
// Internal header; do not include directly. Included by <alchemy/orm/mapper.hpp>.
//
// What a model runs around its writes, type-erased per mapper: mapper event listeners
// (orm/events.hpp), column validators, and Python-side column defaults and onupdate values
// (orm/options.hpp). A program that registers none of them pays one load per flush:
// hooks_in_use() is false and the flush skips the whole pass.
#ifndef ALCHEMY_ORM_DETAIL_HOOKS_HPP_
#define ALCHEMY_ORM_DETAIL_HOOKS_HPP_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace alchemy::orm {

/// The mapper events, in SQLAlchemy's names (alchemy::event::before_insert, ...).
enum class MapperEvent : std::uint8_t { before_insert, after_insert, before_update, after_update, before_delete, after_delete };

struct MapperHooks {
  /// Runs on one object of the mapper's model.
  using Fn = std::function<void(void* obj)>;
  struct Entry {
    std::uint64_t id = 0;
    std::size_t column = 0;  ///< validators, defaults, onupdate: the column's index
    Fn fn;
  };
  std::vector<Entry> listeners[6];  ///< by MapperEvent
  std::vector<Entry> validators;    ///< throw ValidationError
  std::vector<Entry> defaults;      ///< set the field when it holds its value-initialised value
  std::vector<Entry> onupdate;      ///< set the field (the flush calls it when the column is unchanged)

  const std::vector<Entry>& on(MapperEvent e) const noexcept { return listeners[static_cast<int>(e)]; }
  std::vector<Entry>& on(MapperEvent e) noexcept { return listeners[static_cast<int>(e)]; }
};

/// Whether any model registered a listener, validator, default or onupdate. Registration
/// happens at program start (column declarations) or before sessions use the model.
inline std::atomic<bool>& hooks_in_use() noexcept {
  static std::atomic<bool> used{false};
  return used;
}
/// A fresh id for a registered hook (to remove it).
inline std::uint64_t next_hook_id() noexcept {
  static std::atomic<std::uint64_t> n{0};
  hooks_in_use().store(true, std::memory_order_relaxed);
  return ++n;
}

}  // namespace alchemy::orm

#endif  // ALCHEMY_ORM_DETAIL_HOOKS_HPP_
