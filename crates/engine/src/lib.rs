//! okdb's engine: keyspaces, expiry, the command table and every command handler.
//!
//! Architecture invariant: the engine does no I/O. It knows no sockets, no protocol (a handler
//! returns a [`Reply`], and the server decides how RESP2 or RESP3 spells it), no files and no
//! threads; the server drives it (it calls [`Engine::active_expire`] on a timer).
//!
//! The server runs pipelined commands under locks of the store (an [`Executor`] per lock):
//!
//! ```
//! # use okdb_engine::{Engine, Config};
//! let engine = Engine::new(Config::default());
//! let mut session = engine.connect("127.0.0.1:5000".into()).unwrap();
//! let mut exec = engine.lock();
//! // The arguments are borrowed: the server lends slices of the request it read.
//! let reply = exec.execute(&mut session, &[&b"SET"[..], b"k", b"5"]);
//! assert_eq!(reply, okdb_engine::Reply::Ok);
//! ```

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use bytes::Bytes;
use okdb_value::literal::Literals;
use okdb_value::Value;
use smol_str::SmolStr;

pub mod acl;
pub mod args;
pub mod command;
mod commands;
pub mod config;
pub mod effects;
pub mod evict;
pub mod feed;
pub mod glob;
pub mod journal;
pub mod key;
pub mod keyspace;
pub mod notify;
pub mod pubsub;
mod reply;
pub mod script;
pub mod time;
pub mod waiting;

pub use command::{CommandSpec, Flags, COMMANDS};
pub use config::Config;
pub use keyspace::{Keyspace, Store, DEFAULT_KEYSPACE};
pub use reply::{CmdError, ListRange, Reply};

/// Version reported by `HELLO`, `INFO` and `okdb --version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Redis version okdb reports for clients that check it (the protocol level it speaks).
pub const REDIS_COMPAT_VERSION: &str = "7.2.0";

/// Process figures the engine cannot read itself (it does no I/O); the server provides them.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessStats {
    pub rss_bytes: u64,
    pub pid: u32,
    /// Bytes the allocator has handed out and not yet been given back, if it counts them.
    pub allocated_bytes: Option<u64>,
    /// CPU time the process has used, user and system, in seconds.
    pub cpu_user: f64,
    pub cpu_sys: f64,
}

/// Counters shown by `INFO stats`, `INFO commandstats` and `INFO errorstats`; `CONFIG
/// RESETSTAT` zeroes them.
#[derive(Debug)]
pub struct Stats {
    pub commands: AtomicU64,
    pub connections: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub expired_keys: AtomicU64,
    pub evicted_keys: AtomicU64,
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    /// `AUTH`s that failed (`INFO stats` acl_access_denied_auth).
    pub auth_failures: AtomicU64,
    /// Commands refused by the ACL, by what was refused: command, key, channel, keyspace
    /// (`INFO stats` acl_access_denied_*).
    pub acl_denied: [AtomicU64; 4],
    /// Per command, in [`COMMANDS`] order.
    pub per_command: Box<[CommandStats]>,
    /// Error replies by their first word (`ERR`, `WRONGTYPE`, …).
    pub errors: Mutex<BTreeMap<&'static str, u64>>,
    /// Samples of (time, commands processed) for `instantaneous_ops_per_sec`.
    ops_samples: Mutex<std::collections::VecDeque<(Instant, u64)>>,
}

/// One command's counters: calls that ran, calls that answered an error while running
/// (failed), and calls refused before running (rejected: wrong arity, refused writes).
#[derive(Debug, Default)]
pub struct CommandStats {
    pub calls: AtomicU64,
    pub failed: AtomicU64,
    pub rejected: AtomicU64,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            commands: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            rejected_connections: AtomicU64::new(0),
            expired_keys: AtomicU64::new(0),
            evicted_keys: AtomicU64::new(0),
            keyspace_hits: AtomicU64::new(0),
            keyspace_misses: AtomicU64::new(0),
            auth_failures: AtomicU64::new(0),
            acl_denied: Default::default(),
            per_command: COMMANDS.iter().map(|_| CommandStats::default()).collect(),
            errors: Mutex::new(BTreeMap::new()),
            ops_samples: Mutex::new(Default::default()),
        }
    }
}

impl Stats {
    /// `CONFIG RESETSTAT`.
    pub fn reset(&self) {
        for c in [
            &self.commands,
            &self.connections,
            &self.rejected_connections,
            &self.expired_keys,
            &self.evicted_keys,
            &self.keyspace_hits,
            &self.keyspace_misses,
        ] {
            c.store(0, Relaxed);
        }
        for c in self.per_command.iter() {
            c.calls.store(0, Relaxed);
            c.failed.store(0, Relaxed);
            c.rejected.store(0, Relaxed);
        }
        lock(&self.errors).clear();
        lock(&self.ops_samples).clear();
    }

    /// Error replies so far (the sum of the per-prefix counts).
    pub fn error_replies(&self) -> u64 {
        lock(&self.errors).values().sum()
    }

    /// Notes an error reply by its prefix.
    fn error(&self, e: &CmdError) {
        *lock(&self.errors).entry(e.prefix).or_default() += 1;
    }

    /// Takes a sample of the command counter (at most every 100 ms; 16 kept, as Redis does).
    pub fn sample_ops(&self) {
        let mut s = lock(&self.ops_samples);
        let now = Instant::now();
        if s.back()
            .is_some_and(|(t, _)| now.duration_since(*t).as_millis() < 100)
        {
            return;
        }
        s.push_back((now, self.commands.load(Relaxed)));
        if s.len() > 17 {
            s.pop_front();
        }
    }

    /// Commands per second over the sampled window.
    pub fn ops_per_sec(&self) -> u64 {
        let s = lock(&self.ops_samples);
        match (s.front(), s.back()) {
            (Some((t0, c0)), Some((t1, c1))) if t1 > t0 => {
                ((c1 - c0) as f64 / t1.duration_since(*t0).as_secs_f64()) as u64
            }
            _ => 0,
        }
    }
}

/// What `CLIENT LIST` shows of every connection.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    pub addr: String,
    pub name: Option<String>,
    pub keyspace: SmolStr,
    pub created: Instant,
    pub lib: Option<String>,
    /// The user it is authenticated as.
    pub user: String,
    /// Closes the connection (`CLIENT KILL`, `ACL DELUSER`): set by the server.
    pub closer: Option<Closer>,
}

/// Picks up the session's user again after the users changed (its `LISTEN` too). False if its
/// pub/sub subscriptions are no longer all allowed: the connection is then closed, as Redis
/// closes it.
fn refresh_user(shared: &Shared, session: &mut Session, gen: u64) -> bool {
    let acl = lock(&shared.acl);
    session.user = match acl.user(&session.user.name) {
        Some(u) => u.clone(),
        // Deleted (its connections are being closed): it may do nothing meanwhile.
        None => std::sync::Arc::new(acl::User::new(&session.user.name)),
    };
    session.acl_gen = gen;
    if let Some(l) = session.listen.as_mut() {
        l.user = (!session.user.unrestricted).then(|| session.user.clone());
    }
    session.user.unrestricted
        || session
            .subs
            .as_ref()
            .is_none_or(|s| s.allowed(&session.user))
}

/// Makes `user` the one a session acts as (after `AUTH`, or `RESET`), and whether it counts
/// as logged in; `CLIENT LIST` shows it.
fn act_as(
    shared: &Shared,
    session: &mut Session,
    user: std::sync::Arc<acl::User>,
    logged_in: bool,
) {
    if let Some(c) = lock(&shared.clients).get_mut(&session.id) {
        c.user = user.name.clone();
    }
    session.user = user;
    session.acl_gen = shared.acl_gen.load(Relaxed);
    session.authenticated = logged_in;
}

/// Logs a failed `AUTH` in `ACL LOG` and counts it.
fn auth_failed(shared: &Shared, session: &Session, username: &str, now: u64) {
    shared.stats.auth_failures.fetch_add(1, Relaxed);
    let info = client_info(shared, session);
    let max = shared.config.acllog_max_len.load(Relaxed);
    lock(&shared.acl).log("auth", "toplevel", "AUTH", username, info, now, max);
}

/// Who a connection is, for `ACL LOG`.
fn client_info(shared: &Shared, session: &Session) -> String {
    let clients = lock(&shared.clients);
    let addr = clients.get(&session.id).map_or("", |c| c.addr.as_str());
    format!(
        "id={} addr={addr} user={} keyspace={}",
        session.id, session.user.name, session.keyspace
    )
}

/// Closes one connection; the server provides it ([`Engine::set_closer`]).
#[derive(Clone)]
pub struct Closer(pub std::sync::Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for Closer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Closer")
    }
}

/// Reads and writes the ACL file (`aclfile`): the host provides it ([`Engine::set_acl_file`]).
pub struct AclFile {
    pub path: String,
    pub load: Box<dyn Fn() -> Result<String, String> + Send + Sync>,
    pub save: SaveAcl,
}

/// Writes the ACL file's text (the binary writes it atomically).
pub type SaveAcl = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

impl std::fmt::Debug for AclFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AclFile").field("path", &self.path).finish()
    }
}

/// State shared by all connections.
pub struct Shared {
    store: Mutex<Store>,
    clients: Mutex<BTreeMap<u64, ClientInfo>>,
    next_client_id: AtomicU64,
    pub config: Config,
    pub stats: Stats,
    pub started: Instant,
    /// Unix seconds at start.
    pub started_unix: u64,
    /// 40 hex digits naming this run of the server (`INFO server`'s run_id).
    pub run_id: String,
    process_stats: Box<dyn Fn() -> ProcessStats + Send + Sync>,
    /// The allocator's live bytes, if the binary's allocator counts them (cheap to call).
    memory_probe: fn() -> Option<u64>,
    /// The last reading of used memory and the batch clock it was taken at, for `maxmemory`.
    memory: Mutex<(u64, u64)>,
    /// Writes the settings back to the config file (`CONFIG REWRITE`); None without one.
    pub config_writer: Option<ConfigWriter>,
    /// Set once persistence starts journaling.
    journal: std::sync::OnceLock<std::sync::Arc<journal::Queue>>,
    /// The change feed (`LISTEN`).
    pub feed: feed::Feed,
    /// Users and their permissions (crate::acl); lock order: store, then acl, then clients.
    acl: Mutex<acl::Acl>,
    /// Moves on every change to the users: sessions then pick up their user again.
    acl_gen: AtomicU64,
    acl_file: std::sync::OnceLock<AclFile>,
    /// Listening on an address other than loopback: the users may not be changed so that
    /// clients need no password (`ACL SETUSER`, `ACL LOAD`).
    public: std::sync::atomic::AtomicBool,
    /// What `SHUTDOWN` calls to stop the server (set by the binary that serves; without one,
    /// `SHUTDOWN` is refused).
    stopper: std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>,
}

/// Writes (setting name, value) pairs to the config file the server started with.
pub type ConfigWriter = Box<dyn Fn(&[(&'static str, String)]) -> Result<(), String> + Send + Sync>;

impl Shared {
    /// Used memory for `maxmemory`: the allocator's count (or the RSS without one), read at
    /// most once per millisecond of batch clock.
    fn memory_used(&self, now: u64) -> u64 {
        let mut m = lock(&self.memory);
        if m.1 != now {
            let used = (self.memory_probe)().unwrap_or_else(|| (self.process_stats)().rss_bytes);
            *m = (used, now);
        }
        m.0
    }

    /// Lowers the last reading by what evictions freed (until the next reading).
    fn memory_freed(&self, bytes: u64) {
        let mut m = lock(&self.memory);
        m.0 = m.0.saturating_sub(bytes);
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A handle to the engine; clones share the same state.
#[derive(Debug, Clone)]
pub struct Engine {
    shared: std::sync::Arc<Shared>,
}

/// One connection's state: who it is and where it is.
#[derive(Debug)]
pub struct Session {
    pub id: u64,
    /// RESP protocol version, 2 or 3 (`HELLO` switches it).
    pub proto: u8,
    /// Set by `QUIT`: the server closes the connection after sending the reply.
    pub quit: bool,
    /// Set by `SAVE`: the server holds the reply until this checkpoint has finished.
    pub wait_checkpoint: Option<journal::CheckpointTicket>,
    /// How arguments become values (`CLIENT LITERALS`): faithful unless the client asks.
    pub literals: Literals,
    /// Set by a waiting pop that found nothing: the server parks the connection until the
    /// mailbox gets the reply or the timeout passes ([`Engine::cancel_wait`]).
    pub blocked: Option<waiting::Blocked>,
    /// Commands queued since `MULTI` (Redis's transactions), and whether one was refused
    /// while queueing (then `EXEC` discards them all).
    multi: Option<Vec<Vec<Bytes>>>,
    multi_failed: bool,
    /// The open queue is a `BEGIN` block (all or nothing at `END`), not a `MULTI`.
    block: bool,
    /// Running the commands of an `EXEC`: waiting pops do not wait.
    in_exec: bool,
    /// Keys this connection `WATCH`es (keyspace, key).
    watching: Vec<(SmolStr, key::Key)>,
    /// The earliest time one of them was due to expire when it was watched (0: none): its
    /// expiry is a change, as Redis 7 counts it.
    watch_deadline: u64,
    keyspace: SmolStr,
    keyspace_index: Option<usize>,
    /// Large arguments of the current batch already read as values, outside the store's lock
    /// ([`Session::set_preparsed`]).
    preparsed: Vec<Preparsed>,
    /// Its pub/sub subscriptions and the outbox their messages wait in (crate::pubsub).
    pub(crate) subs: Option<Box<pubsub::Subscriptions>>,
    /// `CLIENT REPLY`: whether the server sends the replies of its commands.
    pub reply: ReplyMode,
    /// What it follows of the change feed, after `LISTEN` (crate::feed).
    pub listen: Option<Box<feed::Listener>>,
    /// The user it acts as (crate::acl), as of `acl_gen`.
    pub user: std::sync::Arc<acl::User>,
    acl_gen: u64,
    /// False until `AUTH` succeeds when the `default` user needs a password: only `AUTH`,
    /// `HELLO` and `QUIT` run.
    pub authenticated: bool,
    /// An `AUTH` whose password the server verifies off the store's lock, then hands to
    /// [`Engine::finish_auth`].
    pub pending_auth: Option<Box<acl::PendingAuth>>,
}

/// `CLIENT REPLY ON|OFF|SKIP`: which replies a connection gets (pub/sub messages always go).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    #[default]
    On,
    Off,
    /// `SKIP` was just run: no reply to it, nor to the next command.
    SkipThis,
    /// No reply to the next command.
    SkipNext,
}

impl ReplyMode {
    /// Whether the reply of the command just run goes out; moves SKIP along.
    pub fn take(&mut self) -> bool {
        match *self {
            ReplyMode::On => true,
            ReplyMode::Off => false,
            ReplyMode::SkipThis => {
                *self = ReplyMode::SkipNext;
                false
            }
            ReplyMode::SkipNext => {
                *self = ReplyMode::On;
                false
            }
        }
    }
}

/// An argument read as a value before the batch took the lock: the argument (its bytes stay
/// alive, so its address names it), the literal mode it was read under, and the outcome.
#[derive(Debug)]
pub struct Preparsed {
    pub arg: Bytes,
    pub mode: Literals,
    pub value: Result<Value, CmdError>,
}

impl Preparsed {
    /// Reads `arg` under `mode` exactly as [`Ctx::value`] would; no lock needed.
    pub fn read(arg: Bytes, mode: Literals) -> Preparsed {
        let value = args::value(mode, &arg);
        Preparsed { arg, mode, value }
    }
}

impl Session {
    fn new(id: u64, proto: u8, keyspace: SmolStr) -> Session {
        Session {
            id,
            proto,
            quit: false,
            wait_checkpoint: None,
            literals: Literals::Faithful,
            blocked: None,
            multi: None,
            multi_failed: false,
            block: false,
            in_exec: false,
            watching: Vec::new(),
            watch_deadline: 0,
            keyspace,
            keyspace_index: None,
            preparsed: Vec::new(),
            subs: None,
            reply: ReplyMode::On,
            listen: None,
            user: std::sync::Arc::new(acl::User::default_user()),
            acl_gen: 0,
            authenticated: true,
            pending_auth: None,
        }
    }

    /// The outbox of its pub/sub messages, once it has subscribed to something.
    pub fn outbox(&self) -> Option<&std::sync::Arc<pubsub::Outbox>> {
        self.subs.as_ref().map(|s| &s.outbox)
    }

    /// In Redis's subscribed state: subscribed to a channel, pattern or shard channel.
    pub fn subscribed(&self) -> bool {
        self.subs.as_ref().is_some_and(|s| s.active()) || self.listen.is_some()
    }

    /// Hands over arguments of the coming batch read as values ahead of the lock (large
    /// literals: reading them under the lock would stall every client). [`Ctx::value`] uses
    /// one when it is asked for that very argument (same bytes, same address) under the same
    /// literal mode, so nothing a command sees changes. Cleared by [`Session::clear_preparsed`].
    pub fn set_preparsed(&mut self, preparsed: Vec<Preparsed>) {
        self.preparsed = preparsed;
    }

    /// Drops the batch's preparsed arguments.
    pub fn clear_preparsed(&mut self) {
        self.preparsed.clear();
    }

    pub fn keyspace(&self) -> &str {
        &self.keyspace
    }
}

impl Engine {
    pub fn new(config: Config) -> Engine {
        Engine::with_process_stats(config, Box::new(ProcessStats::default))
    }

    pub fn with_process_stats(
        config: Config,
        process_stats: Box<dyn Fn() -> ProcessStats + Send + Sync>,
    ) -> Engine {
        Engine::build(config, process_stats, || None, None)
    }

    /// An engine with every probe the host provides: process figures, the allocator's live
    /// bytes (for `maxmemory`) and the config file writer (`CONFIG REWRITE`).
    pub fn build(
        config: Config,
        process_stats: Box<dyn Fn() -> ProcessStats + Send + Sync>,
        memory_probe: fn() -> Option<u64>,
        config_writer: Option<ConfigWriter>,
    ) -> Engine {
        let run_id = (0..40)
            .map(|_| char::from_digit(fastrand::u32(..16), 16).expect("a hex digit"))
            .collect();
        Engine {
            shared: std::sync::Arc::new(Shared {
                store: Mutex::new(Store::default()),
                clients: Mutex::new(BTreeMap::new()),
                next_client_id: AtomicU64::new(1),
                config,
                stats: Stats::default(),
                started: Instant::now(),
                started_unix: time::now_ms() / 1000,
                run_id,
                process_stats,
                memory_probe,
                memory: Mutex::new((0, 0)),
                config_writer,
                journal: std::sync::OnceLock::new(),
                feed: Default::default(),
                acl: Mutex::new(acl::Acl::new()),
                acl_gen: AtomicU64::new(1),
                acl_file: std::sync::OnceLock::new(),
                public: Default::default(),
                stopper: std::sync::OnceLock::new(),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// How `SHUTDOWN` stops the server: the binary that serves sets it once.
    pub fn on_shutdown(&self, stop: impl Fn() + Send + Sync + 'static) {
        let _ = self.shared.stopper.set(Box::new(stop));
    }

    /// Asks the server to stop (`SHUTDOWN`); false if nothing serving can be stopped so.
    pub(crate) fn stop(shared: &Shared) -> bool {
        match shared.stopper.get() {
            Some(stop) => {
                stop();
                true
            }
            None => false,
        }
    }

    /// Registers a connection, or refuses it when `maxclients` are connected.
    pub fn connect(&self, addr: String) -> Result<Session, CmdError> {
        // Lock order: acl before clients.
        let (user, gen) = {
            let acl = lock(&self.shared.acl);
            (acl.default_user(), self.shared.acl_gen.load(Relaxed))
        };
        let mut clients = lock(&self.shared.clients);
        if clients.len() >= self.shared.config.maxclients.load(Relaxed) {
            self.shared.stats.rejected_connections.fetch_add(1, Relaxed);
            return Err(CmdError::err("max number of clients reached"));
        }
        let id = self.shared.next_client_id.fetch_add(1, Relaxed);
        clients.insert(
            id,
            ClientInfo {
                addr,
                name: None,
                keyspace: DEFAULT_KEYSPACE.into(),
                created: Instant::now(),
                lib: None,
                user: user.name.clone(),
                closer: None,
            },
        );
        self.shared.stats.connections.fetch_add(1, Relaxed);
        let mut session = Session::new(id, 2, DEFAULT_KEYSPACE.into());
        session.authenticated = !user.needs_auth();
        session.user = user;
        session.acl_gen = gen;
        Ok(session)
    }

    /// Picks up a change to the session's user between its commands (a subscriber or a
    /// listener gets messages without running any): false if it may no longer keep its
    /// subscriptions, and the server closes it.
    pub fn refresh_user(&self, session: &mut Session) -> bool {
        let gen = self.shared.acl_gen.load(Relaxed);
        session.acl_gen == gen || refresh_user(&self.shared, session, gen)
    }

    /// Lets `CLIENT KILL` and `ACL DELUSER` close this connection.
    pub fn set_closer(&self, id: u64, closer: Closer) {
        if let Some(c) = lock(&self.shared.clients).get_mut(&id) {
            c.closer = Some(closer);
        }
    }

    /// Where `ACL SAVE` and `ACL LOAD` read and write (`aclfile`).
    pub fn set_acl_file(&self, file: AclFile) {
        let _ = self.shared.acl_file.set(file);
    }

    /// Replaces the users with an ACL file's (at start-up); the error names the line.
    pub fn load_acl(&self, text: &str) -> Result<(), String> {
        let _store = lock(&self.shared.store);
        lock(&self.shared.acl).load(text)?;
        self.shared.acl_gen.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Applies rules to a user at start-up (`requirepass` is `default`'s `>password`).
    pub fn set_user(&self, name: &str, rules: &[&str]) -> Result<(), String> {
        let _store = lock(&self.shared.store);
        lock(&self.shared.acl).set_user(name, rules)?;
        self.shared.acl_gen.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Whether clients must authenticate (the server refuses a non-loopback bind otherwise).
    pub fn auth_configured(&self) -> bool {
        lock(&self.shared.acl).auth_configured()
    }

    /// Notes that the server listens beyond loopback: from now on a change to the users that
    /// would let clients in without a password is refused.
    pub fn set_public(&self) {
        self.shared.public.store(true, Relaxed);
    }

    /// Ends an `AUTH` verified off the lock: sets the session's user (or logs the failure)
    /// and answers what the command answers (`OK`, or `HELLO`'s map).
    pub fn finish_auth(&self, session: &mut Session, pending: Box<acl::PendingAuth>) -> Reply {
        let mut exec = self.lock();
        let user = lock(&self.shared.acl).finish_auth(&pending);
        match user {
            Some(user) => {
                act_as(exec.shared, session, user, true);
                if pending.then.is_empty() {
                    Reply::Ok
                } else {
                    exec.execute(session, &args::borrowed(&pending.then))
                }
            }
            None => {
                exec.auth_failed(session, &pending.user);
                Reply::Error(acl::wrongpass())
            }
        }
    }

    pub fn disconnect(&self, session: &mut Session) {
        if !session.watching.is_empty() {
            unwatch(&mut lock(&self.shared.store), session.id, &session.watching);
        }
        if session.subs.is_some() {
            let mut store = lock(&self.shared.store);
            pubsub::leave_all(&mut store.pubsub, &mut session.subs, session.id);
        }
        if session.listen.take().is_some() {
            self.shared.feed.listeners.fetch_sub(1, Relaxed);
        }
        lock(&self.shared.clients).remove(&session.id);
    }

    /// Ends a connection's wait (timeout, disconnect): true if it was still waiting, false if
    /// a write served it first (its mailbox then holds the reply).
    pub fn cancel_wait(&self, client: u64) -> bool {
        lock(&self.shared.store).waiting.cancel(client)
    }

    /// How many connections are parked in waiting pops (`INFO clients`' blocked_clients).
    pub fn blocked_clients(&self) -> usize {
        lock(&self.shared.store).waiting.len()
    }

    pub fn connected_clients(&self) -> usize {
        lock(&self.shared.clients).len()
    }

    /// Locks the store for a run of commands (the server runs a pipeline as holds within a
    /// budget of time and reply bytes). Never hold it across an `.await`.
    pub fn lock(&self) -> Executor<'_> {
        self.lock_at(time::now_ms())
    }

    /// Locks the store with the batch clock set to `now` (replay runs at the recorded time).
    pub fn lock_at(&self, now: u64) -> Executor<'_> {
        let mut store = lock(&self.shared.store);
        let notify = self.shared.config.notify_keyspace_events.load(Relaxed);
        let wanted = notify & (notify::KEYSPACE | notify::KEYEVENT) != 0
            && notify & !(notify::KEYSPACE | notify::KEYEVENT) != 0
            && !store.pubsub.is_idle();
        let notify = if wanted { notify } else { 0 };
        store.new_keys = (notify & notify::NEW != 0).then(Vec::new);
        Executor {
            store,
            notify,
            scripting: 0,
            shared: &self.shared,
            now,
            executed: 0,
            lookups: Lookups::default(),
            clock: evict::Clock::at(now, self.shared.config.policy().lfu()),
            replaying: false,
            records: Vec::new(),
            last_lsn: 0,
            slow: 0,
            deferred: Vec::new(),
            tx_effects: None,
        }
    }

    /// The change feed (`LISTEN`).
    pub fn feed(&self) -> &feed::Feed {
        &self.shared.feed
    }

    /// The journal queue, once persistence has started journaling.
    pub fn journal(&self) -> Option<&std::sync::Arc<journal::Queue>> {
        self.shared.journal.get()
    }

    /// Starts tracking changed keys (for checkpoints) from `next_lsn` on, without journaling:
    /// what recovery needs while it replays.
    pub fn start_tracking(&self, next_lsn: u64) {
        let mut store = lock(&self.shared.store);
        store.next_lsn = next_lsn.max(1);
        store.tracking = true;
    }

    /// Starts journaling: every successful write from now on becomes a record in the queue.
    pub fn start_journal(&self, next_lsn: u64) -> std::sync::Arc<journal::Queue> {
        let queue = self.shared.journal.get_or_init(Default::default).clone();
        let mut store = lock(&self.shared.store);
        store.next_lsn = store.next_lsn.max(next_lsn).max(1);
        self.shared.feed.start_after(store.next_lsn - 1);
        store.tracking = true;
        store.journaling = true;
        queue
    }

    /// Applies a journaled write again, at its recorded time and LSN, without journaling it.
    /// A record of effects is applied to the store as it is; a command record (journals
    /// written before effects) runs its command again.
    pub fn replay(&self, record: &journal::Record) -> Reply {
        let mut exec = self.lock_at(record.now);
        exec.replaying = true;
        exec.store.next_lsn = record.lsn;
        let reply = match &record.body {
            journal::Body::Effects(done) => {
                match effects::apply(&mut exec.store, record.now, done) {
                    Ok(()) => Reply::Ok,
                    Err(e) => Reply::Error(CmdError::err(e.to_string())),
                }
            }
            journal::Body::Command { literals, args } => {
                let mut session = Session::new(0, 3, record.keyspace.clone());
                session.literals = *literals;
                exec.execute(&mut session, &args::borrowed(args))
            }
        };
        exec.store.next_lsn = record.lsn + 1;
        reply
    }

    /// Stores a batch of entries as recovery loads them, under one lock; `expect` is how many
    /// keys the keyspace is about to hold (room is made once, not by repeated growth).
    pub fn load_batch(
        &self,
        keyspace: &str,
        entries: Vec<(Vec<u8>, keyspace::Entry)>,
        expect: usize,
    ) {
        let mut store = lock(&self.shared.store);
        let i = store.create(keyspace);
        let ks = store.space(i);
        if ks.is_empty() && expect > 0 {
            ks.reserve(expect);
        }
        for (key, entry) in entries {
            ks.insert(&key, entry);
        }
    }

    /// What a checkpoint writes, taken under one lock of the store: every key changed since
    /// the last capture (each with its entry as it is now, None if deleted), or, when
    /// `full_when(changed keys, keys)` says so, every live key (for a fresh snapshot, in one
    /// pass over the entries, no lookups); and the LSN up to which everything is covered.
    /// Either way the changed-key sets are cleared. Values are O(1) clones; sorting is the
    /// caller's, outside the lock.
    pub fn capture(&self, full_when: impl FnOnce(usize, usize) -> bool) -> Capture {
        let mut store = lock(&self.shared.store);
        let covered_lsn = store.next_lsn - 1;
        let key_counts: Vec<(String, usize)> = store
            .spaces()
            .map(|(name, ks)| (name.to_string(), ks.len()))
            .collect();
        let total = key_counts.iter().map(|(_, n)| n).sum();
        let changed = store.spaces().map(|(_, ks)| ks.dirty_len()).sum();
        let full = full_when(changed, total);
        let now = time::now_ms();
        let mut spaces = Vec::new();
        for (name, ks) in store.spaces.iter_mut() {
            if full {
                ks.clear_changes();
                let mut all = Vec::with_capacity(ks.len());
                all.extend(ks.iter(now).map(|(key, entry)| Change {
                    key: key.clone(),
                    entry: Some(entry.clone()),
                }));
                spaces.push((name.clone(), all));
            } else if ks.dirty_len() > 0 {
                spaces.push((name.clone(), ks.take_changes()));
            }
        }
        Capture {
            covered_lsn,
            spaces,
            full,
            key_counts,
        }
    }

    /// Marks a failed checkpoint's keys changed again, so the next one writes them.
    pub fn restore_dirty(&self, capture: &Capture) {
        let mut store = lock(&self.shared.store);
        for (name, changes) in &capture.spaces {
            let i = store.create(name);
            let ks = store.space(i);
            for c in changes {
                ks.mark_dirty(c.key.as_bytes());
            }
        }
    }

    /// Keys changed since the last checkpoint, over all keyspaces.
    pub fn dirty_keys(&self) -> usize {
        lock(&self.shared.store)
            .spaces()
            .map(|(_, ks)| ks.dirty_len())
            .sum()
    }

    /// One cycle of active expiry, as Redis does it: sample keys that have an expiry, remove the
    /// expired ones, and go on while more than a quarter of a sample was expired, within `budget`
    /// of time. The store is locked for a few rounds at a time, never for the whole cycle, so
    /// clients interleave with a long cycle. Returns how many keys were removed.
    pub fn active_expire(&self, budget: std::time::Duration) -> usize {
        const SAMPLE: usize = 20;
        const ROUNDS_PER_LOCK: usize = 16;
        self.shared.stats.sample_ops();
        let start = Instant::now();
        let mut removed = 0;
        let mut keyspace = 0;
        loop {
            let mut exec = self.lock();
            let now = exec.now;
            let Some(ks) = exec.store.spaces_mut().nth(keyspace) else {
                break;
            };
            // Judge the expired share over all rounds of this lock, not one small sample.
            let (mut sampled, mut expired) = (0, 0);
            for _ in 0..ROUNDS_PER_LOCK {
                let (s, e) = ks.expire_sample(SAMPLE, now);
                sampled += s;
                expired += e;
                if s == 0 {
                    break;
                }
            }
            removed += expired;
            let more = sampled > 0 && expired * 4 > sampled;
            drop(exec);
            if !more {
                keyspace += 1;
            }
            if start.elapsed() >= budget {
                break;
            }
        }
        self.shared
            .stats
            .expired_keys
            .fetch_add(removed as u64, Relaxed);
        removed
    }
}

/// Ends a connection's watches (`UNWATCH`, `EXEC`, `DISCARD`).
fn end_watches(store: &mut Store, session: &mut Session) {
    let keys = std::mem::take(&mut session.watching);
    session.watch_deadline = 0;
    unwatch(store, session.id, &keys);
}

/// Forgets a connection's watched keys.
fn unwatch(store: &mut Store, client: u64, keys: &[(SmolStr, key::Key)]) {
    for slot in keys {
        if let Some(w) = store.watched.get_mut(slot) {
            w.retain(|c| *c != client);
            if w.is_empty() {
                store.watched.remove(slot);
            }
        }
    }
    store.watch_broken.remove(&client);
}

/// Locks a mutex, recovering from poisoning: a panicking handler must not take the server down,
/// and every handler leaves the store consistent between its own mutations.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One key's state for a checkpoint (see [`Engine::capture`]).
#[derive(Debug, Clone)]
pub struct Change {
    pub key: key::Key,
    /// None: the key is gone.
    pub entry: Option<keyspace::Entry>,
}

/// The changes a checkpoint writes, by keyspace, in no particular order. Every journal record
/// up to `covered_lsn` is reflected in them (and in what earlier checkpoints wrote).
#[derive(Debug, Default)]
pub struct Capture {
    pub covered_lsn: u64,
    pub spaces: Vec<(SmolStr, Vec<Change>)>,
    /// Every live key, not only the changed ones.
    pub full: bool,
    /// How many keys each keyspace held at the capture.
    pub key_counts: Vec<(String, usize)>,
}

/// The store, locked for a batch of commands.
pub struct Executor<'a> {
    store: MutexGuard<'a, Store>,
    shared: &'a Shared,
    now: u64,
    /// Commands run under this lock; added to the shared counter once, on unlock.
    executed: u64,
    /// Key lookups that found a key or not, added to the shared counters on unlock.
    lookups: Lookups,
    /// The access stamp of this batch (crate::evict).
    clock: evict::Clock,
    /// Replaying the journal: no eviction (evictions were journaled as deletes).
    replaying: bool,
    /// Journal records of this batch, handed to the queue on unlock (still under the lock, so
    /// the queue's order is LSN order).
    records: Vec<journal::Record>,
    last_lsn: u64,
    /// Commands flagged `slow` (not `fast`) run under this lock: the server reads the clock
    /// for its time budget only after one of those, or every so many fast ones.
    slow: u64,
    /// Keys written inside an `EXEC`, whose waiters are served when it ends.
    deferred: Vec<(SmolStr, Bytes)>,
    /// While a transaction runs (`EXEC`, a script): the effects of its commands so far, made
    /// one journal record when it ends (crate::script).
    pub(crate) tx_effects: Option<Vec<effects::Effect>>,
    /// The keyspace notifications to publish (`notify-keyspace-events`, 0 when none would reach
    /// a subscriber).
    notify: u32,
    /// Scripts running (nested), for `ACL LOG`'s context.
    pub(crate) scripting: u32,
}

impl Drop for Executor<'_> {
    fn drop(&mut self) {
        self.flush_expired();
        if self.executed > 0 {
            self.shared.stats.commands.fetch_add(self.executed, Relaxed);
        }
        if self.lookups.hits > 0 {
            let hits = &self.shared.stats.keyspace_hits;
            hits.fetch_add(self.lookups.hits, Relaxed);
        }
        if self.lookups.misses > 0 {
            let misses = &self.shared.stats.keyspace_misses;
            misses.fetch_add(self.lookups.misses, Relaxed);
        }
        if !self.records.is_empty() {
            if self.feeding() {
                let retention = feed::retention(&self.shared.config, &self.shared.feed);
                let records = std::mem::take(&mut self.records)
                    .into_iter()
                    .map(|r| {
                        let size = feed::estimate(&r);
                        (r, size)
                    })
                    .collect();
                self.shared
                    .feed
                    .append(feed::Incoming::Records(records), retention);
            } else if let Some(q) = self.shared.journal.get() {
                q.push(&mut self.records);
            }
        }
    }
}

impl std::fmt::Debug for Executor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl Executor<'_> {
    /// Runs one command (`args[0]` is its name). Every failure is an error reply.
    pub fn execute(&mut self, session: &mut Session, args: &[&[u8]]) -> Reply {
        let Some(name) = args.first() else {
            self.executed += 1;
            return Reply::Error(CmdError::err("empty command"));
        };
        let Some(index) = command::lookup_index(name) else {
            self.executed += 1;
            if session.multi.is_some() {
                session.multi_failed = true;
            }
            let e = CmdError::unknown_command(args);
            self.shared.stats.error(&e);
            return Reply::Error(e);
        };
        self.execute_at(session, index, args)
    }

    /// Runs the command at `index` of the table (`args[0]` names it), looked up already.
    pub(crate) fn execute_at(
        &mut self,
        session: &mut Session,
        index: usize,
        args: &[&[u8]],
    ) -> Reply {
        self.executed += 1;
        let stats = &self.shared.stats;
        let spec = &COMMANDS[index];
        if !spec.flags.has(Flags::FAST) {
            self.slow += 1;
        }
        let counters = &stats.per_command[index];
        let rejected = |e: CmdError| {
            counters.rejected.fetch_add(1, Relaxed);
            stats.error(&e);
            Reply::Error(e)
        };
        if session.proto == 2
            && session.subscribed()
            && !matches!(
                spec.name,
                "SUBSCRIBE"
                    | "UNSUBSCRIBE"
                    | "PSUBSCRIBE"
                    | "PUNSUBSCRIBE"
                    | "SSUBSCRIBE"
                    | "SUNSUBSCRIBE"
                    | "PING"
                    | "QUIT"
                    | "RESET"
                    | "LISTEN"
                    | "UNLISTEN"
            )
        {
            return rejected(CmdError::err(format!(
                "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET \
                 are allowed in this context",
                spec.name.to_ascii_lowercase()
            )));
        }
        if !spec.arity_ok(args.len()) {
            if session.multi.is_some() {
                session.multi_failed = true;
            }
            return rejected(CmdError::arity(spec.name));
        }
        if !session.authenticated && !spec.flags.has(Flags::NOAUTH) {
            return rejected(CmdError::new("NOAUTH", "Authentication required."));
        }
        let gen = self.shared.acl_gen.load(Relaxed);
        if session.acl_gen != gen {
            self.refresh_user(session, gen);
        }
        if !session.user.unrestricted {
            if let Err(denied) = acl::check(&session.user, index, args, &session.keyspace) {
                if session.multi.is_some() {
                    session.multi_failed = true;
                }
                self.log_denied(session, &denied);
                return rejected(denied.error());
            }
        }
        // Redis's DISCARD has no arguments; okdb's set DISCARD (with arguments) is a write.
        let tx = spec.flags.has(Flags::TX) && !(spec.name == "DISCARD" && args.len() > 1);
        if tx {
            match (spec.name, session.multi.is_some(), session.block) {
                ("EXEC", true, false) => return self.exec(session),
                ("END", true, true) => {
                    let queued = session.multi.take().unwrap_or_default();
                    session.block = false;
                    if std::mem::take(&mut session.multi_failed) {
                        return Reply::Error(CmdError::new(
                            "EXECABORT",
                            "the block was discarded: a command in it was refused while queueing",
                        ));
                    }
                    return self.end_block(session, queued);
                }
                ("EXEC", true, true) => {
                    return Reply::Error(CmdError::err(
                        "a BEGIN block ends with END (EXEC ends MULTI)",
                    ))
                }
                _ => {}
            }
        } else if let Some(queue) = session.multi.as_mut() {
            if spec.flags.has(Flags::NO_MULTI) {
                session.multi_failed = true;
                return Reply::Error(CmdError::err("Command not allowed inside a transaction"));
            }
            queue.push(args::owned(args));
            return Reply::status("QUEUED");
        }
        let write = spec.flags.has(Flags::WRITE);
        if write && self.store.journaling {
            if let Some(reason) = self.shared.journal.get().and_then(|q| q.failure()) {
                return rejected(CmdError::new(
                    "MISCONF",
                    format!("writes are refused: {reason} (reads still work)"),
                ));
            }
        }
        if spec.flags.has(Flags::DENYOOM) && !self.replaying {
            if let Err(e) = self.make_room(session) {
                return rejected(e);
            }
        }
        counters.calls.fetch_add(1, Relaxed);
        if spec.flags.has(Flags::SCRIPT) || script::sorts_by_function(spec.name, args) {
            let reply = self.run_script(session, args);
            if let Reply::Error(e) = &reply {
                counters.failed.fetch_add(1, Relaxed);
                stats.error(e);
            }
            return reply;
        }
        self.store.recording = write && (self.store.undoing || self.effects_wanted());
        let mut ctx = Ctx {
            store: &mut self.store,
            session,
            shared: self.shared,
            now: self.now,
            lookups: &mut self.lookups,
            clock: self.clock,
        };
        let reply = match (spec.handler)(&mut ctx, args) {
            Ok(reply) => reply,
            Err(e) => {
                counters.failed.fetch_add(1, Relaxed);
                stats.error(&e);
                if self.store.recording {
                    effects::forget(&mut self.store);
                }
                return Reply::Error(e);
            }
        };
        if write && !self.store.watched.is_empty() {
            self.break_watches(spec, session, args);
        }
        if write {
            self.record(session, index, args);
            if !self.store.waiting.is_empty() && !self.replaying {
                let keyspace = session.keyspace.clone();
                if session.in_exec {
                    // Served once the whole transaction has run, as Redis does.
                    self.deferred.extend(
                        spec.keys(args)
                            .map(|k| (keyspace.clone(), Bytes::copy_from_slice(k))),
                    );
                } else {
                    for key in spec.keys(args) {
                        self.serve_waiters(&keyspace, key);
                    }
                }
            }
        }
        reply
    }

    /// Picks up the session's user again after the users changed.
    fn refresh_user(&mut self, session: &mut Session, gen: u64) {
        if !refresh_user(self.shared, session, gen) {
            session.quit = true;
        }
    }

    /// Logs a failed `AUTH` in `ACL LOG`.
    pub(crate) fn auth_failed(&mut self, session: &Session, username: &str) {
        auth_failed(self.shared, session, username, self.now);
    }

    pub(crate) fn log_denied(&mut self, session: &Session, denied: &acl::Denied) {
        let context = if self.scripting > 0 {
            "script"
        } else if session.in_exec || session.multi.is_some() {
            "multi"
        } else {
            "toplevel"
        };
        let which = ["command", "key", "channel", "keyspace"]
            .iter()
            .position(|r| *r == denied.reason)
            .unwrap_or(0);
        self.shared.stats.acl_denied[which].fetch_add(1, Relaxed);
        let info = client_info(self.shared, session);
        let max = self.shared.config.acllog_max_len.load(Relaxed);
        let name = session.user.name.clone();
        lock(&self.shared.acl).log(
            denied.reason,
            context,
            &denied.object,
            &name,
            info,
            self.now,
            max,
        );
    }

    /// Under `maxmemory`: evicts keys by the policy until the allocator's count (sampled at
    /// most once per millisecond, lowered by an estimate of what each eviction frees) is
    /// within the limit, or answers Redis's OOM error when nothing more can go. Each
    /// eviction is journaled as a `DEL` of the key in its keyspace.
    fn make_room(&mut self, session: &Session) -> Result<(), CmdError> {
        let cfg = &self.shared.config;
        let max = cfg.maxmemory.load(Relaxed);
        if max == 0 {
            return Ok(());
        }
        let used = self.shared.memory_used(self.now);
        // A new key in a full table doubles it: that growth counts as memory this write needs
        // (as Redis refuses to expand a dict past maxmemory), so the session's keyspace is
        // never made to grow past the limit; a key of it is evicted instead.
        let here = session
            .keyspace_index
            .or_else(|| self.store.index_of(&session.keyspace));
        let growth = here.map_or(0, |i| self.store.space(i).growth_bytes());
        if used + growth <= max {
            return Ok(());
        }
        let oom = || CmdError::new("OOM", "command not allowed when used memory > 'maxmemory'.");
        let policy = cfg.policy();
        // An all-or-nothing transaction does not evict: an eviction could not be undone with
        // it. The write is refused (and the transaction undone) instead.
        if policy == evict::Policy::NoEviction || self.store.undoing {
            return Err(oom());
        }
        let samples = cfg.maxmemory_samples.load(Relaxed);
        let mut over = used.saturating_sub(max);
        let mut grows = used + growth > max && growth > 0;
        let mut freed_total = 0;
        let mut evicted = 0;
        while over > 0 || grows {
            let only = if over > 0 { None } else { here };
            let Some((i, key)) = evict::choose(&mut self.store, policy, samples, self.clock, only)
            else {
                break;
            };
            let Some(entry) = self.store.space(i).remove(key.as_bytes()) else {
                continue;
            };
            // Its slot counts as freed too: the key being written takes it.
            let freed = evict::entry_bytes(key.as_bytes().len(), &entry) as u64;
            drop(entry);
            over = over.saturating_sub(freed);
            freed_total += freed;
            evicted += 1;
            grows = here.is_some_and(|h| self.store.space(h).growth_bytes() > 0);
            if self.effects_wanted() {
                if self.store.tracking {
                    self.store.space(i).mark_dirty(key.as_bytes());
                }
                let keyspace: SmolStr = self.store.name_of(i).into();
                let del = effects::Effect::Del {
                    keyspace: keyspace.clone(),
                    key,
                };
                let op = effects::Effect::Op(SmolStr::new_static("evicted"));
                // Inside EXEC the eviction takes its place in the transaction's record.
                match &mut self.tx_effects {
                    Some(tx) => tx.extend([op, del]),
                    None => self.journal(keyspace, vec![op, del]),
                }
            }
        }
        self.shared.memory_freed(freed_total);
        self.shared.stats.evicted_keys.fetch_add(evicted, Relaxed);
        if over > 0 || grows {
            return Err(oom());
        }
        Ok(())
    }

    /// After a write: the connections watching a key it names will fail their `EXEC`. Writes
    /// that reach beyond their key positions (`SWAPDB`, `MOVE`, `COPY … DB`) break every
    /// watch, which errs on the safe side; flushes break the watches of the keys they removed.
    fn break_watches(&mut self, spec: &CommandSpec, session: &Session, args: &[&[u8]]) {
        // Flushes break the watches of the keys they removed themselves (`Ctx::flush_watches`).
        let everything = matches!(spec.name, "SWAPDB" | "MOVE" | "COPY");
        let store = &mut *self.store;
        if everything {
            store
                .watch_broken
                .extend(store.watched.values().flatten().copied());
            return;
        }
        for k in spec.keys(args) {
            let slot = (session.keyspace.clone(), key::Key::new(k));
            if let Some(w) = store.watched.get(&slot) {
                store.watch_broken.extend(w.iter().copied());
            }
        }
    }

    /// `EXEC`: runs the commands queued since `MULTI`, in order, under this one lock, so no
    /// other client's command comes between them; each answers for itself (a command that
    /// fails does not undo the others, as in Redis). Nothing runs if one was refused while
    /// queueing.
    fn exec(&mut self, session: &mut Session) -> Reply {
        let queued = session.multi.take().unwrap_or_default();
        let deadline = session.watch_deadline;
        let broken = self.store.watch_broken.contains(&session.id)
            || (deadline != 0 && deadline <= self.now);
        end_watches(&mut self.store, session);
        if broken {
            session.multi_failed = false;
            return Reply::NullArray;
        }
        if std::mem::take(&mut session.multi_failed) {
            return Reply::Error(CmdError::new(
                "EXECABORT",
                "Transaction discarded because of previous errors.",
            ));
        }
        session.in_exec = true;
        // The whole transaction is one journal record.
        let outer = self.tx_effects.is_some();
        if !outer {
            self.tx_effects = Some(Vec::new());
        }
        let replies = queued
            .iter()
            .map(|c| self.execute(session, &args::borrowed(c)))
            .collect();
        if !outer {
            let done = self.tx_effects.take().unwrap_or_default();
            if !done.is_empty() {
                self.journal(session.keyspace.clone(), done);
            }
        }
        session.in_exec = false;
        for (keyspace, key) in std::mem::take(&mut self.deferred) {
            self.serve_waiters(&keyspace, &key);
        }
        Reply::Array(replies)
    }

    /// Serves the connections waiting on a key, first come first served, while it holds a
    /// non-empty list: each waiter's pop runs as a command of its own in the waiter's keyspace
    /// (so it is journaled and counted as one), and its reply goes to the waiter's mailbox.
    fn serve_waiters(&mut self, keyspace: &str, key: &[u8]) {
        use waiting::WaitOp;
        while self.store.waiting.has(keyspace, key) {
            let now = self.now;
            let op = self
                .store
                .waiting
                .first(keyspace, key)
                .map(|w| w.op.clone());
            let wants_zset = matches!(op, Some(WaitOp::ZPop { .. } | WaitOp::ZMPop { .. }));
            let takes_pqueue = matches!(op, Some(WaitOp::Native { left: false }));
            // Served only by what its pop takes: a key of another type wakes no one.
            let ready = self.store.index_of(keyspace).is_some_and(|i| {
                match self.store.space(i).get(key, now) {
                    Some(v @ (Value::List(_) | Value::Deque(_))) => !wants_zset && !v.is_empty(),
                    Some(Value::SortedSet(z)) => wants_zset && !z.is_empty(),
                    Some(Value::PQueue(q)) => takes_pqueue && !q.is_empty(),
                    _ => false,
                }
            });
            if !ready {
                return;
            }
            let Some(w) = self.store.waiting.take_first(keyspace, key) else {
                return;
            };
            let mut session = Session::new(w.client, 3, w.keyspace.clone());
            session.literals = Literals::Strict;
            let k = Bytes::copy_from_slice(key);
            let side = |left: bool| Bytes::from_static(if left { b"LEFT" } else { b"RIGHT" });
            let command: Vec<Bytes> = match &w.op {
                WaitOp::Pop { left, count } => {
                    let name: &'static [u8] = if *left { b"LPOP" } else { b"RPOP" };
                    let mut c = vec![Bytes::from_static(name), k.clone()];
                    if let Some(n) = count {
                        c.push(n.to_string().into());
                    }
                    c
                }
                WaitOp::Move {
                    dst,
                    from_left,
                    to_left,
                } => vec![
                    Bytes::from_static(b"LMOVE"),
                    k.clone(),
                    dst.clone(),
                    side(*from_left),
                    side(*to_left),
                ],
                WaitOp::Native { left } => {
                    let name: &'static [u8] = if *left { b"POPLEFT" } else { b"POP" };
                    vec![Bytes::from_static(name), k.clone()]
                }
                WaitOp::ZPop { highest } => {
                    let name: &'static [u8] = if *highest { b"ZPOPMAX" } else { b"ZPOPMIN" };
                    vec![Bytes::from_static(name), k.clone()]
                }
                WaitOp::ZMPop { highest, count } => {
                    let name: &'static [u8] = if *highest { b"ZPOPMAX" } else { b"ZPOPMIN" };
                    vec![
                        Bytes::from_static(name),
                        k.clone(),
                        count.to_string().into(),
                    ]
                }
            };
            let reply = self.execute(&mut session, &args::borrowed(&command));
            let reply = match (&w.op, reply) {
                (_, e @ Reply::Error(_)) => e,
                (WaitOp::Pop { .. } | WaitOp::Native { .. }, r) => {
                    Reply::Array(vec![Reply::Bulk(k), r])
                }
                (WaitOp::ZPop { .. }, Reply::Array(pair)) => {
                    Reply::Array(std::iter::once(Reply::Bulk(k)).chain(pair).collect())
                }
                // ZPOPMIN with a count answers pairs (the serving session speaks RESP3).
                (WaitOp::ZMPop { .. }, r) => Reply::Array(vec![Reply::Bulk(k), r]),
                (_, r) => r,
            };
            waiting::deliver(&w, reply, self.last_lsn);
        }
    }

    /// The LSN of this batch's last journaled write; 0 if it journaled none.
    pub fn last_lsn(&self) -> u64 {
        self.last_lsn
    }

    /// How many commands not flagged `fast` ran under this lock.
    pub fn slow_commands(&self) -> u64 {
        self.slow
    }

    /// After a successful write: turns what it did into effects (crate::effects), each named
    /// by its op (crate::notify), marks the keys they write as changed, and journals them
    /// under one LSN when journaling is on. A write that changed nothing is not journaled.
    fn record(&mut self, session: &Session, index: usize, args: &[&[u8]]) {
        if !self.store.recording {
            return;
        }
        if !self.effects_wanted() {
            // Recording only for a script's undo log (crate::script).
            effects::forget(&mut self.store);
            return;
        }
        // Keys that expired on the way come first: they were gone before this write.
        self.flush_expired();
        let spec = &COMMANDS[index];
        let two_sided = two_sided(spec.name);
        let op = (!two_sided).then(|| effects::Effect::Op(notify::op_of(index, args)));
        let done = effects::collect(&mut self.store, self.now, op);
        if done.len() <= usize::from(!two_sided) {
            return; // nothing but the op: the write changed nothing
        }
        let named = if two_sided {
            name_effects(spec, args, &session.keyspace, done)
        } else {
            done
        };
        if let Some(tx) = &mut self.tx_effects {
            tx.extend(named);
        } else {
            self.journal(session.keyspace.clone(), named);
        }
    }

    /// Records the keys that expired since the last call (found by a read, a write or active
    /// expiry), each a `DEL` named `expired`, when they are journaled or notified.
    fn flush_expired(&mut self) {
        let wanted = self.store.journaling || self.notify != 0 || self.feeding();
        for i in 0..self.store.spaces.len() {
            if self.store.spaces[i].1.expired.is_empty() {
                continue;
            }
            let keys = std::mem::take(&mut self.store.spaces[i].1.expired);
            if !wanted || self.replaying {
                continue;
            }
            let keyspace: SmolStr = self.store.spaces[i].0.clone();
            for key in keys {
                let del = effects::Effect::Del {
                    keyspace: keyspace.clone(),
                    key,
                };
                let op = effects::Effect::Op(SmolStr::new_static("expired"));
                self.journal(keyspace.clone(), vec![op, del]);
            }
        }
    }

    /// Gives a write its LSN and, when journaling, queues its record: the one path for a
    /// command's effects and for the `DEL` of an eviction or an expiry. Its keyspace
    /// notifications go out here, so a transaction that is undone notifies nothing.
    fn journal(&mut self, keyspace: SmolStr, effects: Vec<effects::Effect>) {
        let lsn = self.store.next_lsn;
        self.store.next_lsn += 1;
        if self.notify != 0 {
            self.notify_effects(&effects);
        }
        if self.shared.feed.listeners.load(Relaxed) > 0 {
            // Listeners get the values keys were changed to in place; the journal has only
            // the change.
            let mut after = Vec::new();
            for (i, e) in effects.iter().enumerate() {
                if let effects::Effect::Change { keyspace, key, .. } = e {
                    let Some(ks) = self.store.index_of(keyspace) else {
                        continue;
                    };
                    if let Some(entry) = self.store.spaces[ks].1.peek(key.as_bytes(), self.now) {
                        after.push((i, entry.value.clone()));
                    }
                }
            }
            if !after.is_empty() {
                self.shared.feed.note_after(lsn, after);
            }
        }
        if self.store.journaling || self.feeding() {
            self.records.push(journal::Record {
                lsn,
                now: self.now,
                keyspace,
                body: journal::Body::Effects(effects),
            });
            self.last_lsn = lsn;
        }
    }

    /// Whether a write's effects are wanted: for checkpoints and the journal (tracking),
    /// keyspace notifications, or the change feed without a journal.
    fn effects_wanted(&self) -> bool {
        self.store.tracking || self.notify != 0 || self.feeding()
    }

    /// No journal, but a listener has come: records go to the feed from the executor.
    fn feeding(&self) -> bool {
        !self.store.journaling && self.shared.feed.in_memory.load(Relaxed)
    }

    /// Publishes the keyspace notifications of a record's effects.
    fn notify_effects(&mut self, effects: &[effects::Effect]) {
        let mut events = Vec::new();
        let store = &mut *self.store;
        if let Some(new) = &mut store.new_keys {
            events.extend(new.drain(..).map(|(keyspace, key)| notify::Event {
                keyspace,
                key,
                event: SmolStr::new_static("new"),
                class: notify::NEW,
            }));
        }
        let now = self.now;
        let (spaces, names) = (&mut store.spaces, &store.names);
        notify::events(
            effects,
            |ks, key| {
                let i = *names.get(ks)?;
                let v = spaces[i].1.peek(key.as_bytes(), now).map(|e| &e.value);
                Some(notify::class_of_value(v))
            },
            &mut events,
        );
        let flags = self.notify;
        for e in events {
            if flags & e.class == 0 {
                continue;
            }
            if flags & notify::KEYSPACE != 0 {
                let channel = notify::channel("keyspace", &e.keyspace, e.key.as_bytes());
                let payload = Bytes::copy_from_slice(e.event.as_bytes());
                store
                    .pubsub
                    .publish(&self.shared.config, &channel, &payload, false);
            }
            if flags & notify::KEYEVENT != 0 {
                let channel = notify::channel("keyevent", &e.keyspace, e.event.as_bytes());
                let payload = Bytes::copy_from_slice(e.key.as_bytes());
                store
                    .pubsub
                    .publish(&self.shared.config, &channel, &payload, false);
            }
        }
    }
}

/// Commands that write two keys differently (`SMOVE`'s `srem` and `sadd`, `LMOVE`'s pop and
/// push, `MOVE`'s two keyspaces): their effects get an op each ([`name_effects`]).
fn two_sided(command: &str) -> bool {
    matches!(
        command,
        "SMOVE" | "RPOPLPUSH" | "BRPOPLPUSH" | "LMOVE" | "BLMOVE" | "MOVE"
    )
}

/// Puts the op of each effect of a two-sided command in front of it, where it changes.
fn name_effects(
    spec: &CommandSpec,
    args: &[&[u8]],
    keyspace: &str,
    done: Vec<effects::Effect>,
) -> Vec<effects::Effect> {
    let mut out = Vec::with_capacity(done.len() + 2);
    let mut last: Option<usize> = None;
    for e in done {
        let pos = match spec.name {
            "MOVE" => usize::from(e.key().is_some_and(|(ks, _)| ks != keyspace)),
            _ => usize::from(
                e.key()
                    .is_some_and(|(_, k)| args.get(1).is_none_or(|a| a[..] != *k.as_bytes())),
            ),
        };
        if last != Some(pos) {
            out.push(effects::Effect::Op(notify::event_of(spec.name, args, pos)));
            last = Some(pos);
        }
        out.push(e);
    }
    out
}

/// What a command handler works with.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub store: &'a mut Store,
    pub session: &'a mut Session,
    pub shared: &'a Shared,
    /// The batch's clock, unix milliseconds: every command of a batch sees the same time.
    pub now: u64,
    lookups: &'a mut Lookups,
    /// The access stamp entries touched by this command record.
    clock: evict::Clock,
}

/// Key lookups of a batch, for `keyspace_hits` and `keyspace_misses`.
#[derive(Debug, Default)]
struct Lookups {
    hits: u64,
    misses: u64,
}

impl Ctx<'_> {
    /// Makes `user` the one this connection acts as ([`act_as`]).
    pub(crate) fn act_as(&mut self, user: std::sync::Arc<acl::User>, logged_in: bool) {
        act_as(self.shared, self.session, user, logged_in);
    }

    /// The current keyspace for reading; None if it has never been written.
    pub fn ks(&mut self) -> Option<&mut Keyspace> {
        let i = self.ks_index()?;
        Some(self.space(i))
    }

    /// The current keyspace's index (cached in the session); None if it has never been written.
    fn ks_index(&mut self) -> Option<usize> {
        if self.session.keyspace_index.is_none() {
            self.session.keyspace_index = self.store.index_of(&self.session.keyspace);
        }
        self.session.keyspace_index
    }

    /// A keyspace by index, stamped with this command's access clock (and noting the keys a
    /// write touches: crate::effects).
    pub fn space(&mut self, i: usize) -> &mut Keyspace {
        let ks = self.store.space_for_write(i);
        ks.clock = self.clock;
        ks
    }

    /// The current keyspace for writing, created on first use.
    pub fn ks_write(&mut self) -> &mut Keyspace {
        let i = match self.session.keyspace_index {
            Some(i) => i,
            None => {
                let i = self.store.create(&self.session.keyspace);
                self.session.keyspace_index = Some(i);
                i
            }
        };
        self.space(i)
    }

    /// An argument as a value, under the connection's literal mode (SPEC.md §1).
    pub fn value(&self, raw: &[u8]) -> Result<Value, CmdError> {
        let mode = self.session.literals;
        if !self.session.preparsed.is_empty() {
            let found = self.session.preparsed.iter().find(|p| {
                p.mode == mode && p.arg.as_ptr() == raw.as_ptr() && p.arg.len() == raw.len()
            });
            if let Some(p) = found {
                return p.value.clone();
            }
        }
        args::value(mode, raw)
    }

    /// Whether this write's effects are recorded (for the journal, the change feed or a
    /// transaction's undo): a handler builds the delta it declares ([`Ctx::delta`]) only then.
    pub fn recording(&self) -> bool {
        self.store.recording
    }

    /// Declares how a write changed the value of `key` in the current keyspace in place
    /// (crate::effects): the journal keeps the delta instead of the whole value. Call it after
    /// the change succeeded; deltas for one key apply in the order declared.
    pub fn delta(&mut self, key: &[u8], delta: okdb_ops::delta::Delta) {
        if !self.store.recording {
            return;
        }
        if let Some(i) = self.ks_index() {
            self.store.deltas.push((i, key::Key::new(key), delta));
        }
    }

    /// Declares a whole-keyspace effect (`FLUSHDB`, `FLUSHALL`, `SWAPDB`).
    pub(crate) fn declare(&mut self, effect: effects::Effect) {
        if self.store.recording {
            self.store.declared.push(effect);
        }
    }

    /// Says that a write reached `key` but left it as it was (an `SREM` of no member): it makes
    /// no effect, so nothing is journaled or notified for it.
    pub(crate) fn unchanged(&mut self, key: &[u8]) {
        if !self.store.recording {
            return;
        }
        if let Some(i) = self.ks_index() {
            self.store.covered.push((i, key::Key::new(key)));
        }
    }

    /// Declares an effect that covers `keys` of the current keyspace (`RENAME`): the notes of
    /// those keys make no effect of their own.
    pub(crate) fn declare_covering(&mut self, effect: effects::Effect, keys: &[&[u8]]) {
        if !self.store.recording {
            return;
        }
        if let Some(i) = self.ks_index() {
            self.store
                .covered
                .extend(keys.iter().map(|k| (i, key::Key::new(k))));
        }
        self.store.declared.push(effect);
    }

    /// Parks the connection until a write feeds one of `keys` (see [`crate::waiting`]): the
    /// command journals nothing now; the pop that serves it later is journaled then.
    pub(crate) fn park(
        &mut self,
        keys: Vec<Bytes>,
        op: waiting::WaitOp,
        timeout: Option<std::time::Duration>,
        on_timeout: Reply,
    ) -> Reply {
        let mailbox = std::sync::Arc::new(waiting::Mailbox::default());
        self.store.waiting.park(waiting::Waiter {
            client: self.session.id,
            keyspace: self.session.keyspace.clone(),
            keys,
            op,
            mailbox: mailbox.clone(),
            on_timeout: on_timeout.clone(),
        });
        self.session.blocked = Some(waiting::Blocked {
            mailbox,
            timeout,
            on_timeout,
        });
        Reply::Null
    }

    /// True when this command may park the connection (not while replaying the journal).
    pub(crate) fn may_wait(&self) -> bool {
        self.session.id != 0 && !self.session.in_exec
    }

    /// `MULTI`: starts queueing commands for `EXEC`.
    pub(crate) fn multi(&mut self) -> Result<(), CmdError> {
        if self.session.multi.is_some() {
            return Err(CmdError::err("MULTI calls can not be nested"));
        }
        self.session.multi = Some(Vec::new());
        self.session.multi_failed = false;
        self.session.block = false;
        Ok(())
    }

    /// `BEGIN`: starts queueing commands for `END`, which runs them all or none.
    pub(crate) fn begin(&mut self) -> Result<(), CmdError> {
        if self.session.multi.is_some() {
            return Err(CmdError::err("BEGIN inside MULTI or BEGIN is not allowed"));
        }
        self.session.multi = Some(Vec::new());
        self.session.multi_failed = false;
        self.session.block = true;
        Ok(())
    }

    /// `WATCH key [key ...]`: `EXEC` will fail if another write touches one of them first.
    pub(crate) fn watch(&mut self, keys: &[&[u8]]) -> Result<(), CmdError> {
        if self.session.multi.is_some() {
            return Err(CmdError::err("WATCH inside MULTI is not allowed"));
        }
        let now = self.now;
        for k in keys {
            let slot = (self.session.keyspace.clone(), key::Key::new(k));
            if self.session.watching.contains(&slot) {
                continue;
            }
            let due = self
                .ks_index()
                .and_then(|i| self.store.space(i).peek(k, now))
                .map_or(0, |e| e.expire_at);
            if due != 0 && (self.session.watch_deadline == 0 || due < self.session.watch_deadline) {
                self.session.watch_deadline = due;
            }
            self.store
                .watched
                .entry(slot.clone())
                .or_default()
                .push(self.session.id);
            self.session.watching.push(slot);
        }
        Ok(())
    }

    /// `UNWATCH`: forgets the connection's watched keys.
    pub(crate) fn unwatch(&mut self) {
        end_watches(self.store, self.session);
    }

    /// Before a flush of `keyspace` (every keyspace for None): the connections watching a key
    /// that is there fail their `EXEC` (a watched key that was not there is not touched).
    pub(crate) fn flush_watches(&mut self, keyspace: Option<&str>) {
        let now = self.now;
        let store = &mut *self.store;
        let mut broken = Vec::new();
        for ((ks, key), clients) in &store.watched {
            if keyspace.is_some_and(|k| k != ks.as_str()) {
                continue;
            }
            let Some(i) = store.index_of(ks) else {
                continue;
            };
            if store.spaces[i].1.peek(key.as_bytes(), now).is_some() {
                broken.extend(clients.iter().copied());
            }
        }
        store.watch_broken.extend(broken);
    }

    /// `DISCARD`: drops the queued commands and ends the watches.
    pub(crate) fn discard(&mut self) -> Result<(), CmdError> {
        if self.session.multi.take().is_none() {
            return Err(CmdError::err("DISCARD without MULTI"));
        }
        self.session.multi_failed = false;
        self.session.block = false;
        self.unwatch();
        Ok(())
    }

    /// The live value of a key in the current keyspace.
    pub fn get(&mut self, key: &[u8]) -> Option<&Value> {
        let now = self.now;
        let Some(i) = self.ks_index() else {
            self.lookups.misses += 1;
            return None;
        };
        // Not `self.space(i)`: the lookup counters are borrowed beside the store below.
        let ks = self.store.space(i);
        ks.clock = self.clock;
        let found = ks.get(key, now);
        match found {
            Some(_) => self.lookups.hits += 1,
            None => self.lookups.misses += 1,
        }
        found
    }

    /// Switches the connection to another keyspace (`USE`, `SELECT`).
    pub fn use_keyspace(&mut self, name: &str) {
        self.session.keyspace = name.into();
        self.session.keyspace_index = self.store.index_of(name);
        if let Some(c) = lock(&self.shared.clients).get_mut(&self.session.id) {
            c.keyspace = name.into();
        }
    }

    pub fn clients(&self) -> MutexGuard<'_, BTreeMap<u64, ClientInfo>> {
        lock(&self.shared.clients)
    }

    pub fn process_stats(&self) -> ProcessStats {
        (self.shared.process_stats)()
    }
}

#[cfg(test)]
mod tests;
