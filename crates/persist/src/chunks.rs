//! Large values in chunks, so that a small change to one rewrites a chunk, not the value, and
//! no value meets SQLite's limit on one blob (about 1 GB), and a checkpoint encodes a large
//! value a chunk at a time (its memory stays about one chunk, not a copy of the value).
//!
//! A string or bytes value longer than [`BYTES_CHUNK`] is cut every [`BYTES_CHUNK`] bytes (a
//! string at the character boundary at or before it), so `APPEND` changes the last chunk and
//! `SETRANGE` the ones it touches.
//!
//! A list, set or dict of more than [`CHUNK_FROM`] elements is cut into chunks where the
//! content says so: after an element whose encoding hashes to 0 modulo [`CHUNK_AVG`] (about that
//! many elements per chunk; at most [`CHUNK_MAX`]). Because the cuts follow the content, not
//! positions, pushing onto a list or adding to a set changes the one chunk the element lands in
//! and leaves the others byte for byte the same. Elements go in the collection's own order
//! (a list's order, a set's sorted order, a dict's insertion order).
//!
//! Each chunk is stored as a value of the same type (typed JSON, lz4 when it pays) under the
//! 64-bit hash of its bytes; the key's row lists its chunks' hashes in order. A checkpoint
//! writes only the chunks whose hash the row did not list before and deletes the ones it no
//! longer lists.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;

use okdb_value::{Deque, Dict, List, PQueue, Set, SmolStr, SortedSet, Value};

/// Collections with more elements than this are stored in chunks.
pub const CHUNK_FROM: usize = 1024;
/// Strings and bytes longer than this are stored in chunks of this many bytes.
pub const BYTES_CHUNK: usize = 1 << 20;
/// Elements per chunk, on average.
pub const CHUNK_AVG: u32 = 256;
/// Most elements in a chunk (a cut is forced here if the content offers none).
pub const CHUNK_MAX: usize = 4 * CHUNK_AVG as usize;

/// One chunk: its hash (the key it is stored under), codec and bytes.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub hash: i64,
    pub codec: i64,
    pub data: Vec<u8>,
}

/// Where to cut: after an element whose typed JSON hashes to 0 modulo [`CHUNK_AVG`].
fn cut_after(json: &str) -> bool {
    crc32c::crc32c(json.as_bytes()).is_multiple_of(CHUNK_AVG)
}

/// The 64-bit hash a chunk is stored under (SipHash with fixed keys: the same bytes give the
/// same hash from run to run; should a Rust release change it, the next checkpoint of a
/// collection rewrites its chunks once).
pub fn hash(data: &[u8]) -> i64 {
    let mut h = DefaultHasher::new();
    h.write(data);
    h.write_usize(data.len());
    h.finish() as i64
}

/// Hands `f` runs of `items` cut at content-defined cuts; `json` gives an item's cut text.
/// A run also ends at [`CHUNK_MAX`] items or once its items' text passes [`BYTES_CHUNK`]
/// bytes, so no chunk is much larger than that (a single item larger than it is a chunk of its
/// own). Holds one run at a time.
fn split<T>(
    items: impl Iterator<Item = T>,
    json: impl Fn(&T) -> String,
    mut f: impl FnMut(Vec<T>),
) {
    let mut run = Vec::new();
    let mut bytes = 0;
    for item in items {
        let text = json(&item);
        let cut = cut_after(&text);
        bytes += text.len();
        run.push(item);
        if cut || run.len() == CHUNK_MAX || bytes >= BYTES_CHUNK {
            f(std::mem::take(&mut run));
            bytes = 0;
        }
    }
    if !run.is_empty() {
        f(run);
    }
}

/// Whether `v` is stored in chunks: a collection of many elements, or of few but large ones.
pub fn is_chunked(v: &Value) -> bool {
    match v {
        Value::List(l) => l.len() > CHUNK_FROM || larger_than(v, BYTES_CHUNK),
        Value::Set(s) => s.len() > CHUNK_FROM || larger_than(v, BYTES_CHUNK),
        Value::Dict(d) => d.len() > CHUNK_FROM || larger_than(v, BYTES_CHUNK),
        Value::SortedSet(z) => {
            z.len() > CHUNK_FROM || z.iter().map(|(m, _)| m.len() + 12).sum::<usize>() > BYTES_CHUNK
        }
        Value::Deque(d) => d.items.len() > CHUNK_FROM || larger_than(v, BYTES_CHUNK),
        Value::PQueue(q) => q.len() > CHUNK_FROM || larger_than(v, BYTES_CHUNK),
        Value::Str(s) => s.as_str().len() > BYTES_CHUNK,
        Value::Bytes(b) => b.len() > BYTES_CHUNK,
        _ => false,
    }
}

/// Whether `v`'s strings and bytes (at any depth, plus a little per element) come to more than
/// `limit` bytes; the walk (`Value::walk`, no recursion) stops as soon as they do.
fn larger_than(v: &Value, limit: usize) -> bool {
    let mut total = 0usize;
    let mut over = false;
    v.walk(|x, key| {
        total += key.map_or(0, |k| k.len() + 4)
            + match x {
                Value::Str(s) => s.as_str().len(),
                Value::Bytes(b) => b.len(),
                Value::List(_) | Value::Set(_) | Value::Dict(_) => 2,
                Value::SortedSet(z) => z.iter().map(|(m, _)| m.len() + 12).sum(),
                _ => 8,
            };
        over = total > limit;
        if over {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    });
    over
}

/// Hands `f` the chunks of `v`, in order, each a value of its type, one at a time; false (and
/// nothing handed over) if `v` is not stored in chunks.
pub fn for_each_chunk(v: &Value, mut f: impl FnMut(Value)) -> bool {
    if !is_chunked(v) {
        return false;
    }
    let to_json = |v: &Value| okdb_value::json::to_string(v);
    match v {
        Value::List(l) => split(l.values(), to_json, |run| {
            f(Value::List(Box::new(run.into_iter().collect::<List>())))
        }),
        Value::Set(s) => split(s.iter().cloned(), to_json, |run| {
            f(Value::Set(Box::new(run.into_iter().collect::<Set>())))
        }),
        Value::Dict(d) => split(
            d.iter().map(|(k, v)| (k.clone(), v.clone())),
            |(k, v): &(SmolStr, Value)| format!("{k}\u{0}{}", to_json(v)),
            |run| f(Value::Dict(run.into_iter().collect::<Dict>())),
        ),
        Value::Deque(d) => split(d.items.values(), to_json, |run| {
            let items = run.into_iter().collect::<List>();
            f(Value::Deque(Box::new(Deque {
                items,
                maxlen: d.maxlen,
            })))
        }),
        Value::PQueue(q) => split(
            q.iter().map(|(p, x)| (p.clone(), x.clone())),
            |(p, x): &(Value, Value)| format!("{}\u{0}{}", to_json(p), to_json(x)),
            |run| f(Value::PQueue(Box::new(run.into_iter().collect::<PQueue>()))),
        ),
        Value::SortedSet(z) => split(
            z.iter().map(|(m, s)| (m.clone(), s)),
            |(m, s): &(SmolStr, f64)| format!("{m}\u{0}{s}"),
            |run| {
                f(Value::SortedSet(Box::new(
                    run.into_iter().collect::<SortedSet>(),
                )))
            },
        ),
        Value::Str(s) => {
            let mut rest = s.as_str();
            while !rest.is_empty() {
                let mut cut = rest.len().min(BYTES_CHUNK);
                while !rest.is_char_boundary(cut) {
                    cut -= 1;
                }
                f(Value::str(&rest[..cut]));
                rest = &rest[cut..];
            }
        }
        Value::Bytes(b) => {
            for piece in b.chunks(BYTES_CHUNK) {
                f(Value::Bytes(piece.into()));
            }
        }
        _ => unreachable!("is_chunked says which types are"),
    }
    true
}

/// The chunks of `v`, or None if it is not stored in chunks (tests; checkpoints use
/// [`for_each_chunk`], which holds one chunk at a time).
pub fn split_value(v: &Value) -> Option<Vec<Value>> {
    let mut parts = Vec::new();
    for_each_chunk(v, |p| parts.push(p)).then_some(parts)
}

/// Joins decoded chunks back into one value of their type.
pub fn join(parts: Vec<Value>) -> Result<Value, String> {
    join_each(parts.into_iter().map(Ok))
}

/// Joins chunks as they are decoded, one at a time (loading holds one chunk besides the value
/// it builds), stopping at the first error.
pub fn join_each(parts: impl Iterator<Item = Result<Value, String>>) -> Result<Value, String> {
    let mut parts = parts;
    let Some(first) = parts.next().transpose()? else {
        return Err("a chunked value with no chunks".into());
    };
    match first {
        Value::List(mut all) => {
            for p in parts.by_ref() {
                let p = p?;
                let Value::List(l) = p else {
                    return Err("a list chunk that is not a list".into());
                };
                all.append(*l);
            }
            Ok(Value::List(all))
        }
        Value::Set(mut all) => {
            for p in parts.by_ref() {
                let p = p?;
                let Value::Set(s) = p else {
                    return Err("a set chunk that is not a set".into());
                };
                all.extend(*s);
            }
            Ok(Value::Set(all))
        }
        Value::Deque(mut all) => {
            for p in parts.by_ref() {
                let Value::Deque(d) = p? else {
                    return Err("a deque chunk that is not a deque".into());
                };
                all.items.append(d.items);
            }
            Ok(Value::Deque(all))
        }
        Value::PQueue(mut all) => {
            for p in parts.by_ref() {
                let Value::PQueue(q) = p? else {
                    return Err("a pqueue chunk that is not a pqueue".into());
                };
                for (priority, item) in q.iter() {
                    all.push(priority.clone(), item.clone());
                }
            }
            Ok(Value::PQueue(all))
        }
        Value::SortedSet(mut all) => {
            for p in parts.by_ref() {
                let p = p?;
                let Value::SortedSet(z) = p else {
                    return Err("a sorted set chunk that is not a sorted set".into());
                };
                for (m, s) in z.iter() {
                    all.push(m.clone(), s);
                }
            }
            Ok(Value::SortedSet(all))
        }
        Value::Dict(mut all) => {
            for p in parts.by_ref() {
                let p = p?;
                let Value::Dict(d) = p else {
                    return Err("a dict chunk that is not a dict".into());
                };
                for (k, v) in d.iter() {
                    all.insert(k.clone(), v.clone());
                }
            }
            Ok(Value::Dict(all))
        }
        Value::Str(first) => {
            let mut all = String::from(first.as_str());
            for p in parts.by_ref() {
                let p = p?;
                let Value::Str(s) = p else {
                    return Err("a string chunk that is not a string".into());
                };
                all.push_str(s.as_str());
            }
            Ok(Value::str(&all))
        }
        Value::Bytes(first) => {
            let mut all = first.to_vec();
            for p in parts.by_ref() {
                let p = p?;
                let Value::Bytes(b) = p else {
                    return Err("a bytes chunk that is not bytes".into());
                };
                all.extend_from_slice(&b);
            }
            Ok(Value::Bytes(all.into()))
        }
        other => Err(format!("a chunk of type {}", other.type_name())),
    }
}

/// A row's list of chunk hashes, as stored in its `value`.
pub fn hash_list(chunks: &[Chunk]) -> Vec<u8> {
    chunks.iter().flat_map(|c| c.hash.to_le_bytes()).collect()
}

/// Reads a row's list of chunk hashes.
pub fn parse_hash_list(bytes: &[u8]) -> Result<Vec<i64>, String> {
    if !bytes.len().is_multiple_of(8) {
        return Err(format!("a chunk list of {} bytes", bytes.len()));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(range: std::ops::Range<i64>) -> Value {
        Value::List(Box::new(range.map(Value::Int).collect::<List>()))
    }

    fn hashes(v: &Value) -> Vec<i64> {
        split_value(v)
            .unwrap()
            .iter()
            .map(|c| hash(okdb_value::json::to_string(c).as_bytes()))
            .collect()
    }

    #[test]
    fn small_values_are_not_chunked() {
        assert!(split_value(&list(0..CHUNK_FROM as i64)).is_none());
        assert!(split_value(&Value::str("x")).is_none());
    }

    #[test]
    fn chunks_join_back_into_the_value() {
        let l = list(0..20_000);
        let parts = split_value(&l).unwrap();
        assert!(parts.len() > 20_000 / CHUNK_MAX, "{} chunks", parts.len());
        assert_eq!(join(parts).unwrap(), l);

        let s = Value::Set(Box::new((0..5000).map(Value::Int).collect::<Set>()));
        assert_eq!(join(split_value(&s).unwrap()).unwrap(), s);

        let d = Value::Dict(
            (0..5000)
                .map(|i| (SmolStr::from(format!("f{i}")), Value::Int(i)))
                .collect::<Dict>(),
        );
        let back = join(split_value(&d).unwrap()).unwrap();
        assert_eq!(
            okdb_value::json::to_string(&back),
            okdb_value::json::to_string(&d)
        );

        // A large dict with removed places, and a sorted set whose members moved, come back
        // with the same contents and order.
        let Value::Dict(mut holes) = d else {
            unreachable!()
        };
        for i in (0..5000).step_by(3) {
            holes.remove(&format!("f{i}"));
        }
        holes.insert("f0".into(), Value::Int(-1));
        let d = Value::Dict(holes);
        let back = join(split_value(&d).unwrap()).unwrap();
        assert_eq!(
            okdb_value::json::to_string(&back),
            okdb_value::json::to_string(&d)
        );
        let mut z = SortedSet::new();
        for i in 0..5000 {
            z.insert(SmolStr::from(format!("m{i}")), (i % 50) as f64);
        }
        for i in (0..5000).step_by(7) {
            z.insert(SmolStr::from(format!("m{i}")), -(i as f64));
        }
        let z = Value::SortedSet(Box::new(z));
        assert_eq!(join(split_value(&z).unwrap()).unwrap(), z);

        // A packed list of every packable kind comes back packed and the same, byte for byte
        // in typed JSON (-0.0, ints of every width, bytes, long strings); a list turned into a
        // list of values by one dict comes back with the dict where it was.
        let kinds = |i: i64| match i % 7 {
            0 => Value::Int(i << (i % 60)),
            1 => Value::Float(if i % 2 == 0 { -0.0 } else { i as f64 / 3.0 }),
            2 => Value::Bytes(vec![0xff, (i % 256) as u8].into()),
            3 => Value::str(&"é".repeat((i % 256) as usize)),
            4 => Value::Bool(i % 2 == 0),
            5 => Value::Null,
            _ => Value::str(&format!("v{i}")),
        };
        let packed: List = (0..6000).map(kinds).collect();
        assert!(packed.is_packed());
        let v = Value::List(Box::new(packed));
        let back = join(split_value(&v).unwrap()).unwrap();
        assert_eq!(
            okdb_value::json::to_string(&back),
            okdb_value::json::to_string(&v)
        );
        let Value::List(back) = back else {
            unreachable!()
        };
        assert!(back.is_packed());
        let Value::List(mut mixed) = v else {
            unreachable!()
        };
        mixed.insert(3000, Value::Dict(Dict::new()));
        assert!(!mixed.is_packed());
        let v = Value::List(mixed);
        let back = join(split_value(&v).unwrap()).unwrap();
        assert_eq!(
            okdb_value::json::to_string(&back),
            okdb_value::json::to_string(&v)
        );
    }

    #[test]
    fn long_strings_and_bytes_are_chunked_and_an_append_changes_the_last_chunk() {
        // Multi-byte characters straddle the chunk size: cuts fall on character boundaries.
        let text: String = "aé€😀".repeat(BYTES_CHUNK / 3);
        let v = Value::str(&text);
        let parts = split_value(&v).unwrap();
        assert!(parts.len() >= 3, "{} chunks", parts.len());
        assert_eq!(join(parts.clone()).unwrap(), v);
        let longer = Value::str(&format!("{text}more"));
        let after = split_value(&longer).unwrap();
        assert_eq!(after.len(), parts.len());
        assert_eq!(after[..parts.len() - 1], parts[..parts.len() - 1]);

        let b = Value::Bytes(
            (0..BYTES_CHUNK * 2 + 5)
                .map(|i| i as u8)
                .collect::<Vec<_>>()
                .into(),
        );
        let parts = split_value(&b).unwrap();
        assert_eq!(parts.len(), 3);
        assert_eq!(join(parts).unwrap(), b);
        assert!(split_value(&Value::str(&"x".repeat(BYTES_CHUNK))).is_none());
    }

    #[test]
    fn a_few_large_elements_are_chunked_by_size() {
        let big = "y".repeat(BYTES_CHUNK / 2);
        let d = Value::Dict(
            (0..20)
                .map(|i| (SmolStr::from(format!("f{i}")), Value::str(&big)))
                .collect::<Dict>(),
        );
        let parts = split_value(&d).expect("20 half-MiB fields are chunked");
        assert!(parts.len() >= 10, "{} chunks", parts.len());
        for p in &parts {
            assert!(okdb_value::json::to_string(p).len() < 2 * BYTES_CHUNK);
        }
        let back = join(parts).unwrap();
        assert_eq!(
            okdb_value::json::to_string(&back),
            okdb_value::json::to_string(&d)
        );
        let small = Value::List(Box::new((0..10).map(|_| Value::str("a")).collect::<List>()));
        assert!(split_value(&small).is_none());
    }

    #[test]
    fn a_push_changes_one_chunk() {
        let before = hashes(&list(1..20_000));
        let after = hashes(&list(0..20_000));
        let changed = after.iter().filter(|h| !before.contains(h)).count();
        assert_eq!(changed, 1, "{} of {} chunks changed", changed, after.len());
    }

    #[test]
    fn hash_lists_round_trip() {
        let chunks: Vec<Chunk> = [5i64, -1, 0]
            .iter()
            .map(|&h| Chunk {
                hash: h,
                codec: 0,
                data: vec![],
            })
            .collect();
        assert_eq!(
            parse_hash_list(&hash_list(&chunks)).unwrap(),
            vec![5, -1, 0]
        );
        assert!(parse_hash_list(&[1, 2, 3]).is_err());
    }
}
