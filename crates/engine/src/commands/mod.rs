//! Command handlers, by family, and the table that declares them.

use crate::command::{CommandSpec, Flags, Handler};

mod compat;
mod connection;
mod keys;
mod keyspaces;
mod sequences;
mod server;
mod strings;
mod values;

const R: Flags = Flags::READ;
const W: Flags = Flags::WRITE;
const RF: Flags = Flags::READ.or(Flags::FAST);
const WF: Flags = Flags::WRITE.or(Flags::FAST);
/// Writes that may grow memory (Redis's `denyoom`).
const WG: Flags = Flags::WRITE.or(Flags::DENYOOM);
const WGF: Flags = WG.or(Flags::FAST);
const C: Flags = Flags::CONNECTION.or(Flags::FAST);
const A: Flags = Flags::ADMIN;

/// Key positions: (first, last, step), Redis's convention.
const NOKEYS: (i32, i32, i32) = (0, 0, 0);
const KEY1: (i32, i32, i32) = (1, 1, 1);
const KEY2: (i32, i32, i32) = (1, 2, 1);
const ALLKEYS: (i32, i32, i32) = (1, -1, 1);

#[allow(clippy::too_many_arguments)]
const fn cmd(
    name: &'static str,
    arity: i32,
    flags: Flags,
    keys: (i32, i32, i32),
    group: &'static str,
    syntax: &'static str,
    summary: &'static str,
    handler: Handler,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        key_step: keys.2,
        group,
        syntax,
        summary,
        handler,
    }
}

/// Every command okdb knows. Names are upper case and unique (checked by a test).
pub static COMMANDS: &[CommandSpec] = &[
    // connection
    cmd("PING", -1, C, NOKEYS, "connection", "[message]", "Answers PONG, or echoes the message.", connection::ping),
    cmd("ECHO", 2, C, NOKEYS, "connection", "message", "Returns the message.", connection::echo),
    cmd("HELLO", -1, C, NOKEYS, "connection", "[protover [AUTH user password] [SETNAME name]]", "Switches the protocol (2 or 3) and describes the server.", connection::hello),
    cmd("QUIT", 1, C, NOKEYS, "connection", "", "Closes the connection after replying OK.", connection::quit),
    cmd("CLIENT", -2, Flags::CONNECTION, NOKEYS, "connection", "ID | GETNAME | SETNAME name | LIST | INFO | SETINFO attr value", "Inspects and names connections.", server::client),
    // values
    cmd("SET", -3, WG, (1, -1, 2), "values", "key value [key value ...] | key value [NX|XX] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] [GET]", "Stores values (several pairs at once, atomically), with Redis's options for one pair.", values::set),
    cmd("GET", -2, RF, ALLKEYS, "values", "key [key ...]", "Returns the value of a key, or a list of values for several keys.", values::get),
    cmd("GETSET", 3, WGF, KEY1, "values", "key value", "Stores a value and returns the previous one.", values::getset),
    cmd("INCR", -2, WGF, KEY1, "values", "key [amount]", "Adds an int or float amount (default 1) to a number; a missing key counts as 0.", values::incr),
    cmd("DECR", -2, WGF, KEY1, "values", "key [amount]", "Subtracts an int or float amount (default 1) from a number; a missing key counts as 0.", values::decr),
    // sequences
    cmd("APPEND", 3, WGF, KEY1, "sequences", "key value", "Appends text to a string or an element to a list; returns the new length.", sequences::append),
    cmd("EXTEND", 3, WG, KEY1, "sequences", "key items", "Appends every item of a list or set to a list, or a string to a string; returns the new length.", sequences::extend),
    cmd("LEN", 2, RF, KEY1, "sequences", "key", "Length of a string (characters), bytes, list, dict or set; 0 for a missing key.", sequences::len),
    // keys
    cmd("DEL", -2, W, ALLKEYS, "keys", "key [key ...]", "Deletes keys; returns how many existed.", keys::del),
    cmd("EXISTS", -2, RF, ALLKEYS, "keys", "key [key ...]", "Counts the keys that exist (a key named twice counts twice).", keys::exists),
    cmd("TYPE", -2, RF, ALLKEYS, "keys", "key [key ...]", "Names the type of a value (none if missing); a list of names for several keys.", keys::type_),
    cmd("RENAME", 3, W, (1, 2, 1), "keys", "key newkey", "Renames a key, replacing newkey; the expiry moves with it.", keys::rename),
    cmd("RENAMENX", 3, WF, KEY2, "keys", "key newkey", "Renames a key only if newkey does not exist: 1 if renamed, else 0.", keys::renamenx),
    cmd("COPY", -3, WG, KEY2, "keys", "source destination [DB n] [REPLACE]", "Copies a value and its expiry (O(1)): 1 if copied, 0 if the source is missing or the destination exists without REPLACE.", keys::copy),
    cmd("UNLINK", -2, WF, ALLKEYS, "keys", "key [key ...]", "DEL: deletes keys; returns how many existed.", keys::del),
    cmd("TOUCH", -2, RF, ALLKEYS, "keys", "key [key ...]", "Counts the keys that exist, marking them used (for LRU/LFU eviction).", keys::exists),
    cmd("RANDOMKEY", 1, R, NOKEYS, "keys", "", "Returns a random key in O(1), or null if the keyspace is empty.", keys::randomkey),
    cmd("KEYS", 2, R, NOKEYS, "keys", "pattern", "Lists the keys matching a glob pattern (* ? [abc] [^a] \\x).", keys::keys),
    cmd("SCAN", -2, R, NOKEYS, "keys", "cursor [MATCH pattern] [COUNT n] [TYPE type]", "Iterates keys in steps; a key present for the whole scan is returned at least once.", keys::scan),
    cmd("DBSIZE", 1, RF, NOKEYS, "keys", "", "Number of keys in the current keyspace.", keys::dbsize),
    cmd("EXPIRE", -3, WF, KEY1, "keys", "key when [NX|XX|GT|LT]", "Sets when a key expires: int = seconds from now (as Redis), float = unix time, YYYYMMDDHHMMSS or ISO 8601 (UTC unless an offset is given); NX/XX/GT/LT set it only if it has none, has one, is later, is sooner.", keys::expire),
    cmd("PEXPIRE", -3, WF, KEY1, "keys", "key milliseconds [NX|XX|GT|LT]", "Sets a key to expire in milliseconds from now.", keys::pexpire),
    cmd("EXPIREAT", -3, WF, KEY1, "keys", "key unix-seconds [NX|XX|GT|LT]", "Sets a key to expire at a unix time in seconds.", keys::expireat),
    cmd("PEXPIREAT", -3, WF, KEY1, "keys", "key unix-ms [NX|XX|GT|LT]", "Sets a key to expire at a unix time in milliseconds.", keys::pexpireat),
    cmd("EXPIRETIME", 2, RF, KEY1, "keys", "key", "The unix time in seconds when a key expires (-1 never, -2 missing).", keys::expiretime),
    cmd("PEXPIRETIME", 2, RF, KEY1, "keys", "key", "The unix time in milliseconds when a key expires (-1 never, -2 missing).", keys::pexpiretime),
    cmd("PERSIST", 2, WF, KEY1, "keys", "key", "Removes a key's expiry; 1 if it had one.", keys::persist),
    cmd("TTL", -2, RF, ALLKEYS, "keys", "key [key ...]", "Seconds until a key expires (-1 never, -2 missing); a list for several keys.", keys::ttl),
    // keyspaces
    cmd("USE", 2, C, NOKEYS, "keyspaces", "name", "Switches the connection to a keyspace (created on its first write).", keyspaces::use_),
    cmd("USING", 1, C, NOKEYS, "keyspaces", "", "Names the connection's current keyspace.", keyspaces::using),
    cmd("KEYSPACES", 1, R, NOKEYS, "keyspaces", "", "Lists the keyspaces that exist.", keyspaces::keyspaces),
    cmd("SELECT", 2, C, NOKEYS, "keyspaces", "index", "Redis's numbered databases (0 to databases - 1): SELECT n is USE n.", keyspaces::select),
    cmd("MOVE", 3, WF, KEY1, "keyspaces", "key db", "Moves a key (with its expiry) to numbered database db: 1 if moved, 0 if missing here or present there.", keys::move_),
    cmd("SWAPDB", 3, W, NOKEYS, "keyspaces", "index1 index2", "Exchanges the contents of two numbered databases.", keyspaces::swapdb),
    cmd("FLUSHDB", -1, W, NOKEYS, "keyspaces", "[ASYNC|SYNC]", "Deletes every key of the current keyspace (the keyspace stays).", keyspaces::flushdb),
    cmd("FLUSHALL", -1, W, NOKEYS, "keyspaces", "[ASYNC|SYNC]", "Deletes every key of every keyspace (the keyspaces stay).", keyspaces::flushall),
    // server
    cmd("INFO", -1, R, NOKEYS, "server", "[section ...]", "Server facts by section: server, clients, memory, stats, keyspace (default: all).", server::info),
    cmd("SAVE", 1, A, NOKEYS, "server", "", "Writes a checkpoint now (the changed keys into SQLite, or a fresh snapshot when most keys changed) and answers when it is done.", server::save),
    cmd("BGSAVE", -1, A, NOKEYS, "server", "[SCHEDULE]", "Starts a checkpoint and answers at once.", server::bgsave),
    cmd("CONFIG", -2, A, NOKEYS, "server", "GET pattern [pattern ...] | SET name value [name value ...] | RESETSTAT | REWRITE | HELP", "Reads and changes settings, resets statistics, rewrites the config file.", server::config),
    cmd("LASTSAVE", 1, RF, NOKEYS, "server", "", "Unix time of the last finished checkpoint (or of the start).", server::lastsave),
    cmd("TIME", 1, RF, NOKEYS, "server", "", "The server's clock: [unix seconds, microseconds].", server::time),
    cmd("OBJECT", -2, R, (2, 2, 1), "server", "ENCODING key | REFCOUNT key | IDLETIME key | FREQ key | HELP", "Inspects how a value is stored and how recently or often it is used.", server::object),
    cmd("MEMORY", -2, R, (2, 2, 1), "server", "USAGE key [SAMPLES n] | HELP", "Estimates the bytes a key and its value take.", server::memory),
    // Redis spellings that Redis clients send (compatibility; the native verbs above are the way)
    cmd("INCRBY", 3, WGF, KEY1, "compat", "key increment", "Redis's INCRBY: INCR key increment.", values::incrby),
    cmd("DECRBY", 3, WGF, KEY1, "compat", "key decrement", "Redis's DECRBY: DECR key decrement.", values::decrby),
    cmd("INCRBYFLOAT", 3, WGF, KEY1, "compat", "key increment", "Redis's INCRBYFLOAT: INCR by a float amount, giving a float.", values::incrbyfloat),
    cmd("MGET", -2, RF, ALLKEYS, "compat", "key [key ...]", "Redis's MGET: GET that always answers a list.", compat::mget),
    cmd("MSET", -3, WG, (1, -1, 2), "compat", "key value [key value ...]", "Redis's MSET: SET of pairs, all or none.", compat::mset),
    cmd("SETNX", 3, WGF, KEY1, "compat", "key value", "Redis's SETNX: SET key value NX, answering 1 if set, else 0.", compat::setnx),
    cmd("SETEX", 4, WG, KEY1, "compat", "key seconds value", "Redis's SETEX: SET key value EX seconds.", compat::setex),
    cmd("PSETEX", 4, WG, KEY1, "compat", "key milliseconds value", "Redis's PSETEX: SET key value PX milliseconds.", compat::psetex),
    cmd("PTTL", 2, RF, KEY1, "compat", "key", "Redis's PTTL: milliseconds until a key expires (-1 never, -2 missing).", compat::pttl),
    cmd("STRLEN", 2, RF, KEY1, "compat", "key", "Redis's STRLEN: length in bytes of a string (or of a number's text).", strings::strlen),
    cmd("GETRANGE", 4, R, KEY1, "compat", "key start end", "Redis's GETRANGE: the bytes from start to end (inclusive; negative counts from the end).", strings::getrange),
    cmd("SUBSTR", 4, R, KEY1, "compat", "key start end", "Redis's old name for GETRANGE.", strings::getrange),
    cmd("SETRANGE", 4, WG, KEY1, "compat", "key offset value", "Redis's SETRANGE: overwrites bytes from offset, padding with zero bytes; answers the new length.", strings::setrange),
    cmd("GETDEL", 2, WF, KEY1, "compat", "key", "Redis's GETDEL: the value, and the key is deleted.", strings::getdel),
    cmd("GETEX", -2, WF, KEY1, "compat", "key [EX s|PX ms|EXAT t|PXAT t|PERSIST]", "Redis's GETEX: the value, changing the key's expiry.", strings::getex),
    cmd("MSETNX", -3, WG, (1, -1, 2), "compat", "key value [key value ...]", "Redis's MSETNX: sets every pair if none of the keys exists (1), else nothing (0).", strings::msetnx),
    cmd("LCS", -3, R, KEY2, "compat", "key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]", "Redis's LCS: the longest common subsequence of two strings, its length, or the matching ranges.", strings::lcs),
    cmd("COMMAND", -1, C, NOKEYS, "server", "[COUNT | LIST | INFO name ... | DOCS [name ...]]", "Describes the commands, from the command table.", server::command),
];
