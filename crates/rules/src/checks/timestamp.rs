//! click_timestamp: UTC Unix seconds of the event, sent within 12 hours of it.
//!
//! One cause, one error: when a unit mistake (milliseconds, microseconds) explains the value,
//! the generic time rules stay quiet; when a time zone's offset explains a value out of range,
//! the time rule's message names it, and `timestamp-timezone-offset` is kept for skews still
//! inside the limits.

use super::view::{Found, Scope};
use crate::calendar::{format_duration, format_utc, unix_from_utc, zone_offset, ZoneOffset};
use crate::catalogue::Code;
use crate::diagnostic::Draft;
use crate::settings::Settings;

/// Checks click_timestamp; returns the time zone its skew points at, if any.
pub(super) fn check(scope: &Scope<'_, '_>, out: &mut Found) -> Option<ZoneOffset> {
    let (view, text) = scope.data("click_timestamp")?;
    let span = view.value_span();
    let (found, zone) = judge(text, scope.ctx.now, scope.ctx.settings);
    for d in found {
        out.push(d.span(span));
    }
    zone
}

/// Every finding for one value.
#[cfg(test)]
fn check_value(text: &str, now: u64, s: &Settings) -> Vec<Draft> {
    judge(text, now, s).0
}

/// The findings, and the time zone the skew from `now` points at.
fn judge(text: &str, now: u64, s: &Settings) -> (Vec<Draft>, Option<ZoneOffset>) {
    let found = |d: Vec<Draft>| (d, None);
    let v = text.as_bytes();
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        let (reason, fix) = explain_non_integer(text);
        return found(vec![Draft::new(Code::TimestampInvalid)
            .value(v)
            .arg("reason", reason)
            .arg("fix", fix)]);
    }
    let digits = text.trim_start_matches('0').len();
    let Ok(ts) = text.parse::<u64>() else {
        return found(vec![Draft::new(Code::TimestampInvalid)
            .value(v)
            .arg("reason", format!("{digits} digits do not fit a Unix time"))
            .arg(
                "fix",
                "send the Unix time of the click in seconds (10 digits today)",
            )]);
    };
    for (len, divisor, code) in [
        (13, 1000, Code::TimestampMilliseconds),
        (16, 1_000_000, Code::TimestampMicroseconds),
    ] {
        if digits == len && ts / divisor >= s.earliest_plausible {
            let secs = ts / divisor;
            return found(vec![Draft::new(code)
                .value(v)
                .arg("seconds", secs.to_string())
                .arg("datetime", format_utc(secs as i64))]);
        }
    }
    let dt = || format_utc(i64::try_from(ts).unwrap_or(i64::MAX / 2));
    if ts < s.earliest_plausible {
        return found(vec![Draft::new(Code::TimestampImplausible)
            .value(v)
            .arg("datetime", dt())]);
    }
    let zone = zone_offset(ts, now, s.timezone_slack_secs);
    // One cause, one diagnostic: a zone that pushes the value out of range is named in the
    // time rule's own message.
    let cause = zone.map_or_else(String::new, |z| {
        format!(", exactly the {z} offset: local {z} time was probably sent as UTC")
    });
    let finding = if ts > now.saturating_add(s.future_tolerance_secs) {
        Draft::new(Code::TimestampInFuture)
            .value(v)
            .arg("datetime", dt())
            .arg("skew", format_duration(ts - now))
            .arg("cause", cause)
    } else if ts < now.saturating_sub(s.max_age_secs) {
        Draft::new(Code::TimestampTooOld)
            .value(v)
            .arg("datetime", dt())
            .arg("skew", format_duration(now - ts))
            .arg("limit", format_duration(s.max_age_secs))
            .arg("cause", cause)
    } else if let Some(z) = zone {
        Draft::new(Code::TimestampTimezoneOffset)
            .value(v)
            .arg("skew", format_duration(ts.abs_diff(now)))
            .arg("direction", if ts >= now { "ahead of" } else { "behind" })
            .arg("zone", z.to_string())
    } else {
        return (Vec::new(), None);
    };
    (vec![finding], zone)
}

/// Why a non-integer is not a timestamp, and the value it should have been when that can be
/// worked out (ISO 8601, fractions, hexadecimal).
fn explain_non_integer(text: &str) -> (String, String) {
    let generic =
        "send the Unix time of the click in whole seconds, e.g. click_timestamp=1764324000"
            .to_owned();
    if let Some(rest) = text.strip_prefix('-') {
        if !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()) {
            return (
                "it is negative".into(),
                format!("{generic}; a negative value is usually an unset or subtracted time"),
            );
        }
    }
    if let Some((int, frac)) = text.split_once('.') {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(int) && digits(frac) {
            let secs = match int.len() {
                13 => int.parse::<u64>().map(|n| n / 1000).ok(),
                _ => int.parse::<u64>().ok(),
            };
            let fix = secs.map_or(generic.clone(), |s| {
                format!("drop the fraction: click_timestamp={s}")
            });
            return ("it has a fractional part".into(), fix);
        }
    }
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        if let Ok(n) = u64::from_str_radix(hex, 16) {
            return (
                "it is hexadecimal".into(),
                format!("send it in decimal: click_timestamp={n}"),
            );
        }
    }
    if let Some((secs, zoned)) = parse_iso8601(text) {
        let fix = if zoned {
            format!("convert the date-time to Unix seconds: click_timestamp={secs}")
        } else {
            format!("convert the date-time to Unix seconds; it names no time zone: if it is UTC, click_timestamp={secs}")
        };
        return ("it is an ISO 8601 date-time, not Unix seconds".into(), fix);
    }
    if text.contains(['e', 'E']) && text.parse::<f64>().is_ok() {
        return ("it is in scientific notation".into(), generic);
    }
    (
        "it holds characters other than the digits 0-9".into(),
        generic,
    )
}

/// `YYYY-MM-DD[T ]HH:MM[:SS][.fff][Z|±HH:MM]` to Unix seconds, and whether it named a zone.
fn parse_iso8601(text: &str) -> Option<(i64, bool)> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 16
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
    {
        return None;
    }
    let (y, mo, d, h, mi) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
    );
    let mut i = 16;
    let mut sec = 0;
    if b.get(i) == Some(&b':') {
        sec = num(17..19)?;
        i = 19;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let base = unix_from_utc(i64::from(y), mo, d, h, mi, sec);
    match &text[i..] {
        "" => Some((base, false)),
        "Z" | "z" => Some((base, true)),
        zone => {
            let zb = zone.as_bytes();
            let sign = match zb.first()? {
                b'+' => -1,
                b'-' => 1,
                _ => return None,
            };
            let zh = num(i + 1..i + 3)?;
            let zm = match zone.len() {
                3 => 0,
                5 => num(i + 3..i + 5)?,
                6 if zb[3] == b':' => num(i + 4..i + 6)?,
                _ => return None,
            };
            Some((base + sign * i64::from(zh * 3600 + zm * 60), true))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_764_324_000; // 2025-11-28 10:00:00 UTC

    fn codes(v: &str) -> Vec<Code> {
        check_value(v, NOW, &Settings::default())
            .into_iter()
            .map(|d| d.finish().code)
            .collect()
    }

    #[test]
    fn inside_the_window_is_clean() {
        for v in [
            NOW,
            NOW - 60,
            NOW + 300,
            NOW - 12 * 3600 + 1000,
            NOW - 1800,
            NOW - 3000,
        ] {
            assert_eq!(codes(&v.to_string()), vec![], "{v}");
        }
    }

    #[test]
    fn time_rules_at_their_edges() {
        assert_eq!(
            codes(&(NOW + 301).to_string()),
            vec![Code::TimestampInFuture]
        );
        // 12 hours is also UTC-12's offset: the one error names it.
        assert_eq!(
            codes(&(NOW - 12 * 3600 - 1).to_string()),
            vec![Code::TimestampTooOld]
        );
        assert_eq!(
            codes(&(NOW - 13 * 3600 - 1000).to_string()),
            vec![Code::TimestampTooOld]
        );
        // A whole-hour skew inside the window is only a warning.
        assert_eq!(
            codes(&(NOW - 2 * 3600).to_string()),
            vec![Code::TimestampTimezoneOffset]
        );
        assert_eq!(codes("1262303999"), vec![Code::TimestampImplausible]);
        assert_eq!(codes("0"), vec![Code::TimestampImplausible]);
        assert_eq!(codes("1453895044"), vec![Code::TimestampTooOld]);
    }

    #[test]
    fn units_explain_without_the_generic_rules() {
        assert_eq!(
            codes(&format!("{NOW}123")),
            vec![Code::TimestampMilliseconds]
        );
        assert_eq!(
            codes(&format!("{NOW}123456")),
            vec![Code::TimestampMicroseconds]
        );
        let d = check_value(&format!("{NOW}123"), NOW, &Settings::default())
            .remove(0)
            .finish();
        assert!(
            d.hint.contains(&format!("click_timestamp={NOW}")),
            "{}",
            d.hint
        );
    }

    #[test]
    fn timezone_offsets_are_named_once() {
        let one = |ts: u64| {
            let mut d = check_value(&ts.to_string(), NOW, &Settings::default());
            assert_eq!(d.len(), 1, "one diagnostic for one cause at {ts}");
            d.remove(0).finish()
        };
        // Out of range because of the zone: the time rule's own message names it.
        let ahead = one(NOW + 3 * 3600);
        assert_eq!(ahead.code, Code::TimestampInFuture);
        assert!(
            ahead.message.contains("local UTC+3 time"),
            "{}",
            ahead.message
        );
        let old = one(NOW - 12 * 3600 - 60);
        assert_eq!(old.code, Code::TimestampTooOld);
        assert!(old.message.contains("local UTC-12 time"), "{}", old.message);
        // Inside the limits: the warning, with zones that exist.
        let newfoundland = one(NOW - 3 * 3600 - 1800 + 100);
        assert_eq!(newfoundland.code, Code::TimestampTimezoneOffset);
        assert!(
            newfoundland.message.contains("UTC-3:30"),
            "{}",
            newfoundland.message
        );
        // A delay a few minutes off an offset, or one no zone has, is just a delay.
        assert_eq!(codes(&(NOW - 3 * 3600 - 600).to_string()), vec![]);
        assert_eq!(codes(&(NOW - 2 * 3600 - 35 * 60).to_string()), vec![]);
        assert_eq!(codes(&(NOW - 5 * 3600 - 1800).to_string()), vec![]);
        let plain = one(NOW + 3 * 3600 + 600);
        assert!(
            !plain.message.contains("offset"),
            "no zone fits: {}",
            plain.message
        );
    }

    #[test]
    fn non_integers_get_a_worked_fix() {
        let fix = |v: &str| explain_non_integer(v).1;
        assert!(fix("2025-11-28T10:00:00Z").ends_with(&format!("={NOW}")));
        assert!(fix("2025-11-28T13:00:00+03:00").ends_with(&format!("={NOW}")));
        assert!(fix("2025-11-28 10:00:00").contains("if it is UTC"));
        assert!(fix("1453895044.5").ends_with("=1453895044"));
        assert!(fix("0x56a8").ends_with("=22184"));
        assert_eq!(explain_non_integer("-5").0, "it is negative");
        assert_eq!(
            explain_non_integer("1.4e9").0,
            "it is in scientific notation"
        );
        assert_eq!(codes("abc"), vec![Code::TimestampInvalid]);
        assert_eq!(
            codes("99999999999999999999999"),
            vec![Code::TimestampInvalid]
        );
    }
}
