//! The partner file: who is being tested and how to drive their integration.

use metrica_s2s_mock::model::{ConversionKind, PostbackMethod, Template, TemplateError};
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
    #[error("[mock] tls = true runs the embedded mock over https; it cannot go with [mock] url")]
    TlsWithUrl,
    #[error("[postback] {0}")]
    Postback(TemplateError),
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
    /// The embedded mock serves https (on `localhost`, its CA in `S2S_CA_FILE`).
    pub tls: bool,
    /// The partner's postback receiver, when its file has a `[postback]` table: the suite's
    /// postback scenarios run then.
    pub postback: Option<Receiver>,
    /// Where the partner file is: commands run there.
    pub dir: PathBuf,
    /// The partner file as given, when it was read from one (reports point at it).
    pub file: Option<String>,
}

/// The partner's postback receiver: where the mock sends conversions, and how.
#[derive(Clone, Debug)]
pub struct Receiver {
    /// Started before the run and stopped after, like `[driver] start`.
    pub start: Option<String>,
    /// A template: `{click_id}`, `{transaction_id}` and every other postback macro.
    pub url: String,
    pub method: PostbackMethod,
    /// For POST: the body template; scenarios that post JSON use it when it is JSON.
    pub body: Option<String>,
    pub content_type: Option<String>,
    /// Where the runner waits for the receiver to listen.
    pub addr: SocketAddr,
}

impl Receiver {
    /// The receiver's URL as a template for conversions of `event` (named `name`), sent by
    /// `method`: a POST without a body of the partner's gets a JSON body of every value.
    pub fn template(
        &self,
        event: ConversionKind,
        name: Option<&str>,
        method: PostbackMethod,
    ) -> Template {
        let body = match method {
            PostbackMethod::Get => None,
            PostbackMethod::Post => Some(
                self.body
                    .clone()
                    .filter(|b| b.trim_start().starts_with('{'))
                    .unwrap_or_else(|| DEFAULT_JSON_BODY.to_owned()),
            ),
        };
        Template {
            event,
            event_name: name.map(str::to_owned),
            first_event_only: false,
            all_users: false,
            method,
            url: self.url.clone(),
            content_type: body.as_ref().and(self.content_type.clone()),
            body,
        }
    }
}

/// The JSON body of a postback scenario that posts one, when the partner gives none.
pub const DEFAULT_JSON_BODY: &str = r#"{"click_id": "{click_id}", "transaction_id": "{transaction_id}", "match_type": "{match_type}", "event_name": "{conversion_event_name}", "install_ipv6": "{install_ipv6}", "click_user_agent": "{click_user_agent}", "google_aid": "{google_aid}", "ios_ifa": "{ios_ifa}"}"#;

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
    postback: Option<PostbackDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PostbackDef {
    start: Option<String>,
    url: String,
    #[serde(default)]
    method: PostbackMethod,
    body: Option<String>,
    content_type: Option<String>,
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
    #[serde(default)]
    tls: bool,
}

impl Partner {
    pub fn load(path: &Path) -> Result<Partner, PartnerError> {
        let text = std::fs::read_to_string(path).map_err(|source| PartnerError::Read {
            path: path.to_owned(),
            source,
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut partner = Partner::parse(&text, dir).map_err(|e| PartnerError::InFile {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
        partner.file = Some(path.display().to_string());
        Ok(partner)
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
            tls: false,
        });
        if mock.tls && mock.url.is_some() {
            return Err(PartnerError::TlsWithUrl);
        }
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
        let postback = file.postback.map(receiver).transpose()?;
        Ok(Partner {
            name: file.partner.name,
            driver,
            postback,
            remote,
            click_listen: mock.click_listen,
            impression_listen: mock.impression_listen,
            tls: mock.tls,
            dir,
            file: None,
        })
    }
}

fn receiver(def: PostbackDef) -> Result<Receiver, PartnerError> {
    let addr = loopback_addr(&def.url).ok_or_else(|| PartnerError::NotLoopbackUrl {
        field: "[postback] url",
        url: def.url.clone(),
    })?;
    let r = Receiver {
        start: def.start,
        url: def.url,
        method: def.method,
        body: def.body,
        content_type: def.content_type,
        addr,
    };
    if r.method == PostbackMethod::Get && r.body.is_some() {
        return Err(PartnerError::Postback(TemplateError::BodyOnGet));
    }
    for method in [PostbackMethod::Get, PostbackMethod::Post] {
        r.template(ConversionKind::Install, None, method)
            .check()
            .map_err(PartnerError::Postback)?;
    }
    Ok(r)
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
    fn a_postback_table_names_a_loopback_receiver() {
        let head = "[partner]\nname='x'\n[driver]\nkind='exec'\ncommand='true'\n";
        let p = Partner::parse(
            &format!("{head}[postback]\nstart='python3 r.py'\nurl='http://127.0.0.1:9100/pb?c={{click_id}}'\n"),
            Default::default(),
        )
        .expect("valid");
        let r = p.postback.expect("receiver");
        assert_eq!(r.addr.port(), 9100);
        let e = Partner::parse(
            &format!("{head}[postback]\nurl='http://10.1.1.1:9100/pb'\n"),
            Default::default(),
        )
        .expect_err("not loopback");
        assert!(e.to_string().contains("[postback] url"), "{e}");
        let e = Partner::parse(
            &format!("{head}[postback]\nurl='http://127.0.0.1:9100/pb'\nbody='x'\n"),
            Default::default(),
        )
        .expect_err("a body on GET");
        assert!(e.to_string().contains("POST"), "{e}");
    }

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
