#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Fault injection for the filter loader, every callback: the
# faulty_filter test filter (tests/rust-plugins/examples/faulty_filter.rs),
# served as
#
#   nbdkit --filter=$FILTER_LOADER memory 1M rust-filter=libfaulty_filter.so KEYS
#
# fails (fail=CALLBACK errno=ENOSPC) or panics (panic=CALLBACK) in one
# named callback, once, and for each callback a test tries both, with a
# real client (nbdsh):
#
#   * the client sees what it should: ENOSPC for a failed request, EIO
#     for a panic; where no errno reaches a client, the connection, the
#     listing or nbdkit's start fails, and the log names the callback;
#   * nbdkit exits 1 for a fault in the configuration and start
#     callbacks (load .. after_fork), as with a C filter failing there,
#     and nothing takes it down otherwise (no signal, no abort);
#   * the next request, and the next connection, are served.
#
# This is faults.bats for filters; the table below lists every callback
# of struct nbdkit_rust_filter, and a test checks it against the ABI
# header and against the callbacks faulty_filter can fault.  cleanup,
# unload and close cannot report an error (void in the ABI): they can
# only panic, their fail= is ignored.  Every nbdkit is bounded by
# timeout.

load helpers
load fault-helpers
FAULT_SOURCE=faulty_filter

FAULTY_FILTER=$(rust_test_plugin faulty_filter)

setup () {
  if [ ! -f "$FILTER_LOADER" ] || [ ! -f "$FAULTY_FILTER" ]; then
    skip "build nbdkit-rust-filter and the Rust test plugins first"
  fi
}

# callback  phase: what a fault there does to nbdkit and its clients.
FAULT_TABLE='
load               start
config             start
config_complete    start
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
prepare            handshake
finalize           finalize
get_size           handshake
export_description description
block_size         handshake
can_write          handshake
can_flush          handshake
is_rotational      handshake
can_trim           handshake
can_zero           handshake
can_fast_zero      handshake
can_extents        handshake
can_fua            handshake
can_multi_conn     handshake
can_cache          handshake
pread              request
pwrite             request
flush              request
trim               request
zero               request
extents            request
cache              request
'

# phase CALLBACK: the table's phase of CALLBACK.
phase () { awk -v c="$1" 'NF == 2 && $1 == c { print $2 }' <<<"$FAULT_TABLE"; }

# serve_filter KEYS... [--run CLIENT]: memory 1M through the filter
# loader and faulty_filter with KEYS, captive, killed after 60 s; its
# stderr in $(nbdkit_log) (the client finds the name in $NBDKIT_LOG),
# so that under run $output is what the client printed.
serve_filter () {
  NBDKIT_LOG=$(nbdkit_log) \
    timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$FAULTY_FILTER" "$@" 2>"$(nbdkit_log)"
}

# serve_foreground_filter KEYS...: the same, in the foreground (-f) on
# its own socket, without a client.
serve_foreground_filter () {
  timeout 60 nbdkit -f -U "$BATS_TEST_TMPDIR/sock" \
    --filter="$FILTER_LOADER" memory 1M rust-filter="$FAULTY_FILTER" \
    "$@" 2>"$(nbdkit_log)"
}

# no_errors: nbdkit logged no error (fail= in a callback that cannot
# fail changes nothing).
no_errors () {
  if grep 'error:' "$(nbdkit_log)"; then
    echo "nbdkit logged an error" >&2
    return 1
  fi
}

# both CALLBACK: a fail and a panic in CALLBACK, each checked the way
# its phase says; fails naming every case that failed.
both () {
  local cb=$1 ph action
  ph=$(phase "$cb")
  [ -n "$ph" ]
  failures=()
  for action in fail panic; do
    check "$action=$cb ($ph)" "${ph}_fault" "$action" "$cb"
  done
  if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}" >&2
    return 1
  fi
}

# --- what each phase's fault does ---

# Configuration and start: nbdkit exits 1 before serving, its client
# never runs.  load's keys come from the environment (it runs before
# any key reaches the filter); a fault on config fires on the next
# non-fault key (description=).
start_fault () {
  local action=$1 cb=$2
  # shellcheck disable=SC2046
  if [ "$cb" = load ]; then
    FAULTY_FILTER_LOAD=$(fault "$action" load) \
      run serve_filter --run 'echo client ran'
  else
    run serve_filter $(fault "$action" "$cb") description=configured \
      --run 'echo client ran'
  fi
  echo "$output"
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  named "$action" "$cb"
  if [ "$cb" = load ]; then
    logged "error: .*libfaulty_filter.so: the filter's load failed"
  fi
  survived
}

# after_fork: nbdkit exits 1 once it serves.  Foreground, without --run
# (with --run the listening socket would outlive the server).
serving_fault () {
  rm -f "$BATS_TEST_TMPDIR/sock"
  # shellcheck disable=SC2046
  run serve_foreground_filter $(fault "$1" "$2")
  echo "$output"
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  named "$1" "$2"
  survived
}

# cleanup, unload: a panic is logged; nbdkit exits with its client's
# status (they cannot fail: fail= changes nothing).
exit_fault () {
  local action=$1 cb=$2
  # shellcheck disable=SC2046
  run serve_filter $(fault "$action" "$cb") --run 'nbdinfo --size "$uri"'
  echo "$output"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  if [ "$action" = panic ]; then
    named panic "$cb"
  else
    no_errors
  fi
  survived
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
  run serve_filter $(fault "$action" "$cb") --run "$nbdsh_run"
  echo "$output"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  named "$action" "$cb"
  survived
}

# list_exports: the listing fails, not the connection.
listing_fault () {
  nbdsh_script <<'EOF'
h = connect(opt_mode=True)
print(attempt(lambda: h.opt_list(lambda n, d: 0)))
h.opt_go()
print(len(h.pread(512, 0)))
print(len(connect().pread(512, 0)))
EOF
  # shellcheck disable=SC2046
  run serve_filter $(fault "$1" "$2") --run "$nbdsh_run"
  echo "$output"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  [ "${lines[2]}" = 512 ]
  named "$1" "$2"
  survived
}

# export_description: the description is lost, not the connection.
description_fault () {
  nbdsh_script <<'EOF'
h = connect(full_info=True)
print(attempt(lambda: h.get_export_description()))
print(len(h.pread(512, 0)))
h = connect(full_info=True)
print(h.get_export_description())
EOF
  # shellcheck disable=SC2046
  run serve_filter $(fault "$1" "$2") --run "$nbdsh_run"
  echo "$output"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  [ "${lines[2]}" = "faulty filter disk" ]
  named "$1" "$2"
  survived
}

# finalize: nbdkit finalizes the export a client asked NBD_OPT_INFO
# about; failing there, it drops that client (the next option fails),
# and serves the next connection.
finalize_fault () {
  nbdsh_script <<'EOF'
h = connect(opt_mode=True)
print(attempt(lambda: h.opt_info()))
print(attempt(lambda: h.opt_go()))
print(len(connect().pread(512, 0)))
EOF
  # shellcheck disable=SC2046
  run serve_filter $(fault "$1" "$2") --run "$nbdsh_run"
  echo "$output"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = ok ]
  [ "${lines[1]}" != ok ]
  [ "${lines[2]}" = 512 ]
  named "$1" "$2"
  survived
}

# close (the connection's value's Drop): a panic is logged once the
# connection closed, and the next connection is served.
close_fault () {
  nbdsh_script <<'EOF'
h = connect()
print(len(h.pread(512, 0)))
h.shutdown()
# close runs after the client left: wait for it (nbdkit skips close for
# a connection still finishing when --run's client exits).
print(wait_logged("close: panic") if os.environ["ACTION"] == "panic" else True)
h = connect()
print(len(h.pread(512, 0)))
EOF
  # shellcheck disable=SC2046
  ACTION=$1 run serve_filter $(fault "$1" "$2") --run "$nbdsh_run"
  echo "$output"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 512 ]
  [ "${lines[1]}" = True ]
  [ "${lines[2]}" = 512 ]
  if [ "$1" = panic ]; then
    named panic "$2"
  else
    no_errors
  fi
  survived
}

# Data callbacks: the request fails with the fault's errno (EIO for a
# panic), the same request on the same connection then succeeds, and so
# does a new connection.
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
  run serve_filter $(fault "$action" "$cb") --run "$nbdsh_run"
  echo "$output"
  cat "$(nbdkit_log)"
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

# --- the sweep ---

@test "the table lists every filter callback of the ABI, and faulty_filter can fault each" {
  abi=$(sed -n '/^struct nbdkit_rust_filter {/,/^};/p' "$top/abi/nbdkit-rust-abi.h" |
        grep -oE '\(\*[a-z_]+\)' | tr -d '(*)' | sort)
  [ "$(wc -l <<<"$abi")" -eq 35 ]
  table=$(awk 'NF == 2 { print $1 }' <<<"$FAULT_TABLE" | sort)
  diff <(echo "$abi") <(echo "$table")
  # faulty_filter's load logs what a fault may name; the loader logs
  # the callbacks the filter registers (all of them).
  run timeout 60 nbdkit -v -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$FAULTY_FILTER" --run true
  [ "$status" -eq 0 ]
  faulty=$(sed -n 's/^.*debug: faulty_filter: callbacks: //p' <<<"$output" | tr , '\n' | sort)
  diff <(echo "$abi") <(echo "$faulty")
  registered=$(sed -n 's/^.*debug: Rust filter faulty_filter registers callbacks: //p' <<<"$output" | tr , '\n' | sort)
  diff <(echo "$abi") <(echo "$registered")
  # Every phase has its check, every request its client call.
  for ph in $(awk 'NF == 2 { print $2 }' <<<"$FAULT_TABLE" | sort -u); do
    declare -F "${ph}_fault" >/dev/null
  done
  [ "$(awk 'NF == 2 && $2 == "request"' <<<"$FAULT_TABLE" | wc -l)" -eq ${#REQUEST[@]} ]
}

@test "load: a fault stops nbdkit with status 1, naming the callback" { both load; }
@test "config: a fault stops nbdkit with status 1, naming the callback" { both config; }
@test "config_complete: a fault stops nbdkit with status 1, naming the callback" { both config_complete; }
@test "thread_model: a fault stops nbdkit with status 1, naming the callback" { both thread_model; }
@test "get_ready: a fault stops nbdkit with status 1, naming the callback" { both get_ready; }
@test "after_fork: a fault stops nbdkit with status 1 once it serves, naming the callback" { both after_fork; }
@test "cleanup: a panic is logged, nbdkit exits with its client's status (it cannot fail)" { both cleanup; }
@test "unload: a panic is logged, nbdkit exits with its client's status (it cannot fail)" { both unload; }
@test "preconnect: a fault refuses that client, naming the callback; the next is served" { both preconnect; }
@test "list_exports: a fault fails the listing, not the connection" { both list_exports; }
@test "default_export: a fault fails that connection; the next is served" { both default_export; }
@test "open: a fault fails that connection; the next is served" { both open; }
@test "close: a panic is logged; the next connection is served (it cannot fail)" { both close; }
@test "prepare: a fault fails that connection; the next is served" { both prepare; }
@test "finalize: a fault drops that client after NBD_OPT_INFO; the next is served" { both finalize; }
@test "get_size: a fault fails that connection; the next is served" { both get_size; }
@test "export_description: a fault loses the description, not the connection" { both export_description; }
@test "block_size: a fault fails that connection; the next is served" { both block_size; }
@test "can_write: a fault fails that connection; the next is served" { both can_write; }
@test "can_flush: a fault fails that connection; the next is served" { both can_flush; }
@test "is_rotational: a fault fails that connection; the next is served" { both is_rotational; }
@test "can_trim: a fault fails that connection; the next is served" { both can_trim; }
@test "can_zero: a fault fails that connection; the next is served" { both can_zero; }
@test "can_fast_zero: a fault fails that connection; the next is served" { both can_fast_zero; }
@test "can_extents: a fault fails that connection; the next is served" { both can_extents; }
@test "can_fua: a fault fails that connection; the next is served" { both can_fua; }
@test "can_multi_conn: a fault fails that connection; the next is served" { both can_multi_conn; }
@test "can_cache: a fault fails that connection; the next is served" { both can_cache; }
@test "pread: ENOSPC / EIO for that request; the next request and connection are served" { both pread; }
@test "pwrite: ENOSPC / EIO for that request; the next request and connection are served" { both pwrite; }
@test "flush: ENOSPC / EIO for that request; the next request and connection are served" { both flush; }
@test "trim: ENOSPC / EIO for that request; the next request and connection are served" { both trim; }
@test "zero: ENOSPC / EIO for that request; the next request and connection are served" { both zero; }
@test "extents: ENOSPC / EIO for that request; the next request and connection are served" { both extents; }
@test "cache: ENOSPC / EIO for that request; the next request and connection are served" { both cache; }

@test "a test per callback: every callback of the table has its @test" {
  for cb in $(awk 'NF == 2 { print $1 }' <<<"$FAULT_TABLE"); do
    grep -qE "^@test \"$cb: .*\{ both $cb; \}\$" "$BATS_TEST_FILENAME"
  done
}
