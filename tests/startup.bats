#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# A plugin that cannot start: a panic in load or dump_plugin, which
# nbdkit's own callbacks cannot report (they return void), makes nbdkit
# exit with status 1 after logging the panic, as it does for a C plugin
# that cannot start.  Loaded directly, the SDK's wrappers exit; through
# the loader (ABI 1.1), the loader does, on load_checked's and
# dump_plugin_checked's -1.
#
# The plugin is faulty (tests/rust-plugins/examples/faulty.rs):
# FAULTY_PANIC_IN_LOAD in the environment makes load panic, and
# panic=dump_plugin makes dump_plugin panic after printing nothing.

load helpers

# no_crash: nbdkit exited, no signal or abort.
no_crash () {
  if grep -E 'cannot unwind|Aborted|core dumped|Segmentation fault|fatal runtime error' \
      "$(nbdkit_log)"; then
    cat "$(nbdkit_log)" >&2
    return 1
  fi
}

@test "a panic in load makes nbdkit exit 1 with the panic message" {
  FAULTY_PANIC_IN_LOAD=1 run serve_logged "$FAULTY" --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'error: .*load: panic: faulty: injected panic'
  no_crash
}

@test "a panic in load with --dump-plugin makes nbdkit exit 1 too" {
  FAULTY_PANIC_IN_LOAD=1 run serve_logged "$FAULTY" --dump-plugin
  [ "$status" -eq 1 ]
  logged 'error: .*load: panic: faulty: injected panic'
  no_crash
}

@test "a panic in dump_plugin makes --dump-plugin exit 1 with the panic message, after the lines printed" {
  run serve_logged "$FAULTY" panic=dump_plugin message=Zorglub-overheated \
      --dump-plugin
  [ "$status" -eq 1 ]
  # What was printed before the panic is there: nbdkit's lines and the
  # SDK's (or the loader's).
  [[ "$output" == *"rust_plugin_name=faulty"* ]]
  [[ "$output" == *"rust_plugin_callbacks="* ]]
  [[ "$output" != *"faulty_callbacks="* ]]
  logged 'error: .*dump_plugin: panic: Zorglub-overheated'
  no_crash
}

@test "load and dump_plugin that do not panic change nothing" {
  run serve_logged "$FAULTY" --dump-plugin
  [ "$status" -eq 0 ]
  [[ "$output" == *"faulty_callbacks="* ]]
  run serve_logged "$FAULTY" --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}
