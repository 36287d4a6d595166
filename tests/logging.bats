#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Each failure is logged once.  nbdkit's own services log why they
# failed (nbdkit_parse_size and the other parsers, nbdkit_read_password,
# nbdkit_realpath, ...); a plugin that returns such an error as it is
# (`parse_size(value)?`) must not have the SDK log it a second time.

load helpers

@test "ramdisk size=bogus: one error line about it, and nbdkit exits 1" {
  run serve_logged "$RAMDISK" size=bogus --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  cat "$(nbdkit_log)"
  [ "$(grep -c bogus "$(nbdkit_log)")" -eq 1 ]
  logged 'error: could not parse size string \(bogus\)$'
}

@test "an error of the plugin's own is still logged, once" {
  run serve_logged "$RAMDISK" size=2T --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$(grep -c 'size=2T is out of range' "$(nbdkit_log)")" -eq 1 ]
}
