# SPDX-License-Identifier: MIT
# cmake -DREADME=<README.md> -DEXAMPLE=<000-readme.cpp> -P check_readme.cmake
# Fails unless the README's first ```cpp block is the example's text after its two comment lines,
# so the code a reader copies from the README is the code CI compiles and runs.
file(READ "${README}" readme)
file(READ "${EXAMPLE}" example)
string(FIND "${readme}" "```cpp\n" start)
if(start LESS 0)
  message(FATAL_ERROR "README.md has no ```cpp block")
endif()
math(EXPR start "${start} + 7")
string(SUBSTRING "${readme}" ${start} -1 rest)
string(FIND "${rest}" "```" stop)
string(SUBSTRING "${rest}" 0 ${stop} block)
string(REGEX REPLACE "^//[^\n]*\n//[^\n]*\n" "" body "${example}")
if(NOT block STREQUAL body)
  message(FATAL_ERROR "README.md's first code block differs from ${EXAMPLE}: update one from the other")
endif()
message("README code block matches ${EXAMPLE}")
