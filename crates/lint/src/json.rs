//! The JSON form of one input line, as docs/contract.md gives it.

use metrica_s2s_rules::{Diagnostic, Kind};
use serde::Serialize;

#[derive(Serialize)]
pub(crate) struct LineReport<'a> {
    pub line: u64,
    pub input: &'a str,
    pub kind: Option<Kind>,
    pub valid: bool,
    pub diagnostics: &'a [Diagnostic],
}

/// Appends the line's JSON object and a newline.
pub(crate) fn write_line(out: &mut Vec<u8>, report: &LineReport<'_>) {
    // Writing to a Vec cannot fail, and every field serializes.
    let _ = serde_json::to_writer(&mut *out, report);
    out.push(b'\n');
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
}
