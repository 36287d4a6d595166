#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# What a Rust plugin's descriptor says about it, as nbdkit shows it:
# the plugin's name must be one nbdkit can take, and --dump-plugin
# lists the callbacks the plugin registered (rust_plugin_callbacks=,
# the header's names, in the header's order).

load helpers

BAD_NAME=$(rust_test_plugin bad_name)

@test "a plugin named _bad does not load: nbdkit exits 1 naming the name and the rule" {
  run serve_logged "$BAD_NAME" --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged 'plugin name "_bad" is not \[A-Za-z0-9\]\[A-Za-z0-9_\]\*'
  logged 'starts with a letter or digit'
}

# dump_callbacks PLUGIN.so [ARGS]: the rust_plugin_callbacks= value of
# --dump-plugin.
dump_callbacks () {
  local server
  rust_server "$1" || return 1
  shift
  timeout 60 nbdkit --dump-plugin "${server[@]}" "$@" |
    sed -n 's/^rust_plugin_callbacks=//p'
}

@test "--dump-plugin lists the callbacks registered, in the header's order" {
  run dump_callbacks "$RAMDISK"
  [ "$status" -eq 0 ]
  [ "$output" = unload,config,config_complete,dump_plugin,thread_model,open,close,get_size,can_fast_zero,can_fua,can_multi_conn,pread,pwrite,flush,trim,zero,extents ]
  run dump_callbacks "$(rust_test_plugin sub_minimal)"
  [ "$status" -eq 0 ]
  [ "$output" = open,close,get_size,pread ]
}

@test "--dump-plugin lists load and dump_plugin once, by their own names" {
  run dump_callbacks "$FAULTY"
  [ "$status" -eq 0 ]
  [[ "$output" == load,unload,config,config_complete,dump_plugin,thread_model,* ]]
  [[ "$output" != *checked* ]]
  # Every callback of the ABI: faulty lists them all.
  [ "$(tr , '\n' <<<"$output" | wc -l)" -eq 34 ]
}

@test "rust_plugin_callbacks= comes right after rust_plugin_thread_model=" {
  local server
  rust_server "$RAMDISK"
  run timeout 60 nbdkit --dump-plugin "${server[@]}"
  [ "$status" -eq 0 ]
  grep -A1 '^rust_plugin_thread_model=' <<<"$output" | tail -1 |
    grep -q '^rust_plugin_callbacks='
}

@test "loaded directly, plugin_init logs the callbacks registered" {
  if [ "$RUST_VIA" != direct ]; then
    skip "the loader's own debug messages are the loader's business"
  fi
  run serve_logged "$RAMDISK" -v size=1M --run true
  [ "$status" -eq 0 ]
  logged 'debug: registered callbacks: unload,config,config_complete,dump_plugin,thread_model,open,close,get_size,can_fast_zero,can_fua,can_multi_conn,pread,pwrite,flush,trim,zero,extents$'
}
