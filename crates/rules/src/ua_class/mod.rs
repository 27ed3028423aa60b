//! What kind of client a User-Agent belongs to: a device (and which mobile platform), a
//! desktop browser, an HTTP library, or an automated client.
//!
//! Read by the UA's grammar first: a device names its platform (`Android`, `iPhone`,
//! `CFNetwork/... Darwin/...`, `Dalvik/`), a library's product token stands first or, with no
//! device named, anywhere. Automated clients are found by the maintained crawler-user-agents
//! list (`crawlers`) and by the marks they leave by convention (`marks`). woothee says which
//! desktop OS a browser runs on, asked only when the UA holds a desktop token.

mod crawlers;
mod libraries;
mod literals;
mod marks;
mod scan;

pub use crawlers::crawler_patterns;

use crate::settings::Platform;
/// Lengths at which storage and logging layers cut strings: a UA of exactly this many
/// characters that does not end a token was probably cut there.
pub(crate) const CUT_LENGTHS: &[usize] = &[255, 256, 512, 1024];

/// An automated client: what in the UA says so, and what kind of client that is, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bot {
    pub name: Box<str>,
    pub kind: &'static str,
}

/// The verdicts the UA rules need: everything that depends on the UA text alone, so a cached
/// UA costs one lookup.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UaClass {
    /// The first control character, by character offset.
    pub control: Option<(usize, char)>,
    /// Unbalanced parentheses, a last character that cuts a token, or a length storage cuts
    /// at: worth a closer look.
    pub maybe_truncated: bool,
    /// The HTTP library this UA belongs to.
    pub library: Option<&'static str>,
    /// The automated client, when it is one.
    pub bot: Option<Bot>,
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
    let platform = platform_of(ua);
    let library =
        libraries::first(ua).or_else(|| platform.is_none().then(|| libraries::later(ua)).flatten());
    let hits = library.is_none().then(|| scan::scan(ua));
    let bot = hits.as_ref().and_then(|hits| {
        crawlers::crawler_in(ua, &hits.crawlers)
            // An app on a phone that names its HTTP client (`... okhttp3) Android/7.1.2`).
            .filter(|(_, kind)| platform.is_none() || !crawlers::is_library(kind))
            .or_else(|| marks::automated(ua, platform.is_some(), &hits.marks))
            .map(|(name, kind)| Bot { name, kind })
    });
    let on_desktop = hits.is_some_and(|h| h.desktop);
    let desktop = (bot.is_none() && platform.is_none() && on_desktop)
        .then(|| woothee::parser::Parser::new().parse(ua))
        .flatten()
        .filter(|r| r.category == "pc")
        .map(|r| r.os.into());
    // One pass for the brackets and for any byte that may be a control character: C0
    // controls and DEL are single bytes; C1 controls need a char scan, for non-ASCII only.
    let (opens, closes, maybe_control) =
        ua.bytes().fold((0usize, 0usize, false), |(o, c, m), b| {
            let m = m | !(0x20..0x7F).contains(&b);
            (o + usize::from(b == b'('), c + usize::from(b == b')'), m)
        });
    let control = maybe_control
        .then(|| ua.chars().enumerate().find(|(_, c)| c.is_control()))
        .flatten();
    let cut = ua.ends_with(['/', ';', '(', ',', ' ']);
    UaClass {
        control,
        maybe_truncated: opens > closes || cut || cut_at_a_limit(ua),
        library,
        bot,
        desktop,
        platform,
    }
}

/// Exactly a storage limit long and not ending with `)`. A version cut short still ends in a
/// digit, so only a closing comment proves the UA ended on its own.
pub(crate) fn cut_at_a_limit(ua: &str) -> bool {
    // A UA has no more characters than bytes: a short one is at no limit.
    let at_limit = ua.len() >= CUT_LENGTHS[0]
        && (CUT_LENGTHS.contains(&ua.len()) || CUT_LENGTHS.contains(&ua.chars().count()));
    at_limit && !ua.ends_with(')')
}

/// The mobile platform a UA names, alone: for a store link or a postback's platform, which
/// need no bot or library verdict.
pub fn platform_of(ua: &str) -> Option<Platform> {
    if ua.contains("Windows Phone") {
        return None;
    }
    // iPhone first: some iOS apps name Android in their own product token.
    // One search for what the three share, then which.
    if ua.contains("iP") && ["iPhone", "iPad", "iPod"].iter().any(|m| ua.contains(m)) {
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

    #[test]
    fn marks_are_words_not_substrings() {
        let bot = |ua| classify_ua(ua).bot.map(|b| b.name.to_string());
        assert_eq!(
            bot("Mozilla/5.0 (compatible; AspiegelBot)").as_deref(),
            Some("AspiegelBot")
        );
        assert!(bot("Mozilla/5.0 (compatible; Googlebot/2.1)").is_some());
        assert_eq!(
            bot("Mozilla/5.0 (Linux; Android 10; CUBOT; P60; wv) Instagram 300.0"),
            None
        );
        assert_eq!(bot("MsnBot-Media/1.1").as_deref(), Some("MsnBot-Media"));
        assert_eq!(bot("${jndi:ldap://x/a}").as_deref(), Some("${"));
        assert_eq!(
            bot("Foo/1.0 (jdoe@example.com)").as_deref(),
            Some("jdoe@example.com")
        );
        assert_eq!(
            bot("Foo/1.0 (+https://example.com/about)").as_deref(),
            Some("https://example.com/about")
        );
        assert_eq!(
            bot("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) Safari/605.1.15 (Ecosia ios@11.0.2.2268)"),
            None
        );
        assert_eq!(
            bot("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/120.0").as_deref(),
            Some("HeadlessChrome")
        );
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
