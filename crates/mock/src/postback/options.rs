//! How postbacks are delivered, whatever the tracker's policy: the answer timeout, the time
//! scale for tests, and the bounds that keep the mock's memory fixed.

use std::time::Duration;

/// The User-Agent AppMetrica's postbacks carry.
pub(crate) const USER_AGENT: &str =
    "Mozilla/5.0 (compatible; YandexMetrika/2.0; +http://yandex.com/bots)";

#[derive(Clone, Debug)]
pub(crate) struct PostbackOptions {
    /// Every delay of a policy and every attribution window is divided by this (tests cannot
    /// wait days).
    pub(crate) time_scale: f64,
    /// How long a receiver has to answer: AppMetrica's 5 s, not scaled.
    pub(crate) timeout: Duration,
    /// Deliveries waiting for an attempt or a retry at once; beyond it new ones are dropped
    /// and counted.
    pub(crate) queue_capacity: usize,
    /// Deliveries kept for the admin API; the oldest are forgotten first.
    pub(crate) keep: usize,
    pub(crate) keep_bytes: usize,
    /// Attempts in flight at once.
    pub(crate) concurrency: usize,
}

impl Default for PostbackOptions {
    fn default() -> Self {
        PostbackOptions {
            time_scale: 1.0,
            timeout: Duration::from_secs(5),
            queue_capacity: 10_000,
            keep: 10_000,
            keep_bytes: 16 << 20,
            concurrency: 64,
        }
    }
}
