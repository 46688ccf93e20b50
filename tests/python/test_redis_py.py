"""okdb through redis-py, the most used Python Redis client, over RESP2 and RESP3.

Run by scripts/test.sh against a fresh `okdb server` (OKDB_PORT). Plain asserts, no framework,
so it needs nothing but the `redis` package.
"""

import json
import os

import redis

from checks import check, finish

PORT = int(os.environ["OKDB_PORT"])


def run(protocol):
    db = 10 + protocol  # keyspaces no other test uses
    r = redis.Redis(port=PORT, protocol=protocol, db=db, decode_responses=True)
    tag = f"resp{protocol}"
    check(f"{tag} ping", r.ping(), True)
    check(f"{tag} set", r.set("user:1", '{"name": "kevin", "tags": ["a", "b"]}'), True)
    check(f"{tag} type", r.type("user:1"), "hash")
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
    collections(r, tag, protocol)
    pubsub(r, tag, protocol)


def pubsub(r, tag, protocol):
    """redis-py's pubsub(): get_message, listen, run_in_thread; keyspace notifications."""
    import threading
    import time

    p = r.pubsub()
    p.subscribe("news")
    p.psubscribe("n*")
    check(f"{tag} subscribe", p.get_message(timeout=2)["type"], "subscribe")
    check(f"{tag} psubscribe", p.get_message(timeout=2)["type"], "psubscribe")
    check(f"{tag} publish", r.publish("news", "hello"), 2)
    m = p.get_message(timeout=2)
    check(f"{tag} message", (m["type"], m["channel"], m["data"]), ("message", "news", "hello"))
    m = p.get_message(timeout=2)
    check(f"{tag} pmessage", (m["type"], m["pattern"], m["data"]), ("pmessage", "n*", "hello"))
    check(f"{tag} numsub", r.pubsub_numsub("news"), [("news", 1)])
    check(f"{tag} numpat", r.pubsub_numpat(), 1)
    check(f"{tag} channels", r.pubsub_channels(), ["news"])
    r.publish("news", "second")
    got = []
    for m in p.listen():
        if m["type"] == "message":
            got.append(m["data"])
            break
    check(f"{tag} listen", got, ["second"])
    p.close()

    seen = []
    done = threading.Event()

    def handler(m):
        seen.append(m["data"])
        done.set()

    p2 = r.pubsub()
    p2.subscribe(**{"jobs": handler})
    worker = p2.run_in_thread(sleep_time=0.01)
    deadline = time.time() + 5
    while r.publish("jobs", "job-1") == 0 and time.time() < deadline:
        time.sleep(0.01)
    done.wait(5)
    worker.stop()
    worker.join(5)
    check(f"{tag} run_in_thread", seen[:1], ["job-1"])
    p2.close()

    r.config_set("notify-keyspace-events", "KEA")
    p3 = r.pubsub()
    p3.psubscribe(f"__keyspace@{10 + protocol}__:watched")
    p3.get_message(timeout=2)
    r.set("watched", "1")
    r.incr("watched")
    r.delete("watched")
    events = []
    while len(events) < 3:
        m = p3.get_message(timeout=2)
        if m is None:
            break
        events.append(m["data"])
    check(f"{tag} keyspace events", events, ["set", "incrby", "del"])
    r.config_set("notify-keyspace-events", "")
    p3.close()


def collections(r, tag, protocol):
    """Redis's list, hash, set and sorted-set commands as redis-py sends and reads them."""
    three = protocol == 3
    num = (lambda n: n) if three else str  # RESP3 gives typed numbers, RESP2 their text
    r.delete("l", "l2", "h", "s", "s2", "z", "z2", "q")
    check(f"{tag} rpush", r.rpush("l", "a", "b", "c"), 3)
    check(f"{tag} lpush", r.lpush("l", "z"), 4)
    check(f"{tag} lrange", r.lrange("l", 0, -1), ["z", "a", "b", "c"])
    check(f"{tag} lpop count", r.lpop("l", 2), ["z", "a"])
    check(f"{tag} rpop", r.rpop("l"), "c")
    check(f"{tag} llen", r.llen("l"), 1)
    check(f"{tag} linsert", r.linsert("l", "before", "b", "x"), 2)
    check(f"{tag} lset lindex", (r.lset("l", 0, "y"), r.lindex("l", 0)), (True, "y"))
    check(f"{tag} lpos", r.lpos("l", "b"), 1)
    check(f"{tag} lmove", (r.lmove("l", "l2", "LEFT", "RIGHT"), r.lrange("l2", 0, -1)), ("y", ["y"]))
    check(f"{tag} lrem emptied", (r.lrem("l", 0, "b"), r.exists("l")), (1, 0))
    check(f"{tag} blpop served", (r.rpush("q", "job"), r.blpop(["nope", "q"], timeout=1)), (1, ["q", "job"] if three else ("q", "job")))
    check(f"{tag} blpop timeout", r.blpop("q", timeout=0.05), None)
    check(f"{tag} hset", r.hset("h", mapping={"a": "1", "b": "two"}), 2)
    check(f"{tag} hget", r.hget("h", "a"), num(1))
    check(f"{tag} hgetall", r.hgetall("h"), {"a": num(1), "b": "two"})
    check(f"{tag} hincrby", r.hincrby("h", "a", 5), 6)
    check(f"{tag} hincrbyfloat", r.hincrbyfloat("h", "f", 0.5), 0.5)
    check(f"{tag} hmget", r.hmget("h", ["b", "nope"]), ["two", None])
    check(f"{tag} hkeys hlen", (r.hkeys("h"), r.hlen("h")), (["a", "b", "f"], 3))
    check(f"{tag} hexists hdel", (r.hexists("h", "b"), r.hdel("h", "b", "x")), (True, 1))
    check(f"{tag} hscan_iter", sorted(k for k, _ in r.hscan_iter("h")), ["a", "f"])
    check(f"{tag} hash reads back natively", r.execute_command("GETITEM", "h", "a"), 6 if three else "6")
    check(f"{tag} sadd", r.sadd("s", "a", "b", "c"), 3)
    check(f"{tag} smembers", r.smembers("s"), {"a", "b", "c"})
    check(f"{tag} sismember", (r.sismember("s", "a"), r.smismember("s", ["a", "x"])), (True, [True, False]))
    check(f"{tag} srem scard", (r.srem("s", "c"), r.scard("s")), (1, 2))
    check(f"{tag} spop", r.spop("s") in ("a", "b"), True)
    r.sadd("s2", "b", "d")
    check(f"{tag} sunion", r.sunion("s", "s2") >= {"b", "d"}, True)
    check(f"{tag} sinterstore", r.sinterstore("s3", ["s", "s2"]) in (0, 1), True)
    check(f"{tag} sscan_iter", sorted(r.sscan_iter("s2")), ["b", "d"])
    # Large containers (past the small forms): scans by cursor see every element once
    # through removals, and random access agrees with what was stored.
    r.hset("bigh", mapping={f"f{i}": i for i in range(3000)})
    r.hdel("bigh", *[f"f{i}" for i in range(0, 3000, 7)])
    fields = [k for k, _ in r.hscan_iter("bigh", count=50)]
    check(f"{tag} big hscan once each", (len(fields), len(set(fields))), (3000 - 429, 3000 - 429))
    check(f"{tag} big hget", (r.hget("bigh", "f2999"), r.hget("bigh", "f7"), r.hlen("bigh")), (num(2999), None, 2571))
    r.sadd("bigs", *[f"m{i}" for i in range(3000)])
    r.srem("bigs", *[f"m{i}" for i in range(0, 3000, 3)])
    members = list(r.sscan_iter("bigs", count=50))
    check(f"{tag} big sscan once each", (len(members), len(set(members))), (2000, 2000))
    check(f"{tag} big srandmember", r.srandmember("bigs") in set(members), True)
    r.zadd("bigz", {f"m{i}": i % 100 for i in range(3000)})
    r.zadd("bigz", {"m5": 1000.5})
    check(f"{tag} big zset moves", (r.zscore("bigz", "m5"), r.zrank("bigz", "m5"), r.zcard("bigz")), (1000.5, 2999, 3000))
    check(f"{tag} big zrangebyscore", len(r.zrangebyscore("bigz", 10, 10)), 30)
    check(f"{tag} zadd", r.zadd("z", {"alice": 3.5, "bob": 1, "carol": 2}), 3)
    check(f"{tag} zrange withscores", r.zrange("z", 0, -1, withscores=True), [("bob", 1.0), ("carol", 2.0), ("alice", 3.5)] if not three else [["bob", 1.0], ["carol", 2.0], ["alice", 3.5]])
    check(f"{tag} zscore zrank", (r.zscore("z", "alice"), r.zrank("z", "alice")), (3.5, 2))
    check(f"{tag} zincrby", r.zincrby("z", 1, "bob"), 2.0)
    check(f"{tag} zrangebyscore", r.zrangebyscore("z", "(2", "+inf"), ["alice"])
    check(f"{tag} zrevrange", r.zrevrange("z", 0, 0), ["alice"])
    check(f"{tag} zcount zcard", (r.zcount("z", 2, 2), r.zcard("z")), (2, 3))
    check(f"{tag} zpopmin", r.zpopmin("z"), [("bob", 2.0)] if not three else ["bob", 2.0])
    check(f"{tag} bzpopmax", r.bzpopmax("z", timeout=1), ("z", "alice", 3.5) if not three else ["z", "alice", 3.5])
    check(f"{tag} zunionstore", r.zunionstore("z2", {"z": 2}), 1)
    check(f"{tag} zscan_iter", list(r.zscan_iter("z2")), [("carol", 4.0)])
    check(f"{tag} zset reads back natively", r.execute_command("SCORE", "z2", "carol"), 4.0 if three else "4")
    try:
        r.lpush("h", "x")
        check(f"{tag} wrongtype lpush", "no error", "error")
    except redis.ResponseError as e:
        check(f"{tag} wrongtype lpush", str(e), "WRONGTYPE LPUSH expects list or deque, found dict")
    pipe = r.pipeline(transaction=True)
    pipe.incr("tx").incr("tx")
    check(f"{tag} multi/exec", pipe.execute(), [1, 2])
    with r.pipeline() as pipe:
        pipe.watch("tx")
        r.set("tx", 10)  # another write to the watched key
        pipe.multi()
        pipe.incr("tx")
        try:
            pipe.execute()
            check(f"{tag} watch", "executed", "WatchError")
        except redis.WatchError:
            check(f"{tag} watch", "WatchError", "WatchError")
    # redis-py's WATCH retry helper.
    def add_two(p):
        v = int(p.get("wr") or 0)
        p.multi()
        p.set("wr", v + 2)
    r.set("wr", 1)
    r.transaction(add_two, "wr")
    check(f"{tag} transaction helper", r.get("wr"), 3 if three else "3")
    # Scripts: RUN is one all-or-nothing transaction.
    check(f"{tag} run", r.execute_command("RUN", "a = 7; [x * a for x in range(3)]"), [0, 7, 14])
    r.set("cnt", 5)
    check(f"{tag} run incr", r.execute_command("RUN", "SET('cnt', GET('cnt') + 1); GET('cnt')"), 6)
    check(f"{tag} run args", r.execute_command("RUN", "ARGS[0] * 2", 21), 42)
    try:
        r.execute_command("RUN", "SET('cnt', 0)\n1/0")
        check(f"{tag} run error", "no error", "error")
    except redis.ResponseError as e:
        check(f"{tag} run error", str(e), "ZeroDivisionError division by zero (line 2)")
    check(f"{tag} run rolled back", r.get("cnt"), 6 if three else "6")
    check(f"{tag} run strings", r.execute_command("RUN", "'-'.join(['a', 'b'])"), "a-b")
    r.set("double", "lambda x: x * 2")
    check(f"{tag} apply", r.execute_command("APPLY", "cnt", "double"), 12)
    check(f"{tag} function reads back", r.get("double"), "lambda x: x * 2")
    r.execute_command("BEGIN")
    r.execute_command("SET", "cnt", 1)
    r.execute_command("INCR", "nonnumeric-is-fine")
    check(f"{tag} block", r.execute_command("END"), ["OK", 1])
    check(f"{tag} type names", [r.type(k) for k in ("l2", "h", "s2", "z2", "tx")], ["list", "hash", "set", "zset", "string"])


run(2)
run(3)
finish("redis-py")
