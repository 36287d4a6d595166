#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# The documentation a plugin author follows (README.md, rust-sdk/README.md,
# the manual page, the crate docs, examples/template): how to depend on
# the SDK, the reload example, other crates from Debian's registry, the
# licence.  tests/msrv.bats builds the READMEs' plugins with Debian's
# toolchain, tests/template.bats follows the template's recipe.

load helpers

: "${BUILD_DIR:=$top/build}"
use_build_cargo

# What a plugin author reads: the READMEs, the manual page, the crate's
# documentation (doc comments), the examples.
author_docs () {
  (cd "$top" &&
     ls README.md rust-sdk/README.md docs/*.pod examples/*/README.md \
        examples/*/Cargo.toml &&
     find rust-sdk/src -name '*.rs' | sort)
}

teardown () {
  if [ -f "$BATS_TEST_TMPDIR/nbdkit.pid" ]; then
    kill "$(cat "$BATS_TEST_TMPDIR/nbdkit.pid")" 2>/dev/null || true
  fi
}

@test "no document has plugins depend on nbdkit by version alone (it is not on crates.io)" {
  bad=
  for f in $(author_docs); do
    # A dependency line, in a Markdown or POD block or a doc comment
    # (nbdkit = ..., or a { version = "0.4", ... } table), that names
    # neither a path nor a git repository.
    found=$(sed -E 's,^[[:space:]]*(//[!/])?[[:space:]]*(#[[:space:]]*(or:[[:space:]]*)?)?,,' "$top/$f" |
            grep -nE '^nbdkit[[:space:]]*=|\{[^}]*version[[:space:]]*=' |
            grep -vE '(path|git)[[:space:]]*=' || true)
    if [ -n "$found" ]; then
      bad+="$f: $found"$'\n'
    fi
  done
  echo "$bad"
  [ -z "$bad" ]
}

@test "every Cargo.toml in the READMEs names the SDK by path or git, and rust-version 1.63" {
  for readme in README.md rust-sdk/README.md; do
    dir=$BATS_TEST_TMPDIR/${readme//\//-}
    mkdir -p "$dir"
    # Each ```toml block of the README in a file of its own.
    awk -v dir="$dir" '
      $0 == "```toml" { n++; inside = 1; next }
      inside && $0 == "```" { inside = 0; next }
      inside { print > (dir "/" n ".toml") }' "$top/$readme"
    snippets=0
    for block in "$dir"/*.toml; do
      grep -qE '^\[(dev-)?dependencies\]' "$block" || continue
      snippets=$((snippets + 1))
      echo "$readme, block $(basename "$block"):"
      cat "$block"
      deps=$(grep -E '^nbdkit[[:space:]]*=' "$block")
      [ -n "$deps" ]
      ! grep -vE '(path|git)[[:space:]]*=[[:space:]]*"' <<<"$deps"
      if grep -qx '\[package\]' "$block"; then
        grep -qx 'rust-version = "1.63"' "$block"
      fi
    done
    # The plugin's Cargo.toml and the git form, at least.
    [ "$snippets" -ge 2 ]
    grep -qx 'rust-version = "1.63"' "$dir"/1.toml
  done
  # The manual page's and the template's too.
  grep -qx ' rust-version = "1.63"' "$top/docs/nbdkit-rust-plugin.pod"
  grep -qx 'rust-version = "1.63"' "$top/examples/template/Cargo.toml"
  # The same Debian command everywhere.
  for f in README.md rust-sdk/README.md docs/nbdkit-rust-plugin.pod examples/template/README.md; do
    grep -qF 'RUSTC=/usr/bin/rustc /usr/bin/cargo build --release' "$top/$f" ||
      { echo "$f does not give the command for Debian's toolchain"; false; }
  done
}

@test "README.md's reload example prints what it shows" {
  crate=$BATS_TEST_TMPDIR/myplugin
  readme_plugin "$top/README.md" "$crate"
  section=$BATS_TEST_TMPDIR/section.md
  sed -n '/^## Reloading a new build/,/^## [^R]/p' "$top/README.md" > "$section"
  script=$(md_block "$section" sh)
  expected=$(md_block "$section" text)
  echo "$script"
  # This build's loader and a Unix socket of the test's own, for the
  # installed loader and port 10809.
  [[ $script == *'nbdkit -f -v rust '* && $script == *'nbd://localhost'* ]]
  script=${script//'nbdkit -f -v rust '/'nbdkit -f -v -U "$sock" "$LOADER" '}
  script=${script//'nbd://localhost'/'"nbd+unix:///?socket=$sock"'}
  # After starting the server, wait for it, and give each client a
  # second, as one typing does (the loader waits for a new build to
  # settle before loading it).
  runnable=
  while IFS= read -r line; do
    if [[ $line == nbdinfo* ]]; then
      runnable+='sleep 1'$'\n'
    fi
    runnable+=$line$'\n'
    if [[ $line == *'&' ]]; then
      runnable+='echo $! >"$BATS_TEST_TMPDIR/nbdkit.pid"
for i in $(seq 300); do if [ -S "$sock" ] || ! kill -0 $! 2>/dev/null; then break; fi; sleep 0.1; done
'
    fi
  done <<<"$script"
  cd "$crate"
  status=0
  env -u CARGO_TARGET_DIR PATH="$build_path" CARGO_NET_OFFLINE=true \
      sock="$BATS_TEST_TMPDIR/sock" timeout 300 bash -e -c "$runnable" \
      >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" || status=$?
  echo "status $status; stdout:"
  cat "$BATS_TEST_TMPDIR/stdout"
  echo "stderr:"
  tail -20 "$BATS_TEST_TMPDIR/stderr"
  [ "$status" -eq 0 ]
  [ "$(cat "$BATS_TEST_TMPDIR/stdout")" = "$expected" ]
}

@test "a plugin uses libc from Debian's registry, offline, as README.md says" {
  registry=/usr/share/cargo/registry
  if ! ls -d "$registry"/libc-0.* >/dev/null 2>&1; then
    skip "no libc crate in $registry (apt-get install librust-libc-dev; scripts/setup-debian installs it)"
  fi
  for readme in README.md rust-sdk/README.md; do
    grep -qF 'apt-get install librust-libc-dev' "$top/$readme"
    section=$BATS_TEST_TMPDIR/section.md
    sed -n '/^## Using other crates/,/^## [^U]/p' "$top/$readme" > "$section"
    md_block "$section" toml '[source.crates-io]' > "$BATS_TEST_TMPDIR/${readme//\//-}.config"
    grep -qF 'libc = "0.2"' "$section"
  done
  cmp "$BATS_TEST_TMPDIR/README.md.config" "$BATS_TEST_TMPDIR/rust-sdk-README.md.config"

  # README.md's plugin, with libc = "0.2" and a disk size taken from it.
  crate=$BATS_TEST_TMPDIR/myplugin
  readme_plugin "$top/README.md" "$crate"
  mkdir "$crate/.cargo"
  cp "$BATS_TEST_TMPDIR/README.md.config" "$crate/.cargo/config.toml"
  sed -i 's/^\[dependencies\]$/&\nlibc = "0.2"/' "$crate/Cargo.toml"
  sed -i 's/Ok(1 << 20)/Ok(libc::ENOTSUP as i64 * 4096)/' "$crate/src/lib.rs"
  grep -q libc::ENOTSUP "$crate/src/lib.rs"
  cd "$crate"
  run env PATH="$build_path" CARGO_TARGET_DIR="$crate/target" CARGO_NET_OFFLINE=true \
      timeout 300 "$CARGO" build --release
  echo "$output" | tail -5
  [ "$status" -eq 0 ]
  # The libc of Debian's registry.
  version=$(grep -A1 '^name = "libc"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')
  [ -d "$registry/libc-$version" ]
  run timeout 60 nbdkit -U - "$LOADER" rust="$crate/target/release/libmyplugin.so" \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$output" = $((95 * 4096)) ]       # ENOTSUP is 95 on Linux
  # Debian's own cargo and rustc, as README.md says.
  if [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ]; then
    run env RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$crate/target-debian" \
        CARGO_NET_OFFLINE=true timeout 300 /usr/bin/cargo build --release
    echo "$output" | tail -5
    [ "$status" -eq 0 ]
    nm -D --defined-only target-debian/release/libmyplugin.so | grep -qw nbdkit_rust_plugin_v1
  fi
}

@test "one licence: the repository's LICENSE is the crate's, the manual page's, BSD-2-Clause" {
  cd "$top"
  [ "$(head -1 LICENSE)" = "Copyright (C) 2026 The nbdkit-rust authors" ]
  cmp LICENSE rust-sdk/LICENSE
  grep -qx 'license = "BSD-2-Clause"' rust-sdk/Cargo.toml
  # The two clauses of BSD-2-Clause, and no third.
  grep -q '^1\. Redistributions of source code must retain' LICENSE
  grep -q '^2\. Redistributions in binary form must reproduce' LICENSE
  ! grep -q '^3\.' LICENSE
  # The manual page: the same copyright line and, words apart from
  # layout, the same text.
  pod=docs/nbdkit-rust-plugin.pod
  grep -qxF "$(head -1 LICENSE)" "$pod"
  words () { tr -s ' \n' '\n\n' | sed "s/''/\"/g" | grep -v '^$'; }
  diff <(sed 1d LICENSE | sed -E 's/^ *[0-9]\. //' | words) \
       <(sed -n '/^=head1 LICENSE/,$p' "$pod" | grep -vE '^=(head1|over|item|back)' | words)
}
