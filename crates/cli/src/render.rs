//! Text rendering of diagnostics for a person at a terminal: the offending bytes marked under
//! an escaped excerpt of the input, severities in colour when stdout is a terminal and
//! `NO_COLOR` is not set.

use anstyle::{AnsiColor, Style};
use metrica_s2s_rules::{is_unsafe_char, Diagnostic, Severity, Span};
use std::io::Write;

/// How much input to show on either side of the marked bytes, in characters.
const CONTEXT_BEFORE: usize = 40;
const CONTEXT_AFTER: usize = 24;
/// Longest run of carets; a longer span is marked up to here and continued with `…`.
const MAX_MARK: usize = 60;

/// Colour only for a terminal, and never when `NO_COLOR` is set (https://no-color.org);
/// `CLICOLOR_FORCE` forces it for pagers.
pub fn use_color(stdout: &std::io::Stdout) -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("NO_COLOR") {
        return false;
    }
    set("CLICOLOR_FORCE") || std::io::IsTerminal::is_terminal(stdout)
}

pub fn severity_style(s: Severity, color: bool) -> Style {
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
pub fn line_report(
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
    let (head, _) = excerpt(input, Span::new(0, 0), 0, 100);
    let _ = writeln!(out, "{bold}line {line_no}{bold:#}: {head}");
    for d in diags {
        let style = severity_style(d.severity, color);
        let param = d
            .param
            .as_deref()
            .map(|p| format!(" [{}]", escape_text(p)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {style}{}{style:#}[{bold}{}{bold:#}]{param}: {}",
            d.severity, d.code, d.message
        );
        if let Some(span) = d.span.filter(|s| !s.is_empty() && s.end <= input.len()) {
            let (text, (pad, width)) = excerpt(input, span, CONTEXT_BEFORE, CONTEXT_AFTER);
            let carets = "^".repeat(width.clamp(1, MAX_MARK));
            let more = if width > MAX_MARK { "…" } else { "" };
            let _ = writeln!(out, "    | {text}");
            let _ = writeln!(
                out,
                "    | {}{style}{carets}{more}{style:#}",
                " ".repeat(pad)
            );
        }
        let _ = writeln!(out, "    = hint: {}", d.hint);
    }
}

/// An escaped excerpt of `input` around `span`, and where the span sits in it (column, width)
/// counted in displayed characters.
fn excerpt(input: &[u8], span: Span, before: usize, after: usize) -> (String, (usize, usize)) {
    // Each shown piece remembers its byte offset, so spans map onto escaped text.
    let mut pieces: Vec<(usize, String)> = Vec::new(); // (byte offset in input, shown text)
    let mut offset = 0;
    for chunk in input.utf8_chunks() {
        for c in chunk.valid().chars() {
            pieces.push((offset, escape_char(c)));
            offset += c.len_utf8();
        }
        for b in chunk.invalid() {
            pieces.push((offset, format!("\\x{b:02X}")));
            offset += 1;
        }
    }
    let first = pieces
        .iter()
        .position(|(o, _)| *o >= span.start)
        .unwrap_or(pieces.len());
    let last = pieces
        .iter()
        .position(|(o, _)| *o >= span.end)
        .unwrap_or(pieces.len());
    let from = first.saturating_sub(before);
    let to = (last + after).min(pieces.len());
    let mut shown = String::new();
    if from > 0 {
        shown.push('…');
    }
    let mut pad = usize::from(from > 0);
    let mut width = 0;
    for (i, (_, s)) in pieces[from..to].iter().enumerate() {
        let n = s.chars().count();
        if from + i < first {
            pad += n;
        } else if from + i < last {
            width += n;
        }
        shown.push_str(s);
    }
    if to < pieces.len() {
        shown.push('…');
    }
    (shown, (pad, width))
}

fn escape_char(c: char) -> String {
    if is_unsafe_char(c) {
        match c {
            '\t' => "\\t".into(),
            '\r' => "\\r".into(),
            '\n' => "\\n".into(),
            c => format!("\\u{{{:X}}}", c as u32),
        }
    } else {
        c.to_string()
    }
}

/// User-controlled text for the terminal, control characters escaped.
pub fn escape_text(s: &str) -> String {
    s.chars().map(escape_char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carets_sit_under_the_span() {
        let input = b"/serve/1?device_ip=203.0.113.7:51234&x=1";
        let start = input.iter().position(|&b| b == b':').expect("colon");
        let (text, (pad, width)) = excerpt(input, Span::new(start, start + 6), 40, 24);
        assert_eq!(&text[pad..pad + width], ":51234");
    }

    #[test]
    fn hostile_bytes_are_shown_escaped_and_alignment_holds() {
        let input = b"/serve/1?device_ua=\x1b[2J\xC1&device_ip=1.2.3.4:5";
        let start = input.len() - 2;
        let (text, (pad, width)) = excerpt(input, Span::new(start, input.len()), 40, 24);
        assert!(!text.contains('\x1b'));
        assert!(text.contains("\\u{1B}[2J\\xC1"));
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars[pad..pad + width].iter().collect::<String>(), ":5");
    }
}
