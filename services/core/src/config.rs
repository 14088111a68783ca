//! One TOML file (path in `SCHAKEL_CONFIG`) plus `SCHAKEL_*` environment overrides.
//!
//! An override names a key path with `__` between levels: `SCHAKEL_KAFKA__BOOTSTRAP=host:9092`
//! sets `kafka.bootstrap`. Its value is read as a TOML value when it parses as one (numbers,
//! booleans, arrays), otherwise as a string. Unknown keys, in the file or the environment, are
//! refused, so a typo never silently falls back to a default.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::policy::Policy;

/// A value that is never printed: `Debug` and `Display` show `***`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

/// Parses durations written as `5s`, `30m`, `2h`, `1d` or ISO 8601 (`PT5M`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if let Some(days) = s
        .strip_suffix('d')
        .and_then(|d| d.trim().parse::<u64>().ok())
    {
        return Ok(Duration::from_secs(days * 86_400));
    }
    let d: jiff::SignedDuration = s
        .parse()
        .map_err(|e| format!("invalid duration {s:?}: {e}"))?;
    Duration::try_from(d).map_err(|_| format!("negative duration {s:?}"))
}

fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let s = String::deserialize(d)?;
    parse_duration(&s).map_err(serde::de::Error::custom)
}

fn de_durations<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Duration>, D::Error> {
    let v = Vec::<String>::deserialize(d)?;
    v.iter()
        .map(|s| parse_duration(s).map_err(serde::de::Error::custom))
        .collect()
}

/// The whole configuration of a region's Schakel.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub region: RegionConfig,
    pub kafka: KafkaConfig,
    pub pseudonym: PseudonymConfig,
    pub vault: VaultConfig,
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    #[serde(default)]
    pub ingest: IngestConfig,
    #[serde(default)]
    pub rules: RulesConfig,
    #[serde(default)]
    pub notify: NotifyConfig,
    #[serde(default)]
    pub clock: ClockConfig,
    #[serde(default)]
    pub policy: Policy,
}

/// Who runs this Schakel and where its API is reachable (for links in notifications).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionConfig {
    pub name: String,
    /// OIN of the organisation that runs Schakel, used in the CloudEvents `source`.
    pub oin: String,
    /// Public base URL of the Schakel API; `dataref` and action links start with it.
    pub api_base_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    pub bootstrap: String,
    /// Prepended to every topic name, for test isolation or several regions on one cluster.
    #[serde(default)]
    pub topic_prefix: String,
    /// Extra librdkafka properties (e.g. `security.protocol`, `sasl.mechanism`).
    #[serde(default)]
    pub properties: std::collections::BTreeMap<String, String>,
    /// How long a produce may wait for the broker before the request fails.
    #[serde(default = "default_produce_timeout", deserialize_with = "de_duration")]
    pub produce_timeout: Duration,
    /// How long a consumer-group member may be silent before its partitions go to the others
    /// (an instance that died is noticed after this).
    #[serde(default = "default_session_timeout", deserialize_with = "de_duration")]
    pub session_timeout: Duration,
}

fn default_produce_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_session_timeout() -> Duration {
    Duration::from_secs(10)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PseudonymConfig {
    /// The HMAC key for ChildKeys. Changing it changes every child's key: never rotate it
    /// without re-keying the log.
    pub secret: Secret,
}

/// The identity vault: where the children's data keys are kept and the key that wraps them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// 64 hexadecimal characters (32 bytes). Losing it makes every identity unreadable;
    /// keep it in a secret store, not in the config file (`SCHAKEL_VAULT__MASTER_KEY`).
    pub master_key: Secret,
    /// The key store directory (one file per child). Shared by every ingest instance and
    /// the CLI; back it up separately from the log, and never restore erased keys.
    #[serde(default = "default_key_dir")]
    pub key_dir: String,
}

fn default_key_dir() -> String {
    ".run/vault".into()
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// `text` (default) or `json`.
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `schakel_rules=debug,info`.
    #[serde(default)]
    pub filter: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// A bearer token of a source system and what it may write.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// A name for logs and metrics (never the token itself).
    pub name: String,
    pub token: Secret,
    /// Source kinds: `school`, `voorschool`, `leerplicht`, `jeugdhulp`.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Institutions (`school:12AB`, `gemeente:0392`, `lrk:123456789`), or `*` for all.
    #[serde(default)]
    pub institutions: Vec<String>,
    /// A contact token: the directory id of the contact person (or their system) that answers
    /// handoff tasks with it. Such a token writes only `nl.schakel.hub.handoff-*` events, and
    /// only for tasks addressed to a role the contact holds at the task's institution.
    #[serde(default)]
    pub contact: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    #[serde(default = "default_ingest_listen")]
    pub listen: String,
    #[serde(default = "default_max_events")]
    pub max_batch_events: usize,
    #[serde(default = "default_max_bytes")]
    pub max_batch_bytes: usize,
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
    /// How long a client may take to send a request's line and headers; also how long an
    /// idle kept-alive connection stays open. Then the connection is closed.
    #[serde(default = "default_header_timeout", deserialize_with = "de_duration")]
    pub header_timeout: Duration,
    /// How long the body of `POST /v1/events` or `/v1/ijw` may take to arrive in all, and the
    /// longest pause in the body of an import; then the request is answered 408.
    #[serde(default = "default_body_timeout", deserialize_with = "de_duration")]
    pub body_timeout: Duration,
    /// Connections served at once; one more is answered 503 and closed.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Bytes of request bodies held in memory at once, all requests together; a request
    /// that does not fit is answered 503 (at least `max_batch_bytes`).
    #[serde(default = "default_max_buffered_bytes")]
    pub max_buffered_bytes: usize,
    /// Where the complete lists of an import's rejected rows are kept for a week (line,
    /// column and reason, never a value); empty: `schakel-rejections` in the system's
    /// temporary directory.
    #[serde(default)]
    pub rejections_dir: String,
}

fn default_ingest_listen() -> String {
    "127.0.0.1:8080".into()
}
fn default_max_events() -> usize {
    1000
}
fn default_max_bytes() -> usize {
    4 * 1024 * 1024
}
fn default_header_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_body_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_max_connections() -> usize {
    512
}
fn default_max_buffered_bytes() -> usize {
    64 * 1024 * 1024
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            listen: default_ingest_listen(),
            max_batch_events: default_max_events(),
            max_batch_bytes: default_max_bytes(),
            tokens: Vec::new(),
            header_timeout: default_header_timeout(),
            body_timeout: default_body_timeout(),
            max_connections: default_max_connections(),
            max_buffered_bytes: default_max_buffered_bytes(),
            rejections_dir: String::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulesConfig {
    #[serde(default = "default_rules_listen")]
    pub listen: String,
    #[serde(default = "default_rules_group")]
    pub group: String,
    /// Whether partition snapshots are written to `hub.snapshots.v1` (and read on restore).
    #[serde(default = "default_true")]
    pub snapshots: bool,
    /// How often a changed partition is snapshotted (and always when it is let go).
    #[serde(default = "default_snapshot_every", deserialize_with = "de_duration")]
    pub snapshot_every: Duration,
    /// How old a record must be before it is released in merged order while another input
    /// topic of its partition has nothing waiting (time for a record appended just before it
    /// to be fetched).
    #[serde(default = "default_order_grace", deserialize_with = "de_duration")]
    pub order_grace: Duration,
}

fn default_true() -> bool {
    true
}
fn default_order_grace() -> Duration {
    Duration::from_millis(500)
}
fn default_snapshot_every() -> Duration {
    Duration::from_secs(60)
}

fn default_rules_listen() -> String {
    "127.0.0.1:8081".into()
}
fn default_rules_group() -> String {
    "schakel-rules".into()
}

impl Default for RulesConfig {
    fn default() -> Self {
        Self {
            listen: default_rules_listen(),
            group: default_rules_group(),
            snapshots: true,
            order_grace: default_order_grace(),
            snapshot_every: default_snapshot_every(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    #[serde(default = "default_notify_listen")]
    pub listen: String,
    #[serde(default = "default_notify_group")]
    pub group: String,
    /// Waits between delivery attempts; after the last one a delivery is dead-lettered.
    #[serde(default = "default_retry_schedule", deserialize_with = "de_durations")]
    pub retry_schedule: Vec<Duration>,
    /// How long a receiver may take to answer.
    #[serde(default = "default_webhook_timeout", deserialize_with = "de_duration")]
    pub webhook_timeout: Duration,
    /// Concurrent calls per endpoint (host and port).
    #[serde(default = "default_per_endpoint")]
    pub per_endpoint_concurrency: usize,
    /// The SMTP server for e-mail; without it contacts are reached by webhook only.
    #[serde(default)]
    pub email: Option<EmailConfig>,
    /// An endpoint (a contact's webhook or address) failing this long without a success is
    /// disabled and the municipality's `beheer` is told.
    #[serde(default = "default_disable_after", deserialize_with = "de_duration")]
    pub disable_after: Duration,
    /// `system` (default): retries wait on the wall clock; `log`: on the instants of the ticks
    /// in `hub.clock.v1` (`schakel clock tick --at`), for tests and drills.
    #[serde(default)]
    pub clock: NotifyClock,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyClock {
    #[default]
    System,
    Log,
}

/// How notify reaches its SMTP server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    /// `starttls` (default), `tls` (implicit, port 465) or `none` (a local relay only)
    #[serde(default)]
    pub tls: SmtpTls,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
    /// the sender, e.g. `Schakel <noreply@schakel.example>`
    pub from: String,
    /// a PEM file of extra root certificates to trust (a private CA)
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default = "default_smtp_timeout", deserialize_with = "de_duration")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    #[default]
    Starttls,
    Tls,
    None,
}

fn default_disable_after() -> Duration {
    Duration::from_secs(5 * 86_400)
}
fn default_smtp_port() -> u16 {
    587
}
fn default_smtp_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_notify_listen() -> String {
    "127.0.0.1:8082".into()
}
fn default_notify_group() -> String {
    "schakel-notify".into()
}
fn default_retry_schedule() -> Vec<Duration> {
    ["5s", "5m", "30m", "2h", "5h", "10h", "10h"]
        .iter()
        .map(|s| parse_duration(s).expect("valid default"))
        .collect()
}
fn default_webhook_timeout() -> Duration {
    Duration::from_secs(15)
}
fn default_per_endpoint() -> usize {
    4
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            listen: default_notify_listen(),
            group: default_notify_group(),
            retry_schedule: default_retry_schedule(),
            webhook_timeout: default_webhook_timeout(),
            per_endpoint_concurrency: default_per_endpoint(),
            email: None,
            disable_after: default_disable_after(),
            clock: NotifyClock::System,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockConfig {
    /// Local time (Europe/Amsterdam unless `timezone` says otherwise) of the daily tick.
    #[serde(default = "default_tick_at")]
    pub tick_at: String,
    #[serde(default = "default_tz")]
    pub timezone: String,
}

fn default_tick_at() -> String {
    "06:00".into()
}
fn default_tz() -> String {
    "Europe/Amsterdam".into()
}

impl Default for ClockConfig {
    fn default() -> Self {
        Self {
            tick_at: default_tick_at(),
            timezone: default_tz(),
        }
    }
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("SCHAKEL_CONFIG is not set: point it at a region config file (see README)")]
    NoPath,
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Syntax { path: String, message: String },
    #[error("environment override {var} does not fit the config: {message}")]
    Override { var: String, message: String },
    #[error("invalid config: {0}")]
    Invalid(String),
}

/// `SCHAKEL_*` variables that are not config overrides: the config path, the log filter and
/// the bearer token of `schakel import`.
const NOT_CONFIG: &[&str] = &["SCHAKEL_CONFIG", "SCHAKEL_LOG", "SCHAKEL_TOKEN"];

impl Config {
    /// Loads the file named by `SCHAKEL_CONFIG` and applies the `SCHAKEL_*` overrides.
    pub fn load() -> Result<Self, ConfigError> {
        let path = std::env::var("SCHAKEL_CONFIG").map_err(|_| ConfigError::NoPath)?;
        Self::load_from(Path::new(&path), std::env::vars())
    }

    pub fn load_from(
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string(), env)
    }

    pub fn parse(
        text: &str,
        origin: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut root: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Syntax {
                    path: origin.into(),
                    message: e.to_string(),
                })?;
        let mut vars: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("SCHAKEL_") && !NOT_CONFIG.contains(&k.as_str()))
            .collect();
        vars.sort();
        for (var, raw) in vars {
            apply_override(&mut root, &var, &raw)?;
        }
        let cfg: Config = toml::Value::Table(root)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        cfg.check()?;
        Ok(cfg)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.pseudonym.secret.expose().len() < 16 {
            return Err(ConfigError::Invalid(
                "pseudonym.secret must be at least 16 characters".into(),
            ));
        }
        crate::vault::parse_master_key(self.vault.master_key.expose())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if self.notify.retry_schedule.is_empty() {
            return Err(ConfigError::Invalid(
                "notify.retry_schedule needs at least one wait".into(),
            ));
        }
        for t in &self.ingest.tokens {
            if t.contact.is_some() && !(t.kinds.is_empty() && t.institutions.is_empty()) {
                return Err(ConfigError::Invalid(format!(
                    "ingest.tokens {:?}: a contact token has no kinds or institutions (its scope is the contact's roles)",
                    t.name
                )));
            }
            for k in &t.kinds {
                if !["school", "voorschool", "leerplicht", "jeugdhulp"].contains(&k.as_str()) {
                    return Err(ConfigError::Invalid(format!(
                        "ingest.tokens {:?}: unknown kind {k:?}",
                        t.name
                    )));
                }
            }
            for i in &t.institutions {
                if i != "*" {
                    crate::ids::InstitutionId::parse(i).map_err(|e| {
                        ConfigError::Invalid(format!(
                            "ingest.tokens {:?}: institution {i:?} {e}",
                            t.name
                        ))
                    })?;
                }
            }
        }
        self.policy.check().map_err(ConfigError::Invalid)?;
        Ok(())
    }

    /// The full name of a topic, with the configured prefix.
    pub fn topic(&self, name: &str) -> String {
        format!("{}{}", self.kafka.topic_prefix, name)
    }
}

fn apply_override(root: &mut toml::Table, var: &str, raw: &str) -> Result<(), ConfigError> {
    let path: Vec<String> = var["SCHAKEL_".len()..]
        .split("__")
        .map(|p| p.to_ascii_lowercase())
        .collect();
    let value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()));
    let mut table = root;
    for (i, key) in path.iter().enumerate() {
        if i + 1 == path.len() {
            table.insert(key.clone(), value);
            return Ok(());
        }
        let entry = table
            .entry(key.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        table = entry.as_table_mut().ok_or_else(|| ConfigError::Override {
            var: var.to_owned(),
            message: format!("{key} is not a table"),
        })?;
    }
    Err(ConfigError::Override {
        var: var.to_owned(),
        message: "empty key".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_config_that_make_up_uses_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/demo/region.toml");
        let cfg = Config::load_from(&path, []).expect("infra/demo/region.toml loads");
        assert!(cfg.ingest.tokens.iter().any(|t| t.contact.is_some()));
        // the demo spells out the defaults of DOMAIN.md
        assert_eq!(cfg.policy, crate::policy::Policy::default());
    }

    const MIN: &str = r#"
[region]
name = "Test"
oin = "00000001234567890000"
api_base_url = "http://127.0.0.1:8083"
[kafka]
bootstrap = "127.0.0.1:9092"
[pseudonym]
secret = "0123456789abcdef-secret"
[vault]
master_key = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
"#;

    #[test]
    fn minimal_config_has_defaults() {
        let c = Config::parse(MIN, "t", []).unwrap();
        assert_eq!(c.ingest.max_batch_events, 1000);
        assert_eq!(c.notify.retry_schedule.len(), 7);
        assert_eq!(c.notify.retry_schedule[1], Duration::from_secs(300));
        assert_eq!(c.topic("hub.clock.v1"), "hub.clock.v1");
    }

    #[test]
    fn env_overrides_apply_and_unknown_keys_are_refused() {
        let env = [
            (
                "SCHAKEL_KAFKA__BOOTSTRAP".to_owned(),
                "10.0.0.1:9092".to_owned(),
            ),
            ("SCHAKEL_KAFKA__TOPIC_PREFIX".to_owned(), "t1-".to_owned()),
            (
                "SCHAKEL_INGEST__MAX_BATCH_EVENTS".to_owned(),
                "10".to_owned(),
            ),
            (
                "SCHAKEL_NOTIFY__RETRY_SCHEDULE".to_owned(),
                r#"["1s","2s"]"#.to_owned(),
            ),
            ("OTHER".to_owned(), "x".to_owned()),
        ];
        let c = Config::parse(MIN, "t", env).unwrap();
        assert_eq!(c.kafka.bootstrap, "10.0.0.1:9092");
        assert_eq!(c.topic("hub.clock.v1"), "t1-hub.clock.v1");
        assert_eq!(c.ingest.max_batch_events, 10);
        assert_eq!(
            c.notify.retry_schedule,
            vec![Duration::from_secs(1), Duration::from_secs(2)]
        );

        let e = Config::parse(
            MIN,
            "t",
            [("SCHAKEL_KAFKA__BOOTSTRAPP".to_owned(), "x".to_owned())],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("bootstrapp"), "{e}");
        let e = Config::parse(&format!("{MIN}\n[extra]\nx = 1\n"), "t", [])
            .unwrap_err()
            .to_string();
        assert!(e.contains("extra"), "{e}");
    }

    #[test]
    fn secrets_are_never_printed() {
        let c = Config::parse(MIN, "t", []).unwrap();
        let dump = format!("{c:?}");
        assert!(!dump.contains("0123456789abcdef-secret"));
        assert!(dump.contains("***"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86400));
        assert!(parse_duration("soon").is_err());
    }
}
