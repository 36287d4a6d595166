#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# The filter loader (nbdkit-rust-filter.so, --filter=rust): finding,
# checking, loading and configuring Rust filters, key routing between
# several of them, pass-through, and what --dump-plugin, -v and --help
# show.
#
# The Rust filters here are the fakes in tests/abi-plugins (filter-*.c),
# written in C against the ABI header, so that every way a filter can
# be broken can be built on purpose; the Rust plugin given as a filter
# is a real cdylib.  nbdkit and the client are real.

load helpers

setup () {
  GOOD=$ABI_PLUGINS/abi-filter-good.so
  PASS=$ABI_PLUGINS/abi-filter-pass.so
  if [ ! -f "$FILTER_LOADER" ] || [ ! -f "$GOOD" ]; then
    skip "build nbdkit-rust-filter and the abi-plugins first"
  fi
}

# refused FILTER REASON...: serving memory through --filter=rust with
# rust-filter=FILTER fails before serving with exit status 1, and the
# error names FILTER (as given) and each REASON.
refused () {
  local filter=$1
  shift
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$filter" --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: $filter: "* ]]
  local reason
  for reason in "$@"; do
    [[ "$output" == *"$reason"* ]]
  done
}

# served ARGS...: nbdkit -v -U - ARGS, captive; the client's output in
# $output and nbdkit's log in $log (apart: nbdkit's messages would cut
# into the client's lines).
nbdkit_logged () {
  timeout 60 nbdkit -v -U - "$@" 2>"$BATS_TEST_TMPDIR/nbdkit.log"
}
served () {
  run nbdkit_logged "$@"
  log=$(cat "$BATS_TEST_TMPDIR/nbdkit.log")
  echo "$output"
  echo "$log"
}

# ---- Refusals: each exits 1 before serving, naming the file and why.

@test "--filter=rust without rust-filter= is refused" {
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: rust-filter=PATH is required: the Rust filter (.so) to load, one for each --filter=rust (--filter=rust number 1, counting from the outermost, got none)"* ]]
}

@test "a second --filter=rust without its own rust-filter= is refused" {
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" \
      --filter="$FILTER_LOADER" memory 1M rust-filter="$PASS" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"rust-filter=PATH is required"*"(--filter=rust number 2, counting from the outermost, got none)"* ]]
}

@test "an empty rust-filter= is refused" {
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter= --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: rust-filter= must not be empty"* ]]
}

@test "a missing file is refused" {
  refused "$BATS_TEST_TMPDIR/missing.so" "No such file or directory"
}

@test "a directory is refused" {
  refused "$BATS_TEST_TMPDIR" "is a directory, not a Rust filter (.so)"
}

@test "a file that is not ELF is refused before dlopen" {
  echo 'not a library' > "$BATS_TEST_TMPDIR/text.so"
  refused "$BATS_TEST_TMPDIR/text.so" "not an ELF shared object" \
          "a Rust filter is the .so that cargo builds"
}

@test "an empty file is refused" {
  : > "$BATS_TEST_TMPDIR/empty.so"
  refused "$BATS_TEST_TMPDIR/empty.so" "not an ELF shared object: the file is too short (0 bytes)"
}

@test "a truncated library is refused before it is mapped" {
  size=$(stat -c %s "$GOOD")
  head -c $((size / 2)) "$GOOD" > "$BATS_TEST_TMPDIR/truncated.so"
  refused "$BATS_TEST_TMPDIR/truncated.so" "not a complete library (" \
          "truncated?"
}

@test "a C library without nbdkit_rust_filter_v1 is refused" {
  refused "$ABI_PLUGINS/abi-nosym.so" \
          "not a Rust nbdkit filter: it does not export nbdkit_rust_filter_v1 (build it with the nbdkit crate's filter! macro)"
}

@test "one of nbdkit's C filters given as rust-filter= is refused, saying how to use it" {
  offset=$(pkg-config --variable=filterdir nbdkit)/nbdkit-offset-filter.so
  [ -f "$offset" ] || skip "no $offset"
  refused "$offset" "is a C nbdkit filter, not a Rust filter: give it to nbdkit as --filter=$offset"
}

@test "a Rust plugin given as a filter is refused: serve it with nbdkit rust" {
  [ -f "$RAMDISK" ] || skip "build the Rust examples first ($RAMDISK)"
  refused "$RAMDISK" "is a Rust plugin, not a filter: serve it with nbdkit rust $RAMDISK"
}

@test "a fake Rust plugin given as a filter is refused the same way" {
  refused "$ABI_PLUGINS/abi-good.so" \
          "is a Rust plugin, not a filter: serve it with nbdkit rust"
}

@test "a filter whose nbdkit_rust_filter_v1 returns NULL is refused" {
  refused "$ABI_PLUGINS/abi-filter-init-null.so" \
          "the filter failed to initialise (nbdkit_rust_filter_v1 returned NULL)"
  [[ "$output" == *"abibadfilter: cannot initialise (as designed)"* ]]
}

@test "a filter of an unknown ABI major version is refused" {
  refused "$ABI_PLUGINS/abi-filter-major-2.so" "the filter uses ABI 2.0" \
          "only knows ABI major version 1"
}

@test "a filter descriptor smaller than ABI 1.1's is refused" {
  refused "$ABI_PLUGINS/abi-filter-small-struct.so" \
          "the filter's descriptor is too small (struct_size" \
          "ABI 1.1 needs at least"
}

@test "a filter without a name is refused" {
  refused "$ABI_PLUGINS/abi-filter-name-null.so" "the filter has no name"
}

@test "a filter with an invalid name is refused" {
  refused "$ABI_PLUGINS/abi-filter-name-invalid.so" \
          "the filter's name \"bad-filter\" is invalid"
}

@test "a filter with an invalid max_thread_model is refused" {
  refused "$ABI_PLUGINS/abi-filter-bad-thread-model.so" \
          "filter abibadfilter has an invalid max_thread_model 7"
}

@test "a filter whose load fails is refused" {
  refused "$ABI_PLUGINS/abi-filter-load-fails.so" \
          "the filter's load failed"
  [[ "$output" == *"abifilter: load fails (as designed)"* ]]
}

@test "a filter's config error stops nbdkit" {
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$GOOD" fail=1 --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"abifilter: config failed as asked"* ]]
}

@test "a broken filter also fails --dump-plugin" {
  run timeout 60 nbdkit --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$ABI_PLUGINS/abi-filter-major-2.so" --dump-plugin
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"the filter uses ABI 2.0"* ]]
}

# ---- Serving.

@test "a filter without callbacks passes everything through" {
  # Everything a client sees of memory, with and without abipass.
  view () {
    timeout 60 nbdkit -U - "$@" --run '
      nbdinfo "$uri" | grep -v "uri:"
      nbdsh -u "$uri" -c "
h.pwrite(b\"hello\" * 1000, 4096)
h.flush()
h.trim(65536, 262144)
h.zero(65536, 524288)
h.cache(4096, 0)
print(h.pread(5000, 4096) == b\"hello\" * 1000)"
      nbdinfo --map "$uri"'
  }
  view --filter=nofilter memory 1M > "$BATS_TEST_TMPDIR/nofilter"
  run view --filter="$FILTER_LOADER" memory 1M rust-filter="$PASS"
  echo "$output"
  [ "$status" -eq 0 ]
  diff -u "$BATS_TEST_TMPDIR/nofilter" - <<< "$output"
  [[ "$output" == *True* ]]
}

@test "a filter's callbacks reach the layer below through the host table" {
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$GOOD" add=3 --run 'nbdsh -u "$uri" -c "
h.pwrite(b\"abc\", 0)
print(h.pread(4, 0), h.get_size(), h.can_zero())"'
  echo "$output"
  [ "$status" -eq 0 ]
  # Written through pwrite (minus 3), read back through pread (plus 3).
  [ "$output" = "bytearray(b'abc\\x03') 1048576 True" ]
}

@test "a filter's own extents and exports lists work" {
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$GOOD" id=mine \
      --run 'nbdsh -u "$uri" -c "h.pwrite(b\"x\" * 65536, 0)"
             nbdinfo --map "$uri"; nbdinfo --list "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"0       65536    0  data"* ]]
  [[ "$output" == *"65536      983040    3  hole,zero"* ]]
  [[ "$output" == *"description:  via mine"* ]]
}

@test "keys before rust-filter= and keys the filter does not take reach the plugin" {
  served --filter="$FILTER_LOADER" memory \
      size=2M rust-filter="$GOOD" add=1 allocator=sparse \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 2097152 ]
  [[ "$log" == *"abifilter(-): config add=1 taken"* ]]
  [[ "$log" == *"abifilter(-): config allocator=sparse passed on"* ]]
  # size= came before rust-filter=: the loader passed it on itself.
  [[ "$log" != *"abifilter(-): config size="* ]]
}

@test "two Rust filters with a C filter between them each get their keys" {
  # pattern: each 8-byte word holds its own offset, big-endian.  The
  # offset filter shifts by 8, abifilter a adds 1, abifilter b adds 2.
  served --filter="$FILTER_LOADER" --filter=offset \
      --filter="$FILTER_LOADER" pattern 1M \
      rust-filter="$GOOD" add=1 id=a offset=8 rust-filter="$GOOD" add=2 id=b \
      --run 'nbdsh -u "$uri" -c "print(list(h.pread(8, 0)), h.get_size())"'
  [ "$status" -eq 0 ]
  [ "$output" = "[3, 3, 3, 3, 3, 3, 3, 11] 1048568" ]
  # The outer instance's filter takes the first add= and id=, and
  # passes on the rest; the loader passes the second rust-filter= on.
  [[ "$log" == *"abifilter(-): config add=1 taken"* ]]
  [[ "$log" == *"abifilter(a): config id=a taken"* ]]
  [[ "$log" == *"abifilter(a): config offset=8 passed on"* ]]
  [[ "$log" == *"abifilter(a): config add=2 passed on"* ]]
  [[ "$log" != *"abifilter(a): config rust-filter="* ]]
  [[ "$log" == *"abifilter(-): config add=2 taken"* ]]
  [[ "$log" == *"abifilter(b): config id=b taken"* ]]
  [[ "$log" == *"loaded Rust filter abifilter (--filter=rust number 1)"* ]]
  [[ "$log" == *"loaded Rust filter abifilter (--filter=rust number 2)"* ]]
}

@test "the same Rust filter twice gets a private copy, with statics of its own" {
  served --filter="$FILTER_LOADER" \
      --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$GOOD" add=1 rust-filter="$GOOD" add=16 \
      --run 'nbdsh -u "$uri" -c "print(list(h.pread(2, 0)))"'
  [ "$status" -eq 0 ]
  # Shared statics would add 1 once, and pass add=16 on to memory.
  [ "$output" = "[17, 17]" ]
  [[ "$log" == *"(--filter=rust number 2) from $(realpath "$GOOD") (a private copy: the file is mapped already)"* ]]
}

@test "a second name for a file already mapped also gets a private copy" {
  ln -s "$GOOD" "$BATS_TEST_TMPDIR/link.so"
  served --filter="$FILTER_LOADER" \
      --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$GOOD" add=1 rust-filter="$BATS_TEST_TMPDIR/link.so" \
      add=16 --run 'nbdsh -u "$uri" -c "print(list(h.pread(2, 0)))"'
  [ "$status" -eq 0 ]
  [ "$output" = "[17, 17]" ]
  [[ "$log" == *"(a private copy: the file is mapped already)"* ]]
}

@test "a private copy leaves nothing behind in TMPDIR" {
  mkdir "$BATS_TEST_TMPDIR/tmp"
  run env TMPDIR="$BATS_TEST_TMPDIR/tmp" timeout 60 nbdkit -U - \
      --filter="$FILTER_LOADER" --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$PASS" rust-filter="$PASS" --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ -z "$(ls -A "$BATS_TEST_TMPDIR/tmp")" ]
}

@test "a further rust-filter= without a --filter=rust to take it reaches the plugin" {
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$PASS" rust-filter="$GOOD" --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"unknown parameter 'rust-filter'"* ]]
}

@test "a Rust filter stacks above nbdkit rust serving a Rust plugin" {
  [ -f "$RAMDISK" ] || skip "build the Rust examples first ($RAMDISK)"
  # rust= reaches the filter instance first; with no rust-filter= yet,
  # the instance passes it on to the plugin loader.
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" "$LOADER" \
      rust="$RAMDISK" rust-filter="$GOOD" add=4 size=1M \
      --run 'nbdsh -u "$uri" -c "h.pwrite(b\"xyz\", 100)
print(list(h.pread(4, 99)), h.get_size())"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "[4, 120, 121, 122] 1048576" ]
}

@test "the SDK's passthrough filter serves through the loader" {
  passthrough=$RUST_OUT/libfilter_passthrough.so
  [ -f "$passthrough" ] || skip "examples/filters/passthrough is not built"
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" --filter=nofilter \
      --filter="$FILTER_LOADER" memory 1M rust-filter="$passthrough" \
      rust-filter="$GOOD" add=5 \
      --run 'nbdsh -u "$uri" -c "print(list(h.pread(2, 0)))"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "[5, 5]" ]
}

@test "a filter from a newer ABI minor version loads, its new callbacks unused" {
  served --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$ABI_PLUGINS/abi-filter-newer.so" add=2 \
      --run 'nbdsh -u "$uri" -c "print(list(h.pread(2, 0)))"'
  [ "$status" -eq 0 ]
  [[ "$log" == *"its newer callbacks (8 extra bytes, ABI minor 7) are unused"* ]]
  [ "$output" = "[2, 2]" ]
}

# ---- Lifecycle and thread model.

@test "each instance's lifecycle callbacks are called once, with its own backend" {
  served --filter="$FILTER_LOADER" \
      --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$GOOD" id=outer rust-filter="$GOOD" id=inner \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  for id in outer inner; do
    for what in "config_complete called" "get_ready called" \
                "after_fork called" "preconnect called" "open called" \
                "cleanup called, the same backend" "unload called"; do
      [ "$(grep -c "abifilter($id): $what" <<< "$log")" -eq 1 ] ||
        { echo "not once: abifilter($id): $what"; false; }
    done
  done
  # open's context leads to after_fork's backend (the instance's key).
  [[ "$log" != *"differs from after_fork's backend"* ]]
  # The layer below is ready, and unloaded, before the layer above.
  [[ "$log" == *"abifilter(inner): get_ready"*"abifilter(outer): get_ready"* ]]
  [[ "$log" == *"abifilter(inner): unload"*"abifilter(outer): unload"* ]]
}

@test "the thread model is the strictest any Rust filter asks for" {
  run timeout 60 nbdkit --filter="$FILTER_LOADER" --filter="$FILTER_LOADER" \
      memory 1M rust-filter="$PASS" rust-filter="$GOOD" thread_model=1 \
      --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *$'\n'"thread_model=serialize_all_requests"$'\n'* ]]
}

# ---- --dump-plugin, -v and --help.

@test "--dump-plugin shows each Rust filter's fields, outermost first" {
  run timeout 60 nbdkit --filter="$FILTER_LOADER" --filter="$FILTER_LOADER" \
      memory 1M rust-filter="$GOOD" rust-filter="$PASS" --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  for line in \
      rust_filter_loader_abi_version=1.1 \
      rust_filter_name=abifilter \
      "rust_filter_path=$(realpath "$GOOD")" \
      rust_filter_abi_version=1.1 \
      rust_filter_sdk_version=0.0.0-abi-test \
      rust_filter_version=1.2.3 \
      "rust_filter_longname=ABI test filter" \
      'rust_filter_description=Adds to every byte read.\nA test stand-in for a Rust filter.' \
      "rust_filter_config_help=add=N  Add N to every byte read (default 0)." \
      rust_filter_thread_model=parallel \
      rust_filter_name=abipass \
      "rust_filter_path=$(realpath "$PASS")" \
      rust_filter_callbacks= \
      name=memory
  do
    grep -q -x -F -- "$line" <<< "$output" || { echo "missing: $line"; false; }
  done
  grep -q -E '^rust_filter_loader_version=[0-9]+\.[0-9]+' <<< "$output"
  [ "$(grep -c '^rust_filter_abi_version=1.1$' <<< "$output")" -eq 2 ]
  [ "$(grep -c '^rust_filter_sdk_version=0.0.0-abi-test$' <<< "$output")" -eq 2 ]
  [[ "$output" == *"rust_filter_name=abifilter"*"rust_filter_name=abipass"* ]]
}

@test "--dump-plugin, abbreviated as getopt allows, shows the fields too" {
  run timeout 60 nbdkit --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$PASS" --dump-pl
  echo "$output"
  [ "$status" -eq 0 ]
  grep -q -x rust_filter_name=abipass <<< "$output"
}

@test "without --dump-plugin, no rust_filter_ lines are printed" {
  run timeout 60 nbdkit -U - --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$PASS" --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

@test "-v logs the Rust filter's name, ABI and SDK versions at load" {
  served --filter="$FILTER_LOADER" memory 1M \
      rust-filter="$GOOD" --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [[ "$log" == *"debug: loaded Rust filter abifilter (--filter=rust number 1) from $(realpath "$GOOD"): ABI 1.1, SDK 0.0.0-abi-test"* ]]
  [[ "$log" == *"debug: Rust filter abifilter registers callbacks: load,unload,config,"* ]]
}

@test "--help documents rust-filter= and the key routing" {
  run timeout 60 nbdkit --filter="$FILTER_LOADER" memory --help
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"filter: rust (nbdkit Rust filter loader)"* ]]
  [[ "$output" == *"rust-filter=PATH  (required)"* ]]
  [[ "$output" == *"outermost filter"* ]]
  [[ "$output" == *"takes the"*"first rust-filter=PATH that reaches it"* ]]
  [[ "$output" == *"rust_filter_config_help"* ]]
}

# ---- The plugin loader's host table.

@test "a plugin's host table has the filter services as stubs that fail" {
  run timeout 60 nbdkit "$LOADER" rust="$ABI_PLUGINS/abi-host-stubs.so" \
      --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  for line in \
      abistubs_null_pointers=0 \
      "abistubs_next_pread=-1 err=95" \
      abistubs_next_get_size=-1 \
      abistubs_next_config=-1 \
      abistubs_next_open=-1 \
      abistubs_context_get_backend=NULL \
      "abistubs_extents_full=NULL err=95" \
      abistubs_extents_count=2 \
      abistubs_extent_1=4096,4096,0 \
      abistubs_extent_2=-1 \
      abistubs_exports_count=2 \
      abistubs_export_1=b,bee \
      "abistubs_export_0=a,(null)" \
      abistubs_export_2=-1
  do
    grep -q -x -F -- "$line" <<< "$output" || { echo "missing: $line"; false; }
  done
  [[ "$output" == *"error: only filters may call next_pread: a plugin has no next layer"* ]]
}
