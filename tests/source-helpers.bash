# SPDX-License-Identifier: BSD-2-Clause
# Shared setup for the suites on plugins from source (source.bats,
# source-cache.bats, source-reload.bats): the loader compiles a .rs
# file with rustc, or builds a crate directory or a script with a
# `//! ```cargo` block with cargo, into a cache under
# $XDG_CACHE_HOME/nbdkit-rust.  Load helpers.bash first.
#
# Compiling the SDK takes seconds, a script against it a fraction of
# one: setup_file (source_setup_file) compiles the SDK once into a
# cache of the suite's own, and each test starts from a copy of it
# (use_warm_cache), so that tests stay independent and the suite fast.

# CARGO: as given, else the first cargo on PATH outside /usr/bin and
# /bin (rustup's, which built the tree; helpers.bash put /usr/bin
# first, and bats its own directory before that).
if [ -z "${CARGO:-}" ]; then
  CARGO=$(PATH=$(tr ':' '\n' <<<"$PATH" |
                   grep -vxE '/usr/bin|/bin|/usr/libexec/bats-core' | paste -sd:) \
            command -v cargo || command -v cargo)
fi
use_build_cargo

# The toolchain that built the tree (rustup's, when it is installed):
# the loader's default, the first rustc on PATH, would be Debian's 1.63
# behind the /usr/bin helpers.bash put first, which compiles the SDK
# twice as slowly.  The tests of Debian's rustc say so.
if [ -z "${SOURCE_RUSTC:-}" ]; then
  SOURCE_RUSTC=$(dirname "$CARGO")/rustc
  [ -x "$SOURCE_RUSTC" ] || SOURCE_RUSTC=$(command -v rustc)
fi
export RUSTC=$SOURCE_RUSTC CARGO
# Nothing from the caller's environment changes what is built.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_TARGET_DIR CARGO_BUILD_TARGET_DIR
# rustup finds its toolchains from $HOME unless told: tests that move
# $HOME keep the real ones.
export RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo}

DISK_RS=$top/examples/scripts/disk.rs
COUNTER_RS=$top/examples/scripts/counter.rs
REGISTRY=/usr/share/cargo/registry

# tiny_plugin FILE [SIZE [FILL]]: writes a small plugin script to FILE,
# a read-only disk of SIZE bytes (default 1048576) that reads as the
# byte FILL (a character, default A).  Reload tests edit SIZE and FILL.
tiny_plugin () {
  cat > "$1" <<EOF
// A plugin script of the source suites.
use nbdkit::*;

const SIZE: i64 = ${2:-1048576};
const FILL: u8 = b'${3:-A}';

struct Tiny;

impl Server for Tiny {
    fn name() -> &'static str {
        "tiny"
    }

    fn open(_readonly: bool) -> Result<Box<dyn Server>> {
        Ok(Box::new(Tiny))
    }

    fn get_size(&self) -> Result<i64> {
        Ok(SIZE)
    }

    fn read_at(&self, buf: &mut [u8], _offset: u64) -> Result<()> {
        buf.fill(FILL);
        Ok(())
    }
}

plugin!(Tiny {});
EOF
}

# The template, as its README says to start a plugin, pointed at this
# checkout's SDK.
template_crate () {
  cp -r "$top/examples/template" "$1"
  rm -rf "$1/target"
  sed -i "s|path = \"../../rust-sdk\"|path = \"$top/rust-sdk\"|" "$1/Cargo.toml"
  grep -q "path = \"$top/rust-sdk\"" "$1/Cargo.toml"
}

# source_setup_file [SCRIPT...]: compiles the SDK once into
# $BATS_FILE_TMPDIR/warm (a tiny plugin served once with this loader),
# keeping sdk/ and compilers/ and dropping the tiny plugin's own build;
# then builds each SCRIPT there too (a test serving a copy of it finds
# its build).  A loader that cannot do it leaves no warm cache: each
# test then starts cold (and shows why it fails).
source_setup_file () {
  local warm=$BATS_FILE_TMPDIR/warm script
  [ -f "$LOADER" ] || return 0
  tiny_plugin "$BATS_FILE_TMPDIR/warm.rs"
  if XDG_CACHE_HOME=$warm timeout 300 nbdkit -U - "$LOADER" \
       rust="$BATS_FILE_TMPDIR/warm.rs" --run true \
       >"$BATS_FILE_TMPDIR/warm.log" 2>&1; then
    rm -rf "$warm/nbdkit-rust/lib"
  else
    rm -rf "$warm"
    return 0
  fi
  for script in "$@"; do
    XDG_CACHE_HOME=$warm timeout 300 nbdkit "$LOADER" rust="$script" \
      --dump-plugin >>"$BATS_FILE_TMPDIR/warm.log" 2>&1 || true
  done
}

# use_warm_cache: this test's own cache, $XDG_CACHE_HOME, a copy of the
# suite's warm one (or empty), and $CACHE, its nbdkit-rust directory.
use_warm_cache () {
  export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/cache
  CACHE=$XDG_CACHE_HOME/nbdkit-rust
  mkdir -p "$XDG_CACHE_HOME"
  if [ -d "$BATS_FILE_TMPDIR/warm/nbdkit-rust" ]; then
    cp -a "$BATS_FILE_TMPDIR/warm/nbdkit-rust" "$XDG_CACHE_HOME/"
  fi
}

# source_setup: the common per-test setup.
source_setup () {
  if [ ! -f "$LOADER" ]; then
    skip "build the loader first"
  fi
  use_warm_cache
}

# serve_source [NBDKIT-ARGS...] [--run CLIENT]: nbdkit -v serving
# through the loader, captive, its log in $(nbdkit_log), killed after
# 300 s (a cold start compiles the SDK).  Per-request debug lines are
# left out.
serve_source () {
  NBDKIT_LOG=$(nbdkit_log) timeout 300 \
    nbdkit -v -D nbdkit.backend.datapath=0 -U - "$LOADER" "$@" \
    2>"$(nbdkit_log)"
}

# dump_field KEY: the value of KEY= in $output (--dump-plugin's lines).
dump_field () {
  sed -n "s/^$1=//p" <<<"$output"
}

# cached_libs: the built plugins in this test's cache that were not in
# the warm one it started from, one a line.
cached_libs () {
  local f
  find "$CACHE/lib" -name '*.so' 2>/dev/null | sort |
    while IFS= read -r f; do
      [ -e "$BATS_FILE_TMPDIR/warm/nbdkit-rust/lib/${f##*/}" ] || echo "$f"
    done
}

# compiles_logged: how many times nbdkit's -v log says it compiled a
# plugin (the loader's "compiling PATH with ..." debug line; the SDK's
# own compilation is not counted).
compiles_logged () {
  grep -E 'debug: .*compiling ' "$(nbdkit_log)" | grep -vc 'compiling the nbdkit SDK' || true
}
