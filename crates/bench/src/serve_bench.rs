//! `s2s-bench serve`: the mock against a bare axum server that answers 204 and does nothing
//! else, under the same load in the same run. Prints req/s, p50, p99 and server CPU µs per
//! request for both, the ratios, and the mock's RSS after a long run at the default journal
//! capacity.

use crate::child::{mock_command, Server, MOCK_MARKER};
use crate::load;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub struct Plan {
    /// Requests per server, split evenly over the rounds.
    pub requests: u64,
    pub rounds: usize,
    pub soak: u64,
    pub connections: usize,
    /// More `serve` flags, to measure what a setting costs (`--journal-capacity 10`).
    pub mock_args: String,
}

struct Measured {
    out: load::Outcome,
    cpu_us: f64,
}

/// Every call gives a generator with click ids of its own. The mock remembers half a million
/// click ids and flags a repeat as `click-id-duplicate`, a warning it renders and journals; ids
/// repeated from one run to the next would measure that path instead of clean clicks.
fn clicks() -> Arc<dyn Fn(u64) -> String + Send + Sync> {
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let run = RUNS.fetch_add(1, Ordering::Relaxed);
    const UAS: &[&str] = &[
        "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20Chrome%2F120.0.6099.144%20Mobile%20Safari%2F537.36",
        "Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_1%20like%20Mac%20OS%20X)%20AppleWebKit%2F605.1.15%20(KHTML%2C%20like%20Gecko)%20Version%2F17.1%20Mobile%2F15E148%20Safari%2F604.1",
        "Dalvik%2F2.1.0%20(Linux%3B%20U%3B%20Android%2013%3B%20SM-S911B%20Build%2FTP1A.220624.014)",
        "Mozilla%2F5.0%20(Linux%3B%20Android%2013%3B%20SAMSUNG%20SM-A536B)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20SamsungBrowser%2F23.0%20Chrome%2F115.0.0.0%20Mobile%20Safari%2F537.36",
    ];
    Arc::new(move |i| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!(
            "/serve/1234567890123456789?click_id=b{run}-{i}&device_ip=5.{}.{}.{}&device_ua={}&click_timestamp={}",
            i % 200 + 1,
            i / 200 % 250,
            i % 250 + 1,
            UAS[(i % UAS.len() as u64) as usize],
            now - 2
        )
    })
}

async fn measure(server: &Server, plan: &Plan, requests: u64) -> std::io::Result<Measured> {
    // Warm up connections, caches and the allocator first.
    load::run(server.addr, plan.connections, 2_000, clicks()).await?;
    let before = server.cpu_secs().unwrap_or(0.0);
    let out = load::run(server.addr, plan.connections, requests, clicks()).await?;
    let after = server.cpu_secs().unwrap_or(0.0);
    Ok(Measured {
        cpu_us: (after - before) * 1e6 / out.requests.max(1) as f64,
        out,
    })
}

fn report(name: &str, m: &Measured) {
    println!(
        "{name:<12} {:>9.0} req/s   p50 {:>6} µs   p99 {:>6} µs   server CPU {:>6.1} µs/req   non-2xx {}",
        m.out.rate(),
        m.out.percentile(0.50),
        m.out.percentile(0.99),
        m.cpu_us,
        m.out.non_2xx
    );
}

pub async fn run(plan: Plan, dir: &Path) -> std::io::Result<()> {
    let bare_bin = dir.join("bare-server");
    let bare = Server::spawn(Command::new(&bare_bin), "listening ")?;
    let mut mock_cmd = mock_command(dir);
    mock_cmd.args(plan.mock_args.split_whitespace());
    let mock = Server::spawn(mock_cmd, MOCK_MARKER)?;
    println!("load: {} requests over {} keep-alive connections per server, loopback, both servers in this run", plan.requests, plan.connections);
    if !plan.mock_args.is_empty() {
        println!("mock flags: {}", plan.mock_args);
    }
    // Rounds of back-to-back pairs, the order alternating, so a noisy neighbour or a drifting
    // clock hurts both alike; each round gives a ratio and the median is reported.
    let per_run = plan.requests / plan.rounds.max(1) as u64;
    let mut rounds = Vec::new();
    for r in 0..plan.rounds.max(1) {
        let (b, m) = if r % 2 == 0 {
            let b = measure(&bare, &plan, per_run).await?;
            (b, measure(&mock, &plan, per_run).await?)
        } else {
            let m = measure(&mock, &plan, per_run).await?;
            (measure(&bare, &plan, per_run).await?, m)
        };
        println!(
            "round {}: bare {:>6.0} req/s, mock {:>6.0} req/s, ratio {:.2}x; CPU/req bare {:.1} µs, mock {:.1} µs",
            r + 1,
            b.out.rate(),
            m.out.rate(),
            m.out.rate() / b.out.rate(),
            b.cpu_us,
            m.cpu_us
        );
        rounds.push((b, m));
    }
    rounds.sort_by(|x, y| {
        let rx = x.1.out.rate() / x.0.out.rate();
        let ry = y.1.out.rate() / y.0.out.rate();
        rx.total_cmp(&ry)
    });
    let (b, m) = &rounds[rounds.len() / 2];
    println!("median round:");
    report("bare axum", b);
    report("mock", m);
    println!(
        "ratios mock/bare (median of {} rounds): throughput {:.2}x (target >= 0.85), p99 {:.2}x (target <= 2), CPU per request {:.2}x",
        rounds.len(),
        m.out.rate() / b.out.rate(),
        f64::from(m.out.percentile(0.99)) / f64::from(b.out.percentile(0.99).max(1)),
        m.cpu_us / b.cpu_us.max(0.001)
    );
    report_diagnostics(mock.addr, "the rounds").await;
    bare.stop();
    if plan.soak > 0 {
        let soak = load::run(mock.addr, plan.connections, plan.soak, clicks()).await?;
        println!(
            "mock RSS after {} more requests (default journal capacity): {:.1} MB (target < 100 MB); {:.0} req/s, non-2xx {}",
            soak.requests,
            mock.rss_mb().unwrap_or(f64::NAN),
            soak.rate(),
            soak.non_2xx
        );
        report_diagnostics(mock.addr, "the rounds and the soak").await;
    }
    mock.stop();
    Ok(())
}

/// The load is meant to be clean clicks: a diagnostic would mean the mock measured another
/// path (a rendered and journaled warning), so the count is printed with the figures.
async fn report_diagnostics(mock: SocketAddr, during: &str) {
    match load::get(mock, "/metrics").await {
        Ok(text) => {
            let found = diagnostics(&text);
            let total: u64 = found.iter().map(|(_, n)| n).sum();
            println!(
                "mock diagnostics during {during}: {total} (0 expected: every click is clean)"
            );
            for (labels, n) in found {
                println!("  {labels}: {n}");
            }
        }
        Err(e) => println!("mock diagnostics during {during}: unknown (/metrics: {e})"),
    }
}

/// `(labels, count)` of each `s2s_diagnostics_total` line of a Prometheus text answer.
fn diagnostics(metrics: &str) -> Vec<(String, u64)> {
    metrics
        .lines()
        .filter_map(|l| l.strip_prefix("s2s_diagnostics_total"))
        .filter_map(|rest| {
            let (labels, n) = rest.rsplit_once(' ')?;
            Some((labels.trim().to_owned(), n.trim().parse().ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn click_id(target: &str) -> &str {
        let start = target
            .find("click_id=")
            .map_or(0, |i| i + "click_id=".len());
        target[start..].split('&').next().unwrap_or("")
    }

    #[test]
    fn every_run_sends_click_ids_of_its_own() {
        let (a, b) = (clicks(), clicks());
        assert_ne!(click_id(&a(0)), click_id(&b(0)));
        assert_ne!(click_id(&a(1)), click_id(&a(2)));
        assert!(!click_id(&a(0)).is_empty());
    }

    #[test]
    fn diagnostics_are_read_from_the_metrics_text() {
        let text = "# HELP s2s_diagnostics Diagnostics found.\n\
                    s2s_diagnostics_total{code=\"click-id-duplicate\",severity=\"warning\"} 12\n\
                    s2s_requests_total{kind=\"click\",status=\"204\"} 99\n\
                    s2s_diagnostics_total{code=\"missing-param\",severity=\"error\"} 3\n";
        assert_eq!(
            diagnostics(text),
            [
                (
                    "{code=\"click-id-duplicate\",severity=\"warning\"}".to_owned(),
                    12
                ),
                ("{code=\"missing-param\",severity=\"error\"}".to_owned(), 3),
            ]
        );
        assert!(diagnostics("s2s_requests_total 5\n").is_empty());
    }
}
