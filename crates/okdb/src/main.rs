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
// under a server's churn of small allocations. Not on MSVC, where it does not build.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The allocator's live bytes, for `INFO memory`.
fn allocated_bytes() -> Option<u64> {
    #[cfg(not(target_env = "msvc"))]
    {
        use tikv_jemalloc_ctl::{epoch, stats};
        epoch::advance().ok()?;
        stats::allocated::read().ok().map(|n| n as u64)
    }
    #[cfg(target_env = "msvc")]
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
    Server {
        /// Address to listen on; loopback only.
        #[arg(long)]
        bind: Option<String>,
        /// A TOML config file (see docs/server.md).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Threads serving connections; 0 = one per two cores (the default).
        #[arg(long)]
        io_threads: Option<usize>,
    },
    /// An interactive shell with history, help and pretty-printed values.
    Shell,
    /// Any other words are one command to send, e.g. `okdb GET k`.
    #[command(external_subcommand)]
    OneShot(Vec<String>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let port = cli.port.unwrap_or(okdb_engine::config::DEFAULT_PORT);
    let addr = format!("{}:{port}", cli.host);
    let result = match cli.command {
        Some(Command::Server {
            bind,
            config,
            io_threads,
        }) => run_server(bind, cli.port, config, io_threads),
        Some(Command::Shell) | None => shell::repl(&addr),
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

fn run_server(
    bind: Option<String>,
    port: Option<u16>,
    file: Option<PathBuf>,
    io_threads: Option<usize>,
) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut settings = match &file {
        Some(path) => config::FileConfig::load(path)?,
        None => config::FileConfig::default(),
    };
    if let Some(b) = bind {
        settings.bind = Some(b);
    }
    if let Some(p) = port {
        settings.port = Some(p);
    }
    if let Some(n) = io_threads {
        settings.io_threads = Some(n);
    }
    let engine = okdb_server::engine_with_allocator(settings.into_config()?, allocated_bytes);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    rt.block_on(async {
        let listener = okdb_server::bind(&engine).await?;
        tracing::info!(
            "okdb {} ({} io threads) listening on {}",
            okdb_engine::VERSION,
            okdb_server::io_threads(&engine),
            listener.local_addr()?
        );
        okdb_server::serve(engine, listener, okdb_server::shutdown_signal()).await;
        tracing::info!("okdb stopped");
        Ok(ExitCode::SUCCESS)
    })
}
