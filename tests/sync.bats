#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# plugin! and Sync, at compile time: a plugin type that is not Sync
# gets a warning saying it will be served with serialize_requests and
# what to do, unless the plugin lists thread_model (its author chose a
# model); a Sync plugin type gets none.  (threads.bats checks what
# nbdkit then does.)
#
# A tiny crate of three cdylib examples is built with cargo, offline,
# and its warnings read: not_sync (a RefCell in the plugin type,
# thread_model not listed), listed (the same type, thread_model listed)
# and sync (a Sync type).

load helpers

: "${BUILD_DIR:=$top/build}"
use_build_cargo

# make_crate DIR: the three plugins.
make_crate () {
  mkdir -p "$1/src" "$1/examples"
  cat >"$1/Cargo.toml" <<EOF2
[package]
name = "sync-check"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
nbdkit = { path = "$top/rust-sdk" }

[[example]]
name = "not_sync"
crate-type = ["cdylib"]

[[example]]
name = "listed"
crate-type = ["cdylib"]

[[example]]
name = "sync"
crate-type = ["cdylib"]

[workspace]
EOF2
  echo '//! Nothing: the plugins are the examples.' >"$1/src/lib.rs"
  local common='
use nbdkit::*;
use std::cell::RefCell;

pub struct MyType {
    reads: RefCell<u64>,
}

impl Server for MyType {
    fn name() -> &'"'"'static str {
        "mytype"
    }
    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(MyType { reads: RefCell::new(0) }))
    }
    fn get_size(&self) -> Result<i64> {
        Ok(512)
    }
    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        *self.reads.borrow_mut() += 1;
        buf.fill(0);
        Ok(())
    }
    fn thread_model() -> Result<ThreadModel> {
        Ok(ThreadModel::SerializeRequests)
    }
}
'
  printf '%s\nplugin!(MyType {});\n' "$common" >"$1/examples/not_sync.rs"
  printf '%s\nplugin!(MyType { thread_model });\n' "$common" \
    >"$1/examples/listed.rs"
  sed -e 's/RefCell<u64>/std::sync::Mutex<u64>/' \
      -e 's/RefCell::new(0)/std::sync::Mutex::new(0)/' \
      -e 's/self.reads.borrow_mut()/self.reads.lock().unwrap()/' \
      -e '/^use std::cell::RefCell;$/d' \
      "$1/examples/not_sync.rs" >"$1/examples/sync.rs"
}

# build_with CARGO: builds the crate's examples with that cargo; its
# output in $output.
build_with () {
  local src=$BATS_TEST_TMPDIR/sync-check
  make_crate "$src"
  cd "$src"
  run env CARGO_TARGET_DIR="$BUILD_DIR/cargo-sync-check" PATH="$build_path" \
      timeout 600 "$1" build --offline --examples --color never
  echo "$output"
}

# check_warnings: exactly the not_sync example warned, with the note.
check_warnings () {
  [ "$status" -eq 0 ]
  grep -qF 'examples/not_sync.rs' <<<"$output"
  grep -qF 'the type given to plugin! is not Sync: nbdkit-rust serves it with the serialize_requests thread model. Make it Sync (Mutex/RwLock/atomics instead of Cell/RefCell, Arc instead of Rc) to serve requests in parallel, or implement thread_model returning ThreadModel::SerializeRequests (or stricter) and list it in plugin! to say that is what you want.' <<<"$output"
  grep -qE 'example "not_sync"\) generated 1 warning' <<<"$output"
  [ "$(grep -c 'is not Sync' <<<"$output")" -eq 1 ]
  ! grep -qF 'examples/listed.rs' <<<"$output"
  ! grep -qF 'examples/sync.rs' <<<"$output"
  ! grep -qE 'example "(listed|sync)"\) generated' <<<"$output"
}

@test "not Sync: plugin! warns what happens and what to do; listing thread_model or Sync: no warning" {
  build_with "$CARGO"
  check_warnings
}

@test "the same warnings with Debian's cargo and rustc (Rust 1.63)" {
  if [ ! -x /usr/bin/cargo ] || [ ! -x /usr/bin/rustc ]; then
    skip "no /usr/bin/cargo and /usr/bin/rustc (Debian's cargo and rustc packages)"
  fi
  build_path=/usr/bin:$PATH
  BUILD_DIR=$BUILD_DIR/msrv RUSTC=/usr/bin/rustc build_with /usr/bin/cargo
  check_warnings
}
