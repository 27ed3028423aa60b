//! The marks automated clients leave in their UAs by convention, for the ones no list knows
//! yet: a word saying what they do (crawler, spider, headless ...), a name ending in "bot"
//! where a product or a `compatible;` comment stands, a URL or an e-mail address for site
//! owners, or an injection payload. Words are matched as words, so a phone brand (CUBOT) or a
//! model name is not a bot.

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use std::sync::LazyLock;

/// Parts of a word that name an automated client's job, lowercase.
const JOB_WORDS: &[(&str, &str)] = &[
    ("crawler", "a crawler"),
    ("crawling", "a crawler"),
    ("spider", "a crawler"),
    ("scraper", "a scraper"),
    ("headless", "a headless or automated browser"),
    ("scanner", "a security or compliance scanner"),
    ("fetcher", "a fetcher"),
    ("monitor", "an uptime or page-speed monitor"),
    ("synthetic", "an uptime or page-speed monitor"),
    ("linkcheck", "a link checker"),
    ("validator", "a validator"),
    ("archiver", "a web archiver"),
    ("indexer", "a crawler"),
    ("archive", "a web archiver"),
    ("thumbnail", "a screenshot service"),
];

/// All the job words in one case-insensitive automaton: one pass over the UA.
static JOBS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .build(JOB_WORDS.iter().map(|(w, _)| w))
        // A dozen short constant words: inside every limit of the builder.
        .expect("the job words build")
});

/// The mark and what it says about the client, or `None`.
pub(super) fn automated(ua: &str, on_device: bool) -> Option<(Box<str>, &'static str)> {
    if ua.contains("${") {
        return Some((
            "${".into(),
            "a scanner probing for template injection (Log4Shell `${jndi:...}`)",
        ));
    }
    if let Some(m) = JOBS.find(ua) {
        let (at, end) = word_around(ua.as_bytes(), m.start(), m.end());
        return Some((ua[at..end].into(), JOB_WORDS[m.pattern().as_usize()].1));
    }
    for (at, end) in words(ua) {
        let word = &ua[at..end];
        let versioned = ua[end..].starts_with('/');
        // `Googlebot/2.1`, `(compatible; AspiegelBot)`, `MsnBot-Media`; not `; CUBOT; P60;`
        // on a phone.
        let bot_part = word.split(['-', '_']).any(|part| {
            part.len() > 3 && part.as_bytes()[part.len() - 3..].eq_ignore_ascii_case(b"bot")
        });
        if bot_part && (versioned || !on_device) {
            return Some((word.into(), "a bot"));
        }
    }
    // Crawlers sign with a URL or an address site owners can write to: `+http://...`,
    // `crawler@example.com`. On a phone, a custom ROM or an app may put either in its UA.
    if on_device {
        return None;
    }
    let lower = ua.to_ascii_lowercase();
    if let Some(at) = lower.find("http://").or_else(|| lower.find("https://")) {
        return Some((
            url_at(ua, at),
            "a crawler (it signs with a URL for site owners)",
        ));
    }
    if let Some(at) = lower.find("www.") {
        return Some((
            url_at(ua, at),
            "a crawler (it signs with a URL for site owners)",
        ));
    }
    if let Some(at) = ua.find('@').filter(|&at| looks_like_email(ua, at)) {
        return Some((
            url_at(ua, ua[..at].rfind([' ', '(', ';']).map_or(0, |s| s + 1)),
            "a crawler (it signs with an e-mail address)",
        ));
    }
    None
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The word that holds `start..end`.
fn word_around(bytes: &[u8], start: usize, end: usize) -> (usize, usize) {
    let at = bytes[..start]
        .iter()
        .rposition(|&b| !is_word_byte(b))
        .map_or(0, |i| i + 1);
    let end = bytes[end..]
        .iter()
        .position(|&b| !is_word_byte(b))
        .map_or(bytes.len(), |i| end + i);
    (at, end)
}

/// The byte ranges of the words of `s`: runs of letters, digits, `-` and `_`.
fn words(s: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let word = is_word_byte;
        while i < bytes.len() && !word(bytes[i]) {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        let start = i;
        while i < bytes.len() && word(bytes[i]) {
            i += 1;
        }
        Some((start, i))
    })
}

/// The URL or address that starts at `at`, up to the next space, `;` or `)`.
fn url_at(ua: &str, at: usize) -> Box<str> {
    let rest = &ua[at..];
    let end = rest.find([' ', ';', ')']).unwrap_or(rest.len());
    rest[..end].chars().take(80).collect::<String>().into()
}

fn looks_like_email(ua: &str, at: usize) -> bool {
    let before = ua[..at].chars().next_back();
    let after = &ua[at + 1..];
    // `ios@11.0.2` is a version, not an address: a domain ends in a name.
    let domain = after.split([' ', ';', ')']).next().unwrap_or("");
    let top = domain.rsplit('.').next().unwrap_or("");
    before.is_some_and(|c| c.is_ascii_alphanumeric())
        && domain.contains('.')
        && top.len() >= 2
        && top.bytes().all(|b| b.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use crate::ua_class::marks::automated;

    #[test]
    fn marks_are_words_not_substrings() {
        assert!(automated("Mozilla/5.0 (compatible; AspiegelBot)", false).is_some());
        assert!(automated("Mozilla/5.0 (compatible; Googlebot/2.1)", false).is_some());
        assert!(automated(
            "Mozilla/5.0 (Linux; Android 10; CUBOT; P60; wv) Instagram 300.0",
            true
        )
        .is_none());
        assert!(automated("${jndi:ldap://x/a}", false).is_some());
        assert!(automated("Foo/1.0 (crawler@example.com)", false).is_some());
        assert!(automated("Safari/605.1.15 (Ecosia ios@11.0.2.2268)", true).is_none());
        assert!(automated(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)",
            true
        )
        .is_none());
    }
}
