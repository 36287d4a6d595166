#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Every callback reaches the Rust plugin, and its answer reaches the
# client.
#
# The plugin is sub_full (tests/rust-plugins/examples/sub_full.rs),
# which registers every callback, served the RUST_VIA way (through the
# loader, or loaded directly by nbdkit; see rust_server in helpers.bash)
# with nbdkit -v.  Each callback logs "TRACE <callback> <arguments>" (see
# plugin_trace in helpers.bash), which shows that nbdkit's call reached
# it; the client (probe.py or an nbdsh script) shows that its answer
# came back.

load helpers

full=$(rust_test_plugin sub_full)

# probe_full [NBDKIT-OPTION...] [-- PLUGIN-ARG...]: probe.py against
# sub_full; what the client saw in $out, nbdkit's log in $log.  The
# probe makes the same requests whatever a test looks at, so each set
# of arguments is served once per run of the file and the tests that
# give the same ones look at that run (under valgrind, each nbdkit
# takes seconds).  A run that failed is not kept.
probe_full () {
  local options=() dir
  dir="$BATS_FILE_TMPDIR/probe/args ${*//\//_}"
  out=$dir/out log=$dir/log
  [ -e "$dir/done" ] && return 0
  mkdir -p "$dir"
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    options+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  local server
  rust_server "$full" || return 1
  if ! run_probe "$out" "$log" "${options[@]}" "${server[@]}" "$@"
  then
    echo "nbdkit or the probe failed:"
    cat "$out" "$log"
    return 1
  fi
  touch "$dir/done"
}

# script_full [NBDKIT-OPTION...]: the nbdsh script stored with
# nbdsh_script (helpers.bash) against sub_full; its output in $output,
# nbdkit's log in $log.
script_full () {
  log=$BATS_TEST_TMPDIR/log
  run serve_script "$@"
  if [ "$status" -ne 0 ]; then
    echo "the client failed: $output"
    cat "$log"
    return 1
  fi
}

serve_script () {
  local server
  rust_server "$full" || return 1
  timeout 60 nbdkit -v -U - "$@" "${server[@]}" \
    --run "$nbdsh_run" 2>"$log"
}

# client_saw <<EOF ... EOF: the probe printed each of these lines.
client_saw () {
  local line missing=0
  while IFS= read -r line; do
    if ! grep -qFx -- "$line" "$out"; then
      echo "the client did not see: $line"
      missing=1
    fi
  done
  [ $missing -eq 0 ] || { echo "--- it saw:"; cat "$out"; }
  return $missing
}

# plugin_got <<EOF ... EOF: the plugin logged each of these lines
# (lines of plugin_trace).
plugin_got () {
  local line missing=0
  while IFS= read -r line; do
    if ! plugin_trace "$log" | grep -qFx -- "$line"; then
      echo "the plugin did not log: $line"
      missing=1
    fi
  done
  [ $missing -eq 0 ] || { echo "--- it logged:"; plugin_trace "$log"; }
  return $missing
}

# The plugin's initial content, computed here from its definition:
# byte i is (i mod 251) + (i >> 12), modulo 256.  The digest is the
# probe's (the first 16 hex digits of SHA-256).
pattern_digest () {
  /usr/bin/python3 -c '
import hashlib
data = bytes(((i % 251) + (i >> 12)) & 0xff for i in range(1 << 20))
print(hashlib.sha256(data).hexdigest()[:16])'
}

@test "get_size: the size reaches the client" {
  probe_full
  client_saw <<EOF
size: 1048576
EOF
  plugin_got <<EOF
TRACE get_size
EOF
}

@test "config, config_complete: size=2097152 resizes the disk" {
  probe_full -- size=2097152
  client_saw <<EOF
size: 2097152
EOF
  plugin_got <<EOF
TRACE config size=2097152
TRACE config_complete
EOF
}

@test "config: the plugin's error for an unknown key stops nbdkit" {
  rust_server "$full"
  run timeout 60 nbdkit -U - "${server[@]}" colour=blue --run true
  [ "$status" -ne 0 ]
  [[ "$output" == *"unknown parameter 'colour'"* ]]
}

@test "pread: the plugin's data reaches the client" {
  probe_full
  client_saw <<EOF
pread: disk $(pattern_digest)
EOF
  plugin_got <<EOF
TRACE pread count=1048576 offset=0
EOF
}

@test "pwrite: written data reads back" {
  nbdsh_script <<'EOF'
h = connect()
h.pwrite(b"\x42" * 512 + b"\x43" * 512, 8192)
assert h.pread(1024, 8192) == b"\x42" * 512 + b"\x43" * 512
print("read back")
EOF
  script_full
  [ "$output" = "read back" ]
  plugin_got <<EOF
TRACE pwrite count=1024 offset=8192 flags=none
EOF
}

@test "pwrite with FUA: the plugin gets the flag (can_fua native)" {
  probe_full
  client_saw <<EOF
can_fua: 1
pwrite+fua: ok; disk 837f699e39ffa396
EOF
  plugin_got <<EOF
TRACE can_fua
TRACE pwrite count=4096 offset=131072 flags=fua
EOF
}

@test "flush: reaches the plugin" {
  probe_full
  client_saw <<EOF
can_flush: 1
flush: ok; disk 837f699e39ffa396
EOF
  plugin_got <<EOF
TRACE can_flush
TRACE flush
EOF
}

@test "trim: the trimmed range reads back zeroes" {
  probe_full
  client_saw <<EOF
can_trim: 1
trim: ok; range reads zeroes; disk a3fbb1f8e3c59f99
EOF
  plugin_got <<EOF
TRACE can_trim
TRACE trim count=65536 offset=262144 flags=none
EOF
}

@test "zero: the plugin's zero writes the zeroes" {
  probe_full
  client_saw <<EOF
can_zero: 1
zero: ok; range reads zeroes; disk 03071d8932d61826
EOF
  plugin_got <<EOF
TRACE can_zero
TRACE zero count=65536 offset=393216 flags=may_trim
EOF
}

@test "zero with FAST_ZERO: the plugin gets the flag" {
  probe_full
  client_saw <<EOF
can_fast_zero: 1
zero+fast_zero: ok; range reads zeroes; disk 0d7bda7e3e546f3f
EOF
  plugin_got <<EOF
TRACE can_fast_zero
TRACE zero count=65536 offset=524288 flags=may_trim,fast_zero
EOF
}

@test "cache: reaches the plugin (can_cache native)" {
  probe_full
  client_saw <<EOF
can_cache: 1
cache: ok; disk 0d7bda7e3e546f3f
EOF
  plugin_got <<EOF
TRACE can_cache
TRACE cache count=1048576 offset=0
EOF
}

@test "extents: the plugin's extents reach the client" {
  probe_full
  client_saw <<EOF
block_status: ok; extents 524288:data 524288:hole+zero
EOF
  plugin_got <<EOF
TRACE can_extents
TRACE extents count=1048576 offset=0 flags=none
EOF
}

@test "extents: a request from the middle of the data" {
  nbdsh_script <<'EOF'
h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.connect_uri(uri)
seen = []
h.block_status(1048576 - 4096, 4096,
               lambda ctx, offset, entries, err: seen.extend(entries))
print(seen)
EOF
  script_full
  [ "$output" = "[520192, 0, 524288, 3]" ]
  plugin_got <<EOF
TRACE extents count=1044480 offset=4096 flags=none
EOF
}

@test "block_size: the plugin's constraints reach the client" {
  probe_full
  client_saw <<EOF
block_size minimum: 512
block_size preferred: 4096
block_size maximum: 1048576
EOF
  plugin_got <<EOF
TRACE block_size
EOF
}

@test "can_write: the export is writable" {
  probe_full
  client_saw <<EOF
is_read_only: 0
pwrite: ok; disk 7268a7801b3a6975
EOF
  plugin_got <<EOF
TRACE can_write
EOF
}

@test "is_rotational: the client sees a rotational disk" {
  probe_full
  client_saw <<EOF
is_rotational: 1
EOF
  plugin_got <<EOF
TRACE is_rotational
EOF
}

@test "can_multi_conn: the client sees multi-conn" {
  probe_full
  client_saw <<EOF
can_multi_conn: 1
EOF
  plugin_got <<EOF
TRACE can_multi_conn
EOF
}

@test "list_exports: the client lists the plugin's exports" {
  probe_full
  client_saw <<EOF
list_exports: name='alpha' description='the first export'
list_exports: name='beta' description=''
EOF
  plugin_got <<EOF
TRACE list_exports readonly=0 is_tls=0
EOF
}

@test "list_exports: nbdinfo --list sees the exports" {
  rust_server "$full"
  run timeout 60 nbdkit -U - "${server[@]}" \
      --run 'nbdinfo --list --json "$uri"'
  [ "$status" -eq 0 ]
  [[ "$output" == *'"export-name": "alpha"'* ]]
  [[ "$output" == *'"description": "the first export"'* ]]
  [[ "$output" == *'"export-name": "beta"'* ]]
}

@test "default_export: the default export is the plugin's" {
  probe_full
  client_saw <<EOF
export '': canonical name='alpha' description='conformance RAM disk' size=1048576
EOF
  plugin_got <<EOF
TRACE default_export readonly=0 is_tls=0
EOF
}

@test "export_description: the client sees the description" {
  probe_full
  client_saw <<EOF
export 'beta': canonical name='beta' description='conformance RAM disk' size=1048576
EOF
  plugin_got <<EOF
TRACE export_description
EOF
}

@test "preconnect: called for every connection, with readonly" {
  probe_full -r
  plugin_got <<EOF
TRACE preconnect readonly=1
TRACE open readonly=1
EOF
  # The probe makes two connections.
  [ "$(plugin_trace "$log" | grep -c '^TRACE preconnect')" -eq 2 ]
}

@test "load, unload: the first and the last calls" {
  probe_full
  [ "$(plugin_trace "$log" | grep '^TRACE' | head -n 1)" = "TRACE load" ]
  [ "$(plugin_trace "$log" | grep '^TRACE' | tail -n 1)" = "TRACE unload" ]
}

@test "get_ready, after_fork: called once, before the first connection" {
  probe_full
  diff -u - <(plugin_trace "$log" |
              grep -E '^TRACE (config_complete|get_ready|after_fork|preconnect)' |
              head -n 4) <<EOF
TRACE config_complete
TRACE get_ready
TRACE after_fork
TRACE preconnect readonly=0
EOF
  [ "$(plugin_trace "$log" | grep -c '^TRACE get_ready')" -eq 1 ]
  [ "$(plugin_trace "$log" | grep -c '^TRACE after_fork')" -eq 1 ]
}

@test "cleanup: called once, before unload" {
  probe_full
  [ "$(plugin_trace "$log" | grep '^TRACE' | tail -n 2 | head -n 1)" = \
    "TRACE cleanup" ]
  [ "$(plugin_trace "$log" | grep -c '^TRACE cleanup')" -eq 1 ]
}

@test "dump_plugin: nbdkit --dump-plugin prints the plugin's lines" {
  rust_server "$full"
  run timeout 60 nbdkit --dump-plugin "${server[@]}"
  [ "$status" -eq 0 ]
  [[ "$output" == *"subset_dump_plugin=full"* ]]
}

@test "thread_model: nbdkit uses the plugin's model" {
  probe_full
  plugin_got <<EOF
TRACE thread_model
using thread model: serialize_requests
EOF
}
