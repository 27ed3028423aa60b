//! The checks behind the catalogue, one module per parameter family. Each reads the decoded
//! view of the query built here once (`view.rs`), and pushes drafts into [`Found`].

mod bytes;
mod encoding;
mod ids;
mod ip;
mod keys;
mod macros;
mod memo;
mod request;
mod timestamp;
mod ua;
mod ua_damage;
mod view;

use crate::calendar::ZoneOffset;
use crate::params::{canonical_key, decode_key, known_raw, Key};
use crate::parse::{Param, Request};
use crate::settings::Context;
use crate::span::Span;
use std::borrow::Cow;
use view::{Scope, Value, View};

pub(crate) use memo::DecodedValues;
pub(crate) use view::Found;

/// What the mock needs of a request besides its diagnostics, found while validating it, with
/// the same reading of each parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Where the raw value of `click_id` is, when one was sent.
    pub click_id: Option<Span>,
    /// `noredirect=0`: the sender asks for the redirect to the store.
    pub noredirect_zero: bool,
    /// The time zone whose offset the click_timestamp's skew matches, if any.
    pub clock_zone: Option<ZoneOffset>,
}

pub(crate) fn run(
    req: &Request<'_>,
    ctx: &Context<'_>,
    values: &mut DecodedValues,
    out: &mut Found,
) -> Facts {
    let logged = req.logged_at.map(|now| Context { now, ..*ctx });
    let ctx = logged.as_ref().unwrap_or(ctx);
    let Some(endpoint) = request::check(req, ctx, out) else {
        return Facts::default();
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
            let (key, kind) = match known_raw(req.bytes(p.key)) {
                Some(known) => (Cow::Borrowed(known), Key::Known(known)),
                None => {
                    let key = decode_key(req.bytes(p.key));
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
    ua::check(&scope, out);
    let clock_zone = timestamp::check(&scope, out);
    Facts {
        clock_zone,
        ..ids::check(&scope, out)
    }
}
