//! Reading one input (a URL, a scheme-less URL, a request target, an HTTP request line, or an
//! access-log line holding one) into a [`Request`] that keeps every part's raw bytes.
//!
//! Nothing is decoded here: checks need the raw form to see broken escapes, double encoding and
//! `+` mixed with `%20`, which a decoding parser would hide. Spans index the original input, so
//! renderers can point at the offending bytes.

use crate::catalogue::Code;
use crate::diagnostic::{Diagnostic, Draft};
use crate::hosts::{kind_for_host, Kind};
use crate::span::Span;

/// One `key=value` pair of the query, raw. `value` is `None` for a bare flag (`&noredirect`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Param {
    pub key: Span,
    pub value: Option<Span>,
}

impl Param {
    /// The whole `key=value` text.
    pub fn span(&self) -> Span {
        Span::new(self.key.start, self.value.map_or(self.key.end, |v| v.end))
    }
}

/// A tracking request as read from its input, every part a span of `input`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    pub input: &'a [u8],
    /// The method, when the input was a request line.
    pub method: Option<Span>,
    /// The authority (host and port), when the input named one.
    pub host: Option<Span>,
    pub path: Span,
    pub query: Option<Span>,
    /// Text after a raw `#`: HTTP clients never send it.
    pub fragment: Option<Span>,
    pub params: Vec<Param>,
    /// When an access-log line says the request arrived (Unix seconds): the "now" its time
    /// rules are judged at, since the log was written then, not when it is linted.
    pub logged_at: Option<u64>,
}

impl<'a> Request<'a> {
    pub fn bytes(&self, span: Span) -> &'a [u8] {
        span.of(self.input)
    }

    /// The event kind the host implies, if it is a real AppMetrica host.
    pub fn kind(&self) -> Option<Kind> {
        self.host.and_then(|h| kind_for_host(self.bytes(h)))
    }

    /// The raw segment after `/serve/`, when the path has that form.
    pub fn tracking_id(&self) -> Option<Span> {
        let id = tracking_segment(self.bytes(self.path))?;
        Some(Span::new(self.path.end - id.len(), self.path.end))
    }

    /// The tracking id as a number, when it is a valid one.
    pub fn tracking_number(&self) -> Option<u64> {
        id_number(self.bytes(self.tracking_id()?))
    }

    /// The request target (path and query) as sent.
    pub fn target(&self) -> &'a [u8] {
        let end = self.query.map_or(self.path.end, |q| q.end);
        &self.input[self.path.start..end]
    }
}

/// The tracking id segment of an S2S path: the single segment after `/serve/`.
pub fn tracking_segment(path: &[u8]) -> Option<&[u8]> {
    let id = path.strip_prefix(b"/serve/")?;
    memchr::memchr(b'/', id).is_none().then_some(id)
}

/// A tracking id segment as a number: 1 to 20 ASCII digits within the u64 range.
pub(crate) fn id_number(id: &[u8]) -> Option<u64> {
    if id.is_empty() || id.len() > 20 || !id.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Any 19 digits fit a u64; only a 20th can overflow it.
    let (head, tail) = id.split_at(id.len().min(19));
    let n = head.iter().fold(0u64, |n, &b| n * 10 + u64::from(b - b'0'));
    match tail.first() {
        None => Some(n),
        Some(&b) => n.checked_mul(10)?.checked_add(u64::from(b - b'0')),
    }
}

/// Reads one input. What cannot be read as a request is a `not-a-url` diagnostic, never a
/// panic: this runs on every line of arbitrary log files.
pub fn parse_input(input: &[u8]) -> Result<Request<'_>, Diagnostic> {
    let start = input
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(input.len());
    let end = input
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    let mut req = Request {
        input,
        method: None,
        host: None,
        path: Span::default(),
        query: None,
        fragment: None,
        params: Vec::new(),
        logged_at: None,
    };
    if start == end {
        return Err(not_a_url(input, "the line is empty"));
    }
    read_any(&mut req, start, end)?;
    split_params(&mut req);
    Ok(req)
}

fn not_a_url(input: &[u8], reason: &str) -> Diagnostic {
    Draft::new(Code::NotAUrl)
        .value(input)
        .arg("reason", reason)
        .span(Span::new(0, input.len()))
        .finish()
}

fn read_any(req: &mut Request<'_>, start: usize, end: usize) -> Result<(), Diagnostic> {
    let line = &req.input[start..end];
    if method_len(line).is_some() {
        return read_request_line(req, start, end);
    }
    if scheme_len(line).is_some() {
        return read_absolute(req, start, end);
    }
    if line.starts_with(b"/") {
        read_origin(req, start, end);
        return Ok(());
    }
    if let Some(host_end) = schemeless_host_len(line) {
        req.host = Some(Span::new(start, start + host_end));
        read_origin(req, start + host_end, end);
        return Ok(());
    }
    if let Some((s, e)) = quoted_request_line(line) {
        req.logged_at = log_time(&line[..s]);
        return read_request_line(req, start + s, start + e);
    }
    Err(not_a_url(
        req.input,
        "it is neither a URL, a request target (/serve/...) nor a request line (GET ... HTTP/1.1)",
    ))
}

/// `GET ` and friends: 1-16 upper-case letters then a space.
fn method_len(line: &[u8]) -> Option<usize> {
    let n = line.iter().take_while(|b| b.is_ascii_uppercase()).count();
    ((1..=16).contains(&n) && line.get(n) == Some(&b' ')).then_some(n)
}

fn scheme_len(line: &[u8]) -> Option<usize> {
    [&b"http://"[..], b"https://"]
        .into_iter()
        .find(|s| line.len() >= s.len() && line[..s.len()].eq_ignore_ascii_case(s))
        .map(<[u8]>::len)
}

fn read_request_line(req: &mut Request<'_>, start: usize, end: usize) -> Result<(), Diagnostic> {
    let line = &req.input[start..end];
    let Some(m) = method_len(line) else {
        return Err(not_a_url(req.input, "the request line has no method"));
    };
    req.method = Some(Span::new(start, start + m));
    let mut t_start = start + m;
    while t_start < end && req.input[t_start] == b' ' {
        t_start += 1;
    }
    // The version is the last word; a target with raw spaces keeps them, to be reported.
    let mut t_end = end;
    if let Some(i) = rfind(&req.input[t_start..end], b" HTTP/") {
        let version = &req.input[t_start + i + 6..end];
        if !version.is_empty() && version.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
            t_end = t_start + i;
        }
    }
    let target = &req.input[t_start..t_end];
    if target.is_empty() {
        return Err(not_a_url(req.input, "the request line has no target"));
    }
    if scheme_len(target).is_some() {
        read_absolute(req, t_start, t_end)
    } else if target.starts_with(b"/") {
        read_origin(req, t_start, t_end);
        Ok(())
    } else if let Some(host_end) = schemeless_host_len(target) {
        // AppMetrica's documentation writes requests as `GET redirect.appmetrica.yandex.com/serve/...`.
        req.host = Some(Span::new(t_start, t_start + host_end));
        read_origin(req, t_start + host_end, t_end);
        Ok(())
    } else {
        Err(not_a_url(
            req.input,
            "the request target starts with neither /, a host name nor http(s)://",
        ))
    }
}

fn read_absolute(req: &mut Request<'_>, start: usize, end: usize) -> Result<(), Diagnostic> {
    let scheme = scheme_len(&req.input[start..end]).unwrap_or(0);
    let a_start = start + scheme;
    let a_end = req.input[a_start..end]
        .iter()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .map_or(end, |i| a_start + i);
    // userinfo@host: only the host matters.
    let h_start = req.input[a_start..a_end]
        .iter()
        .rposition(|&b| b == b'@')
        .map_or(a_start, |i| a_start + i + 1);
    if h_start == a_end {
        return Err(not_a_url(req.input, "the URL has no host"));
    }
    req.host = Some(Span::new(h_start, a_end));
    read_origin(req, a_end, end);
    Ok(())
}

/// `host/path?query` as the documentation writes it: the part before the first `/` must look
/// like a host name or address.
fn schemeless_host_len(line: &[u8]) -> Option<usize> {
    let n = line.iter().position(|&b| b == b'/')?;
    let host = &line[..n];
    let host_like = !host.is_empty()
        && host
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
        && (host.contains(&b'.')
            || host.contains(&b':')
            || host.eq_ignore_ascii_case(b"localhost"));
    host_like.then_some(n)
}

/// An access-log line: the request line sits in double quotes (`"GET /serve/... HTTP/1.1"`).
fn quoted_request_line(line: &[u8]) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = line[from..].iter().position(|&b| b == b'"') {
        let s = from + i + 1;
        if method_len(&line[s..]).is_some() {
            let rest = &line[s..];
            let e = find(rest, b" HTTP/")
                .and_then(|h| rest[h..].iter().position(|&b| b == b'"').map(|q| h + q))
                .or_else(|| rest.iter().position(|&b| b == b'"'))
                .unwrap_or(rest.len());
            return Some((s, s + e));
        }
        from = s;
    }
    None
}

/// The `[28/Nov/2026:10:00:00 +0000]` time of a common or combined log format line.
fn log_time(prefix: &[u8]) -> Option<u64> {
    let open = memchr::memchr(b'[', prefix)?;
    // `dd/Mon/yyyy:HH:MM:SS +zzzz]`: 27 bytes, so every index below is in range.
    let t = prefix.get(open + 1..open + 28)?;
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let d = t.get(r)?;
        d.iter()
            .all(u8::is_ascii_digit)
            .then(|| std::str::from_utf8(d).ok()?.parse().ok())?
    };
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == &t[3..6])? as u32 + 1;
    let (day, year, h, m, sec) = (
        num(0..2)?,
        num(7..11)?,
        num(12..14)?,
        num(15..17)?,
        num(18..20)?,
    );
    if t[2] != b'/' || t[6] != b'/' || t[11] != b':' || t[20] != b' ' || t[26] != b']' {
        return None;
    }
    let zone = i64::from(num(22..24)? * 3600 + num(24..26)? * 60);
    let zone = match t[21] {
        b'+' => zone,
        b'-' => -zone,
        _ => return None,
    };
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let local = crate::calendar::unix_from_utc(i64::from(year), month, day, h, m, sec);
    u64::try_from(local - zone).ok()
}

fn read_origin(req: &mut Request<'_>, start: usize, end: usize) {
    let input = req.input;
    let p_end = memchr::memchr2(b'?', b'#', &input[start..end]).map_or(end, |i| start + i);
    req.path = Span::new(start, p_end);
    let mut q_end = end;
    if let Some(h) = memchr::memchr(b'#', &input[p_end..end]) {
        q_end = p_end + h;
        req.fragment = Some(Span::new(q_end + 1, end));
    }
    if p_end < q_end && input[p_end] == b'?' {
        req.query = Some(Span::new(p_end + 1, q_end));
    }
}

fn split_params(req: &mut Request<'_>) {
    let Some(q) = req.query else { return };
    let mut start = q.start;
    while start <= q.end {
        let end = memchr::memchr(b'&', &req.input[start..q.end]).map_or(q.end, |i| start + i);
        if end > start {
            let piece = &req.input[start..end];
            req.params.push(match memchr::memchr(b'=', piece) {
                Some(eq) => Param {
                    key: Span::new(start, start + eq),
                    value: Some(Span::new(start + eq + 1, end)),
                },
                None => Param {
                    key: Span::new(start, end),
                    value: None,
                },
            });
        }
        start = end + 1;
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(hay, needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Method, host, path and `(key, value)` pairs of an input, as text.
    struct Parts {
        method: Option<String>,
        host: Option<String>,
        path: String,
        params: Vec<(String, Option<String>)>,
    }

    fn parts(input: &str) -> Parts {
        let r = parse_input(input.as_bytes()).expect("parses");
        let s = |sp: Span| String::from_utf8_lossy(r.bytes(sp)).into_owned();
        Parts {
            method: r.method.map(s),
            host: r.host.map(s),
            path: s(r.path),
            params: r
                .params
                .iter()
                .map(|p| (s(p.key), p.value.map(s)))
                .collect(),
        }
    }

    #[test]
    fn reads_every_input_form() {
        let want_params = vec![
            ("a".to_owned(), Some("1".to_owned())),
            ("noredirect".to_owned(), None),
        ];
        for input in [
            "https://redirect.appmetrica.yandex.com/serve/42?a=1&noredirect",
            "redirect.appmetrica.yandex.com/serve/42?a=1&noredirect",
            "  /serve/42?a=1&noredirect \r\n",
            "GET /serve/42?a=1&noredirect HTTP/1.1",
            "GET http://redirect.appmetrica.yandex.com/serve/42?a=1&noredirect HTTP/1.0",
            "GET redirect.appmetrica.yandex.com/serve/42?a=1&noredirect",
            r#"203.0.113.9 - - [28/Nov/2026:10:00:00 +0000] "GET /serve/42?a=1&noredirect HTTP/1.1" 204 0 "-" "curl/8""#,
        ] {
            let p = parts(input);
            assert_eq!(p.path, "/serve/42", "{input}");
            assert_eq!(p.params, want_params, "{input}");
        }
        let p = parts("GET http://redirect.appmetrica.yandex.com/serve/42 HTTP/1.1");
        assert_eq!(p.method.as_deref(), Some("GET"));
        assert_eq!(p.host.as_deref(), Some("redirect.appmetrica.yandex.com"));
        let p = parts("GET impression.appmetrica.yandex.com/serve/42?x=1");
        assert_eq!(p.host.as_deref(), Some("impression.appmetrica.yandex.com"));
        assert_eq!(p.path, "/serve/42");
    }

    #[test]
    fn access_log_lines_carry_their_time() {
        let r = parse_input(
            br#"1.2.3.4 - - [28/Nov/2026:13:00:00 +0300] "GET /serve/1?a=1 HTTP/1.1" 204 0"#,
        )
        .expect("parses");
        assert_eq!(r.logged_at, Some(1_795_860_000));
        let plain = parse_input(b"GET /serve/1?a=1 HTTP/1.1").expect("parses");
        assert_eq!(plain.logged_at, None);
        let garbled = parse_input(br#"x [28/Foo/2026:13:00:00 +0300] "GET /serve/1 HTTP/1.1""#)
            .expect("parses");
        assert_eq!(garbled.logged_at, None);
    }

    #[test]
    fn kind_comes_from_the_host() {
        let r = parse_input(b"impression.appmetrika.yandex.ru/serve/1?x=1").expect("parses");
        assert_eq!(r.kind(), Some(Kind::Impression));
        assert_eq!(parse_input(b"/serve/1").expect("parses").kind(), None);
    }

    #[test]
    fn raw_spaces_stay_inside_a_request_line_target() {
        let p = parts("GET /serve/1?device_ua=Mozilla/5.0 (Linux) HTTP/1.1");
        assert_eq!(p.params[0].1.as_deref(), Some("Mozilla/5.0 (Linux)"));
    }

    #[test]
    fn a_raw_hash_starts_the_fragment() {
        let r = parse_input(b"/serve/1?device_ua=A#B&x=1").expect("parses");
        assert_eq!(r.params.len(), 1);
        assert_eq!(r.fragment.map(|f| r.bytes(f)), Some(&b"B&x=1"[..]));
    }

    #[test]
    fn tracking_id_is_the_single_segment_after_serve() {
        let r = parse_input(b"/serve/123?x").expect("parses");
        assert_eq!(r.tracking_id().map(|t| r.bytes(t)), Some(&b"123"[..]));
        assert!(parse_input(b"/serve/1/2")
            .expect("parses")
            .tracking_id()
            .is_none());
        assert!(parse_input(b"/click/1")
            .expect("parses")
            .tracking_id()
            .is_none());
    }

    #[test]
    fn unreadable_lines_are_diagnostics() {
        for input in [
            "",
            "   ",
            "device_ip=1.2.3.4&x=y",
            "GET",
            "hello world",
            "https://",
        ] {
            let d = parse_input(input.as_bytes()).expect_err(input);
            assert_eq!(d.code, Code::NotAUrl, "{input}");
        }
    }

    fn number(id: &str) -> Option<u64> {
        let target = format!("/serve/{id}?a=b");
        parse_input(target.as_bytes()).ok()?.tracking_number()
    }

    #[test]
    fn tracking_numbers_up_to_u64_max() {
        assert_eq!(number("18446744073709551615"), Some(u64::MAX));
        assert_eq!(number("18446744073709551616"), None);
        assert_eq!(number("99999999999999999999"), None);
        assert_eq!(number("00000000000000000042"), Some(42));
        assert_eq!(
            number("1234567890123456789"),
            Some(1_234_567_890_123_456_789)
        );
        assert_eq!(number("123456789012345678901"), None);
        for bad in ["", "12a", "+12", "-1", " 1"] {
            assert_eq!(number(bad), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn tracking_numbers_read_as_str_parse_does(id in "[0-9]{1,20}") {
            proptest::prop_assert_eq!(number(&id), id.parse::<u64>().ok());
        }
    }
}
