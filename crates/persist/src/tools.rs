//! `okdb journal check|dump|repair`: the journal tools, as functions that return their report.

use std::fmt::Write as _;
use std::path::Path;

use crate::journal::{self, Tail};
use crate::storage::{Disk, Storage};

/// One line per segment: records, LSN range, and how it ends. Err if any segment is damaged.
pub fn check(dir: &Path) -> Result<String, String> {
    let segs = journal::list_segments(&Disk, dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = String::new();
    let mut damaged = 0;
    let mut prev_last: Option<u64> = None;
    for (i, seg) in segs.iter().enumerate() {
        let scan = journal::read_segment(&Disk, &seg.path, |_| {})
            .map_err(|e| format!("{}: {e}", seg.path.display()))?;
        let range = match scan.last_lsn {
            Some(l) => format!("LSN {}..={l}", seg.first_lsn),
            None => "no records".into(),
        };
        let _ = write!(
            out,
            "{}: {} records, {range}, {} bytes of records in {} on disk",
            seg.path.display(),
            scan.records,
            scan.valid_len,
            scan.file_len
        );
        if let (Some(p), true) = (prev_last, scan.records > 0) {
            if seg.first_lsn <= p {
                let _ = write!(
                    out,
                    " (overlaps the previous segment up to LSN {p}; replay skips repeats)"
                );
            }
        }
        match &scan.tail {
            Tail::Clean => out.push_str(": ok\n"),
            Tail::Bad {
                offset,
                reason,
                resumes,
            } => {
                damaged += 1;
                let last = i + 1 == segs.len();
                let what = match (last, resumes) {
                    (true, None) => "torn tail (start-up truncates it by itself)".to_string(),
                    (true, Some((at, lsn))) => format!(
                        "DAMAGED, records resume at offset {at} (LSN {lsn}); start-up replays up \
                         to here and keeps the rest in a .damaged file"
                    ),
                    (false, _) => {
                        "CORRUPT (start-up refuses; `okdb journal repair` cuts here)".to_string()
                    }
                };
                let _ = writeln!(out, ": {what} at offset {offset}: {reason}");
            }
        }
        if scan.last_lsn.is_some() {
            prev_last = scan.last_lsn;
        }
    }
    if segs.is_empty() {
        let _ = writeln!(out, "{}: no journal segments", dir.display());
    }
    if damaged > 0 {
        Err(out)
    } else {
        Ok(out)
    }
}

/// Every record as one line: `lsn time keyspace args…` (args quoted as redis-cli would), with
/// `(strict)` after the keyspace for a write whose arguments were read as strict literals.
pub fn dump(dir: &Path, out: &mut dyn std::io::Write) -> Result<(), String> {
    let segs = journal::list_segments(&Disk, dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for seg in segs {
        let mut err = None;
        let scan = journal::read_segment(&Disk, &seg.path, |rec| {
            if err.is_some() {
                return;
            }
            let mut line = format!("{} {} {}", rec.lsn, rec.now, rec.keyspace);
            if rec.literals == okdb_value::literal::Literals::Strict {
                line.push_str(" (strict)");
            }
            for a in &rec.args {
                line.push(' ');
                line.push_str(&quote(a));
            }
            if let Err(e) = writeln!(out, "{line}") {
                err = Some(e.to_string());
            }
        })
        .map_err(|e| format!("{}: {e}", seg.path.display()))?;
        if let Some(e) = err {
            return Err(e);
        }
        if let Tail::Bad { offset, reason, .. } = scan.tail {
            let _ = writeln!(
                out,
                "# {}: stops at offset {offset}: {reason}",
                seg.path.display()
            );
        }
    }
    Ok(())
}

fn quote(a: &[u8]) -> String {
    let plain = !a.is_empty()
        && a.iter()
            .all(|&b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
    if plain {
        return String::from_utf8_lossy(a).into_owned();
    }
    let mut s = String::from("\"");
    for &b in a {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// Cuts the journal at its first damage: truncates that segment there and removes every later
/// one (their records cannot be applied without the lost ones). Reports what it did.
pub fn repair(dir: &Path) -> Result<String, String> {
    let segs = journal::list_segments(&Disk, dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut out = String::new();
    for (i, seg) in segs.iter().enumerate() {
        let scan = journal::read_segment(&Disk, &seg.path, |_| {})
            .map_err(|e| format!("{}: {e}", seg.path.display()))?;
        let Tail::Bad { offset, reason, .. } = scan.tail else {
            continue;
        };
        if offset == 0 {
            Disk.remove(&seg.path).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "removed {} ({reason})", seg.path.display());
        } else {
            Disk.truncate(&seg.path, offset)
                .map_err(|e| e.to_string())?;
            let _ = writeln!(
                out,
                "truncated {} at offset {offset} ({reason}); dropped {} bytes",
                seg.path.display(),
                scan.file_len - offset
            );
        }
        for later in &segs[i + 1..] {
            Disk.remove(&later.path).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "removed {} (follows the damage)", later.path.display());
        }
        Disk.sync_dir(dir).map_err(|e| e.to_string())?;
        return Ok(out);
    }
    let _ = writeln!(out, "nothing to repair: every segment is whole");
    Ok(out)
}
