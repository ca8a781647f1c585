//! Child processes that are stopped by PID, never by name.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process, kill_process_group};

use crate::Error;

/// How long a server may take to become ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a server may take to exit after SIGTERM before it gets SIGKILL.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A server process started in its own process group, with its output in a log file.
///
/// Dropping it (or [`Daemon::stop`]) sends SIGTERM to the group and to every descendant
/// that left the group (e.g. sshd's per-connection processes), waits up to 5 s, then
/// sends SIGKILL to whatever is left, and reaps the child.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Daemon {
    /// Spawns `command` with stdin closed and stdout/stderr appended to `log`, as the
    /// leader of a new process group.
    ///
    /// # Errors
    /// [`Error::Io`] when the log cannot be opened or the program cannot be started.
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> Result<Self, Error> {
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(Error::io(format!("opening {}", log.display())))?;
        let err = out
            .try_clone()
            .map_err(Error::io(format!("opening {}", log.display())))?;
        command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = command
            .spawn()
            .map_err(Error::io(format!("starting {name} ({command:?})")))?;
        Ok(Self {
            name: name.to_owned(),
            child: Some(child),
            log: log.to_owned(),
        })
    }

    /// The process id (also the process group id).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The server's name as given to [`Daemon::spawn`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the server wrote so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Polls `ready` every 50 ms until it returns true.
    ///
    /// # Errors
    /// [`Error::NotReady`] with the server's log when the process exits first or
    /// [`READY_TIMEOUT`] passes.
    pub fn wait_ready(&mut self, mut ready: impl FnMut() -> bool) -> Result<(), Error> {
        let start = Instant::now();
        loop {
            if ready() {
                return Ok(());
            }
            let exited = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten());
            if let Some(status) = exited {
                return Err(self.not_ready(format!("exited with {status}")));
            }
            if start.elapsed() > READY_TIMEOUT {
                return Err(self.not_ready(format!("not ready after {READY_TIMEOUT:?}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn not_ready(&self, reason: String) -> Error {
        Error::NotReady {
            name: self.name.clone(),
            reason,
            log: self.log(),
        }
    }

    /// Stops the process, its group and its descendants (see the type's docs). Idempotent.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id();
        let mut targets = descendants(pid);
        targets.insert(pid);
        signal_all(pid, &targets, Signal::TERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        let mut reaped = false;
        while Instant::now() < deadline {
            if !reaped {
                reaped = matches!(child.try_wait(), Ok(Some(_)));
            }
            let group_left = processes_in_group(pid);
            if reaped && group_left.is_empty() && targets.iter().all(|&p| !is_alive(p)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        targets.extend(processes_in_group(pid));
        signal_all(pid, &targets, Signal::KILL);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop();
    }
}

fn signal_all(group: u32, pids: &HashSet<u32>, signal: Signal) {
    // Errors are ESRCH for processes already gone.
    if let Some(group) = pid(group) {
        let _ = kill_process_group(group, signal);
    }
    for &p in pids {
        if let Some(p) = pid(p) {
            let _ = kill_process(p, signal);
        }
    }
}

fn pid(raw: u32) -> Option<Pid> {
    i32::try_from(raw).ok().and_then(Pid::from_raw)
}

/// (pid, ppid, pgrp, state) of every process, from `/proc`.
fn process_table() -> Vec<(u32, u32, u32, char)> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name is in parentheses and may contain anything; the fields
            // after the last `)` are: state ppid pgrp ...
            let rest = &stat[stat.rfind(')')? + 1..];
            let mut fields = rest.split_whitespace();
            let state = fields.next()?.chars().next()?;
            let ppid = fields.next()?.parse().ok()?;
            let pgrp = fields.next()?.parse().ok()?;
            Some((pid, ppid, pgrp, state))
        })
        .collect()
}

/// Every live (non-zombie) process whose process group is `pgid`.
pub fn processes_in_group(pgid: u32) -> Vec<u32> {
    process_table()
        .into_iter()
        .filter(|&(_, _, pgrp, state)| pgrp == pgid && state != 'Z')
        .map(|(pid, ..)| pid)
        .collect()
}

/// Every live descendant of `pid` (children, their children, ...).
pub fn descendants(pid: u32) -> HashSet<u32> {
    let table = process_table();
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(p, ppid, _, state) in &table {
        if state != 'Z' {
            children.entry(ppid).or_default().push(p);
        }
    }
    let mut found = HashSet::new();
    let mut stack = vec![pid];
    while let Some(parent) = stack.pop() {
        for &child in children.get(&parent).into_iter().flatten() {
            if found.insert(child) {
                stack.push(child);
            }
        }
    }
    found
}

/// Whether `pid` exists and is not a zombie.
pub fn is_alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let rest = &stat[stat.rfind(')')? + 1..];
            rest.split_whitespace().next().map(|s| s != "Z")
        })
        .unwrap_or(false)
}

/// A port on 127.0.0.1 that was free a moment ago (bound, read, released). Servers that
/// cannot report the port they bound get it passed in; [`with_free_port`] retries when
/// another process grabs it in between.
///
/// # Errors
/// [`Error::Io`] when no port can be bound.
pub fn free_port() -> Result<u16, Error> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(Error::io("binding 127.0.0.1:0".to_owned()))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(Error::io("reading the bound port".to_owned()))
}

/// Runs `start` with free ports, again (up to 5 times) when it fails because a port was
/// taken in the meantime (the error's log mentions "address already in use").
///
/// # Errors
/// The last error of `start`.
pub fn with_free_port<T>(mut start: impl FnMut(u16) -> Result<T, Error>) -> Result<T, Error> {
    let mut attempt = 0;
    loop {
        match start(free_port()?) {
            Err(Error::NotReady { log, .. }) if attempt < 4 && port_in_use(&log) => attempt += 1,
            other => return other,
        }
    }
}

fn port_in_use(log: &str) -> bool {
    let log = log.to_ascii_lowercase();
    log.contains("address already in use") || log.contains("address in use")
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
pub fn tcp_ready(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .is_ok()
}

/// The HTTP status of a plain `GET path` on 127.0.0.1:`port`, if any.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(200),
    )
    .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// Runs a command to completion and returns its stdout.
///
/// # Errors
/// [`Error::Io`] when it cannot start, [`Error::Command`] (with stderr) when it fails.
pub fn run(command: &mut Command) -> Result<String, Error> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(Error::io(format!("running {command:?}")))?;
    if !output.status.success() {
        return Err(Error::Command {
            command: format!("{command:?}"),
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Finds a tool: `SLUICE_VENV/bin/<name>`, then the workspace's `.venv/bin/<name>`, then
/// the directories of `PATH`, then `/usr/sbin` and `/sbin`.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("SLUICE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::iter::once(venv.join("bin"))
        .chain(std::env::split_paths(&path))
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Like [`find_tool`], as an error naming the install script when missing.
///
/// # Errors
/// [`Error::MissingTool`].
pub fn require_tool(name: &str) -> Result<PathBuf, Error> {
    find_tool(name).ok_or_else(|| Error::MissingTool(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shell(script: &str) -> (Daemon, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        let daemon = Daemon::spawn("sh", command, &dir.path().join("log")).unwrap();
        (daemon, dir)
    }

    fn wait_for(mut condition: impl FnMut() -> bool) {
        let start = Instant::now();
        while !condition() {
            assert!(start.elapsed() < Duration::from_secs(10), "timed out");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn stopping_ends_the_whole_process_group() {
        let (mut daemon, _dir) = shell("sleep 300 & sleep 300 & wait");
        let pid = daemon.pid();
        wait_for(|| processes_in_group(pid).len() >= 3);
        daemon.stop();
        assert!(processes_in_group(pid).is_empty());
        assert!(!is_alive(pid));
    }

    #[test]
    fn stopping_ends_descendants_that_left_the_group() {
        let (mut daemon, _dir) = shell("setsid sleep 300 & wait");
        let pid = daemon.pid();
        wait_for(|| !descendants(pid).is_empty());
        let escaped: Vec<u32> = descendants(pid).into_iter().collect();
        daemon.stop();
        assert!(escaped.iter().all(|&p| !is_alive(p)), "{escaped:?}");
    }

    #[test]
    fn a_process_ignoring_sigterm_is_killed() {
        let (mut daemon, _dir) = shell("trap '' TERM; while true; do sleep 0.05; done");
        let pid = daemon.pid();
        daemon.stop();
        assert!(!is_alive(pid));
        assert!(processes_in_group(pid).is_empty());
    }

    #[test]
    fn a_server_that_exits_early_reports_its_log() {
        let (mut daemon, _dir) = shell("echo 'bind: address already in use' >&2; exit 3");
        let err = daemon.wait_ready(|| false).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("exited with"), "{message}");
        assert!(message.contains("address already in use"), "{message}");
    }

    #[test]
    fn a_free_port_is_retried_when_taken() {
        let mut calls = 0;
        let port = with_free_port(|port| {
            calls += 1;
            if calls < 3 {
                Err(Error::NotReady {
                    name: "x".to_owned(),
                    reason: "exited".to_owned(),
                    log: "Address already in use".to_owned(),
                })
            } else {
                Ok(port)
            }
        })
        .unwrap();
        assert!(port > 0);
        assert_eq!(calls, 3);
    }
}
