//! `s2s-bench postbacks`: `metrica-s2s serve` with a journal of clicks, then conversions one
//! after another, each timed from the moment its report is sent to the moment its postback
//! reaches a receiver in this process (which answers 200 at once, so its own time is not
//! counted). The baseline, in the same run: a bare GET round trip to the same receiver.

use crate::child::{mock_command, Server, MOCK_MARKER};
use crate::load;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const TRACKER: u64 = 7;
const UA: &str = "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20Chrome%2F120.0.6099.144%20Mobile%20Safari%2F537.36";

fn gaid(i: u64) -> String {
    format!("{:08x}-0000-4000-8000-{:012x}", i, i * 7919)
}

/// A receiver answering 200 at once; tells the bench when each postback arrived, by its tx.
async fn receiver() -> std::io::Result<(SocketAddr, mpsc::UnboundedReceiver<(String, Instant)>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let at = Instant::now();
        let tx = tx.clone();
        async move {
            let id = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                .find(|(k, _)| k == "tx")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let _ = tx.send((id, at));
            "ok"
        }
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, rx))
}

/// One request on a kept-alive connection; the answer's body.
async fn exchange(stream: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<Vec<u8>> {
    stream.get_mut().write_all(request).await?;
    Ok(load::read_answer(stream).await?.1)
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    sorted
        .get(((sorted.len().max(1) - 1) as f64 * p).round() as usize)
        .copied()
        .unwrap_or(0)
}

fn line(name: &str, mut us: Vec<u32>) -> (u32, u32) {
    us.sort_unstable();
    let (p50, p99) = (percentile(&us, 0.5), percentile(&us, 0.99));
    println!(
        "{name:<34} p50 {p50:>6} µs   p99 {p99:>6} µs   max {:>6} µs   n {}",
        us.last().copied().unwrap_or(0),
        us.len()
    );
    (p50, p99)
}

pub async fn run(dir: &Path, clicks: u64, conversions: u64) -> std::io::Result<()> {
    let (rx_addr, mut arrivals) = receiver().await?;
    let trackers =
        std::env::temp_dir().join(format!("s2s-bench-trackers-{}.toml", std::process::id()));
    std::fs::write(
        &trackers,
        format!(
            "[[tracker]]\nid = {TRACKER}\nname = \"bench\"\nplatform = \"android\"\nstore_url = \"https://x\"\n[[tracker.postback]]\nevent = \"install\"\nurl = \"http://{rx_addr}/pb?tx={{transaction_id}}&cid={{click_id}}&ip={{install_ipv6}}&ua={{click_user_agent}}&m={{match_type}}\"\n"
        ),
    )?;
    let mut cmd = mock_command(dir);
    cmd.args([
        "--journal-capacity",
        &(clicks + conversions + 100).to_string(),
        "--config",
    ])
    .arg(&trackers);
    let mock = Server::spawn(cmd, MOCK_MARKER)?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let filled = load::run(
        mock.addr,
        8,
        clicks,
        Arc::new(move |i| {
            format!(
                "/serve/{TRACKER}?click_id=p{i}&google_aid={}&device_ip=5.{}.{}.{}&device_ua={UA}&click_timestamp={}",
                gaid(i),
                i % 200 + 1,
                i / 200 % 250,
                i % 250 + 1,
                now - 2
            )
        }),
    )
    .await?;
    println!(
        "journal: {} clicks of tracker {TRACKER}, each with its own google_aid ({} not 2xx)",
        filled.requests, filled.non_2xx
    );

    // Baseline: a bare GET round trip to the receiver.
    let mut bare = BufReader::new(TcpStream::connect(rx_addr).await?);
    bare.get_mut().set_nodelay(true)?;
    let mut base = Vec::new();
    for i in 0..conversions {
        let t = Instant::now();
        exchange(
            &mut bare,
            format!("GET /pb?tx=bare-{i} HTTP/1.1\r\nHost: {rx_addr}\r\n\r\n").as_bytes(),
        )
        .await?;
        base.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
        let _ = arrivals.recv().await;
    }

    let mut admin = BufReader::new(TcpStream::connect(mock.addr).await?);
    admin.get_mut().set_nodelay(true)?;
    let (mut answered, mut delivered, mut first) = (Vec::new(), Vec::new(), None);
    for k in 0..conversions {
        let body = format!(
            r#"{{"tracking_id": {TRACKER}, "event": "install", "google_aid": "{}", "device_ip": "5.255.232.147"}}"#,
            gaid(k * 7 % clicks)
        );
        let request = format!(
            "POST /__admin/conversions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            mock.addr,
            body.len()
        );
        let t = Instant::now();
        let answer = exchange(&mut admin, request.as_bytes()).await?;
        let answered_us = u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX);
        let v: serde_json::Value =
            serde_json::from_slice(&answer).map_err(std::io::Error::other)?;
        if v["attributed"] != true {
            return Err(std::io::Error::other(format!(
                "conversion {k} not attributed: {v}"
            )));
        }
        let tx = v["transaction_id"].as_str().unwrap_or_default().to_owned();
        let at = loop {
            match tokio::time::timeout(Duration::from_secs(10), arrivals.recv()).await {
                Ok(Some((id, at))) if id == tx => break at,
                Ok(Some(_)) => continue,
                _ => {
                    return Err(std::io::Error::other(format!(
                        "postback {tx} never arrived"
                    )))
                }
            }
        };
        let us = u32::try_from(at.duration_since(t).as_micros()).unwrap_or(u32::MAX);
        if k == 0 {
            first = Some(us);
        } else {
            answered.push(answered_us);
            delivered.push(us);
        }
    }
    println!(
        "conversions: {conversions}, one at a time; the first (which indexes the journal) apart"
    );
    let (_, base99) = line("bare GET round trip to the receiver", base);
    line("conversion answered (attributed)", answered);
    let (_, p99) = line("conversion to postback arrival", delivered);
    println!(
        "first conversion to postback arrival: {} µs; p99 ratio to the bare round trip {:.1}x; target p99 <= 5000 µs: {}",
        first.unwrap_or(0),
        f64::from(p99) / f64::from(base99.max(1)),
        if p99 <= 5000 { "met" } else { "NOT met" }
    );
    mock.stop();
    let _ = std::fs::remove_file(&trackers);
    Ok(())
}
