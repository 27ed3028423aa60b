//! One pass over a UA for every literal the classifier looks for: the crawler list's
//! prefixes, the marks automated clients leave, and the tokens of a desktop OS. A DFA costs a
//! table lookup per byte, so one automaton instead of three saves most of what the classifier
//! pays on a UA no cache has seen.
//!
//! Matched without case: the crawler list's own regexes settle each of its candidates, and the
//! marks and desktop tokens are compared without case anyway.

use super::crawlers;
use super::marks::{Marks, MARK_LITERALS};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
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

/// What a literal of the automaton stands for; one literal may stand for several.
#[derive(Clone, Copy, Debug)]
enum Meaning {
    /// A prefix of this crawler-list entry.
    Crawler(usize),
    /// `MARK_LITERALS[i]`.
    Mark(usize),
    Desktop,
}

struct Scanner {
    automaton: AhoCorasick,
    meanings: Vec<Vec<Meaning>>,
}

static SCANNER: LazyLock<Scanner> = LazyLock::new(|| {
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
    let automaton = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&literals)
        // Byte literals only, a few thousand of them: inside every limit of the builder.
        .expect("the UA literals build");
    Scanner {
        automaton,
        meanings,
    }
});

/// What one pass found in a UA.
#[derive(Debug, Default)]
pub(super) struct Hits {
    /// Crawler-list entries whose prefix occurs, unordered, maybe repeated.
    pub crawlers: Vec<usize>,
    pub marks: Marks,
    pub desktop: bool,
}

pub(super) fn scan(ua: &str) -> Hits {
    let s = &*SCANNER;
    let mut hits = Hits::default();
    for m in s.automaton.find_overlapping_iter(ua) {
        for meaning in &s.meanings[m.pattern().as_usize()] {
            match *meaning {
                Meaning::Crawler(entry) => hits.crawlers.push(entry),
                Meaning::Mark(i) => hits.marks.saw(i, m.start(), m.end()),
                Meaning::Desktop => hits.desktop = true,
            }
        }
    }
    hits
}
