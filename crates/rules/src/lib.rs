//! Pure parsing and validation of AppMetrica server-to-server tracking requests.
//!
//! This crate is the one home of every diagnostic metrica-s2s can emit: the mock server,
//! `lint`, the conformance runner and every report read [`Code`] and its [`Rule`]. It does no
//! I/O and reads no clock: "now" arrives in [`Context`], so every verdict is reproducible.
//!
//! The flow is `parse_input` (bytes of one line or request target, raw spans kept) then
//! [`validate`] (a list of [`Diagnostic`]s, empty for a clean request).
//!
//! ```
//! use metrica_s2s_rules::{parse_input, validate, Code, Context, Settings};
//!
//! let settings = Settings::default();
//! let ctx = Context::new(1_795_860_000, &settings); // "now", passed in
//! let req = parse_input(b"/serve/1234567890123456789?click_id=1&device_ip=203.0.113.7:51234\
//!     &device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014)&click_timestamp=1795859990").unwrap();
//! let found = validate(&req, &ctx);
//! assert_eq!(found[0].code, Code::IpWithPort);
//! assert_eq!(found[0].message, r#"device_ip "203.0.113.7:51234" carries a port (51234)"#);
//! ```

pub mod calendar;
mod catalogue;
mod checks;
pub mod ci;
mod decode;
mod diagnostic;
pub mod docs;
mod encode;
mod escape;
mod excerpt;
mod hosts;
mod params;
mod parse;
mod settings;
mod span;
mod ua_class;
mod validate;

pub use catalogue::{Code, Group, Rule, Severity, SeverityPolicy, GROUPS};
pub use checks::Facts;
pub use decode::{percent_decode, Decoded};
pub use diagnostic::{Diagnostic, Draft};
pub use encode::{percent_encode, percent_encode_into, COMPONENT};
pub use escape::{is_unsafe_char, lossy, quote, quote_str, visible};
pub use excerpt::{excerpt, Excerpt, CONTEXT_AFTER, CONTEXT_BEFORE};
pub use hosts::{kind_for_host, Kind, REAL_DOMAINS};
pub use params::{find_param, is_known_param, is_zeroed_id, Query, HASHED_ID_PARAMS};
pub use parse::{parse_input, tracking_segment, Param, Request};
pub use settings::{Context, Platform, Settings, TrackerStatus};
pub use span::Span;
pub use ua_class::{classify_ua, crawler_patterns, platform_of, Bot, UaClass};
pub use validate::{validate, Validator};
