//! `deque` and `pqueue`: the queue types.
//!
//! A [`Deque`] is a sequence taken from and added to at both ends in O(1), optionally bounded
//! (`maxlen`: a push past it drops an item from the other end, as Python's `deque` does). A
//! [`PQueue`] hands out its lowest-priority item first, first in first out among equal
//! priorities. Both are persistent (O(1) clone).

use crate::{List, Value};

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Deque {
    pub items: List,
    /// The most items it holds; a push past it drops one from the other end.
    pub maxlen: Option<usize>,
}

impl Deque {
    pub fn new(items: List, maxlen: Option<usize>) -> Deque {
        let mut d = Deque { items, maxlen };
        d.trim_front();
        d
    }

    /// Drops items from the front until it fits its bound (after a push at the back).
    pub fn trim_front(&mut self) {
        if let Some(max) = self.maxlen {
            while self.items.len() > max {
                self.items.pop_front();
            }
        }
    }

    /// Drops items from the back until it fits its bound (after a push at the front).
    pub fn trim_back(&mut self) {
        if let Some(max) = self.maxlen {
            while self.items.len() > max {
                self.items.pop_back();
            }
        }
    }
}

/// A priority queue: items ordered by (priority, arrival).
#[derive(Clone, Default)]
pub struct PQueue {
    entries: imbl::OrdMap<(Value, u64), Value>,
    next: u64,
}

impl PQueue {
    pub fn new() -> PQueue {
        PQueue::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an item with a priority (a scalar: numbers, strings, …, ordered as values are).
    pub fn push(&mut self, priority: Value, item: Value) {
        let seq = self.next;
        self.next += 1;
        self.entries.insert((priority, seq), item);
    }

    /// Removes the item with the lowest priority (the earliest of equals): (priority, item).
    pub fn pop(&mut self) -> Option<(Value, Value)> {
        let ((priority, seq), _) = self.entries.get_min()?.clone();
        let item = self.entries.remove(&(priority.clone(), seq))?;
        Some((priority, item))
    }

    /// The next item `pop` would take, without taking it.
    pub fn peek(&self) -> Option<(&Value, &Value)> {
        self.entries.get_min().map(|((p, _), item)| (p, item))
    }

    /// (priority, item) in the order `pop` hands them out.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Value, &Value)> {
        self.entries.iter().map(|((p, _), item)| (p, item))
    }
}

impl std::fmt::Debug for PQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<(Value, Value)> for PQueue {
    fn from_iter<I: IntoIterator<Item = (Value, Value)>>(iter: I) -> Self {
        let mut q = PQueue::new();
        for (p, item) in iter {
            q.push(p, item);
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowest_priority_first_and_fifo_among_equals() {
        let mut q = PQueue::new();
        for (p, x) in [(2, "b1"), (1, "a"), (2, "b2"), (0, "z")] {
            q.push(Value::Int(p), Value::str(x));
        }
        let order: Vec<Value> = std::iter::from_fn(|| q.pop().map(|(_, x)| x)).collect();
        assert_eq!(order, ["z", "a", "b1", "b2"].map(Value::str));
    }

    #[test]
    fn a_bounded_deque_drops_from_the_other_end() {
        let mut d = Deque::new((0..5).map(Value::Int).collect(), Some(3));
        assert_eq!(d.items.len(), 3);
        assert_eq!(d.items.front().as_deref(), Some(&Value::Int(2)));
        d.items.push_front(Value::Int(9));
        d.trim_back();
        assert_eq!(
            d.items.values().collect::<Vec<_>>(),
            [9, 2, 3].map(Value::Int)
        );
    }
}
