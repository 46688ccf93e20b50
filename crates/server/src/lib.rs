//! okdb's network server: accepts connections, reads RESP requests, runs them on the engine and
//! writes the replies.
//!
//! Architecture invariant: this is the only crate that knows sockets, tokio and how replies are
//! spelled in RESP. It knows nothing of how commands work: it hands argument lists to the engine.
//!
//! Each connection is one task. A read collects every complete request in the buffer (a
//! pipeline) and runs them under locks of the store, each hold within a budget of time and
//! reply bytes; a hold's replies are encoded a piece at a time and written before the next hold.
//! Only a malformed frame, a breached limit (docs/server.md) or a cross-protocol request closes
//! a connection; every other failure is an error reply.

mod auth;
mod clients;
mod durable;
pub mod tls;

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use clients::Clients;
use okdb_engine::config::OutputClass;
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
/// Limits of a connection that has not authenticated yet (when it must).
const UNAUTHENTICATED_MAX_ARGS: usize = 10;
const UNAUTHENTICATED_MAX_BULK: usize = 16 << 10;
const UNAUTHENTICATED_MAX_REQUEST: usize = 64 << 10;
/// How long shutdown waits for connections to finish their current batch.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(
        "refusing to listen on {0}: okdb serves addresses other than loopback only when clients \
         must authenticate. Give the default user a password (--requirepass, or `requirepass` in \
         the config file), or turn it off in an ACL file (aclfile) that defines other users; or \
         listen on 127.0.0.1, ::1 or localhost (docs/security.md)"
    )]
    NotLoopback(String),
    #[error("cannot resolve bind address {0}: {1}")]
    Resolve(String, io::Error),
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, io::Error),
    #[error("cannot start the runtime: {0}")]
    Runtime(io::Error),
    #[error("TLS: {0}")]
    Tls(String),
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

/// Binds the configured address. An address that is not loopback is refused unless clients
/// must authenticate (`default` has a password or is off: docs/security.md). Port 0 picks a
/// free port; the chosen one is written back to the config.
pub async fn bind(engine: &Engine) -> Result<TcpListener, ServerError> {
    let cfg = engine.config();
    let listener = bind_port(engine, cfg.port.load(Relaxed)).await?;
    if let Ok(local) = listener.local_addr() {
        cfg.port.store(local.port(), Relaxed);
    }
    Ok(listener)
}

/// Binds another port of the configured address (the TLS port), under the same rule.
pub async fn bind_port(engine: &Engine, port: u16) -> Result<TcpListener, ServerError> {
    let addr = resolve(engine, &engine.config().bind, port).await?;
    TcpListener::bind(addr)
        .await
        .map_err(|e| ServerError::Bind(addr, e))
}

/// The address to listen on: the first one `host` resolves to, checked against the rule that
/// only loopback is served without authentication.
pub async fn resolve(engine: &Engine, host: &str, port: u16) -> Result<SocketAddr, ServerError> {
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|e| ServerError::Resolve(host.to_string(), e))?
            .collect(),
    };
    let first = *addrs
        .first()
        .ok_or_else(|| ServerError::NotLoopback(host.to_string()))?;
    if addrs.iter().any(|a| !a.ip().is_loopback()) {
        if !engine.auth_configured() {
            return Err(ServerError::NotLoopback(host.to_string()));
        }
        engine.set_public();
    }
    Ok(first)
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
    serve_all(
        engine,
        vec![Listener {
            tcp: listener,
            tls: None,
        }],
        shutdown,
    )
    .await
}

/// A listening socket, and the TLS its connections speak (None: plain RESP).
pub struct Listener {
    pub tcp: TcpListener,
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("tcp", &self.tcp)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

/// A connection handed to an io thread: the socket, the peer, its TLS if any.
type Handed = (
    std::net::TcpStream,
    SocketAddr,
    Option<tokio_rustls::TlsAcceptor>,
);

/// As [`serve`], over several listeners (the plain port and the TLS port).
pub async fn serve_all(
    engine: Engine,
    listeners: Vec<Listener>,
    shutdown: impl Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let clients = Clients::new();
    let mut workers = Vec::new();
    for i in 1..io_threads(&engine) {
        let (tx, rx) = mpsc::unbounded_channel::<Handed>();
        let (e, c, stop) = (engine.clone(), clients.clone(), stop_rx.clone());
        let spawned = std::thread::Builder::new()
            .name(format!("okdb-io-{i}"))
            .spawn(move || match runtime() {
                Ok(rt) => rt.block_on(worker(e, c, rx, stop)),
                Err(err) => tracing::error!("io thread {i}: cannot start its runtime: {err}"),
            });
        match spawned {
            Ok(handle) => workers.push((tx, handle)),
            Err(err) => tracing::warn!("cannot start io thread {i}: {err}; serving with fewer"),
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(active_expiry(engine.clone(), stop_rx.clone()));
    tasks.spawn(clients::sweeper(
        clients.clone(),
        engine.clone(),
        stop_rx.clone(),
    ));
    tokio::pin!(shutdown);
    let mut next = 0usize;
    // The listeners take turns being asked first, so a flood on one cannot starve another.
    let turn = std::cell::Cell::new(0usize);
    let accept = || {
        std::future::poll_fn(|cx| {
            let n = listeners.len();
            for k in 0..n {
                let l = &listeners[(turn.get() + k) % n];
                if let std::task::Poll::Ready(r) = l.tcp.poll_accept(cx) {
                    turn.set(turn.get().wrapping_add(1));
                    return std::task::Poll::Ready(r.map(|(s, p)| (s, p, l.tls.clone())));
                }
            }
            std::task::Poll::Pending
        })
    };
    loop {
        tokio::select! {
            accepted = accept() => match accepted {
                Ok((stream, peer, tls)) => {
                    next = (next + 1) % (workers.len() + 1);
                    let stream = match next {
                        0 => Some((stream, tls)),
                        n => hand_over(&workers[n - 1].0, stream, peer, tls),
                    };
                    if let Some((stream, tls)) = stream {
                        let c = clients.clone();
                        tasks.spawn(start(engine.clone(), c, stream, peer, tls, stop_rx.clone()));
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
    drop(listeners);
    let _ = stop_tx.send(true);
    let handles: Vec<_> = workers.into_iter().map(|(_, handle)| handle).collect();
    drain(tasks).await;
    for handle in handles {
        let _ = handle.join();
    }
}

/// How long a TLS client has to finish its handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves one accepted socket: plain, or after its TLS handshake. A failed handshake (a
/// plaintext client on the TLS port, a refused certificate) closes it, logged at debug level.
async fn start(
    engine: Engine,
    clients: Arc<Clients>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let Some(acceptor) = tls else {
        return connection(engine, clients, stream, peer, stop).await;
    };
    // Handshakes in progress count with the connected clients against maxclients: a flood of
    // unfinished handshakes cannot hold more sockets than the server serves.
    let Some(_handshake) = clients.handshake(engine.connected_clients(), engine.config()) else {
        tracing::debug!("TLS client {peer} refused: maxclients reached");
        return;
    };
    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => connection(engine, clients, tls, peer, stop).await,
        Ok(Err(e)) => tracing::debug!("TLS handshake with {peer} failed: {e}"),
        Err(_) => tracing::debug!("TLS handshake with {peer} timed out"),
    }
}

/// Gives a connection to another thread; if that thread is gone, returns it to serve here.
fn hand_over(
    to: &mpsc::UnboundedSender<Handed>,
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Option<(TcpStream, Option<tokio_rustls::TlsAcceptor>)> {
    let std_stream = stream.into_std().ok()?;
    match to.send((std_stream, peer, tls)) {
        Ok(()) => None,
        Err(mpsc::error::SendError((back, _, tls))) => {
            TcpStream::from_std(back).ok().map(|s| (s, tls))
        }
    }
}

/// One io thread: serves the connections it is handed until the server stops.
async fn worker(
    engine: Engine,
    clients: Arc<Clients>,
    mut incoming: mpsc::UnboundedReceiver<Handed>,
    mut stop: watch::Receiver<bool>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            handed = incoming.recv() => match handed {
                Some((stream, peer, tls)) => match TcpStream::from_std(stream) {
                    Ok(stream) => {
                        let c = clients.clone();
                        tasks.spawn(start(engine.clone(), c, stream, peer, tls, stop.clone()));
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

async fn connection<S: Conn>(
    engine: Engine,
    clients: Arc<Clients>,
    mut stream: S,
    peer: SocketAddr,
    mut stop: watch::Receiver<bool>,
) {
    let mut client = match engine.connect(peer.to_string()) {
        Ok(session) => Registered {
            engine: &engine,
            session,
        },
        Err(e) => {
            let _ = send(&mut stream, format!("-{e}\r\n").as_bytes()).await;
            return;
        }
    };
    let member = clients.join(peer);
    member.set_authenticated(client.session.authenticated);
    let watch = member.watch.clone();
    engine.set_closer(
        client.session.id,
        okdb_engine::Closer(Arc::new(move || watch.close(None))),
    );
    let mut conn = Connection {
        engine: &engine,
        rbuf: BytesMut::with_capacity(16 << 10),
        wbuf: Vec::with_capacity(16 << 10),
        parser: RequestParser::new(Limits::default()),
        batch: Batch::default(),
        replies: Vec::new(),
        messages: Default::default(),
    };
    // Registered once, not per read: the stop signal is checked while waiting for a request.
    let stopped = stop.changed();
    tokio::pin!(stopped);
    let mut parse_again = false;
    'reads: loop {
        conn.reserve();
        let outbox = client.session.outbox().cloned();
        let listening = client.session.listen.as_ref().map(|l| l.cursor);
        // Unauthenticated requests are parsed one at a time: the rest of what was read waits
        // in the buffer for the next turn, with no read.
        let n = if std::mem::take(&mut parse_again) {
            conn.rbuf.len()
        } else {
            tokio::select! {
                () = changes(&engine, listening), if listening.is_some() => {
                    // Changes from the feed for this listener, between its requests, under its
                    // user's permissions as they are now.
                    if !engine.refresh_user(&mut client.session) {
                        tracing::info!("client {peer} closed: its user may no longer follow this");
                        break;
                    }
                    if !conn.take_changes(&mut client.session, peer) {
                        let _ = conn.write_replies(&mut stream, None).await;
                        break;
                    }
                    // A listener that stops reading is closed once it is as far behind as
                    // client-output-buffer-limit pubsub allows, even while a write to it waits.
                    let cursor = client.session.listen.as_ref().map_or(0, |l| l.cursor);
                    let write = conn.write_replies(&mut stream, None);
                    let behind = || {
                        let hard = engine.config().output_limit(OutputClass::Pubsub).hard.load(Relaxed);
                        engine.feed().lag(cursor).is_none_or(|l| hard > 0 && l > hard)
                    };
                    if !write_unless(write, behind).await {
                        tracing::warn!(
                            "listener {peer} closed for overcoming output buffer limits: it stopped \
                             reading; the last seq it was sent is {cursor}"
                        );
                        break;
                    }
                    continue;
                }
                r = stream.read_buf(&mut conn.rbuf) => match r {
                    Ok(n) => n,
                    Err(_) => break,
                },
                () = messages(outbox.as_deref()), if outbox.is_some() => {
                    // Pub/sub messages for this subscribed connection, between its requests; closed
                    // if its user may no longer subscribe to what it does (as Redis does).
                    let Some(outbox) = outbox else { continue };
                    if !engine.refresh_user(&mut client.session) {
                        tracing::info!("client {peer} closed: its user lost a channel it subscribes to");
                        break;
                    }
                    if !conn.take_messages(&outbox, client.session.proto, peer) {
                        break;
                    }
                    // While a write to a subscriber that stopped reading waits, messages pile up
                    // in its outbox: past the limit it is closed.
                    let write = conn.write_replies(&mut stream, None);
                    if !write_unless(write, || outbox.over()).await {
                        tracing::warn!(
                            "client {peer} closed for overcoming output buffer limits: it stopped \
                             reading its pub/sub messages"
                        );
                        break;
                    }
                    continue;
                }
                _ = member.watch.closed() => 0,
                _ = &mut stopped => break,
            }
        };
        if let Some(closing) = member.watch.closing() {
            // Closed by a limit over all clients or a timeout (logged where it was decided).
            if let Some(e) = closing.error {
                let err = Reply::Error(okdb_engine::CmdError::err(e));
                encode::reply(&mut conn.wbuf, &err, client.session.proto);
                let _ = send(&mut stream, &conn.wbuf).await;
            }
            break;
        }
        if n == 0 {
            break; // EOF; an unfinished request is dropped with the connection.
        }
        member.active();
        let session = &mut client.session;
        let limited = !session.authenticated;
        let (used, mut error) = conn.parse(!limited);
        parse_again = limited && used > 0 && !conn.rbuf.is_empty();
        if used > 0 {
            member.spoke();
        }
        member.buffered(
            conn.rbuf.len(),
            engine.config().query_buffer_total.load(Relaxed),
        );
        if member.watch.closing().is_some() {
            continue; // This connection held the most: the next turn says why and closes.
        }
        if let Some(preparsed) = preparse(&conn.batch, session.literals).await {
            session.set_preparsed(preparsed);
        }
        // The batch runs in lock holds, each within a budget of time and reply bytes, so
        // other clients get the store between them. Replies are written once they reach the
        // reply budget (or the batch ends), so a batch's replies are never all in memory, and
        // under `always` a long pipeline waits for one fsync per budget of replies, not per
        // hold.
        let mut next = 0;
        let mut close = false;
        let mut acc = Outcome::default();
        while next < used {
            // A panicking handler is a bug in okdb, not in the request: the client gets an
            // error and the connection closes (the order of replies can no longer be trusted),
            // and the server goes on. The store's lock recovers from the poisoning.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                conn.run(session, &mut next, used, acc.pending)
            }))
            .unwrap_or_else(|_| {
                conn.replies.clear();
                error = Some(
                    "internal error: a command failed unexpectedly (see the server log)".into(),
                );
                Outcome {
                    close: true,
                    ..Outcome::default()
                }
            });
            acc.close |= outcome.close;
            acc.last_lsn = acc.last_lsn.max(outcome.last_lsn);
            acc.pending = outcome.pending;
            acc.save = outcome.save.or(acc.save.take());
            acc.block = outcome.block.or(acc.block.take());
            acc.auth = outcome.auth.or(acc.auth.take());
            let flush = acc.close
                || acc.save.is_some()
                || acc.block.is_some()
                || acc.auth.is_some()
                || next >= used
                || acc.pending >= HOLD_REPLY_BYTES;
            if !flush {
                // Let this thread's other connections in before the next hold.
                tokio::task::yield_now().await;
                continue;
            }
            let outcome = std::mem::take(&mut acc);
            if let Some(q) = engine.journal() {
                conn.wait_for_persistence(q, &outcome).await;
            }
            let deadline = soft_deadline(engine.config(), outcome.pending);
            if let Err(e) = conn.write_replies(&mut stream, deadline).await {
                if e.kind() == io::ErrorKind::TimedOut {
                    tracing::warn!(
                        "client {peer} closed for overcoming output buffer limits: about {} \
                         bytes of replies, over client-output-buffer-limit normal's soft limit, \
                         not read within its seconds",
                        outcome.pending
                    );
                }
                break 'reads;
            }
            member.active();
            if outcome.close {
                close = true;
                break;
            }
            if let Some((pending, send)) = outcome.auth {
                // A kill, auth-timeout or shutdown ends the wait for a slot or the check.
                let verified = tokio::select! {
                    r = auth::verify(&engine, &clients, peer, session, pending) => Some(r),
                    _ = member.watch.closed() => None,
                    _ = &mut stopped => None,
                };
                let Some(reply) = verified else {
                    break 'reads;
                };
                if send {
                    let size = encode::estimate(&reply);
                    conn.replies.push((reply, session.proto, size));
                    if conn.write_replies(&mut stream, None).await.is_err() {
                        break 'reads;
                    }
                }
                member.active();
            }
            if let Some(blocked) = outcome.block {
                // Parked by a waiting pop: wait for the write that serves it (or the timeout),
                // still noticing a disconnect, a kill or shutdown.
                let sleep = async {
                    match blocked.timeout {
                        Some(d) => tokio::time::sleep(d).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::pin!(sleep);
                let mut gone = false;
                let served = loop {
                    let room = conn.rbuf.len() < engine.config().max_request.load(Relaxed);
                    tokio::select! {
                        r = std::future::poll_fn(|cx| blocked.mailbox.poll_reply(cx)) => break Some(r),
                        _ = &mut sleep => break None,
                        r = stream.read_buf(&mut conn.rbuf), if room => match r {
                            Ok(n) if n > 0 => continue,
                            _ => {
                                gone = true;
                                break None;
                            }
                        },
                        _ = member.watch.closed() => {
                            gone = true;
                            break None;
                        }
                        _ = &mut stopped => {
                            gone = true;
                            break None;
                        }
                    }
                };
                let (reply, lsn) = match served {
                    Some(r) => r,
                    // Still waiting: this ends the wait. Otherwise a write served it just now
                    // and the mailbox holds the reply.
                    None if engine.cancel_wait(session.id) => (blocked.on_timeout.clone(), 0),
                    None => blocked
                        .mailbox
                        .take()
                        .unwrap_or((blocked.on_timeout.clone(), 0)),
                };
                if gone {
                    break 'reads;
                }
                let size = encode::estimate(&reply);
                conn.replies.push((reply, session.proto, size));
                if let Some(q) = engine.journal() {
                    let waited = Outcome {
                        last_lsn: lsn,
                        ..Outcome::default()
                    };
                    conn.wait_for_persistence(q, &waited).await;
                }
                if conn.write_replies(&mut stream, None).await.is_err() {
                    break 'reads;
                }
                member.active();
            }
            if next >= used {
                break;
            }
            // Let this thread's other connections in before the next hold.
            tokio::task::yield_now().await;
        }
        client.session.clear_preparsed();
        member.set_authenticated(client.session.authenticated);
        if let Some(e) = error {
            let err = Reply::Error(okdb_engine::CmdError::err(e));
            encode::reply(&mut conn.wbuf, &err, client.session.proto);
            close = true;
        }
        if !conn.wbuf.is_empty() {
            let failed = send(&mut stream, &conn.wbuf).await.is_err();
            conn.wbuf.clear();
            if failed {
                break;
            }
        }
        conn.recycle();
        if close || client.session.quit {
            break;
        }
        conn.reclaim();
    }
}

/// Runs a write to a subscriber or listener, checking every 100 ms whether it fell too far
/// behind meanwhile: true if the write completed, false if it failed or `behind` said so.
async fn write_unless(
    write: impl Future<Output = io::Result<()>>,
    behind: impl Fn() -> bool,
) -> bool {
    tokio::pin!(write);
    loop {
        tokio::select! {
            r = &mut write => return r.is_ok(),
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                if behind() {
                    return false;
                }
            }
        }
    }
}

/// Resolves when a subscribed connection's outbox has messages (never without one).
async fn messages(outbox: Option<&okdb_engine::pubsub::Outbox>) {
    match outbox {
        Some(o) => std::future::poll_fn(|cx| o.poll_ready(cx)).await,
        None => std::future::pending().await,
    }
}

/// A chunk of the change feed encoded for listeners with one rendering: the bytes of every
/// message, and where each is.
struct Rendered {
    bytes: Vec<u8>,
    messages: Vec<RenderedMessage>,
}

struct RenderedMessage {
    /// The record's index in the chunk.
    record: usize,
    start: usize,
    end: usize,
    /// What listeners filter it by (its reply dropped: the bytes are above).
    change: okdb_engine::feed::Change,
}

fn render(
    chunk: &okdb_engine::feed::Chunk,
    like: &okdb_engine::feed::Listener,
    proto: u8,
    feed: &okdb_engine::feed::Feed,
) -> Rendered {
    let all = okdb_engine::feed::Listener {
        patterns: Vec::new(),
        keyspace: None,
        cursor: 0,
        values: like.values,
        max_value: like.max_value,
        user: None,
    };
    let mut out = Rendered {
        bytes: Vec::new(),
        messages: Vec::new(),
    };
    let mut changes = Vec::new();
    let (_, len) = chunk.span();
    for record in 0..len {
        let Some(rec) = chunk.read(record, feed) else {
            continue;
        };
        all.changes(&rec, &mut changes);
        for mut change in changes.drain(..) {
            let start = out.bytes.len();
            encode::reply(&mut out.bytes, &change.reply, proto);
            change.reply = Reply::Null;
            out.messages.push(RenderedMessage {
                record,
                start,
                end: out.bytes.len(),
                change,
            });
        }
    }
    out
}

/// Resolves when the change feed has a record after a listener's cursor (never without one).
async fn changes(engine: &Engine, cursor: Option<u64>) {
    match cursor {
        Some(c) => std::future::poll_fn(|cx| engine.feed().poll_after(c, cx)).await,
        None => std::future::pending().await,
    }
}

/// Bytes of encoded replies after which they are written out, even mid-reply.
const FLUSH_AT: usize = 1 << 20;
/// Budget of one hold of the store's lock: after a command that brings the hold past this
/// much time or this many reply bytes, the lock is released (the replies written) before the
/// batch goes on. A command itself is never split.
const HOLD_TIME: Duration = Duration::from_millis(2);
const HOLD_REPLY_BYTES: usize = 1 << 20;
/// Fast commands run between two reads of the clock for the hold's time budget.
const FAST_BETWEEN_CLOCKS: u32 = 32;
/// Arguments at least this long that look like literals are read as values before the lock.
const PREPARSE_AT: usize = 64 << 10;

/// Reads the batch's large literal arguments as values on the blocking pool, so neither the
/// store's lock nor this io thread's other connections wait for them. None when there are none.
async fn preparse(
    batch: &Batch,
    mode: okdb_value::literal::Literals,
) -> Option<Vec<okdb_engine::Preparsed>> {
    let large = batch.large_args(|a| a.len() >= PREPARSE_AT && looks_like_literal(a));
    if large.is_empty() {
        return None;
    }
    let read = move || {
        large
            .into_iter()
            .map(|a| okdb_engine::Preparsed::read(a, mode))
            .collect()
    };
    // A failure here (a panic) just leaves the reading to the command, as without this.
    tokio::task::spawn_blocking(read).await.ok()
}

/// A container, a quoted string or a constructor call: what is costly to read. A raw string is
/// cheap to read (it stays bytes), so it is left to the command.
fn looks_like_literal(arg: &[u8]) -> bool {
    let first = arg.iter().find(|b| !b.is_ascii_whitespace());
    let last = arg.iter().rev().find(|b| !b.is_ascii_whitespace());
    matches!(first, Some(b'[' | b'{' | b'(' | b'"' | b'\''))
        || matches!(last, Some(b')' | b']' | b'}' | b'"' | b'\''))
}

/// When writing a hold's replies must be done by, under `client-output-buffer-limit normal`'s
/// soft limit: they are pending bytes over the soft limit, which may last the soft seconds.
fn soft_deadline(cfg: &Config, pending: usize) -> Option<tokio::time::Instant> {
    let limit = cfg.output_limit(OutputClass::Normal);
    let soft = limit.soft.load(Relaxed);
    if soft == 0 || (pending as u64) <= soft {
        return None;
    }
    let seconds = limit.soft_seconds.load(Relaxed);
    Some(tokio::time::Instant::now() + Duration::from_secs(seconds))
}

/// Writes all of `bytes`, failing with `TimedOut` past `deadline`.
async fn put<S: Conn>(
    stream: &mut S,
    bytes: &[u8],
    deadline: Option<tokio::time::Instant>,
) -> io::Result<()> {
    match deadline {
        None => send(stream, bytes).await,
        Some(d) => tokio::time::timeout_at(d, send(stream, bytes))
            .await
            .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into())),
    }
}

/// Writes all of `bytes` and flushes them (TLS holds written bytes until flushed; for TCP the
/// flush is free).
async fn send<S: Conn>(stream: &mut S, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// A client's byte stream: TCP, or TLS over TCP.
pub trait Conn: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Conn for T {}

/// An inline `POST` or `Host:` line: an HTTP request (a browser page or a proxy made to talk to
/// okdb's port). Redis closes such a client, since the rest of the request may carry commands.
fn cross_protocol(args: &[&[u8]]) -> bool {
    args.first().is_some_and(|name| {
        name.eq_ignore_ascii_case(b"POST") || name.eq_ignore_ascii_case(b"HOST:")
    })
}

/// The requests of a batch: taken off the read buffer at once, each request's arguments lent to
/// its handler as slices of it, so no argument costs a reference count.
#[derive(Default)]
struct Batch {
    /// The batch's bytes.
    data: Bytes,
    /// Inline arguments that needed unquoting (read into `unquoting`, then frozen here).
    unquoted: Bytes,
    unquoting: Vec<u8>,
    /// Every request's arguments, one request after another.
    spans: Vec<okdb_resp::ArgSpan>,
    /// Where each request's arguments end in `spans`.
    ends: Vec<usize>,
}

impl Batch {
    /// Keeps at most this many spans' and requests' room from batch to batch.
    const KEEP: usize = 4096;

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn range(&self, i: usize) -> &[okdb_resp::ArgSpan] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.spans[start..self.ends[i]]
    }

    /// Request `i`'s arguments.
    fn args(&self, i: usize) -> okdb_engine::args::Args<'_> {
        self.range(i)
            .iter()
            .map(|a| match a.unquoted {
                false => &self.data[a.start..a.end],
                true => &self.unquoted[a.start..a.end],
            })
            .collect()
    }

    /// The arguments after the command names for which `wanted` holds, as shared bytes (at the
    /// same addresses as [`Batch::args`] lends them).
    fn large_args(&self, wanted: impl Fn(&[u8]) -> bool) -> Vec<Bytes> {
        let mut out = Vec::new();
        for i in 0..self.len() {
            for a in &self.range(i)[1..] {
                let (all, at) = match a.unquoted {
                    false => (&self.data, a.start..a.end),
                    true => (&self.unquoted, a.start..a.end),
                };
                if wanted(&all[at.clone()]) {
                    out.push(all.slice(at));
                }
            }
        }
        out
    }

    fn clear(&mut self) {
        self.data = Bytes::new();
        self.unquoted = Bytes::new();
        self.spans.clear();
        self.ends.clear();
        if self.spans.capacity() > Self::KEEP {
            self.spans = Vec::new();
        }
        if self.ends.capacity() > Self::KEEP {
            self.ends = Vec::new();
        }
    }
}

/// A connected client; leaving the registry happens on drop, even if the task unwinds.
struct Registered<'a> {
    engine: &'a Engine,
    session: okdb_engine::Session,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.engine.disconnect(&mut self.session);
    }
}

/// What a lock hold asks of the connection.
#[derive(Default)]
struct Outcome {
    /// Close after writing the replies (QUIT, a breached output limit, a cross-protocol
    /// request).
    close: bool,
    /// The LSN of the hold's last journaled write (0: none): under `appendfsync always` the
    /// replies wait until it is durable.
    last_lsn: u64,
    /// A `SAVE` in the hold: its reply's index and the checkpoint it waits for.
    save: Option<(usize, okdb_engine::journal::CheckpointTicket)>,
    /// About how many bytes the hold's replies take encoded.
    pending: usize,
    /// A waiting pop that found nothing: the hold ended with it, and the connection waits for
    /// its reply before running the rest of the batch.
    block: Option<okdb_engine::waiting::Blocked>,
    /// An `AUTH` whose password is verified off the lock: the rest of the batch waits for it.
    /// Whether its reply is sent (`CLIENT REPLY OFF|SKIP` drop it).
    auth: Option<(Box<okdb_engine::acl::PendingAuth>, bool)>,
}

struct Connection<'a> {
    engine: &'a Engine,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    /// Remembers how far it got in an unfinished request, so each read is parsed once.
    parser: RequestParser,
    /// The batch's requests, reused from batch to batch.
    batch: Batch,
    /// Each reply, the protocol it is spelled in, and its estimated size (`encode::estimate`,
    /// computed once under the lock for the budgets and reused to choose how to write it).
    replies: Vec<(Reply, u8, usize)>,
    /// Pub/sub messages taken from the outbox, reused (crate::encode::message writes them).
    messages: std::collections::VecDeque<std::sync::Arc<okdb_engine::pubsub::Message>>,
}

impl Connection<'_> {
    /// Splits every complete request off the read buffer into `self.batch`: how many, and the
    /// protocol error that ends the batch, if any.
    /// Until the connection authenticates, requests are small (Redis's limits for
    /// unauthenticated clients: 10 arguments, 16 KiB strings) and one is parsed at a time, so
    /// the requests after an `AUTH` are read under the limits of the user it becomes.
    fn parse(&mut self, authenticated: bool) -> (usize, Option<String>) {
        let cfg = self.engine.config();
        self.parser.set_limits(if authenticated {
            Limits {
                max_bulk: cfg.max_bulk.load(Relaxed),
                max_args: MAX_ARGS,
                max_inline: MAX_INLINE,
            }
        } else {
            Limits {
                max_bulk: UNAUTHENTICATED_MAX_BULK,
                max_args: UNAUTHENTICATED_MAX_ARGS,
                max_inline: UNAUTHENTICATED_MAX_BULK,
            }
        });
        let mut error = None;
        let batch = &mut self.batch;
        let mut taken = 0;
        loop {
            let before = batch.spans.len();
            match self.parser.parse_spans(
                &self.rbuf[taken..],
                taken,
                &mut batch.spans,
                &mut batch.unquoting,
            ) {
                Ok(Some(len)) => {
                    taken += len;
                    if batch.spans.len() == before {
                        continue; // `*0` or an empty line: nothing to run
                    }
                    batch.ends.push(batch.spans.len());
                    if !authenticated {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error = Some(e.to_string());
                    break;
                }
            }
        }
        // One split per batch: the arguments are lent to the handlers as slices of it.
        batch.data = self.rbuf.split_to(taken).freeze();
        if !batch.unquoting.is_empty() {
            batch.unquoted = Bytes::from(std::mem::take(&mut batch.unquoting));
        }
        let used = batch.len();
        let max_request = if authenticated {
            cfg.max_request.load(Relaxed)
        } else {
            UNAUTHENTICATED_MAX_REQUEST
        };
        if error.is_none() && self.rbuf.len() > max_request {
            error = Some("Protocol error: query buffer limit exceeded".into());
        }
        (used, error)
    }

    /// Runs requests `*next..used` of the batch under one lock of the store, until the hold's
    /// budget is spent, leaving the replies in `self.replies` with the protocol each is to be
    /// spelled in, and `*next` at the first request not run.
    fn run(
        &mut self,
        session: &mut okdb_engine::Session,
        next: &mut usize,
        used: usize,
        pending: usize,
    ) -> Outcome {
        let mut outcome = Outcome {
            pending,
            ..Outcome::default()
        };
        let hard = self
            .engine
            .config()
            .output_limit(OutputClass::Normal)
            .hard
            .load(Relaxed) as usize;
        let mut exec = self.engine.lock();
        // A coarse clock (the kernel's tick, a few ns to read; resolution 1-4 ms on Linux):
        // the budget is about keeping other clients' waits to milliseconds, not exact.
        let started = coarsetime::Instant::now();
        let budget = coarsetime::Duration::from_millis(HOLD_TIME.as_millis() as u64);
        let mut slow_seen = 0;
        let mut ran = 0u32;
        while *next < used {
            let args = self.batch.args(*next);
            *next += 1;
            ran += 1;
            if cross_protocol(&args) {
                tracing::warn!(
                    "Possible SECURITY ATTACK detected from client {}: it sent '{}', as a \
                     browser or an HTTP proxy talking to okdb would (cross-protocol scripting); \
                     connection aborted",
                    session.id,
                    String::from_utf8_lossy(args[0])
                );
                outcome.close = true;
                break;
            }
            let mut reply = exec.execute(session, &args);
            if let Some(outbox) = session.outbox() {
                // Messages that came meanwhile (from this very command too, as with a PUBLISH to
                // a channel it subscribes to) go before its reply, as in Redis.
                if !outbox.is_empty() {
                    if let Err(reason) = outbox.drain_messages(&mut self.messages) {
                        tracing::warn!("client {} closed: {reason}", session.id);
                        outcome.close = true;
                    }
                    for m in self.messages.drain(..) {
                        let size = m.size();
                        outcome.pending += size;
                        self.replies.push((Reply::Message(m), session.proto, size));
                    }
                }
            }
            let bytes = encode::estimate(&reply);
            if hard > 0 && outcome.pending + bytes > hard {
                tracing::warn!(
                    "client {} closed for overcoming output buffer limits: a reply of about \
                     {bytes} bytes, over client-output-buffer-limit normal's hard limit {hard}",
                    session.id
                );
                reply = Reply::Error(okdb_engine::CmdError::err(format!(
                    "reply of about {bytes} bytes exceeds client-output-buffer-limit normal \
                     (hard limit {hard} bytes); closing the connection"
                )));
                outcome.close = true;
            }
            // `CLIENT REPLY OFF|SKIP`: the reply is dropped (once the checks below are done).
            // Subscription confirmations are pushes: they go whatever the mode, as in Redis.
            let push = matches!(reply, Reply::Push(_) | Reply::Many(_));
            let send = session.reply.take() || outcome.close || push;
            outcome.pending += bytes;
            self.replies.push((reply, session.proto, bytes));
            if let Some(wait) = session.wait_checkpoint.take() {
                if send {
                    outcome.save = Some((self.replies.len() - 1, wait));
                }
            }
            if let Some(blocked) = session.blocked.take() {
                // Parked: its reply comes later; the rest of the batch waits for it.
                self.replies.pop();
                outcome.block = Some(blocked);
                break;
            }
            if let Some(pending) = session.pending_auth.take() {
                // Its reply comes once the password is verified, off the lock.
                self.replies.pop();
                outcome.pending -= bytes;
                outcome.auth = Some((pending, send));
                break;
            }
            if !send {
                self.replies.pop();
                outcome.pending -= bytes;
            }
            if session.quit || outcome.close {
                break;
            }
            // The clock is read after a command not flagged `fast`, and after every
            // `FAST_BETWEEN_CLOCKS` fast ones (a clock read per `GET` was a few percent of a
            // pipeline's CPU): a hold runs at most that many fast commands past its budget.
            let slow = exec.slow_commands();
            let check = slow != slow_seen || ran.is_multiple_of(FAST_BETWEEN_CLOCKS);
            slow_seen = slow;
            if outcome.pending >= HOLD_REPLY_BYTES || (check && started.elapsed() >= budget) {
                break;
            }
        }
        if outcome.close || session.quit {
            *next = used;
        }
        outcome.last_lsn = exec.last_lsn();
        outcome
    }

    /// Moves the messages waiting in a subscribed connection's outbox to its replies; false
    /// when it went over `client-output-buffer-limit pubsub` (the connection is closed, as
    /// Redis closes it).
    fn take_messages(
        &mut self,
        outbox: &okdb_engine::pubsub::Outbox,
        proto: u8,
        peer: SocketAddr,
    ) -> bool {
        let mut messages = std::mem::take(&mut self.messages);
        let drained = outbox.drain_messages(&mut messages);
        if let Err(reason) = drained {
            tracing::warn!("client {peer} closed for overcoming output buffer limits: {reason}");
            return false;
        }
        for m in messages.drain(..) {
            encode::message(&mut self.wbuf, &m, proto);
        }
        self.messages = messages;
        true
    }

    /// Moves the next records of the change feed after a listener's cursor to its replies (the
    /// messages that match it); false when it fell too far behind (further than
    /// `client-output-buffer-limit pubsub`'s hard limit, or past what the feed keeps): the
    /// replies then end with an error giving the last seq it was sent, and it is closed.
    fn take_changes(&mut self, session: &mut okdb_engine::Session, peer: SocketAddr) -> bool {
        let Some(listener) = session.listen.as_mut() else {
            return true;
        };
        let proto = session.proto;
        let feed = self.engine.feed();
        let hard = self
            .engine
            .config()
            .output_limit(OutputClass::Pubsub)
            .hard
            .load(Relaxed);
        let behind = |why: String| {
            let last = listener.cursor;
            tracing::warn!("listener {peer} closed: {why}; the last seq it was sent is {last}");
            Reply::Error(okdb_engine::CmdError::err(format!(
                "LISTEN fell behind ({why}); the last seq sent was {last}: resume with \
                 LISTEN … FROM {last}"
            )))
        };
        match feed.read_after(listener.cursor, okdb_engine::feed::BATCH) {
            Err(b) => {
                let e = behind(format!("the feed no longer keeps seqs before {}", b.floor));
                self.replies.push((e, proto, 64));
                false
            }
            Ok((_, lag)) if hard > 0 && lag > hard => {
                let e = behind(format!(
                    "about {lag} bytes of changes not read, over client-output-buffer-limit \
                     pubsub's hard limit {hard}"
                ));
                self.replies.push((e, proto, 64));
                false
            }
            Ok((batch, _)) => {
                // Each chunk's messages are encoded once per rendering (protocol, values,
                // MAXVALUE) and shared by every listener with the same; each copies those it
                // follows.
                let variant = listener.variant(proto);
                for (chunk, range) in batch.parts() {
                    let rendered = chunk.cached(variant, || render(chunk, listener, proto, feed));
                    for m in &rendered.messages {
                        if range.contains(&m.record) && listener.wants(&m.change) {
                            self.wbuf.extend_from_slice(&rendered.bytes[m.start..m.end]);
                        }
                    }
                    let (first, _) = chunk.span();
                    listener.cursor = first + range.end as u64 - 1;
                }
                true
            }
        }
    }

    /// Encodes and writes the replies of a hold, a piece at a time (at most about
    /// [`FLUSH_AT`] bytes buffered; long strings written from the values themselves).
    async fn write_replies<S: Conn>(
        &mut self,
        stream: &mut S,
        deadline: Option<tokio::time::Instant>,
    ) -> io::Result<()> {
        let mut replies = std::mem::take(&mut self.replies);
        let result = self.write_each(stream, &replies, deadline).await;
        replies.clear();
        self.replies = replies;
        result
    }

    async fn write_each<S: Conn>(
        &mut self,
        stream: &mut S,
        replies: &[(Reply, u8, usize)],
        deadline: Option<tokio::time::Instant>,
    ) -> io::Result<()> {
        for (reply, proto, size) in replies {
            // A stored container is streamed whatever its estimate: its elements go out a
            // piece at a time.
            if *size < FLUSH_AT && !encode::holds_container(reply) {
                encode::reply(&mut self.wbuf, reply, *proto);
            } else {
                let mut pieces = encode::Stream::new(reply, *proto);
                loop {
                    match pieces.fill(&mut self.wbuf, FLUSH_AT) {
                        encode::Step::Done => break,
                        encode::Step::Full => {
                            put(stream, &self.wbuf, deadline).await?;
                            self.wbuf.clear();
                        }
                        encode::Step::Direct(bytes) => {
                            put(stream, &self.wbuf, deadline).await?;
                            self.wbuf.clear();
                            put(stream, bytes, deadline).await?;
                        }
                    }
                }
            }
            if self.wbuf.len() >= FLUSH_AT {
                put(stream, &self.wbuf, deadline).await?;
                self.wbuf.clear();
            }
        }
        if !self.wbuf.is_empty() {
            put(stream, &self.wbuf, deadline).await?;
            self.wbuf.clear();
        }
        Ok(())
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
                    for (reply, ..) in &mut self.replies {
                        *reply = Reply::Error(okdb_engine::CmdError::new("MISCONF", msg.clone()));
                    }
                }
            }
        }
        if let Some((index, ticket)) = outcome.save {
            if q.wait_checkpoint(ticket).await.is_err() {
                if let Some((reply, ..)) = self.replies.get_mut(index) {
                    *reply = Reply::Error(okdb_engine::CmdError::err(
                        "the checkpoint failed (see the server log and INFO persistence)",
                    ));
                }
            }
        }
    }

    /// Empties the batch for the next one, keeping its allocations unless the pipeline was
    /// unusually large.
    fn recycle(&mut self) {
        self.batch.clear();
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
    /// The TLS port's address, when started with TLS.
    pub tls_addr: Option<SocketAddr>,
    pub engine: Engine,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Starts a server for `config` (use port 0 for a free port) and waits until it listens.
    pub fn start(config: Config) -> Result<Background, ServerError> {
        Background::start_with(config, None, |_| Ok(()))
    }

    /// As [`Background::start`], with a TLS port (on a free port) when `tls` is given, and
    /// `setup` run on the engine before the ports are bound (users, passwords).
    pub fn start_with(
        config: Config,
        tls: Option<tls::TlsSettings>,
        setup: impl FnOnce(&Engine) -> Result<(), String>,
    ) -> Result<Background, ServerError> {
        let engine = engine(config);
        setup(&engine).map_err(ServerError::Tls)?;
        let rt = runtime().map_err(ServerError::Runtime)?;
        let listener = rt.block_on(bind(&engine))?;
        let addr = listener
            .local_addr()
            .expect("bound listener has an address");
        let mut listeners = vec![Listener {
            tcp: listener,
            tls: None,
        }];
        let mut tls_addr = None;
        if let Some(settings) = tls {
            let acceptor = tls::acceptor(&settings)?;
            let tcp = rt.block_on(bind_port(&engine, 0))?;
            tls_addr = tcp.local_addr().ok();
            listeners.push(Listener {
                tcp,
                tls: Some(acceptor),
            });
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let e = engine.clone();
        let thread = std::thread::spawn(move || {
            rt.block_on(serve_all(e, listeners, async {
                let _ = stopped.await;
            }));
        });
        Ok(Background {
            addr,
            tls_addr,
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
