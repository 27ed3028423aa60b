//! Shared by the end-to-end tests that run `metrica-s2s serve`: start it on port 0, talk raw
//! HTTP/1.1 to it, stop it with SIGTERM.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};

pub struct Server {
    pub child: Child,
    pub click: SocketAddr,
    pub impression: SocketAddr,
    /// The https listener, with `--tls-listen`.
    pub https: Option<SocketAddr>,
    /// Kept open: the rest of the banner and later output still arrive.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_metrica-s2s")
}

/// Starts the server and reads its banner for the bound addresses.
pub fn start(extra: &[&str]) -> Server {
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--click-listen",
            "127.0.0.1:0",
            "--impression-listen",
            "127.0.0.1:0",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut addr = |label: &str| -> SocketAddr {
        for line in lines.by_ref() {
            let line = line.expect("banner line");
            if let Some(rest) = line.strip_prefix(&format!("listening  {label}")) {
                let url = rest.split_whitespace().next().expect("url");
                return url.trim_start_matches("http://").parse().expect("address");
            }
        }
        panic!("no {label} line in the banner");
    };
    let click = addr("clicks");
    let impression = addr("impressions");
    // The banner's next line: the https listener's, when there is one.
    let https = lines.next().and_then(Result::ok).and_then(|l| {
        l.strip_prefix("listening  https")
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|url| url.trim_start_matches("https://").parse().ok())
    });
    Server {
        child,
        click,
        impression,
        https,
        _stdout: lines,
    }
}

pub fn http_get(addr: SocketAddr, target: &str) -> u16 {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    text.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status")
}

pub fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A test that fails half-way must not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Collects stderr on a thread of its own, so a chatty server never blocks on the pipe.
    pub fn drain_stderr(&mut self) -> std::thread::JoinHandle<Vec<u8>> {
        let mut err = self.child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let _ = err.read_to_end(&mut out);
            out
        })
    }

    /// Resident memory in MiB, from /proc.
    pub fn rss_mib(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS");
        kib / 1024.0
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

/// A clean click on tracker `tracking_id`, timestamped now.
pub fn clean_click(tracking_id: u64, click_id: &str) -> String {
    format!(
        "/serve/{tracking_id}?click_id={click_id}&device_ip=5.255.232.147&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)&click_timestamp={}",
        now()
    )
}

/// The status and the body of the next answer on `reader`, or `None` when the connection
/// ended first.
pub fn read_response(reader: &mut impl BufRead) -> Option<(u16, Vec<u8>)> {
    metrica_s2s_testkit::read_response(reader)
        .ok()
        .map(|r| (r.status, r.body))
}

/// `method target` with `body` on a fresh connection: the status and the body.
pub fn http(addr: SocketAddr, method: &str, target: &str, body: &str) -> (u16, Vec<u8>) {
    http_as(addr, None, method, target, body)
}

/// `http` with `Authorization: <authorization>` when given.
pub fn http_as(
    addr: SocketAddr,
    authorization: Option<&str>,
    method: &str,
    target: &str,
    body: &str,
) -> (u16, Vec<u8>) {
    let header = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\n{header}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    read_response(&mut BufReader::new(s)).expect("an answer")
}
