#!/usr/bin/env python3
"""How long a small write plus fdatasync takes on this disk: appending (the file grows) against
writing over preallocated zeros (size unchanged) and over fallocate'd space. The journal
preallocates because of what this shows (BENCHMARKS.md). Usage: python3 bench/fsync_probe.py [DIR]"""

import os
import sys
import tempfile
import time


def probe(directory, mode, n=2000, record=100):
    fd, path = tempfile.mkstemp(dir=directory, prefix="okdb-fsync-probe-")
    try:
        if mode == "zeros":
            os.write(fd, b"\0" * (n * record + 4096))
            os.fsync(fd)
            os.lseek(fd, 0, os.SEEK_SET)
        elif mode == "fallocate":
            os.posix_fallocate(fd, 0, n * record + 4096)
            os.fsync(fd)
        start = time.perf_counter()
        for _ in range(n):
            os.write(fd, b"x" * record)
            os.fdatasync(fd)
        return (time.perf_counter() - start) / n * 1e6
    finally:
        os.close(fd)
        os.unlink(path)


def main():
    directory = sys.argv[1] if len(sys.argv) > 1 else "."
    for mode in ("append", "zeros", "fallocate", "append", "zeros", "fallocate"):
        print(f"{mode:9} {probe(directory, mode):6.0f} µs per 100-byte write + fdatasync")


if __name__ == "__main__":
    main()
