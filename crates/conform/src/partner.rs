//! The partner file: who is being tested and how to drive their integration.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Why a partner file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PartnerError {
    #[error("cannot read partner file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("partner file {path} is not valid: {source}")]
    InFile {
        path: PathBuf,
        source: Box<PartnerError>,
    },
    #[error("{0}")]
    Toml(String),
    #[error("driver kind {0:?} is neither \"exec\" nor \"http\"")]
    DriverKind(String),
    #[error("driver kind {kind:?} needs {field}")]
    Missing {
        kind: &'static str,
        field: &'static str,
    },
    #[error("{field} {url:?} must be http://<loopback ip>:<port>/...")]
    NotLoopbackUrl { field: &'static str, url: String },
    #[error("[mock] listen address {0} is not a loopback address")]
    NotLoopbackListen(SocketAddr),
    #[error("[mock] impression_url needs [mock] url")]
    ImpressionWithoutUrl,
}

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
    pub fn load(path: &Path) -> Result<Partner, PartnerError> {
        let text = std::fs::read_to_string(path).map_err(|source| PartnerError::Read {
            path: path.to_owned(),
            source,
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Partner::parse(&text, dir).map_err(|e| PartnerError::InFile {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    pub fn parse(text: &str, dir: PathBuf) -> Result<Partner, PartnerError> {
        let file: File = toml::from_str(text)
            .map_err(|e| PartnerError::Toml(e.to_string().replace('\n', " ")))?;
        let driver = match file.driver.kind.as_str() {
            "exec" => Driver::Exec {
                command: file.driver.command.ok_or(PartnerError::Missing {
                    kind: "exec",
                    field: "a command",
                })?,
                timeout_ms: file.driver.timeout_ms.unwrap_or(5000),
            },
            "http" => Driver::Http(HttpDriver {
                start: file.driver.start,
                click_url: loopback_url(file.driver.click_url, "click_url")?,
                impression_url: loopback_url(file.driver.impression_url, "impression_url")?,
                timeout_ms: file.driver.timeout_ms.unwrap_or(5000),
            }),
            other => return Err(PartnerError::DriverKind(other.to_owned())),
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
                return Err(PartnerError::ImpressionWithoutUrl)
            }
            None => None,
        };
        for addr in [mock.click_listen, mock.impression_listen]
            .into_iter()
            .flatten()
        {
            if !addr.ip().is_loopback() {
                return Err(PartnerError::NotLoopbackListen(addr));
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
fn loopback_url(url: Option<String>, field: &'static str) -> Result<String, PartnerError> {
    let url = url.ok_or(PartnerError::Missing {
        kind: "http",
        field,
    })?;
    match loopback_addr(&url) {
        Some(_) => Ok(url),
        None => Err(PartnerError::NotLoopbackUrl { field, url }),
    }
}

/// A running mock's base URL: `http://<loopback ip>:<port>`, trailing slash dropped.
fn base_url(url: &str, field: &'static str) -> Result<String, PartnerError> {
    match loopback_addr(url) {
        Some(_) => Ok(url.trim_end_matches('/').to_owned()),
        None => Err(PartnerError::NotLoopbackUrl {
            field,
            url: url.to_owned(),
        }),
    }
}

/// The address of an `http://<loopback ip>:<port>...` URL: metrica-s2s sends its own requests
/// to loopback only.
pub fn loopback_addr(url: &str) -> Option<SocketAddr> {
    let rest = url.strip_prefix("http://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    authority
        .parse::<SocketAddr>()
        .ok()
        .filter(|a| a.ip().is_loopback())
}

#[cfg(test)]
mod tests {
    use crate::partner::{loopback_addr, Partner, PartnerError};

    #[test]
    fn only_loopback_addresses_are_driven() {
        assert!(loopback_addr("http://127.0.0.1:9000/click?x={click_id}").is_some());
        assert!(loopback_addr("http://[::1]:9000").is_some());
        for url in [
            "http://10.0.0.1:9000/",
            "https://127.0.0.1:9/",
            "http://localhost:9000/",
            "127.0.0.1:9000",
        ] {
            assert!(loopback_addr(url).is_none(), "{url}");
        }
        let e = Partner::parse(
            "[partner]\nname='x'\n[driver]\nkind='http'\nclick_url='http://8.8.8.8:80/'\nimpression_url='http://127.0.0.1:1/'",
            Default::default(),
        )
        .expect_err("not loopback");
        assert!(
            matches!(
                e,
                PartnerError::NotLoopbackUrl {
                    field: "click_url",
                    ..
                }
            ),
            "{e}"
        );
    }
}
