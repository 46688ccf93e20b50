//! okdb's list (and the items of a deque): O(log n) index, insert and remove anywhere, O(1)
//! amortized at both ends, O(1) clone.
//!
//! A list is held one of two ways, chosen by what it holds:
//! - **packed** while every item is a scalar that packs (null, a bool, an int, a float, a
//!   string or bytes of at most 512 bytes): items are encoded a byte or so over their own size
//!   in chunks of a B-tree ([`crate::packed`]), which is what a list of a Redis client's strings
//!   costs. Reading an item decodes it into a [`Value`].
//! - **values** once it holds anything else (a dict, a nested list, a long string, …): an RRB
//!   tree of values (`imbl::Vector`), read by reference, which a scan over stored records needs.
//!
//! A packed list becomes a list of values the first time an item that does not pack is put in
//! (O(n), once); it does not go back, though a list built anew (`collect`, a checkpoint load)
//! starts packed. Reads hand out [`Cow`]s: borrowed from a list of values, owned (decoded) from
//! a packed one.
//!
//! A third form, a **pick** ([`List::pick`]), is a list of positions into a list of values:
//! what the language's planned scan answers, read in place; any change first settles it into a
//! list of values of its own.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use crate::packed::{self, Packed};
use crate::Value;

type Values = imbl::Vector<Value>;

/// A list (see the module's documentation).
#[derive(Clone)]
pub struct List(Repr);

#[derive(Clone)]
enum Repr {
    Packed(Packed),
    Values(Values),
    /// The items of `source` at positions `at` (ascending), lent from it: what a scan over a
    /// stored list picked, kept as positions until something needs a list of its own (any
    /// change makes it a list of values).
    Picked {
        source: Values,
        at: Arc<Vec<u32>>,
    },
}

impl Default for List {
    fn default() -> Self {
        List(Repr::Packed(Packed::default()))
    }
}

impl List {
    pub fn new() -> List {
        List::default()
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Packed(p) => p.len(),
            Repr::Values(v) => v.len(),
            Repr::Picked { at, .. } => at.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The heap bytes of a packed list's chunks (with their share of the tree); None for a
    /// list of values.
    pub fn packed_bytes(&self) -> Option<usize> {
        match &self.0 {
            Repr::Packed(p) => Some(p.heap_bytes()),
            Repr::Values(_) | Repr::Picked { .. } => None,
        }
    }

    /// Whether the items are packed (`OBJECT ENCODING` reports it).
    pub fn is_packed(&self) -> bool {
        matches!(self.0, Repr::Packed(_))
    }

    pub fn get(&self, i: usize) -> Option<Cow<'_, Value>> {
        match &self.0 {
            Repr::Packed(p) => p.get(i).map(Cow::Owned),
            Repr::Values(v) => v.get(i).map(Cow::Borrowed),
            Repr::Picked { source, at } => at
                .get(i)
                .and_then(|&p| source.get(p as usize))
                .map(Cow::Borrowed),
        }
    }

    /// The two items of a two-item list (a pair such as `[key, value]`).
    pub fn pair(&self) -> Option<(Cow<'_, Value>, Cow<'_, Value>)> {
        (self.len() == 2).then(|| (self.get(0).unwrap(), self.get(1).unwrap()))
    }

    pub fn front(&self) -> Option<Cow<'_, Value>> {
        self.get(0)
    }

    pub fn back(&self) -> Option<Cow<'_, Value>> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The items in order.
    pub fn iter(&self) -> Iter<'_> {
        self.range(0, self.len())
    }

    /// Items `a..b` (half-open; `b` past the end stops at the end): O(log n) to reach, then
    /// O(1) each.
    pub fn range(&self, a: usize, b: usize) -> Iter<'_> {
        let b = b.min(self.len());
        let a = a.min(b);
        Iter(match &self.0 {
            Repr::Packed(p) => IterRepr::Packed(p.range(a, b)),
            Repr::Values(v) => IterRepr::Values(v.focus().narrow(a..b).into_iter()),
            Repr::Picked { source, at } => IterRepr::Picked(Picks::new(source, &at[a..b])),
        })
    }

    /// The items from the last to the first.
    pub fn iter_rev(&self) -> Box<dyn Iterator<Item = Cow<'_, Value>> + '_> {
        match &self.0 {
            Repr::Packed(p) => Box::new(
                p.chunks(true)
                    .flat_map(|c| c.into_iter().rev())
                    .map(Cow::Owned),
            ),
            Repr::Values(v) => Box::new(v.iter().rev().map(Cow::Borrowed)),
            Repr::Picked { source, at } => Box::new(
                at.iter()
                    .rev()
                    .filter_map(|&p| source.get(p as usize))
                    .map(Cow::Borrowed),
            ),
        }
    }

    /// Calls `f` with each item in order, stopping at its first error (for folds: faster than
    /// an iterator over a packed list).
    pub fn try_for_each<E>(&self, f: impl FnMut(&Value) -> Result<(), E>) -> Result<(), E> {
        match &self.0 {
            Repr::Packed(p) => p.try_for_each(f),
            Repr::Values(v) => v.iter().try_for_each(f),
            Repr::Picked { source, at } => Picks::new(source, at).try_for_each(f),
        }
    }

    /// Positions of the items equal to `x` (as `==` has it), in order, or from the end when
    /// `rev`; a packed list compares strings without decoding its items.
    pub fn positions_of<'a>(
        &'a self,
        x: &'a Value,
        rev: bool,
    ) -> Box<dyn Iterator<Item = usize> + 'a> {
        match &self.0 {
            Repr::Packed(p) => p.positions_of(x, rev),
            _ if rev => {
                let n = self.len();
                Box::new(
                    self.iter_rev()
                        .enumerate()
                        .filter(move |(_, i)| **i == *x)
                        .map(move |(k, _)| n - 1 - k),
                )
            }
            _ => Box::new(
                self.iter()
                    .enumerate()
                    .filter(move |(_, i)| **i == *x)
                    .map(|(k, _)| k),
            ),
        }
    }

    /// Keeps the items `keep` is true for, in order.
    ///
    /// Built anew in one pass. (`imbl::Vector::retain`, which swaps items through a
    /// `FocusMut`, crashed with SIGSEGV in this module's tests on a vector shaped by pushes at
    /// both ends, inserts, splits and appends.)
    pub fn retain(&mut self, mut keep: impl FnMut(&Value) -> bool) {
        *self = self.values().filter(|x| keep(x)).collect();
    }

    /// Items `a..b` as a reply writes them: a packed string's or bytes' own bytes, lent from
    /// its chunk; any other item as [`List::range`] gives it.
    pub fn raw_range(&self, a: usize, b: usize) -> RawIter<'_> {
        let b = b.min(self.len());
        let a = a.min(b);
        RawIter(match &self.0 {
            Repr::Packed(p) => RawRepr::Packed(p.raw_range(a, b)),
            Repr::Values(v) => RawRepr::Values(v.focus().narrow(a..b).into_iter()),
            Repr::Picked { source, at } => RawRepr::Picked(Picks::new(source, &at[a..b])),
        })
    }

    /// The items in order, owned (a clone of each, or a decoded copy).
    pub fn values(&self) -> impl Iterator<Item = Value> + '_ {
        self.iter().map(Cow::into_owned)
    }

    /// The items as runs of contiguous values: a list of values lends its own leaves; a packed
    /// list decodes a chunk at a time.
    pub fn leaves(&self) -> Box<dyn Iterator<Item = Cow<'_, [Value]>> + '_> {
        match &self.0 {
            Repr::Packed(p) => Box::new(p.chunks(false).map(Cow::Owned)),
            Repr::Values(v) => Box::new(v.leaves().map(Cow::Borrowed)),
            Repr::Picked { .. } => Box::new(std::iter::once(Cow::Owned(self.values().collect()))),
        }
    }

    /// The items of a list of values or of a pick, by reference; none for a packed list
    /// (whose items are decoded, so cannot be lent).
    pub(crate) fn items_ref(&self) -> impl Iterator<Item = &Value> + '_ {
        let (values, picked) = match &self.0 {
            Repr::Values(v) => (Some(v.iter()), None),
            Repr::Picked { source, at } => (None, Some(Picks::new(source, at))),
            Repr::Packed(_) => (None, None),
        };
        values
            .into_iter()
            .flatten()
            .chain(picked.into_iter().flatten())
    }

    /// An owned walk over the items: it holds its own reference to the list's structure, so
    /// the list may change meanwhile (the walk sees the items as they were).
    pub fn cursor(&self) -> Cursor {
        Cursor(match &self.0 {
            Repr::Packed(p) => CursorRepr::Packed(packed::Cursor::new(p)),
            Repr::Values(v) => CursorRepr::Values {
                list: v.clone(),
                i: 0,
                leaf: Vec::new().into_iter(),
            },
            Repr::Picked { source, at } => CursorRepr::Picked {
                source: source.clone(),
                at: at.clone(),
                i: 0,
            },
        })
    }

    /// A list of the items at positions `at` (ascending, each less than `len`) of this one:
    /// positions into a list of values (lent from it, O(1) each), copies of a packed list's.
    pub fn pick(&self, at: Vec<u32>) -> List {
        match &self.0 {
            Repr::Values(v) => List(Repr::Picked {
                source: v.clone(),
                at: Arc::new(at),
            }),
            _ => at
                .iter()
                .filter_map(|&p| self.get(p as usize))
                .map(Cow::into_owned)
                .collect(),
        }
    }

    /// Whether this is a pick of another list's items ([`List::pick`]).
    pub fn is_picked(&self) -> bool {
        matches!(self.0, Repr::Picked { .. })
    }

    /// A picked list as a list of values of its own (before any change; a value leaving a
    /// script is settled so that it does not hold the list it was picked from).
    pub fn settle(&mut self) {
        if let Repr::Picked { source, at } = &self.0 {
            self.0 = Repr::Values(Picks::new(source, at).cloned().collect());
        }
    }

    /// The list of values this packed list becomes when an item that does not pack goes in.
    fn unpacked(&mut self) -> &mut Values {
        self.settle();
        if let Repr::Packed(p) = &self.0 {
            self.0 = Repr::Values(p.range(0, p.len()).collect());
        }
        match &mut self.0 {
            Repr::Values(v) => v,
            _ => unreachable!("unpacked above"),
        }
    }

    /// Inserts `v` before position `i` (at most `len`).
    pub fn insert(&mut self, i: usize, v: Value) {
        if let Repr::Packed(p) = &mut self.0 {
            if let Some(e) = packed::encode(&v) {
                return p.insert(i, e);
            }
        }
        self.unpacked().insert(i, v)
    }

    pub fn push_back(&mut self, v: Value) {
        self.settle();
        match &mut self.0 {
            Repr::Values(x) => x.push_back(v),
            Repr::Packed(p) => {
                let n = p.len();
                self.insert(n, v)
            }
            Repr::Picked { .. } => unreachable!("settled"),
        }
    }

    pub fn push_front(&mut self, v: Value) {
        self.settle();
        match &mut self.0 {
            Repr::Values(x) => x.push_front(v),
            _ => self.insert(0, v),
        }
    }

    pub fn remove(&mut self, i: usize) -> Value {
        self.settle();
        match &mut self.0 {
            Repr::Packed(p) => p.remove(i),
            Repr::Values(v) => v.remove(i),
            Repr::Picked { .. } => unreachable!("settled"),
        }
    }

    pub fn pop_back(&mut self) -> Option<Value> {
        self.settle();
        match &mut self.0 {
            Repr::Packed(p) => p.len().checked_sub(1).map(|i| p.remove(i)),
            Repr::Values(v) => v.pop_back(),
            Repr::Picked { .. } => unreachable!("settled"),
        }
    }

    pub fn pop_front(&mut self) -> Option<Value> {
        self.settle();
        match &mut self.0 {
            Repr::Packed(p) => (p.len() > 0).then(|| p.remove(0)),
            Repr::Values(v) => v.pop_front(),
            Repr::Picked { .. } => unreachable!("settled"),
        }
    }

    /// Replaces the item at `i` (less than `len`); the old one.
    pub fn set(&mut self, i: usize, v: Value) -> Value {
        self.settle();
        match &mut self.0 {
            Repr::Values(x) => x.set(i, v),
            Repr::Packed(p) => {
                let old = p.remove(i);
                self.insert(i, v);
                old
            }
            Repr::Picked { .. } => unreachable!("settled"),
        }
    }

    /// A new list of items `a..b` (clamped to the list).
    pub fn slice(&self, a: usize, b: usize) -> List {
        match &self.0 {
            Repr::Values(v) => {
                let b = b.min(v.len());
                List(Repr::Values(v.clone().slice(a.min(b)..b)))
            }
            Repr::Packed(_) | Repr::Picked { .. } => self.values_range(a, b),
        }
    }

    fn values_range(&self, a: usize, b: usize) -> List {
        let mut out = List::new();
        for v in self.range(a, b) {
            out.push_back(v.into_owned());
        }
        out
    }

    /// Removes items `a..b` (clamped to the list): O(log n) for a list of values; for a packed
    /// one, a removal per item when they are fewer than the items kept, else the kept ones
    /// rebuilt, so it costs O(min(removed, kept)) item moves (Redis's `LTRIM` capping a list
    /// pays for the few items it drops, not for the list).
    pub fn remove_range(&mut self, a: usize, b: usize) {
        let n = self.len();
        let b = b.min(n);
        let a = a.min(b);
        if a == b {
            return;
        }
        self.settle();
        match &mut self.0 {
            Repr::Values(v) => {
                let mut tail = v.split_off(a);
                v.append(tail.split_off(b - a));
            }
            Repr::Packed(p) if b - a <= n - (b - a) => {
                for _ in a..b {
                    p.remove(a);
                }
            }
            Repr::Packed(_) => {
                let kept = self.range(0, a).chain(self.range(b, n));
                *self = kept.map(Cow::into_owned).collect();
            }
            Repr::Picked { .. } => unreachable!("settled"),
        }
    }

    /// Removes the items at positions `at` (ascending, distinct): a removal each when they
    /// are few, one pass keeping the rest when they are many.
    pub fn remove_positions(&mut self, at: &[usize]) {
        if at.len() > 64 && at.len() > self.len() / 16 {
            let mut next = at.iter().peekable();
            let mut i = 0;
            self.retain(|_| {
                let gone = next.next_if_eq(&&i).is_some();
                i += 1;
                !gone
            });
        } else {
            for &k in at.iter().rev() {
                self.remove(k);
            }
        }
    }

    /// Keeps only items `a..b` (clamped to the list), as [`List::remove_range`] of the rest.
    pub fn keep_range(&mut self, a: usize, b: usize) {
        let b = b.min(self.len());
        self.remove_range(b, self.len());
        self.remove_range(0, a);
    }

    /// Splits off items `at..` into a new list.
    pub fn split_off(&mut self, at: usize) -> List {
        self.settle();
        match &mut self.0 {
            Repr::Values(v) => List(Repr::Values(v.split_off(at))),
            _ => {
                let right = self.values_range(at, self.len());
                self.truncate(at);
                right
            }
        }
    }

    /// Keeps the first `n` items.
    pub fn truncate(&mut self, n: usize) {
        self.remove_range(n, self.len());
    }

    pub fn clear(&mut self) {
        *self = List::new();
    }

    /// Moves every item of `other` onto the end.
    pub fn append(&mut self, other: List) {
        self.settle();
        match (&mut self.0, other.0) {
            (Repr::Values(a), Repr::Values(b)) => a.append(b),
            (_, b) => self.extend(List(b)),
        }
    }
}

/// Items of a list, in order: borrowed from a list of values, decoded from a packed one.
pub struct Iter<'a>(IterRepr<'a>);

enum IterRepr<'a> {
    Packed(packed::Iter<'a>),
    Values(imbl::vector::Iter<'a, Value, imbl::shared_ptr::DefaultSharedPtr>),
    Picked(Picks<'a>),
}

/// The items of a list of values at ascending positions, found by walking its leaves.
struct Picks<'a> {
    leaves: imbl::vector::Chunks<'a, Value, imbl::shared_ptr::DefaultSharedPtr>,
    leaf: &'a [Value],
    /// The position of `leaf[0]`.
    base: usize,
    at: std::slice::Iter<'a, u32>,
}

impl<'a> Picks<'a> {
    fn new(source: &'a Values, at: &'a [u32]) -> Picks<'a> {
        Picks {
            leaves: source.leaves(),
            leaf: &[],
            base: 0,
            at: at.iter(),
        }
    }
}

impl<'a> Iterator for Picks<'a> {
    type Item = &'a Value;

    #[inline]
    fn next(&mut self) -> Option<&'a Value> {
        let p = *self.at.next()? as usize;
        while p >= self.base + self.leaf.len() {
            self.base += self.leaf.len();
            self.leaf = self.leaves.next()?;
        }
        Some(&self.leaf[p - self.base])
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Cow<'a, Value>;

    #[inline]
    fn next(&mut self) -> Option<Cow<'a, Value>> {
        match &mut self.0 {
            IterRepr::Packed(p) => p.next().map(Cow::Owned),
            IterRepr::Values(v) => v.next().map(Cow::Borrowed),
            IterRepr::Picked(v) => v.next().map(Cow::Borrowed),
        }
    }
}

/// A list's item as a reply writes it ([`List::raw_range`]).
#[derive(Debug)]
pub enum Raw<'a> {
    /// A string's or bytes' own bytes.
    Text(&'a [u8]),
    Item(Cow<'a, Value>),
}

/// Items of a list as [`Raw`]s.
pub struct RawIter<'a>(RawRepr<'a>);

enum RawRepr<'a> {
    Packed(packed::RawIter<'a>),
    Values(imbl::vector::Iter<'a, Value, imbl::shared_ptr::DefaultSharedPtr>),
    Picked(Picks<'a>),
}

impl<'a> Iterator for RawIter<'a> {
    type Item = Raw<'a>;

    #[inline]
    fn next(&mut self) -> Option<Raw<'a>> {
        match &mut self.0 {
            RawRepr::Packed(p) => p.next().map(|r| match r {
                packed::Raw::Text(t) => Raw::Text(t),
                packed::Raw::Value(v) => Raw::Item(Cow::Owned(v)),
            }),
            RawRepr::Values(v) => v.next().map(|x| Raw::Item(Cow::Borrowed(x))),
            RawRepr::Picked(v) => v.next().map(|x| Raw::Item(Cow::Borrowed(x))),
        }
    }
}

impl fmt::Debug for RawIter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("list::RawIter").finish_non_exhaustive()
    }
}

/// An owned walk over a list's items ([`List::cursor`]).
pub struct Cursor(CursorRepr);

enum CursorRepr {
    Packed(packed::Cursor),
    Values {
        list: Values,
        i: usize,
        /// The rest of the leaf `i` is in, taken a leaf at a time (one tree walk a leaf, not
        /// one an item).
        leaf: std::vec::IntoIter<Value>,
    },
    Picked {
        source: Values,
        at: Arc<Vec<u32>>,
        i: usize,
    },
}

impl Iterator for Cursor {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        match &mut self.0 {
            CursorRepr::Packed(p) => p.next(),
            CursorRepr::Values { list, i, leaf } => {
                if leaf.len() == 0 {
                    if *i >= list.len() {
                        return None;
                    }
                    let mut focus = list.focus();
                    let (range, chunk) = focus.chunk_at(*i);
                    let rest: Vec<Value> = chunk[*i - range.start..].to_vec();
                    *leaf = rest.into_iter();
                }
                *i += 1;
                leaf.next()
            }
            CursorRepr::Picked { source, at, i } => {
                let v = at.get(*i).and_then(|&p| source.get(p as usize)).cloned();
                *i += 1;
                v
            }
        }
    }
}

impl<'a> IntoIterator for &'a List {
    type Item = Cow<'a, Value>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The items, moved out of a list of values when nothing else holds them.
pub struct IntoIter(IntoIterRepr);

enum IntoIterRepr {
    Packed(packed::Cursor),
    Values(imbl::vector::ConsumingIter<Value, imbl::shared_ptr::DefaultSharedPtr>),
}

impl Iterator for IntoIter {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        match &mut self.0 {
            IntoIterRepr::Packed(p) => p.next(),
            IntoIterRepr::Values(v) => v.next(),
        }
    }
}

impl IntoIterator for List {
    type Item = Value;
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter(match self.0 {
            Repr::Packed(p) => IntoIterRepr::Packed(packed::Cursor::new(&p)),
            Repr::Values(v) => IntoIterRepr::Values(v.into_iter()),
            Repr::Picked { .. } => {
                let mut l = List(self.0);
                l.settle();
                return l.into_iter();
            }
        })
    }
}

impl FromIterator<Value> for List {
    fn from_iter<I: IntoIterator<Item = Value>>(items: I) -> List {
        let mut l = List::new();
        l.extend(items);
        l
    }
}

impl Extend<Value> for List {
    fn extend<I: IntoIterator<Item = Value>>(&mut self, items: I) {
        for v in items {
            self.push_back(v);
        }
    }
}

impl fmt::Debug for Iter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("list::Iter").finish_non_exhaustive()
    }
}

impl fmt::Debug for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("list::Cursor").finish_non_exhaustive()
    }
}

impl fmt::Debug for IntoIter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("list::IntoIter").finish_non_exhaustive()
    }
}

impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for List {
    fn eq(&self, other: &List) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for List {}

impl PartialOrd for List {
    fn partial_cmp(&self, other: &List) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for List {
    fn cmp(&self, other: &List) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_packs_until_an_item_does_not() {
        let mut l: List = (0..1000).map(|i| Value::str(&format!("v{i}"))).collect();
        assert!(l.is_packed());
        l.insert(500, Value::Int(7));
        assert!(l.is_packed());
        let copy = l.clone();
        l.insert(10, Value::list([Value::Int(1)]));
        assert!(!l.is_packed());
        assert_eq!(l.len(), 1002);
        assert_eq!(l.get(10).as_deref(), Some(&Value::list([Value::Int(1)])));
        assert_eq!(l.get(501).as_deref(), Some(&Value::Int(7)));
        assert_eq!(l.remove(10), Value::list([Value::Int(1)]));
        // Equal whatever the form.
        assert_eq!(l, copy);
        assert!(copy.is_packed());
        let long = Value::str(&"x".repeat(packed::PACK_MAX + 1));
        let l: List = [Value::Int(1), long.clone()].into_iter().collect();
        assert!(!l.is_packed());
        assert_eq!(l.back().as_deref(), Some(&long));
    }

    /// A pick reads as the items it picked, through every reading method, and becomes a list
    /// of its own on a change, leaving its source as it was.
    #[test]
    fn a_pick_reads_as_its_items() {
        let source: List = (0..1000)
            .map(|i| {
                if i % 3 == 0 {
                    Value::list([Value::Int(i)])
                } else {
                    Value::Int(i)
                }
            })
            .collect();
        assert!(!source.is_packed());
        let at: Vec<u32> = (0..1000).filter(|i| i % 7 == 0 || i % 11 == 0).collect();
        let model: Vec<Value> = at
            .iter()
            .map(|&p| source.get(p as usize).unwrap().into_owned())
            .collect();
        let mut l = source.pick(at);
        assert!(l.is_picked());
        assert_eq!(l.len(), model.len());
        assert!(l.values().eq(model.iter().cloned()));
        assert!(l
            .iter_rev()
            .map(Cow::into_owned)
            .eq(model.iter().rev().cloned()));
        assert!(l
            .range(5, 40)
            .map(Cow::into_owned)
            .eq(model[5..40].iter().cloned()));
        assert!(l.cursor().eq(model.iter().cloned()));
        assert!(l.clone().into_iter().eq(model.iter().cloned()));
        assert!(l
            .leaves()
            .flat_map(|c| c.into_owned())
            .eq(model.iter().cloned()));
        assert!(l.slice(3, 9).values().eq(model[3..9].iter().cloned()));
        assert_eq!(l.get(17).as_deref(), Some(&model[17]));
        let x = Value::Int(77);
        let want: Vec<usize> = model
            .iter()
            .enumerate()
            .filter(|(_, v)| **v == x)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(l.positions_of(&x, false).collect::<Vec<_>>(), want);
        let mut n = 0;
        l.try_for_each(|_| -> Result<(), ()> {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, model.len());
        assert_eq!(l, model.iter().cloned().collect::<List>());
        let mut m = model.clone();
        l.push_back(Value::Null);
        m.push(Value::Null);
        assert!(!l.is_picked());
        assert!(l.values().eq(m.into_iter()));
        assert_eq!(source.len(), 1000);
        // A pick of a packed list copies its items.
        let packed: List = (0..10).map(Value::Int).collect();
        let p = packed.pick(vec![1, 3]);
        assert!(p.is_packed() && p.values().eq([Value::Int(1), Value::Int(3)]));
    }

    /// Every operation against a `Vec`, for both forms.
    #[test]
    fn both_forms_match_a_vector() {
        let mut rng = fastrand::Rng::with_seed(11);
        for unpack in [false, true] {
            let mut l = List::new();
            let mut model: Vec<Value> = Vec::new();
            if unpack {
                l.push_back(Value::list([]));
                model.push(Value::list([]));
            }
            for round in 0..6_000i64 {
                let v = if rng.bool() {
                    Value::Int(round)
                } else {
                    Value::str(&format!("s{round}"))
                };
                match rng.u8(0..12) {
                    0..=2 => {
                        l.push_back(v.clone());
                        model.push(v);
                    }
                    3 => {
                        l.push_front(v.clone());
                        model.insert(0, v);
                    }
                    4 | 5 => {
                        let i = rng.usize(0..=model.len());
                        l.insert(i, v.clone());
                        model.insert(i, v);
                    }
                    6 => assert_eq!(l.pop_back(), model.pop()),
                    7 => assert_eq!(l.pop_front(), (!model.is_empty()).then(|| model.remove(0))),
                    8 if !model.is_empty() => {
                        let i = rng.usize(0..model.len());
                        assert_eq!(l.set(i, v.clone()), std::mem::replace(&mut model[i], v));
                    }
                    9 if !model.is_empty() => {
                        let i = rng.usize(0..model.len());
                        assert_eq!(l.remove(i), model.remove(i));
                    }
                    10 => {
                        let (a, b) = (rng.usize(0..=model.len()), rng.usize(0..=model.len()));
                        let (a, b) = (a.min(b), a.max(b));
                        assert!(l.slice(a, b).values().eq(model[a..b].iter().cloned()));
                        assert!(l.range(a, b).map(Cow::into_owned).eq(model[a..b].to_vec()));
                    }
                    _ => {
                        if model.len() > 50 {
                            let at = rng.usize(0..model.len());
                            let right = l.split_off(at);
                            let mright = model.split_off(at);
                            assert!(right.values().eq(mright.iter().cloned()));
                            l.append(right);
                            model.extend(mright);
                        }
                    }
                }
                assert_eq!(l.len(), model.len());
                assert_eq!(l.is_packed(), !unpack);
            }
            assert!(l.values().eq(model.iter().cloned()));
            assert!(l.cursor().eq(model.iter().cloned()));
            // A reply's view: strings as their bytes, the rest as values.
            let raw: Vec<Value> = l
                .raw_range(0, l.len())
                .map(|r| match r {
                    Raw::Text(t) => Value::str(std::str::from_utf8(t).unwrap()),
                    Raw::Item(v) => v.into_owned(),
                })
                .collect();
            assert_eq!(raw, model);
            assert!(l
                .leaves()
                .flat_map(|c| c.into_owned())
                .eq(model.iter().cloned()));
            assert!(l.clone().into_iter().eq(model.iter().cloned()));
            for (a, b) in [
                (0, model.len()),
                (3, model.len() - 2),
                (model.len() / 2, model.len()),
            ] {
                let mut k = l.clone();
                k.keep_range(a, b);
                assert!(k.values().eq(model[a..b].iter().cloned()));
                let mut r = l.clone();
                r.remove_range(a, b);
                let mut m = model.clone();
                m.drain(a..b);
                assert!(r.values().eq(m.iter().cloned()));
            }
            // Scattered removals, few (one by one) and many (one pass).
            for step in [97, 3] {
                let at: Vec<usize> = (0..model.len()).step_by(step).collect();
                let mut r = l.clone();
                r.remove_positions(&at);
                let kept = model.iter().enumerate().filter(|(i, _)| i % step != 0);
                assert!(r.values().eq(kept.map(|(_, v)| v.clone())));
            }
            l.truncate(10);
            model.truncate(10);
            assert!(l.values().eq(model.into_iter()));
        }
    }
}
