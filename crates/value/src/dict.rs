//! An insertion-ordered dict with O(1) clone.
//!
//! Small dicts (up to [`SMALL`] entries: most records) are one shared array of entries in
//! insertion order: a lookup is a short scan of one allocation, and a change copies the few
//! entries when the array is shared. Larger dicts keep their entries once, in insertion order,
//! in shared chunks of [`CHUNK`] (a persistent vector of chunks), and find them through a
//! persistent hash table of entry positions ([`crate::probe`]): get/insert/remove are O(1)
//! expected plus the O(log n) of the two persistent vectors, iteration walks the chunks, and a
//! change to a shared dict copies one chunk and one leaf of the table. A removed entry leaves
//! an empty place until removed places outnumber the entries; then the dict is compacted.
//! Per entry this costs the entry (48 bytes) and 11-21 bytes of table.

use std::sync::Arc;

use crate::probe::{tag_of, Slot, Table};
use crate::{SmolStr, Value};

/// The most entries a dict keeps in its small form.
pub const SMALL: usize = 8;

/// Entries per chunk of a large dict: 64 places of 48 bytes fill one allocation size class
/// exactly.
const CHUNK: usize = 64;

#[derive(Clone)]
pub struct Dict(Repr);

#[derive(Clone)]
enum Repr {
    Small(Arc<[(SmolStr, Value)]>),
    Large(Box<Large>),
}

type Entry = (SmolStr, Value);
/// Up to [`CHUNK`] places, each an entry or the place of a removed one.
type Chunk = Arc<Vec<Option<Entry>>>;

#[derive(Clone)]
struct Large {
    /// Every place ever used since the last compaction, in insertion order.
    chunks: imbl::Vector<Chunk>,
    /// Places used (live or removed).
    used: usize,
    /// Where each key's entry is.
    index: Table<Place>,
}

impl Default for Dict {
    fn default() -> Self {
        Dict(Repr::Small(Arc::new([])))
    }
}

fn entry(chunks: &imbl::Vector<Chunk>, pos: usize) -> &Entry {
    chunks[pos / CHUNK][pos % CHUNK]
        .as_ref()
        .expect("the index names live entries only")
}

/// A dict's slot in its table: the key's tag in the high half, its entry's position + 1 in the
/// low half (0: empty). The tag spares a look at the entry for most keys that are not the one
/// sought.
#[derive(Clone, Copy, Default, PartialEq)]
struct Place(u64);

impl Place {
    fn new(tag: u32, pos: usize) -> Place {
        assert!(
            pos + 1 < u32::MAX as usize,
            "a dict holds fewer than 2^32 entries"
        );
        Place((tag as u64) << 32 | (pos as u64 + 1))
    }

    fn pos(self) -> usize {
        (self.0 as u32) as usize - 1
    }
}

impl Slot for Place {
    fn tag(self) -> u32 {
        (self.0 >> 32) as u32
    }
}

impl Large {
    /// A large dict of these entries, in this order (no key twice).
    fn from_entries(entries: impl IntoIterator<Item = Entry>) -> Large {
        let mut chunks = imbl::Vector::new();
        let mut current: Vec<Option<Entry>> = Vec::with_capacity(CHUNK);
        let mut places = Vec::new();
        for e in entries {
            places.push(Place::new(tag_of(&e.0), places.len()));
            current.push(Some(e));
            if current.len() == CHUNK {
                let full = std::mem::replace(&mut current, Vec::with_capacity(CHUNK));
                chunks.push_back(Arc::new(full));
            }
        }
        if !current.is_empty() {
            chunks.push_back(Arc::new(current));
        }
        Large {
            chunks,
            used: places.len(),
            index: Table::build(places),
        }
    }

    fn find(&self, key: &str) -> Option<usize> {
        let tag = tag_of(key);
        let chunks = &self.chunks;
        self.index
            .find(tag, |p| {
                p.tag() == tag && same(&entry(chunks, p.pos()).0, key)
            })
            .ok()
    }

    fn get(&self, key: &str) -> Option<&Value> {
        let i = self.find(key)?;
        Some(&entry(&self.chunks, self.index.get(i).pos()).1)
    }

    /// Chunk `c`'s places, copied first (with room for a full chunk) if it is shared.
    fn chunk_mut(&mut self, c: usize) -> &mut Vec<Option<Entry>> {
        let chunk = self.chunks.get_mut(c).expect("a used chunk");
        if Arc::get_mut(chunk).is_none() {
            let mut copy = Vec::with_capacity(CHUNK);
            copy.extend(chunk.iter().cloned());
            *chunk = Arc::new(copy);
        }
        Arc::get_mut(chunk).expect("just made unique")
    }

    fn insert(&mut self, key: SmolStr, value: Value) -> Option<Value> {
        if let Some(i) = self.find(&key) {
            let pos = self.index.get(i).pos();
            let place = self.chunk_mut(pos / CHUNK)[pos % CHUNK]
                .as_mut()
                .expect("a live entry");
            return Some(std::mem::replace(&mut place.1, value));
        }
        let pos = self.used;
        self.index.insert(Place::new(tag_of(&key), pos));
        if pos.is_multiple_of(CHUNK) {
            self.chunks.push_back(Arc::new(Vec::with_capacity(CHUNK)));
        }
        self.chunk_mut(pos / CHUNK).push(Some((key, value)));
        self.used += 1;
        None
    }

    fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.find(key)?;
        let pos = self.index.get(i).pos();
        let (_, old) = self.chunk_mut(pos / CHUNK)[pos % CHUNK]
            .take()
            .expect("a live entry");
        self.index.remove(i);
        // Compacted when removed places outnumber the entries.
        let dead = self.used - self.index.len();
        if dead >= CHUNK && dead > self.index.len() {
            let live: Vec<Entry> = self.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            *self = Large::from_entries(live);
        }
        Some(old)
    }

    fn iter<'a>(&'a self) -> LargeIter<'a> {
        let places: fn(&'a Chunk) -> std::slice::Iter<'a, Option<Entry>> = chunk_places;
        let live: fn(&'a Option<Entry>) -> Option<(&'a SmolStr, &'a Value)> = live_entry;
        self.chunks.iter().flat_map(places).filter_map(live)
    }
}

type LargeIter<'a> = std::iter::FilterMap<
    std::iter::FlatMap<
        imbl::vector::Iter<'a, Chunk, imbl::shared_ptr::DefaultSharedPtr>,
        std::slice::Iter<'a, Option<Entry>>,
        fn(&'a Chunk) -> std::slice::Iter<'a, Option<Entry>>,
    >,
    fn(&'a Option<Entry>) -> Option<(&'a SmolStr, &'a Value)>,
>;

fn chunk_places(c: &Chunk) -> std::slice::Iter<'_, Option<Entry>> {
    c.iter()
}

fn live_entry(place: &Option<Entry>) -> Option<(&SmolStr, &Value)> {
    place.as_ref().map(|(k, v)| (k, v))
}

/// Key equality for the small form's scan: keys are short, and most differ in length, so
/// this beats a call to `memcmp` per entry.
#[inline]
fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl Dict {
    pub fn new() -> Dict {
        Dict::default()
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Small(e) => e.len(),
            Repr::Large(l) => l.index.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        match &self.0 {
            Repr::Small(e) => e.iter().find(|(k, _)| same(k, key)).map(|(_, v)| v),
            Repr::Large(l) => l.get(key),
        }
    }

    /// [`Dict::get`], trying position `hint` first and leaving there the position the key was
    /// found at: records of one shape keep a field at one place, so a scan over them compares
    /// one key per record instead of every key before it.
    pub fn get_hinted(&self, key: &str, hint: &mut usize) -> Option<&Value> {
        if let Repr::Small(e) = &self.0 {
            if let Some((k, v)) = e.get(*hint) {
                if same(k, key) {
                    return Some(v);
                }
            }
            let i = e.iter().position(|(k, _)| same(k, key))?;
            *hint = i;
            return Some(&e[i].1);
        }
        self.get(key)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Inserts or replaces; a replaced key keeps its position, as in Python.
    pub fn insert(&mut self, key: SmolStr, value: Value) -> Option<Value> {
        match &mut self.0 {
            Repr::Small(e) => {
                if let Some(i) = e.iter().position(|(k, _)| same(k, &key)) {
                    // In place when this dict alone holds the array; else copy on write (the
                    // array is shared with every clone of this dict).
                    if let Some(entries) = Arc::get_mut(e) {
                        return Some(std::mem::replace(&mut entries[i].1, value));
                    }
                    let mut v = e.to_vec();
                    let old = std::mem::replace(&mut v[i].1, value);
                    *e = v.into();
                    return Some(old);
                }
                if e.len() < SMALL {
                    // One allocation, of the exact size.
                    *e = e
                        .iter()
                        .cloned()
                        .chain(std::iter::once((key, value)))
                        .collect();
                    return None;
                }
                let entries = e.iter().cloned().chain(std::iter::once((key, value)));
                self.0 = Repr::Large(Box::new(Large::from_entries(entries)));
                None
            }
            Repr::Large(l) => l.insert(key, value),
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        match &mut self.0 {
            Repr::Small(e) => {
                let i = e.iter().position(|(k, _)| k == key)?;
                let mut v = e.to_vec();
                let (_, old) = v.remove(i);
                *e = v.into();
                Some(old)
            }
            Repr::Large(l) => l.remove(key),
        }
    }

    /// Entries sorted by key: the order-independent view equality and ordering use.
    pub fn sorted(&self) -> Vec<(&SmolStr, &Value)> {
        let mut entries: Vec<_> = self.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        entries
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> Iter<'_> {
        match &self.0 {
            Repr::Small(e) => Iter::Small(e.iter()),
            Repr::Large(l) => Iter::Large(l.iter()),
        }
    }

    /// Places in insertion order: one per entry, plus (in a large dict) one per entry removed
    /// since the last compaction. A place keeps its number while entries come and go, until
    /// removed places outnumber the entries: the cursor of `HSCAN`.
    pub fn places(&self) -> usize {
        match &self.0 {
            Repr::Small(e) => e.len(),
            Repr::Large(l) => l.used,
        }
    }

    /// The entries at places `start..end` (fewer than `end - start` where entries were
    /// removed): O(log n) to reach, then O(1) each.
    pub fn window(&self, start: usize, end: usize) -> Vec<(&SmolStr, &Value)> {
        match &self.0 {
            Repr::Small(e) => {
                let end = end.min(e.len());
                e[start.min(end)..end].iter().map(|(k, v)| (k, v)).collect()
            }
            Repr::Large(l) => {
                let end = end.min(l.used);
                let mut out = Vec::new();
                let mut at = start;
                while at < end {
                    let base = at / CHUNK * CHUNK;
                    let upto = end.min(base + CHUNK);
                    let places = &l.chunks[at / CHUNK][at - base..upto - base];
                    out.extend(places.iter().filter_map(live_entry));
                    at = upto;
                }
                out
            }
        }
    }

    /// Consumes the dict, yielding its entries in insertion order.
    pub fn into_entries(self) -> Box<dyn Iterator<Item = (SmolStr, Value)>> {
        match self.0 {
            Repr::Small(e) => Box::new((0..e.len()).map(move |i| e[i].clone())),
            Repr::Large(l) => Box::new(
                l.chunks
                    .into_iter()
                    .flat_map(|c| Arc::unwrap_or_clone(c).into_iter().flatten()),
            ),
        }
    }

    /// The key and value of a one-entry dict.
    pub fn single(&self) -> Option<(&SmolStr, &Value)> {
        if self.len() == 1 {
            self.iter().next()
        } else {
            None
        }
    }
}

/// The entries of a dict, in insertion order.
pub enum Iter<'a> {
    Small(std::slice::Iter<'a, (SmolStr, Value)>),
    Large(LargeIter<'a>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a SmolStr, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(i) => i.next().map(|(k, v)| (k, v)),
            Iter::Large(i) => i.next(),
        }
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(i) => i.next_back().map(|(k, v)| (k, v)),
            Iter::Large(i) => i.next_back(),
        }
    }
}

impl std::fmt::Debug for Iter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dict::Iter")
    }
}

impl std::fmt::Debug for Dict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(SmolStr, Value)> for Dict {
    fn from_iter<I: IntoIterator<Item = (SmolStr, Value)>>(iter: I) -> Self {
        let mut d = Dict::new();
        for (k, v) in iter {
            d.insert(k, v);
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe;

    #[test]
    fn a_chunk_of_entries_fills_an_allocation_size_class() {
        // 64 places of 48 bytes: 3 KiB, one of jemalloc's size classes.
        assert_eq!(std::mem::size_of::<Option<Entry>>(), 48);
    }

    #[test]
    fn windows_over_places_cover_every_entry_once() {
        let mut d = Dict::new();
        for i in 0..300 {
            d.insert(SmolStr::new(format!("k{i}")), Value::Int(i));
        }
        for i in (0..300).step_by(3) {
            d.remove(&format!("k{i}"));
        }
        assert_eq!(d.places(), 300);
        let mut seen = Vec::new();
        let mut at = 0;
        while at < d.places() {
            seen.extend(d.window(at, at + 7).into_iter().map(|(k, _)| k.to_string()));
            at += 7;
        }
        let all: Vec<String> = d.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(seen, all);
        assert_eq!(d.window(295, 1000).len(), 4); // k297 was removed
    }

    #[test]
    fn keeps_insertion_order_through_replace_and_remove() {
        let mut d = Dict::new();
        for k in ["b", "a", "c"] {
            d.insert(k.into(), Value::str(k));
        }
        d.insert("a".into(), Value::Int(1));
        d.remove("b");
        d.insert("b".into(), Value::Int(2));
        let keys: Vec<&str> = d.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "c", "b"]);
        assert_eq!(d.get("a"), Some(&Value::Int(1)));
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn grows_from_small_to_large_keeping_order_and_clones_apart() {
        let mut d = Dict::new();
        for i in 0..20 {
            d.insert(SmolStr::new(format!("k{i}")), Value::Int(i));
            let before = d.clone();
            d.insert("k0".into(), Value::Int(-1));
            assert_eq!(
                before.get("k0"),
                Some(&Value::Int(if i == 0 { 0 } else { -1 }))
            );
            assert_eq!(d.len(), i as usize + 1);
        }
        let keys: Vec<String> = d.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, (0..20).map(|i| format!("k{i}")).collect::<Vec<_>>());
        assert_eq!(d.remove("k5"), Some(Value::Int(5)));
        assert_eq!(d.get("k5"), None);
        assert_eq!(d.iter().next_back().map(|(k, _)| k.as_str()), Some("k19"));
    }

    /// Random inserts, replacements, removals and clones of a large dict against a model (a
    /// vector in insertion order), with tags that collide often.
    #[test]
    fn a_large_dict_matches_a_model_through_random_changes() {
        for weak in [false, true] {
            probe::WEAK_TAGS.set(weak);
            let mut rng = fastrand::Rng::with_seed(11);
            let mut d = Dict::new();
            let mut model: Vec<(String, i64)> = Vec::new();
            let mut old: Vec<(Dict, Vec<(String, i64)>)> = Vec::new();
            for round in 0..6_000i64 {
                let key = format!("k{}", rng.u32(0..300));
                match rng.u8(0..10) {
                    0..=5 => {
                        let was = d.insert(SmolStr::new(&key), Value::Int(round));
                        let at = model.iter().position(|(k, _)| *k == key);
                        assert_eq!(was, at.map(|i| Value::Int(model[i].1)), "{key}");
                        match at {
                            Some(i) => model[i].1 = round,
                            None => model.push((key, round)),
                        }
                    }
                    6..=8 => {
                        let was = d.remove(&key);
                        let at = model.iter().position(|(k, _)| *k == key);
                        assert_eq!(was, at.map(|i| Value::Int(model.remove(i).1)), "{key}");
                    }
                    _ => old.push((d.clone(), model.clone())),
                }
                assert_eq!(d.len(), model.len());
                if round % 50 == 0 {
                    let got: Vec<(String, i64)> = d
                        .iter()
                        .map(|(k, v)| match v {
                            Value::Int(i) => (k.to_string(), *i),
                            _ => unreachable!(),
                        })
                        .collect();
                    assert_eq!(got, model, "round {round}");
                    for i in 0..300 {
                        let k = format!("k{i}");
                        let want = model
                            .iter()
                            .find(|(m, _)| *m == k)
                            .map(|(_, v)| Value::Int(*v));
                        assert_eq!(d.get(&k), want.as_ref());
                    }
                }
            }
            // Clones kept their contents through the changes made after them.
            for (d, model) in old {
                let got: Vec<String> = d.iter().map(|(k, _)| k.to_string()).collect();
                let want: Vec<String> = model.into_iter().map(|(k, _)| k).collect();
                assert_eq!(got, want);
            }
            probe::WEAK_TAGS.set(false);
        }
    }
}
