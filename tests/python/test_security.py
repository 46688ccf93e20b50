"""okdb's users, permissions and TLS through redis-py, over RESP2 and RESP3.

Run by scripts/smoke-redis-cli.sh against an `okdb server --requirepass … --tls-port …`
(OKDB_PORT, OKDB_TLS_PORT, OKDB_CA, OKDB_ADMIN_PASSWORD). Plain asserts, no framework.
"""

import os

import redis

from checks import check, finish, raises

PORT = int(os.environ["OKDB_PORT"])
TLS_PORT = int(os.environ["OKDB_TLS_PORT"])
CA = os.environ["OKDB_CA"]
ADMIN = os.environ["OKDB_ADMIN_PASSWORD"]
admin = redis.Redis(port=PORT, password=ADMIN, decode_responses=True)
check("admin ping", admin.ping(), True)
admin.acl_setuser("py", enabled=True, passwords=["+py-pw"], keys=["py:*"],
                  commands=["+@all", "-@dangerous"], reset=True)
check("acl whoami", admin.acl_whoami(), "default")
check("acl users", "py" in admin.acl_users(), True)

for protocol in (2, 3):
    tag = f"resp{protocol}"
    raises(f"{tag} no password", redis.AuthenticationError,
           lambda: redis.Redis(port=PORT, protocol=protocol).ping())
    raises(f"{tag} wrong password", redis.AuthenticationError,
           lambda: redis.Redis(port=PORT, protocol=protocol, username="py", password="no").ping())
    r = redis.Redis(port=PORT, protocol=protocol, username="py", password="py-pw",
                    decode_responses=True)
    check(f"{tag} whoami", r.acl_whoami(), "py")
    check(f"{tag} set own key", r.set("py:1", "x"), True)
    msg = raises(f"{tag} other key", redis.exceptions.NoPermissionError, lambda: r.set("other", "x"))
    check(f"{tag} names the key", msg is not None and "'other'" in msg, True)
    raises(f"{tag} dangerous", redis.exceptions.NoPermissionError, lambda: r.flushall())
    check(f"{tag} scan filtered", sorted(r.scan_iter()), ["py:1"])
    check(f"{tag} connection still usable", r.get("py:1"), "x")

tls = redis.Redis(port=TLS_PORT, ssl=True, ssl_ca_certs=CA, username="py", password="py-pw",
                  decode_responses=True)
check("tls set", tls.set("py:tls", "over tls"), True)
check("tls get", tls.get("py:tls"), "over tls")
tls3 = redis.Redis(port=TLS_PORT, ssl=True, ssl_ca_certs=CA, protocol=3, password=ADMIN,
                   decode_responses=True)
check("tls resp3", tls3.get("py:tls"), "over tls")
log = admin.acl_log()
check("acl log has the refusals", any(e.get("object") == "other" for e in log), True)

finish("redis-py security")
