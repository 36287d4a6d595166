#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# nbdkit-rust benchmarks: the libnbd clients bench/run drives.
#
#   client.py workload URI KIND N
#       Write the whole disk once (so every server serves written
#       data), then send N requests of KIND, 16 in flight: randread4k,
#       randwrite4k (4 KiB at random 4 KiB-aligned offsets, the same
#       offsets every run) or seqread1m (1 MiB in order, wrapping at the
#       end).  bench/run runs the server under callgrind with N and 2N:
#       the difference is N requests' cost.
#
#       The fill writes in the workload's own request size.  Each nbdkit
#       worker thread grows (and zeroes) its request buffer the first
#       time it gets a larger request than before; filling with 1 MiB
#       writes before 4 KiB requests would leave it to chance how many
#       of the 16 threads zero 1 MiB, a few MiB of memset that differs
#       between the N and the 2N run.
#
#   client.py first-byte SOCKET NBDKIT-ARGS...
#       Start `nbdkit -f -U SOCKET NBDKIT-ARGS...`, and print the
#       microseconds from starting it to holding the first byte of the
#       disk (connect as soon as the socket accepts, handshake, read one
#       byte, or the server's minimum block if it has one: the swab
#       filter's is a word), then stop the server.
#
# Run it with Debian's python3 (/usr/bin/python3): it needs libnbd's
# Python module (python3-libnbd).

import os
import random
import signal
import socket
import subprocess
import sys
import time

import nbd

QUEUE_DEPTH = 16
SEED = 20240601


def run_queue(h, n, issue):
    """Call issue(i) for i in 0..n-1, keeping QUEUE_DEPTH in flight."""
    issued = 0
    while issued < n or h.aio_in_flight() > 0:
        while issued < n and h.aio_in_flight() < QUEUE_DEPTH:
            issue(issued)
            issued += 1
        h.poll(-1)
        while h.aio_in_flight() > 0:
            cookie = h.aio_peek_command_completed()
            if cookie <= 0:
                break
            h.aio_command_completed(cookie)  # raises if the command failed


def workload(uri, kind, n):
    h = nbd.NBD()
    h.connect_uri(uri)
    size = h.get_size()
    mib = 1024 * 1024
    if size % mib != 0:
        sys.exit("client.py: the disk size must be a multiple of 1 MiB")

    # Fill the disk: written data everywhere, whatever the server's
    # allocation strategy.  The same cost with N and 2N requests.
    bs = mib if kind == "seqread1m" else 4096
    fill = nbd.Buffer.from_bytearray(bytearray(b"\x5a" * bs))
    run_queue(h, size // bs, lambda i: h.aio_pwrite(fill, i * bs))

    rng = random.Random(SEED)
    if kind in ("randread4k", "randwrite4k"):
        blocks = size // 4096
        offsets = [rng.randrange(blocks) * 4096 for _ in range(n)]
        buf = nbd.Buffer.from_bytearray(bytearray(rng.randbytes(4096)))
        if kind == "randread4k":
            run_queue(h, n, lambda i: h.aio_pread(buf, offsets[i]))
        else:
            run_queue(h, n, lambda i: h.aio_pwrite(buf, offsets[i]))
    elif kind == "seqread1m":
        chunks = size // mib
        buf = nbd.Buffer(mib)
        run_queue(h, n, lambda i: h.aio_pread(buf, (i % chunks) * mib))
    else:
        sys.exit("client.py: unknown workload %s" % kind)
    h.shutdown()


def first_byte(sock, args):
    try:
        os.unlink(sock)
    except FileNotFoundError:
        pass
    start = time.monotonic_ns()
    server = subprocess.Popen(["nbdkit", "-f", "-U", sock] + args,
                              stdin=subprocess.DEVNULL)
    try:
        deadline = start + 60 * 10**9
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(sock)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                s.close()
                if server.poll() is not None:
                    sys.exit("client.py: nbdkit exited with %d" %
                             server.returncode)
                if time.monotonic_ns() > deadline:
                    sys.exit("client.py: nbdkit did not listen within 60 s")
                time.sleep(0.0002)
        h = nbd.NBD()
        h.connect_socket(s.detach())
        h.pread(max(1, h.get_block_size(nbd.SIZE_MINIMUM)), 0)
        elapsed = time.monotonic_ns() - start
        h.shutdown()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    print(elapsed // 1000)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "workload":
        workload(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) >= 4 and sys.argv[1] == "first-byte":
        first_byte(sys.argv[2], sys.argv[3:])
    else:
        sys.exit("usage: client.py workload URI KIND N | "
                 "client.py first-byte SOCKET NBDKIT-ARGS...")


if __name__ == "__main__":
    main()
