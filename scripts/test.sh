#!/usr/bin/env bash
# Runs every test: the workspace's unit and wire tests, then the real server driven by the real
# redis-cli and by redis-py, then Redis's own test suite (scripts/redis-suite.sh: no unit may pass
# fewer tests than tests/redis-suite/expected.txt), then the language's differential test against
# CPython (scripts/lang-diff.sh, 1,000 random programs), then a seconds-long smoke run of the
# side-by-side benchmark harnesses (throughput, maxmemory under every policy, scripts, pub/sub and
# the change feed, users and TLS, bitmaps).
# Installs what it needs when missing: make/gcc, Redis (redis-server, redis-tools), tcl, redis-py.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh

cargo test --workspace
cargo build --release --bin okdb
bash scripts/smoke-redis-cli.sh target/release/okdb
bash scripts/redis-suite.sh target/release/okdb
bash scripts/lang-diff.sh target/release/okdb 1000
python3 bench/compare.py --smoke --okdb target/release/okdb >/dev/null
python3 bench/evict.py --smoke --okdb target/release/okdb >/dev/null
python3 bench/scripts.py --smoke --okdb target/release/okdb >/dev/null
python3 bench/pubsub.py --smoke --okdb target/release/okdb >/dev/null
python3 bench/security.py --smoke --okdb target/release/okdb >/dev/null
python3 bench/bits.py --smoke --okdb target/release/okdb >/dev/null
echo "bench smoke: ok"
