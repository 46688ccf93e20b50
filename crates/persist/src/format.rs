//! The journal's byte format. Pure: no files here.
//!
//! A segment file starts with a 16-byte header: the magic `OKDBJRNL`, the format version
//! (u32, little-endian) and four reserved zero bytes. Records follow, each:
//!
//! ```text
//! len u32 | crc32c u32 | lsn u64 | op u8 | payload (len bytes)
//! ```
//!
//! All integers little-endian; `crc32c` covers `lsn | op | payload`. Two ops so far, both a
//! write as it ran: [`OP_COMMAND`] (its arguments read as strict literals: every record written
//! before the faithful literal rule, and writes from a `CLIENT LITERALS strict` connection) and
//! [`OP_COMMAND_FAITHFUL`] (read as faithful literals, the default over RESP). The op keeps an
//! old journal meaning what it meant when it was written. Payload:
//!
//! ```text
//! now u64 (unix ms) | keyspace: len u16, bytes | argc u32 | argc × (len u32, bytes)
//! ```

use bytes::Bytes;
use okdb_engine::journal::Record;
use okdb_value::literal::Literals;

pub const MAGIC: &[u8; 8] = b"OKDBJRNL";
pub const VERSION: u32 = 1;
pub const HEADER_LEN: usize = 16;
/// Bytes before a record's payload: len, crc, lsn, op.
pub const RECORD_HEADER: usize = 4 + 4 + 8 + 1;
pub const OP_COMMAND: u8 = 1;
pub const OP_COMMAND_FAITHFUL: u8 = 2;
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

/// Checks a segment header; the reason if it is not one.
pub fn check_header(buf: &[u8]) -> Result<(), String> {
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
    if version != VERSION {
        return Err(format!(
            "journal format version {version}, this okdb reads {VERSION}"
        ));
    }
    Ok(())
}

/// Appends one record's bytes to `out`.
pub fn encode(rec: &Record, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0u8; 8]); // len and crc, filled in below
    out.extend_from_slice(&rec.lsn.to_le_bytes());
    out.push(match rec.literals {
        Literals::Strict => OP_COMMAND,
        Literals::Faithful => OP_COMMAND_FAITHFUL,
    });
    let payload_start = out.len();
    out.extend_from_slice(&rec.now.to_le_bytes());
    let ks = rec.keyspace.as_bytes();
    let ks = &ks[..ks.len().min(u16::MAX as usize)];
    out.extend_from_slice(&(ks.len() as u16).to_le_bytes());
    out.extend_from_slice(ks);
    out.extend_from_slice(&(rec.args.len() as u32).to_le_bytes());
    for a in &rec.args {
        out.extend_from_slice(&(a.len() as u32).to_le_bytes());
        out.extend_from_slice(a);
    }
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
    let literals = match op {
        OP_COMMAND => Literals::Strict,
        OP_COMMAND_FAITHFUL => Literals::Faithful,
        _ => return Decoded::Corrupt(format!("unknown record op {op}")),
    };
    match decode_command(&buf[RECORD_HEADER..total], lsn, literals) {
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
        literals,
        args,
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
            literals: if lsn.is_multiple_of(2) {
                Literals::Faithful
            } else {
                Literals::Strict
            },
            args: args
                .iter()
                .map(|a| Bytes::copy_from_slice(a.as_bytes()))
                .collect(),
        }
    }

    #[test]
    fn records_round_trip() {
        let mut buf = Vec::new();
        let a = rec(1, &["SET", "k", "v"]);
        let b = rec(2, &["DEL", "k", "x", ""]);
        encode(&a, &mut buf);
        encode(&b, &mut buf);
        let Decoded::Record(got, used) = decode(&buf) else {
            panic!("first record")
        };
        assert_eq!(got, a);
        assert_eq!(decode(&buf[used..]), Decoded::Record(b, buf.len() - used));
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
    fn headers_are_checked() {
        assert!(check_header(&segment_header()).is_ok());
        let mut h = segment_header();
        h[0] = b'X';
        assert!(check_header(&h).unwrap_err().contains("magic"));
        assert!(check_header(&h[..3]).is_err());
    }
}
