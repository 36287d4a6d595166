#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Thread models: the model a Rust plugin's thread_model callback picks
# is the one nbdkit uses, and requests overlap exactly as it allows.
#
# The plugin is threads (tests/rust-plugins/examples/threads.rs): each
# pread sleeps 20 ms and counts the preads in flight, on its connection
# and plugin-wide.  With -v it logs at cleanup (which nbdkit calls once
# every connection has ended, unlike close)
#   threads: connection N max concurrent preads M    (one per connection)
#   threads: global max concurrent preads M
#   threads: max open connections M
# The assertions only compare these maxima with 1: "> 1" when many
# requests are in flight at once (32 reads of 20 ms, far more than the
# time nbdkit needs to start its worker threads, even on two cores),
# "== 1" when the model forbids overlap, which no timing can break.

load helpers

# connection_max N: the highest number of preads in flight at once on
# connection N, from the log.
connection_max () {
  grep -oE "threads: connection $1 max concurrent preads [0-9]+" \
      "$(nbdkit_log)" | grep -oE '[0-9]+$'
}

# busiest_connection_max: the highest connection_max of all.
busiest_connection_max () {
  grep -oE 'threads: connection [0-9]+ max concurrent preads [0-9]+' \
      "$(nbdkit_log)" | grep -oE '[0-9]+$' | sort -n | tail -1
}

# global_max, open_max: the plugin-wide maxima, from the log.
global_max () {
  grep -oE 'threads: global max concurrent preads [0-9]+' \
      "$(nbdkit_log)" | grep -oE '[0-9]+$'
}
open_max () {
  grep -oE 'threads: max open connections [0-9]+' \
      "$(nbdkit_log)" | grep -oE '[0-9]+$'
}

# One connection with 32 reads in flight.
one_connection_client () {
  nbdsh_script <<'EOF'
h = connect()
cookies = [h.aio_pread(nbd.Buffer(512), i * 512) for i in range(32)]
drain(h)
print(sum(h.aio_command_completed(c) for c in cookies))
EOF
}

# Two connections, each with 32 reads in flight at the same time.
two_connections_client () {
  nbdsh_script <<'EOF'
h1 = connect()
h2 = connect()
cookies = []
for i in range(32):
    cookies.append((h1, h1.aio_pread(nbd.Buffer(512), i * 512)))
    cookies.append((h2, h2.aio_pread(nbd.Buffer(512), i * 512)))
drain(h1, h2)
print(sum(x.aio_command_completed(c) for x, c in cookies))
EOF
}

# Whether a second connection completes its handshake while a first
# one is open, and once the first has closed.
second_connection_client () {
  nbdsh_script <<'EOF'
def wait_connected(x, seconds):
    deadline = time.time() + seconds
    while x.aio_is_connecting() and time.time() < deadline:
        x.poll(100)
    return x.aio_is_ready()

h1 = connect()
h1.pread(512, 0)
h2 = nbd.NBD()
h2.aio_connect_uri(uri)
print("while first open: %s" % wait_connected(h2, 2))
h1.shutdown()
print("after first closed: %s" % wait_connected(h2, 30))
print(len(h2.pread(512, 0)))
EOF
}

# Which model nbdkit uses.

@test "thread_model=parallel: nbdkit uses parallel" {
  run serve_logged "$THREADS" -v thread_model=parallel --run true
  [ "$status" -eq 0 ]
  logged 'using thread model: parallel$'
}

@test "thread_model=serialize_requests: nbdkit uses serialize_requests" {
  run serve_logged "$THREADS" -v thread_model=serialize_requests --run true
  [ "$status" -eq 0 ]
  logged 'using thread model: serialize_requests$'
}

@test "thread_model=serialize_all_requests: nbdkit uses serialize_all_requests" {
  run serve_logged "$THREADS" -v thread_model=serialize_all_requests \
      --run true
  [ "$status" -eq 0 ]
  logged 'using thread model: serialize_all_requests$'
}

@test "thread_model=serialize_connections: nbdkit uses serialize_connections" {
  run serve_logged "$THREADS" -v thread_model=serialize_connections \
      --run true
  [ "$status" -eq 0 ]
  logged 'using thread model: serialize_connections$'
}

@test "a plugin without a thread_model callback gets parallel" {
  run serve_logged "$THREADS_DEFAULT" -v --run true
  [ "$status" -eq 0 ]
  logged 'using thread model: parallel$'
}

# What each model lets overlap.

@test "parallel: requests on one connection overlap" {
  one_connection_client
  run serve_logged "$THREADS" -v thread_model=parallel --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 32 ]
  [ "$(connection_max 1)" -gt 1 ]
}

@test "parallel by default: requests on one connection overlap" {
  one_connection_client
  run serve_logged "$THREADS_DEFAULT" -v --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 32 ]
  [ "$(connection_max 1)" -gt 1 ]
}

@test "parallel: fio with iodepth 16 gets overlapping requests" {
  run serve_logged "$THREADS" -v thread_model=parallel \
      --run 'fio --name=threads --ioengine=nbd --uri="$uri" --rw=randread \
                 --bs=4k --iodepth=16 --size=1M --io_size=256k \
                 --output=/dev/null'
  [ "$status" -eq 0 ]
  # fio opens a first connection only to find the size.
  [ "$(busiest_connection_max)" -gt 1 ]
}

@test "parallel: a second connection is served while the first is open" {
  second_connection_client
  run serve_logged "$THREADS" -v thread_model=parallel --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "while first open: True" ]
  [ "${lines[1]}" = "after first closed: True" ]
  [ "${lines[2]}" = 512 ]
  [ "$(open_max)" -eq 2 ]
}

@test "serialize_requests: one request at a time per connection" {
  two_connections_client
  run serve_logged "$THREADS" -v thread_model=serialize_requests \
      --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 64 ]
  [ "$(connection_max 1)" -eq 1 ]
  [ "$(connection_max 2)" -eq 1 ]
}

@test "serialize_requests: requests on two connections overlap" {
  two_connections_client
  run serve_logged "$THREADS" -v thread_model=serialize_requests \
      --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 64 ]
  [ "$(global_max)" -gt 1 ]
}

@test "serialize_all_requests: one request at a time over all connections" {
  two_connections_client
  run serve_logged "$THREADS" -v thread_model=serialize_all_requests \
      --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 64 ]
  [ "$(global_max)" -eq 1 ]
  [ "$(open_max)" -eq 2 ]
}

@test "serialize_connections: a second connection waits for the first" {
  second_connection_client
  run serve_logged "$THREADS" -v thread_model=serialize_connections \
      --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "while first open: False" ]
  [ "${lines[1]}" = "after first closed: True" ]
  [ "${lines[2]}" = 512 ]
  [ "$(open_max)" -eq 1 ]
}

@test "serialize_connections: one request at a time on the connection" {
  one_connection_client
  run serve_logged "$THREADS" -v thread_model=serialize_connections \
      --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 32 ]
  [ "$(connection_max 1)" -eq 1 ]
}

@test "a thread_model the plugin does not know makes nbdkit exit 1" {
  run serve_logged "$THREADS" thread_model=sideways --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'unknown thread_model sideways'
}

# --- Thread safety: the plugin type's Sync decides the loosest model ---
#
# unsync (tests/rust-plugins/src/thread_safety.rs) serves connections
# whose value holds a RefCell, borrowed for the whole read (a second
# read at once would panic), and does not list thread_model;
# unsync_listed lists it (answering thread_model=, default parallel);
# foreign_handle is a Sync plugin type whose open returns that RefCell
# value.  They log at cleanup, as threads does:
#   unsync: connection N max concurrent preads M
#   unsync: global max concurrent preads M

UNSYNC=$(rust_test_plugin unsync)
UNSYNC_LISTED=$(rust_test_plugin unsync_listed)
FOREIGN_HANDLE=$(rust_test_plugin foreign_handle)

unsync_connection_max () {
  grep -oE "unsync: connection $1 max concurrent preads [0-9]+" \
      "$(nbdkit_log)" | grep -oE '[0-9]+$'
}
unsync_global_max () {
  grep -oE 'unsync: global max concurrent preads [0-9]+' \
      "$(nbdkit_log)" | grep -oE '[0-9]+$'
}

# Two connections, 32 reads in flight on each, every byte checked.
unsync_client () {
  nbdsh_script <<'EOF2'
h1 = connect()
h2 = connect()
bufs = []
for i in range(32):
    for x in (h1, h2):
        b = nbd.Buffer(512)
        bufs.append((x, x.aio_pread(b, i * 512), b, i))
drain(h1, h2)
ok = 0
for x, c, b, i in bufs:
    x.aio_command_completed(c)
    ok += b.to_bytearray() == bytes([i]) * 512
print(ok)
EOF2
}

# dump_thread_models PLUGIN.so [ARGS]: the thread model lines of
# --dump-plugin, the SDK's and nbdkit's.
dump_thread_models () {
  local server
  rust_server "$1" || return 1
  shift
  local out
  out=$(timeout 60 nbdkit --dump-plugin "${server[@]}" "$@") || return 1
  grep -E '^rust_plugin_thread_model=' <<<"$out"
  grep -E '^thread_model=' <<<"$out"
}

@test "a plugin type that is not Sync is served with serialize_requests" {
  run dump_thread_models "$UNSYNC"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = rust_plugin_thread_model=serialize_requests ]
  [ "${lines[1]}" = thread_model=serialize_requests ]
  run serve_logged "$UNSYNC" -v --run true
  [ "$status" -eq 0 ]
  logged 'using thread model: serialize_requests$'
}

@test "not Sync: concurrent clients are served, one request at a time per connection" {
  unsync_client
  run serve_logged "$UNSYNC" -v --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 64 ]
  [ "$(unsync_connection_max 1)" -eq 1 ]
  [ "$(unsync_connection_max 2)" -eq 1 ]
  # The two connections still overlap.
  [ "$(unsync_global_max)" -gt 1 ]
  ! logged 'panic|already borrowed'
}

@test "not Sync, thread_model listed: an answer of parallel is clamped, with a debug message" {
  run dump_thread_models "$UNSYNC_LISTED" thread_model=parallel
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = rust_plugin_thread_model=serialize_requests ]
  [ "${lines[1]}" = thread_model=serialize_requests ]
  unsync_client
  run serve_logged "$UNSYNC_LISTED" -v thread_model=parallel --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 64 ]
  logged 'using thread model: serialize_requests$'
  logged 'debug: thread_model: the plugin answered parallel, but [a-z_:]*UnsyncDisk is not Sync: nbdkit-rust serves it with serialize_requests'
  [ "$(unsync_connection_max 1)" -eq 1 ]
}

@test "not Sync, thread_model listed: a stricter answer stands, with no message" {
  run serve_logged "$UNSYNC_LISTED" -v thread_model=serialize_all_requests \
      --run true
  [ "$status" -eq 0 ]
  logged 'using thread model: serialize_all_requests$'
  ! logged 'is not Sync'
}

@test "a Sync plugin type stays parallel" {
  run dump_thread_models "$THREADS_DEFAULT"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = rust_plugin_thread_model=parallel ]
  [ "${lines[1]}" = thread_model=parallel ]
}

@test "parallel: open returning another type than the plugin's is refused, naming both" {
  nbdsh_script <<'EOF2'
print(attempt(lambda: connect()))
EOF2
  run serve_logged "$FOREIGN_HANDLE" -v --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" != ok ]
  logged 'using thread model: parallel$'
  logged 'error: open returned a [a-z_:]*UnsyncDisk, not the plugin.s type [a-z_:]*FrontDisk: in the parallel thread model'
  logged 'return a [a-z_:]*FrontDisk from open, or implement thread_model returning ThreadModel::SerializeRequests'
}

@test "serialize_requests chosen: open may return another type" {
  unsync_client
  run serve_logged "$FOREIGN_HANDLE" -v thread_model=serialize_requests \
      --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 64 ]
  ! logged 'error:'
}
