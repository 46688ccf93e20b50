//! A sorted set: string members, each with a float score, ordered by (score, member).
//!
//! Two persistent structures, so clone is O(1): a hash map from member to score, and a vector
//! (an RRB tree) of `(score, member)` in order. Finding a member's place is a binary search
//! over the vector (O(log n) probes of O(log n) each); inserting or removing there is O(log n);
//! rank, score and range by rank or by score follow. Scores are never NaN; `-0.0` equals `0.0`;
//! members with equal scores order by their bytes, as Redis orders them.

use std::cmp::Ordering;

use crate::SmolStr;

#[derive(Clone, Default)]
pub struct SortedSet {
    scores: imbl::HashMap<SmolStr, f64>,
    order: imbl::Vector<(f64, SmolStr)>,
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
        self.scores.get(member).copied()
    }

    fn find(&self, score: f64, member: &str) -> Result<usize, usize> {
        self.order
            .binary_search_by(|(s, m)| cmp((*s, m.as_str()), (score, member)))
    }

    /// Adds a member or changes its score; its old score, if it had one. A NaN score is a bug
    /// of the caller (the operations layer refuses one first).
    pub fn insert(&mut self, member: SmolStr, score: f64) -> Option<f64> {
        assert!(!score.is_nan(), "a sorted set's score is never NaN");
        let score = if score == 0.0 { 0.0 } else { score };
        let old = self.scores.get(&member).copied();
        if let Some(old) = old {
            if old == score {
                return Some(old);
            }
            let at = self.find(old, &member).expect("order and scores agree");
            self.order.remove(at);
        }
        let at = self
            .find(score, &member)
            .expect_err("the member was removed");
        self.order.insert(at, (score, member.clone()));
        self.scores.insert(member, score);
        old
    }

    /// Adds a member known to be new; O(1) when it sorts after every member (as when a set is
    /// rebuilt in order), else an ordinary insert.
    pub fn push(&mut self, member: SmolStr, score: f64) {
        let after_last = self
            .order
            .back()
            .is_none_or(|(s, m)| cmp((*s, m), (score, &member)) == Ordering::Less);
        if after_last && !score.is_nan() && !self.scores.contains_key(&member) {
            let score = if score == 0.0 { 0.0 } else { score };
            self.order.push_back((score, member.clone()));
            self.scores.insert(member, score);
        } else {
            self.insert(member, score);
        }
    }

    /// Removes a member; its score, if it was there.
    pub fn remove(&mut self, member: &str) -> Option<f64> {
        let score = self.scores.remove(member)?;
        let at = self.find(score, member).expect("order and scores agree");
        self.order.remove(at);
        Some(score)
    }

    /// A member's position in (score, member) order.
    pub fn rank(&self, member: &str) -> Option<usize> {
        let score = self.score(member)?;
        self.find(score, member).ok()
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
        let (mut lo, mut hi) = (0, self.order.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if before(self.order[mid].0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Members and scores from position `a` to `b` (half-open), in order (O(log n) to find,
    /// then O(1) each).
    pub fn range(&self, a: usize, b: usize) -> Vec<(SmolStr, f64)> {
        let b = b.min(self.order.len());
        let a = a.min(b);
        self.order
            .clone()
            .slice(a..b)
            .into_iter()
            .map(|(s, m)| (m, s))
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
        self.scores.remove(&member);
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
}
