//! `s2s-bench waiters`: what journal waiters cost the clicks. One mock, its ring full; in each
//! round the same click load runs with no waiter and with `--waiters` pending `wait` calls
//! (most by click id, as the runner waits, some by another tracker, some by code: the ones
//! every arrival is checked against), the order alternating. Prints click p50/p99 and rate for
//! both and their ratios, then checks that waiters whose clients left are gone.

use crate::child::{mock_command, Server, MOCK_MARKER};
use crate::load;
use std::net::SocketAddr;
use std::path::Path;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Opens `n` pending waits; dropping the connections abandons them.
async fn open_waiters(addr: SocketAddr, n: usize) -> std::io::Result<Vec<TcpStream>> {
    let mut open = Vec::with_capacity(n);
    for k in 0..n {
        let filter = match k % 20 {
            0 => "tracking_id=42".to_owned(),
            1 => "code=click-id-missing&since=999999999".to_owned(),
            _ => format!("click_id=never-{k}"),
        };
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(
            format!("GET /__admin/requests/wait?{filter}&timeout_ms=60000 HTTP/1.1\r\nHost: {addr}\r\n\r\n")
                .as_bytes(),
        )
        .await?;
        open.push(s);
    }
    Ok(open)
}

async fn waiting(addr: SocketAddr) -> std::io::Result<u64> {
    let health = load::get(addr, "/__admin/health").await?;
    let body = health.split("\r\n\r\n").nth(1).unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(body).map_err(std::io::Error::other)?;
    Ok(v["journal"]["waiting"].as_u64().unwrap_or(u64::MAX))
}

/// Waits, bounded, until the mock reports `want` waiters.
async fn settle(addr: SocketAddr, want: u64) -> std::io::Result<u64> {
    let mut now = waiting(addr).await?;
    for _ in 0..500 {
        if now == want {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        now = waiting(addr).await?;
    }
    Ok(now)
}

pub async fn run(dir: &Path, waiters: usize, requests: u64, rounds: usize) -> std::io::Result<()> {
    let mock = Server::spawn(mock_command(dir), MOCK_MARKER)?;
    let addr = mock.addr;
    // A full ring: 10,000 entries, the default capacity, that a scanning waiter would read.
    load::run(addr, 8, 10_000, load::clicks("w")).await?;
    println!("waiters: {waiters} pending wait calls; {requests} clicks per measurement, 4 connections; ring full (10,000 entries)");
    println!("round  waiters     p50 us   p99 us   req/s");
    let (mut p99s, mut rates) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut measured = [(0u32, 0u32, 0f64); 2];
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for with in order {
            let open = if with == 1 {
                let open = open_waiters(addr, waiters).await?;
                let filed = settle(addr, waiters as u64).await?;
                if filed != waiters as u64 {
                    return Err(std::io::Error::other(format!(
                        "only {filed} of {waiters} waiters filed"
                    )));
                }
                open
            } else {
                Vec::new()
            };
            let out = load::run(addr, 4, requests, load::clicks("w")).await?;
            measured[with] = (out.percentile(0.5), out.percentile(0.99), out.rate());
            println!(
                "{round:>5}  {:>7}  {:>9}  {:>7}  {:>7.0}",
                if with == 1 { waiters } else { 0 },
                out.percentile(0.5),
                out.percentile(0.99),
                out.rate()
            );
            drop(open);
            let left = settle(addr, 0).await?;
            if left != 0 {
                return Err(std::io::Error::other(format!(
                    "{left} abandoned waiters still filed"
                )));
            }
        }
        p99s.push(f64::from(measured[1].1) / f64::from(measured[0].1.max(1)));
        rates.push(measured[1].2 / measured[0].2.max(1.0));
    }
    p99s.sort_by(f64::total_cmp);
    rates.sort_by(f64::total_cmp);
    println!(
        "with/without waiters: p99 {} (median {:.2}x; target within 2x), rate {} (median {:.2}x)",
        p99s.iter()
            .map(|r| format!("{r:.2}x"))
            .collect::<Vec<_>>()
            .join(" "),
        p99s[p99s.len() / 2],
        rates
            .iter()
            .map(|r| format!("{r:.2}x"))
            .collect::<Vec<_>>()
            .join(" "),
        rates[rates.len() / 2]
    );
    println!("abandoned waiters filed away after each round: yes");
    mock.stop();
    Ok(())
}
