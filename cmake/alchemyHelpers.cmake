# SPDX-License-Identifier: MIT
# alchemy_add_driver(NAME n PACKAGE p TARGETS t...): the INTERFACE target alchemy::<n>, which adds
# one client library to alchemy::alchemy. ALCHEMY_WITH_<N> is ON (required), OFF, or AUTO (on
# when the package is found).
function(alchemy_add_driver)
  cmake_parse_arguments(ARG "" "NAME;PACKAGE" "TARGETS" ${ARGN})
  string(TOUPPER "${ARG_NAME}" up)
  if(ALCHEMY_WITH_${up} STREQUAL "OFF")
    return()
  endif()
  if(ALCHEMY_WITH_${up} STREQUAL "AUTO")
    find_package(${ARG_PACKAGE} QUIET)
  else()
    find_package(${ARG_PACKAGE} REQUIRED)
  endif()
  set(dep "")
  foreach(t IN LISTS ARG_TARGETS)
    if(TARGET ${t})
      set(dep ${t})
      break()
    endif()
  endforeach()
  if(NOT dep)
    if(ALCHEMY_WITH_${up} STREQUAL "ON")
      message(FATAL_ERROR "alchemy: ${ARG_PACKAGE} found but none of ${ARG_TARGETS} exists")
    endif()
    message(STATUS "alchemy: ${ARG_NAME} driver disabled (${ARG_PACKAGE} not found)")
    return()
  endif()
  add_library(alchemy_${ARG_NAME} INTERFACE)
  add_library(alchemy::${ARG_NAME} ALIAS alchemy_${ARG_NAME})
  set_target_properties(alchemy_${ARG_NAME} PROPERTIES EXPORT_NAME ${ARG_NAME})
  target_link_libraries(alchemy_${ARG_NAME} INTERFACE alchemy::alchemy ${dep})
  target_compile_definitions(alchemy_${ARG_NAME} INTERFACE ALCHEMY_WITH_${up}=1)
  set_property(GLOBAL APPEND PROPERTY ALCHEMY_DRIVERS ${ARG_NAME})
endfunction()

# alchemy_project_options(target): warnings (and, on request, -Werror and sanitizers: ASan+UBSan
# with ALCHEMY_SANITIZE, TSan with ALCHEMY_TSAN) for
# alchemy's own tests, examples and benchmarks. Never applied to consumers.
function(alchemy_project_options target)
  # Also for targets that do not link alchemy::alchemy (Catch2's main): a TU compiled as C++14
  # (clang's default) would leave out Catch2's string_view StringMaker and break the link.
  target_compile_features(${target} PRIVATE cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-missing-field-initializers)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ 12 reports false positives inside std::variant copies at -O2 (GCC bug 105562 family).
    # ... and a false -Wrestrict inside std::string's operator+ at -O3 (GCC bug 105329).
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized -Wno-restrict)
  endif()
  if(ALCHEMY_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(ALCHEMY_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=all)
    # Linked without PIE: the tests' PIE executables carry millions of relative relocations
    # (UBSan's source locations, ASan's global descriptors) that the loader applies at every
    # start, and ctest starts the suite once per test case: 0.36 -> 0.22 s per start.
    target_link_options(${target} PRIVATE -fsanitize=address,undefined -no-pie)
  endif()
  if(ALCHEMY_TSAN)
    target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
endfunction()

# alchemy_link(target COMPILED <bool> [DRIVERS driver...]): links one of alchemy's own tests or
# examples to the library: header-only, alchemy::<driver> for each named driver this build has
# (alchemy::alchemy when none is named); or, when COMPILED is true, alchemy::compiled
# (ALCHEMY_SEPARATE_COMPILATION, every driver). The callers pass ALCHEMY_TESTS_COMPILED or
# ALCHEMY_EXAMPLES_COMPILED, so a build can test either way a program may take alchemy.
function(alchemy_link target)
  cmake_parse_arguments(ARG "" "COMPILED" "DRIVERS" ${ARGN})
  if(ARG_COMPILED)
    target_link_libraries(${target} PRIVATE alchemy::compiled)
    return()
  endif()
  target_link_libraries(${target} PRIVATE alchemy::alchemy)
  foreach(drv IN LISTS ARG_DRIVERS)
    if(TARGET alchemy::${drv})
      target_link_libraries(${target} PRIVATE alchemy::${drv})
    endif()
  endforeach()
endfunction()
