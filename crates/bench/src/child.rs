//! A server the benchmarks start as a child process, found by the address it prints, and
//! read from /proc for its CPU time and RSS.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// `metrica-s2s serve` from `dir` on free loopback ports; more flags may be added.
pub fn mock_command(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(dir.join("metrica-s2s"));
    cmd.args([
        "serve",
        "--click-listen",
        "127.0.0.1:0",
        "--impression-listen",
        "127.0.0.1:0",
    ]);
    cmd
}

/// The banner line that holds the click listener's URL.
pub const MOCK_MARKER: &str = "listening  clicks      ";

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
}

impl Server {
    pub fn spawn(mut cmd: Command, marker: &str) -> std::io::Result<Server> {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let line = lines
                .next()
                .ok_or_else(|| std::io::Error::other("server exited before listening"))??;
            if let Some(rest) = line.split(marker).nth(1) {
                let url = rest.split_whitespace().next().unwrap_or("");
                break url
                    .trim_start_matches("http://")
                    .parse()
                    .map_err(std::io::Error::other)?;
            }
        };
        // Keep draining stdout so the server never blocks on it.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Server { child, addr })
    }

    /// utime + stime in seconds, from /proc.
    pub fn cpu_secs(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some(ticks / 100.0)
    }

    pub fn rss_mb(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: f64 = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        Some(kb / 1024.0)
    }

    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
