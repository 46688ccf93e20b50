#!/usr/bin/env bash
# Runs every test: the workspace's unit and wire tests, then a smoke test with the real redis-cli.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace
cargo build --release --bin okdb
bash scripts/smoke-redis-cli.sh target/release/okdb
