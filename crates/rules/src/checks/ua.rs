//! device_ua: the User-Agent of the user's device, whole and unchanged.

use super::ua_damage;
use super::view::{Found, Scope};
use crate::catalogue::Code;
use crate::diagnostic::Draft;
use crate::escape::quote_str;
use crate::settings::{Platform, TrackerStatus};
use crate::ua_class::{classify_ua, UaClass};
use std::borrow::Cow;

/// Lengths at which storage and logging layers typically cut strings.
const TYPICAL_LIMITS: &[usize] = &[
    64, 100, 128, 150, 200, 250, 255, 256, 500, 512, 1000, 1024, 2048,
];

pub(super) fn check(scope: &Scope<'_, '_>, out: &mut Found) {
    let Some((view, ua)) = scope.data("device_ua") else {
        return;
    };
    let span = view.value_span();
    let raw = ua.as_bytes();
    let class = match view.ua_class {
        Some(remembered) => Cow::Borrowed(remembered),
        None => Cow::Owned(classify_ua(ua)),
    };
    // A UA with control characters is reported for them (an injection or a captured header
    // line): one cause.
    let known = class.bot.is_some() || class.library.is_some() || class.control.is_some();
    if let Some(d) = ua_damage::not_a_user_agent(ua, known) {
        out.push(d.span(span));
        return;
    }
    // One cause, one error: mojibake brings its own control characters, and a cut UA its own
    // unclosed bracket.
    let mojibake = ua_damage::mojibake(ua);
    let cut = ua_damage::cut_by_separator(scope, view, ua);
    let (garbled, cut_off) = (mojibake.is_some(), cut.is_some());
    for d in [mojibake, cut].into_iter().flatten() {
        out.push(d.span(span));
    }
    if let Some((offset, c)) = class.control.filter(|_| !garbled) {
        out.push(
            Draft::new(Code::UaControlChars)
                .value(raw)
                .arg("char", quote_str(&c.to_string()))
                .arg("offset", offset.to_string())
                .span(span),
        );
    }
    if let Some(library) = class.library {
        out.push(
            Draft::new(Code::UaServerClient)
                .value(raw)
                .arg("library", library)
                .span(span),
        );
    }
    if let Some(bot) = &class.bot {
        out.push(
            Draft::new(Code::UaBot)
                .value(raw)
                .quoted("name", bot.name.as_bytes())
                .arg("kind", bot.kind)
                .span(span),
        );
    }
    if class.maybe_truncated && !cut_off {
        if let Some(d) = truncated(ua) {
            out.push(d.span(span));
        }
    }
    if let Some(os) = &class.desktop {
        out.push(
            Draft::new(Code::UaNotMobile)
                .value(raw)
                .quoted("os", os.as_bytes())
                .span(span),
        );
    }
    platform_mismatch(scope, ua, &class, out);
}

fn truncated(ua: &str) -> Option<Draft> {
    let opens = ua.bytes().filter(|&b| b == b'(').count();
    let closes = ua.bytes().filter(|&b| b == b')').count();
    let reason = if opens > closes {
        format!("it opens {opens} parenthesis group(s) and closes only {closes}")
    } else {
        let last = ua.chars().last()?;
        if !matches!(last, '/' | ';' | '(' | ',' | ' ') {
            return None;
        }
        format!(
            "it ends with {}, in the middle of a token",
            quote_str(&last.to_string())
        )
    };
    let len = ua.chars().count();
    let fix = if TYPICAL_LIMITS.contains(&len) {
        format!("the value is exactly {len} characters, a common column or buffer limit: store and pass the User-Agent in full")
    } else {
        format!("pass the User-Agent header in full (it arrived with {len} characters): look for column sizes, string-length limits or log line limits on the way")
    };
    Some(
        Draft::new(Code::UaTruncated)
            .value(ua.as_bytes())
            .arg("reason", reason)
            .arg("fix", fix),
    )
}

fn platform_mismatch(scope: &Scope<'_, '_>, ua: &str, class: &UaClass, out: &mut Found) {
    let Some(ua_platform) = class.platform else {
        return;
    };
    let ids: &[(&str, Platform)] = &[
        ("ios_ifa", Platform::Ios),
        ("google_aid", Platform::Android),
        ("oaid", Platform::Android),
    ];
    for (name, id_platform) in ids {
        let Some((view, id)) = scope.data(name) else {
            continue;
        };
        if *id_platform != ua_platform {
            out.push(
                Draft::new(Code::DeviceIdPlatformMismatch)
                    .param(&view.key)
                    .value(id.as_bytes())
                    .arg(
                        "reason",
                        format!(
                            "is an {} advertising id, but device_ua is an {} device",
                            id_platform.as_str(),
                            ua_platform.as_str()
                        ),
                    )
                    .arg(
                        "fix",
                        "take the advertising id and the User-Agent from the same click; a mapping bug put one user's id beside another's UA, or the id went into the wrong parameter",
                    )
                    .span(view.value_span()),
            );
        }
    }
    let tracker = scope
        .ctx
        .trackers
        .and_then(|lookup| Some((lookup, scope.tracker?)));
    if let Some((lookup, id)) = tracker {
        if let TrackerStatus::Known(Some(app_platform)) = lookup(id) {
            if app_platform != ua_platform {
                let view = scope.get("device_ua");
                out.push(
                    Draft::new(Code::DeviceIdPlatformMismatch)
                        .param("device_ua")
                        .value(ua.as_bytes())
                        .arg(
                            "reason",
                            format!(
                                "is an {} device, but tracker {id} is for an {} app",
                                ua_platform.as_str(),
                                app_platform.as_str()
                            ),
                        )
                        .arg(
                            "fix",
                            format!(
                                "send {} users to the tracker of the {} app; this click cannot lead to an install",
                                ua_platform.as_str(),
                                ua_platform.as_str()
                            ),
                        )
                        .span(view.map_or_else(Default::default, |v| v.value_span())),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::truncated;

    #[test]
    fn truncation_signs() {
        assert!(truncated("Mozilla/5.0 (Linux; Android 14; Pix").is_some());
        assert!(truncated("Mozilla/5.0 (Linux) AppleWebKit/").is_some());
        assert!(truncated("Mozilla/5.0 (Linux) Chrome/120").is_none());
        assert!(truncated("okhttp/4.12.0").is_none());
        let cut = "x(".repeat(128);
        assert!(truncated(&cut)
            .expect("cut")
            .finish()
            .hint
            .contains("exactly 256"));
    }
}
