//! The JSON form of one input line, as docs/contract.md gives it.

use metrica_s2s_rules::{Diagnostic, Kind};
use serde::Serialize;
use std::io::Write;

/// One line's report. Serialize is derived for the field order the contract gives, and so
/// that tests hold [`write_line`] to serde_json's own rendering of it.
#[derive(Serialize)]
pub(crate) struct LineReport<'a> {
    pub line: u64,
    pub input: &'a str,
    pub kind: Option<Kind>,
    pub valid: bool,
    pub diagnostics: &'a [Diagnostic],
}

/// Appends the line's JSON object and a newline: exactly what serde_json writes for
/// [`LineReport`] (the tests hold it to that), with a string writer that copies whole runs
/// needing no escape. The echoed input is the longest field of every line and almost never
/// needs one; messages only for the quotes around the values they cite.
pub(crate) fn write_line(out: &mut Vec<u8>, report: &LineReport<'_>) {
    // Writing to a Vec cannot fail.
    let _ = write!(out, "{{\"line\":{},\"input\":", report.line);
    write_str(out, report.input);
    out.extend_from_slice(b",\"kind\":");
    match report.kind {
        Some(kind) => write_str(out, kind.as_str()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(match report.valid {
        true => b",\"valid\":true,\"diagnostics\":[",
        false => b",\"valid\":false,\"diagnostics\":[",
    });
    for (i, d) in report.diagnostics.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"code\":");
        write_str(out, d.code.as_str());
        out.extend_from_slice(b",\"severity\":");
        write_str(out, d.severity.as_str());
        out.extend_from_slice(b",\"param\":");
        match &d.param {
            Some(param) => write_str(out, param),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b",\"message\":");
        write_str(out, &d.message);
        out.extend_from_slice(b",\"hint\":");
        write_str(out, &d.hint);
        out.push(b'}');
    }
    out.extend_from_slice(b"]}\n");
}

/// A byte JSON escapes: a control character, a quote or a backslash.
fn escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// A JSON string as serde_json writes it. Chunks of 32 bytes are tested without stopping
/// early, which the compiler vectorises; only a chunk with something to escape is walked.
fn write_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    out.push(b'"');
    let mut copied = 0;
    for (n, chunk) in bytes.chunks(32).enumerate() {
        if !chunk.iter().fold(false, |any, &b| any | escaped(b)) {
            continue;
        }
        for (i, &b) in chunk.iter().enumerate().filter(|(_, &b)| escaped(b)) {
            let at = n * 32 + i;
            out.extend_from_slice(&bytes[copied..at]);
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0C => out.extend_from_slice(b"\\f"),
                _ => {
                    let _ = write!(out, "\\u{b:04x}");
                }
            }
            copied = at + 1;
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use crate::json::{write_line, LineReport};
    use metrica_s2s_rules::{Code, Draft, Kind};

    #[test]
    fn one_object_per_line_with_the_contract_fields() {
        let d = [Draft::new(Code::IpInvalid).value(b"x\"y").finish()];
        let mut out = Vec::new();
        write_line(
            &mut out,
            &LineReport {
                line: 7,
                input: "/serve/1?device_ip=x%22y\u{1b}",
                kind: Some(Kind::Click),
                valid: false,
                diagnostics: &d,
            },
        );
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.ends_with('\n') && text.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["line"], 7);
        assert_eq!(
            v["input"], "/serve/1?device_ip=x%22y\u{1b}",
            "JSON keeps the exact input"
        );
        assert_eq!(v["kind"], "click");
        assert_eq!(v["valid"], false);
        assert_eq!(v["diagnostics"][0]["code"], "ip-invalid");
        for key in ["severity", "param", "message", "hint"] {
            assert!(v["diagnostics"][0].get(key).is_some(), "{key}");
        }
    }

    fn serde_rendering(report: &LineReport<'_>) -> Vec<u8> {
        let mut want = serde_json::to_vec(report).expect("serializes");
        want.push(b'\n');
        want
    }

    #[test]
    fn the_fast_writer_writes_what_serde_json_writes() {
        let d = [
            Draft::new(Code::IpInvalid).value(b"1.2.3.4\x1b").finish(),
            Draft::new(Code::UaBot).value(b"Googlebot").finish(),
        ];
        for input in [
            "",
            "/serve/1?click_id=1",
            "/serve/1?device_ua=a\"b\\c",
            "/serve/1?x=\u{7f}\u{80}\u{2028}\t\r\u{1b}[31m",
            "/serve/1?x=Телефон",
        ] {
            for (kind, valid, diagnostics) in [
                (None, true, &d[..0]),
                (Some(Kind::Click), false, &d[..]),
                (Some(Kind::Impression), true, &d[1..]),
            ] {
                let report = LineReport {
                    line: u64::MAX,
                    input,
                    kind,
                    valid,
                    diagnostics,
                };
                let mut out = Vec::new();
                write_line(&mut out, &report);
                assert_eq!(
                    String::from_utf8_lossy(&out),
                    String::from_utf8_lossy(&serde_rendering(&report)),
                );
            }
        }
    }

    #[test]
    fn every_code_and_severity_is_written_as_serde_json_writes_it() {
        let diagnostics: Vec<_> = Code::ALL.iter().map(|&c| Draft::new(c).finish()).collect();
        assert!(diagnostics.iter().any(|d| !d.is_error()));
        let report = LineReport {
            line: 1,
            input: "/serve/1",
            kind: None,
            valid: false,
            diagnostics: &diagnostics,
        };
        let mut out = Vec::new();
        write_line(&mut out, &report);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&serde_rendering(&report))
        );
    }

    proptest::proptest! {
        #[test]
        fn any_diagnostic_is_written_as_serde_json_writes_it(
            message in "\\PC*|[\\x00-\\x7f]{0,80}",
            hint in "[\\x00-\\x7f]{0,40}",
            param in proptest::option::of("[\\x00-\\x7f]{0,12}"),
        ) {
            let mut d = Draft::new(Code::UaBot).value(b"x").finish();
            d.message = message;
            d.hint = hint;
            d.param = param;
            let diagnostics = [d.clone(), d];
            let report = LineReport { line: 0, input: "/serve/1", kind: Some(Kind::Click), valid: false, diagnostics: &diagnostics };
            let mut out = Vec::new();
            write_line(&mut out, &report);
            proptest::prop_assert_eq!(out, serde_rendering(&report));
        }

        #[test]
        fn any_input_is_written_as_serde_json_writes_it(input in "\\PC*|[\\x00-\\x7f]{0,80}") {
            let report = LineReport { line: 3, input: &input, kind: None, valid: true, diagnostics: &[] };
            let mut out = Vec::new();
            write_line(&mut out, &report);
            proptest::prop_assert_eq!(out, serde_rendering(&report));
        }
    }
}
