//! Server settings: what the config file, flags, `CONFIG GET` and `CONFIG SET` see.
//!
//! Settings that can change at run time are atomics, read by the server on its hot path with a
//! relaxed load. [`SETTINGS`] is the one table `CONFIG GET`/`CONFIG SET` work from.

use std::path::PathBuf;
use std::sync::atomic::{
    AtomicBool, AtomicU16, AtomicU32, AtomicU8, AtomicUsize, Ordering::Relaxed,
};

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
    /// Seconds between checkpoints (0: only by `SAVE` and journal size).
    pub checkpoint_seconds: AtomicU32,
    /// Journal bytes after which a checkpoint runs.
    pub checkpoint_journal_bytes: AtomicUsize,
}

pub const DEFAULT_PORT: u16 = 7379;

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
            checkpoint_seconds: AtomicU32::new(300),
            checkpoint_journal_bytes: AtomicUsize::new(256 << 20),
        }
    }
}

/// Where data lives when no `dir` is given: relative to the working directory, as Redis's `dir`.
pub const DEFAULT_DIR: &str = "okdb-data";

impl Config {
    /// The fsync policy in force.
    pub fn fsync(&self) -> Fsync {
        Fsync::from_u8(self.appendfsync.load(Relaxed))
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
        doc:
            "Redis RDB snapshot rules: okdb checkpoints instead (checkpoint-seconds), always empty",
        get: |_| String::new(),
        set: None,
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
];
