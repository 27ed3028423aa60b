//! The checks behind the catalogue, one module per parameter family. Each reads the decoded
//! view of the query built here once, and pushes drafts into [`Findings`].

mod encoding;
mod ids;
mod ip;
mod keys;
mod memo;
mod request;
mod timestamp;
mod ua;

use crate::decode::{decode_marked, percent_decode, Marks};
use crate::diagnostic::{Diagnostic, Draft};
use crate::parse::{Param, Request, Span};
use crate::settings::Context;
use crate::ua_class::{UaClass, UaClassifier};
use std::borrow::Cow;

pub(crate) use keys::{canonical_key, Key};
pub(crate) use memo::DecodedValues;

/// The diagnostics found so far.
#[derive(Debug, Default)]
pub(crate) struct Findings(Vec<Diagnostic>);

impl Findings {
    pub(crate) fn push(&mut self, draft: Draft) {
        self.0.push(draft.finish());
    }

    pub(crate) fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }
}

/// One query parameter, decoded once for every check.
#[derive(Debug)]
pub(crate) struct View<'a> {
    pub raw: Param,
    /// The key, decoded (lossily: keys are compared, never echoed raw).
    pub key: Cow<'a, str>,
    pub kind: Key,
    /// `None` for a bare flag such as `&noredirect`.
    pub value: Option<Value<'a>>,
    /// Set when an encoding problem already explains this value, so value checks stay quiet
    /// (one cause, one error).
    pub spoiled: bool,
    /// Set when the value is a macro or placeholder text rather than data.
    pub not_data: bool,
    /// The UA verdicts of a remembered `device_ua`, found with its decoded text.
    pub ua_class: Option<&'a UaClass>,
}

/// A parameter's value, decoded and UTF-8-checked once.
#[derive(Debug)]
pub(crate) struct Value<'a> {
    /// The decoded text, or the decoded bytes when they are not UTF-8.
    pub decoded: Result<Cow<'a, str>, Cow<'a, [u8]>>,
    /// Offset in the raw value of the first `%` not followed by two hex digits.
    pub bad_escape: Option<usize>,
    /// What decoding noticed: raw bytes that needed escaping, `+`, `%25`, `%20`.
    pub marks: Marks,
}

impl<'a> Value<'a> {
    fn decode(raw: &'a [u8]) -> Value<'a> {
        let (decoded, marks) = decode_marked(raw, true, &encoding::VALUE_BYTES);
        let text = match decoded.bytes {
            Cow::Borrowed(b) => std::str::from_utf8(b)
                .map(Cow::Borrowed)
                .map_err(|_| Cow::Borrowed(b)),
            Cow::Owned(v) => String::from_utf8(v)
                .map(Cow::Owned)
                .map_err(|e| Cow::Owned(e.into_bytes())),
        };
        Value {
            decoded: text,
            bad_escape: decoded.bad_escape,
            marks,
        }
    }

    fn into_owned(self) -> Value<'static> {
        Value {
            decoded: match self.decoded {
                Ok(text) => Ok(Cow::Owned(text.into_owned())),
                Err(bytes) => Err(Cow::Owned(bytes.into_owned())),
            },
            bad_escape: self.bad_escape,
            marks: self.marks,
        }
    }

    fn borrowed(&self) -> Value<'_> {
        Value {
            decoded: match &self.decoded {
                Ok(text) => Ok(Cow::Borrowed(text)),
                Err(bytes) => Err(Cow::Borrowed(bytes)),
            },
            bad_escape: self.bad_escape,
            marks: self.marks,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        match &self.decoded {
            Ok(text) => text.as_bytes(),
            Err(bytes) => bytes,
        }
    }

    pub fn text(&self) -> Option<&str> {
        self.decoded.as_deref().ok()
    }
}

impl<'a> View<'a> {
    pub fn text(&self) -> Option<&str> {
        self.value.as_ref().and_then(Value::text)
    }

    pub fn value_span(&self) -> Span {
        self.raw
            .value
            .unwrap_or(Span::new(self.raw.key.end, self.raw.key.end))
    }

    /// The decoded text when value checks should run on it.
    pub fn usable(&self) -> Option<&str> {
        if self.spoiled || self.not_data {
            return None;
        }
        self.text()
    }
}

/// Everything a check may look at.
pub(crate) struct Scope<'r, 'a> {
    pub req: &'r Request<'a>,
    pub ctx: &'r Context<'r>,
    pub params: Vec<View<'a>>,
    /// The tracking id as a number, read once.
    pub tracker: Option<u64>,
}

impl Scope<'_, '_> {
    /// The first parameter sent under `name` or one of its aliases, preferring `name` itself.
    pub fn get(&self, name: &str) -> Option<&View<'_>> {
        self.params.iter().find(|p| p.key == name).or_else(|| {
            self.params
                .iter()
                .find(|p| p.kind.canonical() == Some(name))
        })
    }

    /// The parameter `name` with its decoded text, when that text is non-empty data worth a
    /// value check (not spoiled by an encoding error, not a macro or placeholder).
    pub fn data(&self, name: &str) -> Option<(&View<'_>, &str)> {
        let view = self.get(name)?;
        let text = view.usable().filter(|t| !t.is_empty())?;
        Some((view, text))
    }
}

pub(crate) fn run(
    req: &Request<'_>,
    ctx: &Context<'_>,
    ua: &mut UaClassifier,
    values: &mut DecodedValues,
    out: &mut Findings,
) {
    let logged = req.logged_at.map(|now| Context { now, ..*ctx });
    let ctx = logged.as_ref().unwrap_or(ctx);
    let Some(endpoint) = request::check(req, ctx, out) else {
        return;
    };
    // Only the plainly spelled key is looked up: an escaped one is rare and simply decoded.
    let is_ua = |p: &Param| req.bytes(p.key) == b"device_ua";
    for p in req.params.iter().filter(|p| is_ua(p)) {
        if let Some(v) = p.value {
            values.remember(req.bytes(v));
        }
    }
    let values = &*values;
    let params = req
        .params
        .iter()
        .map(|p| {
            let (key, kind) = match keys::known_raw(req.bytes(p.key)) {
                Some(known) => (Cow::Borrowed(known), Key::Known(known)),
                None => {
                    let key = match percent_decode(req.bytes(p.key), true).bytes {
                        Cow::Borrowed(b) => crate::escape::lossy(b),
                        Cow::Owned(v) => Cow::Owned(crate::escape::lossy(&v).into_owned()),
                    };
                    let kind = canonical_key(&key);
                    (key, kind)
                }
            };
            let (value, ua_class) = match p.value {
                Some(v) if is_ua(p) => {
                    let (value, class) = values.decode(req.bytes(v));
                    (Some(value), class)
                }
                v => (v.map(|v| Value::decode(req.bytes(v))), None),
            };
            View {
                raw: *p,
                kind,
                key,
                value,
                spoiled: false,
                not_data: false,
                ua_class,
            }
        })
        .collect();
    let mut scope = Scope {
        req,
        ctx,
        params,
        tracker: endpoint.tracker,
    };
    encoding::check(&mut scope, out);
    keys::check(&scope, out);
    ip::check(&scope, out);
    ua::check(&scope, ua, out);
    timestamp::check(&scope, out);
    ids::check(&scope, out);
}
