#!/usr/bin/env bats
# The minimum Rust version: the SDK, the examples and the test plugins
# build, and the SDK's tests pass, with Debian's own toolchain (the
# cargo and rustc packages: Rust 1.63), as distributions build plugins.

load helpers

: "${BUILD_DIR:=$top/build}"
use_build_cargo

debian_cargo=/usr/bin/cargo
debian_rustc=/usr/bin/rustc

setup () {
  if [ ! -x "$debian_cargo" ] || [ ! -x "$debian_rustc" ]; then
    skip "no $debian_cargo and $debian_rustc (Debian's cargo and rustc packages; scripts/setup-debian installs them)"
  fi
  if [ "$(readlink -f "$CARGO")" = "$(readlink -f "$debian_cargo")" ]; then
    skip "the build itself uses Debian's cargo ($CARGO): every other suite checks it"
  fi
}

@test "the workspace builds with Debian's rustc, and the SDK's tests pass" {
  "$debian_rustc" --version
  grep -qx 'rust-version = "1.63"' "$top/rust-sdk/Cargo.toml"
  # A copy of the sources without Cargo.lock: Debian's cargo cannot read
  # the lock file newer cargos write.  Its own target directory, kept
  # between runs.
  src=$BUILD_DIR/msrv-src
  rm -rf "$src"
  mkdir -p "$src"
  tar -C "$top" --exclude=./build --exclude=./target --exclude=./.git \
      --exclude=Cargo.lock -cf - . | tar -C "$src" -xf -
  cd "$src"
  export CARGO_TARGET_DIR=$BUILD_DIR/cargo-msrv RUSTC=$debian_rustc \
         RUSTDOC=/usr/bin/rustdoc
  run timeout 1200 "$debian_cargo" build --offline --release --workspace --all-targets
  echo "$output" | tail -20
  [ "$status" -eq 0 ]
  run timeout 1200 "$debian_cargo" test --offline --release -p nbdkit --features testing
  echo "$output" | grep -E '^test result|FAILED|panicked' || true
  [ "$status" -eq 0 ]
  grep -q 'Doc-tests nbdkit' <<<"$output"
}
