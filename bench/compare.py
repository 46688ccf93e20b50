#!/usr/bin/env python3
"""Side-by-side benchmark of okdb and Redis on this machine.

    python3 bench/compare.py                 # the full run; writes its table into BENCHMARKS.md
    python3 bench/compare.py --smoke         # seconds: tiny counts, checks the harness works

It finds (or installs, from Debian's packages) redis-server, redis-benchmark and redis-cli, builds
okdb in release mode, starts both servers on free loopback ports with persistence off, and runs
identical redis-benchmark workloads against them, interleaved (Redis, okdb, Redis, okdb, ...) for
N rounds, so that load from elsewhere on a shared machine hits both alike. Per run it records
ops/s, p50 and p99 latency (from redis-benchmark's CSV) and each server's CPU time per operation
(utime + stime from /proc/PID/stat, read before and after the run, divided by the requests).
Then it loads 1,000,000 and 10,000,000 small keys (16-byte values) into fresh servers and reports
bytes per key from each server's resident set size and from its own accounting (INFO used_memory).

It prints a markdown report (medians, best runs, okdb/Redis ratios, the machine, the versions and
the exact commands) and, unless --out says otherwise, writes it into BENCHMARKS.md between the
`compare.py:begin` and `compare.py:end` markers. Linux only (it reads /proc).
"""

import argparse
import csv
import io
import shlex
import datetime
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- compare.py:begin -->", "<!-- compare.py:end -->"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- tools ---------------------------------------------------------------------------------------

def ensure_redis():
    """Finds redis-server, redis-benchmark and redis-cli, installing Debian's packages if missing."""
    tools = ("redis-server", "redis-benchmark", "redis-cli")
    if all(shutil.which(t) for t in tools):
        return
    log("installing redis-server and redis-tools (apt)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "redis-server", "redis-tools"],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        sys.exit(f"compare.py: still missing after install: {', '.join(missing)}")


def build_okdb():
    log("building okdb (cargo build --release)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "okdb"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "release", "okdb")


def first_line(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    distro = "?"
    try:
        with open("/etc/os-release") as f:
            distro = next(l.split("=", 1)[1].strip().strip('"') for l in f
                          if l.startswith("PRETTY_NAME="))
    except (OSError, StopIteration):
        pass
    mem = os.sysconf("SC_PHYS_PAGES") * PAGE / 2**30
    return f"{os.cpu_count()} cores of {cpu}, {mem:.0f} GiB, Linux {platform.release()}, {distro}"


# --- servers -------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port, proc, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on port {port} did not start")


def ratio(a, b):
    """`a / b` for a table cell; CPU is read in clock ticks, so a short (smoke) run can measure none."""
    return f"{a / b:.2f}" if b else "n/a"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def rss_bytes(pid):
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


class Server:
    def __init__(self, name, argv, ready_timeout=20.0):
        self.name, self.port = name, free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(self.port, self.proc, ready_timeout)
        except Exception:
            self.stop()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args],
                              capture_output=True, text=True, timeout=120).stdout

    def info_field(self, field):
        m = re.search(rf"^{field}:(\d+)", self.cli("INFO", "memory"), re.M)
        return int(m.group(1)) if m else None


def server_commands(okdb_path, extra=""):
    """The command lines of both servers; {port} is filled in at start."""
    redis = ["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"]
    okdb = [okdb_path, "server", "--port", "{port}", "--appendonly", "no", *shlex.split(extra)]
    return {"redis": redis, "okdb": okdb}


# --- workloads -----------------------------------------------------------------------------------

class Workload:
    """One redis-benchmark run; `argv` may differ per server (bulk GET vs MGET)."""

    def __init__(self, name, argv, requests_scale=1.0, okdb_argv=None, meaning=""):
        self.name, self.argv, self.okdb_argv = name, argv, okdb_argv
        self.requests_scale, self.meaning = requests_scale, meaning

    def command(self, server_name, port, requests):
        n = max(int(requests * self.requests_scale), 100)
        body = self.okdb_argv if (server_name == "okdb" and self.okdb_argv) else self.argv
        return ["redis-benchmark", "-p", str(port), "-n", str(n), "--csv", *body], n

    def shown(self, server_name, requests):
        argv, _ = self.command(server_name, "PORT", requests)
        return shlex.join(argv).replace("'PORT'", "PORT")


def workloads():
    mget_keys = ["key:__rand_int__"] * 10
    return [
        Workload("SET -c 50", ["-t", "set", "-c", "50"],
                 meaning="50 connections, one request at a time each, one key"),
        Workload("GET -c 50", ["-t", "get", "-c", "50"]),
        Workload("SET -c 50 -P 16", ["-t", "set", "-c", "50", "-P", "16"],
                 requests_scale=4, meaning="50 connections, 16 requests per pipeline"),
        Workload("GET -c 50 -P 16", ["-t", "get", "-c", "50", "-P", "16"], requests_scale=4),
        Workload("SET -c 1", ["-t", "set", "-c", "1"], requests_scale=0.25,
                 meaning="one connection: the round-trip latency"),
        Workload("GET -c 1", ["-t", "get", "-c", "1"], requests_scale=0.25),
        Workload("SET -c 50 -d 1024", ["-t", "set", "-c", "50", "-d", "1024"],
                 meaning="1 KiB values"),
        Workload("GET -c 50 -d 1024", ["-t", "get", "-c", "50", "-d", "1024"]),
        Workload("SET -c 50 -r 1000000", ["-t", "set", "-c", "50", "-r", "1000000"],
                 meaning="random keys out of a million (the table grows; cache misses)"),
        Workload("GET -c 50 -r 1000000", ["-t", "get", "-c", "50", "-r", "1000000"]),
        Workload("SET -c 50 -P 16 -r 1000000", ["-t", "set", "-c", "50", "-P", "16", "-r", "1000000"],
                 requests_scale=4),
        Workload("GET -c 50 -P 16 -r 1000000", ["-t", "get", "-c", "50", "-P", "16", "-r", "1000000"],
                 requests_scale=4),
        Workload("INCR -c 50", ["-t", "incr", "-c", "50"], meaning="one counter"),
        Workload("INCR -c 50 -P 16", ["-t", "incr", "-c", "50", "-P", "16"], requests_scale=4),
        Workload("10-key GET -c 50 -r 1000000",
                 ["-c", "50", "-r", "1000000", "MGET", *mget_keys],
                 okdb_argv=["-c", "50", "-r", "1000000", "GET", *mget_keys],
                 meaning="okdb `GET k1 … k10` against Redis `MGET k1 … k10`, random keys"),
    ]


def run_interleaved(servers, wl, rounds, requests, results, label=""):
    """Runs every workload on every server in turn (A B A B ...) for `rounds` rounds, appending
    each result to results[(label, workload, server)] (label left out when empty)."""
    for rnd in range(rounds):
        for w in wl:
            for server in servers:
                res = run_one(server, w, requests)
                key = (label, w.name, server.name) if label else (w.name, server.name)
                results.setdefault(key, []).append(res)
                log(f"round {rnd + 1} {label} {w.name:28} {server.name:8} "
                    f"{res['ops']:>10,.0f} ops/s p50 {res['p50']:.3f} p99 {res['p99']:.3f} ms "
                    f"cpu/op {res['cpu_us']:.2f} us")


def run_one(server, workload, requests):
    argv, n = workload.command(server.name, server.port, requests)
    return redis_benchmark(argv, server.pid, n)


def redis_benchmark(argv, pid, n):
    """Runs a `redis-benchmark ... --csv` command line against the server with this pid: its
    last row's ops/s, p50 and p99 (ms), and the server's CPU per request (µs)."""
    before = cpu_seconds(pid)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    after = cpu_seconds(pid)
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
    # "p99_latency_ms","max_latency_ms" (a test's name may hold commas: read as CSV)
    rows = [r for r in csv.reader(io.StringIO(out.stdout)) if len(r) >= 7 and r[0] != "test"]
    if out.returncode != 0 or not rows:
        raise RuntimeError(f"{' '.join(argv)} failed: {out.stderr.strip() or out.stdout.strip()}")
    f = rows[-1]
    return {"ops": float(f[1]), "p50": float(f[4]), "p99": float(f[6]),
            "cpu_us": (after - before) / n * 1e6}


def resp(*args):
    """One request in RESP (arguments as text)."""
    out = f"*{len(args)}\r\n"
    for a in args:
        a = str(a)
        out += f"${len(a.encode())}\r\n{a}\r\n"
    return out.encode()


def read_line(sock):
    """One reply line, read a byte at a time (the harnesses read simple replies only)."""
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = sock.recv(1)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def medians(results):
    """`med(key, i)`: the median of field i over the runs recorded under key."""
    return lambda k, i: statistics.median(x[i] for x in results[k])


def report_header(rounds, extra=""):
    print(f"Machine: {machine()}; {first_line(['redis-server', '--version'])}; "
          f"{rounds} rounds, medians{extra}.\n")


# --- memory --------------------------------------------------------------------------------------

def write_load_file(n):
    """n `SET key:NNNNNNNNNNNN <16 bytes>` requests in RESP, for redis-cli --pipe."""
    f = tempfile.NamedTemporaryFile("wb", delete=False, prefix="okdb-bench-", suffix=".resp")
    value = b"v" * 16
    chunk = []
    for i in range(n):
        k = b"key:%012d" % i
        chunk.append(b"*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$16\r\n%s\r\n" % (k, value))
        if len(chunk) == 100000:
            f.write(b"".join(chunk))
            chunk.clear()
    f.write(b"".join(chunk))
    f.close()
    return f.name


def load(server, load_file):
    """Sends a file of requests with redis-cli --pipe."""
    with open(load_file, "rb") as f:
        subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f,
                       capture_output=True, timeout=3600, check=True)


def settle_rss(pid, timeout):
    """RSS once it stops falling (allocators return freed pages with a delay), within timeout."""
    last, deadline = rss_bytes(pid), time.time() + timeout
    while time.time() < deadline:
        time.sleep(1.0)
        now = rss_bytes(pid)
        if now >= last * 0.995:
            return now
        last = now
    return rss_bytes(pid)


def measure_memory(name, argv, n, load_file, settle):
    server = Server(name, argv)
    try:
        base_rss, base_used = rss_bytes(server.pid), server.info_field("used_memory")
        load(server, load_file)
        size = int(server.cli("DBSIZE").strip() or 0)
        rss = settle_rss(server.pid, settle)
        used = server.info_field("used_memory")
        return {"keys": size, "rss": (rss - base_rss) / max(size, 1),
                "used": (used - base_used) / max(size, 1) if used and base_used else None}
    finally:
        server.stop()


# --- persistence ---------------------------------------------------------------------------------

PERSIST_POLICIES = ("everysec", "always")


def persistence_servers(okdb_path, policy, tmp):
    """Redis and okdb both journaling under `policy`, plus okdb with persistence off."""
    rdir, odir = os.path.join(tmp, f"redis-{policy}"), os.path.join(tmp, f"okdb-{policy}")
    os.makedirs(rdir, exist_ok=True)
    redis = ["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", policy, "--dir", rdir,
             "--daemonize", "no"]
    okdb = [okdb_path, "server", "--port", "{port}", "--appendfsync", policy, "--dir", odir]
    return {"redis": redis, "okdb": okdb}


def run_persistence(args, okdb_path, results, wl):
    tmp = tempfile.mkdtemp(prefix="okdb-bench-persist-")
    try:
        for policy in PERSIST_POLICIES:
            cmds = persistence_servers(okdb_path, policy, tmp)
            off = server_commands(okdb_path, args.okdb_args)["okdb"]
            servers = [Server("redis", cmds["redis"]), Server("okdb", cmds["okdb"]),
                       Server("okdb-off", off)]
            try:
                run_interleaved(servers, wl, args.rounds, args.requests, results, policy)
            finally:
                for s in servers:
                    s.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def persist_workloads():
    return [
        Workload("SET -c 50", ["-t", "set", "-c", "50", "-r", "100000"]),
        Workload("SET -c 50 -P 16", ["-t", "set", "-c", "50", "-P", "16", "-r", "100000"],
                 requests_scale=4),
    ]


def measure_restart(okdb_path, n, load_file):
    """Loads n keys into Redis and okdb with persistence on; times SAVE (RDB save vs okdb
    checkpoint) and a restart (RDB load vs okdb recovery) until DBSIZE answers n."""
    tmp = tempfile.mkdtemp(prefix="okdb-bench-restart-")
    out = {}
    try:
        rdir, odir = os.path.join(tmp, "redis"), os.path.join(tmp, "okdb")
        os.makedirs(rdir)
        argv = {
            "redis": ["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", "no", "--dir", rdir, "--daemonize", "no"],
            "okdb": [okdb_path, "server", "--port", "{port}", "--dir", odir,
                     "--appendfsync", "everysec"],
        }
        for name in ("redis", "okdb"):
            server = Server(name, argv[name])
            try:
                load(server, load_file)
                t = time.time()
                reply = server.cli("SAVE").strip()
                save_s = time.time() - t
                if reply != "OK":
                    raise RuntimeError(f"{name} SAVE answered {reply!r}")
            finally:
                server.stop()
            t = time.time()
            server = Server(name, argv[name], ready_timeout=3600)
            try:
                while int(server.cli("DBSIZE").strip() or 0) < n and time.time() - t < 3600:
                    time.sleep(0.05)
                load_s = time.time() - t
            finally:
                server.stop()
            out[name] = {"save": save_s, "load": load_s}
            log(f"restart {n:,} keys {name:5} save {save_s:.2f} s load {load_s:.2f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# --- report --------------------------------------------------------------------------------------

def fmt_ops(x):
    return f"{x:,.0f}"


def persistence_report(args, presults, restarts):
    r = ["", "Persistence: Redis with `--appendonly yes --appendfsync P` against okdb with "
         "`--appendfsync P` (its default persistence), and okdb with persistence off, "
         "interleaved; `-r 100000`.", "",
         "| policy | workload | Redis ops/s | okdb ops/s | okdb/Redis | okdb off ops/s | "
         "okdb/okdb off | Redis CPU µs/op | okdb CPU µs/op |",
         "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for policy in PERSIST_POLICIES:
        for w in persist_workloads():
            runs = {s: presults.get((policy, w.name, s), []) for s in ("redis", "okdb", "okdb-off")}
            if not all(runs.values()):
                continue
            med = {s: statistics.median(x["ops"] for x in v) for s, v in runs.items()}
            cpu = {s: statistics.median(x["cpu_us"] for x in v) for s, v in runs.items()}
            r.append(f"| {policy} | {w.name} | {fmt_ops(med['redis'])} | {fmt_ops(med['okdb'])} | "
                     f"**{med['okdb'] / med['redis']:.2f}** | {fmt_ops(med['okdb-off'])} | "
                     f"{med['okdb'] / med['okdb-off']:.2f} | {cpu['redis']:.2f} | {cpu['okdb']:.2f} |")
    if restarts:
        r += ["", "Save and restart: keys loaded as in the memory test; `SAVE` timed with "
              "redis-cli (Redis: RDB save; okdb: checkpoint into SQLite); then SIGTERM and a "
              "restart timed until `DBSIZE` answers every key (Redis: RDB load; okdb: SQLite "
              "load + journal replay).", "",
              "| keys | Redis SAVE s | okdb SAVE s | Redis restart s | okdb restart s |",
              "|---:|---:|---:|---:|---:|"]
        for n in sorted(restarts):
            x = restarts[n]
            r.append(f"| {n:,} | {x['redis']['save']:.2f} | {x['okdb']['save']:.2f} | "
                     f"{x['redis']['load']:.2f} | {x['okdb']['load']:.2f} |")
    return "\n".join(r)


def report(args, wl, results, mem, versions, okdb_path):
    r = []
    today = datetime.date.today().isoformat()
    r.append(f"### Run of {today}")
    r.append("")
    r.append(f"- Machine: {machine()}")
    r.append(f"- Redis: {versions['redis']}; okdb: {versions['okdb']} (release build); "
             f"client: {versions['benchmark']}")
    r.append(f"- Command: `{' '.join(['python3', 'bench/compare.py', *args.argv])}`")
    r.append(f"- {args.rounds} rounds, interleaved Redis/okdb per workload; "
             f"{args.requests:,} requests per run unless the workload scales it")
    r.append("")
    r.append("Medians over the rounds (best run in brackets). Ratios are okdb/Redis: above 1 is "
             "better for ops/s, below 1 is better for latency and CPU.")
    r.append("")
    r.append("| workload | Redis ops/s | okdb ops/s | ops ratio | p50 ms R / o | p99 ms R / o "
             "| p99 ratio | Redis CPU µs/op | okdb CPU µs/op | CPU ratio |")
    r.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in wl:
        rr, oo = results[(w.name, "redis")], results[(w.name, "okdb")]
        if not rr or not oo:
            continue
        med = lambda runs, k: statistics.median(x[k] for x in runs)
        r_ops, o_ops = med(rr, "ops"), med(oo, "ops")
        r_best, o_best = max(x["ops"] for x in rr), max(x["ops"] for x in oo)
        r_p99, o_p99 = med(rr, "p99"), med(oo, "p99")
        r_cpu, o_cpu = med(rr, "cpu_us"), med(oo, "cpu_us")
        r_cpu_best, o_cpu_best = min(x["cpu_us"] for x in rr), min(x["cpu_us"] for x in oo)
        p99_ratio = f"{o_p99 / r_p99:.2f}" if r_p99 > 0 else "–"
        cpu_ratio = f"{o_cpu / r_cpu:.2f}" if r_cpu > 0 else "–"
        r.append(f"| {w.name} | {fmt_ops(r_ops)} ({fmt_ops(r_best)}) | {fmt_ops(o_ops)} "
                 f"({fmt_ops(o_best)}) | **{o_ops / r_ops:.2f}** | {med(rr, 'p50'):.3f} / "
                 f"{med(oo, 'p50'):.3f} | {r_p99:.3f} / {o_p99:.3f} | {p99_ratio} | "
                 f"{r_cpu:.2f} ({r_cpu_best:.2f}) | {o_cpu:.2f} ({o_cpu_best:.2f}) | **{cpu_ratio}** |")
    if mem:
        r.append("")
        r.append("Memory: a fresh server of each kind per size, loaded with `SET key:NNNNNNNNNNNN "
                 "<16 bytes>` through `redis-cli --pipe`; growth divided by `DBSIZE`.")
        r.append("")
        r.append("| keys | Redis RSS B/key | okdb RSS B/key | RSS ratio | Redis used_memory B/key "
                 "| okdb used_memory B/key |")
        r.append("|---:|---:|---:|---:|---:|---:|")
        for n in sorted(mem):
            rm, om = mem[n]["redis"], mem[n]["okdb"]
            used = lambda m: f"{m['used']:.0f}" if m["used"] is not None else "–"
            r.append(f"| {rm['keys']:,} | {rm['rss']:.0f} | {om['rss']:.0f} | "
                     f"**{om['rss'] / rm['rss']:.2f}** | {used(rm)} | {used(om)} |")
    r.append("")
    r.append("<details><summary>Exact commands</summary>")
    r.append("")
    r.append("```sh")
    cmds = server_commands(okdb_path, args.okdb_args)
    r.append(shlex.join(cmds["redis"]).replace("{port}", "PORT"))
    r.append(shlex.join(cmds["okdb"]).replace("{port}", "PORT").replace(ROOT + "/", ""))
    for w in wl:
        r.append(w.shown("redis", args.requests))
        if w.okdb_argv:
            r.append(w.shown("okdb", args.requests) + "   # okdb")
    if mem:
        r.append("redis-cli -p PORT --pipe < keys.resp   # SET key:NNNNNNNNNNNN vvvvvvvvvvvvvvvv, "
                 + ", ".join(f"{n:,}" for n in sorted(mem)) + " keys")
    r.append("```")
    r.append("")
    r.append("</details>")
    return "\n".join(r)


def write_into(path, text):
    body = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n"
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in body and END in body:
        head, rest = body.split(BEGIN, 1)
        body = head + block + rest.split(END, 1)[1]
    else:
        body = body.rstrip("\n") + "\n\n" + block + "\n"
    with open(path, "w") as f:
        f.write(body)


# --- main ----------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--requests", type=int, default=200000, help="requests per run (base)")
    ap.add_argument("--keys", default="1000000,10000000",
                    help="comma-separated key counts for the memory test ('' skips it)")
    ap.add_argument("--only", default="", help="run only workloads whose name contains this")
    ap.add_argument("--names", default="",
                    help="run only these workloads, comma-separated exact names ('SET -c 50,GET -c 50')")
    ap.add_argument("--okdb", help="an okdb binary to use instead of building one")
    ap.add_argument("--okdb-args", default="", help="extra arguments for `okdb server`")
    ap.add_argument("--out", default=os.path.join(ROOT, "BENCHMARKS.md"),
                    help="markdown file to write the report into ('-' for stdout only)")
    ap.add_argument("--persistence", action="store_true",
                    help="also run the persistence workloads (everysec and always) and time "
                         "SAVE and restart at the --keys sizes")
    ap.add_argument("--smoke", action="store_true",
                    help="seconds-long check of the harness: 1 round, tiny counts, no file written")
    args = ap.parse_args()
    args.argv = sys.argv[1:]
    if args.smoke:
        args.rounds, args.requests, args.keys, args.out = 1, 2000, "20000", "-"
        args.persistence = True

    ensure_redis()
    okdb_path = args.okdb or build_okdb()
    versions = {
        "redis": first_line(["redis-server", "--version"]),
        "okdb": first_line([okdb_path, "--version"]),
        "benchmark": first_line(["redis-benchmark", "--version"]),
    }
    wl = [w for w in workloads() if args.only in w.name]
    if args.names:
        names = [n.strip() for n in args.names.split(",")]
        wl = [w for w in wl if w.name in names]
    cmds = server_commands(okdb_path, args.okdb_args)
    results = {(w.name, s): [] for w in wl for s in ("redis", "okdb")}
    servers = [Server("redis", cmds["redis"]), Server("okdb", cmds["okdb"])]
    try:
        run_interleaved(servers, wl, args.rounds, args.requests, results)
    finally:
        for s in servers:
            s.stop()

    mem = {}
    for n in [int(x) for x in args.keys.split(",") if x.strip()]:
        log(f"memory: writing {n:,} SET requests")
        path = write_load_file(n)
        try:
            mem[n] = {}
            for name in ("redis", "okdb"):
                mem[n][name] = measure_memory(name, cmds[name], n, path,
                                              settle=3 if args.smoke else 30)
                log(f"memory {n:,} keys {name:5} RSS {mem[n][name]['rss']:.0f} B/key "
                    f"used_memory {mem[n][name]['used']} B/key")
        finally:
            os.unlink(path)

    text = report(args, wl, results, mem, versions, okdb_path)
    if args.persistence:
        presults = {}
        run_persistence(args, okdb_path, presults, persist_workloads())
        restarts = {}
        for n in [int(x) for x in args.keys.split(",") if x.strip()]:
            path = write_load_file(n)
            try:
                restarts[n] = measure_restart(okdb_path, n, path)
            finally:
                os.unlink(path)
        text += "\n" + persistence_report(args, presults, restarts)
    print(text)
    if args.out != "-":
        write_into(args.out, text)
        log(f"written to {args.out}")
    # The smoke run checks that both servers answered every workload with sane figures.
    for (name, server), runs in results.items():
        for x in runs:
            if not (x["ops"] > 0 and x["p99"] >= 0 and x["cpu_us"] >= 0):
                sys.exit(f"compare.py: implausible result for {name} on {server}: {x}")
    for n, per in mem.items():
        for server, m in per.items():
            if m["keys"] < n:
                sys.exit(f"compare.py: {server} holds {m['keys']} keys after loading {n}")


if __name__ == "__main__":
    main()
