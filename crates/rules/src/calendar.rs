//! Calendar arithmetic for messages: Unix seconds to and from UTC dates, and readable
//! durations. Pure functions; nothing here reads a clock.

/// `2016-01-27 11:44:04 UTC`.
pub fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// RFC 3339 with milliseconds, `2026-11-28T10:00:00.123Z`, from Unix milliseconds.
pub fn format_rfc3339_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        millis.rem_euclid(1000)
    )
}

/// Unix milliseconds of `2026-11-28T10:00:00.123Z`, the form [`format_rfc3339_millis`] writes.
pub fn parse_rfc3339_millis(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 24
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'.'
        || b[23] != b'Z'
    {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d, h, mi, s, ms) = (
        n(0..4)?,
        n(5..7)?,
        n(8..10)?,
        n(11..13)?,
        n(14..16)?,
        n(17..19)?,
        n(20..23)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    Some(unix_from_utc(i64::from(y), mo, d, h, mi, s) * 1000 + i64::from(ms))
}

/// RFC 3339 to the second, `2026-11-28T10:00:00Z`, from Unix seconds.
pub fn format_rfc3339(secs: i64) -> String {
    let mut text = format_rfc3339_millis(secs.saturating_mul(1000));
    text.replace_range(19..23, "");
    text
}

/// Unix milliseconds of any RFC 3339 time: `2026-11-28T10:00:00Z`, with a fraction of a
/// second or not, in UTC (`Z`) or at an offset (`+03:00`).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || !text.is_ascii() {
        return None;
    }
    let whole = format!("{}.000Z", &text[..19]);
    let base = parse_rfc3339_millis(&whole)?;
    let mut rest = &text[19..];
    let mut millis = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let first3: String = frac[..digits]
            .chars()
            .chain("000".chars())
            .take(3)
            .collect();
        millis = first3.parse().ok()?;
        rest = &frac[digits..];
    }
    let offset_secs = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = rest[1..].split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    Some(base + millis - offset_secs * 1000)
}

/// Offsets from UTC that some time zone uses, in standard or daylight time, in minutes east;
/// those at least an hour away from UTC, as a clock set to one of them is what a timestamp
/// many hours off points at. Half-hour and three-quarter-hour zones are listed one by one.
const ZONES: &[i32] = &[
    -720, -660, -600, -570, -540, -480, -420, -360, -300, -240, -210, -180, -150, -120, -60, 60,
    120, 180, 210, 240, 270, 300, 330, 345, 360, 390, 420, 480, 525, 540, 570, 600, 630, 660, 720,
    765, 780, 825, 840,
];

/// An offset some time zone has: `UTC+3`, `UTC-2:30`, `UTC+5:45`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ZoneOffset {
    /// Minutes east of UTC.
    pub minutes: i32,
}

impl std::fmt::Display for ZoneOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.minutes >= 0 { '+' } else { '-' };
        let (h, m) = (self.minutes.abs() / 60, self.minutes.abs() % 60);
        if m == 0 {
            write!(f, "UTC{sign}{h}")
        } else {
            write!(f, "UTC{sign}{h}:{m:02}")
        }
    }
}

/// The time zone whose offset explains `ts` being off from `reference`, give or take `slack`
/// seconds: local wall-clock time read as UTC lands ahead of the truth east of Greenwich,
/// behind it west. Only offsets some zone really has count.
pub fn zone_offset(ts: u64, reference: u64, slack: u64) -> Option<ZoneOffset> {
    let skew = i64::try_from(ts).ok()? - i64::try_from(reference).ok()?;
    // Nearly every event is reported within minutes: no zone is that close to UTC.
    if skew.unsigned_abs() + slack < 3600 {
        return None;
    }
    ZONES
        .iter()
        .map(|&m| ZoneOffset { minutes: m })
        .find(|z| (skew - i64::from(z.minutes) * 60).unsigned_abs() <= slack)
}

/// Unix seconds of a UTC calendar date and time.
pub fn unix_from_utc(y: i64, m: u32, d: u32, hh: u32, mm: u32, ss: u32) -> i64 {
    days_from_civil(y, m, d) * 86_400 + i64::from(hh * 3600 + mm * 60 + ss)
}

/// `3h 0m`, `12 days`, `45s`: the coarsest unit that still says what matters.
pub fn format_duration(secs: u64) -> String {
    match secs {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 3600 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{}m {}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

// Howard Hinnant's algorithms (public domain), proleptic Gregorian calendar.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_in_every_form_a_client_writes() {
        let t = 1_795_860_000_000;
        assert_eq!(format_rfc3339(1_795_860_000), "2026-11-28T10:00:00Z");
        for text in [
            "2026-11-28T10:00:00Z",
            "2026-11-28T10:00:00.000Z",
            "2026-11-28T13:00:00+03:00",
            "2026-11-28T06:30:00.0-03:30",
        ] {
            assert_eq!(parse_rfc3339(text), Some(t), "{text}");
        }
        assert_eq!(parse_rfc3339("2026-11-28T10:00:00.1234567Z"), Some(t + 123));
        for bad in [
            "2026-11-28",
            "2026-11-28T10:00:00",
            "2026-11-28T10:00:00+3",
            "2026-13-28T10:00:00Z",
            "2026-11-28T10:00:00.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_453_895_044), "2016-01-27 11:44:04 UTC");
        assert_eq!(format_utc(1_262_304_000), "2010-01-01 00:00:00 UTC");
        assert_eq!(
            format_rfc3339_millis(1_764_324_000_123),
            "2025-11-28T10:00:00.123Z"
        );
        assert_eq!(unix_from_utc(2016, 1, 27, 11, 44, 4), 1_453_895_044);
        assert_eq!(unix_from_utc(2024, 2, 29, 0, 0, 0), 1_709_164_800);
    }

    #[test]
    fn round_trip_over_centuries() {
        for secs in (-5_000_000_000i64..10_000_000_000).step_by(86_399 * 37) {
            let s = format_utc(secs);
            let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().expect("digits");
            let y: i64 = s[..4].parse().expect("year");
            if !(1000..=9999).contains(&y) {
                continue;
            }
            assert_eq!(
                unix_from_utc(y, n(5..7), n(8..10), n(11..13), n(14..16), n(17..19)),
                secs
            );
        }
    }

    #[test]
    fn rfc3339_round_trips() {
        for ms in [0i64, 1_795_860_000_123, 1_262_304_000_999] {
            assert_eq!(parse_rfc3339_millis(&format_rfc3339_millis(ms)), Some(ms));
        }
        assert_eq!(parse_rfc3339_millis("2026-11-28 10:00:00.000Z"), None);
    }

    #[test]
    fn zone_offsets_that_exist() {
        let t = 1_795_860_000;
        let zone = |ts| zone_offset(ts, t, 120).map(|z| z.to_string());
        assert_eq!(zone(t + 3 * 3600).as_deref(), Some("UTC+3"));
        assert_eq!(
            zone(t - 5 * 3600 - 1800 + 90).as_deref(),
            None,
            "India is east"
        );
        assert_eq!(zone(t + 5 * 3600 + 1800 - 90).as_deref(), Some("UTC+5:30"));
        assert_eq!(zone(t + 5 * 3600 + 45 * 60).as_deref(), Some("UTC+5:45"));
        assert_eq!(zone(t - 2 * 3600 - 1800).as_deref(), Some("UTC-2:30"));
        assert_eq!(zone(t - 3 * 3600 - 1800 + 100).as_deref(), Some("UTC-3:30"));
        assert_eq!(
            zone(t + 3 * 3600 + 180),
            None,
            "three minutes off is a delay"
        );
        assert_eq!(zone(t - 2 * 3600 - 35 * 60), None, "2 h 35 min: no zone");
        assert_eq!(zone(t + 7 * 3600 + 1800), None, "no zone is UTC+7:30");
        assert_eq!(zone(t + 1800), None, "under an hour");
        assert_eq!(zone(t + 15 * 3600), None, "over fourteen hours");
        assert_eq!(zone(t + 14 * 3600).as_deref(), Some("UTC+14"));
        assert_eq!(zone(t - 12 * 3600).as_deref(), Some("UTC-12"));
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(45), "45s");
        assert_eq!(format_duration(3 * 3600), "3h 0m");
        assert_eq!(format_duration(400 * 86_400), "400 days");
    }
}
