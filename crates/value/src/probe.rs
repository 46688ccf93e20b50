//! A persistent open-addressing hash table of small slots: the index of large dicts and sorted
//! sets.
//!
//! The slots live in an RRB vector (`imbl::Vector`), so a clone is O(1) and a change copies one
//! leaf of 64 slots and its path. A slot is a few bytes, its key's tag and a little more (a
//! dict's entry position; a sorted set's score), never the key itself: the owner keeps its
//! entries once, in its own order, and checks a candidate slot against them. The tag places
//! the slot, so the table grows and shifts slots by itself. That is what makes
//! a large dict or sorted set cost about what Redis's do per element (BENCHMARKS.md).
//!
//! Linear probing from a home slot chosen by the hash's top 32 bits (multiply-shift, so the
//! capacity need not be a power of two); a removal shifts the rest of its run back, so there
//! are no tombstones. The table holds at most 3/4 of its capacity and is rebuilt at twice its
//! length when it would hold more, so its load stays between 3/8 and 3/4.
//!
//! Keys are hashed with a seed chosen at random per process ([`tag_of`]), so a client cannot
//! choose field names that all land in one run.

use std::hash::BuildHasher;
use std::sync::LazyLock;

/// The smallest capacity a table is built with.
const MIN_CAPACITY: usize = 16;

static SEED: LazyLock<foldhash::quality::RandomState> = LazyLock::new(Default::default);

/// A key's tag: the 32 bits of its hash (seeded per process) that choose its home slot; never
/// 0, so a slot may use 0 for "empty".
pub(crate) fn tag_of(key: &str) -> u32 {
    tag(SEED.hash_one(key.as_bytes()))
}

fn tag(hash: u64) -> u32 {
    #[cfg(test)]
    if WEAK_TAGS.get() {
        // Eight tags in all, spread over the table: most keys share a tag with others.
        return ((hash >> 61) as u32) << 29 | 1;
    }
    ((hash >> 32) as u32).max(1)
}

#[cfg(test)]
thread_local! {
    /// Tests of the owners set this to make tags collide.
    pub(crate) static WEAK_TAGS: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A slot: `S::default()` is the empty slot; every other slot holds the tag of its key, which
/// places it (so the table can grow and shift slots without asking the owner).
pub(crate) trait Slot: Clone + Copy + Default + PartialEq {
    fn tag(self) -> u32;
}

#[derive(Clone, Default)]
pub(crate) struct Table<S: Slot> {
    slots: imbl::Vector<S>,
    len: usize,
}

impl<S: Slot> Table<S> {
    /// A table holding `slots`, with room for twice as many (at least [`MIN_CAPACITY`]).
    pub fn build(slots: Vec<S>) -> Table<S> {
        let cap = (slots.len() * 2).max(MIN_CAPACITY);
        let mut table = vec![S::default(); cap];
        let mut n = 0;
        for slot in slots {
            let mut i = home(slot.tag(), cap);
            while table[i] != S::default() {
                i = next(i, cap);
            }
            table[i] = slot;
            n += 1;
        }
        Table {
            slots: table.into_iter().collect(),
            len: n,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// The slots that are not empty, in table order.
    fn iter(&self) -> impl Iterator<Item = S> + '_ {
        self.slots.iter().copied().filter(|s| *s != S::default())
    }

    /// Probes from `tag`'s home: `Ok` with the first slot `hit` accepts, or `Err` with the
    /// empty slot that ends the run.
    pub fn find(&self, tag: u32, mut hit: impl FnMut(S) -> bool) -> Result<usize, usize> {
        let cap = self.slots.len();
        if cap == 0 {
            return Err(0);
        }
        let mut i = home(tag, cap);
        loop {
            let s = self.slots[i];
            if s == S::default() {
                return Err(i);
            }
            if hit(s) {
                return Ok(i);
            }
            i = next(i, cap);
        }
    }

    pub fn get(&self, i: usize) -> S {
        self.slots[i]
    }

    /// Replaces the slot at `i` (found by [`Table::find`]) with one of the same tag.
    pub fn replace(&mut self, i: usize, slot: S) {
        self.slots.set(i, slot);
    }

    /// Adds a slot (the owner knows its key is not there yet), first building the table again
    /// at twice its length if the load would pass 3/4.
    pub fn insert(&mut self, slot: S) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            *self = Table::build(self.iter().chain([slot]).collect());
            return;
        }
        let i = self
            .find(slot.tag(), |_| false)
            .expect_err("no slot is hit");
        self.slots.set(i, slot);
        self.len += 1;
    }

    /// Empties slot `i`, shifting back the slots after it in its run that may move there.
    pub fn remove(&mut self, i: usize) {
        let cap = self.slots.len();
        let mut hole = i;
        let mut j = i;
        loop {
            j = next(j, cap);
            let s = self.slots[j];
            if s == S::default() {
                break;
            }
            let k = home(s.tag(), cap);
            // `s` stays if its home lies cyclically in (hole, j]: moving it before its home
            // would hide it from a probe.
            let stays = if hole <= j {
                hole < k && k <= j
            } else {
                hole < k || k <= j
            };
            if !stays {
                self.slots.set(hole, s);
                hole = j;
            }
        }
        self.slots.set(hole, S::default());
        self.len -= 1;
    }
}

fn home(tag: u32, cap: usize) -> usize {
    ((tag as u64 * cap as u64) >> 32) as usize
}

fn next(i: usize, cap: usize) -> usize {
    if i + 1 == cap {
        0
    } else {
        i + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Slot for u32 {
        fn tag(self) -> u32 {
            self
        }
    }

    /// Slots are the tags themselves: a model of a hash set of u32.
    #[test]
    fn finds_what_it_holds_through_removals_and_rebuilds() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut t: Table<u32> = Table::default();
        let mut model = std::collections::BTreeSet::new();
        for round in 0..20_000 {
            // Few distinct tags spread over the whole range, so runs are long, wrap around
            // the end and mix homes.
            let x = rng.u32(1..400) * 10_000_000;
            if rng.bool() {
                if t.find(x, |s| s == x).is_err() {
                    t.insert(x);
                }
                model.insert(x);
            } else {
                if let Ok(i) = t.find(x, |s| s == x) {
                    t.remove(i);
                }
                model.remove(&x);
            }
            assert_eq!(t.len(), model.len(), "round {round}");
            if round % 97 == 0 {
                for y in (1..400).map(|y| y * 10_000_000) {
                    assert_eq!(t.find(y, |s| s == y).is_ok(), model.contains(&y), "{y}");
                }
            }
        }
    }

    #[test]
    fn homes_spread_over_the_capacity() {
        assert_eq!(home(u32::MAX, 10), 9);
        assert_eq!(home(1, 10), 0);
        assert!(tag(0) == 1 && tag(5 << 32) == 5);
    }
}
