//! When a postback counts as delivered, and how it is retried. AppMetrica's two pages on
//! postbacks disagree: the specification page counts only `200 OK` and resends every 5-10
//! minutes about 5 minutes after the event; the quota page counts any 2xx, resends every 3
//! minutes, and sends install postbacks in real time. Both count the 24 hours of retries from
//! the first attempt. Both readings are selectable per tracker (`[tracker.postback_policy]`);
//! the defaults are the stricter success (200) with the quota page's timings, so a receiver
//! that passes here is delivered to under either reading.

use serde::Deserialize;
use std::time::Duration;

/// What answer counts as delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
pub(crate) enum Success {
    /// `200 OK` only: the postback specification page.
    #[default]
    #[serde(rename = "200")]
    Only200,
    /// Any 2xx: the postback quota page ("other than 200-x" fails).
    #[serde(rename = "2xx")]
    Any2xx,
}

impl Success {
    pub(crate) fn accepts(self, status: u16) -> bool {
        match self {
            Success::Only200 => status == 200,
            Success::Any2xx => (200..300).contains(&status),
        }
    }
}

/// Seconds between attempts: fixed, or drawn from a range each time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum Interval {
    Fixed(u64),
    Range([u64; 2]),
}

/// A tracker's delivery rules, real time (before `--postback-time-scale`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Policy {
    pub(crate) success: Success,
    #[serde(rename = "retry_interval_secs")]
    pub(crate) retry_interval: Interval,
    /// Before the first attempt.
    pub(crate) first_delay_secs: u64,
    /// Retries stop this long after the first attempt.
    pub(crate) give_up_after_secs: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            success: Success::Only200,
            retry_interval: Interval::Fixed(180),
            first_delay_secs: 0,
            give_up_after_secs: 24 * 3600,
        }
    }
}

/// Why a policy cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("postback_policy: {0}")]
pub(crate) struct PolicyError(String);

impl Policy {
    pub(crate) fn check(&self) -> Result<(), PolicyError> {
        let (lo, hi) = self.interval_bounds();
        if lo == 0 || lo > hi {
            return Err(PolicyError(format!(
                "retry_interval_secs must be a positive number of seconds or a range [low, high] with low <= high, not {lo}..{hi}"
            )));
        }
        if self.give_up_after_secs == 0 || self.give_up_after_secs > 30 * 86_400 {
            return Err(PolicyError(format!(
                "give_up_after_secs = {}: give 1 s to 30 days (AppMetrica: 86400)",
                self.give_up_after_secs
            )));
        }
        if self.first_delay_secs > 86_400 {
            return Err(PolicyError(format!(
                "first_delay_secs = {}: at most a day (the specification page says about 300)",
                self.first_delay_secs
            )));
        }
        Ok(())
    }

    fn interval_bounds(&self) -> (u64, u64) {
        match self.retry_interval {
            Interval::Fixed(s) => (s, s),
            Interval::Range([lo, hi]) => (lo, hi),
        }
    }

    /// The wait before the next attempt, divided by `scale`.
    pub(crate) fn next_interval(&self, scale: f64) -> Duration {
        let (lo, hi) = self.interval_bounds();
        let secs = if lo == hi { lo } else { fastrand::u64(lo..=hi) };
        scaled(Duration::from_secs(secs), scale)
    }

    pub(crate) fn first_delay(&self, scale: f64) -> Duration {
        scaled(Duration::from_secs(self.first_delay_secs), scale)
    }

    pub(crate) fn give_up_after(&self, scale: f64) -> Duration {
        scaled(Duration::from_secs(self.give_up_after_secs), scale)
    }
}

pub(crate) fn scaled(d: Duration, scale: f64) -> Duration {
    d.div_f64(scale.max(1e-9))
}

#[cfg(test)]
mod tests {
    use crate::postback::policy::*;

    #[test]
    fn both_documented_readings_parse_and_the_default_is_200_every_3_minutes() {
        let p: Policy = toml::from_str("").expect("empty");
        assert_eq!(p, Policy::default());
        assert!(p.success.accepts(200) && !p.success.accepts(204));
        assert_eq!(p.next_interval(1.0), Duration::from_secs(180));
        let spec: Policy = toml::from_str(
            "success = \"2xx\"\nretry_interval_secs = [300, 600]\nfirst_delay_secs = 300",
        )
        .expect("the specification page's timings, the quota page's success");
        assert!(spec.success.accepts(204) && !spec.success.accepts(301));
        for _ in 0..50 {
            let d = spec.next_interval(1.0).as_secs();
            assert!((300..=600).contains(&d), "{d}");
        }
        assert_eq!(spec.first_delay(60.0), Duration::from_secs(5));
        spec.check().expect("valid");
        let bad: Policy = toml::from_str("retry_interval_secs = [600, 300]").expect("parses");
        assert!(bad.check().is_err());
        assert!(toml::from_str::<Policy>("success = \"201\"").is_err());
    }
}
