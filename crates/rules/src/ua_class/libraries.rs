//! HTTP client libraries and tools, by their product tokens.
//!
//! A library's token first in the UA is the library's own UA. Further in, it is one only when
//! nothing in the UA names a device: `W3C-checklink/4.81 libwww-perl/5.836` is a library, while
//! `MyApp/3.1 (Android 14; Pixel 8) okhttp/4.12.0` is an app on a phone that names its client.

/// Product tokens (compared without case) and the library's name. `Python/` is listed for
/// `Python/3.x aiohttp/3.x`. Dalvik and CFNetwork are absent on purpose: they are what apps on
/// a device send.
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
    ("java-http-client", "Java-http-client (java.net.http)"),
    ("jersey", "Jersey (Java)"),
    ("apache-httpclient", "Apache-HttpClient"),
    ("jakarta commons-httpclient", "Jakarta Commons-HttpClient"),
    ("grpc-java-okhttp", "grpc-java"),
    ("grpc-java-netty", "grpc-java"),
    ("grpc-go", "grpc-go"),
    ("grpc-c", "grpc (C core)"),
    ("restsharp", "RestSharp (.NET)"),
    ("axios", "axios"),
    ("node-fetch", "node-fetch"),
    ("undici", "undici (Node.js fetch)"),
    ("node", "Node.js"),
    ("got", "got (Node.js)"),
    ("guzzle", "Guzzle"),
    ("guzzlehttp", "GuzzleHttp"),
    ("php", "PHP"),
    ("libwww-perl", "libwww-perl"),
    ("lwp-trivial", "libwww-perl"),
    ("reqwest", "reqwest"),
    ("hyper", "hyper (Rust)"),
    ("postmanruntime", "PostmanRuntime"),
    ("httpie", "HTTPie"),
    ("ruby", "Ruby (Net::HTTP)"),
    ("faraday", "Faraday"),
    ("dart", "Dart (dart:io)"),
    ("ahc", "AsyncHttpClient (Java)"),
    (
        "yandexmetrika",
        "YandexMetrika (AppMetrica's own postback agent)",
    ),
];

/// The library whose token starts `ua` (with the first token's version cut off).
pub(super) fn first(ua: &str) -> Option<&'static str> {
    let token_end = ua
        .bytes()
        .position(|b| matches!(b, b'/' | b' ' | b';' | b'(' | b','))
        .unwrap_or(ua.len());
    let token = &ua[..token_end];
    if token.eq_ignore_ascii_case("go") && ua.contains("package http") {
        return Some("Go (net/http)");
    }
    if token.eq_ignore_ascii_case("jakarta") {
        return named("jakarta commons-httpclient");
    }
    if token.eq_ignore_ascii_case("python") && ua.to_ascii_lowercase().contains("aiohttp") {
        return Some("aiohttp");
    }
    named(token)
}

/// Bytes that end a word of a UA.
fn separates(b: u8) -> bool {
    matches!(b, b' ' | b'(' | b')' | b';' | b',')
}

/// A library's token anywhere after the first word, as `Name/version`: found from each `/`
/// followed by a digit, the word before it read back to a separator. Only the first `/` of a
/// word counts, so `a/b/1` is `a` at version `b/1`, not a product `a/b`.
pub(super) fn later(ua: &str) -> Option<&'static str> {
    let b = ua.as_bytes();
    memchr::memchr_iter(b'/', b)
        .filter(|&slash| b.get(slash + 1).is_some_and(u8::is_ascii_digit))
        .find_map(|slash| {
            let start = b[..slash]
                .iter()
                .rposition(|&c| separates(c) || c == b'/')
                .map_or(0, |at| at + 1);
            let first_slash_of_a_later_word = start > 0 && b[start - 1] != b'/';
            first_slash_of_a_later_word
                .then(|| named(&ua[start..slash]))
                .flatten()
        })
}

fn named(token: &str) -> Option<&'static str> {
    LIBRARIES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(token))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::{later, named};

    /// The plain reading: split into words, skip the first, take each `name/digit...`.
    fn by_words(ua: &str) -> Option<&'static str> {
        ua.split([' ', '(', ')', ';', ','])
            .skip(1)
            .filter_map(|w| w.split_once('/'))
            .filter(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()))
            .find_map(|(name, _)| named(name))
    }

    #[test]
    fn finds_a_later_library_token() {
        assert_eq!(
            later("W3C-checklink/4.81 libwww-perl/5.836"),
            Some("libwww-perl")
        );
        assert_eq!(later("curl/8.5.0"), None, "the first word is first's");
        assert_eq!(later("App/1 (x) okhttp/4.12.0"), Some("okhttp"));
        assert_eq!(later("App/1 x/curl/8"), None, "only a word's first '/'");
    }

    proptest::proptest! {
        #[test]
        fn reads_as_splitting_into_words_does(ua in "(curl|okhttp|php|x|/|[0-9]|[ ();,]|é){0,16}") {
            proptest::prop_assert_eq!(later(&ua), by_words(&ua));
        }
    }
}
