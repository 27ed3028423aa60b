//! A bounded HTTP/1.1 load generator for loopback servers: `connections` keep-alive
//! connections share a fixed budget of requests, each recording its latency. It stops by
//! itself when the budget is spent, and refuses any address outside 127.0.0.0/8 and ::1.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Outcome {
    pub requests: u64,
    pub non_2xx: u64,
    pub elapsed: Duration,
    /// Sorted latencies in microseconds.
    pub latencies_us: Vec<u32>,
}

impl Outcome {
    pub fn rate(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    pub fn percentile(&self, p: f64) -> u32 {
        let n = self.latencies_us.len();
        if n == 0 {
            return 0;
        }
        self.latencies_us[((n - 1) as f64 * p).round() as usize]
    }
}

/// Clean clicks, a distinct click id each (`{tag}{run}-{i}`, a run per call), from 50,000
/// device IPs, timestamped now.
pub fn clicks(tag: &'static str) -> Arc<dyn Fn(u64) -> String + Send + Sync> {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    Arc::new(move |i| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!(
            "/serve/1234567890123456789?click_id={tag}{run}-{i}&device_ip=5.{}.{}.{}&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20Chrome%2F120.0.6099.144%20Mobile%20Safari%2F537.36&click_timestamp={}",
            i % 200 + 1,
            i / 200 % 250,
            i % 250 + 1,
            now - 2
        )
    })
}

/// `target(i)` builds the i-th request target.
pub async fn run(
    addr: SocketAddr,
    connections: usize,
    total: u64,
    target: Arc<dyn Fn(u64) -> String + Send + Sync>,
) -> std::io::Result<Outcome> {
    run_over(addr, connections, total, target, |a| async move {
        let s = TcpStream::connect(a).await?;
        s.set_nodelay(true)?;
        Ok(s)
    })
    .await
}

/// As [`run`], each connection made by `connect` (a TLS client's, say).
pub async fn run_over<S, C, F>(
    addr: SocketAddr,
    connections: usize,
    total: u64,
    target: Arc<dyn Fn(u64) -> String + Send + Sync>,
    connect: C,
) -> std::io::Result<Outcome>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    C: Fn(SocketAddr) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = std::io::Result<S>> + Send,
{
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!(
            "refusing to load {addr}: loopback only"
        )));
    }
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (next, target, connect) = (next.clone(), target.clone(), connect.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = BufReader::new(connect(addr).await?);
            let mut lat = Vec::new();
            let mut bad = 0u64;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let req = format!(
                    "GET {} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: s2s-bench\r\n\r\n",
                    target(i)
                );
                let t = Instant::now();
                stream.get_mut().write_all(req.as_bytes()).await?;
                let (status, _) = read_answer(&mut stream).await?;
                let ok = (200..300).contains(&status);
                lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                bad += u64::from(!ok);
            }
            Ok::<_, std::io::Error>((lat, bad))
        }));
    }
    let mut latencies_us = Vec::new();
    let mut non_2xx = 0;
    for t in tasks {
        let (lat, bad) = t.await.map_err(std::io::Error::other)??;
        latencies_us.extend(lat);
        non_2xx += bad;
    }
    let elapsed = started.elapsed();
    latencies_us.sort_unstable();
    Ok(Outcome {
        requests: latencies_us.len() as u64,
        non_2xx,
        elapsed,
        latencies_us,
    })
}

/// One answer from a kept-alive connection: its status and its body (Content-Length framed).
pub async fn read_answer<S: AsyncRead + Unpin>(
    stream: &mut BufReader<S>,
) -> std::io::Result<(u16, Vec<u8>)> {
    let r = metrica_s2s_testkit::read_response_async(stream).await?;
    Ok((r.status, r.body))
}

/// One `GET` on a fresh connection, for reading the mock's `/metrics` after a load.
pub async fn get(addr: SocketAddr, path: &str) -> std::io::Result<String> {
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::other(format!(
            "refusing to query {addr}: loopback only"
        )));
    }
    let mut stream = TcpStream::connect(addr).await?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(req.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}
