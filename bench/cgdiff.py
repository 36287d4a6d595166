#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
# nbdkit-rust benchmarks: the per-request cost of each function, from
# two callgrind profiles of the same server and workload with N and 2N
# requests.
#
#   cgdiff.py FILE_N FILE_2N N [MIN]
#
# Prints, for every function whose cost per request is at least MIN
# (default 0.5) instructions, the difference between the two profiles
# divided by N: what one more request costs in that function (self
# cost, not inclusive), with the object it lives in.  Startup, the disk
# fill and shutdown are the same in both profiles and cancel out.

import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(.*?)\s*$")


def costs(path):
    out = subprocess.run(
        ["callgrind_annotate", "--threshold=100", "--inclusive=no", path],
        check=True, capture_output=True, text=True).stdout
    # The function list follows the second "Ir  file:function" header.
    table = {}
    started = False
    for line in out.splitlines():
        if "file:function" in line:
            started = True
            continue
        if not started or line.startswith("-"):
            continue
        if not line.strip():
            if table:
                break
            continue
        m = LINE.match(line)
        if not m:
            continue
        ir = int(m.group(1).replace(",", ""))
        # One function may be listed under several source files (an
        # inlined header, a line without debug information): add them up.
        name = short(m.group(2))
        table[name] = table.get(name, 0) + ir
    return table


def short(name):
    """file:function [object] -> function [object basename]"""
    m = re.match(r"^(.*?)(?: \[(.*)\])?$", name)
    fn, obj = m.group(1), m.group(2)
    fn = fn.split(":", 1)[1] if ":" in fn else fn
    if obj:
        return "%s [%s]" % (fn, obj.rsplit("/", 1)[-1])
    return fn


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit("usage: cgdiff.py FILE_N FILE_2N N [MIN]")
    a = costs(sys.argv[1])
    b = costs(sys.argv[2])
    n = int(sys.argv[3])
    low = float(sys.argv[4]) if len(sys.argv) == 5 else 0.5
    rows = []
    for name in set(a) | set(b):
        per = (b.get(name, 0) - a.get(name, 0)) / n
        if abs(per) >= low:
            rows.append((per, name))
    rows.sort(key=lambda r: -r[0])
    total = sum(r[0] for r in rows)
    for per, name in rows:
        print("%9.1f  %s" % (per, name))
    print("%9.1f  (total of the rows above)" % total)


if __name__ == "__main__":
    main()
