// SPDX-License-Identifier: MIT
// File: alchemy.hpp
//
// Everything: the SQL layer, the engine, the ORM, and the drivers this build links
// (ALCHEMY_WITH_SQLITE / _POSTGRESQL / _MYSQL are set by the alchemy::<driver> CMake targets).
// Convenient; a translation unit that needs less can include the layer headers it uses.
// With ALCHEMY_SEPARATE_COMPILATION (config.hpp) the drivers are compiled with <alchemy/src.hpp>
// only: a program reaches them through the URL, never by name.
#ifndef ALCHEMY_ALCHEMY_HPP_
#define ALCHEMY_ALCHEMY_HPP_

#include "alchemy/config.hpp"
#include "alchemy/engine/engine.hpp"
#include "alchemy/error.hpp"
#include "alchemy/orm/column.hpp"
#include "alchemy/orm/memory.hpp"
#include "alchemy/orm/model.hpp"
#include "alchemy/orm/query.hpp"
#include "alchemy/orm/session.hpp"
#include "alchemy/orm/signals.hpp"
#include "alchemy/orm/sqlalchemy.hpp"
#include "alchemy/orm/token.hpp"

#if defined(ALCHEMY_WITH_SQLITE) && ALCHEMY_IMPL
#include "alchemy/dialect/sqlite/driver.hpp"
#endif
#if defined(ALCHEMY_WITH_POSTGRESQL) && ALCHEMY_IMPL
#include "alchemy/dialect/postgresql/driver.hpp"
#endif
#if defined(ALCHEMY_WITH_MYSQL) && ALCHEMY_IMPL
#include "alchemy/dialect/mysql/driver.hpp"
#endif

#endif  // ALCHEMY_ALCHEMY_HPP_
