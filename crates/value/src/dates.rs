//! Dates and times: `date('2026-11-28')` and `datetime('2026-11-28T10:00:00Z')`, and the
//! proleptic Gregorian calendar arithmetic they (and `EXPIRE`'s ISO 8601 form) use.
//!
//! A [`Date`] is a day count from 1970-01-01; a [`DateTime`] an instant (microseconds since the
//! Unix epoch, UTC) with the UTC offset it was written in, kept so it prints back as written.
//! Datetimes order by instant (then offset, so the order stays total), dates by day.

use std::fmt;

/// Whether `y` is a leap year.
pub fn leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

/// Days in month `m` (1-12) of year `y`.
pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a date (the well-known era-based formula).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day count since 1970-01-01 (the inverse of
/// [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + (m <= 2) as i64, m, d)
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

/// An instant and the UTC offset it was written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Microseconds since 1970-01-01T00:00:00Z.
    pub micros: i64,
    /// Minutes east of UTC.
    pub offset_min: i16,
}

fn digits(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

fn parse_ymd(b: &[u8]) -> Option<(i64, i64, i64)> {
    match b {
        [y @ .., b'-', m1, m2, b'-', d1, d2] if y.len() == 4 => {
            let (y, m, d) = (digits(y)?, digits(&[*m1, *m2])?, digits(&[*d1, *d2])?);
            ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
        }
        _ => None,
    }
}

impl Date {
    /// `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Date, String> {
        let (y, m, d) = parse_ymd(text.trim().as_bytes())
            .ok_or_else(|| format!("not a date (YYYY-MM-DD): {text:?}"))?;
        Ok(Date(days_from_civil(y, m, d) as i32))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0 as i64);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl DateTime {
    /// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a space may stand for the `T`;
    /// without an offset the time is UTC); fractions past microseconds are refused.
    pub fn parse(text: &str) -> Result<DateTime, String> {
        let bad = || format!("not a datetime (YYYY-MM-DDTHH:MM:SS[.ffffff][Z|±HH:MM]): {text:?}");
        let b = text.trim().as_bytes();
        if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') {
            return Err(bad());
        }
        let (y, mo, d) = parse_ymd(&b[..10]).ok_or_else(bad)?;
        let t = &b[11..];
        let (h, mi, s) = match t {
            [h1, h2, b':', m1, m2, b':', s1, s2, ..] => (
                digits(&[*h1, *h2]).ok_or_else(bad)?,
                digits(&[*m1, *m2]).ok_or_else(bad)?,
                digits(&[*s1, *s2]).ok_or_else(bad)?,
            ),
            _ => return Err(bad()),
        };
        if h > 23 || mi > 59 || s > 59 {
            return Err(bad());
        }
        let mut rest = &t[8..];
        let mut micros = 0i64;
        if let Some(frac) = rest.strip_prefix(b".") {
            let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
            if n == 0 || n > 6 {
                return Err(bad());
            }
            micros = digits(&frac[..n]).ok_or_else(bad)? * 10i64.pow(6 - n as u32);
            rest = &frac[n..];
        }
        let offset_min: i64 = match rest {
            [] | [b'Z'] | [b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let (oh, om) = (
                    digits(&[*h1, *h2]).ok_or_else(bad)?,
                    digits(&[*m1, *m2]).ok_or_else(bad)?,
                );
                if oh > 23 || om > 59 {
                    return Err(bad());
                }
                if *sign == b'+' {
                    oh * 60 + om
                } else {
                    -(oh * 60 + om)
                }
            }
            _ => return Err(bad()),
        };
        let local =
            (days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s) * 1_000_000 + micros;
        Ok(DateTime {
            micros: local - offset_min * 60_000_000,
            offset_min: offset_min as i16,
        })
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = self.micros + self.offset_min as i64 * 60_000_000;
        let (days, rem) = (
            local.div_euclid(86_400_000_000),
            local.rem_euclid(86_400_000_000),
        );
        let (y, m, d) = civil_from_days(days);
        let secs = rem / 1_000_000;
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        let frac = rem % 1_000_000;
        if frac != 0 {
            let text = format!("{frac:06}");
            write!(f, ".{}", text.trim_end_matches('0'))?;
        }
        match self.offset_min {
            0 => f.write_str("Z"),
            o => write!(
                f,
                "{}{:02}:{:02}",
                if o < 0 { '-' } else { '+' },
                o.abs() / 60,
                o.abs() % 60
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_datetimes_read_back_as_written() {
        for t in [
            "2026-11-28",
            "1970-01-01",
            "2000-02-29",
            "1969-12-31",
            "0001-01-01",
            "9999-12-31",
        ] {
            assert_eq!(Date::parse(t).unwrap().to_string(), t);
        }
        for t in [
            "2026-11-28T10:00:00Z",
            "2026-11-28T10:00:00.25+01:00",
            "1969-07-20T20:17:40-05:30",
            "2026-11-28T23:59:59.123456Z",
        ] {
            assert_eq!(DateTime::parse(t).unwrap().to_string(), t);
        }
        assert_eq!(
            DateTime::parse("2026-11-28 10:00:00").unwrap().to_string(),
            "2026-11-28T10:00:00Z"
        );
        for bad in ["2026-02-30", "2026-13-01", "26-11-28", "2026-11-28x"] {
            assert!(Date::parse(bad).is_err(), "{bad}");
        }
        for bad in [
            "2026-11-28T24:00:00Z",
            "2026-11-28T10:00:00+24:00",
            "2026-11-28T10:00",
            "2026-11-28T10:00:00.1234567Z",
        ] {
            assert!(DateTime::parse(bad).is_err(), "{bad}");
        }
        // Instants order across offsets.
        let a = DateTime::parse("2026-11-28T10:00:00+01:00").unwrap();
        let b = DateTime::parse("2026-11-28T09:30:00Z").unwrap();
        assert!(a < b);
        for z in [-800_000, -1, 0, 59, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
