//! `okdb`: the server, the shell and one-shot commands in one binary.
//!
//! ```text
//! okdb server [--bind ADDR] [--port N] [--config FILE]
//! okdb shell  [-H HOST] [-p PORT]
//! okdb [-H HOST] [-p PORT] COMMAND [ARGS...]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

mod config;
mod shell;

// jemalloc: it counts its live bytes (INFO memory's used_memory), and it keeps fragmentation low
// under a server's churn of small allocations. Not on Windows, where it does not build (MSVC)
// or does not cross-build (MinGW); there the system allocator serves and INFO says so.
#[cfg(not(windows))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The allocator's live bytes, for `INFO memory`.
fn allocated_bytes() -> Option<u64> {
    #[cfg(not(windows))]
    {
        use tikv_jemalloc_ctl::{epoch, stats};
        epoch::advance().ok()?;
        stats::allocated::read().ok().map(|n| n as u64)
    }
    #[cfg(windows)]
    {
        None
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "okdb",
    version,
    about = "okdb: a data-structure server with typed JSON values"
)]
struct Cli {
    /// Server host, for the shell and one-shot commands.
    #[arg(short = 'H', long, global = true, default_value = "127.0.0.1")]
    host: String,
    /// Server port: for the shell and one-shot commands (default 7379), and for `server`.
    #[arg(short, long, global = true)]
    port: Option<u16>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server (listens on 127.0.0.1:7379 by default).
    Server(ServerArgs),
    /// Inspect and fix journal segments offline (see docs/persistence.md).
    Journal {
        #[command(subcommand)]
        action: JournalAction,
    },
    /// An interactive shell with history, help and pretty-printed values.
    Shell,
    /// Follows the change feed: one JSON line per change to a key matching a pattern
    /// (docs/changefeed.md).
    Listen(ListenArgs),
    /// Any other words are one command to send, e.g. `okdb GET k`.
    #[command(external_subcommand)]
    OneShot(Vec<String>),
}

/// `okdb server` flags; each overrides the config file.
#[derive(clap::Args, Debug)]
struct ServerArgs {
    /// Address to listen on; beyond loopback only when clients must authenticate.
    #[arg(long)]
    bind: Option<String>,
    /// A TOML config file (see docs/server.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Threads serving connections; 0 = one per two cores (the default).
    #[arg(long)]
    io_threads: Option<usize>,
    /// Data directory: journal segments and okdb.sqlite3 (default ./okdb-data).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Persistence: yes (the default) or no (memory only).
    #[arg(long, value_parser = ["yes", "no"])]
    appendonly: Option<String>,
    /// When a write is on disk before it is acknowledged: always, everysec (default), no.
    #[arg(long, value_parser = ["always", "everysec", "no"])]
    appendfsync: Option<String>,
    /// The default user's password: clients must AUTH (needed to listen beyond loopback).
    #[arg(long)]
    requirepass: Option<String>,
    /// An ACL file of users (docs/security.md); it must exist (it may be empty).
    #[arg(long)]
    aclfile: Option<PathBuf>,
    /// Also serve RESP over TLS on this port (0: a free one, logged).
    #[arg(long)]
    tls_port: Option<u16>,
    /// The TLS port's certificate chain (PEM).
    #[arg(long)]
    tls_cert_file: Option<PathBuf>,
    /// The TLS port's private key (PEM).
    #[arg(long)]
    tls_key_file: Option<PathBuf>,
    /// The certificate authority of client certificates (PEM).
    #[arg(long)]
    tls_ca_cert_file: Option<PathBuf>,
    /// Client certificates: yes (the default with a CA file), optional, no.
    #[arg(long, value_parser = ["yes", "no", "optional"])]
    tls_auth_clients: Option<String>,
    /// Serve only the TLS port.
    #[arg(long)]
    tls_only: bool,
}

/// `okdb listen` flags.
#[derive(clap::Args, Debug)]
struct ListenArgs {
    /// Key patterns (Redis glob: `*`, `?`, `[…]`).
    #[arg(required = true)]
    patterns: Vec<String>,
    /// Resume after this seq (the `seq` of the last line you processed).
    #[arg(long)]
    from: Option<u64>,
    /// The keyspace to follow (default 0; `*` for every one).
    #[arg(long)]
    keyspace: Option<String>,
    /// Leave the values out.
    #[arg(long)]
    novalues: bool,
    /// Values larger than this many bytes come as their type and size.
    #[arg(long)]
    maxvalue: Option<u64>,
}

#[derive(Subcommand, Debug)]
enum JournalAction {
    /// Reads every segment and reports records, LSN ranges and damage (exit 1 if damaged).
    Check {
        /// Data directory (default ./okdb-data).
        #[arg(default_value = okdb_engine::config::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Prints every record: LSN, time (unix ms), keyspace, arguments (exit 1 if damaged).
    Dump {
        #[arg(default_value = okdb_engine::config::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Rewrites damaged segments with every readable record, marks what was lost, reports it.
    Repair {
        #[arg(default_value = okdb_engine::config::DEFAULT_DIR)]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let port = cli.port.unwrap_or(okdb_engine::config::DEFAULT_PORT);
    let addr = format!("{}:{port}", cli.host);
    let result = match cli.command {
        Some(Command::Server(args)) => run_server(args, cli.port),
        Some(Command::Journal { action }) => journal(action),
        Some(Command::Shell) | None => shell::repl(&addr),
        Some(Command::Listen(args)) => listen(&addr, args),
        Some(Command::OneShot(words)) => shell::one_shot(&addr, &words),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("okdb: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `okdb listen`: prints the change feed as JSON lines until the connection ends.
fn listen(addr: &str, args: ListenArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    let mut c = okdb_client::Client::connect(addr)?;
    let mut cmd: Vec<String> = vec!["LISTEN".into()];
    cmd.extend(args.patterns);
    if let Some(k) = args.keyspace {
        cmd.extend(["KEYSPACE".into(), k]);
    }
    if let Some(f) = args.from {
        cmd.extend(["FROM".into(), f.to_string()]);
    }
    if args.novalues {
        cmd.push("NOVALUES".into());
    }
    if let Some(m) = args.maxvalue {
        cmd.extend(["MAXVALUE".into(), m.to_string()]);
    }
    let mut last = match c.call(&cmd)? {
        okdb_resp::Frame::Push(items) if items.len() == 2 => match &items[1] {
            okdb_resp::Frame::Integer(n) => *n,
            _ => 0,
        },
        okdb_resp::Frame::Error(e) => anyhow::bail!("{e}"),
        other => anyhow::bail!("unexpected reply to LISTEN: {other:?}"),
    };
    let stdout = std::io::stdout();
    loop {
        let frame = match c.read() {
            Ok(f) => f,
            Err(e) => anyhow::bail!("{e} after seq {last}; resume with --from {last}"),
        };
        let map = match frame {
            okdb_resp::Frame::Push(items) if items.len() == 2 => items.into_iter().nth(1),
            okdb_resp::Frame::Error(e) => anyhow::bail!("{e}"),
            _ => None,
        };
        let Some(v) = map.as_ref().and_then(okdb_client::to_value) else {
            continue;
        };
        if let okdb_value::Value::Dict(d) = &v {
            if let Some(okdb_value::Value::Int(seq)) = d.get("seq") {
                last = *seq;
            }
        }
        let mut out = stdout.lock();
        writeln!(out, "{}", okdb_value::json::to_string(&v))?;
        out.flush()?;
    }
}

fn journal(action: JournalAction) -> anyhow::Result<ExitCode> {
    use okdb_persist::tools;
    use std::io::Write;
    let report = match action {
        JournalAction::Check { dir } => tools::check(&dir),
        JournalAction::Repair { dir } => tools::repair(&dir),
        JournalAction::Dump { dir } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let r = tools::dump(&dir, &mut out);
            // A reader that went away (`| head`) is not an error.
            match out.flush() {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
                _ => {}
            }
            drop(out);
            if let Err(e) = r {
                eprint!("okdb: {e}");
                return Ok(ExitCode::FAILURE);
            }
            Ok(String::new())
        }
    };
    let (code, text) = match report {
        Ok(t) => (ExitCode::SUCCESS, t),
        Err(t) => (ExitCode::FAILURE, t),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(code)
}

/// The TLS port and its settings, from the flags and the file; None without `tls-port`.
fn tls_settings(
    args: &ServerArgs,
    file: &mut config::FileConfig,
) -> anyhow::Result<Option<(u16, okdb_server::tls::TlsSettings)>> {
    let port = args.tls_port.or(file.tls_port);
    let cert = args.tls_cert_file.clone().or(file.tls_cert_file.take());
    let key = args.tls_key_file.clone().or(file.tls_key_file.take());
    let ca = args
        .tls_ca_cert_file
        .clone()
        .or(file.tls_ca_cert_file.take());
    let auth = args
        .tls_auth_clients
        .clone()
        .or(file.tls_auth_clients.take());
    let Some(port) = port else {
        if cert.is_some() || key.is_some() {
            anyhow::bail!("tls-cert-file and tls-key-file need tls-port");
        }
        return Ok(None);
    };
    let (Some(cert_file), Some(key_file)) = (cert, key) else {
        anyhow::bail!("tls-port needs tls-cert-file and tls-key-file");
    };
    let auth_clients = match auth {
        Some(a) => okdb_server::tls::ClientAuth::parse(&a)
            .ok_or_else(|| anyhow::anyhow!("tls-auth-clients: yes, no or optional"))?,
        None if ca.is_some() => okdb_server::tls::ClientAuth::Yes,
        None => okdb_server::tls::ClientAuth::No,
    };
    Ok(Some((
        port,
        okdb_server::tls::TlsSettings {
            cert_file,
            key_file,
            ca_cert_file: ca,
            auth_clients,
        },
    )))
}

/// Reads and writes the ACL file; a save goes to a temporary file, synced, then renamed over
/// the old one, so a crash leaves the old file or the new one, never half of one.
fn acl_file(path: PathBuf) -> okdb_engine::AclFile {
    let (read, write) = (path.clone(), path.clone());
    okdb_engine::AclFile {
        path: path.display().to_string(),
        load: Box::new(move || {
            std::fs::read_to_string(&read).map_err(|e| format!("{}: {e}", read.display()))
        }),
        save: Box::new(move |text| {
            use std::io::Write;
            // A new file of our own (never through a link left there), readable by the
            // server's user only: it holds password hashes.
            let tmp = write.with_extension(format!("acl.{}.tmp", std::process::id()));
            let _ = std::fs::remove_file(&tmp);
            let mut open = std::fs::OpenOptions::new();
            open.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
            let mut f = open
                .open(&tmp)
                .map_err(|e| format!("{}: {e}", tmp.display()))?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(|e| format!("{}: {e}", tmp.display()))?;
            std::fs::rename(&tmp, &write).map_err(|e| format!("{}: {e}", write.display()))?;
            #[cfg(unix)]
            if let Some(dir) = write.parent().filter(|d| !d.as_os_str().is_empty()) {
                let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
            }
            Ok(())
        }),
    }
}

fn run_server(args: ServerArgs, port: Option<u16>) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut settings = match &args.config {
        Some(path) => config::FileConfig::load(path)?,
        None => config::FileConfig::default(),
    };
    let tls = tls_settings(&args, &mut settings)?;
    let tls_only = args.tls_only || settings.tls_only.unwrap_or(false);
    settings.bind = args.bind.or(settings.bind);
    settings.port = port.or(settings.port);
    settings.io_threads = args.io_threads.or(settings.io_threads);
    settings.dir = args.dir.or(settings.dir);
    settings.appendonly = args.appendonly.map(|a| a == "yes").or(settings.appendonly);
    settings.appendfsync = args.appendfsync.or(settings.appendfsync);
    let writer: Option<okdb_engine::ConfigWriter> = args.config.clone().map(|path| {
        Box::new(move |values: &[(&'static str, String)]| config::rewrite(&path, values))
            as okdb_engine::ConfigWriter
    });

    if tls_only && tls.is_none() {
        anyhow::bail!("tls-only needs tls-port, tls-cert-file and tls-key-file");
    }
    let requirepass = args.requirepass.or(settings.requirepass.take());
    let aclfile = args.aclfile.or(settings.aclfile.take());
    let engine = okdb_server::engine_with(settings.into_config()?, allocated_bytes, writer);
    if let Some(path) = aclfile {
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading the ACL file {} (aclfile; create it, empty, to start with the default \
                 user only)",
                path.display()
            )
        })?;
        engine
            .load_acl(&text)
            .map_err(|e| anyhow::anyhow!("ACL file {}: {e}", path.display()))?;
        engine.set_acl_file(acl_file(path));
    }
    if let Some(pw) = requirepass {
        if pw.is_empty() {
            anyhow::bail!(
                "requirepass: an empty password is no password; give one, or leave requirepass out"
            );
        }
        engine
            .set_user("default", &["resetpass", &format!(">{pw}")])
            .map_err(|e| anyhow::anyhow!("requirepass: {e}"))?;
    }
    // The address is taken before the data directory is touched: a refused or busy address
    // fails at once, not after a recovery, and leaves no data directory behind. Clients that
    // connect during recovery wait in the listen queue.
    let rt = okdb_server::runtime().context("starting the runtime")?;
    let mut listeners = Vec::new();
    if !tls_only {
        listeners.push(okdb_server::Listener {
            tcp: rt.block_on(okdb_server::bind(&engine))?,
            tls: None,
        });
    }
    if let Some((port, settings)) = tls {
        let acceptor = okdb_server::tls::acceptor(&settings)?;
        listeners.push(okdb_server::Listener {
            tcp: rt.block_on(okdb_server::bind_port(&engine, port))?,
            tls: Some(acceptor),
        });
    }
    let persistence = if engine
        .config()
        .appendonly
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        let dir = engine.config().dir.clone();
        let p = okdb_persist::Persistence::open(&engine, &dir)
            .with_context(|| format!("opening the data directory {}", dir.display()))?;
        let r = &p.recovered;
        tracing::info!(
            "data directory {}: loaded {} keys from the checkpoint (LSN {}) and replayed {} \
             journal records in {} ms; appendfsync {}",
            dir.display(),
            r.rows_loaded,
            r.covered_lsn,
            r.records_replayed,
            r.elapsed.as_millis(),
            engine.config().fsync().name()
        );
        Some(p)
    } else {
        tracing::info!("persistence is off (appendonly no): data lives in memory only");
        None
    };
    rt.block_on(async {
        for l in &listeners {
            tracing::info!(
                "okdb {} ({} io threads) listening on {}{}",
                okdb_engine::VERSION,
                okdb_server::io_threads(&engine),
                l.tcp.local_addr()?,
                if l.tls.is_some() { " (TLS)" } else { "" }
            );
        }
        // `SHUTDOWN` stops the server as a signal does.
        let asked = std::sync::Arc::new(tokio::sync::Notify::new());
        let ask = asked.clone();
        engine.on_shutdown(move || ask.notify_one());
        let stop = async move {
            tokio::select! {
                _ = okdb_server::shutdown_signal() => {}
                _ = asked.notified() => tracing::info!("SHUTDOWN asked for by a client"),
            }
        };
        okdb_server::serve_all(engine, listeners, stop).await;
        if let Some(p) = persistence {
            tracing::info!("writing the journal out and a last checkpoint");
            p.shutdown();
        }
        tracing::info!("okdb stopped");
        Ok(ExitCode::SUCCESS)
    })
}
