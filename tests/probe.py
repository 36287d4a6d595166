#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# What a client sees of an NBD server, as deterministic text.
#
#   /usr/bin/python3 probe.py [--more] URI
#
# Prints one line per fact: what the server advertises, what it lists
# and describes, then the outcome and effect of each kind of request.
# Serving the same plugin twice (a C plugin directly, its Rust twin
# through the loader) must print the same text.  --more adds requests
# off block boundaries, block status with REQ_ONE, and what a second
# connection reads (filters.bats).
#
# libnbd stays in its default strict mode: a request the server did
# not advertise is not sent ("refused by client"), because nbdkit 1.32
# aborts on an unadvertised FAST_ZERO.  Everything printed is
# deterministic: no timings, no socket paths.

import errno
import hashlib
import sys

import nbd

more = "--more" in sys.argv[1:-1]
uri = sys.argv[-1]


def error_name(e):
    """The errno the client received, by name, e.g. EPERM."""
    if e.errnum:
        return errno.errorcode.get(e.errnum, str(e.errnum))
    return "error without errno"


def attempt(fn):
    """Run a request: "ok" or the errno name it failed with."""
    try:
        fn()
        return "ok"
    except nbd.Error as e:
        return error_name(e)


def query(fn):
    """A query that may fail, e.g. for information not sent."""
    try:
        return fn()
    except nbd.Error as e:
        return "unavailable (%s)" % error_name(e)


# Exports, seen through option negotiation: what the server lists,
# and what it says about each listed export and the default one.
h = nbd.NBD()
h.set_opt_mode(True)
h.set_full_info(True)
h.connect_uri(uri)
exports = []
h.opt_list(lambda name, description: exports.append((name, description)))
for name, description in exports:
    print("list_exports: name=%r description=%r" % (name, description))
for name in [""] + [name for name, _ in exports if name != ""]:
    h.set_export_name(name)
    try:
        h.opt_info()
    except nbd.Error as e:
        print("export %r: info %s" % (name, error_name(e)))
        continue
    print("export %r: canonical name=%r description=%r size=%d" %
          (name, query(h.get_canonical_export_name),
           query(h.get_export_description), h.get_size()))
h.opt_abort()
del h

# The default export: what it advertises.
h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.connect_uri(uri)
size = h.get_size()
read_only = h.is_read_only()
can = {
    "flush": h.can_flush(),
    "fua": h.can_fua(),
    "trim": h.can_trim(),
    "zero": h.can_zero(),
    "fast_zero": h.can_fast_zero(),
    "cache": h.can_cache(),
    "base:allocation": h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION),
}
print("size: %d" % size)
print("is_read_only: %d" % read_only)
for what in ["flush", "fua", "trim", "zero", "fast_zero"]:
    print("can_%s: %d" % (what, can[what]))
print("can_multi_conn: %d" % h.can_multi_conn())
print("can_cache: %d" % can["cache"])
print("can_meta_context base:allocation: %d" % can["base:allocation"])
print("is_rotational: %d" % h.is_rotational())
block = {}
for what, kind in [("minimum", nbd.SIZE_MINIMUM),
                   ("preferred", nbd.SIZE_PREFERRED),
                   ("maximum", nbd.SIZE_MAXIMUM)]:
    block[what] = h.get_block_size(kind)
    print("block_size %s: %d" % (what, block[what]))

# Reads use requests the block size constraints allow.
chunk = min(size, block["maximum"] or 1024 * 1024)


def disk():
    """A digest of the whole disk, read back."""
    digest = hashlib.sha256()
    try:
        for offset in range(0, size, chunk):
            digest.update(h.pread(min(chunk, size - offset), offset))
    except nbd.Error as e:
        return "read %s" % error_name(e)
    return digest.hexdigest()[:16]


def zeroed(count, offset):
    """Whether the range reads back as zeroes."""
    try:
        return "zeroes" if h.pread(count, offset) == bytes(count) else "data"
    except nbd.Error as e:
        return "read %s" % error_name(e)


def request(what, refused, fn, where=None):
    """Send a request unless strict mode would refuse it; print its
    outcome and the disk as it reads back afterwards (and, for the
    requests that write zeroes, what their range WHERE reads as).
    """
    if refused:
        print("%s: refused by client" % what)
        return
    outcome = attempt(fn)
    if where:
        outcome += "; range reads %s" % zeroed(*where)
    print("%s: %s; disk %s" % (what, outcome, disk()))


print("pread: disk %s" % disk())
request("pwrite", read_only,
        lambda: h.pwrite(b"\xa5" * 65536, 4096))
request("pwrite+fua", read_only or not can["fua"],
        lambda: h.pwrite(b"\x5a" * 4096, 131072, nbd.CMD_FLAG_FUA))
request("flush", not can["flush"], lambda: h.flush())
request("trim", read_only or not can["trim"],
        lambda: h.trim(65536, 262144), (65536, 262144))
request("zero", read_only or not can["zero"],
        lambda: h.zero(65536, 393216), (65536, 393216))
request("zero+fast_zero",
        read_only or not can["zero"] or not can["fast_zero"],
        lambda: h.zero(65536, 524288, nbd.CMD_FLAG_FAST_ZERO),
        (65536, 524288))
request("cache", not can["cache"], lambda: h.cache(size, 0))

# Block status over the whole disk, as the server chunks it.
STATES = {0: "data", 1: "hole", 2: "zero", 3: "hole+zero"}
if not can["base:allocation"]:
    print("block_status: refused by client")
else:
    extents = []

    def extent(metacontext, offset, entries, err):
        for i in range(0, len(entries), 2):
            extents.append("%d:%s" % (entries[i], STATES.get(entries[i + 1],
                                                             entries[i + 1])))
        return 0

    outcome = "ok"
    offset = 0
    try:
        while offset < size:
            before = len(extents)
            h.block_status(size - offset, offset, extent)
            progress = sum(int(e.split(":")[0]) for e in extents[before:])
            if progress == 0:
                outcome = "no progress"
                break
            offset += progress
    except nbd.Error as e:
        outcome = error_name(e)
    print("block_status: %s; extents %s" % (outcome, " ".join(extents)))

if more:
    # Requests that start and end inside blocks (multiples of 8 bytes,
    # so that the usual minimum block sizes allow them), and reads of
    # odd ranges.
    def digest_of(count, offset):
        try:
            return hashlib.sha256(h.pread(count, offset)).hexdigest()[:16]
        except nbd.Error as e:
            return "read %s" % error_name(e)

    request("pwrite unaligned", read_only,
            lambda: h.pwrite(b"\x3c" * 3000, 70008))
    request("pwrite unaligned+fua", read_only or not can["fua"],
            lambda: h.pwrite(b"\xc3" * 200008, 100000, nbd.CMD_FLAG_FUA))
    request("trim unaligned", read_only or not can["trim"],
            lambda: h.trim(200000, 300008), (200000, 300008))
    request("zero unaligned", read_only or not can["zero"],
            lambda: h.zero(70000, 140008), (70000, 140008))
    request("cache unaligned", not can["cache"],
            lambda: h.cache(5000, 70008))
    for count, offset in [(8, 0), (5000, 69000), (131080, 65528),
                          (size - 8 if size > 8 else size, 8 if size > 8 else 0)]:
        if count > 0 and offset + count <= size:
            print("pread %d@%d: %s" % (count, offset,
                                       digest_of(count, offset)))
    if can["base:allocation"]:
        for offset in [0, 70008, 262144, 300008]:
            if offset >= size:
                continue
            got = []

            def one(metacontext, offset, entries, err):
                for i in range(0, len(entries), 2):
                    got.append("%d:%s" % (entries[i],
                                          STATES.get(entries[i + 1],
                                                     entries[i + 1])))
                return 0

            outcome = attempt(lambda: h.block_status(size - offset, offset,
                                                     one,
                                                     nbd.CMD_FLAG_REQ_ONE))
            print("block_status req_one @%d: %s; extents %s" %
                  (offset, outcome, " ".join(got)))
    # A second connection sees the same disk (all the filters here
    # share their state between connections, or keep none).
    h2 = nbd.NBD()
    h2.connect_uri(uri)
    try:
        digest = hashlib.sha256()
        for offset in range(0, size, chunk):
            digest.update(h2.pread(min(chunk, size - offset), offset))
        print("second connection: disk %s" % digest.hexdigest()[:16])
    except nbd.Error as e:
        print("second connection: read %s" % error_name(e))
    h2.shutdown()

h.shutdown()
