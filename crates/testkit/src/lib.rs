//! The one reader of raw HTTP/1.1 answers the tests and benchmarks share. They write their
//! requests byte by byte (to send what no client library would), so they read the answers the
//! same way: a status line, headers, and a `Content-Length` body, from a blocking reader or an
//! async one, through one parser of the head.

use std::io::{self, BufRead};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// One answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name`, whatever its case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON; panics with the body when it is not (for tests).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A head being read line by line.
#[derive(Default)]
struct Head {
    status: Option<u16>,
    headers: Vec<(String, String)>,
}

impl Head {
    /// Takes one line (its CRLF included); true once the blank line ending the head is in.
    fn line(&mut self, line: &str) -> io::Result<bool> {
        if line.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection ended inside an answer's head",
            ));
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if self.status.is_none() {
            let status = l
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| io::Error::other(format!("bad status line {l:?}")))?;
            self.status = Some(status);
            return Ok(false);
        }
        if l.is_empty() {
            return Ok(true);
        }
        if let Some((k, v)) = l.split_once(':') {
            self.headers
                .push((k.trim().to_owned(), v.trim().to_owned()));
        }
        Ok(false)
    }

    fn content_length(&self) -> io::Result<usize> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map_or(Ok(0), |(_, v)| {
                v.parse()
                    .map_err(|_| io::Error::other(format!("bad Content-Length {v:?}")))
            })
    }

    fn with_body(self, body: Vec<u8>) -> Response {
        Response {
            status: self.status.unwrap_or_default(),
            headers: self.headers,
            body,
        }
    }
}

/// Reads one answer from a blocking reader (a kept-alive connection may hold more).
pub fn read_response(reader: &mut impl BufRead) -> io::Result<Response> {
    let mut head = Head::default();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        if head.line(&line)? {
            break;
        }
    }
    let mut body = vec![0; head.content_length()?];
    reader.read_exact(&mut body)?;
    Ok(head.with_body(body))
}

/// Reads one answer from an async reader (a kept-alive connection may hold more).
pub async fn read_response_async(reader: &mut (impl AsyncBufRead + Unpin)) -> io::Result<Response> {
    let mut head = Head::default();
    let mut line = String::new();
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        if head.line(&line)? {
            break;
        }
    }
    let mut body = vec![0; head.content_length()?];
    reader.read_exact(&mut body).await?;
    Ok(head.with_body(body))
}

#[cfg(test)]
mod tests {
    use crate::{read_response, read_response_async};

    const TWO: &[u8] = b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\nHTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";

    #[test]
    fn blocking_answers_are_read_one_at_a_time() {
        let mut r = std::io::BufReader::new(TWO);
        let first = read_response(&mut r).expect("first");
        assert_eq!((first.status, first.header("x-a")), (204, Some("1")));
        let second = read_response(&mut r).expect("second");
        assert_eq!((second.status, second.body.as_slice()), (400, &b"{}"[..]));
        assert!(read_response(&mut r).is_err(), "nothing more");
    }

    #[tokio::test]
    async fn async_answers_are_read_alike() {
        let mut r = tokio::io::BufReader::new(TWO);
        assert_eq!(
            read_response_async(&mut r).await.expect("first").status,
            204
        );
        assert_eq!(
            read_response_async(&mut r).await.expect("second").json(),
            serde_json::json!({})
        );
        let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab";
        assert!(
            read_response_async(&mut tokio::io::BufReader::new(&cut[..]))
                .await
                .is_err()
        );
    }
}
