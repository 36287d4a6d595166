#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# ABI compatibility across the first minor bump, 1.0 -> 1.1 (the
# VERSIONING section of abi/nbdkit-rust-abi.h), both ways, with real
# builds of the other side as it was at ABI 1.0: commit 14d7cee, the
# last commit of ABI 1.0, taken from git history.
#
#   - A plugin built against ABI 1.0 (the SDK and examples/ramdisk as of
#     14d7cee, and abi10_panic below) loads in the current loader ($LOADER)
#     and behaves as ABI 1.0 promised.
#   - A plugin built against ABI 1.1 (the current SDK) loads in the ABI
#     1.0 loader (loader/ as of 14d7cee, compiled here): its newer
#     callbacks (load_checked, dump_plugin_checked) are unused, with a
#     debug message, and a host service new in 1.1 that it calls fails
#     with ENOTSUP from the SDK's lookup, the 1.0-sized host table never
#     read past its struct_size.
#
# setup_file builds the old pieces once per run in $BATS_FILE_TMPDIR
# (cargo offline, with the build's cargo): under a minute.  It
# needs the git history: without commit 14d7cee the suite fails (CI
# runs in a full clone of main).

load helpers

# The last commit of ABI 1.0.
ABI_1_0_COMMIT=14d7cee

setup_file () {
  if ! git -C "$top" rev-parse --verify --quiet \
       "$ABI_1_0_COMMIT^{commit}" >/dev/null; then
    echo "abi-compat.bats needs commit $ABI_1_0_COMMIT (the last commit of ABI 1.0) in the git history of $top: run it in a full clone of main (not a shallow clone or a source tarball)" >&2
    return 1
  fi
  use_build_cargo
  local old=$BATS_FILE_TMPDIR/old new=$BATS_FILE_TMPDIR/new
  mkdir -p "$old" "$new"

  # The sources as of 14d7cee: the SDK, the header its abi/ symlink
  # points at, examples/ramdisk and the loader.
  git -C "$top" archive "$ABI_1_0_COMMIT" rust-sdk abi examples/ramdisk \
      loader | tar -x -C "$old" || return 1
  git -C "$top" show "$ABI_1_0_COMMIT:CMakeLists.txt" > "$old/CMakeLists.txt" ||
    return 1
  grep -q '^#define NBDKIT_RUST_ABI_MINOR 0$' "$old/abi/nbdkit-rust-abi.h" ||
    { echo "$ABI_1_0_COMMIT: abi/nbdkit-rust-abi.h is not ABI 1.0" >&2; return 1; }

  # ABI 1.0 plugins: the old examples/ramdisk, and abi10_panic, whose
  # load panics when ABI10_PANIC_IN_LOAD is set (the old ramdisk has
  # no load).
  cat > "$old/Cargo.toml" <<'EOF'
[workspace]
resolver = "2"
members = ["examples/ramdisk", "abi10_panic"]
EOF
  mkdir -p "$old/abi10_panic/src"
  cat > "$old/abi10_panic/Cargo.toml" <<'EOF'
[package]
name = "abi10_panic"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
nbdkit = { path = "../rust-sdk" }
EOF
  cat > "$old/abi10_panic/src/lib.rs" <<'EOF'
//! A plugin of ABI 1.0 whose load panics when ABI10_PANIC_IN_LOAD is
//! set; a disk of 1 MiB of 0x5a.
use nbdkit::*;

struct Panicky;

impl Server for Panicky {
    fn name() -> &'static str {
        "abi10_panic"
    }
    fn load() {
        if std::env::var_os("ABI10_PANIC_IN_LOAD").is_some() {
            panic!("abi10_panic: injected panic in load");
        }
    }
    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Panicky))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }
    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        buf.fill(0x5a);
        Ok(())
    }
}

plugin!(Panicky { load });
EOF

  # An ABI 1.1 plugin (the current SDK) that calls a host service new in
  # ABI 1.1 and reachable from a plugin: nbdkit_extents_new
  # (nbdkit::Extents::new), in config_complete (the result is logged)
  # and to build its block status reply (an error fails the request).
  mkdir -p "$new/src"
  cat > "$new/Cargo.toml" <<EOF
[package]
name = "abi11_probe"
version = "0.0.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
nbdkit = { path = "$top/rust-sdk" }

[workspace]
EOF
  cat > "$new/src/lib.rs" <<'EOF'
//! A plugin of ABI 1.1 that uses nbdkit::Extents::new (host service
//! extents_new, ABI 1.1); a disk of 1 MiB of 0x5a.
use nbdkit::*;

struct Probe;

impl Server for Probe {
    fn name() -> &'static str {
        "abi11_probe"
    }
    fn config_complete() -> Result<()> {
        match Extents::new(0, 4096) {
            Ok(_) => debug!("abi11_probe: Extents::new: ok"),
            Err(e) => debug!("abi11_probe: Extents::new: errno {}: {}", e.errno(), e),
        }
        Ok(())
    }
    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Probe))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(1 << 20)
    }
    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        buf.fill(0x5a);
        Ok(())
    }
    fn can_extents(&self) -> Result<bool> {
        Ok(true)
    }
    fn extents(&self, count: u32, offset: u64, _flags: Flags, reply: &mut ExtentHandle) -> Result<()> {
        let mut own = Extents::new(offset, offset + u64::from(count))?;
        own.add(offset, u64::from(count), ExtentType::Allocated)?;
        for (o, l, t) in &own {
            reply.add(o, l, t)?;
        }
        Ok(())
    }
}

plugin!(Probe { config_complete, can_extents, extents });
EOF

  # Both cargo builds at once, each with its own target directory.
  (cd "$old" && env PATH="$build_path" CARGO_TARGET_DIR="$old/target" \
     timeout 600 "$CARGO" build --offline --release) \
    > "$old/cargo.log" 2>&1 &
  local old_pid=$!
  (cd "$new" && env PATH="$build_path" CARGO_TARGET_DIR="$new/target" \
     timeout 600 "$CARGO" build --offline --release) \
    > "$new/cargo.log" 2>&1 &
  local new_pid=$!

  # The ABI 1.0 loader, compiled as 14d7cee's loader/CMakeLists.txt
  # did (a C11 module, hidden visibility, linked with libdl only).
  # (Failures are collected, not fatal, so that the cargo builds are
  # always waited for.)
  local version cc_status=0
  version=$(sed -n -E 's/^project \(nbdkit-rust VERSION ([0-9.]+) .*/\1/p' \
                "$old/CMakeLists.txt")
  mkdir -p "$old/loader-build"
  ${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden \
      -DNBDKIT_API_VERSION=2 -DTHREAD_MODEL=NBDKIT_THREAD_MODEL_PARALLEL \
      "-DLOADER_VERSION=\"${version:-unknown}\"" $(pkg-config --cflags nbdkit) \
      -I"$old/abi" "$old"/loader/*.c \
      -o "$old/loader-build/nbdkit-rust-plugin.so" -ldl \
      > "$old/cc.log" 2>&1 || cc_status=1

  # The layouts the messages below quote, from the two headers.
  cat > "$old/sizes.c" <<'EOF'
#include <stddef.h>
#include <stdio.h>
#include "nbdkit-rust-abi.h"
int
main (void)
{
  printf ("%zu %zu", sizeof (struct nbdkit_rust_host),
          sizeof (struct nbdkit_rust_plugin));
#if NBDKIT_RUST_ABI_MINOR >= 1
  printf (" %zu", offsetof (struct nbdkit_rust_host, extents_new) +
          sizeof (void *));
#endif
  printf ("\n");
  return 0;
}
EOF
  local sizes_old sizes_new
  ${CC:-cc} -I"$old/abi" "$old/sizes.c" -o "$old/sizes-old" &&
    ${CC:-cc} -I"$top/abi" "$old/sizes.c" -o "$old/sizes-new" &&
    sizes_old=$("$old/sizes-old") && sizes_new=$("$old/sizes-new") ||
    cc_status=1

  local old_status=0 new_status=0
  wait "$old_pid" || old_status=$?
  wait "$new_pid" || new_status=$?
  if [ "$cc_status" -ne 0 ]; then
    echo "building the ABI 1.0 loader or sizes.c failed (see above):" >&2
    cat "$old/cc.log" >&2
    return 1
  fi
  if [ "$old_status" -ne 0 ]; then
    echo "cargo build of the ABI 1.0 plugins failed:" >&2
    cat "$old/cargo.log" >&2
    return 1
  fi
  if [ "$new_status" -ne 0 ]; then
    echo "cargo build of abi11_probe failed:" >&2
    cat "$new/cargo.log" >&2
    return 1
  fi

  export OLD_LOADER=$old/loader-build/nbdkit-rust-plugin.so
  export OLD_RAMDISK=$old/target/release/libramdisk.so
  export OLD_PANIC=$old/target/release/libabi10_panic.so
  export PROBE=$new/target/release/libabi11_probe.so
  # sizeof the 1.0 host table and plugin descriptor; sizeof the 1.1
  # descriptor and where the 1.1 host table's extents_new ends.
  read -r OLD_HOST_SIZE OLD_PLUGIN_SIZE <<< "$sizes_old"
  read -r _ NEW_PLUGIN_SIZE EXTENTS_NEW_END <<< "$sizes_new"
  export OLD_HOST_SIZE OLD_PLUGIN_SIZE NEW_PLUGIN_SIZE EXTENTS_NEW_END
}

setup () {
  if [ ! -f "$LOADER" ] || [ ! -f "$RAMDISK" ] || [ ! -f "$FAULTY" ]; then
    skip "build the tree first (the loader, examples/ramdisk and tests/rust-plugins)"
  fi
}

# serve LOADER.so PLUGIN.so [ARGS...]: nbdkit -v serving PLUGIN.so
# through LOADER.so, captive and killed after 60 s, its stderr in
# $(nbdkit_log) (the client finds it in $NBDKIT_LOG).
serve () {
  local loader=$1 plugin=$2
  shift 2
  NBDKIT_LOG=$(nbdkit_log) \
    timeout 60 nbdkit -v -U - "$loader" rust="$plugin" "$@" 2>"$(nbdkit_log)"
}

# dump LOADER.so PLUGIN.so [ARGS...]: --dump-plugin, output in $output.
dump () {
  local loader=$1 plugin=$2
  shift 2
  run timeout 60 nbdkit "$loader" rust="$plugin" "$@" --dump-plugin
  echo "$output"
}

# not_logged REGEX: no line of nbdkit's log matches REGEX.
not_logged () {
  if grep -E -- "$1" "$(nbdkit_log)"; then
    echo "nbdkit's log has a line matching '$1':" >&2
    cat "$(nbdkit_log)" >&2
    return 1
  fi
}

# no_crash: nothing in nbdkit's log says a panic escaped into C or the
# process died.
no_crash () {
  not_logged 'cannot unwind|Aborted|core dumped|Segmentation fault|killed by signal|fatal runtime error'
}

# A client of the ramdisks: writes across a page boundary, reads it
# back, zeroes, trims and flushes.
ramdisk_client () {
  nbdsh_script <<'EOF'
h = connect()
print(h.get_size())
data = bytes(range(256)) * 512
h.pwrite(data, 65536 - 4096)
print(h.pread(len(data), 65536 - 4096) == data)
h.zero(4096, 65536)
print(h.pread(4096, 65536) == bytes(4096))
print(h.pread(4096, 65536 - 4096) == data[:4096])
h.trim(65536, 131072)
h.flush()
print(h.pread(512, 0) == bytes(512))
EOF
}

# ---- A plugin of ABI 1.0 in the current loader.

@test "ABI 1.0 -> current loader: the 14d7cee ramdisk loads, rust_abi_version=1.0, its callbacks line is right" {
  dump "$LOADER" "$OLD_RAMDISK" size=1M
  [ "$status" -eq 0 ]
  grep -qx 'rust_loader_abi_version=1.1' <<< "$output"
  grep -qx 'rust_abi_version=1.0' <<< "$output"
  grep -qx 'rust_plugin_name=ramdisk' <<< "$output"
  grep -qx 'rust_sdk_version=0.4.0' <<< "$output"
  grep -qx 'rust_plugin_magic_config_key=size' <<< "$output"
  grep -qx 'rust_plugin_thread_model=parallel' <<< "$output"
  # What 14d7cee's examples/ramdisk lists in plugin! (plus the required
  # callbacks), in the header's order; no load: the zero-extended
  # load_checked and dump_plugin_checked read as NULL.
  grep -qx 'rust_plugin_callbacks=unload,config,config_complete,dump_plugin,thread_model,open,close,get_size,can_fast_zero,can_fua,can_multi_conn,pread,pwrite,flush,trim,zero,extents' <<< "$output"
  # Its own dump_plugin ran (ABI 1.0's, through the current loader).
  grep -qx 'ramdisk_page_size=65536' <<< "$output"
}

@test "ABI 1.0 -> current loader: the 14d7cee ramdisk serves reads and writes" {
  ramdisk_client
  run serve "$LOADER" "$OLD_RAMDISK" size=4M --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "4194304
True
True
True
True" ]
  logged "debug: loaded Rust plugin ramdisk \(build 1\) from $OLD_RAMDISK: ABI 1\.0, SDK 0\.4\.0$"
  logged "debug: Rust plugin ramdisk \(build 1\) registers callbacks: unload,config,config_complete,dump_plugin,thread_model,open,close,get_size,can_fast_zero,can_fua,can_multi_conn,pread,pwrite,flush,trim,zero,extents$"
  # An older plugin is no news.
  not_logged 'newer than this loader'
  not_logged 'error:'
}

@test "ABI 1.0 -> current loader: a panic in load is logged and nbdkit goes on (ABI 1.0: load cannot fail)" {
  nbdsh_script <<'EOF'
h = connect()
print(bytes(h.pread(4, 0)))
EOF
  ABI10_PANIC_IN_LOAD=1 run serve "$LOADER" "$OLD_PANIC" --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "b'ZZZZ'" ]
  logged "debug: loaded Rust plugin abi10_panic \(build 1\) from $OLD_PANIC: ABI 1\.0, SDK 0\.4\.0$"
  logged 'debug: Rust plugin abi10_panic \(build 1\) registers callbacks: load,open,close,get_size,pread$'
  logged '^nbdkit: error: load: panic: abi10_panic: injected panic in load$'
  [ "$(logged_count 'panic: abi10_panic: injected panic in load')" -eq 1 ]
  not_logged "the plugin's load failed"
  no_crash
  # --dump-plugin too: the panic is logged, the dump goes on, status 0.
  ABI10_PANIC_IN_LOAD=1 dump "$LOADER" "$OLD_PANIC"
  [ "$status" -eq 0 ]
  grep -q 'error: load: panic: abi10_panic: injected panic in load' <<< "$output"
  grep -qx 'rust_abi_version=1.0' <<< "$output"
  grep -qx 'rust_plugin_callbacks=load,open,close,get_size,pread' <<< "$output"
}

# ---- A plugin of ABI 1.1 in the ABI 1.0 loader.

@test "ABI 1.1 -> 1.0 loader: the 14d7cee loader is ABI 1.0 and loads the current ramdisk (ABI 1.1)" {
  dump "$OLD_LOADER" "$RAMDISK" size=1M
  [ "$status" -eq 0 ]
  grep -qx 'rust_loader_abi_version=1.0' <<< "$output"
  grep -qx 'rust_abi_version=1.1' <<< "$output"
  grep -qx 'rust_plugin_name=ramdisk' <<< "$output"
}

@test "ABI 1.1 -> 1.0 loader: the current ramdisk serves, and -v says its newer callbacks are unused" {
  [ "$((NEW_PLUGIN_SIZE - OLD_PLUGIN_SIZE))" -eq 16 ]
  ramdisk_client
  run serve "$OLD_LOADER" "$RAMDISK" size=4M --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "4194304
True
True
True
True" ]
  logged "debug: $RAMDISK: the plugin was built for ABI 1\.1, newer than this loader's 1\.0: its newer callbacks \($((NEW_PLUGIN_SIZE - OLD_PLUGIN_SIZE)) extra bytes, ABI minor 1\) are unused$"
  logged "debug: loaded Rust plugin ramdisk \(build 1\) from $RAMDISK: ABI 1\.1, SDK "
  not_logged 'error:'
}

@test "ABI 1.1 -> 1.0 loader: a panic in load is logged and nbdkit goes on (load_checked unused)" {
  FAULTY_PANIC_IN_LOAD=1 run serve "$OLD_LOADER" "$FAULTY" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  logged "debug: $FAULTY: the plugin was built for ABI 1\.1, newer than this loader's 1\.0: its newer callbacks \($((NEW_PLUGIN_SIZE - OLD_PLUGIN_SIZE)) extra bytes, ABI minor 1\) are unused$"
  # The ABI 1.0 twin, load, ran: the SDK logged the panic and went on.
  logged '^nbdkit: error: load: panic: faulty: injected panic$'
  [ "$(logged_count 'panic: faulty: injected panic')" -eq 1 ]
  not_logged "the plugin's load failed"
  no_crash
  # The same plugin in the current loader: load_checked fails the start.
  FAULTY_PANIC_IN_LOAD=1 run serve "$LOADER" "$FAULTY" --run 'echo client ran'
  [ "$status" -eq 1 ]
  [ "$output" = "" ]
  logged "error: $FAULTY: the plugin's load failed"
}

@test "ABI 1.1 -> 1.0 loader: a panic in dump_plugin is logged and --dump-plugin exits 0 (dump_plugin_checked unused)" {
  dump "$OLD_LOADER" "$FAULTY" panic=dump_plugin message=Zorglub-overheated
  [ "$status" -eq 0 ]
  grep -qx 'rust_abi_version=1.1' <<< "$output"
  grep -q 'error: dump_plugin: panic: Zorglub-overheated' <<< "$output"
  [[ "$output" != *"faulty_callbacks="* ]]
  [[ "$output" != *"the plugin's dump_plugin failed"* ]]
  # The current loader: dump_plugin_checked fails the dump.
  dump "$LOADER" "$FAULTY" panic=dump_plugin message=Zorglub-overheated
  [ "$status" -eq 1 ]
  [[ "$output" == *"the plugin's dump_plugin failed"* ]]
}

# The host services new in ABI 1.1 are the filter services; of them
# nbdkit::Extents::new (extents_new) and nbdkit::Exports::new
# (exports_new) are public and callable from a plugin too.  Through the
# 1.0 loader the SDK sees the host table's struct_size end before the
# field and fails with ENOTSUP, never reading past the table.
@test "ABI 1.1 -> 1.0 loader: a 1.1-only host service (Extents::new) fails cleanly with ENOTSUP, no crash" {
  [ "$EXTENTS_NEW_END" -gt "$OLD_HOST_SIZE" ]
  nbdsh_script <<'EOF'
h = connect(meta_context=nbd.CONTEXT_BASE_ALLOCATION)
print(attempt(lambda: h.block_status(4096, 0, lambda *a: 0)))
print(bytes(h.pread(4, 0)))
print(attempt(lambda: h.block_status(4096, 0, lambda *a: 0)))
EOF
  run serve "$OLD_LOADER" "$PROBE" --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  # The plugin's extents failed with ENOTSUP (nbdkit's log says so),
  # which nbdkit 1.32 sends the client as NBD_EINVAL for block status.
  [ "$output" = "EINVAL
b'ZZZZ'
EINVAL" ]
  [ "$(logged_count 'debug: sending error reply: Operation not supported$')" -eq 2 ]
  message="nbdkit host service extents_new is not available: the loader's table has $OLD_HOST_SIZE bytes, the service needs $EXTENTS_NEW_END \(the loader is older than this plugin's SDK\)"
  logged "debug: abi11_probe: Extents::new: errno 95: $message$"
  [ "$(logged_count "error: .*$message")" -eq 2 ]
  no_crash
  # Control: the current loader hands over a 1.1 table and it works.
  run serve "$LOADER" "$PROBE" --run "$nbdsh_run"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "ok
b'ZZZZ'
ok" ]
  logged 'debug: abi11_probe: Extents::new: ok$'
  not_logged 'error:'
}
