//! The mock over real HTTP on loopback, port 0, shut down by the test.

mod support;

use metrica_s2s_mock::{Config, Limits, Trackers};
use std::time::Duration;
use support::{click, get, raw, read_response, strict, with_journal, Mock, UA};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::test]
async fn every_status_path_over_http() {
    let trackers = Trackers::parse(
        "[defaults]\nallow_unknown = false\n[[tracker]]\nid = 42\nname = \"x\"\nplatform = \"any\"\nstore_url = \"https://play.google.com/store/apps/details?id=x\"",
    )
    .expect("trackers");
    let m = Mock::start(Config {
        trackers,
        ..with_journal(100)
    })
    .await;
    assert_eq!(get(m.click, &click("42", "a")).await.status, 204);
    let redirect = get(m.click, &format!("{}&noredirect=0", click("42", "b"))).await;
    assert_eq!(redirect.status, 302);
    assert!(redirect
        .header("location")
        .is_some_and(|l| l.contains("referrer=appmetrica_tracking_id%3D42%26ym_tracking_id%3D")));
    let bad = get(m.click, "/serve/42?device_ip=1.2.3.4:5").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.header("content-type"), Some("application/problem+json"));
    let codes: Vec<String> = bad.json()["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["code"].as_str().map(str::to_owned))
        .collect();
    assert!(
        codes.contains(&"ip-with-port".to_owned()) && codes.contains(&"missing-param".to_owned()),
        "{codes:?}"
    );
    assert_eq!(
        get(m.click, &click("7", "c")).await.status,
        404,
        "unknown tracker"
    );
    assert_eq!(get(m.click, "/nowhere").await.status, 404);
    let post = raw(
        m.click,
        format!(
            "POST {} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            click("42", "d")
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(post.status, 405);
    let long = get(
        m.click,
        &format!("{}&pad={}", click("42", "e"), "x".repeat(20_000)),
    )
    .await;
    assert_eq!(long.status, 414);
    let mut many = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n",
        click("42", "f")
    );
    for i in 0..200 {
        many.push_str(&format!("X-Filler-{i}: y\r\n"));
    }
    many.push_str("\r\n");
    assert_eq!(
        raw(m.click, many.as_bytes()).await.status,
        431,
        "too many headers"
    );
    let huge = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        click("42", "g"),
        "y".repeat(100_000)
    );
    assert_eq!(
        raw(m.click, huge.as_bytes()).await.status,
        431,
        "oversized header"
    );
    assert_eq!(get(m.impression, &click("42", "h")).await.status, 204);
    m.stop().await.expect("clean stop");
}

#[tokio::test]
async fn host_routing_works_with_real_hosts_and_absolute_form() {
    let m = Mock::default().await;
    let on_click = raw(m.click, format!("GET {} HTTP/1.1\r\nHost: impression.appmetrica.yandex.com\r\nConnection: close\r\n\r\n", click("1", "a")).as_bytes()).await;
    assert_eq!(on_click.status, 204);
    let absolute = format!("GET http://redirect.appmetrika.yandex.ru{} HTTP/1.1\r\nHost: redirect.appmetrika.yandex.ru\r\nConnection: close\r\n\r\n", click("1", "b"));
    assert_eq!(raw(m.impression, absolute.as_bytes()).await.status, 204);
    assert_eq!(get(m.impression, &click("1", "c")).await.status, 204);
    let kinds: Vec<String> = m
        .journal()
        .await
        .iter()
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(kinds, vec!["impression", "click", "impression"]);
    let abs = m.entry(2).await;
    assert_eq!(abs.host.as_deref(), Some("redirect.appmetrika.yandex.ru"));
    assert!(abs.target.starts_with("/serve/1?"), "{}", abs.target);
    m.stop().await.expect("clean stop");
}

#[tokio::test]
async fn the_journal_cap_drops_oldest_and_counts() {
    let m = Mock::start(with_journal(5)).await;
    for i in 0..12 {
        assert_eq!(
            get(m.click, &click("1", &format!("c{i}"))).await.status,
            204
        );
    }
    let page = get(m.click, "/__admin/requests").await.json();
    assert_eq!(page["total"], 5);
    assert_eq!(page["dropped"], 7);
    assert_eq!(page["requests"][0]["seq"], 8);
    m.stop().await.expect("clean stop");
}

#[tokio::test]
async fn the_journal_file_is_complete_after_shutdown() {
    let path =
        std::env::temp_dir().join(format!("metrica-s2s-journal-{}.ndjson", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut config = with_journal(3);
    config.journal.file = Some(path.clone());
    let m = Mock::start(config).await;
    for i in 0..50 {
        get(m.click, &click("1", &format!("c{i}"))).await;
    }
    get(m.click, "/serve/1?device_ip=%1B%5B2J").await;
    m.stop().await.expect("clean stop");
    let text = std::fs::read_to_string(&path).expect("journal file");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(
        lines.len(),
        51,
        "every answered request, though the ring kept 3"
    );
    let seqs: Vec<u64> = lines.iter().filter_map(|l| l["seq"].as_u64()).collect();
    assert_eq!(seqs, (1..=51).collect::<Vec<_>>());
    assert!(
        !text.contains('\x1b'),
        "control characters stay escaped in the file"
    );
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn wait_returns_as_soon_as_the_request_arrives() {
    let m = Mock::default().await;
    let addr = m.click;
    // Start waiting first, with a long timeout. Whether the waiter's first look comes before
    // or after the click below, it must answer because of the click, well before 30 s.
    let waiter = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let r = get(
            addr,
            "/__admin/requests/wait?click_id=late&count=1&timeout_ms=30000",
        )
        .await;
        (r, started.elapsed())
    });
    get(m.click, &click("1", "late")).await;
    let (r, took) = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("wait answered")
        .expect("task");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["total"], 1);
    assert!(
        took < Duration::from_secs(30),
        "answered by the arrival, not the timeout"
    );
    // And a wait that nothing satisfies ends at its timeout with what there is.
    let empty = get(
        m.click,
        "/__admin/requests/wait?click_id=never&timeout_ms=50",
    )
    .await;
    assert_eq!(empty.json()["total"], 0);
    m.stop().await.expect("clean stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_requests_over_64_connections_are_all_journaled() {
    let m = Mock::start(with_journal(20_000)).await;
    let addr = m.click;
    let ts = support::now();
    let mut tasks = Vec::new();
    for conn in 0..64 {
        tasks.push(tokio::spawn(async move {
            let mut stream = BufReader::new(TcpStream::connect(addr).await.expect("connect"));
            let mut ok = 0;
            for i in 0..(10_000 / 64 + usize::from(conn < 10_000 % 64)) {
                let req = format!(
                    "GET /serve/1?click_id={conn}-{i}&device_ip=5.255.232.147&device_ua={UA}&click_timestamp={ts} HTTP/1.1\r\nHost: {addr}\r\n\r\n"
                );
                stream.get_mut().write_all(req.as_bytes()).await.expect("write");
                let r = read_response(&mut stream).await.expect("response");
                ok += usize::from(r.status == 204);
            }
            ok
        }));
    }
    let mut answered = 0;
    for t in tasks {
        answered += t.await.expect("task");
    }
    assert_eq!(answered, 10_000);
    let health = m.admin().health().await.expect("health");
    assert_eq!(health.journal.entries, 10_000);
    assert_eq!(health.journal.dropped, 0);
    let mut ids: Vec<String> = m
        .journal()
        .await
        .iter()
        .filter_map(|e| e.param("click_id").map(str::to_owned))
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10_000, "each request journaled exactly once");
    m.stop().await.expect("clean stop");
}

#[tokio::test]
async fn slow_clients_are_cut_off_by_the_header_timeout() {
    let m = mock_with_200ms_header_timeout().await;
    let mut slow = TcpStream::connect(m.click).await.expect("connect");
    slow.write_all(b"GET /serve/1 HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    // The server must close (or answer 408) without the rest of the head.
    assert!(
        closes_within_5s(&mut slow).await,
        "the connection was not closed"
    );
    assert_eq!(
        get(m.click, &click("1", "fine")).await.status,
        204,
        "others are still served"
    );
    m.stop().await.expect("clean stop");
}

#[tokio::test]
async fn the_header_timeout_spares_requests_being_answered_and_cuts_idle_keep_alive() {
    let m = mock_with_200ms_header_timeout().await;
    // A long-poll three times the timeout: its head is in, so it is answered, not cut.
    let started = std::time::Instant::now();
    let waited = get(
        m.click,
        "/__admin/requests/wait?click_id=never&timeout_ms=600",
    )
    .await;
    assert_eq!(waited.json()["total"], 0);
    assert!(started.elapsed() >= Duration::from_millis(600));

    // A kept-alive connection is answered, then cut once it idles past the timeout.
    let mut kept = BufReader::new(TcpStream::connect(m.click).await.expect("connect"));
    let head = format!("GET {} HTTP/1.1\r\nHost: x\r\n\r\n", click("1", "kept"));
    kept.get_mut()
        .write_all(head.as_bytes())
        .await
        .expect("write");
    let answered = read_response(&mut kept).await.expect("a response");
    assert_eq!(answered.status, 204);
    let idle = std::time::Instant::now();
    assert!(
        closes_within_5s(kept.get_mut()).await,
        "the idle connection was not closed"
    );
    assert!(
        idle.elapsed() >= Duration::from_millis(150),
        "closed before the timeout: {:?}",
        idle.elapsed()
    );
    m.stop().await.expect("clean stop");
}

#[tokio::test]
async fn admin_is_off_on_non_loopback_listeners_without_a_token() {
    // Bound on all interfaces; the test still only talks to 127.0.0.1.
    let m = Mock::start(Config {
        click_listen: ([0, 0, 0, 0], 0).into(),
        ..strict()
    })
    .await;
    let (open_port, local) = (m.click.port(), m.impression);
    let exposed: std::net::SocketAddr = ([127, 0, 0, 1], open_port).into();
    let r = get(exposed, "/__admin/requests").await;
    assert_eq!(r.status, 404);
    assert!(
        String::from_utf8_lossy(&r.body).contains("admin-token"),
        "says how to enable it"
    );
    assert_eq!(get(exposed, "/metrics").await.status, 404);
    assert_eq!(
        get(exposed, &click("1", "a")).await.status,
        204,
        "tracking still works"
    );
    assert_eq!(
        get(local, "/__admin/health").await.status,
        200,
        "the loopback listener keeps it"
    );
    m.stop().await.expect("clean stop");
}

/// Whether the server closes `stream` within 5 s, whatever it sends first.
async fn closes_within_5s(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_to_end(stream, &mut rest),
    )
    .await
    .is_ok()
}

/// A strict mock whose header-read timeout is short enough for a test to wait out.
async fn mock_with_200ms_header_timeout() -> Mock {
    Mock::start(Config {
        limits: Limits {
            header_read_timeout: Duration::from_millis(200),
            ..Limits::default()
        },
        ..with_journal(10)
    })
    .await
}
