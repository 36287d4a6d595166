#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# The examples, served as a user would serve them, through the loader or
# loaded directly by nbdkit (RUST_VIA, see rust_server in helpers.bash):
# ramdisk (examples/ramdisk, size=SIZE, a sparse RAM disk shared by all
# connections) and filedisk (examples/filedisk, file=PATH, a file opened
# by each connection).

load helpers

# --- ramdisk ---

@test "ramdisk size=1G: the client sees 1 GiB" {
  run serve_logged "$RAMDISK" size=1G --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1073741824 ]
}

@test "ramdisk: the size can be given bare, as the plugin's magic key" {
  run serve_logged "$RAMDISK" 3M --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 3145728 ]
}

@test "ramdisk: data written reads back, and the rest reads as zeroes" {
  nbdsh_script <<'EOF'
h = connect()
data = os.urandom(100000)
h.pwrite(data, 12345)
print(h.pread(100000, 12345) == data)
print(h.pread(12345, 0) == bytes(12345))
print(h.pread(4096, (1 << 30) - 4096) == bytes(4096))
EOF
  run serve_logged "$RAMDISK" size=1G --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = True ]
  [ "${lines[1]}" = True ]
  [ "${lines[2]}" = True ]
}

@test "ramdisk: the last byte of a 64 GiB disk is writable (the disk is sparse)" {
  # A disk that allocated its size up front could not be made this
  # large on a machine this size.
  nbdsh_script <<'EOF'
h = connect()
end = h.get_size()
h.pwrite(b"\x77", end - 1)
print(end, h.pread(2, end - 2).hex())
EOF
  run serve_logged "$RAMDISK" size=64G --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = "68719476736 0077" ]
}

@test "ramdisk: nbdcopy copies 16 MiB of random data in and back out unchanged" {
  dd if=/dev/urandom of="$BATS_TEST_TMPDIR/in" bs=1M count=16 status=none
  run serve_logged "$RAMDISK" size=16M \
      --run "nbdcopy '$BATS_TEST_TMPDIR/in' \"\$uri\" &&
             nbdcopy \"\$uri\" '$BATS_TEST_TMPDIR/out'"
  [ "$status" -eq 0 ]
  cmp "$BATS_TEST_TMPDIR/in" "$BATS_TEST_TMPDIR/out"
}

@test "ramdisk: trimmed and zeroed ranges read back as zeroes" {
  nbdsh_script <<'EOF'
h = connect()
h.pwrite(b"\xaa" * (1 << 20), 0)
h.trim(65536, 0)            # a whole page
h.trim(1000, 200000)        # part of a page
h.zero(65536, 131072)
h.zero(3000, 300000, nbd.CMD_FLAG_NO_HOLE)
for count, offset in [(65536, 0), (1000, 200000), (65536, 131072),
                      (3000, 300000)]:
    print(h.pread(count, offset) == bytes(count))
print(h.pread(65536, 65536) == b"\xaa" * 65536)
EOF
  run serve_logged "$RAMDISK" size=1M --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'True\nTrue\nTrue\nTrue\nTrue')" ]
}

@test "ramdisk: block status shows a hole, then data where it was written" {
  nbdsh_script <<'EOF'
STATES = {0: "data", 3: "hole"}
def extents(h):
    seen = []
    def cb(context, offset, entries, err):
        for i in range(0, len(entries), 2):
            seen.append("%d:%s" % (entries[i], STATES.get(entries[i + 1],
                                                         entries[i + 1])))
    h.block_status(h.get_size(), 0, cb)
    return " ".join(seen)
h = connect(meta_context=nbd.CONTEXT_BASE_ALLOCATION)
print(extents(h))
h.pwrite(b"\x01" * 65536, 1 << 20)
print(extents(h))
h.trim(65536, 1 << 20)
print(extents(h))
EOF
  run serve_logged "$RAMDISK" size=4M --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "4194304:hole" ]
  [ "${lines[1]}" = "1048576:hole 65536:data 3080192:hole" ]
  [ "${lines[2]}" = "4194304:hole" ]
}

@test "ramdisk advertises multi-conn, and connections share the disk" {
  nbdsh_script <<'EOF'
h1 = connect()
h2 = connect()
print(h1.can_multi_conn())
h1.pwrite(b"shared", 4096)
h1.flush()
print(h2.pread(6, 4096).decode())
EOF
  run serve_logged "$RAMDISK" size=1M --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = True ]
  [ "${lines[1]}" = shared ]
}

@test "ramdisk without size makes nbdkit exit 1 naming size" {
  run serve_logged "$RAMDISK" --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'error: .*size'
}

@test "ramdisk with an unparsable size makes nbdkit exit 1 naming it" {
  run serve_logged "$RAMDISK" size=lots --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'error: .*lots'
}

# --- filedisk ---

# A 1 MiB file of a known pattern.
make_disk () {
  disk=$BATS_TEST_TMPDIR/disk.img
  yes filedisk | head -c 1048576 >"$disk"
}

@test "filedisk file=PATH: the client sees the file's size and contents" {
  make_disk
  run serve_logged "$FILEDISK" file="$disk" \
      --run 'nbdsh -u "$uri" -c "print(h.get_size())" \
                             -c "print(h.pread(18, 0).decode().split())"'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1048576 ]
  [ "${lines[1]}" = "['filedisk', 'filedisk']" ]
}

@test "filedisk: a bare PATH after the plugin goes to the file key" {
  # nbdkit LOADER rust=PLUGIN PATH, or nbdkit PLUGIN PATH directly.
  make_disk
  rust_server "$FILEDISK"
  run timeout 60 nbdkit -U - "${server[@]}" "$disk" \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

@test "filedisk: nbdkit LOADER PLUGIN PATH (both bare) serves the file" {
  [ "$RUST_VIA" = loader ] || skip "the loader's syntax"
  make_disk
  run timeout 60 nbdkit -U - "$LOADER" "$FILEDISK" "$disk" \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

@test "filedisk: data written through NBD is in the file" {
  make_disk
  nbdsh_script <<'EOF'
h = connect()
h.pwrite(b"written through nbd", 500000)
h.flush()
EOF
  run serve_logged "$FILEDISK" file="$disk" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$(dd if="$disk" bs=1 skip=500000 count=19 status=none)" = \
    "written through nbd" ]
  [ "$(stat -c %s "$disk")" -eq 1048576 ]
}

@test "filedisk: a relative file= path is served (made absolute)" {
  make_disk
  cd "$BATS_TEST_TMPDIR"
  run serve_logged "$FILEDISK" file=disk.img --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

@test "filedisk -r: the export is read-only and the client refuses writes" {
  make_disk
  nbdsh_script <<'EOF'
h = connect()
print(h.is_read_only())
print(attempt(lambda: h.pwrite(b"x" * 512, 0)))
EOF
  run serve_logged "$FILEDISK" -r file="$disk" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = True ]
  [ "${lines[1]}" = EPERM ]
}

@test "filedisk -r: a write sent anyway fails with EPERM and the file is unchanged" {
  # Only STRICT_COMMANDS is lifted, and only a plain write is sent, so
  # the request reaches nbdkit (strict mode guards FAST_ZERO, not sent).
  make_disk
  cp "$disk" "$BATS_TEST_TMPDIR/before"
  nbdsh_script <<'EOF'
h = connect()
h.set_strict_mode(h.get_strict_mode() & ~nbd.STRICT_COMMANDS)
print(attempt(lambda: h.pwrite(b"x" * 512, 0)))
EOF
  run serve_logged "$FILEDISK" -r file="$disk" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = EPERM ]
  cmp "$disk" "$BATS_TEST_TMPDIR/before"
}

@test "filedisk with a missing file makes nbdkit exit 1 naming it" {
  run serve_logged "$FILEDISK" file="$BATS_TEST_TMPDIR/no-such.img" \
      --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'error: .*no-such\.img'
}

@test "filedisk without file makes nbdkit exit 1 naming file" {
  run serve_logged "$FILEDISK" --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'error: .*file'
}
