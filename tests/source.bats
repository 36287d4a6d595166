#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Plugins from source: `nbdkit rust ./disk.rs`.  The loader decides by
# what rust=PATH is: a .rs file is compiled with rustc against the SDK,
# one with a `//! ```cargo` block and a crate directory are built with
# cargo, and the build is served as a built library would be.  Here:
# what is served, the #! line, the crate directory, the cargo block,
# compile errors, the keys that choose the profile and the compiler,
# paths that are refused, --dump-plugin.  The cache has its own suite
# (source-cache.bats), and so has rust-reload (source-reload.bats).

load helpers
load source-helpers

# disk.rs's build is in the warm cache: the tests that serve a copy
# of it unchanged do not compile it.
setup_file () { source_setup_file "$DISK_RS"; }
setup () { source_setup; }

# ---- A single file.

@test "a .rs file is compiled and served: nbdkit rust ./disk.rs size=1M" {
  # Not the warm cache's disk.rs: this one is compiled.
  { cat "$DISK_RS"; echo '// a copy'; } > "$BATS_TEST_TMPDIR/disk.rs"
  cd "$BATS_TEST_TMPDIR"
  nbdsh_script <<'EOF'
c = connect(meta_context="base:allocation")
assert c.get_size() == 1 << 20
assert c.can_trim() and c.can_zero() and c.can_multi_conn()
c.pwrite(b"x" * 100, 65500)                     # across two pages
assert c.pread(100, 65500) == b"x" * 100
assert c.pread(4096, 0) == bytes(4096)
# Block status: the two written pages are data, the rest holes.
seen = []
c.block_status(1 << 20, 0, lambda meta, off, e, err: seen.extend(e))
assert seen[0:2] == [131072, 0] and seen[2:4] == [1048576 - 131072, 3], seen
c.trim(131072, 0)
assert c.pread(100, 65500) == bytes(100)
c.shutdown()
print("ok")
EOF
  # The bare form: the path is the loader's magic key.
  run serve_source ./disk.rs size=1M --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  [ "$(compiles_logged)" -eq 1 ]
  [ "$(cached_libs | wc -l)" -eq 1 ]
}

@test "rust=PATH, and a second bare word goes to the plugin's magic key" {
  cp "$DISK_RS" "$BATS_TEST_TMPDIR/disk.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/disk.rs" 2M \
      --run 'nbdinfo --size "$uri"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = 2097152 ]
  # The plugin's own errors are the plugin's, as for a built library.
  run serve_source rust="$BATS_TEST_TMPDIR/disk.rs" colour=blue --run true
  [ "$status" -eq 1 ]
  logged "disk.rs: unknown parameter 'colour'"
}

@test "the example scripts start with #!/usr/bin/nbdkit rust and are executable" {
  for f in "$DISK_RS" "$COUNTER_RS"; do
    [ "$(head -1 "$f")" = '#!/usr/bin/nbdkit rust' ]
    [ -x "$f" ]
  done
  grep -q '/usr/sbin/nbdkit' "$DISK_RS"     # Fedora's, in a comment
}

@test "the example scripts are rustfmt-clean, and disk.rs clippy-clean against the loader's SDK build" {
  rustfmt=$(dirname "$CARGO")/rustfmt
  clippy=$(dirname "$CARGO")/clippy-driver
  [ -x "$rustfmt" ] && [ -x "$clippy" ] || skip "no rustfmt or clippy-driver beside $CARGO"
  "$rustfmt" --check --edition 2021 "$DISK_RS" "$COUNTER_RS"
  rlib=$(find "$CACHE/sdk" -name libnbdkit.rlib | head -1)
  [ -n "$rlib" ]
  CARGO_PKG_VERSION=0.0.0 "$clippy" --edition 2021 --crate-type cdylib \
    --crate-name disk --extern nbdkit="$rlib" -D warnings "$DISK_RS" \
    -o "$BATS_TEST_TMPDIR/disk.so"
}

@test "the #! line: ./p.rs -U - --run ... runs nbdkit, which serves the script" {
  if [ -n "${NBDKIT_CHECKER:-}" ]; then
    skip "the kernel starts nbdkit from the #! line, not under $NBDKIT_CHECKER (run in the plain pass)"
  fi
  # The examples' #! line names the installed loader ("rust"); this
  # script's names the one under test, as nbdkit accepts a plugin's path.
  script=$BATS_TEST_TMPDIR/p.rs
  tiny_plugin "$BATS_TEST_TMPDIR/tiny.rs"
  { echo "#!/usr/bin/nbdkit $LOADER"; cat "$BATS_TEST_TMPDIR/tiny.rs"; } > "$script"
  chmod +x "$script"
  cd "$BATS_TEST_TMPDIR"
  # The kernel runs /usr/bin/nbdkit LOADER ./p.rs -U - --run ...
  run timeout 300 ./p.rs -U - --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

@test "the plugin is compiled as its own crate with CARGO_PKG_VERSION 0.0.0, release by default" {
  cp "$DISK_RS" "$BATS_TEST_TMPDIR/disk.rs"
  run timeout 300 nbdkit "$LOADER" "$BATS_TEST_TMPDIR/disk.rs" --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(dump_field rust_plugin_name)" = disk ]
  [ "$(dump_field rust_plugin_version)" = 0.0.0 ]
  [ "$(dump_field rust_build_profile)" = release ]
  [ "$(dump_field disk_page_size)" = 65536 ]
}

@test "a plugin is served in the background too (compiled before nbdkit forks)" {
  cp "$DISK_RS" "$BATS_TEST_TMPDIR/disk.rs"
  cd "$BATS_TEST_TMPDIR"
  sock=$BATS_TEST_TMPDIR/sock
  # A relative path: nbdkit chdir()s to / when it forks.
  timeout 300 nbdkit -P "$BATS_TEST_TMPDIR/pid" -U "$sock" "$LOADER" ./disk.rs 1M \
      2>"$(nbdkit_log)"
  run nbdinfo --size "nbd+unix:///?socket=$sock"
  kill "$(cat "$BATS_TEST_TMPDIR/pid")"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

# ---- --dump-plugin and --help.

@test "--dump-plugin shows the source, the cached library, the compiler and the profile" {
  cp "$DISK_RS" "$BATS_TEST_TMPDIR/disk.rs"
  cd "$BATS_TEST_TMPDIR"
  run timeout 300 nbdkit "$LOADER" ./disk.rs --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  # The source as an absolute path, the build in this test's cache.
  [ "$(dump_field rust_plugin_source)" = "$BATS_TEST_TMPDIR/disk.rs" ]
  [[ "$(dump_field rust_plugin_path)" =~ ^$CACHE/lib/[0-9a-f]{64}\.so$ ]]
  [ -f "$(dump_field rust_plugin_path)" ]
  # rustc -V's line, and the rustc that was run.
  [ "$(dump_field rust_compiler)" = "$("$RUSTC" -V)" ]
  [ -n "$(dump_field rust_compiler_path)" ]
  [ -x "$(dump_field rust_compiler_path)" ]
  [ "$(dump_field rust_build_profile)" = release ]
  # Each once.
  for f in rust_plugin_source rust_plugin_path rust_compiler rust_compiler_path \
           rust_build_profile; do
    [ "$(grep -c "^$f=" <<<"$output")" -eq 1 ]
  done
}

@test "--dump-plugin of a built library has no source fields" {
  [ -f "$RAMDISK" ] || skip "build examples/ramdisk first"
  run timeout 60 nbdkit "$LOADER" rust="$RAMDISK" --dump-plugin
  [ "$status" -eq 0 ]
  [ "$(dump_field rust_plugin_path)" = "$RAMDISK" ]
  ! grep -qE '^rust_(plugin_source|compiler|compiler_path|build_profile)=' <<<"$output"
}

@test "--help documents the keys for plugins from source" {
  run timeout 60 nbdkit "$LOADER" --help
  echo "$output"
  [ "$status" -eq 0 ]
  for key in rust-profile= rust-rustc= rust-cargo= rust-sdk= rust-registry=; do
    [[ "$output" == *"$key"* ]]
  done
  [[ "$output" == *".rs file"* ]]
  [[ "$output" == *"crate directory"* || "$output" == *"Cargo.toml"* ]]
}

# ---- Profile and compiler.

@test "rust-profile=debug builds with debug assertions, apart from the release build" {
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  sed -i 's/Ok(SIZE)/Ok(if cfg!(debug_assertions) { 2 * SIZE } else { SIZE })/' \
      "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" rust-profile=debug \
      --run 'nbdinfo --size "$uri"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = 2097152 ]
  [ "$(cached_libs | wc -l)" -eq 2 ]
  run timeout 300 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/p.rs" rust-profile=debug \
      --dump-plugin
  [ "$(dump_field rust_build_profile)" = debug ]
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" rust-profile=release \
      --run 'nbdinfo --size "$uri"'
  [ "$output" = 1048576 ]
  [ "$(compiles_logged)" -eq 0 ]
}

@test "rust-profile takes release or debug only" {
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" rust-profile=fast --run true
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  logged 'rust-profile=fast'
  logged 'release.*debug|debug.*release'
  [ "$(cached_libs | wc -l)" -eq 0 ]
}

@test "rust-rustc=/usr/bin/rustc (Debian's 1.63) compiles the SDK and the plugin; RUSTC= finds the same build" {
  [ -x /usr/bin/rustc ] || skip "no /usr/bin/rustc (apt-get install rustc)"
  cp "$DISK_RS" "$BATS_TEST_TMPDIR/disk.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/disk.rs" rust-rustc=/usr/bin/rustc 1M \
      --run 'nbdinfo --size "$uri"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  run timeout 300 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/disk.rs" \
      rust-rustc=/usr/bin/rustc --dump-plugin
  [ "$(dump_field rust_compiler)" = "$(/usr/bin/rustc -V)" ]
  [ "$(dump_field rust_compiler_path)" = /usr/bin/rustc ]
  lib=$(dump_field rust_plugin_path)
  # The same compiler through $RUSTC: the same cache entry.
  output=$(RUSTC=/usr/bin/rustc timeout 300 nbdkit "$LOADER" \
             rust="$BATS_TEST_TMPDIR/disk.rs" --dump-plugin)
  [ "$(dump_field rust_plugin_path)" = "$lib" ]
  [ "$(dump_field rust_compiler_path)" = /usr/bin/rustc ]
  # The build of the default compiler is another entry.
  output=$(timeout 300 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/disk.rs" --dump-plugin)
  [ "$(dump_field rust_plugin_path)" != "$lib" ]
}

@test "a rust-rustc or RUSTC that does not exist: a clear error naming it and the key" {
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" rust-rustc=/nonexistent/rustc --run true
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  logged '/nonexistent/rustc'
  logged 'No such file or directory'
  logged 'rust-rustc'
  [ "$(logged_count 'Segmentation|Aborted|panicked')" -eq 0 ]
  RUSTC=/nonexistent/rustc2 run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run true
  [ "$status" -eq 1 ]
  logged '/nonexistent/rustc2'
  logged 'RUSTC'
  [ "$(cached_libs | wc -l)" -eq 0 ]
  [ -z "$(ls -A "$CACHE/tmp" 2>/dev/null)" ]
}

@test "rust-sdk=DIR compiles against that SDK" {
  sdk=$BATS_TEST_TMPDIR/sdk
  cp -a "$top/rust-sdk" "$sdk"
  rm -rf "$sdk/target"
  sed -i 's/^version = "\(.*\)"$/version = "\1-test"/' "$sdk/Cargo.toml"
  grep -q '^version = ".*-test"$' "$sdk/Cargo.toml"
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  run timeout 300 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/p.rs" rust-sdk="$sdk" \
      --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$(dump_field rust_sdk_version)" == *-test ]]
  run timeout 60 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/p.rs" \
      rust-sdk="$BATS_TEST_TMPDIR/nosdk" --run true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$BATS_TEST_TMPDIR/nosdk"* ]]
}

# ---- Compile errors.

@test "a compile error: nbdkit exits 1 and logs rustc's diagnostics with the file and line" {
  tiny_plugin "$BATS_TEST_TMPDIR/bad.rs"
  # Line 4 of tiny_plugin's script is SIZE's: make it a type error.
  sed -i '4s/.*/const SIZE: i64 = "big";/' "$BATS_TEST_TMPDIR/bad.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/bad.rs" --run true
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  logged 'error\[E0308\]: mismatched types'
  logged "--> $BATS_TEST_TMPDIR/bad\.rs:4:"
  logged "$BATS_TEST_TMPDIR/bad.rs: compilation failed: rustc exited with status 1"
  # Nothing cached, nothing left behind, no crash.
  [ "$(cached_libs | wc -l)" -eq 0 ]
  [ -z "$(ls -A "$CACHE/tmp" 2>/dev/null)" ]
  [ "$(logged_count 'Segmentation|Aborted|panicked')" -eq 0 ]
}

@test "a compile error is not cached: fixed, the file compiles" {
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  sed -i 's/^plugin!/plugn!/' "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run true
  [ "$status" -eq 1 ]
  logged 'plugn'
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run true
  [ "$status" -eq 1 ]
  sed -i 's/^plugn!/plugin!/' "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

@test "a flood of diagnostics is cut short and says how many lines it left out" {
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  for i in $(seq 300); do
    echo "const C$i: u8 = \"x\";" >> "$BATS_TEST_TMPDIR/p.rs"
  done
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run true
  [ "$status" -eq 1 ]
  logged '\.\.\. [0-9]+ more lines'
  logged 'compilation failed: rustc exited with status 1'
  # At most 200 lines of rustc's, a few of nbdkit's around them.
  [ "$(logged_count 'error')" -lt 260 ]
}

# ---- Paths that are refused.

@test "a FIFO named x.rs is refused without hanging" {
  mkfifo "$BATS_TEST_TMPDIR/x.rs"
  run timeout 30 nbdkit -U - "$LOADER" rust="$BATS_TEST_TMPDIR/x.rs" --run true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$BATS_TEST_TMPDIR/x.rs"* ]]
  [[ "$output" == *"not a regular file"* ]]
  # A device too (through a symbolic link).
  ln -s /dev/null "$BATS_TEST_TMPDIR/null.rs"
  run timeout 30 nbdkit -U - "$LOADER" rust="$BATS_TEST_TMPDIR/null.rs" --run true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"null.rs"* ]]
  [[ "$output" == *"not a regular file"* ]]
}

@test "a directory without Cargo.toml is refused, naming it" {
  mkdir "$BATS_TEST_TMPDIR/empty"
  run timeout 30 nbdkit -U - "$LOADER" rust="$BATS_TEST_TMPDIR/empty" --run true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$BATS_TEST_TMPDIR/empty"* ]]
  [[ "$output" == *"Cargo.toml"* ]]
}

@test "a missing .rs file is refused, naming it" {
  run timeout 30 nbdkit -U - "$LOADER" rust="$BATS_TEST_TMPDIR/none.rs" --run true
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"$BATS_TEST_TMPDIR/none.rs"* ]]
  [[ "$output" == *"No such file or directory"* ]]
}

# ---- A crate directory.

@test "a crate directory is built with cargo and served: nbdkit rust ./myplugin/ size=1M" {
  template_crate "$BATS_TEST_TMPDIR/myplugin"
  cd "$BATS_TEST_TMPDIR"
  run serve_source ./myplugin/ size=1M --run 'nbdinfo --size "$uri"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  # Its target directory is in the cache, not in the crate.
  [ ! -e myplugin/target ]
  [ -n "$(find "$CACHE/crates" -name libtemplate.so)" ]
  run timeout 300 nbdkit "$LOADER" ./myplugin --dump-plugin
  echo "$output"
  [ "$(dump_field rust_plugin_source)" = "$BATS_TEST_TMPDIR/myplugin" ]
  [ "$(dump_field rust_plugin_name)" = template ]
  # The cargo that was run ($CARGO; rustup's proxy may be resolved).
  [[ "$(dump_field rust_compiler_path)" == */cargo ]]
  [ "$(dump_field rust_build_profile)" = release ]
  [ -f "$(dump_field rust_plugin_path)" ]
  # An edit is built; cargo decides what to rebuild.
  sed -i 's/"template"$/"edited"/' myplugin/src/lib.rs
  run timeout 300 nbdkit "$LOADER" ./myplugin --dump-plugin
  [ "$(dump_field rust_plugin_name)" = edited ]
}

@test "a crate directory that does not build: exit 1 with cargo's diagnostics" {
  template_crate "$BATS_TEST_TMPDIR/myplugin"
  echo 'fn broken() -> u8 { "x" }' >> "$BATS_TEST_TMPDIR/myplugin/src/lib.rs"
  line=$(wc -l < "$BATS_TEST_TMPDIR/myplugin/src/lib.rs")
  run serve_source rust="$BATS_TEST_TMPDIR/myplugin" size=1M --run true
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  logged 'error\[E0308\]: mismatched types'
  logged "src/lib\.rs:$line:"
  logged "$BATS_TEST_TMPDIR/myplugin: compilation failed"
}

@test "a crate directory without a cdylib target is refused, naming it" {
  template_crate "$BATS_TEST_TMPDIR/myplugin"
  sed -i 's/^crate-type = \["cdylib"\]/crate-type = ["rlib"]/' \
      "$BATS_TEST_TMPDIR/myplugin/Cargo.toml"
  grep -q 'crate-type = \["rlib"\]' "$BATS_TEST_TMPDIR/myplugin/Cargo.toml"
  run serve_source rust="$BATS_TEST_TMPDIR/myplugin" size=1M --run true
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  logged "$BATS_TEST_TMPDIR/myplugin"
  logged 'cdylib'
}

# ---- A cargo block.

need_lazy_static () {
  ls -d "$REGISTRY"/lazy_static-1.* >/dev/null 2>&1 ||
    skip "no lazy_static in $REGISTRY (apt-get install librust-lazy-static-dev; scripts/setup-debian installs it)"
}

@test "a cargo block: counter.rs uses lazy_static from Debian's registry, offline" {
  need_lazy_static
  cp "$COUNTER_RS" "$BATS_TEST_TMPDIR/counter.rs"
  nbdsh_script <<'EOF'
c = connect()
assert c.get_size() == 1 << 20
c.pread(512, 1024)
line = bytes(c.pread(600, 1024 - 40))
assert line[40:40 + 23] == b"sector 2 read 2 times  ", line
assert line[40 + 511] == ord("\n")
print("ok")
EOF
  # No network here: the loader points cargo at the registry, offline.
  run serve_source rust="$BATS_TEST_TMPDIR/counter.rs" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  run timeout 300 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/counter.rs" --dump-plugin
  [ "$(dump_field rust_plugin_name)" = counter ]
  [[ "$(dump_field rust_compiler_path)" == */cargo ]]
  # The crate came from the registry: its source is Debian's.
  [ -n "$(find "$CACHE/cargo" -path '*lazy_static*' -name '*.rlib')" ]
}

@test "a cargo block with whole tables, and a rebuild after an edit compiles no crate again" {
  need_lazy_static
  script=$BATS_TEST_TMPDIR/lazy.rs
  tiny_plugin "$BATS_TEST_TMPDIR/tiny.rs"
  { printf '%s\n' '//! ```cargo' '//! [dependencies]' '//! lazy_static = "1"' '//! ```'
    cat "$BATS_TEST_TMPDIR/tiny.rs"
    printf '%s\n' 'lazy_static::lazy_static! { static ref N: i64 = SIZE * 3; }'; } > "$script"
  sed -i 's/Ok(SIZE)/Ok(*N)/' "$script"
  run serve_source rust="$script" --run 'nbdinfo --size "$uri"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = $((3 << 20)) ]
  rlib=$(find "$CACHE/cargo" -path '*lazy_static*' -name '*.rlib')
  [ -n "$rlib" ]
  before=$(stat -c %Y.%s "$rlib")
  sleep 1
  sed -i 's/SIZE \* 3/SIZE * 4/' "$script"
  run serve_source rust="$script" --run 'nbdinfo --size "$uri"'
  grep -E 'debug: ( |cargo|building)' "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = $((4 << 20)) ]
  # One project for the one block: lazy_static was not built again.
  echo "lazy_static before: $rlib $before"
  find "$CACHE/cargo" -path '*lazy_static*' -name '*.rlib' -exec stat -c '%n %Y.%s' {} +
  [ "$(find "$CACHE/cargo" -path '*lazy_static*' -name '*.rlib')" = "$rlib" ]
  [ "$(stat -c %Y.%s "$rlib")" = "$before" ]
  [ "$(cached_libs | wc -l)" -eq 2 ]
}

@test "rust-registry=DIR takes the cargo block's crates from DIR; none leaves cargo's own sources" {
  need_lazy_static
  registry=$BATS_TEST_TMPDIR/registry
  mkdir "$registry"
  cp -a "$REGISTRY"/lazy_static-1.* "$registry/"
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  sed -i '1i //! ```cargo\n//! lazy_static = "1"\n//! ```' "$BATS_TEST_TMPDIR/p.rs"
  head -3 "$BATS_TEST_TMPDIR/p.rs" | grep -q 'lazy_static = "1"'
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" rust-registry="$registry" \
      --run 'nbdinfo --size "$uri"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  # An empty registry has no lazy_static: cargo says so.
  mkdir "$BATS_TEST_TMPDIR/empty"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" rust-registry="$BATS_TEST_TMPDIR/empty" \
      --run true
  [ "$status" -eq 1 ]
  logged 'lazy_static'
  logged 'compilation failed: cargo exited with status'
  # none: crates.io, which is offline here.
  CARGO_NET_OFFLINE=true run serve_source rust="$BATS_TEST_TMPDIR/p.rs" \
      rust-registry=none --run true
  [ "$status" -eq 1 ]
  logged 'lazy_static'
}

@test "rust-cargo that does not exist: a clear error naming it and the key" {
  need_lazy_static
  cp "$COUNTER_RS" "$BATS_TEST_TMPDIR/counter.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/counter.rs" rust-cargo=/nonexistent/cargo \
      --run true
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  logged '/nonexistent/cargo'
  logged 'No such file or directory'
  logged 'rust-cargo'
}

@test "a cargo block builds with Debian's cargo and rustc 1.63 (rust-cargo=/usr/bin/cargo rust-rustc=/usr/bin/rustc)" {
  need_lazy_static
  [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] || skip "no Debian cargo and rustc (apt-get install cargo rustc)"
  cp "$COUNTER_RS" "$BATS_TEST_TMPDIR/counter.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/counter.rs" \
      rust-cargo=/usr/bin/cargo rust-rustc=/usr/bin/rustc \
      --run 'nbdsh -u "$uri" -c "print(h.pread(21, 0).decode())"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = "sector 0 read 1 times" ]
  run timeout 300 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/counter.rs" \
      rust-cargo=/usr/bin/cargo rust-rustc=/usr/bin/rustc --dump-plugin
  [ "$(dump_field rust_compiler_path)" = /usr/bin/cargo ]
}
