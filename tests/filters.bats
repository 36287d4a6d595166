#!/usr/bin/env bats
# SPDX-License-Identifier: BSD-2-Clause
# Differential tests of the Rust filters: each Rust port in
# examples/filters (offset, swab, partition, cow, and passthrough, the
# twin of nbdkit's nofilter) served through the filter loader must look
# exactly like nbdkit's C original to a client.
#
#   bats tests/filters.bats        (ctest: bats-filters)
#
# Each scenario is a stack of filters over one of nbdkit's plugins (or
# over `nbdkit rust` serving the ramdisk example), written once (see
# stack_args in filter-helpers.bash) and served two ways:
#
#   c      nbdkit --filter=NAME ... PLUGIN ...
#   rust   nbdkit --filter=$FILTER_LOADER ... PLUGIN
#                 rust-filter=$RUST_OUT/libfilter_NAME.so ...
#
# probe.py --more prints everything a client sees (size, flags, block
# sizes, exports, the outcome, errno and effect of each kind of request,
# aligned or not, checksums of full reads, block status, what a second
# connection reads); the two texts, and the thread model nbdkit chose,
# must be the same.  Failure scenarios (bad keys, missing partitions)
# must fail the same way: nbdkit's exit status and the messages, without
# the name of the backend that logged them.  Any difference fails the
# test and prints the diff against the C filters.  A Rust filter that
# is not built fails its scenarios.
#
# FILTERS_SELF_CHECK=1 serves the C filters both ways, to check that
# every scenario prints the same text twice.

load helpers
load filter-helpers

setup () {
  # The cow filters' overlays (and nothing else of theirs) go here.
  export TMPDIR=$BATS_TEST_TMPDIR
}

# Disks.  The probe writes up to 600K into the disk and reads it all in
# 1M requests at most.
data_disk=(data "1 2 3 @0x10000 ( 0x55 0xaa 0 0 )*4000 @0x50001 ( 7 )*70000 @0xc0000 9" size=1M)
ramdisk=("$LOADER" rust="$RAMDISK" size=1M)

# mbr N, gpt N: the partitioning plugin over fresh files p1.img .. pN.img,
# with that kind of partition table.
mbr () {
  before_each=make_partition_files
  disk=(partitioning $(partitions "$1") partition-type=mbr)
}
gpt () {
  before_each=make_partition_files
  disk=(partitioning $(partitions "$1") partition-type=gpt)
}

# --- passthrough (nbdkit's nofilter) ---

@test "passthrough over memory, read-write" {
  same_view +passthrough memory 1M
}

@test "passthrough over memory, read-only" {
  same_view -r +passthrough memory 1M
}

@test "passthrough over pattern" {
  same_view +passthrough pattern 1M
}

@test "passthrough over null" {
  same_view +passthrough null 1M
}

@test "passthrough over data" {
  same_view +passthrough "${data_disk[@]}"
}

@test "passthrough over partitioning (MBR)" {
  mbr 2
  same_view +passthrough "${disk[@]}"
}

@test "passthrough over nbdkit rust (ramdisk)" {
  same_view +passthrough "${ramdisk[@]}"
}

@test "passthrough: an unknown key reaches the plugin, which refuses it" {
  same_failure +passthrough memory 1M foo=bar
}

# --- offset ---

@test "offset over memory, read-write" {
  same_view +offset memory 2M offset=4100 range=1M
}

@test "offset over memory, read-only" {
  same_view -r +offset memory 2M offset=65536
}

@test "offset over pattern" {
  same_view +offset pattern 3M offset=1000008 range=1048584
}

@test "offset over data, range only" {
  same_view +offset "${data_disk[@]}" range=700000
}

@test "offset over null" {
  same_view +offset null 2M offset=1M
}

@test "offset over nbdkit rust (ramdisk)" {
  same_view +offset "$LOADER" rust="$RAMDISK" size=2M offset=512 range=1M
}

@test "offset: an offset beyond the disk fails" {
  same_failure +offset memory 1M offset=2M
}

@test "offset: an offset and range beyond the disk fail" {
  same_failure +offset memory 1M offset=4096 range=1M
}

@test "offset: an unparsable offset is refused" {
  same_failure +offset memory 1M offset=abc
}

@test "offset: an unparsable range is refused" {
  same_failure +offset memory 1M range=1Q
}

# --- swab ---

@test "swab over pattern (16 bits)" {
  same_view +swab pattern 1M
}

@test "swab over memory, 32 bits, read-write" {
  same_view +swab memory 1M swab-bits=32
}

@test "swab over pattern, 64 bits, read-only" {
  same_view -r +swab pattern 1M swab-bits=64
}

@test "swab over data, 8 bits, read-only" {
  same_view -r +swab "${data_disk[@]}" swab-bits=8
}

# nbdkit 1.32's swab filter writes an uninitialised buffer with
# swab-bits=8 (it copies nothing into it when there is nothing to
# swap): what it writes differs from run to run.  The Rust port writes
# the client's data, as nofilter does (its block sizes, the same as C
# swab's, are checked read-only above).
@test "swab over data, 8 bits, read-write: as nofilter (C swab's bug)" {
  ignore='^block_size '
  same_view +swab=nofilter "${data_disk[@]}" swab-bits=8
}

@test "swab over null" {
  same_view +swab null 1M swab-bits=64
}

@test "swab over nbdkit rust (ramdisk)" {
  same_view +swab "${ramdisk[@]}" swab-bits=32
}

@test "swab: swab-bits=12 is refused" {
  same_failure +swab memory 1M swab-bits=12
}

# --- partition ---

@test "partition 1 of an MBR disk" {
  mbr 2
  same_view +partition "${disk[@]}" partition=1
}

@test "partition 2 of an MBR disk, read-only" {
  mbr 2
  same_view -r +partition "${disk[@]}" partition=2
}

# With more than 4 partitions, files 1-3 are primary partitions 1-3,
# partition 4 is the extended partition, files 4-6 are logical
# partitions 5-7.
@test "partition 5 (logical) of an MBR disk of 6" {
  mbr 6
  same_view +partition "${disk[@]}" partition=5
}

@test "partition 7 (logical, the last) of an MBR disk of 6" {
  mbr 6
  same_view +partition "${disk[@]}" partition=7
}

@test "partition 2 of a GPT disk" {
  gpt 2
  same_view +partition "${disk[@]}" partition=2
}

@test "partition 1 of a GPT disk, read-only" {
  gpt 3
  same_view -r +partition "${disk[@]}" partition=1
}

@test "partition: a missing MBR partition fails" {
  mbr 2
  same_failure +partition "${disk[@]}" partition=3
}

@test "partition: a missing logical MBR partition fails" {
  mbr 6
  same_failure +partition "${disk[@]}" partition=8
}

@test "partition: the extended MBR partition is not served" {
  mbr 6
  same_failure +partition "${disk[@]}" partition=4
}

@test "partition: a missing GPT partition fails" {
  gpt 2
  same_failure +partition "${disk[@]}" partition=3
}

@test "partition: a disk without a partition table fails" {
  same_failure +partition memory 1M partition=1
}

@test "partition: partition=0 is refused" {
  mbr 2
  same_failure +partition "${disk[@]}" partition=0
}

@test "partition: an unparsable partition number is refused" {
  mbr 2
  same_failure +partition "${disk[@]}" partition=one
}

@test "partition: the partition key is required" {
  mbr 2
  same_failure +partition "${disk[@]}"
}

# --- cow ---

@test "cow over memory, read-write" {
  same_view +cow memory 1M
}

@test "cow over memory, read-only" {
  same_view -r +cow memory 1M
}

@test "cow over pattern: a read-only plugin becomes writable" {
  same_view +cow pattern 1M
}

@test "cow over null" {
  same_view +cow null 1M
}

@test "cow over data" {
  same_view +cow "${data_disk[@]}"
}

@test "cow over memory of a size not a multiple of the block size" {
  same_view +cow memory 1000008
}

@test "cow over nbdkit rust (ramdisk)" {
  same_view +cow "${ramdisk[@]}"
}

@test "cow with cow-block-size=4096 over pattern" {
  same_view +cow pattern 1M cow-block-size=4096
}

@test "cow with cow-block-size=1M over data" {
  same_view +cow "${data_disk[@]}" cow-block-size=1M
}

@test "cow with cow-on-read=true over pattern" {
  same_view +cow pattern 1M cow-on-read=true
}

@test "cow with cow-on-read=/PATH, the path exists" {
  touch "$BATS_TEST_TMPDIR/cor"
  same_view +cow "${data_disk[@]}" cow-on-read="$BATS_TEST_TMPDIR/cor"
}

@test "cow with cow-on-read=/PATH, the path does not exist" {
  same_view +cow "${data_disk[@]}" cow-on-read="$BATS_TEST_TMPDIR/cor"
}

@test "cow with cow-on-cache=true over memory" {
  same_view +cow memory 1M cow-on-cache=true
}

@test "cow with cow-on-cache=true and cow-on-read=false over data" {
  same_view +cow "${data_disk[@]}" cow-on-cache=true cow-on-read=false
}

@test "cow over block size constraints: the cow block size is preferred" {
  same_view +cow +c:blocksize-policy memory 1M blocksize-minimum=512 \
    blocksize-preferred=4096 blocksize-maximum=1M
}

@test "cow over a maximum block size below the cow block size" {
  same_view +cow +c:blocksize-policy memory 1M blocksize-minimum=512 \
    blocksize-preferred=4096 blocksize-maximum=32K
}

# Block status of blocks the overlay does not hold is asked of the
# layer below in runs that fit in 32 bits: with 2G blocks, one block a
# request.  (The probe would read all 10G, and write whole 2G blocks
# to the overlay: a client of its own here, that only trims.)
@test "cow with cow-block-size=2G over a 10G null disk: block status" {
  cat >"$BATS_TEST_TMPDIR/client.py" <<'EOF'
import nbd, sys
h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.connect_uri(sys.argv[1])
def status(count, offset, flags=0):
    got = []
    def extent(metacontext, offset, entries, err):
        got.extend(entries)
        return 0
    try:
        h.block_status(count, offset, extent, flags)
    except nbd.Error as e:
        return "error %s" % e.errno
    return " ".join(map(str, got))
for offset in [0, 4096, 5 << 30]:
    print(offset, status(3 << 30, offset),
          "req_one", status(3 << 30, offset, nbd.CMD_FLAG_REQ_ONE))
h.trim(2 << 30, 2 << 30)
print("after a trim", status(3 << 30, 1 << 30), "/", status(3 << 30, 4 << 30))
EOF
  same_client_output '/usr/bin/python3 "$BATS_TEST_TMPDIR/client.py" "$uri"' \
    +cow null 10G cow-block-size=2G
}

@test "cow: a block size that is not a power of 2 is refused" {
  same_failure +cow memory 1M cow-block-size=5000
}

@test "cow: a block size below 4K is refused" {
  same_failure +cow memory 1M cow-block-size=2048
}

@test "cow: an unparsable block size is refused" {
  same_failure +cow memory 1M cow-block-size=big
}

@test "cow: cow-on-read=maybe is refused" {
  same_failure +cow memory 1M cow-on-read=maybe
}

@test "cow: cow-on-cache=maybe is refused" {
  same_failure +cow memory 1M cow-on-cache=maybe
}

@test "cow: an overlay directory that does not exist fails" {
  local way args
  for way in c rust; do
    stack_args "$way" +cow memory 1M
    TMPDIR=$BATS_TEST_TMPDIR/none run timeout 60 nbdkit -U - "${args[@]}" \
      --run 'echo client ran'
    echo "$(way_label "$way"): $output"
    [ "$status" -eq 1 ]
    [[ "$output" != *"client ran"* ]]
    [[ "$output" == *"$BATS_TEST_TMPDIR/none"*"No such file or directory"* ]]
  done
}

# --- stacks of Rust filters, and Rust filters among C filters ---

@test "offset over swab over pattern" {
  same_view +offset +swab pattern 2M offset=1000 swab-bits=64
}

@test "swab over offset over memory, read-write" {
  same_view +swab +offset memory 2M offset=65536 range=1M swab-bits=32
}

# nbdkit loads a C filter given twice once: both instances share its
# settings, so the outer instance's last offset= moves both.  The
# filter loader gives the second instance of a Rust filter a copy of
# its own (by design, see the loader): only the outer one moves.
@test "offset over offset: C instances share settings, Rust ones do not" {
  local way args size
  for way in c rust; do
    stack_args "$way" +offset +offset pattern 2M offset=4096 offset=8192
    run timeout 60 nbdkit -U - "${args[@]}" --run 'nbdinfo --size "$uri"'
    echo "$(way_label "$way"): $output"
    [ "$status" -eq 0 ]
    size[${#size[@]}]=$output
  done
  [ "${size[0]}" -eq $((2097152 - 2 * 8192)) ]
  if [ "${FILTERS_SELF_CHECK:-0}" != 1 ]; then
    [ "${size[1]}" -eq $((2097152 - 8192)) ]
  fi
}

@test "cow over partition over a GPT disk" {
  gpt 2
  same_view +cow +partition "${disk[@]}" partition=2
}

@test "partition over cow over an MBR disk" {
  mbr 6
  same_view +partition +cow "${disk[@]}" partition=7
}

@test "cow over offset over swab over partition over a GPT disk" {
  gpt 3
  same_view +cow +offset +swab +partition "${disk[@]}" partition=3 \
    offset=4096 swab-bits=16 cow-block-size=8K
}

@test "C cow between Rust offset and Rust swab" {
  same_view +offset +c:cow +swab pattern 2M offset=12345 swab-bits=32
}

@test "C cow between Rust swab and C offset" {
  same_view +swab +c:cow +c:offset memory 2M offset=65536
}

@test "Rust cow between C offset and C swab" {
  same_view +c:offset +cow +c:swab pattern 2M offset=512 swab-bits=64
}

@test "Rust partition under C cow, read-only" {
  mbr 2
  same_view -r +c:cow +partition "${disk[@]}" partition=1
}

@test "offset over swab over nbdkit rust (ramdisk)" {
  same_view +offset +swab "$LOADER" rust="$RAMDISK" size=2M offset=4096 \
    range=1M swab-bits=64
}

@test "cow over passthrough over nbdkit rust (ramdisk)" {
  same_view +cow +passthrough "${ramdisk[@]}" cow-block-size=4K
}

@test "stacks: a bad key of the inner Rust filter is refused" {
  same_failure +offset +swab pattern 1M swab-bits=3
}
