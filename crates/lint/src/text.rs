//! The text format, for a person at a terminal: each input with findings, the offending bytes
//! marked under an escaped excerpt, then counts by code. Colour only when the caller asks.

use crate::tally::Tally;
use anstyle::{AnsiColor, Style};
use metrica_s2s_rules::{excerpt, visible, Diagnostic, Severity, CONTEXT_AFTER, CONTEXT_BEFORE};
use std::io::Write;

/// Longest run of carets; a longer span is marked up to here and continued with `…`.
const MAX_MARK: usize = 60;
/// Characters of the input shown on a line's heading.
const HEADING_CHARS: usize = 100;

fn severity_style(s: Severity, color: bool) -> Style {
    if !color {
        return Style::new();
    }
    let color = match s {
        Severity::Error => AnsiColor::Red,
        Severity::Warning => AnsiColor::Yellow,
        Severity::Info => AnsiColor::Cyan,
    };
    Style::new().bold().fg_color(Some(color.into()))
}

/// One input line and its diagnostics.
pub(crate) fn line_report(
    out: &mut Vec<u8>,
    line_no: u64,
    input: &[u8],
    diags: &[Diagnostic],
    color: bool,
) {
    let bold = if color {
        Style::new().bold()
    } else {
        Style::new()
    };
    let head = excerpt(input, Default::default(), 0, HEADING_CHARS).text;
    let _ = writeln!(out, "{bold}line {line_no}{bold:#}: {head}");
    for d in diags {
        let style = severity_style(d.severity, color);
        let param = d
            .param
            .as_deref()
            .map(|p| format!(" [{}]", visible(p)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {style}{}{style:#}[{bold}{}{bold:#}]{param}: {}",
            d.severity, d.code, d.message
        );
        if let Some(span) = d.span.filter(|s| !s.is_empty() && s.end <= input.len()) {
            let e = excerpt(input, span, CONTEXT_BEFORE, CONTEXT_AFTER);
            let carets = "^".repeat(e.mark_width.clamp(1, MAX_MARK));
            let more = if e.mark_width > MAX_MARK { "…" } else { "" };
            let _ = writeln!(out, "    | {}", e.text);
            let _ = writeln!(
                out,
                "    | {}{style}{carets}{more}{style:#}",
                " ".repeat(e.mark_start)
            );
        }
        let _ = writeln!(out, "    = hint: {}", d.hint);
    }
}

/// The closing summary: how many inputs were valid, then counts by code.
pub(crate) fn summary(out: &mut dyn Write, tally: &Tally, color: bool) -> std::io::Result<()> {
    let valid = tally.inputs - tally.invalid;
    writeln!(
        out,
        "{} input(s): {valid} valid, {} with errors",
        tally.inputs, tally.invalid
    )?;
    for (code, severity, n) in tally.rows() {
        let style = severity_style(severity, color);
        writeln!(out, "  {n:>8}  {style}{severity:<7}{style:#}  {code}")?;
    }
    if let Some(shared) = tally.shared_zone() {
        let style = severity_style(Severity::Warning, color);
        let minutes = shared.zone.minutes.unsigned_abs();
        let (h, m) = (minutes / 60, minutes % 60);
        let offset = if m == 0 {
            format!("{h} h")
        } else {
            format!("{h} h {m} min")
        };
        let side = if shared.zone.minutes > 0 {
            "ahead of"
        } else {
            "behind"
        };
        writeln!(
            out,
            "{style}note{style:#}: {}% of the inputs ({}) carry a click_timestamp {offset} ± 2 min {side} the time they were sent: a sender's clock on {} local time, sent as UTC",
            shared.percent, shared.count, shared.zone
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::text::line_report;
    use metrica_s2s_rules::{parse_input, validate, Context, Settings};

    #[test]
    fn carets_sit_under_the_offending_bytes_and_hostile_text_is_inert() {
        let input = b"/serve/1?click_id=1&device_ip=203.0.113.7:51234&device_ua=\x1b%5B2J&click_timestamp=1795860000";
        let settings = Settings::default();
        let req = parse_input(input).expect("parses");
        let diags = validate(&req, &Context::new(1_795_860_000, &settings));
        let mut out = Vec::new();
        line_report(&mut out, 3, input, &diags, false);
        let text = String::from_utf8(out).expect("utf-8");
        assert!(!text.contains('\x1b'), "{text}");
        let lines: Vec<&str> = text.lines().collect();
        let at = lines
            .iter()
            .position(|l| l.contains("error[ip-with-port]"))
            .expect("the port error");
        let (shown, carets) = (lines[at + 1], lines[at + 2]);
        let col = carets.find('^').expect("carets");
        let width = carets.matches('^').count();
        let marked: String = shown.chars().skip(col).take(width).collect();
        assert_eq!(marked, "203.0.113.7:51234", "{text}");
        assert!(text.starts_with("line 3: "));
    }
}
