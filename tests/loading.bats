#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# The loader: finding, checking, loading and configuring a Rust plugin.
#
# The plugins here are the fakes in tests/abi-plugins, written in C
# against the ABI header, so that every way a plugin can be broken can
# be built on purpose.  nbdkit and the client are real.

load helpers

setup () {
  # helpers.bash put Debian's python3 first on PATH, for nbdsh (and,
  # in the reliability runs, tests/checkers before it).
  top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
  : "${LOADER:=$top/build/loader/nbdkit-rust-plugin.so}"
  : "${ABI_PLUGINS:=$top/build/tests/abi-plugins}"
  GOOD=$ABI_PLUGINS/abi-good.so
  if [ ! -f "$LOADER" ] || [ ! -f "$GOOD" ]; then
    skip "build the loader and the abi-plugins first"
  fi
}

# refused PLUGIN REASON...: serving PLUGIN fails at configuration with
# exit status 1, and the error names PLUGIN (as given) and each REASON.
refused () {
  local plugin=$1
  shift
  run timeout 60 nbdkit -U - "$LOADER" rust="$plugin" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: $plugin: "* ]]
  local reason
  for reason in "$@"; do
    [[ "$output" == *"$reason"* ]]
  done
}

# ---- Refusals: every one exits 1 naming the file and the reason.

@test "a missing file is refused" {
  refused "$BATS_TEST_TMPDIR/missing.so" "No such file or directory"
}

@test "a directory is refused" {
  refused "$BATS_TEST_TMPDIR" "is a directory"
}

@test "a file that is not a regular file is refused" {
  mkfifo "$BATS_TEST_TMPDIR/fifo.so"
  refused "$BATS_TEST_TMPDIR/fifo.so" "not a regular file"
}

@test "a file that is not ELF is refused before dlopen" {
  echo 'not a library' > "$BATS_TEST_TMPDIR/text.so"
  refused "$BATS_TEST_TMPDIR/text.so" "not an ELF shared object"
}

@test "a file too short to be ELF is refused" {
  printf '\177E' > "$BATS_TEST_TMPDIR/short.so"
  refused "$BATS_TEST_TMPDIR/short.so" "not an ELF shared object" \
          "too short (2 bytes)"
}

@test "a truncated ELF library is refused, naming what its headers describe" {
  head -c 300 "$GOOD" > "$BATS_TEST_TMPDIR/truncated.so"
  refused "$BATS_TEST_TMPDIR/truncated.so" \
          "not a complete library (300 bytes, but its ELF headers describe " \
          "truncated?"
}

# dlopen() maps a library shorter than its headers describe, and the
# first touch of a page past the end of the file is SIGBUS.
@test "a library cut short is refused before it is mapped, with rust= and --dump-plugin" {
  size=$(stat -c %s "$GOOD")
  for percent in 20 40 60 80 99; do
    cut=$BATS_TEST_TMPDIR/cut-$percent.so
    head -c $((size * percent / 100)) "$GOOD" > "$cut"
    refused "$cut" "not a complete library ("
    run timeout 60 nbdkit "$LOADER" rust="$cut" --dump-plugin
    echo "$output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"error: $cut: not a complete library ("* ]]
  done
}

@test "a library without nbdkit_rust_plugin_v1 is refused" {
  refused "$ABI_PLUGINS/abi-nosym.so" \
          "not a Rust nbdkit plugin: it does not export nbdkit_rust_plugin_v1 (build it with the nbdkit crate's plugin! macro)"
}

@test "a plugin whose nbdkit_rust_plugin_v1 returns NULL is refused" {
  refused "$ABI_PLUGINS/abi-init-null.so" \
          "the plugin failed to initialise (nbdkit_rust_plugin_v1 returned NULL)"
  # The plugin's own reason comes first, through the host table.
  [[ "$output" == *"abibad: cannot initialise (as designed)"* ]]
}

@test "a plugin of an unknown ABI major version is refused" {
  refused "$ABI_PLUGINS/abi-major-2.so" "the plugin uses ABI 2.0" \
          "only knows ABI major version 1"
}

@test "a descriptor smaller than ABI 1.0's is refused" {
  refused "$ABI_PLUGINS/abi-small-struct.so" "descriptor is too small" \
          "struct_size"
}

@test "a plugin without a name is refused" {
  refused "$ABI_PLUGINS/abi-name-null.so" "the plugin has no name"
}

@test "a plugin with an empty name is refused" {
  refused "$ABI_PLUGINS/abi-name-empty.so" "the plugin has no name"
}

@test "a plugin with an invalid name is refused" {
  refused "$ABI_PLUGINS/abi-name-invalid.so" \
          "name \"bad-name\" is invalid"
}

@test "a plugin whose name starts with an underscore is refused" {
  # nbdkit, loading the plugin directly, would refuse the name it
  # makes of it ("-abibad").
  refused "$ABI_PLUGINS/abi-name-underscore.so" \
          "name \"_abibad\" is invalid: it must be ASCII letters, digits and underscores, and start with a letter or a digit"
}

@test "a plugin without open is refused" {
  refused "$ABI_PLUGINS/abi-open-null.so" "must have an open callback"
}

@test "a plugin without get_size is refused" {
  refused "$ABI_PLUGINS/abi-get-size-null.so" "must have a get_size callback"
}

@test "a plugin without pread is refused" {
  refused "$ABI_PLUGINS/abi-pread-null.so" "must have a pread callback"
}

@test "a plugin with an invalid max_thread_model is refused" {
  refused "$ABI_PLUGINS/abi-bad-thread-model.so" \
          "invalid max_thread_model 7"
}

# ---- Loading and serving.

@test "rust=PATH serves the plugin" {
  run timeout 60 nbdkit -U - "$LOADER" rust="$GOOD" size=2M \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 2097152 ]
}

@test "the plugin's data reaches the client" {
  run timeout 60 nbdkit -U - "$LOADER" rust="$GOOD" size=64K \
      --run 'nbdsh -u "$uri" -c "assert h.pread(65536, 0) == bytearray(65536)"'
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "the bare form: nbdkit rust PATH is rust=PATH" {
  run timeout 60 nbdkit -U - "$LOADER" "$GOOD" size=3M \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 3145728 ]
}

@test "a second bare parameter goes to the plugin's magic key" {
  # abi-good's magic_config_key is size.
  run timeout 60 nbdkit -U - "$LOADER" "$GOOD" 5M \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 5242880 ]
}

@test "a second rust= is an error when the plugin has no magic key" {
  run timeout 60 nbdkit -U - "$LOADER" "$ABI_PLUGINS/abi-good-nomagic.so" \
      disk.img --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"rust= given twice"* ]]
}

@test "rust= is required" {
  run timeout 60 nbdkit -U - "$LOADER" size=1M --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"rust=PATH is required: the Rust plugin (.so) to load"* ]]
}

@test "rust= must not be empty" {
  run timeout 60 nbdkit -U - "$LOADER" rust= --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"rust= must not be empty"* ]]
}

@test "a relative rust=PATH is kept as an absolute path" {
  cd "$ABI_PLUGINS"
  run timeout 60 nbdkit "$LOADER" rust=./abi-good.so --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"rust_plugin_path=$(pwd -P)/abi-good.so"* ]]
}

@test "keys given before rust= reach the plugin first, in order" {
  run timeout 60 nbdkit "$LOADER" a=1 b=2 rust="$GOOD" c=3 d=4 --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  keys=$(grep '^abigood_config=' <<< "$output" | tr '\n' ' ')
  [ "$keys" = "abigood_config=a=1 abigood_config=b=2 abigood_config=c=3 abigood_config=d=4 " ]
}

@test "keys given before rust= are checked by the plugin" {
  run timeout 60 nbdkit -U - "$LOADER" size=junk rust="$GOOD" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"junk"* ]]
}

@test "a plugin's config error stops nbdkit" {
  run timeout 60 nbdkit -U - "$LOADER" rust="$GOOD" fail=1 \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"abigood: config failed as asked"* ]]
}

@test "a plugin without config takes no parameters" {
  plugin=$ABI_PLUGINS/abi-good-noconfig.so
  run timeout 60 nbdkit -U - "$LOADER" rust="$plugin" x=1 \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"the Rust plugin abigood takes no parameters, but was given x"* ]]
}

@test "a plugin without config also refuses keys given before rust=" {
  plugin=$ABI_PLUGINS/abi-good-noconfig.so
  run timeout 60 nbdkit -U - "$LOADER" x=1 rust="$plugin" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"takes no parameters, but was given x"* ]]
}

@test "a plugin without config serves without parameters" {
  run timeout 60 nbdkit -U - "$LOADER" "$ABI_PLUGINS/abi-good-noconfig.so" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

@test "the plugin's load and unload are called" {
  run timeout 60 nbdkit -v -U - "$LOADER" rust="$GOOD" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"abigood: load called"* ]]
  [[ "$output" == *"abigood: config_complete called"* ]]
  [[ "$output" == *"abigood: unload called"* ]]
}

@test "a plugin from a newer ABI minor version loads, its new callbacks unused" {
  run timeout 60 nbdkit -v -U - "$LOADER" rust="$ABI_PLUGINS/abi-newer.so" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"its newer callbacks (32 extra bytes, ABI minor 7) are unused"* ]]
  [[ "$output" == *$'\n'1048576* ]]
}

# ---- --dump-plugin and --help.

@test "--dump-plugin shows the Rust plugin's fields" {
  run timeout 60 nbdkit "$LOADER" rust="$GOOD" --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  grep -q -E '^rust_loader_version=[0-9]+\.[0-9]+' <<< "$output"
  for line in \
      name=rust \
      rust_loader_abi_version=1.1 \
      rust_abi_version=1.1 \
      "rust_plugin_path=$(realpath "$GOOD")" \
      rust_plugin_name=abigood \
      rust_plugin_version=1.2.3 \
      "rust_plugin_longname=ABI test plugin" \
      'rust_plugin_description=Serves zeroes.\nA test stand-in for a Rust plugin.' \
      rust_plugin_magic_config_key=size \
      "rust_plugin_config_help=size=SIZE  Size of the disk (default 1M)." \
      rust_sdk_version=0.0.0-abi-test \
      rust_plugin_thread_model=parallel \
      rust_plugin_callbacks=load,unload,config,config_complete,dump_plugin,thread_model,open,close,get_size,pread \
      abigood_host_abi=1.1
  do
    grep -q -x -F -- "$line" <<< "$output" || { echo "missing: $line"; false; }
  done
  # The plugin's own fields come after the loader's.
  [ "$(tail -n 1 <<< "$output")" = "abigood_nbdkit_version=$(nbdkit --version | cut -d' ' -f2)" ]
}

@test "--dump-plugin without rust= shows only the loader's fields" {
  run timeout 60 nbdkit "$LOADER" --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"rust_loader_version="* ]]
  [[ "$output" != *"rust_plugin_"* ]]
  [[ "$output" != *"rust_abi_version="* ]]
}

@test "--help documents rust=PATH" {
  run timeout 60 nbdkit "$LOADER" --help
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"rust=PATH"* ]]
  [[ "$output" == *"nbdkit rust PATH"* ]]
  [[ "$output" == *"--dump-plugin"* ]]
}

# ---- Thread model.

@test "the thread model is the plugin's max_thread_model" {
  run env ABI_TEST_MAX_THREAD_MODEL=1 timeout 60 nbdkit "$LOADER" rust="$GOOD" \
      --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *$'\n'"thread_model=serialize_all_requests"$'\n'* ]]
  [[ "$output" == *"rust_plugin_thread_model=serialize_all_requests"* ]]
}

@test "the plugin's thread_model callback may choose a stricter model" {
  run timeout 60 nbdkit "$LOADER" rust="$GOOD" thread_model=0 --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *$'\n'"thread_model=serialize_connections"$'\n'* ]]
}

@test "the plugin's thread_model callback cannot choose a looser model" {
  run env ABI_TEST_MAX_THREAD_MODEL=2 timeout 60 nbdkit "$LOADER" rust="$GOOD" \
      thread_model=3 --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *$'\n'"thread_model=serialize_requests"$'\n'* ]]
}

# ---- Host table.

@test "host parse_probability accepts nbdkit's grammar" {
  for p in 0.1 1e-1 10% 1:10 1/10; do
    run timeout 60 nbdkit "$LOADER" rust="$GOOD" probability="$p" \
        --dump-plugin
    echo "$p: $output"
    [ "$status" -eq 0 ]
    [[ "$output" == *"abigood_probability=0.1"* ]]
  done
  run timeout 60 nbdkit "$LOADER" rust="$GOOD" probability=0:0 --dump-plugin
  [[ "$output" == *"abigood_probability=0"$'\n'* ]]
}

@test "host parse_probability refuses what nbdkit refuses" {
  for p in -1 1/0 nan inf 10%% abc 1:-1 ''; do
    run timeout 60 nbdkit "$LOADER" rust="$GOOD" probability="$p" \
        --dump-plugin
    echo "$p: $output"
    [ "$status" -eq 1 ]
    [[ "$output" == *"probability: could not parse '$p' as a probability"* ]]
  done
}

# ---- Bad input from users: a clear error naming the key and the
# reason, and exit status 1.  (Unknown keys, and values that are not
# UTF-8 for a Rust plugin, are in errors.bats; rust= empty or missing
# above.)

# longest: the longest KEY=VALUE one argument can be.  Linux refuses
# any single argument of 128 KiB or more (MAX_ARG_STRLEN) before nbdkit
# runs, so longer values (the fuzzers try 1 MiB) cannot come this way.
longest () {
  local key=$1 fill=$2
  printf '%s=' "$key"
  head -c $((131071 - ${#key} - 1)) /dev/zero | tr '\0' "$fill"
}

@test "a 128 KiB value, as long as an argument can be, reaches the plugin whole" {
  arg=$(longest note x)
  run timeout 60 nbdkit "$LOADER" rust="$GOOD" "$arg" --dump-plugin
  [ "$status" -eq 0 ]
  [ "$(grep -c -x -F -f <(echo "abigood_config=$arg") <<<"$output")" -eq 1 ]
}

@test "a 128 KiB value the plugin refuses is refused naming its key" {
  run timeout 60 nbdkit -U - "$LOADER" rust="$GOOD" "$(longest size 7)" \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: size (7777777777"* ]]
}

@test "a 128 KiB rust= path is refused with the reason" {
  run timeout 60 nbdkit -U - "$LOADER" "$(longest rust a)" \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: aaaaaaaaaa"*": File name too long"* ]]
}

@test "rust= given twice to a plugin with a magic key says where the second went" {
  # abi-good's magic key is size: nbdkit hands the loader both rust=
  # alike, so the second goes there, and abigood cannot parse a path.
  run timeout 60 nbdkit -U - "$LOADER" rust="$GOOD" rust="$GOOD" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: $GOOD: a second rust=, or a parameter that is not KEY=VALUE, goes to the Rust plugin's magic key size, which refused it"* ]]
}

@test "rust= given twice to a plugin without a magic key names the second" {
  run timeout 60 nbdkit -U - "$LOADER" rust="$ABI_PLUGINS/abi-good-nomagic.so" \
      rust=/elsewhere/libplugin.so --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: /elsewhere/libplugin.so: rust= given twice, or a parameter that is not KEY=VALUE ("* ]]
}

@test "a key that is not UTF-8 is refused naming the argument" {
  # nbdkit takes only [A-Za-z][A-Za-z0-9_.-]* for a key: anything else
  # is a bare parameter, which the loader refuses here by its text.
  run timeout 60 nbdkit -U - "$LOADER" rust="$ABI_PLUGINS/abi-good-nomagic.so" \
      $'col\xffour=blue' --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *$'error: col\xffour=blue: rust= given twice, or a parameter that is not KEY=VALUE'* ]]
}

@test "a rust= path that is not UTF-8 loads" {
  cp "$GOOD" "$BATS_TEST_TMPDIR/"$'\xff\xfe.so'
  run timeout 60 nbdkit -U - "$LOADER" rust="$BATS_TEST_TMPDIR/"$'\xff\xfe.so' \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
}

@test "rust-reload= that is not a boolean is refused naming the key" {
  run timeout 60 nbdkit -U - "$LOADER" rust="$GOOD" rust-reload=maybe \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: rust-reload=maybe: not a boolean (true or false)"* ]]
}

# ---- Configured once: the plugin is loaded when every key is known.

# count REGEX: lines of $output matching the extended REGEX.
count () { grep -cE -- "$1" <<< "$output" || true; }

@test "the plugin is loaded and configured once, wherever rust-reload= is" {
  for order in "rust-reload=true rust=$GOOD" "rust=$GOOD rust-reload=true" \
               "$GOOD rust-reload=true" "rust=$GOOD rust-reload=false"; do
    # shellcheck disable=SC2086
    run env TMPDIR="$BATS_TEST_TMPDIR" timeout 60 nbdkit -v -U - "$LOADER" \
        note=1 $order size=2M --run 'nbdinfo --size "$uri"'
    echo "$order: $output"
    [ "$status" -eq 0 ]
    [[ "$output" == *$'\n'2097152$'\n'* ]]
    [ "$(count 'abigood: load called')" -eq 1 ]
    [ "$(count 'abigood: config note=1$')" -eq 1 ]
    [ "$(count 'abigood: config size=2M$')" -eq 1 ]
    [ "$(count 'abigood: config_complete called')" -eq 1 ]
  done
}

@test "a password read from a file descriptor is read once with rust-reload after rust=" {
  # A second configuration would read the descriptor again, and fail.
  run env TMPDIR="$BATS_TEST_TMPDIR" timeout 60 nbdkit -v -U - "$LOADER" \
      rust="$GOOD" rust-reload=true password=-3 \
      --run 'nbdinfo --size "$uri"' 3<<< secret
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(count 'abigood: read a password')" -eq 1 ]
  [[ "$output" == *$'\n'1048576$'\n'* ]]
}

@test "--dump-plugin also loads and configures the plugin once" {
  run env TMPDIR="$BATS_TEST_TMPDIR" timeout 60 nbdkit -v "$LOADER" \
      rust="$GOOD" rust-reload=true note=1 --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(count 'abigood: load called')" -eq 1 ]
  [ "$(count '^abigood_config=note=1$')" -eq 1 ]
}

@test "a second bare parameter reaches the magic key after rust-reload=" {
  run env TMPDIR="$BATS_TEST_TMPDIR" timeout 60 nbdkit -U - "$LOADER" \
      "$GOOD" rust-reload=true 5M --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 5242880 ]
}

# ---- ABI 1.1: load and dump_plugin that can fail.

@test "load_checked is called instead of load" {
  run timeout 60 nbdkit -v -U - "$LOADER" rust="$ABI_PLUGINS/abi-checked.so" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(count 'abigood: load_checked called')" -eq 1 ]
  [ "$(count 'abigood: load called')" -eq 0 ]
}

@test "a plugin whose load_checked fails stops nbdkit with status 1" {
  plugin=$ABI_PLUGINS/abi-load-fails.so
  run timeout 60 nbdkit -U - "$LOADER" rust="$plugin" --run 'echo client ran'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" != *"client ran"* ]]
  [[ "$output" == *"error: abigood: load fails (as designed)"* ]]
  [[ "$output" == *"error: $plugin: the plugin's load failed"* ]]
}

@test "--dump-plugin exits 1 when the plugin's load_checked fails" {
  plugin=$ABI_PLUGINS/abi-load-fails.so
  run timeout 60 nbdkit "$LOADER" rust="$plugin" --dump-plugin
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"error: $plugin: the plugin's load failed"* ]]
  [[ "$output" != *"rust_plugin_name="* ]]
}

@test "dump_plugin_checked is called instead of dump_plugin" {
  run timeout 60 nbdkit "$LOADER" rust="$ABI_PLUGINS/abi-checked.so" \
      --dump-plugin
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(count '^abigood_dump=checked$')" -eq 1 ]
  [ "$(count '^abigood_host_abi=')" -eq 1 ]
}

@test "--dump-plugin exits 1 after the fields when dump_plugin_checked fails" {
  plugin=$ABI_PLUGINS/abi-dump-fails.so
  run timeout 60 nbdkit "$LOADER" rust="$plugin" --dump-plugin
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"rust_plugin_name=abigood"* ]]
  [[ "$output" == *"abigood_nbdkit_version="* ]]
  [[ "$output" == *"error: abigood: dump_plugin fails (as designed)"* ]]
  [[ "$output" == *"the plugin's dump_plugin failed"* ]]
}

# The Rust SDK sets load_checked and dump_plugin_checked from ABI 1.1
# on: a panic in the plugin's load or dump_plugin is then a failure.
faulty_abi_1_1 () {
  FAULTY=$(rust_test_plugin faulty)
  [ -f "$FAULTY" ] || skip "build tests/rust-plugins first"
  timeout 60 nbdkit "$LOADER" rust="$FAULTY" --dump-plugin |
    grep -q -x 'rust_abi_version=1.1' ||
    skip "the faulty plugin is not built with an SDK of ABI 1.1"
}

@test "a panic in the Rust plugin's load stops nbdkit with status 1" {
  faulty_abi_1_1
  FAULTY_PANIC_IN_LOAD=1 run timeout 60 nbdkit -U - "$LOADER" \
      rust="$FAULTY" --run 'echo client ran'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" != *"client ran"* ]]
  [[ "$output" == *"faulty: injected panic"* ]]
  [[ "$output" == *"error: $FAULTY: the plugin's load failed"* ]]
}

@test "a panic in the Rust plugin's dump_plugin makes --dump-plugin exit 1" {
  faulty_abi_1_1
  run timeout 60 nbdkit "$LOADER" rust="$FAULTY" panic=dump_plugin \
      --dump-plugin
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"rust_plugin_name=faulty"* ]]
  [[ "$output" == *"the plugin's dump_plugin failed"* ]]
}

# ---- The callbacks a plugin registers.

@test "--dump-plugin lists the callbacks the plugin registers, in the header's order" {
  trim_only=$(rust_test_plugin sub_trim_only)
  minimal=$(rust_test_plugin sub_minimal)
  [ -f "$trim_only" ] && [ -f "$minimal" ] || skip "build tests/rust-plugins first"
  run timeout 60 nbdkit "$LOADER" rust="$trim_only" --dump-plugin
  [ "$status" -eq 0 ]
  [ "$(count '^rust_plugin_callbacks=')" -eq 1 ]
  grep -q -x 'rust_plugin_callbacks=open,close,get_size,pread,pwrite,trim' <<< "$output"
  run timeout 60 nbdkit "$LOADER" rust="$minimal" --dump-plugin
  [ "$status" -eq 0 ]
  grep -q -x 'rust_plugin_callbacks=open,close,get_size,pread' <<< "$output"
  # load_checked and dump_plugin_checked count as load and dump_plugin.
  run timeout 60 nbdkit "$LOADER" rust="$ABI_PLUGINS/abi-checked.so" \
      --dump-plugin
  [ "$status" -eq 0 ]
  grep -q -x 'rust_plugin_callbacks=load,unload,config,config_complete,dump_plugin,thread_model,open,close,get_size,pread' <<< "$output"
}

@test "the callbacks the plugin registers are logged when it is loaded" {
  trim_only=$(rust_test_plugin sub_trim_only)
  [ -f "$trim_only" ] || skip "build tests/rust-plugins first"
  run timeout 60 nbdkit -v -U - "$LOADER" rust="$trim_only" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"debug: Rust plugin subset (build 1) registers callbacks: open,close,get_size,pread,pwrite,trim"$'\n'* ]]
}
