//! Hostile HTTP against the real `metrica-s2s serve` binary.
//!
//! While each attack runs, a steady client keeps sending clean clicks on a keep-alive
//! connection, and every one must get its 204 within 5 s. After each attack the server is
//! still running, its resident memory is under 100 MiB, every steady click is in the journal,
//! and stderr holds no panic. Every loop is bounded; all traffic is on loopback.

mod support;

use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use support::{clean_click, read_response, sigterm, start};

/// The steady client's tracker: its clicks are counted in the journal by this id.
const STEADY_TRACKER: u64 = 777;
const MEMORY_BOUND_MIB: f64 = 100.0;

struct Steady {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    handle: JoinHandle<Result<(), String>>,
}

/// Clean clicks, one at a time, until stopped (at most 50,000).
fn steady(addr: SocketAddr) -> Steady {
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let (s, a) = (stop.clone(), answered.clone());
    let handle = std::thread::spawn(move || {
        let stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
        let mut writer = stream;
        for i in 0..50_000 {
            if s.load(Ordering::SeqCst) {
                return Ok(());
            }
            let target = clean_click(STEADY_TRACKER, &format!("steady-{i}"));
            write!(writer, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n")
                .map_err(|e| format!("click {i}: write failed: {e}"))?;
            match read_response(&mut reader) {
                Some((204, _)) => a.fetch_add(1, Ordering::SeqCst),
                Some((status, body)) => {
                    return Err(format!(
                        "click {i}: {status} {}",
                        String::from_utf8_lossy(&body)
                    ))
                }
                None => return Err(format!("click {i}: no answer within 5 s")),
            };
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    });
    Steady {
        stop,
        answered,
        handle,
    }
}

impl Steady {
    fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.answered.load(Ordering::SeqCst) < n {
            assert!(
                Instant::now() < deadline,
                "the steady client never got going"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the client after a few more clicks and returns how many were answered.
    fn finish(self) -> usize {
        let after = self.answered.load(Ordering::SeqCst) + 5;
        self.wait_for(after);
        self.stop.store(true, Ordering::SeqCst);
        let result = self.handle.join().expect("steady client thread");
        if let Err(e) = result {
            panic!("a clean click failed during the attack: {e}");
        }
        self.answered.load(Ordering::SeqCst)
    }
}

/// Runs `attack` against a fresh server while the steady client runs, then checks the server.
fn siege(attack_name: &str, extra: &[&str], attack: impl FnOnce(SocketAddr)) {
    siege_server(attack_name, extra, |server| attack(server.click));
}

/// As `siege`, the attack given the whole server (its https listener, say).
fn siege_server(attack_name: &str, extra: &[&str], attack: impl FnOnce(&support::Server)) {
    let mut args = vec!["--journal-capacity", "100000"];
    args.extend_from_slice(extra);
    let mut server = start(&args);
    let stderr = server.drain_stderr();
    let client = steady(server.click);
    client.wait_for(5);
    attack(&server);
    assert!(server.is_running(), "the server died during the attack");
    let peak = server.rss_mib();
    let answered = client.finish();
    let journaled = journal_total(server.click, &format!("tracking_id={STEADY_TRACKER}"));
    // Figures for the README's "Reliability and security" (see with --nocapture).
    eprintln!("{attack_name}: {answered} steady clicks answered and journaled, RSS {peak:.1} MiB");
    assert_eq!(
        journaled, answered,
        "every answered steady click is journaled"
    );
    assert!(
        peak < MEMORY_BOUND_MIB,
        "resident memory {peak:.1} MiB after the attack"
    );
    sigterm(&server.child);
    let status = server.child.wait().expect("wait");
    let logs = String::from_utf8_lossy(&stderr.join().expect("stderr")).into_owned();
    assert!(!logs.contains("panicked"), "a panic was logged:\n{logs}");
    assert_eq!(status.code(), Some(0), "clean exit after SIGTERM:\n{logs}");
}

fn admin_get(addr: SocketAddr, target: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let (status, body) = read_response(&mut BufReader::new(s)).expect("admin answer");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("admin JSON")
}

fn journal_total(addr: SocketAddr, query: &str) -> usize {
    admin_get(addr, &format!("/__admin/requests?{query}&limit=0"))["total"]
        .as_u64()
        .expect("total") as usize
}

/// Sends raw bytes on a new connection (write errors ignored: the server may hang up first)
/// and returns the first answer's status, or `None` when it closed without one.
fn raw(addr: SocketAddr, bytes: &[u8]) -> Option<(u16, Vec<u8>)> {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = (&s).write_all(bytes);
    read_response(&mut BufReader::new(s))
}

#[test]
fn one_megabyte_request_targets() {
    siege("1 MB targets", &[], |addr| {
        for _ in 0..10 {
            let mut req = b"GET /serve/1?click_id=".to_vec();
            req.resize(req.len() + 1_000_000, b'a');
            req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
            let status = raw(addr, &req).map(|(s, _)| s);
            assert_eq!(
                status,
                Some(431),
                "a 1 MB head is refused by the HTTP layer"
            );
        }
        // Within the head limit but over 16 KiB: the mock's own 414, as problem+json.
        let target = format!("/serve/1?click_id={}", "a".repeat(20_000));
        let (status, body) = raw(
            addr,
            format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
        )
        .expect("answer");
        assert_eq!(status, 414);
        let problem: serde_json::Value = serde_json::from_slice(&body).expect("problem+json");
        assert!(problem["detail"].is_string(), "{problem}");
    });
}

#[test]
fn thousands_of_headers() {
    siege("thousands of headers", &[], |addr| {
        for n in [101, 5_000] {
            let mut req = format!("GET {} HTTP/1.1\r\nHost: x\r\n", clean_click(1, "h"));
            for i in 0..n {
                req.push_str(&format!("X-Header-{i}: v\r\n"));
            }
            req.push_str("\r\n");
            let status = raw(addr, req.as_bytes()).map(|(s, _)| s);
            assert_eq!(status, Some(431), "{n} headers");
        }
    });
}

#[test]
fn invalid_utf8_and_nul_in_the_target() {
    siege("invalid UTF-8 and NUL", &[], |addr| {
        // Raw bytes the HTTP grammar forbids: refused before the mock sees them.
        for bad in [&b"\xff\xfe"[..], b"\x00", b"\xc3\x28", b"a\x00b"] {
            let mut req = b"GET /serve/1?click_id=".to_vec();
            req.extend_from_slice(bad);
            req.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n\r\n");
            assert_eq!(raw(addr, &req).map(|(s, _)| s), Some(400), "{bad:?}");
        }
        // The same bytes percent-encoded reach the rules and get a diagnosis.
        for bad in ["%FF%FE", "%00", "%C3%28"] {
            let target = format!(
                "/serve/1?click_id=c&device_ip=5.255.232.147&device_ua=Mozilla{bad}&click_timestamp={}",
                support::now()
            );
            let (status, body) = raw(
                addr,
                format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
            )
            .expect("answer");
            assert_eq!(status, 400, "{bad}");
            let problem: serde_json::Value =
                serde_json::from_slice(&body).expect("problem+json parses");
            assert!(
                problem["diagnostics"]
                    .as_array()
                    .is_some_and(|d| d.iter().any(|d| d["param"] == "device_ua")),
                "{problem}"
            );
            assert!(
                !body.iter().any(|&b| b < 0x20),
                "raw control bytes in the body"
            );
        }
    });
}

#[test]
fn raw_spaces_in_the_target() {
    siege("raw spaces", &[], |addr| {
        for req in [
            "GET /serve/1?device_ua=Mozilla 5.0 (Linux) HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /serve/1?device_ua=a\tb HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET  /serve/1 HTTP/1.1\r\nHost: x\r\n\r\n",
        ] {
            assert_eq!(
                raw(addr, req.as_bytes()).map(|(s, _)| s),
                Some(400),
                "{req:?}"
            );
        }
    });
}

#[test]
fn http_1_0_requests() {
    siege("HTTP/1.0", &[], |addr| {
        for i in 0..20 {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            // No Host header: HTTP/1.0 does not require one.
            write!(
                s,
                "GET {} HTTP/1.0\r\n\r\n",
                clean_click(10, &format!("old-{i}"))
            )
            .expect("write");
            let mut answer = String::new();
            s.read_to_string(&mut answer)
                .expect("the server closes an HTTP/1.0 connection after answering");
            assert!(answer.starts_with("HTTP/1.0 204"), "{answer}");
        }
        assert_eq!(journal_total(addr, "tracking_id=10"), 20);
    });
}

#[test]
fn pipelined_requests() {
    siege("pipelining", &[], |addr| {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        // 100 requests in one write: even ones clean, odd ones with a broken device_ip.
        let mut batch = String::new();
        for i in 0..100 {
            let target = clean_click(20, &format!("p-{i}"));
            let target = if i % 2 == 1 {
                target.replace("device_ip=5.255.232.147", "device_ip=nope")
            } else {
                target
            };
            batch.push_str(&format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"));
        }
        (&s).write_all(batch.as_bytes()).expect("write");
        let mut reader = BufReader::new(s);
        for i in 0..100 {
            let (status, _) =
                read_response(&mut reader).expect("every pipelined request is answered");
            assert_eq!(status, if i % 2 == 1 { 400 } else { 204 }, "request {i}");
        }
        let page = admin_get(addr, "/__admin/requests?tracking_id=20");
        let ids: Vec<String> = page["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|e| e["params"]["click_id"].as_str().unwrap_or("").to_owned())
            .collect();
        let sent: Vec<String> = (0..100).map(|i| format!("p-{i}")).collect();
        assert_eq!(ids, sent, "journaled once each, in the order sent");
    });
}

/// Reads until the server closes the connection; how long that took, or `None` after `limit`.
fn closed_within(mut s: &TcpStream, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    s.set_read_timeout(Some(limit)).expect("timeout");
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(started.elapsed())
            }
            Err(_) => return None,
        }
        if started.elapsed() > limit {
            return None;
        }
    }
}

#[test]
fn slowloris_clients_are_cut_off() {
    siege("slowloris", &["--header-read-timeout", "1"], |addr| {
        let dribblers: Vec<_> = (0..50)
            .map(|_| {
                std::thread::spawn(move || {
                    let s = TcpStream::connect(addr).expect("connect");
                    let started = Instant::now();
                    let head = b"GET /serve/1?click_id=slow HTTP/1.1\r\nHost: x\r\nX-Slow: ";
                    // One byte every 100 ms, for at most 10 s: far slower than the 1 s allowed.
                    for b in head
                        .iter()
                        .chain(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter())
                    {
                        if (&s).write_all(&[*b]).is_err() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                        if closed_within(&s, Duration::from_millis(1)).is_some() {
                            break;
                        }
                    }
                    started.elapsed()
                })
            })
            .collect();
        for d in dribblers {
            let took = d.join().expect("dribbler");
            assert!(
                took < Duration::from_secs(4),
                "a slowloris client kept its connection for {took:?}"
            );
        }
    });
}

#[test]
fn thousands_of_idle_connections() {
    siege(
        "idle connections",
        &["--header-read-timeout", "2"],
        |addr| {
            // 2,000, or what the file-descriptor limit allows this process and the server.
            let n = fd_limit().map_or(2_000, |limit| (limit / 2).saturating_sub(200).min(2_000));
            assert!(
                n >= 100,
                "the file-descriptor limit is too low for this test"
            );
            eprintln!("idle connections: {n} opened");
            let idle: Vec<TcpStream> = (0..n)
                .map(|_| TcpStream::connect(addr).expect("connect"))
                .collect();
            // The steady client is still answered while they sit there (checked by `siege`), and
            // every idle connection is closed once the header-read timeout passes.
            std::thread::sleep(Duration::from_millis(500));
            for s in &idle {
                assert!(
                    closed_within(s, Duration::from_secs(6)).is_some(),
                    "an idle connection outlived the header-read timeout"
                );
            }
        },
    );
}

/// The soft limit on open files, as a child shell inherits it.
fn fd_limit() -> Option<usize> {
    let out = std::process::Command::new("sh")
        .args(["-c", "ulimit -n"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

#[test]
fn half_closed_sockets() {
    siege("half-closed sockets", &[], |addr| {
        for i in 0..50 {
            // A whole request, then the client shuts its write side: it still gets its answer.
            let s = TcpStream::connect(addr).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            write!(
                &s,
                "GET {} HTTP/1.1\r\nHost: x\r\n\r\n",
                clean_click(30, &format!("half-{i}"))
            )
            .expect("write");
            s.shutdown(Shutdown::Write).expect("shutdown");
            let (status, _) = read_response(&mut BufReader::new(&s)).expect("answered");
            assert_eq!(status, 204);
            // Half a request, then the write side shut: closed, not left hanging.
            let s = TcpStream::connect(addr).expect("connect");
            (&s).write_all(b"GET /serve/1?click_id=x HTTP/1.1\r\nHo")
                .expect("write");
            s.shutdown(Shutdown::Write).expect("shutdown");
            assert!(
                closed_within(&s, Duration::from_secs(5)).is_some(),
                "a half-closed connection with half a request was left open"
            );
        }
        assert_eq!(journal_total(addr, "tracking_id=30"), 50);
    });
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// The mock's own faults, at volume: 10,000 requests over 64 connections with 20% resets and
/// 10% closes. The server keeps running, journals every request (with its fault), and holds no
/// more file descriptors afterwards than before.
#[test]
fn the_mock_stays_healthy_under_its_own_faults() {
    const REQUESTS: usize = 10_000;
    const CONNECTIONS: usize = 64;
    let mut server = start(&["--seed", "7", "--journal-capacity", "20000"]);
    let _stderr = server.drain_stderr();
    let addr = server.click;
    let pid = server.child.id();
    // Reset first, at 20%; of the rest, 12.5% closed: 10% of all.
    for body in [
        r#"{"fault": "reset", "probability": 0.2}"#,
        r#"{"fault": "close", "probability": 0.125}"#,
    ] {
        let (status, _) = support::http(addr, "POST", "/__admin/faults", body);
        assert_eq!(status, 201);
    }
    let before = open_fds(pid);
    let next = Arc::new(AtomicUsize::new(0));
    let broken: usize = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                let next = next.clone();
                s.spawn(move || {
                    let mut broken = 0;
                    let mut conn: Option<BufReader<TcpStream>> = None;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= REQUESTS {
                            return broken;
                        }
                        let c = conn.get_or_insert_with(|| {
                            BufReader::new(TcpStream::connect(addr).expect("connect"))
                        });
                        let target = clean_click(31, &format!("f{i}"));
                        c.get_mut()
                            .write_all(
                                format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes(),
                            )
                            .expect("write");
                        match read_response(c) {
                            Some((204, _)) => {}
                            Some((status, body)) => {
                                panic!("unexpected {status}: {}", String::from_utf8_lossy(&body))
                            }
                            // Reset or closed: a new connection for the next request.
                            None => {
                                broken += 1;
                                conn = None;
                            }
                        }
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("client")).sum()
    });
    assert!(server.is_running(), "the server survived");
    assert_eq!(
        journal_total(addr, "tracking_id=31"),
        REQUESTS,
        "every request journaled"
    );
    assert_eq!(
        journal_total(addr, "tracking_id=31&status=0"),
        broken,
        "every reset and close journaled as such, and only those"
    );
    let resets = journal_total(addr, "tracking_id=31&fault=reset");
    let closes = journal_total(addr, "tracking_id=31&fault=close");
    assert_eq!(resets + closes, broken);
    assert!(
        (1_700..=2_300).contains(&resets),
        "{resets} resets of {REQUESTS}"
    );
    assert!(
        (700..=1_300).contains(&closes),
        "{closes} closes of {REQUESTS}"
    );
    // Connections end asynchronously: wait, bounded, for their descriptors to go.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut after = open_fds(pid);
    while after > before + 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        after = open_fds(pid);
    }
    assert!(
        after <= before + 2,
        "file descriptors: {before} before, {after} after"
    );
    sigterm(&server.child);
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
}

/// A TLS ClientHello offering only `version` (0x0300 SSLv3, 0x0301 TLS 1.0) and one RSA suite.
fn old_client_hello(version: [u8; 2]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version);
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // no session id
    body.extend_from_slice(&[0, 2, 0x00, 0x2f]); // TLS_RSA_WITH_AES_128_CBC_SHA
    body.extend_from_slice(&[1, 0]); // no compression
    let mut handshake = vec![1, 0, (body.len() >> 8) as u8, body.len() as u8];
    handshake.extend(body);
    let mut record = vec![0x16, version[0], version[1], 0, handshake.len() as u8];
    record.extend(handshake);
    record
}

/// What a TLS port answers `bytes` with before it closes: it must close, bounded, and never
/// answer with HTTP.
fn tls_refusal(addr: SocketAddr, bytes: &[u8], what: &str) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let _ = s.write_all(bytes);
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("{what}: not closed within 5 s ({e})"),
        }
    }
    assert!(
        !answer.starts_with(b"HTTP/"),
        "{what}: answered over plain HTTP"
    );
}

/// Hostile TLS on the https listener: garbage, an SSLv3 and a TLS 1.0 hello, handshakes that
/// never finish, and clients that trust nothing. Each costs only its own connection, within
/// the header-read timeout, while the steady client is served and https still works.
#[test]
fn hostile_tls_costs_only_its_own_connection() {
    let dir = tempfile::tempdir().expect("tls dir");
    let tls_dir = dir.path().to_str().expect("path").to_owned();
    siege_server(
        "hostile TLS",
        &[
            "--tls-listen",
            "127.0.0.1:0",
            "--tls-dir",
            &tls_dir,
            "--header-read-timeout",
            "1",
        ],
        |server| {
            let https = server.https.expect("an https listener");
            tls_refusal(
                https,
                b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                "plain HTTP to the TLS port",
            );
            tls_refusal(https, &[0xff; 4096], "garbage bytes");
            tls_refusal(https, &old_client_hello([3, 0]), "an SSLv3 hello");
            tls_refusal(https, &old_client_hello([3, 1]), "a TLS 1.0 hello");
            // Handshakes that never finish: silence, and half a hello. Both cut off.
            let stalled: Vec<TcpStream> = (0..20)
                .map(|i| {
                    let mut s = TcpStream::connect(https).expect("connect");
                    if i % 2 == 1 {
                        let _ = s.write_all(&old_client_hello([3, 3])[..20]);
                    }
                    s
                })
                .collect();
            for s in &stalled {
                let took = closed_within(s, Duration::from_secs(5)).expect("cut off");
                assert!(took < Duration::from_secs(4), "cut off after {took:?}");
            }
            let ca = format!("{tls_dir}/ca.pem");
            let url = format!(
                "https://redirect.appmetrica.yandex.com:{}/serve/778?click_id=tls-after&device_ip=5.255.232.147&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014)&click_timestamp={}",
                https.port(),
                support::now()
            );
            let resolve = format!("redirect.appmetrica.yandex.com:{}:127.0.0.1", https.port());
            let curl = |extra: &[&str]| {
                std::process::Command::new("curl")
                    .args([
                        "-sS",
                        "-o",
                        "/dev/null",
                        "-w",
                        "%{http_code}",
                        "--resolve",
                        &resolve,
                    ])
                    .args(extra)
                    .arg(&url)
                    .output()
                    .expect("curl runs")
            };
            // A client that trusts nothing of ours fails its own handshake, and only that.
            for _ in 0..5 {
                let refused = curl(&["--cacert", "/dev/null"]);
                assert!(
                    !refused.status.success(),
                    "a client trusting nothing got through"
                );
            }
            let ok = curl(&["--cacert", &ca]);
            assert_eq!(
                String::from_utf8_lossy(&ok.stdout),
                "204",
                "{}",
                String::from_utf8_lossy(&ok.stderr)
            );
        },
    );
}
