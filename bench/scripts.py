#!/usr/bin/env python3
"""Scripts and transactions side by side: okdb's RUN and BEGIN/END against Redis's EVALSHA and
MULTI/EXEC, plus okdb's record scan against CPython's own comprehension.

    python3 bench/scripts.py [--rounds 3] [--requests 200000] [--okdb target/release/okdb]
    python3 bench/scripts.py --smoke        # seconds: tiny counts, checks the harness works

Workloads, each run on both servers interleaved (the server that goes first alternates per
round), persistence off:

- `script`: okdb `RUN "SET('k', GET('k') + 1)"` against Redis `EVALSHA` of
  `redis.call('SET', KEYS[1], tonumber(redis.call('GET', KEYS[1])) + 1)`, with redis-benchmark
  at -c 50 and at -c 50 -P 16; `script args` passes the key as an argument
  (`RUN "SET(ARGS[0], GET(ARGS[0]) + 1)" k`);
- `new script`: a different script text on every call (`... # __rand_int__`, -r 1000000), so
  okdb compiles each (its cache stays bounded) and Redis compiles and keeps each (`EVAL`), at
  -c 50 and at -c 50 -P 16 (pipelined, the server's own cost shows without a round trip per
  call);
- `tx3`: a transaction of three INCRs from 50 connections (a small asyncio client: each
  connection writes the whole transaction and reads its replies): Redis `MULTI … EXEC`, okdb
  `MULTI … EXEC` and `BEGIN … END`.

Per run: ops/s and the server's CPU per operation (utime + stime from /proc/PID/stat around the
run). Then the scan: 1,000,000 records `{"name": …, "age": i % 100}` stored in okdb, and
`RUN "len([x for x in GET('foo') if x['age'] > 30])"` (a list of the matches, built and
counted) and `RUN "sum(1 for x in GET('foo') if x['age'] > 30)"` timed by okdb's CPU, against
the same comprehensions in this CPython process over the same records (process CPU time),
then `for` loops over the stored list and over the script's own list of the records
(`script-max-memory` 256mb for the scan: a million records a script holds need more than the
default). Then general code through the interpreter (a loop of arithmetic, a generator expression, a
function call per item) against the same code in CPython. Prints a markdown report. Linux only.
"""

import argparse
import asyncio
import io
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the same tools, servers and CPU readings)

LUA = "return redis.call('SET', KEYS[1], tonumber(redis.call('GET', KEYS[1])) + 1)"
RUN = "SET('k', GET('k') + 1)"
RUN_ARGS = "SET(ARGS[0], GET(ARGS[0]) + 1)"


def bench(server, argv, requests, pipeline=1, randoms=False):
    cmd = ["redis-benchmark", "-p", str(server.port), "-n", str(requests), "-c", "50", "--csv"]
    if pipeline > 1:
        cmd += ["-P", str(pipeline)]
    if randoms:
        cmd += ["-r", "1000000"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = compare.redis_benchmark(cmd + argv, server.pid, requests)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / requests * 1e6
    return r["ops"], r["cpu_us"], client


async def tx_client(port, commands, rounds):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    payload = "".join(
        f"*{len(c)}\r\n" + "".join(f"${len(a)}\r\n{a}\r\n" for a in c) for c in commands
    ).encode()
    for _ in range(rounds):
        writer.write(payload)
        await writer.drain()
        # One reply per command; the last (EXEC/END) is an array of three integers.
        for _ in range(len(commands) - 1):
            await reader.readline()
        header = await reader.readline()
        assert header.startswith(b"*3"), header
        for _ in range(3):
            await reader.readline()
    writer.close()


def tx(server, opener, closer, transactions):
    commands = [[opener], ["INCR", "a"], ["INCR", "b"], ["INCR", "c"], [closer]]
    per = max(transactions // 50, 1)

    async def main():
        await asyncio.gather(*(tx_client(server.port, commands, per) for _ in range(50)))

    before = compare.cpu_seconds(server.pid)
    t0 = time.time()
    asyncio.run(main())
    elapsed = time.time() - t0
    cpu = compare.cpu_seconds(server.pid) - before
    n = per * 50
    return n / elapsed, cpu / n * 1e6


def scan(okdb, n, repeat):
    import redis  # redis-py, installed by scripts/deps.sh

    r = redis.Redis(port=okdb.port)
    records = [{"name": f"user{i}", "age": i % 100} for i in range(n)]
    r.set("foo", json.dumps(records))
    r.config_set("script-time-limit", "10000")
    r.config_set("script-max-memory", "256mb")
    out = []
    for label, script, py in [
        ("list of matches", "len([x for x in GET('foo') if x['age'] > 30])",
         lambda: len([x for x in records if x['age'] > 30])),
        ("count", "sum(1 for x in GET('foo') if x['age'] > 30)",
         lambda: sum(1 for x in records if x['age'] > 30)),
        ("a field of the matches summed", "sum(x['age'] for x in GET('foo') if x['age'] > 30)",
         lambda: sum(x['age'] for x in records if x['age'] > 30)),
        ("the largest of a field", "max(x['name'] for x in GET('foo') if x['age'] > 30)",
         lambda: max(x['name'] for x in records if x['age'] > 30)),
        ("list of matches, then a field of each",
         "sum(x['age'] for x in [x for x in GET('foo') if x['age'] > 30])",
         lambda: sum(x['age'] for x in [x for x in records if x['age'] > 30])),
        ("a for loop over the records, through the interpreter",
         "t = 0\nfor x in GET('foo'):\n    t += x['age']\nt",
         lambda: loop_sum(records)),
        # Each record read out of the script's own list becomes a dict object, not a copy
        # (48 bytes charged; 1M records with their list need more than the default 64mb).
        ("a for loop over the script's own list of the records",
         "xs = list(GET('foo'))\nt = 0\nfor x in xs:\n    t += x['age']\nt",
         lambda: loop_sum(list(records))),
    ]:
        ok_rates, py_rates = [], []
        # Each sample runs the query `runs` times: the kernel counts CPU in 10 ms ticks.
        runs = 1 if n < 100_000 else 10
        for _ in range(repeat):
            before = compare.cpu_seconds(okdb.pid)
            for _ in range(runs):
                got = r.execute_command("RUN", script)
            ok_rates.append(n * runs / (compare.cpu_seconds(okdb.pid) - before + 1e-9))
            t0 = time.process_time()
            for _ in range(runs):
                want = py()
            py_rates.append(n * runs / (time.process_time() - t0 + 1e-9))
            if isinstance(got, bytes):
                got = got.decode()
            assert got == want, (got, want)
        out.append((label, script, statistics.median(ok_rates), statistics.median(py_rates)))
    return out


def loop_sum(records):
    t = 0
    for x in records:
        t += x['age']
    return t


def add(a, b):
    return a + b


def calls(n):
    t = 0
    for i in range(n):
        t = add(t, i)
    return t


def arith(n):
    t = 0
    for i in range(n):
        t += i * 2 % 7
    return t


def interpreter(okdb, n, repeat):
    """General code, no stored values: okdb's server CPU for the RUN against CPython's process
    CPU for the same code, as items per second."""
    import redis

    r = redis.Redis(port=okdb.port)
    r.config_set("script-max-steps", "1000000000")
    r.config_set("script-max-memory", "1gb")
    out = []
    for label, script, py in [
        ("a loop of arithmetic", f"t = 0\nfor i in range({n}):\n    t += i * 2 % 7\nt",
         lambda: arith(n)),
        ("a generator expression", f"sum(x * 2 for x in range({n}) if x % 3)",
         lambda: sum(x * 2 for x in range(n) if x % 3)),
        ("a function call per item",
         f"def add(a, b):\n    return a + b\nt = 0\nfor i in range({n}):\n    t = add(t, i)\nt",
         lambda: calls(n)),
    ]:
        ok_rates, py_rates = [], []
        for _ in range(repeat):
            before = compare.cpu_seconds(okdb.pid)
            got = r.execute_command("RUN", script)
            ok_rates.append(n / (compare.cpu_seconds(okdb.pid) - before + 1e-9))
            t0 = time.process_time()
            want = py()
            py_rates.append(n / (time.process_time() - t0 + 1e-9))
            assert got == want, (got, want)
        out.append((label, script, statistics.median(ok_rates), statistics.median(py_rates)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--okdb", help="an okdb binary (default: build one)")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--scan-only", action="store_true", help="only the record scan")
    args = ap.parse_args()
    if args.smoke:
        args.rounds, args.requests, args.records = 1, 2000, 10_000
    compare.ensure_redis()
    okdb_path = args.okdb or compare.build_okdb()
    if args.scan_only:
        okdb = compare.Server("okdb", compare.server_commands(okdb_path)["okdb"])
        try:
            print_scans(args.records, scan(okdb, args.records, 5))
            print_interpreter(interpreter(okdb, args.records * 3, 5))
        finally:
            okdb.stop()
        return
    cmds = compare.server_commands(okdb_path)
    servers = {name: compare.Server(name, argv) for name, argv in cmds.items()}
    results = {}
    try:
        sha = servers["redis"].cli("SCRIPT", "LOAD", LUA).strip()
        for s in servers.values():
            s.cli("SET", "k", "0")
        work = [
            # No script: the rate redis-benchmark itself can drive on this machine.
            ("PING, no script", 1, {"redis": ["PING"], "okdb": ["PING"]}, False),
            ("script", 1, {"redis": ["EVALSHA", sha, "1", "k"], "okdb": ["RUN", RUN]}, False),
            ("script", 16, {"redis": ["EVALSHA", sha, "1", "k"], "okdb": ["RUN", RUN]}, False),
            ("script args", 1, {"redis": ["EVALSHA", sha, "1", "k"], "okdb": ["RUN", RUN_ARGS, "k"]}, False),
            ("new script", 1, {"redis": ["EVAL", LUA + " -- __rand_int__", "1", "k"],
                               "okdb": ["RUN", RUN + " # __rand_int__"]}, True),
            ("new script", 16, {"redis": ["EVAL", LUA + " -- __rand_int__", "1", "k"],
                                "okdb": ["RUN", RUN + " # __rand_int__"]}, True),
        ]
        for rnd in range(args.rounds):
            order = ["redis", "okdb"] if rnd % 2 == 0 else ["okdb", "redis"]
            for label, pipeline, argv, randoms in work:
                n = args.requests * (4 if pipeline > 1 else 1) // (2 if randoms else 1)
                for name in order:
                    r = bench(servers[name], argv[name], n, pipeline, randoms)
                    results.setdefault((label, pipeline, name), []).append(r)
                    compare.log(f"round {rnd + 1} {label} -P {pipeline} {name}: {r[0]:.0f} ops/s, {r[1]:.2f} us CPU/op")
            for name in order:
                kinds = [("MULTI", "EXEC")] + ([("BEGIN", "END")] if name == "okdb" else [])
                for opener, closer in kinds:
                    r = tx(servers[name], opener, closer, args.requests // 2)
                    results.setdefault((f"tx3 {opener}", 1, name), []).append(r)
                    compare.log(f"round {rnd + 1} tx3 {opener} {name}: {r[0]:.0f} tx/s, {r[1]:.2f} us CPU/tx")
        scans = scan(servers["okdb"], args.records, 1 if args.smoke else 5)
        general = interpreter(servers["okdb"], args.records * 3, 1 if args.smoke else 5)
        redis_scripts = servers["redis"].info_field("number_of_cached_scripts")
    finally:
        for s in servers.values():
            s.stop()

    med = compare.medians(results)
    compare.report_header(args.rounds)
    print("| workload | mode | Redis ops/s | okdb ops/s | ops ratio | Redis CPU µs/op | okdb CPU µs/op | CPU ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for label, pipeline, _, _ in work:
        r_ops, o_ops = med((label, pipeline, "redis"), 0), med((label, pipeline, "okdb"), 0)
        r_cpu, o_cpu = med((label, pipeline, "redis"), 1), med((label, pipeline, "okdb"), 1)
        mode = "-c 50" + (" -P 16" if pipeline > 1 else "")
        print(f"| {label} | {mode} | {r_ops:,.0f} | {o_ops:,.0f} | {compare.ratio(o_ops, r_ops)} | "
              f"{r_cpu:.2f} | {o_cpu:.2f} | {compare.ratio(o_cpu, r_cpu)} |")
    r_ops, r_cpu = med(("tx3 MULTI", 1, "redis"), 0), med(("tx3 MULTI", 1, "redis"), 1)
    for opener in ("MULTI", "BEGIN"):
        o_ops, o_cpu = med((f"tx3 {opener}", 1, "okdb"), 0), med((f"tx3 {opener}", 1, "okdb"), 1)
        closer = "EXEC" if opener == "MULTI" else "END"
        print(f"| tx of 3 INCR: Redis MULTI/EXEC vs okdb {opener}/{closer} | 50 conns | {r_ops:,.0f} | "
              f"{o_ops:,.0f} | {compare.ratio(o_ops, r_ops)} | {r_cpu:.2f} | {o_cpu:.2f} | {compare.ratio(o_cpu, r_cpu)} |")
    ceiling = med(("PING, no script", 1, "okdb"), 2)
    script_client = med(("script", 1, "okdb"), 2)
    print(f"\nredis-benchmark's own CPU per request at -c 50 (one thread): {ceiling:.2f} µs for "
          f"PING, {script_client:.2f} µs for the okdb script, so it drives at most about "
          f"{1e6 / script_client:,.0f} requests/s whatever the server; Redis's script rate is "
          f"{med(('script', 1, 'redis'), 0) / (1e6 / script_client):.2f} of that bound.")
    # Every request costs both servers the same kernel work (a read and a write on a loopback
    # socket, and the wakeups): the PING row. What the script itself costs is the rest.
    floor_r, floor_o = med(("PING, no script", 1, "redis"), 1), med(("PING, no script", 1, "okdb"), 1)
    script_r, script_o = med(("script", 1, "redis"), 1), med(("script", 1, "okdb"), 1)
    print(f"\nA PING costs Redis {floor_r:.2f} µs and okdb {floor_o:.2f} µs of server CPU here "
          f"(mostly the kernel's: a read and a write on a loopback socket). Over that floor the "
          f"cached script costs Redis {script_r - floor_r:.2f} µs and okdb "
          f"{script_o - floor_o:.2f} µs ({compare.ratio(script_o - floor_o, script_r - floor_r)}); "
          f"with a script that cost nothing, okdb's ratio at -c 50 would be "
          f"{floor_o / script_r:.2f}.")
    print(f"\nAfter the run Redis held {redis_scripts:,} cached scripts (it keeps every EVAL's script "
          "until SCRIPT FLUSH); okdb's cache holds at most 1,024 scripts and 8 MiB of source.\n")
    print_scans(args.records, scans)
    print_interpreter(general)


def print_interpreter(rows):
    print("\nGeneral code through the interpreter (no stored values; items per second of server "
          "CPU against CPython's process CPU, CPython running the same code inside a function; "
          "medians of 5 runs):\n")
    print("| code | okdb items/s | CPython items/s | ratio |")
    print("|---|---:|---:|---:|")
    for label, script, ok, py in rows:
        print(f"| {label}: `{one_line(script)}` | {ok / 1e6:.1f}M | {py / 1e6:.1f}M | {ok / py:.2f} |")


def print_scans(records, scans):
    print(f"Scan of {records:,} records (okdb: server CPU of the RUN; CPython 3: process CPU of "
          "the same comprehension over the same records in memory; medians of 5 samples of 10 "
          "runs):\n")
    print("| query | okdb records/s | CPython records/s | ratio |")
    print("|---|---:|---:|---:|")
    for label, script, ok, py in scans:
        print(f"| {label}: `{one_line(script)}` | {ok / 1e6:.1f}M | {py / 1e6:.1f}M | {ok / py:.2f} |")


def one_line(script):
    """A script on one line for a table: a block's lines joined to its header, lines by `;`."""
    return script.replace("\n    ", " ").replace("\n", "; ")


if __name__ == "__main__":
    main()
