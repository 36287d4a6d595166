#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# rust-reload=true and the files it reads and writes: what it refuses to
# read (a FIFO, which would block it), a file rewritten in place under
# load (never loaded half-written), and its private copies in $TMPDIR
# (nothing left behind, whatever fails; a noexec or full $TMPDIR named).
#
# The plugins are the two builds of tests/rust-plugins' reload disk
# (see reload.bats): reload_a, 1 MiB reading 'A', and reload_b, 2 MiB
# reading 'B'.  Each test serves a copy of reload_a at $PLUGIN, with
# $TMPDIR a directory of the test's own.

load helpers

setup () {
  RELOAD_A=$(rust_test_plugin reload_a)
  RELOAD_B=$(rust_test_plugin reload_b)
  if [ ! -f "$LOADER" ] || [ ! -f "$RELOAD_A" ] || [ ! -f "$RELOAD_B" ]; then
    skip "build the loader and tests/rust-plugins first"
  fi
  PLUGIN=$BATS_TEST_TMPDIR/libplugin.so
  cp "$RELOAD_A" "$PLUGIN"
  RELOAD_TMPDIR=$BATS_TEST_TMPDIR/tmp
  mkdir "$RELOAD_TMPDIR"
  export RELOAD_A RELOAD_B PLUGIN RELOAD_TMPDIR
}

teardown () {
  # The server a failed test left running (nbdkit by its $pidfile, as
  # killing $server, its timeout, would leave it behind), and the
  # test's tmpfs, if it mounted one ($mnt).
  if [ -n "${pidfile:-}" ] && [ -s "$pidfile" ]; then
    kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
  fi
  if [ -n "${server:-}" ] && kill -0 "$server" 2>/dev/null; then
    kill -KILL "$server" 2>/dev/null || true
  fi
  if [ -n "${mnt:-}" ] && mountpoint -q "$mnt"; then
    umount "$mnt"
  fi
}

# tmpdir_empty DIR: nothing in DIR; else show what is there.
tmpdir_empty () {
  [ -z "$(ls -A "$1")" ] && return 0
  echo "left in $1:" >&2
  find "$1" >&2
  return 1
}

# The client's helpers (nbdsh_script in helpers.bash).
files_prelude='
PLUGIN = os.environ["PLUGIN"]

def served():
    """The build a new connection gets, "A" or "B", by its size and
    its last block."""
    c = connect()
    size = c.get_size()
    tag = {1 << 20: "A", 2 << 20: "B"}[size]
    assert c.pread(4096, size - 4096) == tag.encode() * 4096, "not build " + tag
    c.shutdown()
    return tag
'

# ---- A FIFO at rust=PATH: opening it to read would wait for a writer.

@test "a FIFO at rust= with rust-reload is refused at startup, without waiting on it" {
  fifo=$BATS_TEST_TMPDIR/fifo.so
  mkfifo "$fifo"
  run env TMPDIR="$RELOAD_TMPDIR" timeout 20 nbdkit -U - "$LOADER" \
      rust-reload=true rust="$fifo" --run 'echo client ran'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" != *"client ran"* ]]
  [[ "$output" == *"error: $fifo: not a regular file"* ]]
  tmpdir_empty "$RELOAD_TMPDIR"
}

@test "a FIFO swapped in at rust= is refused, the old build keeps serving, and SIGTERM stops nbdkit" {
  sock=$BATS_TEST_TMPDIR/sock
  pidfile=$BATS_TEST_TMPDIR/nbdkit.pid
  # In the foreground, killed 5 s after the 60 s if SIGTERM did not
  # stop it.  Not holding bats' own descriptor 3.
  TMPDIR=$RELOAD_TMPDIR timeout -k 5 60 nbdkit -f -v -U "$sock" \
      -P "$pidfile" "$LOADER" rust-reload=true rust="$PLUGIN" \
      2>"$(nbdkit_log)" 3>&- &
  server=$!
  for _ in $(seq 100); do [ -S "$sock" ] && [ -s "$pidfile" ] && break; sleep 0.1; done
  [ -S "$sock" ]

  nbdsh_script <<< "$files_prelude
assert served() == 'A'
os.mkfifo(PLUGIN + '.new')
os.rename(PLUGIN + '.new', PLUGIN)
for _ in range(3):
    assert served() == 'A'
print('ok')
"
  run env uri="nbd+unix:///?socket=$sock" NBDKIT_LOG="$(nbdkit_log)" \
      timeout 30 bash -c "$nbdsh_run"
  echo "$output"
  cat "$(nbdkit_log)"
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
  logged "error: $PLUGIN: not a regular file, so not a Rust plugin"
  logged "error: rust-reload: $PLUGIN: the new build is not used \(see the error above\); build 1 stays in service"
  # Refused once, not again at each connection.
  [ "$(logged_count 'not a regular file')" -eq 1 ]

  kill -TERM "$(cat "$pidfile")"
  for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server" 2>/dev/null; then
    echo "nbdkit did not stop within 10 s of SIGTERM" >&2
    false
  fi
  wait "$server"
}

# ---- A file rewritten in place, at the same size, under load.

# One of 20 clients: connects again and again until the file STOP
# exists, and reads each time the last block, which tells the build by
# the size (see setup); prints what it saw as JSON.
inplace_client='
import json, os, sys
import nbd

uri, stop = sys.argv[1], sys.argv[2]
TAGS = {1 << 20: b"A", 2 << 20: b"B"}
seen = {"connections": 0, "failed": 0, "mismatches": 0, "builds": ""}
while not os.path.exists(stop):
    try:
        h = nbd.NBD()
        h.connect_uri(uri)
        seen["connections"] += 1
        size = h.get_size()
        tag = TAGS.get(size, b"?")
        if h.pread(4096, size - 4096) != tag * 4096:
            seen["mismatches"] += 1
        if tag.decode() not in seen["builds"]:
            seen["builds"] += tag.decode()
        h.shutdown()
    except nbd.Error as e:
        seen["failed"] += 1
        print("client: %s" % e, file=sys.stderr)
print(json.dumps(seen))
'

# The script --run runs with bash (for $RANDOM), given $uri: 20
# clients, and a writer that rewrites PLUGIN in place with one build or
# the other, alternately, for $SECONDS_IN_PLACE seconds, pausing 0 to
# 400 ms between rewrites (so that some rewrites are quiet long enough
# to be loaded).
inplace_script='
set -e
uri=$1
rm -f "$STOP"
for i in $(seq 20); do
  /usr/bin/python3 "$CLIENT" "$uri" "$STOP" > "$OUT.$i" &
done
end=$(($(date +%s) + SECONDS_IN_PLACE))
n=0
while [ "$(date +%s)" -lt "$end" ] && [ "$n" -lt 10000 ]; do
  if [ $((n % 2)) -eq 0 ]; then src=$PADDED_B; else src=$PADDED_A; fi
  dd if="$src" of="$PLUGIN" bs=4K conv=notrunc status=none
  sleep "0.$((RANDOM % 5))"
  n=$((n + 1))
done
touch "$STOP"
wait
'

# serve_logged_reload ARGS...: nbdkit -v serving $PLUGIN with
# rust-reload, captive, its log in $(nbdkit_log), killed once the
# writer has had its time and 30 s more.  Per-request debug lines
# are left out.
serve_logged_reload () {
  TMPDIR=$RELOAD_TMPDIR timeout $((SECONDS_IN_PLACE + 30)) \
    nbdkit -v -D nbdkit.backend.datapath=0 -U - "$LOADER" \
    rust-reload=true rust="$PLUGIN" "$@" 2>"$(nbdkit_log)"
}

@test "a file rewritten in place at the same size while 20 clients connect is never loaded half-written" {
  export CLIENT=$BATS_TEST_TMPDIR/client.py STOP=$BATS_TEST_TMPDIR/stop
  export OUT=$BATS_TEST_TMPDIR/out SECONDS_IN_PLACE=${SECONDS_IN_PLACE:-20}
  export PADDED_A=$BATS_TEST_TMPDIR/a.so PADDED_B=$BATS_TEST_TMPDIR/b.so
  export SCRIPT=$BATS_TEST_TMPDIR/inplace.sh
  echo "$inplace_client" > "$CLIENT"
  echo "$inplace_script" > "$SCRIPT"
  # Both builds padded to one size, so that neither size nor ELF
  # headers tell a half-written file; stripped (when strip is there),
  # so small that a copy takes less than one tick of the clock that
  # stamps files, where size and mtime cannot tell either.
  if command -v strip >/dev/null; then
    strip -o "$PADDED_A" "$RELOAD_A"
    strip -o "$PADDED_B" "$RELOAD_B"
  else
    cp "$RELOAD_A" "$PADDED_A"
    cp "$RELOAD_B" "$PADDED_B"
  fi
  size=$(stat -c %s "$PADDED_A" "$PADDED_B" | sort -n | tail -n 1)
  truncate -s $((size + 4096)) "$PADDED_A" "$PADDED_B"
  cp "$PADDED_A" "$PLUGIN"

  run serve_logged_reload --run 'bash "$SCRIPT" "$uri"'
  echo "$output"
  grep -E 'error: |serves new connections|signal|Segmentation' "$(nbdkit_log)" | tail -n 40 || true
  cat "$OUT".*
  # nbdkit survived to the end.
  [ "$status" -eq 0 ]
  # Every client's every connection was served, by one build or the
  # other, whole.
  for f in "$OUT".*; do
    /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["failed"] == 0 and s["mismatches"] == 0, s
assert s["connections"] >= 10, s
' "$f"
  done
  # Some rewrites were loaded, and the clients saw both builds.
  [ "$(logged_count 'rust-reload: build [0-9]+ serves new connections')" -ge 1 ]
  grep -q '"builds": "\(AB\|BA\)"' "$OUT".*
  tmpdir_empty "$RELOAD_TMPDIR"
}

# ---- Nothing left in $TMPDIR, whatever fails.

# starts_and_fails PLUGIN ARGS...: nbdkit serving PLUGIN with
# rust-reload, in the foreground (so that after_fork runs without a
# client), must exit 1; and leave $RELOAD_TMPDIR empty.
starts_and_fails () {
  local plugin=$1
  shift
  run env TMPDIR="$RELOAD_TMPDIR" timeout 20 nbdkit -f \
      -U "$BATS_TEST_TMPDIR/sock" "$LOADER" rust-reload=true \
      rust="$plugin" "$@"
  echo "$plugin $*: $output"
  [ "$status" -eq 1 ]
  tmpdir_empty "$RELOAD_TMPDIR"
}

@test "a startup that fails after the copy leaves nothing in TMPDIR" {
  starts_and_fails "$PLUGIN" bogus=1
  [[ "$output" == *"reload: unknown parameter bogus"* ]]
  for callback in config_complete get_ready after_fork; do
    starts_and_fails "$PLUGIN" fail=A:$callback
    [[ "$output" == *"reload A: $callback fails, as fail= asked"* ]]
  done
}

@test "a startup where the plugin panics leaves nothing in TMPDIR" {
  faulty=$(rust_test_plugin faulty)
  [ -f "$faulty" ] || skip "build tests/rust-plugins first"
  for callback in config config_complete thread_model get_ready after_fork; do
    starts_and_fails "$faulty" panic=$callback size=1M
    [[ "$output" == *"faulty: injected panic"* ]]
  done
  # A panic in load fails the start only with an SDK of ABI 1.1.
  if timeout 60 nbdkit "$LOADER" rust="$faulty" --dump-plugin |
       grep -q -x 'rust_abi_version=1.1'; then
    FAULTY_PANIC_IN_LOAD=1 starts_and_fails "$faulty"
    [[ "$output" == *"faulty: injected panic"* ]]
  fi
}

@test "a library that cannot be loaded leaves nothing in TMPDIR" {
  [ -f "$ABI_PLUGINS/abi-nosym.so" ] || skip "build tests/abi-plugins first"
  starts_and_fails "$ABI_PLUGINS/abi-nosym.so"
  [[ "$output" == *"does not export nbdkit_rust_plugin_v1"* ]]
  starts_and_fails "$ABI_PLUGINS/abi-load-fails.so"
  [[ "$output" == *"the plugin's load failed"* ]]
  head -c 100000 "$RELOAD_A" > "$BATS_TEST_TMPDIR/cut.so"
  starts_and_fails "$BATS_TEST_TMPDIR/cut.so"
  [[ "$output" == *"not a complete library yet"* ]]
}

# mount_tmpfs OPTIONS: a tmpfs at $mnt (teardown unmounts it), or skip.
mount_tmpfs () {
  mnt=$BATS_TEST_TMPDIR/mnt
  mkdir "$mnt"
  mount -t tmpfs -o "$1" tmpfs "$mnt" 2>/dev/null ||
    skip "cannot mount a tmpfs here (mount -t tmpfs needs root): not tested"
}

@test "a noexec TMPDIR is refused at startup, naming it" {
  mount_tmpfs noexec,size=64M
  run env TMPDIR="$mnt" timeout 20 nbdkit -U - "$LOADER" rust-reload=true \
      rust="$PLUGIN" --run 'echo client ran'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" != *"client ran"* ]]
  [[ "$output" == *"error: rust-reload: $mnt (TMPDIR) is on a filesystem mounted noexec, where the plugin's private copy cannot be mapped: point TMPDIR at a directory on a filesystem that allows executables"* ]]
  tmpdir_empty "$mnt"
}

@test "a full TMPDIR is refused at startup, naming it" {
  # Room for the directory, not for the library.
  mount_tmpfs size=64k
  run env TMPDIR="$mnt" timeout 20 nbdkit -U - "$LOADER" rust-reload=true \
      rust="$PLUGIN" --run 'echo client ran'
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" != *"client ran"* ]]
  [[ "$output" == *"error: rust-reload: cannot copy $PLUGIN into $mnt/nbdkit-rust-reload-"*": No space left on device (is TMPDIR full?"* ]]
  tmpdir_empty "$mnt"
}
