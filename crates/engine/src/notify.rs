//! Change names and Redis's keyspace notifications.
//!
//! Every write's effects are named by an *op*: the event Redis's keyspace notifications give
//! that command (`set`, `incrby`, `lpush`, `hdel`, `rename_from`, …; [`event_of`]), or for
//! okdb's own verbs their lower-case name (`push`, `pop`, `insert`, …). Expiry is `expired`,
//! eviction `evicted`. The op goes into the journal record in front of the effects it names
//! ([`crate::effects::Effect::Op`]), so the change feed gives the same op live and when it reads
//! the journal back.
//!
//! Keyspace notifications (`notify-keyspace-events`) are published from the same effects after
//! each write (after the commit for a transaction: an undone script notifies nothing), to
//! `__keyspace@<keyspace>__:<key>` (the event) and `__keyevent@<keyspace>__:<event>` (the key),
//! where `<keyspace>` is the database number for `SELECT`'s keyspaces and the name for others.

use smol_str::SmolStr;

use crate::effects::Effect;
use crate::key::Key;

/// Notification classes, Redis's bits.
pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const MODULE: u32 = 1 << 12;
pub const NEW: u32 = 1 << 13;
/// `A`: every class but key misses and new keys.
pub const ALL: u32 =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// Reads `notify-keyspace-events` as Redis does (`KEA`, `Ex`, `""`); None for an unknown letter.
pub fn parse_flags(s: &str) -> Option<u32> {
    let mut f = 0;
    for c in s.chars() {
        f |= match c {
            'A' => ALL,
            'g' => GENERIC,
            '$' => STRING,
            'l' => LIST,
            's' => SET,
            'h' => HASH,
            'z' => ZSET,
            'x' => EXPIRED,
            'e' => EVICTED,
            'K' => KEYSPACE,
            'E' => KEYEVENT,
            't' => STREAM,
            'm' => KEY_MISS,
            'd' => MODULE,
            'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// The setting as `CONFIG GET` spells it (Redis's order).
pub fn flags_to_string(f: u32) -> String {
    let mut s = String::new();
    if f & ALL == ALL {
        s.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
        ] {
            if f & bit != 0 {
                s.push(c);
            }
        }
    }
    if f & NEW != 0 {
        s.push('n');
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if f & bit != 0 {
            s.push(c);
        }
    }
    s
}

/// The op of a command's write to the key at position `key_pos` among its keys (0: the first):
/// Redis's event name for Redis's commands, the lower-case name for okdb's own.
pub fn event_of(command: &str, args: &[&[u8]], key_pos: usize) -> SmolStr {
    let arg_is = |i: usize, s: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(s.as_bytes()))
    };
    let from_to = |from: &'static str, to: &'static str| if key_pos == 0 { from } else { to };
    let e: &str = match command {
        "SET" | "SETNX" | "SETEX" | "PSETEX" | "GETSET" | "MSET" | "MSETNX" => "set",
        "INCR" | "DECR" | "INCRBY" | "DECRBY" => "incrby",
        "INCRBYFLOAT" => "incrbyfloat",
        "UNLINK" | "GETDEL" => "del",
        "EXPIRE" | "PEXPIRE" | "EXPIREAT" | "PEXPIREAT" => "expire",
        "LPUSHX" => "lpush",
        "RPUSHX" => "rpush",
        "BLPOP" => "lpop",
        "BRPOP" => "rpop",
        "LMPOP" | "BLMPOP" => {
            if args.iter().any(|a| a.eq_ignore_ascii_case(b"RIGHT")) {
                "rpop"
            } else {
                "lpop"
            }
        }
        "RPOPLPUSH" | "BRPOPLPUSH" => from_to("rpop", "lpush"),
        "LMOVE" | "BLMOVE" => {
            if key_pos == 0 {
                if arg_is(3, "LEFT") {
                    "lpop"
                } else {
                    "rpop"
                }
            } else if arg_is(4, "LEFT") {
                "lpush"
            } else {
                "rpush"
            }
        }
        "HMSET" | "HSETNX" => "hset",
        "SMOVE" => from_to("srem", "sadd"),
        "ZINCRBY" => "zincr",
        "ZADD" if args.iter().any(|a| a.eq_ignore_ascii_case(b"INCR")) => "zincr",
        "BZPOPMIN" => "zpopmin",
        "BZPOPMAX" => "zpopmax",
        "ZMPOP" | "BZMPOP" => {
            if args.iter().any(|a| a.eq_ignore_ascii_case(b"MAX")) {
                "zpopmax"
            } else {
                "zpopmin"
            }
        }
        "RENAME" | "RENAMENX" => from_to("rename_from", "rename_to"),
        "COPY" => "copy_to",
        "MOVE" => from_to("move_from", "move_to"),
        "SORT" => "sortstore",
        _ => {
            let mut buf = [0u8; 32];
            let n = command.len().min(buf.len());
            buf[..n].copy_from_slice(&command.as_bytes()[..n]);
            buf[..n].make_ascii_lowercase();
            return SmolStr::new(std::str::from_utf8(&buf[..n]).unwrap_or(command));
        }
    };
    SmolStr::new_static(e)
}

/// Commands whose op depends on their arguments.
fn by_arguments(command: &str) -> bool {
    matches!(
        command,
        "LMPOP" | "BLMPOP" | "LMOVE" | "BLMOVE" | "ZADD" | "ZMPOP" | "BZMPOP"
    )
}

/// The op of the command at `index` of the command table writing its first key: computed
/// once per command (a write pays a clone of an inline string), or from the arguments for the
/// few whose op depends on them.
pub fn op_of(index: usize, args: &[&[u8]]) -> SmolStr {
    static OPS: std::sync::OnceLock<Vec<SmolStr>> = std::sync::OnceLock::new();
    let name = crate::COMMANDS[index].name;
    if by_arguments(name) {
        return event_of(name, args, 0);
    }
    let ops = OPS.get_or_init(|| {
        crate::COMMANDS
            .iter()
            .map(|c| event_of(c.name, &[], 0))
            .collect()
    });
    ops[index].clone()
}

/// The class of an event, by its name; None for okdb's own verbs (their class comes from the
/// value's type, [`class_of_value`]).
fn class_of_event(event: &str) -> Option<u32> {
    Some(match event {
        "del" | "expire" | "persist" | "rename_from" | "rename_to" | "copy_to" | "move_from"
        | "move_to" | "restore" | "sortstore" => GENERIC,
        "expired" => EXPIRED,
        "evicted" => EVICTED,
        "set" | "incrby" | "incrbyfloat" | "append" | "setrange" => STRING,
        "lpush" | "rpush" | "lpop" | "rpop" | "linsert" | "lset" | "lrem" | "ltrim" => LIST,
        "hset" | "hincrby" | "hincrbyfloat" | "hdel" => HASH,
        "sadd" | "srem" | "spop" | "sinterstore" | "sunionstore" | "sdiffstore" => SET,
        e if e.starts_with('z') => ZSET,
        _ => return None,
    })
}

/// The class of a change to a value of this type.
pub fn class_of_value(v: Option<&okdb_value::Value>) -> u32 {
    use okdb_value::Value;
    match v {
        Some(Value::List(_) | Value::Deque(_)) => LIST,
        Some(Value::Set(_)) => SET,
        Some(Value::Dict(_)) => HASH,
        Some(Value::SortedSet(_)) => ZSET,
        Some(_) => STRING,
        None => GENERIC,
    }
}

/// One keyspace notification to publish.
#[derive(Debug, Clone)]
pub struct Event {
    pub keyspace: SmolStr,
    pub key: Key,
    pub event: SmolStr,
    pub class: u32,
}

/// One change a record made, with its name: the walk over a record's effects that the change
/// feed and keyspace notifications share.
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    /// The effect's place in the record.
    pub at: usize,
    /// The op of the command that made it ([`Effect::Op`]).
    pub op: &'a str,
    /// What the change is called: the op, or what the effect says itself (`del`, `expire`,
    /// `persist`, `rename_from`, `rename_to`, `flushdb`, `flushall`, `swapdb`); a deletion by
    /// expiry, eviction, `RENAME` or `MOVE` keeps the op (`expired`, `evicted`, …).
    pub name: &'a str,
    pub keyspace: &'a str,
    /// None for the whole-keyspace writes.
    pub key: Option<&'a Key>,
    pub effect: &'a Effect,
}

/// Calls `f` with each change of a record, in order (a rename is two: `rename_from` then
/// `rename_to`).
pub fn each_change<'a>(effects: &'a [Effect], mut f: impl FnMut(Named<'a>)) {
    let mut op: &str = "set";
    for (at, effect) in effects.iter().enumerate() {
        let named = |name, keyspace, key| Named {
            at,
            op,
            name,
            keyspace,
            key,
            effect,
        };
        let change = match effect {
            Effect::Op(o) => {
                op = o;
                continue;
            }
            Effect::Put { keyspace, key, .. } | Effect::Change { keyspace, key, .. } => {
                named(op, keyspace, Some(key))
            }
            Effect::Del { keyspace, key } => {
                let name = match op {
                    "expired" | "evicted" | "rename_from" | "move_from" => op,
                    _ => "del",
                };
                named(name, keyspace, Some(key))
            }
            Effect::Expire { keyspace, key, at } => {
                let name = if *at == 0 { "persist" } else { "expire" };
                named(name, keyspace, Some(key))
            }
            Effect::Rename { keyspace, from, to } => {
                f(named("rename_from", keyspace, Some(from)));
                named("rename_to", keyspace, Some(to))
            }
            Effect::Flush { keyspace } => named("flushdb", keyspace, None),
            Effect::FlushAll => named("flushall", "*", None),
            Effect::Swap { a, .. } => named("swapdb", a, None),
        };
        f(change);
    }
}

/// The notifications of a record's effects ([`each_change`]; whole-keyspace writes notify
/// nothing). `value_of` looks up a key's value now (the class of okdb's own verbs comes from
/// it).
pub fn events(
    effects: &[Effect],
    mut value_of: impl FnMut(&str, &Key) -> Option<u32>,
    out: &mut Vec<Event>,
) {
    each_change(effects, |c| {
        let Some(key) = c.key else { return };
        let mut push = |event: &str, class: u32| {
            out.push(Event {
                keyspace: c.keyspace.into(),
                key: key.clone(),
                event: SmolStr::new(event),
                class,
            })
        };
        match c.effect {
            Effect::Put {
                value, expire_at, ..
            } => {
                let class = class_of_event(c.name).unwrap_or_else(|| class_of_value(Some(value)));
                push(c.name, class);
                if *expire_at != 0 && matches!(c.op, "set" | "getex") {
                    push("expire", GENERIC);
                }
            }
            Effect::Change { .. } => {
                let class = class_of_event(c.name)
                    .or_else(|| value_of(c.keyspace, key))
                    .unwrap_or(STRING);
                push(c.name, class);
            }
            Effect::Del { .. } => match c.name {
                "expired" => push(c.name, EXPIRED),
                "evicted" => push(c.name, EVICTED),
                "del" => {
                    // A pop or removal that emptied the container: its event, then `del`.
                    if !matches!(c.op, "del" | "expire" | "getex") {
                        if let Some(class) = class_of_event(c.op).filter(|c| *c != GENERIC) {
                            push(c.op, class);
                        }
                    }
                    push("del", GENERIC);
                }
                _ => push(c.name, GENERIC),
            },
            // expire, persist, rename_from, rename_to
            _ => push(c.name, GENERIC),
        }
    });
}

/// The channel part naming a keyspace: `SELECT`'s keyspaces are numbers already.
pub fn channel(kind: &str, keyspace: &str, name: &[u8]) -> bytes::Bytes {
    let mut c = Vec::with_capacity(16 + keyspace.len() + name.len());
    c.extend_from_slice(b"__");
    c.extend_from_slice(kind.as_bytes());
    c.push(b'@');
    c.extend_from_slice(keyspace.as_bytes());
    c.extend_from_slice(b"__:");
    c.extend_from_slice(name);
    c.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_and_print_as_redis_does() {
        assert_eq!(
            parse_flags("KEA").map(flags_to_string).as_deref(),
            Some("AKE")
        );
        assert_eq!(
            parse_flags("Ex").map(flags_to_string).as_deref(),
            Some("xE")
        );
        assert_eq!(parse_flags("").map(flags_to_string).as_deref(), Some(""));
        assert_eq!(parse_flags("Kq"), None);
        assert_eq!(
            parse_flags("g$lshzxetdKE").map(flags_to_string).as_deref(),
            Some("AKE")
        );
    }

    #[test]
    fn redis_commands_keep_redis_event_names() {
        assert_eq!(event_of("INCR", &[], 0), "incrby");
        assert_eq!(event_of("LPUSH", &[], 0), "lpush");
        assert_eq!(event_of("RENAME", &[], 1), "rename_to");
        assert_eq!(event_of("PUSH", &[], 0), "push");
    }
}
