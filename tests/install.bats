#!/usr/bin/env bats
# After `cmake --install`, nbdkit finds the loader by its short name.

load helpers

setup () {
  installed=$NBDKIT_PLUGINDIR/nbdkit-rust-plugin.so
  if [ ! -f "$installed" ] || ! cmp -s "$installed" "$LOADER"; then
    skip "this build's loader is not installed in $NBDKIT_PLUGINDIR (run cmake --install)"
  fi
}

@test "nbdkit rust rust=PATH serves through the installed loader" {
  run timeout 60 nbdkit -U - rust rust="$RAMDISK" size=1M \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

@test "nbdkit rust PATH (magic key) serves through the installed loader" {
  run timeout 60 nbdkit -U - rust "$RAMDISK" size=2M \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 2097152 ]
}
