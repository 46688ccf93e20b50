//! Keyspaces: named maps from keys to values, with expiry.
//!
//! Each keyspace is an `IndexMap`: a hash index over a dense vector of entries. The dense vector
//! gives `RANDOMKEY` in O(1) (pick a random index) and a `SCAN` cursor that is a position in it.
//! Deletion is `swap_remove` (the last entry moves into the hole), so `SCAN` walks positions from
//! the end towards 0: an entry can only move from a higher position to a lower one, so an entry
//! that is present for the whole scan is either already returned or still ahead of the cursor.
//!
//! Expiry times are absolute unix milliseconds stored in the entry (0 = none). Keys with a time
//! are also in `volatile`, a dense set that active expiry samples at random.

use indexmap::{IndexMap, IndexSet};
use okdb_value::Value;
use smol_str::SmolStr;

use crate::key::Key;

type Hasher = foldhash::fast::RandomState;

#[derive(Debug, Clone)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in unix milliseconds; 0 means the key does not expire.
    pub expire_at: u64,
    /// When it was last used, or how often (crate::evict): what eviction and `OBJECT
    /// IDLETIME|FREQ` read. Stamped by the keyspace on every store and lookup.
    pub access: u32,
}

impl Entry {
    pub fn new(value: Value, expire_at: u64) -> Entry {
        Entry {
            value,
            expire_at,
            access: 0,
        }
    }
}

/// How a write touched a key (crate::effects).
#[derive(Debug, Clone, Copy)]
enum Touched {
    /// Its value was handed out to be changed in place.
    InPlace,
    /// Its entry was replaced or removed.
    Replaced,
    /// Its expiry was set.
    Expiry,
}

#[derive(Debug, Default)]
pub struct Keyspace {
    map: IndexMap<Key, Entry, Hasher>,
    volatile: IndexSet<Key, Hasher>,
    /// Keys written since the last checkpoint took them (filled only while the engine tracks
    /// changes for checkpoints).
    changes: Changes,
    /// The access stamp of the current batch (set by the engine when it hands the keyspace to
    /// a command).
    pub(crate) clock: crate::evict::Clock,
    /// The largest capacity the entry table and the expiry set have had: deletions leave
    /// tombstones that lower `capacity()` without a resize coming, so "full" means this.
    grown_to: (usize, usize),
    /// True while a write runs that the engine turns into effects (crate::effects): the keys
    /// it writes are noted in `notes`, once each.
    pub(crate) recording: bool,
    /// While a script runs (crate::script): each key's entry before its first write, so the
    /// script's writes can be undone.
    pub(crate) undo: Option<Box<Undo>>,
    notes: Notes,
    /// Keys removed because their time had come, since the executor last took them: each is
    /// journaled as a `DEL` named `expired` (the change feed and notifications report it).
    pub(crate) expired: Vec<Key>,
}

/// What a script's writes replaced, key by key, in the order first written.
#[derive(Debug, Default)]
pub(crate) struct Undo {
    pub saved: Vec<(Key, Option<Entry>)>,
    seen: std::collections::HashSet<Key, Hasher>,
}

impl Undo {
    fn save(&mut self, key: &[u8], before: Option<&Entry>) {
        if !self.seen.contains(key) {
            self.seen.insert(Key::new(key));
            self.saved.push((Key::new(key), before.cloned()));
        }
    }
}

/// The keys the running write touched, each once (crate::effects).
#[derive(Debug, Default)]
struct Notes {
    touches: Vec<crate::effects::Touch>,
    /// Positions in `touches` by key, once a write has touched many keys.
    index: Option<std::collections::HashMap<Key, usize, Hasher>>,
}

impl Notes {
    /// Notes another touch of a key the running write touched before; false if it had not.
    fn again(&mut self, key: &[u8], how: Touched) -> bool {
        let at = match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.touches.iter().position(|t| t.key.as_bytes() == key),
        };
        let Some(at) = at else { return false };
        let t = &mut self.touches[at];
        t.in_place |= matches!(how, Touched::InPlace);
        t.replaced |= matches!(how, Touched::Replaced);
        true
    }

    /// Notes the first touch of a key by the running write, with its state before.
    #[cfg_attr(not(debug_assertions), allow(unused_variables))]
    fn first(&mut self, key: &[u8], how: Touched, before: Option<u64>, old: Option<&Value>) {
        self.touches.push(crate::effects::Touch {
            key: Key::new(key),
            before,
            in_place: matches!(how, Touched::InPlace),
            replaced: matches!(how, Touched::Replaced),
            #[cfg(debug_assertions)]
            old: old.cloned(),
        });
        const INDEX_FROM: usize = 16;
        let n = self.touches.len();
        if n == INDEX_FROM {
            let index = self
                .touches
                .iter()
                .enumerate()
                .map(|(i, t)| (t.key.clone(), i))
                .collect();
            self.index = Some(index);
        } else if let Some(index) = &mut self.index {
            index.insert(Key::new(key), n - 1);
        }
    }
}

/// Which keys changed since the last checkpoint took them: a bit per position in the entry
/// vector, kept in step when `swap_remove` moves the last entry into a freed slot (so noting a
/// write costs a lookup of a key the write just touched, not a second hash table), and the keys
/// removed since (which may repeat, or exist again by the time they are taken).
#[derive(Debug, Default)]
struct Changes {
    bits: Vec<u64>,
    count: usize,
    removed: Vec<Key>,
}

impl Changes {
    fn get(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    fn set(&mut self, i: usize) {
        if self.bits.len() <= i / 64 {
            self.bits.resize(i / 64 + 1, 0);
        }
        let w = &mut self.bits[i / 64];
        if *w & (1 << (i % 64)) == 0 {
            *w |= 1 << (i % 64);
            self.count += 1;
        }
    }

    fn clear(&mut self, i: usize) {
        if let Some(w) = self.bits.get_mut(i / 64) {
            if *w & (1 << (i % 64)) != 0 {
                *w &= !(1 << (i % 64));
                self.count -= 1;
            }
        }
    }

    /// The set positions, in order.
    fn positions(&self) -> impl Iterator<Item = usize> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + bit
                })
            })
        })
    }

    fn reset(&mut self) {
        self.bits = Vec::new();
        self.count = 0;
        self.removed = Vec::new();
    }
}

impl Keyspace {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn volatile_len(&self) -> usize {
        self.volatile.len()
    }

    /// Notes that a write touched `key` (for the next checkpoint): it is changed if it is
    /// there, removed if not.
    pub fn mark_dirty(&mut self, key: &[u8]) {
        match self.map.get_index_of(key) {
            Some(i) => self.changes.set(i),
            None => self.changes.removed.push(Key::new(key)),
        }
    }

    /// Takes the keys written since the last call: each with its entry as it is now, or None if
    /// it is gone. In no particular order.
    pub fn take_changes(&mut self) -> Vec<crate::Change> {
        let mut out = Vec::with_capacity(self.changes.count + self.changes.removed.len());
        for i in self.changes.positions() {
            let (key, entry) = self.map.get_index(i).expect("changed positions exist");
            out.push(crate::Change {
                key: key.clone(),
                entry: Some(entry.clone()),
            });
        }
        let removed = std::mem::take(&mut self.changes.removed);
        for key in removed {
            if !self.map.contains_key(key.as_bytes()) {
                out.push(crate::Change { key, entry: None });
            }
        }
        self.changes.reset();
        out
    }

    /// Forgets the changed keys (a fresh snapshot takes every key).
    pub fn clear_changes(&mut self) {
        self.changes.reset();
    }

    /// Number of keys written since the last checkpoint took them (a removed key may count
    /// twice).
    pub fn dirty_len(&self) -> usize {
        self.changes.count + self.changes.removed.len()
    }

    /// Removes the key if its time has come; true if it was removed.
    fn expire_if_due(&mut self, key: &[u8], now: u64) -> bool {
        match self.map.get(key) {
            Some(e) if e.expire_at != 0 && e.expire_at <= now => {
                if let Some((_, k, _)) = self.remove_entry_full(key) {
                    self.expired.push(k);
                }
                true
            }
            _ => false,
        }
    }

    /// The live entry of a key (an expired key is removed on the way: lazy expiry), its
    /// access data touched. For reading; a write changes an entry through
    /// [`Keyspace::entry_mut`], which notes it.
    pub fn entry(&mut self, key: &[u8], now: u64) -> Option<&Entry> {
        self.live(key, now).map(|e| &*e)
    }

    /// The live entry of a key, lazily expiring it, its access data touched.
    fn live(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        let i = self.map.get_index_of(key)?;
        let expire_at = self.map[i].expire_at;
        if expire_at != 0 && expire_at <= now {
            if let Some((_, k, _)) = self.remove_entry_full(key) {
                self.expired.push(k);
            }
            return None;
        }
        let e = &mut self.map[i];
        e.access = self.clock.touch(e.access);
        Some(e)
    }

    /// The live entry of a key, to change its value: the write is noted (crate::effects).
    pub fn entry_mut(&mut self, key: &[u8], now: u64) -> Option<&mut Entry> {
        if self.recording {
            self.touch(key, Touched::InPlace);
        }
        self.live(key, now)
    }

    /// Notes, while recording, that the running write touches `key` (its state before, the
    /// first time).
    fn touch(&mut self, key: &[u8], how: Touched) {
        if !self.notes.again(key, how) {
            let old = self.map.get(key);
            if let Some(u) = &mut self.undo {
                u.save(key, old);
            }
            let (before, value) = (old.map(|e| e.expire_at), old.map(|e| &e.value));
            self.notes.first(key, how, before, value);
        }
    }

    /// Exchanges the notes of the running write with `other` (an empty buffer to reuse).
    pub(crate) fn swap_touches(&mut self, other: &mut Vec<crate::effects::Touch>) {
        self.notes.index = None;
        std::mem::swap(&mut self.notes.touches, other);
    }

    /// The live entry of a key without touching its access data (`OBJECT`, `MEMORY USAGE`).
    pub fn peek(&self, key: &[u8], now: u64) -> Option<&Entry> {
        self.map
            .get(key)
            .filter(|e| e.expire_at == 0 || e.expire_at > now)
    }

    /// The `i`-th key of the keyspace, or of its keys with an expiry (eviction's sampling).
    pub(crate) fn sample(&self, i: usize, volatile: bool) -> Option<(&Key, &Entry)> {
        if volatile {
            let key = self.volatile.get_index(i)?;
            self.map.get_key_value(key.as_bytes())
        } else {
            self.map.get_index(i)
        }
    }

    /// Whether a key is here (and has an expiry, if `volatile`).
    pub(crate) fn qualifies(&self, key: &Key, volatile: bool) -> bool {
        self.map
            .get(key.as_bytes())
            .is_some_and(|e| !volatile || e.expire_at != 0)
    }

    pub fn get(&mut self, key: &[u8], now: u64) -> Option<&Value> {
        self.entry(key, now).map(|e| &e.value)
    }

    pub fn contains(&mut self, key: &[u8], now: u64) -> bool {
        self.entry(key, now).is_some()
    }

    /// Stores a value with no expiry (a `SET`), returning the previous live value.
    pub fn set(&mut self, key: &[u8], value: Value) -> Option<Entry> {
        self.insert(key, Entry::new(value, 0))
    }

    /// Replaces a key's value keeping its expiry, or stores it with none if the key is missing
    /// (what `INCR`, `SETRANGE` and `INCRBYFLOAT` do to the key they change).
    pub fn put_keeping_ttl(&mut self, key: &[u8], value: Value, now: u64) {
        match self.entry_mut(key, now) {
            Some(e) => e.value = value,
            None => {
                self.set(key, value);
            }
        }
    }

    /// Stores an entry (its access data stamped now), keeping `volatile` in step, and returns
    /// the entry it replaced.
    pub fn insert(&mut self, key: &[u8], mut entry: Entry) -> Option<Entry> {
        entry.access = self.clock.fresh();
        let volatile = entry.expire_at != 0;
        // One hash lookup (keys up to 23 bytes are stored inline, so building one is cheap).
        let old = match self.map.entry(Key::new(key)) {
            indexmap::map::Entry::Occupied(mut slot) => {
                Some(std::mem::replace(slot.get_mut(), entry))
            }
            indexmap::map::Entry::Vacant(slot) => {
                slot.insert(entry);
                None
            }
        };
        if self.recording && !self.notes.again(key, Touched::Replaced) {
            if let Some(u) = &mut self.undo {
                u.save(key, old.as_ref());
            }
            // The entry it replaced is the state before (one lookup for both).
            let before = old.as_ref().map(|e| e.expire_at);
            let value = old.as_ref().map(|e| &e.value);
            self.notes.first(key, Touched::Replaced, before, value);
        }
        let was_volatile = old.as_ref().is_some_and(|e| e.expire_at != 0);
        if volatile && !was_volatile {
            self.volatile.insert(Key::new(key));
            self.grown_to.1 = self.grown_to.1.max(self.volatile.capacity());
        } else if !volatile && was_volatile {
            self.volatile.swap_remove(key);
        }
        self.grown_to.0 = self.grown_to.0.max(self.map.capacity());
        old
    }

    /// Empties the keyspace (`FLUSHDB`); with `track`, every key it held is noted removed.
    pub fn clear(&mut self, track: bool) {
        if track {
            self.note_all_removed();
        }
        self.map = IndexMap::default();
        self.volatile = IndexSet::default();
        self.grown_to = (0, 0);
    }

    /// Exchanges the contents of two keyspaces (`SWAPDB`); with `track`, each notes its old
    /// keys removed and its new keys changed.
    pub fn swap_contents(&mut self, other: &mut Keyspace, track: bool) {
        if track {
            self.note_all_removed();
            other.note_all_removed();
        }
        std::mem::swap(&mut self.map, &mut other.map);
        std::mem::swap(&mut self.volatile, &mut other.volatile);
        std::mem::swap(&mut self.grown_to, &mut other.grown_to);
        if track {
            for ks in [self, other] {
                for i in 0..ks.map.len() {
                    ks.changes.set(i);
                }
            }
        }
    }

    fn note_all_removed(&mut self) {
        let mut removed = std::mem::take(&mut self.changes.removed);
        self.changes.reset();
        removed.extend(self.map.keys().cloned());
        self.changes.removed = removed;
    }

    /// About how many bytes the next new key would add by growing the tables (0 while they have
    /// room): the entry vector and hash index double together, and so does the set of keys
    /// with an expiry. `maxmemory` evicts before letting a table grow past the limit.
    pub(crate) fn growth_bytes(&self) -> u64 {
        // A slot of the entry vector (hash, key, entry) plus its share of the hash index.
        const SLOT: usize = 8 + std::mem::size_of::<Key>() + std::mem::size_of::<Entry>() + 10;
        const VOLATILE_SLOT: usize = 8 + std::mem::size_of::<Key>() + 10;
        // An empty table's first allocation is small: not counted.
        let full = |len: usize, grown_to: usize| grown_to > 0 && len >= grown_to;
        let mut bytes = 0;
        if full(self.map.len(), self.grown_to.0) {
            bytes += self.grown_to.0 * SLOT;
        }
        if full(self.volatile.len(), self.grown_to.1) {
            bytes += self.grown_to.1 * VOLATILE_SLOT;
        }
        bytes as u64
    }

    /// Makes room for `additional` more keys (recovery knows how many are coming).
    pub fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional);
    }

    /// Removes a key (a write: noted while recording).
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let old = self.remove_entry(key);
        if self.recording && !self.notes.again(key, Touched::Replaced) {
            if let Some(u) = &mut self.undo {
                u.save(key, old.as_ref());
            }
            let before = old.as_ref().map(|e| e.expire_at);
            let value = old.as_ref().map(|e| &e.value);
            self.notes.first(key, Touched::Replaced, before, value);
        }
        old
    }

    /// Removes a key without noting it as a write: expiry, which replay repeats by itself.
    fn remove_entry(&mut self, key: &[u8]) -> Option<Entry> {
        self.remove_entry_full(key).map(|(_, _, e)| e)
    }

    /// [`Keyspace::remove_entry`], giving back the key too.
    fn remove_entry_full(&mut self, key: &[u8]) -> Option<(usize, Key, Entry)> {
        let (i, k, old) = self.map.swap_remove_full(key)?;
        // The last entry moved into slot i: its changed bit moves with it. A changed key that
        // goes (a write, or expiry after a write) is noted as removed.
        let last = self.map.len();
        if self.changes.get(i) {
            self.changes.clear(i);
            self.changes.removed.push(k.clone());
        }
        if i != last && self.changes.get(last) {
            self.changes.clear(last);
            self.changes.set(i);
        }
        if old.expire_at != 0 {
            self.volatile.swap_remove(key);
        }
        Some((i, k, old))
    }

    /// Sets or clears (0) the expiry of an existing key; false if the key is missing.
    pub fn set_expiry(&mut self, key: &[u8], expire_at: u64) -> bool {
        if self.recording && self.map.contains_key(key) {
            self.touch(key, Touched::Expiry);
        }
        let Some(e) = self.map.get_mut(key) else {
            return false;
        };
        let was = e.expire_at;
        e.expire_at = expire_at;
        if was == 0 && expire_at != 0 {
            self.volatile.insert(Key::new(key));
            self.grown_to.1 = self.grown_to.1.max(self.volatile.capacity());
        } else if was != 0 && expire_at == 0 {
            self.volatile.swap_remove(key);
        }
        true
    }

    /// A random live key in O(1) expected time.
    pub fn random_key(&mut self, now: u64) -> Option<Key> {
        // Expired entries found on the way are removed; give up sampling after a bounded number
        // of tries (every key expired) and fall back to whatever is left.
        for _ in 0..100 {
            if self.map.is_empty() {
                return None;
            }
            let i = fastrand::usize(..self.map.len());
            let (k, e) = self.map.get_index(i).expect("index in range");
            if e.expire_at != 0 && e.expire_at <= now {
                let k = k.clone();
                self.remove_entry(k.as_bytes());
                continue;
            }
            return Some(k.clone());
        }
        // Nearly every key has expired without being removed yet: look for a live one.
        self.iter(now).next().map(|(k, _)| k.clone())
    }

    /// One `SCAN` step: visits up to `count` positions below `cursor` (0 = start) and returns the
    /// next cursor (0 = done) and the live keys visited.
    pub fn scan(
        &self,
        cursor: u64,
        count: usize,
        now: u64,
        mut f: impl FnMut(&Key, &Entry),
    ) -> u64 {
        let len = self.map.len();
        let mut pos = if cursor == 0 {
            len
        } else {
            (cursor as usize).min(len)
        };
        let stop = pos.saturating_sub(count.max(1));
        while pos > stop {
            pos -= 1;
            let (k, e) = self.map.get_index(pos).expect("index in range");
            if e.expire_at == 0 || e.expire_at > now {
                f(k, e);
            }
        }
        pos as u64
    }

    /// Every live entry, in storage order.
    pub fn iter(&self, now: u64) -> impl Iterator<Item = (&Key, &Entry)> + '_ {
        self.map
            .iter()
            .filter(move |(_, e)| e.expire_at == 0 || e.expire_at > now)
    }

    /// One round of active expiry: samples up to `samples` volatile keys and removes the expired
    /// ones. Returns (sampled, removed), so the caller can repeat while many were expired.
    pub fn expire_sample(&mut self, samples: usize, now: u64) -> (usize, usize) {
        let n = samples.min(self.volatile.len());
        let mut removed = 0;
        for _ in 0..n {
            if self.volatile.is_empty() {
                break;
            }
            let i = fastrand::usize(..self.volatile.len());
            let key = self.volatile.get_index(i).expect("index in range").clone();
            if self.expire_if_due(key.as_bytes(), now) {
                removed += 1;
            }
        }
        (n, removed)
    }
}

/// All keyspaces. A keyspace is created on its first write and never dropped over the wire.
#[derive(Debug)]
pub struct Store {
    pub(crate) names: std::collections::HashMap<SmolStr, usize>,
    pub(crate) spaces: Vec<(SmolStr, Keyspace)>,
    /// True while changed keys are noted for checkpoints (persistence is on).
    pub(crate) tracking: bool,
    /// True while writes are journaled (persistence is on and recovery is over).
    pub(crate) journaling: bool,
    /// Eviction candidates kept between rounds (crate::evict).
    pub(crate) evict_pool: Vec<crate::evict::Candidate>,
    /// The keyspace the random eviction policies look at next.
    evict_cursor: usize,
    /// The LSN the next journaled write gets.
    pub(crate) next_lsn: u64,
    /// Connections parked on keys by waiting pops (crate::waiting).
    pub(crate) waiting: crate::waiting::Waiting,
    /// Keys `WATCH`ed, by keyspace and key: the connections watching them.
    pub(crate) watched: std::collections::HashMap<(SmolStr, Key), Vec<u64>>,
    /// Connections one of whose watched keys was written since: their `EXEC` fails.
    pub(crate) watch_broken: std::collections::HashSet<u64>,
    /// True while a write runs whose effects are wanted (crate::effects): keyspaces it reaches
    /// note the keys it writes.
    pub(crate) recording: bool,
    /// The keyspaces the running write reached while recording.
    pub(crate) touched_spaces: Vec<usize>,
    /// Deltas the running write declared, by keyspace index and key.
    pub(crate) deltas: Vec<(usize, Key, okdb_ops::delta::Delta)>,
    /// Whole-keyspace effects the running write declared (`FLUSHDB`, `SWAPDB`).
    pub(crate) declared: Vec<crate::effects::Effect>,
    /// A buffer `effects::collect` reuses for the keyspaces' notes.
    pub(crate) touches: Vec<crate::effects::Touch>,
    /// Keys a declared effect covers (a `RENAME`'s two), by keyspace index: their notes make
    /// no effect of their own.
    pub(crate) covered: Vec<(usize, Key)>,
    /// While a script runs: writes save what they replace (`Keyspace::undo`) so the script
    /// can be undone; the keyspaces holding such an undo log.
    pub(crate) undoing: bool,
    pub(crate) undo_spaces: Vec<usize>,
    /// Compiled scripts by their text (crate::script).
    pub(crate) scripts: crate::script::Cache,
    /// Channels, patterns and their subscribers (crate::pubsub).
    pub(crate) pubsub: crate::pubsub::PubSub,
    /// While `new` keyspace notifications are wanted: the keys writes created, until they
    /// are notified with their write's record.
    pub(crate) new_keys: Option<Vec<(SmolStr, Key)>>,
}

/// The keyspace a connection starts in, and the one `SELECT 0` names.
pub const DEFAULT_KEYSPACE: &str = "0";

impl Default for Store {
    fn default() -> Self {
        let mut s = Store {
            names: Default::default(),
            spaces: Vec::new(),
            tracking: false,
            journaling: false,
            evict_pool: Vec::new(),
            evict_cursor: 0,
            next_lsn: 1,
            waiting: Default::default(),
            watched: Default::default(),
            watch_broken: Default::default(),
            recording: false,
            touched_spaces: Vec::new(),
            deltas: Vec::new(),
            declared: Vec::new(),
            touches: Vec::new(),
            covered: Vec::new(),
            undoing: false,
            undo_spaces: Vec::new(),
            scripts: Default::default(),
            pubsub: Default::default(),
            new_keys: None,
        };
        s.create(DEFAULT_KEYSPACE);
        s
    }
}

impl Store {
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.get(name).copied()
    }

    pub fn create(&mut self, name: &str) -> usize {
        if let Some(i) = self.index_of(name) {
            return i;
        }
        self.spaces.push((name.into(), Keyspace::default()));
        self.names.insert(name.into(), self.spaces.len() - 1);
        self.spaces.len() - 1
    }

    pub fn space(&mut self, index: usize) -> &mut Keyspace {
        &mut self.spaces[index].1
    }

    /// A keyspace a write reaches: while recording, it notes the keys the write touches.
    pub(crate) fn space_for_write(&mut self, index: usize) -> &mut Keyspace {
        if self.recording && !self.touched_spaces.contains(&index) {
            self.touched_spaces.push(index);
            self.spaces[index].1.recording = true;
            if self.undoing && self.spaces[index].1.undo.is_none() {
                self.spaces[index].1.undo = Some(Box::default());
                self.undo_spaces.push(index);
            }
        }
        &mut self.spaces[index].1
    }

    pub fn name_of(&self, index: usize) -> &str {
        &self.spaces[index].0
    }

    pub fn spaces_len(&self) -> usize {
        self.spaces.len()
    }

    /// The next keyspace for the random eviction policies, going round.
    pub(crate) fn next_evict_space(&mut self, spaces: usize) -> usize {
        self.evict_cursor = (self.evict_cursor + 1) % spaces.max(1);
        self.evict_cursor
    }

    /// True while changed keys are noted for checkpoints.
    pub fn tracking(&self) -> bool {
        self.tracking
    }

    /// Empties every keyspace; they stay, empty (`FLUSHALL`).
    pub fn flush_all(&mut self) {
        let track = self.tracking;
        for ks in self.spaces_mut() {
            ks.clear(track);
        }
    }

    /// Exchanges the contents of two keyspaces (`SWAPDB`).
    pub fn swap(&mut self, a: usize, b: usize) {
        if a == b {
            return;
        }
        let track = self.tracking;
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = self.spaces.split_at_mut(hi);
        left[lo].1.swap_contents(&mut right[0].1, track);
    }

    /// Keyspaces as (name, keyspace), in creation order.
    pub fn spaces(&self) -> impl Iterator<Item = (&str, &Keyspace)> {
        self.spaces.iter().map(|(n, k)| (n.as_str(), k))
    }

    pub fn spaces_mut(&mut self) -> impl Iterator<Item = &mut Keyspace> {
        self.spaces.iter_mut().map(|(_, k)| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ks_with(n: usize) -> Keyspace {
        let mut ks = Keyspace::default();
        for i in 0..n {
            ks.set(format!("k{i}").as_bytes(), Value::Int(i as i64));
        }
        ks
    }

    #[test]
    fn lazy_expiry_removes_on_access() {
        let mut ks = ks_with(1);
        assert!(ks.set_expiry(b"k0", 1000));
        assert_eq!(ks.volatile_len(), 1);
        assert!(ks.get(b"k0", 999).is_some());
        assert!(ks.get(b"k0", 1000).is_none());
        assert_eq!((ks.len(), ks.volatile_len()), (0, 0));
    }

    #[test]
    fn set_clears_expiry_and_volatile() {
        let mut ks = ks_with(1);
        ks.set_expiry(b"k0", 1000);
        ks.set(b"k0", Value::Null);
        assert_eq!(ks.volatile_len(), 0);
        assert_eq!(ks.entry(b"k0", 5000).map(|e| e.expire_at), Some(0));
    }

    #[test]
    fn scan_returns_every_stable_key_despite_deletes_and_inserts() {
        let mut ks = ks_with(1000);
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = ks.scan(cursor, 7, 0, |k, _| {
                seen.insert(k.as_bytes().to_vec());
            });
            // Churn: delete some keys and add new ones between calls.
            step += 1;
            ks.remove(format!("k{}", step * 3).as_bytes());
            ks.set(format!("new{step}").as_bytes(), Value::Null);
            if cursor == 0 {
                break;
            }
        }
        for i in 0..1000 {
            let deleted = i % 3 == 0 && i / 3 >= 1 && i / 3 <= step;
            if !deleted {
                assert!(seen.contains(format!("k{i}").as_bytes()), "missed k{i}");
            }
        }
    }

    #[test]
    fn active_expiry_samples_volatile_keys() {
        let mut ks = ks_with(100);
        for i in 0..50 {
            ks.set_expiry(format!("k{i}").as_bytes(), 10);
        }
        let mut total = 0;
        while ks.volatile_len() > 0 {
            total += ks.expire_sample(20, 11).1;
        }
        assert_eq!((total, ks.len()), (50, 50));
    }

    #[test]
    fn random_key_skips_expired() {
        let mut ks = ks_with(10);
        for i in 0..9 {
            ks.set_expiry(format!("k{i}").as_bytes(), 10);
        }
        assert_eq!(ks.random_key(11).unwrap().as_bytes(), b"k9");
        // Far more expired keys than sampling tries: the answer is still a live key.
        let mut ks = ks_with(100_000);
        for i in 1..100_000 {
            ks.set_expiry(format!("k{i}").as_bytes(), 10);
        }
        assert_eq!(ks.random_key(11).unwrap().as_bytes(), b"k0");
        ks.remove(b"k0");
        assert!(ks.random_key(11).is_none());
    }
}
