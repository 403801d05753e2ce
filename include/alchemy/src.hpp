// SPDX-License-Identifier: MIT
// File: src.hpp
//
// The one translation unit of a program built with ALCHEMY_SEPARATE_COMPILATION includes this
// header, and nothing of alchemy before it (see config.hpp). The CMake target alchemy::compiled
// does that for you:
//
//   // alchemy_src.cpp, compiled with -DALCHEMY_SEPARATE_COMPILATION like the rest
//   #include <alchemy/src.hpp>
#ifndef ALCHEMY_SRC_HPP_
#define ALCHEMY_SRC_HPP_

#if !defined(ALCHEMY_SEPARATE_COMPILATION)
#error "<alchemy/src.hpp> is for builds with ALCHEMY_SEPARATE_COMPILATION; without it alchemy is header-only"
#endif
#if defined(ALCHEMY_CONFIG_HPP_) || defined(ALCHEMY_ERROR_HPP_)
#error "include <alchemy/src.hpp> before any other alchemy header of its translation unit"
#endif

#define ALCHEMY_SOURCE 1
#include "alchemy/alchemy.hpp"

#endif  // ALCHEMY_SRC_HPP_
