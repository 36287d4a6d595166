#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# The minimum Rust version: the SDK, the examples and the test plugins
# type-check, the SDK's tests pass, and the READMEs' plugin builds,
# with Debian's own toolchain (the cargo and rustc packages: Rust
# 1.63), as distributions build plugins.

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

# The workspace is type-checked (cargo check: every error a language
# feature or std API newer than 1.63 gives, and the lints), not built:
# building its 40-odd cdylibs a second time costs CI minutes and would
# find nothing more about the Rust version.  What only a build shows
# (codegen, linking, the plugin's entry point) is covered with Debian's
# toolchain by the SDK's own tests here (the crate, its unit tests and
# doc-tests built and run) and by the READMEs' plugin below.
@test "the workspace type-checks with Debian's rustc, and the SDK's tests pass" {
  "$debian_rustc" --version
  grep -qx 'rust-version = "1.63"' "$top/rust-sdk/Cargo.toml"
  # A copy of the sources without Cargo.lock: Debian's cargo cannot read
  # the lock file newer cargos write.  Its own target directory, kept
  # between runs.
  src=$BUILD_DIR/msrv-src
  rm -rf "$src"
  mkdir -p "$src"
  tar -C "$top" --exclude=./build --exclude=./build-asan --exclude=./target --exclude=./.git \
      --exclude=Cargo.lock -cf - . | tar -C "$src" -xf -
  cd "$src"
  export CARGO_TARGET_DIR=$BUILD_DIR/cargo-msrv RUSTC=$debian_rustc \
         RUSTDOC=/usr/bin/rustdoc
  run timeout 1200 "$debian_cargo" check --offline --workspace --all-targets
  echo "$output" | tail -20
  [ "$status" -eq 0 ]
  # Unoptimised: half the build time of --release for these tests, and
  # with debug assertions and overflow checks (ctest's cargo-test runs
  # them optimised).
  run timeout 1200 "$debian_cargo" test --offline -p nbdkit --features testing
  echo "$output" | grep -E '^test result|FAILED|panicked' || true
  [ "$status" -eq 0 ]
  grep -q 'Doc-tests nbdkit' <<<"$output"
}

# The plugin of README.md and of rust-sdk/README.md, made as their
# authors would make it, built first with the build's cargo (rustup's:
# it writes Cargo.lock), then with the command the READMEs give for
# Debian's toolchain, in the same directory: the lock file must be one
# Debian's cargo reads (version 3: the README's rust-version = "1.63").
# The two crates share a target directory for each toolchain, so that
# the SDK they both depend on is built once by each.
@test "the READMEs' plugins build with a newer cargo, then with Debian's cargo and rustc" {
  for readme in README.md rust-sdk/README.md; do
    crate=$BATS_TEST_TMPDIR/${readme//\//-}
    readme_plugin "$top/$readme" "$crate"
    # rust-sdk/README.md's unit test too (the testing feature).
    md_block "$top/$readme" rust '#[cfg(test)]' >> "$crate/src/lib.rs" || true
    grep -qF 'RUSTC=/usr/bin/rustc /usr/bin/cargo build --release' "$top/$readme"
    cd "$crate"
    export CARGO_TARGET_DIR=$BATS_TEST_TMPDIR/target CARGO_NET_OFFLINE=true
    run env PATH="$build_path" timeout 300 "$CARGO" build --release
    echo "$output" | tail -5
    [ "$status" -eq 0 ]
    grep -m1 '^version' Cargo.lock
    export CARGO_TARGET_DIR=$BATS_TEST_TMPDIR/target-debian
    run env RUSTC=$debian_rustc timeout 300 "$debian_cargo" build --release
    echo "$output" | tail -5
    [ "$status" -eq 0 ]
    grep -qx 'version = 3' Cargo.lock
    grep -q '^  *Finished release' <<<"$output"
    nm -D --defined-only "$CARGO_TARGET_DIR/release/libmyplugin.so" | grep -qw nbdkit_rust_plugin_v1
    run env RUSTC=$debian_rustc timeout 300 "$debian_cargo" test --release
    echo "$output" | grep -E '^test |^test result' || true
    [ "$status" -eq 0 ]
    unset CARGO_TARGET_DIR CARGO_NET_OFFLINE
  done
  grep -q 'test tests::reads_zeroes ... ok' <<<"$output"
}
