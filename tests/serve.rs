//! `metrica-s2s serve` end to end: the real binary on port 0, stopped by SIGTERM.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use support::{bin, http_get, now, sigterm, start};

#[test]
fn serves_until_sigterm_and_completes_the_journal_file() {
    let journal = temp_file("e2e", ".ndjson");
    let path = journal.path();
    let path_s = path.to_str().expect("utf-8 path").to_owned();
    let mut server = start(&["--journal-file", &path_s, "--journal-capacity", "2"]);
    let ua = "Mozilla%2F5.0%20(Linux%3B%20Android%2014)";
    for i in 0..20 {
        let target = format!(
            "/serve/1?click_id={i}&device_ip=5.255.232.147&device_ua={ua}&click_timestamp={}",
            now()
        );
        assert_eq!(http_get(server.click, &target), 204);
    }
    assert_eq!(http_get(server.impression, "/serve/1?device_ip=x"), 400);
    sigterm(&server.child);
    let status = server.child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(path).expect("journal file");
    assert_eq!(
        text.lines().count(),
        21,
        "every answered request is in the file"
    );
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("line")).expect("json");
    assert_eq!(last["kind"], "impression");
    assert_eq!(last["status"], 400);
    let mut err = String::new();
    server
        .child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    assert!(err.contains("SIGTERM"), "{err}");
}

#[test]
fn configuration_errors_exit_2_with_one_line() {
    let bad_file = temp_file("bad", ".toml");
    let bad = bad_file.path();
    std::fs::write(bad, "[[tracker]]\nid = \"abc\"\nname = \"x\"\nplatform = \"android\"\nstore_url = \"https://x\"\n").expect("write");
    let out = Command::new(bin())
        .args(["serve", "--config"])
        .arg(bad)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("\"abc\""), "{err}");

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = Command::new(bin())
        .args([
            "serve",
            "--click-listen",
            &addr,
            "--impression-listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains(&format!("cannot listen on {addr} for clicks")));

    let out = Command::new(bin())
        .args(["serve", "--click-id-capacity", "0"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--click-id-capacity"));
}

#[test]
fn the_example_tracker_file_loads() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/trackers.toml");
    let mut server = start(&["--config", file]);
    let ua = "Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_1%20like%20Mac%20OS%20X)";
    let target = format!("/serve/1234567890123456789?click_id=1&device_ip=5.255.232.147&device_ua={ua}&click_timestamp={}", now());
    // The example's tracker 1234567890123456789 is an Android app: an iPhone UA is a warning.
    assert_eq!(http_get(server.click, &target), 204);
    sigterm(&server.child);
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
}

/// The README's postback flow on the example tracker file: a click, a conversion attributed
/// to it, a delivery attempted at once (nothing listens on the example's port 9100 here, so
/// it is unreachable and due again in 3 s at scale 60), and on SIGTERM its final state written.
#[test]
fn conversions_are_posted_back_and_shutdown_writes_every_delivery() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/trackers.toml");
    let record = temp_file("postbacks", ".ndjson");
    let mut server = start(&[
        "--config",
        file,
        "--postback-time-scale",
        "60",
        "--postbacks-file",
        record.path().to_str().expect("path"),
    ]);
    let gaid = "38400000-8cf0-11bd-b23e-10b96e40000d";
    let ua = "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)";
    let click = format!("/serve/1234567890123456789?click_id=readme&google_aid={gaid}&device_ip=5.255.232.147&device_ua={ua}&click_timestamp={}", now() - 1);
    assert_eq!(http_get(server.click, &click), 204);
    let (status, body) = support::http(
        server.click,
        "POST",
        "/__admin/conversions",
        &format!(
            r#"{{"tracking_id": "1234567890123456789", "event": "install", "google_aid": "{gaid}"}}"#
        ),
    );
    let c: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        (status, &c["match_type"]),
        (200, &serde_json::json!("identifier")),
        "{c}"
    );
    let tx = c["transaction_id"].as_str().expect("tx");
    let (_, body) = support::http(
        server.click,
        "GET",
        &format!("/__admin/postbacks/wait?transaction_id={tx}&attempts=1&timeout_ms=10000"),
        "",
    );
    let page: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let d = &page["postbacks"][0];
    assert!(
        d["url"]
            .as_str()
            .expect("url")
            .starts_with("http://127.0.0.1:9100/pb?click_id=readme&tx="),
        "{d}"
    );
    if d["attempts"][0]["status"].is_null() {
        assert_eq!(d["attempts"][0]["error_kind"], "unreachable", "{d}");
        assert_eq!(d["state"], "pending");
    }
    sigterm(&server.child);
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
    let text = std::fs::read_to_string(record.path()).expect("file");
    let last: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("a line")).expect("json line");
    assert_eq!(last["transaction_id"], tx);
    assert!(
        matches!(last["state"].as_str(), Some("stopped" | "delivered")),
        "{last}"
    );
}

/// A UA of `<script>`, `]]>`, an ANSI escape, NUL, quotes and CRLF stays inert in the
/// problem+json answer, the logs (text and JSON) and the journal file.
#[test]
fn hostile_user_agents_stay_inert_in_answers_logs_and_the_journal() {
    let hostile =
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E%5D%5D%3E%1B%5B2J%00%22'%0D%0AX-Injected%3A%201";
    for format in ["text", "json"] {
        let journal_file = temp_file("hostile", ".ndjson");
        let path = journal_file.path();
        let mut server = start(&[
            "--log-format",
            format,
            "--journal-file",
            path.to_str().expect("path"),
        ]);
        let target = format!(
            "/serve/1?click_id=x&device_ip=5.255.232.147&device_ua={hostile}&click_timestamp={}",
            now()
        );
        let mut s = TcpStream::connect(server.click).expect("connect");
        // Markup in the sender's own User-Agent header too (control bytes there are refused
        // by the HTTP parser before the mock sees them).
        write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\nUser-Agent: <b>bold</b>\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("read");
        let text = String::from_utf8_lossy(&answer);
        assert!(text.starts_with("HTTP/1.1 400"), "{text}");
        let body = text.split("\r\n\r\n").nth(1).expect("body");
        let problem: serde_json::Value = serde_json::from_str(body).expect("problem+json parses");
        assert!(problem["diagnostics"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["code"] == "ua-control-chars")));
        assert!(
            !body.bytes().any(|b| b < 0x20),
            "raw control bytes in the problem body"
        );
        sigterm(&server.child);
        assert_eq!(server.child.wait().expect("wait").code(), Some(0));
        let mut logs = Vec::new();
        server
            .child
            .stderr
            .take()
            .expect("stderr")
            .read_to_end(&mut logs)
            .expect("stderr");
        assert!(
            !logs.contains(&0x1b) && !logs.contains(&0),
            "raw ESC or NUL reached the {format} log"
        );
        let log_text = String::from_utf8_lossy(&logs);
        assert!(log_text.contains("rejected"), "{log_text}");
        assert!(
            !log_text.lines().any(|l| l.starts_with("X-Injected")),
            "CRLF split a {format} log line"
        );
        let journal = std::fs::read(path).expect("journal");
        assert!(
            !journal.iter().any(|&b| b < 0x20 && b != b'\n'),
            "raw control bytes in the journal file"
        );
        let line: serde_json::Value =
            serde_json::from_slice(journal.split(|&b| b == b'\n').next().expect("line"))
                .expect("json");
        assert!(
            line["params"]["device_ua"]
                .as_str()
                .is_some_and(|ua| ua.contains("<script>") && ua.contains('\u{1b}')),
            "kept exactly, escaped as JSON"
        );
    }
}

/// Clean clicks from `workers` keep-alive connections, `per_worker` each, click ids
/// `{w}-{i}`. Each worker returns the click ids that got an answer; `answered` counts them as
/// they come, and `under_way` is told once `signal_at` answers are in.
fn click_load(
    addr: std::net::SocketAddr,
    workers: usize,
    per_worker: usize,
    answered: &std::sync::Arc<std::sync::atomic::AtomicUsize>,
    signal_at: Option<(usize, std::sync::mpsc::Sender<()>)>,
) -> Vec<std::thread::JoinHandle<Vec<String>>> {
    use std::sync::atomic::Ordering;
    (0..workers)
        .map(|w| {
            let answered = answered.clone();
            let signal = signal_at.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                let Ok(stream) = TcpStream::connect(addr) else {
                    return ids;
                };
                let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
                let mut writer = stream;
                for i in 0..per_worker {
                    let target = support::clean_click(1, &format!("{w}-{i}"));
                    let req = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
                    if writer.write_all(req.as_bytes()).is_err() {
                        break;
                    }
                    match support::read_response(&mut reader) {
                        Some((204, _)) => ids.push(format!("{w}-{i}")),
                        _ => break,
                    }
                    let n = answered.fetch_add(1, Ordering::SeqCst) + 1;
                    if let Some((at, tx)) = &signal {
                        if n == *at {
                            let _ = tx.send(());
                        }
                    }
                }
                ids
            })
        })
        .collect()
}

/// The click ids in a journal file, checked to be one JSON object per line.
fn journaled_click_ids(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("journal")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a whole JSON line");
            v["params"]["click_id"].as_str().unwrap_or("").to_owned()
        })
        .collect()
}

/// A server journaling to a fresh file through a ring of only 100 entries, so the file, not
/// the ring, has to hold everything.
fn journaling_server(name: &str) -> (support::Server, tempfile::NamedTempFile) {
    let journal = temp_file(name, ".ndjson");
    let server = start(&[
        "--journal-file",
        journal.path().to_str().expect("path"),
        "--journal-capacity",
        "100",
    ]);
    (server, journal)
}

/// An empty file named after `what`, removed on drop, also when the test fails.
fn temp_file(what: &str, suffix: &str) -> tempfile::NamedTempFile {
    tempfile::Builder::new()
        .prefix(&format!("metrica-s2s-{what}-"))
        .suffix(suffix)
        .tempfile()
        .expect("temp file")
}

fn assert_all_journaled(answered: &[String], lines: &[String]) {
    let in_file: std::collections::HashSet<&str> = lines.iter().map(String::as_str).collect();
    let missing: Vec<&String> = answered
        .iter()
        .filter(|id| !in_file.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} answered, {} in the file; answered but not journaled: {missing:?}",
        answered.len(),
        lines.len()
    );
}

/// Sustained load: 8 connections × 2,500 clicks with `--journal-file` and a ring
/// of only 100 entries. After a clean stop the file holds exactly one line per answered
/// request, and every answered click id is among them.
#[test]
fn every_answered_request_has_its_line_under_sustained_load() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let (mut server, journal) = journaling_server("sustained");
    let path = journal.path();
    let answered = Arc::new(AtomicUsize::new(0));
    let ids: Vec<String> = click_load(server.click, 8, 2_500, &answered, None)
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    assert_eq!(ids.len(), 20_000, "every request was answered");
    sigterm(&server.child);
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
    let lines = journaled_click_ids(path);
    assert_eq!(
        lines.len(),
        answered.load(Ordering::SeqCst),
        "one line per answer"
    );
    assert_all_journaled(&ids, &lines);
}

/// SIGTERM mid-load: every request that got an answer before the server went
/// away is in the file. Bounded: 8 connections, at most 2,000 requests each.
#[test]
fn no_answered_request_is_lost_when_sigterm_arrives_mid_load() {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    let (mut server, journal) = journaling_server("noloss");
    let path = journal.path();
    let answered = Arc::new(AtomicUsize::new(0));
    let (under_way, signal) = std::sync::mpsc::channel::<()>();
    let workers = click_load(server.click, 8, 2_000, &answered, Some((2_000, under_way)));
    // SIGTERM once the load is well under way (2,000 answers in).
    signal
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the load got under way");
    sigterm(&server.child);
    let ids: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
    assert!(ids.len() >= 2_000, "the load ran");
    assert!(ids.len() < 16_000, "SIGTERM landed mid-load");
    assert_all_journaled(&ids, &journaled_click_ids(path));
}

/// `metrica-s2s ca`: the CA certificate's path alone on the first line, made on first use and
/// the same file afterwards, then how to trust it.
#[test]
fn ca_prints_the_certificate_path_first_and_keeps_it() {
    let dir = tempfile::tempdir().expect("dir");
    let run = || {
        let out = Command::new(bin())
            .args(["ca", "--tls-dir"])
            .arg(dir.path())
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).expect("utf-8")
    };
    let first = run();
    let path = first.lines().next().expect("a first line");
    assert_eq!(std::path::Path::new(path), dir.path().join("ca.pem"));
    let pem = std::fs::read_to_string(path).expect("the CA");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    for how in [
        "REQUESTS_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "keytool",
        "SSL_CERT_FILE",
        "--cacert",
    ] {
        assert!(first.contains(how), "no word on {how}");
    }
    let again = run();
    assert_eq!(again.lines().next(), Some(path));
    assert_eq!(
        std::fs::read_to_string(path).expect("the CA"),
        pem,
        "reused, not remade"
    );
}

/// A supervisor may stop the mock the moment its banner says it is up: the signal is already
/// handled then, so the stop is graceful (exit 0), never the signal's default action.
#[test]
fn a_sigterm_right_after_the_banner_is_a_graceful_stop() {
    for _ in 0..40 {
        let mut server = start(&[]);
        sigterm(&server.child);
        let status = server.child.wait().expect("wait");
        assert_eq!(status.code(), Some(0), "{status}");
    }
}
