# SPDX-License-Identifier: BSD-2-Clause
# Checkers for the reliability runs (README.md, "Reliability").
#
# -DSANITIZE=ON builds the loader and the C test plugins with
# AddressSanitizer and UndefinedBehaviorSanitizer, and every bats suite
# of that build then runs nbdkit with the ASan runtime preloaded
# (nbdkit itself is not instrumented; tests/checkers/nbdkit).  Give it
# its own build directory:
#
#   cmake -B build-asan -DSANITIZE=ON -DCARGO_TARGET_DIR=$PWD/build/cargo
#
# Without it, the valgrind-* tests run the suites that between them
# call every callback of both loaders (VALGRIND_SUITES) with nbdkit
# under valgrind memcheck, some of them only in part (VALGRIND_ONLY_*).
#
# Either way the checkers write their reports to files in
# ${CHECKER_LOGS}; checker-logs-clean empties it before the suites and
# checker-reports, after them, fails with every report it finds.

option (SANITIZE
  "Build the loader and C test plugins with ASan and UBSan, and run the bats suites under the ASan runtime"
  OFF)

set (CHECKER_LOGS ${CMAKE_BINARY_DIR}/checker-logs)
set (CHECKERS_DIR ${CMAKE_SOURCE_DIR}/tests/checkers)

# The suites run under valgrind: between them they call every callback
# (faults.bats fails and panics each one) and serve both examples; and
# the filter loader's suites.
set (VALGRIND_SUITES callbacks examples faults
                     filter-loading filter-faults filters)

# VALGRIND_ONLY_<suite>: under valgrind, only the tests of <suite> whose
# names match this bats --filter regex (the plain and ASan runs have
# every test).  Each nbdkit under valgrind takes seconds, and these
# suites start 20 to 110 of them: the subsets keep one test per kind
# of path of the loader.
#
# examples: each request kind on the ramdisk and several connections
# on it, its refusal of a bad size, the loader's bare PLUGIN PATH form,
# and filedisk's write, read-only refusal and missing file (not the
# 16 MiB nbdcopy: under valgrind it can outlast the test's 60 s).
set (VALGRIND_ONLY_examples
  "^(ramdisk: data written reads back|ramdisk: trimmed|ramdisk: block status|ramdisk advertises multi-conn|ramdisk with an unparsable size|filedisk: nbdkit LOADER PLUGIN PATH|filedisk: data written through NBD|filedisk -r: a write sent anyway|filedisk with a missing file)")
# faults: every test, but its sweeps fault each callback one way, not
# both (fault_actions in faults.bats: VALGRIND=1).
# callbacks: every test (its probes are shared: probe_full).
# filter-loading: a refusal by each stage (file check, dlopen/dlsym,
# entry point, load, config), the lists and the calls down through the
# host table, several instances and a private copy, --dump-plugin.
set (VALGRIND_ONLY_filter-loading
  "^(a missing file|a file that is not ELF|a C library without|a Rust plugin given as a filter|a filter whose|a filter's|two Rust filters|the same Rust filter twice|--dump-plugin shows)")
# filter-faults: a fail and a panic in load (the library unmapped),
# unload, the calls that hand back strings or lists (default_export,
# export_description, list_exports, extents), open (the handle freed),
# close, finalize, and a read.
set (VALGRIND_ONLY_filter-faults
  "^(load|unload|list_exports|default_export|open|close|finalize|export_description|pread|extents): ")
# filters: each Rust port once, read-write where it can be.
set (VALGRIND_ONLY_filters
  "^(passthrough over memory, read-write|offset over memory, read-write|swab over memory, 32 bits, read-write|partition 5 |cow over memory, read-write)")

# Preloaded into nbdkit by tests/checkers/nbdkit, under either
# checker (see preload.c).  Not instrumented: made before the flags.
add_library (checker-preload SHARED ${CHECKERS_DIR}/preload.c)
set_target_properties (checker-preload PROPERTIES
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/checkers)
target_link_libraries (checker-preload PRIVATE ${CMAKE_DL_LIBS})

if (SANITIZE)
  execute_process (
    COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
    OUTPUT_VARIABLE ASAN_RUNTIME
    OUTPUT_STRIP_TRAILING_WHITESPACE)
  if (NOT EXISTS "${ASAN_RUNTIME}")
    message (FATAL_ERROR "SANITIZE: ${CMAKE_C_COMPILER} has no libasan.so")
  endif ()

  # Every C target from here on: the loader, the reference C plugins
  # and the ABI fixtures.  Any UBSan report is fatal, like an ASan one.
  add_compile_options (-fsanitize=address,undefined -fno-omit-frame-pointer
                       -fno-sanitize-recover=all)
  add_link_options (-fsanitize=address,undefined)
endif ()

# checker_tests (): called at the end of tests/CMakeLists.txt, once
# every suite is registered there (TEST_ENV is that file's).
function (checker_tests)
  if (SANITIZE)
    get_property (all_tests DIRECTORY PROPERTY TESTS)
    set (checked)
    foreach (t ${all_tests})
      if (t MATCHES "^bats-")
        list (APPEND checked ${t})
      endif ()
    endforeach ()
    set_property (TEST ${checked} APPEND PROPERTY ENVIRONMENT
      NBDKIT_CHECKER=asan
      CHECKER_ASAN_RUNTIME=${ASAN_RUNTIME}
      CHECKER_PRELOAD=$<TARGET_FILE:checker-preload>
      CHECKER_LOGS=${CHECKER_LOGS})
  else ()
    find_program (VALGRIND valgrind)
    if (NOT VALGRIND)
      message (WARNING "valgrind not found: no valgrind-* tests")
      return ()
    endif ()
    set (checked)
    foreach (topic ${VALGRIND_SUITES})
      set (only)
      if (DEFINED VALGRIND_ONLY_${topic})
        set (only --filter "${VALGRIND_ONLY_${topic}}")
      endif ()
      add_test (NAME valgrind-${topic}
                COMMAND ${BATS} --tap ${only} ${CMAKE_CURRENT_SOURCE_DIR}/${topic}.bats
                WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
      set_tests_properties (valgrind-${topic} PROPERTIES
        ENVIRONMENT "${TEST_ENV};VALGRIND=1;CHECKER_LOGS=${CHECKER_LOGS};CHECKER_PRELOAD=$<TARGET_FILE:checker-preload>")
      if (only)
        # A subset that no longer matches any test (renamed) must not
        # pass as an empty run.
        set_tests_properties (valgrind-${topic} PROPERTIES
          FAIL_REGULAR_EXPRESSION "^1\\.\\.0\n")
      endif ()
      list (APPEND checked valgrind-${topic})
    endforeach ()
  endif ()

  add_test (NAME checker-logs-clean
            COMMAND ${CMAKE_COMMAND} -E rm -rf ${CHECKER_LOGS})
  add_test (NAME checker-reports
            COMMAND ${CHECKERS_DIR}/reports ${CHECKER_LOGS})
  set_tests_properties (checker-logs-clean PROPERTIES
                        FIXTURES_SETUP checker-logs)
  set_tests_properties (checker-reports PROPERTIES
                        FIXTURES_CLEANUP checker-logs)
  set_property (TEST ${checked} APPEND PROPERTY
                FIXTURES_REQUIRED checker-logs)
endfunction ()
