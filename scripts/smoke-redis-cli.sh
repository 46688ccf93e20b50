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
# Security: a password for default, an ACL file, a TLS port (certificates made here).
TLS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PKI=$(mktemp -d)
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 2 -subj "/CN=okdb smoke CA" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout "$PKI/server.key" -out "$PKI/server.csr" -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$PKI/ext"
openssl x509 -req -in "$PKI/server.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -out "$PKI/server.crt" -days 2 -extfile "$PKI/ext" 2>/dev/null
: >"$PKI/users.acl"
"$OKDB" server --port "$PORT" --appendonly no --requirepass smoke-admin --aclfile "$PKI/users.acl" \
  --tls-port "$TLS_PORT" --tls-cert-file "$PKI/server.crt" --tls-key-file "$PKI/server.key" 2>>/tmp/okdb-smoke.log &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$DATA" "$PKI"' EXIT
for _ in $(seq 100); do [ "$(redis-cli -p "$PORT" PING 2>&1)" = "NOAUTH Authentication required." ] && break; sleep 0.05; done
check "NOAUTH Authentication required." GET k
check "OK" -a smoke-admin --no-auth-warning ACL SETUSER cli on '>cli-pw' '~cli:*' '+@all'
check "OK" --user cli --pass cli-pw --no-auth-warning SET cli:1 v
check "NOPERM this user has no permissions to access one of the keys used as arguments: 'x'" --user cli --pass cli-pw --no-auth-warning SET x v
check "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.
NOAUTH Authentication required." --user cli --pass nope --no-auth-warning PING
check "OK" -a smoke-admin --no-auth-warning ACL SAVE
grep -q '^user cli on #\$argon2id\$' "$PKI/users.acl" && pass=$((pass+1)) || { fail=$((fail+1)); echo "FAIL: ACL SAVE wrote: $(cat "$PKI/users.acl")"; }
check "v" -p "$TLS_PORT" --tls --cacert "$PKI/ca.crt" --user cli --pass cli-pw --no-auth-warning GET cli:1
if OKDB_PORT=$PORT OKDB_TLS_PORT=$TLS_PORT OKDB_CA="$PKI/ca.crt" OKDB_ADMIN_PASSWORD=smoke-admin python3 tests/python/test_security.py; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: redis-py security"; fi
echo "smoke: $pass passed, $fail failed"
[ "$fail" = 0 ]
