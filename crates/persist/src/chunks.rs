//! Large collections in chunks, so that a small change to one rewrites a chunk, not the value.
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

use okdb_value::{Dict, List, Set, SmolStr, Value};

/// Collections with more elements than this are stored in chunks.
pub const CHUNK_FROM: usize = 1024;
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

/// Splits `items` into runs at content-defined cuts; `json` gives an item's cut text.
fn split<T>(items: impl Iterator<Item = T>, json: impl Fn(&T) -> String) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut run = Vec::new();
    for item in items {
        let cut = cut_after(&json(&item));
        run.push(item);
        if cut || run.len() == CHUNK_MAX {
            out.push(std::mem::take(&mut run));
        }
    }
    if !run.is_empty() {
        out.push(run);
    }
    out
}

/// The chunks of `v` as values of its type, or None if it is not a collection big enough.
pub fn split_value(v: &Value) -> Option<Vec<Value>> {
    let to_json = |v: &Value| okdb_value::json::to_string(v);
    match v {
        Value::List(l) if l.len() > CHUNK_FROM => Some(
            split(l.iter().cloned(), to_json)
                .into_iter()
                .map(|run| Value::List(Box::new(run.into_iter().collect::<List>())))
                .collect(),
        ),
        Value::Set(s) if s.len() > CHUNK_FROM => Some(
            split(s.iter().cloned(), to_json)
                .into_iter()
                .map(|run| Value::Set(Box::new(run.into_iter().collect::<Set>())))
                .collect(),
        ),
        Value::Dict(d) if d.len() > CHUNK_FROM => Some(
            split(
                d.iter().map(|(k, v)| (k.clone(), v.clone())),
                |(k, v): &(SmolStr, Value)| format!("{k}\u{0}{}", to_json(v)),
            )
            .into_iter()
            .map(|run| Value::Dict(Box::new(run.into_iter().collect::<Dict>())))
            .collect(),
        ),
        _ => None,
    }
}

/// Joins decoded chunks back into one value of their type.
pub fn join(parts: Vec<Value>) -> Result<Value, String> {
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return Err("a chunked value with no chunks".into());
    };
    match first {
        Value::List(mut all) => {
            for p in parts {
                let Value::List(l) = p else {
                    return Err("a list chunk that is not a list".into());
                };
                all.append(*l);
            }
            Ok(Value::List(all))
        }
        Value::Set(mut all) => {
            for p in parts {
                let Value::Set(s) = p else {
                    return Err("a set chunk that is not a set".into());
                };
                all.extend(*s);
            }
            Ok(Value::Set(all))
        }
        Value::Dict(mut all) => {
            for p in parts {
                let Value::Dict(d) = p else {
                    return Err("a dict chunk that is not a dict".into());
                };
                for (k, v) in d.iter() {
                    all.insert(k.clone(), v.clone());
                }
            }
            Ok(Value::Dict(all))
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

        let d = Value::Dict(Box::new(
            (0..5000)
                .map(|i| (SmolStr::from(format!("f{i}")), Value::Int(i)))
                .collect::<Dict>(),
        ));
        let back = join(split_value(&d).unwrap()).unwrap();
        assert_eq!(
            okdb_value::json::to_string(&back),
            okdb_value::json::to_string(&d)
        );
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
