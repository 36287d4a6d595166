#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Panics in a Rust plugin: the SDK catches every one before it reaches
# C, turns it into an nbdkit error carrying the panic message, and the
# client sees what it would see for an error in that callback (EIO for
# a request).  nbdkit never crashes: the next request or connection is
# served, and nbdkit exits with its client's status.
#
# The plugin is faulty (tests/rust-plugins/examples/faulty.rs): with
# panic=CALLBACK message=TEXT times=N that callback panics with TEXT.
# The messages below never name the callback, so finding the callback
# name on the logged line shows the SDK named it.

load helpers

# no_crash: nothing in nbdkit's log says a panic escaped into C or the
# process aborted.
no_crash () {
  local log
  log=$(nbdkit_log)
  if grep -E 'cannot unwind|Aborted|core dumped|Assertion .* failed|Segmentation fault|killed by signal|fatal runtime error' \
      "$log"; then
    echo "nbdkit's log shows a crash:" >&2
    cat "$log" >&2
    return 1
  fi
}

# request_panics CALLBACK REQUEST: faulty panics once in CALLBACK;
# REQUEST (Python, on handle h) is sent twice and the client prints
# what each got, then whether the disk's first sector holds the 0xa5
# pattern the pwrite test writes.
request_panics () {
  local callback=$1 request=$2
  nbdsh_script <<EOF
h = connect(meta_context=nbd.CONTEXT_BASE_ALLOCATION)
print(attempt(lambda: $request))
print(attempt(lambda: $request))
print(h.pread(512, 0) == b"\xa5" * 512)
EOF
  run serve_logged "$FAULTY" panic="$callback" times=1 \
      message="Zorglub overheated" --run "$nbdsh_run"
}

# panic_logged CALLBACK: one error line has the panic message and names
# the callback.
panic_logged () {
  logged "error: .*($1.*Zorglub overheated|Zorglub overheated.*$1)"
}

@test "a panic in pread gives the client EIO and the next pread is served" {
  nbdsh_script <<'EOF'
h = connect()
h.pwrite(b"\xa5" * 512, 0)
print(attempt(lambda: h.pread(512, 0)))
print(h.pread(512, 0) == b"\xa5" * 512)
EOF
  run serve_logged "$FAULTY" panic=pread times=1 \
      message="Zorglub overheated" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = EIO ]
  [ "${lines[1]}" = True ]
  panic_logged pread
  no_crash
}

@test "a panic in pwrite gives the client EIO and the next pwrite lands" {
  request_panics pwrite 'h.pwrite(b"\xa5" * 512, 0)'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = EIO ]
  [ "${lines[1]}" = ok ]
  [ "${lines[2]}" = True ]
  panic_logged pwrite
  no_crash
}

@test "a panic in flush gives the client EIO and the next flush is served" {
  request_panics flush 'h.flush()'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = EIO ]
  [ "${lines[1]}" = ok ]
  panic_logged flush
  no_crash
}

@test "a panic in trim gives the client EIO and the next trim is served" {
  request_panics trim 'h.trim(4096, 0)'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = EIO ]
  [ "${lines[1]}" = ok ]
  panic_logged trim
  no_crash
}

@test "a panic in zero gives the client EIO and the next zero is served" {
  request_panics zero 'h.zero(4096, 0)'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = EIO ]
  [ "${lines[1]}" = ok ]
  panic_logged zero
  no_crash
}

@test "a panic in extents gives block status EIO and the next is served" {
  request_panics extents 'h.block_status(4096, 0, lambda *a: 0)'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = EIO ]
  [ "${lines[1]}" = ok ]
  panic_logged extents
  no_crash
}

@test "a panic in cache gives the client EIO and the next cache is served" {
  request_panics cache 'h.cache(4096, 0)'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = EIO ]
  [ "${lines[1]}" = ok ]
  panic_logged cache
  no_crash
}

@test "panics in many parallel preads each give EIO and the server goes on" {
  nbdsh_script <<'EOF'
h = connect()
cookies = [h.aio_pread(nbd.Buffer(512), i * 512) for i in range(16)]
drain(h)
results = []
for c in cookies:
    results.append(attempt(lambda: h.aio_command_completed(c)))
print(" ".join(sorted(set(results))), results.count("EIO"))
print(len(h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" panic=pread times=16 \
      message="Zorglub overheated" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "EIO 16" ]
  [ "${lines[1]}" = 512 ]
  # Counted by occurrence, not by line: the panic hook's output and
  # nbdkit's error lines, written by different threads, interleave.
  [ "$(grep -o 'pread: panic: Zorglub overheated' "$(nbdkit_log)" |
       wc -l)" -eq 16 ]
  no_crash
}

# Panics during the handshake fail the connection, like errors there.

# handshake_panics CALLBACK: the first connection meets the panic, the
# second reads the disk.
handshake_panics () {
  nbdsh_script <<'EOF'
print(attempt(lambda: connect()))
h = connect()
print(len(h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" panic="$1" times=1 \
      message="Zorglub overheated" --run "$nbdsh_run"
}

@test "a panic in preconnect fails that connection, the next is served" {
  handshake_panics preconnect
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  panic_logged preconnect
  no_crash
}

@test "a panic in open fails that connection, the next is served" {
  handshake_panics open
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  panic_logged open
  no_crash
}

@test "a panic in get_size fails that connection, the next is served" {
  handshake_panics get_size
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  panic_logged get_size
  no_crash
}

@test "a panic in can_write fails that connection, the next is served" {
  handshake_panics can_write
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  panic_logged can_write
  no_crash
}

@test "a panic in can_extents fails that connection, the next is served" {
  handshake_panics can_extents
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  panic_logged can_extents
  no_crash
}

@test "a panic in block_size fails that connection, the next is served" {
  handshake_panics block_size
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  panic_logged block_size
  no_crash
}

@test "a panic in default_export fails that connection, the next is served" {
  handshake_panics default_export
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  panic_logged default_export
  no_crash
}

@test "a panic in list_exports fails the listing, not the connection" {
  nbdsh_script <<'EOF'
h = connect(opt_mode=True)
print(attempt(lambda: h.opt_list(lambda n, d: 0)))
h.opt_go()
print(len(h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" panic=list_exports \
      message="Zorglub overheated" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  panic_logged list_exports
  no_crash
}

@test "a panic in export_description loses the description, not the connection" {
  nbdsh_script <<'EOF'
h = connect(full_info=True)
print(attempt(lambda: h.get_export_description()))
print(len(h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" panic=export_description \
      message="Zorglub overheated" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  panic_logged export_description
  no_crash
}

# A panic in Drop (the handle's close) cannot fail anything, but must
# not take nbdkit down either.
@test "a panic in a handle's Drop is logged and the next connection is served" {
  nbdsh_script <<'EOF'
h = connect()
print(len(h.pread(512, 0)))
h.shutdown()
print(wait_logged("close: panic"))
h = connect()
print(len(h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" panic=close times=1 \
      message="Zorglub overheated" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 512 ]
  [ "${lines[1]}" = True ]
  [ "${lines[2]}" = 512 ]
  panic_logged close
  no_crash
}

# Panics during configuration are fatal, like errors there: nbdkit
# exits 1 (not by a signal) and the client never runs.

@test "a panic in config makes nbdkit exit 1 with the message" {
  run serve_logged "$FAULTY" panic=config message="Zorglub overheated" \
      size=1M --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  panic_logged config
  no_crash
}

@test "a panic in config_complete makes nbdkit exit 1 with the message" {
  run serve_logged "$FAULTY" panic=config_complete \
      message="Zorglub overheated" --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  panic_logged config_complete
  no_crash
}

@test "a panic in thread_model makes nbdkit exit 1 with the message" {
  run serve_logged "$FAULTY" panic=thread_model \
      message="Zorglub overheated" --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  panic_logged thread_model
  no_crash
}

@test "a panic in get_ready makes nbdkit exit 1 with the message" {
  run serve_logged "$FAULTY" panic=get_ready \
      message="Zorglub overheated" --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  panic_logged get_ready
  no_crash
}

@test "a panic in after_fork makes nbdkit exit 1 with the message" {
  run serve_foreground "$FAULTY" panic=after_fork \
      message="Zorglub overheated"
  [ "$status" -eq 1 ]
  panic_logged after_fork
  no_crash
}

# cleanup and unload cannot fail: the panic is logged and nbdkit still
# exits with its client's status.

@test "a panic in cleanup is logged and nbdkit exits normally" {
  run serve_logged "$FAULTY" panic=cleanup message="Zorglub overheated" \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  panic_logged cleanup
  no_crash
}

@test "a panic in unload is logged and nbdkit exits normally" {
  run serve_logged "$FAULTY" panic=unload message="Zorglub overheated" \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  panic_logged unload
  no_crash
}

# With message= the panic payload is a String; without, a &'static str.
@test "a panic with a &'static str payload is logged with its text" {
  nbdsh_script <<'EOF'
h = connect()
print(attempt(lambda: h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" panic=pread --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = EIO ]
  logged 'error: .*pread.*faulty: injected panic'
  no_crash
}

@test "a panic message with non-ASCII text and % signs is logged verbatim" {
  nbdsh_script <<'EOF'
h = connect()
print(attempt(lambda: h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" panic=pread \
      message="Zorglub overheated at 451°F, 100%s %n" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = EIO ]
  logged 'error: .*Zorglub overheated at 451°F, 100%s %n'
  no_crash
}
