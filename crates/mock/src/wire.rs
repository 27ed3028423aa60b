//! Values on the wire of the admin API and the files: times as RFC 3339 with milliseconds
//! (`2026-11-28T10:00:00.123Z`), and ids that clients send as strings or as numbers.

use serde::{Deserialize, Serialize};

/// A tracking id or a time as a client wrote it: `"1234567890123456789"` or `42`. Ids above
/// 2^53 only survive JSON as strings, so both are taken.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TextOrNumber {
    Number(serde_json::Number),
    Text(String),
}

impl Default for TextOrNumber {
    fn default() -> Self {
        TextOrNumber::Text(String::new())
    }
}

impl From<u64> for TextOrNumber {
    fn from(n: u64) -> Self {
        TextOrNumber::Number(n.into())
    }
}

impl TextOrNumber {
    /// The tracking id it holds: a positive integer, or 1-20 decimal digits within u64.
    pub fn tracking_id(&self) -> Option<u64> {
        match self {
            TextOrNumber::Number(n) => n.as_u64().filter(|n| *n > 0),
            TextOrNumber::Text(t) => t
                .parse::<u64>()
                .ok()
                .filter(|_| t.bytes().all(|b| b.is_ascii_digit())),
        }
    }

    /// The value as text, as a macro carries it: a number as JSON writes it.
    pub fn as_text(&self) -> String {
        match self {
            TextOrNumber::Number(n) => n.to_string(),
            TextOrNumber::Text(t) => t.clone(),
        }
    }

    /// As the client wrote it, quoted when text, for messages.
    pub fn shown(&self) -> String {
        match self {
            TextOrNumber::Number(n) => n.to_string(),
            TextOrNumber::Text(t) => metrica_s2s_rules::quote_str(t),
        }
    }
}

/// A `u64` of Unix milliseconds.
pub(crate) mod millis {
    use metrica_s2s_rules::calendar::{format_rfc3339_millis, parse_rfc3339_millis};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(ms: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339_millis(
            i64::try_from(*ms).unwrap_or(i64::MAX),
        ))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = std::borrow::Cow::<'de, str>::deserialize(d)?;
        parse_rfc3339_millis(&text)
            .and_then(|ms| u64::try_from(ms).ok())
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "{text:?} is not an RFC 3339 time with milliseconds"
                ))
            })
    }
}

/// An `Option<u64>` of Unix milliseconds, `null` when absent.
pub(crate) mod millis_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(ms: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => super::millis::serialize(ms, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::millis")] u64);
        Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(ms)| ms))
    }
}
