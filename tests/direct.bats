#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Direct loading: the very file the loader serves also loads straight
# into nbdkit, `nbdkit ./libfoo.so`, as a C plugin does.
#
# The behaviour suites run both ways already (bats-<topic>-direct in
# ctest, RUST_VIA=direct) and defaults.bats compares the two with a C
# plugin; this suite checks what is particular to loading directly:
# the symbols a plugin imports and exports, --dump-plugin and --help,
# the plugin's name, and nbdkit services the running nbdkit lacks.
#
# host_services (tests/rust-plugins/examples/host_services.rs) calls
# nbdkit's services from its configuration and logs what it got.

load helpers

SERVICES=$(rust_test_plugin host_services)

# serve_via WAY PLUGIN.so [ARGS...]: serve_logged (helpers.bash) the
# WAY way, loader or direct; nbdkit's log is then in $(way_log WAY).
serve_via () {
  local way=$1 r=0
  shift
  RUST_VIA=$way serve_logged "$@" || r=$?
  cp "$(nbdkit_log)" "$(way_log "$way")"
  return $r
}
way_log () { echo "$BATS_TEST_TMPDIR/$1.log"; }

# plugin_debug WAY: the plugin's own "host_services: ..." debug lines
# in WAY's log, without nbdkit's prefix.
plugin_debug () {
  sed -n -E 's/^.*debug: (host_services: .*)$/\1/p' "$(way_log "$1")"
}

# Every Rust cdylib the build made: the examples, the test plugins (as
# cargo names them for use, not its hashed intermediate copies, which
# an older build may have left behind).
rust_cdylibs () {
  find "$RUST_OUT" "$RUST_OUT/examples" -maxdepth 1 -name 'lib*.so' \
       ! -name '*-*' | sort
}

@test "no Rust plugin or filter imports an nbdkit_ symbol, and each plugin has both entry points" {
  local so n=0 filters=0 bad=0 entries
  while read -r so; do
    n=$((n + 1))
    if nm -D --undefined-only "$so" | grep -w 'nbdkit_[A-Za-z0-9_]*'; then
      echo "$so imports the nbdkit_ symbols above"
      bad=1
    fi
    # A filter (filter!) has the filter loader's entry point only.
    entries="nbdkit_rust_plugin_v1 plugin_init"
    if nm -D --defined-only "$so" | grep -qE " T nbdkit_rust_filter_v1\$"; then
      filters=$((filters + 1))
      entries=""
    fi
    for entry in $entries; do
      if ! nm -D --defined-only "$so" | grep -qE " T $entry\$"; then
        echo "$so does not export $entry"
        bad=1
      fi
    done
  done < <(rust_cdylibs)
  echo "checked $n libraries, $filters of them filters"
  # The examples and every test plugin and filter at least.
  [ "$n" -ge 20 ]
  [ "$filters" -ge 5 ]
  [ $bad -eq 0 ]
}

@test "the same file serves the same disk through the loader and directly" {
  nbdsh_script <<'EOF'
h = connect()
h.pwrite(b"\x5a" * 4096, 65536)
print(h.get_size(), h.pread(4096, 65536) == b"\x5a" * 4096,
      h.pread(512, 0) == bytes(512))
EOF
  run serve_via loader "$RAMDISK" size=1M --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = "1048576 True True" ]
  run serve_via direct "$RAMDISK" size=1M --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = "1048576 True True" ]
}

@test "--dump-plugin directly prints the loader's rust_ lines and the plugin's own" {
  local full
  full=$(rust_test_plugin sub_full)
  # From rust_abi_version= on; the loader's own two lines come before.
  run timeout 60 nbdkit --dump-plugin "$LOADER" rust="$full"
  [ "$status" -eq 0 ]
  sed -n '/^rust_abi_version=/,$p' <<<"$output" >"$BATS_TEST_TMPDIR/loader"
  run timeout 60 nbdkit --dump-plugin "$full"
  [ "$status" -eq 0 ]
  sed -n '/^rust_abi_version=/,$p' <<<"$output" >"$BATS_TEST_TMPDIR/direct"
  diff -u "$BATS_TEST_TMPDIR/loader" "$BATS_TEST_TMPDIR/direct"
  grep -qx 'rust_plugin_name=subset' "$BATS_TEST_TMPDIR/direct"
  grep -qx "rust_plugin_path=$(realpath "$full")" "$BATS_TEST_TMPDIR/direct"
  grep -qE '^rust_sdk_version=[0-9]+\.[0-9]+\.[0-9]+$' "$BATS_TEST_TMPDIR/direct"
  grep -qx 'subset_dump_plugin=full' "$BATS_TEST_TMPDIR/direct"
  # nbdkit's own lines: what it knows of the struct plugin_init gave it.
  grep -qx 'name=subset' <<<"$output"
  grep -qx 'api_version=2' <<<"$output"
  grep -qx 'max_thread_model=parallel' <<<"$output"
  grep -qx 'thread_model=serialize_requests' <<<"$output"
}

@test "--help directly shows the plugin's config_help" {
  run timeout 60 nbdkit "$RAMDISK" --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"plugin: ramdisk (nbdkit sparse RAM disk plugin (Rust))"* ]]
  [[ "$output" == *"size=<SIZE>  (required) Size of the RAM disk"* ]]
}

@test "directly, nbdkit knows a plugin named host_services as host-services" {
  run timeout 60 nbdkit --dump-plugin "$SERVICES"
  [ "$status" -eq 0 ]
  grep -qx 'name=host-services' <<<"$output"
  grep -qx 'rust_plugin_name=host_services' <<<"$output"
  # Its messages from a connection are prefixed with that name.
  nbdsh_script <<'EOF'
h = connect()
print(len(h.pread(512, 0)))
EOF
  run serve_via direct "$SERVICES" disconnect=true --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  grep -qE '^nbdkit: host-services\.[0-9]+: error: disconnect:' \
    "$(way_log direct)"
}

@test "parse_probability, which nbdkit 1.32 lacks, parses alike both ways" {
  local p args=()
  for p in 0.1 1e-1 10% 1:10 1/10 0:0 0 3/2 150% 0x1p-2 ' 0.5'; do
    args+=(probability="$p")
  done
  run serve_via loader "$SERVICES" -v "${args[@]}" --run true
  [ "$status" -eq 0 ]
  run serve_via direct "$SERVICES" -v "${args[@]}" --run true
  [ "$status" -eq 0 ]
  diff -u --label loader --label direct \
       <(plugin_debug loader | grep probability) \
       <(plugin_debug direct | grep probability)
  plugin_debug direct | grep -qx 'host_services: probability 1:10 = 0.1'
  plugin_debug direct | grep -qx 'host_services: probability 10% = 0.1'
  plugin_debug direct | grep -qx 'host_services: probability 0:0 = 0'
  [ "$(plugin_debug direct | grep -c probability)" -eq 11 ]
}

@test "parse_probability refuses alike both ways" {
  local p way
  for p in '' abc 1:0 -0.1 10%x 1: 1/ inf nan 1e999; do
    for way in loader direct; do
      run serve_via "$way" "$SERVICES" probability="$p" --run 'echo client ran'
      echo "$way, '$p': $output"
      [ "$status" -eq 1 ]
      [ "$output" = "" ]
      grep -qF "error: probability: could not parse '$p' as a probability" \
        "$(way_log "$way")"
    done
  done
}

@test "disconnect, which nbdkit 1.32 lacks, logs why both ways and nothing fails" {
  local way
  nbdsh_script <<'EOF'
h = connect()
print(len(h.pread(512, 0)))
EOF
  for way in loader direct; do
    run serve_via "$way" "$SERVICES" disconnect=true --run "$nbdsh_run"
    [ "$status" -eq 0 ]
    [ "$output" = 512 ]
    grep -qE 'error: disconnect: this nbdkit( \(1\.32\.[0-9]+\))? has no nbdkit_disconnect \(it appeared in nbdkit 1\.34\)' \
      "$(way_log "$way")"
  done
}

@test "through the loader the plugin uses the loader's host table, not plugin_init's" {
  # The loader's table knows the nbdkit it was built for; the table
  # plugin_init fills from the running nbdkit cannot.
  run serve_via loader "$SERVICES" -v --run true
  [ "$status" -eq 0 ]
  plugin_debug loader | grep -qx \
    "host_services: nbdkit_version $(nbdkit --version | cut -d' ' -f2)"
  run serve_via direct "$SERVICES" -v --run true
  [ "$status" -eq 0 ]
  plugin_debug direct | grep -qx 'host_services: nbdkit_version unknown'
}
