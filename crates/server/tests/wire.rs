//! Wire tests: a real server on 127.0.0.1:0, real sockets, RESP2 and RESP3.
//!
//! `every_command_over_the_wire` runs a table of scripts over both protocols and checks that
//! every command of the command table appears in it, with its error cases.

use std::time::Duration;

use okdb_engine::{Config, COMMANDS};
use okdb_resp::{encode_command, split_inline, Frame};
use okdb_server::Background;

mod common;
use common::Raw;

fn start() -> Background {
    common::start_with(0)
}

/// Requests given as inline lines (split as redis-cli splits them).
impl Raw {
    fn send(&mut self, line: &str) {
        let words = split_inline(line).unwrap();
        let args: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
        let mut out = Vec::new();
        encode_command(&args, &mut out);
        self.send_raw(&out);
    }

    fn call(&mut self, line: &str) -> String {
        self.send(line);
        render(&self.read().expect("a reply"))
    }
}

fn render(f: &Frame) -> String {
    let list = |items: &[Frame]| items.iter().map(render).collect::<Vec<_>>().join(", ");
    match f {
        Frame::Simple(s) => format!("+{s}"),
        Frame::Error(e) => format!("-{e}"),
        Frame::Integer(i) => format!(":{i}"),
        Frame::Bulk(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Frame::Null => "nil".into(),
        Frame::Array(items) => format!("[{}]", list(items)),
        Frame::Set(items) => format!("~[{}]", list(items)),
        Frame::Push(items) => format!(">[{}]", list(items)),
        Frame::Map(pairs) => format!(
            "{{{}}}",
            pairs
                .iter()
                .map(|(k, v)| format!("{}: {}", render(k), render(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Frame::Double(d) => format!(",{d}"),
        Frame::Boolean(b) => format!("#{b}"),
        Frame::BigNumber(n) => format!("({n}"),
        Frame::Verbatim { text, .. } => format!("={text}"),
    }
}

/// (script, last reply in RESP2, last reply in RESP3; "" = same as RESP2).
const TABLE: &[(&str, &str, &str)] = &[
    ("PING", "+PONG", ""),
    ("PING hello", "\"hello\"", ""),
    (
        "PING a b",
        "-ERR wrong number of arguments for 'ping' command",
        "",
    ),
    ("ECHO 'hi there'", "\"hi there\"", ""),
    (
        "ECHO",
        "-ERR wrong number of arguments for 'echo' command",
        "",
    ),
    ("HELLO 9", "-NOPROTO unsupported protocol version", ""),
    ("AUTH pw", "-ERR AUTH <password> called without any password configured", ""),
    ("AUTH", "-ERR wrong number of arguments for 'auth' command", ""),
    ("AUTH a b c", "-ERR syntax error", ""),
    ("ACL", "-ERR wrong number of arguments for 'acl' command", ""),
    ("ACL GETUSER", "-ERR unknown subcommand or wrong number of arguments for 'ACL|getuser'", ""),
    ("ACL GETUSER nobody", "nil", ""),
    ("ACL LOG x", "-ERR value is not an integer or out of range", ""),
    ("ACL GENPASS 0", "-ERR ACL GENPASS argument must be the number of bits", ""),
    ("ACL DRYRUN nobody GET k", "-ERR User 'nobody' not found", ""),
    ("ACL DRYRUN default NOPE", "-ERR Command 'NOPE' not found", ""),
    ("ACL DRYRUN default GET", "-ERR wrong number of arguments for 'get' command", ""),
    ("ACL SETUSER u ~a; ACL DELUSER", "-ERR unknown subcommand or wrong number of arguments for 'ACL|deluser'", ""),
    ("CLIENT KILL ID x", "-ERR client-id should be greater than 0", ""),
    ("CLIENT KILL BOGUS 1", "-ERR syntax error", ""),
    ("RUN PING()", "\"PONG\"", ""),
    ("RUN ECHO('hi')", "\"hi\"", ""),
    ("RUN AUTH('x')", "-", ""),
    ("AUTH nobody pw", "-WRONGPASS invalid username-password pair", ""),
    ("ACL SETUSER u on >pw ~k* +get +auth +ping; AUTH u pw; SET k 1", "-NOPERM this user has no permissions to run the 'set' command", ""),
    ("ACL SETUSER u on nopass %R~k* +@all; AUTH u x; GET k; SET k 1", "-NOPERM this user has no permissions to access one of the keys used as arguments: 'k'", ""),
    ("ACL SETUSER u on nopass ~* +@all ks:a; AUTH u x; GET k", "-NOPERM this user has no permissions to access the keyspace '0'", ""),
    ("ACL SETUSER u on nopass ~* +@all ks:a; AUTH u x; USE a; SET k 1", "+OK", ""),
    ("ACL SETUSER u on nopass +@all resetchannels; AUTH u x; PUBLISH c m", "-NOPERM this user has no permissions to access one of the channels used as arguments: 'c'", ""),
    ("ACL SETUSER u on bogus", "-ERR Error in ACL SETUSER modifier 'bogus': Syntax error", ""),
    ("ACL SETUSER u on ~a* +get; ACL GETUSER u", "[\"flags\", [\"on\"], \"passwords\", [], \"commands\", \"-@all +get\", \"keys\", \"~a*\"", "{\"flags\": [\"on\"]"),
    ("ACL SETUSER u on ~a* +get; ACL LIST", "[\"user default on nopass ~* &* +@all\", \"user u on ~a* resetchannels -@all +get\"]", ""),
    ("ACL SETUSER u; ACL USERS", "[\"default\", \"u\"]", ""),
    ("ACL SETUSER u; ACL DELUSER u nobody", ":1", ""),
    ("ACL DELUSER default", "-ERR The 'default' user cannot be removed", ""),
    ("ACL WHOAMI", "\"default\"", ""),
    ("ACL CAT", "[\"keyspace\", \"read\", \"write\"", ""),
    ("ACL CAT pubsub", "[\"subscribe\"", ""),
    ("ACL CAT nope", "-ERR Unknown category 'nope'", ""),
    ("ACL GENPASS 32", "\"", ""),
    ("ACL SETUSER u on +get ~a*; ACL DRYRUN u GET b", "\"this user has no permissions to access one of the keys", ""),
    ("ACL SETUSER u on +get ~a*; ACL DRYRUN u GET a", "+OK", ""),
    ("AUTH nobody pw; AUTH nobody pw; ACL LOG 1", "[[\"count\", :2", "[{\"count\": :2"),
    ("AUTH nobody pw; ACL LOG 1", "[[\"count\", :1, \"reason\", \"auth\"", "[{\"count\": :1, \"reason\": \"auth\""),
    ("ACL LOG RESET", "+OK", ""),
    ("ACL SAVE", "-ERR This server is not configured with an ACL file", ""),
    ("ACL LOAD", "-ERR This server is not configured with an ACL file", ""),
    ("ACL HELP", "[+ACL <subcommand>", ""),
    ("ACL BOGUS", "-ERR unknown subcommand or wrong number of arguments for 'ACL|bogus'", ""),
    ("CLIENT KILL ID 999999", ":0", ""),
    ("CLIENT KILL 1.2.3.4:5", "-ERR No such client", ""),
    ("CLIENT SETNAME me; CLIENT GETNAME", "\"me\"", ""),
    ("CLIENT ID", ":", ""),
    ("CLIENT LIST", "\"id=", "=id="),
    ("CLIENT SETINFO LIB-NAME x", "+OK", ""),
    ("CLIENT BOGUS", "-ERR unknown CLIENT subcommand", ""),
    (
        "CLIENT SETINFO LIB-NAME 'x id=9'",
        "-ERR Client names cannot contain spaces",
        "",
    ),
    ("CLIENT REPLY ON", "+OK", ""),
    ("CLIENT REPLY MAYBE", "-ERR syntax error", ""),
    // pub/sub (the run resets the connection after a script that subscribes)
    ("PUBLISH ch hi", ":0", ""),
    ("SPUBLISH ch hi", ":0", ""),
    ("PUBLISH ch", "-ERR wrong number of arguments for 'publish' command", ""),
    ("SUBSCRIBE ch", "[\"subscribe\", \"ch\", :1]", ">[\"subscribe\", \"ch\", :1]"),
    ("SUBSCRIBE", "-ERR wrong number of arguments for 'subscribe' command", ""),
    ("SUBSCRIBE ch; UNSUBSCRIBE ch", "[\"unsubscribe\", \"ch\", :0]", ">[\"unsubscribe\", \"ch\", :0]"),
    ("UNSUBSCRIBE", "[\"unsubscribe\", nil, :0]", ">[\"unsubscribe\", nil, :0]"),
    ("SUBSCRIBE ch; GET k", "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", "nil"),
    ("SUBSCRIBE ch; PING", "[\"pong\", \"\"]", "+PONG"),
    ("SUBSCRIBE ch; RESET", "+RESET", ""),
    ("MULTI; SUBSCRIBE ch", "+QUEUED", ""),
    ("PSUBSCRIBE 'c*'; PUNSUBSCRIBE", "[\"punsubscribe\", \"c*\", :0]", ">[\"punsubscribe\", \"c*\", :0]"),
    ("SSUBSCRIBE s; SUNSUBSCRIBE s", "[\"sunsubscribe\", \"s\", :0]", ">[\"sunsubscribe\", \"s\", :0]"),
    ("PUBSUB NUMPAT", ":0", ""),
    ("PUBSUB CHANNELS", "[]", ""),
    ("PUBSUB NUMSUB a", "[\"a\", :0]", ""),
    ("PUBSUB SHARDCHANNELS", "[]", ""),
    ("PUBSUB BOGUS", "-ERR unknown subcommand 'BOGUS'. Try PUBSUB HELP.", ""),
    // the change feed (no journal here: the feed starts with the first listener)
    ("LISTEN '*'", "[\"listen\", :0]", ">[\"listen\", :0]"),
    ("SET k 1; LISTEN k KEYSPACE '*' NOVALUES MAXVALUE 10", "[\"listen\", :0]", ">[\"listen\", :0]"),
    ("LISTEN", "-ERR wrong number of arguments for 'listen' command", ""),
    ("LISTEN KEYSPACE x", "-ERR LISTEN needs at least one key pattern", ""),
    ("LISTEN k FROM 9", "-ERR seq 9 is ahead of the last change (0)", ""),
    ("LISTEN k FROM x", "-ERR value is not an integer", ""),
    ("LISTEN k MAXVALUE -1", "-ERR MAXVALUE takes a number, 0 or more", ""),
    ("LISTEN '['", "[\"listen\", :0]", ">[\"listen\", :0]"),
    ("UNLISTEN", "[\"unlisten\", :0]", ">[\"unlisten\", :0]"),
    ("SET k 5; GET k", "\"5\"", ":5"),
    ("SET k 1.5; GET k", "\"1.5\"", ",1.5"),
    ("SET k hello; GET k", "\"hello\"", ""),
    ("SET k '\"5\"'; GET k", "\"\\\"5\\\"\"", ""),
    ("CLIENT LITERALS strict; SET k '\"5\"'; GET k", "\"5\"", ""),
    ("SET k 1.50; GET k", "\"1.50\"", "\"1.50\""),
    ("SET k True; TYPE k", "+string", ""),
    ("CLIENT LITERALS strict; SET k True; TYPE k", "+bool", ""),
    ("CLIENT LITERALS; CLIENT LITERALS faithful", "+OK", ""),
    ("SET k true; GET k", "\"true\"", "#true"),
    ("SET k null; GET k", "\"null\"", "nil"),
    (
        "CLIENT LITERALS strict; SET k [1, 'a', [true]]; GET k",
        "\"[1,\\\"a\\\",[true]]\"",
        "[:1, \"a\", [#true]]",
    ),
    (
        "SET user:1 {\"name\": \"kevin\", \"tags\": [\"a\", \"b\"]}; GET user:1",
        "\"{\\\"name\\\":\\\"kevin\\\",\\\"tags\\\":[\\\"a\\\",\\\"b\\\"]}\"",
        "{\"name\": \"kevin\", \"tags\": [\"a\", \"b\"]}",
    ),
    (
        "CLIENT LITERALS strict; SET k {1, 2}; GET k",
        "\"{\\\"$set\\\":[1,2]}\"",
        "~[:1, :2]",
    ),
    (
        "SET k set([3, 1]); GET k",
        "\"{\\\"$set\\\":[1,3]}\"",
        "~[:1, :3]",
    ),
    ("CLIENT LITERALS strict; SET k '[1, 2'", "-ERR invalid literal", ""),
    ("CLIENT LITERALS strict; SET k 99999999999999999999", "-ERR", ""),
    ("SET k '[1, 2'; GET k", "\"[1, 2\"", ""),
    ("SET k 99999999999999999999; GET k", "\"99999999999999999999\"", ""),
    ("SET k {1, 2}; TYPE k", "+string", ""),
    (
        "SET a 1 b 2; GET a b c",
        "[\"1\", \"2\", nil]",
        "[:1, :2, nil]",
    ),
    ("SET a 1 b", "-ERR syntax error: SET takes key value pairs", ""),
    ("SET k 1 NX; SET k 2 NX", "nil", ""),
    ("SET k 1; SET k 2 XX GET", "\"1\"", ":1"),
    ("SET k 1 EX 100; TTL k", ":100", ""),
    ("SET k 1 PX 5000; TTL k", ":5", ""),
    ("SET k 1 EX 10; SET k 2 KEEPTTL; TTL k", ":10", ""),
    (
        "SET k 1 EX -5",
        "-ERR invalid expire time in 'set' command",
        "",
    ),
    (
        "SET k",
        "-ERR wrong number of arguments for 'set' command",
        "",
    ),
    (
        "GET",
        "-ERR wrong number of arguments for 'get' command",
        "",
    ),
    ("GETSET k 1; GETSET k 2", "\"1\"", ":1"),
    ("INCR n; INCR n 10; DECR n 3", ":8", ""),
    ("INCR f 0.5; INCR f 0.25", "\"0.75\"", ",0.75"),
    (
        "SET n 9223372036854775807; INCR n",
        "-ERR increment or decrement would overflow",
        "",
    ),
    (
        "SET s abc; INCR s",
        "-ERR value is not an integer or out of range",
        "",
    ),
    (
        "SET s [1]; DECR s",
        "-WRONGTYPE DECR expects int, float or string, found list",
        "",
    ),
    (
        "APPEND s hello; APPEND s ' world'; GET s",
        "\"hello world\"",
        "",
    ),
    (
        "SET l [1]; APPEND l [2]; GET l",
        "\"[1,[2]]\"",
        "[:1, [:2]]",
    ),
    (
        "SET n 1; APPEND n x; GET n",
        "\"1x\"",
        "",
    ),
    ("EXTEND l [1, 2]; EXTEND l [3]", ":3", ""),
    (
        "SET n 1; EXTEND n [1]",
        "-WRONGTYPE EXTEND expects list, string or bytes, found int",
        "",
    ),
    ("SET l [1, 2, 3]; LEN l", ":3", ""),
    (
        "SET n 1; LEN n",
        "-WRONGTYPE LEN expects string, bytes, list, dict, set, sortedset, deque or pqueue, found int",
        "",
    ),
    ("SET a 1 b 2; DEL a b c", ":2", ""),
    (
        "DEL",
        "-ERR wrong number of arguments for 'del' command",
        "",
    ),
    ("SET a 1; EXISTS a b a", ":2", ""),
    ("SET a 1 b x; TYPE a b c", "[+string, +string, +none]", ""),
    ("SET a 1 b x; CLIENT LITERALS strict; TYPE a b c", "[+int, +string, +none]", ""),
    ("SET a {}; TYPE a", "+hash", ""),
    ("SET a 1 EX 50; RENAME a b; TTL b", ":50", ""),
    ("RENAME nope x", "-ERR no such key", ""),
    ("SET only 1; RANDOMKEY", "\"only\"", ""),
    ("RANDOMKEY", "nil", ""),
    (
        "SET user:1 1 user:2 2 x 3; KEYS user:[1]",
        "[\"user:1\"]",
        "",
    ),
    // Redis's reading of an unclosed `[`: a class of the rest of the pattern.
    ("SET '[' 1 '[[' 2 a 3; KEYS '[['", "[\"[\"]", ""),
    ("SET '[' 1; KEYS '['", "[]", ""),
    ("SET '[' 1 a 2; SCAN 0 MATCH '[['", "[\"0\", [\"[\"]]", ""),
    ("SET a 1; SCAN 0", "[\"0\", [\"a\"]]", ""),
    (
        "SCAN 0 COUNT x",
        "-ERR value is not an integer or out of range",
        "",
    ),
    ("SCAN 0 BOGUS 1", "-ERR syntax error", ""),
    ("SET a 1 b 2; DBSIZE", ":2", ""),
    ("SET k 1; EXPIRE k 100; TTL k", ":100", ""),
    (
        "SET k 1; EXPIRE k 2999-01-01T00:00:00Z; EXPIRE k 29990101000000",
        ":1",
        "",
    ),
    (
        "SET k 1; EXPIRE k tomorrow",
        "-ERR value is not an integer or out of range (nor a unix time or a date: 'tomorrow' is not YYYYMMDDHHMMSS or ISO 8601)",
        "",
    ),
    (
        "SET k 1; EXPIRE k 2026-11-28T10:00:00+99:00",
        "-ERR invalid UTC offset '+99:00' in '2026-11-28T10:00:00+99:00': hours must be 00-23 and minutes 00-59",
        "",
    ),
    (
        "SET k 1; EXPIRE k 2026-11-28T10:00:00-99:59",
        "-ERR invalid UTC offset '-99:59' in '2026-11-28T10:00:00-99:59': hours must be 00-23 and minutes 00-59",
        "",
    ),
    (
        "SET k 1; EXPIRE k 2026-11-28T10:00:00+99:99",
        "-ERR invalid UTC offset '+99:99' in '2026-11-28T10:00:00+99:99': hours must be 00-23 and minutes 00-59",
        "",
    ),
    (
        "SET k 1; EXPIRE k 2999-01-01T00:00:00+23:59; EXPIRETIME k",
        ":32472057660",
        "",
    ),
    ("SET k 1; EXPIRE k 0; EXISTS k", ":0", ""),
    ("SET k 1 EX 9; PERSIST k; TTL k", ":-1", ""),
    ("TTL a b", "[:-2, :-2]", ""),
    ("USE users; SET k 1; USING", "\"users\"", ""),
    ("USE 'bad name'", "-ERR invalid keyspace name", ""),
    ("USE ks9; SET a 1; KEYSPACES", "[\"0\", \"ks9\"]", ""),
    ("SET k 0; SELECT 5; GET k", "nil", ""),
    ("SELECT -1", "-ERR DB index is out of range", ""),
    ("INFO keyspace", "\"# Keyspace", "=# Keyspace"),
    (
        "INFO server clients memory stats",
        "\"# Server",
        "=# Server",
    ),
    ("CONFIG GET save", "[\"save\", \"\"]", "{\"save\": \"\"}"),
    (
        "CONFIG SET hz 20; CONFIG GET hz",
        "[\"hz\", \"20\"]",
        "{\"hz\": \"20\"}",
    ),
    (
        "CONFIG SET port 1",
        "-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config",
        "",
    ),
    ("CONFIG FOO", "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.", ""),
    ("CONFIG HELP", "[\"CONFIG <subcommand>", ""),
    ("CONFIG RESETSTAT; INFO stats", "\"# Stats\\r\\ntotal_connections_received:0", "=# Stats"),
    ("CONFIG REWRITE", "-ERR The server is running without a config file", ""),
    ("CONFIG SET maxmemory 10mb; CONFIG GET maxmemory", "[\"maxmemory\", \"10485760\"]", "{\"maxmemory\": \"10485760\"}"),
    ("CONFIG SET maxmemory-policy lru", "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')", ""),
    ("CONFIG SET maxmemory 1; SET k v", "-OOM command not allowed when used memory > 'maxmemory'.", ""),
    ("CONFIG SET maxmemory 1; SET k v; GET k; DEL k", ":0", ""),
    ("TIME", "[\"1", ""),
    ("LASTSAVE", ":1", ""),
    ("SET k hello; OBJECT ENCODING k", "\"embstr\"", ""),
    ("SET k 12; OBJECT ENCODING k", "\"int\"", ""),
    ("SET k v; OBJECT IDLETIME k", ":0", ""),
    ("SET k v; OBJECT FREQ k", "-ERR An LFU maxmemory policy is not selected", ""),
    ("CONFIG SET maxmemory-policy allkeys-lfu; SET k v; OBJECT FREQ k", ":5", ""),
    ("OBJECT ENCODING nope", "nil", ""),
    ("RPUSH l a b 7; OBJECT ENCODING l", "\"packed-btree\"", ""),
    ("RPUSH l a [1] b; OBJECT ENCODING l", "\"rrb-vector\"", ""),
    ("RPUSH l a b; RPUSH l [1]; LPUSH l z; LRANGE l 0 -1", "[\"z\", \"a\", \"b\", \"[1]\"]", "[\"z\", \"a\", \"b\", [:1]]"),
    ("RPUSH l a 7 b 7; LREM l 0 7; LINSERT l AFTER b c; LPOS l c; LRANGE l 0 -1", "[\"a\", \"b\", \"c\"]", ""),
    ("OBJECT FOO k", "-ERR unknown subcommand or wrong number of arguments for 'FOO'. Try OBJECT HELP.", ""),
    ("OBJECT HELP", "[\"OBJECT <subcommand>", ""),
    ("SET k hello; MEMORY USAGE k", ":", ""),
    ("MEMORY USAGE nope", "nil", ""),
    ("MEMORY DOCTOR", "-ERR unknown subcommand or wrong number of arguments for 'DOCTOR'. Try MEMORY HELP.", ""),
    ("SET k hello; STRLEN k; STRLEN nope", ":0", ""),
    ("SET k 12345; STRLEN k", ":5", ""),
    ("SET k [1]; STRLEN k", "-WRONGTYPE STRLEN expects string or number, found list", ""),
    ("SET k 'Hello World'; GETRANGE k -5 -1", "\"World\"", ""),
    ("SET k 'Hello World'; SUBSTR k 0 4", "\"Hello\"", ""),
    ("GETRANGE nope 0 -1", "\"\"", ""),
    ("GETRANGE k a 1", "-ERR value is not an integer or out of range", ""),
    ("SET k [1]; GETRANGE k 0 1", "-WRONGTYPE GETRANGE expects string or number, found list", ""),
    ("SET k [1]; SETRANGE k 0 x", "-WRONGTYPE SETRANGE expects string or number, found list", ""),
    ("SET k [1]; INCRBYFLOAT k 1", "-WRONGTYPE INCRBYFLOAT expects int, float or string, found list", ""),
    ("SET a [1]; LCS a b", "-ERR The specified keys must contain string values", ""),
    ("LCS a b NOPE", "-ERR syntax error", ""),
    ("GETDEL", "-ERR wrong number of arguments for 'getdel' command", ""),
    ("MSETNX a 1 b", "-ERR wrong number of arguments for 'msetnx' command", ""),
    ("RENAMENX nope x", "-ERR no such key", ""),
    ("EXPIRETIME a b", "-ERR wrong number of arguments for 'expiretime' command", ""),
    ("EXPIREAT a x", "-ERR value is not an integer or out of range", ""),
    ("UNLINK", "-ERR wrong number of arguments for 'unlink' command", ""),
    ("TIME now", "-ERR wrong number of arguments for 'time' command", ""),
    ("COPY a b DB x", "-ERR value is not an integer or out of range", ""),
    ("SET a 1; COPY a b NOPE", "-ERR syntax error", ""),
    ("MOVE a 99", "-ERR DB index is out of range", ""),
    ("SWAPDB 0 99", "-ERR DB index is out of range", ""),
    ("CLIENT LITERALS loose", "-ERR CLIENT LITERALS takes strict or faithful", ""),
    ("SET k 'Hello World'; SETRANGE k 6 Redis; GET k", "\"Hello Redis\"", ""),
    ("SETRANGE k 3 x; GET k", "\"\\0\\0\\0x\"", ""),
    ("SETRANGE k -1 x", "-ERR offset is out of range", ""),
    // Bits: bit 0 is the first byte's highest; a string reads as zeros past its end.
    ("SETBIT k 7 1; SETBIT k 1 1; GET k", "\"A\"", ""),
    ("SETBIT k 7 1; SETBIT k 7 0", ":1", ""),
    ("SETBIT k 17 1; GET k", "\"\\0\\0@\"", ""),
    ("SET k 'A'; EXPIRE k 100; SETBIT k 6 1; TTL k", ":100", ""),
    ("SETBIT k -1 1", "-ERR bit offset is not an integer or out of range", ""),
    ("SETBIT k 0 2", "-ERR bit is not an integer or out of range", ""),
    ("SETBIT k 7 1; SETBIT k 8 1; SETBIT k 9 1; BITCOUNT k", ":3", ""),
    ("SETBIT k 7 1; SETBIT k 8 1; SETBIT k 9 1; STRLEN k", ":2", ""),
    ("SET k [1]; SETBIT k 0 1", "-WRONGTYPE SETBIT expects string or number, found list", ""),
    ("SET k 'A'; GETBIT k 1", ":1", ""),
    ("SET k 'A'; GETBIT k 1000", ":0", ""),
    ("GETBIT nokey 3", ":0", ""),
    ("SET k foobar; BITCOUNT k", ":26", ""),
    ("SET k foobar; BITCOUNT k 1 1", ":6", ""),
    ("SET k foobar; BITCOUNT k 5 30 BIT", ":17", ""),
    ("SET k foobar; BITCOUNT k -6 -7", ":0", ""),
    ("SET k foobar; BITCOUNT k 0", "-ERR syntax error", ""),
    ("SET k foobar; BITCOUNT k 0 1 WORD", "-ERR syntax error", ""),
    ("SET k \"\\x00\\x0f\"; BITPOS k 1", ":12", ""),
    ("SET k \"\\x00\\x0f\\x01\"; BITPOS k 1 2 -1 BYTE", ":23", ""),
    ("SET k \"\\x00\\x0f\\x01\"; BITPOS k 1 5 13 BIT", ":12", ""),
    ("SET k \"\\x00\\x0f\\x01\"; BITPOS k 0 12 15 BIT", ":-1", ""),
    ("SET a \"\\x00\\x00\"; BITOP NOT k a; BITPOS k 0", ":16", ""),
    ("SET a \"\\x00\\x00\"; BITOP NOT k a; BITPOS k 0 0 -1", ":-1", ""),
    ("BITPOS nokey 0", ":0", ""),
    ("BITPOS nokey 1", ":-1", ""),
    ("SET k a; BITPOS k 2", "-ERR The bit argument must be 1 or 0.", ""),
    ("SET a abc; SET b 'a'; BITOP AND d a b; GET d", "\"a\\0\\0\"", ""),
    ("SET a abc; BITOP OR d a nokey; GET d", "\"abc\"", ""),
    ("SET a \"\\x0f\"; BITOP NOT d a; BITPOS d 0", ":4", ""),
    ("SET a x; BITOP NOT d a a", "-ERR BITOP NOT must be called with a single source key.", ""),
    ("SET d x; BITOP XOR d nokey other", ":0", ""),
    ("SET d x; BITOP XOR d nokey; EXISTS d", ":0", ""),
    ("BITOP NAND d a", "-ERR syntax error", ""),
    ("SET k [1]; GETBIT k 0", "-WRONGTYPE GETBIT expects string or number, found list", ""),
    ("SET k [1]; BITCOUNT k", "-WRONGTYPE BITCOUNT expects string or number, found list", ""),
    ("SET k [1]; BITPOS k 1", "-WRONGTYPE BITPOS expects string or number, found list", ""),
    ("SET k [1]; BITOP AND d k", "-WRONGTYPE BITOP expects string or number, found list", ""),
    ("SET k [1]; BITFIELD_RO k GET u8 0", "-WRONGTYPE BITFIELD expects string or number, found list", ""),
    ("SETBIT k 1", "-ERR wrong number of arguments for 'setbit' command", ""),
    ("GETBIT k", "-ERR wrong number of arguments for 'getbit' command", ""),
    ("GETBIT k x", "-ERR bit offset is not an integer or out of range", ""),
    ("BITCOUNT k x 1", "-ERR value is not an integer or out of range", ""),
    ("BITPOS k", "-ERR wrong number of arguments for 'bitpos' command", ""),
    ("BITPOS k 1 0 1 BIT x", "-ERR syntax error", ""),
    ("BITOP AND d", "-ERR wrong number of arguments for 'bitop' command", ""),
    ("BITFIELD", "-ERR wrong number of arguments for 'bitfield' command", ""),
    ("BITFIELD k SET u8 0 x", "-ERR value is not an integer or out of range", ""),
    ("SETBIT k 9 1; BITFIELD k GET u8 #1 GET u4 8", "[:64, :4]", ""),
    ("BITFIELD k SET u5 7 23 GET u5 7 GET i5 7 GET u8 #1", "[:0, :23, :-9, :112]", ""),
    ("BITFIELD k INCRBY u8 0 300 OVERFLOW SAT INCRBY u8 8 300 OVERFLOW FAIL INCRBY u8 16 300", "[:44, :255, nil]", ""),
    ("BITFIELD k SET i8 #2 -1; STRLEN k", ":3", ""),
    ("BITFIELD nokey GET u8 0 GET i64 100; EXISTS nokey", ":0", ""),
    ("BITFIELD k GET u64 0", "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.", ""),
    ("BITFIELD k GET u8 -1", "-ERR bit offset is not an integer or out of range", ""),
    ("BITFIELD k OVERFLOW LOUD", "-ERR Invalid OVERFLOW type specified", ""),
    ("BITFIELD k GET u8", "-ERR syntax error", ""),
    ("SET k [1]; BITFIELD k GET u8 0", "-WRONGTYPE BITFIELD expects string or number, found list", ""),
    ("SET k A; BITFIELD_RO k GET u8 0", "[:65]", ""),
    ("BITFIELD_RO k SET u8 0 1", "-ERR BITFIELD_RO only supports the GET subcommand", ""),
    ("SET k v; GETDEL k; EXISTS k", ":0", ""),
    ("SET k v; GETEX k EX 100; TTL k", ":100", ""),
    ("SET k v EX 100; GETEX k PERSIST; TTL k", ":-1", ""),
    ("SET k v; GETEX k EX 10 PX 10", "-ERR syntax error", ""),
    ("MSETNX a 1 b 2; MSETNX b 3 c 4; MGET a b c", "[\"1\", \"2\", nil]", "[:1, :2, nil]"),
    ("MSET a ohmytext b mynewtext; LCS a b", "\"mytext\"", ""),
    ("MSET a ohmytext b mynewtext; LCS a b LEN", ":6", ""),
    ("MSET a ohmytext b mynewtext; LCS a b IDX MINMATCHLEN 4 WITHMATCHLEN", "[\"matches\", [[[:4, :7], [:5, :8], :4]], \"len\", :6]", "{\"matches\": [[[:4, :7], [:5, :8], :4]], \"len\": :6}"),
    ("LCS a b LEN IDX", "-ERR If you want both the length and indexes, please just use IDX.", ""),
    ("SET a v; COPY a b; GET b", "\"v\"", ""),
    ("SET a v; COPY a a", "-ERR source and destination objects are the same", ""),
    ("SET a v; COPY a b DB 3; SELECT 3; GET b", "\"v\"", ""),
    ("SET a v; COPY a b DB 99", "-ERR DB index is out of range", ""),
    ("SET a v; RENAMENX a b; SET c w; RENAMENX b c", ":0", ""),
    ("SET a 1; EXPIREAT a 4102444800; EXPIRETIME a", ":4102444800", ""),
    ("SET a 1; PEXPIREAT a 4102444800123; PEXPIRETIME a", ":4102444800123", ""),
    ("SET a 1; EXPIRE a 100 NX; EXPIRE a 200 NX; EXPIRE a 50 GT; EXPIRE a 300 GT; TTL a", ":300", ""),
    ("SET a 1; EXPIRE a 100 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible", ""),
    ("SET a 1; EXPIRE a 100 AB", "-ERR Unsupported option AB", ""),
    ("SET a 1 b 2; UNLINK a b c", ":2", ""),
    ("SET a 1; TOUCH a b", ":1", ""),
    ("SET a 1 EX 100; MOVE a 2; EXISTS a; SELECT 2; TTL a", ":100", ""),
    ("MOVE a 0", "-ERR source and destination objects are the same", ""),
    ("SET a 1; SELECT 1; SET b 2; SWAPDB 0 1; GET a", "\"1\"", ":1"),
    ("SWAPDB 0 x", "-ERR invalid second DB index", ""),
    ("SET a 1; SELECT 1; SET b 2; FLUSHDB; DBSIZE; SELECT 0; DBSIZE", ":1", ""),
    ("SET a 1; SELECT 1; SET b 2; FLUSHALL ASYNC; DBSIZE; SELECT 0; DBSIZE", ":0", ""),
    ("FLUSHALL NOW", "-ERR syntax error", ""),
    ("INFO commandstats", "\"# Commandstats\\r\\ncmdstat_info:calls=", "=# Commandstats"),
    ("GET nope; INFO stats", "\"# Stats", "=# Stats"),
    ("NOPE; INFO errorstats", "\"# Errorstats\\r\\nerrorstat_ERR:count=1", "=# Errorstats"),
    (
        "SAVE",
        "-ERR persistence is off (appendonly no): nothing to save",
        "",
    ),
    ("BGSAVE", "-ERR persistence is off", ""),
    ("SAVE now", "-ERR wrong number of arguments for 'save' command", ""),
    ("BGSAVE NOW", "-ERR syntax error", ""),
    ("BGSAVE SCHEDULE extra", "-ERR syntax error", ""),
    ("INFO persistence", "\"# Persistence", "=# Persistence"),
    (
        "CONFIG SET appendfsync always; CONFIG GET appendfsync",
        "[\"appendfsync\", \"always\"]",
        "{\"appendfsync\": \"always\"}",
    ),
    (
        "CONFIG SET appendfsync sometimes",
        "-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument must be one of always, everysec, no",
        "",
    ),
    ("COMMAND COUNT", ":", ""),
    (
        "COMMAND DOCS get",
        "[\"get\", [\"summary\"",
        "{\"get\": {\"summary\"",
    ),
    ("COMMAND INFO get", "[[\"get\", :-2", ""),
    ("COMMAND FOO", "-ERR unknown COMMAND subcommand", ""),
    ("SHUTDOWN ABORT", "-ERR No shutdown in progress.", ""),
    ("SHUTDOWN NOSAVE SAVE", "-ERR syntax error", ""),
    ("SHUTDOWN LATER", "-ERR syntax error", ""),
    ("MULTI; SAVE", "-ERR Command not allowed inside a transaction", ""),
    ("MULTI; SET a 1; SHUTDOWN; EXEC", "-EXECABORT", ""),
    ("COMMAND GETKEYS get k", "[\"k\"]", ""),
    ("COMMAND GETKEYS mset a 1 b 2", "[\"a\", \"b\"]", ""),
    (
        "COMMAND GETKEYS sort abc store invalid store stillbad store def",
        "[\"abc\", \"def\"]",
        "",
    ),
    ("COMMAND GETKEYS sort_ro abc", "[\"abc\"]", ""),
    (
        "COMMAND GETKEYS zunionstore dst 2 a b weights 1 2",
        "[\"dst\", \"a\", \"b\"]",
        "",
    ),
    ("COMMAND GETKEYS ping", "-ERR The command has no key arguments", ""),
    ("COMMAND GETKEYS nosuch k", "-ERR Invalid command specified", ""),
    (
        "COMMAND GETKEYS get",
        "-ERR Invalid number of arguments specified for command",
        "",
    ),
    (
        "COMMAND GETKEYS",
        "-ERR wrong number of arguments for 'command|getkeys' command",
        "",
    ),
    (
        "NOSUCH a",
        "-ERR unknown command 'NOSUCH', with args beginning with: 'a'",
        "",
    ),
    ("INCRBY n 5; INCRBY n -2", ":3", ""),
    (
        "INCRBY n",
        "-ERR wrong number of arguments for 'incrby' command",
        "",
    ),
    (
        "SET s x; INCRBY s 1",
        "-ERR value is not an integer or out of range",
        "",
    ),
    ("DECRBY n 5", ":-5", ""),
    ("SET n 10; INCRBYFLOAT n 1.5", "\"11.5\"", ""),
    ("SET n 10; INCRBYFLOAT n 1.5; GET n", "\"11.5\"", ",11.5"),
    ("INCRBYFLOAT n abc", "-ERR value is not a valid float", ""),
    ("SET a 1; MGET a", "[\"1\"]", "[:1]"),
    (
        "MSET a 1 b [2]; MGET a b c",
        "[\"1\", \"[2]\", nil]",
        "[:1, [:2], nil]",
    ),
    (
        "MSET a 1 b",
        "-ERR wrong number of arguments for 'mset' command",
        "",
    ),
    ("SETNX k 1; SETNX k 2", ":0", ""),
    ("SETEX k 100 v; TTL k", ":100", ""),
    (
        "SETEX k 0 v",
        "-ERR invalid expire time in 'setex' command",
        "",
    ),
    ("PSETEX k 100000 v; TTL k", ":100", ""),
    (
        "PSETEX k x v",
        "-ERR value is not an integer or out of range",
        "",
    ),
    (
        "SETNX k",
        "-ERR wrong number of arguments for 'setnx' command",
        "",
    ),
    (
        "SETEX k 10",
        "-ERR wrong number of arguments for 'setex' command",
        "",
    ),
    (
        "MGET",
        "-ERR wrong number of arguments for 'mget' command",
        "",
    ),
    (
        "PTTL a b",
        "-ERR wrong number of arguments for 'pttl' command",
        "",
    ),
    (
        "SET s x; INCRBYFLOAT s 1",
        "-ERR value is not a valid float",
        "",
    ),
    (
        "SET s {}; DECRBY s 1",
        "-WRONGTYPE DECRBY expects int, float or string, found dict",
        "",
    ),
    ("SET k v; PEXPIRE k 100000; TTL k", ":100", ""),
    (
        "PEXPIRE k x",
        "-ERR value is not an integer or out of range",
        "",
    ),
    ("SET k v PX 100500; PTTL k", ":100", ""),
    ("PTTL nope", ":-2", ""),
    (
        "SET k v; PEXPIRE k 9223372036854775807",
        "-ERR invalid expire time in 'pexpire' command",
        "",
    ),
    (
        "SET k v EX 18000000000000000",
        "-ERR invalid expire time in 'set' command",
        "",
    ),
    (
        "SET k v; EXPIRE k 9300000000000000",
        "-ERR invalid expire time in 'expire' command",
        "",
    ),
    // sequences and containers (native verbs over the operations layer)
    ("SET l [1,2,3]; LEN l k; LEN l", ":3", ""),
    ("SET l [1,2,3]; LEN l nope", "[:3, :0]", ""),
    ("SET l [1,2,3]; POP l; GET l", "\"[1,2]\"", "[:1, :2]"),
    ("SET l [1,2,3]; POP l 0", "\"1\"", ":1"),
    ("SET l [1]; POP l 5", "-ERR index out of range", ""),
    ("SET l []; POP l; GET l", "\"[]\"", "[]"),
    ("POP nope", "nil", ""),
    ("SET s hello; POP s", "-WRONGTYPE POP expects list or deque, found string", ""),
    ("SET l [1,2]; POPLEFT l", "\"1\"", ":1"),
    ("SET l [1]; POPLEFT l x", "-ERR syntax error", ""),
    ("PUSHLEFT l a b; GET l", "\"[\\\"b\\\",\\\"a\\\"]\"", "[\"b\", \"a\"]"),
    ("SET l [1,3]; INSERT l 1 2; GET l", "\"[1,2,3]\"", "[:1, :2, :3]"),
    ("SET l [1]; INSERT l -100 0; GET l", "\"[0,1]\"", "[:0, :1]"),
    ("SET s helo; INSERT s 3 l; GET s", "\"hello\"", ""),
    ("INSERT nope 0 x", ":0", ""),
    ("SET l [1]; INSERT l x 0", "-ERR value is not an integer or out of range", ""),
    ("SET l [0,1,2,3,4,5]; GETSLICE l 1 -1 2", "\"[1,3]\"", "[:1, :3]"),
    ("SET l [0,1,2]; GETSLICE l none none -1", "\"[2,1,0]\"", "[:2, :1, :0]"),
    ("SET s hello; GETSLICE s 1 3", "\"el\"", ""),
    ("SET l [1]; GETSLICE l 0 1 0", "-ERR slice step cannot be zero", ""),
    ("SET l [1,2,3,4]; SETSLICE l 1 3 [9]; GET l", "\"[1,9,4]\"", "[:1, :9, :4]"),
    ("SETSLICE nope 0 1 [1]", "-ERR no such key", ""),
    ("SET l [1,2]; SETSLICE l 0 1 x", "-ERR a list's slice takes a list of items, got string", ""),
    ("SET l [0,1,2,3,4]; DELSLICE l 0 5 2; GET l", "\"[1,3]\"", "[:1, :3]"),
    ("SET l [1,2,1,1]; COUNT l 1", ":3", ""),
    ("SET s banana; COUNT s an", ":2", ""),
    ("SET n 5; COUNT n 5", "-WRONGTYPE COUNT expects string, bytes, list or deque, found int", ""),
    ("SET l [5,6,7]; INDEX l 7; INDEX l 8", "nil", ""),
    ("SET l [5,6,7]; INDEX l 7", ":2", ""),
    ("SET l [1,2,1,3,1]; REMOVE l 1 -2; GET l", "\"[1,2,3]\"", "[:1, :2, :3]"),
    ("SET l [3,1,2]; SORT l REVERSE; GET l", "\"[3,2,1]\"", "[:3, :2, :1]"),
    ("SET l [3,1,2]; SORT l INPLACE; GET l", "\"[1,2,3]\"", "[:1, :2, :3]"),
    ("SET l '[{\"n\": \"b\", \"age\": 40}, {\"n\": \"a\", \"age\": 30}]'; SORT l BY age INPLACE; GETITEM l 0", "\"{\\\"n\\\":\\\"a\\\",\\\"age\\\":30}\"", "{\"n\": \"a\", \"age\": :30}"),
    ("SET l [1,2]; SORT l INPLACE BY age", "-ERR BY age sorts records (dicts), found a int", ""),
    ("RPUSH l 3 1 2; SORT l; LRANGE l 0 -1", "[\"3\", \"1\", \"2\"]", "[:3, :1, :2]"),
    ("RPUSH l 3 1 2; SORT l DESC LIMIT 0 2", "[\"3\", \"2\"]", "[:3, :2]"),
    ("RPUSH l b a c; SORT l ALPHA STORE d; LRANGE d 0 -1", "[\"a\", \"b\", \"c\"]", ""),
    ("RPUSH l a; SORT l", "-ERR One or more scores can't be converted into double", ""),
    ("ZADD z 1 a 2 b 3 c; SORT_RO z BY nosort DESC", "[\"c\", \"b\", \"a\"]", ""),
    ("RPUSH l 1; SORT_RO l STORE x", "-ERR syntax error", ""),
    ("RPUSH l 1 2; SET w_1 9; SET w_2 3; SORT l BY w_* GET # GET w_*", "[\"2\", \"3\", \"1\", \"9\"]", "[:2, :3, :1, :9]"),
    ("RPUSH l apple banana cherry; MATCH l an", "[\"banana\"]", ""),
    ("SET s 'a1b22c333'; MATCH s \"[0-9]+\"", "[\"1\", \"22\", \"333\"]", ""),
    ("SET s x; MATCH s \"(\"", "-ERR invalid regular expression", ""),
    ("SET s x; MATCH s \"a{1000}{1000}\"", "-ERR regular expression too large", ""),
    ("SET l [1,2,3]; REVERSE l; GET l", "\"[3,2,1]\"", "[:3, :2, :1]"),
    ("REVERSE nope", "nil", ""),
    ("SET d {\"a\":1,\"b\":[2]}; GETITEM d a", "\"1\"", ":1"),
    ("SET d {\"a\":1}; GETITEM d a z", "[\"1\", nil]", "[:1, nil]"),
    ("SET l [1,2]; GETITEM l -1", "\"2\"", ":2"),
    ("SET l [1,2]; GETITEM l x", "-ERR a list is indexed by an int, got 'x'", ""),
    ("SETITEM d a 1 b 2; GET d", "\"{\\\"a\\\":1,\\\"b\\\":2}\"", "{\"a\": :1, \"b\": :2}"),
    ("SET l [1,2]; SETITEM l 0 x 5 y", "-ERR index out of range", ""),
    ("SET l [1,2]; SETITEM l 0 x 5 y; GET l", "\"[1,2]\"", "[:1, :2]"),
    ("SET l [1,2]; SETITEM l 0 x 5 y; SETITEM l 1 z; GET l", "\"[1,\\\"z\\\"]\"", "[:1, \"z\"]"),
    ("SETITEM d a", "-ERR wrong number of arguments for 'setitem' command", ""),
    ("SET d {\"a\":1,\"b\":2}; DELITEM d a c", ":1", ""),
    ("SET l [1,2,3]; DELITEM l 0 -1; GET l", "\"[2]\"", "[:2]"),
    ("SET d {\"a\":1}; CONTAINS d a", ":1", ""),
    ("SET s hello; CONTAINS s ell", ":1", ""),
    ("SET n 1; CONTAINS n 1", "-WRONGTYPE CONTAINS expects string, bytes, list, dict, set, sortedset or deque, found int", ""),
    ("SET d {\"a\":1}; UPDATE d {\"b\":2,\"a\":3}; GET d", "\"{\\\"a\\\":3,\\\"b\\\":2}\"", "{\"a\": :3, \"b\": :2}"),
    ("SET d {\"a\":1}; UPDATE d [1]", "-ERR UPDATE takes a dict to merge, got list", ""),
    ("SET d {\"a\":1,\"b\":2}; FIELDS d", "[\"a\", \"b\"]", ""),
    ("SET d {\"a\":1,\"b\":2}; VALUES d", "[\"1\", \"2\"]", "[:1, :2]"),
    ("SET d {\"a\":1}; ITEMS d", "[[\"a\", \"1\"]]", "[[\"a\", :1]]"),
    ("SET l [1]; FIELDS l", "-WRONGTYPE FIELDS expects dict, found list", ""),
    ("ADD s 1 2 2; ADD s 3; LEN s", ":3", ""),
    ("SET l [1]; ADD l 2", "-WRONGTYPE ADD expects set, found list", ""),
    ("ADD s 1 2; DISCARD s 2 3", ":1", ""),
    ("DISCARD s", "-ERR wrong number of arguments for 'discard' command", ""),
    ("DISCARD", "-ERR DISCARD without MULTI", ""),
    ("ADD a 1 2; ADD b 2 3; UNION a b", "\"{\\\"$set\\\":[1,2,3]}\"", "~[:1, :2, :3]"),
    ("ADD a 1 2; ADD b 2 3; INTERSECT a b STORE c; GET c", "\"{\\\"$set\\\":[2]}\"", "~[:2]"),
    ("ADD a 1 2; ADD b 2 3; DIFF a b nope", "\"{\\\"$set\\\":[1]}\"", "~[:1]"),
    ("SET l [1]; UNION l", "-WRONGTYPE UNION expects set, found list", ""),
    ("ZADD z 1 a 2 b; SCORE z b; SCORE z c", "nil", ""),
    ("ZADD z 1 a 2.5 b; SCORE z b", "\"2.5\"", ",2.5"),
    ("ZADD z 1 a 2 b 3 c; RANK z c REVERSE", ":0", ""),
    ("ZADD z 1 a 2 b 3 c; RANGE z 0 -1 WITHSCORES", "[[\"a\", \"1\"], [\"b\", \"2\"], [\"c\", \"3\"]]", "[[\"a\", ,1], [\"b\", ,2], [\"c\", ,3]]"),
    ("ZADD z 1 a 2 b 3 c; RANGE z \"(1\" +inf BYSCORE", "[\"b\", \"c\"]", ""),
    ("ZADD z 1 a; ADD z b 5; RANGE z 0 -1 REVERSE", "[\"b\", \"a\"]", ""),
    ("ZADD z 1 a; POP z", "\"[\\\"a\\\",1.0]\"", "[\"a\", ,1]"),
    ("SET l [1,2,3.5]; SUM l", "\"6.5\"", ",6.5"),
    ("SET l [9223372036854775807,1]; SUM l", "-ERR sum does not fit in a 64-bit int", ""),
    ("SET a [1,2]; SET b [3]; SUM a b nope", "\"6\"", ":6"),
    ("SET l [1,\"x\"]; SUM l", "-ERR unsupported operand type for +: 'string' (items must be int or float)", ""),
    ("SET l [3,1,2]; MIN l", "\"1\"", ":1"),
    ("SET d \"date('2026-11-28')\"; GET d", "\"2026-11-28\"", ""),
    ("SET t \"datetime('2026-11-28T10:00:00+01:00')\"; GET t", "\"2026-11-28T10:00:00+01:00\"", ""),
    ("SET d \"date('2026-02-30')\"; GET d", "\"date('2026-02-30')\"", ""),
    ("SET q pqueue(); ADD q b \"date('2026-12-01')\" a \"date('2026-11-28')\"; POP q", "\"[{\\\"$date\\\":\\\"2026-11-28\\\"},\\\"a\\\"]\"", "[\"2026-11-28\", \"a\"]"),
    ("SET l '[{\"$datetime\": \"2026-12-01T00:00:00Z\"}, {\"$datetime\": \"2026-12-01T00:30:00+01:00\"}]'; MIN l", "\"2026-12-01T00:30:00+01:00\"", ""),
    ("SET l '[1, {\"$date\": \"2026-12-01\"}]'; MAX l", "-ERR '<' not supported between int and date", ""),
    ("SET d \"decimal('0.10')\"; INCR d \"decimal('0.20')\"", "\"0.30\"", ""),
    ("SET d \"decimal('0.10')\"; INCR d 1; GET d", "\"1.10\"", ""),
    ("SET d \"decimal('1.5')\"; INCR d 1.5", "-ERR unsupported operand types: 'decimal' and 'float' (convert one first)", ""),
    ("SET l '[{\"$decimal\": \"0.1\"}, {\"$decimal\": \"0.2\"}]'; SUM l", "\"0.3\"", ""),
    ("SET l '[{\"$decimal\": \"0.1\"}, {\"$decimal\": \"0.2\"}]'; MEAN l", "\"0.15\"", ""),
    ("SET d \"decimal('2.50')\"; CLIENT LITERALS strict; TYPE d", "+decimal", ""),
    ("SET d \"decimal('x')\"; GET d", "\"decimal('x')\"", ""),
    ("SET d deque([1,2,3],maxlen=3); APPEND d 4; PUSHLEFT d 0; GET d", "\"{\\\"$deque\\\":{\\\"items\\\":[0,2,3],\\\"maxlen\\\":3}}\"", "[:0, :2, :3]"),
    ("SET d deque([1,2]); RPUSH d 3; LRANGE d 0 -1", "[\"1\", \"2\", \"3\"]", "[:1, :2, :3]"),
    ("SET d deque([1,2]); POPLEFT d; LEN d", ":1", ""),
    ("SET d deque([1,2]); LSET d 0 x", "-WRONGTYPE LSET expects list, found deque", ""),
    ("SET q pqueue(); ADD q b 2 a 1 c 2; POP q", "\"[1,\\\"a\\\"]\"", "[:1, \"a\"]"),
    ("SET q pqueue(); ADD q b 2 a 1; GET q", "\"{\\\"$pqueue\\\":[[1,\\\"a\\\"],[2,\\\"b\\\"]]}\"", "[[:1, \"a\"], [:2, \"b\"]]"),
    ("SET q pqueue(); ADD q x [1]", "-ERR a priority: unhashable type: 'list'", ""),
    ("SET q pqueue([[3,\"c\"]]); POP q nope WAIT 0", "[\"q\", \"[3,\\\"c\\\"]\"]", "[\"q\", [:3, \"c\"]]"),
    ("SET q pqueue(); TYPE q", "+pqueue", ""),
    ("SET l [3,1,2]; MAX l", "\"3\"", ":3"),
    ("SET l [1,2,3,4]; MEAN l", "\"2.5\"", ",2.5"),
    ("SET l [2,4,4,4,5,5,7,9]; STDDEV l", "\"2.0\"", ",2"),
    ("SET l [3,1,4,2]; MEDIAN l", "\"2.5\"", ",2.5"),
    ("SET l []; MEDIAN l", "nil", ""),
    // waiting pops (a pop that finds an item answers at once; waiting: tests/blocking.rs)
    ("SET l [1,2]; POP l nope WAIT 0", "[\"l\", \"2\"]", "[\"l\", :2]"),
    ("POP nope WAIT 0.01", "nil", ""),
    ("POPLEFT nope WAIT x", "-ERR timeout is not a float or out of range", ""),
    // transactions as Redis has them
    ("MULTI; SET k 1; INCR k; EXEC", "[+OK, :2]", ""),
    ("RUN '[x * 2 for x in range(3)]'", "[:0, :2, :4]", ""),
    ("RUN 'SET(\"k\", 5);INCR(\"k\")'; GET k", "\"6\"", ":6"),
    ("RUN 'ARGS[0] + 1' 41", ":42", ""),
    ("RUN '1/0'", "-ZeroDivisionError division by zero (line 1)", ""),
    ("SET n 21; SET double 'lambda x: x * 2'; APPLY n double; GET n", "\"42\"", ":42"),
    ("SET n 2; EVAL n 'lambda v: v + 1'", ":3", ""),
    ("RPUSH l 1 5 8; FILTER l 'lambda x: x > 3' STORE big; LRANGE big 0 -1", "[\"5\", \"8\"]", "[:5, :8]"),
    ("EVAL 'return 1' 0", "-ERR okdb's EVAL is EVAL key function", ""),
    ("APPLY n", "-ERR wrong number of arguments for 'apply' command", ""),
    ("RPUSH l 1; FILTER l 'lambda x: x' BAD d", "-ERR syntax error", ""),
    ("SET s 5; FILTER s 'lambda x: x'", "-TypeError 'int' object is not iterable", ""),
    ("SET s hello; APPLY s 'lambda x: x + 1'", "-TypeError can only concatenate str (not \"int\") to str", ""),
    ("RUN", "-ERR wrong number of arguments for 'run' command", ""),
    ("BEGIN x", "-ERR wrong number of arguments for 'begin' command", ""),
    ("RPUSH l apple Fig banana; SORT l 'lambda s: s.lower()' REVERSE; LRANGE l 0 -1", "[\"Fig\", \"banana\", \"apple\"]", ""),
    ("SET f 'lambda x: x +'", "-SyntaxError not a function", ""),
    ("RUN 'SET(\"k\", 1);1/0'; GET k", "nil", ""),
    ("RUN 'MULTI()'", "-ERR MULTI cannot be called from a script (line 1)", ""),
    ("RUN 'x = ('", "-SyntaxError unexpected end of script: a bracket is not closed (line 1, column 6)", ""),
    ("RUN 'import os'", "-NotSupported import is not supported in okdb scripts (line 1, column 1)", ""),
    ("MULTI; MULTI", "-ERR MULTI calls can not be nested", ""),
    ("BEGIN; SET k 1; INCR k; END", "[+OK, :2]", ""),
    ("SET k 1; SET s x; BEGIN; SET k 2; INCR s; END", "-ERR value is not an integer or out of range (command 2 of the block: INCR s; nothing it wrote remains)", ""),
    ("SET k 1; SET s x; BEGIN; SET k 2; INCR s; END; GET k", "\"1\"", ":1"),
    ("BEGIN; SET k 1; NOPE; END", "-EXECABORT the block was discarded", ""),
    ("BEGIN; SET k 1; EXEC", "-ERR a BEGIN block ends with END", ""),
    ("END", "-ERR END without BEGIN", ""),
    ("EXEC", "-ERR EXEC without MULTI", ""),
    ("MULTI; NOPE; EXEC", "-EXECABORT Transaction discarded because of previous errors.", ""),
    ("MULTI; SET k 1; DISCARD; GET k", "nil", ""),
    ("WATCH k; SET k 2; MULTI; SET k 3; EXEC", "nil", ""),
    ("WATCH k; UNWATCH; SET k 2; MULTI; SET k 3; EXEC", "[+OK]", ""),
    ("MULTI; WATCH k", "-ERR WATCH inside MULTI is not allowed", ""),
    // Redis's lists
    ("LPUSH l a b; RPUSH l c; LRANGE l 0 -1", "[\"b\", \"a\", \"c\"]", ""),
    ("LPUSHX nope a; RPUSHX nope a; EXISTS nope", ":0", ""),
    ("RPUSH l a; LPUSHX l b; RPUSHX l c", ":3", ""),
    ("SET s x; LPUSH s a", "-WRONGTYPE LPUSH expects list or deque, found string", ""),
    ("RPUSH l a b c; LPOP l 2", "[\"a\", \"b\"]", ""),
    ("RPUSH l a; RPOP l; EXISTS l", ":0", ""),
    ("LPOP nope 2", "nil", ""),
    ("RPUSH l a; LPOP l -1", "-ERR value is out of range, must be positive", ""),
    ("LPOP l 1 2", "-ERR wrong number of arguments for 'lpop' command", ""),
    ("RPUSH l a b; LLEN l; LLEN nope", ":0", ""),
    ("RPUSH l a b c; LRANGE l -2 100", "[\"b\", \"c\"]", ""),
    ("RPUSH l a b; LINDEX l -1; LINDEX l 5", "nil", ""),
    ("RPUSH l a b; LSET l 0 x; LRANGE l 0 -1", "[\"x\", \"b\"]", ""),
    ("RPUSH l a; LSET l 5 x", "-ERR index out of range", ""),
    ("LSET nope 0 x", "-ERR no such key", ""),
    ("RPUSH l a b a a; LREM l -2 a; LRANGE l 0 -1", "[\"a\", \"b\"]", ""),
    ("RPUSH l a c; LINSERT l BEFORE c b; LINSERT l AFTER z y", ":-1", ""),
    ("RPUSH l a; LINSERT l MIDDLE a b", "-ERR syntax error", ""),
    ("RPUSH l a b c d; LTRIM l 1 -2; LRANGE l 0 -1", "[\"b\", \"c\"]", ""),
    ("RPUSH l a b a; LPOS l a RANK -1; LPOS l a COUNT 0", "[:0, :2]", ""),
    ("RPUSH l a; LPOS l a RANK 0", "-ERR RANK can't be zero", ""),
    ("RPUSH a 1 2; LMOVE a b RIGHT LEFT; LRANGE b 0 -1", "[\"2\"]", "[:2]"),
    ("RPUSH a 1 2; RPOPLPUSH a a; LRANGE a 0 -1", "[\"2\", \"1\"]", "[:2, :1]"),
    ("RPUSH a 1; LMOVE a b UP LEFT", "-ERR syntax error", ""),
    ("RPUSH b 1 2 3; LMPOP 2 a b LEFT COUNT 2", "[\"b\", [\"1\", \"2\"]]", "[\"b\", [:1, :2]]"),
    ("LMPOP 0 a LEFT", "-ERR numkeys should be greater than 0", ""),
    ("RPUSH b x; BLPOP a b 0", "[\"b\", \"x\"]", ""),
    ("RPUSH b x y; BRPOP b 1", "[\"b\", \"y\"]", ""),
    ("BLPOP a -1", "-ERR timeout is negative", ""),
    ("BLPOP a 0.01", "nil", ""),
    ("RPUSH a x; BLMOVE a b LEFT RIGHT 0; LRANGE b 0 -1", "[\"x\"]", ""),
    ("RPUSH a x; BRPOPLPUSH a b 0", "\"x\"", ""),
    ("BRPOPLPUSH a b 0.01", "nil", ""),
    ("RPUSH a x; BLMPOP 0 1 a RIGHT", "[\"a\", [\"x\"]]", ""),
    ("BLMPOP 0.01 1 a RIGHT", "nil", ""),
    // Redis's hashes
    ("HSET h a 1 b 2; HSET h a 3", ":0", ""),
    ("HSET h a", "-ERR wrong number of arguments for 'hset' command", ""),
    ("HMSET h a 1; HGET h a", "\"1\"", ":1"),
    ("HSETNX h a 1; HSETNX h a 2; HGET h a", "\"1\"", ":1"),
    ("HSET h a 1; HMGET h a b", "[\"1\", nil]", "[:1, nil]"),
    ("HSET h a 1 b x; HGETALL h", "[\"a\", \"1\", \"b\", \"x\"]", "{\"a\": :1, \"b\": \"x\"}"),
    ("HSET h a 1 b 2; HDEL h a c; HDEL h b; EXISTS h", ":0", ""),
    ("HSET h a 1; HEXISTS h a; HEXISTS h b", ":0", ""),
    ("HSET h a 1 b 2; HLEN h", ":2", ""),
    ("HSET h a hello; HSTRLEN h a", ":5", ""),
    ("HSET h a 1 b 2; HKEYS h", "[\"a\", \"b\"]", ""),
    ("HSET h a 1 b 2; HVALS h", "[\"1\", \"2\"]", "[:1, :2]"),
    ("HINCRBY h n 5; HINCRBY h n -2", ":3", ""),
    ("HSET h s x; HINCRBY h s 1", "-ERR hash value is not an integer", ""),
    ("HSET h n 9223372036854775807; HINCRBY h n 1", "-ERR increment or decrement would overflow", ""),
    ("HINCRBYFLOAT h f 1.5; HINCRBYFLOAT h f 1", "\"2.5\"", ""),
    ("HINCRBYFLOAT h f inf", "-ERR value is NaN or Infinity", ""),
    ("HSET h a 1; HRANDFIELD h", "\"a\"", ""),
    ("HSET h a 1; HRANDFIELD h -2", "[\"a\", \"a\"]", ""),
    ("HSET h a 1; HRANDFIELD h 1 WITHVALUES", "[\"a\", \"1\"]", "[[\"a\", :1]]"),
    ("HSET h a 1 b 2; HSCAN h 0 MATCH a", "[\"0\", [\"a\", \"1\"]]", "[\"0\", [\"a\", :1]]"),
    ("HSET h a 1 b 2; HSCAN h 0 MATCH b NOVALUES", "[\"0\", [\"b\"]]", ""),
    ("ZADD z 1 a 2 b 3 c; ZSCAN z 0 COUNT 2 MATCH b", "[\"2\", [\"b\", \"2\"]]", "[\"2\", [\"b\", ,2]]"),
    ("ZSCAN z 0 NOVALUES", "-ERR syntax error", ""),
    ("ZSCAN nokey 0", "[\"0\", []]", ""),
    ("SET s x; HGET s a", "-WRONGTYPE HGET expects dict, found string", ""),
    // Redis's sets
    ("SADD s a b a; SCARD s", ":2", ""),
    ("SADD s a b; SREM s a c; SREM s b; EXISTS s", ":0", ""),
    ("SADD s b a; SMEMBERS s", "[\"a\", \"b\"]", "~[\"a\", \"b\"]"),
    ("SADD s a; SISMEMBER s a; SISMEMBER s b", ":0", ""),
    ("SADD s a; SMISMEMBER s a b", "[:1, :0]", ""),
    ("SADD s a; SPOP s; EXISTS s", ":0", ""),
    ("SADD s a b; SPOP s 5", "[\"a\", \"b\"]", "~[\"a\", \"b\"]"),
    ("SADD s a; SRANDMEMBER s -2", "[\"a\", \"a\"]", ""),
    ("SRANDMEMBER nope 3", "[]", ""),
    ("SADD a 1 2; SADD b 2 3; SUNION a b", "[\"1\", \"2\", \"3\"]", "~[:1, :2, :3]"),
    ("SADD a 1 2; SADD b 2 3; SINTER a b", "[\"2\"]", "~[:2]"),
    ("SADD a 1 2; SADD b 2 3; SDIFF a b", "[\"1\"]", "~[:1]"),
    ("SADD a 1 2; SADD b 2 3; SUNIONSTORE c a b", ":3", ""),
    ("SADD a 1; SADD b 2; SINTERSTORE c a b; EXISTS c", ":0", ""),
    ("SADD a 1 2; SADD b 2; SDIFFSTORE c a b", ":1", ""),
    ("SADD a 1 2 3; SADD b 2 3; SINTERCARD 2 a b LIMIT 1", ":1", ""),
    ("SINTERCARD 0 a", "-ERR numkeys should be greater than 0", ""),
    ("SADD a x; SMOVE a b x; SMEMBERS b", "[\"x\"]", "~[\"x\"]"),
    ("SADD s a b; SSCAN s 0 COUNT 10", "[\"0\", [\"a\", \"b\"]]", ""),
    ("SADD s a b c; SSCAN s 1 COUNT 1", "[\"2\", [\"b\"]]", ""),
    ("SADD s a b; SSCAN s 0 NOVALUES", "-ERR syntax error", ""),
    ("SET s x; SSCAN s 0", "-WRONGTYPE SSCAN expects set, found string", ""),
    ("SET h x; HSCAN h 0", "-WRONGTYPE HSCAN expects dict, found string", ""),
    ("HSET h a 1; HSCAN h x", "-ERR invalid cursor", ""),
    ("HSET h a 1 b 2 c 3; HSCAN h 1 COUNT 1", "[\"2\", [\"b\", \"2\"]]", "[\"2\", [\"b\", :2]]"),
    ("RPUSH l a; SADD l a", "-WRONGTYPE SADD expects set, found list", ""),
    // Redis's sorted sets
    ("ZADD z 1 a 2 b; ZADD z CH 3 a 4 c", ":2", ""),
    ("ZADD z NX XX 1 a", "-ERR XX and NX options at the same time are not compatible", ""),
    ("ZADD z GT LT 1 a", "-ERR GT, LT, and/or NX options at the same time are not compatible", ""),
    ("ZADD z INCR 1 a 2 b", "-ERR INCR option supports a single increment-element pair", ""),
    ("ZADD z x a", "-ERR value is not a valid float", ""),
    ("ZADD z 1 a; ZADD z INCR 2 a", "\"3\"", ",3"),
    ("ZADD z 1 a; ZADD z GT 0 a; ZSCORE z a", "\"1\"", ",1"),
    ("ZINCRBY z 2 a; ZINCRBY z 1.5 a", "\"3.5\"", ",3.5"),
    ("ZADD z 1 a 2 b; ZREM z a c; ZREM z b; EXISTS z", ":0", ""),
    ("ZADD z 1 a 2 b; ZCARD z", ":2", ""),
    ("ZADD z 1 a; ZMSCORE z a b", "[\"1\", nil]", "[,1, nil]"),
    ("ZADD z 1 a 2 b; ZRANK z b; ZREVRANK z b", ":0", ""),
    ("ZADD z 1 a 2 b; ZRANK z b WITHSCORE", "[:1, \"2\"]", "[:1, ,2]"),
    ("ZADD z 1 a 2 b 3 c; ZCOUNT z \"(1\" 3", ":2", ""),
    ("ZADD z 0 a 0 b 0 c; ZLEXCOUNT z \"[b\" +", ":2", ""),
    ("ZADD z 0 a; ZLEXCOUNT z b +", "-ERR min or max not valid string range item", ""),
    ("ZADD z 1 a 2 b 3 c; ZRANGE z 0 -1 WITHSCORES", "[\"a\", \"1\", \"b\", \"2\", \"c\", \"3\"]", "[[\"a\", ,1], [\"b\", ,2], [\"c\", ,3]]"),
    ("ZADD z 1 a 2 b 3 c; ZRANGE z +inf -inf BYSCORE REV LIMIT 1 1", "[\"b\"]", ""),
    ("ZADD z 1 a; ZRANGE z 0 1 LIMIT 0 1", "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX", ""),
    ("ZADD z 1 a 2 b; ZREVRANGE z 0 0", "[\"b\"]", ""),
    ("ZADD z 1 a 2 b 3 c; ZRANGEBYSCORE z 2 +inf", "[\"b\", \"c\"]", ""),
    ("ZADD z 1 a; ZRANGEBYSCORE z x 2", "-ERR min or max is not a float", ""),
    ("ZADD z 1 a 2 b 3 c; ZREVRANGEBYSCORE z 3 \"(1\"", "[\"c\", \"b\"]", ""),
    ("ZADD z 0 a 0 b 0 c; ZRANGEBYLEX z \"(a\" +", "[\"b\", \"c\"]", ""),
    ("ZADD z 0 a 0 b 0 c; ZREVRANGEBYLEX z + \"[b\"", "[\"c\", \"b\"]", ""),
    ("ZADD z 1 a 2 b 3 c; ZREMRANGEBYRANK z 0 1; ZRANGE z 0 -1", "[\"c\"]", ""),
    ("ZADD z 1 a 2 b 3 c; ZREMRANGEBYSCORE z 2 3", ":2", ""),
    ("ZADD z 0 a 0 b 0 c; ZREMRANGEBYLEX z - \"[b\"", ":2", ""),
    ("ZADD z 1 a 2 b; ZPOPMIN z", "[\"a\", \"1\"]", "[\"a\", ,1]"),
    ("ZADD z 1 a 2 b; ZPOPMAX z 2", "[\"b\", \"2\", \"a\", \"1\"]", "[[\"b\", ,2], [\"a\", ,1]]"),
    ("ZADD z 1 a; BZPOPMIN x z 0", "[\"z\", \"a\", \"1\"]", "[\"z\", \"a\", ,1]"),
    ("ZADD z 1 a 2 b; BZPOPMAX z 0", "[\"z\", \"b\", \"2\"]", "[\"z\", \"b\", ,2]"),
    ("BZPOPMIN z 0.01", "nil", ""),
    ("ZADD z 1 a 2 b; ZMPOP 1 z MAX COUNT 5", "[\"z\", [[\"b\", \"2\"], [\"a\", \"1\"]]]", "[\"z\", [[\"b\", ,2], [\"a\", ,1]]]"),
    ("ZADD z 1 a; BZMPOP 0 1 z MIN", "[\"z\", [[\"a\", \"1\"]]]", "[\"z\", [[\"a\", ,1]]]"),
    ("ZADD z 1 a; ZRANDMEMBER z", "\"a\"", ""),
    ("ZADD a 1 x 2 y; ZADD b 3 y; ZUNION 2 a b WITHSCORES", "[\"x\", \"1\", \"y\", \"5\"]", "[[\"x\", ,1], [\"y\", ,5]]"),
    ("ZADD a 1 x 2 y; ZADD b 3 y; ZINTER 2 a b AGGREGATE MAX WITHSCORES", "[\"y\", \"3\"]", "[[\"y\", ,3]]"),
    ("ZADD a 1 x 2 y; ZADD b 3 y; ZDIFF 2 a b", "[\"x\"]", ""),
    ("ZADD a 1 x; SADD b x; ZUNIONSTORE c 2 a b WEIGHTS 2 3; ZSCORE c x", "\"5\"", ",5"),
    ("ZADD a 1 x 2 y; ZADD b 3 y; ZINTERSTORE c 2 a b", ":1", ""),
    ("ZADD a 1 x 2 y; ZADD b 3 y; ZDIFFSTORE c 2 a b", ":1", ""),
    ("ZADD a 1 x 2 y; ZADD b 3 y; ZINTERCARD 2 a b", ":1", ""),
    ("ZUNION 0 a", "-ERR at least 1 input key is needed for 'zunion' command", ""),
    ("ZADD a 1 x 2 y 3 z; ZRANGESTORE b a 1 -1; ZRANGE b 0 -1", "[\"y\", \"z\"]", ""),
    ("ZADD z 1 a 2 b; ZSCAN z 0", "[\"0\", [\"a\", \"1\", \"b\", \"2\"]]", "[\"0\", [\"a\", ,1, \"b\", ,2]]"),
    ("SET s x; ZADD s 1 a", "-WRONGTYPE ZADD expects sortedset, found string", ""),
    ("RPUSH l a; TYPE l", "+list", ""),
    ("CLIENT UNBLOCK 999", ":0", ""),
    ("QUIT", "+OK", ""),
];

fn run_table(proto: u8) {
    let mut failed = Vec::new();
    for (script, resp2, resp3) in TABLE {
        // A fresh server per script, so scripts do not see each other's keys.
        let server = start();
        let want = if proto == 3 && !resp3.is_empty() {
            resp3
        } else {
            resp2
        };
        let mut c = Raw::connect(&server);
        if proto == 3 {
            assert!(c.call("HELLO 3").starts_with('{'));
        }
        let mut last = String::new();
        for cmd in script.split("; ") {
            last = c.call(cmd);
        }
        if !last.starts_with(want) {
            failed.push(format!(
                "RESP{proto} `{script}`:\n got: {last}\nwant: {want}…"
            ));
        }
        // A script that leaves a transaction open ends it first.
        if script.contains("MULTI") || script.contains("BEGIN") {
            c.call("DISCARD");
        }
        // One that subscribes leaves RESP2's subscribed state.
        if script.contains("SUBSCRIBE") || script.contains("LISTEN") {
            c.call("RESET");
        }
        // Errors never cost the connection (QUIT is the one command that ends it).
        if !script.starts_with("QUIT") {
            assert_eq!(
                c.call("PING"),
                "+PONG",
                "connection unusable after `{script}`"
            );
        } else {
            assert!(c.closed());
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn every_command_over_the_wire_resp2() {
    run_table(2);
}

#[test]
fn every_command_over_the_wire_resp3() {
    run_table(3);
}

#[test]
fn the_table_covers_every_command() {
    for c in COMMANDS {
        let used = TABLE.iter().any(|(script, ..)| {
            script
                .split("; ")
                .any(|cmd| cmd.split(' ').next().unwrap().eq_ignore_ascii_case(c.name))
        });
        assert!(used, "{} has no wire test in TABLE", c.name);
    }
}

#[test]
fn keyspaces_are_per_connection_and_shared_by_name() {
    let server = start();
    let mut a = Raw::connect(&server);
    let mut b = Raw::connect(&server);
    a.call("USE shared");
    a.call("SET k 1");
    assert_eq!(b.call("GET k"), "nil");
    b.call("USE shared");
    assert_eq!(b.call("GET k"), "\"1\"");
}

#[test]
fn io_threads_share_one_store_and_stop_cleanly() {
    let config = Config::default();
    config.port.store(0, std::sync::atomic::Ordering::Relaxed);
    config
        .io_threads
        .store(3, std::sync::atomic::Ordering::Relaxed);
    let mut server = Background::start(config).expect("server starts");
    // Connections are dealt out round-robin, so these six land on all three threads.
    let mut conns: Vec<Raw> = (0..6).map(|_| Raw::connect(&server)).collect();
    for round in 0..50 {
        for c in &mut conns {
            c.call("INCR n");
        }
        assert_eq!(
            conns[round % 6].call("GET n"),
            format!("\"{}\"", (round + 1) * 6)
        );
    }
    let writers: Vec<_> = conns
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            std::thread::spawn(move || {
                for j in 0..200 {
                    assert_eq!(c.call(&format!("SET k{i}:{j} {j}")), "+OK");
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let mut c = Raw::connect(&server);
    assert_eq!(c.call("DBSIZE"), ":1201");
    assert_eq!(c.call("CONFIG GET io-threads"), "[\"io-threads\", \"3\"]");
    server.stop();
}

#[test]
fn inline_commands_work_like_telnet() {
    let server = start();
    let mut c = Raw::connect(&server);
    c.send_raw(b"PING\r\n");
    assert_eq!(render(&c.read().unwrap()), "+PONG");
    c.send_raw(b"SET user:1 {\"name\": \"kevin\", \"tags\": [\"a\", \"b\"]}\n\r\nGET user:1\n");
    assert_eq!(render(&c.read().unwrap()), "+OK");
    assert_eq!(
        render(&c.read().unwrap()),
        "\"{\\\"name\\\":\\\"kevin\\\",\\\"tags\\\":[\\\"a\\\",\\\"b\\\"]}\""
    );
    c.send_raw(b"ECHO \"unbalanced\r\n");
    assert!(render(&c.read().unwrap()).starts_with("-ERR Protocol error"));
    assert!(c.closed());
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let server = start();
    let mut c = Raw::connect(&server);
    let mut out = Vec::new();
    for i in 0..1000 {
        encode_command(&[b"INCR", b"n"], &mut out);
        if i % 100 == 0 {
            encode_command(&[b"BOGUS"], &mut out);
        }
    }
    c.send_raw(&out);
    let mut expect = 1;
    for i in 0..1010 {
        let f = render(&c.read().unwrap());
        if f.starts_with("-ERR unknown command") {
            continue;
        }
        assert_eq!(f, format!(":{expect}"), "reply {i}");
        expect += 1;
    }
    assert_eq!(expect, 1001);
}

/// One write holding multibulk requests, inline lines with quoted (unquoted by the server)
/// arguments, an empty line and `*0`: each request gets its own arguments back.
#[test]
fn one_write_of_mixed_requests_reads_each_argument() {
    let server = start();
    let mut c = Raw::connect(&server);
    let mut out = Vec::new();
    encode_command(&[b"SET", b"a", b"va\r\nlue"], &mut out);
    out.extend_from_slice(b"SET b \"x\\ty z\"\r\n\r\n*0\r\n");
    encode_command(&[b"MSET", b"c", b"", b"d", b"[1, 2"], &mut out);
    out.extend_from_slice(b"ECHO 'q r'\nGET a\r\n");
    encode_command(&[b"MGET", b"a", b"b", b"c", b"d"], &mut out);
    c.send_raw(&out);
    let replies: Vec<String> = (0..6).map(|_| render(&c.read().unwrap())).collect();
    assert_eq!(
        replies,
        [
            "+OK",
            "+OK",
            "+OK",
            "\"q r\"",
            "\"va\\r\\nlue\"",
            "[\"va\\r\\nlue\", \"x\\ty z\", \"\", \"[1, 2\"]",
        ]
    );
}

#[test]
fn large_replies_in_a_pipeline_arrive_whole() {
    let server = start();
    let mut c = Raw::connect(&server);
    let big = "x".repeat(1 << 20);
    let mut out = Vec::new();
    encode_command(&[b"SET", b"big", big.as_bytes()], &mut out);
    for _ in 0..20 {
        encode_command(&[b"GET", b"big"], &mut out);
    }
    c.send_raw(&out);
    assert_eq!(render(&c.read().unwrap()), "+OK");
    for i in 0..20 {
        match c.read().unwrap() {
            Frame::Bulk(b) => assert_eq!(b.len(), 1 << 20, "reply {i}"),
            other => panic!("reply {i}: {}", render(&other)),
        }
    }
    assert_eq!(c.call("PING"), "+PONG");
}

#[test]
fn garbage_closes_only_that_connection() {
    let server = start();
    let mut bystander = Raw::connect(&server);
    for garbage in [
        &b"*abc\r\n"[..],
        b"*2\r\n:1\r\n:2\r\n",
        b"*1\r\n$-5\r\n",
        b"*1\r\n$3\r\nGETX\r\n",
    ] {
        let mut c = Raw::connect(&server);
        c.send_raw(garbage);
        let reply = render(&c.read().unwrap());
        assert!(
            reply.starts_with("-ERR Protocol error"),
            "{garbage:?}: {reply}"
        );
        assert!(c.closed());
    }
    assert_eq!(bystander.call("PING"), "+PONG");
}

#[test]
fn a_huge_bulk_announcement_is_refused_without_allocating() {
    let server = start();
    let mut c = Raw::connect(&server);
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$104857600\r\n");
    let reply = render(&c.read().unwrap());
    assert!(reply.starts_with("-ERR Protocol error"), "{reply}");
    assert!(c.closed());
}

#[test]
fn the_query_buffer_limit_closes_a_flooding_client() {
    let server = start();
    let mut admin = Raw::connect(&server);
    assert_eq!(
        admin.call("CONFIG SET client-query-buffer-limit 4096 proto-max-bulk-len 1048576"),
        "+OK"
    );
    let mut c = Raw::connect(&server);
    c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n");
    c.send_raw(&vec![b'x'; 20_000]);
    let reply = render(&c.read().unwrap());
    assert_eq!(reply, "-ERR Protocol error: query buffer limit exceeded");
    assert!(c.closed());
    assert_eq!(admin.call("PING"), "+PONG");
}

#[test]
fn a_client_that_leaves_mid_frame_harms_nobody() {
    let server = start();
    {
        let mut c = Raw::connect(&server);
        c.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc");
    }
    let mut c = Raw::connect(&server);
    assert_eq!(c.call("GET k"), "nil");
    // The server notices the hang-up and forgets the client.
    for _ in 0..100 {
        if server.engine.connected_clients() == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.engine.connected_clients(), 1);
}

#[test]
fn maxclients_refuses_extra_connections_with_an_error() {
    let server = start();
    let mut admin = Raw::connect(&server);
    assert_eq!(admin.call("CONFIG SET maxclients 1"), "+OK");
    let mut extra = Raw::connect(&server);
    assert_eq!(
        render(&extra.read().unwrap()),
        "-ERR max number of clients reached"
    );
    assert!(extra.closed());
    assert_eq!(admin.call("CONFIG SET maxclients 100"), "+OK");
}

/// A pattern is compiled once and matched without backtracking, and one longer than the limit
/// is refused at once: 100k `[` once held the store's lock for seconds over a keyspace.
#[test]
fn long_patterns_are_refused_or_answered_at_once() {
    use okdb_engine::glob::MAX_PATTERN_LEN;
    let server = start();
    let mut c = Raw::connect(&server);
    let mut keys = String::from("MSET '[' 1");
    for i in 0..20_000 {
        keys.push_str(&format!(" key:{i} {i}"));
    }
    assert_eq!(c.call(&keys), "+OK");
    let call = |c: &mut Raw, args: &[&[u8]]| {
        let mut out = Vec::new();
        encode_command(args, &mut out);
        c.send_raw(&out);
        render(&c.read().expect("a reply"))
    };
    let started = std::time::Instant::now();
    let long = vec![b'['; 100_000];
    let refused = "-ERR pattern too long (100000 bytes; the limit is 4096)";
    assert_eq!(call(&mut c, &[b"KEYS", &long]), refused);
    assert_eq!(call(&mut c, &[b"SCAN", b"0", b"MATCH", &long]), refused);
    assert_eq!(call(&mut c, &[b"CONFIG", b"GET", &long]), refused);
    // The longest pattern allowed matches the one key `[` (Redis's answer) over the keyspace.
    let longest = vec![b'['; MAX_PATTERN_LEN];
    assert_eq!(call(&mut c, &[b"KEYS", &longest]), "[\"[\"]");
    let stars = "*k".repeat(MAX_PATTERN_LEN / 2);
    assert_eq!(call(&mut c, &[b"KEYS", stars.as_bytes()]), "[]");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

#[test]
fn keys_expire_without_being_read() {
    let server = start();
    let mut c = Raw::connect(&server);
    c.call("CONFIG SET hz 100");
    c.call("SET k 1 PX 30");
    c.call("SET keep 1");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.call("DBSIZE"), ":1");
}

#[test]
fn non_loopback_bind_is_refused() {
    let config = Config {
        bind: "0.0.0.0".into(),
        ..Config::default()
    };
    let err = Background::start(config).unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
}

mod redis_crate {
    //! The `redis` crate, as an application would use it.
    use super::start;
    use redis::{RedisResult, Value};

    fn client(server: &okdb_server::Background, resp3: bool, db: u32) -> redis::Connection {
        let proto = if resp3 { "?protocol=resp3" } else { "" };
        let url = format!("redis://{}/{db}{proto}", server.addr);
        redis::Client::open(url).unwrap().get_connection().unwrap()
    }

    #[test]
    fn resp2_gives_strings_raw_and_other_values_as_typed_json() {
        let server = start();
        let mut con = client(&server, false, 0);
        let _: () = redis::cmd("SET")
            .arg("n")
            .arg("42")
            .query(&mut con)
            .unwrap();
        let n: i64 = redis::cmd("GET").arg("n").query(&mut con).unwrap();
        assert_eq!(n, 42);
        let _: () = redis::cmd("SET")
            .arg("d")
            .arg(r#"{"a": [1, 2.5]}"#)
            .query(&mut con)
            .unwrap();
        let d: String = redis::cmd("GET").arg("d").query(&mut con).unwrap();
        assert_eq!(d, r#"{"a":[1,2.5]}"#);
        let got: Option<String> = redis::cmd("GET").arg("missing").query(&mut con).unwrap();
        assert_eq!(got, None);
        let e: RedisResult<()> = redis::cmd("INCR").arg("d").query(&mut con);
        assert!(e.unwrap_err().to_string().contains("WRONGTYPE"));
        let pong: String = redis::cmd("PING").query(&mut con).unwrap();
        assert_eq!(pong, "PONG");
    }

    #[test]
    fn resp3_gives_typed_values() {
        let server = start();
        let mut con = client(&server, true, 0);
        let _: () = redis::cmd("SET")
            .arg("i")
            .arg("7")
            .arg("f")
            .arg("2.5")
            .arg("b")
            .arg("false")
            .arg("d")
            .arg(r#"{"k": "v"}"#)
            .arg("s")
            .arg(r#"{"$set": [1, 2]}"#)
            .query(&mut con)
            .unwrap();
        let v: Value = redis::cmd("GET")
            .arg("i")
            .arg("f")
            .arg("b")
            .arg("d")
            .arg("s")
            .query(&mut con)
            .unwrap();
        let Value::Array(items) = v else {
            panic!("{v:?}")
        };
        assert_eq!(items[0], Value::Int(7));
        assert_eq!(items[1], Value::Double(2.5));
        assert_eq!(items[2], Value::Boolean(false));
        assert_eq!(
            items[3],
            Value::Map(vec![(
                Value::BulkString(b"k".to_vec()),
                Value::BulkString(b"v".to_vec())
            )])
        );
        assert_eq!(items[4], Value::Set(vec![Value::Int(1), Value::Int(2)]));
    }

    #[test]
    fn a_database_number_in_the_url_selects_a_keyspace() {
        let server = start();
        let mut c3 = client(&server, false, 3);
        let mut c0 = client(&server, false, 0);
        let _: () = redis::cmd("SET")
            .arg("k")
            .arg("three")
            .query(&mut c3)
            .unwrap();
        let got: Option<String> = redis::cmd("GET").arg("k").query(&mut c0).unwrap();
        assert_eq!(got, None);
        let using: String = redis::cmd("USING").query(&mut c3).unwrap();
        assert_eq!(using, "3");
    }

    #[test]
    fn pipelines_and_async_clients_work() {
        let server = start();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let client = redis::Client::open(format!("redis://{}/", server.addr)).unwrap();
            let mut con = client.get_multiplexed_async_connection().await.unwrap();
            let mut pipe = redis::pipe();
            for i in 0..500 {
                pipe.cmd("SET").arg(format!("k{i}")).arg(i).ignore();
            }
            pipe.cmd("DBSIZE");
            let (n,): (i64,) = pipe.query_async(&mut con).await.unwrap();
            assert_eq!(n, 500);
        });
    }
}

/// The faithful literal rule, as a property: for arguments of every kind (every prefix of valid
/// literals, numbers in every notation, quoted strings, Python reprs, unicode, invalid UTF-8,
/// and random mixes of the characters literals are made of), `SET` then `GET` over RESP2 gives
/// back the same bytes, unless the argument is a complete JSON array or object, in which case
/// the reply is equal JSON (judged by serde_json, not by okdb's parser).
mod faithful_property {
    use super::start;

    const SEEDS: &[&str] = &[
        "5",
        "-7",
        "0",
        "1.5",
        "-2.25",
        "1e20",
        "1.50",
        "1e5",
        "1E5",
        "0x10",
        "0o7",
        "0b1",
        "1_000",
        "-0",
        "-0.0",
        "+1",
        "007",
        ".5",
        "5.",
        "inf",
        "nan",
        "1e400",
        "True",
        "False",
        "None",
        "true",
        "false",
        "null",
        "\"hello\"",
        "'x'",
        "\"5\"",
        "[1, 2, {\"a\": [true, null]}]",
        "{\"k\": \"v\", \"n\": 1.25}",
        "{\"a\": 1.50, \"b\": [1e3]}",
        "[]",
        "{}",
        "{'a': 1}",
        "{1, 2}",
        "[1, 2,]",
        "[True]",
        "[?abc",
        "{",
        "]",
        "123456789012345678901234567890",
        "[123456789012345678901234567890]",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "héllo",
        "日本語",
        "\u{1F600}",
        "a b c",
        " 5",
        "5 ",
        "\t[1]",
        "[\"\\u00e9\", \"\\n\"]",
        "{\"$set\": [1, 2]}",
        "{\"$nope\": 1}",
    ];

    fn cases() -> Vec<Vec<u8>> {
        let mut out: Vec<Vec<u8>> = Vec::new();
        for s in SEEDS {
            // Every byte prefix, so cut UTF-8 sequences are covered too.
            for i in 0..=s.len() {
                out.push(s.as_bytes()[..i].to_vec());
            }
        }
        out.push(vec![0xff, 0xfe, b'[']);
        out.push(vec![b'[', 0x80, b']']);
        out.push(b"caf\xc3".to_vec());
        let mut rng = fastrand::Rng::with_seed(9);
        let alphabet: &[u8] = b"0123456789-+.eExob_[]{}(),:'\" \\tnulrsfaTNF\xc3\xa9\x80\xff";
        for _ in 0..3000 {
            let n = rng.usize(0..12);
            out.push(
                (0..n)
                    .map(|_| alphabet[rng.usize(..alphabet.len())])
                    .collect(),
            );
        }
        // Random JSON containers with numbers in several notations and assorted spacing.
        let items = [
            "1",
            "1.50",
            "-0",
            "2e3",
            "1E-2",
            "true",
            "null",
            "\"\\u00e9\"",
            "[]",
            "{}",
            "\"x y\"",
        ];
        for _ in 0..300 {
            let n = rng.usize(0..5);
            let sep = if rng.bool() { ", " } else { "," };
            let parts: Vec<String> = (0..n)
                .map(|i| {
                    let v = items[rng.usize(..items.len())];
                    if rng.bool() {
                        v.to_string()
                    } else {
                        format!("{{\"k{i}\": {v}}}")
                    }
                })
                .collect();
            let body = parts.join(sep);
            out.push(
                if rng.bool() {
                    format!("[{body}]")
                } else {
                    format!("{{\"a\":[{body}]}}")
                }
                .into_bytes(),
            );
        }
        out
    }

    /// JSON equality with numbers compared as numbers (`1.50` is `1.5`, `-0` is `0`).
    fn json_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match (a, b) {
            (J::Number(x), J::Number(y)) => x.as_f64() == y.as_f64(),
            (J::Array(x), J::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
            }
            (J::Object(x), J::Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|((kx, x), (ky, y))| kx == ky && json_eq(x, y))
            }
            _ => a == b,
        }
    }

    fn is_json_container(b: &[u8]) -> bool {
        matches!(
            serde_json::from_slice::<serde_json::Value>(b),
            Ok(serde_json::Value::Array(_) | serde_json::Value::Object(_))
        )
    }

    #[test]
    fn set_then_get_over_resp2_returns_what_was_sent() {
        let server = start();
        let url = format!("redis://{}/", server.addr);
        let mut con = redis::Client::open(url).unwrap().get_connection().unwrap();
        let cases = cases();
        let mut pipe = redis::pipe();
        for (i, c) in cases.iter().enumerate() {
            pipe.cmd("SET")
                .arg(format!("k{i}"))
                .arg(c.as_slice())
                .ignore();
        }
        let () = pipe.query(&mut con).unwrap();
        let keys: Vec<String> = (0..cases.len()).map(|i| format!("k{i}")).collect();
        let got: Vec<Vec<u8>> = redis::cmd("MGET").arg(&keys).query(&mut con).unwrap();
        let containers = cases.iter().filter(|c| is_json_container(c)).count();
        for (sent, back) in cases.iter().zip(&got) {
            if sent == back {
                continue;
            }
            assert!(
                is_json_container(sent),
                "{:?} came back as {:?}",
                String::from_utf8_lossy(sent),
                String::from_utf8_lossy(back)
            );
            let a: serde_json::Value = serde_json::from_slice(sent).unwrap();
            let b: serde_json::Value = serde_json::from_slice(back).unwrap();
            assert!(
                json_eq(&a, &b),
                "{:?} came back as {b}",
                String::from_utf8_lossy(sent)
            );
        }
        assert!(
            containers > 300,
            "the cases include containers ({containers})"
        );
    }
}
