//! A real OpenID provider for the tests: `tests/oidc/provider.js` (oidc-provider on Node.js)
//! with the clients and accounts a test gives it, on a port of its own.
//!
//! ```ignore
//! let op = OidcProvider::start(
//!     dir.path(),
//!     json!([{"client_id": "monitor", "client_secret": "s",
//!             "token_endpoint_auth_method": "client_secret_basic",
//!             "redirect_uris": [format!("{base}/auth/callback")]}]),
//!     json!([{"login": "alice", "password": "pw", "sub": "u1",
//!             "email": "alice@example.test", "name": "Alice"}]),
//! );
//! let discovery = format!("{}/.well-known/openid-configuration", op.issuer());
//! ```
//!
//! Its login page has `#username`, `#password`, `#login-submit` and, after a failed attempt,
//! `#login-error`; see the head of `provider.js` for the rest.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running OpenID provider, stopped when dropped.
pub struct OidcProvider {
    issuer: String,
    child: Child,
    log: PathBuf,
}

impl OidcProvider {
    /// Writes `dir/oidc-config.json` with `clients` and `accounts`, starts the provider and waits
    /// until it listens; it logs to `dir/oidc-provider.log`.
    pub fn start(dir: &Path, clients: serde_json::Value, accounts: serde_json::Value) -> Self {
        let home = provider_dir();
        install(&home);
        let config = dir.join("oidc-config.json");
        let body = serde_json::json!({ "clients": clients, "accounts": accounts });
        std::fs::write(&config, body.to_string()).expect("write the provider's config");
        let log = dir.join("oidc-provider.log");
        let stderr = std::fs::File::create(&log).expect("create the provider's log");
        let mut child = Command::new("node")
            .arg(home.join("provider.js"))
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("node (Node.js 20.12 or newer) is needed: {e}"));
        // the first stdout line names the issuer; later lines are read and dropped
        let stdout = child.stdout.take().expect("the provider's stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = sender.send(line);
            }
        });
        let line = receiver.recv_timeout(Duration::from_secs(30));
        let issuer = match line.as_deref().map(|l| l.strip_prefix("listening ")) {
            Ok(Some(issuer)) => issuer.to_owned(),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("the OIDC provider did not start ({line:?}); its log:\n{text}");
            }
        };
        Self { issuer, child, log }
    }

    /// The issuer URL, `http://127.0.0.1:<port>` (its discovery document is under it).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The provider's log (its stderr).
    pub fn log(&self) -> &Path {
        &self.log
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tests/oidc`, next to this crate's sources.
fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc")
}

/// Installs the provider's locked packages (`npm ci`) unless they are in place. Under a lock file
/// in the system's temporary directory, since test processes run in parallel and `npm ci` first
/// deletes `node_modules`.
fn install(home: &Path) {
    let installed = |home: &Path| {
        // npm writes node_modules/.package-lock.json once an install is complete
        home.join("node_modules/oidc-provider").is_dir()
            && home.join("node_modules/.package-lock.json").is_file()
    };
    if installed(home) {
        return;
    }
    // the check again under the lock: another test process may have installed them meanwhile
    let script = [
        "[ -f node_modules/.package-lock.json ] && [ -d node_modules/oidc-provider ] && exit 0",
        "echo \"installing the test OpenID provider's packages (npm ci in tests/oidc)\" >&2",
        "npm ci --no-audit --no-fund --ignore-scripts >&2",
    ]
    .join("\n");
    let status = Command::new("flock")
        .arg(std::env::temp_dir().join("schakel-oidc-npm-ci.lock"))
        .args(["sh", "-c", &script])
        .current_dir(home)
        .status()
        .unwrap_or_else(|e| panic!("flock (util-linux) and npm are needed: {e}"));
    assert!(
        status.success() && installed(home),
        "npm ci in {} failed ({status}): Node.js 20.12 or newer and npm are needed",
        home.display()
    );
}
