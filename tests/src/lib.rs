//! The end-to-end harness: a real Apache Kafka broker (the run's shared one, or a node or a
//! cluster of the test's own), the real service binaries as child processes, a real HTTP
//! webhook receiver, and per-test topic names.

pub mod broker;
pub mod privacy;
pub mod receiver;
pub mod smtp;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use schakel_core::domain::catalogue::Topic;
use schakel_core::log::kafka::{read_to_end, Record};
use schakel_core::Config;

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

fn random_suffix() -> String {
    schakel_core::log::trace::random_hex(4)
}

/// A child process killed when dropped.
pub struct Proc {
    pub name: String,
    child: Option<Child>,
    pub log: PathBuf,
}

impl Proc {
    /// Takes charge of a started child process.
    pub fn adopt(name: &str, child: Child, log: PathBuf) -> Self {
        Self {
            name: name.to_owned(),
            child: Some(child),
            log,
        }
    }

    /// SIGKILL: no chance to drain or commit.
    pub fn kill9(&mut self) {
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

/// One isolated Schakel: its own config, topic prefix, group ids and ports, on the run's
/// shared broker or a broker of its own.
pub struct Env {
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub config: Config,
    pub ingest_port: u16,
    pub rules_port: u16,
    pub notify_port: u16,
    broker: Broker,
}

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
    fn bootstrap(&self) -> String {
        match self {
            Broker::Shared(b) => b.clone(),
            Broker::Own(n) => n.bootstrap(),
            Broker::Cluster(c) => c.bootstrap(),
        }
    }

    /// Whether the topics can be read (for the privacy scan at the end of a test).
    fn readable(&self) -> bool {
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
/// The vault master key of every test config.
pub const VAULT_MASTER_KEY: &str =
    "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";

impl Env {
    /// An environment on the run's shared broker (or a node of its own outside `make test`);
    /// `notify_extra` holds extra keys of the `[notify]` table.
    pub fn start(notify_extra: &str) -> Self {
        let dir = Self::new_dir();
        let broker = default_broker(&dir);
        Self::on(dir, broker, notify_extra, "3s")
    }

    /// An environment with a single broker node of its own, for tests that stop the broker.
    pub fn start_own_broker(notify_extra: &str) -> Self {
        let dir = Self::new_dir();
        let broker = Broker::Own(broker::single(&dir));
        Self::on(dir, broker, notify_extra, "3s")
    }

    /// An environment on a three-node cluster of its own (replication factor 3,
    /// `min.insync.replicas=2`); its topics are applied with replication factor 3.
    pub fn start_cluster(notify_extra: &str) -> Self {
        let dir = Self::new_dir();
        let broker = Broker::Cluster(broker::Cluster::start(&dir));
        // a leader election takes seconds: produces may wait that long
        Self::on(dir, broker, notify_extra, "10s")
    }

    fn new_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("schakel-e2e-{}", random_suffix()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    fn on(dir: PathBuf, broker: Broker, notify_extra: &str, produce_timeout: &str) -> Self {
        let bootstrap = broker.bootstrap();
        let (ingest_port, rules_port, notify_port) = (free_port(), free_port(), free_port());
        let prefix = format!("t{}.", random_suffix());
        let vault_dir = dir.join("vault").display().to_string();
        let text = format!(
            r#"
[region]
name = "Test"
oin = "00000001234567890000"
api_base_url = "http://schakel.test"

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

[notify]
listen = "127.0.0.1:{notify_port}"
group = "notify-{prefix}"
{notify_extra}
"#
        );
        let config_path = dir.join("region.toml");
        std::fs::write(&config_path, &text).expect("write config");
        let config = Config::load_from(&config_path, []).expect("test config is valid");
        Self {
            dir,
            config_path,
            config,
            ingest_port,
            rules_port,
            notify_port,
            broker,
        }
    }

    /// The broker nodes of a test's own (panics on the shared broker).
    pub fn own_broker(&mut self) -> &mut broker::Node {
        match &mut self.broker {
            Broker::Own(n) => n,
            _ => panic!("this environment has no broker of its own: use Env::start_own_broker"),
        }
    }

    /// The cluster of a test's own (panics otherwise).
    pub fn cluster(&mut self) -> &mut broker::Cluster {
        match &mut self.broker {
            Broker::Cluster(c) => c,
            _ => panic!("this environment has no cluster: use Env::start_cluster"),
        }
    }

    /// Runs the `schakel` CLI, whatever its outcome.
    pub fn schakel_may_fail(&self, args: &[&str]) -> Output {
        Command::new(bin("schakel"))
            .args(args)
            .env("SCHAKEL_CONFIG", &self.config_path)
            .output()
            .expect("run schakel")
    }

    /// Runs the `schakel` CLI and asserts it succeeds.
    pub fn schakel(&self, args: &[&str]) -> Output {
        let out = self.schakel_may_fail(args);
        assert!(
            out.status.success(),
            "schakel {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts a service binary and waits until its `/livez` answers.
    pub fn spawn(&self, name: &str, port: u16) -> Proc {
        self.spawn_with(name, port, &[])
    }

    /// One more instance of `schakel-rules` or `schakel-notify` in the same group, with a
    /// health port of its own: (process, port).
    pub fn spawn_instance(&self, name: &str) -> (Proc, u16) {
        let table = name.trim_start_matches("schakel-").to_uppercase();
        let port = free_port();
        let key = format!("SCHAKEL_{table}__LISTEN");
        let p = self.spawn_with(name, port, &[(&key, &format!("127.0.0.1:{port}"))]);
        (p, port)
    }

    /// Starts a service binary with extra environment variables (config overrides).
    pub fn spawn_with(&self, name: &str, port: u16, vars: &[(&str, &str)]) -> Proc {
        let log = self.dir.join(format!("{name}-{}.log", random_suffix()));
        let file = std::fs::File::create(&log).expect("log file");
        let child = Command::new(bin(name))
            .env("SCHAKEL_CONFIG", &self.config_path)
            .env(
                "SCHAKEL_LOG",
                "info,schakel_notify=debug,schakel_rules=debug",
            )
            .envs(vars.iter().map(|(k, v)| (*k, *v)))
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("spawn service");
        let p = Proc {
            name: name.to_owned(),
            child: Some(child),
            log,
        };
        wait_for_port(port, Duration::from_secs(20));
        p
    }

    pub fn spawn_ingest(&self) -> Proc {
        self.spawn("schakel-ingest", self.ingest_port)
    }
    pub fn spawn_rules(&self) -> Proc {
        self.spawn("schakel-rules", self.rules_port)
    }
    pub fn spawn_notify(&self) -> Proc {
        self.spawn("schakel-notify", self.notify_port)
    }

    /// Whether a service's `/readyz` answers 200.
    pub async fn is_ready(port: u16) -> bool {
        let url = format!("http://127.0.0.1:{port}/readyz");
        matches!(reqwest::get(url).await, Ok(r) if r.status().as_u16() == 200)
    }

    /// Waits until a service's `/readyz` answers 200.
    pub async fn await_ready(port: u16, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !Self::is_ready(port).await {
            assert!(
                Instant::now() < deadline,
                "the service on :{port} was not ready within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn ingest_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1/events", self.ingest_port)
    }

    /// Posts a batch of events with `token`: the status and the JSON answer.
    pub async fn post_batch(
        &self,
        token: &str,
        events: &serde_json::Value,
    ) -> (u16, serde_json::Value) {
        let resp = reqwest::Client::new()
            .post(self.ingest_url())
            .bearer_auth(token)
            .header("content-type", "application/cloudevents-batch+json")
            .json(events)
            .send()
            .await
            .expect("post events");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// The value of one series (`name{labels}` as rendered) of a service's `/metrics`, 0 when
    /// absent or unreachable.
    pub async fn metric(port: u16, series: &str) -> u64 {
        let url = format!("http://127.0.0.1:{port}/metrics");
        let Ok(resp) = reqwest::get(url).await else {
            return 0;
        };
        let text = resp.text().await.unwrap_or_default();
        let prefix = format!("{series} ");
        text.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// How many records of `topic` (logical name) the rules service has read, from its metrics.
    pub async fn rules_read(&self, topic: Topic) -> u64 {
        let series = format!("schakel_rules_records_total{{topic=\"{topic}\"}}");
        Self::metric(self.rules_port, &series).await
    }

    /// Waits until rules has read at least `n` records of `topic`. Kafka orders records only
    /// within a partition, so a tick written after some facts may reach rules before them
    /// (they would then count from the next tick): a test that ticks once waits for this.
    pub async fn await_rules_read(&self, topic: Topic, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.rules_read(topic).await;
            if got >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "rules read {got} of {n} records of {topic} in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether `service`'s consumer group (`rules` or `notify`) has committed every record of
    /// `topic` (logical name) that is in it now.
    pub fn committed_all(&self, service: &str, topic: Topic) -> bool {
        use schakel_core::log::kafka;
        let group = format!("{service}-{}", self.config.kafka.topic_prefix);
        let full = self.config.topic(topic);
        let Ok(ends) = kafka::high_watermarks(&self.config, &full) else {
            return false;
        };
        let consumer: rdkafka::consumer::BaseConsumer = match kafka::client_config(&self.config)
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .create()
        {
            Ok(c) => c,
            Err(_) => return false,
        };
        let tps: Vec<(String, i32)> = ends.keys().map(|p| (full.clone(), *p)).collect();
        let Ok(committed) = kafka::committed(&consumer, &tps) else {
            return false;
        };
        ends.iter().all(|(p, end)| {
            *end == 0 || committed.get(&(full.clone(), *p)).is_some_and(|c| c >= end)
        })
    }

    /// Waits until `service` has processed and committed every record of `topic` there is now:
    /// for rules, every signal of it is written; for notify (on `hub.signals.v1`), every
    /// delivery of every signal is final. The positive marker a "nothing more happens" check
    /// waits for before it looks.
    pub async fn await_committed(&self, service: &str, topic: Topic) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.committed_all(service, topic) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{service} did not commit all of {topic} in 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until notify has followed `topic` (logical name: `hub.directory.v1`,
    /// `hub.deliveries.v1` or `hub.clock.v1`) up to where it ends now: it read the directory
    /// change or the tick, from its metric `schakel_notify_followed_offsets_total`.
    pub async fn await_notify_followed(&self, topic: Topic) {
        let full = self.config.topic(topic);
        let ends = schakel_core::log::kafka::high_watermarks(&self.config, &full)
            .expect("high watermarks");
        let want: i64 = ends.values().sum();
        let series = format!("schakel_notify_followed_offsets_total{{topic=\"{topic}\"}}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = Self::metric(self.notify_port, &series).await;
            if got as i64 >= want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "notify followed {got} of {want} offsets of {topic} in 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every record of `hub.deliveries.v1`, decoded, in log order per delivery.
    pub fn deliveries(&self) -> Vec<schakel_core::domain::events::DeliveryEvent> {
        self.decoded(Topic::DELIVERIES)
    }

    /// Every signal step in `hub.signals.v1`, decoded.
    pub fn signals(&self) -> Vec<schakel_core::domain::events::SignalEvent> {
        self.decoded(Topic::SIGNALS)
    }

    fn decoded<T: serde::de::DeserializeOwned>(&self, topic: Topic) -> Vec<T> {
        let reg = schakel_core::log::schemas::registry();
        self.read(topic)
            .iter()
            .filter_map(|r| r.value.as_deref())
            .map(|v| {
                reg.decode(topic, v)
                    .expect("a record of the current or an old schema")
            })
            .collect()
    }

    /// Every record of a topic.
    pub fn read(&self, topic: Topic) -> Vec<Record> {
        read_to_end(&self.config, &self.config.topic(topic)).expect("read topic")
    }

    /// Kills the broker of the test's own with SIGKILL (to test an unreachable log).
    pub fn kill_broker(&mut self) {
        self.own_broker().kill9();
    }

    /// Starts the test's own broker again, on the data it had, and waits until it serves.
    pub fn restart_broker(&mut self) {
        self.own_broker().start();
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).expect("write file");
        p
    }
}

impl Env {
    /// Leaves every record of this environment's topics (key, headers, value) and every log
    /// file in `scan/envs/<name>/` for the privacy scan.
    fn leave_for_privacy_scan(&self, scan: &Path) {
        let name = self
            .dir
            .file_name()
            .map_or_else(|| "env".into(), |n| n.to_string_lossy().into_owned());
        let out = scan.join("envs").join(name);
        if std::fs::create_dir_all(out.join("logs")).is_err() {
            return;
        }
        for log in std::fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
        {
            if let Some(f) = log.file_name() {
                let _ = std::fs::copy(&log, out.join("logs").join(f));
            }
        }
        // the mails an SMTP server of the test received
        let maildir = self.dir.join("maildir");
        for sub in ["new", "cur"] {
            for mail in std::fs::read_dir(maildir.join(sub))
                .into_iter()
                .flatten()
                .flatten()
            {
                let _ = std::fs::create_dir_all(out.join("mail"));
                let _ = std::fs::copy(mail.path(), out.join("mail").join(mail.file_name()));
            }
        }
        if self.broker.readable() {
            let dump = match dump_topics(&self.config) {
                Ok(d) => d,
                Err(e) => format!("topics could not be read: {e}\n").into_bytes(),
            };
            let _ = std::fs::write(out.join("topics.bin"), dump);
        }
    }
}

/// Every record of every topic with the config's prefix: topic, key, headers and value.
fn dump_topics(cfg: &Config) -> Result<Vec<u8>, rdkafka::error::KafkaError> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    let consumer: BaseConsumer = schakel_core::log::kafka::client_config(cfg)
        .set("group.id", format!("privacy-scan-{}", random_suffix()))
        .set("enable.auto.commit", "false")
        .create()?;
    let md = consumer.fetch_metadata(None, Duration::from_secs(10))?;
    let mut tpl = rdkafka::TopicPartitionList::new();
    let mut remaining = std::collections::HashMap::new();
    for t in md.topics() {
        if !t.name().starts_with(&cfg.kafka.topic_prefix) {
            continue;
        }
        for p in t.partitions() {
            let (low, high) =
                consumer.fetch_watermarks(t.name(), p.id(), Duration::from_secs(10))?;
            if high > low {
                remaining.insert((t.name().to_owned(), p.id()), high);
                tpl.add_partition_offset(t.name(), p.id(), rdkafka::Offset::Beginning)?;
            }
        }
    }
    let mut out = Vec::new();
    if remaining.is_empty() {
        return Ok(out);
    }
    consumer.assign(&tpl)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while !remaining.is_empty() && Instant::now() < deadline {
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        // a broker of the cluster that is away: go on with the others
        let Ok(m) = m else {
            continue;
        };
        out.extend_from_slice(
            format!("\n== {} {}@{} ", m.topic(), m.partition(), m.offset()).as_bytes(),
        );
        out.extend_from_slice(m.key().unwrap_or_default());
        if let Some(h) = m.headers() {
            for x in h.iter() {
                out.push(b' ');
                out.extend_from_slice(x.key.as_bytes());
                out.push(b'=');
                out.extend_from_slice(x.value.unwrap_or_default());
            }
        }
        out.push(b' ');
        out.extend_from_slice(m.payload().unwrap_or_default());
        let tp = (m.topic().to_owned(), m.partition());
        if remaining.get(&tp).is_some_and(|h| m.offset() + 1 >= *h) {
            remaining.remove(&tp);
        }
    }
    if !remaining.is_empty() {
        out.extend_from_slice(b"\n(timed out before the end of some topics)\n");
    }
    Ok(out)
}

/// A failing test prints the tail of every log it produced (services and broker), so a CI
/// failure can be read without the machine; a passing test removes its directory.
impl Drop for Env {
    fn drop(&mut self) {
        if let Some(scan) = privacy::dir() {
            self.leave_for_privacy_scan(&scan);
        }
        if !std::thread::panicking() {
            if matches!(self.broker, Broker::Shared(_)) {
                delete_topics(&self.config);
            }
            let _ = std::fs::remove_dir_all(&self.dir);
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut logs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .collect();
        logs.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.created()).ok());
        for log in logs {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(60)..];
            eprintln!(
                "──── {} (last {} of {} lines)",
                log.display(),
                tail.len(),
                lines.len()
            );
            for l in tail {
                eprintln!("{l}");
            }
        }
    }
}

/// Deletes the topics of an environment on the shared broker, so a long run does not pile up
/// thousands of partitions there.
fn delete_topics(cfg: &Config) {
    use rdkafka::admin::{AdminClient, AdminOptions};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let Ok(consumer) = schakel_core::log::kafka::client_config(cfg).create::<BaseConsumer>() else {
        return;
    };
    let Ok(md) = consumer.fetch_metadata(None, Duration::from_secs(10)) else {
        return;
    };
    let names: Vec<String> = md
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|n| n.starts_with(&cfg.kafka.topic_prefix))
        .collect();
    if names.is_empty() {
        return;
    }
    let Ok(admin) =
        schakel_core::log::kafka::client_config(cfg).create::<AdminClient<DefaultClientContext>>()
    else {
        return;
    };
    // a runtime of its own, in a thread of its own: this runs in Drop, maybe inside a test's
    // runtime, where another cannot be started or dropped
    let _ = std::thread::spawn(move || {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(admin.delete_topics(&refs, &AdminOptions::new()))
    })
    .join();
}

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

/// Polls `check` until it returns true or `limit` passes.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check()
}

/// `n` valid BSNs (11-proef), different for every `seed`: each seed below 300 has its own
/// 300 007 numbers (room for 25 000 BSNs) from 900 000 000 up, below the fixtures' `99999…`
/// and far from the counters, offsets and sizes a log prints.
pub fn bsns(n: usize, seed: u32) -> Vec<String> {
    assert!(seed < 300 && n <= 25_000, "bsns: seed {seed}, n {n}");
    let mut out = Vec::new();
    let mut x: u64 = 900_000_000 + u64::from(seed) * 300_007;
    while out.len() < n {
        x += 1;
        let s = format!("{x:09}");
        if schakel_core::domain::ids::Bsn::parse(&s).is_ok() {
            out.push(s);
        }
    }
    privacy::register_numbers(&format!("bsns-{seed}-{n}"), &out);
    out
}

/// A jeugdhulp assignment event as a source system posts it.
pub fn assignment_event(id: &str, bsn: &str, birth: &str, nummer: &str) -> serde_json::Value {
    serde_json::json!({
        "specversion": "1.0",
        "id": id,
        "source": "urn:nld:gemeente:0392:systeem:jeugdhulp",
        "type": "nl.schakel.jeugdhulp.assignment-issued.v1",
        "time": "2026-01-02T09:00:00+01:00",
        "datacontenttype": "application/json",
        "data": {
            "child": {"bsn": bsn, "birthDate": birth, "residenceMunicipality": "0392",
                      "name": {"given": "Testvoornaam", "family": "Testachternaam"}},
            "toewijzingNummer": nummer,
            "product": {"categorie": "45", "code": "45A12"},
            "ingangsdatum": "2025-06-01",
            "toewijzingTijdstip": "2025-06-01T10:00:00+02:00",
            "gemeente": "0392"
        }
    })
}
