#!/usr/bin/env python3
"""maxmemory side by side: okdb and Redis as caches under every eviction policy.

    python3 bench/evict.py                  # the full run; prints a markdown report
    python3 bench/evict.py --smoke          # seconds: tiny sizes, checks the harness works

Both servers start on free loopback ports with persistence off and the same `maxmemory` and
`maxmemory-policy`. A cache client (redis-py, pipelined) asks for keys drawn from a Zipf
distribution (exponent 0.99) over a key space whose data is twice `maxmemory`: it GETs a batch,
then SETs every key it missed (a cache fill), with a TTL under the volatile policies (random,
1 to 3 hours, so volatile-ttl has an order to follow). Before that, every key of the key space
is written once, so the cache starts full and the measured part runs at the limit. After a warm-up of a third of the
requests it counts hits and misses, and samples each server's own accounting (INFO
used_memory) after every batch. Runs alternate Redis, okdb, Redis, okdb per policy, so load from
elsewhere on the machine hits both alike. Under noeviction it counts the refused writes.

Reported per policy and server: hit rate, the highest and the final used_memory as a share of
maxmemory, keys held, evicted keys, OOM errors. Linux only (compare.py's server helpers).
"""

import argparse
import bisect
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402

import redis  # noqa: E402

POLICIES = ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
            "volatile-random", "volatile-ttl", "noeviction"]


def zipf_cdf(n, s):
    acc, out = 0.0, []
    for k in range(1, n + 1):
        acc += 1.0 / k ** s
        out.append(acc)
    return out


def info(r, section, field):
    return int(r.info(section).get(field, 0))


def run(server, policy, args, cdf, seed):
    r = redis.Redis(port=server.port, protocol=2, decode_responses=True)
    r.config_set("maxmemory", str(args.maxmemory))
    r.config_set("maxmemory-policy", policy)
    rng = random.Random(seed)
    value = "v" * args.value_size
    total = cdf[-1]
    volatile = policy.startswith("volatile")
    hits = misses = oom = 0
    # Fill the cache with the whole key space first (twice what fits), so the measured part
    # runs at the limit, evicting.
    for start in range(0, len(cdf), 1000):
        pipe = r.pipeline(transaction=False)
        for i in range(start, min(start + 1000, len(cdf))):
            if volatile:
                pipe.set(f"key:{i}", value, ex=rng.randint(3600, 3 * 3600))
            else:
                pipe.set(f"key:{i}", value)
        pipe.execute(raise_on_error=False)
    peak = 0
    warmup = args.requests // 3
    done = 0
    while done < args.requests:
        keys = [f"key:{bisect.bisect_left(cdf, rng.random() * total)}" for _ in range(args.batch)]
        got = r.mget(keys)
        missed = [k for k, v in zip(keys, got) if v is None]
        if done >= warmup:
            hits += len(keys) - len(missed)
            misses += len(missed)
        pipe = r.pipeline(transaction=False)
        for k in missed:
            if volatile:
                pipe.set(k, value, ex=rng.randint(3600, 3 * 3600))
            else:
                pipe.set(k, value)
        for res in pipe.execute(raise_on_error=False):
            if isinstance(res, redis.ResponseError) and "maxmemory" in str(res):
                oom += 1
        done += len(keys)
        if done >= warmup:
            peak = max(peak, info(r, "memory", "used_memory"))
    final = info(r, "memory", "used_memory")
    return {
        "hit": hits / max(hits + misses, 1),
        "peak": peak / args.maxmemory,
        "final": final / args.maxmemory,
        "keys": r.dbsize(),
        "evicted": info(r, "stats", "evicted_keys"),
        "oom": oom,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--okdb", help="okdb binary (default: build it)")
    p.add_argument("--maxmemory", type=int, default=64 << 20)
    p.add_argument("--value-size", type=int, default=100)
    p.add_argument("--requests", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--policies", default=",".join(POLICIES))
    args = p.parse_args()
    if args.smoke:
        args.maxmemory, args.requests, args.batch = 8 << 20, 60_000, 200
    compare.ensure_redis()
    okdb_path = args.okdb or compare.build_okdb()
    # Bytes a key costs, roughly, so the key space holds twice maxmemory of data.
    per_key = args.value_size + 60
    nkeys = 2 * args.maxmemory // per_key
    cdf = zipf_cdf(nkeys, 0.99)
    cmds = compare.server_commands(okdb_path)
    rows = []
    for policy in args.policies.split(","):
        for rnd in range(args.rounds):
            for name in ("redis", "okdb"):
                server = compare.Server(name, cmds[name])
                try:
                    t = time.time()
                    res = run(server, policy, args, cdf, seed=rnd)
                    res["secs"] = time.time() - t
                finally:
                    server.stop()
                compare.log(f"{policy} {name}: {res}")
                rows.append((policy, name, res))
    print(f"maxmemory {args.maxmemory >> 20} MiB, values of {args.value_size} bytes, "
          f"{nkeys:,} keys (Zipf 0.99, data about 2x maxmemory), {args.requests:,} requests "
          f"in batches of {args.batch} (hits counted after the first third), {args.rounds} "
          f"round(s), interleaved.\n")
    print("| policy | server | hit rate | peak used_memory / maxmemory | final | keys held "
          "| evicted | OOM errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for policy, name, r in rows:
        print(f"| {policy} | {name} | {r['hit']:.1%} | {r['peak']:.3f} | {r['final']:.3f} "
              f"| {r['keys']:,} | {r['evicted']:,} | {r['oom']:,} |")
    if args.smoke:
        bad = [(p, n, r) for p, n, r in rows if n == "okdb" and p != "noeviction" and r["peak"] > 1.05]
        if bad:
            sys.exit(f"evict.py: okdb went over maxmemory by more than 5%: {bad}")


if __name__ == "__main__":
    main()
