#!/usr/bin/env bash
# The language's differential test: random programs run by okdb (over the wire, with RUN) and by
# CPython must agree on value and exception class (tests/lang-diff). Starts the given okdb binary
# on a free loopback port with persistence off, runs CASES programs (default 1000), stops it.
#   bash scripts/lang-diff.sh target/release/okdb [CASES] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
okdb=${1:-target/release/okdb}
cases=${2:-1000}
seed=${3:-1}
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$okdb" server --port "$port" --appendonly no >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    if redis-cli -p "$port" PING >/dev/null 2>&1; then break; fi
    sleep 0.1
done
python3 tests/lang-diff/run.py --self-check --cases 200 --seed "$seed"
python3 tests/lang-diff/run.py --port "$port" --cases "$cases" --seed "$seed"
