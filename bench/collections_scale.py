#!/usr/bin/env python3
"""Collections at scale, okdb beside Redis: inserting in the middle of a 1M-element list, memory
per element of 1M-element containers, and SUM/MEAN over 1M numbers.

    python3 bench/collections_scale.py [--okdb target/release/okdb] [--n 1000000]

- Middle insert: a list of n small items; then 300 inserts at the middle, each measured as
  server CPU per operation (/proc/PID/stat around the run): Redis `LINSERT key BEFORE pivot x`
  (finds the pivot by a scan, O(n), and inserts), okdb `INSERT key n/2 x` (by index, O(log n))
  and okdb `LINSERT` (the same scan as Redis, then an O(log n) insert).
- Memory: used_memory (each server's own count: jemalloc's allocated bytes for both) before and
  after loading n small elements into one list, dict (hash), set and sortedset (zset), divided
  by n.
- Operations on one n-element hash and sorted set: redis-benchmark -c 50 -P 16 with fields or
  members at random among the n (`-r n`), each server in turn: HGET, HSET (replacing a
  field), ZSCORE, ZADD (moving a member to a new score), SISMEMBER, SRANDMEMBER.
- A capped list: 50,000 LPUSH + LTRIM 0 999 pairs on a 1,000-item list (250 pairs a pipeline),
  server CPU per pair on each server.
- Math: server CPU for `SUM`/`MEAN` of an n-number list (okdb only: Redis has none), as numbers
  per second of CPU.
Needs redis-py. Linux only.
"""

import argparse
import os
import sys
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402


def load(r, kind, key, n, pad=False):
    """n small elements into `key`; with `pad`, hash fields and zset members are named as
    redis-benchmark's `__rand_int__` names them (12 digits), so its random requests hit."""
    num = "{:012d}" if pad else "{}"
    batch = 10_000
    for start in range(0, n, batch):
        pipe = r.pipeline(transaction=False)
        items = range(start, min(start + batch, n))
        if kind == "list":
            pipe.rpush(key, *[f"v{i}" for i in items])
        elif kind == "hash":
            pipe.hset(key, mapping={"f" + num.format(i): f"v{i}" for i in items})
        elif kind == "set":
            pipe.sadd(key, *["m" + num.format(i) for i in items])
        elif kind == "zset":
            pipe.zadd(key, {"m" + num.format(i): i for i in items})
        elif kind == "numbers":
            pipe.rpush(key, *items)
        pipe.execute()


def used_memory(r):
    return int(r.info("memory")["used_memory"])


def cpu_per_op(server, r, commands):
    before = compare.cpu_seconds(server.pid)
    t0 = time.perf_counter()
    for c in commands:
        r.execute_command(*c)
    wall = time.perf_counter() - t0
    return (compare.cpu_seconds(server.pid) - before) / len(commands) * 1e6, wall / len(commands) * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--okdb", help="an okdb binary (default: build one)")
    ap.add_argument("--n", type=int, default=1_000_000)
    args = ap.parse_args()
    compare.ensure_redis()
    okdb = args.okdb or compare.build_okdb()
    servers = {name: compare.Server(name, argv) for name, argv in compare.server_commands(okdb).items()}
    n = args.n
    try:
        conns = {name: redis.Redis(port=s.port) for name, s in servers.items()}
        print(f"Machine: {compare.machine()}; n = {n:,}.\n")
        print("| containers of n small elements | Redis bytes/element | okdb bytes/element | ratio |")
        print("|---|---:|---:|---:|")
        for kind in ("list", "hash", "set", "zset"):
            per = {}
            for name, r in conns.items():
                r.flushall()
                time.sleep(0.2)
                base = used_memory(r)
                load(r, kind, "k", n)
                per[name] = (used_memory(r) - base) / n
                r.flushall()
            print(f"| {kind} | {per['redis']:.1f} | {per['okdb']:.1f} | {per['okdb'] / per['redis']:.2f} |")

        print("\n| on one n-element container, -c 50 -P 16, fields/members at random | Redis ops/s "
              "| okdb ops/s | ops ratio | Redis CPU µs/op | okdb CPU µs/op | CPU ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for name, r in conns.items():
            r.flushall()
            load(r, "hash", "h", n, pad=True)
            load(r, "zset", "z", n, pad=True)
            load(r, "set", "s", n, pad=True)
        for label, cmd in (
            ("HGET h f<random>", ["hget", "h", "f__rand_int__"]),
            ("HGET h g<random> (a miss)", ["hget", "h", "g__rand_int__"]),
            ("HSET h f<random> x (replaces)", ["hset", "h", "f__rand_int__", "x"]),
            ("ZSCORE z m<random>", ["zscore", "z", "m__rand_int__"]),
            ("ZADD z <random> m<random> (moves)", ["zadd", "z", "__rand_int__", "m__rand_int__"]),
            ("SISMEMBER s m<random>", ["sismember", "s", "m__rand_int__"]),
            ("SRANDMEMBER s", ["srandmember", "s"]),
        ):
            got = {}
            for name in ("redis", "okdb"):
                argv = ["redis-benchmark", "-p", str(servers[name].port), "-c", "50", "-P", "16",
                        "-n", "400000", "-r", str(n), "--csv", *cmd]
                got[name] = compare.redis_benchmark(argv, servers[name].pid, 400000)
            rd, ok = got["redis"], got["okdb"]
            print(f"| {label} | {rd['ops']:,.0f} | {ok['ops']:,.0f} | {ok['ops'] / rd['ops']:.2f} "
                  f"| {rd['cpu_us']:.2f} | {ok['cpu_us']:.2f} | {ok['cpu_us'] / rd['cpu_us']:.2f} |")

        print("\n| insert in the middle of an n-element list | server CPU µs/op | wall µs/op |")
        print("|---|---:|---:|")
        for name, r in conns.items():
            r.flushall()
            load(r, "list", "l", n)
        pivot = f"v{n // 2}"
        rows = [
            ("Redis LINSERT BEFORE pivot", "redis", [("LINSERT", "l", "BEFORE", pivot, "x")] * 300),
            ("okdb LINSERT BEFORE pivot", "okdb", [("LINSERT", "l", "BEFORE", pivot, "x")] * 300),
            ("okdb INSERT l n/2 x", "okdb", [("INSERT", "l", n // 2, "x")] * 300),
        ]
        for label, name, cmds in rows:
            cpu, wall = cpu_per_op(servers[name], conns[name], cmds)
            print(f"| {label} | {cpu:.1f} | {wall:.1f} |")

        print("\n| a capped list: LPUSH + LTRIM 0 999 on a 1,000-item list, 250 pairs a pipeline "
              "| Redis CPU µs/pair | okdb CPU µs/pair | ratio |")
        print("|---|---:|---:|---:|")
        capped = {}
        for name, r in conns.items():
            r.flushall()
            r.rpush("cap", *[f"item{i}" for i in range(1000)])
            before = compare.cpu_seconds(servers[name].pid)
            for _ in range(200):
                pipe = r.pipeline(transaction=False)
                for i in range(250):
                    pipe.lpush("cap", f"new{i}")
                    pipe.ltrim("cap", 0, 999)
                pipe.execute()
            capped[name] = (compare.cpu_seconds(servers[name].pid) - before) / 50_000 * 1e6
            assert r.llen("cap") == 1000
        print(f"| LPUSH + LTRIM | {capped['redis']:.2f} | {capped['okdb']:.2f} "
              f"| {capped['okdb'] / capped['redis']:.2f} |")

        r = conns["okdb"]
        r.flushall()
        load(r, "numbers", "nums", n)
        print("\n| okdb math over an n-number list | server CPU ms/call | numbers per CPU second |")
        print("|---|---:|---:|")
        for verb in ("SUM", "MEAN"):
            cpu, _ = cpu_per_op(servers["okdb"], r, [(verb, "nums")] * 50)
            print(f"| {verb} | {cpu / 1000:.2f} | {n / (cpu / 1e6) / 1e6:,.0f} M |")
    finally:
        for s in servers.values():
            s.stop()


if __name__ == "__main__":
    main()
