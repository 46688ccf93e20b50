//! An insertion-ordered dict with O(1) clone.
//!
//! Small dicts (up to [`SMALL`] entries: most records) are one shared array of entries in
//! insertion order: a lookup is a short scan of one allocation, and a change copies the few
//! entries when the array is shared. Larger dicts are two persistent maps: `index` maps a key
//! to its insertion sequence number, `entries` maps the sequence number to the entry, so
//! get/insert/remove are O(log n), iteration walks `entries` in insertion order, and removing
//! a key leaves no tombstone.

use std::sync::Arc;

use crate::{SmolStr, Value};

/// The most entries a dict keeps in its small form.
pub const SMALL: usize = 8;

#[derive(Clone)]
pub struct Dict(Repr);

#[derive(Clone)]
enum Repr {
    Small(Arc<[(SmolStr, Value)]>),
    Large(Box<Large>),
}

#[derive(Clone, Default)]
struct Large {
    index: imbl::HashMap<SmolStr, u64>,
    entries: imbl::OrdMap<u64, (SmolStr, Value)>,
    next: u64,
}

impl Default for Dict {
    fn default() -> Self {
        Dict(Repr::Small(Arc::new([])))
    }
}

impl Large {
    fn insert(&mut self, key: SmolStr, value: Value) -> Option<Value> {
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
            Repr::Large(l) => {
                let seq = l.index.get(key)?;
                l.entries.get(seq).map(|(_, v)| v)
            }
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
                if let Some(i) = e.iter().position(|(k, _)| *k == key) {
                    // Copy on write: the array is shared with every clone of this dict.
                    let mut v = e.to_vec();
                    let old = std::mem::replace(&mut v[i].1, value);
                    *e = v.into();
                    return Some(old);
                }
                if e.len() < SMALL {
                    let mut v = Vec::with_capacity(e.len() + 1);
                    v.extend(e.iter().cloned());
                    v.push((key, value));
                    *e = v.into();
                    return None;
                }
                let mut large = Large::default();
                for (k, v) in e.iter() {
                    large.insert(k.clone(), v.clone());
                }
                large.insert(key, value);
                self.0 = Repr::Large(Box::new(large));
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
            Repr::Large(l) => {
                let seq = l.index.remove(key)?;
                l.entries.remove(&seq).map(|(_, v)| v)
            }
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
            Repr::Large(l) => Iter::Large(l.entries.values()),
        }
    }

    /// Consumes the dict, yielding its entries in insertion order.
    pub fn into_entries(self) -> Box<dyn Iterator<Item = (SmolStr, Value)>> {
        match self.0 {
            Repr::Small(e) => Box::new((0..e.len()).map(move |i| e[i].clone())),
            Repr::Large(l) => Box::new(l.entries.into_iter().map(|(_, entry)| entry)),
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
    Large(imbl::ordmap::Values<'a, u64, (SmolStr, Value), imbl::shared_ptr::DefaultSharedPtr>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a SmolStr, &'a Value);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(i) => i.next().map(|(k, v)| (k, v)),
            Iter::Large(i) => i.next().map(|(k, v)| (k, v)),
        }
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Small(i) => i.next_back().map(|(k, v)| (k, v)),
            Iter::Large(i) => i.next_back().map(|(k, v)| (k, v)),
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
}
