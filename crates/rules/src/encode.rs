//! Percent-encoding a value for a query, the one way metrica-s2s does it: every byte but RFC
//! 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) as `%XX` of its UTF-8, which is what
//! `encodeURIComponent` produces and stricter. Any decoder reads it back exactly, so the
//! runner, the postback templates and the tests all encode through here.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};

/// What a query value escapes: everything but the unreserved characters.
pub const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `value`, percent-encoded for a query.
pub fn percent_encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, COMPONENT).to_string()
}

/// `value`, percent-encoded for a query, appended to `out`.
pub fn percent_encode_into(value: &str, out: &mut String) {
    out.extend(percent_encoding::utf8_percent_encode(value, COMPONENT));
}

#[cfg(test)]
mod tests {
    use crate::encode::percent_encode;
    use crate::percent_decode;

    #[test]
    fn only_unreserved_characters_stay_and_everything_decodes_back() {
        assert_eq!(percent_encode("a-Z.0_~"), "a-Z.0_~");
        assert_eq!(
            percent_encode("Mozilla/5.0 (X; +1) ü&="),
            "Mozilla%2F5.0%20%28X%3B%20%2B1%29%20%C3%BC%26%3D"
        );
        let hostile = "a%20b+c\r\n\u{0}Телефон";
        let encoded = percent_encode(hostile);
        let back = percent_decode(encoded.as_bytes(), false);
        assert_eq!(back.bytes, hostile.as_bytes());
    }
}
