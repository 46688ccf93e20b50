//! The bytes of an effects record ([`crate::format::OP_EFFECTS`]): what one write did
//! (`okdb_engine::effects`). Pure: no files here.
//!
//! ```text
//! payload  = now u64 | keyspace str16 | count u32 | count × effect
//! effect   = tag u8 | …
//!   1 put     space key | expire_at u64 | value
//!   2 del     space key
//!   3 expire  space key | at u64
//!   4 change  space key | n u32 | n × delta
//!   5 flush   str16 (the keyspace)
//!   6 flushall
//!   7 swap    str16 | str16
//!   8 rename  space key | key (the new name)
//! space    = 0 (the record's keyspace) | 1 str16
//! key      = len u32 | bytes
//! value    = form u8 | len u32 | bytes: the checkpoint's value codec (`checkpoint::value_form`:
//!            2 a string's UTF-8, 4 bytes, 0 typed JSON for anything else)
//! list     = count u32 | count × item
//! delta    = tag u8 | fields, in the order `okdb_ops::delta::Delta` declares them
//! ```
//!
//! Integers are little-endian. An `Option<i64>` is a byte (0 none, 1 some) and then the i64
//! when present; an end is a byte (0 left, 1 right); a float is its IEEE-754 bits.

use okdb_engine::effects::Effect;
use okdb_engine::key::Key;
use okdb_ops::delta::Delta;
use okdb_ops::seq::End;
use okdb_value::{SmolStr, Value};

const PUT: u8 = 1;
const DEL: u8 = 2;
const EXPIRE: u8 = 3;
const CHANGE: u8 = 4;
const FLUSH: u8 = 5;
const FLUSH_ALL: u8 = 6;
const SWAP: u8 = 7;
const RENAME: u8 = 8;
const OP: u8 = 9;

/// Appends the payload of an effects record.
pub fn encode(now: u64, keyspace: &str, effects: &[Effect], out: &mut Vec<u8>) {
    out.extend_from_slice(&now.to_le_bytes());
    str16(out, keyspace);
    out.extend_from_slice(&(effects.len() as u32).to_le_bytes());
    for e in effects {
        let keyed = |out: &mut Vec<u8>, tag: u8, space: &str, key: &Key| {
            out.push(tag);
            if space == keyspace {
                out.push(0);
            } else {
                out.push(1);
                str16(out, space);
            }
            blob(out, key.as_bytes());
        };
        match e {
            Effect::Put {
                keyspace: s,
                key,
                value,
                expire_at,
            } => {
                keyed(out, PUT, s, key);
                out.extend_from_slice(&expire_at.to_le_bytes());
                put_value(out, value);
            }
            Effect::Del { keyspace: s, key } => keyed(out, DEL, s, key),
            Effect::Expire {
                keyspace: s,
                key,
                at,
            } => {
                keyed(out, EXPIRE, s, key);
                out.extend_from_slice(&at.to_le_bytes());
            }
            Effect::Change {
                keyspace: s,
                key,
                deltas,
            } => {
                keyed(out, CHANGE, s, key);
                out.extend_from_slice(&(deltas.len() as u32).to_le_bytes());
                for d in deltas {
                    put_delta(out, d);
                }
            }
            Effect::Rename {
                keyspace: s,
                from,
                to,
            } => {
                keyed(out, RENAME, s, from);
                blob(out, to.as_bytes());
            }
            Effect::Flush { keyspace: s } => {
                out.push(FLUSH);
                str16(out, s);
            }
            Effect::FlushAll => out.push(FLUSH_ALL),
            Effect::Swap { a, b } => {
                out.push(SWAP);
                str16(out, a);
                str16(out, b);
            }
            Effect::Op(op) => {
                out.push(OP);
                str16(out, op);
            }
        }
    }
}

fn str16(out: &mut Vec<u8>, s: &str) {
    let b = &s.as_bytes()[..s.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(b.len() as u16).to_le_bytes());
    out.extend_from_slice(b);
}

fn blob(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    let (form, raw) = crate::checkpoint::value_form(v);
    out.push(form as u8);
    blob(out, &raw);
}

/// A list: its length, then each item as `put` writes it.
fn put_many<T>(out: &mut Vec<u8>, items: &[T], put: impl Fn(&mut Vec<u8>, &T)) {
    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
    for x in items {
        put(out, x);
    }
}

fn put_text(out: &mut Vec<u8>, t: &SmolStr) {
    blob(out, t.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, x: Option<i64>) {
    match x {
        None => out.push(0),
        Some(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
    }
}

fn put_end(out: &mut Vec<u8>, e: End) {
    out.push(match e {
        End::Left => 0,
        End::Right => 1,
    });
}

fn put_delta(out: &mut Vec<u8>, d: &Delta) {
    let i64s = |out: &mut Vec<u8>, xs: &[i64]| {
        for x in xs {
            out.extend_from_slice(&x.to_le_bytes());
        }
    };
    match d {
        Delta::Push { end, items } => {
            out.push(1);
            put_end(out, *end);
            put_many(out, items, put_value);
        }
        Delta::Pop { end, count } => {
            out.push(2);
            put_end(out, *end);
            i64s(out, &[*count as i64]);
        }
        Delta::SetAt { index, value } => {
            out.push(3);
            i64s(out, &[*index]);
            put_value(out, value);
        }
        Delta::Insert { index, value } => {
            out.push(4);
            i64s(out, &[*index]);
            put_value(out, value);
        }
        Delta::DeleteAt { index } => {
            out.push(5);
            i64s(out, &[*index]);
        }
        Delta::Splice { start, stop, with } => {
            out.push(6);
            put_opt(out, *start);
            put_opt(out, *stop);
            put_value(out, with);
        }
        Delta::DeleteSlice { start, stop, step } => {
            out.push(7);
            put_opt(out, *start);
            put_opt(out, *stop);
            i64s(out, &[*step]);
        }
        Delta::Remove { value, count } => {
            out.push(8);
            put_value(out, value);
            i64s(out, &[*count]);
        }
        Delta::Trim { start, stop } => {
            out.push(9);
            i64s(out, &[*start, *stop]);
        }
        Delta::Reverse => out.push(10),
        Delta::Sort { reverse, by } => {
            out.push(11);
            out.push(*reverse as u8);
            match by {
                None => out.push(0),
                Some(f) => {
                    out.push(1);
                    blob(out, f.as_bytes());
                }
            }
        }
        Delta::AppendText(t) => {
            out.push(12);
            put_text(out, t);
        }
        Delta::SetFields(pairs) => {
            out.push(13);
            put_many(out, pairs, |out, (f, v)| {
                put_text(out, f);
                put_value(out, v);
            });
        }
        Delta::DeleteFields(fields) => {
            out.push(14);
            put_many(out, fields, put_text);
        }
        Delta::AddMembers(m) => {
            out.push(15);
            put_many(out, m, put_value);
        }
        Delta::DiscardMembers(m) => {
            out.push(16);
            put_many(out, m, put_value);
        }
        Delta::SetScores(pairs) => {
            out.push(17);
            put_many(out, pairs, |out, (m, score)| {
                put_text(out, m);
                out.extend_from_slice(&score.to_bits().to_le_bytes());
            });
        }
        Delta::RemoveScored(m) => {
            out.push(18);
            put_many(out, m, put_text);
        }
        Delta::RemoveRanks { start, stop } => {
            out.push(19);
            i64s(out, &[*start as i64, *stop as i64]);
        }
        Delta::QueueAdd(pairs) => {
            out.push(20);
            put_many(out, pairs, |out, (item, priority)| {
                put_value(out, item);
                put_value(out, priority);
            });
        }
        Delta::QueuePop { count } => {
            out.push(21);
            i64s(out, &[*count as i64]);
        }
        Delta::WriteBytes { offset, bytes } => {
            out.push(22);
            i64s(out, &[*offset as i64]);
            blob(out, bytes);
        }
    }
}

/// Reads a payload written by [`encode`]: the clock, the keyspace and the effects; None if
/// the bytes are not one.
pub fn decode(p: &[u8]) -> Option<(u64, SmolStr, Vec<Effect>)> {
    let mut r = Reader { p, at: 0 };
    let now = r.u64()?;
    let keyspace: SmolStr = r.str16()?;
    let n = r.u32()? as usize;
    let mut effects = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let tag = r.u8()?;
        let keyed = |r: &mut Reader| -> Option<(SmolStr, Key)> {
            let space = match r.u8()? {
                0 => keyspace.clone(),
                1 => r.str16()?,
                _ => return None,
            };
            Some((space, Key::new(r.blob()?)))
        };
        effects.push(match tag {
            PUT => {
                let (keyspace, key) = keyed(&mut r)?;
                let expire_at = r.u64()?;
                Effect::Put {
                    keyspace,
                    key,
                    value: r.value()?,
                    expire_at,
                }
            }
            DEL => {
                let (keyspace, key) = keyed(&mut r)?;
                Effect::Del { keyspace, key }
            }
            EXPIRE => {
                let (keyspace, key) = keyed(&mut r)?;
                Effect::Expire {
                    keyspace,
                    key,
                    at: r.u64()?,
                }
            }
            CHANGE => {
                let (keyspace, key) = keyed(&mut r)?;
                let n = r.u32()? as usize;
                let mut deltas = Vec::with_capacity(n.min(1024));
                for _ in 0..n {
                    deltas.push(r.delta()?);
                }
                Effect::Change {
                    keyspace,
                    key,
                    deltas,
                }
            }
            RENAME => {
                let (keyspace, from) = keyed(&mut r)?;
                Effect::Rename {
                    keyspace,
                    from,
                    to: Key::new(r.blob()?),
                }
            }
            FLUSH => Effect::Flush {
                keyspace: r.str16()?,
            },
            FLUSH_ALL => Effect::FlushAll,
            SWAP => Effect::Swap {
                a: r.str16()?,
                b: r.str16()?,
            },
            OP => Effect::Op(r.str16()?),
            _ => return None,
        });
    }
    (r.at == p.len()).then_some((now, keyspace, effects))
}

struct Reader<'a> {
    p: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.p.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn i64(&mut self) -> Option<i64> {
        Some(self.u64()? as i64)
    }

    fn str16(&mut self) -> Option<SmolStr> {
        let n = u16::from_le_bytes(self.take(2)?.try_into().ok()?) as usize;
        Some(std::str::from_utf8(self.take(n)?).ok()?.into())
    }

    fn blob(&mut self) -> Option<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn text(&mut self) -> Option<SmolStr> {
        Some(std::str::from_utf8(self.blob()?).ok()?.into())
    }

    fn value(&mut self) -> Option<Value> {
        let form = self.u8()?;
        crate::checkpoint::decode_value(form as i64, self.blob()?).ok()
    }

    /// A list: its length, then that many items as `item` reads them.
    fn many<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        let n = self.u32()? as usize;
        let mut out = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            out.push(item(self)?);
        }
        Some(out)
    }

    fn opt(&mut self) -> Option<Option<i64>> {
        match self.u8()? {
            0 => Some(None),
            1 => Some(Some(self.i64()?)),
            _ => None,
        }
    }

    fn end(&mut self) -> Option<End> {
        match self.u8()? {
            0 => Some(End::Left),
            1 => Some(End::Right),
            _ => None,
        }
    }

    fn count(&mut self) -> Option<usize> {
        usize::try_from(self.u64()?).ok()
    }

    fn delta(&mut self) -> Option<Delta> {
        Some(match self.u8()? {
            1 => Delta::Push {
                end: self.end()?,
                items: self.many(Self::value)?,
            },
            2 => Delta::Pop {
                end: self.end()?,
                count: self.count()?,
            },
            3 => Delta::SetAt {
                index: self.i64()?,
                value: self.value()?,
            },
            4 => Delta::Insert {
                index: self.i64()?,
                value: self.value()?,
            },
            5 => Delta::DeleteAt { index: self.i64()? },
            6 => Delta::Splice {
                start: self.opt()?,
                stop: self.opt()?,
                with: self.value()?,
            },
            7 => Delta::DeleteSlice {
                start: self.opt()?,
                stop: self.opt()?,
                step: self.i64()?,
            },
            8 => Delta::Remove {
                value: self.value()?,
                count: self.i64()?,
            },
            9 => Delta::Trim {
                start: self.i64()?,
                stop: self.i64()?,
            },
            10 => Delta::Reverse,
            11 => Delta::Sort {
                reverse: match self.u8()? {
                    0 => false,
                    1 => true,
                    _ => return None,
                },
                by: match self.u8()? {
                    0 => None,
                    1 => Some(self.text()?),
                    _ => return None,
                },
            },
            12 => Delta::AppendText(self.text()?),
            13 => Delta::SetFields(self.many(|r| Some((r.text()?, r.value()?)))?),
            14 => Delta::DeleteFields(self.many(Self::text)?),
            15 => Delta::AddMembers(self.many(Self::value)?),
            16 => Delta::DiscardMembers(self.many(Self::value)?),
            17 => Delta::SetScores(self.many(|r| Some((r.text()?, f64::from_bits(r.u64()?))))?),
            18 => Delta::RemoveScored(self.many(Self::text)?),
            19 => Delta::RemoveRanks {
                start: self.count()?,
                stop: self.count()?,
            },
            20 => Delta::QueueAdd(self.many(|r| Some((r.value()?, r.value()?)))?),
            21 => Delta::QueuePop {
                count: self.count()?,
            },
            22 => Delta::WriteBytes {
                offset: self.count()?,
                bytes: self.blob()?.to_vec(),
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of every effect and every delta, with every kind of value encoding.
    fn every_effect() -> Vec<Effect> {
        let k = |s: &str| Key::new(s.as_bytes());
        let values = vec![
            Value::str("text"),
            Value::Bytes(vec![0xff, 0, 1].into()),
            Value::Int(-7),
            Value::Float(2.5),
            Value::list([Value::Int(1), Value::Null]),
            okdb_value::json::from_str(r#"{"$decimal": "12.30"}"#).unwrap(),
        ];
        let deltas = vec![
            Delta::Push {
                end: End::Left,
                items: values.clone(),
            },
            Delta::Pop {
                end: End::Right,
                count: 3,
            },
            Delta::SetAt {
                index: -1,
                value: Value::str("x"),
            },
            Delta::Insert {
                index: 2,
                value: Value::Int(4),
            },
            Delta::DeleteAt { index: 0 },
            Delta::Splice {
                start: None,
                stop: Some(-2),
                with: Value::list([]),
            },
            Delta::DeleteSlice {
                start: Some(1),
                stop: None,
                step: -2,
            },
            Delta::Remove {
                value: Value::str("a"),
                count: -2,
            },
            Delta::Trim { start: 1, stop: -1 },
            Delta::Reverse,
            Delta::Sort {
                reverse: true,
                by: Some("age".into()),
            },
            Delta::Sort {
                reverse: false,
                by: None,
            },
            Delta::AppendText("tail".into()),
            Delta::SetFields(vec![("f".into(), Value::Int(1))]),
            Delta::DeleteFields(vec!["f".into(), "g".into()]),
            Delta::AddMembers(values.clone()),
            Delta::DiscardMembers(vec![Value::Int(1)]),
            Delta::SetScores(vec![("m".into(), -0.5), ("n".into(), f64::INFINITY)]),
            Delta::RemoveScored(vec!["m".into()]),
            Delta::RemoveRanks { start: 0, stop: 2 },
            Delta::QueueAdd(vec![(Value::str("job"), Value::Int(3))]),
            Delta::QueuePop { count: 1 },
            Delta::WriteBytes {
                offset: 3,
                bytes: vec![0xff, 0],
            },
        ];
        let mut out: Vec<Effect> = values
            .into_iter()
            .enumerate()
            .map(|(i, value)| Effect::Put {
                keyspace: if i % 2 == 0 {
                    "0".into()
                } else {
                    "other".into()
                },
                key: k(&format!("k{i}")),
                value,
                expire_at: i as u64 * 1000,
            })
            .collect();
        out.extend([
            Effect::Del {
                keyspace: "0".into(),
                key: Key::new(b"\xff\x00bin"),
            },
            Effect::Expire {
                keyspace: "0".into(),
                key: k("e"),
                at: 1_700_000_000_123,
            },
            Effect::Change {
                keyspace: "users".into(),
                key: k("c"),
                deltas,
            },
            Effect::Flush {
                keyspace: "3".into(),
            },
            Effect::FlushAll,
            Effect::Swap {
                a: "0".into(),
                b: "1".into(),
            },
            Effect::Op("lpush".into()),
            Effect::Rename {
                keyspace: "other".into(),
                from: k("old"),
                to: k("new"),
            },
        ]);
        out
    }

    #[test]
    fn every_effect_round_trips() {
        let effects = every_effect();
        let mut buf = Vec::new();
        encode(42, "0", &effects, &mut buf);
        let (now, ks, back) = decode(&buf).expect("decodes");
        assert_eq!((now, ks.as_str()), (42, "0"));
        assert_eq!(back, effects);
    }

    #[test]
    fn every_truncation_and_trailing_byte_is_refused() {
        let mut buf = Vec::new();
        encode(1, "0", &every_effect(), &mut buf);
        for cut in 0..buf.len() {
            assert!(decode(&buf[..cut]).is_none(), "cut at {cut}");
        }
        buf.push(0);
        assert!(decode(&buf).is_none());
    }
}
