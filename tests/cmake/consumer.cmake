# SPDX-License-Identifier: MIT
# Configures, builds and runs tests/cmake/consumer one way (cmake -P, from tests/cmake/CMakeLists.txt):
#
#   MODE=subdirectory        the consumer adds alchemy's sources with add_subdirectory; then
#                            `cmake --install` of the consumer must install nothing of alchemy's
#   MODE=package             `cmake --install` of alchemy's build into SCRATCH/prefix, then the
#                            consumer finds it with find_package(alchemy CONFIG COMPONENTS sqlite)
#   MODE=no-components       as `package`, find_package without COMPONENTS; configure and
#                            generate only (the drivers' client libraries must still be found)
#   MODE=missing-component   as `package`, asking for COMPONENTS nosuch: configure must fail
#
# Other variables: SOURCE_DIR, BINARY_DIR (alchemy's), CONSUMER_DIR, SCRATCH, GENERATOR,
# MAKE_PROGRAM, CXX_COMPILER, FMT_DIR (may be empty).
cmake_minimum_required(VERSION 3.21)

string(TIMESTAMP t0 "%s")
macro(step what)
  string(TIMESTAMP now "%s")
  math(EXPR elapsed "${now} - ${t0}")
  message(STATUS "consumer [${MODE}] ${what} (+${elapsed}s)")
endmacro()

# run(<name> <command>...): runs the command; on failure shows its output and stops.
function(run name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message("${out}")
    message(FATAL_ERROR "consumer [${MODE}]: ${name} failed (${rc})")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${SCRATCH})
file(MAKE_DIRECTORY ${SCRATCH})
set(build ${SCRATCH}/build)
set(prefix ${SCRATCH}/prefix)
# The consumer is built as a user would build it: no build type (no optimisation), the same
# compiler and generator as this build, and alchemy's own warning flags nowhere.
set(configure ${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${build} -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=)
if(MAKE_PROGRAM)
  list(APPEND configure -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(FMT_DIR)
  list(APPEND configure -Dfmt_DIR=${FMT_DIR})
endif()

if(MODE STREQUAL "subdirectory")
  list(APPEND configure -DALCHEMY_SOURCE_DIR=${SOURCE_DIR})
else()
  step("install alchemy's build into ${prefix}")
  run("cmake --install" ${CMAKE_COMMAND} --install ${BINARY_DIR} --prefix ${prefix})
  foreach(f include/alchemy/alchemy.hpp share/cmake/alchemy/alchemyConfig.cmake
            share/cmake/alchemy/alchemyConfigVersion.cmake share/cmake/alchemy/alchemyTargets.cmake)
    if(NOT EXISTS ${prefix}/${f})
      message(FATAL_ERROR "consumer [${MODE}]: cmake --install did not install ${f}")
    endif()
  endforeach()
  list(APPEND configure -DCMAKE_PREFIX_PATH=${prefix})
  if(MODE STREQUAL "missing-component")
    list(APPEND configure -DALCHEMY_COMPONENTS=nosuch)
  elseif(MODE STREQUAL "no-components")
    list(APPEND configure -DALCHEMY_COMPONENTS=)
  endif()
endif()

step("configure")
if(MODE STREQUAL "missing-component")
  execute_process(COMMAND ${configure} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  message("${out}")
  if(rc EQUAL 0)
    message(FATAL_ERROR "consumer [${MODE}]: configure SUCCEEDED although component 'nosuch' does not exist")
  endif()
  step("configure failed, as it must")
  return()
endif()
run("configure" ${configure})
if(MODE STREQUAL "no-components")
  message("consumer: configured and generated with find_package(alchemy CONFIG REQUIRED)")
  step("done")
  return()
endif()

step("build")
run("build" ${CMAKE_COMMAND} --build ${build} --config Debug)

step("run")
set(exe ${build}/consumer)
if(NOT EXISTS ${exe})
  set(exe ${build}/Debug/consumer)  # multi-config generators
endif()
run("consumer" ${exe} sqlite://)
message("${last_output}")

if(MODE STREQUAL "subdirectory")
  step("install the consumer")
  run("consumer's cmake --install" ${CMAKE_COMMAND} --install ${build} --prefix ${prefix})
  file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
  if(installed)
    message(FATAL_ERROR "consumer [${MODE}]: alchemy's install rules ran in a consumer project: ${installed}")
  endif()
endif()
step("done")
