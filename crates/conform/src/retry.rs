//! A fault scenario's attempts, judged: the mock failed the first of them on purpose, and
//! the partner was to send the same event again, unchanged, with some patience.

use crate::judge::Finding;
use crate::suite::Scenario;
use metrica_s2s_mock::model::Entry;
use metrica_s2s_mock::model::{Applied, FaultKind};
use metrica_s2s_rules::{calendar, quote_str, Code, Draft};

/// The fields a retry must carry unchanged.
const SAME_ON_RETRY: [&str; 4] = ["click_id", "click_timestamp", "device_ip", "device_ua"];
/// More attempts than this within a second is a storm.
const STORM: usize = 5;

/// Findings over every attempt of one event, in arrival order. `window` is how long the
/// runner waited for a retry.
pub fn check(scenario: &Scenario, attempts: &[&Entry], window_ms: u64) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(first) = attempts.first() else {
        return out;
    };
    if attempts.iter().all(|e| e.fault.is_some()) {
        if let Some(f) = &first.fault {
            let window = calendar::format_duration(window_ms.div_ceil(1000));
            let d = if attempts.len() == 1 {
                Draft::new(Code::RetryMissing)
                    .arg("fault", what_it_did(f))
                    .arg("event", scenario.event.as_str())
                    .arg("window", window)
            } else {
                Draft::new(Code::RetryGaveUp)
                    .arg("fault", what_it_did(f))
                    .arg("event", scenario.event.as_str())
                    .arg("retries", (attempts.len() - 1).to_string())
                    .arg("attempts", attempts.len().to_string())
                    .arg("times", attempt_times(attempts))
                    .arg("window", window)
            };
            out.push(Finding::plain(d.finish()));
        }
    }
    out.extend(changed(first, attempts));
    out.extend(storm(attempts));
    out
}

/// When each attempt arrived, counted from the first: `0 s, +1.0 s, +3.0 s`.
fn attempt_times(attempts: &[&Entry]) -> String {
    let start = attempts.first().map_or(0, |e| e.received_at_ms);
    attempts
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let after = e.received_at_ms.saturating_sub(start);
            if i == 0 {
                "0 s".to_owned()
            } else {
                format!("+{}.{} s", after / 1000, after % 1000 / 100)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `answered 503`, `reset the connection`, ...
fn what_it_did(f: &Applied) -> String {
    match f.fault {
        FaultKind::Status => format!("answered {}", f.status().unwrap_or(503)),
        FaultKind::Delay => format!("answered {} ms late", f.delay_ms.unwrap_or(0)),
        FaultKind::Reset => "reset the connection".into(),
        FaultKind::Close => "closed the connection without an answer".into(),
    }
}

/// The first field each retry changed, reported once per field.
fn changed(first: &Entry, attempts: &[&Entry]) -> Vec<Finding> {
    let mut out = Vec::new();
    for name in SAME_ON_RETRY {
        let was = first.param(name);
        let Some((n, now)) = attempts
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, e)| (i + 1, e.param(name)))
            .find(|(_, v)| *v != was)
        else {
            continue;
        };
        let show = |v: Option<&str>| v.map_or_else(|| "nothing".to_owned(), quote_str);
        let fix = if name == "click_timestamp" {
            "send the event's time on every attempt: build the request once, before the first attempt, and send it again as it is"
        } else {
            "send the same request again: build it once, before the first attempt"
        };
        let d = Draft::new(Code::RetryChanged)
            .param(name)
            .arg("param", name)
            .arg("first", show(was))
            .arg("retry", show(now))
            .arg("attempt", n.to_string())
            .arg("fix", fix)
            .finish();
        out.push(Finding::with(
            d,
            was.unwrap_or_default(),
            now.unwrap_or_default(),
        ));
    }
    out
}

/// More than five attempts within one second, or the same request again after a 4xx.
fn storm(attempts: &[&Entry]) -> Option<Finding> {
    let times: Vec<u64> = attempts.iter().map(|e| e.received_at_ms).collect();
    let burst = (0..times.len()).find_map(|i| {
        let within = times[i..]
            .iter()
            .take_while(|t| **t < times[i] + 1000)
            .count();
        (within > STORM).then_some(within)
    });
    let reason = match burst {
        Some(n) => format!(
            "{n} attempts within one second, {} in all: retries without backoff",
            attempts.len()
        ),
        None => {
            let after_4xx = attempts
                .windows(2)
                .find(|w| (400..500).contains(&w[0].status) && w[1].target == w[0].target)?;
            format!(
                "the same request was sent again after the mock answered {} (request #{}); a 4xx will fail the same way however often it is sent",
                after_4xx[0].status, after_4xx[0].seq
            )
        }
    };
    Some(Finding::plain(
        Draft::new(Code::RetryStorm).arg("reason", reason).finish(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::retry::check;
    use crate::suite::Suite;
    use metrica_s2s_mock::model::Entry;
    use metrica_s2s_mock::model::{Applied, FaultKind};
    use metrica_s2s_rules::Code;

    fn suite() -> Suite {
        Suite::parse(
            "[suite]\nid='r'\ntitle='t'\n[[scenario]]\nid='s'\ntitle='t'\nevent='click'\ndevice={ua='u', ip='1.2.3.4'}\nfault={fault='status', status=503, times=1}\n",
        )
        .expect("suite")
    }

    fn attempt(seq: u64, at_ms: u64, ts: u64, status: u16, faulted: bool) -> Entry {
        let target =
            format!("/serve/1?click_id=c&device_ip=1.2.3.4&device_ua=u&click_timestamp={ts}");
        let (tracking_id, params) = Entry::derived_from(&target);
        Entry {
            seq,
            received_at_ms: at_ms,
            kind: metrica_s2s_rules::Kind::Click,
            method: "GET".into(),
            host: None,
            tracking_id,
            target,
            params,
            remote_addr: None,
            user_agent: None,
            x_forwarded_for: None,
            status,
            diagnostics: Vec::new(),
            fault: faulted.then_some(Applied {
                id: 1,
                fault: FaultKind::Status,
                status: Some(503),
                retry_after: None,
                delay_ms: None,
            }),
        }
    }

    fn codes(entries: &[Entry]) -> Vec<Code> {
        let s = suite();
        let refs: Vec<&Entry> = entries.iter().collect();
        check(&s.scenarios[0], &refs, 6000)
            .iter()
            .map(|f| f.diagnostic.code)
            .collect()
    }

    #[test]
    fn giving_up_names_the_attempts_and_their_times() {
        let s = suite();
        let entries = [
            attempt(1, 5_000, 100, 503, true),
            attempt(2, 6_000, 100, 503, true),
            attempt(3, 8_000, 100, 503, true),
            attempt(4, 12_500, 100, 503, true),
        ];
        let refs: Vec<&Entry> = entries.iter().collect();
        let found = check(&s.scenarios[0], &refs, 8000);
        let message = &found[0].diagnostic.message;
        assert!(message.contains("retried 3 times"), "{message}");
        assert!(message.contains("0 s, +1.0 s, +3.0 s, +7.5 s"), "{message}");
        assert!(message.contains("answered 503"), "{message}");
    }

    #[test]
    fn a_patient_unchanged_retry_is_clean() {
        assert!(codes(&[
            attempt(1, 0, 100, 503, true),
            attempt(2, 1000, 100, 204, false)
        ])
        .is_empty());
    }

    #[test]
    fn no_retry_a_changed_one_and_a_storm_each_have_their_code() {
        assert_eq!(
            codes(&[attempt(1, 0, 100, 503, true)]),
            [Code::RetryMissing]
        );
        assert_eq!(
            codes(&[
                attempt(1, 0, 100, 503, true),
                attempt(2, 1000, 100, 503, true),
                attempt(3, 3000, 100, 503, true),
                attempt(4, 7000, 100, 503, true)
            ]),
            [Code::RetryGaveUp]
        );
        assert_eq!(
            codes(&[
                attempt(1, 0, 100, 503, true),
                attempt(2, 1000, 101, 204, false)
            ]),
            [Code::RetryChanged]
        );
        let storm: Vec<Entry> = (0..6)
            .map(|i| attempt(i + 1, i * 10, 100, if i < 5 { 503 } else { 204 }, i < 5))
            .collect();
        assert_eq!(codes(&storm), [Code::RetryStorm]);
        let five: Vec<Entry> = (0..5)
            .map(|i| attempt(i + 1, i * 10, 100, if i < 4 { 503 } else { 204 }, i < 4))
            .collect();
        assert!(
            codes(&five).is_empty(),
            "five within a second is not yet a storm"
        );
        assert_eq!(
            codes(&[
                attempt(1, 0, 100, 503, true),
                attempt(2, 2000, 100, 400, false),
                attempt(3, 4000, 100, 400, false)
            ]),
            [Code::RetryStorm],
            "the same request after a 4xx"
        );
    }
}
