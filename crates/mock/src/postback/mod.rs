//! AppMetrica's side of the loop after the click: a conversion is attributed to a click or
//! impression in the journal, and the tracker's postbacks are sent to the ad network, retried
//! until answered 200, every attempt on record.
//!
//! `attribution` and `template` are pure; `touches` finds candidates in the journal;
//! `conversion` ties them together; `service` holds the state, `sender` delivers, and
//! `deliveries` keeps the record.

pub(crate) mod attribution;
mod conversion;
pub(crate) mod deliveries;
pub(crate) mod export_row;
mod hashed;
mod installs;
pub(crate) mod macros;
mod options;
pub(crate) mod policy;
mod request;
mod sender;
mod service;
pub(crate) mod template;
pub(crate) mod touches;
pub(crate) mod values;

pub use attribution::MatchType;
pub(crate) use conversion::convert;
pub use deliveries::{Attempt, Delivery, DeliveryFilter, DeliveryPage, DeliveryState, FailureKind};
pub(crate) use options::PostbackOptions;
pub(crate) use request::ConversionError;
pub use request::{ConversionOutcome, ConversionRequest, Ecom, TouchRef};
pub(crate) use sender::Counters;
pub(crate) use service::Postbacks;
pub use template::{ConversionKind, PostbackMethod, Template, TemplateError};
