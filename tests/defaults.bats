#!/usr/bin/env bats
# A Rust plugin that leaves callbacks out is served exactly as nbdkit
# serves a C plugin that leaves the same callbacks out.
#
# Every subset of callbacks exists twice: tests/c-plugins/c-<subset>.so,
# served by nbdkit directly, and the Rust twin
# tests/rust-plugins/examples/sub_<subset>.rs, served through the
# loader.  For each subset, read-write and read-only (-r):
#
# - "client view": probe.py prints what a client sees (flags, block
#   sizes, exports, the outcome and effect of each request); both sides
#   must print the same text.
# - "plugin calls": the plugins log every callback nbdkit makes; both
#   must receive the same calls with the same arguments, and nbdkit
#   must choose the same thread model.
#
# Then, for the key subsets, the values nbdkit really answers (checked
# on both sides), so that the suite fails if both sides were wrong
# alike.  Rows of docs' nbdkit-facts.md tables are named in the tests.

load helpers

# serve_both SUBSET [NBDKIT-OPTION...]: probes the C plugin and the
# Rust twin; sets c_out, c_log, rust_out, rust_log.
serve_both () {
  local subset=$1
  shift
  c_out=$BATS_TEST_TMPDIR/c.out c_log=$BATS_TEST_TMPDIR/c.log
  rust_out=$BATS_TEST_TMPDIR/rust.out rust_log=$BATS_TEST_TMPDIR/rust.log
  if ! run_probe "$c_out" "$c_log" "$@" "$C_PLUGINS/c-$subset.so"; then
    echo "the C reference c-$subset.so failed:"
    cat "$c_out" "$c_log"
    return 1
  fi
  if ! run_probe "$rust_out" "$rust_log" "$@" \
       "$LOADER" rust="$(rust_test_plugin "sub_$subset")"; then
    echo "the Rust plugin sub_$subset failed through the loader:"
    cat "$rust_out" "$rust_log"
    return 1
  fi
}

# same_client_view SUBSET [NBDKIT-OPTION...]
same_client_view () {
  serve_both "$@" || return 1
  diff -u --label "client view, C c-$1.so" \
       --label "client view, Rust sub_$1 through the loader" \
       "$c_out" "$rust_out"
}

# same_plugin_calls SUBSET [NBDKIT-OPTION...]
same_plugin_calls () {
  serve_both "$@" || return 1
  diff -u --label "calls, C c-$1.so" \
       --label "calls, Rust sub_$1 through the loader" \
       <(plugin_trace "$c_log") <(plugin_trace "$rust_log")
}

# sees <<EOF ... EOF: both clients saw each of these lines.
sees () {
  local line missing=0
  while IFS= read -r line; do
    if ! grep -qFx -- "$line" "$c_out"; then
      echo "C reference lacks: $line"
      missing=1
    fi
    if ! grep -qFx -- "$line" "$rust_out"; then
      echo "Rust through the loader lacks: $line"
      missing=1
    fi
  done
  if [ $missing -ne 0 ]; then
    echo "--- C reference saw:"; cat "$c_out"
    echo "--- Rust through the loader saw:"; cat "$rust_out"
  fi
  return $missing
}

# called <<EOF ... EOF: both plugins received each of these calls
# (lines of plugin_trace); not_called CALL: neither received CALL.
called () {
  local line missing=0
  while IFS= read -r line; do
    if ! plugin_trace "$c_log" | grep -qFx -- "$line"; then
      echo "C reference was not called: $line"
      missing=1
    fi
    if ! plugin_trace "$rust_log" | grep -qFx -- "$line"; then
      echo "Rust through the loader was not called: $line"
      missing=1
    fi
  done
  return $missing
}
not_called () {
  local log
  for log in "$c_log" "$rust_log"; do
    if plugin_trace "$log" | grep -q -- "^TRACE $1\( \|$\)"; then
      echo "$1 was called in $log:"
      plugin_trace "$log"
      return 1
    fi
  done
}

# The pristine disk, as the probe's digest shows it.
pristine=8c5210e380bb0d6f

# --- The same on both sides, for every subset and mode ---

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

# --- What nbdkit really answers, checked on both sides ---

@test "minimal: missing can_* and block_size answer no and nothing" {
  # can_write without pwrite, can_flush without flush, can_trim without
  # trim: false; is_rotational, can_multi_conn: false; can_cache
  # without cache: none; can_zero and can_fua are moot on a read-only
  # export; block_size: all zero; can_extents without extents: false,
  # so nbdkit reports the whole disk as data.
  serve_both minimal
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
  serve_both minimal
  sees <<EOF
list_exports: name='' description=''
export '': canonical name='' description='unavailable (ENOTSUP)' size=1048576
EOF
  run grep -c '^list_exports:' "$rust_out"
  [ "$output" -eq 1 ]
}

@test "minimal: missing thread_model and lifecycle callbacks" {
  # The loader's model (parallel); preconnect, get_ready, after_fork,
  # cleanup, load, unload and config_complete: nothing happens, the
  # server serves.
  serve_both minimal
  called <<EOF
using thread model: parallel
EOF
  sees <<EOF
size: 1048576
pread: disk $pristine
EOF
}

@test "minimal: without config, any key is an error" {
  run timeout 60 nbdkit -U - "$C_PLUGINS/c-minimal.so" foo=bar --run true
  echo "C reference: $output"
  [ "$status" -ne 0 ]
  run timeout 60 nbdkit -U - "$LOADER" rust="$(rust_test_plugin sub_minimal)" \
      foo=bar --run true
  echo "Rust through the loader: $output"
  [ "$status" -ne 0 ]
}

@test "full: thread_model answers serialize_requests" {
  serve_both full
  called <<EOF
TRACE thread_model
using thread model: serialize_requests
EOF
}

@test "write_only: writes work, zeroes are emulated, fast zero fails" {
  # can_write: true with pwrite; can_zero: emulate without zero (nbdkit
  # writes zeroes through pwrite); can_fast_zero: true without zero, and
  # the fast zero fails with EOPNOTSUPP; can_fua: none without flush.
  serve_both write_only
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
  serve_both cans_without_callbacks
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
  serve_both can_write_false
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
  serve_both zero_no_can_zero
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
  serve_both can_zero_false
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
  serve_both can_zero_no_zero
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
  serve_both flush_no_can_fua
  sees <<EOF
can_flush: 1
can_fua: 1
pwrite+fua: ok; disk 837f699e39ffa396
flush: ok; disk 837f699e39ffa396
EOF
  diff -u - <(plugin_trace "$rust_log" | grep -E '^TRACE (pwrite|flush)') <<EOF
TRACE pwrite count=65536 offset=4096 flags=none
TRACE pwrite count=4096 offset=131072 flags=none
TRACE flush
TRACE flush
TRACE pwrite count=65536 offset=393216 flags=none
EOF
}

@test "can_flush_false: FUA emulation calls flush although can_flush said no" {
  serve_both can_flush_false
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
  serve_both can_fua_no_flush
  sees <<EOF
can_flush: 0
can_fua: 1
pwrite+fua: EINVAL; disk 837f699e39ffa396
EOF
}

@test "trim_only: trim without can_trim is advertised and called" {
  serve_both trim_only
  sees <<EOF
can_trim: 1
trim: ok; range reads zeroes; disk 4637844c9b1a7ab4
EOF
  called <<EOF
TRACE trim count=65536 offset=262144 flags=none
EOF
}

@test "cache_only: cache without can_cache is native" {
  serve_both cache_only
  sees <<EOF
can_cache: 1
cache: ok; disk $pristine
EOF
  called <<EOF
TRACE cache count=1048576 offset=0
EOF
}

@test "extents_only: extents without can_extents is used" {
  serve_both extents_only
  sees <<EOF
block_status: ok; extents 524288:data 524288:hole+zero
EOF
  called <<EOF
TRACE extents count=1048576 offset=0 flags=none
EOF
}

@test "extents_empty: an extents callback reporting nothing is EINVAL" {
  serve_both extents_empty
  sees <<EOF
block_status: EINVAL; extents 
EOF
}

@test "block_size_only: block_size answers reach the client" {
  serve_both block_size_only
  sees <<EOF
block_size minimum: 512
block_size preferred: 4096
block_size maximum: 1048576
EOF
}

@test "exports: list_exports, default_export, export_description" {
  serve_both exports
  sees <<EOF
list_exports: name='alpha' description='the first export'
list_exports: name='beta' description=''
export '': canonical name='alpha' description='conformance RAM disk' size=1048576
export 'beta': canonical name='beta' description='conformance RAM disk' size=1048576
EOF
}

@test "rotational_multiconn: is_rotational and can_multi_conn say yes" {
  serve_both rotational_multiconn
  sees <<EOF
can_multi_conn: 1
is_rotational: 1
EOF
}
