# SPDX-License-Identifier: BSD-2-Clause
# nbdkit-rust benchmarks: the C RAM disk (bench/c-ramdisk.c) again, for
# nbdkit's python plugin (Debian package nbdkit-plugin-python).
#
#   nbdkit python ./python-ramdisk.py size=256M
#
# The same logic, callback for callback: one flat buffer of size= bytes
# shared by every connection, no lock of its own (the interpreter's GIL
# still serialises the Python code), a bounds check and a copy per
# request, the same callbacks and the same answers.  It shows what the
# same plugin costs in the language people use for quick plugins today.

import errno

import nbdkit

API_VERSION = 2

size = 0
disk = None
view = None


def thread_model():
    return nbdkit.THREAD_MODEL_PARALLEL


def config(key, value):
    global size
    if key != "size":
        raise ValueError("python-ramdisk: unknown parameter '%s' (try size=SIZE)"
                         % key)
    size = nbdkit.parse_size(value)


def config_complete():
    global disk, view
    if size == 0:
        raise ValueError("python-ramdisk: size=SIZE is required")
    disk = bytearray(size)
    view = memoryview(disk)


def open(readonly):
    return 1


def get_size(h):
    return size


def can_multi_conn(h):
    # One disk for all connections, and nothing is cached.
    return True


def can_fua(h):
    # A write is as durable as RAM gets once it returns.
    return nbdkit.FUA_NATIVE


# nbdkit checks every request against the size already; the plugin
# checks again, as the C and Rust twins do.
def check(count, offset):
    if offset > size or count > size - offset:
        nbdkit.set_error(errno.EINVAL)
        raise ValueError("python-ramdisk: request beyond the end of the disk "
                         "(offset %d)" % offset)


def pread(h, buf, offset, flags):
    n = len(buf)
    check(n, offset)
    buf[:] = view[offset:offset + n]


def pwrite(h, buf, offset, flags):
    n = len(buf)
    check(n, offset)
    view[offset:offset + n] = buf


def flush(h, flags):
    pass


def trim(h, count, offset, flags):
    check(count, offset)
    view[offset:offset + count] = bytes(count)


def zero(h, count, offset, flags):
    check(count, offset)
    view[offset:offset + count] = bytes(count)
