//! The catalogue entries. Order is documentation order; `Code::ALL` follows it.
//!
//! Templates: `{value}` is the offending value, quoted and escaped; `{param}` the parameter's
//! name as sent (quoted when user-controlled). Other names are rule-specific arguments that the
//! checks in `checks/` supply.

use super::rule::Severity::{Error, Info, Warning};
use super::rule::{Group, Rule, SeverityPolicy};

const fn rule(code: &'static str, group: Group, severity: SeverityPolicy) -> Rule {
    Rule {
        code,
        group,
        severity,
        param: None,
        when: "",
        message: "",
        hint: "",
        why: "",
        bad: "",
        good: "",
        stateless: true,
    }
}

use Group::*;
use SeverityPolicy::{
    ErrorOnFingerprint, ErrorOnRequired, ErrorWhenValuesDiffer, Fixed, Recommended,
};

catalogue! {
    NotAUrl => Rule {
        when: "the input line is not a URL, a request target or an HTTP request line",
        message: "cannot read {value} as a tracking request: {reason}",
        hint: "give a full URL (https://redirect.appmetrica.yandex.com/serve/ID?...), the same without the scheme, a request target (/serve/ID?...) or a request line (GET /serve/ID?... HTTP/1.1)",
        why: "metrica-s2s can only judge what it can read as a request; a line it cannot read is reported, never skipped silently. This code is a metrica-s2s extension to AppMetrica's documented behaviour.",
        bad: "device_ip=203.0.113.7&device_ua=Mozilla",
        good: "redirect.appmetrica.yandex.com/serve/1234567890123456789?device_ip=203.0.113.7&...",
        ..rule("not-a-url", Request, Fixed(Error))
    },
    UnknownEndpoint => Rule {
        when: "the path is not `/serve/<tracking id>` (404)",
        message: "path {value} is not an S2S endpoint: AppMetrica only serves /serve/<tracking id>",
        hint: "send the request to /serve/<tracking id>, the path of the tracking URL AppMetrica gave you",
        why: "AppMetrica answers any other path with 404 and records nothing: the click or impression is lost.",
        bad: "https://redirect.appmetrica.yandex.com/click/1234567890123456789?device_ip=...",
        good: "https://redirect.appmetrica.yandex.com/serve/1234567890123456789?device_ip=...",
        ..rule("unknown-endpoint", Request, Fixed(Error))
    },
    MethodNotAllowed => Rule {
        when: "the method is not GET (405)",
        message: "method {value} is not allowed: the S2S endpoints answer GET only",
        hint: "send the tracking call as GET with every parameter in the query string, not in a body",
        why: "The documented S2S call is a GET of the tracking URL; other methods are not counted.",
        bad: "POST /serve/1234567890123456789 HTTP/1.1",
        good: "GET /serve/1234567890123456789?device_ip=...&device_ua=...&click_timestamp=... HTTP/1.1",
        ..rule("method-not-allowed", Request, Fixed(Error))
    },
    TrackingIdInvalid => Rule {
        when: "the tracking id is not 1-20 decimal digits, or is above the u64 range",
        message: "tracking id {value} is not a numeric AppMetrica tracker id: {reason}",
        hint: "{fix}",
        why: "AppMetrica tracker ids are unsigned 64-bit decimal numbers (17-19 digits in practice); anything else matches no tracker, so the event is attributed to nothing.",
        bad: "/serve/TRACKING_ID?device_ip=...",
        good: "/serve/1234567890123456789?device_ip=...",
        ..rule("tracking-id-invalid", Request, Fixed(Error))
    },
    TrackingIdUnknown => Rule {
        when: "trackers are configured, unknown ones are not allowed, and this one is unknown (404)",
        message: "tracking id {value} is not one of the configured trackers",
        hint: "use a tracking id from the tracker file, or add this tracker to it",
        why: "A request for a tracker that does not exist is answered 404 and counted nowhere.",
        bad: "/serve/999 (with a tracker file that lists only 1234567890123456789)",
        good: "/serve/1234567890123456789",
        ..rule("tracking-id-unknown", Request, Fixed(Error))
    },

    MissingParam => Rule {
        when: "device_ip, device_ua or click_timestamp is absent (one diagnostic per missing param)",
        message: "required parameter {param} is missing",
        hint: "{fix}",
        why: "AppMetrica needs the device's IP, its User-Agent and the event time to attribute by fingerprint; without any one of them the event cannot be matched to an install.",
        bad: "/serve/1234567890123456789?device_ip=203.0.113.7&click_timestamp=1764324000",
        good: "/serve/1234567890123456789?device_ip=203.0.113.7&device_ua=Mozilla%2F5.0%20...&click_timestamp=1764324000",
        ..rule("missing-param", Encoding, Fixed(Error))
    },
    EmptyParam => Rule {
        when: "a required param is present with an empty value",
        message: "required parameter {param} is present but empty",
        hint: "fill {param} with the device's value; an empty value usually means the variable that should hold it was never set",
        why: "An empty value is as useless to attribution as a missing one, and usually means a template variable was empty.",
        bad: "device_ua=&device_ip=203.0.113.7",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014)...&device_ip=203.0.113.7",
        ..rule("empty-param", Encoding, Fixed(Error))
    },
    DuplicateParam => Rule {
        when: "a key repeats with different values (error) or the same value (warning)",
        message: "parameter {param} appears {count} times{values}",
        hint: "send each parameter once; a repeat usually comes from appending to a URL that already carried it",
        why: "Which of two values a server keeps is undefined, so a repeated key with different values can attribute the event to the wrong device or time.",
        bad: "click_id=1&device_ip=203.0.113.7&click_id=2",
        good: "click_id=1&device_ip=203.0.113.7",
        ..rule("duplicate-param", Encoding, ErrorWhenValuesDiffer)
    },
    ParamAlias => Rule {
        when: "a spelling the docs also use but the tracking URL spec does not: `idfa` (ios_ifa), `google-aid` (google_aid), `no_redirect` (noredirect)",
        message: "parameter {param} is a documentation alias of {canonical}",
        hint: "rename {param} to {canonical}, the spelling of AppMetrica's tracking URL specification",
        why: "The S2S page shows these spellings, but the tracking URL specification (and postback macros) use the canonical ones; only those are sure to be read.",
        bad: "idfa=6D92078A-8246-4BA4-AE5B-76104861E7DC",
        good: "ios_ifa=6D92078A-8246-4BA4-AE5B-76104861E7DC",
        ..rule("param-alias", Encoding, Fixed(Warning))
    },
    ParamTypo => Rule {
        when: "an unknown key close to a known one (edit distance <= 2, or a case difference): `click_timestmp`, `Device_UA`; the hint names the intended key",
        message: "parameter {param} is not a known parameter; did you mean {intended}?",
        hint: "rename {param} to {intended}: keys are case-sensitive and AppMetrica ignores unknown ones",
        why: "AppMetrica treats an unknown key as a custom parameter, so a misspelt required key is as good as missing.",
        bad: "click_timestmp=1764324000",
        good: "click_timestamp=1764324000",
        ..rule("param-typo", Encoding, Fixed(Warning))
    },
    UnsubstitutedMacro => Rule {
        when: "the value is a template placeholder left unfilled: `{device_ua}`, `{{ip}}`, `${ts}`, `[UA]`, `__IP__`, `%%TS%%`, `#UA#`, ValueTrack's `{ifmobile:x}`, or a format string never formatted: printf's `%s`/`%d`, `String.format`'s `{0}` (also when it arrives percent-encoded)",
        message: "{param} holds the unfilled template placeholder {value}",
        hint: "{fix}",
        why: "A literal placeholder is not a value: the device cannot be matched, and every request carries the same fake value.",
        bad: "device_ua={user_agent}",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)...",
        ..rule("unsubstituted-macro", Encoding, ErrorOnRequired)
    },
    PlaceholderValue => Rule {
        when: "the value is what a program prints for a missing value or a whole object, a serialisation accident: `null`, `undefined`, `None`, `nil`, `NaN`, `unknown`, `-`, `N/A`, `(null)`, JavaScript's `[object Object]`, Python's `<... object at 0x...>`, Java's `com.example.Click@1b6d3586`",
        message: "{param} holds {value}, {cause}, not a real value",
        hint: "{fix}",
        why: "String-formatting a missing value prints null/None/undefined, and an object passed where one field was meant prints [object Object]; AppMetrica then receives that text as if it were the device's data, and other checks would misread it (an IP list, a broken UA).",
        bad: "device_ip=%5Bobject%20Object%5D",
        good: "device_ip=203.0.113.7",
        ..rule("placeholder-value", Encoding, ErrorOnRequired)
    },
    InvalidPercentEncoding => Rule {
        when: "`%` not followed by two hex digits",
        message: "{param} has a broken percent-escape {escape} in {value}",
        hint: "percent-encode the value with a URL-encoding function (a literal % must be sent as %25); hand-built escapes are usually the cause",
        why: "A broken escape makes the decoded value undefined: servers drop it, keep it literally or reject the request.",
        bad: "device_ua=Mozilla%2F5.0%2(Linux",
        good: "device_ua=Mozilla%2F5.0%20(Linux",
        ..rule("invalid-percent-encoding", Encoding, Fixed(Error))
    },
    InvalidUtf8 => Rule {
        when: "the percent-decoded bytes are not UTF-8 (e.g. a Cyrillic device model sent in CP1251)",
        message: "{param} does not decode to UTF-8: bytes {bytes} in {value}",
        hint: "{fix}",
        why: "AppMetrica reads parameters as UTF-8; other encodings turn the device model into garbage and break fingerprint matching.",
        bad: "device_ua=...%3B%20%D2%E5%EB%E5%F4%EE%ED)",
        good: "device_ua=...%3B%20%D0%A2%D0%B5%D0%BB%D0%B5%D1%84%D0%BE%D0%BD)",
        ..rule("invalid-utf8", Encoding, Fixed(Error))
    },
    DoubleEncoded => Rule {
        when: "the value was encoded twice: once decoded it still holds `%XX` escapes of characters that needed encoding (`%2520`, `%253B`)",
        message: "{param} is percent-encoded twice: after decoding it still holds {escape} in {value}",
        hint: "encode {param} exactly once: the value was probably encoded, then the whole URL encoded again",
        why: "AppMetrica decodes once, so a doubly encoded User-Agent arrives as `Mozilla%2F5.0%20...` and matches no device.",
        bad: "device_ua=Mozilla%252F5.0%2520(Linux%253B%2520Android%252014)",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014)",
        ..rule("double-encoded", Encoding, ErrorOnFingerprint)
    },
    UnencodedCharacter => Rule {
        when: "the raw value holds characters a query may not carry unencoded: space, `\"`, `<`, `>`, `\\`, `^`, backtick, `{`, `|`, `}`, `#`, control characters, bytes >= 0x80 (`( ) ; , / : @ ! $ ' *` are legal raw)",
        message: "{param} carries {what} unencoded in {value}",
        hint: "percent-encode the whole value (space as %20, non-ASCII as UTF-8 %XX); {consequence}",
        why: "HTTP clients and proxies reject, truncate or re-encode such characters differently, so what arrives is not what was sent; a raw `#` ends the query, and everything after it is never sent.",
        bad: "device_ua=Mozilla/5.0 (Linux; Android 14)",
        good: "device_ua=Mozilla/5.0%20(Linux;%20Android%2014)",
        ..rule("unencoded-character", Encoding, Fixed(Warning))
    },
    AmbiguousPlus => Rule {
        when: "device_ua mixes `+` and `%20`: the `+` were probably literal plus signs, now decoded as spaces",
        message: "device_ua mixes '+' with %20 in {value}: the '+' will be read as spaces",
        hint: "encode a literal '+' as %2B (and spaces as %20); the UA was probably encoded by a function that leaves '+' alone",
        why: "In a query string '+' means space, so a UA such as `Foo+Bar/1.0` arrives as `Foo Bar/1.0`, a different device fingerprint.",
        bad: "device_ua=Mozilla%2F5.0%20(Linux%3B%20U)%20App+Extra%2F1.0",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20U)%20App%2BExtra%2F1.0",
        param: Some("device_ua"),
        ..rule("ambiguous-plus", Encoding, Fixed(Warning))
    },

    IpInvalid => Rule {
        when: "not an IPv4 or IPv6 address",
        message: "device_ip {value} is not an IPv4 or IPv6 address",
        hint: "send the device's address as dotted IPv4 (203.0.113.7) or IPv6 (2001:db8::7), taken from the user's connection",
        why: "The IP is half of the fingerprint AppMetrica matches installs with; an unreadable one makes fingerprint attribution impossible.",
        bad: "device_ip=203.0.113",
        good: "device_ip=203.0.113.7",
        param: Some("device_ip"),
        ..rule("ip-invalid", DeviceIp, Fixed(Error))
    },
    IpWithPort => Rule {
        when: "an address with a port: `203.0.113.7:51234`, `[2001:db8::1]:443`",
        message: "device_ip {value} carries a port ({port})",
        hint: "send only the address: device_ip={address}; the port was probably copied from the socket's peer address",
        why: "A port is not part of the device's identity and makes the value unreadable as an address.",
        bad: "device_ip=203.0.113.7:51234",
        good: "device_ip=203.0.113.7",
        param: Some("device_ip"),
        ..rule("ip-with-port", DeviceIp, Fixed(Error))
    },
    IpList => Rule {
        when: "several addresses, as copied from X-Forwarded-For: `203.0.113.7, 10.0.0.1`",
        message: "device_ip {value} holds {count} addresses, as in an X-Forwarded-For header",
        hint: "send one address: the client's, usually the first public one in X-Forwarded-For ({first})",
        why: "AppMetrica expects the single address of the user's device; a list matches nothing.",
        bad: "device_ip=203.0.113.7,%2010.0.0.1",
        good: "device_ip=203.0.113.7",
        param: Some("device_ip"),
        ..rule("ip-list", DeviceIp, Fixed(Error))
    },
    IpLeadingZeros => Rule {
        when: "an IPv4 octet with a leading zero (`010.1.2.3`: octal or decimal?)",
        message: "device_ip {value} has an octet with a leading zero",
        hint: "write each octet in plain decimal without leading zeros: {fixed}",
        why: "Some parsers read a leading zero as octal (010 = 8), others as decimal, so the address is ambiguous.",
        bad: "device_ip=203.000.113.007",
        good: "device_ip=203.0.113.7",
        param: Some("device_ip"),
        ..rule("ip-leading-zeros", DeviceIp, Fixed(Error))
    },
    IpBracketed => Rule {
        when: "an IPv6 address in URI brackets: `[2001:db8::1]` is URL syntax, not an address",
        message: "device_ip {value} is an IPv6 address in URL brackets",
        hint: "drop the brackets: device_ip={address}",
        why: "Brackets belong to URL authority syntax; the bracketed text does not parse as an address.",
        bad: "device_ip=[2001:db8::1]",
        good: "device_ip=2001:db8::1",
        param: Some("device_ip"),
        ..rule("ip-bracketed", DeviceIp, Fixed(Error))
    },
    IpZone => Rule {
        when: "an IPv6 zone id: `fe80::1%eth0` names a local interface, never a device's public address",
        message: "device_ip {value} carries an IPv6 zone id ({zone})",
        hint: "send the device's public address; a zone id means the value is a link-local address of the ad server's own host",
        why: "A zone id only has meaning on the machine that wrote it; AppMetrica cannot match it to any device.",
        bad: "device_ip=fe80::1%25eth0",
        good: "device_ip=2001:db8::7",
        param: Some("device_ip"),
        ..rule("ip-zone", DeviceIp, Fixed(Error))
    },
    IpNetwork => Rule {
        when: "a network in CIDR form, as in the documentation example `192.0.2.0/24`: one address was meant",
        message: "device_ip {value} is a network ({size}), not one device's address{note}",
        hint: "send the single address of the user's device, without a /prefix; the documentation's 192.0.2.0/24 is only a placeholder",
        why: "AppMetrica's own example shows a network, but attribution matches one address; a network will match no install, or the wrong one.",
        bad: "device_ip=192.0.2.0/24",
        good: "device_ip=203.0.113.7",
        param: Some("device_ip"),
        ..rule("ip-network", DeviceIp, Fixed(Warning))
    },
    IpNotPublic => Rule {
        when: "loopback, private (RFC 1918), CGNAT 100.64/10, link-local, unique-local fc00::/7, unspecified, multicast, broadcast, reserved: likely the ad server's or a proxy's own address",
        message: "device_ip {value} is a {range} address, not a device's public address",
        hint: "send the address the user's device connected from (the client address seen by your edge, or the first public X-Forwarded-For entry), not your server's or proxy's",
        why: "Installs are seen from the device's public address; a private or reserved one matches nothing, or lumps every user behind one proxy together.",
        bad: "device_ip=10.0.0.12",
        good: "device_ip=203.0.113.7",
        param: Some("device_ip"),
        ..rule("ip-not-public", DeviceIp, Fixed(Warning))
    },
    IpDocumentation => Rule {
        when: "an RFC 5737 / RFC 3849 documentation address",
        message: "device_ip {value} is in a documentation range ({range})",
        hint: "fine in tests; in production this value means example data reached a real request",
        why: "Documentation ranges never appear on the internet, so real traffic with them means test data leaked.",
        bad: "device_ip=198.51.100.23 (in production)",
        good: "device_ip=<the device's real address>",
        param: Some("device_ip"),
        ..rule("ip-documentation", DeviceIp, Fixed(Info))
    },
    IpMapped => Rule {
        when: "an IPv4-mapped IPv6 address `::ffff:203.0.113.7`",
        message: "device_ip {value} is an IPv4-mapped IPv6 address (the device's IPv4 address is {v4})",
        hint: "accepted; sending the plain IPv4 form ({v4}) is clearer",
        why: "A dual-stack socket reports IPv4 clients this way; AppMetrica compares addresses, so it matches, but logs read more easily in plain IPv4.",
        bad: "device_ip=::ffff:203.0.113.7",
        good: "device_ip=203.0.113.7",
        param: Some("device_ip"),
        ..rule("ip-mapped", DeviceIp, Fixed(Info))
    },

    UaControlChars => Rule {
        when: "CR, LF, TAB, NUL or another control character after decoding",
        message: "device_ua holds the control character {char} at offset {offset} in {value}",
        hint: "send the User-Agent header exactly as the device sent it; a control character means it was assembled or logged and re-read wrongly (CRLF points at a captured header line)",
        why: "No real User-Agent holds control characters; they break logs and can be used for header injection downstream.",
        bad: "device_ua=Mozilla%2F5.0%0D%0A",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014)",
        param: Some("device_ua"),
        ..rule("ua-control-chars", DeviceUa, Fixed(Error))
    },
    UaServerClient => Rule {
        when: "the User-Agent of an HTTP library or server, not a device: okhttp, Go-http-client, python-requests, Python-urllib, aiohttp, curl, Wget, Java/, Java-http-client, Jersey, Apache-HttpClient, grpc, RestSharp, axios, node-fetch, undici, got, Guzzle, GuzzleHttp, PHP, libwww-perl, reqwest, PostmanRuntime, HTTPie, Ruby, Faraday, Dart, and AppMetrica's own postback agent YandexMetrika; first in the UA, or anywhere when nothing in it names a device (Dalvik/... and CFNetwork/... Darwin/... are in-app device UAs, and an app on a phone that names its okhttp is fine)",
        message: "device_ua {value} is the User-Agent of the HTTP library {library}, not of the user's device",
        hint: "pass the User-Agent header of the user's click request into device_ua; your server's own HTTP client UA was sent instead",
        why: "AppMetrica matches the install by the device's UA; the ad server's library UA is the same for every user and matches none.",
        bad: "device_ua=okhttp%2F4.12.0",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36...",
        param: Some("device_ua"),
        ..rule("ua-server-client", DeviceUa, Fixed(Error))
    },
    UaBot => Rule {
        when: "a crawler, monitor, scanner, link previewer, headless browser or other automated client (AppMetrica does not count bot clicks): by the maintained crawler-user-agents list and by the marks such clients leave (a name ending in bot, crawler, spider, headless, a URL or e-mail address for site owners)",
        message: "device_ua {value} is {kind}, not a person's device: it carries {name}",
        hint: "AppMetrica does not count bot clicks; filter automated traffic (crawlers, uptime monitors, link previews) before sending, or check that the user's own User-Agent was passed through and not a fetcher's",
        why: "Clicks whose User-Agent marks a bot are not counted, so these requests are wasted and may signal fraud.",
        bad: "device_ua=Mozilla%2F5.0%20(compatible%3B%20Googlebot%2F2.1)",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)...",
        param: Some("device_ua"),
        ..rule("ua-bot", DeviceUa, Fixed(Warning))
    },
    UaTruncated => Rule {
        when: "unbalanced parentheses, or a UA that stops mid-token: cut by a length limit",
        message: "device_ua {value} looks truncated: {reason}",
        hint: "{fix}",
        why: "A cut User-Agent no longer equals the one the device sends from the app store, so fingerprint matching fails.",
        bad: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pix",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36",
        param: Some("device_ua"),
        ..rule("ua-truncated", DeviceUa, Fixed(Warning))
    },
    UaNotAUserAgent => Rule {
        when: "device_ua is no User-Agent at all: a placeholder word copied from documentation or sample code (`USER_AGENT`, `YOURMACRO`, `your_user_agent`), or text with no letters (`...`, `…`). A metrica-s2s extension",
        message: "device_ua {value} is not a User-Agent: {reason}",
        hint: "pass the User-Agent header of the user's click request; {fix}",
        why: "Fingerprint attribution matches the device's User-Agent; a word from a template or an ellipsis matches no device, and every click carries the same fake value.",
        bad: "device_ua=USER_AGENT",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)...",
        param: Some("device_ua"),
        ..rule("ua-not-a-user-agent", DeviceUa, Fixed(Error))
    },
    UaCutBySeparator => Rule {
        when: "device_ua was cut where the User-Agent held a raw `&` or `#` (the rest arrived as a stray parameter or as the URL fragment), or it swallowed the parameters after it because the sender separated them with `;`. A metrica-s2s extension",
        message: "device_ua {value} was cut at {separator}: {rest}",
        hint: "percent-encode the User-Agent as a value (encodeURIComponent, not encodeURI over the whole URL): '&' as %26, '#' as %23, ';' as %3B, and separate parameters with '&'",
        why: "A URL-encoding function meant for whole URLs leaves '&', '#' and ';' alone, so a User-Agent holding them (the Facebook app's `FBCR/AT&T`) is split: AppMetrica sees a shorter UA that matches no device.",
        bad: "device_ua=...FBCR/AT&T;FBID/phone;...]",
        good: "device_ua=...FBCR%2FAT%26T%3BFBID%2Fphone%3B...%5D",
        param: Some("device_ua"),
        ..rule("ua-cut-by-separator", DeviceUa, Fixed(Error))
    },
    UaMojibake => Rule {
        when: "device_ua holds UTF-8 bytes read as Latin-1 or Windows-1252 on the way (`Ð¢ÐµÐ»` for `Тел`): mojibake. A metrica-s2s extension",
        message: "device_ua {value} holds UTF-8 read as {charset}: {sample} was {meant}",
        hint: "read the User-Agent header as UTF-8 (or as raw bytes) before percent-encoding it; a click server decoding headers as Latin-1 (Python's http.server does by default) turns each non-ASCII character into two",
        why: "The device sent its model name in UTF-8; read as Latin-1 and encoded again, every non-ASCII character becomes two, so the User-Agent matches no device.",
        bad: "device_ua=...%C3%90%C2%A2%C3%90%C2%B5%C3%90%C2%BB...",
        good: "device_ua=...%D0%A2%D0%B5%D0%BB...",
        param: Some("device_ua"),
        ..rule("ua-mojibake", DeviceUa, Fixed(Error))
    },
    UaNotMobile => Rule {
        when: "a desktop UA on a tracker for a mobile app",
        message: "device_ua {value} is a desktop browser ({os}), but trackers attribute mobile app installs",
        hint: "harmless if desktop traffic is expected; otherwise check that the mobile device's UA is passed, not one from a desktop test",
        why: "A desktop user cannot install the mobile app from this click, so such clicks never attribute.",
        bad: "device_ua=Mozilla%2F5.0%20(Windows%20NT%2010.0%3B%20Win64%3B%20x64)...",
        good: "device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)...",
        param: Some("device_ua"),
        ..rule("ua-not-mobile", DeviceUa, Fixed(Info))
    },
    DeviceIdPlatformMismatch => Rule {
        when: "ios_ifa with an Android UA; google_aid or oaid with an iOS UA; or a UA whose OS disagrees with the tracker's configured platform",
        message: "{param} {value} {reason}",
        hint: "{fix}",
        why: "Ids and UA describe one device; when they disagree, one of them belongs to another user or a different field was mapped.",
        bad: "ios_ifa=6D92078A-8246-4BA4-AE5B-76104861E7DC&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014)...",
        good: "google_aid=38400000-8cf0-11bd-b23e-10b96e40000d&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014)...",
        ..rule("device-id-platform-mismatch", DeviceUa, Fixed(Warning))
    },

    TimestampInvalid => Rule {
        when: "not a plain non-negative integer: `1453895044.5`, `2026-11-28T10:00:00Z`, `-5`, `0x56a8` (the hint recognises ISO 8601 and fractional seconds)",
        message: "click_timestamp {value} is not a whole number of seconds: {reason}",
        hint: "{fix}",
        why: "AppMetrica reads click_timestamp as UTC Unix seconds; anything else leaves the event without a time, and the 12-hour rule discards it.",
        bad: "click_timestamp=2026-11-28T10:00:00Z",
        good: "click_timestamp=1764324000",
        param: Some("click_timestamp"),
        ..rule("timestamp-invalid", Timestamp, Fixed(Error))
    },
    TimestampMilliseconds => Rule {
        when: "looks like milliseconds (13 digits, plausible once divided by 1000)",
        message: "click_timestamp {value} is in milliseconds ({seconds} in seconds, {datetime})",
        hint: "divide by 1000: click_timestamp={seconds} (Java's System.currentTimeMillis() and JavaScript's Date.now() give milliseconds)",
        why: "Read as seconds, a millisecond timestamp lies tens of thousands of years ahead, so the event is discarded.",
        bad: "click_timestamp=1764324000123",
        good: "click_timestamp=1764324000",
        param: Some("click_timestamp"),
        ..rule("timestamp-milliseconds", Timestamp, Fixed(Error))
    },
    TimestampMicroseconds => Rule {
        when: "looks like microseconds (16 digits)",
        message: "click_timestamp {value} is in microseconds ({seconds} in seconds, {datetime})",
        hint: "divide by 1,000,000: click_timestamp={seconds} (PHP's microtime and many database clocks give microseconds)",
        why: "Read as seconds, a microsecond timestamp is absurdly far in the future, so the event is discarded.",
        bad: "click_timestamp=1764324000123456",
        good: "click_timestamp=1764324000",
        param: Some("click_timestamp"),
        ..rule("timestamp-microseconds", Timestamp, Fixed(Error))
    },
    TimestampImplausible => Rule {
        when: "before 2010-01-01",
        message: "click_timestamp {value} is {datetime}, before 2010-01-01: not a real event time",
        hint: "send the Unix time of the click in seconds; a tiny value usually means a default of 0, or a duration instead of a point in time",
        why: "No S2S event predates AppMetrica; such a value is a default or a unit mistake, and the event is discarded.",
        bad: "click_timestamp=0",
        good: "click_timestamp=1764324000",
        param: Some("click_timestamp"),
        ..rule("timestamp-implausible", Timestamp, Fixed(Error))
    },
    TimestampInFuture => Rule {
        when: "later than now + 300 s",
        message: "click_timestamp {value} ({datetime}) is {skew} in the future{cause}",
        hint: "send the time the user clicked, in UTC Unix seconds; check the sender's clock (NTP) and time-zone handling",
        why: "An event cannot happen after it is reported; AppMetrica cannot use a future click for attribution.",
        bad: "click_timestamp=1764338400 (sent at 1764324000)",
        good: "click_timestamp=1764324000",
        param: Some("click_timestamp"),
        ..rule("timestamp-in-future", Timestamp, Fixed(Error))
    },
    TimestampTooOld => Rule {
        when: "older than 12 hours: AppMetrica ignores clicks and impressions sent later than that",
        message: "click_timestamp {value} ({datetime}) is {skew} old{cause}; AppMetrica ignores events sent more than {limit} after they happened",
        hint: "send the call within 12 hours of the event (a retry queue or batch job is probably holding requests back), and check the value is the event's own time",
        why: "AppMetrica only uses clicks and impressions sent no later than 12 hours after the event.",
        bad: "click_timestamp=1453895044 (the documentation's example, years old)",
        good: "click_timestamp=<the Unix time of the click, within the last 12 hours>",
        param: Some("click_timestamp"),
        ..rule("timestamp-too-old", Timestamp, Fixed(Error))
    },
    TimestampTimezoneOffset => Rule {
        when: "the skew from now is within 2 min of an offset some time zone has (whole hours from 1 to 14, and UTC-9:30, -3:30, -2:30, +3:30, +4:30, +5:30, +5:45, +6:30, +8:45, +9:30, +10:30, +12:45, +13:45) while the value is still inside the time limits: local time sent instead of UTC; the message names the offset (`UTC+3`). A skew several minutes off an offset is a delay, not a zone (an S2S call leaves seconds after the event); and a zone that pushes the value out of range is named in `timestamp-in-future` or `timestamp-too-old` instead, one diagnostic for one cause",
        message: "click_timestamp {value} is {skew} {direction} now, the offset of {zone}: local {zone} time was probably sent as UTC",
        hint: "compute the Unix time from a UTC clock (time(), Instant::now(), Date.now()/1000), not from a local date-time formatted and re-parsed",
        why: "A timestamp taken from local wall-clock time shifts every event by the zone offset, pushing clicks out of the attribution window or into the future.",
        bad: "click_timestamp=1764316800 (local UTC-2 time, sent at 1764324000)",
        good: "click_timestamp=1764324000",
        param: Some("click_timestamp"),
        ..rule("timestamp-timezone-offset", Timestamp, Fixed(Warning))
    },

    NoredirectInvalid => Rule {
        when: "a value other than empty, `0` or `1`",
        message: "{param} {value} is not 0 or 1",
        hint: "send noredirect=1 (or the bare flag &noredirect) for S2S calls",
        why: "AppMetrica documents only 0 and 1; another value leaves it to chance whether the call is counted as a redirect.",
        bad: "noredirect=true",
        good: "noredirect=1",
        ..rule("noredirect-invalid", Other, Fixed(Error))
    },
    NoredirectDisabled => Rule {
        when: "`noredirect=0` on a server-to-server call: the mock answers with a redirect to the store, which only a user's browser should follow",
        message: "{param}=0 asks for a redirect to the store on a server-to-server call",
        hint: "send noredirect=1 (the default) from your server, and send the user to the store yourself with referrer=appmetrica_click_id%3D<click_id>",
        why: "With noredirect=0 AppMetrica answers with a redirect meant for a browser; a server following it wastes a request and may count twice.",
        bad: "noredirect=0",
        good: "noredirect=1",
        ..rule("noredirect-disabled", Other, Fixed(Warning))
    },
    DeviceIdInvalid => Rule {
        when: "google_aid, ios_ifa, windows_aid not a UUID; oaid not a UUID or 16-64 hex digits; `*_sha1` not 40 hex digits; `*_md5` not 32 hex digits",
        message: "{param} {value} is not {expected}",
        hint: "{fix}",
        why: "A malformed advertising id cannot be matched to the device, and a hash of the wrong length was made over the wrong input or with the wrong algorithm.",
        bad: "google_aid=38400000-8cf0-11bd-b23e",
        good: "google_aid=38400000-8cf0-11bd-b23e-10b96e40000d",
        ..rule("device-id-invalid", Other, Fixed(Error))
    },
    DeviceIdZero => Rule {
        when: "an all-zero advertising id (limited ad tracking): not usable for matching",
        message: "{param} {value} is all zeros: the user has limited ad tracking",
        hint: "harmless: AppMetrica falls back to fingerprint matching; you may leave the parameter out instead",
        why: "Devices that opt out of ad tracking report a zeroed id; it identifies no one.",
        bad: "google_aid=00000000-0000-0000-0000-000000000000",
        good: "(leave google_aid out)",
        ..rule("device-id-zero", Other, Fixed(Info))
    },
    ClickIdMissing => Rule {
        when: "neither click_id nor external_click_id: no deduplication, and postbacks cannot be matched",
        message: "{reason}",
        hint: "send your own id for the event as click_id (e.g. click_id={transaction_id}); postbacks return it so you can match conversions",
        why: "AppMetrica deduplicates by click_id and echoes it in postbacks; without it repeats are counted twice and conversions cannot be tied to your click.",
        bad: "/serve/1234567890123456789?device_ip=...&device_ua=...&click_timestamp=...",
        good: "/serve/1234567890123456789?click_id=c-8f14e45f&device_ip=...&device_ua=...&click_timestamp=...",
        param: Some("click_id"),
        ..rule("click-id-missing", Other, Fixed(Warning))
    },
    ClickIdDuplicate => Rule {
        when: "the mock has seen this click_id on this tracker within 7 days: AppMetrica drops it",
        message: "click_id {value} was already seen on tracker {tracking_id} {ago} ago ({first})",
        hint: "give every click its own click_id; a repeat within 7 days on one tracker is dropped, so a retry loop or a constant id loses events",
        why: "AppMetrica deduplicates clicks by click_id per tracker over 7 days.",
        bad: "two calls with click_id=42 on one tracker within 7 days",
        good: "click_id=42 then click_id=43",
        param: Some("click_id"),
        stateless: false,
        ..rule("click-id-duplicate", Other, Fixed(Warning))
    },

    NoRequest => Rule {
        when: "nothing arrived for the scenario before its timeout",
        message: "no request arrived for scenario {scenario} within {timeout}",
        hint: "check that the integration sends the S2S call for this event to the URL it was given, and that it does not fail silently",
        why: "An event that is never reported cannot be attributed.",
        bad: "the partner command exits 0 without calling S2S_CLICK_URL",
        good: "the partner command sends GET $S2S_CLICK_URL?... and waits for 204",
        stateless: false,
        ..rule("no-request", Conformance, Fixed(Error))
    },
    DuplicateEvent => Rule {
        when: "more requests arrived than the scenario caused",
        message: "{count} requests arrived for scenario {scenario}; it caused {expected}",
        hint: "send each event once; look for retries without deduplication or one call per redirect hop",
        why: "Duplicates inflate counts, and AppMetrica drops repeats of a click_id, so retries hide real problems.",
        bad: "two GETs for one click",
        good: "one GET per click",
        stateless: false,
        ..rule("duplicate-event", Conformance, Fixed(Error))
    },
    WrongEndpoint => Rule {
        when: "a click arrived at the impression endpoint, or an impression at the click endpoint",
        message: "the {event} arrived at the {endpoint} endpoint",
        hint: "send clicks to redirect.appmetrica.yandex.com and impressions to impression.appmetrica.yandex.com",
        why: "Clicks and impressions have different attribution windows and weight; a swapped endpoint mis-attributes.",
        bad: "a click sent to impression.appmetrica.yandex.com/serve/...",
        good: "a click sent to redirect.appmetrica.yandex.com/serve/...",
        stateless: false,
        ..rule("wrong-endpoint", Conformance, Fixed(Error))
    },
    WrongTrackingId => Rule {
        when: "the path carries another tracker than the scenario's",
        message: "the request went to tracker {actual}, the scenario's tracker is {expected}",
        hint: "use the tracking id of the campaign the user clicked; a hard-coded or cached id was sent",
        why: "The event is attributed to another tracker, so another campaign gets the install.",
        bad: "/serve/1111111111111111111 for a click on tracker 1234567890123456789",
        good: "/serve/1234567890123456789",
        stateless: false,
        ..rule("wrong-tracking-id", Conformance, Fixed(Error))
    },
    IpMismatch => Rule {
        when: "device_ip, parsed, is not the device's address (compared as addresses: `::ffff:` mapping and IPv6 spelling do not count)",
        message: "device_ip is {actual}, the device's address is {expected}",
        hint: "pass the address of the user's click request; {cause}",
        why: "Fingerprint attribution compares this address with the installing device's; another address matches another user or no one.",
        bad: "device_ip=10.0.0.5 for a device at 203.0.113.7",
        good: "device_ip=203.0.113.7",
        param: Some("device_ip"),
        stateless: false,
        ..rule("ip-mismatch", Conformance, Fixed(Error))
    },
    UaMismatch => Rule {
        when: "device_ua, decoded, is not the device's UA; the message names the likely cause: truncated at N characters, `+` decoded as spaces, still percent-encoded, the sender's own UA, case or whitespace changed, a different encoding",
        message: "device_ua differs from the device's User-Agent: {cause}",
        hint: "{fix}",
        why: "Fingerprint attribution compares the UA exactly; any change makes the install unmatched.",
        bad: "device_ua cut at 255 characters",
        good: "device_ua carrying the device's User-Agent byte for byte",
        param: Some("device_ua"),
        stateless: false,
        ..rule("ua-mismatch", Conformance, Fixed(Error))
    },
    TimestampSkew => Rule {
        when: "click_timestamp differs from the event time by more than the tolerance (default 60 s)",
        message: "click_timestamp is {actual}, the event happened at {expected}: {skew} {direction}{cause}",
        hint: "send the time of the user's click in UTC Unix seconds, not the time the request is sent",
        why: "Fingerprint attribution windows are measured from this time; a wrong one moves the event in or out of a window.",
        bad: "click_timestamp = time the batch job ran",
        good: "click_timestamp = time the user clicked",
        param: Some("click_timestamp"),
        stateless: false,
        ..rule("timestamp-skew", Conformance, Fixed(Error))
    },
    ClickIdMismatch => Rule {
        when: "click_id missing or not the one the scenario supplied",
        message: "click_id is {actual}, the scenario supplied {expected}",
        hint: "pass your click's id through unchanged as click_id",
        why: "Postbacks carry click_id back; a wrong one ties conversions to the wrong click.",
        bad: "click_id=1 for every click",
        good: "click_id=<the click's own id>",
        param: Some("click_id"),
        stateless: false,
        ..rule("click-id-mismatch", Conformance, Fixed(Error))
    },
    DeviceIdMismatch => Rule {
        when: "a device id the scenario supplied is missing or changed",
        message: "{param} is {actual}, the device's id is {expected}",
        hint: "pass the advertising id exactly as the device reported it (same case and dashes), and do not drop it",
        why: "Identifier matching is the most exact attribution; a changed or missing id falls back to fingerprinting.",
        bad: "google_aid missing although the device reported one",
        good: "google_aid=38400000-8cf0-11bd-b23e-10b96e40000d",
        stateless: false,
        ..rule("device-id-mismatch", Conformance, Fixed(Error))
    },
    RedirectNotDirect => Rule {
        when: "click-through driver: the user was not sent straight to the store (no 3xx to a store URL, or sent via the tracking URL)",
        message: "the click answered {actual}, not a redirect straight to the store",
        hint: "answer the user's click with a 302 to the store URL and send the S2S call from your server",
        why: "S2S integration exists so the user goes straight to the store; an extra hop costs conversions.",
        bad: "302 Location: https://redirect.appmetrica.yandex.com/serve/...",
        good: "302 Location: https://play.google.com/store/apps/details?id=...&referrer=appmetrica_click_id%3D...",
        stateless: false,
        ..rule("redirect-not-direct", Conformance, Fixed(Error))
    },
    ReferrerMissing => Rule {
        when: "click-through driver: the store URL lacks `referrer=appmetrica_click_id%3D<click_id>`",
        message: "the store URL {actual} lacks referrer=appmetrica_click_id%3D{expected}",
        hint: "append referrer=appmetrica_click_id%3D<click_id> to the store URL so AppMetrica can attribute by referrer",
        why: "Referrer attribution is exact on Google Play; without it the install falls back to fingerprinting.",
        bad: "https://play.google.com/store/apps/details?id=com.example",
        good: "https://play.google.com/store/apps/details?id=com.example&referrer=appmetrica_click_id%3D42",
        stateless: false,
        ..rule("referrer-missing", Conformance, Fixed(Warning))
    },
    DriverFailed => Rule {
        when: "the partner command exited non-zero, or its click URL answered an error",
        message: "the driver failed: {reason}",
        hint: "run the partner command by hand with the scenario's environment and read its output",
        why: "When the integration itself fails, nothing about its requests can be trusted.",
        bad: "exit status 1",
        good: "exit status 0",
        stateless: false,
        ..rule("driver-failed", Conformance, Fixed(Error))
    },
    PostbackStatus => Rule {
        when: "the partner's postback receiver answered other than 2xx: AppMetrica counts it as a failed delivery under either of its pages and repeats the postback for 24 hours (a 2xx other than 200 is `postback-status-not-200`)",
        message: "the postback receiver answered {status} to {method} {url}: {cause}",
        hint: "answer every postback you accept with 200 (an empty body will do); {fix}",
        why: "Under both of AppMetrica's pages on postbacks, an answer outside 2xx is a failed delivery, sent again every 3 minutes (or every 5-10) for 24 hours: a receiver answering 4xx or 5xx gets each conversion again and again, and may never count it.",
        bad: "HTTP/1.1 500 Internal Server Error",
        good: "HTTP/1.1 200 OK",
        stateless: false,
        ..rule("postback-status", Conformance, Fixed(Error))
    },
    PostbackMacroUnknown => Rule {
        when: "a postback template (the tracker file's, one set through the admin API, or a partner's `[postback]` in conformance) uses a macro AppMetrica does not document (a typo, or a mock-only name such as `{event_timestamp}`): it is filled only when the click carried a parameter of that name, and arrives empty otherwise",
        message: "{template}: {detail}",
        hint: "write the macro as AppMetrica's postback specification page names it (docs/postbacks.md lists them), or make sure the tracking URL carries a parameter of that name",
        why: "AppMetrica fills a macro it does not know from the tracking URL's parameters, else leaves it empty: a misspelt {click_id} passes every local test and arrives empty in production.",
        bad: "url = \"https://n.example/pb?ts={event_timestamp}\"",
        good: "url = \"https://n.example/pb?ts={conversion_timestamp}\"",
        stateless: false,
        ..rule("postback-macro-unknown", Conformance, Recommended)
    },
    PostbackStatusNot200 => Rule {
        when: "the partner's postback receiver answered a 2xx other than 200 (201, 202, 204): delivered by AppMetrica's postback quota page (any 2xx), failed by its postback specification page (200 only)",
        message: "the postback receiver answered {status} to {method} {url}: AppMetrica's postback quota page counts any 2xx as delivered, but its postback specification page counts only 200 OK, and under that reading this postback is repeated for 24 hours",
        hint: "answer every postback you accept with 200 (an empty body will do): 200 is the one answer delivered under both of AppMetrica's pages",
        why: "AppMetrica's two pages on postbacks disagree on what counts as delivered; a receiver answering 200 is safe whichever holds, one answering 204 may receive each conversion again for 24 hours.",
        bad: "HTTP/1.1 204 No Content",
        good: "HTTP/1.1 200 OK",
        stateless: false,
        ..rule("postback-status-not-200", Conformance, Recommended)
    },
    PostbackTimeout => Rule {
        when: "the receiver did not answer within 5 s",
        message: "the postback receiver did not answer {method} {url} within {timeout}",
        hint: "answer at once and do slow work (database writes, calls to other services) after answering, or in a queue",
        why: "AppMetrica waits 5 seconds for a postback's answer; a slower receiver is a failed delivery, and the postback is repeated.",
        bad: "the receiver writes to a slow database before it answers",
        good: "the receiver queues the conversion and answers 200 at once",
        stateless: false,
        ..rule("postback-timeout", Conformance, Fixed(Error))
    },
    PostbackUnreachable => Rule {
        when: "the receiver refused or reset the connection",
        message: "the postback receiver at {url} could not be reached: {reason}",
        hint: "check that the receiver listens on the address of the postback URL and stays up; {fix}",
        why: "A postback that cannot be delivered is repeated for 24 hours and then lost: the conversion never reaches the ad network.",
        bad: "connection refused on 127.0.0.1:9100",
        good: "HTTP/1.1 200 OK from 127.0.0.1:9100",
        stateless: false,
        ..rule("postback-unreachable", Conformance, Fixed(Error))
    },
    PostbackRetryRejected => Rule {
        when: "a repeat delivery of a transaction already delivered was not answered 200 (a retry must be accepted, and counted once)",
        message: "the repeat delivery of transaction {transaction_id} was answered {status}: {cause}",
        hint: "answer a transaction_id you have already seen with 200 again, and count it once (deduplicate by transaction_id)",
        why: "AppMetrica repeats a postback when it saw no 200, also when the first delivery did arrive; a receiver that rejects the repeat (409, 400) makes AppMetrica retry for 24 hours.",
        bad: "HTTP/1.1 409 Conflict to a repeated transaction_id",
        good: "HTTP/1.1 200 OK, the conversion counted once",
        stateless: false,
        ..rule("postback-retry-rejected", Conformance, Fixed(Error))
    },
    RetryMissing => Rule {
        when: "the mock answered 5xx, reset or closed, and the partner did not send the event again",
        message: "the mock {fault} and the {event} was not sent again within {window}",
        hint: "retry a request that got a 5xx, a reset or no answer: the same request, after a growing delay (1 s, 2 s, 4 s ...), a bounded number of times",
        why: "Production endpoints fail now and then; an integration that never retries loses every event that met a failure. (AppMetrica does not document retries: this scenario is recommended, not required.)",
        bad: "one GET; on 503 the event is dropped",
        good: "GET; on 503, wait 1 s and send the same GET again",
        stateless: false,
        ..rule("retry-missing", Conformance, Fixed(Error))
    },
    RetryGaveUp => Rule {
        when: "the mock kept failing (5xx, reset or closed) and the partner retried, then gave up before an attempt succeeded; the message counts the attempts and gives their times",
        message: "the mock {fault} on all {attempts} attempts of the {event}: the partner retried {retries} times (attempts at {times}) and then gave up; nothing more arrived within {window}",
        hint: "keep retrying a 5xx, a reset or a missing answer for longer: more attempts, or a longer backoff (1 s, 2 s, 4 s ... up to minutes), kept in a durable queue so the event survives an outage longer than a few seconds",
        why: "An endpoint that is down for longer than the partner's retry budget loses every event sent during the outage; the retries were right, but too few or too close together.",
        bad: "three attempts within 3 s after a 503, then the event is dropped",
        good: "attempts after 1 s, 2 s, 4 s, 8 s ... until one is accepted or the 12-hour window closes",
        stateless: false,
        ..rule("retry-gave-up", Conformance, Fixed(Error))
    },
    RetryChanged => Rule {
        when: "a retry changed click_id, click_timestamp (the event's time, not the retry's), device_ip or device_ua; the message names the field",
        message: "the retry changed {param}: {first} on the first attempt, {retry} on attempt {attempt}",
        hint: "{fix}",
        why: "A retry reports the same event: a new click_timestamp moves the click in time (the retry's time instead of the user's), and a new click_id makes it a second click.",
        bad: "click_timestamp=1764324000, then click_timestamp=1764324003 on the retry",
        good: "click_timestamp=1764324000 on the first attempt and on every retry",
        stateless: false,
        ..rule("retry-changed", Conformance, Fixed(Error))
    },
    RetryStorm => Rule {
        when: "retries with no backoff: more than 5 attempts within one second, or the same request sent again after a 4xx, which no retry can fix (a repeat after 204 is `duplicate-event`)",
        message: "{reason}",
        hint: "wait longer between attempts (1 s, 2 s, 4 s ...), stop after a few, and never retry a 4xx: it will fail the same way",
        why: "A retry loop without backoff turns one failed request into a flood, which makes an overloaded endpoint fail longer.",
        bad: "20 attempts within 200 ms after a 503",
        good: "attempts after 1 s, 2 s and 4 s, then give up",
        stateless: false,
        ..rule("retry-storm", Conformance, Fixed(Warning))
    },
}
