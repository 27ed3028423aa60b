//! How postbacks are delivered: AppMetrica's timings, and the bounds that keep the mock's
//! memory fixed.

use std::time::Duration;

/// The User-Agent AppMetrica's postbacks carry.
pub const USER_AGENT: &str = "Mozilla/5.0 (compatible; YandexMetrika/2.0; +http://yandex.com/bots)";

#[derive(Clone, Debug)]
pub struct PostbackOptions {
    /// Every retry delay and attribution window is divided by this (tests cannot wait days).
    pub time_scale: f64,
    /// How long a receiver has to answer: AppMetrica's 5 s, not scaled.
    pub timeout: Duration,
    /// Between attempts, before scaling: AppMetrica retries every few minutes.
    pub retry_every: Duration,
    /// How long retries go on, before scaling: 24 hours.
    pub retry_for: Duration,
    /// Deliveries waiting for an attempt or a retry at once; beyond it new ones are dropped
    /// and counted.
    pub queue_capacity: usize,
    /// Deliveries kept for the admin API; the oldest are forgotten first.
    pub keep: usize,
    /// Attempts in flight at once.
    pub concurrency: usize,
}

impl Default for PostbackOptions {
    fn default() -> Self {
        PostbackOptions {
            time_scale: 1.0,
            timeout: Duration::from_secs(5),
            retry_every: Duration::from_secs(180),
            retry_for: Duration::from_secs(24 * 3600),
            queue_capacity: 10_000,
            keep: 10_000,
            concurrency: 64,
        }
    }
}

impl PostbackOptions {
    pub(super) fn scaled(&self, d: Duration) -> Duration {
        d.div_f64(self.time_scale.max(1e-9))
    }
}
