//! `s2s-bench postback-waits`: what pending postback waits cost the clicks while deliveries
//! retry. One mock, `--deliveries` postbacks to a receiver in the bench that answers 503 (so
//! each retries, every 0.3 s at the time scale used); in each round the same click load runs
//! with no wait and with `--waits` pending `GET /__admin/postbacks/wait` calls that every
//! retrying delivery matches but that are never satisfied (`tracking_id=7&count=1000000`: the
//! costly kind, re-judged at each change), the order alternating. Prints click p50/p99 and the
//! ratios.

use crate::child::{mock_command, Server, MOCK_MARKER};
use crate::load;
use std::net::SocketAddr;
use std::path::Path;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A receiver that answers 503 to every postback, on a port of its own; bounded by the bench.
async fn unavailable_receiver() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    let answer = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";
                    if s.write_all(answer).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(addr)
}

async fn post(addr: SocketAddr, path: &str, body: &str) -> std::io::Result<()> {
    let mut s = TcpStream::connect(addr).await?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await?;
    if !answer.starts_with(b"HTTP/1.1 200") {
        return Err(std::io::Error::other(
            String::from_utf8_lossy(&answer).into_owned(),
        ));
    }
    Ok(())
}

pub async fn run(
    dir: &Path,
    deliveries: usize,
    waits: usize,
    requests: u64,
    rounds: usize,
) -> std::io::Result<()> {
    let rx = unavailable_receiver().await?;
    let trackers = std::env::temp_dir().join(format!("s2s-bench-pw-{}.toml", std::process::id()));
    std::fs::write(
        &trackers,
        format!("[[tracker]]\nid = 7\nname = \"bench\"\nplatform = \"any\"\nstore_url = \"https://example.com/app\"\n[[tracker.postback]]\nevent = \"install\"\nurl = \"http://{rx}/pb?tx={{transaction_id}}\"\n"),
    )?;
    let mut cmd = mock_command(dir);
    cmd.arg("--config")
        .arg(&trackers)
        .args(["--postback-time-scale", "600"]);
    let mock = Server::spawn(cmd, MOCK_MARKER)?;
    let addr = mock.addr;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // One device per delivery: a second install of one device is a reinstall, which
    // AppMetrica does not post back.
    let gaid = |i: u64| format!("38400000-8cf0-11bd-b23e-{i:012x}");
    let click = load::run(addr, 1, deliveries as u64, std::sync::Arc::new(move |i| {
        format!("/serve/7?click_id=pw{i}&google_aid={}&device_ip=5.255.232.147&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014)&click_timestamp={now}", gaid(i))
    }))
    .await?;
    if click.non_2xx > 0 {
        return Err(std::io::Error::other(
            "the clicks the deliveries go to were refused",
        ));
    }
    for i in 0..deliveries as u64 {
        post(
            addr,
            "/__admin/conversions",
            &format!(
                r#"{{"tracking_id": 7, "event": "install", "google_aid": "{}"}}"#,
                gaid(i)
            ),
        )
        .await?;
    }
    println!("postback-waits: {deliveries} deliveries retrying every 0.3 s; {waits} pending postback waits; {requests} clicks per measurement, 4 connections");
    println!("round  waits     p50 us   p99 us   req/s   (mock CPU with no clicks, cores)");
    let mut p99s = Vec::new();
    let mut cores = [Vec::new(), Vec::new()];
    for round in 0..rounds {
        let mut measured = [(0u32, 0u32); 2];
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for with in order {
            let mut open = Vec::new();
            if with == 1 {
                for k in 0..waits {
                    let mut s = TcpStream::connect(addr).await?;
                    s.write_all(format!("GET /__admin/postbacks/wait?tracking_id=7&count=100000{k}&timeout_ms=60000 HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes()).await?;
                    open.push(s);
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            // What the mock burns with no click to answer: the retries, and the waits if any.
            let before = mock.cpu_secs().unwrap_or(0.0);
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            let idle_cores = (mock.cpu_secs().unwrap_or(0.0) - before) / 2.0;
            let out = load::run(addr, 4, requests, load::clicks("pw")).await?;
            measured[with] = (out.percentile(0.5), out.percentile(0.99));
            cores[with].push(idle_cores);
            println!(
                "{round:>5}  {:>5}  {:>9}  {:>7}  {:>7.0}   {idle_cores:.2}",
                if with == 1 { waits } else { 0 },
                out.percentile(0.5),
                out.percentile(0.99),
                out.rate()
            );
            drop(open);
        }
        p99s.push(f64::from(measured[1].1) / f64::from(measured[0].1.max(1)));
    }
    p99s.sort_by(f64::total_cmp);
    println!(
        "with/without waits: click p99 {} (median {:.2}x; target within 2x)",
        p99s.iter()
            .map(|r| format!("{r:.2}x"))
            .collect::<Vec<_>>()
            .join(" "),
        p99s[p99s.len() / 2]
    );
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "mock CPU with no clicks: {:.2} cores without waits, {:.2} with (medians)",
        median(&mut cores[0]),
        median(&mut cores[1])
    );
    let _ = std::fs::remove_file(&trackers);
    mock.stop();
    Ok(())
}
