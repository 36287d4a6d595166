# SPDX-License-Identifier: BSD-2-Clause
# Shared setup for filters.bats: a stack of filters over a plugin,
# served once with nbdkit's C filters and once with their Rust ports
# through the filter loader, and what a client sees of each.  Load
# helpers.bash first.

# rust_filter NAME: the Rust port of nbdkit's NAME filter.
rust_filter () { echo "$RUST_OUT/libfilter_$1.so"; }

# c_filter NAME: nbdkit's C filter that the Rust port NAME copies (the
# Rust passthrough copies nofilter).
c_filter () {
  case "$1" in
    passthrough) echo nofilter ;;
    *) echo "$1" ;;
  esac
}

# stack_args WAY WORD...: sets the array $args to the nbdkit arguments
# that serve the stack WORDs the WAY way (c or rust).  The WORDs are
# nbdkit's, in its order (options, filters outermost first, the plugin
# and every key=value), except:
#
#   +NAME     a filter with a Rust port: c: --filter=NAME (the C
#             original); rust: --filter=$FILTER_LOADER, and the key
#             rust-filter=libfilter_NAME.so right after the plugin,
#             before every other key, in the order of the filters (the
#             loader's key routing gives each loader instance, outermost
#             first, the first rust-filter= it sees; a Rust filter passes
#             on the keys it does not know).
#   +NAME=C   the Rust port NAME, against nbdkit's C filter C instead
#             of its original (e.g. where the original has a bug).
#   +c:NAME   nbdkit's C filter NAME, both ways.
#
# The first word that is neither an option nor a filter is the plugin.
# A Rust filter that is not built is an error.
stack_args () {
  local way=$1 word plugin_seen=0 name
  local -a opts=() keys=() rust_keys=()
  shift
  if [ "${FILTERS_SELF_CHECK:-0}" = 1 ]; then way=c; fi
  for word in "$@"; do
    if [ $plugin_seen -eq 1 ]; then
      keys+=("$word")
      continue
    fi
    case "$word" in
      +c:*) opts+=("--filter=${word#+c:}") ;;
      +*)
        name=${word#+}
        if [ "$way" = c ]; then
          case "$name" in
            *=*) opts+=("--filter=${name#*=}") ;;
            *) opts+=("--filter=$(c_filter "$name")") ;;
          esac
        else
          name=${name%%=*}
          if [ ! -f "$(rust_filter "$name")" ]; then
            echo "the Rust $name filter is not built: $(rust_filter "$name")" >&2
            return 1
          fi
          opts+=("--filter=$FILTER_LOADER")
          rust_keys+=("rust-filter=$(rust_filter "$name")")
        fi
        ;;
      -*) opts+=("$word") ;;
      *) opts+=("$word"); plugin_seen=1 ;;
    esac
  done
  if [ "$way" = rust ] && [ ! -f "$FILTER_LOADER" ]; then
    echo "the filter loader is not built: $FILTER_LOADER" >&2
    return 1
  fi
  args=("${opts[@]}" "${rust_keys[@]}" "${keys[@]}")
}

# way_label WAY: what a diff calls WAY.
way_label () {
  case "$1" in
    c) echo "nbdkit's C filters" ;;
    rust) echo "the Rust ports" ;;
  esac
}

# out WAY, log WAY: what WAY's client saw, and nbdkit's log.
out () { echo "$BATS_TEST_TMPDIR/$1.out"; }
log () { echo "$BATS_TEST_TMPDIR/$1.log"; }

# before_each: a command the scenario sets to run before each way
# serves (e.g. fresh partition files, since writes reach them).
before_each=true

# ignore: an extended regular expression of the probe's lines that
# same_view does not compare (set by a scenario that compares a port
# with another C filter than its original).
ignore=

# compared OUT: the lines of OUT that same_view compares.
compared () {
  if [ -n "$ignore" ]; then grep -v -E "$ignore" "$1"; else cat "$1"; fi
}

# probe_more: probe.py also sends requests off block boundaries, block
# status with REQ_ONE, and reads back through a second connection.
probe_more () {
  probe_script=$probe_script timeout 60 nbdkit -v -U - "$@" \
    --run '/usr/bin/python3 "$probe_script" --more "$uri"'
}

# same_view WORD...: serves the stack WORDs both ways, probes each,
# and compares what the clients saw and the thread model nbdkit chose.
# Any difference fails and prints the diff against the C filters.
same_view () {
  local way args differ=0
  for way in c rust; do
    stack_args "$way" "$@" || return 1
    $before_each
    if ! probe_more "${args[@]}" >"$(out "$way")" 2>"$(log "$way")"; then
      echo "$(way_label "$way") failed: nbdkit ${args[*]}"
      cat "$(out "$way")" "$(log "$way")"
      return 1
    fi
  done
  diff -u --label "client view, $(way_label c)" \
       --label "client view, $(way_label rust)" \
       <(compared "$(out c)") <(compared "$(out rust)") || differ=1
  diff -u --label "thread model, $(way_label c)" \
       --label "thread model, $(way_label rust)" \
       <(thread_model "$(log c)") <(thread_model "$(log rust)") || differ=1
  return $differ
}

# same_client_output CLIENT WORD...: like same_view, with the shell
# command CLIENT (run by --run, given $uri) as the client: its output
# must be the same both ways.
same_client_output () {
  local client=$1 way args
  shift
  for way in c rust; do
    stack_args "$way" "$@" || return 1
    $before_each
    if ! timeout 60 nbdkit -U - "${args[@]}" --run "$client" \
         >"$(out "$way")" 2>"$(log "$way")"; then
      echo "$(way_label "$way") failed: nbdkit ${args[*]}"
      cat "$(out "$way")" "$(log "$way")"
      return 1
    fi
  done
  diff -u --label "client output, $(way_label c)" \
       --label "client output, $(way_label rust)" \
       "$(out c)" "$(out rust)"
}

# thread_model LOG: the thread model nbdkit chose, from its -v log.
thread_model () {
  sed -n -E 's/^.*debug: (using thread model: .*)$/\1/p' "$1"
}

# same_failure WORD...: the stack WORDs fail to serve, the same way
# both ways: nbdkit's exit status, and its messages and the client's
# (without nbdkit's "nbdkit: NAME[N]: " prefixes, which name the
# plugin or filter whose thread logged them).
same_failure () {
  local way args status differ=0
  for way in c rust; do
    stack_args "$way" "$@" || return 1
    $before_each
    status=0
    probe_script=$probe_script timeout 60 nbdkit -U - "${args[@]}" \
      --run '/usr/bin/python3 "$probe_script" "$uri"' \
      >"$(out "$way")" 2>"$(log "$way")" || status=$?
    echo "exit status $status" >>"$(out "$way")"
    normalised "$(log "$way")" >>"$(out "$way")"
  done
  if grep -qx "exit status 0" "$(out c)"; then
    echo "the C filters served: not a failure scenario"
    cat "$(out c)"
    return 1
  fi
  diff -u --label "failure, $(way_label c)" \
       --label "failure, $(way_label rust)" \
       "$(out c)" "$(out rust)" || differ=1
  return $differ
}

# normalised LOG: nbdkit's messages without the name of the backend
# that logged them.
normalised () {
  sed -E 's/^nbdkit: [A-Za-z0-9_.-]+\[[0-9]+\]: /nbdkit: /' "$1"
}

# --- disks ---

# make_file FILE SIZE SEED: FILE of SIZE bytes of data that depends on
# SEED, the same every time.
make_file () {
  /usr/bin/python3 - "$1" "$2" "$3" <<'EOF'
import hashlib, sys
path, size, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = bytearray()
n = 0
while len(out) < size:
    out += hashlib.sha256(("%s %d" % (seed, n)).encode()).digest()
    n += 1
with open(path, "wb") as f:
    f.write(out[:size])
EOF
}

# make_partition_files: fresh partition contents p1.img .. p6.img in
# $BATS_TEST_TMPDIR, of different sizes (not all multiples of 64K).
make_partition_files () {
  local i
  for i in 1 2 3 4 5 6; do
    make_file "$BATS_TEST_TMPDIR/p$i.img" $((1048576 + i * 4096 + (i % 2) * 512)) "p$i"
  done
}

# partitions N: the names of the first N partition files.
partitions () {
  local i
  for i in $(seq "$1"); do echo "$BATS_TEST_TMPDIR/p$i.img"; done
}
