//! The journal's byte format. Pure: no files here.
//!
//! A segment file starts with a 16-byte header: the magic `OKDBJRNL`, the format version
//! (u32, little-endian) and four reserved zero bytes. Records follow, each:
//!
//! ```text
//! len u32 | crc32c u32 | lsn u64 | op u8 | payload (len bytes)
//! ```
//!
//! All integers little-endian; `crc32c` covers `lsn | op | payload`.
//!
//! A write is [`OP_EFFECTS`] (format version 3): what it did, as effects (the values put, the
//! keys deleted, the deltas made, absolute expiry times; payload in [`crate::effects`]).
//! Replay applies them; no command runs.
//!
//! Journals from before effects (versions 1 and 2) hold a write as the command that ran, and
//! are still read: [`OP_COMMAND`] (its arguments read as strict literals: every record written
//! before the faithful literal rule, and writes from a `CLIENT LITERALS strict` connection) or
//! [`OP_COMMAND_FAITHFUL`] (read as faithful literals, the default over RESP). Replay runs such
//! a command again. Their payload:
//!
//! ```text
//! now u64 (unix ms) | keyspace: len u16, bytes | argc u32 | argc × (len u32, bytes)
//! ```
//!
//! Two ops are marks, not writes (format version 2):
//! - [`OP_SYNCED`], empty payload, the `lsn` field holding a byte offset: every byte of this
//!   segment before that offset had been fsynced when the mark was written. The writer appends
//!   one after each fsync, so recovery can tell a torn tail (bytes that were never synced: a
//!   crash may leave them half written) from damage to bytes that were on disk (media damage:
//!   start-up refuses).
//! - [`OP_LOST`], written by `okdb journal repair` where damage took records: the `lsn` field is
//!   the first LSN lost, the payload (u64) the last. Replay passes over the gap it names.
//!
//! Version 4 adds one kind of effect, the op that names the effects after it (the command
//! family the change feed and keyspace notifications report); version 3 segments are the
//! same records without it. Version 1 segments (no marks) and version 2 segments (commands) are
//! read as they always were; the writer never appends to a segment of an older version.

use bytes::Bytes;
use okdb_engine::journal::{Body, Record};
use okdb_value::literal::Literals;

pub const MAGIC: &[u8; 8] = b"OKDBJRNL";
/// The version the writer gives new segments.
pub const VERSION: u32 = 4;
/// The oldest version this okdb reads.
pub const OLDEST_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 16;
/// Bytes before a record's payload: len, crc, lsn, op.
pub const RECORD_HEADER: usize = 4 + 4 + 8 + 1;
pub const OP_COMMAND: u8 = 1;
pub const OP_COMMAND_FAITHFUL: u8 = 2;
pub const OP_SYNCED: u8 = 3;
pub const OP_LOST: u8 = 4;
pub const OP_EFFECTS: u8 = 5;
/// Largest payload a reader accepts; anything larger is corruption (a request is capped far
/// below this by `proto-max-bulk-len` and the query buffer limit).
pub const MAX_PAYLOAD: usize = 1 << 30;

/// The header every segment starts with.
pub fn segment_header() -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Checks a segment header: its version, or the reason it is not one.
pub fn check_header(buf: &[u8]) -> Result<u32, String> {
    if buf.len() < HEADER_LEN {
        return Err(format!(
            "file is {} bytes, shorter than the header",
            buf.len()
        ));
    }
    if &buf[..8] != MAGIC {
        return Err("not an okdb journal segment (bad magic)".into());
    }
    let version = u32::from_le_bytes(buf[8..12].try_into().expect("4 bytes"));
    if !(OLDEST_VERSION..=VERSION).contains(&version) {
        return Err(format!(
            "journal format version {version}, this okdb reads {OLDEST_VERSION} to {VERSION}"
        ));
    }
    Ok(version)
}

/// Appends one record's bytes to `out`.
pub fn encode(rec: &Record, out: &mut Vec<u8>) {
    let (literals, args) = match &rec.body {
        Body::Effects(effects) => {
            framed(out, rec.lsn, OP_EFFECTS, |out| {
                crate::effects::encode(rec.now, &rec.keyspace, effects, out)
            });
            return;
        }
        Body::Command { literals, args } => (literals, args),
    };
    let op = match literals {
        Literals::Strict => OP_COMMAND,
        Literals::Faithful => OP_COMMAND_FAITHFUL,
    };
    framed(out, rec.lsn, op, |out| {
        out.extend_from_slice(&rec.now.to_le_bytes());
        let ks = rec.keyspace.as_bytes();
        let ks = &ks[..ks.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(ks.len() as u16).to_le_bytes());
        out.extend_from_slice(ks);
        out.extend_from_slice(&(args.len() as u32).to_le_bytes());
        for a in args {
            out.extend_from_slice(&(a.len() as u32).to_le_bytes());
            out.extend_from_slice(a);
        }
    });
}

/// Appends a sync mark: the segment's bytes before `offset` were fsynced.
pub fn encode_synced(offset: u64, out: &mut Vec<u8>) {
    framed(out, offset, OP_SYNCED, |_| {});
}

/// Appends a lost-records mark: LSNs `from..=to` were lost to damage.
pub fn encode_lost(from: u64, to: u64, out: &mut Vec<u8>) {
    framed(out, from, OP_LOST, |out| {
        out.extend_from_slice(&to.to_le_bytes())
    });
}

/// Appends `len | crc | lsn | op | payload`, the payload written by `payload`.
fn framed(out: &mut Vec<u8>, lsn: u64, op: u8, payload: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]); // len and crc, filled in below
    out.extend_from_slice(&lsn.to_le_bytes());
    out.push(op);
    let payload_start = out.len();
    payload(out);
    let len = (out.len() - payload_start) as u32;
    let crc = crc32c::crc32c(&out[start + 8..]);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// What [`decode`] found at the front of a buffer.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    /// A record and the bytes it took.
    Record(Record, usize),
    /// A sync mark ([`OP_SYNCED`]): the offset it vouches for, and the bytes it took.
    Synced(u64, usize),
    /// A lost-records mark ([`OP_LOST`]): the first and last LSN lost, and the bytes it took.
    Lost(u64, u64, usize),
    /// The buffer ends inside a record (a torn write, if this is the end of the file).
    Incomplete,
    /// The bytes are not a valid record.
    Corrupt(String),
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Reads the record at the front of `buf`.
pub fn decode(buf: &[u8]) -> Decoded {
    if buf.len() < RECORD_HEADER {
        return Decoded::Incomplete;
    }
    let len = u32_at(buf, 0) as usize;
    if len > MAX_PAYLOAD {
        return Decoded::Corrupt(format!("record length {len} is implausible"));
    }
    let total = RECORD_HEADER + len;
    if buf.len() < total {
        return Decoded::Incomplete;
    }
    let crc = u32_at(buf, 4);
    if crc32c::crc32c(&buf[8..total]) != crc {
        return Decoded::Corrupt("checksum mismatch".into());
    }
    let lsn = u64_at(buf, 8);
    let op = buf[16];
    let payload = &buf[RECORD_HEADER..total];
    let literals = match op {
        OP_EFFECTS => {
            return match crate::effects::decode(payload) {
                Some((now, keyspace, effects)) => Decoded::Record(
                    Record {
                        lsn,
                        now,
                        keyspace,
                        body: Body::Effects(effects),
                    },
                    total,
                ),
                None => Decoded::Corrupt("malformed effects payload".into()),
            };
        }
        OP_COMMAND => Literals::Strict,
        OP_COMMAND_FAITHFUL => Literals::Faithful,
        OP_SYNCED if payload.is_empty() => return Decoded::Synced(lsn, total),
        OP_LOST if payload.len() == 8 => {
            let to = u64_at(payload, 0);
            return if to >= lsn {
                Decoded::Lost(lsn, to, total)
            } else {
                Decoded::Corrupt(format!("lost-records mark {lsn}..={to}"))
            };
        }
        OP_SYNCED | OP_LOST => return Decoded::Corrupt(format!("malformed mark (op {op})")),
        _ => return Decoded::Corrupt(format!("unknown record op {op}")),
    };
    match decode_command(payload, lsn, literals) {
        Some(rec) => Decoded::Record(rec, total),
        None => Decoded::Corrupt("malformed command payload".into()),
    }
}

fn decode_command(p: &[u8], lsn: u64, literals: Literals) -> Option<Record> {
    let mut at = 0usize;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = p.get(at..at.checked_add(n)?)?;
        at += n;
        Some(s)
    };
    let now = u64::from_le_bytes(take(8)?.try_into().ok()?);
    let ks_len = u16::from_le_bytes(take(2)?.try_into().ok()?) as usize;
    let keyspace = std::str::from_utf8(take(ks_len)?).ok()?.into();
    let argc = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
    let mut args = Vec::with_capacity(argc.min(1024));
    for _ in 0..argc {
        let n = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        args.push(Bytes::copy_from_slice(take(n)?));
    }
    if at != p.len() || args.is_empty() {
        return None;
    }
    Some(Record {
        lsn,
        now,
        keyspace,
        body: Body::Command { literals, args },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(lsn: u64, args: &[&str]) -> Record {
        Record {
            lsn,
            now: 1_700_000_000_000 + lsn,
            keyspace: "0".into(),
            body: Body::Command {
                literals: if lsn.is_multiple_of(2) {
                    Literals::Faithful
                } else {
                    Literals::Strict
                },
                args: args
                    .iter()
                    .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                    .collect(),
            },
        }
    }

    fn effects_rec(lsn: u64) -> Record {
        Record {
            lsn,
            now: 1_700_000_000_000 + lsn,
            keyspace: "0".into(),
            body: Body::Effects(vec![okdb_engine::effects::Effect::Put {
                keyspace: "0".into(),
                key: okdb_engine::key::Key::new(b"k"),
                value: okdb_value::Value::str("v"),
                expire_at: 0,
            }]),
        }
    }

    #[test]
    fn records_round_trip() {
        let mut buf = Vec::new();
        let a = rec(1, &["SET", "k", "v"]);
        let b = rec(2, &["DEL", "k", "x", ""]);
        let c = effects_rec(3);
        encode(&a, &mut buf);
        encode(&b, &mut buf);
        let second = buf.len();
        encode(&c, &mut buf);
        let Decoded::Record(got, used) = decode(&buf) else {
            panic!("first record")
        };
        assert_eq!(got, a);
        assert_eq!(
            decode(&buf[used..second]),
            Decoded::Record(b, second - used)
        );
        assert_eq!(
            decode(&buf[second..]),
            Decoded::Record(c, buf.len() - second)
        );
    }

    #[test]
    fn every_truncation_is_incomplete_and_every_flip_is_caught() {
        let mut buf = Vec::new();
        encode(&rec(7, &["SET", "key", "{\"a\": [1, 2]}"]), &mut buf);
        for cut in 0..buf.len() {
            assert_eq!(decode(&buf[..cut]), Decoded::Incomplete, "cut at {cut}");
        }
        for i in 0..buf.len() {
            for bit in 0..8 {
                let mut bad = buf.clone();
                bad[i] ^= 1 << bit;
                assert!(
                    !matches!(decode(&bad), Decoded::Record(..)),
                    "flip of bit {bit} at byte {i} went unnoticed"
                );
            }
        }
    }

    #[test]
    fn marks_round_trip_and_flips_are_caught() {
        let mut buf = Vec::new();
        encode_synced(4096, &mut buf);
        let synced = buf.len();
        encode_lost(10, 12, &mut buf);
        assert_eq!(decode(&buf), Decoded::Synced(4096, synced));
        assert_eq!(
            decode(&buf[synced..]),
            Decoded::Lost(10, 12, buf.len() - synced)
        );
        for i in 0..buf.len() {
            let mut bad = buf.clone();
            bad[i] ^= 0x10;
            let first = decode(&bad);
            let second = decode(&bad[synced..]);
            assert!(
                (i >= synced || !matches!(first, Decoded::Synced(..)))
                    && (i < synced || !matches!(second, Decoded::Lost(..))),
                "flip at byte {i} went unnoticed"
            );
        }
    }

    #[test]
    fn headers_are_checked() {
        assert_eq!(check_header(&segment_header()), Ok(VERSION));
        let mut old = segment_header();
        old[8..12].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(check_header(&old), Ok(1));
        let mut v2 = segment_header();
        v2[8..12].copy_from_slice(&2u32.to_le_bytes());
        assert_eq!(check_header(&v2), Ok(2));
        let mut new = segment_header();
        new[8..12].copy_from_slice(&5u32.to_le_bytes());
        assert!(check_header(&new).unwrap_err().contains("version 5"));
        let mut h = segment_header();
        h[0] = b'X';
        assert!(check_header(&h).unwrap_err().contains("magic"));
        assert!(check_header(&h[..3]).is_err());
    }
}
