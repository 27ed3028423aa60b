//! The partner file: who is being tested and how to drive their integration.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Partner {
    pub name: String,
    pub driver: Driver,
    /// A mock that is already running, used through its admin API instead of an embedded one.
    pub remote: Option<RemoteMock>,
    /// Fixed listen addresses for the embedded mock; free ports when absent.
    pub click_listen: Option<SocketAddr>,
    pub impression_listen: Option<SocketAddr>,
    /// Where the partner file is: commands run there.
    pub dir: PathBuf,
}

/// A running mock: its click listener's base URL, and its impression listener's when given.
#[derive(Clone, Debug)]
pub struct RemoteMock {
    pub url: String,
    pub impression_url: Option<String>,
}

#[derive(Clone, Debug)]
pub enum Driver {
    /// `sh -c command` once per scenario.
    Exec { command: String, timeout_ms: u64 },
    /// The runner plays the user's device and clicks the partner's own click URL.
    Http(HttpDriver),
}

#[derive(Clone, Debug)]
pub struct HttpDriver {
    /// Started before the run and stopped after, with S2S_CLICK_BASE / S2S_IMPRESSION_BASE.
    pub start: Option<String>,
    /// Templates with `{tracking_id}` and `{click_id}`.
    pub click_url: String,
    pub impression_url: String,
    pub timeout_ms: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    partner: Header,
    driver: DriverDef,
    mock: Option<MockDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DriverDef {
    kind: String,
    command: Option<String>,
    timeout_ms: Option<u64>,
    start: Option<String>,
    click_url: Option<String>,
    impression_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MockDef {
    click_listen: Option<SocketAddr>,
    impression_listen: Option<SocketAddr>,
    url: Option<String>,
    impression_url: Option<String>,
}

impl Partner {
    pub fn load(path: &Path) -> Result<Partner, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read partner file {}: {e}", path.display()))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Partner::parse(&text, dir)
            .map_err(|e| format!("partner file {} is not valid: {e}", path.display()))
    }

    pub fn parse(text: &str, dir: PathBuf) -> Result<Partner, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string().replace('\n', " "))?;
        let driver = match file.driver.kind.as_str() {
            "exec" => Driver::Exec {
                command: file
                    .driver
                    .command
                    .ok_or("driver kind \"exec\" needs a command")?,
                timeout_ms: file.driver.timeout_ms.unwrap_or(5000),
            },
            "http" => Driver::Http(HttpDriver {
                start: file.driver.start,
                click_url: loopback_url(file.driver.click_url, "click_url")?,
                impression_url: loopback_url(file.driver.impression_url, "impression_url")?,
                timeout_ms: file.driver.timeout_ms.unwrap_or(5000),
            }),
            other => {
                return Err(format!(
                    "driver kind {other:?} is neither \"exec\" nor \"http\""
                ))
            }
        };
        let mock = file.mock.unwrap_or(MockDef {
            click_listen: None,
            impression_listen: None,
            url: None,
            impression_url: None,
        });
        let remote = match mock.url {
            Some(url) => Some(RemoteMock {
                url: base_url(&url, "[mock] url")?,
                impression_url: mock
                    .impression_url
                    .map(|u| base_url(&u, "[mock] impression_url"))
                    .transpose()?,
            }),
            None if mock.impression_url.is_some() => {
                return Err("[mock] impression_url needs [mock] url".into())
            }
            None => None,
        };
        for addr in [mock.click_listen, mock.impression_listen]
            .into_iter()
            .flatten()
        {
            if !addr.ip().is_loopback() {
                return Err(format!(
                    "[mock] listen address {addr} is not a loopback address"
                ));
            }
        }
        Ok(Partner {
            name: file.partner.name,
            driver,
            remote,
            click_listen: mock.click_listen,
            impression_listen: mock.impression_listen,
            dir,
        })
    }
}

/// An http driver URL: `http://<loopback ip>:<port>/...` with a template in it.
fn loopback_url(url: Option<String>, name: &str) -> Result<String, String> {
    let url = url.ok_or(format!("driver kind \"http\" needs {name}"))?;
    let host = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split(['/', '?']).next())
        .and_then(|h| h.parse::<SocketAddr>().ok())
        .ok_or(format!(
            "{name} {url:?} must be http://<loopback ip>:<port>/..."
        ))?;
    if !host.ip().is_loopback() {
        return Err(format!("{name} {url:?} is not on a loopback address"));
    }
    Ok(url)
}

/// A running mock's base URL: `http://<loopback ip>:<port>`, trailing slash dropped.
fn base_url(url: &str, name: &str) -> Result<String, String> {
    crate::http::split(url).map_err(|e| format!("{name}: {e}"))?;
    Ok(url.trim_end_matches('/').to_owned())
}
