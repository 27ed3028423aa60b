//! The exec driver: the partner's command, once per scenario, through `sh -c`, with the
//! scenario's truth in its environment and as JSON on stdin.

use super::interface::{BoxFuture, Driver, Endpoints, Event, Supplies};
use crate::error::ScenarioError;
use crate::judge::Finding;
use crate::suite::Scenario;
use crate::truth::Truth;
use metrica_s2s_rules::{Code, Draft};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Keep this much of a failing command's output in the report.
const OUTPUT_TAIL: usize = 2000;

#[derive(Debug)]
pub struct Exec {
    command: String,
    timeout: Duration,
    /// Where the partner file is: the command runs there.
    dir: PathBuf,
}

impl Exec {
    pub fn new(command: String, timeout_ms: u64, dir: PathBuf) -> Exec {
        Exec {
            command,
            timeout: Duration::from_millis(timeout_ms),
            dir,
        }
    }

    async fn run(&self, event: Event<'_>) -> Result<Vec<Finding>, ScenarioError> {
        let env = environment(event.scenario, event.truth, event.endpoints);
        let json: serde_json::Map<String, serde_json::Value> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
            .collect();
        let command = &self.command;
        let mut child = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(command)
            .current_dir(if self.dir.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                &self.dir
            })
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ScenarioError::DriverStart(format!("`sh -c {command}`: {e}")))?;
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
        let failure = match tokio::time::timeout(self.timeout, wait).await {
            Err(_) => format!(
                "the command did not finish within {} ms and was stopped",
                self.timeout.as_millis()
            ),
            Ok((Err(e), _)) => {
                return Err(ScenarioError::DriverStart(format!(
                    "waiting for `sh -c {command}` failed: {e}"
                )))
            }
            Ok((Ok(status), _)) if status.success() => return Ok(Vec::new()),
            Ok((Ok(status), err)) => {
                let tail = String::from_utf8_lossy(&err[err.len().saturating_sub(OUTPUT_TAIL)..])
                    .trim()
                    .to_owned();
                format!(
                    "the command exited with {status}{}",
                    if tail.is_empty() {
                        String::new()
                    } else {
                        format!("; its stderr ends: {}", metrica_s2s_rules::quote_str(&tail))
                    }
                )
            }
        };
        let d = Draft::new(Code::DriverFailed)
            .arg("reason", failure)
            .finish();
        Ok(vec![Finding::plain(d)])
    }
}

impl Driver for Exec {
    fn prepare<'a>(&'a mut self, _: &'a Endpoints) -> BoxFuture<'a, Result<(), ScenarioError>> {
        Box::pin(async { Ok(()) })
    }

    fn trigger<'a>(
        &'a self,
        event: Event<'a>,
    ) -> BoxFuture<'a, Result<Vec<Finding>, ScenarioError>> {
        Box::pin(self.run(event))
    }

    fn supplies(&self) -> Supplies {
        Supplies { ad_ids: true }
    }

    fn finish(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
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
        (
            "S2S_CA_FILE",
            endpoints
                .ca_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use crate::driver::exec::Exec;
    use crate::driver::interface::{Endpoints, Event};
    use crate::suite::Suite;
    use crate::truth::Truth;

    async fn trigger(command: &str, timeout_ms: u64) -> Vec<String> {
        let suite = Suite::standard().expect("suite");
        let truth = Truth {
            tracking_id: 7,
            click_id: "c-1".into(),
            event_time: 1_795_860_000,
        };
        let endpoints = Endpoints {
            click_base: "http://127.0.0.1:1".into(),
            impression_base: "http://127.0.0.1:2".into(),
            ca_file: None,
        };
        let exec = Exec::new(command.into(), timeout_ms, Default::default());
        exec.run(Event {
            scenario: &suite.scenarios[0],
            truth: &truth,
            endpoints: &endpoints,
        })
        .await
        .expect("sh starts")
        .into_iter()
        .map(|f| f.diagnostic.message)
        .collect()
    }

    #[tokio::test]
    async fn the_command_gets_the_truth_in_its_environment_and_on_stdin() {
        let check = r#"test "$S2S_CLICK_URL" = http://127.0.0.1:1/serve/7 && test "$S2S_CLICK_ID" = c-1 && test "$S2S_EVENT_TIME" = 1795860000 && grep -q '"S2S_TRACKING_ID":"7"'"#;
        assert_eq!(trigger(check, 5000).await, Vec::<String>::new());
    }

    #[tokio::test]
    async fn a_failing_command_is_driver_failed_with_its_stderr() {
        let found = trigger("echo 'no route to \x1b[31mhost' >&2; exit 3", 5000).await;
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("exit status: 3"), "{}", found[0]);
        assert!(
            found[0].contains(r"no route to \u{1B}[31mhost"),
            "escaped: {}",
            found[0]
        );
    }

    #[tokio::test]
    async fn a_command_that_hangs_is_stopped_at_its_timeout() {
        let found = trigger("sleep 30", 200).await;
        assert!(
            found[0].contains("did not finish within 200 ms"),
            "{}",
            found[0]
        );
    }
}
