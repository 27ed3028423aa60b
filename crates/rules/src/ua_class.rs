//! What kind of client a User-Agent belongs to: an HTTP library, a bot, a desktop browser, and
//! which mobile platform.
//!
//! woothee classifies bots and desktops; HTTP libraries are our own table, because woothee
//! calls most of them "UNKNOWN". woothee's regexes are most of a UA's cost, so it runs only
//! where it can decide something: one case-insensitive pass over the UA looks for the tokens
//! its crawler and desktop verdicts need, and a UA with none of them (or a mobile UA with no
//! crawler token) is settled without it.

use crate::settings::Platform;
use aho_corasick::{AhoCorasick, AhoCorasickKind};
use std::sync::LazyLock;

/// Every token some woothee crawler verdict needs (its crawler names, its bot, crawler,
/// spider, RSS, feed and watchdog patterns, the HTTP libraries it knows), lowercase.
const CRAWLER_TOKENS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "rss",
    "parser",
    "watch",
    "rome client",
    "unwindfetchor",
    "ia_archiver",
    "summify",
    "postrank",
    "headline-reader",
    "cococ/",
    "feed",
    "java",
    "wget",
    "libwww",
    "www-mechanize",
    "lwp",
    "ruby",
    "feedzirra",
    "typhoeus",
    "python-urllib",
    "twisted ",
    "php",
    "wordpress",
    "cakephp",
    "pukiwiki",
    "pecl::http",
    "http_request",
    "curl/",
    "httpclient",
    "google",
    "yahoo",
    "bing",
    "baidu",
    "yeti",
    "facebookexternalhit",
    "ichiro",
    "apple-pubsub",
    "radian6",
    "genieo",
    "topsy",
    "hatena",
    "mixi",
    "indy library",
    "trendiction",
    "fetcher",
];

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

/// Both lists in one automaton: one pass over the UA finds which kinds of token it holds.
static TOKENS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .build(CRAWLER_TOKENS.iter().chain(DESKTOP_TOKENS))
        // A few dozen short constant patterns: far inside every limit of the builder.
        .expect("the token lists build")
});

/// Whether `ua` holds a crawler token, and whether it holds a desktop token.
fn token_kinds(ua: &str) -> (bool, bool) {
    let (mut crawler, mut desktop) = (false, false);
    for m in TOKENS.find_overlapping_iter(ua) {
        if m.pattern().as_usize() < CRAWLER_TOKENS.len() {
            crawler = true;
        } else {
            desktop = true;
        }
        if crawler && desktop {
            break;
        }
    }
    (crawler, desktop)
}

/// HTTP client libraries and tools, by the product token a UA starts with (compared without
/// case). `Python/` is listed for `Python/3.x aiohttp/3.x`. Dalvik and CFNetwork are absent on
/// purpose: they are what apps on a device send.
const LIBRARIES: &[(&str, &str)] = &[
    ("okhttp", "okhttp"),
    ("go-http-client", "Go-http-client"),
    ("python-requests", "python-requests"),
    ("python-urllib", "Python-urllib"),
    ("python-httpx", "python-httpx"),
    ("python", "Python (aiohttp or urllib)"),
    ("aiohttp", "aiohttp"),
    ("curl", "curl"),
    ("wget", "Wget"),
    ("wget2", "Wget2"),
    ("java", "Java (HttpURLConnection)"),
    ("apache-httpclient", "Apache-HttpClient"),
    ("axios", "axios"),
    ("node-fetch", "node-fetch"),
    ("undici", "undici (Node.js fetch)"),
    ("node", "Node.js"),
    ("guzzle", "Guzzle"),
    ("guzzlehttp", "GuzzleHttp"),
    ("php", "PHP"),
    ("libwww-perl", "libwww-perl"),
    ("reqwest", "reqwest"),
    ("postmanruntime", "PostmanRuntime"),
    ("httpie", "HTTPie"),
    ("ruby", "Ruby (Net::HTTP)"),
    ("faraday", "Faraday"),
];

/// The verdicts the UA rules need: everything that depends on the UA text alone, so a cached
/// UA costs one lookup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UaClass {
    /// The first control character, by character offset.
    pub control: Option<(usize, char)>,
    /// Unbalanced parentheses or a last character that cuts a token: worth a closer look.
    pub maybe_truncated: bool,
    /// The HTTP library this UA belongs to.
    pub library: Option<&'static str>,
    /// The bot's name, when it is one.
    pub bot: Option<Box<str>>,
    /// The desktop OS, when it is a desktop browser.
    pub desktop: Option<Box<str>>,
    pub platform: Option<Platform>,
}

/// Longest UA the decoded-UA cache keeps. Real UAs run to a few hundred bytes; without a cap,
/// a client sending thousands of distinct 16 KiB UAs would grow the cache to tens of megabytes.
pub(crate) const MAX_CACHED_UA_BYTES: usize = 1024;

/// The verdicts for one User-Agent. Pure: the rules' one UA cache (decoded `device_ua` values
/// and their classes, per `Validator`) sits in front of it.
pub fn classify_ua(ua: &str) -> UaClass {
    let library = library_of(ua);
    let platform = platform_of(ua);
    let (crawler_token, desktop_token) = token_kinds(ua);
    // Without a crawler token woothee cannot say crawler; without a desktop token it cannot
    // say pc; and a UA we already know for a phone or tablet is no desktop, whatever woothee
    // makes of `iPhone 5;` or a Facebook app UA that claims X11.
    let ask_woothee = crawler_token || (platform.is_none() && desktop_token);
    let parsed = ask_woothee
        .then(|| woothee::parser::Parser::new().parse(ua))
        .flatten();
    let bot = if library.is_some() {
        None
    } else {
        match &parsed {
            Some(r) if r.category == "crawler" => Some(r.name.into()),
            _ if crawler_token => generic_bot(ua),
            _ => None,
        }
    };
    let desktop = match &parsed {
        Some(r)
            if r.category == "pc" && library.is_none() && bot.is_none() && platform.is_none() =>
        {
            Some(r.os.into())
        }
        _ => None,
    };
    // C0 controls and DEL are single bytes; C1 controls need a char scan, for non-ASCII only.
    let control = (ua.bytes().any(|b| b < 0x20 || b == 0x7F) || !ua.is_ascii())
        .then(|| ua.chars().enumerate().find(|(_, c)| c.is_control()))
        .flatten();
    let opens = ua.bytes().filter(|&b| b == b'(').count();
    let closes = ua.bytes().filter(|&b| b == b')').count();
    let cut = ua.ends_with(['/', ';', '(', ',', ' ']);
    UaClass {
        control,
        maybe_truncated: opens > closes || cut,
        library,
        bot,
        desktop,
        platform,
    }
}

fn library_of(ua: &str) -> Option<&'static str> {
    let token_end = ua.find(['/', ' ', ';', '(', ',']).unwrap_or(ua.len());
    let token = &ua[..token_end];
    let (_, name) = LIBRARIES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(token))?;
    if token.eq_ignore_ascii_case("python") && ua.to_ascii_lowercase().contains("aiohttp") {
        return Some("aiohttp");
    }
    Some(name)
}

/// Bots woothee does not know: the conventional markers of a crawler's UA.
fn generic_bot(ua: &str) -> Option<Box<str>> {
    let lower = ua.to_ascii_lowercase();
    let marked = ["bot/", "bot;", "bot)", "spider", "crawler"]
        .iter()
        .any(|m| lower.contains(m));
    marked.then(|| {
        let first = ua.split([' ', '/', ';', '(']).next().unwrap_or(ua);
        first.chars().take(40).collect::<String>().into()
    })
}

fn platform_of(ua: &str) -> Option<Platform> {
    if ua.contains("Windows Phone") {
        return None;
    }
    // iPhone first: some iOS apps name Android in their own product token.
    if ["iPhone", "iPad", "iPod"].iter().any(|m| ua.contains(m)) {
        return Some(Platform::Ios);
    }
    let android = ua.contains("Android")
        || ua.contains("android")
        || ua.starts_with("Dalvik/")
        || ua.contains("; Adr ")
        || ua.contains("Silk/");
    if android {
        return Some(Platform::Android);
    }
    if ua.contains("iOS") {
        return Some(Platform::Ios);
    }
    // In-app requests on iOS: `App/1 CFNetwork/1490 Darwin/23.2.0`; the same on a Mac names
    // the CPU or "Macintosh".
    if ua.contains("CFNetwork/")
        && ua.contains("Darwin/")
        && !["x86_64", "Macintosh", "i386", "MacBook", "iMac", "Mac OS X"]
            .iter()
            .any(|m| ua.contains(m))
    {
        return Some(Platform::Ios);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_libraries_are_recognised_by_their_product_token() {
        for (ua, lib) in [
            ("okhttp/4.12.0", "okhttp"),
            ("Go-http-client/1.1", "Go-http-client"),
            ("python-requests/2.31.0", "python-requests"),
            ("Python/3.6 aiohttp/3.5.4", "aiohttp"),
            ("curl/8.5.0", "curl"),
            ("Java/17.0.6", "Java (HttpURLConnection)"),
            ("GuzzleHttp/6.3.3 PHP/7.1.17", "GuzzleHttp"),
            ("PostmanRuntime/7.36.0", "PostmanRuntime"),
            ("Faraday v2.7.10", "Faraday"),
        ] {
            assert_eq!(classify_ua(ua).library, Some(lib), "{ua}");
        }
    }

    #[test]
    fn in_app_device_uas_are_not_libraries() {
        for ua in [
            "Dalvik/2.1.0 (Linux; U; Android 13; SM-S911B Build/TP1A.220624.014)",
            "MyApp/1.2 CFNetwork/1490.0.4 Darwin/23.2.0",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
            "Javelin/1.0",
            "Pythonista/3 CFNetwork/1490 Darwin/23.2.0",
        ] {
            let c = classify_ua(ua);
            assert_eq!(c.library, None, "{ua}");
            assert_eq!(c.bot, None, "{ua}");
        }
    }

    #[test]
    fn platforms() {
        let p = |ua| classify_ua(ua).platform;
        assert_eq!(
            p("Dalvik/2.1.0 (Linux; U; Android 13)"),
            Some(Platform::Android)
        );
        assert_eq!(
            p("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)"),
            Some(Platform::Ios)
        );
        assert_eq!(
            p("MyApp/1.2 CFNetwork/1490.0.4 Darwin/23.2.0"),
            Some(Platform::Ios)
        );
        assert_eq!(p("MyApp/1 CFNetwork/673.5 Darwin/13.4.0 (x86_64)"), None);
        assert_eq!(
            p("Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950)"),
            None
        );
    }

    /// What `classify_ua` said when it asked woothee about every UA.
    fn with_woothee_always(ua: &str) -> (Option<Box<str>>, Option<Box<str>>) {
        let library = library_of(ua);
        let parsed = woothee::parser::Parser::new().parse(ua);
        let bot = match &parsed {
            _ if library.is_some() => None,
            Some(r) if r.category == "crawler" => Some(r.name.into()),
            _ => generic_bot(ua),
        };
        let desktop = match &parsed {
            Some(r) if r.category == "pc" && library.is_none() && bot.is_none() => {
                Some(r.os.into())
            }
            _ => None,
        };
        (bot, desktop)
    }

    /// Asking woothee only where it can decide changes no verdict on any of the 17,816 real
    /// UAs of uap-core, but for phones woothee itself calls desktops.
    #[test]
    fn the_woothee_gate_changes_no_verdict_on_real_uas() {
        let tsv = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/user-agents/uap-core.tsv"
        );
        let text = std::fs::read_to_string(tsv).expect("corpus");
        let mut corrected = 0;
        for ua in text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.rsplit('\t').next())
        {
            let fast = classify_ua(ua);
            let (bot, desktop) = with_woothee_always(ua);
            assert_eq!(fast.bot, bot, "{ua}");
            if fast.desktop != desktop {
                assert!(fast.platform.is_some() && fast.desktop.is_none(), "{ua}");
                corrected += 1;
            }
        }
        // 41 on this corpus: UC Browser `Adr`, Kindle Silk, iPads asking for desktop pages (CriOS,
        // EdgiOS), Facebook iOS apps claiming X11: devices, not desktops.
        assert!(corrected <= 45, "{corrected} phones woothee calls desktops");
    }

    #[test]
    fn bots_and_desktops() {
        let g =
            classify_ua("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)");
        assert!(g.bot.is_some());
        let d = classify_ua(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        );
        assert!(d.desktop.is_some());
        assert_eq!(d.bot, None);
    }
}
