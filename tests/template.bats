#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# The plugin template: copied and built as examples/template/README.md
# says, it passes its tests and serves on the first try.

load helpers

# myplugin DIR: follows the README's recipe (its ```sh block), with DIR
# for ~/myplugin and without the last step (serving with the installed
# loader, which may not be this build's): copy, rename, point at the
# SDK, cargo test, cargo build --release.
myplugin () {
  local dir=$1 recipe
  recipe=$(sed -n '/^```sh$/,/^```$/p' "$top/examples/template/README.md" |
           sed '1d;$d' | grep -v '^nbdkit ')
  recipe=${recipe//\~\/myplugin/$dir}
  echo "$recipe"
  (cd "$top" && unset CARGO_TARGET_DIR && timeout 900 bash -ex -c "$recipe")
}

setup_file () {
  export MYPLUGIN_DIR=$BATS_FILE_TMPDIR/myplugin
  myplugin "$MYPLUGIN_DIR" >"$BATS_FILE_TMPDIR/recipe.log" 2>&1 ||
    { cat "$BATS_FILE_TMPDIR/recipe.log"; return 1; }
}

@test "the recipe renames the plugin and builds it with its tests" {
  grep -q 'test result: ok. 2 passed' "$BATS_FILE_TMPDIR/recipe.log"
  [ -f "$MYPLUGIN_DIR/target/release/libmyplugin.so" ]
  grep -q '"myplugin"' "$MYPLUGIN_DIR/src/lib.rs"
  # Nothing is called template any more, in any case (struct Template).
  run grep -ci template "$MYPLUGIN_DIR/src/lib.rs" "$MYPLUGIN_DIR/Cargo.toml"
  [ "$output" = "$MYPLUGIN_DIR/src/lib.rs:0
$MYPLUGIN_DIR/Cargo.toml:0" ]
  grep -q 'struct MyPlugin;' "$MYPLUGIN_DIR/src/lib.rs"
  # Debian's cargo can build it too (tests/msrv.bats).
  grep -qx 'rust-version = "1.63"' "$MYPLUGIN_DIR/Cargo.toml"
}

@test "the new plugin serves through the loader: writes read back" {
  run timeout 60 nbdkit -U - "$LOADER" \
      rust="$MYPLUGIN_DIR/target/release/libmyplugin.so" size=1M \
      --run 'nbdsh -u "$uri" -c "h.pwrite(b\"first try\", 512); print(h.get_size(), h.pread(9, 512).decode())"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "1048576 first try" ]
}

@test "the new plugin says what it takes, and refuses to start without it" {
  run timeout 60 nbdkit "$LOADER" rust="$MYPLUGIN_DIR/target/release/libmyplugin.so" --dump-plugin
  [ "$status" -eq 0 ]
  [[ "$output" == *"rust_plugin_name=myplugin"* ]]
  [[ "$output" == *"rust_plugin_config_help=size=<SIZE>"* ]]
  run timeout 60 nbdkit -U - "$LOADER" rust="$MYPLUGIN_DIR/target/release/libmyplugin.so" --run true
  [ "$status" -ne 0 ]
  [[ "$output" == *"myplugin: size=SIZE is required"* ]]
}

@test "nbdkit loads the new plugin directly too" {
  lib=$MYPLUGIN_DIR/target/release/libmyplugin.so
  if ! nm -D --defined-only "$lib" | grep -qw plugin_init; then
    skip "this SDK's plugin! defines no plugin_init (no direct loading)"
  fi
  run timeout 60 nbdkit -U - "$lib" size=2M --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 2097152 ]
}
