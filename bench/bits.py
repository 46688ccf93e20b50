#!/usr/bin/env python3
"""Bitmaps side by side: okdb's SETBIT, GETBIT, BITFIELD, BITCOUNT and BITPOS against Redis's on
a 1 MB bitmap, server CPU per operation.

    python3 bench/bits.py [--rounds 3] [--ops 200000] [--okdb target/release/okdb]
    python3 bench/bits.py --smoke        # seconds: tiny counts, checks the harness works

redis-benchmark cannot drive these (its random numbers are zero-padded, which neither server
takes as an offset), so a redis-py pipeline of 1,000 commands at a time sends them: the client
is the bottleneck, and the figure to read is each server's CPU per operation (utime + stime from
/proc/PID/stat around the run). Each round runs both servers in turn, the first alternating.
Persistence off. Prints a markdown table. Linux only.
"""

import argparse
import os
import random
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the same servers and CPU readings)

BITS = 8_000_000  # a 1 MB bitmap


def run(server, ops, offsets):
    import redis  # redis-py, installed by scripts/deps.sh

    r = redis.Redis(port=server.port, protocol=2)
    r.delete("bm")
    r.setbit("bm", BITS, 1)
    out = {}
    for name, build in [
        ("SETBIT bm <random offset> 1", lambda p, o: p.execute_command("SETBIT", "bm", o, 1)),
        ("GETBIT bm <random offset>", lambda p, o: p.execute_command("GETBIT", "bm", o)),
        ("BITFIELD bm INCRBY u8 #<random> 1",
         lambda p, o: p.execute_command("BITFIELD", "bm", "INCRBY", "u8", f"#{int(o) // 8}", 1)),
    ]:
        before = compare.cpu_seconds(server.pid)
        for i in range(0, ops, 1000):
            p = r.pipeline(transaction=False)
            for o in offsets[i:i + 1000]:
                build(p, o)
            p.execute()
        out[name] = (compare.cpu_seconds(server.pid) - before) / ops * 1e6
    # Whole-string work: a count of the 1 MB bitmap, and a search through a 1 MB one whose only
    # set bit is its last.
    r.delete("last")
    r.setbit("last", BITS, 1)
    whole = max(ops // 100, 5)
    for name, cmd in [("BITCOUNT bm (1 MB)", ["BITCOUNT", "bm"]),
                      ("BITPOS last 1 (1 MB of zeros first)", ["BITPOS", "last", "1"])]:
        before = compare.cpu_seconds(server.pid)
        for _ in range(whole):
            r.execute_command(*cmd)
        out[name] = (compare.cpu_seconds(server.pid) - before) / whole * 1e6
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ops", type=int, default=200_000)
    ap.add_argument("--okdb", help="an okdb binary (default: build one)")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        args.rounds, args.ops = 1, 2000
    compare.ensure_redis()
    okdb_path = args.okdb or compare.build_okdb()
    rng = random.Random(3)
    offsets = [str(rng.randrange(BITS)) for _ in range(args.ops)]
    servers = {n: compare.Server(n, argv) for n, argv in compare.server_commands(okdb_path).items()}
    results = {}
    try:
        for rnd in range(args.rounds):
            order = ["redis", "okdb"] if rnd % 2 == 0 else ["okdb", "redis"]
            for name in order:
                for label, us in run(servers[name], args.ops, offsets).items():
                    results.setdefault((label, name), []).append(us)
                    compare.log(f"round {rnd + 1} {name} {label}: {us:.2f} us CPU/op")
    finally:
        for s in servers.values():
            s.stop()
    compare.report_header(args.rounds)
    print("| operation | Redis CPU µs/op | okdb CPU µs/op | ratio |")
    print("|---|---:|---:|---:|")
    labels = dict.fromkeys(label for label, _ in results)
    for label in labels:
        r = statistics.median(results[(label, "redis")])
        o = statistics.median(results[(label, "okdb")])
        print(f"| {label} | {r:.2f} | {o:.2f} | {compare.ratio(o, r)} |")


if __name__ == "__main__":
    main()
