#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# pread's buffer: a C filter above a Rust plugin may pass memory it got
# straight from malloc, which nbdkit never zeroed (nbdkit's cow filter
# does, for a read that is not a whole number of its 64 KiB blocks).
# The SDK zeroes that buffer before read_at sees it, so safe code never
# sees uninitialised memory and a byte read_at leaves unwritten reads
# as zero; a plugin that lists read_at_uninit gets the buffer as it is
# and writes every byte itself.
#
# glibc's MALLOC_PERTURB_=85 makes malloc return memory filled with
# 0xaa, so garbage is sure to be there.  The plugins
# (tests/rust-plugins/src/buffers.rs) serve 64 blocks of 4 KiB: block N
# holds the byte N|1 when N is odd, zeroes when N is even.  holey's
# read_at writes only the odd blocks.

load helpers

HOLEY=$(rust_test_plugin holey)
HOLEY_UNINIT_LISTED=$(rust_test_plugin holey_uninit_listed)
FILLING=$(rust_test_plugin filling)

# Reads at offsets that are not multiples of cow's block size, across
# holes and data, and prints how many bytes differ from the disk's.
read_client () {
  nbdsh_script <<'EOF2'
def expected(offset, count):
    return bytes((((offset + i) // 4096) | 1) & 0xff
                 if ((offset + i) // 4096) % 2 else 0
                 for i in range(count))

h = connect()
bad = 0
for offset, count in [(512, 1000), (4096 + 100, 5000), (8192 + 7, 513),
                      (3 * 4096 + 1000, 20000), (40961, 100000),
                      (262144 - 3000, 3000)]:
    data = h.pread(count, offset)
    bad += sum(1 for a, b in zip(data, expected(offset, count)) if a != b)
print("differing bytes: %d" % bad)
EOF2
}

# serve_cow PLUGIN.so: the plugin under nbdkit's cow filter, with
# malloc'd memory full of 0xaa, and the read client.
serve_cow () {
  read_client
  MALLOC_PERTURB_=85 run serve_logged "$1" --filter=cow --run "$nbdsh_run"
}

@test "cow over a plugin's read_at: holes read as zeroes, not as cow's garbage" {
  serve_cow "$HOLEY"
  [ "$status" -eq 0 ]
  [ "$output" = "differing bytes: 0" ]
}

@test "cow over a plugin that lists read_at_uninit without it: the SDK's zeroes" {
  serve_cow "$HOLEY_UNINIT_LISTED"
  [ "$status" -eq 0 ]
  [ "$output" = "differing bytes: 0" ]
}

@test "cow over a plugin's read_at_uninit that writes every byte: correct data" {
  serve_cow "$FILLING"
  [ "$status" -eq 0 ]
  [ "$output" = "differing bytes: 0" ]
}

@test "without a filter the three plugins read the same disk" {
  local p
  read_client
  for p in "$HOLEY" "$HOLEY_UNINIT_LISTED" "$FILLING"; do
    MALLOC_PERTURB_=85 run serve_logged "$p" --run "$nbdsh_run"
    [ "$status" -eq 0 ]
    [ "$output" = "differing bytes: 0" ]
  done
}

@test "the ramdisk example (read_at_uninit) under cow reads back what was written" {
  nbdsh_script <<'EOF2'
h = connect()
h.pwrite(b"\x5a" * 3000, 70000)
print(h.pread(1000, 69000) == bytes(1000))
print(h.pread(3000, 70000) == b"\x5a" * 3000)
print(h.pread(5000, 73000) == bytes(5000))
print(h.pread(512, 200000) == bytes(512))
EOF2
  MALLOC_PERTURB_=85 run serve_logged "$RAMDISK" size=1M --filter=cow \
      --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'True\nTrue\nTrue\nTrue')" ]
}
