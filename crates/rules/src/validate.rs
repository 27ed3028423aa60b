//! Runs every stateless rule over a parsed request.

use crate::checks::{self, DecodedValues, Facts, Found};
use crate::diagnostic::Diagnostic;
use crate::parse::Request;
use crate::settings::Context;

/// Validates requests, remembering decoded `device_ua` values and their verdicts between
/// calls. Keep one per thread.
#[derive(Debug)]
pub struct Validator {
    values: DecodedValues,
}

impl Validator {
    /// Remembers up to `ua_cache_entries` User-Agents; 0 remembers none.
    pub fn new(ua_cache_entries: usize) -> Validator {
        Validator {
            values: DecodedValues::new(ua_cache_entries),
        }
    }

    /// Every diagnostic for `req`, ordered by where in the input they point; empty when clean.
    pub fn validate(&mut self, req: &Request<'_>, ctx: &Context<'_>) -> Vec<Diagnostic> {
        self.judge(req, ctx).0
    }

    /// [`Validator::validate`], and the [`Facts`] the mock acts on, read in the same pass.
    pub fn judge(&mut self, req: &Request<'_>, ctx: &Context<'_>) -> (Vec<Diagnostic>, Facts) {
        let mut out = Found::default();
        let facts = checks::run(req, ctx, &mut self.values, &mut out);
        let mut list = out.into_vec();
        list.sort_by_key(|d| d.span.map_or(0, |s| s.start));
        (list, facts)
    }
}

/// [`Validator::validate`] without a UA cache, for one-off checks.
pub fn validate(req: &Request<'_>, ctx: &Context<'_>) -> Vec<Diagnostic> {
    Validator::new(0).validate(req, ctx)
}
