#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Packaging: what `cmake --install` installs (manual page, pkg-config
# file), the Debian package `cpack -G DEB` builds, installed on this
# machine and serving a plugin, and the `nbdkit` crate as `cargo
# package` makes it.

load helpers

: "${BUILD_DIR:=$top/build}"
use_build_cargo

# A C file that needs the ABI header and its constants.
abi_check_c='
#include <nbdkit-rust-abi.h>
_Static_assert (NBDKIT_RUST_ABI_MAJOR == 1, "ABI major");
int main (void) { return NBDKIT_RUST_HOST_V1_MIN_SIZE > 0 ? 0 : 1; }
'

# compile_abi_check: compiles and runs $abi_check_c with the flags
# pkg-config gives for nbdkit-rust (in the environment it is run in).
compile_abi_check () {
  local cflags
  cflags=$(pkg-config --cflags nbdkit-rust) || return 1
  echo "$abi_check_c" > "$BATS_TEST_TMPDIR/check.c"
  cc -Wall -Werror $cflags -o "$BATS_TEST_TMPDIR/check" "$BATS_TEST_TMPDIR/check.c" &&
    "$BATS_TEST_TMPDIR/check"
}

@test "the manual page is well-formed POD" {
  run podchecker "$top/docs/nbdkit-rust-plugin.pod"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" != *WARNING* ]]
}

@test "the manual page documents what the loader and the ABI say" {
  page=$BUILD_DIR/docs/nbdkit-rust-plugin.3
  [ -f "$page" ]
  run env MANWIDTH=80 man -l "$page"
  [ "$status" -eq 0 ]
  for heading in NAME SYNOPSIS DESCRIPTION PARAMETERS "THE ABI" \
                 "DUMP PLUGIN OUTPUT" "LOADING A PLUGIN DIRECTLY" \
                 EXAMPLES FILES "SEE ALSO" AUTHORS COPYRIGHT LICENSE; do
    grep -q "^$heading\$" <<<"$output" || { echo "no section $heading"; false; }
  done
  # Every key the loader takes (nbdkit rust --help) and every rust_*
  # field of --dump-plugin is in the source (the rendered page may
  # hyphenate them).
  pod=$top/docs/nbdkit-rust-plugin.pod
  help=$(nbdkit "$LOADER" --help)
  dump=$(nbdkit "$LOADER" rust="$RAMDISK" --dump-plugin)
  keys=$(grep -oE '^rust[a-z-]*=' <<<"$help"; grep -oE '^rust_[a-z_]+=' <<<"$dump")
  [ "$(wc -l <<<"$keys")" -ge 12 ]
  for key in $keys; do
    grep -qF "$key" "$pod" || { echo "$key is not documented"; false; }
  done
  # The ABI version it states is the header's.
  major=$(sed -n 's/^#define NBDKIT_RUST_ABI_MAJOR \([0-9]*\)$/\1/p' "$top/abi/nbdkit-rust-abi.h")
  minor=$(sed -n 's/^#define NBDKIT_RUST_ABI_MINOR \([0-9]*\)$/\1/p' "$top/abi/nbdkit-rust-abi.h")
  [ "$major.$minor" = 1.1 ]
  grep -qF "implements ABI $major.$minor" <<<"$output"
}

@test "C code builds against the ABI header with the build tree's nbdkit-rust.pc" {
  PKG_CONFIG_PATH=$BUILD_DIR/pkgconfig run compile_abi_check
  echo "$output"
  [ "$status" -eq 0 ]
}

@test "cmake --install puts the manual page and nbdkit-rust.pc where man and pkg-config find them" {
  dest=$BATS_TEST_TMPDIR/dest
  DESTDIR=$dest timeout 120 cmake --install "$BUILD_DIR" >/dev/null
  prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
  # man finds the page in the prefix's man directory.
  run env MANWIDTH=80 man -M "$dest$prefix/share/man" nbdkit-rust-plugin
  [ "$status" -eq 0 ]
  [[ "$output" == *"nbdkit-rust-plugin - nbdkit plugin loader for plugins written in Rust"* ]]
  # The installed .pc finds the header relative to itself.
  pc=$(find "$dest" -name nbdkit-rust.pc)
  [ -n "$pc" ]
  PKG_CONFIG_PATH=$(dirname "$pc") run compile_abi_check
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags nbdkit-rust)" == "-I$(dirname "$pc")/"* ]]
  [ "$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=plugindir nbdkit-rust)" = "$NBDKIT_PLUGINDIR" ]
}

@test "after cmake --install, man nbdkit-rust-plugin shows the page" {
  prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
  installed=$prefix/share/man/man3/nbdkit-rust-plugin.3
  if ! cmp -s "$installed" "$BUILD_DIR/docs/nbdkit-rust-plugin.3"; then
    skip "this build's manual page is not installed in $prefix (run cmake --install)"
  fi
  run env MANWIDTH=80 man nbdkit-rust-plugin
  [ "$status" -eq 0 ]
  [[ "$output" == *"nbdkit-rust-plugin - nbdkit plugin loader"* ]]
}

# --- The Debian package.

package=nbdkit-plugin-rust

# dpkg ARGS..., waiting (up to 5 minutes) while another dpkg or apt
# holds dpkg's lock.
dpkg_waiting () {
  local i out
  for i in $(seq 300); do
    if out=$(DEBIAN_FRONTEND=noninteractive timeout 300 dpkg "$@" 2>&1); then
      echo "$out"
      return 0
    fi
    [[ "$out" == *"lock"* ]] || break
    sleep 1
  done
  echo "$out" >&2
  return 1
}

# Put back what the test changed: remove the package it installed, and
# restore the files it replaced (cmake --install's loader, for one:
# install.bats checks it).
teardown () {
  if [ -f "$BATS_TEST_TMPDIR/installed" ]; then
    dpkg_waiting -r "$package" >/dev/null
    if [ -d "$BATS_TEST_TMPDIR/backup" ]; then
      cp -a "$BATS_TEST_TMPDIR/backup/." /
    fi
    rm -f "$BATS_TEST_TMPDIR/installed"
  fi
}

@test "cpack -G DEB builds the package, which installs, serves with nbdkit rust, and is removed" {
  [ "$(id -u)" = 0 ] || skip "installing a package needs root"
  command -v dpkg >/dev/null || skip "no dpkg: not a Debian system"
  # One run at a time on this machine installs and removes the package
  # (the lock goes with this process, after teardown).
  exec {lock}>/tmp/nbdkit-rust-package-test.lock
  flock -w 900 "$lock"
  if dpkg -s "$package" >/dev/null 2>&1; then
    skip "$package is installed already: this test would replace it"
  fi

  PATH=$build_path timeout 600 cpack -G DEB --config "$BUILD_DIR/CPackConfig.cmake" \
    -B "$BATS_TEST_TMPDIR/pkg" >"$BATS_TEST_TMPDIR/cpack.log"
  deb=$(echo "$BATS_TEST_TMPDIR"/pkg/${package}_*.deb)
  [ -f "$deb" ]

  # It depends on the nbdkit it was built for, and holds the four parts.
  depends=$(dpkg-deb -f "$deb" Depends)
  echo "Depends: $depends"
  [[ "$depends" == *"nbdkit (>= $(pkg-config --modversion nbdkit))"* ]]
  dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$BATS_TEST_TMPDIR/files"
  filterdir=$(pkg-config --variable=filterdir nbdkit)
  for f in "$NBDKIT_PLUGINDIR/nbdkit-rust-plugin.so" \
           "$filterdir/nbdkit-rust-filter.so" \
           /usr/include/nbdkit-rust-abi.h \
           /usr/share/man/man3/nbdkit-rust-plugin.3 \
           /usr/share/man/man3/nbdkit-rust-filter.3; do
    grep -qx "$f" "$BATS_TEST_TMPDIR/files" || { echo "$f is not packaged"; false; }
  done
  grep -qE '^/usr/lib/.*pkgconfig/nbdkit-rust\.pc$' "$BATS_TEST_TMPDIR/files"

  # Keep what the package will overwrite, then install it.
  while read -r f; do
    if [ -f "$f" ]; then
      mkdir -p "$BATS_TEST_TMPDIR/backup$(dirname "$f")"
      cp -a "$f" "$BATS_TEST_TMPDIR/backup$f"
    fi
  done < "$BATS_TEST_TMPDIR/files"
  touch "$BATS_TEST_TMPDIR/installed"
  dpkg_waiting -i "$deb"
  dpkg -s "$package" | grep -q '^Status: install ok installed$'

  # nbdkit finds the packaged loader by its short name.
  dpkg-deb -x "$deb" "$BATS_TEST_TMPDIR/unpacked"
  cmp "$NBDKIT_PLUGINDIR/nbdkit-rust-plugin.so" \
      "$BATS_TEST_TMPDIR/unpacked$NBDKIT_PLUGINDIR/nbdkit-rust-plugin.so"
  run timeout 60 nbdkit -U - rust "$RAMDISK" size=1M \
      --run 'nbdsh -u "$uri" -c "h.pwrite(b\"packaged\", 4096); print(h.get_size(), h.pread(8, 4096).decode())"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "1048576 packaged" ]
  # And the packaged filter loader by --filter=rust.
  run timeout 60 nbdkit -U - --filter=rust memory 1M \
      rust-filter="$RUST_OUT/libfilter_passthrough.so" \
      --run 'nbdsh -u "$uri" -c "h.pwrite(b\"filtered\", 4096); print(h.pread(8, 4096).decode())"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = "filtered" ]

  # man finds the packaged pages; pkg-config the packaged .pc.
  man -w -a nbdkit-rust-plugin | grep -qx /usr/share/man/man3/nbdkit-rust-plugin.3
  man -w -a nbdkit-rust-filter | grep -qx /usr/share/man/man3/nbdkit-rust-filter.3
  PKG_CONFIG_LIBDIR=/usr/lib/pkgconfig:/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/pkgconfig \
    run compile_abi_check
  echo "$output"
  [ "$status" -eq 0 ]

  # Removing it removes its files (teardown then puts back the rest).
  dpkg_waiting -r "$package"
  rm -f "$BATS_TEST_TMPDIR/installed"
  run dpkg -s "$package"
  [[ "$output" != *"Status: install ok installed"* ]]
  [ ! -e /usr/include/nbdkit-rust-abi.h ]
  cp -a "$BATS_TEST_TMPDIR/backup/." / 2>/dev/null || true
}

# --- The crate.

@test "cargo package lists only what belongs to the nbdkit crate" {
  cd "$top"
  run env PATH="$build_path" CARGO_TARGET_DIR="$BATS_TEST_TMPDIR/target" \
      timeout 300 "$CARGO" package -p nbdkit --list --allow-dirty --offline
  echo "$output"
  [ "$status" -eq 0 ]
  files=$(grep -v '^warning' <<<"$output")
  # Nothing but the sources, the header, the manifest and the docs.
  extra=$(grep -vxE '\.cargo_vcs_info\.json|Cargo\.toml(\.orig)?|Cargo\.lock|README\.md|CHANGELOG\.md|LICENSE|abi/nbdkit-rust-abi\.h|abi/nbdkit-defaults\.tsv|(src|tests)/[a-z_/]+\.rs' <<<"$files" || true)
  [ -z "$extra" ]
  # And all of those: every source file too.
  for f in README.md CHANGELOG.md LICENSE abi/nbdkit-rust-abi.h abi/nbdkit-defaults.tsv \
           $(cd rust-sdk && find src tests -name '*.rs'); do
    grep -qx "$f" <<<"$files" || { echo "$f is missing"; false; }
  done
}

@test "the packaged crate builds and passes its own tests, offline" {
  cd "$top"
  PATH=$build_path CARGO_TARGET_DIR=$BATS_TEST_TMPDIR/target \
    timeout 300 "$CARGO" package -p nbdkit --allow-dirty --offline --no-verify
  crate=$(echo "$BATS_TEST_TMPDIR"/target/package/nbdkit-*.crate)
  mkdir "$BATS_TEST_TMPDIR/unpacked"
  tar -xzf "$crate" -C "$BATS_TEST_TMPDIR/unpacked"
  cd "$BATS_TEST_TMPDIR"/unpacked/nbdkit-*
  # The header is a file of its own there, not a link into the repository.
  [ -f abi/nbdkit-rust-abi.h ] && [ ! -L abi/nbdkit-rust-abi.h ]
  cmp abi/nbdkit-rust-abi.h "$top/abi/nbdkit-rust-abi.h"
  # So is the licence, the repository's (rust-sdk/LICENSE links to it).
  [ -f LICENSE ] && [ ! -L LICENSE ]
  cmp LICENSE "$top/LICENSE"
  run env PATH="$build_path" CARGO_TARGET_DIR="$BATS_TEST_TMPDIR/target" \
      timeout 600 "$CARGO" test --offline --features testing
  echo "$output" | tail -30
  [ "$status" -eq 0 ]
  # The layout test (ffi.rs against the shipped header) and the
  # doctests ran.
  grep -q 'tests::layout::.* ok' <<<"$output"
  grep -q 'Doc-tests nbdkit' <<<"$output"
}
