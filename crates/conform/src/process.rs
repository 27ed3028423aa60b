//! A partner's command in a process group of its own, so that everything it started (a
//! backgrounded `sleep`, a server it forked) is stopped with it: on a timeout, at the end of a
//! scenario or a run, and when the runner itself is dropped.

use rustix::process::{kill_process_group, Pid, Signal};
use std::io;

/// Starts `command` as the leader of a new process group; the group is killed when the
/// returned guard is dropped.
pub fn spawn_group(
    command: &mut tokio::process::Command,
) -> io::Result<(tokio::process::Child, Group)> {
    command.process_group(0).kill_on_drop(true);
    let child = command.spawn()?;
    let leader = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(Pid::from_raw);
    Ok((child, Group { leader }))
}

/// A process group to kill.
#[derive(Debug)]
pub struct Group {
    leader: Option<Pid>,
}

impl Group {
    /// Kills every process of the group still running. Safe to call more than once: a group
    /// with no process left is simply gone.
    pub fn kill(&mut self) {
        if let Some(pid) = self.leader.take() {
            let _ = kill_process_group(pid, Signal::KILL);
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}
