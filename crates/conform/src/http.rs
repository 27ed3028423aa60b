//! A minimal HTTP/1.1 GET for loopback servers: the partner's click URL and a running mock's
//! admin API. Refuses any other address; one bounded response per call.

use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response read.
const MAX_RESPONSE: u64 = 16 * 1024 * 1024;

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `http://<loopback ip>:<port>`, split into the address and the request target.
pub fn split(url: &str) -> std::io::Result<(SocketAddr, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other(format!("{url:?} is not an http:// URL")))?;
    let (authority, target) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => (&rest[..i], rest[i..].to_owned()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_owned()),
    };
    let addr: SocketAddr = authority
        .parse()
        .map_err(|_| std::io::Error::other(format!("{url:?} does not name an ip:port")))?;
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!(
            "refusing {addr}: metrica-s2s only talks to loopback addresses"
        )));
    }
    Ok((addr, target))
}

/// GET `url` with extra headers (values must not hold CR or LF; they are dropped).
pub async fn get(url: &str, headers: &[(&str, &str)]) -> std::io::Result<Response> {
    let (addr, target) = split(url)?;
    let mut request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        let v: String = v.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.take(MAX_RESPONSE).read_to_end(&mut raw).await?;
    let split_at = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("the answer has no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split_at]).into_owned();
    let body = raw[split_at + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no HTTP status line in the answer"))?;
    let headers = lines
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect();
    Ok(Response {
        status,
        headers,
        body,
    })
}
