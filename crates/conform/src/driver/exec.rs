//! The exec driver: the partner's command, once per scenario, through `sh -c`, with the
//! scenario's truth in its environment and as JSON on stdin.

use super::interface::{BoxFuture, Driver, Endpoints, Event, Supplies};
use crate::error::{RunError, ScenarioError};
use crate::judge::Finding;
use crate::process::spawn_group;
use crate::suite::Scenario;
use crate::truth::Truth;
use metrica_s2s_rules::{Code, Draft};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
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
    /// A run has ended other than with the shell's "not found" (127): from then on a 127 is
    /// the partner's command failing, not a command that does not exist.
    found: AtomicBool,
}

/// `sh` exits with this when it cannot find the command (or its interpreter).
const NOT_FOUND: i32 = 127;

impl Exec {
    pub fn new(command: String, timeout_ms: u64, dir: PathBuf) -> Exec {
        Exec {
            command,
            timeout: Duration::from_millis(timeout_ms),
            dir,
            found: AtomicBool::new(false),
        }
    }

    async fn run(&self, event: Event<'_>) -> Result<Vec<Finding>, ScenarioError> {
        let env = environment(event.scenario, event.truth, event.endpoints);
        let json: serde_json::Map<String, serde_json::Value> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
            .collect();
        let command = &self.command;
        let (mut child, mut group) = spawn_group(
            tokio::process::Command::new("sh")
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
                .stderr(Stdio::piped()),
        )
        .map_err(|e| ScenarioError::DriverStart(format!("`sh -c {command}`: {e}")))?;
        let mut stdin = child.stdin.take();
        let mut stderr = child.stderr.take();
        let mut stdout = child.stdout.take();
        let input = serde_json::Value::Object(json).to_string();
        // Everything, writing stdin included, within the timeout.
        let whole = async {
            let mut err = Tail::default();
            let mut out = Tail::default();
            let (status, (), (), ()) = tokio::join!(
                async {
                    let status = child.wait().await;
                    // What the command left running (a backgrounded process holding its
                    // output open) ends with it.
                    group.kill();
                    status
                },
                async {
                    if let Some(mut i) = stdin.take() {
                        // A command that ignores stdin closes it early; that is its right.
                        let _ = i.write_all(input.as_bytes()).await;
                    }
                },
                async {
                    if let Some(e) = stderr.as_mut() {
                        err.drain(e).await;
                    }
                },
                async {
                    if let Some(o) = stdout.as_mut() {
                        out.drain(o).await;
                    }
                }
            );
            (status, err)
        };
        let outcome = tokio::time::timeout(self.timeout, whole).await;
        group.kill();
        let failure = match outcome {
            Err(_) => {
                self.found.store(true, Ordering::Relaxed);
                format!(
                    "the command did not finish within {} ms and was stopped with every process it started",
                    self.timeout.as_millis()
                )
            }
            Ok((Err(e), _)) => {
                return Err(ScenarioError::DriverStart(format!(
                    "waiting for `sh -c {command}` failed: {e}"
                )))
            }
            Ok((Ok(status), _)) if status.success() => {
                self.found.store(true, Ordering::Relaxed);
                return Ok(Vec::new());
            }
            Ok((Ok(status), err))
                if status.code() == Some(NOT_FOUND) && !self.found.load(Ordering::Relaxed) =>
            {
                return Err(ScenarioError::CommandNotFound {
                    command: command.clone(),
                    stderr: err.text(),
                })
            }
            Ok((Ok(status), err)) => {
                self.found.store(true, Ordering::Relaxed);
                let tail = err.text();
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

/// The last [`OUTPUT_TAIL`] bytes of a stream read to its end: a command printing gigabytes
/// costs the runner no more than this.
#[derive(Default)]
struct Tail(std::collections::VecDeque<u8>);

impl Tail {
    async fn drain(&mut self, from: &mut (impl tokio::io::AsyncRead + Unpin)) {
        let mut buf = [0u8; 8192];
        while let Ok(n) = from.read(&mut buf).await {
            if n == 0 {
                break;
            }
            self.0.extend(&buf[..n]);
            let over = self.0.len().saturating_sub(OUTPUT_TAIL);
            self.0.drain(..over);
        }
    }

    fn text(&self) -> String {
        let bytes: Vec<u8> = self.0.iter().copied().collect();
        String::from_utf8_lossy(&bytes).trim().to_owned()
    }
}

impl Driver for Exec {
    fn prepare<'a>(&'a mut self, _: &'a Endpoints) -> BoxFuture<'a, Result<(), RunError>> {
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

/// The variables docs/contract.md gives the exec driver, in order.
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
        trigger_ua(command, timeout_ms, None).await
    }

    async fn trigger_ua(command: &str, timeout_ms: u64, ua: Option<String>) -> Vec<String> {
        let mut suite = Suite::standard().expect("suite");
        if let Some(ua) = ua {
            suite.scenarios[0].device.ua = ua;
        }
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

    /// Processes named by a unique marker in their command line, from /proc.
    fn running(marker: &str) -> usize {
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
            })
            .count()
    }

    #[tokio::test]
    async fn no_process_the_command_started_survives_it() {
        // `sleep` with an odd duration is the marker: nothing else runs it.
        let started = std::time::Instant::now();
        let found = trigger("(sleep 31.4159) & (sleep 31.4159 &) ; sleep 31.4159", 300).await;
        assert!(
            found[0].contains("did not finish within 300 ms"),
            "{}",
            found[0]
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(
            running("31.4159"),
            0,
            "processes left behind after a timeout"
        );
        // A command that ends at once but leaves a process holding its output open: the run
        // goes on at once, and the process is gone.
        let started = std::time::Instant::now();
        let found = trigger("(sleep 27.1828) & exit 0", 5_000).await;
        assert!(found.is_empty(), "{found:?}");
        assert!(started.elapsed() < std::time::Duration::from_secs(4));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert_eq!(running("27.1828"), 0, "a backgrounded process left behind");
    }

    #[tokio::test]
    async fn the_timeout_covers_stdin_and_output_is_kept_as_a_bounded_tail() {
        // A command that never reads its stdin, given more than a pipe holds (a 100 KB UA):
        // the input cannot hold the runner past the timeout.
        let found = trigger_ua("sleep 30", 300, Some("U".repeat(100_000))).await;
        assert!(
            found[0].contains("did not finish within 300 ms"),
            "{}",
            found[0]
        );
        let found = trigger("head -c 50000000 /dev/zero | tr '\\0' x; echo END >&2; head -c 10000000 /dev/zero | tr '\\0' y >&2; exit 4", 20_000).await;
        assert!(found[0].contains("exit status: 4"), "{}", found[0]);
        assert!(
            found[0].len() < 3 * crate::driver::exec::OUTPUT_TAIL,
            "a bounded tail: {} bytes",
            found[0].len()
        );
    }
}
