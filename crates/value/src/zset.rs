//! A sorted set: string members, each with a float score, ordered by (score, member).
//!
//! Two persistent structures, so clone is O(1): the `(score, member)` pairs in order, in a
//! B-tree with counts ([`crate::btree`]), and a hash table ([`crate::probe`]) from a member's
//! hash to its score, whose slots hold a 32-bit tag of the hash and the score but not the
//! member: a slot whose tag matches is confirmed by finding `(score, member)` in the tree.
//! Finding a member's place is one descent of the tree; inserting or removing there, rank, and
//! range by rank or by score are O(log n). Per member this costs the tree's 32 bytes and 12
//! bytes per table slot. Scores are never NaN; `-0.0` equals `0.0`; members with equal scores
//! order by their bytes, as Redis orders them.

use std::cmp::Ordering;

use crate::btree::Seq;
use crate::probe::{tag_of, Table};
use crate::SmolStr;

#[derive(Clone, Default)]
pub struct SortedSet {
    order: Seq<(f64, SmolStr)>,
    index: Table<Slot>,
}

/// A member's slot: its hash's tag and its score's bits (as two halves, so a slot is 12
/// bytes). Two members with the same tag and score have equal slots, and either slot serves
/// both.
#[derive(Clone, Copy, Default, PartialEq)]
struct Slot {
    tag: u32,
    score: [u32; 2],
}

impl Slot {
    fn new(tag: u32, score: f64) -> Slot {
        let bits = score.to_bits();
        Slot {
            tag,
            score: [bits as u32, (bits >> 32) as u32],
        }
    }

    fn score(self) -> f64 {
        f64::from_bits(self.score[0] as u64 | (self.score[1] as u64) << 32)
    }
}

/// A member [`SortedSet::locate`] found.
struct Found {
    slot: usize,
    score: f64,
    at: usize,
}

impl crate::probe::Slot for Slot {
    fn tag(self) -> u32 {
        self.tag
    }
}

fn cmp(a: (f64, &str), b: (f64, &str)) -> Ordering {
    a.0.partial_cmp(&b.0)
        .expect("scores are never NaN")
        .then_with(|| a.1.as_bytes().cmp(b.1.as_bytes()))
}

impl SortedSet {
    pub fn new() -> SortedSet {
        SortedSet::default()
    }

    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub fn score(&self, member: &str) -> Option<f64> {
        self.locate(member, tag_of(member)).map(|f| f.score)
    }

    /// Where a member is: its table slot (confirmed by finding it in the tree), its score
    /// and its position, from one probe and one descent.
    fn locate(&self, member: &str, tag: u32) -> Option<Found> {
        let mut at = 0;
        let slot = self
            .index
            .find(tag, |s| {
                s.tag == tag && self.find(s.score(), member).map(|p| at = p).is_ok()
            })
            .ok()?;
        Some(Found {
            slot,
            score: self.index.get(slot).score(),
            at,
        })
    }

    fn find(&self, score: f64, member: &str) -> Result<usize, usize> {
        let at = self
            .order
            .partition_point(|(s, m)| cmp((*s, m), (score, member)) == Ordering::Less);
        match self.order.get(at) {
            Some((s, m)) if *s == score && m == member => Ok(at),
            _ => Err(at),
        }
    }

    /// Adds a member or changes its score; its old score, if it had one. A NaN score is a bug
    /// of the caller (the operations layer refuses one first).
    pub fn insert(&mut self, member: SmolStr, score: f64) -> Option<f64> {
        assert!(!score.is_nan(), "a sorted set's score is never NaN");
        let score = if score == 0.0 { 0.0 } else { score };
        let tag = tag_of(&member);
        let old = self.locate(&member, tag);
        match &old {
            Some(f) if f.score == score => return Some(score),
            Some(f) => {
                self.order.remove(f.at);
                self.index.replace(f.slot, Slot::new(tag, score));
            }
            None => self.index.insert(Slot::new(tag, score)),
        }
        let at = self
            .find(score, &member)
            .expect_err("the member was removed");
        self.order.insert(at, (score, member));
        old.map(|f| f.score)
    }

    /// Adds a member known to be new; O(1) when it sorts after every member (as when a set is
    /// rebuilt in order), else an ordinary insert.
    pub fn push(&mut self, member: SmolStr, score: f64) {
        let tag = tag_of(&member);
        let after_last = self
            .order
            .back()
            .is_none_or(|(s, m)| cmp((*s, m), (score, &member)) == Ordering::Less);
        if after_last && !score.is_nan() && self.locate(&member, tag).is_none() {
            let score = if score == 0.0 { 0.0 } else { score };
            self.index.insert(Slot::new(tag, score));
            self.order.push_back((score, member));
        } else {
            self.insert(member, score);
        }
    }

    /// Removes a member; its score, if it was there.
    pub fn remove(&mut self, member: &str) -> Option<f64> {
        let f = self.locate(member, tag_of(member))?;
        self.order.remove(f.at);
        self.index.remove(f.slot);
        Some(f.score)
    }

    /// Removes the slot of a member that has left the order.
    fn unindex(&mut self, member: &str, score: f64) {
        let slot = Slot::new(tag_of(member), score);
        let i = self
            .index
            .find(slot.tag, |s| s == slot)
            .expect("order and index agree");
        self.index.remove(i);
    }

    /// A member's position in (score, member) order.
    pub fn rank(&self, member: &str) -> Option<usize> {
        self.locate(member, tag_of(member)).map(|f| f.at)
    }

    /// The member and score at a position.
    pub fn get(&self, at: usize) -> Option<(&SmolStr, f64)> {
        self.order.get(at).map(|(s, m)| (m, *s))
    }

    /// The first position whose score is at least `min` (above it when `exclusive`).
    pub fn lower_bound(&self, min: f64, exclusive: bool) -> usize {
        self.partition(|s| if exclusive { s <= min } else { s < min })
    }

    /// The first position whose score is above `max` (at least it when `exclusive`).
    pub fn upper_bound(&self, max: f64, exclusive: bool) -> usize {
        self.partition(|s| if exclusive { s < max } else { s <= max })
    }

    /// The first position where `before(score)` is false (it must hold for a prefix).
    fn partition(&self, before: impl Fn(f64) -> bool) -> usize {
        self.order.partition_point(|(s, _)| before(*s))
    }

    /// Members and scores from position `a` to `b` (half-open), in order (O(log n) to find,
    /// then O(1) each).
    pub fn range(&self, a: usize, b: usize) -> Vec<(SmolStr, f64)> {
        self.order
            .range(a, b)
            .map(|(s, m)| (m.clone(), *s))
            .collect()
    }

    /// Every member and score, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&SmolStr, f64)> {
        self.order.iter().map(|(s, m)| (m, *s))
    }

    /// Removes and returns the first (least) or last member.
    pub fn pop(&mut self, last: bool) -> Option<(SmolStr, f64)> {
        let (score, member) = if last {
            self.order.pop_back()?
        } else {
            self.order.pop_front()?
        };
        self.unindex(&member, score);
        Some((member, score))
    }
}

impl std::fmt::Debug for SortedSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(SmolStr, f64)> for SortedSet {
    fn from_iter<I: IntoIterator<Item = (SmolStr, f64)>>(iter: I) -> Self {
        let mut z = SortedSet::new();
        for (m, s) in iter {
            z.push(m, s);
        }
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_score_then_member_and_keeps_ranks() {
        let mut z = SortedSet::new();
        for (m, s) in [("b", 2.0), ("a", 2.0), ("c", 1.0), ("d", -0.0)] {
            z.insert(m.into(), s);
        }
        let order: Vec<&str> = z.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(order, ["d", "c", "a", "b"]);
        assert_eq!(z.rank("a"), Some(2));
        assert_eq!(z.insert("c".into(), 3.0), Some(1.0));
        assert_eq!(z.rank("c"), Some(3));
        assert_eq!(z.lower_bound(2.0, false), 1);
        assert_eq!(z.lower_bound(2.0, true), 3);
        assert_eq!(z.upper_bound(2.0, false), 3);
        assert_eq!(z.remove("a"), Some(2.0));
        assert_eq!(z.len(), 3);
        assert_eq!(z.pop(false), Some(("d".into(), 0.0)));
    }

    /// Random adds, score changes, removals, pops and clones against a model (a map from
    /// member to score), with tags that collide often and few distinct scores, so equal
    /// slots happen.
    #[test]
    fn matches_a_model_through_random_changes() {
        for weak in [false, true] {
            crate::probe::WEAK_TAGS.set(weak);
            let mut rng = fastrand::Rng::with_seed(5);
            let mut z = SortedSet::new();
            let mut model = std::collections::BTreeMap::<String, f64>::new();
            let mut old = Vec::new();
            for round in 0..6_000 {
                let m = format!("m{}", rng.u32(0..200));
                let score = rng.u32(0..4) as f64;
                match rng.u8(0..10) {
                    0..=4 => assert_eq!(z.insert(SmolStr::new(&m), score), model.insert(m, score)),
                    5..=6 => assert_eq!(z.remove(&m), model.remove(&m)),
                    7 => {
                        let last = rng.bool();
                        let got = z.pop(last);
                        let want = model.iter().map(|(m, s)| (*s, m.clone())).min_by(|a, b| {
                            let o = cmp((a.0, &a.1), (b.0, &b.1));
                            if last {
                                o.reverse()
                            } else {
                                o
                            }
                        });
                        if let Some((s, m)) = &want {
                            model.remove(m);
                            assert_eq!(got, Some((SmolStr::new(m), *s)));
                        } else {
                            assert_eq!(got, None);
                        }
                    }
                    8 => {
                        let s = score + 10.0 + round as f64;
                        z.push(SmolStr::new(&m), s);
                        model.insert(m, s);
                    }
                    _ => old.push((z.clone(), model.clone())),
                }
                assert_eq!(z.len(), model.len());
                if round % 40 == 0 {
                    let mut want: Vec<(f64, String)> =
                        model.iter().map(|(m, s)| (*s, m.clone())).collect();
                    want.sort_by(|a, b| cmp((a.0, &a.1), (b.0, &b.1)));
                    let got: Vec<(f64, String)> =
                        z.iter().map(|(m, s)| (s, m.to_string())).collect();
                    assert_eq!(got, want);
                    for i in 0..200 {
                        let m = format!("m{i}");
                        assert_eq!(z.score(&m), model.get(&m).copied(), "{m}");
                        if let Some(r) = z.rank(&m) {
                            assert_eq!(z.get(r).map(|(x, _)| x.as_str()), Some(m.as_str()));
                        }
                    }
                }
            }
            // Clones kept their contents through the changes made after them.
            for (z, model) in old {
                let got: Vec<(String, f64)> = z.iter().map(|(m, s)| (m.to_string(), s)).collect();
                let mut want: Vec<(String, f64)> = model.into_iter().collect();
                want.sort_by(|a, b| cmp((a.1, &a.0), (b.1, &b.0)));
                assert_eq!(got, want);
            }
            crate::probe::WEAK_TAGS.set(false);
        }
    }
}
