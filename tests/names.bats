#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Plugins and filters by name (loader/names.c): rust=NAME, a value with
# no '/' and no '.', loads RUST_PLUGINDIR/libNAME.so, rust-filter=NAME
# RUST_FILTERDIR/libNAME.so.  The directories are compiled into the
# loaders, so the tests that load by name install example builds there
# under names of their own (root only) and remove them again.

load helpers

: "${BUILD_DIR:=$top/build}"

# The directories, as the build tree's nbdkit-rust.pc says.
pc_variable () {
  PKG_CONFIG_PATH=$BUILD_DIR/pkgconfig pkg-config --variable="$1" nbdkit-rust-uninstalled
}

setup () {
  plugindir=$(pc_variable rustplugindir)
  filterdir=$(pc_variable rustfilterdir)
  [ -n "$plugindir" ] && [ -n "$filterdir" ]
  # Names no package installs, and no other run of this suite uses.
  name=nbdkit_rust_names_test_$$_${BATS_TEST_NUMBER}
  installed=()
  created=()
}

# install_as DIR FILE NAME: FILE as DIR/libNAME.so, for this test only.
install_as () {
  [ "$(id -u)" = 0 ] || skip "installing into $1 needs root"
  if [ ! -d "$1" ]; then
    mkdir -p "$1"
    created+=("$1")
  fi
  cp "$2" "$1/lib$3.so"
  installed+=("$1/lib$3.so")
}

teardown () {
  local f d
  for f in "${installed[@]}"; do rm -f "$f"; done
  # Only a directory this test made, and only if nothing else is there.
  for d in "${created[@]}"; do rmdir "$d" 2>/dev/null || true; done
}

@test "nbdkit-rust.pc names the directories beside nbdkit's own" {
  libdir=$(dirname "$NBDKIT_PLUGINDIR")
  [ "$plugindir" = "$libdir/rust-plugins" ]
  [ "$filterdir" = "$libdir/rust-filters" ]
}

@test "--help says where rust=NAME and rust-filter=NAME look" {
  run nbdkit "$LOADER" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"rust=NAME"*"$plugindir/libNAME.so"* ]]
  run nbdkit --filter="$FILTER_LOADER" memory --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"$filterdir/libNAME.so"* ]]
}

@test "nbdkit rust NAME serves the installed plugin" {
  install_as "$plugindir" "$RAMDISK" "$name"
  run timeout 60 nbdkit -U - "$LOADER" "$name" size=1M \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  # rust=NAME is the same, and --dump-plugin shows the file loaded.
  run nbdkit "$LOADER" rust="$name" --dump-plugin
  [ "$status" -eq 0 ]
  grep -qx "rust_plugin_path=$plugindir/lib$name.so" <<<"$output"
}

@test "rust-filter=NAME loads the installed filter" {
  install_as "$filterdir" "$RUST_OUT/libfilter_offset.so" "$name"
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$name" offset=512 --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048064 ]
}

@test "a name not installed: exit 1, naming it, the file looked for and the names installed" {
  install_as "$plugindir" "$RAMDISK" "$name"
  run timeout 60 nbdkit -U - "$LOADER" "${name}_missing" --run true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"${name}_missing: no Rust plugin of that name is installed"* ]]
  [[ "$output" == *"(no $plugindir/lib${name}_missing.so)"* ]]
  [[ "$output" == *"installed: "*"$name"* ]]
}

@test "a filter name not installed: exit 1, naming it and the file looked for" {
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="${name}_missing" --run true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"${name}_missing: no Rust filter of that name is installed"* ]]
  [[ "$output" == *"(no $filterdir/lib${name}_missing.so)"* ]]
}

@test "with nothing installed, the message says so" {
  if [ -n "$(ls "$plugindir"/lib*.so 2>/dev/null)" ]; then
    skip "Rust plugins are installed in $plugindir"
  fi
  run timeout 60 nbdkit -U - "$LOADER" "$name" --run true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"none is installed in $plugindir"* ]]
}

@test "a value with '.' or '/' is a path, even when the name is installed" {
  install_as "$plugindir" "$RAMDISK" "$name"
  cd "$BATS_TEST_TMPDIR"
  # A file in the current directory, not the installed plugin.
  cp "$RUST_OUT/libfilter_passthrough.so" "lib$name.so"
  run timeout 60 nbdkit -U - "$LOADER" "./lib$name.so" --run true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"./lib$name.so"* ]]
  # And a name is never a file in the current directory.
  printf 'not a plugin' > "$name"
  run timeout 60 nbdkit -U - "$LOADER" "$name" size=1M \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  # A relative path with a '.' in it loads from the current directory.
  cp "$RAMDISK" "$BATS_TEST_TMPDIR/ramdisk.so"
  run timeout 60 nbdkit -U - "$LOADER" ramdisk.so size=2M \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 2097152 ]
}
