//! Power loss, property-tested on a simulated disk ([`okdb_persist::sim`]).
//!
//! Each case runs random writes (SET, INCR, two-key MSET, DEL, and collection writes: RPUSH,
//! LPOP with a count, SADD, SREM, HSET, HDEL, ZADD, ZPOPMIN) against an engine journaling to
//! the simulated disk, with fsync and write failures switched on and off (a disk that fills up
//! and frees again) and the odd checkpoint, then cuts the power at a random moment: unsynced
//! bytes vanish, the last write tears, or unsynced sectors land out of order. It recovers from
//! what the disk kept and checks:
//!
//! - the recovered data is exactly the result of the first P writes, for some P (no write lost
//!   from the middle, none invented, a two-key MSET never half applied);
//! - P covers every write the journal had reported durable (under `always`, every write whose
//!   reply was sent);
//! - under `everysec`, P covers every write made more than a second (plus scheduling slack)
//!   before the power went;
//! - after a failure clears, writes are accepted again without a restart.
//!
//! Each case goes through several crash-and-recover cycles on the same disk. A failing case
//! prints its seed; `OKDB_POWER_SEED=n` replays it, `OKDB_POWER_CASES=n` runs more.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use okdb_engine::journal::Fsync;
use okdb_engine::{Config, Engine, Reply};
use okdb_persist::sim::{Rng, SimStorage};
use okdb_persist::{Options, Persistence};

const KEYS: u64 = 12;
/// Containers of each kind (lists `l0..`, sets `s0..`, hashes `h0..`, sorted sets `z0..`).
const CONTAINERS: u64 = 3;

#[derive(Debug, Clone)]
enum Op {
    Set(u64, u64),
    Incr,
    MSet(u64, u64, u64),
    Del(u64),
    RPush(u64, u64),
    LPop(u64, u64),
    SAdd(u64, u64),
    SRem(u64, u64),
    HSet(u64, u64, u64),
    HDel(u64, u64),
    ZAdd(u64, u64, u64),
    ZPopMin(u64),
}

type State = BTreeMap<String, String>;

fn args(op: &Op) -> Vec<Bytes> {
    let words: Vec<String> = match op {
        Op::Set(k, v) => vec!["SET".into(), format!("k{k}"), v.to_string()],
        Op::Incr => vec!["INCR".into(), "ctr".into()],
        Op::MSet(a, b, v) => vec![
            "MSET".into(),
            format!("k{a}"),
            v.to_string(),
            format!("k{b}"),
            v.to_string(),
        ],
        Op::Del(k) => vec!["DEL".into(), format!("k{k}")],
        Op::RPush(l, v) => vec!["RPUSH".into(), format!("l{l}"), v.to_string()],
        Op::LPop(l, n) => vec!["LPOP".into(), format!("l{l}"), n.to_string()],
        Op::SAdd(s, m) => vec!["SADD".into(), format!("s{s}"), format!("m{m}")],
        Op::SRem(s, m) => vec!["SREM".into(), format!("s{s}"), format!("m{m}")],
        Op::HSet(h, f, v) => vec![
            "HSET".into(),
            format!("h{h}"),
            format!("f{f}"),
            v.to_string(),
        ],
        Op::HDel(h, f) => vec!["HDEL".into(), format!("h{h}"), format!("f{f}")],
        Op::ZAdd(z, score, m) => vec![
            "ZADD".into(),
            format!("z{z}"),
            score.to_string(),
            format!("m{m}"),
        ],
        Op::ZPopMin(z) => vec!["ZPOPMIN".into(), format!("z{z}")],
    };
    words.into_iter().map(Bytes::from).collect()
}

fn engine(policy: Fsync) -> Engine {
    let config = Config::default();
    config
        .appendonly
        .store(true, std::sync::atomic::Ordering::Relaxed);
    config
        .appendfsync
        .store(policy as u8, std::sync::atomic::Ordering::Relaxed);
    // Checkpoints only when the test asks for one.
    config
        .checkpoint_seconds
        .store(0, std::sync::atomic::Ordering::Relaxed);
    Engine::new(config)
}

fn open(engine: &Engine, dir: &std::path::Path, disk: &SimStorage) -> Persistence {
    let options = Options {
        storage: Arc::new(disk.clone()),
        retry: Duration::from_millis(20),
    };
    Persistence::open_with(engine, dir, options).unwrap_or_else(|e| panic!("recovery: {e}"))
}

fn read_state(engine: &Engine) -> State {
    let mut session = engine.connect("test".into()).unwrap();
    let mut out = State::new();
    let mut exec = engine.lock();
    let containers = ["l", "s", "h", "z"]
        .iter()
        .flat_map(|c| (0..CONTAINERS).map(move |i| format!("{c}{i}")));
    for name in (0..KEYS)
        .map(|k| format!("k{k}"))
        .chain(["ctr".into()])
        .chain(containers)
    {
        // A set's members in sorted order (its own order is its hasher's).
        let read: &[&str] = if name.starts_with('s') {
            &["SORT", "", "ALPHA"]
        } else {
            &["GET", ""]
        };
        let cmd: Vec<Bytes> = read
            .iter()
            .map(|w| {
                Bytes::from(if w.is_empty() {
                    name.clone()
                } else {
                    w.to_string()
                })
            })
            .collect();
        let cmd = okdb_engine::args::borrowed(&cmd);
        match exec.execute(&mut session, &cmd) {
            Reply::Null => {}
            Reply::Array(a) if a.is_empty() => {}
            other => {
                out.insert(name, format!("{other:?}"));
            }
        }
    }
    out
}

/// The states after each prefix of `history`, computed on an engine without persistence.
fn prefix_states(history: &[Done]) -> Vec<State> {
    let reference = Engine::new(Config::default());
    let mut session = reference.connect("reference".into()).unwrap();
    let mut out = vec![read_state(&reference)];
    for d in history {
        let op = args(&d.op);
        let reply = reference
            .lock()
            .execute(&mut session, &okdb_engine::args::borrowed(&op));
        assert!(!matches!(reply, Reply::Error(_)), "{:?}: {reply:?}", d.op);
        out.push(read_state(&reference));
    }
    out
}

/// One write in the history: its LSN, what it did, when it ran, and whether the last crash
/// promised it would survive.
struct Done {
    lsn: u64,
    op: Op,
    at: Instant,
    /// Why the last crash promised it would survive, if it did.
    promised: Option<String>,
}

fn wait_for(mut f: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn run_case(seed: u64, policy: Fsync) {
    let mut rng = Rng(seed);
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "okdb-power-{}-{seed}-{}",
        policy.name(),
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let mut disk = SimStorage::new();
    let mut history: Vec<Done> = Vec::new();
    let mut value = 0u64;
    for cycle in 0..3 {
        let engine = engine(policy);
        let p = open(&engine, &dir, &disk);

        // What recovery brought back must be the first P writes of the history.
        let got = read_state(&engine);
        let Some(p_len) = prefix_states(&history).iter().rposition(|s| *s == got) else {
            panic!(
                "seed {seed} cycle {cycle}: recovered {got:?} is no prefix of the {} writes",
                history.len()
            );
        };
        for (i, d) in history.iter().enumerate().skip(p_len) {
            if let Some(why) = &d.promised {
                panic!(
                    "seed {seed} cycle {cycle}: write {} (LSN {}, {:?}) was promised to survive \
                     ({why}) but is lost (recovered the first {p_len} of {})",
                    i + 1,
                    d.lsn,
                    d.op,
                    history.len()
                );
            }
        }
        history.truncate(p_len);
        let journal = engine.journal().unwrap().clone();

        let mut session = engine.connect("test".into()).unwrap();
        let ops = 20 + rng.below(300);
        let mut failing = 0u64;
        // Under `everysec`, now and then a pause longer than the loss window in the middle of
        // the run, so that the writes before it must survive the crash after it.
        let pause_at = (policy == Fsync::EverySec && cycle == 1 && seed.is_multiple_of(4))
            .then(|| rng.below(ops));
        for i in 0..ops {
            if pause_at == Some(i) {
                std::thread::sleep(Duration::from_millis(1600));
            }
            value += 1;
            let c = rng.below(CONTAINERS);
            let op = match rng.below(18) {
                10 => Op::RPush(c, value),
                11 => Op::LPop(c, 1 + rng.below(2)),
                12 => Op::SAdd(c, rng.below(6)),
                13 => Op::SRem(c, rng.below(6)),
                14 => Op::HSet(c, rng.below(4), value),
                15 => Op::HDel(c, rng.below(4)),
                16 => Op::ZAdd(c, rng.below(5), rng.below(6)),
                17 => Op::ZPopMin(c),
                0..=4 => Op::Set(rng.below(KEYS), value),
                5 | 6 => Op::Incr,
                7 | 8 => {
                    let a = rng.below(KEYS);
                    Op::MSet(a, (a + 1 + rng.below(KEYS - 1)) % KEYS, value)
                }
                _ => Op::Del(rng.below(KEYS)),
            };
            let (reply, lsn) = {
                let mut exec = engine.lock();
                let before = exec.last_lsn();
                let reply = exec.execute(&mut session, &okdb_engine::args::borrowed(&args(&op)));
                let after = exec.last_lsn();
                (reply, (after > before).then_some(after))
            };
            match (lsn, &reply) {
                (Some(lsn), _) => history.push(Done {
                    lsn,
                    op,
                    at: Instant::now(),
                    promised: None,
                }),
                // A write that changed nothing (a DEL of a missing key, a pop of an empty
                // list) journals nothing.
                (None, Reply::Int(0) | Reply::Null | Reply::NullArray) => {}
                (None, Reply::Array(a)) if a.is_empty() => {}
                (None, Reply::Error(e)) => {
                    assert!(
                        e.to_string().contains("MISCONF"),
                        "seed {seed}: a refused write says why: {e}"
                    );
                }
                (None, other) => panic!("seed {seed}: {op:?} ran without a record: {other:?}"),
            }
            if policy == Fsync::Always {
                if let Some(lsn) = lsn {
                    // The server holds the reply until this: the write is acknowledged only if
                    // it became durable.
                    wait_for(
                        || journal.durable() >= lsn || journal.failure().is_some(),
                        "durability",
                    );
                }
            }
            // Faults: the disk fills up or fsync fails for a while, then recovers.
            match rng.below(60) {
                0 => {
                    disk.fail_writes(true);
                    failing = 1 + rng.below(20);
                }
                1 => {
                    disk.fail_syncs(true);
                    failing = 1 + rng.below(20);
                }
                2 if failing == 0 => {
                    let ticket = journal.request_checkpoint();
                    wait_for(
                        || {
                            let st = &journal.stats;
                            st.checkpoints.load(std::sync::atomic::Ordering::SeqCst)
                                + st.checkpoint_failures
                                    .load(std::sync::atomic::Ordering::SeqCst)
                                >= ticket.attempts
                        },
                        "a checkpoint",
                    );
                }
                _ => {}
            }
            if failing > 0 {
                failing -= 1;
                if failing == 0 {
                    disk.fail_writes(false);
                    disk.fail_syncs(false);
                    // Room again: the journal takes writes again without a restart.
                    wait_for(|| journal.failure().is_none(), "the journal to recover");
                }
            }
            if rng.below(8) == 0 {
                std::thread::sleep(Duration::from_micros(rng.below(3000)));
            }
        }
        // Pull the plug at a random moment.
        std::thread::sleep(Duration::from_micros(rng.below(3000)));
        let durable = journal.durable();
        let crash = Instant::now();
        disk = disk.power_loss(&mut rng);
        p.halt();
        // What the policy promised at the moment of the crash: whatever the journal had
        // reported durable (under `always`, every write whose reply was sent), and under
        // `everysec` whatever was written more than a second before (plus slack for the
        // writer thread's scheduling).
        // (While the disk is failing nothing more can be made durable: the server refuses
        // writes from the moment it notices, and the time promise waits for the disk.)
        let window = Duration::from_millis(1500);
        let healthy = failing == 0;
        for d in &mut history {
            let age = crash.duration_since(d.at);
            d.promised = if d.lsn <= durable {
                Some(format!("durable (up to LSN {durable}) at the crash"))
            } else if policy == Fsync::EverySec && healthy && age > window {
                Some(format!("written {age:?} before the crash"))
            } else {
                None
            };
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn cases() -> Vec<u64> {
    if let Some(seed) = std::env::var("OKDB_POWER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let n = std::env::var("OKDB_POWER_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16u64);
    (1..=n).collect()
}

#[test]
fn power_loss_under_always_loses_nothing_acknowledged() {
    for seed in cases() {
        run_case(seed, Fsync::Always);
    }
}

#[test]
fn power_loss_under_everysec_loses_at_most_the_last_second() {
    for seed in cases() {
        run_case(seed, Fsync::EverySec);
    }
}

/// A journal written by hand: segments of SETs with the given LSNs.
fn journal_of(name: &str, segments: &[&[u64]]) -> (SimStorage, PathBuf) {
    use okdb_engine::journal::Record;
    use okdb_persist::format;
    use okdb_persist::storage::Storage;
    let disk = SimStorage::new();
    let dir = std::env::temp_dir().join(format!("okdb-handmade-{name}-{}", std::process::id()));
    for lsns in segments {
        let mut bytes = format::segment_header().to_vec();
        for &lsn in *lsns {
            let rec = Record {
                lsn,
                now: 1,
                keyspace: "default".into(),
                body: okdb_engine::journal::Body::Command {
                    literals: Default::default(),
                    args: vec!["SET".into(), format!("k{lsn}").into(), "v".into()],
                },
            };
            format::encode(&rec, &mut bytes);
        }
        let name = okdb_persist::journal::segment_name(lsns[0]);
        disk.write_file(&dir.join(name), &bytes).unwrap();
    }
    (disk, dir)
}

fn open_err(disk: &SimStorage, dir: &std::path::Path) -> String {
    let engine = engine(Fsync::Always);
    let options = Options {
        storage: Arc::new(disk.clone()),
        retry: Duration::from_millis(20),
    };
    let result = Persistence::open_with(&engine, dir, options);
    let _ = std::fs::remove_dir_all(dir);
    match result {
        Ok(_) => panic!("recovery accepted a damaged journal"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn damage_in_an_older_segment_stops_recovery_naming_file_and_offset() {
    use okdb_persist::storage::Storage;
    let (disk, dir) = journal_of("damage", &[&[1, 2, 3], &[4, 5]]);
    let first = dir.join(okdb_persist::journal::segment_name(1));
    let mut bytes = disk.read(&first).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 1; // the last byte of LSN 3's payload
    disk.write_file(&first, &bytes).unwrap();
    let err = open_err(&disk, &dir);
    assert!(
        err.contains("journal-00000000000000000001.okj")
            && err.contains("damaged at offset")
            && err.contains("okdb journal repair"),
        "{err}"
    );
}

#[test]
fn a_missing_segment_stops_recovery() {
    let (disk, dir) = journal_of("gap", &[&[1, 2], &[5, 6]]);
    let err = open_err(&disk, &dir);
    assert!(err.contains("records 3..=4 are missing"), "{err}");
}
