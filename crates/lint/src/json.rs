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
/// [`LineReport`], but with the echoed input, the longest field of every line and one that
/// almost never holds a character JSON escapes, copied whole once a scan finds none.
pub(crate) fn write_line(out: &mut Vec<u8>, report: &LineReport<'_>) {
    // Writing to a Vec cannot fail, and every field serializes.
    let _ = write!(out, "{{\"line\":{},\"input\":", report.line);
    write_str(out, report.input);
    out.extend_from_slice(b",\"kind\":");
    let _ = serde_json::to_writer(&mut *out, &report.kind);
    out.extend_from_slice(match report.valid {
        true => b",\"valid\":true,\"diagnostics\":",
        false => b",\"valid\":false,\"diagnostics\":",
    });
    let _ = serde_json::to_writer(&mut *out, report.diagnostics);
    out.extend_from_slice(b"}\n");
}

/// A JSON string: copied as is when serde_json would escape nothing in it (no control
/// character, quote or backslash), else serde_json's escaping.
fn write_str(out: &mut Vec<u8>, s: &str) {
    // Whole chunks are tested without stopping early, which the compiler vectorises.
    let escapes = |chunk: &[u8]| {
        chunk.iter().fold(false, |any, &b| {
            any | (b < 0x20) | (b == b'"') | (b == b'\\')
        })
    };
    if !s.as_bytes().chunks(32).any(escapes) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        let _ = serde_json::to_writer(&mut *out, s);
    }
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

    proptest::proptest! {
        #[test]
        fn any_input_is_written_as_serde_json_writes_it(input in "\\PC*|[\\x00-\\x7f]{0,80}") {
            let report = LineReport { line: 3, input: &input, kind: None, valid: true, diagnostics: &[] };
            let mut out = Vec::new();
            write_line(&mut out, &report);
            proptest::prop_assert_eq!(out, serde_rendering(&report));
        }
    }
}
