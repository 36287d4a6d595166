#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Errors returned by a Rust plugin: the errno reaches the client as
# nbdkit maps it to the NBD protocol, the message reaches nbdkit's log,
# and the failure has the effect it has for a C plugin: fatal during
# configuration, fatal to the connection during the handshake, fatal
# to nothing but the request afterwards.
#
# The plugin is faulty (tests/rust-plugins/examples/faulty.rs), a RAM
# disk told by fail=CALLBACK errno=... message=... times=N which
# callback to fail.

load helpers

# pread_errno ERRNO: serve faulty with pread failing with ERRNO; the
# client prints the errno name it received.
pread_errno () {
  nbdsh_script <<'EOF'
h = connect()
print(attempt(lambda: h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" fail=pread errno="$1" message="pread says $1" \
      --run "$nbdsh_run"
}

# nbdkit carries these errnos over the NBD protocol unchanged.

@test "pread failing with EPERM gives the client EPERM" {
  pread_errno EPERM
  [ "$status" -eq 0 ]
  [ "$output" = EPERM ]
}

@test "pread failing with EIO gives the client EIO" {
  pread_errno EIO
  [ "$status" -eq 0 ]
  [ "$output" = EIO ]
}

@test "pread failing with ENOMEM gives the client ENOMEM" {
  pread_errno ENOMEM
  [ "$status" -eq 0 ]
  [ "$output" = ENOMEM ]
}

@test "pread failing with EINVAL gives the client EINVAL" {
  pread_errno EINVAL
  [ "$status" -eq 0 ]
  [ "$output" = EINVAL ]
}

@test "pread failing with ENOSPC gives the client ENOSPC" {
  pread_errno ENOSPC
  [ "$status" -eq 0 ]
  [ "$output" = ENOSPC ]
}

@test "pread failing with ESHUTDOWN gives the client ESHUTDOWN" {
  pread_errno ESHUTDOWN
  [ "$status" -eq 0 ]
  [ "$output" = ESHUTDOWN ]
}

# The others arrive as nbdkit maps them (server/protocol.c, nbd_errno).

@test "pread failing with EROFS gives the client EPERM, as nbdkit maps it" {
  pread_errno EROFS
  [ "$status" -eq 0 ]
  [ "$output" = EPERM ]
}

@test "pread failing with EDQUOT gives the client ENOSPC, as nbdkit maps it" {
  pread_errno EDQUOT
  [ "$status" -eq 0 ]
  [ "$output" = ENOSPC ]
}

@test "pread failing with EFBIG gives the client ENOSPC, as nbdkit maps it" {
  pread_errno EFBIG
  [ "$status" -eq 0 ]
  [ "$output" = ENOSPC ]
}

@test "pread failing with EOVERFLOW gives EINVAL to a read without DF" {
  pread_errno EOVERFLOW
  [ "$status" -eq 0 ]
  [ "$output" = EINVAL ]
}

@test "pread failing with ENOTSUP gives EINVAL to a read" {
  pread_errno ENOTSUP
  [ "$status" -eq 0 ]
  [ "$output" = EINVAL ]
}

@test "pread failing with an errno NBD has no code for (ENOENT) gives EINVAL" {
  pread_errno ENOENT
  [ "$status" -eq 0 ]
  [ "$output" = EINVAL ]
}

@test "pread failing with errno given as a number (28) gives ENOSPC" {
  pread_errno 28
  [ "$status" -eq 0 ]
  [ "$output" = ENOSPC ]
}

@test "pread failing with errno 0 gives the client EIO" {
  pread_errno 0
  [ "$status" -eq 0 ]
  [ "$output" = EIO ]
}

@test "pread failing with EOVERFLOW gives EOVERFLOW to a read with DF" {
  nbdsh_script <<'EOF'
h = connect()
assert h.can_df(), "structured replies with DF were not negotiated"
print(attempt(lambda: h.pread_structured(512, 0, lambda *a: 0,
                                         nbd.CMD_FLAG_DF)))
EOF
  run serve_logged "$FAULTY" fail=pread errno=EOVERFLOW --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = EOVERFLOW ]
}

@test "zero failing with ENOTSUP gives ENOTSUP to a fast zero" {
  nbdsh_script <<'EOF'
h = connect()
assert h.can_fast_zero(), "fast zero not advertised"
print(attempt(lambda: h.zero(4096, 0, nbd.CMD_FLAG_FAST_ZERO)))
EOF
  run serve_logged "$FAULTY" fail=zero errno=ENOTSUP --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = ENOTSUP ]
}

@test "zero failing with ENOTSUP falls back to writing zeroes, as for a C plugin" {
  nbdsh_script <<'EOF'
h = connect()
h.pwrite(b"\xff" * 4096, 0)
print(attempt(lambda: h.zero(4096, 0)))
print(h.pread(4096, 0) == bytes(4096))
EOF
  run serve_logged "$FAULTY" fail=zero errno=ENOTSUP --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = ok ]
  [ "${lines[1]}" = True ]
}

# Every data callback: its errno reaches the client.

@test "pwrite failing with ENOSPC gives the client ENOSPC" {
  nbdsh_script <<'EOF'
h = connect()
print(attempt(lambda: h.pwrite(b"x" * 512, 0)))
EOF
  run serve_logged "$FAULTY" fail=pwrite errno=ENOSPC --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = ENOSPC ]
}

@test "flush failing with EIO gives the client EIO" {
  nbdsh_script <<'EOF'
h = connect()
print(attempt(lambda: h.flush()))
EOF
  run serve_logged "$FAULTY" fail=flush errno=EIO --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = EIO ]
}

@test "trim failing with EPERM gives the client EPERM" {
  nbdsh_script <<'EOF'
h = connect()
print(attempt(lambda: h.trim(4096, 0)))
EOF
  run serve_logged "$FAULTY" fail=trim errno=EPERM --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = EPERM ]
}

@test "zero failing with ENOMEM gives the client ENOMEM" {
  nbdsh_script <<'EOF'
h = connect()
print(attempt(lambda: h.zero(4096, 0)))
EOF
  run serve_logged "$FAULTY" fail=zero errno=ENOMEM --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = ENOMEM ]
}

@test "extents failing with ENOSPC gives the client's block status ENOSPC" {
  nbdsh_script <<'EOF'
h = connect(meta_context=nbd.CONTEXT_BASE_ALLOCATION)
print(attempt(lambda: h.block_status(4096, 0, lambda *a: 0)))
EOF
  run serve_logged "$FAULTY" fail=extents errno=ENOSPC --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = ENOSPC ]
}

@test "cache failing with ESHUTDOWN gives the client ESHUTDOWN" {
  nbdsh_script <<'EOF'
h = connect()
assert h.can_cache(), "cache not advertised"
print(attempt(lambda: h.cache(4096, 0)))
EOF
  run serve_logged "$FAULTY" fail=cache errno=ESHUTDOWN --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = ESHUTDOWN ]
}

# The message goes to nbdkit's log as an error.

@test "the message of a failing pread is logged as an nbdkit error" {
  pread_errno ENOSPC
  [ "$status" -eq 0 ]
  logged 'error: .*pread says ENOSPC'
}

@test "a message with non-ASCII text and % signs is logged verbatim" {
  nbdsh_script <<'EOF'
h = connect()
print(attempt(lambda: h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" fail=pread errno=EIO \
      message='échec à 100%s %d %n' --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = EIO ]
  logged 'error: .*échec à 100%s %d %n'
}

# A failing request fails only itself.

@test "after a failed pread the next pread on the connection is served" {
  nbdsh_script <<'EOF'
h = connect()
h.pwrite(b"\xa5" * 512, 0)
print(attempt(lambda: h.pread(512, 0)))
print(h.pread(512, 0) == b"\xa5" * 512)
EOF
  run serve_logged "$FAULTY" fail=pread errno=EIO times=1 --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = EIO ]
  [ "${lines[1]}" = True ]
}

@test "after a failed pwrite the data is unchanged and the next pwrite lands" {
  nbdsh_script <<'EOF'
h = connect()
print(attempt(lambda: h.pwrite(b"\x11" * 512, 0)))
print(h.pread(512, 0) == bytes(512))
h.pwrite(b"\x22" * 512, 0)
print(h.pread(512, 0) == b"\x22" * 512)
EOF
  run serve_logged "$FAULTY" fail=pwrite errno=ENOSPC times=1 \
      --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = ENOSPC ]
  [ "${lines[1]}" = True ]
  [ "${lines[2]}" = True ]
}

# Configuration errors are fatal: nbdkit exits 1 with the message.

@test "an error in config makes nbdkit exit 1 with the message" {
  run serve_logged "$FAULTY" fail=config errno=EINVAL \
      message='config refused this' size=1M --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'config refused this'
}

@test "an unknown parameter makes nbdkit exit 1 naming it" {
  run serve_logged "$FAULTY" no_such_key=1 --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'unknown parameter no_such_key'
}

@test "a parameter value that is not UTF-8 makes nbdkit exit 1" {
  run serve_logged "$FAULTY" size=$'\xff\xfe' --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'error: .*size.*UTF-8'
}

@test "an error in config_complete makes nbdkit exit 1 with the message" {
  run serve_logged "$FAULTY" fail=config_complete \
      message='config_complete refused this' --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'config_complete refused this'
}

@test "an error in thread_model makes nbdkit exit 1 with the message" {
  run serve_logged "$FAULTY" fail=thread_model \
      message='thread_model refused this' --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'thread_model refused this'
}

@test "an error in get_ready makes nbdkit exit 1 with the message" {
  run serve_logged "$FAULTY" fail=get_ready \
      message='get_ready refused this' --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'get_ready refused this'
}

# nbdkit calls after_fork once it is serving (see serve_foreground).
@test "an error in after_fork makes nbdkit exit 1 with the message" {
  run serve_foreground "$FAULTY" fail=after_fork \
      message='after_fork refused this'
  [ "$status" -eq 1 ]
  logged 'after_fork refused this'
}

# Handshake errors fail the connection, and only that one.

# handshake_error CALLBACK: faulty fails CALLBACK once; the first
# client's connection fails, the second reads the disk.
handshake_error () {
  nbdsh_script <<'EOF'
print(attempt(lambda: connect()))
h = connect()
print(len(h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" fail="$1" errno=EPERM times=1 \
      message="$1 refused this connection" --run "$nbdsh_run"
}

@test "an error in preconnect fails that connection, the next is served" {
  handshake_error preconnect
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'preconnect refused this connection'
}

@test "an error in open fails that connection, the next is served" {
  handshake_error open
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*open refused this connection'
}

@test "an error in get_size fails that connection, the next is served" {
  handshake_error get_size
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*get_size refused this connection'
}

@test "an error in can_write fails that connection, the next is served" {
  handshake_error can_write
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*can_write refused this connection'
}

@test "an error in can_multi_conn fails that connection, the next is served" {
  handshake_error can_multi_conn
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*can_multi_conn refused this connection'
}

@test "an error in can_flush fails that connection, the next is served" {
  handshake_error can_flush
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*can_flush refused this connection'
}

@test "an error in is_rotational fails that connection, the next is served" {
  handshake_error is_rotational
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*is_rotational refused this connection'
}

@test "an error in can_trim fails that connection, the next is served" {
  handshake_error can_trim
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*can_trim refused this connection'
}

@test "an error in can_zero fails that connection, the next is served" {
  handshake_error can_zero
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*can_zero refused this connection'
}

@test "an error in can_fast_zero fails that connection, the next is served" {
  handshake_error can_fast_zero
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*can_fast_zero refused this connection'
}

@test "an error in can_fua fails that connection, the next is served" {
  handshake_error can_fua
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*can_fua refused this connection'
}

@test "an error in can_extents fails that connection, the next is served" {
  handshake_error can_extents
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*can_extents refused this connection'
}

@test "an error in can_cache fails that connection, the next is served" {
  handshake_error can_cache
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*can_cache refused this connection'
}

@test "an error in block_size fails that connection, the next is served" {
  handshake_error block_size
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*block_size refused this connection'
}

@test "an error in default_export fails that connection, the next is served" {
  handshake_error default_export
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*default_export refused this connection'
}

# Errors in what only describes the export fail only that description.

@test "an error in list_exports fails the listing, not the connection" {
  nbdsh_script <<'EOF'
h = connect(opt_mode=True)
names = []
print(attempt(lambda: h.opt_list(lambda n, d: names.append(n) or 0)))
h.opt_go()
print(len(h.pread(512, 0)))
EOF
  run serve_logged "$FAULTY" fail=list_exports errno=EPERM \
      message='list_exports refused this' --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" != ok ]
  [ "${lines[1]}" = 512 ]
  logged 'error: .*list_exports refused this'
}

@test "list_exports lists the export when it does not fail" {
  nbdsh_script <<'EOF'
h = connect(opt_mode=True)
exports = []
print(attempt(lambda: h.opt_list(lambda n, d: exports.append((n, d)) or 0)))
print(exports)
EOF
  run serve_logged "$FAULTY" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = ok ]
  [ "${lines[1]}" = "[('', 'faulty disk')]" ]
}

@test "an error in export_description loses the description, not the connection" {
  nbdsh_script <<'EOF'
def description():
    h = connect(full_info=True)
    try:
        return h.get_export_description()
    except nbd.Error as e:
        return "none"
    finally:
        h.pread(512, 0)
print(description())
print(description())
EOF
  run serve_logged "$FAULTY" fail=export_description times=1 \
      message='export_description refused this' --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = none ]
  [ "${lines[1]}" = "faulty disk" ]
  logged 'error: .*export_description refused this'
}
