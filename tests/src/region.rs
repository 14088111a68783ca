//! The one way a test gets a region: [`Region`] names what differs from the test region
//! (the broker, `[notify]` keys, extra tables, the directory) and starts it as an [`Env`],
//! its topics applied and its directory loaded.

use std::path::{Path, PathBuf};

use schakel_core::Config;

use crate::{broker, free_port, random_suffix, Env};

/// The environment variable naming the shared broker of a test run (`make test` starts it).
pub const SHARED_BROKER: &str = "TEST_KAFKA_BOOTSTRAP";

/// Where an environment's topics live.
pub enum Broker {
    /// the run's broker (`TEST_KAFKA_BOOTSTRAP`), shared by tests that do not stop it
    Shared(String),
    /// a single node of the test's own, which it may kill and start again
    Own(broker::Node),
    /// three nodes of the test's own
    Cluster(broker::Cluster),
}

impl Broker {
    pub(crate) fn bootstrap(&self) -> String {
        match self {
            Broker::Shared(b) => b.clone(),
            Broker::Own(n) => n.bootstrap(),
            Broker::Cluster(c) => c.bootstrap(),
        }
    }

    /// Whether the topics can be read (for the privacy scan at the end of a test).
    pub(crate) fn readable(&self) -> bool {
        match self {
            Broker::Shared(_) => true,
            Broker::Own(n) => n.is_running(),
            Broker::Cluster(c) => c.nodes.iter().filter(|n| n.is_running()).count() >= 2,
        }
    }
}

/// Which broker a test without special needs uses: the shared one if the run has it.
fn default_broker(dir: &Path) -> Broker {
    match std::env::var(SHARED_BROKER) {
        Ok(b) if !b.is_empty() => Broker::Shared(b),
        _ => Broker::Own(broker::single(dir)),
    }
}

/// Test tokens written into every test config.
pub const JEUGDHULP_TOKEN: &str = "test-jeugdhulp-0392";
pub const LAS_TOKEN: &str = "test-las-12AB";
pub const LEERPLICHT_TOKEN: &str = "test-leerplicht-0392";
/// The secret that signs action links in every test config (tests forge and expire links
/// with it).
pub const LINK_SECRET: &str = "test-link-secret-0123456789abcdef-0123";
/// The vault master key of every test config.
pub const VAULT_MASTER_KEY: &str =
    "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";

/// What a test's region is made of; [`Region::start`] makes it.
#[must_use]
pub struct Region {
    broker: Which,
    notify: String,
    monitor: String,
    monitor_port: Option<u16>,
    tables: String,
    directory: Option<String>,
    topics: bool,
}

enum Which {
    Default,
    Own,
    Cluster,
}

impl Default for Region {
    fn default() -> Self {
        Self::new()
    }
}

impl Region {
    /// The test region on the run's shared broker (or a node of its own outside `make test`),
    /// topics applied, no directory.
    pub fn new() -> Self {
        Self {
            broker: Which::Default,
            notify: String::new(),
            monitor: String::new(),
            monitor_port: None,
            tables: String::new(),
            directory: None,
            topics: true,
        }
    }

    /// A single broker node of the test's own, for tests that stop the broker.
    pub fn own_broker(mut self) -> Self {
        self.broker = Which::Own;
        self
    }

    /// A three-node cluster of the test's own (replication factor 3, `min.insync.replicas=2`).
    pub fn cluster(mut self) -> Self {
        self.broker = Which::Cluster;
        self
    }

    /// Keys of the `[notify]` table, one per line (`clock = "log"`).
    pub fn notify(mut self, keys: &str) -> Self {
        self.notify.push_str(keys);
        self.notify.push('\n');
        self
    }

    /// Keys of the `[monitor]` table, one per line (`assets_dir = "…"`).
    pub fn monitor(mut self, keys: &str) -> Self {
        self.monitor.push_str(keys);
        self.monitor.push('\n');
        self
    }

    /// The monitor's port, chosen before the region starts (an identity provider registers
    /// its callback first).
    pub fn monitor_port(mut self, port: u16) -> Self {
        self.monitor_port = Some(port);
        self
    }

    /// Whole tables added to the config: more `[[ingest.tokens]]`, `[policy.*]`.
    pub fn config(mut self, tables: &str) -> Self {
        self.tables.push_str(tables);
        self.tables.push('\n');
        self
    }

    /// The directory (`directory.toml` text), applied once the topics are.
    pub fn directory(mut self, toml: &str) -> Self {
        self.directory = Some(toml.to_owned());
        self
    }

    /// Leaves the topics to the test (`schakel topics apply` is what it tests).
    pub fn without_topics(mut self) -> Self {
        self.topics = false;
        self
    }

    /// Starts the broker (if the region has one of its own), writes the config, applies the
    /// topics and the directory.
    pub fn start(self) -> Env {
        let dir = new_dir();
        let (broker, produce_timeout) = match self.broker {
            Which::Default => (default_broker(&dir), "3s"),
            Which::Own => (Broker::Own(broker::single(&dir)), "3s"),
            // a leader election takes seconds: produces may wait that long
            Which::Cluster => (Broker::Cluster(broker::Cluster::start(&dir)), "10s"),
        };
        let env = config(
            dir,
            broker,
            Own {
                notify: &self.notify,
                monitor: &self.monitor,
                monitor_port: self.monitor_port,
                tables: &self.tables,
                produce_timeout,
            },
        );
        if self.topics {
            match env.broker {
                Broker::Cluster(_) => {
                    env.schakel(&["topics", "apply", "--replication-factor", "3"]);
                }
                _ => {
                    env.schakel(&["topics", "apply"]);
                }
            }
        }
        if let Some(d) = &self.directory {
            env.apply_directory(d);
        }
        env
    }
}

fn new_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("schakel-e2e-{}", random_suffix()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// What a test region is configured with beyond the defaults.
struct Own<'a> {
    notify: &'a str,
    monitor: &'a str,
    monitor_port: Option<u16>,
    tables: &'a str,
    produce_timeout: &'a str,
}

fn config(dir: PathBuf, broker: Broker, own: Own<'_>) -> Env {
    let Own {
        notify,
        monitor,
        monitor_port,
        tables,
        produce_timeout,
    } = own;
    let bootstrap = broker.bootstrap();
    let (ingest_port, rules_port, notify_port) = (free_port(), free_port(), free_port());
    let monitor_port = monitor_port.unwrap_or_else(free_port);
    let accounts = dir.join("accounts.toml").display().to_string();
    let prefix = format!("t{}.", random_suffix());
    let vault_dir = dir.join("vault").display().to_string();
    let text = format!(
        r#"
[region]
name = "Test"
oin = "00000001234567890000"
api_base_url = "http://127.0.0.1:{monitor_port}"

[kafka]
bootstrap = "{bootstrap}"
topic_prefix = "{prefix}"
produce_timeout = "{produce_timeout}"
session_timeout = "3s"

[pseudonym]
secret = "test-pseudonym-secret-0123456789"

[vault]
master_key = "{VAULT_MASTER_KEY}"
key_dir = "{vault_dir}"

[ingest]
listen = "127.0.0.1:{ingest_port}"

[[ingest.tokens]]
name = "jeugdhulp-0392"
token = "{JEUGDHULP_TOKEN}"
kinds = ["jeugdhulp"]
institutions = ["gemeente:0392"]

[[ingest.tokens]]
name = "las-12AB"
token = "{LAS_TOKEN}"
kinds = ["school"]
institutions = ["school:12AB"]

[[ingest.tokens]]
name = "leerplicht-0392"
token = "{LEERPLICHT_TOKEN}"
kinds = ["leerplicht"]
institutions = ["gemeente:0392"]

[rules]
listen = "127.0.0.1:{rules_port}"
group = "rules-{prefix}"

[links]
secret = "{LINK_SECRET}"

[monitor]
listen = "127.0.0.1:{monitor_port}"
accounts_file = "{accounts}"
{monitor}

[notify]
listen = "127.0.0.1:{notify_port}"
group = "notify-{prefix}"
{notify}
{tables}
"#
    );
    let config_path = dir.join("region.toml");
    std::fs::write(&config_path, &text).expect("write config");
    let config = Config::load_from(&config_path, []).expect("test config is valid");
    Env {
        dir,
        config_path,
        config,
        ingest_port,
        rules_port,
        notify_port,
        monitor_port,
        broker,
    }
}
