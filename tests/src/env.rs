//! A running test region: its config, the CLI, the service processes, its topics.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use schakel_core::domain::catalogue::Topic;
use schakel_core::domain::events::{DeliveryEvent, SignalEvent};
use schakel_core::log::kafka::{read_to_end, Record};
use schakel_core::Config;

use crate::region::Broker;
use crate::{bin, broker, free_port, random_suffix, wait_for_port, Proc};

/// One isolated Schakel: its own config, topic prefix, group ids and ports, on the run's
/// shared broker or a broker of its own.
pub struct Env {
    pub dir: PathBuf,
    pub config_path: PathBuf,
    pub config: Config,
    pub ingest_port: u16,
    pub rules_port: u16,
    pub notify_port: u16,
    pub monitor_port: u16,
    pub(crate) broker: Broker,
}

/// The three services of a region, stopped when dropped.
pub struct Services {
    pub ingest: Proc,
    pub rules: Proc,
    pub notify: Proc,
}

impl Env {
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
        let p = Proc::adopt(name, child, log).with_metrics(port);
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

    pub fn spawn_monitor(&self) -> Proc {
        self.spawn("schakel-monitor", self.monitor_port)
    }

    /// The monitor's address, as notifications link to it (`region.api_base_url`).
    pub fn monitor_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.monitor_port)
    }

    /// Adds a local account of the monitor for contact `login` (`schakel accounts add`, the
    /// password on standard input).
    pub fn add_account(&self, login: &str, password: &str) {
        use std::io::Write;
        let mut child = Command::new(bin("schakel"))
            .args(["accounts", "add", login])
            .env("SCHAKEL_CONFIG", &self.config_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run schakel accounts add");
        writeln!(child.stdin.take().expect("stdin"), "{password}").expect("password");
        let out = child.wait_with_output().expect("schakel accounts add");
        assert!(
            out.status.success(),
            "schakel accounts add {login}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts ingest, rules and notify.
    pub fn spawn_services(&self) -> Services {
        Services {
            ingest: self.spawn_ingest(),
            rules: self.spawn_rules(),
            notify: self.spawn_notify(),
        }
    }

    /// Applies a directory (`directory.toml` text) with `schakel directory apply`.
    pub fn apply_directory(&self, toml: &str) {
        let path = self.write(&format!("directory-{}.toml", random_suffix()), toml);
        self.schakel(&["directory", "apply", path.to_str().expect("utf-8 path")]);
    }

    /// Produces the tick of `date` (`YYYY-MM-DD`) to every partition of `hub.clock.v1`.
    pub fn tick(&self, date: &str) {
        self.schakel(&["clock", "tick", "--date", date]);
    }

    /// The tick of `date` stamped at the instant `at` (notify on the log clock reads it as now).
    pub fn tick_at(&self, date: &str, at: &str) {
        self.schakel(&["clock", "tick", "--date", date, "--at", at]);
    }

    /// The ticks of every day from `from` to `to`, both included.
    pub fn tick_days(&self, from: jiff::civil::Date, to: jiff::civil::Date) {
        let mut d = from;
        while d <= to {
            self.tick(&d.to_string());
            d = d.tomorrow().expect("a date before 9999");
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

    /// Every record of `hub.deliveries.v1`, decoded, in log order per delivery.
    pub fn deliveries(&self) -> Vec<DeliveryEvent> {
        self.decoded(Topic::DELIVERIES)
    }

    /// Every signal step in `hub.signals.v1`, decoded.
    pub fn signals(&self) -> Vec<SignalEvent> {
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
