#!/usr/bin/env python3
"""Redis's collection commands side by side: okdb and Redis under the same redis-benchmark runs.

    python3 bench/collections.py [--rounds 3] [--requests 100000] [--okdb target/release/okdb]

Runs `redis-benchmark -t T -c 50` and `-c 50 -P 16` for each T of lpush, rpush, lpop, rpop,
sadd, hset, spop, zadd, zpopmin, lrange_100, lrange_600, mset, in that order (so the pops find
what the pushes left, as in one `-t lpush,rpush,…` run), on both servers, interleaved test by
test (the server that goes first alternates per round), after a FLUSHALL of both at the start of
each round. Per run: ops/s from redis-benchmark's CSV and the server's CPU per operation
(utime + stime from /proc/PID/stat around the run). Prints a markdown table of medians and
okdb/Redis ratios. Linux only.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the same tools, servers and CPU readings)

TESTS = ["lpush", "rpush", "lpop", "rpop", "sadd", "hset", "spop", "zadd", "zpopmin",
         "lrange_100", "lrange_600", "mset"]


def run(server, test, requests, pipeline):
    argv = ["redis-benchmark", "-p", str(server.port), "-n", str(requests), "-c", "50",
            "--csv", "-t", test]
    if pipeline > 1:
        argv += ["-P", str(pipeline)]
    # lrange_* runs its own LPUSH first: the last row (the one read) is the test itself.
    r = compare.redis_benchmark(argv, server.pid, requests)
    return r["ops"], r["cpu_us"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--okdb", help="an okdb binary (default: build one)")
    ap.add_argument("--only", default="", help="comma-separated tests (default: all)")
    args = ap.parse_args()
    tests = [t for t in TESTS if not args.only or t in args.only.split(",")]
    compare.ensure_redis()
    okdb = args.okdb or compare.build_okdb()
    cmds = compare.server_commands(okdb)
    servers = {name: compare.Server(name, argv) for name, argv in cmds.items()}
    results = {}  # (mode, test, server) -> [(ops, cpu_us)]
    try:
        for rnd in range(args.rounds):
            order = ["redis", "okdb"] if rnd % 2 == 0 else ["okdb", "redis"]
            for pipeline in (1, 16):
                for s in servers.values():
                    s.cli("FLUSHALL")
                for test in tests:
                    n = args.requests * (4 if pipeline > 1 else 1)
                    if test.startswith("lrange"):
                        n //= 10
                    for name in order:
                        r = run(servers[name], test, n, pipeline)
                        results.setdefault((pipeline, test, name), []).append(r)
                        compare.log(f"round {rnd + 1} -P {pipeline} {test} {name}: "
                                    f"{r[0]:.0f} ops/s, {r[1]:.2f} us CPU/op")
    finally:
        for s in servers.values():
            s.stop()

    med = compare.medians(results)
    compare.report_header(args.rounds)
    print("| test | mode | Redis ops/s | okdb ops/s | ops ratio | Redis CPU µs/op | "
          "okdb CPU µs/op | CPU ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for pipeline in (1, 16):
        for test in tests:
            r_ops, o_ops = med((pipeline, test, "redis"), 0), med((pipeline, test, "okdb"), 0)
            r_cpu, o_cpu = med((pipeline, test, "redis"), 1), med((pipeline, test, "okdb"), 1)
            mode = "-c 50" + (" -P 16" if pipeline > 1 else "")
            print(f"| {test} | {mode} | {r_ops:,.0f} | {o_ops:,.0f} | {compare.ratio(o_ops, r_ops)} | "
                  f"{r_cpu:.2f} | {o_cpu:.2f} | {compare.ratio(o_cpu, r_cpu)} |")


if __name__ == "__main__":
    main()
