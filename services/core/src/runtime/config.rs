//! One TOML file (path in `SCHAKEL_CONFIG`) plus `SCHAKEL_*` environment overrides.
//!
//! An override names a key path with `__` between levels: `SCHAKEL_KAFKA__BOOTSTRAP=host:9092`
//! sets `kafka.bootstrap`. Its value is read as a TOML value when it parses as one (numbers,
//! booleans, arrays), otherwise as a string. Unknown keys, in the file or the environment, are
//! refused, so a typo never silently falls back to a default.

use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use crate::domain::dates::parse_duration;
pub use crate::log::kafka::KafkaConfig;

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

/// What every part of a region's Schakel reads: who runs it, the broker, telemetry and the
/// clock. A service's own sections (`[ingest]`, `[rules]`, `[policy]`, `[notify]`, `[vault]`,
/// `[pseudonym]`) are kept as written and read, strictly, by the service that uses them
/// ([`Config::section`]): rules and notify never need the vault key, and a typo in a section
/// is refused by the service it belongs to.
#[derive(Clone)]
pub struct Config {
    pub region: RegionConfig,
    pub kafka: KafkaConfig,
    pub telemetry: TelemetryConfig,
    pub clock: ClockConfig,
    sections: toml::Table,
}

/// The sections a service reads for itself; any other top-level key is refused at load.
pub const SECTIONS: &[&str] = &[
    "ingest",
    "rules",
    "policy",
    "notify",
    "monitor",
    "links",
    "vault",
    "pseudonym",
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Common {
    region: RegionConfig,
    kafka: KafkaConfig,
    #[serde(default)]
    telemetry: TelemetryConfig,
    #[serde(default)]
    clock: ClockConfig,
}

/// The service sections are raw values (secrets among them): only their names are shown.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("region", &self.region)
            .field("kafka", &self.kafka)
            .field("telemetry", &self.telemetry)
            .field("clock", &self.clock)
            .field("sections", &self.sections.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl AsRef<KafkaConfig> for Config {
    fn as_ref(&self) -> &KafkaConfig {
        &self.kafka
    }
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

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// `text` (default) or `json`.
    #[serde(default)]
    pub format: LogFormat,
    /// A tracing filter such as `info` or `schakel_rules=debug,info`.
    #[serde(default)]
    pub filter: Option<String>,
    /// The base URL of an OTLP/HTTP receiver (a collector, Jaeger), e.g.
    /// `http://127.0.0.1:4318`; spans go to `<it>/v1/traces`. Without it no trace is exported.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
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
        let mut sections = toml::Table::new();
        for name in SECTIONS {
            if let Some(v) = root.remove(*name) {
                sections.insert((*name).to_owned(), v);
            }
        }
        let common: Common = toml::Value::Table(root)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        Ok(Config {
            region: common.region,
            kafka: common.kafka,
            telemetry: common.telemetry,
            clock: common.clock,
            sections,
        })
    }

    /// Reads the section `name` (one of [`SECTIONS`]) as `T`; an absent section reads as an
    /// empty table, so `T`'s defaults apply. Unknown keys in it are refused, naming the section.
    pub fn section<T: DeserializeOwned>(&self, name: &str) -> Result<T, ConfigError> {
        debug_assert!(SECTIONS.contains(&name), "{name} is not a config section");
        let v = self
            .sections
            .get(name)
            .cloned()
            .unwrap_or_else(|| toml::Value::Table(toml::Table::new()));
        v.try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(format!("[{name}] {e}")))
    }

    /// The full name of a topic, with the configured prefix.
    pub fn topic(&self, topic: crate::domain::catalogue::Topic) -> String {
        self.kafka.topic(topic)
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

/// `[links]`: the secret that signs the action links in notifications (notify) and checks
/// them when they are opened (the monitor), and how long a link stays valid.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksConfig {
    /// at least 32 characters; without it notifications carry plain links that ask the
    /// contact to log in
    #[serde(default)]
    pub secret: Option<Secret>,
    /// days a link stays valid after its task's due date (or the step, without one)
    #[serde(default = "default_link_days")]
    pub valid_days: i64,
}

fn default_link_days() -> i64 {
    30
}

impl LinksConfig {
    /// Reads and checks `[links]`.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let l: Self = cfg.section("links")?;
        if l.secret.as_ref().is_some_and(|s| s.expose().len() < 32) {
            return Err(ConfigError::Invalid(
                "links.secret needs at least 32 characters".into(),
            ));
        }
        if !(1..=366).contains(&l.valid_days) {
            return Err(ConfigError::Invalid(
                "links.valid_days must be from 1 to 366".into(),
            ));
        }
        Ok(l)
    }

    /// The signer and checker of action links, when a secret is set.
    pub fn links(&self) -> Option<crate::domain::links::Links> {
        self.secret
            .as_ref()
            .map(|s| crate::domain::links::Links::new(s.expose().as_bytes()))
    }
}

/// The smallest config that loads: a region and a broker. Tests of a service's own section
/// start from it.
pub const MINIMAL: &str = r#"
[region]
name = "Test"
oin = "00000001234567890000"
api_base_url = "http://127.0.0.1:8083"
[kafka]
bootstrap = "127.0.0.1:9092"
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_demo_config_that_make_up_uses_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/demo/region.toml");
        let cfg = Config::load_from(&path, []).expect("infra/demo/region.toml loads");
        assert!(!cfg.region.name.is_empty());
        for name in SECTIONS {
            let _: toml::Table = cfg.section(name).expect("a table");
        }
    }

    use super::MINIMAL as MIN;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Part {
        #[serde(default)]
        max_batch_events: Option<u32>,
        #[serde(default, deserialize_with = "crate::domain::dates::de_durations")]
        retry_schedule: Vec<Duration>,
    }

    #[test]
    fn minimal_config_needs_no_service_section() {
        let c = Config::parse(MIN, "t", []).unwrap();
        assert_eq!(
            c.topic(crate::domain::catalogue::Topic::CLOCK),
            "hub.clock.v1"
        );
        assert_eq!(c.kafka.produce_timeout, Duration::from_secs(10));
        assert_eq!(c.clock.tick_at, "06:00");
        let p: Part = c.section("notify").unwrap();
        assert!(p.max_batch_events.is_none() && p.retry_schedule.is_empty());
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
        assert_eq!(
            c.topic(crate::domain::catalogue::Topic::CLOCK),
            "t1-hub.clock.v1"
        );
        let p: Part = c.section("ingest").unwrap();
        assert_eq!(p.max_batch_events, Some(10));
        let p: Part = c.section("notify").unwrap();
        assert_eq!(
            p.retry_schedule,
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
        let c = Config::parse(
            &format!("{MIN}\n[rules]\nsnapshot_evry = \"1s\"\n"),
            "t",
            [],
        )
        .unwrap();
        let e = c.section::<Part>("rules").unwrap_err().to_string();
        assert!(e.contains("[rules]") && e.contains("snapshot_evry"), "{e}");
    }

    #[test]
    fn secrets_are_never_printed() {
        let text = format!("{MIN}\n[vault]\nmaster_key = \"0123456789abcdef-secret\"\n");
        let dump = format!("{:?}", Config::parse(&text, "t", []).unwrap());
        assert!(!dump.contains("0123456789abcdef-secret"), "{dump}");
        assert!(dump.contains("vault"), "{dump}");
        let s = Secret::new("0123456789abcdef-secret");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"***\"");
    }
}
