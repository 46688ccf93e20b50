//! Server commands: INFO, CONFIG, COMMAND, CLIENT.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use crate::args::{self, is};
use crate::command::{CommandSpec, COMMANDS};
use crate::config::SETTINGS;
use crate::{glob, CmdError, Ctx, Reply};
use okdb_value::literal::Literals;

/// Every `INFO` section, in the order Redis prints them.
const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "commandstats",
    "errorstats",
    "keyspace",
];

/// Sections `INFO` and `INFO default` print: all but the per-command ones, as Redis.
fn in_default(section: &str) -> bool {
    section != "commandstats"
}

/// `INFO [section ...]`: `key:value` lines under `# Section` headers, as Redis writes them.
/// `all` and `everything` name every section, `default` (or no argument) the default ones.
pub fn info(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let mut wanted: Vec<&str> = Vec::new();
    for s in &a[1..] {
        let s = args::text(s)?.to_ascii_lowercase();
        match s.as_str() {
            "all" | "everything" => wanted.extend(SECTIONS),
            "default" => wanted.extend(SECTIONS.iter().filter(|s| in_default(s))),
            // Redis answers unknown sections with nothing, so do we.
            s => wanted.extend(SECTIONS.iter().filter(|name| **name == s)),
        }
    }
    if a.len() == 1 {
        wanted.extend(SECTIONS.iter().filter(|s| in_default(s)));
    }
    let mut out = String::new();
    for section in SECTIONS.iter().filter(|s| wanted.contains(s)) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let title = match *section {
            "cpu" => "CPU".to_string(),
            "commandstats" => "Commandstats".to_string(),
            "errorstats" => "Errorstats".to_string(),
            s => {
                let mut t = s.to_string();
                t[..1].make_ascii_uppercase();
                t
            }
        };
        let _ = write!(out, "# {title}\r\n");
        info_section(ctx, section, &mut out);
    }
    Ok(Reply::Text(out))
}

fn info_section(ctx: &mut Ctx, section: &str, out: &mut String) {
    let cfg = &ctx.shared.config;
    let mut line = |k: &str, v: &dyn std::fmt::Display| {
        let _ = write!(out, "{k}:{v}\r\n");
    };
    match section {
        "server" => {
            let up = ctx.shared.started.elapsed().as_secs();
            line("redis_version", &crate::REDIS_COMPAT_VERSION);
            line("okdb_version", &crate::VERSION);
            line("redis_mode", &"standalone");
            line(
                "os",
                &format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            );
            line("arch_bits", &(usize::BITS));
            line("multiplexing_api", &"tokio");
            line("process_id", &ctx.process_stats().pid);
            line("run_id", &ctx.shared.run_id);
            line("tcp_port", &cfg.port.load(Relaxed));
            line("server_time_usec", &(ctx.now * 1000));
            line("uptime_in_seconds", &up);
            line("uptime_in_days", &(up / 86400));
            line("hz", &cfg.hz.load(Relaxed));
            line("configured_hz", &cfg.hz.load(Relaxed));
        }
        "clients" => {
            line("connected_clients", &ctx.clients().len());
            line("maxclients", &cfg.maxclients.load(Relaxed));
            line("blocked_clients", &ctx.store.waiting.len());
        }
        "memory" => {
            let stats = ctx.process_stats();
            let rss = stats.rss_bytes;
            // The allocator's count of live bytes when the binary has one; else the RSS.
            let used = stats.allocated_bytes.unwrap_or(rss);
            let keys: usize = ctx.store.spaces().map(|(_, k)| k.len()).sum();
            let maxmemory = cfg.maxmemory.load(Relaxed);
            line("used_memory", &used);
            line("used_memory_human", &human(used));
            line("used_memory_rss", &rss);
            line("used_memory_rss_human", &human(rss));
            line("maxmemory", &maxmemory);
            line("maxmemory_human", &human(maxmemory));
            line("maxmemory_policy", &cfg.policy().name());
            line(
                "mem_fragmentation_ratio",
                &format!("{:.2}", rss as f64 / used.max(1) as f64),
            );
            line(
                "mem_allocator",
                &if stats.allocated_bytes.is_some() {
                    "jemalloc"
                } else {
                    "system"
                },
            );
            line("keys", &keys);
            line(
                "bytes_per_key",
                &(used.checked_div(keys as u64).unwrap_or(0)),
            );
        }
        "stats" => {
            let st = &ctx.shared.stats;
            line("total_connections_received", &st.connections.load(Relaxed));
            line("total_commands_processed", &st.commands.load(Relaxed));
            line("instantaneous_ops_per_sec", &st.ops_per_sec());
            line(
                "rejected_connections",
                &st.rejected_connections.load(Relaxed),
            );
            line("expired_keys", &st.expired_keys.load(Relaxed));
            line("evicted_keys", &st.evicted_keys.load(Relaxed));
            line("keyspace_hits", &st.keyspace_hits.load(Relaxed));
            line("keyspace_misses", &st.keyspace_misses.load(Relaxed));
            line(
                "pubsub_channels",
                &ctx.store.pubsub.channels(false, None).len(),
            );
            line("pubsub_patterns", &ctx.store.pubsub.numpat());
            line(
                "pubsubshard_channels",
                &ctx.store.pubsub.channels(true, None).len(),
            );
            line("feed_listeners", &ctx.shared.feed.listeners.load(Relaxed));
            line("feed_oldest_seq", &ctx.shared.feed.floor());
            line("feed_last_seq", &ctx.shared.feed.last());
            line("total_error_replies", &st.error_replies());
            line("acl_access_denied_auth", &st.auth_failures.load(Relaxed));
            for (i, what) in ["cmd", "key", "channel", "keyspace"].iter().enumerate() {
                line(
                    &format!("acl_access_denied_{what}"),
                    &st.acl_denied[i].load(Relaxed),
                );
            }
        }
        "replication" => {
            line("role", &"master");
            line("connected_slaves", &0);
            line("master_failover_state", &"no-failover");
            line("master_replid", &ctx.shared.run_id);
            line("master_repl_offset", &0);
            line("repl_backlog_active", &0);
        }
        "cpu" => {
            let p = ctx.process_stats();
            line("used_cpu_sys", &format!("{:.6}", p.cpu_sys));
            line("used_cpu_user", &format!("{:.6}", p.cpu_user));
            // okdb starts no child processes.
            line("used_cpu_sys_children", &"0.000000");
            line("used_cpu_user_children", &"0.000000");
        }
        "commandstats" => {
            let st = &ctx.shared.stats;
            for (c, n) in COMMANDS.iter().zip(st.per_command.iter()) {
                let (calls, failed, rejected) = (
                    n.calls.load(Relaxed),
                    n.failed.load(Relaxed),
                    n.rejected.load(Relaxed),
                );
                if calls + rejected > 0 {
                    line(
                        &format!("cmdstat_{}", c.name.to_ascii_lowercase()),
                        &format!("calls={calls},rejected_calls={rejected},failed_calls={failed}"),
                    );
                }
            }
        }
        "errorstats" => {
            let errors = ctx
                .shared
                .stats
                .errors
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            for (prefix, n) in errors.iter() {
                line(&format!("errorstat_{prefix}"), &format!("count={n}"));
            }
        }
        "persistence" => {
            let Some(q) = ctx.shared.journal.get() else {
                line("aof_enabled", &0);
                line("journal_enabled", &0);
                return;
            };
            let st = &q.stats;
            let failure = q.failure();
            let dirty: usize = ctx.store.spaces().map(|(_, k)| k.dirty_len()).sum();
            line("aof_enabled", &1);
            line("journal_enabled", &1);
            line("appendfsync", &cfg.fsync().name());
            line("dir", &cfg.dir_display());
            line(
                "aof_last_write_status",
                &if failure.is_some() { "err" } else { "ok" },
            );
            line("journal_error", &failure.unwrap_or_default());
            line("journal_bytes", &st.journal_bytes.load(Relaxed));
            line("journal_segments", &st.journal_segments.load(Relaxed));
            line("next_lsn", &ctx.store.next_lsn);
            line("last_lsn_written", &st.last_lsn_written.load(Relaxed));
            line("durable_lsn", &q.durable());
            line("fsyncs", &st.fsyncs.load(Relaxed));
            line("last_fsync_us", &st.last_fsync_us.load(Relaxed));
            line("checkpoint_lsn", &st.checkpoint_lsn.load(Relaxed));
            line("checkpoints", &st.checkpoints.load(Relaxed));
            line(
                "checkpoint_in_progress",
                &u8::from(st.checkpoint_running.load(Relaxed)),
            );
            line(
                "last_checkpoint_time",
                &st.last_checkpoint_unix.load(Relaxed),
            );
            line("last_checkpoint_ms", &st.last_checkpoint_ms.load(Relaxed));
            line(
                "last_checkpoint_capture_us",
                &st.last_capture_us.load(Relaxed),
            );
            line(
                "last_checkpoint_kind",
                &if st.last_checkpoint_fresh.load(Relaxed) == 1 {
                    "fresh"
                } else {
                    "changes"
                },
            );
            line(
                "last_checkpoint_keys",
                &st.last_checkpoint_keys.load(Relaxed),
            );
            line("rdb_last_save_time", &st.last_checkpoint_unix.load(Relaxed));
            let cp_error = q.checkpoint_error();
            line(
                "rdb_last_bgsave_status",
                &if cp_error.is_some() { "err" } else { "ok" },
            );
            line("checkpoint_failures", &st.checkpoint_failures.load(Relaxed));
            line(
                "checkpoint_failures_in_a_row",
                &st.checkpoint_failures_in_a_row.load(Relaxed),
            );
            // One line: the reason with line breaks flattened.
            line(
                "last_checkpoint_error",
                &cp_error.unwrap_or_default().replace(['\r', '\n'], " "),
            );
            line("keys_changed_since_checkpoint", &dirty);
            line("recovery_ms", &st.recovery_ms.load(Relaxed));
            line("recovered_records", &st.recovered_records.load(Relaxed));
        }
        "keyspace" => {
            let mut spaces: Vec<_> = ctx.store.spaces().collect();
            spaces.sort_by_key(|(name, _)| (name.parse::<u64>().unwrap_or(u64::MAX), *name));
            for (name, ks) in spaces {
                if ks.is_empty() {
                    continue;
                }
                let label = if name.bytes().all(|b| b.is_ascii_digit()) {
                    format!("db{name}")
                } else {
                    name.to_string()
                };
                line(
                    &label,
                    &format!("keys={},expires={},avg_ttl=0", ks.len(), ks.volatile_len()),
                );
            }
        }
        _ => {}
    }
}

/// `SAVE`: asks for a checkpoint now and answers when it has completed (the server waits for
/// it outside the store's lock, so other clients go on meanwhile).
pub fn save(ctx: &mut Ctx, _a: &[&[u8]]) -> Result<Reply, CmdError> {
    ctx.session.wait_checkpoint = Some(journal_queue(ctx)?.request_checkpoint());
    Ok(Reply::Ok)
}

/// `BGSAVE [SCHEDULE]`: asks for a checkpoint now and answers at once.
pub fn bgsave(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    if a.len() > 2 || a.get(1).is_some_and(|o| !is(o, "SCHEDULE")) {
        return Err(CmdError::syntax());
    }
    journal_queue(ctx)?.request_checkpoint();
    Ok(Reply::Status(std::borrow::Cow::Borrowed(
        "Background saving started",
    )))
}

fn journal_queue<'a>(ctx: &Ctx<'a>) -> Result<&'a crate::journal::Queue, CmdError> {
    ctx.shared
        .journal
        .get()
        .map(|q| &**q)
        .ok_or_else(|| CmdError::err("persistence is off (appendonly no): nothing to save"))
}

fn human(bytes: u64) -> String {
    let units = ["B", "K", "M", "G", "T"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.2}{}", units[u])
}

/// `CONFIG GET pattern…` → map of matching settings; `CONFIG SET name value …` applies all or
/// none; `CONFIG RESETSTAT` zeroes the statistics; `CONFIG REWRITE` writes the settings in force
/// back to the config file the server started with.
pub fn config(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let cfg = &ctx.shared.config;
    let sub = args::text(a[1])?.to_ascii_uppercase();
    match (sub.as_str(), a.len()) {
        ("GET", 3..) => {
            let patterns = a[2..]
                .iter()
                .map(|p| glob::Pattern::new(&p.to_ascii_lowercase()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| CmdError::err(e.to_string()))?;
            let mut pairs = Vec::new();
            for s in SETTINGS {
                if patterns.iter().any(|p| p.matches(s.name.as_bytes())) {
                    pairs.push((Reply::text(s.name), Reply::text(&(s.get)(cfg))));
                }
            }
            Ok(Reply::Map(pairs))
        }
        ("SET", n) if n >= 4 && n.is_multiple_of(2) => config_set(ctx, &a[2..]),
        ("RESETSTAT", 2) => {
            ctx.shared.stats.reset();
            Ok(Reply::Ok)
        }
        ("REWRITE", 2) => {
            // Redis's `save` and encoding thresholds are accepted and ignored: not written to
            // the file.
            let ignored = |name: &str| {
                name == "save"
                    || crate::config::ENCODING_HINTS
                        .iter()
                        .any(|(n, _)| *n == name)
            };
            let values: Vec<(&'static str, String)> = SETTINGS
                .iter()
                .filter(|s| !ignored(s.name))
                .map(|s| (s.name, (s.get)(cfg)))
                .collect();
            match &ctx.shared.config_writer {
                None => Err(CmdError::err("The server is running without a config file")),
                Some(write) => write(&values)
                    .map(|()| Reply::Ok)
                    .map_err(|e| CmdError::err(format!("Rewriting config file: {e}"))),
            }
        }
        ("HELP", 2) => Ok(Reply::Array(
            [
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern> [<pattern> ...]",
                "    Return parameters matching the glob-like <pattern>s and their values.",
                "SET <directive> <value> [<directive> <value> ...]",
                "    Set the configuration <directive>s to <value>s, all or none.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
                "HELP",
                "    Print this help.",
            ]
            .into_iter()
            .map(Reply::text)
            .collect(),
        )),
        ("GET" | "SET" | "RESETSTAT" | "REWRITE" | "HELP", _) => Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try CONFIG HELP.",
            String::from_utf8_lossy(a[1])
        ))),
        _ => Err(CmdError::err(format!(
            "unknown subcommand '{}'. Try CONFIG HELP.",
            String::from_utf8_lossy(a[1])
        ))),
    }
}

fn config_set(ctx: &mut Ctx, pairs: &[&[u8]]) -> Result<Reply, CmdError> {
    let cfg = &ctx.shared.config;
    let mut changes = Vec::new();
    for pair in pairs.chunks(2) {
        let name = args::text(pair[0])?.to_ascii_lowercase();
        let s = SETTINGS.iter().find(|s| s.name == name).ok_or_else(|| {
            CmdError::err(format!(
                "Unknown option or number of arguments for CONFIG SET - '{name}'"
            ))
        })?;
        let set = s.set.ok_or_else(|| {
            CmdError::err(format!(
                "CONFIG SET failed (possibly related to argument '{name}') - can't set immutable config (set it in the config file or by flag)"
            ))
        })?;
        changes.push((s, set, args::text(pair[1])?));
    }
    let olds: Vec<String> = changes.iter().map(|(s, _, _)| (s.get)(cfg)).collect();
    for (i, (s, set, v)) in changes.iter().enumerate() {
        if let Err(e) = set(cfg, v) {
            for ((_, set, _), old) in changes[..i].iter().zip(&olds) {
                let _ = set(cfg, old);
            }
            return Err(CmdError::err(format!(
                "CONFIG SET failed (possibly related to argument '{}') - {e}",
                s.name
            )));
        }
    }
    Ok(Reply::Ok)
}

/// `TIME`: the batch clock as [unix seconds, microseconds] (okdb's clock has millisecond
/// resolution, so the microseconds are a multiple of 1000).
pub fn time(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    Ok(Reply::Array(vec![
        Reply::text(&(ctx.now / 1000).to_string()),
        Reply::text(&((ctx.now % 1000) * 1000).to_string()),
    ]))
}

/// `LASTSAVE`: unix time of the last finished checkpoint, or of the start when there was none.
pub fn lastsave(ctx: &mut Ctx, _: &[&[u8]]) -> Result<Reply, CmdError> {
    let last = ctx
        .shared
        .journal
        .get()
        .map_or(0, |q| q.stats.last_checkpoint_unix.load(Relaxed));
    Ok(Reply::Int(if last > 0 {
        last
    } else {
        ctx.shared.started_unix
    } as i64))
}

/// `OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ|HELP`.
pub fn object(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let sub = args::text(a[1])?.to_ascii_uppercase();
    if sub == "HELP" && a.len() == 2 {
        return Ok(Reply::Array(
            [
                "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "ENCODING <key>",
                "    Return the kind of internal representation used in order to store the value",
                "    associated with a <key>.",
                "FREQ <key>",
                "    Return the access frequency index of the <key>. The returned integer is",
                "    proportional to the logarithm of the recent access frequency of the key.",
                "IDLETIME <key>",
                "    Return the idle time of the <key>, that is the approximated number of",
                "    seconds elapsed since the last access to the key.",
                "REFCOUNT <key>",
                "    Return the number of references of the value associated with the specified",
                "    <key>.",
                "HELP",
                "    Print this help.",
            ]
            .into_iter()
            .map(Reply::text)
            .collect(),
        ));
    }
    if a.len() != 3 || !["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"].contains(&sub.as_str()) {
        return Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try OBJECT HELP.",
            String::from_utf8_lossy(a[1])
        )));
    }
    let now = ctx.now;
    let policy = ctx.shared.config.policy();
    let Some(entry) = ctx.ks().and_then(|ks| ks.peek(a[2], now)) else {
        return Ok(Reply::Null);
    };
    Ok(match sub.as_str() {
        "ENCODING" => Reply::text(encoding(&entry.value)),
        "REFCOUNT" => Reply::Int(1),
        "IDLETIME" => {
            if policy.lfu() {
                return Err(CmdError::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
            }
            Reply::Int(crate::evict::idle_secs(entry, now) as i64)
        }
        _ => {
            if !policy.lfu() {
                return Err(CmdError::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
            }
            Reply::Int(crate::evict::frequency(entry, now) as i64)
        }
    })
}

/// The representation `OBJECT ENCODING` names: Redis's names for strings and numbers (what a
/// Redis client expects of them), okdb's own for its containers.
fn encoding(v: &okdb_value::Value) -> &'static str {
    use okdb_value::Value;
    match v {
        Value::Int(_) => "int",
        Value::Str(s) if s.is_inline() => "embstr",
        Value::Null | Value::Bool(_) | Value::Float(_) => "embstr",
        Value::Decimal(_) => "decimal",
        Value::Date(_) | Value::DateTime(_) => "date",
        Value::Str(_) | Value::Bytes(_) => "raw",
        Value::List(l) if l.is_packed() => "packed-btree",
        Value::List(_) => "rrb-vector",
        Value::Dict(_) => "ordered-dict",
        Value::Set(_) => "ordered-set",
        Value::SortedSet(_) => "sorted-btree",
        Value::Deque(d) if d.items.is_packed() => "packed-btree",
        Value::Deque(_) => "rrb-vector",
        Value::PQueue(_) => "ordered-map",
        Value::Function(_) => "source",
    }
}

/// `MEMORY USAGE key [SAMPLES n]` and `MEMORY HELP`: an estimate of the bytes a key and its
/// value take (the whole value is measured; SAMPLES is accepted and ignored).
pub fn memory(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let sub = args::text(a[1])?.to_ascii_uppercase();
    match (sub.as_str(), a.len()) {
        ("USAGE", 3 | 5) => {
            if a.len() == 5 && (!is(a[3], "SAMPLES") || args::int(a[4]).is_err()) {
                return Err(CmdError::syntax());
            }
            let now = ctx.now;
            Ok(ctx
                .ks()
                .and_then(|ks| ks.peek(a[2], now).map(|e| (a[2].len(), e)))
                .map_or(Reply::Null, |(klen, e)| {
                    Reply::Int(crate::evict::entry_bytes(klen, e) as i64)
                }))
        }
        ("HELP", 2) => Ok(Reply::Array(
            [
                "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value.",
                "HELP",
                "    Print this help.",
            ]
            .into_iter()
            .map(Reply::text)
            .collect(),
        )),
        _ => Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try MEMORY HELP.",
            String::from_utf8_lossy(a[1])
        ))),
    }
}

/// One command in Redis's `COMMAND INFO` shape.
fn command_info(c: &CommandSpec) -> Reply {
    let flags = c.flags.names().into_iter().map(Reply::status).collect();
    Reply::Array(vec![
        Reply::text(&c.name.to_ascii_lowercase()),
        Reply::Int(c.arity as i64),
        Reply::Set(flags),
        Reply::Int(c.first_key as i64),
        Reply::Int(c.last_key as i64),
        Reply::Int(c.key_step as i64),
        Reply::Set(vec![Reply::Status(format!("@{}", c.group).into())]),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
        Reply::Array(vec![]),
    ])
}

fn command_docs(c: &CommandSpec) -> Reply {
    Reply::Map(vec![
        (Reply::text("summary"), Reply::text(c.summary)),
        (Reply::text("since"), Reply::text("0.1.0")),
        (Reply::text("group"), Reply::text(c.group)),
        (Reply::text("syntax"), Reply::text(&c.usage())),
    ])
}

pub fn command(_: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let sub = a.get(1);
    let named = || a[2..].iter().map(|n| crate::command::lookup(n));
    match sub {
        None => Ok(Reply::Array(COMMANDS.iter().map(command_info).collect())),
        Some(s) if is(s, "COUNT") && a.len() == 2 => Ok(Reply::Int(COMMANDS.len() as i64)),
        Some(s) if is(s, "LIST") && a.len() == 2 => Ok(Reply::Array(
            COMMANDS
                .iter()
                .map(|c| Reply::text(&c.name.to_ascii_lowercase()))
                .collect(),
        )),
        Some(s) if is(s, "INFO") => Ok(Reply::Array(
            named()
                .map(|c| c.map_or(Reply::Null, command_info))
                .collect(),
        )),
        Some(s) if is(s, "DOCS") => {
            let chosen: Vec<&CommandSpec> = if a.len() == 2 {
                COMMANDS.iter().collect()
            } else {
                named().flatten().collect()
            };
            Ok(Reply::Map(
                chosen
                    .into_iter()
                    .map(|c| (Reply::text(&c.name.to_ascii_lowercase()), command_docs(c)))
                    .collect(),
            ))
        }
        Some(s) if is(s, "GETKEYS") => command_getkeys(&a[2..]),
        Some(_) => Err(CmdError::err(
            "unknown COMMAND subcommand: use COUNT, LIST, INFO, DOCS or GETKEYS",
        )),
    }
}

/// `COMMAND GETKEYS name arg …`: the keys that call names, as the ACL check finds them (so
/// `SORT k STORE d` names both, and only the last of several `STORE`s counts, as in Redis).
fn command_getkeys(call: &[&[u8]]) -> Result<Reply, CmdError> {
    let Some(name) = call.first() else {
        return Err(CmdError::err(
            "wrong number of arguments for 'command|getkeys' command",
        ));
    };
    let Some(spec) = crate::command::lookup(name) else {
        return Err(CmdError::err("Invalid command specified"));
    };
    if !spec.arity_ok(call.len()) {
        return Err(CmdError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let mut keys = Vec::new();
    spec.each_key(call, &mut |k, _| {
        keys.push(Reply::Bulk(bytes::Bytes::copy_from_slice(k)))
    });
    if keys.is_empty() {
        return Err(CmdError::err("The command has no key arguments"));
    }
    Ok(Reply::Array(keys))
}

/// `CLIENT KILL addr` (OK, or an error if no such client) or `CLIENT KILL [ID id] [ADDR addr]
/// [USER name] [SKIPME yes|no]` (how many were closed; the caller is skipped unless SKIPME no).
fn client_kill(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let me = ctx.session.id;
    if a.len() == 3 {
        let addr = args::text(a[2])?;
        let clients = ctx.clients();
        let found = clients.values().find(|c| c.addr == addr);
        return match found.and_then(|c| c.closer.clone()) {
            Some(close) => {
                drop(clients);
                (close.0)();
                Ok(Reply::Ok)
            }
            None => Err(CmdError::err("No such client")),
        };
    }
    if a.len() < 4 || !a.len().is_multiple_of(2) {
        return Err(CmdError::syntax());
    }
    let (mut id, mut addr, mut user, mut skipme) = (None, None, None, true);
    for pair in a[2..].chunks(2) {
        let v = &pair[1];
        if is(pair[0], "ID") {
            id = Some(
                args::int(v)
                    .ok()
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| CmdError::err("client-id should be greater than 0"))?,
            );
        } else if is(pair[0], "ADDR") {
            addr = Some(args::text(v)?.to_string());
        } else if is(pair[0], "USER") {
            user = Some(args::text(v)?.to_string());
        } else if is(pair[0], "SKIPME") {
            skipme = if is(v, "YES") {
                true
            } else if is(v, "NO") {
                false
            } else {
                return Err(CmdError::syntax());
            };
        } else {
            return Err(CmdError::syntax());
        }
    }
    let closers: Vec<crate::Closer> = ctx
        .clients()
        .iter()
        .filter(|(cid, c)| {
            id.is_none_or(|i| i == **cid)
                && addr.as_deref().is_none_or(|x| x == c.addr)
                && user.as_deref().is_none_or(|u| u == c.user)
                && !(skipme && **cid == me)
        })
        .filter_map(|(_, c)| c.closer.clone())
        .collect();
    for close in &closers {
        (close.0)();
    }
    Ok(Reply::Int(closers.len() as i64))
}

/// Validates a connection name: no spaces or newlines (so `CLIENT LIST` stays parseable).
pub fn client_name(raw: &[u8]) -> Result<Option<String>, CmdError> {
    let name = args::text(raw)?;
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok((!name.is_empty()).then(|| name.to_string()))
}

pub fn client(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let id = ctx.session.id;
    let sub = &a[1];
    let usage = || {
        CmdError::err("unknown CLIENT subcommand or wrong number of arguments: use ID, GETNAME, SETNAME name, LIST, INFO, LITERALS [strict|faithful], REPLY ON|OFF|SKIP, UNBLOCK id [TIMEOUT|ERROR] or SETINFO attr value")
    };
    let line = |id: &u64, c: &crate::ClientInfo| {
        format!(
            "id={id} addr={} name={} age={} keyspace={} user={} lib-name={}\n",
            c.addr,
            c.name.as_deref().unwrap_or(""),
            c.created.elapsed().as_secs(),
            c.keyspace,
            c.user,
            c.lib.as_deref().unwrap_or(""),
        )
    };
    if is(sub, "KILL") {
        return client_kill(ctx, a);
    }
    match a.len() {
        2 if is(sub, "ID") => Ok(Reply::Int(id as i64)),
        2 if is(sub, "GETNAME") => Ok(ctx
            .clients()
            .get(&id)
            .and_then(|c| c.name.as_deref().map(Reply::text))
            .unwrap_or(Reply::Null)),
        3 if is(sub, "SETNAME") => {
            let name = client_name(a[2])?;
            if let Some(c) = ctx.clients().get_mut(&id) {
                c.name = name;
            }
            Ok(Reply::Ok)
        }
        2 if is(sub, "LIST") => {
            let text: String = ctx.clients().iter().map(|(id, c)| line(id, c)).collect();
            Ok(Reply::Text(text))
        }
        2 if is(sub, "INFO") => Ok(Reply::Text(
            ctx.clients()
                .get(&id)
                .map(|c| line(&id, c))
                .unwrap_or_default(),
        )),
        2 if is(sub, "LITERALS") => Ok(Reply::text(ctx.session.literals.name())),
        3 if is(sub, "REPLY") => {
            use crate::ReplyMode;
            ctx.session.reply = if is(a[2], "ON") {
                ReplyMode::On
            } else if is(a[2], "OFF") {
                ReplyMode::Off
            } else if is(a[2], "SKIP") {
                ReplyMode::SkipThis
            } else {
                return Err(CmdError::syntax());
            };
            Ok(Reply::Ok)
        }
        3 if is(sub, "LITERALS") => {
            ctx.session.literals = if is(a[2], "STRICT") {
                Literals::Strict
            } else if is(a[2], "FAITHFUL") {
                Literals::Faithful
            } else {
                return Err(CmdError::err("CLIENT LITERALS takes strict or faithful"));
            };
            Ok(Reply::Ok)
        }
        3 | 4 if is(sub, "UNBLOCK") => {
            let target = args::int(a[2])?;
            let error = match a.get(3) {
                None => false,
                Some(m) if is(m, "TIMEOUT") => false,
                Some(m) if is(m, "ERROR") => true,
                Some(_) => {
                    return Err(CmdError::err(
                        "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
                    ))
                }
            };
            let done = u64::try_from(target).is_ok_and(|t| ctx.store.waiting.unblock(t, error));
            Ok(Reply::Int(done as i64))
        }
        4 if is(sub, "SETINFO") => {
            let value = client_name(a[3])?;
            if is(a[2], "LIB-NAME") {
                if let Some(c) = ctx.clients().get_mut(&id) {
                    c.lib = value;
                }
            } else if !is(a[2], "LIB-VER") {
                return Err(CmdError::err(
                    "Unrecognized option for CLIENT SETINFO: use LIB-NAME or LIB-VER",
                ));
            }
            Ok(Reply::Ok)
        }
        _ => Err(usage()),
    }
}

/// `SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]`: stops the server as a SIGTERM does (the
/// connections finish their current batch, the journal is written out and a last checkpoint
/// taken); the connection closes with no reply, as Redis's. `NOSAVE`, `SAVE`, `NOW` and `FORCE`
/// are accepted: okdb's journal keeps every acknowledged write whichever is given, and it waits
/// for no replica. `ABORT` answers that no shutdown is in progress (okdb's is never pending).
pub fn shutdown(ctx: &mut Ctx, a: &[&[u8]]) -> Result<Reply, CmdError> {
    let (mut nosave, mut save, mut abort) = (false, false, false);
    for word in &a[1..] {
        if is(word, "NOSAVE") {
            nosave = true;
        } else if is(word, "SAVE") {
            save = true;
        } else if is(word, "ABORT") {
            abort = true;
        } else if !(is(word, "NOW") || is(word, "FORCE")) {
            return Err(CmdError::syntax());
        }
    }
    if (nosave && save) || (abort && a.len() > 2) {
        return Err(CmdError::syntax());
    }
    if abort {
        return Err(CmdError::err("No shutdown in progress."));
    }
    if !crate::Engine::stop(ctx.shared) {
        return Err(CmdError::err(
            "this server cannot be stopped by a command (it was not started by okdb server)",
        ));
    }
    ctx.session.reply = crate::ReplyMode::SkipNext;
    ctx.session.quit = true;
    Ok(Reply::Ok)
}
