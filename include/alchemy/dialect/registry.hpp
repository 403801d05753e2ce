// SPDX-License-Identifier: MIT
// File: dialect/registry.hpp
//
// URL scheme → Driver. Each `dialect/<db>/driver.hpp` registers its driver when included:
//
//   inline const bool sqlite_registered = dialect::register_driver("sqlite", &sqlite::driver);
//
// so a program links the drivers it includes and no others.
#ifndef ALCHEMY_DIALECT_REGISTRY_HPP_
#define ALCHEMY_DIALECT_REGISTRY_HPP_

#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "alchemy/dialect/driver.hpp"

namespace alchemy::dialect {

using DriverFactory = const Driver& (*)();

namespace detail {
struct Registry {
  std::mutex mutex;
  std::map<std::string, DriverFactory, std::less<>> drivers;
};
inline Registry& registry() {
  static Registry r;
  return r;
}
}  // namespace detail

/// Makes `scheme` (the dialect part of a URL, or "dialect+driver") open connections through
/// `factory`. Returns true so that it can initialise an inline variable.
inline bool register_driver(std::string scheme, DriverFactory factory) {
  auto& r = detail::registry();
  std::lock_guard lock(r.mutex);
  r.drivers[std::move(scheme)] = factory;
  return true;
}

/// The driver registered for `scheme`, or nullptr.
inline const Driver* find_driver(std::string_view scheme) {
  auto& r = detail::registry();
  std::lock_guard lock(r.mutex);
  auto it = r.drivers.find(scheme);
  return it == r.drivers.end() ? nullptr : &it->second();
}

}  // namespace alchemy::dialect

#endif  // ALCHEMY_DIALECT_REGISTRY_HPP_
