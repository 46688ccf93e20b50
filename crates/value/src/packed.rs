//! A packed sequence: short scalars encoded in byte chunks, the chunks held in a persistent
//! B-tree with counts. A list of short strings and numbers (what Redis clients push) costs about
//! a byte more than its text per item, instead of a 24-byte [`Value`] and its tree's share.
//!
//! A chunk is one buffer: a code byte per item, then the items' payloads in order. A code names
//! the item's type and, for a short string, its length, so an item's size is known from its
//! code (a long string or bytes also carries its length before and after its payload). The
//! offset of item `i` is found by summing sizes from the nearer end of the chunk, so both ends
//! are O(1) and the middle costs a scan of at most half a chunk's codes.
//!
//! Chunks hold at most [`CHUNK_BYTES`] bytes and [`CHUNK_ITEMS`] items. The tree works as
//! `btree.rs`'s does: nodes shared with `Arc` and copied on write, each branch knowing how many
//! items each child holds, so index, insert and remove anywhere are O(log n); a chunk that fills
//! up at an end starts a new chunk (so a sequence built at either end has full chunks), one
//! that fills in the middle splits in two; one that falls below a quarter merges with a
//! neighbour when both fit in one.
//!
//! Only [`encode`]d values go in, and those are what come out; which values pack is
//! [`encode`]'s rule (scalars; strings and bytes up to [`PACK_MAX`] bytes).

use std::sync::Arc;

use crate::{Str, Value};

/// Bytes in a chunk at most (codes and payloads): one allocation size class.
const CHUNK_BYTES: usize = 4096;
/// Items in a chunk at most, which bounds the scan for an item in the middle.
const CHUNK_ITEMS: usize = 512;
/// Children of a branch at most.
const MAX: usize = 63;
/// The longest string or bytes value that packs. Half a chunk plus one item always fits in a
/// chunk, so a split chunk always has room for the item that split it.
pub(crate) const PACK_MAX: usize = 512;

// Codes 0..=199 are strings of that many bytes.
const SHORT_STR_MAX: u8 = 199;
const I8: u8 = 200;
const I16: u8 = 201;
const I32: u8 = 202;
const I64: u8 = 203;
const F64: u8 = 204;
const NULL: u8 = 205;
const FALSE: u8 = 206;
const TRUE: u8 = 207;
/// A string longer than `SHORT_STR_MAX`: u16 length, text, u16 length.
const LONG_STR: u8 = 208;
/// Bytes: u16 length, bytes, u16 length.
const BYTES: u8 = 209;

/// A value ready to be written into a chunk: its code and payload.
#[derive(Clone, Copy)]
pub(crate) struct Enc<'a> {
    code: u8,
    num: [u8; 8],
    num_len: u8,
    body: &'a [u8],
}

impl Enc<'_> {
    fn size(&self) -> usize {
        self.num_len as usize + self.body.len() + if self.framed() { 4 } else { 0 }
    }

    fn framed(&self) -> bool {
        matches!(self.code, LONG_STR | BYTES)
    }

    fn write(&self, dst: &mut [u8]) {
        if self.framed() {
            let n = (self.body.len() as u16).to_le_bytes();
            let end = 2 + self.body.len();
            dst[..2].copy_from_slice(&n);
            dst[2..end].copy_from_slice(self.body);
            dst[end..end + 2].copy_from_slice(&n);
        } else {
            let k = self.num_len as usize;
            dst[..k].copy_from_slice(&self.num[..k]);
            dst[k..].copy_from_slice(self.body);
        }
    }
}

/// The packed form of a value, or None if it does not pack (a container, a decimal, a date, a
/// function, or a string or bytes longer than [`PACK_MAX`]).
pub(crate) fn encode(v: &Value) -> Option<Enc<'_>> {
    let plain = |code| Enc {
        code,
        num: [0; 8],
        num_len: 0,
        body: &[],
    };
    let num = |code, bytes: &[u8]| {
        let mut num = [0; 8];
        num[..bytes.len()].copy_from_slice(bytes);
        Enc {
            code,
            num,
            num_len: bytes.len() as u8,
            body: &[],
        }
    };
    Some(match v {
        Value::Null => plain(NULL),
        Value::Bool(false) => plain(FALSE),
        Value::Bool(true) => plain(TRUE),
        Value::Int(i) => {
            let i = *i;
            if let Ok(x) = i8::try_from(i) {
                num(I8, &x.to_le_bytes())
            } else if let Ok(x) = i16::try_from(i) {
                num(I16, &x.to_le_bytes())
            } else if let Ok(x) = i32::try_from(i) {
                num(I32, &x.to_le_bytes())
            } else {
                num(I64, &i.to_le_bytes())
            }
        }
        Value::Float(f) => num(F64, &f.to_bits().to_le_bytes()),
        Value::Str(s) => {
            let b = s.as_str().as_bytes();
            match b.len() {
                n if n <= SHORT_STR_MAX as usize => Enc {
                    body: b,
                    ..plain(n as u8)
                },
                n if n <= PACK_MAX => Enc {
                    body: b,
                    ..plain(LONG_STR)
                },
                _ => return None,
            }
        }
        Value::Bytes(b) if b.len() <= PACK_MAX => Enc {
            body: b,
            ..plain(BYTES)
        },
        _ => return None,
    })
}

/// The payload size of the item with `code` whose payload starts at `buf[at]`.
#[inline]
fn size_from_start(code: u8, buf: &[u8], at: usize) -> usize {
    match code {
        0..=SHORT_STR_MAX => code as usize,
        I8 => 1,
        I16 => 2,
        I32 => 4,
        I64 | F64 => 8,
        NULL | FALSE | TRUE => 0,
        _ => 4 + u16::from_le_bytes([buf[at], buf[at + 1]]) as usize,
    }
}

/// The payload size of the item with `code` whose payload ends at `buf[end]`.
#[inline]
fn size_from_end(code: u8, buf: &[u8], end: usize) -> usize {
    match code {
        LONG_STR | BYTES => 4 + u16::from_le_bytes([buf[end - 2], buf[end - 1]]) as usize,
        _ => size_from_start(code, buf, end),
    }
}

#[inline]
fn decode(code: u8, p: &[u8]) -> Value {
    let int = |b: &[u8]| {
        let mut x = [0u8; 8];
        x[..b.len()].copy_from_slice(b);
        // Sign-extend from the stored width.
        let shift = 64 - 8 * b.len() as u32;
        (i64::from_le_bytes(x) << shift) >> shift
    };
    match code {
        0..=SHORT_STR_MAX => Value::Str(Str::new(text(p))),
        I8 | I16 | I32 | I64 => Value::Int(int(p)),
        F64 => Value::Float(f64::from_bits(u64::from_le_bytes(
            p.try_into().expect("8 bytes"),
        ))),
        NULL => Value::Null,
        FALSE => Value::Bool(false),
        TRUE => Value::Bool(true),
        LONG_STR => Value::Str(Str::new(text(&p[2..p.len() - 2]))),
        _ => Value::Bytes(Arc::from(&p[2..p.len() - 2])),
    }
}

fn text(p: &[u8]) -> &str {
    // String payloads are written only by `Enc::write`, whole, from a `&str`.
    std::str::from_utf8(p).expect("a packed string is UTF-8")
}

/// Up to [`CHUNK_ITEMS`] encoded items: their codes, then their payloads.
#[derive(Clone, Default)]
struct Chunk {
    n: usize,
    buf: Vec<u8>,
}

impl Chunk {
    fn with(e: Enc<'_>) -> Chunk {
        let mut c = Chunk::default();
        c.insert(0, e);
        c
    }

    fn bytes(&self) -> usize {
        self.buf.len()
    }

    fn fits(&self, e: &Enc<'_>) -> bool {
        self.n < CHUNK_ITEMS && self.bytes() + 1 + e.size() <= CHUNK_BYTES
    }

    /// Start and end of item `i`'s payload in `buf`, counted from the nearer end.
    fn span(&self, i: usize) -> (usize, usize) {
        let codes = &self.buf[..self.n];
        if i < self.n / 2 {
            let mut at = self.n;
            for &c in &codes[..i] {
                at += size_from_start(c, &self.buf, at);
            }
            (at, at + size_from_start(codes[i], &self.buf, at))
        } else {
            let mut end = self.buf.len();
            for &c in codes[i + 1..].iter().rev() {
                end -= size_from_end(c, &self.buf, end);
            }
            (end - size_from_end(codes[i], &self.buf, end), end)
        }
    }

    fn get(&self, i: usize) -> Value {
        let (a, b) = self.span(i);
        decode(self.buf[i], &self.buf[a..b])
    }

    /// The payload offset where item `i` starts (`n` items: the end).
    fn start(&self, i: usize) -> usize {
        if i == self.n {
            self.buf.len()
        } else {
            self.span(i).0
        }
    }

    fn insert(&mut self, i: usize, e: Enc<'_>) {
        debug_assert!(i <= self.n);
        let at = self.start(i);
        let (n, size, len) = (self.n, e.size(), self.buf.len());
        let need = len + 1 + size;
        if need > self.buf.capacity() {
            let cap = (self.buf.capacity() * 2).clamp(need.max(32), CHUNK_BYTES.max(need));
            self.buf.reserve_exact(cap - len);
        }
        self.buf.resize(need, 0);
        // Payloads after the new one move by its size and the new code; those before it by
        // the code; then the codes after it by one.
        self.buf.copy_within(at..len, at + 1 + size);
        self.buf.copy_within(n..at, n + 1);
        self.buf.copy_within(i..n, i + 1);
        self.buf[i] = e.code;
        e.write(&mut self.buf[at + 1..at + 1 + size]);
        self.n += 1;
    }

    fn remove(&mut self, i: usize) -> Value {
        let (a, b) = self.span(i);
        let v = decode(self.buf[i], &self.buf[a..b]);
        let len = self.buf.len();
        self.buf.copy_within(i + 1..a, i);
        self.buf.copy_within(b..len, a - 1);
        self.buf.truncate(len - 1 - (b - a));
        self.n -= 1;
        v
    }

    /// Moves items `at..` into a new chunk.
    fn split_off(&mut self, at: usize) -> Chunk {
        let from = self.start(at);
        let mut right = Chunk {
            n: self.n - at,
            buf: Vec::with_capacity(CHUNK_BYTES),
        };
        right.buf.extend_from_slice(&self.buf[at..self.n]);
        right.buf.extend_from_slice(&self.buf[from..]);
        let mut left = Vec::with_capacity(CHUNK_BYTES);
        left.extend_from_slice(&self.buf[..at]);
        left.extend_from_slice(&self.buf[self.n..from]);
        self.buf = left;
        self.n = at;
        right
    }

    fn append(&mut self, other: &Chunk) {
        let mut buf = Vec::with_capacity((self.bytes() + other.bytes()).max(CHUNK_BYTES));
        buf.extend_from_slice(&self.buf[..self.n]);
        buf.extend_from_slice(&other.buf[..other.n]);
        buf.extend_from_slice(&self.buf[self.n..]);
        buf.extend_from_slice(&other.buf[other.n..]);
        self.buf = buf;
        self.n += other.n;
    }

    /// The item where the payloads split in two halves by size.
    fn middle(&self) -> usize {
        let half = (self.bytes() - self.n) / 2;
        let mut at = self.n;
        for (i, &c) in self.buf[..self.n].iter().enumerate() {
            if at - self.n >= half {
                return i.max(1);
            }
            at += size_from_start(c, &self.buf, at);
        }
        self.n - 1
    }

    /// Item `i`'s code and the end of its payload, which starts at `at`: one step of a
    /// [`Cursor`]'s walk (a borrowed walk is [`Payloads`]).
    #[inline]
    fn step(&self, i: usize, at: usize) -> (u8, usize) {
        let code = self.buf[i];
        (code, at + size_from_start(code, &self.buf, at))
    }

    /// Items `from..to` as (code, payload), in order.
    fn payloads(&self, from: usize, to: usize) -> Payloads<'_> {
        Payloads {
            codes: self.buf[from..to].iter(),
            buf: &self.buf,
            at: self.start(from),
        }
    }
}

/// Items of a chunk as (code, payload), in order.
struct Payloads<'a> {
    codes: std::slice::Iter<'a, u8>,
    buf: &'a [u8],
    /// Where the next item's payload starts.
    at: usize,
}

impl<'a> Iterator for Payloads<'a> {
    type Item = (u8, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        let &code = self.codes.next()?;
        let end = self.at + size_from_start(code, self.buf, self.at);
        let p = &self.buf[self.at..end];
        self.at = end;
        Some((code, p))
    }
}

/// Items of a range of chunks as (code, payload), in order.
struct Spans<'a> {
    parts: std::vec::IntoIter<(&'a Chunk, usize, usize)>,
    cur: Option<Payloads<'a>>,
}

impl<'a> Iterator for Spans<'a> {
    type Item = (u8, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<(u8, &'a [u8])> {
        loop {
            if let Some(x) = self.cur.as_mut().and_then(Iterator::next) {
                return Some(x);
            }
            let (c, a, b) = self.parts.next()?;
            self.cur = Some(c.payloads(a, b));
        }
    }
}

#[derive(Clone)]
enum Node {
    Leaf(Chunk),
    Branch(Branch),
}

#[derive(Clone)]
struct Branch {
    children: Vec<Arc<Node>>,
    /// Items under each child.
    sizes: Vec<usize>,
    len: usize,
}

impl Node {
    fn len(&self) -> usize {
        match self {
            Node::Leaf(c) => c.n,
            Node::Branch(b) => b.len,
        }
    }

    /// Below a quarter full: a candidate to merge with a neighbour.
    fn thin(&self) -> bool {
        match self {
            Node::Leaf(c) => c.bytes() < CHUNK_BYTES / 4,
            Node::Branch(b) => b.children.len() < MAX / 4,
        }
    }
}

impl Branch {
    fn locate(&self, i: usize) -> (usize, usize) {
        crate::btree::locate(&self.sizes, i)
    }
}

/// A packed sequence (see the module's documentation).
#[derive(Clone)]
pub(crate) struct Packed {
    root: Arc<Node>,
}

impl Default for Packed {
    fn default() -> Self {
        Packed {
            root: Arc::new(Node::Leaf(Chunk::default())),
        }
    }
}

impl Packed {
    pub fn len(&self) -> usize {
        self.root.len()
    }

    /// The chunk holding item `i` and the position within it.
    fn leaf(&self, mut i: usize) -> (&Chunk, usize) {
        let mut node = &*self.root;
        loop {
            match node {
                Node::Leaf(c) => return (c, i),
                Node::Branch(b) => {
                    let (c, at) = b.locate(i);
                    node = &b.children[c];
                    i = at;
                }
            }
        }
    }

    pub fn get(&self, i: usize) -> Option<Value> {
        (i < self.len()).then(|| {
            let (c, at) = self.leaf(i);
            c.get(at)
        })
    }

    /// Inserts an encoded value at `i` (at most `len`).
    pub fn insert(&mut self, i: usize, e: Enc<'_>) {
        assert!(i <= self.len(), "insert at {i} of {}", self.len());
        if let Some(right) = insert_at(Arc::make_mut(&mut self.root), i, e) {
            let left = std::mem::take(self).root;
            let sizes = vec![left.len(), right.len()];
            self.root = Arc::new(Node::Branch(Branch {
                len: sizes[0] + sizes[1],
                children: vec![left, right],
                sizes,
            }));
        }
    }

    pub fn remove(&mut self, i: usize) -> Value {
        assert!(i < self.len(), "remove at {i} of {}", self.len());
        let v = remove_at(Arc::make_mut(&mut self.root), i);
        // A root branch left with one child gives way to it.
        loop {
            let only = match &*self.root {
                Node::Branch(b) if b.children.len() == 1 => b.children[0].clone(),
                _ => break,
            };
            self.root = only;
        }
        v
    }

    /// The chunks holding items `a..b` (clamped), each with the range of its own items.
    fn parts(&self, a: usize, b: usize) -> Vec<(&Chunk, usize, usize)> {
        let b = b.min(self.len());
        let mut parts = Vec::new();
        if a < b {
            chunks(&self.root, a, b, &mut parts);
        }
        parts
    }

    fn spans(&self, a: usize, b: usize) -> Spans<'_> {
        Spans {
            parts: self.parts(a, b).into_iter(),
            cur: None,
        }
    }

    /// Items `a..b`, decoded in order: O(log n) to reach, then O(1) each.
    pub fn range(&self, a: usize, b: usize) -> Iter<'_> {
        Iter(self.spans(a, b))
    }

    /// Calls `f` with each item in order, stopping at its first error: a tight loop over each
    /// chunk, for folds (SUM and the like).
    pub fn try_for_each<E>(&self, mut f: impl FnMut(&Value) -> Result<(), E>) -> Result<(), E> {
        for (c, a, b) in self.parts(0, self.len()) {
            for (code, p) in c.payloads(a, b) {
                f(&decode(code, p))?;
            }
        }
        Ok(())
    }

    /// Positions of the items equal to `x`, in order, or from the end when `rev`. A string,
    /// bytes, null or bool is equal only to an item of its type with the same encoding, so
    /// those are compared encoded, without decoding the items; a number (equal to numbers of
    /// other types) is compared decoded.
    pub fn positions_of<'a>(
        &'a self,
        x: &'a Value,
        rev: bool,
    ) -> Box<dyn Iterator<Item = usize> + 'a> {
        let exact = matches!(
            x,
            Value::Str(_) | Value::Bytes(_) | Value::Null | Value::Bool(_)
        );
        let want: Option<(u8, Vec<u8>)> = encode(x).filter(|_| exact).map(|e| {
            let mut p = vec![0; e.size()];
            e.write(&mut p);
            (e.code, p)
        });
        if exact && want.is_none() {
            // Too long to pack: no item is equal.
            return Box::new(std::iter::empty());
        }
        let mut base = 0;
        let parts: Vec<(&Chunk, usize)> = self
            .parts(0, self.len())
            .into_iter()
            .map(|(c, _, _)| {
                base += c.n;
                (c, base - c.n)
            })
            .collect();
        let found = move |(c, base): (&Chunk, usize)| -> Vec<usize> {
            let mut out = Vec::new();
            for (i, (code, p)) in c.payloads(0, c.n).enumerate() {
                let hit = match &want {
                    Some((w, wp)) => code == *w && p == &wp[..],
                    None => decode(code, p) == *x,
                };
                if hit {
                    out.push(base + i);
                }
            }
            if rev {
                out.reverse();
            }
            out
        };
        if rev {
            Box::new(parts.into_iter().rev().flat_map(found))
        } else {
            Box::new(parts.into_iter().flat_map(found))
        }
    }

    /// The items chunk by chunk (from the last chunk when `rev`), each chunk decoded in
    /// order.
    pub fn chunks(&self, rev: bool) -> impl Iterator<Item = Vec<Value>> + '_ {
        let mut parts = self.parts(0, self.len());
        if rev {
            parts.reverse();
        }
        parts
            .into_iter()
            .map(|(c, a, b)| c.payloads(a, b).map(|(code, p)| decode(code, p)).collect())
    }

    /// Items `a..b` as a reply writes them ([`Raw`]).
    pub fn raw_range(&self, a: usize, b: usize) -> RawIter<'_> {
        RawIter(self.spans(a, b))
    }

    /// The leaves in order, shared (an owned walk, for a cursor that outlives a borrow).
    fn leaves(&self) -> Vec<Arc<Node>> {
        fn walk(node: &Arc<Node>, out: &mut Vec<Arc<Node>>) {
            match &**node {
                Node::Leaf(c) if c.n == 0 => {}
                Node::Leaf(_) => out.push(node.clone()),
                Node::Branch(b) => b.children.iter().for_each(|c| walk(c, out)),
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// Heap bytes: each chunk's buffer and node, and a branch's slot for it.
    pub fn heap_bytes(&self) -> usize {
        self.leaves()
            .iter()
            .map(|l| match &**l {
                Node::Leaf(c) => c.buf.capacity() + std::mem::size_of::<Node>() + 32,
                Node::Branch(_) => 0,
            })
            .sum()
    }

    /// Bytes held by the chunks (their codes and payloads), for tests and the docs.
    #[cfg(test)]
    fn packed_bytes(&self) -> usize {
        self.leaves()
            .iter()
            .map(|l| match &**l {
                Node::Leaf(c) => c.bytes(),
                Node::Branch(_) => 0,
            })
            .sum()
    }
}

fn chunks<'a>(node: &'a Node, a: usize, b: usize, out: &mut Vec<(&'a Chunk, usize, usize)>) {
    match node {
        Node::Leaf(c) => out.push((c, a, b)),
        Node::Branch(br) => {
            let mut start = 0;
            for (child, &n) in br.children.iter().zip(&br.sizes) {
                let end = start + n;
                if end > a && start < b {
                    chunks(child, a.max(start) - start, b.min(end) - start, out);
                }
                if end >= b {
                    break;
                }
                start = end;
            }
        }
    }
}

/// Items of a range of a packed sequence, decoded in order.
pub(crate) struct Iter<'a>(Spans<'a>);

impl Iterator for Iter<'_> {
    type Item = Value;

    #[inline]
    fn next(&mut self) -> Option<Value> {
        self.0.next().map(|(code, p)| decode(code, p))
    }
}

/// A packed item as a reply writes it: a string's or bytes' own bytes, lent from its chunk,
/// or any other item decoded.
pub(crate) enum Raw<'a> {
    Text(&'a [u8]),
    Value(Value),
}

/// Items of a range of a packed sequence as [`Raw`]s.
pub(crate) struct RawIter<'a>(Spans<'a>);

impl<'a> Iterator for RawIter<'a> {
    type Item = Raw<'a>;

    #[inline]
    fn next(&mut self) -> Option<Raw<'a>> {
        self.0.next().map(|(code, p)| match code {
            0..=SHORT_STR_MAX => Raw::Text(p),
            LONG_STR | BYTES => Raw::Text(&p[2..p.len() - 2]),
            _ => Raw::Value(decode(code, p)),
        })
    }
}

/// An owned walk over a packed sequence's items (it holds the leaves, so the sequence can
/// change meanwhile without affecting it).
pub(crate) struct Cursor {
    leaves: std::vec::IntoIter<Arc<Node>>,
    leaf: Option<Arc<Node>>,
    i: usize,
    at: usize,
}

impl Cursor {
    pub fn new(p: &Packed) -> Cursor {
        Cursor {
            leaves: p.leaves().into_iter(),
            leaf: None,
            i: 0,
            at: 0,
        }
    }
}

impl Iterator for Cursor {
    type Item = Value;

    fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(Node::Leaf(c)) = self.leaf.as_deref() {
                if self.i < c.n {
                    let (code, end) = c.step(self.i, self.at);
                    let v = decode(code, &c.buf[self.at..end]);
                    (self.at, self.i) = (end, self.i + 1);
                    return Some(v);
                }
            }
            let next = self.leaves.next()?;
            let Node::Leaf(c) = &*next else {
                unreachable!("leaves() yields leaves")
            };
            (self.i, self.at) = (0, c.n);
            self.leaf = Some(next);
        }
    }
}

/// Inserts at `i`; a new right sibling if the node split.
fn insert_at(node: &mut Node, i: usize, e: Enc<'_>) -> Option<Arc<Node>> {
    match node {
        Node::Leaf(c) => {
            if c.fits(&e) {
                c.insert(i, e);
                return None;
            }
            if i == c.n {
                // Grown at its end: the new item starts the next chunk.
                return Some(Arc::new(Node::Leaf(Chunk::with(e))));
            }
            if i == 0 {
                // Grown at its start: the new item starts a chunk before it.
                let full = std::mem::replace(c, Chunk::with(e));
                return Some(Arc::new(Node::Leaf(full)));
            }
            let mut right = c.split_off(c.middle());
            if i <= c.n {
                c.insert(i, e);
            } else {
                right.insert(i - c.n, e);
            }
            Some(Arc::new(Node::Leaf(right)))
        }
        Node::Branch(b) => {
            let (c, at) = b.locate(i);
            b.len += 1;
            b.sizes[c] += 1;
            let right = insert_at(Arc::make_mut(&mut b.children[c]), at, e)?;
            let n = right.len();
            b.sizes[c] -= n;
            b.children.insert(c + 1, right);
            b.sizes.insert(c + 1, n);
            (b.children.len() > MAX).then(|| {
                let keep = if c + 2 == b.children.len() {
                    MAX
                } else if c == 0 {
                    1
                } else {
                    b.children.len() / 2
                };
                let children: Vec<_> = b.children.drain(keep..).collect();
                let sizes: Vec<_> = b.sizes.drain(keep..).collect();
                let len = sizes.iter().sum();
                b.len -= len;
                Arc::new(Node::Branch(Branch {
                    children,
                    sizes,
                    len,
                }))
            })
        }
    }
}

fn remove_at(node: &mut Node, i: usize) -> Value {
    match node {
        Node::Leaf(c) => c.remove(i),
        Node::Branch(b) => {
            let (c, at) = b.locate(i);
            let v = remove_at(Arc::make_mut(&mut b.children[c]), at);
            b.sizes[c] -= 1;
            b.len -= 1;
            if b.children.len() > 1 {
                if b.sizes[c] == 0 {
                    // An empty child goes (a branch never holds one beside others).
                    b.children.remove(c);
                    b.sizes.remove(c);
                } else if b.children[c].thin() {
                    merge_around(b, c);
                }
            }
            v
        }
    }
}

/// Merges child `c` with a neighbour when both fit in one node.
fn merge_around(b: &mut Branch, c: usize) {
    let (l, r) = if c + 1 < b.children.len() {
        (c, c + 1)
    } else {
        (c - 1, c)
    };
    let fits = match (&*b.children[l], &*b.children[r]) {
        (Node::Leaf(x), Node::Leaf(y)) => {
            x.n + y.n <= CHUNK_ITEMS && x.bytes() + y.bytes() <= CHUNK_BYTES
        }
        (Node::Branch(x), Node::Branch(y)) => x.children.len() + y.children.len() <= MAX,
        _ => unreachable!("siblings are at one depth"),
    };
    if !fits {
        return;
    }
    let right = b.children.remove(r);
    let n = b.sizes.remove(r);
    b.sizes[l] += n;
    match (Arc::make_mut(&mut b.children[l]), &*right) {
        (Node::Leaf(lc), Node::Leaf(rc)) => lc.append(rc),
        (Node::Branch(lb), Node::Branch(rb)) => {
            lb.children.extend(rb.children.iter().cloned());
            lb.sizes.extend(&rb.sizes);
            lb.len += rb.len;
        }
        _ => unreachable!("siblings are at one depth"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rng: &mut fastrand::Rng, round: u32) -> Value {
        match rng.u8(0..10) {
            0 => Value::Int(rng.i64(..) >> rng.u32(0..64)),
            1 => Value::Float(rng.f64() * 1e6 - 5e5),
            2 => Value::Null,
            3 => Value::Bool(rng.bool()),
            4 => Value::Bytes(Arc::from(vec![0xff; rng.usize(0..=PACK_MAX)])),
            5 => Value::str(&"é".repeat(rng.usize(0..=PACK_MAX / 2))),
            _ => Value::str(&format!("v{round}")),
        }
    }

    /// Every branch's sizes and length agree with its children; no empty child beside others;
    /// every chunk within its bounds.
    fn check(node: &Node) -> usize {
        match node {
            Node::Leaf(c) => {
                assert!(c.n <= CHUNK_ITEMS && c.bytes() <= CHUNK_BYTES);
                assert_eq!(c.payloads(0, c.n).count(), c.n);
                c.n
            }
            Node::Branch(b) => {
                assert_eq!(b.children.len(), b.sizes.len());
                assert!(b.children.len() <= MAX);
                for (child, &n) in b.children.iter().zip(&b.sizes) {
                    assert!(n > 0);
                    assert_eq!(check(child), n);
                }
                assert_eq!(b.sizes.iter().sum::<usize>(), b.len);
                b.len
            }
        }
    }

    #[test]
    fn every_packable_value_comes_back() {
        let values = [
            Value::Null,
            Value::Bool(false),
            Value::Bool(true),
            Value::Int(0),
            Value::Int(-1),
            Value::Int(127),
            Value::Int(-128),
            Value::Int(128),
            Value::Int(i16::MIN as i64),
            Value::Int(40_000),
            Value::Int(i32::MIN as i64 - 1),
            Value::Int(i64::MAX),
            Value::Int(i64::MIN),
            Value::Float(-0.0),
            Value::Float(1.5),
            Value::str(""),
            Value::str("v123456"),
            Value::str(&"x".repeat(199)),
            Value::str(&"x".repeat(200)),
            Value::str(&"x".repeat(PACK_MAX)),
            Value::Bytes(Arc::from(&[0xfe, 0xff][..])),
        ];
        let mut p = Packed::default();
        for v in &values {
            p.insert(p.len(), encode(v).expect("packs"));
        }
        assert!(p.range(0, p.len()).eq(values.iter().cloned()));
        for (i, v) in values.iter().enumerate() {
            assert_eq!(p.get(i).as_ref(), Some(v));
        }
        let Some(Value::Float(f)) = p.get(13) else {
            panic!()
        };
        assert!(f.is_sign_negative());
        assert!(encode(&Value::str(&"x".repeat(PACK_MAX + 1))).is_none());
        assert!(encode(&Value::list([])).is_none());
    }

    /// Random inserts and removals at the ends and anywhere, against a `Vec`, with clones kept
    /// and checked at the end.
    #[test]
    fn matches_a_vector_through_random_changes() {
        let mut rng = fastrand::Rng::with_seed(7);
        let mut p = Packed::default();
        let mut model: Vec<Value> = Vec::new();
        let mut old = Vec::new();
        for round in 0..30_000u32 {
            let grow = (round / 7_500) % 2 == 0;
            match rng.u8(0..10) {
                x if x <= 7 && (model.is_empty() || (grow && x <= 5)) => {
                    let i = match rng.u8(0..3) {
                        0 => model.len(),
                        1 => 0,
                        _ => rng.usize(0..=model.len()),
                    };
                    let v = sample(&mut rng, round);
                    p.insert(i, encode(&v).unwrap());
                    model.insert(i, v);
                }
                0..=7 => {
                    let i = match rng.u8(0..3) {
                        0 => model.len() - 1,
                        1 => 0,
                        _ => rng.usize(0..model.len()),
                    };
                    assert_eq!(p.remove(i), model.remove(i));
                }
                8 => old.push((p.clone(), model.clone())),
                _ => {
                    if let Some(i) = (!model.is_empty()).then(|| rng.usize(0..model.len())) {
                        assert_eq!(p.get(i).as_ref(), Some(&model[i]));
                    }
                }
            }
            assert_eq!(p.len(), model.len());
            if round % 250 == 0 {
                check(&p.root);
                let (a, b) = (rng.usize(0..=model.len()), rng.usize(0..=model.len()));
                assert!(a > b || p.range(a, b).eq(model[a..b].iter().cloned()));
                assert!(Cursor::new(&p).eq(model.iter().cloned()));
            }
        }
        for (p, model) in old {
            assert!(p.range(0, p.len()).eq(model.into_iter()));
        }
    }

    #[test]
    fn a_sequence_built_at_either_end_has_full_chunks() {
        for front in [false, true] {
            let mut p = Packed::default();
            for i in 0..100_000 {
                let v = Value::str(&format!("v{i:06}"));
                p.insert(if front { 0 } else { p.len() }, encode(&v).unwrap());
            }
            check(&p.root);
            // 8 bytes an item (a code and seven bytes of text), in chunks filled to the brim.
            let chunks = p.leaves().len();
            assert_eq!(p.packed_bytes(), 800_000);
            assert!(chunks <= 800_000 / (CHUNK_BYTES - 8) + 1, "{chunks} chunks");
        }
    }
}
