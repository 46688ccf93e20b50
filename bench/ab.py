#!/usr/bin/env python3
"""Two okdb binaries side by side: the same redis-benchmark workloads against each, interleaved
(A, B, then B, A the next round), reporting the medians of server CPU per operation (utime +
stime from /proc/PID/stat) and ops/s, and B's ratio to A. For telling whether a change costs
anything on the hot path on a noisy machine; run it with A = B once to see the noise.

    python3 bench/ab.py --a /tmp/okdb-before --b target/release/okdb
    python3 bench/ab.py --a A --b B --server-args "--appendfsync always" --workloads "set -c 50"

Linux only (it reads /proc). Servers listen on free loopback ports and are stopped at the end.
"""

import argparse
import os
import shlex
import socket
import statistics
import subprocess
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(binary, extra):
    port = free_port()
    args = [binary, "server", "--port", str(port)] + extra
    if "--appendfsync" in extra:
        args += ["--dir", tempfile.mkdtemp(prefix="okdb-ab-")]
    else:
        args += ["--appendonly", "no"]
    proc = subprocess.Popen(args, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{binary} did not start")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="the binary before")
    ap.add_argument("--b", required=True, help="the binary after")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--requests", type=int, default=1_000_000,
                    help="requests per pipelined run (a quarter without pipelining)")
    ap.add_argument("--server-args", default="", help="extra `okdb server` arguments for both")
    ap.add_argument("--workloads", default="set -c 50 -P 16,get -c 50 -P 16,set -c 50,get -c 50",
                    help="comma-separated: command, then redis-benchmark options")
    args = ap.parse_args()
    extra = shlex.split(args.server_args)
    servers = {"A": start(args.a, extra), "B": start(args.b, extra)}
    results = {}
    try:
        for r in range(args.rounds):
            for wl in [w.strip() for w in args.workloads.split(",") if w.strip()]:
                cmd, *opts = wl.split()
                n = args.requests if "-P" in opts else args.requests // 4
                for name in (("A", "B") if r % 2 == 0 else ("B", "A")):
                    proc, port = servers[name]
                    before = cpu_seconds(proc.pid)
                    out = subprocess.run(
                        ["redis-benchmark", "-p", str(port), "-n", str(n), "-r", "100000",
                         "--csv", "-t", cmd] + opts,
                        capture_output=True, text=True, check=True).stdout
                    used = cpu_seconds(proc.pid) - before
                    ops = float(out.strip().splitlines()[-1].split(",")[1].strip('"'))
                    results.setdefault((wl, name), []).append((used / n * 1e6, ops))
    finally:
        for proc, _ in servers.values():
            proc.kill()
    print(f"| workload | A µs/op | B µs/op | B/A CPU | A ops/s | B ops/s | B/A ops |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for wl in dict.fromkeys(w for w, _ in results):
        a = results[(wl, "A")]
        b = results[(wl, "B")]
        ca, cb = (statistics.median(x[0] for x in s) for s in (a, b))
        oa, ob = (statistics.median(x[1] for x in s) for s in (a, b))
        print(f"| {wl} | {ca:.2f} | {cb:.2f} | {cb / ca:.2f} | {oa:,.0f} | {ob:,.0f} | {ob / oa:.2f} |")


if __name__ == "__main__":
    main()
