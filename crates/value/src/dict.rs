//! An insertion-ordered dict with O(1) clone and O(log n) get/insert/remove.
//!
//! Two persistent maps: `index` maps a key to its insertion sequence number, `entries` maps the
//! sequence number to the entry. Iteration walks `entries`, so it is in insertion order; removing a
//! key removes its sequence number, so there are no tombstones to skip.

use crate::{SmolStr, Value};

#[derive(Clone, Default)]
pub struct Dict {
    index: imbl::HashMap<SmolStr, u64>,
    entries: imbl::OrdMap<u64, (SmolStr, Value)>,
    next: u64,
}

impl Dict {
    pub fn new() -> Dict {
        Dict::default()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        let seq = self.index.get(key)?;
        self.entries.get(seq).map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    /// Inserts or replaces; a replaced key keeps its position, as in Python.
    pub fn insert(&mut self, key: SmolStr, value: Value) -> Option<Value> {
        if let Some(seq) = self.index.get(&key) {
            let slot = self.entries.get_mut(seq).expect("index and entries agree");
            return Some(std::mem::replace(&mut slot.1, value));
        }
        let seq = self.next;
        self.next += 1;
        self.index.insert(key.clone(), seq);
        self.entries.insert(seq, (key, value));
        None
    }

    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let seq = self.index.remove(key)?;
        self.entries.remove(&seq).map(|(_, v)| v)
    }

    /// Entries sorted by key: the order-independent view equality and ordering use.
    pub fn sorted(&self) -> Vec<(&SmolStr, &Value)> {
        let mut entries: Vec<_> = self.iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
        entries
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&SmolStr, &Value)> + '_ {
        self.entries.values().map(|(k, v)| (k, v))
    }

    /// Consumes the dict, yielding its entries in insertion order.
    pub fn into_entries(self) -> impl Iterator<Item = (SmolStr, Value)> {
        self.entries.into_iter().map(|(_, entry)| entry)
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
}
