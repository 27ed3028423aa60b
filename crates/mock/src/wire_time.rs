//! Times on the wire: RFC 3339 with milliseconds, `2026-11-28T10:00:00.123Z`, for the
//! journal's and the deliveries' derived serde.

/// A `u64` of Unix milliseconds.
pub mod millis {
    use metrica_s2s_rules::calendar::{format_rfc3339_millis, parse_rfc3339_millis};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339_millis(
            i64::try_from(*ms).unwrap_or(i64::MAX),
        ))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
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
pub mod millis_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ms: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match ms {
            Some(ms) => super::millis::serialize(ms, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::millis")] u64);
        Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(ms)| ms))
    }
}
