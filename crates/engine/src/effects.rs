//! Effects: what a write did to the store, as the journal keeps it and replay applies it.
//!
//! While a write command runs, every keyspace it reaches notes the keys it writes (the one
//! choke point is [`Keyspace`]'s mutating methods: `entry_mut`, `insert`, `remove`,
//! `set_expiry`), with the state each was in before. When the command has succeeded, the
//! executor turns those notes into effects, key by key:
//!
//! - the key is gone → [`Effect::Del`];
//! - the key is new, or its value was replaced → [`Effect::Put`] with the value and expiry;
//! - its value was changed in place and the handler said how ([`crate::Ctx::delta`]) →
//!   [`Effect::Change`] with those deltas (a push, the members a random pop removed, …);
//! - only its expiry changed → [`Effect::Expire`] with the absolute time.
//!
//! Whole-keyspace writes (`FLUSHDB`, `FLUSHALL`, `SWAPDB`) state their effect themselves, and so
//! does `RENAME` (the keys it covers are not turned into a `Del` and a `Put` of the whole value).
//!
//! Replay applies effects to the store directly ([`apply`]); deltas go through the operations
//! layer. No command handler runs, so a change to a command's parsing or to its randomness
//! cannot change what an old journal means. A `Put` is always correct; a delta is what keeps a
//! write to a large container small in the journal, and debug builds check every delta
//! against the value it claims to produce.

use okdb_ops::delta::Delta;
use okdb_value::Value;
use smol_str::SmolStr;

use crate::key::Key;
use crate::keyspace::{Entry, Store};

/// One journaled change to the store.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// The key holds this value (and expiry; 0 for none) now.
    Put {
        keyspace: SmolStr,
        key: Key,
        value: Value,
        expire_at: u64,
    },
    /// The key is gone.
    Del { keyspace: SmolStr, key: Key },
    /// The key's expiry is now `at` (unix ms; 0: none).
    Expire {
        keyspace: SmolStr,
        key: Key,
        at: u64,
    },
    /// The key's value changed by these deltas, in order.
    Change {
        keyspace: SmolStr,
        key: Key,
        deltas: Vec<Delta>,
    },
    /// The key `from` now goes by `to`, with its value and expiry (`RENAME`); whatever `to`
    /// held is gone.
    Rename {
        keyspace: SmolStr,
        from: Key,
        to: Key,
    },
    /// The keyspace is empty (`FLUSHDB`).
    Flush { keyspace: SmolStr },
    /// Every keyspace is empty (`FLUSHALL`).
    FlushAll,
    /// Two keyspaces exchanged their contents (`SWAPDB`).
    Swap { a: SmolStr, b: SmolStr },
    /// Names the effects after it (up to the next `Op`): the op of the command that made them
    /// (crate::notify). Replay skips it; the change feed reads it.
    Op(SmolStr),
}

impl Effect {
    /// The keyspace and key it writes, if it writes one key.
    pub fn key(&self) -> Option<(&str, &Key)> {
        match self {
            Effect::Put { keyspace, key, .. }
            | Effect::Del { keyspace, key }
            | Effect::Expire { keyspace, key, .. }
            | Effect::Change { keyspace, key, .. } => Some((keyspace, key)),
            Effect::Rename { .. }
            | Effect::Flush { .. }
            | Effect::FlushAll
            | Effect::Swap { .. }
            | Effect::Op(_) => None,
        }
    }
}

/// What a keyspace notes about a key a write touched, the first time it does.
#[derive(Debug)]
pub(crate) struct Touch {
    pub key: Key,
    /// The key's expiry before the write, if it was in the table (live or not yet removed).
    pub before: Option<u64>,
    /// The value was handed out to be changed in place.
    pub in_place: bool,
    /// The value was replaced or removed.
    pub replaced: bool,
    /// Debug builds keep the value before, to check the deltas a handler declared.
    #[cfg(debug_assertions)]
    pub old: Option<Value>,
}

fn live(expire_at: u64, now: u64) -> bool {
    expire_at == 0 || expire_at > now
}

/// Hands each keyspace the running write reached, with its notes, to `f` (in the store's
/// reused buffer: no allocation per write), and ends the recording.
fn each_space_notes(store: &mut Store, mut f: impl FnMut(&mut Store, usize, &mut Vec<Touch>)) {
    store.recording = false;
    let mut spaces = std::mem::take(&mut store.touched_spaces);
    let mut touches = std::mem::take(&mut store.touches);
    for i in spaces.drain(..) {
        let ks = store.space(i);
        ks.recording = false;
        ks.swap_touches(&mut touches);
        f(store, i, &mut touches);
        touches.clear();
    }
    store.touched_spaces = spaces;
    store.touches = touches;
}

/// Forgets what a write that failed noted (it changed nothing: every handler validates before
/// it mutates).
pub(crate) fn forget(store: &mut Store) {
    each_space_notes(store, |_, _, _| {});
    store.deltas.clear();
    store.declared.clear();
    store.covered.clear();
}

/// Turns what the keyspaces noted during one write into its effects, after those it declared
/// (`Store::declared`), and marks every key it touched changed for the next checkpoint. The
/// deltas are those the handlers declared (`Store::deltas`), by keyspace index and key.
pub(crate) fn collect(store: &mut Store, now: u64, op: Option<Effect>) -> Vec<Effect> {
    let mut out = std::mem::take(&mut store.declared);
    if let Some(op) = op {
        out.insert(0, op);
    }
    let mut deltas = std::mem::take(&mut store.deltas);
    let mut covered = std::mem::take(&mut store.covered);
    let track = store.tracking;
    let mut new_keys = store.new_keys.take();
    each_space_notes(store, |store, i, touches| {
        let name: SmolStr = store.spaces[i].0.clone();
        let ks = store.space(i);
        for t in touches.drain(..) {
            if track {
                ks.mark_dirty(t.key.as_bytes());
            }
            if covered.iter().any(|(s, k)| *s == i && *k == t.key) {
                continue;
            }
            let mut mine: Vec<Delta> = Vec::new();
            let mut d = 0;
            while d < deltas.len() {
                if deltas[d].0 == i && deltas[d].1 == t.key {
                    mine.push(deltas.remove(d).2);
                } else {
                    d += 1;
                }
            }
            let after = ks.peek(t.key.as_bytes(), now);
            if let Some(new) = &mut new_keys {
                if after.is_some() && !t.before.is_some_and(|e| live(e, now)) {
                    new.push((name.clone(), t.key.clone()));
                }
            }
            key_effects(&name, t, now, after, mine, &mut out);
        }
    });
    store.new_keys = new_keys;
    deltas.clear();
    covered.clear();
    store.deltas = deltas;
    store.covered = covered;
    out
}

/// The effects of one key a write touched: `Del` if it is gone, `Put` if it is new or was
/// replaced (or changed in place with no delta declared), else its deltas as a `Change` and
/// an `Expire` if its expiry moved.
fn key_effects(
    keyspace: &SmolStr,
    t: Touch,
    now: u64,
    after: Option<&Entry>,
    deltas: Vec<Delta>,
    out: &mut Vec<Effect>,
) {
    let was = t.before.is_some_and(|e| live(e, now));
    let Some(after) = after else {
        if was {
            out.push(Effect::Del {
                keyspace: keyspace.clone(),
                key: t.key,
            });
        }
        return;
    };
    if !was || ((t.in_place || t.replaced) && deltas.is_empty()) {
        #[cfg(debug_assertions)]
        if was {
            check_put(&t, after);
        }
        out.push(Effect::Put {
            keyspace: keyspace.clone(),
            key: t.key,
            value: after.value.clone(),
            expire_at: after.expire_at,
        });
        return;
    }
    #[cfg(debug_assertions)]
    check_deltas(&t, &deltas, after);
    let expiry_changed = t.before != Some(after.expire_at);
    if !deltas.is_empty() {
        out.push(Effect::Change {
            keyspace: keyspace.clone(),
            key: t.key.clone(),
            deltas,
        });
    }
    if expiry_changed {
        out.push(Effect::Expire {
            keyspace: keyspace.clone(),
            key: t.key,
            at: after.expire_at,
        });
    }
}

/// Debug builds: a write that replaced a large container without declaring a delta would make
/// the journal copy it whole on every write; say which key.
#[cfg(debug_assertions)]
fn check_put(t: &Touch, after: &Entry) {
    if t.replaced {
        return;
    }
    if let Some(old) = &t.old {
        let big = |v: &Value| {
            !matches!(v, Value::Str(_) | Value::Bytes(_)) && v.len().unwrap_or(0) > 1000
        };
        assert!(
            !(big(old) && big(&after.value)),
            "a write changed the large {} at {:?} without declaring its delta: the journal \
             would copy it whole",
            old.type_name(),
            t.key
        );
    }
}

/// Debug builds: the declared deltas, applied to the value before, give the value after.
#[cfg(debug_assertions)]
fn check_deltas(t: &Touch, deltas: &[Delta], after: &Entry) {
    let Some(old) = &t.old else { return };
    if deltas.is_empty() || old.len().unwrap_or(0) > 10_000 {
        return;
    }
    let mut v = old.clone();
    for d in deltas {
        d.apply(&mut v)
            .unwrap_or_else(|e| panic!("delta {d:?} on {:?} fails: {e}", t.key));
    }
    assert!(
        v == after.value,
        "the deltas declared for {:?} ({deltas:?}) do not give the value the write left",
        t.key
    );
}

/// Why an effect could not be applied: the journal does not fit the store it is replayed on.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ApplyError(pub String);

/// Applies effects to the store at the clock `now` (replay). Keys they write are noted for the
/// next checkpoint when the store tracks changes.
pub(crate) fn apply(store: &mut Store, now: u64, effects: &[Effect]) -> Result<(), ApplyError> {
    let track = store.tracking;
    for e in effects {
        match e {
            Effect::Put {
                keyspace,
                key,
                value,
                expire_at,
            } => {
                let i = store.create(keyspace);
                store
                    .space(i)
                    .insert(key.as_bytes(), Entry::new(value.clone(), *expire_at));
            }
            Effect::Del { keyspace, key } => {
                if let Some(i) = store.index_of(keyspace) {
                    store.space(i).remove(key.as_bytes());
                }
            }
            Effect::Expire { keyspace, key, at } => {
                let i = store.create(keyspace);
                if !store.space(i).set_expiry(key.as_bytes(), *at) {
                    return Err(ApplyError(format!(
                        "the expiry of {key:?} in keyspace {keyspace} changed, but the key is missing"
                    )));
                }
            }
            Effect::Change {
                keyspace,
                key,
                deltas,
            } => {
                let i = store.create(keyspace);
                let Some(entry) = store.space(i).entry_mut(key.as_bytes(), now) else {
                    return Err(ApplyError(format!(
                        "{key:?} in keyspace {keyspace} changed, but the key is missing"
                    )));
                };
                for d in deltas {
                    d.apply(&mut entry.value).map_err(|err| {
                        ApplyError(format!("{key:?} in keyspace {keyspace}: {d:?}: {err}"))
                    })?;
                }
            }
            Effect::Rename { keyspace, from, to } => {
                let i = store.create(keyspace);
                let ks = store.space(i);
                let Some(entry) = ks.remove(from.as_bytes()) else {
                    return Err(ApplyError(format!(
                        "{from:?} in keyspace {keyspace} was renamed, but the key is missing"
                    )));
                };
                ks.insert(to.as_bytes(), entry);
                if track {
                    ks.mark_dirty(from.as_bytes());
                    ks.mark_dirty(to.as_bytes());
                }
            }
            Effect::Flush { keyspace } => {
                if let Some(i) = store.index_of(keyspace) {
                    store.space(i).clear(track);
                }
            }
            Effect::FlushAll => store.flush_all(),
            Effect::Swap { a, b } => {
                let (a, b) = (store.create(a), store.create(b));
                store.swap(a, b);
            }
            Effect::Op(_) => {}
        }
        if track {
            if let Some((keyspace, key)) = e.key() {
                if let Some(i) = store.index_of(keyspace) {
                    store.space(i).mark_dirty(key.as_bytes());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;
    use crate::journal::{Body, Record};
    use crate::{Config, Engine};

    pub(crate) fn journaling() -> (Engine, std::sync::Arc<crate::journal::Queue>) {
        let engine = Engine::new(Config::default());
        let queue = engine.start_journal(1);
        (engine, queue)
    }

    fn run(engine: &Engine, session: &mut crate::Session, cmd: &str) -> crate::Reply {
        let args: Vec<&[u8]> = cmd.split_whitespace().map(str::as_bytes).collect();
        engine.lock().execute(session, &args)
    }

    /// The effects of each record the commands wrote.
    /// The effects of each record taken, without the ops that name them (every record has
    /// one first: checked here).
    fn effects_of(queue: &crate::journal::Queue) -> Vec<Vec<Effect>> {
        queue
            .take(Duration::ZERO)
            .into_iter()
            .map(|r| match r.body {
                Body::Effects(e) => {
                    assert!(matches!(e.first(), Some(Effect::Op(_))), "{e:?}");
                    e.into_iter()
                        .filter(|e| !matches!(e, Effect::Op(_)))
                        .collect()
                }
                Body::Command { .. } => panic!("a command record"),
            })
            .collect()
    }

    fn key(s: &str) -> Key {
        Key::new(s.as_bytes())
    }

    #[test]
    fn each_write_journals_what_it_did() {
        let (engine, queue) = journaling();
        let mut s = engine.connect("test".into()).unwrap();
        for cmd in ["RPUSH l a b c", "SADD s x", "SET str hello"] {
            run(&engine, &mut s, cmd);
        }
        let made = effects_of(&queue);
        assert_eq!(made.len(), 3);
        assert!(matches!(&made[0][..], [Effect::Put { key: k, .. }] if *k == key("l")));

        let ks = || SmolStr::from("0");
        let cases: Vec<(&str, Vec<Effect>)> = vec![
            // In place: the delta, not the list.
            (
                "RPUSH l d",
                vec![Effect::Change {
                    keyspace: ks(),
                    key: key("l"),
                    deltas: vec![Delta::Push {
                        end: okdb_ops::seq::End::Right,
                        items: vec![Value::str("d")],
                    }],
                }],
            ),
            // A pop that empties a Redis set deletes it.
            (
                "SPOP s",
                vec![Effect::Del {
                    keyspace: ks(),
                    key: key("s"),
                }],
            ),
            (
                "LPOP l 2",
                vec![Effect::Change {
                    keyspace: ks(),
                    key: key("l"),
                    deltas: vec![Delta::Pop {
                        end: okdb_ops::seq::End::Left,
                        count: 2,
                    }],
                }],
            ),
            (
                "APPEND str !",
                vec![Effect::Change {
                    keyspace: ks(),
                    key: key("str"),
                    deltas: vec![Delta::AppendText("!".into())],
                }],
            ),
            // A byte range written into a string (and a bit, one byte of it): that write.
            (
                "SETRANGE str 1 EY",
                vec![Effect::Change {
                    keyspace: ks(),
                    key: key("str"),
                    deltas: vec![Delta::WriteBytes {
                        offset: 1,
                        bytes: b"EY".to_vec(),
                    }],
                }],
            ),
            (
                "SETBIT str 9 0",
                vec![Effect::Change {
                    keyspace: ks(),
                    key: key("str"),
                    deltas: vec![Delta::WriteBytes {
                        offset: 1,
                        bytes: vec![b'E' & !0x40],
                    }],
                }],
            ),
            // The same bit again changes nothing, so nothing is journaled.
            ("SETBIT str 9 0", vec![]),
            (
                "BITFIELD str SET u8 8 7 GET u8 0",
                vec![Effect::Change {
                    keyspace: ks(),
                    key: key("str"),
                    deltas: vec![Delta::WriteBytes {
                        offset: 1,
                        bytes: vec![7],
                    }],
                }],
            ),
            // Nothing changed: nothing journaled.
            ("DEL missing", vec![]),
            ("LPUSH str x", vec![]),
            (
                "MSET a 1 b 2",
                vec![
                    Effect::Put {
                        keyspace: ks(),
                        key: key("a"),
                        value: Value::Int(1),
                        expire_at: 0,
                    },
                    Effect::Put {
                        keyspace: ks(),
                        key: key("b"),
                        value: Value::Int(2),
                        expire_at: 0,
                    },
                ],
            ),
            // A rename is the rename, not the value put under the new name.
            (
                "RENAME a c",
                vec![Effect::Rename {
                    keyspace: ks(),
                    from: key("a"),
                    to: key("c"),
                }],
            ),
            ("RENAME c c", vec![]),
            ("FLUSHDB", vec![Effect::Flush { keyspace: ks() }]),
        ];
        for (cmd, want) in cases {
            run(&engine, &mut s, cmd);
            let got: Vec<Effect> = effects_of(&queue).into_iter().flatten().collect();
            assert_eq!(got, want, "{cmd}");
        }

        // Relative expiry is recorded as the absolute time it came to.
        run(&engine, &mut s, "SET t v");
        effects_of(&queue);
        let (reply, now) = {
            let mut exec = engine.lock_at(1_000_000);
            let args: [&[u8]; 3] = [b"EXPIRE", b"t", b"10"];
            (exec.execute(&mut s, &args), 1_000_000)
        };
        assert_eq!(reply, crate::Reply::Int(1));
        assert_eq!(
            effects_of(&queue).concat(),
            vec![Effect::Expire {
                keyspace: ks(),
                key: key("t"),
                at: now + 10_000,
            }]
        );
    }

    #[test]
    fn a_random_pop_records_the_members_it_took() {
        let (engine, queue) = journaling();
        let mut s = engine.connect("test".into()).unwrap();
        run(&engine, &mut s, "SADD s a b c d e");
        effects_of(&queue);
        let crate::Reply::Set(popped) = run(&engine, &mut s, "SPOP s 2") else {
            panic!("SPOP with a count answers a set")
        };
        let popped: Vec<Value> = popped
            .into_iter()
            .map(|r| match r {
                crate::Reply::Value(v) => v,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            effects_of(&queue).concat(),
            vec![Effect::Change {
                keyspace: "0".into(),
                key: key("s"),
                deltas: vec![Delta::DiscardMembers(popped)],
            }]
        );
    }

    /// Every key of every keyspace: (keyspace, key, value, expiry), sorted.
    pub(crate) fn contents(engine: &Engine) -> Vec<(String, Vec<u8>, String, u64)> {
        let cap = engine.capture(|_, _| true);
        let mut out: Vec<_> = cap
            .spaces
            .into_iter()
            .flat_map(|(name, changes)| {
                changes.into_iter().map(move |c| {
                    let e = c.entry.expect("a full capture holds entries");
                    (
                        name.to_string(),
                        c.key.as_bytes().to_vec(),
                        okdb_value::json::to_string(&e.value),
                        e.expire_at,
                    )
                })
            })
            .collect();
        out.sort();
        out
    }

    /// A random command over a few keys of every type (many of them fail, which is part of
    /// the test: a failure journals nothing).
    pub(crate) fn random_command(rng: &mut fastrand::Rng, n: usize) -> String {
        let l = ["l1", "l2"][rng.usize(..2)];
        let s = ["s1", "s2"][rng.usize(..2)];
        let v = format!("v{}", rng.usize(..8));
        let i = rng.i64(-3..4);
        let cmds = [
            format!("RPUSH {l} {v} {n}"),
            format!("LPUSH {l} {v}"),
            format!("LPOP {l} {}", rng.usize(1..3)),
            format!("RPOP {l}"),
            format!("LSET {l} {i} {v}"),
            format!("LINSERT {l} BEFORE {v} x{n}"),
            format!("LINSERT {l} AFTER {v} y{n}"),
            format!("LREM {l} {i} {v}"),
            format!("LTRIM {l} {} {}", rng.i64(0..3), rng.i64(-3..5)),
            "LMOVE l1 l2 LEFT RIGHT".to_string(),
            "RPOPLPUSH l2 l1".to_string(),
            format!("INSERT {l} {i} z{n}"),
            format!("SETSLICE {l} {i} {} [7,8]", i + 2),
            format!("DELSLICE {l} {i} {} {}", i + 3, [1, 2, -1][rng.usize(..3)]),
            format!("REMOVE {l} {v} {i}"),
            format!("REVERSE {l}"),
            format!("SORT {l} REVERSE"),
            format!("POP {l} {i}"),
            format!("POPLEFT {l}"),
            format!("PUSHLEFT {l} {v}"),
            format!("SETITEM {l} {i} {v} 0 {n}"),
            format!("DELITEM {l} {i} 0"),
            format!("HSET h f{} {n}", rng.usize(..5)),
            format!("HDEL h f{} f{}", rng.usize(..5), rng.usize(..5)),
            "HINCRBY h count 3".to_string(),
            "HINCRBYFLOAT h fl 1.5".to_string(),
            format!("HSETNX h f{} {n}", rng.usize(..5)),
            format!("SETITEM h g{} {n}", rng.usize(..3)),
            format!("DELITEM h g{}", rng.usize(..3)),
            format!("UPDATE h {{\"u{}\":{n}}}", rng.usize(..3)),
            format!("SADD {s} {v} m{n}"),
            format!("SREM {s} {v}"),
            format!("SPOP {s} {}", rng.usize(1..3)),
            format!("SMOVE s1 s2 {v}"),
            "SUNIONSTORE s3 s1 s2".to_string(),
            format!("ADD {s} {v}"),
            format!("DISCARD {s} {v}"),
            format!("POP {s}"),
            format!("ZADD z {} {v}", rng.i64(0..5)),
            format!("ZADD z GT CH {} {v} {} w{n}", rng.i64(0..5), rng.i64(0..5)),
            format!("ZINCRBY z 2 {v}"),
            format!("ZREM z {v}"),
            format!("ZPOPMIN z {}", rng.usize(1..3)),
            "ZPOPMAX z".to_string(),
            "ZREMRANGEBYRANK z 0 1".to_string(),
            "ZREMRANGEBYSCORE z 1 2".to_string(),
            "ZUNIONSTORE z2 2 z s1".to_string(),
            "SET q pqueue()".to_string(),
            format!("ADD q job{n} {}", rng.usize(..4)),
            "POP q".to_string(),
            "SET d deque([1,2],maxlen=4)".to_string(),
            format!("APPEND d {n}"),
            "POPLEFT d".to_string(),
            format!("PUSHLEFT d {n}"),
            format!("SET str {v}"),
            format!("APPEND str {v}"),
            format!("SETRANGE str 2 {v}"),
            "INCR n".to_string(),
            format!("INCRBY n {i}"),
            format!("EXPIRE {l} {}", rng.usize(50..100)),
            format!("PERSIST {l}"),
            format!("SET e {v} PX {}", rng.usize(1..5)),
            "GETEX str EX 100".to_string(),
            format!("DEL {s} e"),
            format!("RENAME {l} l3"),
            "RENAME l3 l1".to_string(),
            format!("COPY {l} c{} REPLACE", rng.usize(..2)),
            format!("MOVE c{} 1", rng.usize(..2)),
            "SWAPDB 0 1".to_string(),
            "SWAPDB 0 1".to_string(),
        ];
        if rng.usize(..400) == 0 {
            return "FLUSHDB".into();
        }
        cmds[rng.usize(..cmds.len())].clone()
    }

    #[test]
    fn replaying_effects_rebuilds_the_same_store() {
        for seed in 0..12u64 {
            let (engine, queue) = journaling();
            let mut s = engine.connect("test".into()).unwrap();
            let mut rng = fastrand::Rng::with_seed(seed);
            let mut records: Vec<Record> = Vec::new();
            let mut now = 1_700_000_000_000u64;
            for n in 0..1500 {
                let cmd = random_command(&mut rng, n);
                now += rng.u64(0..3);
                let args: Vec<Bytes> = cmd
                    .split_whitespace()
                    .map(|s| Bytes::copy_from_slice(s.as_bytes()))
                    .collect();
                engine
                    .lock_at(now)
                    .execute(&mut s, &crate::args::borrowed(&args));
                records.extend(queue.take(Duration::ZERO));
            }
            let copy = Engine::new(Config::default());
            copy.start_tracking(1);
            for r in &records {
                let reply = copy.replay(r);
                assert!(
                    !matches!(reply, crate::Reply::Error(_)),
                    "seed {seed}: LSN {} {:?}: {reply:?}",
                    r.lsn,
                    r.body
                );
            }
            // The run wrote every kind of effect, and most writes were in-place changes.
            let all: Vec<&Effect> = records
                .iter()
                .flat_map(|r| match &r.body {
                    Body::Effects(e) => e.iter(),
                    Body::Command { .. } => [].iter(),
                })
                .filter(|e| !matches!(e, Effect::Op(_)))
                .collect();
            let count = |f: fn(&Effect) -> bool| all.iter().filter(|e| f(e)).count();
            let changes = count(|e| matches!(e, Effect::Change { .. }));
            assert!(
                records.len() > 600,
                "seed {seed}: {} records",
                records.len()
            );
            assert!(
                changes * 3 > all.len(),
                "seed {seed}: {changes} of {}",
                all.len()
            );
            for (what, n) in [
                ("rename", count(|e| matches!(e, Effect::Rename { .. }))),
                ("put", count(|e| matches!(e, Effect::Put { .. }))),
                ("del", count(|e| matches!(e, Effect::Del { .. }))),
                ("expire", count(|e| matches!(e, Effect::Expire { .. }))),
                ("swap", count(|e| matches!(e, Effect::Swap { .. }))),
            ] {
                assert!(n > 0, "seed {seed}: no {what} effect");
            }
            // Both at the same clock, so the same keys have expired.
            engine.lock_at(now).execute(&mut s, &[&b"PING"[..]]);
            assert_eq!(contents(&copy), contents(&engine), "seed {seed}");
        }
    }
}
