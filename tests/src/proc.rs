//! The workspace's binaries and the processes a test starts from them.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// The directory holding the workspace's binaries (next to the test executable's `deps/`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe.parent().expect("deps dir");
    if dir.ends_with("deps") {
        dir.parent().expect("profile dir").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} is missing: run `cargo build --bins` first (make test does)",
        p.display()
    );
    p
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A child process killed when dropped.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
    /// the port of its `/metrics`, left beside its log for the privacy scan when it stops
    metrics_port: Option<u16>,
}

impl Proc {
    /// Takes charge of a started child process.
    pub fn adopt(name: &str, child: Child, log: PathBuf) -> Self {
        Self {
            name: name.to_owned(),
            child: Some(child),
            log,
            metrics_port: None,
        }
    }

    /// Leaves what its `/metrics` says beside its log when it stops (with the privacy scan on).
    pub fn with_metrics(mut self, port: u16) -> Self {
        self.metrics_port = Some(port);
        self
    }

    /// Writes its `/metrics` to `<log>.metrics.log`, for the privacy scan.
    fn leave_metrics(&mut self) {
        let Some(port) = self.metrics_port else {
            return;
        };
        if crate::privacy::dir().is_none() || !self.is_running() {
            return;
        }
        if let Some(text) = scrape(port) {
            let _ = std::fs::write(self.log.with_extension("metrics.log"), text);
        }
    }

    /// SIGKILL: no chance to drain or commit.
    pub fn kill9(&mut self) {
        self.leave_metrics();
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Whether the process still runs (it did not exit on its own).
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM and wait: the graceful stop.
    pub fn stop(&mut self) {
        self.leave_metrics();
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(25);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// What a service's `/metrics` on `port` says (a plain HTTP/1.1 GET, usable where no runtime
/// is, as in a `Drop`).
pub fn scrape(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

/// Waits until something listens on `port` of loopback.
pub fn wait_for_port(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port} after {limit:?}");
}
