//! A set of scalar values, kept in the total order of [`Value`], in a persistent B-tree with
//! counts ([`crate::btree`]): O(1) clone, O(log n) add, remove, membership and the member at a
//! position (a random member), 24 bytes per member plus the tree's nodes.

use crate::btree::Seq;
use crate::Value;

#[derive(Clone, Default)]
pub struct Set(Seq<Value>);

impl Set {
    pub fn new() -> Set {
        Set::default()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Where `m` is, or would go.
    fn find(&self, m: &Value) -> Result<usize, usize> {
        let at = self.0.partition_point(|x| x < m);
        match self.0.get(at) {
            Some(x) if x == m => Ok(at),
            _ => Err(at),
        }
    }

    pub fn contains(&self, m: &Value) -> bool {
        self.find(m).is_ok()
    }

    /// Adds `m`; the equal member it replaced (`1` for `1.0`), if there was one.
    pub fn insert(&mut self, m: Value) -> Option<Value> {
        if self.0.back().is_none_or(|last| *last < m) {
            self.0.push_back(m);
            return None;
        }
        match self.find(&m) {
            Ok(at) => Some(self.0.set(at, m)),
            Err(at) => {
                self.0.insert(at, m);
                None
            }
        }
    }

    /// Removes the member equal to `m`; it, if it was there.
    pub fn remove(&mut self, m: &Value) -> Option<Value> {
        let at = self.find(m).ok()?;
        Some(self.0.remove(at))
    }

    /// Removes the least member; it, if the set was not empty.
    pub fn remove_min(&mut self) -> Option<Value> {
        self.0.pop_front()
    }

    /// The member at a position of the set's order.
    pub fn get(&self, at: usize) -> Option<&Value> {
        self.0.get(at)
    }

    /// The members at positions `a..b` of the set's order: O(log n) to reach, then O(1) each.
    pub fn range(&self, a: usize, b: usize) -> impl DoubleEndedIterator<Item = &Value> {
        self.0.range(a, b)
    }

    /// Members in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Value> {
        self.0.iter()
    }

    /// Both sets' members: the smaller's added to the larger, so an equal member of the
    /// smaller wins.
    pub fn union(self, other: Set) -> Set {
        let (mut big, small) = if self.len() >= other.len() {
            (self, other)
        } else {
            (other, self)
        };
        for m in small.iter() {
            big.insert(m.clone());
        }
        big
    }
}

impl std::fmt::Debug for Set {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Value> for Set {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        let mut s = Set::new();
        for m in iter {
            s.insert(m);
        }
        s
    }
}

impl Extend<Value> for Set {
    fn extend<I: IntoIterator<Item = Value>>(&mut self, iter: I) {
        for m in iter {
            self.insert(m);
        }
    }
}

impl<'a> IntoIterator for &'a Set {
    type Item = &'a Value;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<&'a [Value]>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Set {
    type Item = Value;
    type IntoIter = std::vec::IntoIter<Value>;

    /// The members in order (O(1) clones of them: the tree may be shared).
    fn into_iter(self) -> Self::IntoIter {
        self.iter().cloned().collect::<Vec<_>>().into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random adds and removals against a `BTreeSet`, with numbers that compare equal across
    /// types (`1` and `1.0`).
    #[test]
    fn matches_a_model() {
        let mut rng = fastrand::Rng::with_seed(9);
        let mut s = Set::new();
        let mut model = std::collections::BTreeSet::new();
        for _ in 0..20_000 {
            let n = rng.i64(0..500);
            let m = if rng.bool() {
                Value::Int(n)
            } else {
                Value::Float(n as f64)
            };
            if rng.u8(0..3) < 2 {
                assert_eq!(s.insert(m.clone()).is_none(), model.replace(m).is_none());
            } else {
                assert_eq!(s.remove(&m).is_some(), model.remove(&m));
            }
            assert_eq!(s.len(), model.len());
        }
        assert!(s.iter().eq(model.iter()));
        for (i, m) in model.iter().enumerate() {
            assert_eq!(s.get(i), Some(m));
            assert!(s.contains(m));
        }
        let other: Set = (400..700).map(Value::Int).collect();
        let both = s.clone().union(other);
        assert_eq!(
            both.len(),
            (0..700)
                .filter(|n| *n >= 400 || model.contains(&Value::Int(*n)))
                .count()
        );
    }
}
