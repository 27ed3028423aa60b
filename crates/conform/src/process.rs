//! A partner's command in a process group of its own, so that everything it started (a
//! backgrounded `sleep`, a server it forked) is stopped with it: on a timeout, at the end of a
//! scenario or a run, and when the runner itself is dropped.
//!
//! A process group is not enough: a child that calls `setsid()` leaves it. So each command is
//! also marked with a variable of its own in its environment (which every descendant inherits,
//! `setsid` or not), the runner is made a child subreaper (orphans are re-parented to it rather
//! than to init), and what is still running with the mark when the command ends is found in
//! `/proc` and stopped. [`sweep`] does the same for the whole run, and says what it stopped.

use rustix::process::{kill_process, kill_process_group, Pid, Signal};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

/// The variable that marks a partner command and its descendants.
const MARK: &str = "METRICA_S2S_CONFORM_MARK";

/// Makes this process the reaper of its orphaned descendants (Linux), so none escapes to init.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
}

/// This run's prefix for marks: the runner's pid, so two runs never stop each other's.
fn run_prefix() -> String {
    format!("{}-", std::process::id())
}

/// Starts `command` as the leader of a new process group, marked; the group, and anything
/// still carrying its mark, is killed when the returned guard is dropped.
pub fn spawn_group(
    command: &mut tokio::process::Command,
) -> io::Result<(tokio::process::Child, Group)> {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let mark = format!("{}{}", run_prefix(), NEXT.fetch_add(1, Ordering::Relaxed));
    command.process_group(0).kill_on_drop(true).env(MARK, &mark);
    let child = command.spawn()?;
    let leader = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(Pid::from_raw);
    Ok((
        child,
        Group {
            leader,
            mark: Some(mark),
        },
    ))
}

/// A process group to kill, and the mark of the processes it started.
#[derive(Debug)]
pub struct Group {
    leader: Option<Pid>,
    mark: Option<String>,
}

impl Group {
    /// Kills every process of the group, and every process carrying its mark, still running.
    /// Safe to call more than once.
    pub fn kill(&mut self) {
        let leader = self.leader.take();
        if let Some(pid) = leader {
            let _ = kill_process_group(pid, Signal::KILL);
        }
        if let Some(mark) = self.mark.take() {
            let stopped = stop_marked(|m| m == mark, leader.map(Pid::as_raw_nonzero));
            if !stopped.is_empty() {
                STOPPED
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(stopped);
            }
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Processes stopped with their command's group since the last [`sweep`] because they had
/// left it (`setsid`).
static STOPPED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Stops every process this run's commands left running (a `setsid` daemon among them) and
/// names each, `pid (name)`, with those stopped as their command ended though they had left
/// its process group.
pub fn sweep() -> Vec<String> {
    let prefix = run_prefix();
    let mut all = std::mem::take(
        &mut *STOPPED
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    all.extend(stop_marked(|m| m.starts_with(&prefix), None));
    all
}

/// Kills the processes whose mark `wanted` accepts; the `pid (name)`s of those outside the
/// process group `group` (already killed with it, as expected).
fn stop_marked(wanted: impl Fn(&str) -> bool, group: Option<std::num::NonZeroI32>) -> Vec<String> {
    let mut stopped = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return stopped;
    };
    let me = std::process::id();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let marked = environ
            .split(|b| *b == 0)
            .filter_map(|kv| kv.strip_prefix(MARK.as_bytes())?.strip_prefix(b"="))
            .any(|m| std::str::from_utf8(m).is_ok_and(&wanted));
        if !marked {
            continue;
        }
        let name = std::fs::read_to_string(entry.path().join("comm"))
            .map(|n| n.trim().to_owned())
            .unwrap_or_default();
        let in_group = group.is_some_and(|g| process_group_of(&entry.path()) == Some(g.get()));
        if let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) {
            if kill_process(p, Signal::KILL).is_ok() && !in_group {
                stopped.push(format!("{pid} ({name})"));
            }
        }
    }
    stopped
}

/// The process group of the process whose `/proc` directory is `dir`.
fn process_group_of(dir: &std::path::Path) -> Option<i32> {
    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
    // `pid (comm) state ppid pgrp ...`: comm may hold spaces; the last ')' ends it.
    stat[stat.rfind(')')? + 1..]
        .split_whitespace()
        .nth(2)?
        .parse()
        .ok()
}
