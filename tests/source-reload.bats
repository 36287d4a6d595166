#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# rust-reload=true with a plugin from source: the loader watches the
# .rs file itself, compiles it when it changed (and has been quiet for
# 200 ms), and the new build serves new connections, while a client
# load runs.  A build that fails keeps the old one in service, logs
# the compiler's diagnostics and is tried again only once the source
# changes again.
#
# The plugins are versions of one small script (tiny_plugin in
# source-helpers.bash): A, 1 MiB reading 'A'; B, 2 MiB reading 'B';
# C, 3 MiB reading 'C'; and BAD, which does not compile.  A test
# serves a copy of A at $SRC and writes the others over it in place,
# as an editor saves.

load helpers
load source-helpers

setup_file () { source_setup_file; }

setup () {
  source_setup
  v=$BATS_TEST_TMPDIR/versions
  mkdir "$v"
  tiny_plugin "$v/A.rs" 1048576 A
  tiny_plugin "$v/B.rs" 2097152 B
  tiny_plugin "$v/C.rs" 3145728 C
  tiny_plugin "$v/BAD.rs" 2097152 B
  # Line 4 (SIZE): a type error.
  sed -i '4s/.*/const SIZE: i64 = "two";/' "$v/BAD.rs"
  SRC=$BATS_TEST_TMPDIR/p.rs
  cp "$v/A.rs" "$SRC"
  export SRC VERSIONS=$v
}

# source_reload_script <<'EOF' ... EOF: nbdsh_script (helpers.bash)
# with these helpers too.
source_reload_prelude='
import threading

SRC, VERSIONS = os.environ["SRC"], os.environ["VERSIONS"]
SIZES = {1 << 20: "A", 2 << 20: "B", 3 << 20: "C"}

def edit(version):
    """Writes VERSION over SRC in place, as an editor saves."""
    with open(os.path.join(VERSIONS, version + ".rs")) as f:
        text = f.read()
    with open(SRC, "w") as f:
        f.write(text)

def build_of(c):
    """The version serving connection C, told by its size and data."""
    tag = SIZES[c.get_size()]
    assert c.pread(4096, 0) == tag.encode() * 4096, "not version " + tag
    return tag

def served():
    c = connect()
    tag = build_of(c)
    c.shutdown()
    return tag

def wait_served(tag, seconds=120):
    """Connects until a new connection gets version TAG (the loader
    compiles it on a connection after the edit has settled)."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if served() == tag:
            return True
        time.sleep(0.1)
    return False

class Load:
    """THREADS clients, each connecting, checking what it got and
    disconnecting, in a loop, until stop().  Each connection is
    recorded as (start, end, version); any failure is kept."""
    def __init__(self, threads=3):
        self.done = False
        self.conns = []
        self.errors = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def run(self):
        while not self.done:
            try:
                start = time.monotonic()
                c = connect()
                tag = build_of(c)
                c.shutdown()
                with self.lock:
                    self.conns.append((start, time.monotonic(), tag))
                time.sleep(0.01)
            except Exception as e:
                with self.lock:
                    self.errors.append(repr(e))

    def stop(self):
        self.done = True
        for t in self.threads:
            t.join()
        assert not self.errors, self.errors
        return self.conns

def check_order(conns, order):
    """A connection that started after another one ended got the same
    version or a later one, in ORDER."""
    for s1, e1, t1 in conns:
        for s2, e2, t2 in conns:
            if s2 > e1:
                assert order.index(t2) >= order.index(t1), (t1, t2)
'
source_reload_script () {
  nbdsh_script <<< "$source_reload_prelude
$(cat)"
}

@test "an edit under client load: new connections get the new code and no client fails" {
  source_reload_script <<'EOF'
old = connect()
assert build_of(old) == "A"
load = Load()
time.sleep(0.5)
edit("B")
assert wait_served("B"), "the edit was not served"
time.sleep(0.5)
conns = load.stop()
tags = [t for _, _, t in conns]
assert "A" in tags and "B" in tags, tags
check_order(conns, "AB")
# The connection opened before the edit keeps its build.
assert build_of(old) == "A"
old.shutdown()
print("ok %d" % len(conns))
EOF
  run serve_source rust-reload=true rust="$SRC" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [[ "$output" == "ok "* ]]
  logged 'rust-reload: build 2 serves new connections from now on'
  [ "$(compiles_logged)" -eq 2 ]
  [ "$(cached_libs | wc -l)" -eq 2 ]
}

@test "a failed compile keeps the old build serving, logs rustc's diagnostics once, and a later good edit is taken" {
  source_reload_script <<'EOF'
load = Load()
time.sleep(0.5)
edit("BAD")
assert wait_logged(r"compilation failed"), "no failed build"
# Clients go on being served build A, and the bad source is not
# compiled again for each new connection.
time.sleep(1)
assert served() == "A"
with open(os.environ["NBDKIT_LOG"], errors="replace") as f:
    failures = sum(1 for line in f if "compilation failed" in line)
assert failures == 1, failures
edit("C")
assert wait_served("C"), "the good edit was not served"
time.sleep(0.5)
conns = load.stop()
check_order(conns, "AC")
tags = set(t for _, _, t in conns)
assert tags == {"A", "C"}, tags
print("ok")
EOF
  run serve_source rust-reload=true rust="$SRC" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged 'error\[E0308\]: mismatched types'
  logged "--> $SRC:4:"
  logged "$SRC: compilation failed: rustc exited with status 1"
  logged 'rust-reload: build 2 serves new connections from now on'
  # Nothing of the bad build was cached, nor left behind.
  [ "$(cached_libs | wc -l)" -eq 2 ]
  [ -z "$(ls -A "$CACHE/tmp" 2>/dev/null)" ]
}

@test "back to an earlier version: its build comes from the cache, not the compiler" {
  source_reload_script <<'EOF'
assert served() == "A"
edit("B")
assert wait_served("B")
edit("A")
assert wait_served("A")
print("ok")
EOF
  run serve_source rust-reload=true rust="$SRC" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  # A at startup, B: two compiles; A again is a cache hit.
  [ "$(compiles_logged)" -eq 2 ]
  logged 'rust-reload: build 3 serves new connections from now on'
  [ "$(cached_libs | wc -l)" -eq 2 ]
}

@test "without rust-reload an edit is not compiled" {
  source_reload_script <<'EOF'
assert served() == "A"
edit("B")
time.sleep(1)
assert served() == "A"
print("ok")
EOF
  run serve_source rust="$SRC" --run "$nbdsh_run"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  [ "$(compiles_logged)" -eq 1 ]
}

@test "a crate directory under rust-reload: an edit to src/lib.rs is built with cargo and served" {
  crate=$BATS_TEST_TMPDIR/myplugin
  template_crate "$crate"
  export CRATE_LIB=$crate/src/lib.rs
  source_reload_script <<'EOF2'
assert connect().get_size() == 1 << 20
# Halve the size the plugin reports: a one-line edit, saved in place.
with open(os.environ["CRATE_LIB"]) as f:
    text = f.read()
assert ".len() as i64)" in text
with open(os.environ["CRATE_LIB"], "w") as f:
    f.write(text.replace(".len() as i64)", ".len() as i64 / 2)", 1))
deadline = time.time() + 120
while connect().get_size() != 1 << 19:
    assert time.time() < deadline, "the edit was not served"
    time.sleep(0.2)
print("ok")
EOF2
  run serve_source rust-reload=true rust="$crate" size=1M --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged 'rust-reload: build 2 serves new connections from now on'
}

@test "the loader's keys apply to the builds rust-reload makes: rust-profile=debug" {
  for f in A B; do
    sed -i 's/Ok(SIZE)/Ok(if cfg!(debug_assertions) { 4 * SIZE } else { SIZE })/' "$v/$f.rs"
  done
  cp "$v/A.rs" "$SRC"
  source_reload_script <<'EOF2'
def debug_build_of():
    c = connect()
    size, byte = c.get_size(), bytes(c.pread(1, 0))
    c.shutdown()
    return size, byte
assert debug_build_of() == (4 << 20, b"A"), debug_build_of()
edit("B")
deadline = time.time() + 120
while debug_build_of()[1] != b"B":
    assert time.time() < deadline, "the edit was not served"
    time.sleep(0.2)
assert debug_build_of() == (8 << 20, b"B"), debug_build_of()
print("ok")
EOF2
  run serve_source rust-reload=true rust-profile=debug rust="$SRC" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  [ "$(logged_count 'debug: compiling .*p\.rs with .*\(debug\)')" -eq 2 ]
}
