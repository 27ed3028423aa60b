//! The dashboard's server side over real HTTP: the page under its CSP with no inline script,
//! the event stream live and resumable, the admin rules, and a shutdown an open stream does
//! not hold up. (The page itself is tested in Chromium by scripts/e2e-dashboard.py.)

mod support;

use metrica_s2s_mock::Config;
use std::net::SocketAddr;
use std::time::Duration;
use support::{get, Mock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Opens the event stream with `headers` and reads until `pattern` has been seen `count`
/// times (bounded by 10 s); the text read.
async fn read_events(
    addr: SocketAddr,
    headers: &str,
    pattern: &str,
    count: usize,
    meanwhile: impl std::future::Future<Output = ()>,
) -> String {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(
        format!("GET /__admin/events HTTP/1.1\r\nHost: {addr}\r\n{headers}\r\n").as_bytes(),
    )
    .await
    .expect("write");
    let read = async {
        let mut text = String::new();
        let mut buf = [0u8; 8192];
        while text.matches(pattern).count() < count {
            let n = s.read(&mut buf).await.expect("read");
            if n == 0 {
                break;
            }
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        text
    };
    let (text, ()) = tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(read, meanwhile)
    })
    .await
    .expect("the events within 10 s");
    text
}

#[tokio::test]
async fn the_page_and_its_assets_run_under_a_strict_csp_without_inline_script() {
    let m = Mock::default().await;
    for path in ["/", "/__admin/ui"] {
        let page = get(m.click, path).await;
        assert_eq!(page.status, 200);
        let csp = page.header("content-security-policy").expect("a CSP");
        assert!(csp.starts_with("default-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe"), "{csp}");
        let html = String::from_utf8(page.body).expect("utf-8");
        assert!(html.contains(r#"<script src="/__admin/ui/app.js" defer></script>"#));
        assert_eq!(
            html.matches("<script").count(),
            1,
            "one script, from a file"
        );
        for inline in [
            " style=",
            " onclick=",
            " onload=",
            " onerror=",
            "javascript:",
        ] {
            assert!(!html.contains(inline), "inline {inline:?} in the page");
        }
    }
    let js = get(m.click, "/__admin/ui/app.js").await;
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    let script = String::from_utf8(js.body).expect("utf-8");
    assert!(!script.contains("innerHTML"), "values go in as text only");
    assert!(!script.contains("eval("));
    assert_eq!(get(m.click, "/__admin/ui/app.css").await.status, 200);
    assert_eq!(get(m.click, "/favicon.ico").await.status, 204);
    let explain = get(m.click, "/__admin/rules/ip-with-port").await;
    assert!(String::from_utf8_lossy(&explain.body).contains("ip-with-port"));
    assert_eq!(
        get(m.click, "/__admin/rules/no-such-code").await.status,
        404
    );
    assert_eq!(
        get(m.click, "/__admin/requests").await.json()["total"],
        0,
        "the page and its assets are not journaled"
    );
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn the_stream_is_live_resumable_and_marks_the_offending_bytes() {
    let m = Mock::default().await;
    for i in 0..3 {
        get(m.click, &support::click("7", &format!("old{i}"))).await;
    }
    // Resumed after entry 2: entry 3 first, then what arrives.
    let click = m.click;
    let text = read_events(
        m.click,
        "Last-Event-ID: 2\r\n",
        "event: request",
        2,
        async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let bad = format!(
                "/serve/7?click_id=new&device_ip=1.2.3.4:80&device_ua={}&click_timestamp={}",
                support::UA,
                support::now()
            );
            get(click, &bad).await;
        },
    )
    .await;
    assert!(text.contains("text/event-stream"), "{text}");
    let ids: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .collect();
    assert_eq!(ids, ["3", "4"], "{text}");
    let data = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .nth(1)
        .expect("the live event");
    let v: serde_json::Value = serde_json::from_str(data).expect("JSON");
    assert_eq!(v["entry"]["diagnostics"][0]["code"], "ip-with-port");
    let e = &v["excerpts"][0];
    let shown: String = e["text"]
        .as_str()
        .expect("text")
        .chars()
        .skip(e["mark_start"].as_u64().expect("start") as usize)
        .take(e["mark_width"].as_u64().expect("width") as usize)
        .collect();
    assert_eq!(shown, "1.2.3.4:80", "the mark is on the offending value");
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn a_reader_behind_the_journal_is_told_what_it_missed() {
    let m = Mock::start(support::with_journal(5)).await;
    for i in 0..12 {
        get(m.click, &support::click("7", &format!("c{i}"))).await;
    }
    let text = read_events(
        m.click,
        "Last-Event-ID: 1\r\n",
        "event: request",
        5,
        async {},
    )
    .await;
    assert!(text.contains("event: gap\ndata: {\"missed\": 6}"), "{text}");
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn with_a_token_the_page_loads_and_the_data_needs_the_token() {
    let m = Mock::start(Config {
        admin_token: Some("t0ken".into()),
        ..support::with_journal(10)
    })
    .await;
    assert_eq!(
        get(m.click, "/").await.status,
        200,
        "the page holds no data"
    );
    assert_eq!(get(m.click, "/__admin/events").await.status, 401);
    assert_eq!(
        get(m.click, "/__admin/rules/ip-with-port").await.status,
        401
    );
    let text = read_events(
        m.click,
        "Authorization: Bearer t0ken\r\n",
        "text/event-stream",
        1,
        async {},
    )
    .await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn an_open_stream_does_not_hold_up_shutdown() {
    let m = Mock::default().await;
    let mut s = TcpStream::connect(m.click).await.expect("connect");
    s.write_all(format!("GET /__admin/events HTTP/1.1\r\nHost: {}\r\n\r\n", m.click).as_bytes())
        .await
        .expect("write");
    let mut buf = [0u8; 1024];
    let _ = s.read(&mut buf).await.expect("the stream's head");
    // The grace period is 5 s; an open stream must end at once instead.
    tokio::time::timeout(Duration::from_secs(3), m.stop())
        .await
        .expect("stopped before the grace period")
        .expect("stopped");
}
