//! A partner's own server, started before the run and stopped after it: the http driver's
//! click server, and (with postbacks) the partner's postback receiver.

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
    /// `ready` accepts connections.
    pub async fn start(
        command: &str,
        dir: &Path,
        env: &[(&str, &str)],
        ready: SocketAddr,
    ) -> Result<PartnerServer, String> {
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
                .stdout(Stdio::null()),
        )
        .map_err(|e| format!("cannot start `{command}`: {e}"))?;
        // An external process gives no readiness event: try to connect, bounded, 20 ms apart.
        for _ in 0..500 {
            if tokio::net::TcpStream::connect(ready).await.is_ok() {
                return Ok(PartnerServer(child, group));
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
        self.1.kill();
        let _ = self.0.kill().await;
    }
}
