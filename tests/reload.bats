#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# rust-reload=true: a new build of the plugin for new connections, while
# connections already open keep the build they started with.
#
# The plugins are two builds of one RAM disk (tests/rust-plugins,
# src/reload.rs): reload_a, 1 MiB that reads 'A' until written, and
# reload_b, 2 MiB that reads 'B'.  Each test serves a copy of reload_a
# at $PLUGIN and rolls out another file there the way build tools do:
# cargo renames a new file over the old one (roll_out), a linker or cp
# writes the file in place.  The loader takes a file once it has not
# changed for 200 ms (settle), so a test that rolls out a file waits
# that long before it expects the new build.  nbdkit runs with -v, and
# the tests read the loader's debug lines ("rust-reload: ...", with
# build numbers) and the plugin's ("reload A: config_complete") in its
# log.

load helpers

setup () {
  RELOAD_A=$(rust_test_plugin reload_a)
  RELOAD_B=$(rust_test_plugin reload_b)
  if [ ! -f "$LOADER" ] || [ ! -f "$RELOAD_A" ] || [ ! -f "$RELOAD_B" ]; then
    skip "build the loader and tests/rust-plugins first"
  fi
  PLUGIN=$BATS_TEST_TMPDIR/libplugin.so
  cp "$RELOAD_A" "$PLUGIN"
  # The private copies of the builds go here, where a test can see them.
  RELOAD_TMPDIR=$BATS_TEST_TMPDIR/tmp
  mkdir "$RELOAD_TMPDIR"
  export RELOAD_A RELOAD_B PLUGIN RELOAD_TMPDIR
}

# serve ARGS... --run CLIENT: nbdkit -v serving through the loader,
# captive, its log in $(nbdkit_log), killed after 60 s.  Per-request
# debug lines are left out.
serve () {
  NBDKIT_LOG=$(nbdkit_log) TMPDIR=$RELOAD_TMPDIR \
    timeout "${SERVE_TIMEOUT:-60}" \
    nbdkit -v -D nbdkit.backend.datapath=0 -U - "$LOADER" "$@" \
    2>"$(nbdkit_log)"
}

# The private directories nbdkit made in $RELOAD_TMPDIR.
copy_dirs () {
  find "$RELOAD_TMPDIR" -maxdepth 1 -name 'nbdkit-rust-reload-*'
}

# reload_script <<'EOF' ... EOF: nbdsh_script (helpers.bash) with these
# helpers too.
reload_prelude='
import glob, shutil

A, B, PLUGIN = os.environ["RELOAD_A"], os.environ["RELOAD_B"], os.environ["PLUGIN"]

def settle():
    """Waits until the last change to PLUGIN is older than the 200 ms
    the loader waits for before it takes a new file."""
    time.sleep(0.3)

def roll_out(src):
    """Puts SRC at PLUGIN as cargo does: a new file renamed over it;
    then settle()."""
    shutil.copyfile(src, PLUGIN + ".new")
    os.rename(PLUGIN + ".new", PLUGIN)
    settle()

def build_of(c):
    """The build serving connection C, "A" or "B", told by its size and
    by the data of its last block, which no test writes."""
    size = c.get_size()
    tag = {1 << 20: "A", 2 << 20: "B"}[size]
    assert c.pread(4096, size - 4096) == tag.encode() * 4096, "not build " + tag
    return tag

def served():
    """The build a new connection gets."""
    c = connect()
    tag = build_of(c)
    c.shutdown()
    return tag

def copies():
    """The private copies of the builds now on disk."""
    return sorted(os.path.basename(f) for f in
                  glob.glob(os.environ["RELOAD_TMPDIR"] + "/nbdkit-rust-reload-*/*"))

def copies_mapped():
    """The private copies nbdkit (-P $PIDFILE) has mapped, as
    /proc/PID/maps names them."""
    with open(os.environ["PIDFILE"]) as f:
        pid = f.read().strip()
    with open("/proc/%s/maps" % pid) as f:
        return sorted(set(line.split("nbdkit-rust-reload-", 1)[1].split("/", 1)[1].strip()
                          for line in f if "nbdkit-rust-reload-" in line))
'
reload_script () {
  nbdsh_script <<< "$reload_prelude
$(cat)"
}

# ---- The option.

@test "--help documents rust-reload" {
  run timeout 60 nbdkit "$LOADER" --help
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"rust-reload=BOOL  (default false)"* ]]
  [[ "$output" == *"same KEY=VALUEs in the same order"* ]]
}

@test "rust-reload takes a boolean" {
  run timeout 60 nbdkit -U - "$LOADER" rust="$PLUGIN" rust-reload=maybe \
      --run 'nbdinfo --size "$uri"'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"maybe"* ]]
}

@test "without rust-reload a new file is not loaded" {
  reload_script <<'EOF'
old = connect()
assert build_of(old) == "A"
roll_out(B)
assert served() == "A"
assert build_of(old) == "A"
old.shutdown()
print("ok")
EOF
  for reload in "" rust-reload=false; do
    cp "$RELOAD_A" "$PLUGIN"
    run serve rust="$PLUGIN" $reload --run "$nbdsh_run"
    cat "$(nbdkit_log)"
    [ "$status" -eq 0 ]
    [ "$output" = ok ]
    [ "$(logged_count 'rust-reload: ')" -eq 0 ]
    [ "$(logged_count 'private copy')" -eq 0 ]
    [ -z "$(copy_dirs)" ]
  done
}

# ---- A new build.

@test "a new connection gets the new build while an open one keeps the old" {
  reload_script <<'EOF'
old = connect()
assert build_of(old) == "A"
old.pwrite(b"x" * 4096, 0)
roll_out(B)
new = connect()
assert build_of(new) == "B"
# The new build starts from its own blank disk: the old one's global
# state is not carried over.
assert new.pread(4096, 0) == b"B" * 4096
# The old connection is still served by build A, its write included.
assert build_of(old) == "A"
assert old.pread(4096, 0) == b"x" * 4096
old.pwrite(b"y" * 4096, 4096)
assert old.pread(4096, 4096) == b"y" * 4096
assert old.pread(4096, 8192) == b"A" * 4096
new.shutdown()
assert not wait_logged(r"retired build 1 ", seconds=1), "build 1 retired too soon"
old.shutdown()
assert wait_logged(r"rust-reload: retired build 1 ")
print("ok")
EOF
  run serve rust-reload=true rust="$PLUGIN" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "loaded Rust plugin reload \(build 1\) from $PLUGIN, private copy "
  logged "loaded Rust plugin reload \(build 2\) from $PLUGIN, private copy "
  logged "rust-reload: build 2 serves new connections from now on"
  logged "rust-reload: build 1 retires when its 1 open connection\(s\) close"
  logged "rust-reload: retired build 1 \(cleanup, unload, dlclose\)"
  # Build A was shut down as nbdkit shuts a plugin down, in order.
  [ "$(grep -oE 'reload A: (cleanup|unload)$' "$(nbdkit_log)" | tr '\n' ' ')" = \
    "reload A: cleanup reload A: unload " ]
  [ "$(logged_count 'loaded Rust plugin')" -eq 2 ]
}

@test "each build runs from a private copy, removed as soon as it is mapped" {
  export PIDFILE=$BATS_TEST_TMPDIR/nbdkit.pid
  reload_script <<'EOF'
# Mapped, but no longer on disk, nor its directory.
assert copies_mapped() == ["1-libplugin.so (deleted)"], copies_mapped()
assert copies() == [], copies()
roll_out(B)
assert served() == "B"
assert wait_logged(r"rust-reload: retired build 1 ")
assert copies_mapped() == ["2-libplugin.so (deleted)"], copies_mapped()
assert copies() == [], copies()
print("ok")
EOF
  run serve -P "$PIDFILE" rust-reload=true rust="$PLUGIN" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  [ -z "$(copy_dirs)" ]
}

@test "a new build gets the same keys in order, then config_complete, get_ready and after_fork" {
  reload_script <<'EOF'
roll_out(B)
assert served() == "B"
print("ok")
EOF
  run serve note=first rust-reload=true rust="$PLUGIN" note=second \
      --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  for build in A B; do
    calls=$(sed -n -E "s/.*debug: reload $build: (.*)$/\1/p" "$(nbdkit_log)" |
              grep -v -E '^(cleanup|unload)$' | tr '\n' ' ')
    [ "$calls" = "load config note=first config note=second config_complete get_ready after_fork " ]
  done
}

@test "a symbolic link pointed at another build is a new build" {
  cp "$RELOAD_A" "$BATS_TEST_TMPDIR/a.so"
  cp "$RELOAD_B" "$BATS_TEST_TMPDIR/b.so"
  rm "$PLUGIN"
  ln -s a.so "$PLUGIN"
  reload_script <<'EOF'
assert served() == "A"
os.symlink("b.so", PLUGIN + ".new")
os.rename(PLUGIN + ".new", PLUGIN)
settle()
assert served() == "B"
print("ok")
EOF
  run serve rust-reload=true rust="$PLUGIN" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
}

@test "rust-reload after rust= also runs the first build from a private copy" {
  # The bare form, then rust-reload: the plugin is loaded once every
  # key is known, so from a copy.  Then writing PLUGIN in place cannot
  # disturb the running build.
  reload_script <<'EOF'
old = connect()
assert build_of(old) == "A"
with open(PLUGIN, "wb") as f:
    f.write(open(B, "rb").read()[:100000])
settle()
assert served() == "A"
assert build_of(old) == "A"
old.shutdown()
print("ok")
EOF
  run serve "$PLUGIN" rust-reload=true --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "loaded Rust plugin reload \(build 1\) from $PLUGIN, private copy "
  [ "$(logged_count 'loaded Rust plugin')" -eq 1 ]
  logged "error: rust-reload: $PLUGIN: not a complete library yet \(100000 bytes"
}

# ---- A new build that cannot be used.

@test "a library still being written is not loaded until it is complete" {
  reload_script <<'EOF'
data = open(B, "rb").read()
half = len(data) // 2
old = connect()
# In place, as a linker writes its output.
with open(PLUGIN, "r+b") as f:
    f.truncate(0)
    f.write(data[:half])
    f.flush()
    settle()
    assert served() == "A"
    # The same incomplete file is not tried again.
    assert served() == "A"
    f.write(data[half:])
settle()
assert served() == "B"
assert build_of(old) == "A"
old.shutdown()
print("ok")
EOF
  run serve rust-reload=true rust="$PLUGIN" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "error: rust-reload: $PLUGIN: not a complete library yet"
  logged "error: rust-reload: $PLUGIN: the new build is not used \(see the error above\); build 1 stays in service"
  [ "$(logged_count 'not a complete library yet')" -eq 1 ]
  logged "rust-reload: build 2 serves new connections"
}

@test "a file that is not a Rust plugin keeps the old build serving" {
  if [ ! -f "$ABI_PLUGINS/abi-nosym.so" ]; then
    skip "build tests/abi-plugins first"
  fi
  export NOSYM=$ABI_PLUGINS/abi-nosym.so
  reload_script <<'EOF'
roll_out(os.environ["NOSYM"])
assert served() == "A"
with open(PLUGIN + ".new", "w") as f:
    f.write("not a library\n")
os.rename(PLUGIN + ".new", PLUGIN)
settle()
assert served() == "A"
roll_out(B)
assert served() == "B"
print("ok")
EOF
  run serve rust-reload=true rust="$PLUGIN" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "error: $PLUGIN: not a Rust nbdkit plugin: it does not export nbdkit_rust_plugin_v1"
  logged "error: $PLUGIN: not an ELF shared object"
  [ "$(logged_count 'build 1 stays in service')" -eq 2 ]
}

@test "a new build that fails config_complete, get_ready or after_fork keeps the old one serving" {
  reload_script <<'EOF'
roll_out(B)
assert served() == "A"
# The failed build's private copy is gone (as is build 1's, once
# mapped).
assert copies() == [], copies()
print("ok")
EOF
  for callback in config_complete get_ready after_fork; do
    cp "$RELOAD_A" "$PLUGIN"
    run serve rust-reload=true rust="$PLUGIN" fail=B:$callback \
        --run "$nbdsh_run"
    cat "$(nbdkit_log)"
    [ "$status" -eq 0 ]
    [ "$output" = ok ]
    logged "error: reload B: $callback fails, as fail= asked"
    logged "error: rust-reload: $PLUGIN: build 2: $callback failed"
    logged "build 1 stays in service"
    # The failed build was unloaded (after cleanup, once after_fork
    # was reached).
    logged "reload B: unload"
    if [ "$callback" = after_fork ]; then logged "reload B: cleanup"; fi
  done
}

@test "a new build that refuses the keys keeps the old one serving" {
  if [ ! -f "$ABI_PLUGINS/abi-good-noconfig.so" ]; then
    skip "build tests/abi-plugins first"
  fi
  # A new version of the plugin that takes no parameters any more.
  export NOCONFIG=$ABI_PLUGINS/abi-good-noconfig.so
  reload_script <<'EOF'
roll_out(os.environ["NOCONFIG"])
assert served() == "A"
print("ok")
EOF
  run serve rust-reload=true rust="$PLUGIN" note=1 --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "error: $PLUGIN: the Rust plugin abigood takes no parameters, but was given note"
  logged "error: rust-reload: $PLUGIN: build 2 refused the keys the server was started with"
  logged "build 1 stays in service"
}

@test "a new build whose load fails is refused, and the old one keeps serving" {
  if [ ! -f "$ABI_PLUGINS/abi-load-fails.so" ]; then
    skip "build tests/abi-plugins first"
  fi
  export LOAD_FAILS=$ABI_PLUGINS/abi-load-fails.so
  reload_script <<'EOF'
roll_out(os.environ["LOAD_FAILS"])
assert served() == "A"
assert served() == "A"
roll_out(B)
assert served() == "B"
print("ok")
EOF
  run serve rust-reload=true rust="$PLUGIN" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "error: abigood: load fails \(as designed\)"
  logged "error: $PLUGIN: the plugin's load failed \(build 2\)"
  # Refused once, not again at the next connection.
  [ "$(logged_count 'build 1 stays in service')" -eq 1 ]
  logged "rust-reload: build 3 serves new connections"
}

@test "a new Rust build whose load panics is refused, and the old one keeps serving" {
  FAULTY=$(rust_test_plugin faulty)
  [ -f "$FAULTY" ] || skip "build tests/rust-plugins first"
  timeout 60 nbdkit "$LOADER" rust="$FAULTY" --dump-plugin |
    grep -q -x 'rust_abi_version=1.1' ||
    skip "the faulty plugin is not built with an SDK of ABI 1.1"
  export FAULTY
  reload_script <<'EOF'
roll_out(os.environ["FAULTY"])
assert served() == "A"
print("ok")
EOF
  # Build A has no load fault; faulty's load panics when this is set.
  # No backtrace: std caches what it reads to print one in the
  # plugin's statics, which the refused build's dlclose() orphans (the
  # checkers' runs would report them lost).
  FAULTY_PANIC_IN_LOAD=1 RUST_BACKTRACE=0 run serve rust-reload=true \
      rust="$PLUGIN" --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "faulty: injected panic"
  logged "error: $PLUGIN: the plugin's load failed \(build 2\)"
  logged "build 1 stays in service"
}

@test "the first build is loaded and configured once, wherever rust-reload= is" {
  reload_script <<'EOF'
assert served() == "A"
print("ok")
EOF
  for order in "rust-reload=true rust=$PLUGIN" "rust=$PLUGIN rust-reload=true" \
               "$PLUGIN rust-reload=true"; do
    # shellcheck disable=SC2086
    run serve note=first $order note=second --run "$nbdsh_run"
    cat "$(nbdkit_log)"
    [ "$status" -eq 0 ]
    [ "$output" = ok ]
    [ "$(logged_count 'loaded Rust plugin')" -eq 1 ]
    [ "$(logged_count 'reload A: load$')" -eq 1 ]
    [ "$(logged_count 'reload A: config note=first$')" -eq 1 ]
    [ "$(logged_count 'reload A: config note=second$')" -eq 1 ]
  done
}

@test "a new build that asks for a stricter thread model is refused" {
  reload_script <<'EOF'
roll_out(B)
assert served() == "A"
print("ok")
EOF
  run serve rust-reload=true rust="$PLUGIN" strict=B --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "using thread model: parallel"
  logged "error: rust-reload: $PLUGIN: build 2 asks for the serialize_requests thread model, stricter than parallel, which nbdkit fixed for this server at startup"
  logged "build 1 stays in service"
}

@test "a new build may ask for a looser thread model than the server's" {
  reload_script <<'EOF'
roll_out(B)
assert served() == "B"
print("ok")
EOF
  run serve rust-reload=true rust="$PLUGIN" strict=A --run "$nbdsh_run"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "using thread model: serialize_requests"
  logged "rust-reload: build 2 serves new connections"
}

# ---- Under load.

# A write-and-verify client: connects again and again until the file
# STOP exists, and prints what it saw as JSON.  Each connection checks
# which build serves it (size, and the last block, never written), then
# writes random data to 4 blocks at once and reads them back, 8 times.
# Client I of N owns every Nth block of the first MiB (both builds have
# it), so the clients never write the same block.
load_client='
import json, os, random, sys
import nbd

uri, me, n, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
BLOCK = 4096
TAGS = {1 << 20: b"A", 2 << 20: b"B"}
own = list(range(me, (1 << 20) // BLOCK - 1, n))
rng = random.Random(me)
seen = {"connections": 0, "requests": 0, "failed": 0, "mismatches": 0,
        "builds": ""}

def complete(h, cookies):
    while h.aio_in_flight() > 0:
        h.poll(-1)
    for c in cookies:
        h.aio_command_completed(c)   # raises if the request failed

while not os.path.exists(stop):
    h = nbd.NBD()
    h.connect_uri(uri)
    seen["connections"] += 1
    try:
        size = h.get_size()
        tag = TAGS.get(size, b"?")
        if tag.decode() not in seen["builds"]:
            seen["builds"] += tag.decode()
        seen["requests"] += 1
        if h.pread(BLOCK, size - BLOCK) != tag * BLOCK:
            seen["mismatches"] += 1
        for _ in range(8):
            blocks = rng.sample(own, 4)
            data = [bytearray(rng.randbytes(BLOCK)) for _ in blocks]
            bufs = [nbd.Buffer(BLOCK) for _ in blocks]
            complete(h, [h.aio_pwrite(nbd.Buffer.from_bytearray(d), b * BLOCK)
                         for d, b in zip(data, blocks)])
            complete(h, [h.aio_pread(buf, b * BLOCK)
                         for buf, b in zip(bufs, blocks)])
            seen["requests"] += 2 * len(blocks)
            seen["mismatches"] += sum(buf.to_bytearray() != d
                                      for buf, d in zip(bufs, data))
    except nbd.Error as e:
        seen["failed"] += 1
        print("client %d: %s" % (me, e), file=sys.stderr)
    h.shutdown()
print(json.dumps(seen))
'

# The --run script of the load test: 4 clients for 2 s on build 1, then
# counts; 4 clients again while the builds are swapped 20 times (each
# swap waits until a new connection gets the new build); then counts
# again.  Counts are taken when nbdkit is down to its main thread, so
# that every connection thread has exited.
swap_script='
set -e
for i in $(seq 100); do [ -s "$PIDFILE" ] && break; sleep 0.1; done
pid=$(cat "$PIDFILE")
quiet () {
  for i in $(seq 300); do
    [ "$(ls /proc/$pid/task | wc -l)" -eq 1 ] && return 0
    sleep 0.1
  done
  echo "nbdkit still has threads" >&2
  return 1
}
counts () {
  quiet
  echo "fds=$(ls /proc/$pid/fd | wc -l)"
  echo "maps=$(wc -l < /proc/$pid/maps)"
  echo "copy_maps=$(grep -c nbdkit-rust-reload- /proc/$pid/maps)"
  echo "copies_mapped=$(grep -o "nbdkit-rust-reload-.*" /proc/$pid/maps | sort -u | tr "\n" "," |
                     tr -c "A-Za-z0-9._/,-" "_")"
}
clients () {
  rm -f "$STOP"
  for i in 0 1 2 3; do
    /usr/bin/python3 "$CLIENT" "$uri" $i 4 "$STOP" > "$OUT.$1.$i" &
  done
}
clients warmup
sleep 2
touch "$STOP"
wait
counts > "$OUT.before"
clients swaps
for n in $(seq 20); do
  if [ $((n % 2)) -eq 1 ]; then src=$RELOAD_B size=2097152
  else src=$RELOAD_A size=1048576; fi
  cp "$src" "$PLUGIN.new"
  mv "$PLUGIN.new" "$PLUGIN"
  for t in $(seq 100); do
    [ "$(nbdinfo --size "$uri")" = $size ] && break
    sleep 0.1
  done
  sleep 0.3
done
touch "$STOP"
wait
counts > "$OUT.after"
'

@test "20 swaps under a parallel write-and-verify load: no failure, no mismatch, nothing left behind" {
  export CLIENT=$BATS_TEST_TMPDIR/client.py STOP=$BATS_TEST_TMPDIR/stop
  export OUT=$BATS_TEST_TMPDIR/out PIDFILE=$BATS_TEST_TMPDIR/nbdkit.pid
  echo "$load_client" > "$CLIENT"
  SERVE_TIMEOUT=180 run serve -P "$PIDFILE" rust-reload=true rust="$PLUGIN" \
      --run "$swap_script"
  echo "$output"
  grep -E 'error: |rust-reload: ' "$(nbdkit_log)" || true
  cat "$OUT".*
  [ "$status" -eq 0 ]

  # Every request of every client succeeded and read back what it
  # wrote; each client saw both builds.
  for f in "$OUT".swaps.*; do
    /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["failed"] == 0 and s["mismatches"] == 0, s
assert s["connections"] >= 20 and s["builds"] in ("AB", "BA"), s
' "$f"
  done
  [ "$(logged_count 'error: ')" -eq 0 ]

  # 20 new builds loaded, the 20 old ones retired.
  [ "$(logged_count 'rust-reload: build [0-9]+ serves new connections')" -eq 20 ]
  logged "rust-reload: build 21 serves new connections"
  [ "$(logged_count 'rust-reload: retired build [0-9]+ ')" -eq 20 ]

  # Nothing left behind: as many file descriptors as before, only the
  # current build's copy mapped (removed from disk once mapped: the
  # kernel names it "... (deleted)", "__deleted_" once tr has been
  # through it), and (allowing for malloc arenas and glibc's cache of
  # thread stacks) no more mappings.
  source "$OUT.before"
  fds_before=$fds maps_before=$maps copy_maps_before=$copy_maps
  source "$OUT.after"
  [ "$fds" -eq "$fds_before" ]
  [ "$copy_maps" -eq "$copy_maps_before" ]
  [[ "$copies_mapped" =~ ^nbdkit-rust-reload-[^/]+/21-libplugin\.so__deleted_,$ ]]
  # (Not under ASan or valgrind, whose allocators map memory of their
  # own as they go: tests/checkers/nbdkit.)
  if [ -z "${NBDKIT_CHECKER:-}" ]; then
    [ "$maps" -le $((maps_before + 4)) ]
  fi
}
