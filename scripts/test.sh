#!/usr/bin/env bash
# Runs every test: the workspace's unit and wire tests, then the real server driven by the real
# redis-cli and by redis-py, then a seconds-long smoke run of the side-by-side benchmark harness.
# Installs Redis (Debian's redis-server and redis-tools) and redis-py if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-cli >/dev/null 2>&1 || ! command -v redis-server >/dev/null 2>&1 \
  || ! command -v redis-benchmark >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-tools >/dev/null
fi
if ! python3 -c 'import redis' >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check redis
fi

cargo test --workspace
cargo build --release --bin okdb
bash scripts/smoke-redis-cli.sh target/release/okdb
python3 bench/compare.py --smoke --okdb target/release/okdb >/dev/null
echo "bench smoke: ok"
