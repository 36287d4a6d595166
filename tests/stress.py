#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Stress client for tests/stress.bats.

    stress.py URI MODE CONNECTIONS SECONDS

CONNECTIONS processes each open one connection to URI and own one
region of the disk (its size divided by CONNECTIONS).  Each keeps
QUEUE_DEPTH requests in flight (libnbd aio), a mix of reads, writes
(some with FUA), trims, zeroes and flushes of 1 to 4 blocks of its own
region, never two at once on one block, and checks every read against
what it wrote (a written block carries its region, block and version
number; a trimmed or zeroed one reads as zeroes).

Then it checks the others' data, after their flush:

  MODE rounds  (the models that serve connections at once) SECONDS is
               cut into rounds: each connection loads its region, drains,
               flushes and publishes what it wrote; after a barrier each
               reads the whole region of the next connection and checks
               it against what that one published; after a second
               barrier the next round starts.
  MODE turns   (serialize_connections: nbdkit serves one connection at
               a time, the others wait in the handshake) each connection
               loads its region for SECONDS / CONNECTIONS once it is
               served, flushes, publishes, and checks every region
               published before it.

Bounded by time and by MAX_REQUESTS per connection.  Prints one JSON
line of totals: requests completed, reads verified (own region, others'
regions), errors, mismatches, rounds.  Exits 1 if any error or mismatch.
"""

import json
import multiprocessing as mp
import os
import random
import struct
import sys
import time

import nbd

BLOCK = 4096
QUEUE_DEPTH = 8
MAX_REQUESTS = 2_000_000
MAGIC = 0x6E62646B69747273  # "nbdkitrs"
# Versions in the shared table: 0 means "reads as zeroes".


def block_data(region, block, version):
    """What a block written at VERSION holds."""
    return struct.pack("<QQQQ", MAGIC, region, block, version) * (BLOCK // 32)


def expected(region, block, version):
    return bytes(BLOCK) if version == 0 else block_data(region, block, version)


class Worker:
    def __init__(self, uri, me, n, blocks, versions, stats):
        self.uri = uri
        self.me = me
        self.n = n
        self.blocks = blocks            # blocks per region
        self.base = me * blocks         # first block of my region
        self.versions = versions        # shared: published versions
        self.model = [0] * blocks       # my region, as I wrote it
        self.busy = set()
        self.next_version = 1
        self.stats = stats
        self.rng = random.Random(me * 7919 + 1)
        self.h = None

    def fail(self, what):
        self.stats["mismatches"] += 1
        if self.stats["mismatches"] <= 5:
            print(f"connection {self.me}: {what}", file=sys.stderr)

    def connect(self):
        self.h = nbd.NBD()
        self.h.connect_uri(self.uri)
        self.stats["multi_conn"] = bool(self.h.can_multi_conn())

    # --- requests on my own region ---

    def done(self, blocks, on_success):
        def callback(error):
            for b in blocks:
                self.busy.discard(b)
            if error:
                self.stats["errors"] += 1
                print(f"connection {self.me}: request failed, errno "
                      f"{getattr(error, 'value', error)}",
                      file=sys.stderr)
            else:
                self.stats["requests"] += 1
                on_success()
            return 1
        return callback

    def pick(self):
        """1 to 4 free consecutive blocks of my region, or None."""
        for _ in range(8):
            count = self.rng.choice((1, 1, 1, 2, 4))
            start = self.rng.randrange(self.blocks - count + 1)
            blocks = range(start, start + count)
            if not any(b in self.busy for b in blocks):
                return list(blocks)
        return None

    def issue(self):
        op = self.rng.random()
        if op < 0.05:
            self.h.aio_flush(completion=self.done([], lambda: None))
            return
        blocks = self.pick()
        if blocks is None:
            return
        self.busy.update(blocks)
        offset = (self.base + blocks[0]) * BLOCK
        length = len(blocks) * BLOCK
        if op < 0.45:
            want = b"".join(expected(self.me, b, self.model[b])
                            for b in blocks)
            buf = nbd.Buffer(length)

            def check():
                if buf.to_bytearray() != want:
                    self.fail(f"read of blocks {blocks} differs from what "
                              f"was written")
                else:
                    self.stats["verified_own"] += len(blocks)
            self.h.aio_pread(buf, offset, completion=self.done(blocks, check))
        elif op < 0.82:
            versions = []
            for _ in blocks:
                versions.append(self.next_version)
                self.next_version += 1
            data = b"".join(block_data(self.me, b, v)
                            for b, v in zip(blocks, versions))
            flags = nbd.CMD_FLAG_FUA if op > 0.76 else 0

            wbuf = nbd.Buffer.from_bytearray(bytearray(data))

            def wrote(wbuf=wbuf):  # keeps the buffer alive until then
                for b, v in zip(blocks, versions):
                    self.model[b] = v
            self.h.aio_pwrite(wbuf, offset,
                              completion=self.done(blocks, wrote),
                              flags=flags)
        else:
            def zeroed():
                for b in blocks:
                    self.model[b] = 0
            if op < 0.91:
                self.h.aio_trim(length, offset,
                                completion=self.done(blocks, zeroed))
            else:
                self.h.aio_zero(length, offset,
                                completion=self.done(blocks, zeroed))

    def drain(self):
        while self.h.aio_in_flight() > 0:
            self.h.poll(1000)

    def load(self, seconds):
        deadline = time.monotonic() + seconds
        while (time.monotonic() < deadline and
               self.stats["requests"] < MAX_REQUESTS):
            while self.h.aio_in_flight() < QUEUE_DEPTH:
                self.issue()
            self.h.poll(1000)
        self.drain()
        # Durable, and visible to every connection (multi-conn).
        self.h.flush()
        self.versions[self.base:self.base + self.blocks] = self.model

    # --- the others' regions ---

    def check_region(self, region):
        """Reads REGION whole and checks it against what its connection
        published after its flush."""
        published = self.versions[region * self.blocks:
                                  (region + 1) * self.blocks]
        chunk = 16
        pending = []
        for first in range(0, self.blocks, chunk):
            count = min(chunk, self.blocks - first)
            buf = nbd.Buffer(count * BLOCK)
            want = b"".join(expected(region, first + i, published[first + i])
                            for i in range(count))

            def check(buf=buf, want=want, first=first, count=count):
                if buf.to_bytearray() != want:
                    self.fail(f"region {region}, blocks {first}.."
                              f"{first + count - 1}: not what its "
                              f"connection wrote and flushed")
                else:
                    self.stats["verified_others"] += count
            while self.h.aio_in_flight() >= QUEUE_DEPTH:
                self.h.poll(1000)
            self.h.aio_pread(buf, (region * self.blocks + first) * BLOCK,
                             completion=self.done([], check))
            pending.append(buf)
        self.drain()


def run_rounds(w, seconds, barrier):
    rounds = max(1, int(seconds // 2))
    for _ in range(rounds):
        w.load(seconds / rounds)
        barrier.wait()
        w.check_region((w.me + 1) % w.n)
        barrier.wait()
        w.stats["rounds"] += 1


def run_turns(w, seconds, finished, lock):
    w.load(seconds / w.n)
    with lock:
        before = list(finished)
        finished.append(w.me)
    for region in before:
        w.check_region(region)
    w.stats["rounds"] = 1


def worker(uri, mode, me, n, seconds, blocks, versions, queue, sync):
    stats = {"requests": 0, "verified_own": 0, "verified_others": 0,
             "errors": 0, "mismatches": 0, "rounds": 0, "multi_conn": None}
    try:
        w = Worker(uri, me, n, blocks, versions, stats)
        w.connect()
        if mode == "rounds":
            run_rounds(w, seconds, sync[0])
        else:
            run_turns(w, seconds, sync[0], sync[1])
        w.h.shutdown()
    except Exception as e:  # a broken connection or barrier is an error
        stats["errors"] += 1
        print(f"connection {me}: {type(e).__name__}: {e}", file=sys.stderr)
        if mode == "rounds":
            sync[0].abort()
    queue.put(stats)


def main():
    uri, mode, n, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        float(sys.argv[4])
    h = nbd.NBD()
    h.connect_uri(uri)
    size = h.get_size()
    h.shutdown()
    blocks = size // BLOCK // n
    manager = mp.Manager()
    versions = mp.Array("q", blocks * n, lock=False)
    if mode == "rounds":
        sync = (mp.Barrier(n, timeout=300),)
    elif mode == "turns":
        sync = (manager.list(), mp.Lock())
    else:
        sys.exit(f"stress.py: MODE must be rounds or turns, not {mode}")
    queue = mp.Queue()
    start = time.monotonic()
    procs = [mp.Process(target=worker,
                        args=(uri, mode, i, n, seconds, blocks, versions,
                              queue, sync))
             for i in range(n)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    total = {k: sum(r[k] for r in results)
             for k in ("requests", "verified_own", "verified_others",
                       "errors", "mismatches")}
    total.update(mode=mode, connections=n, seconds=round(
        time.monotonic() - start, 1), rounds=min(r["rounds"] for r in results),
        multi_conn=all(r["multi_conn"] for r in results),
        queue_depth=QUEUE_DEPTH, block=BLOCK)
    print(json.dumps(total))
    return 1 if total["errors"] or total["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
