#!/usr/bin/env python3
"""Pub/sub and the change feed side by side with Redis.

    python3 bench/pubsub.py [--rounds 3] [--okdb target/release/okdb]
    python3 bench/pubsub.py --smoke        # seconds: tiny counts, checks the harness works

Three measurements, each on both servers interleaved (the server that goes first alternates
per round):

1. PUBLISH fan-out: N subscribers (1, 100, 1,000 sockets read by one reader thread that only
   counts bytes) on one channel; redis-benchmark sends PUBLISH from 50 connections. Reported:
   messages delivered per second (from the first PUBLISH until the readers have every byte), and
   the server's CPU per delivered message (utime + stime from /proc/PID/stat). Persistence off.
2. Writes with followers: `SET` at -c 50 -P 16 (random keys) with nobody following, with 10
   `LISTEN *` connections (okdb), and with 10 `PSUBSCRIBE __keyspace@0__:*` connections and
   `notify-keyspace-events KA` (Redis; okdb too, for comparison). Both servers persist with
   `appendfsync everysec` (okdb's feed is the journal). ops/s and server CPU per SET.
3. Latency from a write's acknowledgement to its feed message (okdb `LISTEN`, `everysec` and
   `always`) or keyspace notification (Redis, `everysec`): one writer sends `SET` one at a time,
   one follower reads; p50 and p99 over the writes.

Prints a markdown report. Linux only.
"""

import argparse
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the same tools, servers and CPU readings)


def connect(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Readers:
    """Sockets read by one thread, counting bytes until told to stop."""

    def __init__(self, socks):
        self.socks, self.total = socks, 0
        self.stop = threading.Event()
        self.sel = selectors.DefaultSelector()
        for s in socks:
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            for key, _ in self.sel.select(timeout=0.05):
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                self.total += len(data)

    def wait_for(self, total, timeout):
        deadline = time.time() + timeout
        while self.total < total and time.time() < deadline:
            time.sleep(0.001)
        return self.total >= total

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in self.socks:
            s.close()


def subscribers(port, n, argv):
    socks = []
    for _ in range(n):
        s = connect(port)
        s.sendall(compare.resp(*argv))
        # The confirmation: *3 $9 subscribe $2 ch :1 (six lines), or LISTEN's *2 $6 listen :n.
        lines = 7 if argv[0] != "LISTEN" else 5
        for _ in range(lines - 1):
            compare.read_line(s)
        socks.append(s)
    return socks


def bench(server, argv, requests, pipeline, randoms=False):
    cmd = ["redis-benchmark", "-p", str(server.port), "-n", str(requests), "-c", "50", "-q"]
    if pipeline > 1:
        cmd += ["-P", str(pipeline)]
    if randoms:
        cmd += ["-r", "100000"]
    subprocess.run(cmd + argv, capture_output=True, text=True, timeout=900, check=True)


def fanout(server, n, publishes, pipeline):
    """Messages/s delivered and server CPU µs per message."""
    socks = subscribers(server.port, n, ["SUBSCRIBE", "ch"])
    payload = "hello"
    msg = len(b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n")
    readers = Readers(socks)
    try:
        before = compare.cpu_seconds(server.pid)
        t0 = time.time()
        bench(server, ["PUBLISH", "ch", payload], publishes, pipeline)
        ok = readers.wait_for(publishes * n * msg, 300)
        elapsed = time.time() - t0
        cpu = compare.cpu_seconds(server.pid) - before
    finally:
        readers.close()
    assert ok, f"{server.name}: readers got {readers.total} of {publishes * n * msg} bytes"
    delivered = publishes * n
    return delivered / elapsed, cpu / delivered * 1e6


def writes(server, followers, argv, requests):
    """SET ops/s and server CPU µs per SET with `followers` connections following."""
    socks = subscribers(server.port, followers, argv) if followers else []
    readers = Readers(socks) if socks else None
    try:
        before = compare.cpu_seconds(server.pid)
        t0 = time.time()
        bench(server, ["SET", "key:__rand_int__", "value"], requests, 16, randoms=True)
        elapsed = time.time() - t0
        cpu = compare.cpu_seconds(server.pid) - before
    finally:
        if readers:
            readers.close()
    return requests / elapsed, cpu / requests * 1e6


def latency(server, follow, writes_n):
    """Milliseconds from each SET's reply to its message at the follower: p50, p99."""
    f = connect(server.port)
    f.sendall(compare.resp(*follow))
    got = {}
    stop = threading.Event()

    def reader():
        buf = b""
        f.settimeout(0.2)
        while not stop.is_set():
            try:
                data = f.recv(1 << 16)
            except socket.timeout:
                continue
            if not data:
                break
            now = time.perf_counter()
            buf += data
            # Every message names its key `lat:<i>`: note when each first shows up.
            start = 0
            while True:
                i = buf.find(b"lat:", start)
                if i < 0:
                    break
                j = i + 4
                while j < len(buf) and buf[j:j + 1].isdigit():
                    j += 1
                if j == len(buf):
                    break
                if j > i + 4:  # not the pattern in a confirmation
                    got.setdefault(int(buf[i + 4:j]), now)
                start = j
            buf = buf[start:]

    t = threading.Thread(target=reader, daemon=True)
    time.sleep(0.2)
    t.start()
    w = connect(server.port)
    acks = {}
    for i in range(writes_n):
        w.sendall(compare.resp("SET", f"lat:{i}", "v"))
        compare.read_line(w)
        acks[i] = time.perf_counter()
        time.sleep(0.0005)
    deadline = time.time() + 10
    while len(got) < writes_n and time.time() < deadline:
        time.sleep(0.01)
    stop.set()
    t.join()
    f.close()
    w.close()
    lat = sorted((got[i] - acks[i]) * 1000 for i in acks if i in got)
    assert len(lat) == writes_n, f"{server.name}: {len(lat)} of {writes_n} messages"
    return lat[len(lat) // 2], lat[int(len(lat) * 0.99)]


def persistent(okdb_path, policy, tmp):
    rdir, odir = tempfile.mkdtemp(dir=tmp), tempfile.mkdtemp(dir=tmp)
    redis = ["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", policy, "--dir", rdir, "--daemonize", "no"]
    okdb = [okdb_path, "server", "--port", "{port}", "--appendfsync", policy, "--dir", odir]
    return {"redis": compare.Server("redis", redis), "okdb": compare.Server("okdb", okdb)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--messages", type=int, default=3_000_000,
                    help="messages delivered per fan-out run")
    ap.add_argument("--writes", type=int, default=1_000_000)
    ap.add_argument("--okdb", help="an okdb binary (default: build one)")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    latency_writes = 2000
    if args.smoke:
        args.rounds, args.messages, args.writes, latency_writes = 1, 20_000, 20_000, 50
    compare.ensure_redis()
    okdb_path = args.okdb or compare.build_okdb()
    results = {}

    def note(key, r, unit):
        results.setdefault(key, []).append(r)
        compare.log(f"{key}: {r[0]:,.0f} {unit}, {r[1]:.3f} us CPU")

    cmds = compare.server_commands(okdb_path)
    servers = {name: compare.Server(name, argv) for name, argv in cmds.items()}
    fan = [(1, 16), (1, 1), (100, 1), (1000, 1)]
    try:
        for rnd in range(args.rounds):
            order = ["redis", "okdb"] if rnd % 2 == 0 else ["okdb", "redis"]
            for n, pipeline in fan:
                publishes = max(args.messages // n, 1000 if not args.smoke else 20)
                for name in order:
                    note(("fanout", n, pipeline, name), fanout(servers[name], n, publishes, pipeline),
                         "msgs/s")
    finally:
        for s in servers.values():
            s.stop()

    tmp = tempfile.mkdtemp(prefix="okdb-pubsub-bench-")
    servers = persistent(okdb_path, "everysec", tmp)
    ks = ["PSUBSCRIBE", "__keyspace@0__:*"]
    try:
        for rnd in range(args.rounds):
            order = ["redis", "okdb"] if rnd % 2 == 0 else ["okdb", "redis"]
            for name in order:
                s = servers[name]
                s.cli("CONFIG", "SET", "notify-keyspace-events", "")
                note(("writes", "none", name), writes(s, 0, None, args.writes), "SET/s")
                if name == "okdb":
                    note(("writes", "listen", name), writes(s, 10, ["LISTEN", "*"], args.writes), "SET/s")
                s.cli("CONFIG", "SET", "notify-keyspace-events", "KA")
                note(("writes", "keyspace", name), writes(s, 10, ks, args.writes), "SET/s")
                s.cli("CONFIG", "SET", "notify-keyspace-events", "")
        lat = {}
        lat["okdb everysec"] = latency(servers["okdb"], ["LISTEN", "lat:*", "NOVALUES"], latency_writes)
        servers["redis"].cli("CONFIG", "SET", "notify-keyspace-events", "KA")
        lat["redis everysec"] = latency(servers["redis"], ["PSUBSCRIBE", "__keyspace@0__:lat:*"],
                                        latency_writes)
    finally:
        for s in servers.values():
            s.stop()
    servers = persistent(okdb_path, "always", tmp)
    try:
        lat["okdb always"] = latency(servers["okdb"], ["LISTEN", "lat:*", "NOVALUES"], latency_writes)
    finally:
        for s in servers.values():
            s.stop()

    med = compare.medians(results)
    compare.report_header(args.rounds)
    print("PUBLISH to one channel, redis-benchmark -c 50; persistence off:\n")
    print("| subscribers | PUBLISH pipeline | Redis msgs/s | okdb msgs/s | ratio | Redis CPU µs/msg | okdb CPU µs/msg | CPU ratio |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, pipeline in fan:
        r, o = ("fanout", n, pipeline, "redis"), ("fanout", n, pipeline, "okdb")
        print(f"| {n:,} | {pipeline} | {med(r, 0):,.0f} | {med(o, 0):,.0f} | {compare.ratio(med(o, 0), med(r, 0))} | "
              f"{med(r, 1):.3f} | {med(o, 1):.3f} | {compare.ratio(med(o, 1), med(r, 1))} |")
    print(f"\n`SET key:__rand_int__ value`, -c 50 -P 16, {args.writes:,} per run; both servers "
          "with `appendfsync everysec`:\n")
    print("| server | followers | SET ops/s | CPU µs/SET | vs okdb alone |")
    print("|---|---|---:|---:|---:|")
    alone = med(("writes", "none", "okdb"), 0)
    for name, kind, label in [
        ("okdb", "none", "none"),
        ("okdb", "listen", "10 × `LISTEN *` (values)"),
        ("okdb", "keyspace", "10 × `PSUBSCRIBE __keyspace@0__:*`, KA"),
        ("redis", "none", "none"),
        ("redis", "keyspace", "10 × `PSUBSCRIBE __keyspace@0__:*`, KA"),
    ]:
        k = ("writes", kind, name)
        print(f"| {name} | {label} | {med(k, 0):,.0f} | {med(k, 1):.2f} | {compare.ratio(med(k, 0), alone)} |")
    print(f"\nFrom a `SET`'s reply to its message at one follower, {latency_writes:,} writes one at "
          "a time (ms):\n")
    print("| server, policy | follower | p50 | p99 |")
    print("|---|---|---:|---:|")
    for name, follower in [("okdb everysec", "LISTEN"), ("okdb always", "LISTEN"),
                           ("redis everysec", "keyspace notification")]:
        p50, p99 = lat[name]
        print(f"| {name} | {follower} | {p50:.3f} | {p99:.3f} |")


if __name__ == "__main__":
    main()
