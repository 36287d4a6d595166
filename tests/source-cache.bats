#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# The cache of plugins from source, $XDG_CACHE_HOME/nbdkit-rust (else
# $HOME/.cache/nbdkit-rust): where it is, what a warm start costs (no
# compiler run), what changes the key, two servers building the same
# script at once, and the entries the loader refuses to use (another
# user's, writable by group or others, a symbolic link, a noexec file
# system).

load helpers
load source-helpers

setup_file () { source_setup_file; }
setup () { source_setup; }

teardown () {
  if mountpoint -q "$BATS_TEST_TMPDIR/noexec" 2>/dev/null; then
    umount "$BATS_TEST_TMPDIR/noexec"
  fi
}

# mode PATH: its permission bits, in octal.
mode () { stat -c %a "$1"; }

# ---- Where, and what is in it.

@test "the cache is \$XDG_CACHE_HOME/nbdkit-rust, private, with each build and its .info" {
  rm -rf "$XDG_CACHE_HOME"        # made by the loader, parents included
  export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg/cache
  CACHE=$XDG_CACHE_HOME/nbdkit-rust
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run 'nbdinfo --size "$uri"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  [ "$(mode "$BATS_TEST_TMPDIR/xdg")" = 700 ]
  [ "$(mode "$XDG_CACHE_HOME")" = 700 ]
  [ "$(mode "$CACHE")" = 700 ]
  for d in "$CACHE"/*/; do
    [ "$(mode "$d")" = 700 ]
  done
  # The SDK compiled once, the plugin, its description.
  [ "$(find "$CACHE/sdk" -name libnbdkit.rlib | wc -l)" -eq 1 ]
  lib=$(cached_libs)
  [[ "$lib" =~ ^$CACHE/lib/[0-9a-f]{64}\.so$ ]]
  [ $(( 0$(mode "$lib") & 022 )) -eq 0 ]
  info=${lib%.so}.info
  cat "$info"
  grep -qx "source=$BATS_TEST_TMPDIR/p.rs" "$info"
  grep -qx "compiler=$("$RUSTC" -V)" "$info"
  grep -q '^compiler_path=.' "$info"
  grep -qx 'profile=release' "$info"
  # No temporary build directory left.
  [ -z "$(ls -A "$CACHE/tmp" 2>/dev/null)" ]
  logged 'debug: built .* in [0-9]+ ms'
}

@test "without XDG_CACHE_HOME the cache is \$HOME/.cache/nbdkit-rust" {
  home=$BATS_TEST_TMPDIR/home
  mkdir "$home"
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  HOME=$home run env -u XDG_CACHE_HOME bash -c '
    timeout 300 nbdkit -U - "$LOADER" rust="$0" --run "nbdinfo --size \"\$uri\""' \
    "$BATS_TEST_TMPDIR/p.rs"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = 1048576 ]
  [ "$(mode "$home/.cache")" = 700 ]
  [ "$(mode "$home/.cache/nbdkit-rust")" = 700 ]
  [ "$(find "$home/.cache/nbdkit-rust/lib" -name '*.so' | wc -l)" -eq 1 ]
  # This test's XDG_CACHE_HOME was not used.
  [ "$(cached_libs | wc -l)" -eq 0 ]
  # An empty XDG_CACHE_HOME counts as unset.
  rm -rf "$home/.cache"
  HOME=$home XDG_CACHE_HOME= run timeout 300 nbdkit -U - "$LOADER" \
    rust="$BATS_TEST_TMPDIR/p.rs" --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$(find "$home/.cache/nbdkit-rust/lib" -name '*.so' | wc -l)" -eq 1 ]
}

# ---- Warm starts and keys.

@test "a warm start compiles nothing and runs no compiler" {
  if [ -n "${NBDKIT_CHECKER:-}" ]; then
    skip "LeakSanitizer cannot run under strace (run in the plain pass)"
  fi
  cp "$DISK_RS" "$BATS_TEST_TMPDIR/disk.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/disk.rs" 1M --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$(compiles_logged)" -eq 1 ]
  lib=$(cached_libs)
  stamp=$(stat -c %Y.%i "$lib")
  # Again, under strace: no process is started but the --run client.
  traced () {
    timeout 120 strace -f -qq -e trace=execve -o "$BATS_TEST_TMPDIR/trace" \
      nbdkit -v -U - "$LOADER" rust="$BATS_TEST_TMPDIR/disk.rs" 1M \
      --run 'nbdinfo --size "$uri"' 2>"$(nbdkit_log)"
  }
  run traced
  [ "$status" -eq 0 ]
  [ "$output" = 1048576 ]
  grep -F 'execve(' "$BATS_TEST_TMPDIR/trace"
  ! grep -E 'execve\("[^"]*(rustc|cargo|rustup)"' "$BATS_TEST_TMPDIR/trace"
  logged 'debug: .*cache hit'
  [ "$(compiles_logged)" -eq 0 ]
  [ "$(cached_libs)" = "$lib" ]
  [ "$(stat -c %Y.%i "$lib")" = "$stamp" ]
}

@test "the compiler's -vV is asked once per compiler, then remembered" {
  # A wrapper that records each run of the compiler.
  mkdir "$BATS_TEST_TMPDIR/bin"
  wrapper=$BATS_TEST_TMPDIR/bin/rustc
  printf '#!/bin/sh\necho "$*" >> %q\nexec %q "$@"\n' \
    "$BATS_TEST_TMPDIR/calls" "$RUSTC" > "$wrapper"
  chmod +x "$wrapper"
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" rust-rustc="$wrapper" \
      --run 'nbdinfo --size "$uri"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  cat "$BATS_TEST_TMPDIR/calls"
  # -vV, and the plugin (the SDK's build is the warm cache's: the key
  # has the compiler's -vV, which is rustc's own).
  [ "$(grep -c -- '-vV' "$BATS_TEST_TMPDIR/calls")" -eq 1 ]
  grep -q -- '--crate-type cdylib' "$BATS_TEST_TMPDIR/calls"
  # Warm: not run at all.
  : > "$BATS_TEST_TMPDIR/calls"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" rust-rustc="$wrapper" \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ ! -s "$BATS_TEST_TMPDIR/calls" ]
  # An edit: the plugin only (the SDK and -vV are cached).
  echo '// an edit' >> "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" rust-rustc="$wrapper" \
      --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  cat "$BATS_TEST_TMPDIR/calls"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/calls")" -eq 1 ]
  grep -q -- '--crate-type cdylib' "$BATS_TEST_TMPDIR/calls"
  # A new compiler (the wrapper changed): its -vV is asked again.
  echo '# changed' >> "$wrapper"
  : > "$BATS_TEST_TMPDIR/calls"
  run timeout 300 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/p.rs" rust-rustc="$wrapper" \
      --dump-plugin
  [ "$status" -eq 0 ]
  grep -q -- '-vV' "$BATS_TEST_TMPDIR/calls"
}

@test "an edit changes the key; the old source finds its build again" {
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run 'nbdinfo --size "$uri"'
  [ "$output" = 1048576 ]
  first=$(cached_libs)
  # A comment is an edit too: the key is the content.
  cp "$BATS_TEST_TMPDIR/p.rs" "$BATS_TEST_TMPDIR/p.rs.orig"
  echo '// a comment' >> "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  [ "$(compiles_logged)" -eq 1 ]
  [ "$(cached_libs | wc -l)" -eq 2 ]
  sed -i 's/1048576/2097152/' "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run 'nbdinfo --size "$uri"'
  [ "$output" = 2097152 ]
  [ "$(cached_libs | wc -l)" -eq 3 ]
  # Back to the first content (with a new mtime): the first build.
  cp "$BATS_TEST_TMPDIR/p.rs.orig" "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run 'nbdinfo --size "$uri"'
  [ "$output" = 1048576 ]
  [ "$(compiles_logged)" -eq 0 ]
  run timeout 60 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/p.rs" --dump-plugin
  [ "$(dump_field rust_plugin_path)" = "$first" ]
  # The same file in another directory shares the build; under
  # another name it is another crate, so another build.
  mkdir "$BATS_TEST_TMPDIR/other"
  cp "$BATS_TEST_TMPDIR/p.rs.orig" "$BATS_TEST_TMPDIR/other/p.rs"
  run timeout 60 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/other/p.rs" --dump-plugin
  [ "$(dump_field rust_plugin_path)" = "$first" ]
  [ "$(dump_field rust_plugin_source)" = "$BATS_TEST_TMPDIR/other/p.rs" ]
  cp "$BATS_TEST_TMPDIR/p.rs.orig" "$BATS_TEST_TMPDIR/q.rs"
  run timeout 60 nbdkit "$LOADER" rust="$BATS_TEST_TMPDIR/q.rs" --dump-plugin
  [ "$status" -eq 0 ]
  [ "$(dump_field rust_plugin_path)" != "$first" ]
}

@test "a cold cache compiles the SDK once; later scripts reuse it; an SDK changed is compiled again" {
  rm -rf "$CACHE"
  sdk=$BATS_TEST_TMPDIR/sdk
  cp -a "$top/rust-sdk" "$sdk"
  rm -rf "$sdk/target"
  tiny_plugin "$BATS_TEST_TMPDIR/a.rs" 1048576
  tiny_plugin "$BATS_TEST_TMPDIR/b.rs" 2097152
  run serve_source rust="$BATS_TEST_TMPDIR/a.rs" rust-sdk="$sdk" \
      --run 'nbdinfo --size "$uri"'
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  rlib=$(find "$CACHE/sdk" -name libnbdkit.rlib)
  [ "$(wc -l <<<"$rlib")" -eq 1 ]
  stamp=$(stat -c %Y.%i "$rlib")
  run serve_source rust="$BATS_TEST_TMPDIR/b.rs" rust-sdk="$sdk" \
      --run 'nbdinfo --size "$uri"'
  [ "$output" = 2097152 ]
  [ "$(find "$CACHE/sdk" -name libnbdkit.rlib)" = "$rlib" ]
  [ "$(stat -c %Y.%i "$rlib")" = "$stamp" ]
  # A file of the SDK touched: a new SDK build, and the script's too.
  touch "$sdk/src/lib.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/b.rs" rust-sdk="$sdk" \
      --run 'nbdinfo --size "$uri"'
  [ "$output" = 2097152 ]
  [ "$(find "$CACHE/sdk" -name libnbdkit.rlib | wc -l)" -eq 2 ]
  [ "$(cached_libs | wc -l)" -eq 3 ]
}

# ---- Two servers at once.

@test "three nbdkits starting the same script at once build it once, and all serve" {
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  for i in 1 2 3; do
    timeout 300 nbdkit -v -U - "$LOADER" rust="$BATS_TEST_TMPDIR/p.rs" \
      --run 'nbdinfo --size "$uri"' >"$BATS_TEST_TMPDIR/out$i" \
      2>"$BATS_TEST_TMPDIR/log$i" &
    pids[$i]=$!
  done
  for i in 1 2 3; do
    st=0
    wait "${pids[$i]}" || st=$?
    cat "$BATS_TEST_TMPDIR/log$i"
    [ "$st" -eq 0 ]
    [ "$(cat "$BATS_TEST_TMPDIR/out$i")" = 1048576 ]
  done
  [ "$(cat "$BATS_TEST_TMPDIR"/log? | grep -E 'debug: .*compiling ' | grep -vc 'the nbdkit SDK')" -eq 1 ]
  [ "$(cached_libs | wc -l)" -eq 1 ]
  [ -z "$(ls -A "$CACHE/tmp" 2>/dev/null)" ]
}

# ---- Entries the loader refuses.

# A cache with p.rs built in it; $lib is the build.
built_cache () {
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run true
  [ "$status" -eq 0 ]
  lib=$(cached_libs)
  [ -f "$lib" ]
}

# refused PATH REASON-REGEX: nbdkit exits 1 (p.rs through this cache),
# with an error naming PATH and the reason, and no client ran.
refused () {
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run 'echo served'
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  [[ "$output" != *served* ]]
  grep -F -- "$1" "$(nbdkit_log)" | grep -qE -- "$2"
  [ "$(logged_count 'Segmentation|Aborted|panicked')" -eq 0 ]
}

@test "a cached build owned by another user is refused, naming it and its owner" {
  [ "$(id -u)" -eq 0 ] || skip "chown needs root"
  built_cache
  nobody=$(id -u nobody)
  chown nobody "$lib"
  refused "$lib" "owned by uid $nobody, not by uid 0"
  chown 0 "$lib"
  # The cache itself.
  chown nobody "$CACHE"
  refused "$CACHE" "owned by uid $nobody, not by uid 0"
  chown 0 "$CACHE"
  # The SDK's build, when a script needs compiling.
  sdkdir=$(dirname "$(find "$CACHE/sdk" -name libnbdkit.rlib)")
  chown -R nobody "$sdkdir"
  echo '// an edit' >> "$BATS_TEST_TMPDIR/p.rs"
  refused "$sdkdir" "owned by uid $nobody, not by uid 0"
}

@test "a cached build writable by group or others is refused, naming it and the mode" {
  built_cache
  chmod 0666 "$lib"
  refused "$lib" 'writable by .*others.*\(mode 0?666\)'
  chmod 0664 "$lib"
  refused "$lib" 'writable by (others|group)[^(]*\(mode 0?664\)'
  chmod 0644 "$lib"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run 'nbdinfo --size "$uri"'
  [ "$status" -eq 0 ]
  # The directories on the way.
  chmod 0777 "$CACHE"
  refused "$CACHE" 'writable by .*others.*\(mode 0?777\)'
  chmod 0700 "$CACHE"
  chmod 0770 "$CACHE/lib"
  refused "$CACHE/lib" 'writable by (others|group)[^(]*\(mode 0?770\)'
}

@test "a symbolic link in place of a cached build is refused" {
  built_cache
  mv "$lib" "$BATS_TEST_TMPDIR/real.so"
  ln -s "$BATS_TEST_TMPDIR/real.so" "$lib"
  refused "$lib" 'link|not a regular file|Too many levels'
}

@test "a cache on a noexec file system is refused, naming XDG_CACHE_HOME" {
  [ "$(id -u)" -eq 0 ] || skip "mount needs root"
  mkdir "$BATS_TEST_TMPDIR/noexec"
  mount -t tmpfs -o noexec,size=64m tmpfs "$BATS_TEST_TMPDIR/noexec" ||
    skip "cannot mount a tmpfs here"
  export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/noexec
  tiny_plugin "$BATS_TEST_TMPDIR/p.rs"
  run serve_source rust="$BATS_TEST_TMPDIR/p.rs" --run true
  cat "$(nbdkit_log)"
  [ "$status" -eq 1 ]
  logged 'noexec'
  logged 'XDG_CACHE_HOME'
  logged "$BATS_TEST_TMPDIR/noexec"
}
