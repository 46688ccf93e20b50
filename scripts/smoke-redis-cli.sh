#!/usr/bin/env bash
# Smoke test: start the real okdb server on a free loopback port and drive it with redis-cli
# and redis-py (tests/python).
set -euo pipefail
OKDB=${1:-target/release/okdb}
command -v redis-cli >/dev/null || { echo "redis-cli is not installed (apt-get install redis-tools)"; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DATA=$(mktemp -d)
"$OKDB" server --port "$PORT" --dir "$DATA" 2>/tmp/okdb-smoke.log &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.05; done

pass=0; fail=0
check() { # check "expected" redis-cli args...
  local want=$1; shift
  local got
  got=$(redis-cli -p "$PORT" "$@" 2>&1 || true)
  if [ "$got" = "$want" ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: redis-cli $*"; echo "  want: $want"; echo "  got:  $got"; fi
}

check "PONG" PING
check "OK" SET user:1 '{"name": "kevin", "tags": ["a", "b"]}'
check '{"name":"kevin","tags":["a","b"]}' GET user:1
check "hash" TYPE user:1
check "OK" SET n 5
check "7" INCR n 2
check "string" TYPE n
check "OK" SET s '"5"'
check "string" TYPE s
check "1" EXPIRE n 100
check "100" TTL n
check "ERR unknown command 'NOPE', with args beginning with:" NOPE
check "WRONGTYPE INCR expects int, float or string, found dict" INCR user:1
check "OK" -n 3 SET k three
check "three" -n 3 GET k
check "" GET k
check "3" -n 3 USING
check "OK" SET a 1 b 2
check "2" DEL a b
check "0" EXISTS a b
# redis-cli SUBSCRIBE receives what PUBLISH sends (it stays subscribed: stopped by timeout).
sub=$(mktemp)
(timeout 3 redis-cli -p "$PORT" SUBSCRIBE smoke-ch >"$sub" 2>&1 || true) &
subscriber=$!
for _ in $(seq 100); do [ "$(redis-cli -p "$PORT" PUBLISH smoke-ch hi)" = "1" ] && break; sleep 0.03; done
wait "$subscriber"
if grep -qx hi "$sub" && grep -qx message "$sub"; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: redis-cli SUBSCRIBE got: $(cat "$sub")"; fi
rm -f "$sub"
out=$(printf 'SET t hello\nGET t\n' | redis-cli -p "$PORT" || true)
[ "$out" = "$(printf 'OK\nhello')" ] && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: piped redis-cli: $out"; }
check "(integer) 7" -3 --no-raw GET n
check "1# \"name\" => \"kevin\"
2# \"tags\" => 
   1) \"a\"
   2) \"b\"" -3 --no-raw GET user:1
check '"{\"name\":\"kevin\",\"tags\":[\"a\",\"b\"]}"' --no-raw GET user:1
out=$(redis-cli -p "$PORT" INFO keyspace | tr -d '\r' || true)
echo "$out" | grep -q '^db0:keys=' && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: INFO keyspace: $out"; }
# redis-py, over RESP2 and RESP3.
if OKDB_PORT=$PORT python3 tests/python/test_redis_py.py; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: redis-py"; fi
# Graceful shutdown on SIGTERM.
kill -TERM $PID
for _ in $(seq 100); do kill -0 $PID 2>/dev/null || break; sleep 0.05; done
if kill -0 $PID 2>/dev/null; then fail=$((fail+1)); echo "FAIL: server ignored SIGTERM"; else pass=$((pass+1)); fi
# Restart on the same data directory: what was written is there (the default policy persists).
"$OKDB" server --port "$PORT" --dir "$DATA" 2>>/tmp/okdb-smoke.log &
PID=$!
for _ in $(seq 100); do redis-cli -p "$PORT" PING >/dev/null 2>&1 && break; sleep 0.05; done
check '"{\"name\":\"kevin\",\"tags\":[\"a\",\"b\"]}"' --no-raw GET user:1
check 'OK' SAVE
check 'Background saving started' BGSAVE
out=$(redis-cli -p "$PORT" INFO persistence | tr -d '\r' || true)
echo "$out" | grep -q '^appendfsync:everysec' && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: INFO persistence: $out"; }
check 'OK' CONFIG SET appendfsync always
out=$(redis-cli -p "$PORT" INFO persistence | tr -d '\r' || true)
echo "$out" | grep -q '^appendfsync:always' && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: INFO after CONFIG SET: $out"; }
check 'OK' SET after-policy-change 1
kill -TERM $PID
for _ in $(seq 100); do kill -0 $PID 2>/dev/null || break; sleep 0.05; done
echo "smoke: $pass passed, $fail failed"
[ "$fail" = 0 ]
