//! Crawlers, monitors, scanners and previewers by the maintained crawler-user-agents list
//! (MIT, `data/crawler-user-agents`), turned into a table at build time.
//!
//! The list is keyed by regular expressions. Matching 1,500 of them on every UA would cost
//! more than all the other rules together, so each pattern's literal prefixes (by
//! regex-syntax's extractor) go into the one literal set of `scan`, and only the patterns whose
//! prefix occurs in the UA are run, each compiled on first use.

use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use std::sync::{LazyLock, OnceLock};

/// Every entry of the list: its pattern and its first tag.
const LIST: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/crawlers.rs"));

/// Entries the list keys on strings that real devices send too, so matching them would call a
/// person a bot: a phone model (HTC Butterfly, Lucky Ultra Sonic, Spreadtrum's `sprd-L008/`), a
/// mail app's `speedy`, an Android build id that Instagram's in-app browser carries, Facebook's
/// in-app browser suffix, `WIRED/` inside an app's UA, and desktop apps built on Electron or
/// WebKit (VS Code, Trae, Fluid). The crawlers they were meant for carry other marks.
pub(crate) const DEVICE_PATTERNS: &[&str] = &[
    "Butterfly",
    "Sonic",
    "008\\/",
    "speedy",
    "AP3A\\.240617\\.008",
    "MetaIAB Facebook",
    "RED\\/",
    "Code\\/1\\.",
    "Trae\\/",
    "Fluid",
];

struct Entry {
    pattern: &'static str,
    kind: &'static str,
    regex: OnceLock<Option<Regex>>,
}

impl Entry {
    fn find<'u>(&self, ua: &'u str) -> Option<&'u str> {
        let regex = self.regex.get_or_init(|| Regex::new(self.pattern).ok());
        regex.as_ref()?.find(ua).map(|m| m.as_str())
    }
}

struct Crawlers {
    entries: Vec<Entry>,
    /// Literal prefixes, each with the entry it starts.
    prefixes: Vec<(Vec<u8>, usize)>,
    /// Entries with no usable prefix (`^`, `.*`, a one-byte literal): run on every UA.
    always: Vec<usize>,
}

static CRAWLERS: LazyLock<Crawlers> = LazyLock::new(|| {
    let mut entries = Vec::new();
    let (mut prefixes, mut always) = (Vec::new(), Vec::new());
    for (pattern, kind) in LIST.iter().copied() {
        if DEVICE_PATTERNS.contains(&pattern) {
            continue;
        }
        // The regex crate has no look-around; the few patterns that need it are left out.
        let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else {
            continue;
        };
        let at = entries.len();
        entries.push(Entry {
            pattern,
            kind,
            regex: OnceLock::new(),
        });
        let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
        match seq.literals() {
            Some(lits) if !lits.is_empty() && lits.iter().all(|l| l.as_bytes().len() >= 3) => {
                prefixes.extend(lits.iter().map(|l| (l.as_bytes().to_vec(), at)));
            }
            _ => always.push(at),
        }
    }
    Crawlers {
        entries,
        prefixes,
        always,
    }
});

/// The literal prefixes of the list's patterns, each with the entry it starts, for `scan`'s
/// literal set.
pub(super) fn prefixes() -> &'static [(Vec<u8>, usize)] {
    &CRAWLERS.prefixes
}

/// How many entries of the list are in force; a test keeps it from falling to nothing when the
/// list is updated.
pub fn crawler_patterns() -> usize {
    CRAWLERS.entries.len()
}

/// How many patterns run on every UA for want of a literal prefix.
#[cfg(test)]
fn without_prefix() -> usize {
    CRAWLERS.always.len()
}

/// The crawler the list names in `ua`: the text its pattern matched, and its kind in words.
/// `candidates` are the entries whose prefix `scan` found in the UA, in any order. The list's
/// first entry that matches wins, as it would in the list's own order.
pub(crate) fn crawler_in(ua: &str, candidates: &[usize]) -> Option<(Box<str>, &'static str)> {
    let c = &*CRAWLERS;
    if candidates.is_empty() && c.always.is_empty() {
        return None;
    }
    let mut candidates: Vec<usize> = candidates.iter().chain(c.always.iter()).copied().collect();
    candidates.sort_unstable();
    candidates.dedup();
    candidates.into_iter().find_map(|at| {
        let e = &c.entries[at];
        let name = e.find(ua)?.trim();
        let name = if name.is_empty() { e.pattern } else { name };
        Some((name.into(), kind_in_words(e.kind)))
    })
}

/// Whether `kind` (as `kind_in_words` says it) is an HTTP library's.
pub(crate) fn is_library(kind: &str) -> bool {
    kind == kind_in_words("http-library")
}

/// The list's tags, as a diagnosis says them.
pub(crate) fn kind_in_words(tag: &str) -> &'static str {
    match tag {
        "search-engine" => "a search engine's crawler",
        "monitoring" => "an uptime or page-speed monitor",
        "social-preview" => "a link-preview fetcher",
        "scanner" => "a security or compliance scanner",
        "http-library" => "an HTTP library",
        "browser-automation" => "a headless or automated browser",
        "ai-crawler" => "an AI crawler or agent",
        "feed-reader" => "a feed reader",
        "archiver" => "a web archiver",
        "seo" => "an SEO or site-audit crawler",
        "advertising" => "an ad-verification crawler",
        "academic" => "a research crawler",
        _ => "a crawler",
    }
}

#[cfg(test)]
mod tests {
    use crate::ua_class::crawlers::{
        crawler_in, crawler_patterns, without_prefix, DEVICE_PATTERNS, LIST,
    };

    #[test]
    fn the_list_loaded_and_nearly_all_of_it_compiles() {
        assert!(LIST.len() >= 1000, "{} entries", LIST.len());
        assert!(crawler_patterns() * 100 >= (LIST.len() - DEVICE_PATTERNS.len()) * 99);
        assert!(
            without_prefix() <= 60,
            "{} patterns run on every UA",
            without_prefix()
        );
        for p in DEVICE_PATTERNS {
            assert!(LIST.iter().any(|(q, _)| q == p), "{p} is no longer listed");
        }
    }

    #[test]
    fn names_the_crawler_and_its_kind() {
        // Every entry a candidate: the list's order alone decides.
        let all: Vec<usize> = (0..crawler_patterns()).collect();
        let (name, kind) = crawler_in(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            &all,
        )
        .expect("Googlebot");
        assert_eq!(&*name, "Googlebot/");
        assert_eq!(kind, "a search engine's crawler");
        assert!(crawler_in(
            "Mozilla/5.0 (Linux; Android 4.1.1; HTC Butterfly Build/JRO03C) AppleWebKit/535.19",
            &all
        )
        .is_none());
    }
}
