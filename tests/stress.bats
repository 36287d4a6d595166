#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Stress: for each of nbdkit's four thread models, 16 connections at
# once run a mixed load (reads, writes, some with FUA, trims, zeroes,
# flushes; 8 requests in flight each) on the ramdisk example for
# STRESS_SECONDS (default 15), each checking every read of its own
# region, and then, after the writers' flush, the regions the others
# wrote (tests/stress.py says how).  No request may fail and no byte
# may differ.
#
# The ramdisk example is parallel; the stricter models are nbdkit's
# own serialisation above it (nbdkit-noparallel-filter), which is how
# nbdkit runs any plugin in them: the loader and the plugin then see
# exactly the calls that model allows.  Under serialize_connections
# nbdkit serves one connection at a time, so the 16 connections wait
# their turn in the handshake and each checks the regions of those
# served before it.

load helpers

: "${STRESS_SECONDS:=15}"
STRESS_CLIENT=$BATS_TEST_DIRNAME/stress.py

# stress MODEL: serves the ramdisk example in MODEL and runs the stress
# client; $output is its JSON line (its complaints, if any, first).
stress () {
  local model=$1 mode=rounds
  local filter=() serialize=()
  case "$model" in
    parallel) ;;
    serialize_requests) serialize=(serialize=requests) ;;
    serialize_all_requests) serialize=(serialize=all-requests) ;;
    serialize_connections) serialize=(serialize=connections) mode=turns ;;
  esac
  if [ ${#serialize[@]} -gt 0 ]; then filter=(--filter=noparallel); fi

  # nbdkit chooses the model it is asked for.
  run timeout 60 nbdkit -v -U - "${filter[@]}" "$LOADER" rust="$RAMDISK" \
      size=64M "${serialize[@]}" --run true
  [ "$status" -eq 0 ]
  [[ "$output" == *"using thread model: $model"* ]]

  STRESS_CLIENT=$STRESS_CLIENT STRESS_MODE=$mode \
    run timeout $((STRESS_SECONDS * 4 + 120)) nbdkit -U - "${filter[@]}" \
      "$LOADER" rust="$RAMDISK" size=64M "${serialize[@]}" \
      --run '/usr/bin/python3 "$STRESS_CLIENT" "$uri" "$STRESS_MODE" 16 '"$STRESS_SECONDS"
  echo "$output"
  # The figures, for the record: bats --tap shows this line.
  echo "# $model: ${lines[-1]}" >&3
}

# field NAME: a number from the client's JSON line.
field () {
  /usr/bin/python3 -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' \
    "${lines[-1]}" "$1"
}

# loaded_and_verified: the run's figures say what the test promises.
loaded_and_verified () {
  [ "$status" -eq 0 ]
  [ "$(field connections)" -eq 16 ]
  [ "$(field errors)" -eq 0 ]
  [ "$(field mismatches)" -eq 0 ]
  # A real load, whatever the machine: each connection's reads checked,
  # and every other region checked whole after its writer's flush.
  [ "$(field requests)" -ge 1600 ]
  [ "$(field verified_own)" -ge 160 ]
  [ "$(field verified_others)" -ge $((16 * 1024)) ]
}

@test "parallel: 16 connections, mixed load, every read checked, others' data after flush" {
  stress parallel
  loaded_and_verified
  [ "$(field multi_conn)" = True ]
}

@test "serialize_requests: 16 connections, mixed load, every read checked, others' data after flush" {
  stress serialize_requests
  loaded_and_verified
}

@test "serialize_all_requests: 16 connections, mixed load, every read checked, others' data after flush" {
  stress serialize_all_requests
  loaded_and_verified
}

@test "serialize_connections: 16 connections in turn, mixed load, every read checked, earlier data after flush" {
  stress serialize_connections
  loaded_and_verified
}
