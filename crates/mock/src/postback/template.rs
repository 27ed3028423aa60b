//! Postback templates: where AppMetrica sends a conversion, with `{macro}`s filled in.
//!
//! A value goes into a URL percent-encoded, into a JSON body JSON-escaped, into any other body
//! form-encoded; a macro without a value becomes empty, as AppMetrica does. The scheme and
//! host come from the template alone: a macro there is refused when the template is loaded,
//! so no tracking request can choose where the mock sends anything.

use metrica_s2s_rules::{percent_encode_into, Code, Diagnostic, Draft};
use serde::{Deserialize, Serialize};

/// AppMetrica's postback types: install, event, purchase (in-app purchases and
/// subscriptions), e-commerce and ad revenue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversionKind {
    Install,
    Event,
    Purchase,
    Ecommerce,
    AdRevenue,
}

impl ConversionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversionKind::Install => "install",
            ConversionKind::Event => "event",
            ConversionKind::Purchase => "purchase",
            ConversionKind::Ecommerce => "ecommerce",
            ConversionKind::AdRevenue => "ad_revenue",
        }
    }

    /// The Logs API's `cost_model`: installs are bought per install, the rest per action.
    pub fn cost_model(self) -> &'static str {
        match self {
            ConversionKind::Install => "cpi",
            _ => "cpa",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PostbackMethod {
    #[default]
    Get,
    Post,
}

impl PostbackMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PostbackMethod::Get => "GET",
            PostbackMethod::Post => "POST",
        }
    }
}

/// One `[[tracker.postback]]`, as written in the tracker file or sent to the admin API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub event: ConversionKind,
    /// For `event = "event"`: only events of this name (every event when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// Only the first such conversion since the device's install ("first target event only").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub first_event_only: bool,
    /// Every user's conversion of this kind, attributed or not, with no attribution macros
    /// ("send postback on actions of all users").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_users: bool,
    #[serde(default)]
    pub method: PostbackMethod,
    pub url: String,
    /// POST only: the body, a template too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// POST only; by default JSON when the body starts with `{` or `[`, a form otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("url {0:?} is not an http:// or https:// URL")]
    Scheme(String),
    #[error("url {0:?} has a macro in its scheme or host: where postbacks go must be fixed in the template, never taken from a tracking request")]
    MacroInHost(String),
    #[error("url {0:?} has no host")]
    NoHost(String),
    #[error("{field}: a macro opened at byte {at} is never closed with '}}'")]
    Unclosed { field: &'static str, at: usize },
    #[error("a GET postback has no body; use method = \"POST\" for one")]
    BodyOnGet,
    #[error("event_name is for event = \"event\" postbacks only")]
    EventNameOnOther,
    #[error("first_event_only is for conversions after the install (event, purchase, ecommerce, ad_revenue), not for install postbacks")]
    FirstEventOnInstall,
}

/// A postback ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub(crate) method: PostbackMethod,
    pub(crate) url: String,
    pub(crate) body: Option<String>,
    pub(crate) content_type: Option<String>,
}

impl Template {
    pub fn check(&self) -> Result<(), TemplateError> {
        let rest = self
            .url
            .strip_prefix("http://")
            .or_else(|| self.url.strip_prefix("https://"))
            .ok_or_else(|| TemplateError::Scheme(self.url.clone()))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains(['{', '}']) {
            return Err(TemplateError::MacroInHost(self.url.clone()));
        }
        if authority.is_empty() || authority.starts_with(':') || authority.contains('@') {
            return Err(TemplateError::NoHost(self.url.clone()));
        }
        unclosed(&self.url, "url")?;
        if let Some(body) = &self.body {
            if self.method == PostbackMethod::Get {
                return Err(TemplateError::BodyOnGet);
            }
            unclosed(body, "body")?;
        }
        if self.event_name.is_some() && self.event != ConversionKind::Event {
            return Err(TemplateError::EventNameOnOther);
        }
        if self.first_event_only && self.event == ConversionKind::Install {
            return Err(TemplateError::FirstEventOnInstall);
        }
        Ok(())
    }

    /// Whether this template is for a conversion of `kind` named `name`.
    pub(crate) fn wants(&self, kind: ConversionKind, name: Option<&str>) -> bool {
        self.event == kind
            && self
                .event_name
                .as_deref()
                .is_none_or(|want| name == Some(want))
    }

    /// `postback-macro-unknown` for each macro in the URL and body that AppMetrica does not
    /// document, `place` saying which template this is: a template that passes here with one
    /// would arrive with it empty in production.
    pub fn undocumented_macros(&self, place: &str) -> Vec<Diagnostic> {
        self.unknown_macros()
            .into_iter()
            .map(|detail| {
                Draft::new(Code::PostbackMacroUnknown)
                    .arg("template", place)
                    .arg("detail", detail)
                    .finish()
            })
            .collect()
    }

    /// What to say of each macro in the URL and body that AppMetrica does not document.
    fn unknown_macros(&self) -> Vec<String> {
        let mut said: Vec<String> = Vec::new();
        let texts = std::iter::once(self.url.as_str()).chain(self.body.as_deref());
        for name in texts.flat_map(macros) {
            if let Some(m) = super::macros::unknown(name) {
                if !said.contains(&m) {
                    said.push(m);
                }
            }
        }
        said
    }

    fn json_body(&self) -> bool {
        match &self.content_type {
            Some(t) => t.to_ascii_lowercase().contains("json"),
            None => self
                .body
                .as_deref()
                .is_some_and(|b| b.trim_start().starts_with(['{', '['])),
        }
    }

    /// The template with every macro replaced by `value(name)`, encoded for where it stands.
    pub(crate) fn render(&self, value: &dyn Fn(&str) -> Option<String>) -> Rendered {
        let json = self.json_body();
        let body = self.body.as_deref().map(|b| {
            if json {
                fill(b, value, json_escape)
            } else {
                fill(b, value, percent_encode_into)
            }
        });
        let content_type = self.body.as_ref().map(|_| {
            self.content_type.clone().unwrap_or_else(|| {
                if json {
                    "application/json".into()
                } else {
                    "application/x-www-form-urlencoded".into()
                }
            })
        });
        Rendered {
            method: self.method,
            url: fill(&self.url, value, percent_encode_into),
            body,
            content_type,
        }
    }
}

/// `postback-macro-unknown` for each undocumented macro in tracker `tracker`'s `templates`.
pub(crate) fn macro_warnings(tracker: u64, templates: &[Template]) -> Vec<Diagnostic> {
    templates
        .iter()
        .enumerate()
        .flat_map(|(index, t)| {
            t.undocumented_macros(&format!("tracker {tracker}, postback {}", index + 1))
        })
        .collect()
}

/// The macro names in `text`, in order: `{name}` where the name is letters, digits and `_`.
fn macros(text: &str) -> impl Iterator<Item = &str> {
    pieces(text).filter_map(|p| match p {
        Piece::Macro(name) => Some(name),
        Piece::Text(_) => None,
    })
}

enum Piece<'a> {
    Text(&'a str),
    Macro(&'a str),
}

fn pieces(text: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(open) = rest.find('{') else {
            let all = rest;
            rest = "";
            return Some(Piece::Text(all));
        };
        if open > 0 {
            let (text, tail) = rest.split_at(open);
            rest = tail;
            return Some(Piece::Text(text));
        }
        let name_len = rest[1..]
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if name_len > 0 && rest.as_bytes().get(1 + name_len) == Some(&b'}') {
            let name = &rest[1..=name_len];
            rest = &rest[name_len + 2..];
            Some(Piece::Macro(name))
        } else {
            // A brace that opens no macro (JSON's own) is text.
            let (text, tail) = rest.split_at(1);
            rest = tail;
            Some(Piece::Text(text))
        }
    })
}

/// A `{name` that never closes is a typo the sender would only see as an empty value.
fn unclosed(text: &str, field: &'static str) -> Result<(), TemplateError> {
    let bytes = text.as_bytes();
    for (at, _) in text.match_indices('{') {
        let name_len = bytes[at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        if name_len > 0 && at + 1 + name_len == bytes.len() {
            return Err(TemplateError::Unclosed { field, at });
        }
    }
    Ok(())
}

fn fill(
    text: &str,
    value: &dyn Fn(&str) -> Option<String>,
    encode: fn(&str, &mut String),
) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    for p in pieces(text) {
        match p {
            Piece::Text(t) => out.push_str(t),
            Piece::Macro(name) => {
                if let Some(v) = value(name) {
                    encode(&v, &mut out);
                }
            }
        }
    }
    out
}

/// The inside of a JSON string: the template supplies the quotes.
fn json_escape(value: &str, out: &mut String) {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    out.push_str(&quoted[1..quoted.len() - 1]);
}

#[cfg(test)]
mod tests {
    use crate::postback::template::*;

    fn get(url: &str) -> Template {
        Template {
            event: ConversionKind::Install,
            event_name: None,
            first_event_only: false,
            all_users: false,
            method: PostbackMethod::Get,
            url: url.into(),
            body: None,
            content_type: None,
        }
    }

    fn values(name: &str) -> Option<String> {
        match name {
            "click_id" => Some("a&b=c d/ü".into()),
            "ua" => Some("Mozilla/5.0 (X; \"q\")\n".into()),
            "install_ipv6" => Some("::ffff:5.255.232.147".into()),
            _ => None,
        }
    }

    #[test]
    fn url_values_are_percent_encoded_and_unknown_ones_empty() {
        let r = get("http://127.0.0.1:9/pb?c={click_id}&ip={install_ipv6}&x={nope}&k=v")
            .render(&values);
        assert_eq!(
            r.url,
            "http://127.0.0.1:9/pb?c=a%26b%3Dc%20d%2F%C3%BC&ip=%3A%3Affff%3A5.255.232.147&x=&k=v"
        );
        assert_eq!((r.body, r.content_type), (None, None));
    }

    #[test]
    fn json_bodies_are_json_escaped_and_their_own_braces_kept() {
        let t = Template {
            method: PostbackMethod::Post,
            body: Some(r#"{"click_id":"{click_id}","ua":"{ua}","n":{"x":1}}"#.into()),
            ..get("https://example.com/pb")
        };
        t.check().expect("valid");
        let r = t.render(&values);
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        let body = r.body.expect("body");
        let parsed: serde_json::Value = serde_json::from_str(&body).expect("still JSON");
        assert_eq!(parsed["click_id"], "a&b=c d/ü");
        assert_eq!(parsed["ua"], "Mozilla/5.0 (X; \"q\")\n");
        assert_eq!(parsed["n"]["x"], 1);
    }

    #[test]
    fn form_bodies_are_form_encoded() {
        let t = Template {
            method: PostbackMethod::Post,
            body: Some("click_id={click_id}&ua={ua}".into()),
            ..get("http://127.0.0.1:9/pb")
        };
        let r = t.render(&values);
        assert_eq!(
            r.content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        let body = r.body.expect("body");
        let back: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(back[0].1, "a&b=c d/ü");
        assert_eq!(back[1].1, "Mozilla/5.0 (X; \"q\")\n");
    }

    #[test]
    fn no_macro_may_choose_the_host() {
        for url in [
            "http://{host}/pb",
            "http://127.0.0.1:{port}/pb",
            "{scheme}://x/pb",
            "https://a{b}.example.com/",
        ] {
            let e = get(url).check().expect_err(url);
            assert!(
                matches!(e, TemplateError::MacroInHost(_) | TemplateError::Scheme(_)),
                "{url}: {e}"
            );
        }
        assert!(matches!(
            get("ftp://x/").check(),
            Err(TemplateError::Scheme(_))
        ));
        assert!(matches!(
            get("http://user@evil/").check(),
            Err(TemplateError::NoHost(_))
        ));
        assert!(matches!(
            get("http://x/pb?c={click_id").check(),
            Err(TemplateError::Unclosed { field: "url", .. })
        ));
        let names: Vec<&str> = macros("a{b}{c_1}{ {x y}{}").collect();
        assert_eq!(names, ["b", "c_1"]);
    }

    #[test]
    fn an_encoded_value_cannot_leave_its_place() {
        let hostile = |_: &str| Some("x#frag?y=1&@evil.example/../".to_owned());
        let r = get("http://127.0.0.1:9/pb?c={click_id}").render(&hostile);
        let uri: hyper::Uri = r.url.parse().expect("a URI");
        assert_eq!(uri.host(), Some("127.0.0.1"));
        assert_eq!(uri.path(), "/pb");
        assert!(!r.url.contains('#'));
    }
}
