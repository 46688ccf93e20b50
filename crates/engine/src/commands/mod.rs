//! Command handlers, by family, and the table that declares them.

use crate::command::{CommandSpec, Flags, Handler};

mod acl;
mod collections;
mod compat;
mod connection;
mod keys;
mod keyspaces;
pub(crate) mod keyspec;
mod pubsub;
mod redis_types;
mod redis_zset;
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
const CT: Flags = C.or(Flags::TX);
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
        find_keys: None,
        access: None,
    }
}

/// Every command okdb knows. Names are upper case and unique (checked by a test).
pub static COMMANDS: &[CommandSpec] = &[
    // connection
    cmd("PING", -1, C, NOKEYS, "connection", "[message]", "Answers PONG, or echoes the message.", connection::ping),
    cmd("ECHO", 2, C, NOKEYS, "connection", "message", "Returns the message.", connection::echo),
    cmd("HELLO", -1, C.or(Flags::NOAUTH), NOKEYS, "connection", "[protover [AUTH user password] [SETNAME name]]", "Switches the protocol (2 or 3) and describes the server.", connection::hello),
    cmd("AUTH", -2, C.or(Flags::NOAUTH), NOKEYS, "connection", "[username] password", "Authenticates the connection as a user (default when no username is given); WRONGPASS if the pair is wrong or the user is off (docs/security.md).", acl::auth),
    cmd("QUIT", 1, CT.or(Flags::NOAUTH), NOKEYS, "connection", "", "Closes the connection after replying OK.", connection::quit),
    cmd("CLIENT", -2, Flags::CONNECTION, NOKEYS, "connection", "ID | GETNAME | SETNAME name | LIST | INFO | KILL addr | KILL [ID id] [ADDR addr] [USER name] [SKIPME yes|no] | LITERALS [strict|faithful] | UNBLOCK id [TIMEOUT|ERROR] | SETINFO attr value", "Inspects and names connections.", server::client),
    cmd("MULTI", 1, CT, NOKEYS, "connection", "", "Redis's MULTI: queues the following commands (each answers QUEUED) until EXEC.", connection::multi),
    cmd("WATCH", -2, CT, ALLKEYS, "connection", "key [key ...]", "Redis's WATCH: the next EXEC fails (answers nil) if another write touches one of these keys first.", connection::watch),
    cmd("UNWATCH", 1, CT, NOKEYS, "connection", "", "Redis's UNWATCH: forgets the watched keys.", connection::unwatch),
    cmd("BEGIN", 1, CT, NOKEYS, "connection", "", "Starts a block: the following commands are queued (each answers QUEUED) until END, which runs them as one transaction: all or nothing, no other client between them; DISCARD drops the block.", connection::begin),
    cmd("END", 1, Flags::CONNECTION.or(Flags::TX), NOKEYS, "connection", "", "Ends a BEGIN block: runs its commands as one transaction and answers their replies; if one fails, nothing the block wrote remains and the error names the failing command.", connection::end),
    cmd("RESET", 1, CT, NOKEYS, "connection", "", "Puts the connection back as it was when it connected: ends a MULTI or BEGIN, its watches and subscriptions; RESP2, keyspace 0, faithful literals, no name. Answers RESET.", pubsub::reset),
    // pub/sub
    cmd("SUBSCRIBE", -2, C, NOKEYS, "pubsub", "channel [channel ...]", "Receives the messages published to these channels (a confirmation per channel; in RESP2 the connection then takes only subscription commands, PING, QUIT and RESET).", pubsub::subscribe),
    cmd("UNSUBSCRIBE", -1, C, NOKEYS, "pubsub", "[channel ...]", "Stops receiving from these channels, or from every channel.", pubsub::unsubscribe),
    cmd("PSUBSCRIBE", -2, C, NOKEYS, "pubsub", "pattern [pattern ...]", "Receives the messages published to every channel matching these glob patterns.", pubsub::psubscribe),
    cmd("PUNSUBSCRIBE", -1, C, NOKEYS, "pubsub", "[pattern ...]", "Stops receiving for these patterns, or for every pattern.", pubsub::punsubscribe),
    cmd("SSUBSCRIBE", -2, C, NOKEYS, "pubsub", "shardchannel [shardchannel ...]", "Redis's shard channels: on one node, channels of their own (SPUBLISH reaches them).", pubsub::ssubscribe),
    cmd("SUNSUBSCRIBE", -1, C, NOKEYS, "pubsub", "[shardchannel ...]", "Stops receiving from these shard channels, or from every one.", pubsub::sunsubscribe),
    cmd("PUBLISH", 3, RF, NOKEYS, "pubsub", "channel message", "Sends a message to a channel's subscribers and to the matching patterns'; answers how many received it.", pubsub::publish),
    cmd("SPUBLISH", 3, RF, NOKEYS, "pubsub", "shardchannel message", "Sends a message to a shard channel's subscribers; answers how many received it.", pubsub::spublish),
    cmd("LISTEN", -2, C, NOKEYS, "pubsub", "pattern [pattern ...] [KEYSPACE name|*] [FROM seq] [VALUES|NOVALUES] [MAXVALUE bytes]", "Follows the change feed: a push per change to a key matching a pattern ({seq, index, keyspace, key, op, value, expire_at}), in the connection's keyspace unless KEYSPACE says; FROM resumes after a seq with nothing missed while the feed keeps it (docs/changefeed.md).", pubsub::listen),
    cmd("UNLISTEN", 1, C, NOKEYS, "pubsub", "", "Stops following the change feed; answers the last seq sent.", pubsub::unlisten),
    cmd("PUBSUB", -2, RF, NOKEYS, "pubsub", "CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT | SHARDCHANNELS [pattern] | SHARDNUMSUB [shardchannel ...]", "Which channels have subscribers, and how many.", pubsub::pubsub),
    cmd("EXEC", 1, Flags::CONNECTION.or(Flags::TX), NOKEYS, "connection", "", "Redis's EXEC: runs the queued commands with no other client's command between them; an array of their replies (a failing command does not undo the others, as in Redis).", connection::exec),
    // scripts
    cmd("RUN", -2, W.or(Flags::DENYOOM).or(Flags::SCRIPT), NOKEYS, "scripts", "script [arg ...]", "Runs a script of the okdb language as one transaction: all its writes or none, no other client between them; answers the value of its last expression statement (or of return). The args are the list ARGS.", connection::run),
    cmd("EVAL", -3, W.or(Flags::DENYOOM).or(Flags::SCRIPT), KEY1, "scripts", "key function", "Calls a function (a `lambda …` literal, or the name of a key holding one) on a key's value and answers the result. Redis's EVAL (Lua: `EVAL script numkeys …`) is refused with a pointer to RUN.", connection::run).rw(),
    cmd("APPLY", 3, W.or(Flags::DENYOOM).or(Flags::SCRIPT), KEY1, "scripts", "key function", "Calls a function on a key's value, stores the result in the key (keeping its expiry) and answers it.", connection::run).rw(),
    cmd("FILTER", -3, W.or(Flags::DENYOOM).or(Flags::SCRIPT), KEY1, "scripts", "key function [STORE dest]", "The items of a key's list (or other iterable) for which the function is true, as a list; with STORE, also stored in dest.", connection::run).keys_by(keyspec::filter),
    // values
    cmd("SET", -3, WG, (1, -1, 2), "values", "key value [key value ...] | key value [NX|XX] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL] [GET]", "Stores values (several pairs at once, atomically), with Redis's options for one pair.", values::set).keys_by(keyspec::set),
    cmd("GET", -2, RF, ALLKEYS, "values", "key [key ...]", "Returns the value of a key, or a list of values for several keys.", values::get),
    cmd("GETSET", 3, WGF, KEY1, "values", "key value", "Stores a value and returns the previous one.", values::getset).rw(),
    cmd("INCR", -2, WGF, KEY1, "values", "key [amount]", "Adds an int or float amount (default 1) to a number; a missing key counts as 0.", values::incr).rw(),
    cmd("DECR", -2, WGF, KEY1, "values", "key [amount]", "Subtracts an int or float amount (default 1) from a number; a missing key counts as 0.", values::decr).rw(),
    // sequences
    cmd("APPEND", 3, WGF, KEY1, "sequences", "key value", "Appends text to a string or an element to a list; returns the new length.", sequences::append),
    cmd("EXTEND", 3, WG, KEY1, "sequences", "key items", "Appends every item of a list or set to a list, or a string to a string; returns the new length.", sequences::extend),
    cmd("LEN", -2, RF, ALLKEYS, "sequences", "key [key ...]", "Length of a string (characters), bytes, list, dict or set; 0 for a missing key; a list of lengths for several keys.", collections::len),
    cmd("POP", -2, WF, (1, -1, 1), "sequences", "key [index] | key [key ...] WAIT seconds", "Removes and returns a list's or deque's last item (or the item at index), a set's least member, a sortedset's lowest [member, score], a pqueue's lowest [priority, item]; null if missing or empty (the container stays). With WAIT: [key, item] from the first non-empty list, or waits up to seconds (0: forever) for one.", collections::pop).keys_by(keyspec::pop),
    cmd("POPLEFT", -2, WF, (1, -1, 1), "sequences", "key | key [key ...] WAIT seconds", "Removes and returns a list's or deque's first item; null if missing or empty. With WAIT, as POP.", collections::popleft).keys_by(keyspec::pop),
    cmd("PUSHLEFT", -3, WGF, KEY1, "sequences", "key value [value ...]", "Puts values at the front of a list or deque, each in turn (a missing key becomes a list); the new length.", collections::pushleft),
    cmd("INSERT", 4, WG, KEY1, "sequences", "key index value", "Inserts before index (Python's list.insert: negative counts from the end, clamped); text into a string. The new length (0: missing key).", collections::insert),
    cmd("GETSLICE", -4, R, KEY1, "sequences", "key start stop [step]", "Python's v[start:stop:step] of a list, string or bytes (none or an empty argument: an omitted bound).", collections::getslice),
    cmd("SETSLICE", 5, WG, KEY1, "sequences", "key start stop value", "Replaces v[start:stop] with a list's items (a string's text, bytes).", collections::setslice),
    cmd("DELSLICE", -4, W, KEY1, "sequences", "key start stop [step]", "Deletes v[start:stop:step]; how many items went.", collections::delslice),
    cmd("COUNT", 3, R, KEY1, "sequences", "key value", "How many items of a list equal value (occurrences of a substring in a string).", collections::count),
    cmd("INDEX", 3, R, KEY1, "sequences", "key value", "The first position of value in a list (of a substring in a string); null if absent.", collections::index),
    cmd("REMOVE", -3, W, KEY1, "sequences", "key value [count]", "Removes the items equal to value: all, or the first count (the last -count); how many went.", collections::remove),
    cmd("SORT", -2, WG, (1, -1, 1), "sequences", "key INPLACE|REVERSE [BY field] | key lambda [REVERSE] | key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]", "With REVERSE or INPLACE: sorts a list or deque in place, by value order, or records by a field with BY field (OK). With a lambda: sorts the list in place by that key function (a deque or set becomes a list), as one transaction (OK). Otherwise Redis's SORT: a sorted copy of a list's, set's or sorted set's elements (as numbers, or bytes with ALPHA), or with STORE a list stored in destination (its length).", collections::sort).keys_by(keyspec::sort),
    cmd("SORT_RO", -2, R, KEY1, "redis-list", "key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]", "Redis's SORT_RO: SORT without STORE.", redis_types::sort_ro),
    cmd("MATCH", 3, R, KEY1, "sequences", "key pattern", "The string items of a list, deque or set a regular expression finds a match in, or a string's matches (linear-time regex; long or huge patterns refused).", collections::match_),
    cmd("REVERSE", 2, W, KEY1, "sequences", "key", "Reverses a list (a string, bytes) in place.", collections::reverse),
    // containers
    cmd("GETITEM", -3, RF, KEY1, "containers", "key field_or_index [field_or_index ...]", "A dict's value by field, a list's item by index (null if absent); a list of them for several.", collections::getitem),
    cmd("SETITEM", -4, WG, KEY1, "containers", "key field_or_index value [field_or_index value ...]", "Sets dict fields (a missing key becomes a dict) or list items by index, all or none; how many fields are new (items set, for a list).", collections::setitem),
    cmd("DELITEM", -3, WF, KEY1, "containers", "key field_or_index [field_or_index ...]", "Deletes dict fields or list items by index; how many existed.", collections::delitem).rw(),
    cmd("CONTAINS", 3, RF, KEY1, "containers", "key value", "1 if a list holds the item, a set the member, a dict the field, a string the substring; else 0.", collections::contains),
    cmd("UPDATE", 3, WG, KEY1, "containers", "key dict", "Merges a dict's pairs into a dict (created if missing); how many fields are new.", collections::update),
    cmd("FIELDS", 2, R, KEY1, "containers", "key", "A dict's fields, in order.", collections::fields),
    cmd("VALUES", 2, R, KEY1, "containers", "key", "A dict's values, in field order.", collections::values_),
    cmd("ITEMS", 2, R, KEY1, "containers", "key", "A dict's [field, value] pairs, in order.", collections::items),
    cmd("ADD", -3, WGF, KEY1, "containers", "key member [member ...] | key member score [member score ...] | key item priority [item priority ...]", "Adds members to a set (a missing key becomes a set), members with scores to a sortedset (how many are new), or items with priorities to a pqueue (its new length).", collections::add),
    cmd("SCORE", 3, RF, KEY1, "containers", "key member", "A sortedset member's score; null if absent.", redis_zset::score_),
    cmd("RANK", -3, RF, KEY1, "containers", "key member [REVERSE]", "A sortedset member's position, lowest score first (highest with REVERSE); null if absent.", redis_zset::rank_),
    cmd("RANGE", -4, R, KEY1, "containers", "key start stop [BYSCORE] [REVERSE] [LIMIT offset count] [WITHSCORES]", "A sortedset's members by rank (inclusive, negative from the end) or by score ((x exclusive, -inf, +inf); WITHSCORES pairs each with its score.", redis_zset::range_),
    cmd("DISCARD", -1, WF.or(Flags::TX), KEY1, "containers", "key member [member ...] | (no arguments)", "Removes members from a set; how many were there. Without arguments it is Redis's DISCARD: drops the commands queued since MULTI.", collections::discard),
    cmd("UNION", -2, R, ALLKEYS, "containers", "key [key ...] [STORE dest]", "The union of sets (a missing key is empty); with STORE, stored in dest, answering its size.", collections::union).keys_by(keyspec::store_last),
    cmd("INTERSECT", -2, R, ALLKEYS, "containers", "key [key ...] [STORE dest]", "The intersection of sets; with STORE, stored in dest.", collections::intersect).keys_by(keyspec::store_last),
    cmd("DIFF", -2, R, ALLKEYS, "containers", "key [key ...] [STORE dest]", "The members of the first set in none of the others; with STORE, stored in dest.", collections::diff).keys_by(keyspec::store_last),
    // math
    cmd("SUM", -2, R, ALLKEYS, "math", "key [key ...]", "The sum of the numbers in lists, sets or dicts' values: exact for ints (an error past 64 bits), compensated for floats.", collections::sum),
    cmd("MIN", 2, R, KEY1, "math", "key", "The least number of a container; null if empty.", collections::min),
    cmd("MAX", 2, R, KEY1, "math", "key", "The greatest number of a container; null if empty.", collections::max),
    cmd("MEAN", 2, R, KEY1, "math", "key", "The mean of a container's numbers, as a float; null if empty.", collections::mean),
    cmd("STDDEV", 2, R, KEY1, "math", "key", "The population standard deviation of a container's numbers (one stable pass); null if empty.", collections::stddev),
    cmd("MEDIAN", 2, R, KEY1, "math", "key", "The middle number (the mean of the two middle ones for an even count); null if empty.", collections::median),
    // keys
    cmd("DEL", -2, W, ALLKEYS, "keys", "key [key ...]", "Deletes keys; returns how many existed.", keys::del),
    cmd("EXISTS", -2, RF, ALLKEYS, "keys", "key [key ...]", "Counts the keys that exist (a key named twice counts twice).", keys::exists),
    cmd("TYPE", -2, RF, ALLKEYS, "keys", "key [key ...]", "Names the type of a value (none if missing); a list of names for several keys.", keys::type_),
    cmd("RENAME", 3, W, (1, 2, 1), "keys", "key newkey", "Renames a key, replacing newkey; the expiry moves with it.", keys::rename).keys_by(keyspec::both_change),
    cmd("RENAMENX", 3, WF, KEY2, "keys", "key newkey", "Renames a key only if newkey does not exist: 1 if renamed, else 0.", keys::renamenx).keys_by(keyspec::both_change),
    cmd("COPY", -3, WG, KEY2, "keys", "source destination [DB n] [REPLACE]", "Copies a value and its expiry (O(1)): 1 if copied, 0 if the source is missing or the destination exists without REPLACE.", keys::copy).keys_by(keyspec::src_dst),
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
    cmd("SAVE", 1, A.or(Flags::NO_MULTI), NOKEYS, "server", "", "Writes a checkpoint now (the changed keys into SQLite, or a fresh snapshot when most keys changed) and answers when it is done.", server::save),
    cmd("SHUTDOWN", -1, A.or(Flags::NO_MULTI), NOKEYS, "server", "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]", "Stops the server as SIGTERM does: connections finish their current batch, the journal is written out and a last checkpoint taken; the connection closes without a reply. NOSAVE, SAVE, NOW and FORCE are accepted (the journal keeps every acknowledged write either way).", server::shutdown),
    cmd("BGSAVE", -1, A, NOKEYS, "server", "[SCHEDULE]", "Starts a checkpoint and answers at once.", server::bgsave),
    cmd("CONFIG", -2, A, NOKEYS, "server", "GET pattern [pattern ...] | SET name value [name value ...] | RESETSTAT | REWRITE | HELP", "Reads and changes settings, resets statistics, rewrites the config file.", server::config),
    cmd("LASTSAVE", 1, RF, NOKEYS, "server", "", "Unix time of the last finished checkpoint (or of the start).", server::lastsave),
    cmd("TIME", 1, RF, NOKEYS, "server", "", "The server's clock: [unix seconds, microseconds].", server::time),
    cmd("OBJECT", -2, R, (2, 2, 1), "server", "ENCODING key | REFCOUNT key | IDLETIME key | FREQ key | HELP", "Inspects how a value is stored and how recently or often it is used.", server::object),
    cmd("MEMORY", -2, R, (2, 2, 1), "server", "USAGE key [SAMPLES n] | HELP", "Estimates the bytes a key and its value take.", server::memory),
    // Redis spellings that Redis clients send (compatibility; the native verbs above are the way)
    cmd("INCRBY", 3, WGF, KEY1, "compat", "key increment", "Redis's INCRBY: INCR key increment.", values::incrby).rw(),
    cmd("DECRBY", 3, WGF, KEY1, "compat", "key decrement", "Redis's DECRBY: DECR key decrement.", values::decrby).rw(),
    cmd("INCRBYFLOAT", 3, WGF, KEY1, "compat", "key increment", "Redis's INCRBYFLOAT: INCR by a float amount, giving a float.", values::incrbyfloat).rw(),
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
    cmd("SETBIT", 4, WG, KEY1, "compat", "key offset 0|1", "Redis's SETBIT: sets one bit of a string (bit 0 is the first byte's highest), growing it with zero bytes; answers the bit it held.", strings::setbit),
    cmd("GETBIT", 3, RF, KEY1, "compat", "key offset", "Redis's GETBIT: one bit of a string (0 past its end or for a missing key).", strings::getbit),
    cmd("BITCOUNT", -2, R, KEY1, "compat", "key [start end [BYTE|BIT]]", "Redis's BITCOUNT: the set bits of a string, or of a range of its bytes (or bits); negative positions count from the end.", strings::bitcount),
    cmd("BITPOS", -3, R, KEY1, "compat", "key 0|1 [start [end [BYTE|BIT]]]", "Redis's BITPOS: the first bit that is 0 (or 1) in a string or a range of it, or -1; with no end the string reads as followed by zeros.", strings::bitpos),
    cmd("BITFIELD", -2, WG, KEY1, "compat", "key [GET type offset] [SET type offset value] [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ...", "Redis's BITFIELD: signed (i1-i64) or unsigned (u1-u63) integer fields of a bitmap at bit offsets (#n: the n-th field of that width), read, set or incremented in order, with WRAP, SAT or FAIL on overflow.", strings::bitfield),
    cmd("BITFIELD_RO", -2, R, KEY1, "compat", "key [GET type offset] ...", "Redis's BITFIELD_RO: BITFIELD's GET only.", strings::bitfield),
    cmd("BITOP", -4, WG, (2, -1, 1), "compat", "AND|OR|XOR|NOT destkey key [key ...]", "Redis's BITOP: combines strings byte by byte into destkey (shorter ones read as zeros past their end; NOT takes one); answers its length, and an empty result removes destkey.", strings::bitop).keys_by(keyspec::op_dest_sources),
    cmd("GETDEL", 2, WF, KEY1, "compat", "key", "Redis's GETDEL: the value, and the key is deleted.", strings::getdel).rw(),
    cmd("GETEX", -2, WF, KEY1, "compat", "key [EX s|PX ms|EXAT t|PXAT t|PERSIST]", "Redis's GETEX: the value, changing the key's expiry.", strings::getex).rw(),
    cmd("MSETNX", -3, WG, (1, -1, 2), "compat", "key value [key value ...]", "Redis's MSETNX: sets every pair if none of the keys exists (1), else nothing (0).", strings::msetnx),
    cmd("LCS", -3, R, KEY2, "compat", "key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]", "Redis's LCS: the longest common subsequence of two strings, its length, or the matching ranges.", strings::lcs),
    // Redis's lists
    cmd("LPUSH", -3, WGF, KEY1, "redis-list", "key element [element ...]", "Redis's LPUSH: elements onto the head, each in turn; the new length.", redis_types::lpush),
    cmd("RPUSH", -3, WGF, KEY1, "redis-list", "key element [element ...]", "Redis's RPUSH: elements onto the tail; the new length.", redis_types::rpush),
    cmd("LPUSHX", -3, WGF, KEY1, "redis-list", "key element [element ...]", "Redis's LPUSHX: LPUSH only onto an existing list.", redis_types::lpushx),
    cmd("RPUSHX", -3, WGF, KEY1, "redis-list", "key element [element ...]", "Redis's RPUSHX: RPUSH only onto an existing list.", redis_types::rpushx),
    cmd("LPOP", -2, WF, KEY1, "redis-list", "key [count]", "Redis's LPOP: removes and returns the first element (count of them); an emptied list is deleted.", redis_types::lpop).rw(),
    cmd("RPOP", -2, WF, KEY1, "redis-list", "key [count]", "Redis's RPOP: removes and returns the last element (count of them).", redis_types::rpop).rw(),
    cmd("LLEN", 2, RF, KEY1, "redis-list", "key", "Redis's LLEN: the length of a list.", redis_types::llen),
    cmd("LRANGE", 4, R, KEY1, "redis-list", "key start stop", "Redis's LRANGE: elements from start to stop, inclusive (negative counts from the end).", redis_types::lrange),
    cmd("LINDEX", 3, R, KEY1, "redis-list", "key index", "Redis's LINDEX: the element at index; nil if out of range.", redis_types::lindex),
    cmd("LSET", 4, WG, KEY1, "redis-list", "key index element", "Redis's LSET: replaces the element at index.", redis_types::lset),
    cmd("LREM", 4, W, KEY1, "redis-list", "key count element", "Redis's LREM: removes elements equal to element (count > 0 from the head, < 0 from the tail, 0 all).", redis_types::lrem),
    cmd("LINSERT", 5, WG, KEY1, "redis-list", "key BEFORE|AFTER pivot element", "Redis's LINSERT: inserts next to the first pivot; the new length, -1 without the pivot, 0 for a missing key.", redis_types::linsert),
    cmd("LTRIM", 4, W, KEY1, "redis-list", "key start stop", "Redis's LTRIM: keeps only the elements from start to stop.", redis_types::ltrim),
    cmd("LPOS", -3, R, KEY1, "redis-list", "key element [RANK rank] [COUNT n] [MAXLEN len]", "Redis's LPOS: the position(s) of matching elements.", redis_types::lpos),
    cmd("LMOVE", 5, WG, KEY2, "redis-list", "source destination LEFT|RIGHT LEFT|RIGHT", "Redis's LMOVE: pops from one end of source and pushes onto an end of destination.", redis_types::lmove).keys_by(keyspec::both_change),
    cmd("RPOPLPUSH", 3, WG, KEY2, "redis-list", "source destination", "Redis's RPOPLPUSH: LMOVE source destination RIGHT LEFT.", redis_types::rpoplpush).keys_by(keyspec::both_change),
    cmd("LMPOP", -4, WF, NOKEYS, "redis-list", "numkeys key [key ...] LEFT|RIGHT [COUNT count]", "Redis's LMPOP: pops from the first non-empty list: [key, [elements]].", redis_types::lmpop).keys_by(keyspec::numkeys_pop),
    cmd("BLPOP", -3, W, (1, -2, 1), "redis-list", "key [key ...] timeout", "Redis's BLPOP: LPOP of the first non-empty list, or waits (seconds, 0 forever) for a push, first come first served: [key, element] or nil.", redis_types::blpop).rw(),
    cmd("BRPOP", -3, W, (1, -2, 1), "redis-list", "key [key ...] timeout", "Redis's BRPOP: BLPOP from the tail.", redis_types::brpop).rw(),
    cmd("BLMOVE", 6, WG, KEY2, "redis-list", "source destination LEFT|RIGHT LEFT|RIGHT timeout", "Redis's BLMOVE: LMOVE, waiting for source to get an element.", redis_types::blmove).keys_by(keyspec::both_change),
    cmd("BRPOPLPUSH", 4, WG, KEY2, "redis-list", "source destination timeout", "Redis's BRPOPLPUSH: BLMOVE source destination RIGHT LEFT.", redis_types::brpoplpush).keys_by(keyspec::both_change),
    cmd("BLMPOP", -5, W, NOKEYS, "redis-list", "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]", "Redis's BLMPOP: LMPOP, waiting for one of the lists to get elements.", redis_types::blmpop).keys_by(keyspec::timeout_numkeys_pop),
    // Redis's hashes
    cmd("HSET", -4, WGF, KEY1, "redis-hash", "key field value [field value ...]", "Redis's HSET: sets fields of a hash (a dict); how many are new.", redis_types::hset),
    cmd("HMSET", -4, WGF, KEY1, "redis-hash", "key field value [field value ...]", "Redis's HMSET: HSET answering OK.", redis_types::hmset),
    cmd("HSETNX", 4, WGF, KEY1, "redis-hash", "key field value", "Redis's HSETNX: sets a field only if it is new.", redis_types::hsetnx),
    cmd("HGET", 3, RF, KEY1, "redis-hash", "key field", "Redis's HGET: a field's value.", redis_types::hget),
    cmd("HMGET", -3, RF, KEY1, "redis-hash", "key field [field ...]", "Redis's HMGET: the values of fields (nil for missing ones).", redis_types::hmget),
    cmd("HGETALL", 2, R, KEY1, "redis-hash", "key", "Redis's HGETALL: every field and value (a map in RESP3).", redis_types::hgetall),
    cmd("HDEL", -3, WF, KEY1, "redis-hash", "key field [field ...]", "Redis's HDEL: deletes fields; how many existed. An emptied hash is deleted.", redis_types::hdel),
    cmd("HEXISTS", 3, RF, KEY1, "redis-hash", "key field", "Redis's HEXISTS: 1 if the field exists.", redis_types::hexists),
    cmd("HLEN", 2, RF, KEY1, "redis-hash", "key", "Redis's HLEN: the number of fields.", redis_types::hlen),
    cmd("HSTRLEN", 3, RF, KEY1, "redis-hash", "key field", "Redis's HSTRLEN: the length in bytes of a field's value (its RESP2 text).", redis_types::hstrlen),
    cmd("HKEYS", 2, R, KEY1, "redis-hash", "key", "Redis's HKEYS: the fields.", redis_types::hkeys),
    cmd("HVALS", 2, R, KEY1, "redis-hash", "key", "Redis's HVALS: the values.", redis_types::hvals),
    cmd("HINCRBY", 4, WGF, KEY1, "redis-hash", "key field increment", "Redis's HINCRBY: adds to a field's integer.", redis_types::hincrby).rw(),
    cmd("HINCRBYFLOAT", 4, WGF, KEY1, "redis-hash", "key field increment", "Redis's HINCRBYFLOAT: adds a float to a field's number.", redis_types::hincrbyfloat).rw(),
    cmd("HRANDFIELD", -2, R, KEY1, "redis-hash", "key [count [WITHVALUES]]", "Redis's HRANDFIELD: random fields (negative count: with repeats).", redis_types::hrandfield),
    cmd("HSCAN", -3, R, KEY1, "redis-hash", "key cursor [MATCH pattern] [COUNT n] [NOVALUES]", "Redis's HSCAN: iterates a hash's fields and values.", redis_types::hscan),
    // Redis's sets
    cmd("SADD", -3, WGF, KEY1, "redis-set", "key member [member ...]", "Redis's SADD: adds members; how many are new.", redis_types::sadd),
    cmd("SREM", -3, WF, KEY1, "redis-set", "key member [member ...]", "Redis's SREM: removes members; how many were there. An emptied set is deleted.", redis_types::srem),
    cmd("SMEMBERS", 2, R, KEY1, "redis-set", "key", "Redis's SMEMBERS: every member.", redis_types::smembers),
    cmd("SISMEMBER", 3, RF, KEY1, "redis-set", "key member", "Redis's SISMEMBER: 1 if a member.", redis_types::sismember),
    cmd("SMISMEMBER", -3, RF, KEY1, "redis-set", "key member [member ...]", "Redis's SMISMEMBER: 1 or 0 for each member.", redis_types::smismember),
    cmd("SCARD", 2, RF, KEY1, "redis-set", "key", "Redis's SCARD: the number of members.", redis_types::scard),
    cmd("SPOP", -2, WF, KEY1, "redis-set", "key [count]", "Redis's SPOP: removes and returns random members (journaled as the SREM of them).", redis_types::spop).rw(),
    cmd("SRANDMEMBER", -2, R, KEY1, "redis-set", "key [count]", "Redis's SRANDMEMBER: random members (negative count: with repeats).", redis_types::srandmember),
    cmd("SUNION", -2, R, ALLKEYS, "redis-set", "key [key ...]", "Redis's SUNION.", redis_types::sunion),
    cmd("SINTER", -2, R, ALLKEYS, "redis-set", "key [key ...]", "Redis's SINTER.", redis_types::sinter),
    cmd("SDIFF", -2, R, ALLKEYS, "redis-set", "key [key ...]", "Redis's SDIFF.", redis_types::sdiff),
    cmd("SUNIONSTORE", -3, WG, ALLKEYS, "redis-set", "destination key [key ...]", "Redis's SUNIONSTORE: the union stored in destination; its size.", redis_types::sunionstore).keys_by(keyspec::dest_first),
    cmd("SINTERSTORE", -3, WG, ALLKEYS, "redis-set", "destination key [key ...]", "Redis's SINTERSTORE.", redis_types::sinterstore).keys_by(keyspec::dest_first),
    cmd("SDIFFSTORE", -3, WG, ALLKEYS, "redis-set", "destination key [key ...]", "Redis's SDIFFSTORE.", redis_types::sdiffstore).keys_by(keyspec::dest_first),
    cmd("SINTERCARD", -3, R, NOKEYS, "redis-set", "numkeys key [key ...] [LIMIT limit]", "Redis's SINTERCARD: the size of the intersection, up to LIMIT.", redis_types::sintercard).keys_by(keyspec::numkeys_read),
    cmd("SMOVE", 4, WF, KEY2, "redis-set", "source destination member", "Redis's SMOVE: moves a member between sets.", redis_types::smove).keys_by(keyspec::both_change),
    cmd("SSCAN", -3, R, KEY1, "redis-set", "key cursor [MATCH pattern] [COUNT n]", "Redis's SSCAN: iterates a set's members.", redis_types::sscan),
    // Redis's sorted sets
    cmd("ZADD", -4, WGF, KEY1, "redis-zset", "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]", "Redis's ZADD: adds members with scores, under the conditions; how many were added (or changed, with CH); with INCR, the new score.", redis_zset::zadd).rw(),
    cmd("ZINCRBY", 4, WGF, KEY1, "redis-zset", "key increment member", "Redis's ZINCRBY: adds to a member's score; the new score.", redis_zset::zincrby).rw(),
    cmd("ZREM", -3, WF, KEY1, "redis-zset", "key member [member ...]", "Redis's ZREM: removes members; how many were there. An emptied sorted set is deleted.", redis_zset::zrem),
    cmd("ZCARD", 2, RF, KEY1, "redis-zset", "key", "Redis's ZCARD: the number of members.", redis_zset::zcard),
    cmd("ZSCORE", 3, RF, KEY1, "redis-zset", "key member", "Redis's ZSCORE: a member's score.", redis_zset::zscore),
    cmd("ZMSCORE", -3, RF, KEY1, "redis-zset", "key member [member ...]", "Redis's ZMSCORE: the scores of members (nil for missing ones).", redis_zset::zmscore),
    cmd("ZRANK", -3, RF, KEY1, "redis-zset", "key member [WITHSCORE]", "Redis's ZRANK: a member's position, lowest score first.", redis_zset::zrank),
    cmd("ZREVRANK", -3, RF, KEY1, "redis-zset", "key member [WITHSCORE]", "Redis's ZREVRANK: a member's position, highest score first.", redis_zset::zrevrank),
    cmd("ZCOUNT", 4, RF, KEY1, "redis-zset", "key min max", "Redis's ZCOUNT: members with scores in a range ((x: exclusive, -inf, +inf).", redis_zset::zcount),
    cmd("ZLEXCOUNT", 4, RF, KEY1, "redis-zset", "key min max", "Redis's ZLEXCOUNT: members in a lex range ([a, (a, -, +).", redis_zset::zlexcount),
    cmd("ZRANGE", -4, R, KEY1, "redis-zset", "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]", "Redis's ZRANGE: members by rank, score or lex range.", redis_zset::zrange),
    cmd("ZREVRANGE", -4, R, KEY1, "redis-zset", "key start stop [WITHSCORES]", "Redis's ZREVRANGE: members by rank, highest first.", redis_zset::zrevrange),
    cmd("ZRANGEBYSCORE", -4, R, KEY1, "redis-zset", "key min max [WITHSCORES] [LIMIT offset count]", "Redis's ZRANGEBYSCORE.", redis_zset::zrangebyscore),
    cmd("ZREVRANGEBYSCORE", -4, R, KEY1, "redis-zset", "key max min [WITHSCORES] [LIMIT offset count]", "Redis's ZREVRANGEBYSCORE.", redis_zset::zrevrangebyscore),
    cmd("ZRANGEBYLEX", -4, R, KEY1, "redis-zset", "key min max [LIMIT offset count]", "Redis's ZRANGEBYLEX.", redis_zset::zrangebylex),
    cmd("ZREVRANGEBYLEX", -4, R, KEY1, "redis-zset", "key max min [LIMIT offset count]", "Redis's ZREVRANGEBYLEX.", redis_zset::zrevrangebylex),
    cmd("ZREMRANGEBYRANK", 4, W, KEY1, "redis-zset", "key start stop", "Redis's ZREMRANGEBYRANK.", redis_zset::zremrangebyrank),
    cmd("ZREMRANGEBYSCORE", 4, W, KEY1, "redis-zset", "key min max", "Redis's ZREMRANGEBYSCORE.", redis_zset::zremrangebyscore),
    cmd("ZREMRANGEBYLEX", 4, W, KEY1, "redis-zset", "key min max", "Redis's ZREMRANGEBYLEX.", redis_zset::zremrangebylex),
    cmd("ZPOPMIN", -2, WF, KEY1, "redis-zset", "key [count]", "Redis's ZPOPMIN: removes and returns the lowest-scored members.", redis_zset::zpopmin).rw(),
    cmd("ZPOPMAX", -2, WF, KEY1, "redis-zset", "key [count]", "Redis's ZPOPMAX: removes and returns the highest-scored members.", redis_zset::zpopmax).rw(),
    cmd("BZPOPMIN", -3, W, (1, -2, 1), "redis-zset", "key [key ...] timeout", "Redis's BZPOPMIN: ZPOPMIN of the first non-empty sorted set, or waits for one: [key, member, score] or nil.", redis_zset::bzpopmin).rw(),
    cmd("BZPOPMAX", -3, W, (1, -2, 1), "redis-zset", "key [key ...] timeout", "Redis's BZPOPMAX.", redis_zset::bzpopmax).rw(),
    cmd("ZMPOP", -4, WF, NOKEYS, "redis-zset", "numkeys key [key ...] MIN|MAX [COUNT count]", "Redis's ZMPOP: pops from the first non-empty sorted set: [key, [[member, score] ...]].", redis_zset::zmpop).keys_by(keyspec::numkeys_pop),
    cmd("BZMPOP", -5, W, NOKEYS, "redis-zset", "timeout numkeys key [key ...] MIN|MAX [COUNT count]", "Redis's BZMPOP: ZMPOP, waiting for one of the sorted sets to get members.", redis_zset::bzmpop).keys_by(keyspec::timeout_numkeys_pop),
    cmd("ZUNION", -3, R, NOKEYS, "redis-zset", "numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", "Redis's ZUNION (plain sets count with score 1).", redis_zset::zunion).keys_by(keyspec::numkeys_read),
    cmd("ZINTER", -3, R, NOKEYS, "redis-zset", "numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", "Redis's ZINTER.", redis_zset::zinter).keys_by(keyspec::numkeys_read),
    cmd("ZDIFF", -3, R, NOKEYS, "redis-zset", "numkeys key [key ...] [WITHSCORES]", "Redis's ZDIFF.", redis_zset::zdiff).keys_by(keyspec::numkeys_read),
    cmd("ZUNIONSTORE", -4, WG, KEY1, "redis-zset", "destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]", "Redis's ZUNIONSTORE: the union stored in destination; its size.", redis_zset::zunionstore).keys_by(keyspec::dest_numkeys),
    cmd("ZINTERSTORE", -4, WG, KEY1, "redis-zset", "destination numkeys key [key ...] [WEIGHTS weight ...] [AGGREGATE SUM|MIN|MAX]", "Redis's ZINTERSTORE.", redis_zset::zinterstore).keys_by(keyspec::dest_numkeys),
    cmd("ZDIFFSTORE", -4, WG, KEY1, "redis-zset", "destination numkeys key [key ...]", "Redis's ZDIFFSTORE.", redis_zset::zdiffstore).keys_by(keyspec::dest_numkeys),
    cmd("ZINTERCARD", -3, R, NOKEYS, "redis-zset", "numkeys key [key ...] [LIMIT limit]", "Redis's ZINTERCARD: the size of the intersection, up to LIMIT.", redis_zset::zintercard).keys_by(keyspec::numkeys_read),
    cmd("ZRANGESTORE", -5, WG, KEY2, "redis-zset", "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]", "Redis's ZRANGESTORE: a ZRANGE stored in dst; its size.", redis_zset::zrangestore).keys_by(keyspec::dst_src),
    cmd("ZRANDMEMBER", -2, R, KEY1, "redis-zset", "key [count [WITHSCORES]]", "Redis's ZRANDMEMBER.", redis_zset::zrandmember),
    cmd("ZSCAN", -3, R, KEY1, "redis-zset", "key cursor [MATCH pattern] [COUNT n]", "Redis's ZSCAN: iterates members and scores.", redis_zset::zscan),
    cmd("ACL", -2, A, NOKEYS, "server", "SETUSER name rule ... | GETUSER name | DELUSER name ... | LIST | USERS | WHOAMI | CAT [category] | LOG [count|RESET] | SAVE | LOAD | GENPASS [bits] | DRYRUN name command arg ... | HELP", "Users and their permissions, with Redis's rules plus ks:pattern keyspace rules (docs/security.md).", acl::acl),
    cmd("COMMAND", -1, C, NOKEYS, "server", "[COUNT | LIST | INFO name ... | DOCS [name ...] | GETKEYS command [arg ...]]", "Describes the commands, from the command table; GETKEYS names the keys a call would use.", server::command),
];
