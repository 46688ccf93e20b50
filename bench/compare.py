#!/usr/bin/env python3
"""Side-by-side benchmark of okdb and Redis on this machine.

Starts redis-server (persistence off) and okdb on free loopback ports, runs identical
redis-benchmark workloads against both, interleaved (Redis, okdb, Redis, okdb, ...) for N rounds,
and reports per workload the median ops/s, the okdb/Redis ratio, and each server's CPU time per
operation (utime+stime from /proc/PID/stat, before and after the run, divided by requests).
Then it loads 1,000,000 small keys into each and reports bytes per key from RSS.

    python3 bench/compare.py [--rounds 3] [--requests 200000] [--keys 1000000] [--okdb PATH]

Needs redis-server, redis-benchmark and redis-cli (apt-get install redis-server redis-tools) and
a release build of okdb (cargo build --release). Prints a markdown table.
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


class Server:
    def __init__(self, name, argv, port):
        self.name, self.port = name, port
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_ready(port)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args],
                              capture_output=True, text=True, timeout=120).stdout


def start_redis():
    port = free_port()
    return Server("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no", "--daemonize", "no"], port)


def start_okdb(path):
    port = free_port()
    return Server("okdb", [path, "server", "--port", str(port)], port)


def bench(server, test, requests, clients, pipeline, extra=()):
    """One redis-benchmark run: (ops/s, p50 ms, CPU seconds of the server per op)."""
    argv = ["redis-benchmark", "-p", str(server.port), "-t", test, "-n", str(requests),
            "-c", str(clients), "-P", str(pipeline), "--csv", *extra]
    before = cpu_seconds(server.proc.pid)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    after = cpu_seconds(server.proc.pid)
    rows = [l for l in out.splitlines() if l.startswith('"') and not l.startswith('"test"')]
    fields = [f.strip('"') for f in rows[-1].split(",")]
    rps = float(fields[1])
    p50 = float(fields[4]) if len(fields) > 4 else float("nan")
    return rps, p50, (after - before) / requests


def load_keys(server, n):
    """Loads n keys key:0000000001.. with 16-byte values via redis-cli --pipe; returns bytes/key."""
    server.cli("FLUSHALL")  # Redis only; okdb answers an error and starts empty anyway
    base = rss_bytes(server.proc.pid)
    with tempfile.NamedTemporaryFile("wb", delete=False) as f:
        for i in range(n):
            k = b"key:%010d" % i
            v = b"v" * 16
            f.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$16\r\n%s\r\n" % (len(k), k, v))
        path = f.name
    with open(path, "rb") as f:
        subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f,
                       capture_output=True, timeout=600)
    os.unlink(path)
    time.sleep(0.5)
    size = int(server.cli("DBSIZE").strip() or 0)
    return (rss_bytes(server.proc.pid) - base) / max(size, 1), size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--keys", type=int, default=1000000)
    ap.add_argument("--okdb", default="target/release/okdb")
    args = ap.parse_args()

    workloads = [
        ("SET -c 50", "set", 50, 1),
        ("GET -c 50", "get", 50, 1),
        ("SET -c 50 -P 16", "set", 50, 16),
        ("GET -c 50 -P 16", "get", 50, 16),
    ]
    results = {(w[0], s): [] for w in workloads for s in ("redis", "okdb")}
    redis, okdb = start_redis(), start_okdb(args.okdb)
    try:
        for r in range(args.rounds):
            for name, test, clients, pipeline in workloads:
                for server in (redis, okdb):  # interleaved: A B A B ...
                    res = bench(server, test, args.requests, clients, pipeline)
                    results[(name, server.name)].append(res)
                    print(f"round {r + 1} {name:18} {server.name:5} {res[0]:>10.0f} ops/s "
                          f"cpu/op {res[2] * 1e6:.2f} us", file=sys.stderr)
        mem = {}
        if args.keys:
            for server in (redis, okdb):
                mem[server.name] = load_keys(server, args.keys)
    finally:
        redis.stop()
        okdb.stop()

    print(f"| workload | Redis ops/s | okdb ops/s | okdb/Redis | Redis CPU µs/op | okdb CPU µs/op | CPU okdb/Redis |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, *_ in workloads:
        rr, oo = results[(name, "redis")], results[(name, "okdb")]
        r_ops = statistics.median(x[0] for x in rr)
        o_ops = statistics.median(x[0] for x in oo)
        r_cpu = statistics.median(x[2] for x in rr) * 1e6
        o_cpu = statistics.median(x[2] for x in oo) * 1e6
        print(f"| {name} | {r_ops:,.0f} | {o_ops:,.0f} | {o_ops / r_ops:.2f} | {r_cpu:.2f} | "
              f"{o_cpu:.2f} | {o_cpu / r_cpu:.2f} |")
    if mem:
        print()
        print("| server | keys loaded | RSS bytes per key |")
        print("|---|---:|---:|")
        for name in ("redis", "okdb"):
            per_key, size = mem[name]
            print(f"| {name} | {size:,} | {per_key:.0f} |")


if __name__ == "__main__":
    main()
