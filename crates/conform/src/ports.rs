//! Who holds a partner's port. A partner server whose port is already taken fails to start,
//! and a runner that then connects would test whatever stray process holds the port: a pass
//! for code that never ran. So the port must be free before the start command runs, and once
//! it opens, it must be the started command (or a process it started) that listens.
//!
//! Nothing is bound here (the runner binds no listener): a port is taken when something
//! accepts a connection on it, and its holder is found in `/proc` (Linux; elsewhere only the
//! first check is made).

use std::net::SocketAddr;
use std::time::Duration;

/// A process listening on a port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// Its command name, from `/proc/<pid>/comm`.
    pub name: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} ({})", self.pid, self.name)
    }
}

/// Whether something accepts connections on `addr` now.
pub async fn is_taken(addr: SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(addr)
        )
        .await,
        Ok(Ok(_))
    )
}

/// The process listening on `addr`'s port, when `/proc` tells.
pub fn holder(addr: SocketAddr) -> Option<Holder> {
    let inode = listening_inode(addr)?;
    let wanted = format!("socket:[{inode}]");
    for proc_dir in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = proc_dir
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(proc_dir.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            if std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == wanted.as_str()) {
                let name = std::fs::read_to_string(proc_dir.path().join("comm"))
                    .map(|n| n.trim().to_owned())
                    .unwrap_or_default();
                return Some(Holder { pid, name });
            }
        }
    }
    None
}

/// Whether `pid` is this process or one of its descendants.
pub fn is_ours(pid: u32) -> bool {
    let me = std::process::id();
    let mut at = pid;
    for _ in 0..64 {
        if at == me {
            return true;
        }
        match parent_of(at) {
            Some(p) if p > 1 && p != at => at = p,
            _ => return false,
        }
    }
    false
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid ...`: comm may hold spaces and parentheses; the last ')' ends it.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// The inode of the socket listening on `addr`'s port (on its address, or on any).
fn listening_inode(addr: SocketAddr) -> Option<u64> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .into_iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .find_map(|text| listening_inode_in(&text, addr.port()))
}

/// In the text of `/proc/net/tcp`: the inode of the socket listening on `port`.
fn listening_inode_in(table: &str, port: u16) -> Option<u64> {
    const LISTEN: &str = "0A";
    let port = format!("{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        let (local, state, inode) = (cols.get(1)?, cols.get(3)?, cols.get(9)?);
        (*state == LISTEN && local.rsplit(':').next() == Some(port.as_str()))
            .then(|| inode.parse::<u64>().ok())
            .flatten()
            .filter(|n| *n != 0)
    })
}

#[cfg(test)]
mod tests {
    use crate::ports::{is_ours, listening_inode_in, parent_of};

    #[test]
    fn the_listening_socket_of_a_port_is_found_in_procs_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:2328 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 81234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:2328 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 81299 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 100 0 0 10 0";
        assert_eq!(
            listening_inode_in(table, 9000),
            Some(81234),
            "LISTEN, not the connection"
        );
        assert_eq!(
            listening_inode_in(table, 8080),
            Some(5555),
            "on any address"
        );
        assert_eq!(listening_inode_in(table, 9001), None);
    }

    #[test]
    fn this_process_is_ours_and_init_is_not() {
        assert!(is_ours(std::process::id()));
        if std::path::Path::new("/proc/self/stat").exists() {
            assert!(parent_of(std::process::id()).is_some());
        }
        assert!(!is_ours(1));
    }
}
