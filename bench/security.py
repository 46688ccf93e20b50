#!/usr/bin/env python3
"""Users, ACLs and TLS side by side with Redis.

    python3 bench/security.py [--rounds 3] [--okdb target/release/okdb]
    python3 bench/security.py --smoke        # seconds: tiny counts, checks the harness works

Measurements, on both servers interleaved (the server that goes first alternates per round),
persistence off, redis-benchmark -c 50 with random keys `bench:__rand_int__` (-r 100000):

1. ACL cost: `SET bench:… xxx` and `GET bench:…` at -P 1 and -P 16, as the `default` user (no
   ACL: every command skips the check) and as a user limited to `~bench:*` (`ACL SETUSER bench
   on >pw ~bench:* +@all` on both servers; redis-benchmark `--user bench -a pw`).
2. TLS: the same SET and GET at -P 1 over each server's TLS port (`redis-benchmark --tls`;
   Redis's own TLS, OpenSSL; okdb's rustls), certificates made here with openssl.
3. AUTH cost: 30 users with passwords, each authenticated once on a new connection (okdb's
   argon2id verification, not yet remembered; Redis's SHA-256): server CPU per AUTH.
4. AUTH flood: SET -c 50 -P 1 as the limited user, alone and while 8 connections from the same
   machine send wrong AUTHs as fast as they are answered: ops/s, and how many failures the
   flood got answered (okdb slows the failing address down).

Reported: ops/s and server CPU per operation (utime + stime from /proc/PID/stat). Linux only.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the same tools, servers and CPU readings)

USER, PASSWORD = "bench", "bench-pw"


def make_pki(d):
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{d}/ca.key",
        "-out", f"{d}/ca.crt", "-days", "2", "-subj", "/CN=okdb bench CA")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{d}/server.key",
        "-out", f"{d}/server.csr", "-subj", "/CN=localhost")
    with open(f"{d}/ext", "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", f"{d}/server.csr", "-CA", f"{d}/ca.crt", "-CAkey",
        f"{d}/ca.key", "-CAcreateserial", "-out", f"{d}/server.crt", "-days", "2", "-extfile",
        f"{d}/ext")


def start(okdb_path, pki):
    """Both servers with a TLS port; the limited user made on each."""
    tls = {"redis": compare.free_port(), "okdb": compare.free_port()}
    redis = ["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no",
             "--tls-port", str(tls["redis"]), "--tls-cert-file", f"{pki}/server.crt",
             "--tls-key-file", f"{pki}/server.key", "--tls-ca-cert-file", f"{pki}/ca.crt",
             "--tls-auth-clients", "no"]
    okdb = [okdb_path, "server", "--port", "{port}", "--appendonly", "no",
            "--tls-port", str(tls["okdb"]), "--tls-cert-file", f"{pki}/server.crt",
            "--tls-key-file", f"{pki}/server.key"]
    servers = {"redis": compare.Server("redis", redis), "okdb": compare.Server("okdb", okdb)}
    for name, s in servers.items():
        s.tls_port = tls[name]
        out = s.cli("ACL", "SETUSER", USER, "on", f">{PASSWORD}", "~bench:*", "+@all").strip()
        if out != "OK":
            raise RuntimeError(f"{name}: ACL SETUSER answered {out}")
    return servers


def benchmark(server, test, pipeline, requests, acl=False, tls=False, pki=None):
    cmd = {"set": ["SET", "bench:__rand_int__", "xxx"], "get": ["GET", "bench:__rand_int__"]}[test]
    port = server.tls_port if tls else server.port
    argv = ["redis-benchmark", "-p", str(port), "-c", "50", "-n", str(requests), "-r", "100000",
            "-P", str(pipeline), "--csv"]
    if acl:
        argv += ["--user", USER, "-a", PASSWORD]
    if tls:
        argv += ["--tls", "--cacert", f"{pki}/ca.crt"]
    r = compare.redis_benchmark(argv + cmd, server.pid, requests)
    return r["ops"], r["cpu_us"]


def auth_cost(server, users):
    """Server CPU per first AUTH of a user, in ms, and the median wall time."""
    for i in range(users):
        server.cli("ACL", "SETUSER", f"auth{i}", "on", f">pw{i}", "+@all", "~*")
    walls = []
    before = compare.cpu_seconds(server.pid)
    for i in range(users):
        with socket.create_connection(("127.0.0.1", server.port)) as s:
            t = time.perf_counter()
            s.sendall(compare.resp("AUTH", f"auth{i}", f"pw{i}"))
            line = compare.read_line(s)
            walls.append(time.perf_counter() - t)
            if not line.startswith(b"+OK"):
                raise RuntimeError(f"AUTH auth{i}: {line!r}")
    after = compare.cpu_seconds(server.pid)
    for i in range(users):
        server.cli("ACL", "DELUSER", f"auth{i}")
    return (after - before) / users * 1e3, statistics.median(walls) * 1e3


def flood(server, seconds, stop, answered):
    """Wrong AUTHs, one at a time per connection, until `stop` is set."""
    def one():
        try:
            with socket.create_connection(("127.0.0.1", server.port)) as s:
                s.settimeout(seconds + 5)
                while not stop.is_set():
                    s.sendall(compare.resp("AUTH", USER, "wrong"))
                    compare.read_line(s)
                    answered.append(1)
        except OSError:
            pass
    threads = [threading.Thread(target=one, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    return threads


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=300_000)
    ap.add_argument("--okdb", default=None)
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        args.rounds, args.requests = 1, 2_000
    compare.ensure_redis()
    okdb_path = args.okdb or compare.build_okdb()
    results = {}

    def note(key, value):
        results.setdefault(key, []).append(value)
        compare.log(f"{key}: {value[0]:,.0f} ops/s, {value[1]:.2f} us CPU/op")

    with tempfile.TemporaryDirectory() as pki:
        make_pki(pki)
        servers = start(okdb_path, pki)
        try:
            for rnd in range(args.rounds):
                order = ["redis", "okdb"] if rnd % 2 == 0 else ["okdb", "redis"]
                for test in ("set", "get"):
                    for pipeline in (1, 16):
                        for name in order:
                            s = servers[name]
                            for acl in (False, True):
                                note(("acl", test, pipeline, acl, name),
                                     benchmark(s, test, pipeline, args.requests, acl=acl))
                    for name in order:
                        note(("tls", test, name),
                             benchmark(servers[name], test, 1, args.requests // 2, tls=True,
                                       pki=pki))
            users = 5 if args.smoke else 30
            costs = {name: auth_cost(s, users) for name, s in servers.items()}
            flood_s = 2 if args.smoke else 8
            floods = {}
            for name in ("redis", "okdb"):
                s = servers[name]
                alone = benchmark(s, "set", 1, args.requests, acl=True)
                stop, answered = threading.Event(), []
                threads = flood(s, flood_s, stop, answered)
                time.sleep(0.5)
                started = time.time()
                during = benchmark(s, "set", 1, args.requests, acl=True)
                took = time.time() - started
                stop.set()
                for t in threads:
                    t.join(timeout=10)
                floods[name] = (alone, during, len(answered), took)
        finally:
            for s in servers.values():
                s.stop()

    med = compare.medians(results)
    compare.report_header(args.rounds, "; persistence off")
    print("`redis-benchmark -c 50 -r 100000 [-P 16] SET|GET bench:__rand_int__`, as `default` "
          "(no ACL) and as a user limited to `~bench:*`:\n")
    print("| test | pipeline | Redis ACL ops/s | okdb ACL ops/s | okdb/Redis | okdb no-ACL ops/s "
          "| okdb ACL / no-ACL | Redis CPU µs/op (ACL) | okdb CPU µs/op (ACL) | okdb CPU µs/op (no ACL) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for test in ("set", "get"):
        for pipeline in (1, 16):
            r = ("acl", test, pipeline, True, "redis")
            o = ("acl", test, pipeline, True, "okdb")
            on = ("acl", test, pipeline, False, "okdb")
            print(f"| {test.upper()} | {pipeline} | {med(r, 0):,.0f} | {med(o, 0):,.0f} | "
                  f"{compare.ratio(med(o, 0), med(r, 0))} | {med(on, 0):,.0f} | "
                  f"{compare.ratio(med(o, 0), med(on, 0))} | {med(r, 1):.2f} | {med(o, 1):.2f} | "
                  f"{med(on, 1):.2f} |")
    print("\nTLS port, `redis-benchmark --tls -c 50` (Redis: OpenSSL; okdb: rustls):\n")
    print("| test | Redis ops/s | okdb ops/s | okdb/Redis | Redis CPU µs/op | okdb CPU µs/op | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for test in ("set", "get"):
        r, o = ("tls", test, "redis"), ("tls", test, "okdb")
        print(f"| {test.upper()} | {med(r, 0):,.0f} | {med(o, 0):,.0f} | "
              f"{compare.ratio(med(o, 0), med(r, 0))} | {med(r, 1):.2f} | {med(o, 1):.2f} | "
              f"{compare.ratio(med(o, 1), med(r, 1))} |")
    print("\nFirst AUTH of a user (server CPU per AUTH; wall time on an idle server):\n")
    print("| server | password hash | CPU ms/AUTH | wall ms (median) |")
    print("|---|---|---:|---:|")
    for name, kind in (("redis", "SHA-256"), ("okdb", "argon2id m=19 MiB t=2 p=1")):
        cpu, wall = costs[name]
        print(f"| {name} | {kind} | {cpu:.2f} | {wall:.2f} |")
    print(f"\nAuthenticated SET -c 50 while 8 connections send wrong AUTHs ({args.requests:,} SETs):\n")
    print("| server | SET ops/s alone | SET ops/s during the flood | ratio | wrong AUTHs answered "
          "| per second |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (alone, during, answered, took) in floods.items():
        print(f"| {name} | {alone[0]:,.0f} | {during[0]:,.0f} | "
              f"{compare.ratio(during[0], alone[0])} | {answered:,} | "
              f"{answered / max(took, 1e-9):,.0f} |")


if __name__ == "__main__":
    main()
