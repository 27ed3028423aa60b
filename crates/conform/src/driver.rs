//! Drivers: how the runner makes the partner's integration report an event.

use crate::checks::Truth;
use crate::partner::{Driver, Partner};
use crate::suite::Scenario;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The mock's base URLs the partner is told to use.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub click_base: String,
    pub impression_base: String,
}

/// How a driver run ended, when it did not end well: the partner's failure, reported as
/// `driver-failed`.
pub type DriverResult = Result<(), String>;

/// Keep this much of a failing command's output in the report.
const OUTPUT_TAIL: usize = 2000;

pub async fn run(
    partner: &Partner,
    scenario: &Scenario,
    truth: &Truth,
    endpoints: &Endpoints,
) -> DriverResult {
    match &partner.driver {
        Driver::Exec {
            command,
            timeout_ms,
        } => exec(partner, command, *timeout_ms, scenario, truth, endpoints).await,
        // The runner clicks itself (see `click`); nothing runs per scenario here.
        Driver::Http(_) => Ok(()),
    }
}

/// The variables the contract gives the exec driver, in order.
pub fn environment(
    scenario: &Scenario,
    truth: &Truth,
    endpoints: &Endpoints,
) -> Vec<(&'static str, String)> {
    vec![
        ("S2S_SCENARIO", scenario.id.clone()),
        ("S2S_EVENT", scenario.event.as_str().to_owned()),
        (
            "S2S_CLICK_URL",
            format!("{}/serve/{}", endpoints.click_base, truth.tracking_id),
        ),
        (
            "S2S_IMPRESSION_URL",
            format!("{}/serve/{}", endpoints.impression_base, truth.tracking_id),
        ),
        ("S2S_TRACKING_ID", truth.tracking_id.to_string()),
        ("S2S_CLICK_ID", truth.click_id.clone()),
        ("S2S_DEVICE_IP", scenario.device.ip.to_string()),
        ("S2S_DEVICE_UA", scenario.device.ua.clone()),
        ("S2S_EVENT_TIME", truth.event_time.to_string()),
        (
            "S2S_GOOGLE_AID",
            scenario.device.google_aid.clone().unwrap_or_default(),
        ),
        (
            "S2S_IOS_IFA",
            scenario.device.ios_ifa.clone().unwrap_or_default(),
        ),
    ]
}

async fn exec(
    partner: &Partner,
    command: &str,
    timeout_ms: u64,
    scenario: &Scenario,
    truth: &Truth,
    endpoints: &Endpoints,
) -> DriverResult {
    let env = environment(scenario, truth, endpoints);
    let json: serde_json::Map<String, serde_json::Value> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
        .collect();
    let mut child = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .current_dir(if partner.dir.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            &partner.dir
        })
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start `sh -c {command}`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that ignores stdin closes it early; that is its right.
        let _ = stdin
            .write_all(serde_json::Value::Object(json).to_string().as_bytes())
            .await;
    }
    let mut stderr = child.stderr.take();
    let mut stdout = child.stdout.take();
    let wait = async {
        let mut err = Vec::new();
        let mut out = Vec::new();
        let (status, _, _) = tokio::join!(
            child.wait(),
            async {
                if let Some(e) = stderr.as_mut() {
                    let _ = e.read_to_end(&mut err).await;
                }
            },
            async {
                if let Some(o) = stdout.as_mut() {
                    let _ = o.read_to_end(&mut out).await;
                }
            }
        );
        (status, err)
    };
    match tokio::time::timeout(Duration::from_millis(timeout_ms), wait).await {
        Err(_) => Err(format!(
            "the command did not finish within {timeout_ms} ms and was stopped"
        )),
        Ok((Err(e), _)) => Err(format!("waiting for the command failed: {e}")),
        Ok((Ok(status), _)) if status.success() => Ok(()),
        Ok((Ok(status), err)) => {
            let tail = String::from_utf8_lossy(&err[err.len().saturating_sub(OUTPUT_TAIL)..])
                .trim()
                .to_owned();
            Err(format!(
                "the command exited with {status}{}",
                if tail.is_empty() {
                    String::new()
                } else {
                    format!("; its stderr ends: {}", metrica_s2s_rules::quote_str(&tail))
                }
            ))
        }
    }
}

/// A partner's server for the http driver: started before the run, stopped after.
#[derive(Debug)]
pub struct PartnerServer(tokio::process::Child);

impl PartnerServer {
    /// Starts `command` with the mock's bases in its environment and waits, bounded, until
    /// `ready` accepts connections.
    pub async fn start(
        command: &str,
        dir: &std::path::Path,
        endpoints: &Endpoints,
        ready: std::net::SocketAddr,
    ) -> Result<PartnerServer, String> {
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            // `exec`: the server replaces the shell, so stopping the child stops the server.
            .arg(format!("exec {command}"))
            .current_dir(if dir.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                dir
            })
            .env("S2S_CLICK_BASE", &endpoints.click_base)
            .env("S2S_IMPRESSION_BASE", &endpoints.impression_base)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start `{command}`: {e}"))?;
        // An external process gives no readiness event: try to connect, bounded, 20 ms apart.
        for _ in 0..500 {
            if tokio::net::TcpStream::connect(ready).await.is_ok() {
                return Ok(PartnerServer(child));
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!(
                    "`{command}` exited with {status} before listening on {ready}"
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(format!("`{command}` did not listen on {ready} within 10 s"))
    }

    pub async fn stop(mut self) {
        let _ = self.0.kill().await;
    }
}
