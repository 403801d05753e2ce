# SPDX-License-Identifier: MIT
# ctest driver of one libFuzzer target for a bounded time:
#   cmake -DFUZZER=<binary> -DNAME=<name> -DSEED_CORPUS=<dir> -DWORK=<dir> -DSECONDS=<n> [-DRUNS=<n>] -P run_fuzzer.cmake
# New inputs go to WORK/corpus (never into the source tree), crashes to WORK/. Prints the number
# of executions; fails with the fuzzer's report when it finds a crash, leak or violated property.
foreach(var FUZZER NAME SEED_CORPUS WORK SECONDS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT DEFINED RUNS)
  set(RUNS 100000000)
endif()
# With RUNS set, start from the seed corpus alone, so every run starts from the same inputs.
if(RUNS LESS 100000000)
  file(REMOVE_RECURSE ${WORK}/corpus)
endif()
file(MAKE_DIRECTORY ${WORK}/corpus)
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -runs=${RUNS} -seed=1 -timeout=10
          -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=${WORK}/
          ${WORK}/corpus ${SEED_CORPUS}
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
set(log "${out}${err}")
string(REGEX MATCH "Done ([0-9]+) runs in ([0-9]+) second" done "${log}")
if(rc EQUAL 0 AND done)
  set(runs ${CMAKE_MATCH_1})
  set(secs ${CMAKE_MATCH_2})
  file(WRITE ${WORK}/executions.txt "${runs}\n")
  message("${NAME}: ${runs} executions in ${secs} s, no crash, leak or violated property")
else()
  # The finding first (the harness's "fuzz_...:" report or a sanitizer's ERROR line), then the
  # log's tail: a CI log viewer that shows only part of the output still shows what was found.
  set(finding "")
  foreach(marker "\n${NAME}: " "ERROR: ")
    string(FIND "${log}" "${marker}" at)
    if(at GREATER -1)
      string(SUBSTRING "${log}" ${at} 1500 finding)
      break()
    endif()
  endforeach()
  string(LENGTH "${log}" len)
  if(len GREATER 4000)
    math(EXPR start "${len} - 4000")
    string(SUBSTRING "${log}" ${start} -1 log)
  endif()
  message(FATAL_ERROR "${NAME}: the fuzzer failed (exit ${rc}); the input is in ${WORK}/crash-*\n"
    "--- what it found ---\n${finding}\n--- the end of its log ---\n${log}")
endif()
