//! `s2s-bench tls`: clicks over TLS against plain HTTP, on the same mock in the same run, on
//! kept-alive connections (the handshakes happen before the measured part); then handshakes
//! alone, a new connection per click. Prints server CPU per request for each and the ratio.

use crate::child::{mock_command, Server, MOCK_MARKER};
use crate::load;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::net::SocketAddr;
use std::path::Path;

use std::sync::Arc;
use std::time::Instant;

fn connector(ca: &Path) -> std::io::Result<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).map_err(std::io::Error::other)? {
        roots
            .add(c.map_err(std::io::Error::other)?)
            .map_err(std::io::Error::other)?;
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(std::io::Error::other)?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

pub async fn run(
    dir: &Path,
    requests: u64,
    rounds: usize,
    connections: usize,
    handshakes: u64,
) -> std::io::Result<()> {
    let tls_dir = std::env::temp_dir().join(format!("s2s-bench-tls-{}", std::process::id()));
    let port = free_port()?;
    let https: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut cmd = mock_command(dir);
    cmd.args(["--journal-capacity", "1000"])
        .arg("--tls-listen")
        .arg(https.to_string())
        .arg("--tls-dir")
        .arg(&tls_dir);
    let mock = Server::spawn(cmd, MOCK_MARKER)?;
    let tls = connector(&tls_dir.join("ca.pem"))?;
    let over_tls = move |a: SocketAddr| {
        let tls = tls.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(a).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::try_from("redirect.appmetrica.yandex.com")
                .map_err(std::io::Error::other)?;
            tls.connect(name, tcp).await
        }
    };
    println!("load: {requests} clicks per round over {connections} kept-alive connections, plain HTTP/1.1 and TLS 1.3 + HTTP/1.1 to the same mock, {rounds} rounds alternating");
    // Warm up both paths.
    load::run(mock.addr, connections, 2_000, load::clicks("t")).await?;
    load::run_over(
        https,
        connections,
        2_000,
        load::clicks("t"),
        over_tls.clone(),
    )
    .await?;
    let (mut plain_cpu, mut tls_cpu, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let measure_plain = async || -> std::io::Result<f64> {
            let before = mock.cpu_secs().unwrap_or(0.0);
            let out = load::run(mock.addr, connections, requests, load::clicks("t")).await?;
            Ok((mock.cpu_secs().unwrap_or(0.0) - before) * 1e6 / out.requests.max(1) as f64)
        };
        let measure_tls = async || -> std::io::Result<f64> {
            // Connections (and handshakes) are made first, as the warm-up's were: the
            // measured part is the kept-alive clicks.
            let before = mock.cpu_secs().unwrap_or(0.0);
            let out = load::run_over(
                https,
                connections,
                requests,
                load::clicks("t"),
                over_tls.clone(),
            )
            .await?;
            Ok((mock.cpu_secs().unwrap_or(0.0) - before) * 1e6 / out.requests.max(1) as f64)
        };
        let (p, t) = if round % 2 == 0 {
            let p = measure_plain().await?;
            (p, measure_tls().await?)
        } else {
            let t = measure_tls().await?;
            (measure_plain().await?, t)
        };
        println!(
            "round {}: server CPU per click: plain {p:.1} µs, TLS {t:.1} µs, ratio {:.2}x",
            round + 1,
            t / p
        );
        plain_cpu.push(p);
        tls_cpu.push(t);
        ratios.push(t / p);
    }
    let ratio = median(ratios);
    println!(
        "median: plain {:.1} µs, TLS {:.1} µs per click; TLS/plain {ratio:.2}x (target <= 1.3, {}); note: each connection's handshake is inside its first click",
        median(plain_cpu),
        median(tls_cpu),
        if ratio <= 1.3 { "met" } else { "NOT met" }
    );

    // Handshakes: a new connection per click, one after another.
    let mut wall = Vec::new();
    let cpu_before = mock.cpu_secs().unwrap_or(0.0);
    for _ in 0..handshakes {
        let t = Instant::now();
        let out = load::run_over(https, 1, 1, load::clicks("t"), over_tls.clone()).await?;
        if out.requests != 1 {
            return Err(std::io::Error::other("a handshake click got no answer"));
        }
        wall.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let cpu = (mock.cpu_secs().unwrap_or(0.0) - cpu_before) * 1e6 / handshakes.max(1) as f64;
    println!(
        "handshakes: {handshakes} new TLS connections, one click each: server CPU {cpu:.0} µs per connection, wall p50 {:.0} µs",
        median(wall)
    );
    mock.stop();
    let _ = std::fs::remove_dir_all(&tls_dir);
    Ok(())
}
