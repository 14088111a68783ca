//! Local Apache Kafka nodes for the tests, started through `infra/kafka` (the same scripts and
//! broker settings as `make up`): a single combined node, or a three-node cluster with a static
//! controller quorum. Every node is a child process that a test can `kill -9` and start again
//! on the same data.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, Proc};

/// The repository's root (the tests crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_path_buf()
}

fn script(name: &str) -> PathBuf {
    repo_root().join("infra/kafka").join(name)
}

/// A new cluster id, as `kafka-storage random-uuid` makes it (22 characters of URL-safe base64).
fn cluster_id() -> String {
    use base64::Engine as _;
    let hex = schakel_core::log::trace::random_hex(16);
    let bytes: Vec<u8> = (0..16)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex byte"))
        .collect();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One Apache Kafka node (broker and controller in one process).
pub struct Node {
    pub id: u32,
    pub port: u16,
    pub controller_port: u16,
    props: PathBuf,
    cluster_id: String,
    standalone: bool,
    log: PathBuf,
    starts: u32,
    proc: Option<Proc>,
}

impl Node {
    fn new(dir: &Path, id: u32, voters: Option<&str>, ports: (u16, u16), cluster: &str) -> Self {
        let (port, controller_port) = ports;
        let data = dir.join(format!("kafka-{id}"));
        std::fs::create_dir_all(&data).expect("node dir");
        let mut args = vec![
            if voters.is_some() {
                "cluster"
            } else {
                "single"
            }
            .to_owned(),
            id.to_string(),
            port.to_string(),
            controller_port.to_string(),
            data.join("data").display().to_string(),
        ];
        if let Some(v) = voters {
            args.push(v.to_owned());
        }
        let out = Command::new(script("properties.sh"))
            .args(&args)
            .output()
            .expect("run properties.sh");
        assert!(out.status.success(), "properties.sh failed");
        let props = data.join("server.properties");
        std::fs::write(&props, &out.stdout).expect("write server.properties");
        Self {
            id,
            port,
            controller_port,
            props,
            cluster_id: cluster.to_owned(),
            standalone: voters.is_none(),
            log: dir.join(format!("kafka-{id}.log")),
            starts: 0,
            proc: None,
        }
    }

    /// Starts the node's process (formatting its storage the first time); does not wait.
    pub fn launch(&mut self) {
        assert!(self.proc.is_none(), "node {} already runs", self.id);
        self.starts += 1;
        // one log per start, so a restarted node's log shows what happened before
        let log = self
            .log
            .with_file_name(format!("kafka-{}-{}.log", self.id, self.starts));
        let mut cmd = Command::new(script("node.sh"));
        cmd.arg(&self.props).arg(&self.cluster_id);
        if self.standalone {
            cmd.arg("--standalone");
        }
        let child = cmd
            .env("KAFKA_HEAP", "-Xmx384m -Xms64m")
            .stdout(std::fs::File::create(&log).expect("broker log"))
            .stderr(Stdio::null())
            .spawn()
            .expect("start kafka");
        self.proc = Some(Proc::adopt(&format!("kafka-{}", self.id), child, log));
    }

    /// Waits until the node says it serves (its log's "Kafka Server started").
    pub fn await_started(&self, limit: Duration) {
        let p = self.proc.as_ref().expect("node runs");
        let deadline = Instant::now() + limit;
        loop {
            let text = std::fs::read_to_string(&p.log).unwrap_or_default();
            if text.contains("Kafka Server started") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "kafka node {} did not start within {limit:?}; its log ends: {}",
                self.id,
                text.lines().rev().take(15).collect::<Vec<_>>().join("\n")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts the node and waits until it serves.
    pub fn start(&mut self) {
        self.launch();
        self.await_started(Duration::from_secs(120));
    }

    /// SIGKILL: no controlled shutdown, nothing flushed.
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9();
        }
    }

    pub fn is_running(&self) -> bool {
        self.proc.is_some()
    }

    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// A single node of its own, for tests that kill the broker.
pub fn single(dir: &Path) -> Node {
    let mut n = Node::new(dir, 1, None, (free_port(), free_port()), &cluster_id());
    n.start();
    n
}

/// Three nodes with a static controller quorum, replication factor 3 and
/// `min.insync.replicas=2`.
pub struct Cluster {
    pub nodes: Vec<Node>,
}

impl Cluster {
    pub fn start(dir: &Path) -> Self {
        let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
        let voters = ports
            .iter()
            .enumerate()
            .map(|(i, (_, c))| format!("{}@127.0.0.1:{c}", i + 1))
            .collect::<Vec<_>>()
            .join(",");
        let id = cluster_id();
        let mut nodes: Vec<Node> = ports
            .iter()
            .enumerate()
            .map(|(i, p)| Node::new(dir, i as u32 + 1, Some(&voters), *p, &id))
            .collect();
        // the quorum forms only when a majority runs: start all, then wait for each
        for n in &mut nodes {
            n.launch();
        }
        for n in &nodes {
            n.await_started(Duration::from_secs(180));
        }
        Self { nodes }
    }

    pub fn bootstrap(&self) -> String {
        self.nodes
            .iter()
            .map(Node::bootstrap)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The node with this broker id.
    pub fn node(&mut self, id: i32) -> &mut Node {
        self.nodes
            .iter_mut()
            .find(|n| n.id as i32 == id)
            .expect("a node of the cluster")
    }
}
