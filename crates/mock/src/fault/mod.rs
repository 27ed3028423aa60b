//! Faults: the endpoint misbehaving on purpose, so a partner's retry logic can be tested. A
//! fault answers with a status (and `Retry-After`), delays the answer, resets the connection
//! with a real TCP RST, or closes it without an answer; it matches by tracking id and kind, and
//! is limited by `times` and by a `probability` drawn from a seeded generator (`serve --seed`
//! makes a run reproducible).
//!
//! The click path pays one relaxed atomic load while no fault is set.

use crate::lock::lock;
use crate::wire::TextOrNumber;
use metrica_s2s_rules::Kind;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// Longest delay a fault may add.
pub(crate) const MAX_DELAY_MS: u64 = 60_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// Answer with `status` (503 by default), `Retry-After` when given.
    Status,
    /// Answer as usual, `delay_ms` late.
    Delay,
    /// Abort the connection with a TCP RST, no answer.
    Reset,
    /// Close the connection without an answer (a FIN).
    Close,
}

impl FaultKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Status => "status",
            FaultKind::Delay => "delay",
            FaultKind::Reset => "reset",
            FaultKind::Close => "close",
        }
    }
}

/// A fault as the admin API and the tracker file take it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Only requests to this tracker (every tracker when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<TextOrNumber>,
    /// Only clicks or only impressions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    pub fault: FaultKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Seconds, sent as `Retry-After` with a status fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Only the first N matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// Each matching request is faulted with this probability (0 < P <= 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
}

/// A field of a fault that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct FaultError {
    pub field: &'static str,
    pub detail: String,
}

fn bad(field: &'static str, detail: impl Into<String>) -> FaultError {
    FaultError {
        field,
        detail: detail.into(),
    }
}

impl FaultSpec {
    /// The fault, checked; its tracking id as a number.
    pub fn check(&self) -> Result<Option<u64>, FaultError> {
        let id = match &self.tracking_id {
            None => None,
            Some(t) => Some(t.tracking_id().ok_or_else(|| {
                bad(
                    "tracking_id",
                    format!("{} is not a tracking id (1-20 decimal digits)", t.shown()),
                )
            })?),
        };
        let only = |field: &'static str, set: bool, kind: FaultKind| {
            if set && self.fault != kind {
                Err(bad(
                    field,
                    format!("is for fault \"{}\" only", kind.as_str()),
                ))
            } else {
                Ok(())
            }
        };
        only("status", self.status.is_some(), FaultKind::Status)?;
        only("retry_after", self.retry_after.is_some(), FaultKind::Status)?;
        only("delay_ms", self.delay_ms.is_some(), FaultKind::Delay)?;
        if let Some(s) = self.status {
            if !(200..=599).contains(&s) {
                return Err(bad(
                    "status",
                    format!("{s} is not an HTTP status from 200 to 599"),
                ));
            }
        }
        match (self.fault, self.delay_ms) {
            (FaultKind::Delay, None) => {
                return Err(bad("delay_ms", "missing: a delay fault needs delay_ms"))
            }
            (_, Some(d)) if d > MAX_DELAY_MS => {
                return Err(bad(
                    "delay_ms",
                    format!("{d} is more than {MAX_DELAY_MS} ms"),
                ))
            }
            _ => {}
        }
        if self.times == Some(0) {
            return Err(bad(
                "times",
                "0 would never fault: leave it out for every request",
            ));
        }
        if let Some(p) = self.probability {
            if !(p > 0.0 && p <= 1.0) {
                return Err(bad("probability", format!("{p} is not in (0, 1]")));
            }
        }
        Ok(id)
    }
}

/// What was done to one request, as the journal keeps it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    pub id: u64,
    pub fault: FaultKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
}

impl Applied {
    /// What the request's answer is to be.
    pub fn status(&self) -> Option<u16> {
        match self.fault {
            FaultKind::Status => Some(self.status.unwrap_or(503)),
            _ => None,
        }
    }

    pub fn delay(&self) -> Option<Duration> {
        self.delay_ms.map(Duration::from_millis)
    }
}

/// A fault set, with its use so far.
#[derive(Debug)]
struct Set {
    id: u64,
    tracking_id: Option<u64>,
    spec: FaultSpec,
    /// Requests it faulted.
    hits: AtomicU64,
}

/// A fault as `GET /__admin/faults` lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ListedFault {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    pub hits: u64,
}

#[derive(Debug)]
pub(crate) struct Faults {
    set: RwLock<Vec<Arc<Set>>>,
    /// False while no fault is set: the click path reads only this.
    any: AtomicBool,
    next_id: AtomicU64,
    rng: Mutex<fastrand::Rng>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults::new(None)
    }
}

impl Faults {
    /// With `seed`, the probabilities draw the same sequence in every run.
    pub(crate) fn new(seed: Option<u64>) -> Faults {
        Faults {
            set: RwLock::new(Vec::new()),
            any: AtomicBool::new(false),
            next_id: AtomicU64::new(1),
            rng: Mutex::new(seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed)),
        }
    }

    /// Adds a fault after checking it; its id.
    pub(crate) fn add(&self, spec: FaultSpec) -> Result<u64, FaultError> {
        let tracking_id = spec.check()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut set = self
            .set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.push(Arc::new(Set {
            id,
            tracking_id,
            spec,
            hits: AtomicU64::new(0),
        }));
        self.any.store(true, Ordering::Release);
        Ok(id)
    }

    pub(crate) fn list(&self) -> Vec<ListedFault> {
        let set = self
            .set
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.iter()
            .map(|s| ListedFault {
                id: s.id,
                spec: s.spec.clone(),
                hits: s.hits.load(Ordering::Relaxed),
            })
            .collect()
    }

    /// Removes fault `id`; whether it was set.
    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut set = self
            .set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let before = set.len();
        set.retain(|s| s.id != id);
        self.any.store(!set.is_empty(), Ordering::Release);
        set.len() != before
    }

    /// Removes every fault; how many there were.
    pub(crate) fn clear(&self) -> usize {
        let mut set = self
            .set
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = set.len();
        set.clear();
        self.any.store(false, Ordering::Release);
        n
    }

    /// The fault to apply to a request to `tracking_id` of `kind`: the first set that
    /// matches, has uses left, and whose probability is drawn.
    pub(crate) fn pick<'t>(
        &self,
        tracking_id: impl FnOnce() -> Option<&'t [u8]>,
        kind: Kind,
    ) -> Option<Applied> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let id = tracking_id()
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(|t| t.parse::<u64>().ok());
        let set = self
            .set
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.iter().find_map(|s| {
            let matches = s.tracking_id.is_none_or(|t| Some(t) == id)
                && s.spec.kind.is_none_or(|k| k == kind);
            if !matches {
                return None;
            }
            if let Some(p) = s.spec.probability {
                if lock(&self.rng).f64() >= p {
                    return None;
                }
            }
            let limit = s.spec.times.unwrap_or(u64::MAX);
            s.hits
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                    (n < limit).then_some(n + 1)
                })
                .ok()?;
            Some(Applied {
                id: s.id,
                fault: s.spec.fault,
                status: (s.spec.fault == FaultKind::Status).then(|| s.spec.status.unwrap_or(503)),
                retry_after: s.spec.retry_after,
                delay_ms: s.spec.delay_ms,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::fault::{FaultKind, FaultSpec, Faults};
    use metrica_s2s_rules::Kind;

    fn spec(fault: FaultKind) -> FaultSpec {
        FaultSpec {
            tracking_id: None,
            kind: None,
            fault,
            status: None,
            retry_after: None,
            delay_ms: None,
            times: None,
            probability: None,
        }
    }

    #[test]
    fn faults_match_by_tracker_and_kind_and_run_out() {
        let f = Faults::new(Some(1));
        assert!(f.pick(|| Some(b"7"), Kind::Click).is_none(), "none set");
        f.add(FaultSpec {
            tracking_id: Some(7.into()),
            kind: Some(Kind::Click),
            times: Some(2),
            status: Some(502),
            retry_after: Some(3),
            ..spec(FaultKind::Status)
        })
        .expect("valid");
        assert!(f.pick(|| Some(b"8"), Kind::Click).is_none());
        assert!(f.pick(|| Some(b"7"), Kind::Impression).is_none());
        let a = f.pick(|| Some(b"7"), Kind::Click).expect("first");
        assert_eq!((a.status(), a.retry_after), (Some(502), Some(3)));
        assert!(f.pick(|| Some(b"7"), Kind::Click).is_some());
        assert!(f.pick(|| Some(b"7"), Kind::Click).is_none(), "times = 2");
        assert_eq!(f.list()[0].hits, 2);
        assert_eq!(f.clear(), 1);
        assert!(f.pick(|| Some(b"7"), Kind::Click).is_none());
    }

    #[test]
    fn a_seed_makes_probabilities_reproducible() {
        let draw = |seed| {
            let f = Faults::new(Some(seed));
            f.add(FaultSpec {
                probability: Some(0.3),
                ..spec(FaultKind::Reset)
            })
            .expect("valid");
            (0..200)
                .map(|_| f.pick(|| None, Kind::Click).is_some())
                .collect::<Vec<_>>()
        };
        let a = draw(42);
        assert_eq!(a, draw(42));
        assert_ne!(a, draw(43));
        let hits = a.iter().filter(|x| **x).count();
        assert!((30..=90).contains(&hits), "{hits} of 200 at 0.3");
    }

    #[test]
    fn bad_faults_name_the_field() {
        let f = Faults::default();
        for (s, field) in [
            (
                FaultSpec {
                    status: Some(99),
                    ..spec(FaultKind::Status)
                },
                "status",
            ),
            (
                FaultSpec {
                    status: Some(503),
                    ..spec(FaultKind::Reset)
                },
                "status",
            ),
            (spec(FaultKind::Delay), "delay_ms"),
            (
                FaultSpec {
                    delay_ms: Some(600_000),
                    ..spec(FaultKind::Delay)
                },
                "delay_ms",
            ),
            (
                FaultSpec {
                    times: Some(0),
                    ..spec(FaultKind::Close)
                },
                "times",
            ),
            (
                FaultSpec {
                    probability: Some(1.5),
                    ..spec(FaultKind::Close)
                },
                "probability",
            ),
            (
                FaultSpec {
                    tracking_id: Some(crate::wire::TextOrNumber::Text("x".into())),
                    ..spec(FaultKind::Close)
                },
                "tracking_id",
            ),
        ] {
            assert_eq!(f.add(s).expect_err("invalid").field, field);
        }
        assert!(f.list().is_empty(), "nothing was added");
    }
}
