//! HTTPS with the local CA: a rustls client that trusts only that CA reaches both real hosts
//! by SNI, over HTTP/1.1 and HTTP/2, and refuses a name outside the certificate.

use axum::body::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use metrica_s2s_mock::model::Kind;
use metrica_s2s_mock::{Config, MockServer, TlsListen};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpStream;

const UA: &str = "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20Chrome%2F120.0%20Mobile%20Safari%2F537.36";

struct Tls {
    addr: SocketAddr,
    mock: MockServer,
    ca: Vec<CertificateDer<'static>>,
    _dir: tempfile::TempDir,
}

async fn start() -> Tls {
    start_with(Config::ephemeral()).await
}

async fn start_with(config: Config) -> Tls {
    let dir = tempfile::tempdir().expect("dir");
    let mock = MockServer::start(Config {
        tls: vec![TlsListen {
            addr: ([127, 0, 0, 1], 0).into(),
            kind: Kind::Click,
        }],
        tls_dir: Some(dir.path().to_owned()),
        ..config
    })
    .await
    .expect("the mock starts");
    let ca = CertificateDer::pem_file_iter(mock.ca_cert().expect("a CA"))
        .expect("ca")
        .collect::<Result<Vec<_>, _>>()
        .expect("ca parses");
    Tls {
        addr: mock.tls_addrs()[0].1,
        mock,
        ca,
        _dir: dir,
    }
}

fn client(ca: &[CertificateDer<'static>], alpn: &[u8]) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for c in ca {
        roots.add(c.clone()).expect("a CA");
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// One GET over TLS to `addr`, naming `host` by SNI and Host: the status and the ALPN used.
async fn get(t: &Tls, host: &str, alpn: &[u8], target: &str) -> Result<(u16, Vec<u8>), String> {
    let tcp = TcpStream::connect(t.addr)
        .await
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
    let tls = client(&t.ca, alpn)
        .connect(name, tcp)
        .await
        .map_err(|e| e.to_string())?;
    let negotiated = tls
        .get_ref()
        .1
        .alpn_protocol()
        .map(<[u8]>::to_vec)
        .unwrap_or_default();
    let io = TokioIo::new(tls);
    let uri = format!("https://{host}{target}");
    let status = if negotiated == b"h2" {
        let (mut send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = hyper::Request::get(uri)
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let res = send.send_request(req).await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let _ = res.into_body().collect().await;
        status
    } else {
        let (mut send, conn) = hyper::client::conn::http1::handshake(io)
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        let req = hyper::Request::get(target)
            .header("host", host)
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let res = send.send_request(req).await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        let _ = res.into_body().collect().await;
        status
    };
    Ok((status, negotiated))
}

fn click(click_id: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "/serve/1234567890123456789?click_id={click_id}&device_ip=5.255.232.147&device_ua={UA}&click_timestamp={now}"
    )
}

#[tokio::test]
async fn both_hosts_over_http1_and_http2_with_only_the_local_ca_trusted() {
    let t = start().await;
    let cases = [
        (
            "redirect.appmetrica.yandex.com",
            &b"http/1.1"[..],
            Kind::Click,
        ),
        (
            "impression.appmetrica.yandex.com",
            &b"http/1.1"[..],
            Kind::Impression,
        ),
        ("redirect.appmetrika.yandex.ru", &b"h2"[..], Kind::Click),
        (
            "impression.appmetrica.yandex.ru",
            &b"h2"[..],
            Kind::Impression,
        ),
        ("localhost", &b"h2"[..], Kind::Click),
        ("127.0.0.1", &b"http/1.1"[..], Kind::Click),
    ];
    for (i, (host, alpn, kind)) in cases.iter().enumerate() {
        let (status, used) = get(&t, host, alpn, &click(&format!("tls{i}")))
            .await
            .unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(status, 204, "{host}");
        assert_eq!(used, alpn.to_vec(), "{host}: ALPN");
        let admin = t.mock.admin();
        let seq = admin.health().await.expect("health").journal.next_seq - 1;
        let entry = admin.request(seq).await.expect("admin").expect("journaled");
        assert_eq!(entry.kind, *kind, "{host}: routed by SNI and Host");
    }
    t.mock.stop().await.expect("stopped");
}

#[tokio::test]
async fn a_name_outside_the_certificate_is_refused_by_the_client() {
    let t = start().await;
    let e = get(&t, "evil.example.com", b"http/1.1", &click("x"))
        .await
        .expect_err("not in the certificate");
    assert!(
        e.contains("certificate") || e.contains("NotValidForName"),
        "{e}"
    );
    let (status, _) = get(
        &t,
        "redirect.appmetrica.yandex.com",
        b"http/1.1",
        &click("y"),
    )
    .await
    .expect("served after the refusal");
    assert_eq!(status, 204);
    t.mock.stop().await.expect("stopped");
}

/// Over HTTP/2 one connection carries many requests: a long wait (and an event stream) must
/// not be cut by the header-read timeout because short requests beside it finished.
#[tokio::test]
async fn long_requests_over_h2_survive_beside_short_ones() {
    let t = start_with(Config {
        limits: metrica_s2s_mock::Limits {
            header_read_timeout: std::time::Duration::from_millis(600),
            ..metrica_s2s_mock::Limits::default()
        },
        ..Config::ephemeral()
    })
    .await;
    let tcp = TcpStream::connect(t.addr).await.expect("connect");
    let tls = client(&t.ca, b"h2")
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
        .expect("tls");
    let (send, conn) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .expect("h2");
    tokio::spawn(conn);
    let get = |path: String| {
        let mut send = send.clone();
        let port = t.addr.port();
        async move {
            let req = hyper::Request::get(format!("https://localhost:{port}{path}"))
                .body(Empty::<Bytes>::new())
                .expect("request");
            let res = send.send_request(req).await.map_err(|e| e.to_string())?;
            let status = res.status().as_u16();
            res.into_body().collect().await.map_err(|e| e.to_string())?;
            Ok::<u16, String>(status)
        }
    };
    let started = std::time::Instant::now();
    let long = tokio::spawn(get(
        "/__admin/requests/wait?click_id=never&timeout_ms=2500".into()
    ));
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        assert_eq!(get("/__admin/health".into()).await, Ok(200));
    }
    // No other request for 1.5 s, twice the timeout: the wait is still being answered.
    assert_eq!(
        long.await.expect("task"),
        Ok(200),
        "the wait was answered, not cut"
    );
    assert!(started.elapsed() >= std::time::Duration::from_millis(2500));
    // Idle now: the connection is let go once the timeout passes with no request on it.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(
        get("/__admin/health".into()).await.is_err(),
        "an idle connection is closed"
    );
    t.mock.stop().await.expect("stopped");
}
