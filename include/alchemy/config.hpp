// SPDX-License-Identifier: MIT
// File: config.hpp
//
// Header-only or compiled once. By default alchemy is header-only: every translation unit that
// uses the session, the flush or the SQL compiler compiles and optimises them again, which is
// most of what alchemy costs a build (docs/performance.md, "Compile cost").
//
// With ALCHEMY_SEPARATE_COMPILATION defined for the whole program (CMake: link
// alchemy::compiled instead of alchemy::alchemy), the library's plain, non-template code (the
// SQL compiler, the unit of work, transactions and savepoints, and all they reach) is compiled
// once, in the one translation unit that includes <alchemy/src.hpp>; the others see its
// declarations only. Templates (Model<T>, Query<T>, column handles) stay in the headers either
// way, as thin wrappers over that code. Those other units also skip what only the compiled code
// needs: the unit of work's and the transactions' headers, and the SQL compiler (dialect.hpp
// declares sql::Compiler; include <alchemy/sql/compiler.hpp> to call dialect().compiler() yourself,
// which is what the compiler's note on that declaration says when a unit forgets it).
//
//   ALCHEMY_IMPL    1 where the definitions are compiled: always when header-only, and in the
//                   translation unit of <alchemy/src.hpp> when compiled separately
//   ALCHEMY_INLINE  how those definitions are declared: `inline` when header-only, external
//                   (nothing) when compiled separately
#ifndef ALCHEMY_CONFIG_HPP_
#define ALCHEMY_CONFIG_HPP_

#if defined(ALCHEMY_SEPARATE_COMPILATION)
#define ALCHEMY_INLINE
#if defined(ALCHEMY_SOURCE)
#define ALCHEMY_IMPL 1
#else
#define ALCHEMY_IMPL 0
#endif
#else
#define ALCHEMY_INLINE inline
#define ALCHEMY_IMPL 1
#endif

#endif  // ALCHEMY_CONFIG_HPP_
