//! `okdb journal check|dump|repair`: the journal tools, as functions that return their report.

use std::fmt::Write as _;
use std::path::Path;

use crate::journal;
use crate::storage::{Disk, Storage};
use crate::{checkpoint, format};

/// The checkpoint's covered LSN, if the directory has a checkpoint database (0 if not).
fn covered_lsn(dir: &Path) -> Result<u64, String> {
    if !dir.join(checkpoint::DB_FILE).exists() {
        return Ok(0);
    }
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let conn = rusqlite::Connection::open_with_flags(dir.join(checkpoint::DB_FILE), flags)
        .map_err(|e| format!("{}: {e}", dir.join(checkpoint::DB_FILE).display()))?;
    let v: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE name = 'covered_lsn'",
            [],
            |r| r.get(0),
        )
        .ok();
    Ok(v.unwrap_or(0).max(0) as u64)
}

/// What start-up does about a damaged stretch, given the LSN replay has reached before it.
fn verdict(
    segs: &[journal::Segment],
    i: usize,
    scan: &journal::Scan,
    bad: &journal::Bad,
    applied: u64,
) -> String {
    let newest = i + 1 == segs.len();
    let next_lsn = bad
        .resumes
        .and_then(|(_, lsn)| lsn)
        .or_else(|| segs.get(i + 1).map(|s| s.first_lsn));
    if next_lsn.is_some_and(|n| n <= applied + 1) {
        return "in records the checkpoint holds (start-up passes over it; nothing is lost)".into();
    }
    if newest && scan.synced <= bad.offset {
        return match bad.resumes {
            None => "torn tail, past what was synced (start-up cuts it there)".into(),
            Some((at, _)) => format!(
                "damaged past what was synced, records resume at offset {at} (start-up replays \
                 up to here and keeps the rest in a .damaged file)"
            ),
        };
    }
    "DAMAGED in bytes that were on disk (start-up refuses; `okdb journal repair` keeps every \
     record around it)"
        .into()
}

/// One line per segment: records, LSN range, and how it ends; a line per damaged stretch.
/// Err if any segment is damaged.
pub fn check(dir: &Path) -> Result<String, String> {
    let segs =
        journal::list_segments(&Disk, dir).map_err(|e| format!("{}: {e}\n", dir.display()))?;
    let covered = covered_lsn(dir)?;
    let mut out = String::new();
    let mut damaged = 0;
    let mut prev_last: Option<u64> = None;
    for (i, seg) in segs.iter().enumerate() {
        // The LSN replay has reached before each damaged stretch.
        let mut last = seg.first_lsn.saturating_sub(1);
        let mut before = Vec::new();
        let scan = journal::read_segment(&Disk, &seg.path, |item| match item {
            journal::Item::Record(rec) => last = rec.lsn,
            journal::Item::Lost { to, .. } => last = to,
            journal::Item::Damage { .. } => before.push(last),
        })
        .map_err(|e| format!("{}: {e}\n", seg.path.display()))?;
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
        if scan.damage.is_empty() {
            out.push_str(": ok\n");
        } else {
            out.push('\n');
        }
        for (bad, &last) in scan.damage.iter().zip(&before) {
            damaged += 1;
            let _ = writeln!(
                out,
                "  at offset {}: {}: {}",
                bad.offset,
                bad.reason,
                verdict(&segs, i, &scan, bad, covered.max(last))
            );
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
/// `(strict)` after the keyspace for a write whose arguments were read as strict literals; a
/// `#` line for each damaged stretch and lost-records mark. Err (after printing every record
/// it can read) if the journal is damaged. A reader that goes away (`| head`) ends it quietly.
pub fn dump(dir: &Path, out: &mut dyn std::io::Write) -> Result<(), String> {
    let segs =
        journal::list_segments(&Disk, dir).map_err(|e| format!("{}: {e}\n", dir.display()))?;
    let mut damaged = 0;
    for seg in segs {
        let mut err = None;
        journal::read_segment(&Disk, &seg.path, |item| {
            if err.is_some() {
                return;
            }
            let line = match item {
                journal::Item::Record(rec) => {
                    format!(
                        "{} {} {} {}",
                        rec.lsn,
                        rec.now,
                        rec.keyspace,
                        describe(&rec)
                    )
                }
                journal::Item::Lost { from, to } => {
                    format!("# LSN {from}..={to}: lost to damage (marked by repair)")
                }
                journal::Item::Damage { offset, reason } => {
                    damaged += 1;
                    format!(
                        "# {}: damaged at offset {offset}: {reason}",
                        seg.path.display()
                    )
                }
            };
            if let Err(e) = writeln!(out, "{line}") {
                err = Some(e);
            }
        })
        .map_err(|e| format!("{}: {e}\n", seg.path.display()))?;
        match err {
            Some(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Some(e) => return Err(format!("{e}\n")),
            None => {}
        }
    }
    if damaged > 0 {
        return Err(format!(
            "the journal is damaged in {damaged} place(s): see `okdb journal check {}`\n",
            dir.display()
        ));
    }
    Ok(())
}

/// A record's write as one line: its effects separated by ` ; ` (`SET key value [PXAT t]`,
/// `DEL key`, `PEXPIREAT key t`, `PERSIST key`, `CHANGE key <delta>…`, `FLUSH keyspace`,
/// `FLUSHALL`, `SWAP a b`, each after `[keyspace]` when it is not the record's), or for an
/// old command record the command (after `(strict)` when its arguments were strict literals).
pub fn describe(rec: &okdb_engine::journal::Record) -> String {
    use okdb_engine::effects::Effect;
    use okdb_engine::journal::Body;
    let effects = match &rec.body {
        Body::Command { literals, args } => {
            let mut line = String::new();
            if *literals == okdb_value::literal::Literals::Strict {
                line.push_str("(strict) ");
            }
            let args: Vec<String> = args.iter().map(|a| quote(a)).collect();
            line.push_str(&args.join(" "));
            return line;
        }
        Body::Effects(effects) => effects,
    };
    let value = |v: &okdb_value::Value| match v {
        okdb_value::Value::Str(s) => quote(s.as_str().as_bytes()),
        okdb_value::Value::Bytes(b) => quote(b),
        other => quote(okdb_value::json::to_string(other).as_bytes()),
    };
    let mut parts = Vec::with_capacity(effects.len());
    for e in effects {
        let mut part = String::new();
        if let Some((ks, _)) = e.key() {
            if ks != rec.keyspace.as_str() {
                let _ = write!(part, "[{ks}] ");
            }
        }
        let _ = match e {
            Effect::Put {
                key,
                value: v,
                expire_at,
                ..
            } => {
                let _ = write!(part, "SET {} {}", quote(key.as_bytes()), value(v));
                if *expire_at != 0 {
                    let _ = write!(part, " PXAT {expire_at}");
                }
                Ok(())
            }
            Effect::Del { key, .. } => write!(part, "DEL {}", quote(key.as_bytes())),
            Effect::Expire { key, at: 0, .. } => write!(part, "PERSIST {}", quote(key.as_bytes())),
            Effect::Expire { key, at, .. } => {
                write!(part, "PEXPIREAT {} {at}", quote(key.as_bytes()))
            }
            Effect::Change { key, deltas, .. } => write!(part, "CHANGE {}", quote(key.as_bytes()))
                .and_then(|()| deltas.iter().try_for_each(|d| write!(part, " {d:?}"))),
            Effect::Rename { from, to, .. } => write!(
                part,
                "RENAME {} {}",
                quote(from.as_bytes()),
                quote(to.as_bytes())
            ),
            Effect::Flush { keyspace } => write!(part, "FLUSH {}", quote(keyspace.as_bytes())),
            Effect::FlushAll => write!(part, "FLUSHALL"),
            Effect::Swap { a, b } => {
                write!(part, "SWAP {} {}", quote(a.as_bytes()), quote(b.as_bytes()))
            }
            Effect::Op(op) => write!(part, "OP {op}"),
        };
        parts.push(part);
    }
    parts.join(" ; ")
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

/// Rewrites every damaged segment with every record that can still be read, before and after
/// the damage, and a lost-records mark where damage took records (so start-up replays past
/// them on purpose). Each original is kept beside it as `<segment>.orig`. Reports, per damaged
/// stretch, which LSNs were lost and how many records that is (those the checkpoint holds
/// are not lost). Holds the directory's lock: a running server must be stopped first.
pub fn repair(dir: &Path) -> Result<String, String> {
    let segs =
        journal::list_segments(&Disk, dir).map_err(|e| format!("{}: {e}\n", dir.display()))?;
    let _lock = crate::DirLock::acquire(dir).map_err(|e| format!("{e}\n"))?;
    let covered = covered_lsn(dir)?;
    let mut out = String::new();
    let (mut kept, mut lost, mut lost_covered, mut unknown) = (0u64, 0u64, 0u64, false);
    let mut repaired = 0;
    for (i, seg) in segs.iter().enumerate() {
        let mut items = Vec::new();
        let scan = journal::read_segment(&Disk, &seg.path, |item| items.push(item))
            .map_err(|e| format!("{}: {e}\n", seg.path.display()))?;
        if scan.damage.is_empty() {
            continue;
        }
        repaired += 1;
        let mut seg_kept = 0u64;
        let mut bytes = format::segment_header().to_vec();
        // The LSN before the next item: the segment is named by its first.
        let mut last = seg.first_lsn.saturating_sub(1);
        let mut damage: Option<u64> = None;
        let mut note_lost = |bytes: &mut Vec<u8>, out: &mut String, at: u64, from: u64, to: u64| {
            format::encode_lost(from, to, bytes);
            let n = to - from + 1;
            let held = (to.min(covered) + 1).saturating_sub(from);
            lost += n - held;
            lost_covered += held;
            let _ = writeln!(
                out,
                "{}: damage at offset {at}: LSN {from}..={to} lost: {} record(s){}",
                seg.path.display(),
                n - held,
                if held > 0 {
                    format!(" ({held} more the checkpoint holds)")
                } else {
                    String::new()
                }
            );
        };
        let newest = i + 1 == segs.len();
        for item in items {
            let (first, to) = match &item {
                // In the newest segment, damage past what was synced is a torn tail, as
                // start-up takes it: cut there (what follows was never acknowledged under
                // `always`, and replaying it past a hole would apply writes without earlier
                // ones). It ends the segment; the rest is kept aside.
                journal::Item::Damage { offset, .. } if newest && *offset >= scan.synced => {
                    damage.get_or_insert(*offset);
                    break;
                }
                journal::Item::Damage { offset, .. } => {
                    damage.get_or_insert(*offset);
                    continue;
                }
                journal::Item::Record(rec) => (rec.lsn, rec.lsn),
                journal::Item::Lost { from, to } => (*from, *to),
            };
            if let Some(at) = damage.take() {
                if first > last + 1 {
                    note_lost(&mut bytes, &mut out, at, last + 1, first - 1);
                } else {
                    let _ = writeln!(
                        out,
                        "{}: damage at offset {at}: no record lost",
                        seg.path.display()
                    );
                }
            }
            match item {
                journal::Item::Record(rec) => {
                    format::encode(&rec, &mut bytes);
                    seg_kept += 1;
                }
                _ => format::encode_lost(first, to, &mut bytes),
            }
            last = to;
        }
        if let Some(at) = damage {
            match segs.get(i + 1) {
                Some(next) if next.first_lsn > last + 1 => {
                    note_lost(&mut bytes, &mut out, at, last + 1, next.first_lsn - 1)
                }
                Some(_) => {
                    let _ = writeln!(
                        out,
                        "{}: damage at offset {at}: no record lost",
                        seg.path.display()
                    );
                }
                None if scan.synced > at => {
                    unknown = true;
                    let _ = writeln!(
                        out,
                        "{}: damage at offset {at} runs to the end of the journal: the records \
                         after LSN {last} in the {} synced bytes after it are lost (how many \
                         cannot be told)",
                        seg.path.display(),
                        scan.synced - at
                    );
                }
                None => {
                    let all = std::fs::read(&seg.path)
                        .map_err(|e| format!("{}: {e}\n", seg.path.display()))?;
                    let mut rest = &all[(at as usize).min(all.len())..];
                    while let [head @ .., 0] = rest {
                        rest = head;
                    }
                    let kept = if rest.is_empty() {
                        String::new()
                    } else {
                        let mut keep = seg.path.clone().into_os_string();
                        keep.push(format!(".damaged-{at}"));
                        let keep = std::path::PathBuf::from(keep);
                        Disk.write_file(&keep, rest)
                            .map_err(|e| format!("{}: {e}\n", keep.display()))?;
                        format!(
                            "; the {} bytes after it are kept in {}",
                            rest.len(),
                            keep.display()
                        )
                    };
                    let _ = writeln!(
                        out,
                        "{}: torn tail at offset {at}, past what was synced: cut (nothing \
                         synced was lost){kept}",
                        seg.path.display()
                    );
                }
            }
        }
        let claim = bytes.len() as u64;
        format::encode_synced(claim, &mut bytes);
        replace_segment(dir, &seg.path, &bytes)?;
        let _ = writeln!(
            out,
            "{}: rewritten with its {} readable record(s); the original is kept as {}.orig",
            seg.path.display(),
            seg_kept,
            seg.path.display()
        );
        kept += seg_kept;
    }
    if repaired == 0 {
        let _ = writeln!(out, "nothing to repair: every segment is whole");
    } else {
        let _ = writeln!(
            out,
            "repaired {repaired} segment(s): kept {kept} record(s), {lost} record(s) lost{}{}",
            if lost_covered > 0 {
                format!(", {lost_covered} damaged record(s) the checkpoint holds (not lost)")
            } else {
                String::new()
            },
            if unknown {
                ", and an unknown number at the end"
            } else {
                ""
            }
        );
    }
    Ok(out)
}

/// Puts `bytes` in place of the segment at `path`: the original copied to `<path>.orig` and
/// synced, the new one written beside it, synced and renamed over it, the directory synced.
fn replace_segment(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), String> {
    let with = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}\n", p.display());
    let orig = with(".orig");
    let original = std::fs::read(path).map_err(|e| err(path, e))?;
    Disk.write_file(&orig, &original)
        .map_err(|e| err(&orig, e))?;
    let fresh = with(".repair");
    Disk.write_file(&fresh, bytes).map_err(|e| err(&fresh, e))?;
    std::fs::rename(&fresh, path).map_err(|e| err(path, e))?;
    Disk.sync_dir(dir).map_err(|e| err(dir, e))
}
