//! The marks automated clients leave in their UAs by convention, for the ones no list knows
//! yet: a word saying what they do (crawler, spider, headless ...), a name ending in "bot"
//! where a product or a `compatible;` comment stands, a URL or an e-mail address for site
//! owners, or an injection payload. Words are matched as words, so a phone brand (CUBOT) or a
//! model name is not a bot.

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

/// The literals behind the marks, for `scan`'s literal set (matched without case): the job
/// words, then these, in this order.
const OTHER_MARKS: &[&str] = &["bot", "${", "http://", "https://", "www."];
const BOT: usize = JOB_WORDS.len();
const DOLLAR: usize = BOT + 1;
const HTTP: usize = BOT + 2;
const HTTPS: usize = BOT + 3;
const WWW: usize = BOT + 4;

pub(super) static MARK_LITERALS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    JOB_WORDS
        .iter()
        .map(|(w, _)| *w)
        .chain(OTHER_MARKS.iter().copied())
        .collect()
});

/// Where the marks occur in a UA, as one pass of `scan` reports them, in the order their
/// matches end.
#[derive(Debug, Default)]
pub(super) struct Marks {
    dollar: bool,
    /// The first job word: start, end, and which.
    job: Option<(usize, usize, usize)>,
    /// Every `bot`, by where it ends.
    bots: Vec<usize>,
    http: Option<usize>,
    https: Option<usize>,
    www: Option<usize>,
}

impl Marks {
    /// `MARK_LITERALS[i]` occurs at `start..end`.
    pub(super) fn saw(&mut self, i: usize, start: usize, end: usize) {
        match i {
            BOT => self.bots.push(end),
            DOLLAR => self.dollar = true,
            HTTP => {
                self.http.get_or_insert(start);
            }
            HTTPS => {
                self.https.get_or_insert(start);
            }
            WWW => {
                self.www.get_or_insert(start);
            }
            job => {
                self.job.get_or_insert((start, end, job));
            }
        }
    }
}

/// The mark and what it says about the client, or `None`.
pub(super) fn automated(
    ua: &str,
    on_device: bool,
    marks: &Marks,
) -> Option<(Box<str>, &'static str)> {
    if marks.dollar {
        return Some((
            "${".into(),
            "a scanner probing for template injection (Log4Shell `${jndi:...}`)",
        ));
    }
    if let Some((start, end, job)) = marks.job {
        let (at, end) = word_around(ua.as_bytes(), start, end);
        return Some((ua[at..end].into(), JOB_WORDS[job].1));
    }
    let bytes = ua.as_bytes();
    for &end in &marks.bots {
        // `Googlebot/2.1`, `(compatible; AspiegelBot)`, `MsnBot-Media`; not `; CUBOT; P60;`
        // on a phone. A part of a word (split at `-` and `_`) ends in "bot" and is longer.
        let part_ends = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
        let part_start = bytes[..end]
            .iter()
            .rposition(|b| !b.is_ascii_alphanumeric())
            .map_or(0, |i| i + 1);
        if !part_ends || end - part_start <= 3 {
            continue;
        }
        let (at, word_end) = word_around(bytes, end - 3, end);
        let versioned = ua[word_end..].starts_with('/');
        if versioned || !on_device {
            return Some((ua[at..word_end].into(), "a bot"));
        }
    }
    // Crawlers sign with a URL or an address site owners can write to: `+http://...`,
    // `crawler@example.com`. On a phone, a custom ROM or an app may put either in its UA.
    if on_device {
        return None;
    }
    if let Some(at) = marks.http.or(marks.https).or(marks.www) {
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
