//! A persistent sequence as a B-tree with counts: the members of a set, and the order of a
//! sorted set.
//!
//! Nodes are shared (`Arc`) and copied on write, so a clone is O(1) and a change copies one
//! path. Each branch knows how many items each child holds, so indexing, inserting and removing
//! at a position are O(log n) with a small constant (a node holds up to [`MAX`] items or
//! children), and a search over a sorted sequence ([`Seq::partition_point`]) is one descent
//! (branches keep a copy of each child's first item to compare with).
//! `imbl::Vector` does the same in theory, but inserts in the middle by splitting and joining
//! whole trees, which costs tens of microseconds at a million items.
//!
//! A node that fills up splits in two halves, or keeps all but the newest item when it grew at
//! its end (so a sequence built in order has full nodes); a node that falls below a quarter
//! merges with a neighbour when both fit in one; an empty one goes.

use std::sync::Arc;

/// Items per leaf and children per branch at most: a leaf has room for 64 (one over, before it
/// splits), and 64 places of a set's 24-byte value or a sorted set's 32-byte pair fill one
/// allocation size class exactly.
const MAX: usize = 63;
const MIN_FILL: usize = MAX / 4;

#[derive(Clone)]
enum Node<T> {
    Leaf(Vec<T>),
    Branch(Branch<T>),
}

#[derive(Clone)]
struct Branch<T> {
    children: Vec<Arc<Node<T>>>,
    /// Items under each child.
    sizes: Vec<usize>,
    /// Each child's first item (a copy), so a search compares within the branch.
    firsts: Vec<T>,
    len: usize,
}

impl<T> Node<T> {
    fn len(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Branch(b) => b.len,
        }
    }

    /// Items of a leaf, children of a branch.
    fn fill(&self) -> usize {
        match self {
            Node::Leaf(v) => v.len(),
            Node::Branch(b) => b.children.len(),
        }
    }

    fn first(&self) -> &T {
        match self {
            Node::Leaf(v) => &v[0],
            Node::Branch(b) => &b.firsts[0],
        }
    }
}

impl<T> Branch<T> {
    fn locate(&self, i: usize) -> (usize, usize) {
        locate(&self.sizes, i)
    }
}

/// In a branch whose children hold `sizes` items, the child holding position `i` and the
/// position within it; `i == len` goes to the end of the last child. (`packed.rs`'s tree
/// counts the same way.)
pub(crate) fn locate(sizes: &[usize], mut i: usize) -> (usize, usize) {
    let last = sizes.len() - 1;
    for (c, &n) in sizes.iter().enumerate() {
        if i < n || c == last {
            return (c, i);
        }
        i -= n;
    }
    unreachable!("a branch has children")
}

#[derive(Clone)]
pub(crate) struct Seq<T> {
    root: Arc<Node<T>>,
}

impl<T> Default for Seq<T> {
    fn default() -> Self {
        Seq {
            root: Arc::new(Node::Leaf(Vec::new())),
        }
    }
}

impl<T: Clone> Seq<T> {
    pub fn len(&self) -> usize {
        self.root.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, mut i: usize) -> Option<&T> {
        if i >= self.len() {
            return None;
        }
        let mut node = &*self.root;
        loop {
            match node {
                Node::Leaf(v) => return v.get(i),
                Node::Branch(b) => {
                    let (c, at) = b.locate(i);
                    node = &b.children[c];
                    i = at;
                }
            }
        }
    }

    pub fn back(&self) -> Option<&T> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The first position whose item `before` is false for, when it is true for a prefix (a
    /// sorted sequence); one descent, testing each branch's children by their first item.
    pub fn partition_point(&self, before: impl Fn(&T) -> bool) -> usize {
        let mut node = &*self.root;
        let mut base = 0;
        loop {
            match node {
                Node::Leaf(v) => return base + v.partition_point(&before),
                Node::Branch(b) => {
                    // Children whose first item is before: the point is in the last of them
                    // (or at the start of the next, which that child's end also answers).
                    let n = b.firsts.partition_point(&before);
                    let c = n.saturating_sub(1);
                    base += b.sizes[..c].iter().sum::<usize>();
                    node = &b.children[c];
                }
            }
        }
    }

    pub fn insert(&mut self, i: usize, item: T) {
        assert!(i <= self.len(), "insert at {i} of {}", self.len());
        if let Some(right) = insert_at(Arc::make_mut(&mut self.root), i, item) {
            let left = std::mem::take(self).root;
            let sizes = vec![left.len(), right.len()];
            self.root = Arc::new(Node::Branch(Branch {
                len: sizes[0] + sizes[1],
                firsts: vec![left.first().clone(), right.first().clone()],
                children: vec![left, right],
                sizes,
            }));
        }
    }

    /// Replaces the item at `i`; the old one.
    pub fn set(&mut self, mut i: usize, item: T) -> T {
        assert!(i < self.len(), "set at {i} of {}", self.len());
        let mut node = Arc::make_mut(&mut self.root);
        loop {
            match node {
                Node::Leaf(v) => return std::mem::replace(&mut v[i], item),
                Node::Branch(b) => {
                    let (c, at) = b.locate(i);
                    if at == 0 {
                        b.firsts[c] = item.clone();
                    }
                    node = Arc::make_mut(&mut b.children[c]);
                    i = at;
                }
            }
        }
    }

    pub fn push_back(&mut self, item: T) {
        self.insert(self.len(), item);
    }

    pub fn remove(&mut self, i: usize) -> T {
        assert!(i < self.len(), "remove at {i} of {}", self.len());
        let item = remove_at(Arc::make_mut(&mut self.root), i);
        // A root branch left with one child gives way to it.
        loop {
            let only = match &*self.root {
                Node::Branch(b) if b.children.len() == 1 => b.children[0].clone(),
                _ => break,
            };
            self.root = only;
        }
        item
    }

    pub fn pop_front(&mut self) -> Option<T> {
        (!self.is_empty()).then(|| self.remove(0))
    }

    pub fn pop_back(&mut self) -> Option<T> {
        (!self.is_empty()).then(|| self.remove(self.len() - 1))
    }

    /// The items from position `a` to `b` (half-open), in order: O(log n) to reach, then the
    /// leaves' slices.
    pub fn range(&self, a: usize, b: usize) -> std::iter::Flatten<std::vec::IntoIter<&[T]>> {
        let b = b.min(self.len());
        let mut out = Vec::new();
        if a < b {
            slices(&self.root, a, b, &mut out);
        }
        out.into_iter().flatten()
    }

    pub fn iter(&self) -> std::iter::Flatten<std::vec::IntoIter<&[T]>> {
        self.range(0, self.len())
    }
}

fn slices<'a, T>(node: &'a Node<T>, a: usize, b: usize, out: &mut Vec<&'a [T]>) {
    match node {
        Node::Leaf(v) => out.push(&v[a..b]),
        Node::Branch(br) => {
            let mut start = 0;
            for (child, &n) in br.children.iter().zip(&br.sizes) {
                let end = start + n;
                if end > a && start < b {
                    slices(child, a.max(start) - start, b.min(end) - start, out);
                }
                if end >= b {
                    break;
                }
                start = end;
            }
        }
    }
}

/// Inserts at `i`; a new right sibling if the node split.
fn insert_at<T: Clone>(node: &mut Node<T>, i: usize, item: T) -> Option<Arc<Node<T>>> {
    match node {
        Node::Leaf(v) => {
            if v.len() == v.capacity() {
                v.reserve_exact(MAX + 1 - v.len());
            }
            let at_end = i == v.len();
            v.insert(i, item);
            (v.len() > MAX).then(|| {
                let keep = if at_end { MAX } else { v.len() / 2 };
                let mut right = Vec::with_capacity(MAX + 1);
                right.extend(v.drain(keep..));
                Arc::new(Node::Leaf(right))
            })
        }
        Node::Branch(b) => {
            let (c, at) = b.locate(i);
            b.len += 1;
            b.sizes[c] += 1;
            let split = insert_at(Arc::make_mut(&mut b.children[c]), at, item);
            if at == 0 {
                b.firsts[c] = b.children[c].first().clone();
            }
            let right = split?;
            let n = right.len();
            b.sizes[c] -= n;
            b.firsts.insert(c + 1, right.first().clone());
            b.children.insert(c + 1, right);
            b.sizes.insert(c + 1, n);
            (b.children.len() > MAX).then(|| {
                let keep = if c + 2 == b.children.len() {
                    MAX
                } else {
                    b.children.len() / 2
                };
                let children: Vec<_> = b.children.drain(keep..).collect();
                let sizes: Vec<_> = b.sizes.drain(keep..).collect();
                let firsts: Vec<_> = b.firsts.drain(keep..).collect();
                let len = sizes.iter().sum();
                b.len -= len;
                Arc::new(Node::Branch(Branch {
                    children,
                    sizes,
                    firsts,
                    len,
                }))
            })
        }
    }
}

fn remove_at<T: Clone>(node: &mut Node<T>, i: usize) -> T {
    match node {
        Node::Leaf(v) => v.remove(i),
        Node::Branch(b) => {
            let (c, at) = b.locate(i);
            let item = remove_at(Arc::make_mut(&mut b.children[c]), at);
            b.sizes[c] -= 1;
            b.len -= 1;
            if at == 0 && b.sizes[c] > 0 {
                b.firsts[c] = b.children[c].first().clone();
            }
            if b.children.len() > 1 {
                if b.sizes[c] == 0 {
                    // An empty child goes (a branch never holds one beside others).
                    b.children.remove(c);
                    b.sizes.remove(c);
                    b.firsts.remove(c);
                } else if b.children[c].fill() < MIN_FILL {
                    merge_around(b, c);
                }
            }
            item
        }
    }
}

/// Merges child `c` with a neighbour when both fit in one node.
fn merge_around<T: Clone>(b: &mut Branch<T>, c: usize) {
    let (l, r) = if c + 1 < b.children.len() {
        (c, c + 1)
    } else {
        (c - 1, c)
    };
    if b.children[l].fill() + b.children[r].fill() > MAX {
        return;
    }
    let right = b.children.remove(r);
    let n = b.sizes.remove(r);
    b.firsts.remove(r);
    b.sizes[l] += n;
    let right = Arc::unwrap_or_clone(right);
    match (Arc::make_mut(&mut b.children[l]), right) {
        (Node::Leaf(lv), Node::Leaf(rv)) => {
            lv.reserve_exact((MAX + 1).saturating_sub(lv.len()));
            lv.extend(rv);
        }
        (Node::Branch(lb), Node::Branch(rb)) => {
            lb.children.extend(rb.children);
            lb.sizes.extend(rb.sizes);
            lb.firsts.extend(rb.firsts);
            lb.len += rb.len;
        }
        _ => unreachable!("siblings are at one depth"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random inserts, removals, pops and clones against a `Vec`, with searches over a sorted
    /// copy.
    #[test]
    fn matches_a_vector_through_random_changes() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut s: Seq<u32> = Seq::default();
        let mut model: Vec<u32> = Vec::new();
        let mut old = Vec::new();
        for round in 0..40_000u32 {
            // Grow for a while, then shrink, so merges and root collapses happen.
            let grow = (round / 10_000) % 2 == 0;
            match rng.u8(0..10) {
                x if x <= 7 && (model.is_empty() || (grow && x <= 5)) => {
                    let i = if rng.bool() {
                        model.len()
                    } else {
                        rng.usize(0..=model.len())
                    };
                    s.insert(i, round);
                    model.insert(i, round);
                }
                0..=7 => {
                    let i = rng.usize(0..model.len());
                    assert_eq!(s.remove(i), model.remove(i));
                }
                8 if rng.bool() && !model.is_empty() => {
                    let i = rng.usize(0..model.len());
                    assert_eq!(s.set(i, round), std::mem::replace(&mut model[i], round));
                }
                8 => assert_eq!(s.pop_front(), (!model.is_empty()).then(|| model.remove(0))),
                _ => old.push((s.clone(), model.clone())),
            }
            assert_eq!(s.len(), model.len());
            if round % 100 == 0 {
                check(&s.root);
            }
            if round % 500 == 0 {
                assert!(s.iter().eq(model.iter()));
                let (a, b) = (rng.usize(0..=model.len()), rng.usize(0..=model.len()));
                assert!(s.range(a, b).eq(model[a.min(b)..b].iter()) || a > b);
                for _ in 0..20 {
                    if let Some(i) = (!model.is_empty()).then(|| rng.usize(0..model.len())) {
                        assert_eq!(s.get(i), Some(&model[i]));
                    }
                }
            }
        }
        for (s, model) in old {
            assert!(s.iter().eq(model.iter()));
        }
        // A sorted sequence: partition_point agrees with the slice's.
        let mut sorted: Seq<u32> = Seq::default();
        let items: Vec<u32> = (0..5_000).map(|i| i * 3).collect();
        for &x in &items {
            sorted.push_back(x);
        }
        for t in 0..15_001 {
            assert_eq!(
                sorted.partition_point(|&x| x < t),
                items.partition_point(|&x| x < t)
            );
        }
    }

    /// Every branch's sizes, length and first items agree with its children; no empty child.
    fn check(node: &Node<u32>) -> usize {
        match node {
            Node::Leaf(v) => v.len(),
            Node::Branch(b) => {
                assert_eq!(b.children.len(), b.sizes.len());
                assert_eq!(b.children.len(), b.firsts.len());
                for ((child, &n), first) in b.children.iter().zip(&b.sizes).zip(&b.firsts) {
                    assert!(n > 0);
                    assert_eq!(check(child), n);
                    assert_eq!(child.first(), first);
                }
                assert_eq!(b.sizes.iter().sum::<usize>(), b.len);
                b.len
            }
        }
    }

    #[test]
    fn a_sequence_built_in_order_has_full_leaves() {
        let mut s: Seq<u64> = Seq::default();
        for i in 0..(MAX * MAX * 2) as u64 {
            s.push_back(i);
        }
        let Node::Branch(root) = &*s.root else {
            panic!("a tree")
        };
        let Node::Branch(first) = &*root.children[0] else {
            panic!("two levels")
        };
        assert!(first.sizes.iter().all(|&n| n == MAX));
    }
}
