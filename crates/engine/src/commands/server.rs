//! Server commands: INFO, CONFIG, COMMAND, CLIENT.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use bytes::Bytes;

use crate::args::{self, is};
use crate::command::{CommandSpec, COMMANDS};
use crate::config::SETTINGS;
use crate::{glob, CmdError, Ctx, Reply};

const SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "keyspace",
];

/// `INFO [section ...]`: `key:value` lines under `# Section` headers, as Redis writes them.
pub fn info(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let mut wanted = Vec::new();
    for s in &a[1..] {
        let s = args::text(s)?.to_ascii_lowercase();
        match s.as_str() {
            "all" | "default" | "everything" => {
                wanted.extend(SECTIONS.iter().map(|s| s.to_string()))
            }
            s if SECTIONS.contains(&s) => wanted.push(s.to_string()),
            _ => {} // Redis answers unknown sections with nothing, so do we.
        }
    }
    if a.len() == 1 {
        wanted.extend(SECTIONS.iter().map(|s| s.to_string()));
    }
    let mut out = String::new();
    for section in SECTIONS.iter().filter(|s| wanted.iter().any(|w| w == *s)) {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        let mut title = section.to_string();
        title[..1].make_ascii_uppercase();
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
            line("process_id", &ctx.process_stats().pid);
            line("tcp_port", &cfg.port.load(Relaxed));
            line("uptime_in_seconds", &up);
            line("uptime_in_days", &(up / 86400));
            line("hz", &cfg.hz.load(Relaxed));
        }
        "clients" => {
            line("connected_clients", &ctx.clients().len());
            line("maxclients", &cfg.maxclients.load(Relaxed));
        }
        "memory" => {
            let stats = ctx.process_stats();
            let rss = stats.rss_bytes;
            // The allocator's count of live bytes when the binary has one; else the RSS.
            let used = stats.allocated_bytes.unwrap_or(rss);
            let keys: usize = ctx.store.spaces().map(|(_, k)| k.len()).sum();
            line("used_memory", &used);
            line("used_memory_human", &human(used));
            line("used_memory_rss", &rss);
            line("used_memory_rss_human", &human(rss));
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
            line(
                "rejected_connections",
                &st.rejected_connections.load(Relaxed),
            );
            line("expired_keys", &st.expired_keys.load(Relaxed));
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
pub fn save(ctx: &mut Ctx, _a: &[Bytes]) -> Result<Reply, CmdError> {
    ctx.session.wait_checkpoint = Some(journal_queue(ctx)?.request_checkpoint());
    Ok(Reply::Ok)
}

/// `BGSAVE [SCHEDULE]`: asks for a checkpoint now and answers at once.
pub fn bgsave(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
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

/// `CONFIG GET pattern…` → map of matching settings; `CONFIG SET name value …` applies all or none.
pub fn config(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let cfg = &ctx.shared.config;
    if is(&a[1], "GET") && a.len() >= 3 {
        let mut pairs = Vec::new();
        for s in SETTINGS {
            if a[2..]
                .iter()
                .any(|p| glob::matches(&p.to_ascii_lowercase(), s.name.as_bytes()))
            {
                pairs.push((Reply::text(s.name), Reply::text(&(s.get)(cfg))));
            }
        }
        return Ok(Reply::Map(pairs));
    }
    if is(&a[1], "SET") && a.len() >= 4 && a.len().is_multiple_of(2) {
        let mut changes = Vec::new();
        for pair in a[2..].chunks(2) {
            let name = args::text(&pair[0])?.to_ascii_lowercase();
            let s = SETTINGS.iter().find(|s| s.name == name).ok_or_else(|| {
                CmdError::err(format!(
                    "Unknown option or number of arguments for CONFIG SET - '{name}'"
                ))
            })?;
            let set = s.set.ok_or_else(|| {
                CmdError::err(format!(
                    "CONFIG SET failed: '{name}' is fixed at start (set it in the config file or by flag)"
                ))
            })?;
            changes.push((s, set, args::text(&pair[1])?));
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
        return Ok(Reply::Ok);
    }
    Err(CmdError::err(
        "unknown CONFIG subcommand or wrong number of arguments: use CONFIG GET pattern or CONFIG SET name value",
    ))
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

pub fn command(_: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
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
        Some(_) => Err(CmdError::err(
            "unknown COMMAND subcommand: use COUNT, LIST, INFO or DOCS",
        )),
    }
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

pub fn client(ctx: &mut Ctx, a: &[Bytes]) -> Result<Reply, CmdError> {
    let id = ctx.session.id;
    let sub = &a[1];
    let usage = || {
        CmdError::err("unknown CLIENT subcommand or wrong number of arguments: use ID, GETNAME, SETNAME name, LIST, INFO or SETINFO attr value")
    };
    let line = |id: &u64, c: &crate::ClientInfo| {
        format!(
            "id={id} addr={} name={} age={} keyspace={} lib-name={}\n",
            c.addr,
            c.name.as_deref().unwrap_or(""),
            c.created.elapsed().as_secs(),
            c.keyspace,
            c.lib.as_deref().unwrap_or(""),
        )
    };
    match a.len() {
        2 if is(sub, "ID") => Ok(Reply::Int(id as i64)),
        2 if is(sub, "GETNAME") => Ok(ctx
            .clients()
            .get(&id)
            .and_then(|c| c.name.as_deref().map(Reply::text))
            .unwrap_or(Reply::Null)),
        3 if is(sub, "SETNAME") => {
            let name = client_name(&a[2])?;
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
        4 if is(sub, "SETINFO") => {
            let value = client_name(&a[3])?;
            if is(&a[2], "LIB-NAME") {
                if let Some(c) = ctx.clients().get_mut(&id) {
                    c.lib = value;
                }
            } else if !is(&a[2], "LIB-VER") {
                return Err(CmdError::err(
                    "Unrecognized option for CLIENT SETINFO: use LIB-NAME or LIB-VER",
                ));
            }
            Ok(Reply::Ok)
        }
        _ => Err(usage()),
    }
}
