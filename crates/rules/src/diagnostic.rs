//! A finding about a request: the one data type every part of metrica-s2s reports.

use crate::catalogue::{Code, Severity};
use crate::escape::quote;
use crate::span::Span;
use serde::{Deserialize, Serialize};

/// What is wrong with a request, where, and how to fix it. Findings are data, not errors:
/// a request breaking the protocol is a normal outcome of validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// The query parameter it is about, as sent.
    pub param: Option<String>,
    /// What is wrong, quoting the offending value (escaped).
    pub message: String,
    /// How to fix it.
    pub hint: String,
    /// The bytes of the input at fault, for renderers that mark them; not part of the wire form.
    #[serde(skip)]
    pub span: Option<Span>,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A diagnostic being assembled: arguments are collected, then the rule's templates rendered
/// once. Only requests with findings pay for this; a clean request never builds one. Public so
/// that the stateful rules (the mock's click-id memory, the conformance runner's checks) fill
/// the same catalogue templates.
#[derive(Debug)]
pub struct Draft {
    code: Code,
    param: Option<String>,
    severity: Option<Severity>,
    args: Vec<(&'static str, String)>,
    span: Option<Span>,
}

impl Draft {
    pub fn new(code: Code) -> Draft {
        Draft {
            code,
            param: code.rule().param.map(str::to_owned),
            severity: None,
            args: Vec::new(),
            span: None,
        }
    }

    pub fn param(mut self, param: &str) -> Draft {
        self.param = Some(param.to_owned());
        self
    }

    /// A trusted argument: text metrica-s2s wrote itself.
    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Draft {
        self.args.push((name, value.into()));
        self
    }

    /// A user-controlled argument: quoted and escaped.
    pub fn quoted(self, name: &'static str, value: &[u8]) -> Draft {
        self.arg(name, quote(value))
    }

    /// The offending value, quoted, as the `{value}` argument.
    pub fn value(self, value: &[u8]) -> Draft {
        self.quoted("value", value)
    }

    pub fn span(mut self, span: Span) -> Draft {
        self.span = Some(span);
        self
    }

    pub fn severity(mut self, severity: Severity) -> Draft {
        self.severity = Some(severity);
        self
    }

    pub fn finish(self) -> Diagnostic {
        let rule = self.code.rule();
        let severity = self
            .severity
            .unwrap_or_else(|| rule.severity.for_param(self.param.as_deref()));
        let param_shown = self.param.as_deref().map(show_param);
        let lookup = |name: &str| -> Option<&str> {
            if name == "param" {
                return param_shown.as_deref();
            }
            self.args
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        Diagnostic {
            code: self.code,
            severity,
            message: render(rule.message, &lookup),
            hint: render(rule.hint, &lookup),
            param: self.param,
            span: self.span,
        }
    }
}

/// A parameter name as sent is user-controlled too; plain identifiers are shown bare.
fn show_param(name: &str) -> String {
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        name.to_owned()
    } else {
        quote(name.as_bytes())
    }
}

/// Replaces `{name}` with its argument; a `{...}` with no argument stays as written, so
/// templates may show macros such as `{transaction_id}` literally.
pub(crate) fn render<'a>(template: &str, lookup: &dyn Fn(&str) -> Option<&'a str>) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if after[..close]
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
            {
                let name = &after[..close];
                match lookup(name) {
                    Some(v) => out.push_str(v),
                    None => out.push_str(&rest[open..open + close + 2]),
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Field names may hold digits: ip-mapped's `{v4}` once reached users unfilled.
    #[test]
    fn fields_with_digits_are_filled() {
        let d = Draft::new(Code::IpMapped)
            .value(b"::ffff:203.0.113.7")
            .arg("v4", "203.0.113.7")
            .finish();
        assert!(!d.message.contains('{') && !d.hint.contains('{'), "{d:?}");
        assert!(d.hint.contains("(203.0.113.7)"), "{}", d.hint);
    }

    #[test]
    fn templates_fill_known_args_and_keep_unknown_braces() {
        let d = Draft::new(Code::IpWithPort)
            .value(b"203.0.113.7:80")
            .arg("port", "80")
            .arg("address", "203.0.113.7")
            .finish();
        assert_eq!(
            d.message,
            "device_ip \"203.0.113.7:80\" carries a port (80)"
        );
        assert!(d.hint.contains("device_ip=203.0.113.7;"), "{}", d.hint);
        assert_eq!(d.severity, Severity::Error);
        let missing = Draft::new(Code::ClickIdMissing).arg("reason", "r").finish();
        assert!(missing.hint.contains("click_id={transaction_id}"));
    }

    #[test]
    fn severity_follows_the_param_policy() {
        let on_ua = Draft::new(Code::UnsubstitutedMacro)
            .param("device_ua")
            .finish();
        let on_custom = Draft::new(Code::UnsubstitutedMacro)
            .param("utm_source")
            .finish();
        assert_eq!(on_ua.severity, Severity::Error);
        assert_eq!(on_custom.severity, Severity::Warning);
    }

    #[test]
    fn hostile_param_names_are_quoted() {
        let d = Draft::new(Code::ParamTypo)
            .param("Device_UA\x1b[2J")
            .quoted("intended", b"device_ua")
            .finish();
        assert!(
            d.message.starts_with("parameter \"Device_UA\\u{1B}[2J\""),
            "{}",
            d.message
        );
    }
}
