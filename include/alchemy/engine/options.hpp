// SPDX-License-Identifier: MIT
// File: engine/options.hpp
//
// Engine options, with SQLAlchemy's names and defaults (create_engine's keyword arguments):
//
//   alchemy::EngineOptions opts{.echo = true, .pool_size = 10, .pool_pre_ping = true};
#ifndef ALCHEMY_ENGINE_OPTIONS_HPP_
#define ALCHEMY_ENGINE_OPTIONS_HPP_

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace alchemy {

/// Where echo output goes: one call per line, without a trailing newline.
using LogSink = std::function<void(std::string_view line)>;

struct EngineOptions {
  /// Log each statement, its parameters and BEGIN / COMMIT / ROLLBACK (SQLALCHEMY_ECHO).
  bool echo = false;
  /// Keep parameter values out of echo logs (and out of messages; alchemy never puts them there).
  bool hide_parameters = false;
  /// Connections kept open in the pool.
  int pool_size = 5;
  /// Connections opened beyond pool_size under load, closed when returned.
  int max_overflow = 10;
  /// How long a checkout waits for a connection before PoolTimeoutError.
  std::chrono::duration<double> pool_timeout = std::chrono::seconds(30);
  /// Replace connections older than this at checkout (MySQL closes idle ones after 8 h).
  std::optional<std::chrono::duration<double>> pool_recycle;
  /// Test each connection with a round trip at checkout and replace it if dead.
  bool pool_pre_ping = false;
  /// Echo output; stderr by default.
  LogSink log;
};

}  // namespace alchemy

#endif  // ALCHEMY_ENGINE_OPTIONS_HPP_
