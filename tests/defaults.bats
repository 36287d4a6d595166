#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Three-way conformance: a Rust plugin that leaves callbacks out is
# served exactly as nbdkit serves a C plugin that leaves the same
# callbacks out, whichever way nbdkit loads the Rust plugin.
#
#   bats tests/defaults.bats        (ctest: bats-defaults)
#
# Every subset of callbacks exists twice: tests/c-plugins/c-<subset>.so
# and its Rust twin tests/rust-plugins/examples/sub_<subset>.rs.  Each
# subset is served three ways:
#
#   c       the C reference, loaded by nbdkit:  nbdkit c-<subset>.so
#   loader  the Rust twin through the loader:   nbdkit LOADER rust=sub_<subset>.so
#   direct  the same Rust file, loaded by nbdkit: nbdkit sub_<subset>.so
#
# For each subset, read-write and read-only (-r):
#
# - "client view": probe.py prints what a client sees (flags, size,
#   block sizes, exports, the outcome and effect of read, write, FUA
#   write, flush, trim, zero, fast zero, cache and block status); all
#   three must print the same text.
# - "plugin calls": the plugins log every callback nbdkit makes; all
#   three must receive the same calls with the same arguments, and
#   nbdkit must choose the same thread model.
#
# Any difference fails the test and prints the diff against the C
# reference.  Then, for the key subsets, the values nbdkit really
# answers (checked all three ways), so that the suite fails if all
# were wrong alike.  Rows of nbdkit-facts.md's tables are named in the
# tests.

load helpers

# The ways a subset is served, the C reference first.
ways=(c loader direct)

# way_label WAY SUBSET: what a diff calls WAY.
way_label () {
  case "$1" in
    c) echo "C c-$2.so" ;;
    loader) echo "Rust sub_$2 through the loader" ;;
    direct) echo "Rust sub_$2 loaded directly" ;;
  esac
}

# way_args WAY SUBSET: sets the array $args to the nbdkit arguments
# that serve SUBSET the WAY way.
way_args () {
  case "$1" in
    c) args=("$C_PLUGINS/c-$2.so") ;;
    loader) args=("$LOADER" rust="$(rust_test_plugin "sub_$2")") ;;
    direct) args=("$(rust_test_plugin "sub_$2")") ;;
  esac
}

# out WAY, log WAY: where the last serve_all put what WAY's client saw
# and nbdkit's log.
out () { echo "$probed/$1.out"; }
log () { echo "$probed/$1.log"; }

# serve_all SUBSET [NBDKIT-OPTION...]: probes SUBSET all three ways,
# and sets $probed to the directory of the results.  Each subset and
# mode is served once per run of the file: the client view, plugin
# calls and answers tests of it compare the same probes (the probe
# does the same requests whatever the test looks at), which halves
# the nbdkit runs.  A probe that failed is not kept.
serve_all () {
  local subset=$1 way args
  shift
  probed=$BATS_FILE_TMPDIR/probed/$subset${*:+ $*}
  [ -e "$probed/done" ] && return 0
  mkdir -p "$probed"
  for way in "${ways[@]}"; do
    way_args "$way" "$subset"
    if ! run_probe "$(out "$way")" "$(log "$way")" "$@" "${args[@]}"; then
      echo "$(way_label "$way" "$subset") failed:"
      cat "$(out "$way")" "$(log "$way")"
      return 1
    fi
  done
  touch "$probed/done"
}

# same_client_view SUBSET [NBDKIT-OPTION...]
same_client_view () {
  local way differ=0
  serve_all "$@" || return 1
  for way in loader direct; do
    diff -u --label "client view, $(way_label c "$1")" \
         --label "client view, $(way_label "$way" "$1")" \
         "$(out c)" "$(out "$way")" || differ=1
  done
  return $differ
}

# same_plugin_calls SUBSET [NBDKIT-OPTION...]
same_plugin_calls () {
  local way differ=0
  serve_all "$@" || return 1
  for way in loader direct; do
    diff -u --label "calls, $(way_label c "$1")" \
         --label "calls, $(way_label "$way" "$1")" \
         <(plugin_trace "$(log c)") <(plugin_trace "$(log "$way")") ||
      differ=1
  done
  return $differ
}

# sees <<EOF ... EOF: every client saw each of these lines.
sees () {
  local line way missing=0
  while IFS= read -r line; do
    for way in "${ways[@]}"; do
      if ! grep -qFx -- "$line" "$(out "$way")"; then
        echo "$way lacks: $line"
        missing=1
      fi
    done
  done
  if [ $missing -ne 0 ]; then
    for way in "${ways[@]}"; do
      echo "--- $way saw:"; cat "$(out "$way")"
    done
  fi
  return $missing
}

# called <<EOF ... EOF: every plugin received each of these calls
# (lines of plugin_trace); not_called CALL: none received CALL.
called () {
  local line way missing=0
  while IFS= read -r line; do
    for way in "${ways[@]}"; do
      if ! plugin_trace "$(log "$way")" | grep -qFx -- "$line"; then
        echo "$way was not called: $line"
        missing=1
      fi
    done
  done
  return $missing
}
not_called () {
  local way
  for way in "${ways[@]}"; do
    if plugin_trace "$(log "$way")" | grep -q -- "^TRACE $1\( \|$\)"; then
      echo "$1 was called ($way):"
      plugin_trace "$(log "$way")"
      return 1
    fi
  done
}

# The pristine disk, as the probe's digest shows it.
pristine=8c5210e380bb0d6f

# --- The same all three ways, for every subset and mode ---

@test "full, read-write: client view is the same" {
  same_client_view full
}

@test "full, read-write: plugin calls are the same" {
  same_plugin_calls full
}

@test "full, read-only: client view is the same" {
  same_client_view full -r
}

@test "full, read-only: plugin calls are the same" {
  same_plugin_calls full -r
}

@test "minimal, read-write: client view is the same" {
  same_client_view minimal
}

@test "minimal, read-write: plugin calls are the same" {
  same_plugin_calls minimal
}

@test "minimal, read-only: client view is the same" {
  same_client_view minimal -r
}

@test "minimal, read-only: plugin calls are the same" {
  same_plugin_calls minimal -r
}

@test "write_only, read-write: client view is the same" {
  same_client_view write_only
}

@test "write_only, read-write: plugin calls are the same" {
  same_plugin_calls write_only
}

@test "write_only, read-only: client view is the same" {
  same_client_view write_only -r
}

@test "write_only, read-only: plugin calls are the same" {
  same_plugin_calls write_only -r
}

@test "cans_without_callbacks, read-write: client view is the same" {
  same_client_view cans_without_callbacks
}

@test "cans_without_callbacks, read-write: plugin calls are the same" {
  same_plugin_calls cans_without_callbacks
}

@test "cans_without_callbacks, read-only: client view is the same" {
  same_client_view cans_without_callbacks -r
}

@test "cans_without_callbacks, read-only: plugin calls are the same" {
  same_plugin_calls cans_without_callbacks -r
}

@test "can_write_false, read-write: client view is the same" {
  same_client_view can_write_false
}

@test "can_write_false, read-write: plugin calls are the same" {
  same_plugin_calls can_write_false
}

@test "can_write_false, read-only: client view is the same" {
  same_client_view can_write_false -r
}

@test "can_write_false, read-only: plugin calls are the same" {
  same_plugin_calls can_write_false -r
}

@test "zero_no_can_zero, read-write: client view is the same" {
  same_client_view zero_no_can_zero
}

@test "zero_no_can_zero, read-write: plugin calls are the same" {
  same_plugin_calls zero_no_can_zero
}

@test "zero_no_can_zero, read-only: client view is the same" {
  same_client_view zero_no_can_zero -r
}

@test "zero_no_can_zero, read-only: plugin calls are the same" {
  same_plugin_calls zero_no_can_zero -r
}

@test "can_zero_false, read-write: client view is the same" {
  same_client_view can_zero_false
}

@test "can_zero_false, read-write: plugin calls are the same" {
  same_plugin_calls can_zero_false
}

@test "can_zero_false, read-only: client view is the same" {
  same_client_view can_zero_false -r
}

@test "can_zero_false, read-only: plugin calls are the same" {
  same_plugin_calls can_zero_false -r
}

@test "can_zero_no_zero, read-write: client view is the same" {
  same_client_view can_zero_no_zero
}

@test "can_zero_no_zero, read-write: plugin calls are the same" {
  same_plugin_calls can_zero_no_zero
}

@test "can_zero_no_zero, read-only: client view is the same" {
  same_client_view can_zero_no_zero -r
}

@test "can_zero_no_zero, read-only: plugin calls are the same" {
  same_plugin_calls can_zero_no_zero -r
}

@test "flush_no_can_fua, read-write: client view is the same" {
  same_client_view flush_no_can_fua
}

@test "flush_no_can_fua, read-write: plugin calls are the same" {
  same_plugin_calls flush_no_can_fua
}

@test "flush_no_can_fua, read-only: client view is the same" {
  same_client_view flush_no_can_fua -r
}

@test "flush_no_can_fua, read-only: plugin calls are the same" {
  same_plugin_calls flush_no_can_fua -r
}

@test "can_flush_false, read-write: client view is the same" {
  same_client_view can_flush_false
}

@test "can_flush_false, read-write: plugin calls are the same" {
  same_plugin_calls can_flush_false
}

@test "can_flush_false, read-only: client view is the same" {
  same_client_view can_flush_false -r
}

@test "can_flush_false, read-only: plugin calls are the same" {
  same_plugin_calls can_flush_false -r
}

@test "can_fua_no_flush, read-write: client view is the same" {
  same_client_view can_fua_no_flush
}

@test "can_fua_no_flush, read-write: plugin calls are the same" {
  same_plugin_calls can_fua_no_flush
}

@test "can_fua_no_flush, read-only: client view is the same" {
  same_client_view can_fua_no_flush -r
}

@test "can_fua_no_flush, read-only: plugin calls are the same" {
  same_plugin_calls can_fua_no_flush -r
}

@test "trim_only, read-write: client view is the same" {
  same_client_view trim_only
}

@test "trim_only, read-write: plugin calls are the same" {
  same_plugin_calls trim_only
}

@test "trim_only, read-only: client view is the same" {
  same_client_view trim_only -r
}

@test "trim_only, read-only: plugin calls are the same" {
  same_plugin_calls trim_only -r
}

@test "cache_only, read-write: client view is the same" {
  same_client_view cache_only
}

@test "cache_only, read-write: plugin calls are the same" {
  same_plugin_calls cache_only
}

@test "cache_only, read-only: client view is the same" {
  same_client_view cache_only -r
}

@test "cache_only, read-only: plugin calls are the same" {
  same_plugin_calls cache_only -r
}

@test "extents_only, read-write: client view is the same" {
  same_client_view extents_only
}

@test "extents_only, read-write: plugin calls are the same" {
  same_plugin_calls extents_only
}

@test "extents_only, read-only: client view is the same" {
  same_client_view extents_only -r
}

@test "extents_only, read-only: plugin calls are the same" {
  same_plugin_calls extents_only -r
}

@test "extents_empty, read-write: client view is the same" {
  same_client_view extents_empty
}

@test "extents_empty, read-write: plugin calls are the same" {
  same_plugin_calls extents_empty
}

@test "extents_empty, read-only: client view is the same" {
  same_client_view extents_empty -r
}

@test "extents_empty, read-only: plugin calls are the same" {
  same_plugin_calls extents_empty -r
}

@test "block_size_only, read-write: client view is the same" {
  same_client_view block_size_only
}

@test "block_size_only, read-write: plugin calls are the same" {
  same_plugin_calls block_size_only
}

@test "block_size_only, read-only: client view is the same" {
  same_client_view block_size_only -r
}

@test "block_size_only, read-only: plugin calls are the same" {
  same_plugin_calls block_size_only -r
}

@test "exports, read-write: client view is the same" {
  same_client_view exports
}

@test "exports, read-write: plugin calls are the same" {
  same_plugin_calls exports
}

@test "exports, read-only: client view is the same" {
  same_client_view exports -r
}

@test "exports, read-only: plugin calls are the same" {
  same_plugin_calls exports -r
}

@test "rotational_multiconn, read-write: client view is the same" {
  same_client_view rotational_multiconn
}

@test "rotational_multiconn, read-write: plugin calls are the same" {
  same_plugin_calls rotational_multiconn
}

@test "rotational_multiconn, read-only: client view is the same" {
  same_client_view rotational_multiconn -r
}

@test "rotational_multiconn, read-only: plugin calls are the same" {
  same_plugin_calls rotational_multiconn -r
}

# --- What nbdkit really answers, checked all three ways ---

@test "minimal: missing can_* and block_size answer no and nothing" {
  # can_write without pwrite, can_flush without flush, can_trim without
  # trim: false; is_rotational, can_multi_conn: false; can_cache
  # without cache: none; can_zero and can_fua are moot on a read-only
  # export; block_size: all zero; can_extents without extents: false,
  # so nbdkit reports the whole disk as data.
  serve_all minimal
  sees <<EOF
is_read_only: 1
can_flush: 0
can_fua: 0
can_trim: 0
can_zero: 0
can_fast_zero: 0
can_multi_conn: 0
can_cache: 0
can_meta_context base:allocation: 1
is_rotational: 0
block_size minimum: 0
block_size preferred: 0
block_size maximum: 0
pread: disk $pristine
block_status: ok; extents 1048576:data
EOF
}

@test "minimal: missing list_exports, default_export, export_description" {
  # Only the default export, named "", without a description.
  serve_all minimal
  sees <<EOF
list_exports: name='' description=''
export '': canonical name='' description='unavailable (ENOTSUP)' size=1048576
EOF
  for way in "${ways[@]}"; do
    run grep -c '^list_exports:' "$(out "$way")"
    [ "$output" -eq 1 ]
  done
}

@test "minimal: missing thread_model and lifecycle callbacks" {
  # The loader's model (parallel); preconnect, get_ready, after_fork,
  # cleanup, load, unload and config_complete: nothing happens, the
  # server serves.
  serve_all minimal
  called <<EOF
using thread model: parallel
EOF
  sees <<EOF
size: 1048576
pread: disk $pristine
EOF
}

@test "minimal: without config, any key is an error" {
  local way args
  for way in "${ways[@]}"; do
    way_args "$way" minimal
    run timeout 60 nbdkit -U - "${args[@]}" foo=bar --run 'echo client ran'
    echo "$(way_label "$way" minimal): $output"
    [ "$status" -eq 1 ]
    [[ "$output" != *"client ran"* ]]
  done
}

@test "full: thread_model answers serialize_requests" {
  serve_all full
  called <<EOF
TRACE thread_model
using thread model: serialize_requests
EOF
}

@test "write_only: writes work, zeroes are emulated, fast zero fails" {
  # can_write: true with pwrite; can_zero: emulate without zero (nbdkit
  # writes zeroes through pwrite); can_fast_zero: true without zero, and
  # the fast zero fails with EOPNOTSUPP; can_fua: none without flush.
  serve_all write_only
  sees <<EOF
is_read_only: 0
can_flush: 0
can_fua: 0
can_zero: 1
can_fast_zero: 1
pwrite: ok; disk 7268a7801b3a6975
zero: ok; range reads zeroes; disk c304deef3acd3b08
zero+fast_zero: ENOTSUP; range reads data; disk c304deef3acd3b08
EOF
  called <<EOF
TRACE pwrite count=65536 offset=393216 flags=none
EOF
}

@test "cans_without_callbacks: requests without their callback fail as in nbdkit" {
  # write: EROFS (the client sees EPERM); flush, trim, block status:
  # EINVAL; cache: success, nothing done; zero: emulated through the
  # missing pwrite, so EROFS; fast zero: EOPNOTSUPP.
  serve_all cans_without_callbacks
  sees <<EOF
is_read_only: 0
can_flush: 1
can_fua: 0
can_trim: 1
can_zero: 1
can_fast_zero: 1
can_cache: 1
pwrite: EPERM; disk $pristine
flush: EINVAL; disk $pristine
trim: EINVAL; range reads data; disk $pristine
zero: EPERM; range reads data; disk $pristine
zero+fast_zero: ENOTSUP; range reads data; disk $pristine
cache: ok; disk $pristine
block_status: EINVAL; extents 
EOF
}

@test "can_write_false: can_write saying no makes the export read-only" {
  serve_all can_write_false
  sees <<EOF
is_read_only: 1
pwrite: refused by client
EOF
  called <<EOF
TRACE can_write
EOF
}

@test "zero_no_can_zero: zero without can_zero is native, no fast zero" {
  # can_zero: native with zero; can_fast_zero: false, as can_zero said
  # yes.
  serve_all zero_no_can_zero
  sees <<EOF
can_zero: 1
can_fast_zero: 0
zero: ok; range reads zeroes; disk c304deef3acd3b08
zero+fast_zero: refused by client
EOF
  called <<EOF
TRACE zero count=65536 offset=393216 flags=may_trim
EOF
}

@test "can_zero_false: zeroes are written through pwrite, no fast zero" {
  # can_zero saying no: emulate.  can_fast_zero is false: nbdkit 1.32
  # negates its tri-state can_zero (emulate = 1), so it does not
  # advertise fast zero although can_zero said no.
  serve_all can_zero_false
  sees <<EOF
can_zero: 1
can_fast_zero: 0
zero: ok; range reads zeroes; disk c304deef3acd3b08
zero+fast_zero: refused by client
EOF
  called <<EOF
TRACE can_zero
TRACE pwrite count=65536 offset=393216 flags=none
EOF
  not_called zero
}

@test "can_zero_no_zero: zero falls back to pwrite, fast zero fails" {
  # can_zero says yes but zero is missing: the loader's zero fails with
  # EOPNOTSUPP and nbdkit falls back to writing zeroes; a fast zero
  # fails with EOPNOTSUPP.
  serve_all can_zero_no_zero
  sees <<EOF
can_zero: 1
can_fast_zero: 1
zero: ok; range reads zeroes; disk c304deef3acd3b08
zero+fast_zero: ENOTSUP; range reads data; disk c304deef3acd3b08
EOF
  called <<EOF
TRACE pwrite count=65536 offset=393216 flags=none
EOF
}

@test "flush_no_can_fua: flush without can_fua emulates FUA" {
  # can_flush: true with flush; can_fua: emulate with flush, so a FUA
  # write is a plain write, then a flush.
  serve_all flush_no_can_fua
  sees <<EOF
can_flush: 1
can_fua: 1
pwrite+fua: ok; disk 837f699e39ffa396
flush: ok; disk 837f699e39ffa396
EOF
  local way
  for way in "${ways[@]}"; do
    diff -u --label expected --label "$way" - \
         <(plugin_trace "$(log "$way")" | grep -E '^TRACE (pwrite|flush)') <<EOF
TRACE pwrite count=65536 offset=4096 flags=none
TRACE pwrite count=4096 offset=131072 flags=none
TRACE flush
TRACE flush
TRACE pwrite count=65536 offset=393216 flags=none
EOF
  done
}

@test "can_flush_false: FUA emulation calls flush although can_flush said no" {
  serve_all can_flush_false
  sees <<EOF
can_flush: 0
can_fua: 1
pwrite+fua: ok; disk 837f699e39ffa396
flush: refused by client
EOF
  called <<EOF
TRACE can_flush
TRACE flush
EOF
}

@test "can_fua_no_flush: FUA emulated without flush fails with EINVAL" {
  # The write lands, the emulating flush is missing: EINVAL.
  serve_all can_fua_no_flush
  sees <<EOF
can_flush: 0
can_fua: 1
pwrite+fua: EINVAL; disk 837f699e39ffa396
EOF
}

@test "trim_only: trim without can_trim is advertised and called" {
  serve_all trim_only
  sees <<EOF
can_trim: 1
trim: ok; range reads zeroes; disk 4637844c9b1a7ab4
EOF
  called <<EOF
TRACE trim count=65536 offset=262144 flags=none
EOF
}

@test "cache_only: cache without can_cache is native" {
  serve_all cache_only
  sees <<EOF
can_cache: 1
cache: ok; disk $pristine
EOF
  called <<EOF
TRACE cache count=1048576 offset=0
EOF
}

@test "extents_only: extents without can_extents is used" {
  serve_all extents_only
  sees <<EOF
block_status: ok; extents 524288:data 524288:hole+zero
EOF
  called <<EOF
TRACE extents count=1048576 offset=0 flags=none
EOF
}

@test "extents_empty: an extents callback reporting nothing is EINVAL" {
  serve_all extents_empty
  sees <<EOF
block_status: EINVAL; extents 
EOF
}

@test "block_size_only: block_size answers reach the client" {
  serve_all block_size_only
  sees <<EOF
block_size minimum: 512
block_size preferred: 4096
block_size maximum: 1048576
EOF
}

@test "exports: list_exports, default_export, export_description" {
  serve_all exports
  sees <<EOF
list_exports: name='alpha' description='the first export'
list_exports: name='beta' description=''
export '': canonical name='alpha' description='conformance RAM disk' size=1048576
export 'beta': canonical name='beta' description='conformance RAM disk' size=1048576
EOF
}

@test "rotational_multiconn: is_rotational and can_multi_conn say yes" {
  serve_all rotational_multiconn
  sees <<EOF
can_multi_conn: 1
is_rotational: 1
EOF
}
