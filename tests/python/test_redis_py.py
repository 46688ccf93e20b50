"""okdb through redis-py, the most used Python Redis client, over RESP2 and RESP3.

Run by scripts/test.sh against a fresh `okdb server` (OKDB_PORT). Plain asserts, no framework,
so it needs nothing but the `redis` package.
"""

import json
import os
import sys

import redis

PORT = int(os.environ["OKDB_PORT"])
passed = failed = 0


def check(name, got, want):
    global passed, failed
    if got == want:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: got {got!r}, want {want!r}")


def run(protocol):
    db = 10 + protocol  # keyspaces no other test uses
    r = redis.Redis(port=PORT, protocol=protocol, db=db, decode_responses=True)
    tag = f"resp{protocol}"
    check(f"{tag} ping", r.ping(), True)
    check(f"{tag} set", r.set("user:1", '{"name": "kevin", "tags": ["a", "b"]}'), True)
    check(f"{tag} type", r.type("user:1"), "dict")
    got = r.get("user:1")
    if protocol == 3:
        check(f"{tag} get dict", got, {"name": "kevin", "tags": ["a", "b"]})
    else:
        check(f"{tag} get dict", got, '{"name":"kevin","tags":["a","b"]}')
    check(f"{tag} set int", r.set("n", 41), True)
    check(f"{tag} incr", r.incr("n"), 42)
    check(f"{tag} get int", r.get("n"), 42 if protocol == 3 else "42")
    check(f"{tag} set nx", r.set("n", 1, nx=True), None)
    check(f"{tag} set ex", r.set("e", "v", ex=100), True)
    check(f"{tag} ttl", r.ttl("e"), 100)
    check(f"{tag} expire", r.expire("e", 50), True)
    check(f"{tag} persist", r.persist("e"), True)
    check(f"{tag} exists", r.exists("e", "n", "nope"), 2)
    check(f"{tag} delete", r.delete("e"), 1)
    check(f"{tag} getset", r.getset("n", "x"), 42 if protocol == 3 else "42")
    check(f"{tag} append", r.append("s", "ab"), 2)
    check(f"{tag} keys", sorted(r.keys("*")), ["n", "s", "user:1"])
    check(f"{tag} scan_iter", sorted(r.scan_iter(match="user:*", count=1)), ["user:1"])
    check(f"{tag} dbsize", r.dbsize(), 3)
    check(f"{tag} rename", r.rename("s", "s2"), True)
    check(f"{tag} randomkey", r.randomkey() in ("n", "s2", "user:1"), True)
    check(f"{tag} client name", (r.client_setname("py"), r.client_getname()), (True, "py"))
    check(f"{tag} info", r.info("keyspace")[f"db{db}"]["keys"], 3)
    check(f"{tag} config", r.config_get("maxclients"), {"maxclients": "10000"})
    try:
        r.incr("user:1")
        check(f"{tag} wrongtype", "no error", "error")
    except redis.ResponseError as e:
        check(f"{tag} wrongtype", str(e), "WRONGTYPE INCRBY expects int, float or string, found dict")
    # What a Redis client stores, it gets back: anything but a canonical number, true/false/null
    # or a complete JSON container is a string, byte for byte.
    for text in ["[1, 2", "1.50", "007", "True", json.dumps("hello"), "{'a': 1}", "1e5", "-0",
                 "123456789012345678901234567890", "héllo wörld", ""]:
        check(f"{tag} faithful set {text!r}", r.set("f", text), True)
        check(f"{tag} faithful get {text!r}", r.get("f"), text)
        check(f"{tag} faithful type {text!r}", r.type("f"), "string")
    check(f"{tag} json.loads", json.loads(r.get("f") or '""'), "")
    r.set("f", json.dumps("hello"))
    check(f"{tag} json round trip", json.loads(r.get("f")), "hello")
    r.set("f", "1.50")
    check(f"{tag} incrbyfloat", r.incrbyfloat("f", 1), 2.5)
    r.set("f", 1)
    check(f"{tag} append to a number", r.append("f", "2"), 2)
    check(f"{tag} incr after append", r.incr("f"), 13)
    check(f"{tag} strlen", r.strlen("f"), 2)
    r.set("g", "Hello World")
    check(f"{tag} getrange", r.getrange("g", -5, -1), "World")
    check(f"{tag} setrange", r.setrange("g", 6, "Redis"), 11)
    check(f"{tag} getex", (r.getex("g", ex=100), r.ttl("g")), ("Hello Redis", 100))
    check(f"{tag} expire nx", r.expire("g", 10, nx=True), False)
    check(f"{tag} expire gt", r.expire("g", 200, gt=True), True)
    check(f"{tag} copy", (r.copy("g", "g2"), r.get("g2")), (True, "Hello Redis"))
    check(f"{tag} getdel", (r.getdel("g2"), r.exists("g2")), ("Hello Redis", 0))
    check(f"{tag} lcs", (r.mset({"la": "ohmytext", "lb": "mynewtext"}), r.lcs("la", "lb")), (True, "mytext"))
    check(f"{tag} unlink", r.unlink("la", "lb", "nope"), 2)
    check(f"{tag} time", len(r.time()), 2)
    check(f"{tag} info stats", "keyspace_hits" in r.info("stats"), True)
    check(f"{tag} object encoding", r.object("encoding", "f"), "int")
    r.delete("f", "g")
    check(f"{tag} usable after errors", r.ping(), True)
    pipe = r.pipeline(transaction=False)
    for i in range(100):
        pipe.incr("counter")
    check(f"{tag} pipeline", pipe.execute()[-1], 100)


run(2)
run(3)
print(f"redis-py: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
