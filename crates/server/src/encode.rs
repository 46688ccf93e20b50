//! How a [`Reply`] is spelled in RESP2 and RESP3 (SPEC.md §8).
//!
//! RESP3 replies are typed: a stored int is an integer, a float a double, a dict a map, a set a
//! set. RESP2 has no such types, so a stored string or bytes value is sent raw and every other
//! value as its typed JSON text (a stored null is the text `null`; a missing key is a nil reply); protocol-level replies (counts, `INCR` results) stay integers.

use okdb_engine::Reply;
use okdb_resp::Encoder;
use okdb_value::{json, Value};

pub fn reply(out: &mut Vec<u8>, reply: &Reply, proto: u8) {
    let mut e = Encoder::new(out, proto >= 3);
    encode_reply(&mut e, reply);
}

/// A pub/sub message, straight from its parts (no reply built for it).
pub fn message(out: &mut Vec<u8>, m: &okdb_engine::pubsub::Message, proto: u8) {
    message_to(&mut Encoder::new(out, proto >= 3), m);
}

fn message_to(e: &mut Encoder<'_>, m: &okdb_engine::pubsub::Message) {
    use okdb_engine::pubsub::Message;
    match m {
        Message::Message { channel, payload } => {
            e.push(3);
            e.bulk(b"message");
            e.bulk(channel);
            e.bulk(payload);
        }
        Message::PMessage {
            pattern,
            channel,
            payload,
        } => {
            e.push(4);
            e.bulk(b"pmessage");
            e.bulk(pattern);
            e.bulk(channel);
            e.bulk(payload);
        }
        Message::SMessage { channel, payload } => {
            e.push(3);
            e.bulk(b"smessage");
            e.bulk(channel);
            e.bulk(payload);
        }
    }
}

fn encode_reply(e: &mut Encoder<'_>, r: &Reply) {
    match r {
        Reply::Ok => e.ok(),
        Reply::Status(s) => e.simple(s),
        Reply::Int(i) => e.integer(*i),
        Reply::Bulk(b) => e.bulk(b),
        Reply::Text(t) => e.verbatim("txt", t.as_bytes()),
        Reply::Null => e.null(),
        Reply::NullArray => e.null_array(),
        Reply::Array(items) => {
            e.array(items.len());
            items.iter().for_each(|i| encode_reply(e, i));
        }
        Reply::Values(items) => {
            e.array(items.len());
            for item in items.raw() {
                match item {
                    okdb_value::list::Raw::Text(t) => e.bulk(t),
                    okdb_value::list::Raw::Item(v) => value(e, &v),
                }
            }
        }
        Reply::Set(items) => {
            e.set(items.len());
            items.iter().for_each(|i| encode_reply(e, i));
        }
        Reply::Map(pairs) => {
            e.map(pairs.len());
            for (k, v) in pairs {
                encode_reply(e, k);
                encode_reply(e, v);
            }
        }
        Reply::Double(d) => e.double(*d),
        Reply::Bool(b) => e.boolean(*b),
        Reply::Value(v) => value(e, v),
        Reply::Error(err) => e.error(&err.to_string()),
        Reply::Push(items) => {
            e.push(items.len());
            items.iter().for_each(|i| encode_reply(e, i));
        }
        Reply::Many(replies) => replies.iter().for_each(|r| encode_reply(e, r)),
        Reply::Message(m) => message_to(e, m),
    }
}

fn value(e: &mut Encoder<'_>, v: &Value) {
    match v {
        Value::Str(s) => e.bulk(s.as_bytes()),
        Value::Bytes(b) => e.bulk(b),
        // RESP has no decimal type: its text, exactly, in both protocols.
        Value::Decimal(d) => e.bulk(d.to_string().as_bytes()),
        Value::Date(d) => e.bulk(d.to_string().as_bytes()),
        Value::DateTime(t) => e.bulk(t.to_string().as_bytes()),
        // A function reads as its source, in both protocols.
        Value::Function(f) => e.bulk(f.as_bytes()),
        _ if !e.resp3() => e.bulk(json::to_string(v).as_bytes()),
        Value::Null => e.null(),
        Value::Bool(b) => e.boolean(*b),
        Value::Int(i) => e.integer(*i),
        Value::Float(f) => e.double(*f),
        Value::List(l) => {
            e.array(l.len());
            l.iter().for_each(|i| value(e, &i));
        }
        Value::Set(s) => {
            e.set(s.len());
            s.iter().for_each(|i| value(e, i));
        }
        Value::Dict(d) => {
            e.map(d.len());
            for (k, v) in d.iter() {
                e.bulk(k.as_bytes());
                value(e, v);
            }
        }
        Value::SortedSet(z) => {
            e.map(z.len());
            for (m, s) in z.iter() {
                e.bulk(m.as_bytes());
                e.double(s);
            }
        }
        Value::Deque(d) => {
            e.array(d.items.len());
            d.items.iter().for_each(|i| value(e, &i));
        }
        Value::PQueue(q) => {
            e.array(q.len());
            for (p, x) in q.iter() {
                e.array(2);
                value(e, p);
                value(e, x);
            }
        }
    }
}

/// About how many bytes `reply` takes encoded: exact for strings and bytes at any depth (a
/// stored container is walked, element by element, so a few huge strings among many small
/// elements are counted), about right for the rest. Used for the lock's reply budget and
/// `client-output-buffer-limit`.
pub fn estimate(reply: &Reply) -> usize {
    match reply {
        Reply::Bulk(b) => b.len() + 16,
        Reply::Text(t) => t.len() + 16,
        Reply::Status(s) => s.len() + 3,
        Reply::Error(e) => e.prefix.len() + e.message.len() + 4,
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) | Reply::Many(items) => {
            16 + items.iter().map(estimate).sum::<usize>()
        }
        // A packed list's items are scalars of at most a few hundred bytes: not worth decoding
        // to estimate.
        Reply::Values(items) if items.list.is_packed() => 16 + 24 * items.len(),
        Reply::Values(items) => 16 + items.iter().map(|v| value_estimate(&v)).sum::<usize>(),
        Reply::Map(pairs) => {
            16 + pairs
                .iter()
                .map(|(k, v)| estimate(k) + estimate(v))
                .sum::<usize>()
        }
        Reply::Value(v) => value_estimate(v),
        Reply::Message(m) => m.size(),
        _ => 24,
    }
}

/// Whether `reply` holds a stored list, set or dict (whose size is its elements').
pub fn holds_container(reply: &Reply) -> bool {
    match reply {
        Reply::Array(items) | Reply::Set(items) | Reply::Push(items) | Reply::Many(items) => {
            items.iter().any(holds_container)
        }
        Reply::Values(items) => !items.list.is_packed() && items.iter().any(|v| is_container(&v)),
        Reply::Map(pairs) => pairs
            .iter()
            .any(|(k, v)| holds_container(k) || holds_container(v)),
        Reply::Value(v) => is_container(v),
        _ => false,
    }
}

fn is_container(v: &Value) -> bool {
    matches!(
        v,
        Value::List(_)
            | Value::Set(_)
            | Value::Dict(_)
            | Value::SortedSet(_)
            | Value::Deque(_)
            | Value::PQueue(_)
    )
}

/// A value's encoded size, every element counted (`Value::walk`: no recursion).
fn value_estimate(v: &Value) -> usize {
    let one = |x: &Value| match x {
        Value::Str(s) => s.len() + 16,
        Value::Bytes(b) => b.len() + 16,
        Value::List(_) | Value::Set(_) | Value::Dict(_) | Value::Deque(_) => 16,
        Value::PQueue(q) => 16 + 8 * q.len(),
        Value::SortedSet(z) => 16 + z.iter().map(|(m, _)| m.len() + 40).sum::<usize>(),
        _ => 24,
    };
    // The common case, a string or a number, without the walk's machinery.
    if !matches!(
        v,
        Value::List(_) | Value::Set(_) | Value::Dict(_) | Value::Deque(_) | Value::PQueue(_)
    ) {
        // A sorted set's members are not values: `one` counts them.
        return one(v);
    }
    let mut total = 0usize;
    v.walk(|x, key| {
        total = total.saturating_add(key.map_or(0, |k| k.len() + 16) + one(x));
        std::ops::ControlFlow::Continue(())
    });
    total
}

/// Strings at least this long are written straight from the value, not copied into the
/// write buffer.
const DIRECT_AT: usize = 64 << 10;

/// A reply encoded a piece at a time, so a reply of any size needs only a bounded buffer:
/// arrays, sets and maps element by element (also a stored container's elements in RESP3),
/// and long strings handed out to be written from where they are. A RESP2 container is one
/// JSON string whose length comes first, so it is still encoded whole.
pub struct Stream<'a> {
    resp3: bool,
    stack: Vec<Pending<'a>>,
    /// A string handed out by [`Step::Direct`] still needs its CRLF.
    crlf: bool,
}

/// What [`Stream::fill`] did.
pub enum Step<'a> {
    /// The reply is encoded (the buffer may hold its end).
    Done,
    /// The buffer reached the limit: write it out and call again.
    Full,
    /// Write the buffer out, then these bytes, then call again.
    Direct(&'a [u8]),
}

enum Item<'a> {
    Reply(&'a Reply),
    Value(&'a Value),
    /// An item decoded from a packed list: a scalar of at most a few hundred bytes.
    Decoded(Value),
    Bulk(&'a [u8]),
    Double(f64),
    /// A two-element array of values (a pqueue's priority and item).
    Pair(&'a Value, &'a Value),
}

enum Pending<'a> {
    One(Item<'a>),
    Many(Box<dyn Iterator<Item = Item<'a>> + Send + 'a>),
}

impl<'a> Item<'a> {
    /// A list's item: borrowed, or decoded from a packed list.
    fn of(v: std::borrow::Cow<'a, Value>) -> Item<'a> {
        match v {
            std::borrow::Cow::Borrowed(v) => Item::Value(v),
            std::borrow::Cow::Owned(v) => Item::Decoded(v),
        }
    }

    /// A list's item as a reply writes it.
    fn raw(r: okdb_value::list::Raw<'a>) -> Item<'a> {
        match r {
            okdb_value::list::Raw::Text(t) => Item::Bulk(t),
            okdb_value::list::Raw::Item(v) => Item::of(v),
        }
    }
}

impl<'a> Stream<'a> {
    pub fn new(reply: &'a Reply, proto: u8) -> Stream<'a> {
        Stream {
            resp3: proto >= 3,
            stack: vec![Pending::One(Item::Reply(reply))],
            crlf: false,
        }
    }

    /// Encodes into `out` until it holds `limit` bytes or the reply is done.
    pub fn fill(&mut self, out: &mut Vec<u8>, limit: usize) -> Step<'a> {
        if std::mem::take(&mut self.crlf) {
            out.extend_from_slice(b"\r\n");
        }
        while out.len() < limit {
            let item = match self.stack.last_mut() {
                None => return Step::Done,
                Some(Pending::One(_)) => match self.stack.pop() {
                    Some(Pending::One(item)) => item,
                    _ => unreachable!("the top is one item"),
                },
                Some(Pending::Many(items)) => match items.next() {
                    Some(item) => item,
                    None => {
                        self.stack.pop();
                        continue;
                    }
                },
            };
            let mut e = Encoder::new(out, self.resp3);
            match item {
                Item::Reply(r) => match r {
                    Reply::Array(items) => {
                        e.array(items.len());
                        self.many(items.iter().map(Item::Reply));
                    }
                    Reply::Set(items) => {
                        e.set(items.len());
                        self.many(items.iter().map(Item::Reply));
                    }
                    Reply::Push(items) => {
                        e.push(items.len());
                        self.many(items.iter().map(Item::Reply));
                    }
                    Reply::Many(replies) => self.many(replies.iter().map(Item::Reply)),
                    Reply::Values(items) => {
                        e.array(items.len());
                        self.many(items.raw().map(Item::raw));
                    }
                    Reply::Map(pairs) => {
                        e.map(pairs.len());
                        self.many(
                            pairs
                                .iter()
                                .flat_map(|(k, v)| [Item::Reply(k), Item::Reply(v)]),
                        );
                    }
                    Reply::Bulk(b) if b.len() >= DIRECT_AT => return self.direct(out, b),
                    Reply::Value(v) => self.stack.push(Pending::One(Item::Value(v))),
                    other => encode_reply(&mut e, other),
                },
                Item::Value(v) => match v {
                    Value::Str(s) if s.len() >= DIRECT_AT => return self.direct(out, s.as_bytes()),
                    Value::Bytes(b) if b.len() >= DIRECT_AT => return self.direct(out, b),
                    Value::List(l) if self.resp3 => {
                        e.array(l.len());
                        self.many(l.iter().map(Item::of));
                    }
                    Value::Set(s) if self.resp3 => {
                        e.set(s.len());
                        self.many(s.iter().map(Item::Value));
                    }
                    Value::Dict(d) if self.resp3 => {
                        e.map(d.len());
                        self.many(
                            d.iter()
                                .flat_map(|(k, v)| [Item::Bulk(k.as_bytes()), Item::Value(v)]),
                        );
                    }
                    Value::Deque(d) if self.resp3 => {
                        e.array(d.items.len());
                        self.many(d.items.iter().map(Item::of));
                    }
                    Value::PQueue(q) if self.resp3 => {
                        e.array(q.len());
                        self.many(q.iter().map(|(p, x)| Item::Pair(p, x)));
                    }
                    Value::SortedSet(z) if self.resp3 => {
                        e.map(z.len());
                        self.many(
                            z.iter()
                                .flat_map(|(m, s)| [Item::Bulk(m.as_bytes()), Item::Double(s)]),
                        );
                    }
                    other => value(&mut e, other),
                },
                Item::Decoded(v) => value(&mut e, &v),
                Item::Bulk(b) if b.len() >= DIRECT_AT => return self.direct(out, b),
                Item::Bulk(b) => e.bulk(b),
                Item::Double(f) => e.double(f),
                Item::Pair(p, x) => {
                    e.array(2);
                    self.stack.push(Pending::One(Item::Value(x)));
                    self.stack.push(Pending::One(Item::Value(p)));
                }
            }
        }
        if self.stack.is_empty() {
            Step::Done
        } else {
            Step::Full
        }
    }

    fn many(&mut self, items: impl Iterator<Item = Item<'a>> + Send + 'a) {
        self.stack.push(Pending::Many(Box::new(items)));
    }

    /// A long string: its header goes in the buffer, its bytes are written from the value.
    fn direct(&mut self, out: &mut Vec<u8>, bytes: &'a [u8]) -> Step<'a> {
        out.push(b'$');
        out.extend_from_slice(bytes.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        self.crlf = true;
        Step::Direct(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Streaming in pieces gives the same bytes as encoding whole, in both protocols.
    #[test]
    fn stream_matches_whole_encoding() {
        let big = "x".repeat(DIRECT_AT + 5);
        let list = Value::list((0..100).map(Value::Int));
        let reply = Reply::Array(vec![
            Reply::Value(Value::Str(big.as_str().into())),
            Reply::Null,
            Reply::Map(vec![(Reply::text("k"), Reply::Value(list))]),
            Reply::Bulk(big.clone().into_bytes().into()),
            Reply::Int(7),
        ]);
        for proto in [2, 3] {
            let mut whole = Vec::new();
            super::reply(&mut whole, &reply, proto);
            let mut streamed = Vec::new();
            let mut buf = Vec::new();
            let mut s = Stream::new(&reply, proto);
            loop {
                match s.fill(&mut buf, 100) {
                    Step::Done => break,
                    Step::Full => {}
                    Step::Direct(bytes) => {
                        streamed.append(&mut buf);
                        streamed.extend_from_slice(bytes);
                        continue;
                    }
                }
                streamed.append(&mut buf);
            }
            streamed.append(&mut buf);
            assert_eq!(streamed, whole, "proto {proto}");
        }
    }
}
