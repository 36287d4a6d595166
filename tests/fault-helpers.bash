# SPDX-License-Identifier: BSD-2-Clause
# What faults.bats (the faulty plugin) and filter-faults.bats (the
# faulty_filter filter) share: how a fault is asked for, how the log
# names it, what counts as a crash, the request each data callback
# serves, and the checks that go on past a failing case.  A suite sets
# FAULT_SOURCE, the name faulty or faulty_filter gives its failures,
# before it calls named.

# The request each data callback serves, on handle h (Python).
declare -gA REQUEST=(
  [pread]='h.pread(512, 0)'
  [pwrite]='h.pwrite(b"\xa5" * 512, 0)'
  [flush]='h.flush()'
  [trim]='h.trim(4096, 0)'
  [zero]='h.zero(4096, 0)'
  [extents]='h.block_status(4096, 0, lambda *a: 0)'
  [cache]='h.cache(4096, 0)'
)

# fault ACTION CALLBACK: the keys of faulty and faulty_filter for that
# fault, once.
fault () {
  if [ "$1" = fail ]; then
    echo "fail=$2 errno=ENOSPC times=1"
  else
    echo "panic=$2 message=Zorglub-overheated times=1"
  fi
}

# named ACTION CALLBACK: nbdkit's log names the callback on an error
# line: the SDK names it in a panic's message, $FAULT_SOURCE in its
# default failure message ("FAULT_SOURCE: injected failure in CALLBACK").
named () {
  if [ "$1" = fail ]; then
    logged "error: .*$FAULT_SOURCE: injected failure in $2\$"
  else
    logged "error: .*$2: panic: Zorglub-overheated"
  fi
}

# survived: nothing in nbdkit's log says it crashed (a signal, an
# abort, a Rust panic that could not unwind, a sanitizer's report).
survived () {
  if grep -E 'cannot unwind|Aborted|core dumped|Assertion .* failed|Segmentation fault|killed by signal|fatal runtime error|AddressSanitizer|runtime error:' \
      "$(nbdkit_log)"; then
    echo "nbdkit's log shows a crash:" >&2
    cat "$(nbdkit_log)" >&2
    return 1
  fi
}

# check WHAT CMD...: runs CMD in a subshell with set -e; on failure
# records WHAT in $failures and shows CMD's output, so that a test goes
# on and names every failing case.  (The subshell must not be a
# condition: bash ignores set -e there.)
failures=()
check () {
  local what=$1 rc
  shift
  set +e
  ( set -e; "$@" ) >"$BATS_TEST_TMPDIR/check.out" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then
    failures+=("$what")
    { echo "--- $what"; cat "$BATS_TEST_TMPDIR/check.out"; } >&2
  fi
}
