#!/usr/bin/env bash
# Runs Redis 7.0.15's own test suite (../shared/redis-tests, external-server mode) against the
# real okdb server and fails if any unit passes fewer tests than tests/redis-suite/expected.txt
# says. usage: scripts/redis-suite.sh [path/to/okdb]
set -euo pipefail
cd "$(dirname "$0")/.."
OKDB=${1:-target/release/okdb}
SUITE=${REDIS_TESTS:-../shared/redis-tests}
EXPECTED=tests/redis-suite/expected.txt
if [ ! -f "$SUITE/run-external.sh" ]; then
  # The suite comes with the workspace (../shared), not with this repository.
  echo "redis-suite: SKIPPED: no $SUITE/run-external.sh beside the checkout"
  exit 0
fi
command -v tclsh >/dev/null || { echo "redis-suite: no tclsh (scripts/deps.sh installs tcl)"; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$(mktemp)
"$OKDB" server --port "$PORT" --appendonly no 2>"$LOG" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 200); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done

UNITS=$(grep -v '^#' "$EXPECTED" | awk 'NF {print $1}')
OUT=$(bash "$SUITE/run-external.sh" "$PORT" $UNITS)
echo "$OUT"
kill -0 $PID 2>/dev/null || { echo "redis-suite: okdb died during the suite"; cat "$LOG"; exit 1; }

status=0
while read -r unit want; do
  [ -z "$unit" ] && continue
  got=$(echo "$OUT" | awk -v u="$unit:" '$1 == u {print $2}')
  if [ -z "$got" ]; then
    echo "redis-suite: no result for $unit"; status=1
  elif [ "$got" -lt "$want" ]; then
    echo "redis-suite: $unit passed $got, fewer than the $want expected"; status=1
  elif [ "$got" -gt "$want" ]; then
    echo "redis-suite: $unit passed $got, more than the $want expected: raise it in $EXPECTED"
  fi
done < <(grep -v '^#' "$EXPECTED")
[ $status -eq 0 ] && echo "redis-suite: every unit at or above its expected count"
exit $status
