//! Thresholds and the per-request context: everything validation depends on besides the request.

/// Thresholds of the time rules and the UA cache. The defaults are AppMetrica's documented
/// limits where it documents one, and metrica-s2s's choice (said here) where it does not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// How far ahead of "now" a timestamp may be before `timestamp-in-future` (clock drift).
    /// Default 300 s.
    pub future_tolerance_secs: u64,
    /// How old an event may be when reported: AppMetrica's 12-hour rule. Default 43,200 s.
    pub max_age_secs: u64,
    /// Anything earlier is `timestamp-implausible`. Default 2010-01-01T00:00:00Z (1262304000).
    pub earliest_plausible: u64,
    /// How close to a real time zone's offset a skew must be to name a time-zone mistake.
    /// Default 120 s: an S2S call usually leaves seconds after the event, so a skew several
    /// minutes off an offset is a delay, not a zone.
    pub timezone_slack_secs: u64,
    /// Entries in each User-Agent cache of one `Validator` (verdicts, and decoded
    /// `device_ua` values). Real logs repeat a few thousand UAs; default 4,096.
    pub ua_cache_entries: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            future_tolerance_secs: 300,
            max_age_secs: 12 * 3600,
            earliest_plausible: 1_262_304_000,
            timezone_slack_secs: 120,
            ua_cache_entries: 4096,
        }
    }
}

/// The platform a tracker's app runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Platform {
    Android,
    Ios,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Android => "Android",
            Platform::Ios => "iOS",
        }
    }
}

/// What the caller knows about the request's tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TrackerStatus {
    /// No tracker configuration, or unknown trackers are allowed: anything goes.
    #[default]
    Unchecked,
    /// A configured tracker; `None` when it is for any platform.
    Known(Option<Platform>),
    /// Trackers are configured, unknown ones are refused, and this one is not among them.
    Unknown,
}

/// Everything about one validation besides the request itself.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Unix seconds. Passed in, never read from a clock here, so verdicts are reproducible.
    pub now: u64,
    pub settings: &'a Settings,
    /// The event kind when the input does not say (a bare request target).
    pub kind: Option<crate::Kind>,
    /// Looks a tracker up by id; `None` means no tracker configuration.
    pub trackers: Option<&'a dyn Fn(u64) -> TrackerStatus>,
}

impl<'a> Context<'a> {
    pub fn new(now: u64, settings: &'a Settings) -> Context<'a> {
        Context {
            now,
            settings,
            kind: None,
            trackers: None,
        }
    }
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("now", &self.now)
            .field("settings", &self.settings)
            .field("kind", &self.kind)
            .field("trackers", &self.trackers.map(|_| "<lookup>"))
            .finish()
    }
}
