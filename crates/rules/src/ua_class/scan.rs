//! One pass over a UA for every literal the classifier looks for: the crawler list's
//! prefixes, the marks automated clients leave, and the tokens of a desktop OS, all in one
//! [`LiteralSet`], so a UA no cache has seen is read once for all three.
//!
//! Matched without case: the crawler list's own regexes settle each of its candidates, and the
//! marks and desktop tokens are compared without case anyway.

use super::crawlers;
use super::literals::{LiteralSet, Occurrence};
use super::marks::{Marks, MARK_LITERALS};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

/// Every token a woothee desktop ("pc") verdict needs, lowercase.
const DESKTOP_TOKENS: &[&str] = &[
    "windows",
    "win98",
    "mac",
    "x11",
    "linux",
    "freebsd",
    "cros",
    "applesyndication",
    "google desktop",
    "sleipnir",
];

/// What a literal stands for; one literal may stand for several.
#[derive(Clone, Copy, Debug)]
enum Meaning {
    /// A prefix of this crawler-list entry.
    Crawler(usize),
    /// `MARK_LITERALS[i]`.
    Mark(usize),
    Desktop,
}

struct Scanner {
    literals: LiteralSet,
    meanings: Vec<Vec<Meaning>>,
}

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
    let (literals, meanings) = literals();
    Scanner {
        literals: LiteralSet::new(&literals),
        meanings,
    }
});

/// Every literal, lowercase and once, with what it stands for.
fn literals() -> (Vec<Vec<u8>>, Vec<Vec<Meaning>>) {
    let mut literals: Vec<Vec<u8>> = Vec::new();
    let mut meanings: Vec<Vec<Meaning>> = Vec::new();
    let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
    let crawler_prefixes = crawlers::prefixes()
        .iter()
        .map(|(p, entry)| (p.as_slice(), Meaning::Crawler(*entry)));
    let marks = MARK_LITERALS
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_bytes(), Meaning::Mark(i)));
    let desktop = DESKTOP_TOKENS
        .iter()
        .map(|t| (t.as_bytes(), Meaning::Desktop));
    for (literal, meaning) in crawler_prefixes.chain(marks).chain(desktop) {
        let folded = literal.to_ascii_lowercase();
        let at = *index.entry(folded.clone()).or_insert_with(|| {
            literals.push(folded);
            meanings.push(Vec::new());
            literals.len() - 1
        });
        meanings[at].push(meaning);
    }
    (literals, meanings)
}

/// What one pass found in a UA.
#[derive(Debug, Default)]
pub(super) struct Hits {
    /// Crawler-list entries whose prefix occurs, unordered, maybe repeated.
    pub crawlers: Vec<usize>,
    pub marks: Marks,
    pub desktop: bool,
}

thread_local! {
    /// The occurrences of one scan, kept between scans so that a scan allocates nothing.
    static FOUND: RefCell<Vec<Occurrence>> = const { RefCell::new(Vec::new()) };
}

pub(super) fn scan(ua: &str) -> Hits {
    let s = &*SCANNER;
    let mut hits = Hits::default();
    FOUND.with_borrow_mut(|found| {
        s.literals.find_all(ua.as_bytes(), found);
        for o in found.iter() {
            for meaning in &s.meanings[o.literal] {
                match *meaning {
                    Meaning::Crawler(entry) => hits.crawlers.push(entry),
                    Meaning::Mark(i) => hits.marks.saw(i, o.start, o.end),
                    Meaning::Desktop => hits.desktop = true,
                }
            }
        }
    });
    hits
}

#[cfg(test)]
mod tests {
    use super::{literals, LiteralSet};
    use crate::ua_class::literals::tests::{found_by, reference};

    #[test]
    fn finds_in_every_uap_core_ua_what_aho_corasick_finds() {
        let (literals, _) = literals();
        assert!(
            literals.iter().all(|l| l.len() >= 2),
            "the literal set finds no literal shorter than two bytes"
        );
        let set = LiteralSet::new(&literals);
        let reference = reference(&literals);
        let tsv = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/user-agents/uap-core.tsv"
        );
        let text = std::fs::read_to_string(tsv).expect("uap-core corpus");
        let (mut uas, mut occurrences) = (0, 0);
        let mut found = Vec::new();
        for ua in text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit('\t').next())
        {
            set.find_all(ua.as_bytes(), &mut found);
            assert_eq!(found, found_by(&reference, ua.as_bytes()), "{ua}");
            uas += 1;
            occurrences += found.len();
        }
        assert!(
            uas > 17_000 && occurrences > 10_000,
            "{uas} UAs, {occurrences} found"
        );
    }
}
