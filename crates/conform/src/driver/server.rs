//! A partner's own server, started before the run and stopped after it: the http driver's
//! click server, and (with postbacks) the partner's postback receiver.
//!
//! Its port must be free before it starts, and once the port opens it must be the started
//! command (or a process it started) that listens: otherwise the runner would test a stray
//! process. Either failure, like a command that exits before its port opens, is a
//! configuration error, never the partner's.

use crate::error::RunError;
use crate::ports;
use crate::process::{spawn_group, Group};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// The child process; dropping it kills the server and every process it started.
#[derive(Debug)]
pub struct PartnerServer(tokio::process::Child, Group);

impl PartnerServer {
    /// Starts `command` through `sh -c` in `dir` with `env` added, and waits, bounded, until
    /// `ready` accepts connections. `what` names the port in errors (`click_url`).
    pub async fn start(
        what: &'static str,
        command: &str,
        dir: &Path,
        env: &[(&str, &str)],
        ready: SocketAddr,
    ) -> Result<PartnerServer, RunError> {
        if ports::is_taken(ready).await {
            return Err(RunError::PortTaken {
                what,
                addr: ready,
                command: command.to_owned(),
                holder: ports::holder(ready).map(|h| h.to_string()),
            });
        }
        let (mut child, group) = spawn_group(
            tokio::process::Command::new("sh")
                .arg("-c")
                // `exec`: the server replaces the shell, so stopping the child stops the server.
                .arg(format!("exec {command}"))
                .current_dir(if dir.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    dir
                })
                .envs(env.iter().copied())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
        )
        .map_err(|e| RunError::PartnerServer(format!("cannot start `{command}`: {e}")))?;
        let mut stderr = child.stderr.take();
        // An external process gives no readiness event: try to connect, bounded, 20 ms apart.
        for _ in 0..500 {
            if ports::is_taken(ready).await {
                return match ports::holder(ready) {
                    Some(h) if !ports::is_ours(h.pid) => Err(RunError::PortTaken {
                        what,
                        addr: ready,
                        command: command.to_owned(),
                        holder: Some(h.to_string()),
                    }),
                    _ => {
                        // Its log goes on where it always went: the runner's stderr.
                        if let Some(mut e) = stderr.take() {
                            tokio::spawn(async move {
                                let _ = tokio::io::copy(&mut e, &mut tokio::io::stderr()).await;
                            });
                        }
                        Ok(PartnerServer(child, group))
                    }
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                let said = match stderr.as_mut() {
                    Some(e) => tail(e).await,
                    None => String::new(),
                };
                let not_found = status.code() == Some(127);
                return Err(RunError::PartnerServer(format!(
                    "{what}'s server `{command}` exited with {status} before listening on {ready}{}{}",
                    if said.is_empty() {
                        String::new()
                    } else {
                        format!("; its stderr ends: {}", metrica_s2s_rules::quote_str(&said))
                    },
                    if not_found {
                        " (127: the command or its interpreter was not found)"
                    } else {
                        ""
                    }
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(RunError::PartnerServer(format!(
            "{what}'s server `{command}` did not listen on {ready} within 10 s"
        )))
    }

    pub async fn stop(mut self) {
        self.1.kill();
        let _ = self.0.kill().await;
    }
}

/// The last line or so of what an exited command wrote (at most 300 bytes read back).
async fn tail(from: &mut tokio::process::ChildStderr) -> String {
    use tokio::io::AsyncReadExt;
    let mut all = Vec::new();
    let _ = tokio::time::timeout(Duration::from_millis(200), from.read_to_end(&mut all)).await;
    let text = String::from_utf8_lossy(&all);
    let text = text.trim();
    let start = text.len().saturating_sub(300);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    text[start..].to_owned()
}
