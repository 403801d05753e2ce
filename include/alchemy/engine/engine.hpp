// SPDX-License-Identifier: MIT
// File: engine/engine.hpp
//
// An Engine is URL + dialect + driver + pool (SQLAlchemy's create_engine):
//
//   auto engine = alchemy::create_engine("sqlite:///app.db", {.echo = true});
//   auto conn = engine->connect();        // from the pool; returned when conn goes away
//
// The driver comes from the URL's scheme: include its header (alchemy.hpp includes the drivers
// your build links) and link alchemy::sqlite, alchemy::postgresql or alchemy::mysql.
#ifndef ALCHEMY_ENGINE_ENGINE_HPP_
#define ALCHEMY_ENGINE_ENGINE_HPP_

#include <memory>
#include <ostream>
#include <string>

#include "alchemy/config.hpp"
#include "alchemy/dialect/dialect.hpp"
#include "alchemy/dialect/registry.hpp"
#include "alchemy/engine/connection.hpp"
#include "alchemy/engine/log.hpp"
#include "alchemy/engine/options.hpp"
#include "alchemy/engine/pool.hpp"
#include "alchemy/engine/url.hpp"

namespace alchemy {

class Engine {
 public:
  Engine(Url url, EngineOptions options)
      : url_(std::move(url)),
        driver_(find(url_)),
        logger_(options.echo, options.hide_parameters, options.log),
        pool_(*driver_, url_.connect_params(), options,
              driver_->dialect().single_connection(url_.connect_params())) {
    if (options.pool_size < 1 && !driver_->dialect().single_connection(url_.connect_params()))
      throw ArgumentError("pool_size must be at least 1");
    if (options.max_overflow < 0) throw ArgumentError("max_overflow must not be negative");
  }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine() { pool_.dispose(); }

  const Url& url() const noexcept { return url_; }
  const dialect::Dialect& dialect() const noexcept { return driver_->dialect(); }
  const dialect::Driver& driver() const noexcept { return *driver_; }
  engine::Pool& pool() noexcept { return pool_; }
  engine::Logger& logger() noexcept { return logger_; }

  /// A connection from the pool; it goes back (rolled back) when the returned object dies.
  engine::Connection connect() { return engine::Connection(pool_, pool_.checkout(), &logger_); }

  /// Closes the pooled connections. Connections in use close when returned.
  void dispose() noexcept { pool_.dispose(); }

  /// "Engine(postgresql://app:***@db/app)", as SQLAlchemy's repr.
  std::string repr() const;
  friend std::ostream& operator<<(std::ostream& os, const Engine& e) { return os << e.repr(); }

 private:
  static const dialect::Driver* find(const Url& url);

  Url url_;
  const dialect::Driver* driver_;
  engine::Logger logger_;
  engine::Pool pool_;
};

#if ALCHEMY_IMPL  // compiled once with ALCHEMY_SEPARATE_COMPILATION (alchemy/config.hpp)
ALCHEMY_INLINE const dialect::Driver* Engine::find(const Url& url) {
  if (const auto* d = dialect::find_driver(url.drivername)) return d;
  if (url.driver().empty() || url.dialect() == "sqlite") {
    if (const auto* d = dialect::find_driver(url.dialect())) return d;
  }
  const auto name = std::string(url.dialect());
  const bool known = name == "sqlite" || name == "postgresql" || name == "mysql" || name == "mariadb";
  if (known)
    throw UrlError("no driver for '" + url.drivername + "' in URL '" + url.render() +
                   "': link alchemy::" + (name == "mariadb" ? std::string("mysql") : name) +
                   " and include <alchemy/dialect/" + (name == "mariadb" ? std::string("mysql") : name) +
                   "/driver.hpp> (or alchemy/alchemy.hpp)");
  throw UrlError("unknown database '" + url.drivername + "' in URL '" + url.render() +
                 "': alchemy knows sqlite, postgresql and mysql");
}

ALCHEMY_INLINE std::string Engine::repr() const { return "Engine(" + url_.render() + ")"; }
#endif  // ALCHEMY_IMPL

/// Parses `url` and makes an Engine for it.
inline std::shared_ptr<Engine> create_engine(std::string_view url, EngineOptions options = {}) {
  return std::make_shared<Engine>(make_url(url), std::move(options));
}

}  // namespace alchemy

#endif  // ALCHEMY_ENGINE_ENGINE_HPP_
