//! A scenario's postback phase: after the click, a conversion for the same device, the
//! postback at the partner's receiver, then the same transaction once more, as AppMetrica
//! repeats a postback it saw no 200 for. Each answer is judged here.

use crate::driver::Supplies;
use crate::error::ScenarioError;
use crate::judge::Finding;
use crate::mock_handle::MockHandle;
use crate::partner::Receiver;
use crate::suite::{PostbackSpec, Scenario};
use crate::truth::Truth;
use metrica_s2s_mock::model::MatchType;
use metrica_s2s_mock::model::{Attempt, Delivery, FailureKind};
use metrica_s2s_mock::model::{ConversionKind, ConversionRequest, PostbackMethod, Template};
use metrica_s2s_rules::{quote_str, Code, Draft};
use std::time::Duration;

/// AppMetrica's 5 s, and time for the mock to record the attempt.
const ATTEMPT_WAIT: Duration = Duration::from_secs(8);
/// How much of a receiver's answer a message quotes.
const QUOTED_ANSWER: usize = 120;

/// What the postback phase found, and the delivery as it ended.
pub(crate) struct Outcome {
    pub findings: Vec<Finding>,
    pub delivery: Option<Delivery>,
}

pub(crate) async fn run(
    scenario: &Scenario,
    spec: &PostbackSpec,
    truth: &Truth,
    receiver: &Receiver,
    mock: &MockHandle,
    supplies: Supplies,
) -> Result<Outcome, ScenarioError> {
    let method = spec.method.unwrap_or(receiver.method);
    let template = receiver.template(spec.event, spec.event_name.as_deref(), method);
    let undocumented = undocumented_macros(&template);
    mock.set_postbacks(truth.tracking_id, vec![template])
        .await?;
    let request = conversion(scenario, spec, truth, supplies);
    // AppMetrica attributes an event, a purchase, e-commerce or ad revenue through the device's
    // install: the app reports the install first, as it would (no postback is set for it).
    if spec.event != ConversionKind::Install {
        let install = ConversionRequest {
            event: Some(ConversionKind::Install),
            event_name: None,
            ..request.clone()
        };
        mock.convert(&install).await?;
    }
    let outcome = mock.convert(&request).await?;
    let Some(&id) = outcome.postbacks.first() else {
        let why = outcome
            .not_attributed
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        return Err(ScenarioError::Postback(format!(
            "the conversion was not attributed to the scenario's click (match by {}): its S2S request did not carry what that match needs{why}",
            spec.match_type.as_str()
        )));
    };
    let tx = outcome.transaction_id;
    let first = mock
        .wait_delivery(&tx, 1, ATTEMPT_WAIT)
        .await?
        .ok_or_else(|| ScenarioError::Postback(format!("postback {id} was never attempted")))?;
    // After a timeout the repeat would only wait out the timeout again.
    let timed_out = first
        .attempts
        .first()
        .is_some_and(|a| a.error_kind == Some(FailureKind::Timeout));
    let delivery = if timed_out {
        first
    } else {
        mock.repeat(id).await?;
        mock.wait_delivery(&tx, 2, ATTEMPT_WAIT)
            .await?
            .unwrap_or(first)
    };
    let mut findings = undocumented;
    findings.extend(judge(&delivery));
    Ok(Outcome {
        findings,
        delivery: Some(delivery),
    })
}

/// `postback-macro-unknown` for each macro of the partner's template that AppMetrica does not
/// document: the receiver passes here with it filled from the click, and gets it empty in
/// production.
fn undocumented_macros(template: &Template) -> Vec<Finding> {
    let part = match template.method {
        PostbackMethod::Get => "the partner's [postback] url",
        PostbackMethod::Post => "the partner's [postback] url and body",
    };
    template
        .undocumented_macros(part)
        .into_iter()
        .map(Finding::plain)
        .collect()
}

/// The conversion for the scenario's device, as the app's SDK reports it: its IP and
/// User-Agent always, and what the scenario's match needs (the referrer's click id, the
/// advertising id). A driver that does not pass advertising ids cannot be matched by them:
/// such partners get a fingerprint match instead.
fn conversion(
    scenario: &Scenario,
    spec: &PostbackSpec,
    truth: &Truth,
    supplies: Supplies,
) -> ConversionRequest {
    let d = &scenario.device;
    let mut r = ConversionRequest {
        tracking_id: truth.tracking_id.into(),
        event: Some(spec.event),
        event_name: spec.event_name.clone(),
        device_ip: Some(d.ip.to_string()),
        device_ua: Some(d.ua.clone()),
        ..ConversionRequest::default()
    };
    match spec.match_type {
        MatchType::Referrer => r.referrer_click_id = Some(truth.click_id.clone()),
        MatchType::Identifier if supplies.ad_ids => {
            r.google_aid = d.google_aid.clone();
            r.ios_ifa = d.ios_ifa.clone();
        }
        MatchType::Identifier | MatchType::Fingerprint => {}
    }
    r
}

/// The findings of a delivery's first attempt and of its repeat.
pub fn judge(d: &Delivery) -> Vec<Finding> {
    let mut findings = Vec::new();
    let url = quote_str(&d.url);
    let first = d.attempts.iter().find(|a| !a.repeat);
    if let Some(a) = first {
        findings.extend(judge_first(d, a, &url));
    }
    let repeat = d.attempts.iter().find(|a| a.repeat);
    // A repeat of a failed delivery is a retry failing the same way: one cause, one finding.
    if let (Some(first), Some(r)) = (first, repeat) {
        let accepted = |s: Option<u16>| s.is_some_and(|s| (200..300).contains(&s));
        if accepted(first.status) && !accepted(r.status) {
            let (shown, cause) = match (r.status, r.error_kind) {
                (Some(s), _) => (s.to_string(), status_cause(s, r, d.method.as_str()).0),
                (None, Some(FailureKind::Timeout)) => (
                    "nothing".into(),
                    "no answer within 5 s: AppMetrica counts that as a failed delivery".into(),
                ),
                (None, _) => (
                    "nothing".into(),
                    format!(
                        "the connection failed ({}): the receiver may have crashed on the repeated transaction",
                        r.error.as_deref().unwrap_or("no detail")
                    ),
                ),
            };
            let cause = if r.status == Some(409) {
                "409 Conflict: the receiver treats a transaction_id it has seen as an error, so AppMetrica keeps repeating it for 24 hours".to_owned()
            } else {
                cause
            };
            findings.push(Finding::with(
                Draft::new(Code::PostbackRetryRejected)
                    .arg("transaction_id", quote_str(&d.transaction_id))
                    .arg("status", shown.clone())
                    .arg("cause", cause)
                    .finish(),
                "200",
                shown,
            ));
        }
    }
    findings
}

fn judge_first(d: &Delivery, a: &Attempt, url: &str) -> Option<Finding> {
    let method = d.method.as_str();
    match (a.status, a.error_kind) {
        (Some(200), _) => None,
        (Some(status @ 201..=299), _) => Some(Finding::with(
            Draft::new(Code::PostbackStatusNot200)
                .arg("status", status.to_string())
                .arg("method", method)
                .arg("url", url)
                .finish(),
            "200",
            status.to_string(),
        )),
        (Some(status), _) => {
            let (cause, fix) = status_cause(status, a, method);
            Some(Finding::with(
                Draft::new(Code::PostbackStatus)
                    .arg("status", status.to_string())
                    .arg("method", method)
                    .arg("url", url)
                    .arg("cause", cause)
                    .arg("fix", fix)
                    .finish(),
                "200",
                status.to_string(),
            ))
        }
        (None, Some(FailureKind::Timeout)) => Some(Finding::with(
            Draft::new(Code::PostbackTimeout)
                .arg("method", method)
                .arg("url", url)
                .arg("timeout", "5 s")
                .finish(),
            "an answer within 5 s",
            format!("none after {} ms", a.duration_ms),
        )),
        (None, _) => {
            let reason = a.error.clone().unwrap_or_else(|| "no detail".into());
            let fix = if reason.contains("refused") {
                "nothing listens there: start the receiver, or correct the port in the postback URL"
            } else {
                "the receiver closed the connection without an answer: look for a crash in its log for this request"
            };
            Some(Finding::with(
                Draft::new(Code::PostbackUnreachable)
                    .arg("url", url)
                    .arg("reason", reason.clone())
                    .arg("fix", fix)
                    .finish(),
                "HTTP 200",
                reason,
            ))
        }
    }
}

/// Why a receiver may have answered `status`, and what to change.
fn status_cause(status: u16, a: &Attempt, method: &str) -> (String, String) {
    let said = a
        .answer
        .as_deref()
        .map(|t| {
            let cut: String = t.chars().take(QUOTED_ANSWER).collect();
            format!(" (it said {})", quote_str(cut.trim()))
        })
        .unwrap_or_default();
    let (cause, fix): (String, &str) = match status {
        300..=399 => (
            format!("a redirect: AppMetrica does not follow it, so the postback is never delivered{said}"),
            "serve the postback URL itself instead of redirecting",
        ),
        400 | 422 => (
            format!("the receiver rejected the values it was sent{said}"),
            "accept every value AppMetrica sends: IPs in IPv6 form (::ffff:5.255.232.147), percent-encoded UTF-8 (User-Agents, Cyrillic event names), empty values for unknown macros",
        ),
        401 | 403 => (
            format!("the receiver refused it as unauthorized{said}"),
            "AppMetrica sends no credentials: put a secret in the postback URL instead of requiring a header",
        ),
        404 => (
            format!("the receiver has no such path{said}"),
            "correct the path of the postback URL",
        ),
        405 => (
            format!("the receiver does not accept {method}{said}"),
            "accept the method the postback is configured with (GET, or POST with a body)",
        ),
        409 => (
            format!("a conflict{said}"),
            "treat a transaction_id you have already seen as success",
        ),
        500..=599 => (
            format!("the receiver failed while handling it{said}"),
            "read the receiver's log for this request: it likely choked on a value (an IPv6-form IP, a percent-encoded User-Agent, a Cyrillic event name)",
        ),
        _ => (
            format!("the receiver answered {status}{said}"),
            "answer 200 to every postback you accept",
        ),
    };
    (cause, fix.to_owned())
}

#[cfg(test)]
mod tests {
    use crate::postback::judge;
    use metrica_s2s_mock::model::{Attempt, Delivery, DeliveryState, FailureKind};
    use metrica_s2s_mock::model::{ConversionKind, PostbackMethod};
    use metrica_s2s_rules::{Code, Severity};

    fn attempt(status: Option<u16>, kind: Option<FailureKind>, repeat: bool) -> Attempt {
        Attempt {
            at: 1_795_860_000_000,
            status,
            error: kind.map(|_| "connection refused".into()),
            error_kind: kind,
            duration_ms: 3,
            answer: None,
            repeat,
        }
    }

    fn delivery(attempts: Vec<Attempt>) -> Delivery {
        Delivery {
            id: 1,
            transaction_id: "tx-1".into(),
            tracking_id: "7".into(),
            event: ConversionKind::Install,
            event_name: None,
            click_id: Some("c".into()),
            method: PostbackMethod::Get,
            url: "http://127.0.0.1:9/pb?x=\u{1b}[31m".into(),
            body: None,
            content_type: None,
            delivered: false,
            state: DeliveryState::Pending,
            next_attempt_at: None,
            attempts,
        }
    }

    fn codes(d: &Delivery) -> Vec<Code> {
        judge(d).iter().map(|f| f.diagnostic.code).collect()
    }

    #[test]
    fn each_failure_gets_its_code_and_a_cause() {
        let ok = delivery(vec![
            attempt(Some(200), None, false),
            attempt(Some(200), None, true),
        ]);
        assert!(codes(&ok).is_empty());
        let no_content = delivery(vec![
            attempt(Some(204), None, false),
            attempt(Some(204), None, true),
        ]);
        let found = judge(&no_content);
        assert_eq!(found.len(), 1, "a 204 repeat is the same cause");
        assert_eq!(found[0].diagnostic.code, Code::PostbackStatusNot200);
        assert_eq!(found[0].diagnostic.severity, Severity::Warning);
        let message = &found[0].diagnostic.message;
        assert!(
            message.contains("answered 204")
                && message.contains("postback quota page")
                && message.contains("postback specification page"),
            "names both pages: {message}"
        );
        let unavailable = delivery(vec![
            attempt(Some(503), None, false),
            attempt(Some(503), None, true),
        ]);
        assert_eq!(codes(&unavailable), [Code::PostbackStatus]);
        let repeat_refused = delivery(vec![
            attempt(Some(202), None, false),
            attempt(Some(409), None, true),
        ]);
        assert_eq!(
            codes(&repeat_refused),
            [Code::PostbackStatusNot200, Code::PostbackRetryRejected]
        );
        assert!(
            !found[0].diagnostic.message.contains('\u{1b}'),
            "the URL is escaped"
        );
        let conflict = delivery(vec![
            attempt(Some(200), None, false),
            attempt(Some(409), None, true),
        ]);
        let found = judge(&conflict);
        assert_eq!(found[0].diagnostic.code, Code::PostbackRetryRejected);
        assert!(
            found[0].diagnostic.message.contains("409"),
            "{}",
            found[0].diagnostic.message
        );
        let slow = delivery(vec![attempt(None, Some(FailureKind::Timeout), false)]);
        assert_eq!(codes(&slow), [Code::PostbackTimeout]);
        let gone = delivery(vec![attempt(None, Some(FailureKind::Unreachable), false)]);
        let found = judge(&gone);
        assert_eq!(found[0].diagnostic.code, Code::PostbackUnreachable);
        assert!(
            found[0].diagnostic.hint.contains("nothing listens there"),
            "{}",
            found[0].diagnostic.hint
        );
    }
}
