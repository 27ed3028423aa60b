//! What every check reads: each query parameter decoded once ([`View`]), the request and its
//! context ([`Scope`]), and where findings go ([`Found`]).

use super::bytes::VALUE_BYTES;
use crate::decode::{decode_marked, Marks};
use crate::diagnostic::{Diagnostic, Draft};
use crate::params::{find_param, Key};
use crate::parse::{Param, Request};
use crate::settings::Context;
use crate::span::Span;
use crate::ua_class::UaClass;
use std::borrow::Cow;

/// The diagnostics found so far.
#[derive(Debug, Default)]
pub(crate) struct Found(Vec<Diagnostic>);

impl Found {
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
    pub(super) fn decode(raw: &'a [u8]) -> Value<'a> {
        let (decoded, marks) = decode_marked(raw, true, &VALUE_BYTES);
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

    pub(super) fn into_owned(self) -> Value<'static> {
        Value {
            decoded: match self.decoded {
                Ok(text) => Ok(Cow::Owned(text.into_owned())),
                Err(bytes) => Err(Cow::Owned(bytes.into_owned())),
            },
            bad_escape: self.bad_escape,
            marks: self.marks,
        }
    }

    pub(super) fn borrowed(&self) -> Value<'_> {
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
    #[inline]
    pub fn get(&self, name: &str) -> Option<&View<'_>> {
        find_param(&self.params, name, |p, n| p.key == n)
    }

    /// The parameter `name` with its decoded text, when that text is non-empty data worth a
    /// value check (not spoiled by an encoding error, not a macro or placeholder).
    pub fn data(&self, name: &str) -> Option<(&View<'_>, &str)> {
        let view = self.get(name)?;
        let text = view.usable().filter(|t| !t.is_empty())?;
        Some((view, text))
    }
}
