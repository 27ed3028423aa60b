//! AppMetrica's side of the loop after the click: a conversion is attributed to a click or
//! impression in the journal, and the tracker's postbacks are sent to the ad network, retried
//! until answered 200, every attempt on record.
//!
//! `attribution` and `template` are pure; `touches` finds candidates in the journal;
//! `conversion` ties them together; `service` holds the state, `sender` delivers, and
//! `deliveries` keeps the record.

pub mod attribution;
mod conversion;
pub mod deliveries;
mod options;
mod sender;
mod service;
pub mod template;
mod touches;
mod values;

pub use conversion::{convert, ConversionError, ConversionOutcome, ConversionRequest, TouchRef};
pub use options::{PostbackOptions, USER_AGENT};
pub(crate) use sender::Counters;
pub use service::Postbacks;
