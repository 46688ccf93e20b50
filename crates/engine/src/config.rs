//! Server settings: what the config file, flags, `CONFIG GET` and `CONFIG SET` see.
//!
//! Settings that can change at run time are atomics, read by the server on its hot path with a
//! relaxed load. [`SETTINGS`] is the one table `CONFIG GET`/`CONFIG SET` work from.

use std::path::PathBuf;
use std::sync::atomic::{
    AtomicBool, AtomicU16, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering::Relaxed,
};

use crate::evict::Policy;
use crate::journal::Fsync;

#[derive(Debug)]
pub struct Config {
    /// Address the server listens on (fixed at start).
    pub bind: String,
    /// Port the server listens on; the real one once bound (so port 0 reads back as chosen).
    pub port: AtomicU16,
    /// Most connections at once; the next one is refused with an error.
    pub maxclients: AtomicUsize,
    /// Longest bulk string a request may carry.
    pub max_bulk: AtomicUsize,
    /// Most bytes a client may have buffered in one unfinished request.
    pub max_request: AtomicUsize,
    /// Active expiry cycles per second.
    pub hz: AtomicU32,
    /// Threads serving connections (fixed at start); 0 means one per two cores.
    pub io_threads: AtomicUsize,
    /// Persistence on or off (fixed at start; `appendonly`).
    pub appendonly: AtomicBool,
    /// The `appendfsync` policy, as [`Fsync`] numbers.
    pub appendfsync: AtomicU8,
    /// The data directory (fixed at start).
    pub dir: PathBuf,
    /// Most bytes of memory (the allocator's count) before writes evict or are refused; 0 = no
    /// limit.
    pub maxmemory: AtomicU64,
    /// The eviction policy, as [`Policy`] numbers.
    pub maxmemory_policy: AtomicU8,
    /// Keys sampled per keyspace per eviction round.
    pub maxmemory_samples: AtomicUsize,
    /// How many numbered databases `SELECT`, `MOVE`, `COPY … DB` and `SWAPDB` reach.
    pub databases: AtomicUsize,
    /// Seconds between checkpoints (0: only by `SAVE` and journal size).
    pub checkpoint_seconds: AtomicU32,
    /// Journal bytes after which a checkpoint runs.
    pub checkpoint_journal_bytes: AtomicUsize,
    /// Most bytes of unfinished requests all clients together may have buffered; past it the
    /// client with the biggest buffer is closed.
    pub query_buffer_total: AtomicUsize,
    /// Seconds a client may stay idle before it is closed (Redis's `timeout`); 0 = never.
    pub timeout: AtomicU64,
    /// Seconds a new connection has to send its first complete request; 0 = no limit.
    pub first_request_timeout: AtomicU64,
    /// `client-output-buffer-limit`, by [`OutputClass`].
    pub output_limits: [OutputLimit; 3],
    /// Redis's encoding thresholds (`list-max-listpack-size`, …), by [`ENCODING_HINTS`]: kept
    /// so `CONFIG GET` reads back what was set; okdb has one representation per type and
    /// ignores them.
    pub encoding_hints: [std::sync::atomic::AtomicI64; ENCODING_HINTS.len()],
    /// `notify-keyspace-events`: which keyspace notifications are published (crate::notify
    /// bits; 0: none).
    pub notify_keyspace_events: AtomicU32,
    /// How much of the journal the change feed keeps for `LISTEN … FROM`: bytes and seconds.
    pub feed_retention_bytes: AtomicU64,
    pub feed_retention_seconds: AtomicU64,
    /// A script's budget (`RUN`): steps, bytes it allocates, milliseconds, call depth.
    pub script_max_steps: AtomicU64,
    pub script_max_memory: AtomicU64,
    pub script_time_limit: AtomicU64,
    pub script_max_depth: AtomicU32,
    /// Most entries `ACL LOG` keeps.
    pub acllog_max_len: AtomicUsize,
    /// Seconds a connection that must authenticate has to do it before it is closed; 0 = no
    /// limit.
    pub auth_timeout: AtomicU64,
}

/// Redis's encoding settings okdb accepts and ignores, with Redis's defaults.
pub const ENCODING_HINTS: [(&str, i64); 14] = [
    ("list-max-ziplist-size", -2),
    ("list-max-listpack-size", -2),
    ("list-compress-depth", 0),
    ("hash-max-ziplist-entries", 128),
    ("hash-max-ziplist-value", 64),
    ("hash-max-listpack-entries", 128),
    ("hash-max-listpack-value", 64),
    ("set-max-intset-entries", 512),
    ("set-max-listpack-entries", 128),
    ("set-max-listpack-value", 64),
    ("zset-max-ziplist-entries", 128),
    ("zset-max-ziplist-value", 64),
    ("zset-max-listpack-entries", 128),
    ("zset-max-listpack-value", 64),
];

/// The client classes of `client-output-buffer-limit`, in Redis's order of `CONFIG GET`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputClass {
    Normal = 0,
    Replica = 1,
    Pubsub = 2,
}

impl OutputClass {
    const ALL: [OutputClass; 3] = [
        OutputClass::Normal,
        OutputClass::Replica,
        OutputClass::Pubsub,
    ];

    fn name(self) -> &'static str {
        match self {
            OutputClass::Normal => "normal",
            OutputClass::Replica => "slave",
            OutputClass::Pubsub => "pubsub",
        }
    }

    fn parse(s: &str) -> Option<OutputClass> {
        match s.to_ascii_lowercase().as_str() {
            "normal" => Some(OutputClass::Normal),
            "slave" | "replica" => Some(OutputClass::Replica),
            "pubsub" => Some(OutputClass::Pubsub),
            _ => None,
        }
    }
}

/// One class's output limit: a client whose pending reply bytes exceed `hard`, or stay above
/// `soft` for `soft_seconds`, is closed. 0 turns a limit off.
#[derive(Debug)]
pub struct OutputLimit {
    pub hard: AtomicU64,
    pub soft: AtomicU64,
    pub soft_seconds: AtomicU64,
}

impl OutputLimit {
    const fn new(hard: u64, soft: u64, soft_seconds: u64) -> OutputLimit {
        OutputLimit {
            hard: AtomicU64::new(hard),
            soft: AtomicU64::new(soft),
            soft_seconds: AtomicU64::new(soft_seconds),
        }
    }
}

pub const DEFAULT_PORT: u16 = 7379;
/// `client-query-buffer-total-limit`'s default: 256 MiB of unfinished requests in all.
pub const DEFAULT_QUERY_BUFFER_TOTAL: usize = 256 << 20;
/// `client-output-buffer-limit normal`'s default hard limit: 1 GiB of one batch's replies.
pub const DEFAULT_NORMAL_HARD: u64 = 1 << 30;

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1".into(),
            port: AtomicU16::new(DEFAULT_PORT),
            maxclients: AtomicUsize::new(10_000),
            max_bulk: AtomicUsize::new(64 << 20),
            max_request: AtomicUsize::new(128 << 20),
            hz: AtomicU32::new(10),
            io_threads: AtomicUsize::new(0),
            appendonly: AtomicBool::new(false),
            appendfsync: AtomicU8::new(Fsync::EverySec as u8),
            dir: PathBuf::from(DEFAULT_DIR),
            databases: AtomicUsize::new(16),
            maxmemory: AtomicU64::new(0),
            maxmemory_policy: AtomicU8::new(Policy::NoEviction as u8),
            maxmemory_samples: AtomicUsize::new(5),
            checkpoint_seconds: AtomicU32::new(300),
            checkpoint_journal_bytes: AtomicUsize::new(256 << 20),
            query_buffer_total: AtomicUsize::new(DEFAULT_QUERY_BUFFER_TOTAL),
            timeout: AtomicU64::new(0),
            first_request_timeout: AtomicU64::new(10),
            output_limits: [
                // Redis's normal default is 0 0 0 (unlimited); okdb streams replies, so memory
                // stays bounded anyway, and the hard cap stops one small request from making
                // the server send gigabytes (docs/server.md).
                OutputLimit::new(DEFAULT_NORMAL_HARD, 0, 0),
                OutputLimit::new(256 << 20, 64 << 20, 60),
                OutputLimit::new(32 << 20, 8 << 20, 60),
            ],
            encoding_hints: ENCODING_HINTS.map(|(_, v)| std::sync::atomic::AtomicI64::new(v)),
            notify_keyspace_events: AtomicU32::new(0),
            feed_retention_bytes: AtomicU64::new(32 << 20),
            feed_retention_seconds: AtomicU64::new(3600),
            script_max_steps: AtomicU64::new(50_000_000),
            script_max_memory: AtomicU64::new(64 << 20),
            script_time_limit: AtomicU64::new(500),
            script_max_depth: AtomicU32::new(100),
            acllog_max_len: AtomicUsize::new(128),
            auth_timeout: AtomicU64::new(10),
        }
    }
}

/// Where data lives when no `dir` is given: relative to the working directory, as Redis's `dir`.
pub const DEFAULT_DIR: &str = "okdb-data";

impl Config {
    /// The fsync policy in force.
    /// The budget a script runs with now.
    pub fn script_limits(&self) -> okdb_lang::Limits {
        okdb_lang::Limits {
            steps: self.script_max_steps.load(Relaxed),
            memory: self.script_max_memory.load(Relaxed) as usize,
            time: std::time::Duration::from_millis(self.script_time_limit.load(Relaxed)),
            depth: self.script_max_depth.load(Relaxed),
        }
    }

    pub fn fsync(&self) -> Fsync {
        Fsync::from_u8(self.appendfsync.load(Relaxed))
    }

    /// The eviction policy in force.
    pub fn policy(&self) -> Policy {
        Policy::from_u8(self.maxmemory_policy.load(Relaxed))
    }

    /// A class's output limit.
    pub fn output_limit(&self, class: OutputClass) -> &OutputLimit {
        &self.output_limits[class as usize]
    }

    pub fn dir_display(&self) -> String {
        self.dir.display().to_string()
    }
}

/// Parses and stores a new value, or says why it is refused.
pub type Setter = fn(&Config, &str) -> Result<(), String>;

/// One `CONFIG` setting.
#[derive(Debug)]
pub struct Setting {
    pub name: &'static str,
    pub doc: &'static str,
    pub get: fn(&Config) -> String,
    /// None for settings fixed at start (set them in the config file or by flag).
    pub set: Option<Setter>,
}

fn parse_in<T: std::str::FromStr + PartialOrd + std::fmt::Display>(
    v: &str,
    min: T,
    max: T,
) -> Result<T, String> {
    match v.parse::<T>() {
        Ok(n) if n >= min && n <= max => Ok(n),
        _ => Err(format!("argument must be a number between {min} and {max}")),
    }
}

/// A memory size as Redis reads one: a number with an optional unit, `b`, `k` (1000), `kb`
/// (1024), `m`, `mb`, `g`, `gb`, any case.
pub fn parse_memory(v: &str) -> Result<u64, String> {
    let lower = v.trim().to_ascii_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &lower[digits.len()..];
    let mul: u64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1_000_000,
        "mb" => 1 << 20,
        "g" => 1_000_000_000,
        "gb" => 1 << 30,
        _ => return Err(format!("argument must be a memory value, got '{v}'")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or_else(|| format!("argument must be a memory value, got '{v}'"))
}

/// `client-output-buffer-limit` as `CONFIG GET` shows it: every class, bytes as numbers.
fn output_limits_text(c: &Config) -> String {
    OutputClass::ALL
        .iter()
        .map(|&class| {
            let l = c.output_limit(class);
            format!(
                "{} {} {} {}",
                class.name(),
                l.hard.load(Relaxed),
                l.soft.load(Relaxed),
                l.soft_seconds.load(Relaxed)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `CONFIG SET client-output-buffer-limit "<class> <hard> <soft> <seconds> …"`: one or more
/// classes, all checked before any is changed.
fn set_output_limits(c: &Config, v: &str) -> Result<(), String> {
    let words: Vec<&str> = v.split_whitespace().collect();
    if words.is_empty() || !words.len().is_multiple_of(4) {
        return Err(
            "wrong number of arguments: expected <class> <hard> <soft> <soft seconds>".into(),
        );
    }
    let mut parsed = Vec::new();
    for w in words.chunks(4) {
        let class = OutputClass::parse(w[0])
            .ok_or_else(|| format!("invalid client class '{}': normal, replica or pubsub", w[0]))?;
        let hard = parse_memory(w[1])?;
        let soft = parse_memory(w[2])?;
        let seconds = parse_in(w[3], 0u64, 1 << 31)?;
        parsed.push((class, hard, soft, seconds));
    }
    for (class, hard, soft, seconds) in parsed {
        let l = c.output_limit(class);
        l.hard.store(hard, Relaxed);
        l.soft.store(soft, Relaxed);
        l.soft_seconds.store(seconds, Relaxed);
    }
    Ok(())
}

/// Every setting `CONFIG GET` knows. `save` and `appendonly` are answered (as Redis names them)
/// so Redis tools that ask for them, such as `redis-benchmark`, get an answer.
pub static SETTINGS: &[Setting] = &[
    Setting {
        name: "bind",
        doc: "address to listen on (loopback only until authentication exists)",
        get: |c| c.bind.clone(),
        set: None,
    },
    Setting {
        name: "port",
        doc: "TCP port to listen on",
        get: |c| c.port.load(Relaxed).to_string(),
        set: None,
    },
    Setting {
        name: "maxclients",
        doc: "most connections at once",
        get: |c| c.maxclients.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.maxclients.store(parse_in(v, 1, 1_000_000)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "proto-max-bulk-len",
        doc: "longest bulk string in a request, in bytes",
        get: |c| c.max_bulk.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.max_bulk.store(parse_in(v, 1024, 1 << 40)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "client-query-buffer-limit",
        doc: "most bytes of one unfinished request a client may send",
        get: |c| c.max_request.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.max_request.store(parse_in(v, 1024, 1 << 40)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "client-query-buffer-total-limit",
        doc: "most bytes of unfinished requests all clients together may hold; past it the client with the biggest one is closed",
        get: |c| c.query_buffer_total.load(Relaxed).to_string(),
        set: Some(|c, v| {
            let n = parse_memory(v)?;
            c.query_buffer_total
                .store(usize::try_from(n).unwrap_or(usize::MAX).max(1024), Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "client-output-buffer-limit",
        doc: "<class> <hard> <soft> <soft seconds>: a client whose pending reply bytes pass hard, or stay over soft that long, is closed (0 = off; okdb enforces normal)",
        get: output_limits_text,
        set: Some(set_output_limits),
    },
    Setting {
        name: "timeout",
        doc: "seconds a client may stay idle before it is closed; 0 = never",
        get: |c| c.timeout.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.timeout.store(parse_in(v, 0, 1 << 31)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "first-request-timeout",
        doc: "seconds a new connection has to send its first complete request; 0 = no limit",
        get: |c| c.first_request_timeout.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.first_request_timeout.store(parse_in(v, 0, 1 << 31)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "auth-timeout",
        doc: "seconds a connection that must authenticate has to do it; 0 = no limit",
        get: |c| c.auth_timeout.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.auth_timeout.store(parse_in(v, 0, 1 << 31)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "acllog-max-len",
        doc: "most entries ACL LOG keeps",
        get: |c| c.acllog_max_len.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.acllog_max_len.store(parse_in(v, 0, 1 << 20)? as usize, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "hz",
        doc: "active expiry cycles per second",
        get: |c| c.hz.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.hz.store(parse_in(v, 1, 500)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "io-threads",
        doc: "threads serving connections, fixed at start; 0 = one per two cores",
        get: |c| c.io_threads.load(Relaxed).to_string(),
        set: None,
    },
    Setting {
        name: "save",
        doc: "Redis RDB snapshot rules: okdb checkpoints instead (checkpoint-seconds), so always empty; setting it empty is accepted",
        get: |_| String::new(),
        set: Some(|_, v| {
            if v.trim().is_empty() {
                Ok(())
            } else {
                Err("okdb checkpoints by checkpoint-seconds and checkpoint-journal-bytes; save takes only an empty value".into())
            }
        }),
    },
    Setting {
        name: "appendonly",
        doc: "persistence (journal + SQLite checkpoints): yes or no, fixed at start",
        get: |c| {
            if c.appendonly.load(Relaxed) {
                "yes"
            } else {
                "no"
            }
            .into()
        },
        set: None,
    },
    Setting {
        name: "appendfsync",
        doc: "when a write is on disk before it is acknowledged: always, everysec or no",
        get: |c| c.fsync().name().into(),
        set: Some(|c, v| {
            let f = Fsync::parse(v)
                .ok_or_else(|| "argument must be one of always, everysec, no".to_string())?;
            c.appendfsync.store(f as u8, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "dir",
        doc: "data directory (journal segments and the SQLite checkpoint), fixed at start",
        get: |c| c.dir_display(),
        set: None,
    },
    Setting {
        name: "maxmemory",
        doc: "most memory (bytes; units b, k, kb, m, mb, g, gb as Redis) before writes evict keys or are refused; 0 = no limit",
        get: |c| c.maxmemory.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.maxmemory.store(parse_memory(v)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "maxmemory-policy",
        doc: "what goes when memory is full: noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl",
        get: |c| c.policy().name().into(),
        set: Some(|c, v| {
            let p = Policy::parse(v).ok_or_else(|| "argument(s) must be one of the following: noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random, volatile-ttl".to_string())?;
            c.maxmemory_policy.store(p as u8, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "maxmemory-samples",
        doc: "keys sampled per keyspace per eviction round (more: closer to true LRU/LFU, slower)",
        get: |c| c.maxmemory_samples.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.maxmemory_samples.store(parse_in(v, 1, 64)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "script-max-steps",
        doc: "most steps (statements, loop rounds, calls) a script may run before it stops with BUDGET and its writes are undone",
        get: |c| c.script_max_steps.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.script_max_steps.store(parse_in(v, 1_000, u64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "script-max-memory",
        doc: "most bytes a script may allocate (strings and container slots it makes, counted as made; units as maxmemory)",
        get: |c| c.script_max_memory.load(Relaxed).to_string(),
        set: Some(|c, v| {
            let n = parse_memory(v)?;
            if n < 64 << 10 {
                return Err("script-max-memory must be at least 64kb".into());
            }
            c.script_max_memory.store(n, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "script-time-limit",
        doc: "milliseconds a script may run (it holds the store meanwhile, so other clients wait at most this long)",
        get: |c| c.script_time_limit.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.script_time_limit.store(parse_in(v, 1, 60_000)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "script-max-depth",
        doc: "most nested calls of a script's own functions",
        get: |c| c.script_max_depth.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.script_max_depth.store(parse_in(v, 1, 200)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "notify-keyspace-events",
        doc: "which keyspace notifications are published, as Redis's letters (K keyspace, E keyevent, g generic, $ string, l list, s set, h hash, z zset, x expired, e evicted, A all); empty: none",
        get: |c| crate::notify::flags_to_string(c.notify_keyspace_events.load(Relaxed)),
        set: Some(|c, v| {
            let f = crate::notify::parse_flags(v)
                .ok_or_else(|| format!("Invalid event class character in '{v}'"))?;
            c.notify_keyspace_events.store(f, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "feed-retention-bytes",
        doc: "journal bytes the change feed keeps for LISTEN … FROM (in memory, and the journal segments holding them on disk); units as maxmemory",
        get: |c| c.feed_retention_bytes.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.feed_retention_bytes.store(parse_memory(v)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "feed-retention-seconds",
        doc: "seconds of changes the change feed keeps for LISTEN … FROM (0: only by bytes)",
        get: |c| c.feed_retention_seconds.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.feed_retention_seconds.store(parse_in(v, 0, 365 * 86_400)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "databases",
        doc: "how many numbered databases SELECT reaches (0 to n-1); named keyspaces (USE) are not limited",
        get: |c| c.databases.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.databases.store(parse_in(v, 1, 1_000_000)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "checkpoint-seconds",
        doc: "seconds between checkpoints of changed keys (0: only by SAVE and journal size)",
        get: |c| c.checkpoint_seconds.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.checkpoint_seconds.store(parse_in(v, 0, 86_400)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "checkpoint-journal-bytes",
        doc: "journal size that triggers a checkpoint",
        get: |c| c.checkpoint_journal_bytes.load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.checkpoint_journal_bytes
                .store(parse_in(v, 1 << 20, 1 << 40)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "list-max-ziplist-size",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[0].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[0].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "list-max-listpack-size",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[1].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[1].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "list-compress-depth",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[2].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[2].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "hash-max-ziplist-entries",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[3].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[3].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "hash-max-ziplist-value",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[4].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[4].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "hash-max-listpack-entries",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[5].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[5].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "hash-max-listpack-value",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[6].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[6].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "set-max-intset-entries",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[7].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[7].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "set-max-listpack-entries",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[8].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[8].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "set-max-listpack-value",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[9].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[9].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "zset-max-ziplist-entries",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[10].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[10].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "zset-max-ziplist-value",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[11].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[11].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "zset-max-listpack-entries",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[12].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[12].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
    Setting {
        name: "zset-max-listpack-value",
        doc: "Redis's encoding threshold: accepted and ignored (okdb has one representation per type)",
        get: |c| c.encoding_hints[13].load(Relaxed).to_string(),
        set: Some(|c, v| {
            c.encoding_hints[13].store(parse_in(v, i64::MIN, i64::MAX)?, Relaxed);
            Ok(())
        }),
    },
];
