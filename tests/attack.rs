//! The loop's surfaces under attack, against the real binary: hostile postback receivers,
//! stalled event streams at shutdown, a TLS directory someone else could read or fill, and a
//! partner command that leaves a daemon behind.

use std::io::{BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod support;
use support::{bin, read_response, sigterm, start};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn request(addr: SocketAddr, method: &str, target: &str, body: &str) -> (u16, String) {
    let (status, body) = support::http(addr, method, target, body);
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// Receivers that announce a gigabyte, send 15 MiB of it and stall: 64 at once. The mock
/// keeps what it records of an answer (256 bytes) and reads no more than a bounded amount of
/// the rest, so its memory stays far below what they announce.
#[test]
fn receivers_announcing_a_gigabyte_cost_the_mock_little_memory() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let rx = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for conn in listener.incoming().take(200) {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let head = "HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n";
                if conn.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b'x'; 1 << 20];
                for _ in 0..15 {
                    if conn.write_all(&chunk).is_err() {
                        return;
                    }
                }
                std::thread::sleep(Duration::from_secs(8));
            });
        }
    });
    let dir = tempfile::tempdir().expect("dir");
    let trackers = dir.path().join("trackers.toml");
    let mut file = String::new();
    for t in 1..=13 {
        file.push_str(&format!(
            "[[tracker]]\nid = {t}\nname = \"t{t}\"\nplatform = \"any\"\nstore_url = \"https://example.com/app\"\n"
        ));
        for p in 0..5 {
            file.push_str(&format!(
                "[[tracker.postback]]\nevent = \"install\"\nurl = \"http://{rx}/pb/{t}/{p}?tx={{transaction_id}}\"\n"
            ));
        }
    }
    std::fs::write(&trackers, file).expect("trackers");
    let mut server = start(&["--config", trackers.to_str().expect("path")]);
    let _stderr = server.drain_stderr();
    let base = server.rss_mib();
    for t in 1..=13 {
        // A device of its own per tracker: a second install of one device is a reinstall, which
        // AppMetrica does not post back.
        let click = support::clean_click(t, &format!("c{t}")).replace(
            "device_ip=5.255.232.147",
            &format!("device_ip=5.255.232.{t}"),
        );
        let (status, _) = request(server.click, "GET", &click, "");
        assert_eq!(status, 204);
        let body = format!(
            r#"{{"tracking_id": {t}, "event": "install", "device_ip": "5.255.232.{t}", "device_ua": "Mozilla/5.0 (Linux; Android 14; Pixel 8)"}}"#
        );
        let (status, answer) = request(server.click, "POST", "/__admin/conversions", &body);
        assert_eq!(status, 200, "{answer}");
    }
    // Every delivery's first attempt in flight or done: the peak is now.
    let mut peak = 0.0f64;
    // Printed for the record (cargo test -- --nocapture).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(6) {
        peak = peak.max(server.rss_mib());
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("peak RSS {peak:.1} MiB, from {base:.1} MiB");
    assert!(
        peak < 100.0,
        "the mock peaked at {peak:.0} MiB (from {base:.0} MiB) against 65 receivers streaming 15 MiB each"
    );
    let (_, page) = request(
        server.click,
        "GET",
        "/__admin/postbacks?attempts=1&limit=1000",
        "",
    );
    let page: serde_json::Value = serde_json::from_str(&page).expect("json");
    assert!(page["total"].as_u64() >= Some(60), "{page}");
    let answer = page["postbacks"][0]["attempts"][0]["answer"]
        .as_str()
        .unwrap_or_default();
    assert!(
        answer.len() <= 256,
        "the excerpt kept: {} bytes",
        answer.len()
    );
}

/// SIGTERM while event streams are open whose clients stopped reading: the mock stops in
/// well under a second, instead of waiting out its grace period on them.
#[test]
fn stalled_event_streams_do_not_hold_up_shutdown() {
    let mut server = start(&[]);
    let _stderr = server.drain_stderr();
    let mut streams = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(server.click).expect("connect");
        write!(
            s,
            "GET /__admin/events HTTP/1.1\r\nHost: {}\r\n\r\n",
            server.click
        )
        .expect("write");
        streams.push(s);
    }
    // Enough requests that each stream's socket buffers fill, unread.
    let a = server.click;
    let conn = TcpStream::connect(a).expect("connect");
    conn.set_nodelay(true).expect("nodelay");
    let mut keep = BufReader::new(conn);
    for i in 0..1000 {
        let target = support::clean_click(1, &format!("fill-{i}-{}", "x".repeat(4000)));
        // One write per request: pieces would meet Nagle and delayed ACKs.
        let req = format!("GET {target} HTTP/1.1\r\nHost: {a}\r\n\r\n");
        keep.get_mut().write_all(req.as_bytes()).expect("write");
        assert_eq!(read_response(&mut keep).expect("answer").0, 204);
    }
    std::thread::sleep(Duration::from_millis(300));
    let asked = Instant::now();
    sigterm(&server.child);
    let status = loop {
        if let Some(s) = server.child.try_wait().expect("try_wait") {
            break s;
        }
        assert!(asked.elapsed() < Duration::from_secs(10), "still running");
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = asked.elapsed();
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(1), "shutdown took {took:?}");
    drop(streams);
}

fn ca(dir: &Path) -> std::process::Output {
    Command::new(bin())
        .args(["ca", "--tls-dir"])
        .arg(dir)
        .output()
        .expect("runs")
}

/// A TLS directory others can write, a key others can read, a directory of another user:
/// each refused with exit 2 and one line saying how to fix it; a link planted where a file
/// is written is never written through.
#[cfg(unix)]
#[test]
fn a_loose_or_foreign_tls_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let base = tempfile::tempdir().expect("dir");
    let refused = |dir: &Path, says: &str| {
        let out = ca(dir);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {err}", dir.display());
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("refusing TLS") && err.contains(says), "{err}");
    };

    let open = base.path().join("open");
    std::fs::create_dir(&open).expect("dir");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    refused(&open, "others can write to it");
    assert!(!open.join("ca.key").exists(), "nothing was written");

    let leaked = base.path().join("leaked");
    assert!(ca(&leaked).status.success(), "first use makes it");
    let key = leaked.join("ca.key");
    assert_eq!(
        std::fs::metadata(&key).expect("key").permissions().mode() & 0o777,
        0o600
    );
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    refused(&leaked, "others can read or write it");

    let planted = base.path().join("planted");
    std::fs::create_dir(&planted).expect("dir");
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let victim = base.path().join("victim.txt");
    std::fs::write(&victim, "theirs").expect("write");
    for name in ["ca.tmp", ".ca.key.tmp", "key.tmp"] {
        std::os::unix::fs::symlink(&victim, planted.join(name)).expect("link");
    }
    assert!(ca(&planted).status.success());
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "theirs",
        "written through a link"
    );
    let meta = std::fs::symlink_metadata(planted.join("ca.key")).expect("key");
    assert!(meta.file_type().is_file() && meta.permissions().mode() & 0o777 == 0o600);

    if rustix::process::geteuid().is_root() {
        let foreign = base.path().join("foreign");
        std::fs::create_dir(&foreign).expect("dir");
        std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        rustix::fs::chown(&foreign, Some(rustix::fs::Uid::from_raw(65534)), None).expect("chown");
        refused(&foreign, "it is owned by user 65534");
    }
}

/// A partner command that starts a daemon with `setsid` (leaving the process group) does not
/// leave it running after `conform`: it is found by its mark and stopped, and the run says so.
#[test]
fn a_setsid_daemon_is_gone_after_conform() {
    let dir = tempfile::tempdir().expect("dir");
    let pidfile = dir.path().join("daemon.pid");
    let partner = dir.path().join("daemon.toml");
    std::fs::write(
        &partner,
        format!(
            "[partner]\nname = \"leaves a daemon\"\n[driver]\nkind = \"exec\"\ncommand = \"setsid sh -c 'echo $$ > {pid}; exec sleep 300' > /dev/null 2>&1 < /dev/null & sh {sender}\"\n",
            pid = pidfile.display(),
            sender = root().join("fixtures/partners/correct.sh").display()
        ),
    )
    .expect("partner");
    let out = Command::new(bin())
        .args(["conform", "--partner"])
        .arg(&partner)
        .args(["--only", "android-click-gaid-ipv4"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .expect("the daemon started")
        .trim()
        .parse()
        .expect("a pid");
    std::thread::sleep(Duration::from_millis(200));
    let alive = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s[s.rfind(')').map_or(0, |i| i + 2)..].starts_with('Z'));
    assert!(!alive, "the setsid daemon {pid} outlived conform");
    assert!(
        stdout.contains("left running") && stdout.contains(&pid.to_string()),
        "the run names what it stopped: {stdout}"
    );
}
