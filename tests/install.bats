#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# After `cmake --install`, nbdkit finds the loader by its short name,
# and the loader the installed examples by theirs.

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

@test "nbdkit --filter=rust finds the installed filter loader" {
  installed_filter=$(pkg-config --variable=filterdir nbdkit)/nbdkit-rust-filter.so
  if [ ! -f "$installed_filter" ] || ! cmp -s "$installed_filter" "$FILTER_LOADER"; then
    skip "this build's filter loader is not installed in $(dirname "$installed_filter") (run cmake --install)"
  fi
  run timeout 60 nbdkit -U - --filter=rust memory 1M \
      rust-filter="$ABI_PLUGINS/abi-filter-good.so" add=7 \
      --run 'nbdsh -u "$uri" -c "print(list(h.pread(2, 0)))"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "[7, 7]" ]
}

@test "nbdkit rust ramdisk serves the example cmake --install put in the Rust plugin directory" {
  plugindir=$(dirname "$NBDKIT_PLUGINDIR")/rust-plugins
  if ! cmp -s "$plugindir/libramdisk.so" "$RAMDISK"; then
    skip "this build's examples are not installed in $plugindir (run cmake --install)"
  fi
  run timeout 60 nbdkit -U - rust ramdisk size=1M --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}
