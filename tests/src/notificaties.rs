//! A Notificaties API for the tests: `tests/notificaties/receiver.py`, which checks every
//! request against Open Notificaties' own OpenAPI document (`tests/notificaties/openapi.yaml`,
//! source in `SOURCE.md`) with openapi-core, verifies the ZGW JWT, and keeps what it got.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running receiver, stopped when dropped.
pub struct NotificatiesApi {
    port: u16,
    child: Child,
    log: PathBuf,
}

fn home() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("notificaties")
}

impl NotificatiesApi {
    /// Installs the receiver's venv (once per machine), starts it for `client_id` and
    /// `secret`, and waits until it listens; it logs to `dir/notificaties.log`.
    pub fn start(dir: &Path, client_id: &str, secret: &str) -> Self {
        let install = Command::new(home().join("install.sh"))
            .output()
            .expect("run tests/notificaties/install.sh");
        assert!(
            install.status.success(),
            "installing the receiver failed:\n{}",
            String::from_utf8_lossy(&install.stderr)
        );
        let stdout = String::from_utf8_lossy(&install.stdout);
        let python = stdout.lines().last().expect("the venv's python").to_owned();
        let log = dir.join("notificaties.log");
        let stderr = std::fs::File::create(&log).expect("create the receiver's log");
        let mut child = Command::new(python)
            .arg(home().join("receiver.py"))
            .args(["--client-id", client_id, "--secret", secret, "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the receiver");
        let out = child.stdout.take().expect("the receiver's stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                let _ = sender.send(line);
            }
        });
        let line = receiver.recv_timeout(Duration::from_secs(30));
        let port = match line
            .as_deref()
            .ok()
            .and_then(|l| l.strip_prefix("listening on "))
            .and_then(|p| p.trim().parse().ok())
        {
            Some(p) => p,
            None => {
                let _ = child.kill();
                let _ = child.wait();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("the Notificaties receiver did not start ({line:?}); its log:\n{text}");
            }
        };
        Self { port, child, log }
    }

    /// The API's base URL (`[notify.notificaties] url`).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1", self.port)
    }

    /// Every API request received: method, path, body, the validation errors found for it,
    /// the status answered, and what the receiver's own response broke of the document.
    pub async fn requests(&self) -> Vec<serde_json::Value> {
        reqwest::get(format!("http://127.0.0.1:{}/_test/requests", self.port))
            .await
            .expect("the receiver answers")
            .json()
            .await
            .expect("a JSON list")
    }

    /// Answers the next `times` notificaties with `status`.
    pub async fn fail_next(&self, status: u16, times: usize) {
        let res = reqwest::Client::new()
            .post(format!(
                "http://127.0.0.1:{}/_test/fail?status={status}&times={times}",
                self.port
            ))
            .send()
            .await
            .expect("the receiver answers");
        assert!(res.status().is_success());
    }

    pub fn log(&self) -> &Path {
        &self.log
    }
}

impl Drop for NotificatiesApi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
