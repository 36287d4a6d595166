#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Writes the seed corpus, corpus/descriptor and corpus/config, in the
input formats descriptor_fuzzer.c and config_fuzzer.c describe.  The
seeds are kept in the repository; run this again after changing it.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# struct nbdkit_rust_plugin, ABI 1.0.
SIZE = 352
CALLBACKS = """load unload config config_complete dump_plugin thread_model
get_ready after_fork cleanup preconnect list_exports default_export open
close get_size export_description block_size can_write can_flush
is_rotational can_trim can_zero can_fast_zero can_fua can_multi_conn
can_extents can_cache pread pwrite flush trim zero extents cache""".split()
STRINGS = ["name", "longname", "version", "description", "config_help",
           "magic_config_key", "sdk_version"]
REQUIRED = ["open", "get_size", "pread"]


def descriptor(strings, callbacks=REQUIRED, major=1, minor=0, size=SIZE,
               model=3):
    present = 0
    for name in strings:
        present |= 1 << STRINGS.index(name)
    for name in callbacks:
        present |= 1 << (len(STRINGS) + CALLBACKS.index(name))
    data = struct.pack("<IIQiIQ", major, minor, size, model, 0, present)
    return data + b"\0".join(strings.get(s, b"") for s in STRINGS)


DESCRIPTORS = {
    "minimal": descriptor({"name": b"seed", "sdk_version": b"0.4.0"}),
    "full": descriptor({
        "name": b"ramdisk_2",
        "longname": b"nbdkit sparse RAM disk plugin (Rust)",
        "version": b"0.4.0",
        "description": b"Two lines:\nwith a \\ and a \t tab, \x7f, \xc3\xa9",
        "config_help": b"size=<SIZE>  (required)\nfile=<PATH>",
        "magic_config_key": b"size",
        "sdk_version": b"0.4.0"}, CALLBACKS),
    "newer-minor": descriptor({"name": b"newer"}, minor=7, size=SIZE + 32),
    "huge-size": descriptor({"name": b"huge"}, size=1 << 63),
    "older-size": descriptor({"name": b"older"}, size=SIZE - 8),
    "header-only": descriptor({"name": b"tiny"}, size=16),
    "major-2": descriptor({"name": b"two"}, major=2),
    "no-name": descriptor({}),
    "empty-name": descriptor({"name": b""}),
    "invalid-name": descriptor({"name": b"bad-name"}),
    "no-pread": descriptor({"name": b"nopread"}, ["open", "get_size"]),
    "thread-model-7": descriptor({"name": b"model"}, model=7),
    "thread-model-0": descriptor({"name": b"model"}, model=0),
}


def config(flags, magic, refused, *pairs):
    fields = [magic, refused] + [x for kv in pairs for x in kv]
    return bytes([flags]) + b"\0".join(fields)


HAS_CONFIG, HAS_MAGIC, LOAD_FAILS = 1, 2, 4

CONFIGS = {
    "keys-around-rust": config(HAS_CONFIG, b"", b"",
                               (b"a", b"1"), (b"rust", b"/p.so"), (b"b", b"2")),
    "magic-key": config(HAS_CONFIG | HAS_MAGIC, b"size", b"",
                        (b"rust", b"/p.so"), (b"rust", b"1G")),
    "rust-twice": config(HAS_CONFIG, b"", b"",
                         (b"rust", b"/p.so"), (b"rust", b"/q.so")),
    "rust-empty": config(HAS_CONFIG, b"", b"", (b"rust", b"")),
    "no-config": config(0, b"", b"", (b"rust", b"/p.so"), (b"x", b"1")),
    "no-config-before": config(0, b"", b"", (b"x", b"1"), (b"rust", b"/p.so")),
    "refused": config(HAS_CONFIG, b"", b"size",
                      (b"size", b"junk"), (b"rust", b"/p.so")),
    "reload": config(HAS_CONFIG, b"", b"", (b"rust-reload", b"true"),
                     (b"rust", b"/p.so"), (b"rust-reload", b"maybe")),
    "load-fails": config(HAS_CONFIG | LOAD_FAILS, b"", b"",
                         (b"rust", b"/p.so")),
    "non-utf8": config(HAS_CONFIG | HAS_MAGIC, b"m\xff", b"",
                       (b"k\xfe", b"v\xc3\x28"), (b"rust", b"/p\x80.so"),
                       (b"rust", b"\xff\xfe")),
    "long-value": config(HAS_CONFIG | (20 << 3), b"", b"",
                         (b"rust", b"/p.so"), (b"size", b"1234567890")),
}


def write(kind, seeds):
    d = os.path.join(HERE, "corpus", kind)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


write("descriptor", DESCRIPTORS)
write("config", CONFIGS)
