//! An HTTP client for the few requests metrica-s2s itself sends (postbacks, admin calls, the
//! runner's clicks): hyper-util's pooled client over rustls for https, with a deadline per
//! request and a cap on the answer's size.

use axum::body::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{HeaderMap, Method, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest answer body read; the rest is an error, not memory.
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Client {
    inner: hyper_util::client::legacy::Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
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

/// Why an extra CA file cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("cannot read CA file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("CA file {0} holds no PEM certificate")]
    Empty(String),
    #[error("CA file {path}: {reason}")]
    Bad { path: String, reason: String },
}

impl Client {
    /// Trusts the Mozilla root programme's CAs (webpki-roots: the same on every machine).
    pub fn new() -> Client {
        Client::trusting(Vec::new())
    }

    /// Also trusts the certificates in the PEM file at `path` (a local CA, e.g. the one
    /// `metrica-s2s ca` makes).
    pub fn with_extra_ca(path: &Path) -> Result<Client, CaError> {
        let shown = path.display().to_string();
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| CaError::Read {
                path: shown.clone(),
                reason: e.to_string(),
            })?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| CaError::Bad {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(CaError::Empty(shown));
        }
        let mut probe = rustls::RootCertStore::empty();
        for c in &certs {
            probe.add(c.clone()).map_err(|e| CaError::Bad {
                path: shown.clone(),
                reason: e.to_string(),
            })?;
        }
        Ok(Client::trusting(certs))
    }

    fn trusting(extra: Vec<CertificateDer<'static>>) -> Client {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for c in extra {
            // Checked by `with_extra_ca`.
            let _ = roots.add(c);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth());
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let connector = match tls {
            Ok(config) => builder.with_tls_config(config),
            // ring offers TLS 1.2 and 1.3: never reached.
            Err(_) => builder.with_webpki_roots(),
        }
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
        let inner = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
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
        self.exchange(method, url, headers, body, timeout, Read::Whole)
            .await
    }

    /// As [`Client::send`], keeping only the first `keep` bytes of the answer's body: the rest
    /// is read and dropped as it comes, up to [`DISCARD_MAX`] bytes and the time left, then the
    /// connection is closed. A receiver announcing a gigabyte costs the mock `keep` bytes.
    pub(crate) async fn send_keeping(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        timeout: Duration,
        keep: usize,
    ) -> Result<Response, ClientError> {
        self.exchange(method, url, headers, body, timeout, Read::Excerpt(keep))
            .await
    }

    async fn exchange(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        timeout: Duration,
        read: Read,
    ) -> Result<Response, ClientError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| ClientError::BadUrl(url.to_owned()))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
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
        let deadline = tokio::time::Instant::now() + timeout;
        let head = async {
            self.inner.request(req).await.map_err(|e| {
                if e.is_connect() {
                    ClientError::Connect(source_text(&e))
                } else {
                    ClientError::Answer(source_text(&e))
                }
            })
        };
        let answer = tokio::time::timeout_at(deadline, head)
            .await
            .unwrap_or(Err(ClientError::Timeout(timeout)))?;
        let (parts, body) = answer.into_parts();
        let body = match read {
            Read::Whole => tokio::time::timeout_at(deadline, async {
                Limited::new(body, MAX_BODY)
                    .collect()
                    .await
                    .map(|c| c.to_bytes())
                    .map_err(|e| ClientError::Answer(e.to_string()))
            })
            .await
            .unwrap_or(Err(ClientError::Timeout(timeout)))?,
            // The status is in: the excerpt is what arrived of the body in the time left.
            Read::Excerpt(keep) => excerpt(body, keep, deadline).await,
        };
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            took: started.elapsed(),
        })
    }
}

/// How much of an answer's body to read.
#[derive(Clone, Copy, Debug)]
enum Read {
    /// All of it, up to [`MAX_BODY`].
    Whole,
    /// The first N bytes; the rest is discarded.
    Excerpt(usize),
}

/// Bytes of an answer read and dropped after the excerpt, at most: a receiver streaming more
/// is cut off.
pub(crate) const DISCARD_MAX: usize = 1024 * 1024;

/// The first `keep` bytes of `body`, reading (and dropping) the rest frame by frame until it
/// ends, [`DISCARD_MAX`] bytes have passed or `deadline` comes.
async fn excerpt(
    mut body: hyper::body::Incoming,
    keep: usize,
    deadline: tokio::time::Instant,
) -> Bytes {
    let mut kept = Vec::with_capacity(keep.min(4096));
    let mut seen = 0usize;
    while seen <= DISCARD_MAX {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Ok(Some(Ok(frame))) => frame,
            _ => break,
        };
        if let Ok(data) = frame.into_data() {
            let room = keep.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            seen += data.len();
        }
    }
    Bytes::from(kept)
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
