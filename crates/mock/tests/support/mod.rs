//! A mock on port 0 and a raw HTTP/1.1 client: raw, so tests control every byte sent.
#![allow(dead_code)]

use metrica_s2s_mock::model::{Entry, Filter, MAX_PAGE};
use metrica_s2s_mock::{AdminClient, Config, MockServer, Mode, Stopped};
use std::net::SocketAddr;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub const UA: &str = "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20Chrome%2F120.0%20Mobile%20Safari%2F537.36";

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A valid click target for `tracker` and `click_id`, timestamped now.
pub fn click(tracker: &str, click_id: &str) -> String {
    format!(
        "/serve/{tracker}?click_id={click_id}&device_ip=5.255.232.147&device_ua={UA}&click_timestamp={}",
        now() - 5
    )
}

/// A mock started the one way every mock is, with its addresses at hand.
pub struct Mock {
    pub click: SocketAddr,
    pub impression: SocketAddr,
    pub server: MockServer,
}

impl Mock {
    pub async fn start(config: Config) -> Mock {
        let server = MockServer::start(config).await.expect("the mock starts");
        Mock {
            click: server.click_addr(),
            impression: server.impression_addr(),
            server,
        }
    }

    /// Strict, on free ports, every other setting as `serve` has it.
    pub async fn default() -> Mock {
        Mock::start(strict()).await
    }

    pub fn admin(&self) -> AdminClient {
        self.server.admin()
    }

    /// Every journal entry, read page by page through the admin API.
    pub async fn journal(&self) -> Vec<std::sync::Arc<Entry>> {
        let mut all = Vec::new();
        let mut since = 0;
        loop {
            let filter = Filter {
                since: Some(since),
                limit: Some(MAX_PAGE),
                ..Filter::default()
            };
            let page = self
                .admin()
                .requests(&filter)
                .await
                .expect("a journal page");
            all.extend(page.requests);
            match page.next {
                Some(next) => since = next,
                None => return all,
            }
        }
    }

    /// Journal entry `seq`.
    pub async fn entry(&self, seq: u64) -> Entry {
        self.admin()
            .request(seq)
            .await
            .expect("the admin API answers")
            .expect("the entry is kept")
    }

    /// Stops the server and waits until it has (the journal file is complete then).
    pub async fn stop(self) -> std::io::Result<Stopped> {
        self.server.stop().await
    }
}

/// The defaults on free loopback ports, strict.
pub fn strict() -> Config {
    Config {
        mode: Mode::Strict,
        ..Config::ephemeral()
    }
}

/// As [`strict`], with a journal of `capacity` entries.
pub fn with_journal(capacity: usize) -> Config {
    let mut c = strict();
    c.journal.capacity = capacity;
    c
}

pub use metrica_s2s_testkit::{read_response_async as read_response, Response};

/// `GET target` with a Host header, on a fresh connection.
pub async fn get(addr: SocketAddr, target: &str) -> Response {
    raw(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
}

/// `method path` with a JSON body, on a fresh connection.
pub async fn send_json(addr: SocketAddr, method: &str, path: &str, body: &str) -> Response {
    raw(
        addr,
        format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
}

/// Sends raw bytes on a fresh connection and reads one response.
pub async fn raw(addr: SocketAddr, bytes: &[u8]) -> Response {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let mut stream = BufReader::new(stream);
    stream.get_mut().write_all(bytes).await.expect("write");
    read_response(&mut stream).await.expect("a response")
}
