#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Fault injection, every callback: the faulty plugin
# (tests/rust-plugins/examples/faulty.rs) fails (fail=CALLBACK, the
# errno given, ENOSPC here) or panics (panic=CALLBACK) in one named
# callback, and for each of them, both ways:
#
#   * the client sees the error it should (ENOSPC for a failed request,
#     EIO for a panic), or, where no client can see an errno, the
#     connection or nbdkit's start fails with a message naming the
#     callback;
#   * nbdkit survives wherever it survives a C plugin failing there: it
#     exits 1 for the configuration and start callbacks, and nothing else
#     takes it down (no signal, no abort);
#   * the next request, and the next connection, are served.
#
# The table below lists every callback of the ABI; a test checks that
# against abi/nbdkit-rust-abi.h and against the callbacks faulty can
# fault.  errors.bats and panics.bats test the details of some of these
# (errno mapping, messages kept verbatim, fallbacks); this file is the
# sweep.  A callback that cannot report an error (void in the ABI) can
# only panic: its fail= is ignored, and nbdkit goes on as if nothing
# happened.  A panic in load or dump_plugin stops nbdkit with status 1
# (ABI 1.1's load_checked and dump_plugin_checked report it), as a C
# plugin that cannot start does.

load helpers
load fault-helpers
FAULT_SOURCE=faulty

# callback  phase: what a fault there does to nbdkit and its clients.
FAULT_TABLE='
load               start-void
config             start
config_complete    start
dump_plugin        dump
thread_model       start
get_ready          start
after_fork         serving
cleanup            exit
unload             exit
preconnect         handshake
list_exports       listing
default_export     handshake
open               handshake
close              close
get_size           handshake
export_description description
block_size         handshake
can_write          handshake
can_flush          handshake
is_rotational      handshake
can_trim           handshake
can_zero           handshake
can_fast_zero      handshake
can_fua            handshake
can_multi_conn     handshake
can_extents        handshake
can_cache          handshake
pread              request
pwrite             request
flush              request
trim               request
zero               request
extents            request
cache              request
'

# callbacks PHASE: the table's callbacks of PHASE.
callbacks () { awk -v p="$1" 'NF == 2 && $2 == p { print $1 }' <<<"$FAULT_TABLE"; }

# fault_actions CALLBACK: the faults the sweeps below try in CALLBACK:
# fail and panic.  Under valgrind (VALGRIND=1: ctest's valgrind-faults),
# where each nbdkit takes seconds, one of them, in turn down the table:
# every callback's error path still runs once under memcheck, and each
# phase meets both kinds.  The plain and ASan runs try both.
fault_actions () {
  local row
  if [ "${VALGRIND:-0}" != 1 ]; then
    echo fail panic
    return
  fi
  row=$(awk -v c="$1" 'NF == 2 { n++ } NF == 2 && $1 == c { print n }' <<<"$FAULT_TABLE")
  if [ $((row % 2)) -eq 0 ]; then echo fail; else echo panic; fi
}

all_passed () {
  if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}" >&2
    return 1
  fi
}

@test "the table lists every callback of the ABI, and faulty can fault each" {
  # The ABI's callbacks: the function pointers of struct
  # nbdkit_rust_plugin, load to cache (ABI 1.1's load_checked and
  # dump_plugin_checked are load and dump_plugin that can fail).
  abi=$(sed -n '/^struct nbdkit_rust_plugin {/,/^};/p' "$top/abi/nbdkit-rust-abi.h" |
        grep -oE '\(\*[a-z_]+\)' | tr -d '(*)' | grep -v '_checked$' | sort)
  [ "$(wc -l <<<"$abi")" -eq 34 ]
  table=$(awk 'NF == 2 { print $1 }' <<<"$FAULT_TABLE" | sort)
  diff <(echo "$abi") <(echo "$table")
  # load runs before any key, so its fault comes from the environment.
  run timeout 60 nbdkit "$LOADER" rust="$FAULTY" --dump-plugin
  [ "$status" -eq 0 ]
  faulty=$(grep '^faulty_callbacks=' <<<"$output" | cut -d= -f2 | tr , '\n' | sort)
  diff <(grep -vx load <<<"$abi") <(echo "$faulty")
}

start_fault () {
  local action=$1 cb=$2
  # shellcheck disable=SC2046
  run serve_logged "$FAULTY" $(fault "$action" "$cb") size=1M \
      --run 'echo client ran'
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  named "$action" "$cb"
  survived
}

@test "config, config_complete, thread_model, get_ready: a fault stops nbdkit with status 1, naming the callback" {
  for cb in $(callbacks start); do
    for action in $(fault_actions "$cb"); do
      check "$action=$cb" start_fault "$action" "$cb"
    done
  done
  all_passed
}

after_fork_fault () {
  rm -f "$BATS_TEST_TMPDIR/sock"   # the previous nbdkit's, left on failure
  # shellcheck disable=SC2046
  run serve_foreground "$FAULTY" $(fault "$1" after_fork)
  echo "$output"
  [ "$status" -eq 1 ]
  named "$1" after_fork
  survived
}

@test "after_fork: a fault stops nbdkit with status 1 once it serves, naming the callback" {
  [ "$(callbacks serving)" = after_fork ]
  for action in fail panic; do
    check "$action=after_fork" after_fork_fault "$action"
  done
  all_passed
}

load_panic () {
  FAULTY_PANIC_IN_LOAD=1 run serve_logged "$FAULTY" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'error: .*load: panic: faulty: injected panic'
  survived
}

@test "load: a panic stops nbdkit with status 1, naming the callback" {
  [ "$(callbacks start-void)" = load ]
  check "panic=load" load_panic
  all_passed
}

dump_fault () {
  # shellcheck disable=SC2046
  run serve_logged "$FAULTY" $(fault "$1" dump_plugin) --dump-plugin
  echo "$output"
  [[ "$output" == *"rust_plugin_name=faulty"* ]]
  if [ "$1" = panic ]; then
    [ "$status" -eq 1 ]
    named panic dump_plugin
  else
    [ "$status" -eq 0 ]
  fi
  survived
}

@test "dump_plugin: a panic stops --dump-plugin with status 1, naming the callback (fail= cannot fail it)" {
  [ "$(callbacks dump)" = dump_plugin ]
  for action in fail panic; do
    check "$action=dump_plugin" dump_fault "$action"
  done
  all_passed
}

exit_fault () {
  local action=$1 cb=$2
  # shellcheck disable=SC2046
  run serve_logged "$FAULTY" $(fault "$action" "$cb") \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  if [ "$action" = panic ]; then
    named panic "$cb"
  fi
  survived
}

@test "cleanup, unload: a panic is logged naming it, and nbdkit exits with its client's status (they cannot fail)" {
  for cb in $(callbacks exit); do
    for action in fail panic; do
      check "$action=$cb" exit_fault "$action" "$cb"
    done
  done
  all_passed
}

# The first connection meets the fault, the next is served.
handshake_fault () {
  local action=$1 cb=$2
  nbdsh_script <<'EOF'
print(attempt(lambda: connect()))
h = connect()
print(len(h.pread(512, 0)))
EOF
  # shellcheck disable=SC2046
  run serve_logged "$FAULTY" $(fault "$action" "$cb") --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  named "$action" "$cb"
  survived
}

@test "every handshake callback: a fault fails that connection, naming the callback, and the next is served" {
  [ "$(callbacks handshake | wc -l)" -eq 15 ]
  for cb in $(callbacks handshake); do
    for action in $(fault_actions "$cb"); do
      check "$action=$cb" handshake_fault "$action" "$cb"
    done
  done
  all_passed
}

listing_fault () {
  nbdsh_script <<'EOF'
h = connect(opt_mode=True)
print(attempt(lambda: h.opt_list(lambda n, d: 0)))
h.opt_go()
print(len(h.pread(512, 0)))
print(len(connect().pread(512, 0)))
EOF
  # shellcheck disable=SC2046
  run serve_logged "$FAULTY" $(fault "$1" list_exports) --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  [ "${lines[2]}" = 512 ]
  named "$1" list_exports
  survived
}

@test "list_exports: a fault fails the listing, naming the callback, not the connection" {
  [ "$(callbacks listing)" = list_exports ]
  for action in fail panic; do
    check "$action=list_exports" listing_fault "$action"
  done
  all_passed
}

description_fault () {
  nbdsh_script <<'EOF'
h = connect(full_info=True)
print(attempt(lambda: h.get_export_description()))
print(len(h.pread(512, 0)))
h = connect(full_info=True)
print(h.get_export_description())
EOF
  # shellcheck disable=SC2046
  run serve_logged "$FAULTY" $(fault "$1" export_description) \
      --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  [ "${lines[2]}" = "faulty disk" ]
  named "$1" export_description
  survived
}

@test "export_description: a fault loses the description, naming the callback, not the connection" {
  [ "$(callbacks description)" = export_description ]
  for action in fail panic; do
    check "$action=export_description" description_fault "$action"
  done
  all_passed
}

close_fault () {
  nbdsh_script <<'EOF'
h = connect()
print(len(h.pread(512, 0)))
h.shutdown()
# A panic in close (the handle's Drop) is logged once close ran.
print(wait_logged("close: panic") if os.environ["ACTION"] == "panic" else True)
h = connect()
print(len(h.pread(512, 0)))
EOF
  # shellcheck disable=SC2046
  ACTION=$1 run serve_logged "$FAULTY" $(fault "$1" close) --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 512 ]
  [ "${lines[1]}" = True ]
  [ "${lines[2]}" = 512 ]
  if [ "$1" = panic ]; then
    named panic close
  fi
  survived
}

@test "close: a panic is logged naming it, and the next connection is served (close cannot fail)" {
  [ "$(callbacks close)" = close ]
  for action in fail panic; do
    check "$action=close" close_fault "$action"
  done
  all_passed
}

# The request fails with the fault's error, the same request on the
# same connection then succeeds, and so does a new connection.
request_fault () {
  local action=$1 cb=$2
  nbdsh_script <<EOF
h = connect(meta_context=nbd.CONTEXT_BASE_ALLOCATION)
print(attempt(lambda: ${REQUEST[$cb]}))
print(attempt(lambda: ${REQUEST[$cb]}))
h = connect(meta_context=nbd.CONTEXT_BASE_ALLOCATION)
print(attempt(lambda: ${REQUEST[$cb]}))
EOF
  # shellcheck disable=SC2046
  run serve_logged "$FAULTY" $(fault "$action" "$cb") --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  if [ "$action" = fail ]; then
    [ "${lines[0]}" = ENOSPC ]
  else
    [ "${lines[0]}" = EIO ]
  fi
  [ "${lines[1]}" = ok ]
  [ "${lines[2]}" = ok ]
  named "$action" "$cb"
  survived
}

@test "every request callback: a fault fails that request with its error, and the next request and connection are served" {
  [ "$(callbacks request | wc -l)" -eq ${#REQUEST[@]} ]
  for cb in $(callbacks request); do
    for action in $(fault_actions "$cb"); do
      check "$action=$cb" request_fault "$action" "$cb"
    done
  done
  all_passed
}
