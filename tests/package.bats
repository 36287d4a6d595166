#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Packaging: what `cmake --install` installs (manual pages, pkg-config
# file, the SDK crate in the distribution's crate registry, the examples
# by name), the `nbdkit` crate as `cargo package` makes it, the Debian
# packages debian/ builds (dpkg-buildpackage from a clean copy, Debian's
# Rust, no network), lintian-clean, installed on this machine and
# serving by name, their autopkgtest, and the Fedora spec
# rpm/nbdkit-rust.spec (rpmbuild, rpmlint).

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

# --- The SDK crate in the crate registry, and the examples by name.

sdk_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$top/rust-sdk/Cargo.toml")

# new_plugin DIR VERSION: a new plugin crate in DIR, depending on
# nbdkit = "VERSION" (from the registry), serving a 3 MiB disk.
new_plugin () {
  mkdir -p "$1/src"
  cat > "$1/Cargo.toml" <<TOML
[package]
name = "newplugin"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
nbdkit = "$2"
TOML
  cat > "$1/src/lib.rs" <<'RUST'
use nbdkit::*;

#[derive(Default)]
struct NewPlugin {}

impl Server for NewPlugin {
    fn name() -> &'static str {
        "newplugin"
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(NewPlugin::default()))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(3 << 20)
    }

    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        buf.fill(0);
        Ok(())
    }
}

plugin!(NewPlugin {});
RUST
}

# registry_cargo_home DIR REGISTRY: DIR is a CARGO_HOME whose
# config.toml takes crates from the directory source REGISTRY instead
# of crates.io (README.md, "Using other crates").
registry_cargo_home () {
  mkdir -p "$1"
  cat > "$1/config.toml" <<TOML
[source.crates-io]
replace-with = "registry"

[source.registry]
directory = "$2"
TOML
}

@test "cmake --install puts the SDK crate in the crate registry as Debian's librust-*-dev packages lay crates out" {
  dest=$BATS_TEST_TMPDIR/dest
  DESTDIR=$dest timeout 300 cmake --install "$BUILD_DIR" >/dev/null
  registry=$(sed -n 's/^RUST_REGISTRY_DIR:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
  crate=$dest$registry/nbdkit-$sdk_version
  [ -d "$crate" ]
  # As cargo package ships it: the normalised manifest, real files
  # where rust-sdk/ has links, no Cargo.toml.orig or Cargo.lock.
  head -1 "$crate/Cargo.toml" | grep -q 'THIS FILE IS AUTOMATICALLY GENERATED BY CARGO'
  [ -z "$(find "$crate" -type l)" ]
  cmp "$crate/abi/nbdkit-rust-abi.h" "$top/abi/nbdkit-rust-abi.h"
  cmp "$crate/LICENSE" "$top/LICENSE"
  [ ! -e "$crate/Cargo.toml.orig" ] && [ ! -e "$crate/Cargo.lock" ]
  # The checksum file as Debian has it: the .crate's SHA-256, no file
  # sums; files readable by all, written by none but root.
  sum=$(sha256sum "$BUILD_DIR/sdk-crate/target/package/nbdkit-$sdk_version.crate" | cut -d' ' -f1)
  [ "$(cat "$crate/.cargo-checksum.json")" = "{\"package\":\"$sum\",\"files\":{}}" ]
  [ -z "$(find "$crate" -type f ! -perm 644)" ]
  [ -z "$(find "$crate" -type d ! -perm 755)" ]
}

@test "a new plugin with nbdkit = VERSION builds offline against the installed crate, with Debian's cargo and the build's" {
  [ -x /usr/bin/cargo ] || skip "no Debian cargo (/usr/bin/cargo)"
  dest=$BATS_TEST_TMPDIR/dest
  DESTDIR=$dest timeout 300 cmake --install "$BUILD_DIR" >/dev/null
  registry=$(sed -n 's/^RUST_REGISTRY_DIR:PATH=//p' "$BUILD_DIR/CMakeCache.txt")
  registry_cargo_home "$BATS_TEST_TMPDIR/cargo-home" "$dest$registry"
  new_plugin "$BATS_TEST_TMPDIR/plugin" "$sdk_version"
  cd "$BATS_TEST_TMPDIR/plugin"
  for cargo in /usr/bin/cargo "$CARGO"; do
    rm -rf target Cargo.lock
    run env CARGO_HOME="$BATS_TEST_TMPDIR/cargo-home" RUSTC="$(dirname "$cargo")/rustc" \
        timeout 300 "$cargo" build --release --offline
    echo "$output"
    [ "$status" -eq 0 ]
    run timeout 60 nbdkit -U - "$LOADER" ./target/release/libnewplugin.so \
        --run 'nbdinfo --size "$uri"'
    [ "$status" -eq 0 ]
    [ "$output" = 3145728 ]
  done
}

@test "cmake --install puts the example plugins and filters where the loaders find them by name" {
  dest=$BATS_TEST_TMPDIR/dest
  DESTDIR=$dest timeout 300 cmake --install "$BUILD_DIR" >/dev/null
  plugindir=$(PKG_CONFIG_PATH=$BUILD_DIR/pkgconfig pkg-config --variable=rustplugindir nbdkit-rust-uninstalled)
  filterdir=$(PKG_CONFIG_PATH=$BUILD_DIR/pkgconfig pkg-config --variable=rustfilterdir nbdkit-rust-uninstalled)
  for p in ramdisk filedisk; do
    cmp "$dest$plugindir/lib$p.so" "$RUST_OUT/lib$p.so"
  done
  for f in cow offset partition passthrough swab; do
    cmp "$dest$filterdir/lib$f.so" "$RUST_OUT/libfilter_$f.so"
  done
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

# --- The Debian packages (debian/).
#
# Built once, by the first test, from a clean copy of the tree (its
# files, tracked or new, not build trees) with Debian's rustc and cargo
# only (PATH has no other, HOME no ~/.cargo), no network (a network
# namespace of its own, when root can make one), and the Build-Depends
# checked by dpkg-buildpackage.  The later tests use what it built.

debs=$BATS_FILE_TMPDIR/debs
packages=(nbdkit-plugin-rust nbdkit-plugin-rust-dev librust-nbdkit-dev nbdkit-plugin-rust-examples)

# clean_copy DIR: the tree's own files, as a clone has them, into DIR.
clean_copy () {
  mkdir -p "$1"
  git -C "$top" ls-files -z --cached --others --exclude-standard |
    (cd "$top" && cpio -0 -pdm --quiet "$1")
}

need_debs () {
  changes=$(echo "$debs"/nbdkit-rust_*.changes)
  [ -f "$changes" ] || skip "the .debs did not build (see the first Debian test)"
}

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

# Remove what the suite installed and put back the files the packages
# replaced (cmake --install's loader and crate, which install.bats
# checks).
teardown_file () {
  if [ -f "$BATS_FILE_TMPDIR/installed" ]; then
    dpkg_waiting -r "${packages[@]}" >/dev/null || true
    if [ -d "$BATS_FILE_TMPDIR/backup" ]; then
      cp -a "$BATS_FILE_TMPDIR/backup/." /
    fi
  fi
}

@test "dpkg-buildpackage builds the .debs from a clean copy, with Debian's Rust and no network" {
  command -v dpkg-buildpackage >/dev/null ||
    skip "no dpkg-buildpackage (scripts/setup-debian installs dpkg-dev and debhelper)"
  version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
  src=$BATS_FILE_TMPDIR/build/nbdkit-rust-${version%-*}
  clean_copy "$src"
  [ ! -e "$src/build" ] && [ -d "$src/debian" ]
  # Every Build-Depends installed (dpkg-buildpackage checks it too).
  (cd "$src" && dpkg-checkbuilddeps)
  offline=()
  if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
    offline=(unshare --net)
  fi
  mkdir -p "$BATS_FILE_TMPDIR/home"
  cd "$src"
  run env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$BATS_FILE_TMPDIR/home" \
      LANG=C.UTF-8 timeout 1200 "${offline[@]}" dpkg-buildpackage -us -uc -b
  echo "$output" | tail -40
  [ "$status" -eq 0 ]
  # Debian's compiler built it, cargo stayed in the build tree.
  grep -q 'smoke test: the loaders serve the example plugin and filter' <<<"$output"
  [ ! -e "$BATS_FILE_TMPDIR/home/.cargo" ]
  # Every package, with the .changes that lists them (and the dbgsym
  # packages, which lintian reads too).
  mkdir -p "$debs"
  mv "$BATS_FILE_TMPDIR"/build/*.deb "$BATS_FILE_TMPDIR"/build/*.changes \
     "$BATS_FILE_TMPDIR"/build/*.buildinfo "$debs/"
  for p in "${packages[@]}"; do
    [ -f "$(echo "$debs/${p}"_*.deb)" ] || { echo "no $p package"; false; }
  done
}

@test "lintian finds no error and no warning in the .debs" {
  need_debs
  command -v lintian >/dev/null || skip "no lintian (scripts/setup-debian installs it)"
  run timeout 600 lintian --fail-on error,warning "$changes"
  echo "$output"
  [ "$status" -eq 0 ]
  ! grep -qE '^[EW]: ' <<<"$output"
}

@test "the .debs: what each holds, and their dependencies" {
  need_debs
  contents () { dpkg-deb -c "$(echo "$debs/$1"_*.deb)" | awk '{print $6}' | sed 's|^\./|/|'; }
  filterdir=$(pkg-config --variable=filterdir nbdkit)
  libdir=$(dirname "$NBDKIT_PLUGINDIR")
  files=$(contents nbdkit-plugin-rust)
  for f in "$NBDKIT_PLUGINDIR/nbdkit-rust-plugin.so" "$filterdir/nbdkit-rust-filter.so" \
           /usr/share/man/man3/nbdkit-rust-plugin.3.gz /usr/share/man/man3/nbdkit-rust-filter.3.gz \
           /usr/share/doc/nbdkit-plugin-rust/copyright; do
    grep -qx "$f" <<<"$files" || { echo "$f is not in nbdkit-plugin-rust"; false; }
  done
  files=$(contents nbdkit-plugin-rust-dev)
  grep -qx /usr/include/nbdkit-rust-abi.h <<<"$files"
  grep -qE '^/usr/lib/.*/pkgconfig/nbdkit-rust\.pc$' <<<"$files"
  files=$(contents librust-nbdkit-dev)
  grep -qx "/usr/share/cargo/registry/nbdkit-$sdk_version/.cargo-checksum.json" <<<"$files"
  grep -qx "/usr/share/cargo/registry/nbdkit-$sdk_version/src/lib.rs" <<<"$files"
  files=$(contents nbdkit-plugin-rust-examples)
  grep -qx "$libdir/rust-plugins/libramdisk.so" <<<"$files"
  grep -qx "$libdir/rust-filters/liboffset.so" <<<"$files"
  # The filter loader only loads into the nbdkit release it was built
  # against.
  nbdkit_version=$(pkg-config --modversion nbdkit)
  depends=$(dpkg-deb -f "$(echo "$debs"/nbdkit-plugin-rust_*.deb)" Depends)
  echo "Depends: $depends"
  [[ "$depends" == *"nbdkit (>= $nbdkit_version), nbdkit (<< "* ]]
  # The crate package carries the crate's version and provides the
  # names cargo's Debian packages depend on.
  deb=$(echo "$debs"/librust-nbdkit-dev_*.deb)
  [ "$(dpkg-deb -f "$deb" Architecture)" = all ]
  [[ "$(dpkg-deb -f "$deb" Version)" == "$sdk_version-"* ]]
  [[ "$(dpkg-deb -f "$deb" Provides)" == *"librust-nbdkit-${sdk_version%.*}-dev (= $sdk_version-"* ]]
}

@test "the .debs install, and nbdkit rust ramdisk size=1G serves the packaged example by name" {
  need_debs
  [ "$(id -u)" = 0 ] || skip "installing packages needs root"
  for p in "${packages[@]}"; do
    if dpkg -s "$p" >/dev/null 2>&1; then
      skip "$p is installed already: this suite would replace it"
    fi
  done
  # Keep what the packages will overwrite (cmake --install's files),
  # for teardown_file to put back.
  for p in "${packages[@]}"; do
    dpkg-deb -c "$(echo "$debs/$p"_*.deb)" | awk '{print $6}' | sed 's|^\./|/|'
  done > "$BATS_FILE_TMPDIR/files"
  while read -r f; do
    if [ -f "$f" ] && [ ! -L "$f" ]; then
      mkdir -p "$BATS_FILE_TMPDIR/backup$(dirname "$f")"
      cp -a "$f" "$BATS_FILE_TMPDIR/backup$f"
    fi
  done < "$BATS_FILE_TMPDIR/files"
  touch "$BATS_FILE_TMPDIR/installed"
  for p in "${packages[@]}"; do echo "$debs/$p"_*.deb; done > "$BATS_FILE_TMPDIR/deb-list"
  dpkg_waiting -i $(cat "$BATS_FILE_TMPDIR/deb-list")
  for p in "${packages[@]}"; do
    dpkg -s "$p" | grep -q '^Status: install ok installed$'
  done
  run timeout 60 nbdkit -U - rust ramdisk size=1G --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1073741824 ]
}

installed () {
  local p
  [ -f "$BATS_FILE_TMPDIR/installed" ] || skip "the .debs are not installed (see the test before)"
  for p in "${packages[@]}"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed$' ||
      { echo "$p is not installed"; return 1; }
  done
}

@test "installed: --filter=rust rust-filter=offset loads the packaged example filter" {
  installed
  run timeout 60 nbdkit -U - --filter=rust memory 1M rust-filter=offset offset=512 \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = 1048064 ]
}

@test "installed: man nbdkit-rust-plugin and man nbdkit-rust-filter" {
  installed
  run env MANWIDTH=80 man nbdkit-rust-plugin
  [ "$status" -eq 0 ]
  [[ "$output" == *"nbdkit-rust-plugin - nbdkit plugin loader"* ]]
  run env MANWIDTH=80 man nbdkit-rust-filter
  [ "$status" -eq 0 ]
  [[ "$output" == *"nbdkit-rust-filter - "* ]]
  man -w nbdkit-rust-plugin | grep -qx /usr/share/man/man3/nbdkit-rust-plugin.3.gz
}

@test "installed: a new plugin with nbdkit = VERSION builds offline with Debian's cargo from /usr/share/cargo/registry" {
  installed
  registry_cargo_home "$BATS_TEST_TMPDIR/cargo-home" /usr/share/cargo/registry
  new_plugin "$BATS_TEST_TMPDIR/plugin" "$sdk_version"
  cd "$BATS_TEST_TMPDIR/plugin"
  offline=()
  if unshare --net true 2>/dev/null; then offline=(unshare --net); fi
  run env -i PATH=/usr/bin:/bin HOME="$BATS_TEST_TMPDIR" \
      CARGO_HOME="$BATS_TEST_TMPDIR/cargo-home" \
      timeout 300 "${offline[@]}" /usr/bin/cargo build --release --offline
  echo "$output"
  [ "$status" -eq 0 ]
  run timeout 60 nbdkit -U - rust ./target/release/libnewplugin.so \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$output" = 3145728 ]
}

@test "installed: the autopkgtest (debian/tests) passes" {
  installed
  if command -v autopkgtest >/dev/null; then
    # The null runner tests this machine, where the packages are.
    run timeout 900 autopkgtest --no-built-binaries "$top" -- null
    echo "$output" | tail -30
    [ "$status" -eq 0 ] || [ "$status" -eq 2 ]   # 2: a test skipped
    grep -qE '^serve-by-name +PASS' <<<"$output"
    grep -qE '^cargo-offline +PASS' <<<"$output"
    grep -qE '^source-plugin +(PASS|SKIP)' <<<"$output"
  else
    # Without autopkgtest: its scripts, as it would run them.
    for t in serve-by-name cargo-offline source-plugin; do
      AUTOPKGTEST_TMP=$BATS_TEST_TMPDIR/$t
      mkdir -p "$AUTOPKGTEST_TMP"
      AUTOPKGTEST_TMP=$AUTOPKGTEST_TMP run timeout 600 "$top/debian/tests/$t"
      echo "$t: $output"
      [ "$status" -eq 0 ] || { [ "$t" = source-plugin ] && [ "$status" -eq 77 ]; }
    done
  fi
}

@test "removing the .debs removes their files" {
  installed
  dpkg_waiting -r "${packages[@]}"
  for p in "${packages[@]}"; do
    run dpkg -s "$p"
    [[ "$output" != *"Status: install ok installed"* ]]
  done
  [ ! -e /usr/include/nbdkit-rust-abi.h ]
  [ ! -e "/usr/share/cargo/registry/nbdkit-$sdk_version/src/lib.rs" ]
  [ ! -e "$(dirname "$NBDKIT_PLUGINDIR")/rust-plugins/libramdisk.so" ]
  rm -f "$BATS_FILE_TMPDIR/installed"
  cp -a "$BATS_FILE_TMPDIR/backup/." / 2>/dev/null || true
}

# --- The Fedora spec (rpm/).

@test "rpmbuild -bb builds rpm/nbdkit-rust.spec, and rpmlint finds no error" {
  command -v rpmbuild >/dev/null || skip "no rpmbuild (apt-get install rpm rpmlint)"
  topdir=$BATS_TEST_TMPDIR/rpm
  version=$(sed -n 's/^Version: *//p' "$top/rpm/nbdkit-rust.spec" | head -1)
  # The spec's crate version is the crate's.
  grep -qx "%global sdk_version $sdk_version" "$top/rpm/nbdkit-rust.spec"
  mkdir -p "$topdir/SOURCES"
  clean_copy "$topdir/src/nbdkit-rust-$version"
  tar -C "$topdir/src" -czf "$topdir/SOURCES/nbdkit-rust-$version.tar.gz" "nbdkit-rust-$version"
  # --nodeps: the BuildRequires are Fedora's names.
  run env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$BATS_TEST_TMPDIR" \
      timeout 1200 rpmbuild -bb --nodeps --define "_topdir $topdir" \
      "$top/rpm/nbdkit-rust.spec"
  echo "$output" | tail -30
  [ "$status" -eq 0 ]
  grep -q 'smoke test: the loaders serve the example plugin and filter' <<<"$output"
  for p in nbdkit-rust-plugin nbdkit-rust-plugin-devel nbdkit-rust-example-plugins; do
    [ -f "$(echo "$topdir"/RPMS/*/$p-$version-*.rpm)" ] || { echo "no $p"; false; }
  done
  [ -f "$(echo "$topdir"/RPMS/noarch/rust-nbdkit-devel-$sdk_version-*.noarch.rpm)" ]
  command -v rpmlint >/dev/null || skip "no rpmlint"
  run rpmlint -c "$top/rpm/rpmlint.toml" "$topdir"/RPMS/*/*.rpm "$top/rpm/nbdkit-rust.spec"
  echo "$output"
  [ "$status" -eq 0 ] || [ "$status" -eq 64 ]   # 64: warnings only
  grep -q ' 0 errors' <<<"$output"
}
