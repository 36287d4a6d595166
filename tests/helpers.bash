# SPDX-License-Identifier: BSD-2-Clause
# Shared setup for the bats suites.  Every test runs a real nbdkit with
# the real loader (or, RUST_VIA=direct, loading the Rust plugin itself)
# and a real libnbd client, captive (-U - --run) so that nothing
# outlives the test.

# The python3 first on PATH may lack libnbd's module; nbdsh needs
# Debian's.
export PATH=/usr/bin:$PATH

top=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
: "${LOADER:=$top/build/loader/nbdkit-rust-plugin.so}"
: "${FILTER_LOADER:=$top/build/loader/nbdkit-rust-filter.so}"
: "${RUST_OUT:=$top/build/cargo/release}"
: "${ABI_PLUGINS:=$top/build/tests/abi-plugins}"
: "${C_PLUGINS:=$top/build/tests/c-plugins}"
: "${NBDKIT_PLUGINDIR:=$(pkg-config --variable=plugindir nbdkit)}"
export LOADER FILTER_LOADER RUST_OUT ABI_PLUGINS C_PLUGINS NBDKIT_PLUGINDIR

# Reliability runs (README.md): with NBDKIT_CHECKER=asan (set by ctest
# in a -DSANITIZE=ON build) or VALGRIND=1, every nbdkit runs under that
# checker: tests/checkers/nbdkit comes first on PATH.
if [ "${VALGRIND:-0}" = 1 ]; then NBDKIT_CHECKER=valgrind; fi
if [ -n "${NBDKIT_CHECKER:-}" ]; then
  export NBDKIT_CHECKER
  export PATH=$top/tests/checkers:$PATH
fi

# For the suites that run cargo themselves: CARGO, the cargo that built
# the tree (else the first one on PATH behind the /usr/bin this file
# put first, which holds Debian's cargo and rustc), and build_path, a
# PATH that finds that cargo's rustc first.
use_build_cargo () {
  if [ -z "${CARGO:-}" ]; then
    local p=$PATH
    while [[ $p == /usr/bin:* ]]; do p=${p#/usr/bin:}; done
    CARGO=$(PATH=$p command -v cargo)
  fi
  build_path=$(dirname "$CARGO"):$PATH
}

# Rust cdylibs: examples/* are workspace packages (lib<name>.so), the
# test plugins are cargo examples of tests/rust-plugins.
RAMDISK=$RUST_OUT/libramdisk.so
FILEDISK=$RUST_OUT/libfiledisk.so
rust_test_plugin () { echo "$RUST_OUT/examples/lib$1.so"; }

# Serve through the loader: serve_rust PLUGIN.so [ARGS...] -- CLIENT...
# runs nbdkit captive with --run CLIENT; output in $output, status in
# $status (use with bats' run).
nbdkit_rust () {
  nbdkit -U - "$LOADER" "$@"
}

# The two ways nbdkit can load a Rust plugin: RUST_VIA=loader (the
# default) serves it through the loader, `nbdkit LOADER rust=PLUGIN.so`;
# RUST_VIA=direct lets nbdkit load the very same file itself, `nbdkit
# PLUGIN.so`, as a C plugin.  The behaviour suites run both ways (see
# tests/CMakeLists.txt).
: "${RUST_VIA:=loader}"
export RUST_VIA

# rust_server PLUGIN.so: sets the array $server to the nbdkit arguments
# that serve PLUGIN.so the RUST_VIA way, for "${server[@]}".
rust_server () {
  case "$RUST_VIA" in
    loader) server=("$LOADER" "rust=$1") ;;
    direct) server=("$1") ;;
    *) echo "RUST_VIA must be loader or direct, not '$RUST_VIA'" >&2
       return 1 ;;
  esac
}

# Runs a python snippet against $uri inside nbdsh, for use in --run.
probe_script=$BATS_TEST_DIRNAME/probe.py

# --- behaviour suites (errors, panics, threads, drop, examples) ---

# The behaviour test plugins (tests/rust-plugins/examples).
FAULTY=$(rust_test_plugin faulty)
THREADS=$(rust_test_plugin threads)
THREADS_DEFAULT=$(rust_test_plugin threads_default)
DROPCOUNT=$(rust_test_plugin dropcount)

# Where serve_logged sends nbdkit's stderr (and its client's).
nbdkit_log () { echo "$BATS_TEST_TMPDIR/nbdkit.log"; }

# serve_logged PLUGIN.so [ARGS...] [--run CLIENT]: nbdkit serving the
# Rust plugin the RUST_VIA way, captive and killed after 60 s.  Its
# stderr goes to $(nbdkit_log), so that under bats' run $output is
# only what the client printed on stdout.  The client finds the log's
# name in $NBDKIT_LOG.
serve_logged () {
  local server
  rust_server "$1" || return 1
  shift
  NBDKIT_LOG=$(nbdkit_log) \
    timeout 60 nbdkit -U - "${server[@]}" "$@" 2>"$(nbdkit_log)"
}

# serve_foreground PLUGIN.so [ARGS...]: like serve_logged, but nbdkit
# runs in the foreground (-f) on its own socket with no --run client,
# for failures that come after nbdkit starts serving (after_fork): with
# --run the listening socket would outlive the server.
serve_foreground () {
  local server
  rust_server "$1" || return 1
  shift
  timeout 60 nbdkit -f -U "$BATS_TEST_TMPDIR/sock" "${server[@]}" "$@" \
      2>"$(nbdkit_log)"
}

# until_logged N REGEX: a shell command for --run that waits, at most
# 30 s, until N lines of nbdkit's log match REGEX.  A client ends with
# it when what it waits for happens after it disconnects (a close, a
# Drop): once the client exits nbdkit quits, and nbdkit 1.32 does not
# call close for a connection still finishing then.
until_logged () {
  printf 'for i in $(seq 300); do [ "$(grep -cE %q "$NBDKIT_LOG")" -ge %d ] && break; sleep 0.1; done' \
    "$2" "$1"
}

# logged REGEX: nbdkit's log has a line matching the extended REGEX.
# On failure it shows the log, for the test's diagnostics.
logged () {
  grep -qE -- "$1" "$(nbdkit_log)" && return 0
  echo "no line matching '$1' in nbdkit's log:" >&2
  cat "$(nbdkit_log)" >&2
  return 1
}

# logged_count REGEX: how many lines of nbdkit's log match REGEX.
logged_count () { grep -cE -- "$1" "$(nbdkit_log)" || true; }

# nbdsh_script <<'EOF' ... EOF stores a Python client for $nbdsh_run.
# The client gets `uri`, `nbd`, and the helpers in nbdsh_prelude; it
# opens its own connections (connect()).
nbdsh_prelude='
import errno, os, signal, sys, time

def connect(meta_context=None, **kw):
    """A new handle connected to the server, after c.set_KEY(VALUE)
    for each keyword argument."""
    c = nbd.NBD()
    if meta_context:
        c.add_meta_context(meta_context)
    for k, v in kw.items():
        getattr(c, "set_" + k)(v)
    c.connect_uri(uri)
    return c

def attempt(fn):
    """Runs a request: "ok", or the errno name the client got."""
    try:
        fn()
        return "ok"
    except nbd.Error as e:
        return e.errno or "error without errno"

def wait_logged(regex, count=1, seconds=30):
    """Waits until COUNT lines of the nbdkit log match REGEX (see
    until_logged in helpers.bash); returns whether they did."""
    import re
    deadline = time.time() + seconds
    while True:
        with open(os.environ["NBDKIT_LOG"], errors="replace") as f:
            n = sum(1 for line in f if re.search(regex, line))
        if n >= count or time.time() > deadline:
            return n >= count
        time.sleep(0.1)

def drain(*hs):
    """Waits for every request in flight on the handles."""
    while any(x.aio_in_flight() > 0 for x in hs):
        for x in hs:
            if x.aio_in_flight() > 0:
                x.poll(10)
'
nbdsh_script () {
  NBDSH_SCRIPT="$nbdsh_prelude
$(cat)"
  export NBDSH_SCRIPT
}
# The --run command running the stored client.
nbdsh_run='nbdsh -n -c "uri = \"$uri\"" -c "import os; exec(os.environ[\"NBDSH_SCRIPT\"])"'

# --- conformance suites (defaults, callbacks) ---

# run_probe OUT LOG NBDKIT-ARGS...: probe.py against a captive
# `nbdkit -v -U - NBDKIT-ARGS`, killed after 60 s.  What the client saw
# goes to OUT, nbdkit's debug log to LOG; the status is nbdkit's.
run_probe () {
  local out=$1 log=$2
  shift 2
  probe_script=$probe_script timeout 60 nbdkit -v -U - "$@" \
    --run '/usr/bin/python3 "$probe_script" "$uri"' >"$out" 2>"$log"
}

# plugin_trace LOG: the conformance plugins' "TRACE <callback> ..."
# debug messages in an nbdkit -v log, and the thread model nbdkit
# chose, without nbdkit's prefixes.
plugin_trace () {
  sed -n -E 's/^.*debug: (TRACE .*|using thread model: .*)$/\1/p' "$1"
}

# --- the documentation's code (docs, msrv) ---

# md_block FILE LANG [STRING]: the first ```LANG fenced block of the
# Markdown FILE (that contains the fixed STRING, if given), without its
# fences.
md_block () {
  awk -v lang="$2" -v want="${3:-}" '
    !inside && $0 == "```" lang { inside = 1; text = ""; next }
    inside && $0 == "```" {
      if (index(text, want)) { printf "%s", text; found = 1; exit }
      inside = 0; next
    }
    inside { text = text $0 "\n" }
    END { exit !found }' "$1"
}

# readme_plugin README DIR: makes DIR a new plugin crate from the
# README's Cargo.toml (its ```toml block with [lib], the nbdkit path
# dependencies pointed at this checkout's rust-sdk) and src/lib.rs (its
# ```rust block with plugin!).
readme_plugin () {
  mkdir -p "$2/src"
  md_block "$1" toml '[lib]' |
    sed "s|\"/path/to/nbdkit-rust/rust-sdk\"|\"$top/rust-sdk\"|g" > "$2/Cargo.toml" &&
    grep -qF "path = \"$top/rust-sdk\"" "$2/Cargo.toml" &&
    md_block "$1" rust 'plugin!' > "$2/src/lib.rs"
}
