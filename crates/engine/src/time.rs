//! Time for expiry: the clock and the `EXPIRE key when` argument.
//!
//! All expiry times are absolute unix milliseconds in UTC. `when` is read as:
//! - an int: seconds from now (negative or zero: the key expires at once);
//! - a float: an absolute unix time in seconds;
//! - a string `YYYYMMDDHHMMSS` (also sent as a 14-digit int), or ISO 8601 / RFC 3339
//!   (`2026-11-28`, `2026-11-28T10:00:00`, `2026-11-28 10:00:00.250`, with an optional `Z` or
//!   `±HH:MM` offset, hours 00–23 and minutes 00–59 as RFC 3339 allows): an absolute time, in
//!   UTC unless an offset is given.

use okdb_value::Value;

/// The latest expiry time, in unix milliseconds: Redis's bound (a signed 64-bit millisecond
/// count), so `PEXPIREAT k 9223372036854770000` works as it does there. TTLs stay in range.
pub const MAX_EXPIRE_MS: u64 = i64::MAX as u64;

/// An absolute expiry time if it is within range.
pub fn in_range(at: Option<u64>) -> Option<u64> {
    at.filter(|&t| t <= MAX_EXPIRE_MS)
}

/// Now, in unix milliseconds.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Resolves an `EXPIRE` argument to an absolute unix-ms time (saturating at 1 for the past).
pub fn parse_when(raw: &[u8], value: &Value, now: u64) -> Result<u64, String> {
    let at = parse_when_unchecked(raw, value, now)?;
    in_range(Some(at)).ok_or_else(|| "expire time out of range".into())
}

fn parse_when_unchecked(raw: &[u8], value: &Value, now: u64) -> Result<u64, String> {
    if raw.len() == 14 && raw.iter().all(u8::is_ascii_digit) {
        return compact_timestamp(raw).ok_or_else(|| bad(raw));
    }
    match value {
        Value::Int(secs) => {
            let ms = secs.checked_mul(1000).ok_or("expire time out of range")?;
            Ok(if ms <= 0 {
                1
            } else {
                now.checked_add(ms as u64).ok_or("expire time out of range")?
            })
        }
        Value::Float(t) if t.is_finite() && *t < 1e15 => Ok(((t * 1000.0).round() as i64).max(1) as u64),
        Value::Str(s) if s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()) => {
            compact_timestamp(s.as_bytes()).ok_or_else(|| bad(raw))
        }
        Value::Str(s) => iso8601(s.as_bytes(), raw),
        Value::Float(_) => Err("expire time out of range".into()),
        other => Err(format!(
            "expire time must be an int (seconds from now), a float (unix time) or a date string, got {}",
            other.type_name()
        )),
    }
}

fn bad(raw: &[u8]) -> String {
    format!(
        "value is not an integer or out of range (nor a unix time or a date: '{}' is not YYYYMMDDHHMMSS or ISO 8601)",
        String::from_utf8_lossy(raw)
    )
}

fn num(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

pub(crate) fn compact_timestamp(s: &[u8]) -> Option<u64> {
    to_ms(
        num(&s[0..4])?,
        num(&s[4..6])?,
        num(&s[6..8])?,
        num(&s[8..10])?,
        num(&s[10..12])?,
        num(&s[12..14])?,
        0,
        0,
    )
}

/// An ISO 8601 / RFC 3339 date or date-time; `raw` (the argument as sent) names it in errors.
fn iso8601(s: &[u8], raw: &[u8]) -> Result<u64, String> {
    let (y, mo, d, h, mi, sec, ms, rest) = iso_fields(s).ok_or_else(|| bad(raw))?;
    let offset_min = offset_minutes(rest, raw)?;
    to_ms(y, mo, d, h, mi, sec, ms, offset_min).ok_or_else(|| bad(raw))
}

/// The fields of a date or date-time, and what follows them (the offset, if any).
#[allow(clippy::type_complexity)]
fn iso_fields(s: &[u8]) -> Option<(i64, i64, i64, i64, i64, i64, i64, &[u8])> {
    if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(&s[0..4])?, num(&s[5..7])?, num(&s[8..10])?);
    let mut rest = &s[10..];
    let (mut h, mut mi, mut sec, mut ms) = (0, 0, 0, 0);
    if let Some((&sep, r)) = rest.split_first() {
        if sep != b'T' && sep != b't' && sep != b' ' {
            return None;
        }
        if r.len() < 5 || r[2] != b':' {
            return None;
        }
        h = num(&r[0..2])?;
        mi = num(&r[3..5])?;
        rest = &r[5..];
        if rest.first() == Some(&b':') {
            sec = num(rest.get(1..3)?)?;
            rest = &rest[3..];
            if rest.first() == Some(&b'.') {
                let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                if digits == 0 {
                    return None;
                }
                let frac = &rest[1..1 + digits];
                let mut v = num(&frac[..digits.min(3)])?;
                for _ in digits..3 {
                    v *= 10;
                }
                ms = v;
                rest = &rest[1 + digits..];
            }
        }
    }
    Some((y, mo, d, h, mi, sec, ms, rest))
}

/// A UTC offset in minutes: none, `Z`, or `±HH:MM` with RFC 3339's ranges (hours 00–23,
/// minutes 00–59), so `+99:00` or `-05:75` is an error, not a time 99 hours away.
fn offset_minutes(rest: &[u8], raw: &[u8]) -> Result<i64, String> {
    let (sign, hh, mm) = match rest {
        [] | [b'Z'] | [b'z'] => return Ok(0),
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => (*sign, [*h1, *h2], [*m1, *m2]),
        _ => return Err(bad(raw)),
    };
    let (h, m) = num(&hh).zip(num(&mm)).ok_or_else(|| bad(raw))?;
    if h > 23 || m > 59 {
        return Err(format!(
            "invalid UTC offset '{}' in '{}': hours must be 00-23 and minutes 00-59",
            String::from_utf8_lossy(rest),
            String::from_utf8_lossy(raw)
        ));
    }
    Ok(if sign == b'+' {
        h * 60 + m
    } else {
        -(h * 60 + m)
    })
}

#[allow(clippy::too_many_arguments)]
fn to_ms(
    y: i64,
    mo: i64,
    d: i64,
    h: i64,
    mi: i64,
    s: i64,
    ms: i64,
    offset_min: i64,
) -> Option<u64> {
    let dim = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d < 1 || d > dim[(mo - 1) as usize] || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_min * 60;
    Some((secs * 1000 + ms).max(1) as u64)
}

use okdb_value::dates::{days_from_civil, leap};

#[cfg(test)]
mod tests {
    use super::*;

    fn when(s: &str, v: Value) -> Result<u64, String> {
        parse_when(s.as_bytes(), &v, 1_000_000)
    }

    #[test]
    fn relative_and_absolute_forms() {
        assert_eq!(when("10", Value::Int(10)), Ok(1_010_000));
        assert_eq!(when("-1", Value::Int(-1)), Ok(1));
        assert_eq!(
            when("1700000000.5", Value::Float(1_700_000_000.5)),
            Ok(1_700_000_000_500)
        );
        let t = 1_795_860_000_000; // 2026-11-28T10:00:00Z
        assert_eq!(when("20261128100000", Value::Int(20261128100000)), Ok(t));
        assert_eq!(when("x", Value::str("2026-11-28T10:00:00Z")), Ok(t));
        assert_eq!(
            when("\"20261128100000\"", Value::str("20261128100000")),
            Ok(t)
        );
        assert_eq!(when("x", Value::str("2026-11-28 10:00:00")), Ok(t));
        assert_eq!(when("x", Value::str("2026-11-28T12:00:00+02:00")), Ok(t));
        assert_eq!(
            when("x", Value::str("2026-11-28T10:00:00.250Z")),
            Ok(t + 250)
        );
        assert_eq!(when("x", Value::str("2026-11-28")), Ok(t - 10 * 3_600_000));
    }

    #[test]
    fn offsets_follow_rfc_3339() {
        let t = 1_795_860_000_000; // 2026-11-28T10:00:00Z
        assert_eq!(when("x", Value::str("2026-11-28T10:00:00+00:00")), Ok(t));
        assert_eq!(when("x", Value::str("2026-11-28T10:00:00-00:00")), Ok(t));
        assert_eq!(
            when("x", Value::str("2026-11-28T10:00:00+23:59")),
            Ok(t - (23 * 60 + 59) * 60_000)
        );
        assert_eq!(
            when("x", Value::str("2026-11-28T10:00:00-23:59")),
            Ok(t + (23 * 60 + 59) * 60_000)
        );
        for offset in ["+99:00", "-99:59", "+99:99", "+24:00", "-00:60", "+12:75"] {
            let s = format!("2026-11-28T10:00:00{offset}");
            assert_eq!(
                when(&s, Value::str(&s)),
                Err(format!(
                    "invalid UTC offset '{offset}' in '{s}': hours must be 00-23 and minutes 00-59"
                )),
            );
        }
    }

    #[test]
    fn far_future_times_are_refused() {
        let far = "expire time out of range";
        assert_eq!(when("1", Value::Int(i64::MAX / 1000)), Err(far.into()));
        assert_eq!(when("1", Value::Float(1e15)), Err(far.into()));
        assert!(when("x", Value::str("9999-12-31T23:59:59Z")).is_ok());
        assert!(when("x", Value::str("10000-01-01")).is_err());
    }

    #[test]
    fn bad_forms_are_errors() {
        for s in [
            "2026-13-01",
            "2026-02-30",
            "soon",
            "2026-11-28T25:00",
            "2026-11-28Tx",
        ] {
            assert!(when(s, Value::str(s)).is_err(), "{s}");
        }
        assert!(when("20261399000000", Value::Int(20261399000000)).is_err());
        assert!(when("x", Value::str("2026-11-28T10:00:00+2:00")).is_err());
        assert!(when("x", Value::str("2026-11-28T10:00:00+02:0x")).is_err());
        assert!(when("[]", Value::list([])).is_err());
    }
}
