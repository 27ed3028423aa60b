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
    let token_end = ua.find(['/', ' ', ';', '(', ',']).unwrap_or(ua.len());
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

/// A library's token anywhere after the first, as `Name/version`.
pub(super) fn later(ua: &str) -> Option<&'static str> {
    ua.split([' ', '(', ')', ';', ','])
        .skip(1)
        .filter_map(|w| w.split_once('/'))
        .filter(|(_, v)| v.starts_with(|c: char| c.is_ascii_digit()))
        .find_map(|(name, _)| named(name))
}

fn named(token: &str) -> Option<&'static str> {
    LIBRARIES
        .iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(token))
        .map(|(_, name)| *name)
}
