//! GitHub workflow commands: an error annotation per gating failure, per scenario that could
//! not be judged and per stale or expired baseline entry; a warning per recommended failure,
//! flaky scenario and warning finding. At most ten of each (GitHub shows no more per step),
//! then a notice of what was left out. Each points at the partner file (or, for a baseline
//! entry, its line in the baseline).

use super::{Outcome, RunReport};
use metrica_s2s_rules::ci::{Annotation, Capped, Level};
use metrica_s2s_rules::visible;

pub fn render(r: &RunReport) -> String {
    let mut out = String::new();
    let mut cap = Capped::default();
    let file = r.partner.file.as_deref();
    let mut emit =
        |level: Level, title: String, file: Option<&str>, line: Option<u64>, message: String| {
            if cap.admit(level) {
                out.push_str(
                    &Annotation {
                        level,
                        title: &title,
                        file,
                        line,
                        message: &message,
                    }
                    .render(),
                );
            }
        };
    for s in &r.scenarios {
        let gating = s.outcome == Outcome::Failed;
        match s.outcome {
            Outcome::Error => emit(
                Level::Error,
                format!("conform {}: not judged", visible(&s.id)),
                file,
                None,
                visible(s.error.as_deref().unwrap_or_default()).into_owned(),
            ),
            Outcome::Flaky => emit(
                Level::Warning,
                format!("conform {}: flaky", visible(&s.id)),
                file,
                None,
                format!(
                    "passed on retry {} after: {}",
                    s.earlier_attempts.len(),
                    s.earlier_attempts
                        .iter()
                        .map(|a| format!("{} {}", a.status.as_str(), visible(&a.codes)))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            ),
            _ => {}
        }
        // An accepted failure is known and has its reason: no annotation.
        if s.outcome == Outcome::Accepted {
            continue;
        }
        for f in &s.diagnostics {
            let d = &f.diagnostic;
            let level = if f.is_error() && gating {
                Level::Error
            } else {
                Level::Warning
            };
            // Control characters in user text (a UA's ESC) are shown, never sent to the log.
            let mut message = format!("{}\nFix: {}", visible(&d.message), visible(&d.hint));
            if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                message.push_str(&format!(
                    "\nexpected: {}\nactual:   {}",
                    visible(e),
                    visible(a)
                ));
            }
            let note = if f.is_error() && s.outcome == Outcome::FailedRecommended {
                " (recommended)"
            } else {
                ""
            };
            emit(
                level,
                format!("conform {}: {}{note}", visible(&s.id), d.code),
                file,
                None,
                message,
            );
        }
    }
    if let Some(b) = &r.gate.baseline {
        for (_, p) in b.problems() {
            emit(
                Level::Error,
                format!(
                    "baseline {}{}",
                    visible(&p.scenario),
                    p.code
                        .as_deref()
                        .map(|c| format!(" [{c}]"))
                        .unwrap_or_default()
                ),
                Some(&b.file),
                Some(p.line as u64),
                visible(&p.why).into_owned(),
            );
        }
    }
    if let Some(notice) = cap.notice("the JUnit, JSON or Markdown report has them all") {
        out.push_str(&notice);
    }
    out
}
