//! An HTTP client for the few requests metrica-s2s itself sends: hyper-util's pooled client,
//! with a deadline per request and a cap on the answer's size.

use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use std::time::{Duration, Instant};

/// Largest answer body read; the rest is an error, not memory.
pub const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpConnector, Full<Bytes>>,
}

/// One answer, its body read whole.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// From sending the request to the end of the body.
    pub took: Duration,
}

impl Response {
    /// The first value of a header, when it is visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why no answer came. `Timeout` and `Connect` are told apart because a postback receiver
/// that is slow and one that is not there are different bugs.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0:?} is not a URL this client can send to")]
    BadUrl(String),
    #[error("a header value holds characters HTTP does not allow: {0:?}")]
    BadHeader(String),
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    #[error("the connection failed: {0}")]
    Connect(String),
    #[error("the answer broke off: {0}")]
    Answer(String),
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    pub fn new() -> Client {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(http);
        Client { inner }
    }

    pub async fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Duration,
    ) -> Result<Response, ClientError> {
        self.send(Method::GET, url, headers, Bytes::new(), timeout)
            .await
    }

    /// Sends one request; the whole exchange, body included, must end within `timeout`.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<Response, ClientError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| ClientError::BadUrl(url.to_owned()))?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(ClientError::BadUrl(url.to_owned()));
        }
        let mut req = hyper::Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        for (name, value) in headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ClientError::BadHeader((*name).to_owned()))?;
            // Bytes, not text: a User-Agent may carry UTF-8 (obs-text), never a control byte.
            let value = HeaderValue::from_bytes(value.as_bytes())
                .map_err(|_| ClientError::BadHeader((*value).to_owned()))?;
            req.headers_mut().append(name, value);
        }
        let started = Instant::now();
        let exchange = async {
            let answer = self.inner.request(req).await.map_err(|e| {
                if e.is_connect() {
                    ClientError::Connect(source_text(&e))
                } else {
                    ClientError::Answer(source_text(&e))
                }
            })?;
            let (parts, body) = answer.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| ClientError::Answer(e.to_string()))?
                .to_bytes();
            Ok(Response {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
                took: started.elapsed(),
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or(Err(ClientError::Timeout(timeout)))
    }
}

/// An error and its causes on one line: hyper's own text is "client error (Connect)".
fn source_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use crate::client::{Client, ClientError};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A server answering one connection with `answer`, raw.
    async fn serve_once(answer: &'static [u8]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(answer).await;
        });
        format!("http://{addr}/x")
    }

    #[tokio::test]
    async fn a_chunked_body_is_read_whole() {
        let url = serve_once(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        )
        .await;
        let r = Client::new()
            .get(&url, &[], Duration::from_secs(5))
            .await
            .expect("answer");
        assert_eq!((r.status, &r.body[..]), (200, &b"hello world"[..]));
    }

    #[tokio::test]
    async fn refused_and_silent_servers_are_told_apart() {
        let gone = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/x", gone.local_addr().expect("addr"));
        drop(gone);
        let refused = Client::new().get(&url, &[], Duration::from_secs(5)).await;
        assert!(
            matches!(refused, Err(ClientError::Connect(_))),
            "{refused:?}"
        );

        let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/x", silent.local_addr().expect("addr"));
        let slow = Client::new()
            .get(&url, &[], Duration::from_millis(200))
            .await;
        assert!(matches!(slow, Err(ClientError::Timeout(_))), "{slow:?}");
        drop(silent);
    }
}
