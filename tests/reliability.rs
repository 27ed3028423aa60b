//! The promises of docs/reliability.md, each against the real binary over loopback: an admin
//! API safe from web pages, waits that cost nothing once their client left and answer at
//! shutdown, a journal bounded in bytes whose file fails loudly and is never corrupted,
//! bounded flags and config values, signals, and lint and conform under careless use.

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;
use support::{bin, clean_click, read_response, sigterm, start};

/// `head` (request line and headers, without the final blank line) on a fresh connection.
fn raw(addr: SocketAddr, head: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(s, "{head}\r\nConnection: close\r\n\r\n").expect("write");
    let (status, body) = read_response(&mut BufReader::new(s)).expect("an answer");
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn json(addr: SocketAddr, target: &str) -> serde_json::Value {
    let (status, body) = raw(addr, &format!("GET {target} HTTP/1.1\r\nHost: {addr}"));
    assert!(status == 200 || status == 503, "{status} {body}");
    serde_json::from_str(&body).expect("json")
}

fn signal(child: &std::process::Child, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
}

/// Sends the click `target(i)` for i = 0, 1, ... on one kept-alive connection, each request in
/// one write (pieces would meet Nagle and delayed ACKs), while `go_on()` says so; asserts each
/// is answered 204 and returns the times of the answers.
fn clicks_on_one_connection(
    a: SocketAddr,
    target: impl Fn(usize) -> String,
    mut go_on: impl FnMut(usize) -> bool,
) -> Vec<Instant> {
    let mut s = TcpStream::connect(a).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    let mut reader = BufReader::new(s.try_clone().expect("clone"));
    let mut answered = Vec::new();
    while go_on(answered.len()) {
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {a}\r\n\r\n",
            target(answered.len())
        );
        s.write_all(request.as_bytes()).expect("write");
        assert_eq!(read_response(&mut reader).expect("answer").0, 204);
        answered.push(Instant::now());
    }
    answered
}

/// The command's output, or a failure if it runs past `within` (it is killed then): a server
/// that should have refused to start must not hang the test.
fn output_within(cmd: &mut Command, within: Duration) -> std::process::Output {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(within) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &id.to_string()])
                .status();
            panic!("{cmd:?} still running after {within:?}");
        }
    }
}

/// Waits up to `within` for `cond`.
fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

#[test]
fn without_a_token_the_admin_api_answers_only_the_mock_itself() {
    let server = start(&[]);
    let a = server.click;
    let port = a.port();
    assert!(support::http_get(a, &clean_click(1, "rebind")) == 204);
    let refused = [
        format!("GET /__admin/requests HTTP/1.1\r\nHost: attacker.example:{port}"),
        format!("DELETE /__admin/requests HTTP/1.1\r\nHost: attacker.example:{port}"),
        format!("GET /__admin/requests/wait?timeout_ms=1 HTTP/1.1\r\nHost: rebind.attacker.example:{port}"),
        format!("GET /__admin/requests HTTP/1.1\r\nHost: {a}\r\nOrigin: http://attacker.example"),
        format!("GET /__admin/requests HTTP/1.1\r\nHost: {a}\r\nOrigin: null"),
        format!("GET /__admin/requests HTTP/1.1\r\nHost: {a}\r\nSec-Fetch-Site: cross-site"),
        format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{}", port.wrapping_add(1)),
        format!("GET / HTTP/1.1\r\nHost: attacker.example:{port}"),
    ];
    for head in &refused {
        let (status, body) = raw(a, head);
        assert_eq!(status, 403, "{head}: {body}");
        assert!(body.contains("admin-foreign-origin"), "{body}");
    }
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let (status, body) = raw(
            a,
            &format!("GET /__admin/requests HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}"),
        );
        assert_eq!(status, 200, "{host}: {body}");
        assert!(body.contains("rebind"), "the journal survived: {body}");
    }
    // Clicks do not care about Host.
    let (status, _) = raw(
        a,
        &format!(
            "GET {} HTTP/1.1\r\nHost: redirect.appmetrica.yandex.com",
            clean_click(1, "x")
        ),
    );
    assert_eq!(status, 204);
}

#[test]
fn small_http_and_token_details() {
    let server = start(&["--admin-token", "s3cret-token"]);
    let a = server.click;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let (status, _) = raw(a, &format!("GET /__admin/health HTTP/1.1\r\nHost: {a}\r\nAuthorization: {scheme}  s3cret-token"));
        assert_eq!(status, 200, "{scheme}");
    }
    let (status, _) = raw(
        a,
        &format!("GET /__admin/health HTTP/1.1\r\nHost: {a}\r\nAuthorization: Bearer s3cret"),
    );
    assert_eq!(status, 401);
    let (status, body) = raw(
        a,
        &format!(
            "GET {} HTTP/1.1\r\nHost: {a}\r\nHost: other.example",
            clean_click(1, "two-hosts")
        ),
    );
    assert_eq!(status, 400, "two Host headers: {body}");
    assert!(body.contains("Host"), "{body}");
    let mut s = TcpStream::connect(a).expect("connect");
    write!(s, "GET /__admin/requests/%FF HTTP/1.1\r\nHost: {a}\r\nAuthorization: Bearer s3cret-token\r\nConnection: close\r\n\r\n").expect("write");
    let mut text = String::new();
    std::io::Read::read_to_string(&mut s, &mut text).expect("read");
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{text}"
    );

    for (args, flag) in [
        (vec!["serve", "--admin-token", ""], "admin token is empty"),
        (
            vec!["serve", "--max-connections", "2305843009213693952"],
            "--max-connections",
        ),
        (vec!["serve", "--max-connections", "0"], "--max-connections"),
        (
            vec!["serve", "--journal-capacity", "0"],
            "--journal-capacity",
        ),
        (
            vec!["serve", "--journal-max-bytes", "10"],
            "--journal-max-bytes",
        ),
        (
            vec!["lint", "--jobs", "18446744073709551615", "/serve/1"],
            "--jobs",
        ),
        (
            vec!["lint", "--jobs", "1000000000000", "/serve/1"],
            "--jobs",
        ),
        (
            vec!["lint", "--now", "18446744073709551615", "/serve/1"],
            "--now",
        ),
        (
            vec![
                "conform",
                "--partner",
                "x.toml",
                "--jobs",
                "2305843009213693952",
            ],
            "--jobs",
        ),
    ] {
        let out = output_within(Command::new(bin()).args(&args), Duration::from_secs(20));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(flag), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn store_urls_that_would_break_a_redirect_are_refused_at_start() {
    let dir = tempfile::tempdir().expect("dir");
    for (text, why) in [
        ("[[tracker]]\nid = 1\nname = \"a\"\nplatform = \"android\"\nstore_url = \"https://x/\\r\\nLocation: https://evil\"\n", "control character"),
        ("[defaults]\nandroid_store_url = \"javascript:alert(1)\"\n", "not an http(s) URL"),
    ] {
        let path = dir.path().join("t.toml");
        std::fs::write(&path, text).expect("write");
        let out = output_within(
            Command::new(bin()).args(["serve", "--config"]).arg(&path),
            Duration::from_secs(20),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(why), "{err}");
    }
}

#[test]
fn waits_whose_client_left_are_dropped_and_waits_in_flight_answer_at_shutdown() {
    let mut server = start(&["--max-connections", "20"]);
    let a = server.click;
    // Twenty waits whose clients hang up: the connection cap would be exhausted by them.
    for i in 0..20 {
        let mut s = TcpStream::connect(a).expect("connect");
        write!(s, "GET /__admin/requests/wait?click_id=never-{i}&timeout_ms=60000 HTTP/1.1\r\nHost: {a}\r\n\r\n").expect("write");
        drop(s);
    }
    assert!(
        eventually(Duration::from_secs(5), || json(a, "/__admin/health")
            ["journal"]["waiting"]
            == 0),
        "abandoned waits are filed away at once"
    );
    let started = Instant::now();
    assert_eq!(support::http_get(a, &clean_click(1, "after-waits")), 204);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a click still gets through"
    );

    // A wait in flight at shutdown is answered with what there is.
    let waiter = std::thread::spawn(move || {
        raw(
            a,
            &format!(
                "GET /__admin/requests/wait?click_id=late&timeout_ms=60000 HTTP/1.1\r\nHost: {a}"
            ),
        )
    });
    assert!(eventually(Duration::from_secs(5), || json(
        a,
        "/__admin/health"
    )["journal"]["waiting"]
        == 1));
    sigterm(&server.child);
    let (status, body) = waiter.join().expect("waiter");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).expect("json")["total"],
        0
    );
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
}

#[test]
fn the_journal_is_bounded_in_bytes_and_read_in_pages() {
    let server = start(&[
        "--journal-max-bytes",
        "200000",
        "--journal-capacity",
        "100000",
    ]);
    let a = server.click;
    let pad = "p".repeat(10_000);
    for i in 0..100 {
        let target = format!("{}&pad={pad}", clean_click(1, &format!("big-{i}")));
        assert_eq!(support::http_get(a, &target), 204);
    }
    let health = json(a, "/__admin/health");
    let bytes = health["journal"]["bytes"].as_u64().expect("bytes");
    assert!(bytes <= 200_000, "{health}");
    assert!(
        health["journal"]["dropped"].as_u64().expect("dropped") > 70,
        "{health}"
    );
    for i in 0..250 {
        assert_eq!(
            support::http_get(a, &clean_click(2, &format!("small-{i}"))),
            204
        );
    }
    let page = json(a, "/__admin/requests?tracking_id=2");
    assert_eq!(
        page["requests"].as_array().expect("requests").len(),
        100,
        "a default page"
    );
    assert_eq!(page["total"], 250);
    let mut seen = 0;
    let mut next = page["next"].as_u64();
    seen += 100;
    while let Some(since) = next {
        let page = json(
            a,
            &format!("/__admin/requests?tracking_id=2&since={since}&limit=70"),
        );
        seen += page["requests"].as_array().expect("requests").len();
        next = page["next"].as_u64();
    }
    assert_eq!(seen, 250, "following next reads every entry once");
}

#[test]
fn a_journal_file_that_cannot_be_written_fails_loudly() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let mut server = start(&["--journal-file", "/dev/full"]);
    let errors = server.drain_stderr();
    let a = server.click;
    assert_eq!(support::http_get(a, &clean_click(1, "full")), 204);
    let mut health = serde_json::Value::Null;
    assert!(
        eventually(Duration::from_secs(3), || {
            health = json(a, "/__admin/health");
            health["status"] == "error"
        }),
        "{health}"
    );
    let (status, body) = raw(a, &format!("GET /__admin/health HTTP/1.1\r\nHost: {a}"));
    assert_eq!(status, 503);
    assert!(
        body.contains("/dev/full") && body.contains("No space left"),
        "{body}"
    );
    let (_, metrics) = raw(a, &format!("GET /metrics HTTP/1.1\r\nHost: {a}"));
    assert!(
        metrics.contains("s2s_file_write_errors{file=\"journal\"} 1")
            || metrics.contains("s2s_file_write_errors{file=\"journal\"} 2"),
        "{metrics}"
    );
    sigterm(&server.child);
    assert_eq!(
        server.child.wait().expect("wait").code(),
        Some(2),
        "the loss is the exit status"
    );
    let log = String::from_utf8_lossy(&errors.join().expect("stderr")).into_owned();
    assert!(
        log.contains("cannot write the file") && log.contains("/dev/full"),
        "{log}"
    );
}

#[test]
fn a_journal_file_is_locked_continued_and_mended() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("journal.ndjson");
    let file = path.to_str().expect("path");
    let mut first = start(&["--journal-file", file]);
    for i in 0..3 {
        assert_eq!(
            support::http_get(first.click, &clean_click(1, &format!("first-{i}"))),
            204
        );
    }
    let out = output_within(
        Command::new(bin()).args([
            "serve",
            "--click-listen",
            "127.0.0.1:0",
            "--impression-listen",
            "127.0.0.1:0",
            "--journal-file",
            file,
        ]),
        Duration::from_secs(20),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("locked by another process"), "{err}");
    sigterm(&first.child);
    assert_eq!(first.child.wait().expect("wait").code(), Some(0));
    // A crash left half a line.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open")
        .write_all(b"{\"seq\":4,\"kind")
        .expect("write");
    let mut second = start(&["--journal-file", file]);
    assert_eq!(
        support::http_get(second.click, &clean_click(1, "second")),
        204
    );
    sigterm(&second.child);
    assert_eq!(second.child.wait().expect("wait").code(), Some(0));
    let text = std::fs::read_to_string(&path).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(
        lines[3], "{\"seq\":4,\"kind",
        "the partial line is ended, not glued to"
    );
    let last: serde_json::Value = serde_json::from_str(lines[4]).expect("a whole line");
    assert_eq!(
        last["seq"], 4,
        "seq goes on from the file's last whole entry"
    );
    assert_eq!(last["params"]["click_id"], "second");
}

#[test]
fn sighup_stops_gracefully_and_a_second_signal_stops_at_once() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("journal.ndjson");
    let mut server = start(&["--journal-file", path.to_str().expect("path")]);
    for i in 0..50 {
        assert_eq!(
            support::http_get(server.click, &clean_click(1, &format!("hup-{i}"))),
            204
        );
    }
    signal(&server.child, "HUP");
    assert_eq!(
        server.child.wait().expect("wait").code(),
        Some(0),
        "SIGHUP is a clean stop"
    );
    assert_eq!(
        std::fs::read_to_string(&path)
            .expect("read")
            .lines()
            .count(),
        50
    );

    let mut server = start(&[]);
    let a = server.click;
    let (status, _) = support::http(
        a,
        "POST",
        "/__admin/faults",
        r#"{"fault": "delay", "delay_ms": 30000}"#,
    );
    assert_eq!(status, 201);
    // A request held by the delay keeps the graceful shutdown waiting for its 5 s grace.
    let held = std::thread::spawn(move || {
        let mut s = TcpStream::connect(a).expect("connect");
        let _ = write!(
            s,
            "GET {} HTTP/1.1\r\nHost: {a}\r\n\r\n",
            clean_click(1, "held")
        );
        let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
        let mut buf = [0u8; 64];
        let _ = std::io::Read::read(&mut s, &mut buf);
    });
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    sigterm(&server.child);
    std::thread::sleep(Duration::from_millis(300));
    sigterm(&server.child);
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the second signal ended it at once: {:?}",
        started.elapsed()
    );
    held.join().expect("held");
}

#[test]
fn lint_exits_by_every_line_even_when_its_output_is_closed() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("log.txt");
    let mut text = String::new();
    for i in 0..30_000 {
        // Valid lines: nothing before the last line breaks a rule.
        text.push_str(&format!("/serve/1?click_id={i}&device_ip=5.255.232.147&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)&click_timestamp=1795860000\n"));
    }
    text.push_str("this is not a url\n");
    std::fs::write(&path, text).expect("write");
    let out = Command::new("bash")
        .args(["-o", "pipefail", "-c"])
        .arg(format!(
            "'{}' lint --now 1795860000 --format json --file '{}' | head -1 >/dev/null",
            bin(),
            path.display()
        ))
        .output()
        .expect("bash");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Peak resident memory of a command, in MiB, from /proc while it runs.
fn peak_rss_mib(cmd: &mut Command) -> f64 {
    let mut child = cmd.spawn().expect("spawn");
    let mut peak = 0.0f64;
    loop {
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
            if let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<f64>().ok())
            {
                peak = peak.max(kib / 1024.0);
            }
        }
        if child.try_wait().expect("try_wait").is_some() {
            return peak;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn lint_memory_is_bounded_whatever_the_line_lengths() {
    let dir = tempfile::tempdir().expect("dir");
    let one_line = dir.path().join("one-line.txt");
    let mut text = String::from("/serve/1?click_id=");
    text.push_str(&"x".repeat(50 << 20));
    text.push('\n');
    std::fs::write(&one_line, &text).expect("write");
    let long_lines = dir.path().join("long-lines.txt");
    let line = format!("/serve/1?click_id=a&device_ua={}\n", "M".repeat(16_000));
    // 40 MB in lines of 16 KB: a batch of 4,096 such lines held 64 MB before batches were
    // bounded in bytes.
    std::fs::write(&long_lines, line.repeat(2_500)).expect("write");
    for (path, format) in [
        (&one_line, "text"),
        (&one_line, "json"),
        (&long_lines, "text"),
    ] {
        let mib = peak_rss_mib(
            Command::new(bin())
                .args(["lint", "--format", format, "--file"])
                .arg(path)
                .stdout(std::process::Stdio::null()),
        );
        assert!(mib < 50.0, "{} as {format}: {mib:.1} MiB", path.display());
    }
}

#[test]
fn a_stalled_journal_file_neither_grows_memory_nor_holds_shutdown() {
    let dir = tempfile::tempdir().expect("dir");
    let fifo = dir.path().join("journal.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    // Nobody reads the FIFO: the writer stalls once the pipe's buffer is full.
    let mut server = start(&["--journal-file", fifo.to_str().expect("path")]);
    let errors = server.drain_stderr();
    let a = server.click;
    let ua = "M".repeat(2_000);
    clicks_on_one_connection(
        a,
        |i| format!("{}&pad={ua}", clean_click(1, &format!("stall-{i}"))),
        |n| n < 20_000,
    );
    let rss = server.rss_mib();
    assert!(
        rss < 100.0,
        "{rss:.1} MiB after 40 MB of entries the file could not take"
    );
    let (status, body) = raw(a, &format!("GET /__admin/health HTTP/1.1\r\nHost: {a}"));
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("behind"), "{body}");
    let started = Instant::now();
    sigterm(&server.child);
    assert_eq!(
        server.child.wait().expect("wait").code(),
        Some(2),
        "records were lost"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let log = String::from_utf8_lossy(&errors.join().expect("stderr")).into_owned();
    assert!(log.contains("did not finish within"), "{log}");
}

/// `kill -9` mid-load: what the file lacks was answered within the last second and a half (the
/// writer flushes at least every second), and every line in it is whole JSON but perhaps the
/// last.
#[test]
fn a_kill_loses_at_most_the_last_second() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("journal.ndjson");
    let mut server = start(&["--journal-file", path.to_str().expect("path")]);
    let a = server.click;
    let until = Instant::now() + Duration::from_secs(2);
    let answered: Vec<(String, Instant)> = clicks_on_one_connection(
        a,
        |i| clean_click(1, &format!("k-{i}")),
        |n| n < 200_000 && Instant::now() < until,
    )
    .into_iter()
    .enumerate()
    .map(|(i, at)| (format!("k-{i}"), at))
    .collect();
    signal(&server.child, "KILL");
    let killed = Instant::now();
    let _ = server.child.wait();
    let text = std::fs::read_to_string(&path).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = std::collections::HashSet::new();
    for (n, line) in lines.iter().enumerate() {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => {
                kept.insert(v["params"]["click_id"].as_str().unwrap_or("").to_owned());
            }
            Err(e) => assert_eq!(n + 1, lines.len(), "line {} is not whole: {e}", n + 1),
        }
    }
    let lost: Vec<_> = answered
        .iter()
        .filter(|(id, _)| !kept.contains(id))
        .collect();
    for (id, at) in &lost {
        let before = killed.duration_since(*at);
        assert!(
            before < Duration::from_millis(1_500),
            "{id}, answered {before:?} before the kill, is not in the file"
        );
    }
    assert!(answered.len() > 100, "the load ran: {}", answered.len());
}

/// With the default bounds, a flood of legal 15 KB targets keeps the journal within its 16 MiB
/// and the server under 100 MiB (10,000 of them once made a 252 MB ring).
#[test]
fn the_default_journal_bound_keeps_memory_down() {
    let server = start(&[]);
    let a = server.click;
    let pad = "p".repeat(15_000);
    clicks_on_one_connection(
        a,
        |i| format!("{}&pad={pad}", clean_click(1, &format!("flood-{i}"))),
        |n| n < 4_000,
    );
    let health = json(a, "/__admin/health");
    assert!(
        health["journal"]["bytes"].as_u64().expect("bytes") <= 16 << 20,
        "{health}"
    );
    assert!(
        health["journal"]["dropped"].as_u64().expect("dropped") > 0,
        "{health}"
    );
    let rss = server.rss_mib();
    assert!(rss < 100.0, "{rss:.1} MiB");
    // A page of the largest entries stays a page.
    let (status, body) = raw(a, &format!("GET /__admin/requests HTTP/1.1\r\nHost: {a}"));
    assert_eq!(status, 200);
    assert!(body.len() < 4 << 20, "{} bytes", body.len());
}
