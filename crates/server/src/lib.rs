//! okdb's network server: accepts connections, reads RESP requests, runs them on the engine and
//! writes the replies.
//!
//! Architecture invariant: this is the only crate that knows sockets, tokio and how replies are
//! spelled in RESP. It knows nothing of how commands work: it hands argument lists to the engine.
//!
//! Each connection is one task. A read collects every complete request in the buffer (a
//! pipeline), runs them all under one lock of the store, and writes all replies with one write.
//! Only a malformed frame (or a limit breached while framing) closes a connection; every other
//! failure is an error reply.

mod durable;

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use okdb_engine::{Config, Engine, ProcessStats, Reply};
use okdb_resp::{Limits, RequestParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

mod encode;

/// Most arguments in one request.
const MAX_ARGS: usize = 1 << 20;
/// Longest inline (telnet) command line.
const MAX_INLINE: usize = 64 << 10;
/// How long shutdown waits for connections to finish their current batch.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "refusing to listen on {0}: okdb listens on loopback addresses only until authentication \
         is configured (use 127.0.0.1, ::1 or localhost)"
    )]
    NotLoopback(String),
    #[error("cannot resolve bind address {0}: {1}")]
    Resolve(String, io::Error),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, io::Error),
    #[error("cannot start the runtime: {0}")]
    Runtime(io::Error),
}

/// Creates the engine for a configuration, with this process's figures for `INFO`.
pub fn engine(config: Config) -> Engine {
    engine_with_allocator(config, || None)
}

/// As [`engine`], with a probe of the global allocator's live bytes (the binary knows which
/// allocator it links) for `INFO memory`'s `used_memory`.
pub fn engine_with_allocator(config: Config, allocated: fn() -> Option<u64>) -> Engine {
    engine_with(config, allocated, None)
}

/// As [`engine_with_allocator`], with the writer `CONFIG REWRITE` uses for the config file.
pub fn engine_with(
    config: Config,
    allocated: fn() -> Option<u64>,
    config_writer: Option<okdb_engine::ConfigWriter>,
) -> Engine {
    Engine::build(
        config,
        Box::new(move || {
            let (cpu_user, cpu_sys) = cpu_seconds().unwrap_or((0.0, 0.0));
            ProcessStats {
                rss_bytes: rss_bytes().unwrap_or(0),
                pid: std::process::id(),
                allocated_bytes: allocated(),
                cpu_user,
                cpu_sys,
            }
        }),
        allocated,
        config_writer,
    )
}

/// Binds the configured address, refusing any address that is not loopback. Port 0 picks a free
/// port; the chosen one is written back to the config.
pub async fn bind(engine: &Engine) -> Result<TcpListener, ServerError> {
    let cfg = engine.config();
    let host = cfg.bind.as_str();
    let port = cfg.port.load(Relaxed);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| ServerError::Resolve(host.to_string(), e))?
            .collect(),
    };
    let addr = *addrs
        .iter()
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| ServerError::NotLoopback(host.to_string()))?;
    if addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(ServerError::NotLoopback(host.to_string()));
    }
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| ServerError::Bind(addr, e))?;
    if let Ok(local) = listener.local_addr() {
        cfg.port.store(local.port(), Relaxed);
    }
    Ok(listener)
}

/// How many threads serve connections: the configured `io-threads`, or by default one per two
/// cores. The other half is left to the clients, the kernel's network stack (which does most of
/// the work of a small request) and background work; on the 2-core benchmark machine a second
/// io thread raised CPU per request and p99 latency (BENCHMARKS.md).
pub fn io_threads(engine: &Engine) -> usize {
    match engine.config().io_threads.load(Relaxed) {
        0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
        n => n,
    }
}

/// A current-thread runtime for an io thread.
pub fn runtime() -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// Serves until `shutdown` completes, then lets connections finish their current batch.
///
/// Call it on a current-thread runtime: that thread accepts connections and serves its share of
/// them, and `io-threads - 1` more threads, each with its own current-thread runtime, serve the
/// rest. Connections are dealt out round-robin and stay on their thread, so a request never
/// wakes another thread (no cross-thread task hand-offs: those cost a futex and a context
/// switch per request on a multi-threaded scheduler). The store's lock is the only thing the
/// threads share on the hot path.
pub async fn serve(engine: Engine, listener: TcpListener, shutdown: impl Future<Output = ()>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut workers = Vec::new();
    for i in 1..io_threads(&engine) {
        let (tx, rx) = mpsc::unbounded_channel::<(std::net::TcpStream, SocketAddr)>();
        let (e, stop) = (engine.clone(), stop_rx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("okdb-io-{i}"))
            .spawn(move || match runtime() {
                Ok(rt) => rt.block_on(worker(e, rx, stop)),
                Err(err) => tracing::error!("io thread {i}: cannot start its runtime: {err}"),
            });
        match spawned {
            Ok(handle) => workers.push((tx, handle)),
            Err(err) => tracing::warn!("cannot start io thread {i}: {err}; serving with fewer"),
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(active_expiry(engine.clone(), stop_rx.clone()));
    tokio::pin!(shutdown);
    let mut next = 0usize;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    next = (next + 1) % (workers.len() + 1);
                    let stream = match next {
                        0 => Some(stream),
                        n => hand_over(&workers[n - 1].0, stream, peer),
                    };
                    if let Some(stream) = stream {
                        tasks.spawn(connection(engine.clone(), stream, peer, stop_rx.clone()));
                    }
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = &mut shutdown => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let handles: Vec<_> = workers.into_iter().map(|(_, handle)| handle).collect();
    drain(tasks).await;
    for handle in handles {
        let _ = handle.join();
    }
}

/// Gives a connection to another thread; if that thread is gone, returns it to serve here.
fn hand_over(
    to: &mpsc::UnboundedSender<(std::net::TcpStream, SocketAddr)>,
    stream: TcpStream,
    peer: SocketAddr,
) -> Option<TcpStream> {
    let std_stream = stream.into_std().ok()?;
    match to.send((std_stream, peer)) {
        Ok(()) => None,
        Err(mpsc::error::SendError((back, _))) => TcpStream::from_std(back).ok(),
    }
}

/// One io thread: serves the connections it is handed until the server stops.
async fn worker(
    engine: Engine,
    mut incoming: mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            handed = incoming.recv() => match handed {
                Some((stream, peer)) => match TcpStream::from_std(stream) {
                    Ok(stream) => {
                        tasks.spawn(connection(engine.clone(), stream, peer, stop.clone()));
                    }
                    Err(e) => tracing::warn!("cannot serve a connection from {peer}: {e}"),
                },
                None => break,
            },
            _ = stop.changed() => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drain(tasks).await;
}

/// Waits for a thread's connections to finish their current batch, within the grace period.
async fn drain(mut tasks: tokio::task::JoinSet<()>) {
    let all = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(SHUTDOWN_GRACE, all).await.is_err() {
        tracing::warn!("shutdown: some connections did not finish in time");
    }
}

async fn active_expiry(engine: Engine, mut stop: watch::Receiver<bool>) {
    loop {
        let hz = engine.config().hz.load(Relaxed).max(1);
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(1000 / hz as u64)) => {}
            _ = stop.changed() => return,
        }
        // A quarter of the period at most, as Redis's default effort does.
        engine.active_expire(Duration::from_millis(250 / hz as u64));
    }
}

async fn connection(
    engine: Engine,
    mut stream: TcpStream,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let mut client = match engine.connect(peer.to_string()) {
        Ok(session) => Registered {
            engine: &engine,
            session,
        },
        Err(e) => {
            let _ = stream.write_all(format!("-{e}\r\n").as_bytes()).await;
            return;
        }
    };
    let mut conn = Connection {
        engine: &engine,
        rbuf: BytesMut::with_capacity(16 << 10),
        wbuf: Vec::with_capacity(16 << 10),
        parser: RequestParser::new(Limits::default()),
        batch: Vec::new(),
        replies: Vec::new(),
    };
    // Registered once, not per read: the stop signal is checked while waiting for a request.
    let stopped = stop.changed();
    tokio::pin!(stopped);
    loop {
        conn.reserve();
        let n = tokio::select! {
            r = stream.read_buf(&mut conn.rbuf) => match r {
                Ok(n) => n,
                Err(_) => break,
            },
            _ = &mut stopped => break,
        };
        if n == 0 {
            break; // EOF; an unfinished request is dropped with the connection.
        }
        // A panicking handler is a bug in okdb, not in the request: the client gets an error
        // and the connection closes (the order of replies can no longer be trusted), and the
        // server goes on. The store's lock recovers from the poisoning.
        let session = &mut client.session;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| conn.run(session)))
            .unwrap_or_else(|_| {
                conn.batch.clear();
                conn.replies.clear();
                Outcome {
                    close: true,
                    error: Some(
                        "internal error: a command failed unexpectedly (see the server log)".into(),
                    ),
                    last_lsn: 0,
                    save: None,
                }
            });
        if let Some(q) = engine.journal() {
            conn.wait_for_persistence(q, &outcome).await;
        }
        // Encode outside the lock, flushing as the buffer grows, so a small pipeline of large
        // replies never needs all of them in memory at once.
        let mut failed = false;
        for (reply, proto) in conn.replies.drain(..) {
            encode::reply(&mut conn.wbuf, &reply, proto);
            if conn.wbuf.len() >= FLUSH_AT {
                failed = stream.write_all(&conn.wbuf).await.is_err();
                conn.wbuf.clear();
                if failed {
                    break;
                }
            }
        }
        if let Some(e) = outcome.error {
            let err = Reply::Error(okdb_engine::CmdError::err(e));
            encode::reply(&mut conn.wbuf, &err, client.session.proto);
        }
        if !failed && !conn.wbuf.is_empty() {
            failed = stream.write_all(&conn.wbuf).await.is_err();
            conn.wbuf.clear();
        }
        if failed || outcome.close {
            break;
        }
        conn.reclaim();
    }
}

/// Bytes of encoded replies after which they are written out, even mid-batch.
const FLUSH_AT: usize = 1 << 20;

/// A connected client; leaving the registry happens on drop, even if the task unwinds.
struct Registered<'a> {
    engine: &'a Engine,
    session: okdb_engine::Session,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.engine.disconnect(&self.session);
    }
}

/// What a batch asks of the connection.
struct Outcome {
    /// Close after writing the replies (QUIT, or a malformed frame).
    close: bool,
    /// A protocol error to send after the replies.
    error: Option<String>,
    /// The LSN of the batch's last journaled write (0: none): under `appendfsync always` the
    /// replies wait until it is durable.
    last_lsn: u64,
    /// A `SAVE` in the batch: its reply's index and the checkpoint it waits for.
    save: Option<(usize, okdb_engine::journal::CheckpointTicket)>,
}

struct Connection<'a> {
    engine: &'a Engine,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    /// Remembers how far it got in an unfinished request, so each read is parsed once.
    parser: RequestParser,
    /// Argument lists of the batch's requests, reused from batch to batch.
    batch: Vec<Vec<Bytes>>,
    replies: Vec<(Reply, u8)>,
}

impl Connection<'_> {
    /// Runs every complete request in the read buffer under one lock of the store, leaving the
    /// replies in `self.replies` with the protocol each is to be spelled in.
    fn run(&mut self, session: &mut okdb_engine::Session) -> Outcome {
        let cfg = self.engine.config();
        self.parser.set_limits(Limits {
            max_bulk: cfg.max_bulk.load(Relaxed),
            max_args: MAX_ARGS,
            max_inline: MAX_INLINE,
        });
        let mut error = None;
        let mut used = 0;
        loop {
            if used == self.batch.len() {
                self.batch.push(Vec::new());
            }
            let args = &mut self.batch[used];
            match self.parser.parse_into(&mut self.rbuf, args) {
                Ok(true) if args.is_empty() => continue,
                Ok(true) => used += 1,
                Ok(false) => break,
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        if error.is_none() && self.rbuf.len() > cfg.max_request.load(Relaxed) {
            error = Some("Protocol error: query buffer limit exceeded".into());
        }
        let mut last_lsn = 0;
        let mut save = None;
        if used > 0 {
            let mut exec = self.engine.lock();
            for args in &self.batch[..used] {
                let reply = exec.execute(session, args);
                self.replies.push((reply, session.proto));
                if let Some(wait) = session.wait_checkpoint.take() {
                    save = Some((self.replies.len() - 1, wait));
                }
                if session.quit {
                    break;
                }
            }
            last_lsn = exec.last_lsn();
        }
        self.recycle(used);
        Outcome {
            close: session.quit || error.is_some(),
            error,
            last_lsn,
            save,
        }
    }

    /// Holds the batch's replies until persistence allows them: under `appendfsync always`
    /// (or `everysec` while an fsync is stalled past 2 s) until the last write is durable, and
    /// for `SAVE` until the checkpoint is done. Writes that cannot be made durable are not
    /// acknowledged: every reply of the batch becomes an error.
    async fn wait_for_persistence(&mut self, q: &okdb_engine::journal::Queue, outcome: &Outcome) {
        use okdb_engine::journal::Fsync;
        if outcome.last_lsn > 0 {
            let policy = self.engine.config().fsync();
            if policy == Fsync::Always || (policy == Fsync::EverySec && q.sync_stalled()) {
                if let Err(reason) = durable::wait(q, outcome.last_lsn).await {
                    let msg = format!(
                        "the journal could not be made durable ({reason}): this batch's writes \
                         are not acknowledged; they may or may not survive a restart"
                    );
                    for (reply, _) in &mut self.replies {
                        *reply = Reply::Error(okdb_engine::CmdError::new("MISCONF", msg.clone()));
                    }
                }
            }
        }
        if let Some((index, ticket)) = outcome.save {
            if q.wait_checkpoint(ticket).await.is_err() {
                if let Some((reply, _)) = self.replies.get_mut(index) {
                    *reply = Reply::Error(okdb_engine::CmdError::err(
                        "the checkpoint failed (see the server log and INFO persistence)",
                    ));
                }
            }
        }
    }

    /// Empties the first `used` argument lists for the next batch, keeping their allocations
    /// unless a request or the pipeline was unusually large.
    fn recycle(&mut self, used: usize) {
        const KEEP_ARGS: usize = 64;
        const KEEP_REQUESTS: usize = 1024;
        for args in &mut self.batch[..used] {
            if args.capacity() > KEEP_ARGS {
                *args = Vec::new();
            } else {
                args.clear();
            }
        }
        self.batch.truncate(KEEP_REQUESTS);
    }

    /// Makes room for the next read: at least 16 KiB, more when a partial request announced a
    /// large bulk (capped, since the announcement comes from the client).
    fn reserve(&mut self) {
        const MIN: usize = 16 << 10;
        const MAX_AHEAD: usize = 1 << 20;
        let want = self
            .parser
            .needed()
            .saturating_sub(self.rbuf.len())
            .clamp(MIN, MAX_AHEAD);
        if self.rbuf.capacity() - self.rbuf.len() < want {
            self.rbuf.reserve(want);
        }
    }

    /// Gives back memory after a big request or reply, so an idle connection stays small.
    fn reclaim(&mut self) {
        const KEEP: usize = 64 << 10;
        if self.wbuf.capacity() > KEEP {
            self.wbuf = Vec::with_capacity(16 << 10);
        }
        if self.rbuf.is_empty() && self.rbuf.capacity() > KEEP {
            self.parser.reset();
            self.rbuf = BytesMut::with_capacity(16 << 10);
        }
    }
}

/// A server running on its own thread and runtime: what tests and one-shot tools use.
#[derive(Debug)]
pub struct Background {
    pub addr: SocketAddr,
    pub engine: Engine,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Starts a server for `config` (use port 0 for a free port) and waits until it listens.
    pub fn start(config: Config) -> Result<Background, ServerError> {
        let engine = engine(config);
        let rt = runtime().map_err(ServerError::Runtime)?;
        let listener = rt.block_on(bind(&engine))?;
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let e = engine.clone();
        let thread = std::thread::spawn(move || {
            rt.block_on(serve(e, listener, async {
                let _ = stopped.await;
            }));
        });
        Ok(Background {
            addr,
            engine,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// Stops the server and waits for it.
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(target_os = "linux")]
fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(not(target_os = "linux"))]
fn rss_bytes() -> Option<u64> {
    None
}

/// User and system CPU seconds of this process (Linux: /proc/self/stat, in clock ticks of the
/// usual 100 Hz).
#[cfg(target_os = "linux")]
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut f = rest.split_whitespace().skip(11);
    let utime: f64 = f.next()?.parse().ok()?;
    let stime: f64 = f.next()?.parse().ok()?;
    Some((utime / 100.0, stime / 100.0))
}

#[cfg(not(target_os = "linux"))]
fn cpu_seconds() -> Option<(f64, f64)> {
    None
}

/// Resolves when the process is asked to stop: Ctrl-C, or SIGTERM on Unix.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
