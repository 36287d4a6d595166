#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Drop-on-close: the Server object open returned is dropped exactly
# once, when nbdkit closes the handle, however the client leaves.
#
# The plugin is dropcount (tests/rust-plugins/examples/dropcount.rs):
# open logs "dropcount: open N" and Drop logs "dropcount: drop N", N
# numbering the handles from 1 (nbdkit -v shows the debug messages).
#
# nbdkit closes a connection's handle after the client has gone, and
# nbdkit 1.32 skips close altogether for a connection still finishing
# when the server quits (server/connections.c, free_connection: "Don't
# call the plugin again if quit has been set"), as it does for C
# plugins.  So each client waits, before it exits and nbdkit quits,
# until the drops it expects are in the log (at most 30 s; if they
# never come, the assertions fail).

load helpers

# opens_and_drops: every handle opened was dropped exactly once, and
# nothing else was dropped.  Prints the number of handles.
opens_and_drops () {
  local opened dropped
  opened=$(grep -oE 'dropcount: open [0-9]+' "$(nbdkit_log)" |
             grep -oE '[0-9]+$' | sort -n)
  dropped=$(grep -oE 'dropcount: drop [0-9]+' "$(nbdkit_log)" |
              grep -oE '[0-9]+$' | sort -n)
  if [ "$opened" != "$dropped" ]; then
    echo "opened: $opened" >&2
    echo "dropped: $dropped" >&2
    return 1
  fi
  echo "$opened" | grep -c .
}

# The Python client of most tests: N connections, made one after the
# other (or all open at once), each reading, then closed.
connections_client () {
  nbdsh_script <<EOF
n = $1
if "$2" == "at once":
    hs = [connect() for _ in range(n)]
    print(sum(len(x.pread(512, 0)) for x in hs))
    for x in hs:
        x.shutdown()
else:
    total = 0
    for _ in range(n):
        x = connect()
        total += len(x.pread(512, 0))
        x.shutdown()
    print(total)
wait_logged(r"dropcount: drop [0-9]+$", n)
EOF
}

@test "one connection: one open, one drop" {
  connections_client 1 "one after another"
  run serve_logged "$DROPCOUNT" -v --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 512 ]
  [ "$(logged_count 'dropcount: open 1$')" -eq 1 ]
  [ "$(logged_count 'dropcount: drop 1$')" -eq 1 ]
  [ "$(opens_and_drops)" -eq 1 ]
}

@test "five connections one after another: five opens, five drops" {
  connections_client 5 "one after another"
  run serve_logged "$DROPCOUNT" -v --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 2560 ]
  [ "$(logged_count 'dropcount: open [0-9]+$')" -eq 5 ]
  [ "$(logged_count 'dropcount: drop [0-9]+$')" -eq 5 ]
  [ "$(opens_and_drops)" -eq 5 ]
}

@test "five connections open at once: five opens, five drops" {
  connections_client 5 "at once"
  run serve_logged "$DROPCOUNT" -v --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 2560 ]
  [ "$(logged_count 'dropcount: open [0-9]+$')" -eq 5 ]
  [ "$(logged_count 'dropcount: drop [0-9]+$')" -eq 5 ]
  [ "$(opens_and_drops)" -eq 5 ]
}

@test "five separate client processes: five opens, five drops" {
  run serve_logged "$DROPCOUNT" -v \
      --run "for i in 1 2 3 4 5; do
               nbdsh -u \"\$uri\" -c 'h.pread(512, 0)' || exit 1
             done && $(until_logged 5 'dropcount: drop [0-9]+$')"
  [ "$status" -eq 0 ]
  [ "$(logged_count 'dropcount: open [0-9]+$')" -eq 5 ]
  [ "$(logged_count 'dropcount: drop [0-9]+$')" -eq 5 ]
  [ "$(opens_and_drops)" -eq 5 ]
}

@test "a handle is dropped when its connection closes, while nbdkit serves on" {
  # The second connection opens only once the first handle's drop is
  # logged, and stays open: the drop cannot be nbdkit's exit.
  nbdsh_script <<'EOF'
h = connect()
h.pread(512, 0)
h.shutdown()
print("first dropped: %s" % wait_logged(r"dropcount: drop 1$"))
h = connect()
print(len(h.pread(512, 0)))
h.shutdown()
wait_logged(r"dropcount: drop 2$")
EOF
  run serve_logged "$DROPCOUNT" -v --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "first dropped: True" ]
  [ "${lines[1]}" = 512 ]
  order=$(grep -oE 'dropcount: (open|drop) [0-9]+' "$(nbdkit_log)" |
            tr '\n' ,)
  [ "$order" = "dropcount: open 1,dropcount: drop 1,dropcount: open 2,dropcount: drop 2," ]
}

@test "nbdinfo's info-then-go opens two handles on one connection, both dropped" {
  run serve_logged "$DROPCOUNT" -v \
      --run "nbdinfo \"\$uri\" >/dev/null &&
             $(until_logged 2 'dropcount: drop [0-9]+$')"
  [ "$status" -eq 0 ]
  [ "$(opens_and_drops)" -eq 2 ]
}

@test "a client killed mid-connection still gets its handle dropped" {
  # The first client dies by SIGKILL: no NBD disconnect, just a closed
  # socket.  The second shows the server carried on.  No request is in
  # flight when it dies: nbdkit 1.32.5 itself can abort then (assertion
  # "sock >= 0" in raw_send_socket, connections.c:402, when a reply
  # races the closing socket; seen with its own memory plugin too).
  nbdsh_script <<'EOF'
h = connect()
h.pread(512, 0)
os.kill(os.getpid(), signal.SIGKILL)
EOF
  run serve_logged "$DROPCOUNT" -v \
      --run "$nbdsh_run; echo killed=\$?;
             nbdsh -u \"\$uri\" -c 'print(len(h.pread(512, 0)))' &&
             $(until_logged 2 'dropcount: drop [0-9]+$')"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = killed=137 ]
  [ "${lines[1]}" = 512 ]
  [ "$(logged_count 'dropcount: drop 1$')" -eq 1 ]
  [ "$(logged_count 'dropcount: drop 2$')" -eq 1 ]
  [ "$(opens_and_drops)" -eq 2 ]
}

@test "a client that leaves during option negotiation opens nothing" {
  # In opt mode the client never selects an export: nbdkit has no
  # handle to open, so there must be no open and no drop for it.
  nbdsh_script <<'EOF'
h = connect(opt_mode=True)
h.opt_abort()
h = connect()
print(len(h.pread(512, 0)))
h.shutdown()
wait_logged(r"dropcount: drop [0-9]+$")
EOF
  run serve_logged "$DROPCOUNT" -v --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = 512 ]
  [ "$(opens_and_drops)" -eq 1 ]
}

@test "filedisk logs its closing line once per connection" {
  disk=$BATS_TEST_TMPDIR/disk.img
  truncate -s 1M "$disk"
  nbdsh_script <<'EOF'
for _ in range(3):
    x = connect()
    x.pread(512, 0)
    x.shutdown()
wait_logged(r"filedisk: closing ", 3)
EOF
  run serve_logged "$FILEDISK" -v file="$disk" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$(logged_count "filedisk: closing $disk\$")" -eq 3 ]
}
