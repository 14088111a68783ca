//! The notify service's own configuration: `[notify]` of the region's config.

use std::time::Duration;

use schakel_core::domain::dates::{de_duration, de_durations, parse_duration};
use schakel_core::runtime::config::{ConfigError, LinksConfig, Secret};
use schakel_core::Config;
use serde::Deserialize;

impl NotifyConfig {
    /// Reads and checks `[notify]`.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let n: Self = cfg.section("notify")?;
        if let Some(api) = &n.notificaties {
            let ok =
                reqwest::Url::parse(&api.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
            if !ok {
                return Err(ConfigError::Invalid(format!(
                    "notify.notificaties.url must be an http(s) URL, not {:?}",
                    api.url
                )));
            }
            if api.client_id.is_empty() || api.secret.expose().is_empty() {
                return Err(ConfigError::Invalid(
                    "notify.notificaties needs a client_id and a secret".into(),
                ));
            }
        }
        if n.retry_schedule.is_empty() {
            return Err(ConfigError::Invalid(
                "notify.retry_schedule needs at least one wait".into(),
            ));
        }
        Ok(n)
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
    /// Concurrent calls per endpoint (host and port; an SMTP server counts as one), default 8.
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
    /// The region's Notificaties API (VNG): every signal step goes there too, once per role.
    #[serde(default)]
    pub notificaties: Option<NotificatiesConfig>,
}

/// `[notify.notificaties]`: where the region's Notificaties API is and how to sign in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificatiesConfig {
    /// the API's base URL, e.g. `https://notificaties.gemeente.example/api/v1`
    pub url: String,
    /// the client id of Schakel's application in the API's authorisations
    pub client_id: String,
    /// the secret the JWT is signed with
    pub secret: Secret,
    /// the kanaal's name
    #[serde(default = "default_kanaal")]
    pub kanaal: String,
    /// where the kanaal's notificaties are described (registered with the kanaal; Open
    /// Notificaties checks that it answers); without it, the monitor's `/openapi.json`
    #[serde(default)]
    pub documentatie_link: Option<String>,
}

fn default_kanaal() -> String {
    "schakel-signalen".into()
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
    8
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
            notificaties: None,
        }
    }
}

/// The common configuration with notify's own section, read and checked once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub common: Config,
    pub notify: NotifyConfig,
    pub links: LinksConfig,
    /// signs the action links of notifications, when `[links]` has a secret
    pub signer: Option<schakel_core::domain::links::Links>,
}

impl Settings {
    pub fn from_config(cfg: Config) -> Result<Self, ConfigError> {
        let links = LinksConfig::from_config(&cfg)?;
        Ok(Self {
            notify: NotifyConfig::from_config(&cfg)?,
            signer: links.links(),
            links,
            common: cfg,
        })
    }
}

impl std::ops::Deref for Settings {
    type Target = Config;
    fn deref(&self) -> &Config {
        &self.common
    }
}

impl AsRef<schakel_core::runtime::config::KafkaConfig> for Settings {
    fn as_ref(&self) -> &schakel_core::runtime::config::KafkaConfig {
        &self.common.kafka
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use schakel_core::runtime::config::MINIMAL as MIN;

    #[test]
    fn retry_schedule_defaults_and_overrides() {
        let c = Config::parse(MIN, "t", []).unwrap();
        let n = NotifyConfig::from_config(&c).unwrap();
        assert_eq!(n.retry_schedule.len(), 7);
        assert_eq!(n.retry_schedule[1], Duration::from_secs(300));
        let env = [(
            "SCHAKEL_NOTIFY__RETRY_SCHEDULE".to_owned(),
            r#"["1s","2s"]"#.to_owned(),
        )];
        let c = Config::parse(MIN, "t", env).unwrap();
        assert_eq!(
            NotifyConfig::from_config(&c).unwrap().retry_schedule,
            vec![Duration::from_secs(1), Duration::from_secs(2)]
        );
        let c = Config::parse(&format!("{MIN}\n[notify]\nretry_schedule = []\n"), "t", []).unwrap();
        assert!(NotifyConfig::from_config(&c).is_err());
    }

    #[test]
    fn notify_needs_no_vault_key() {
        let c = Config::parse(MIN, "t", []).unwrap();
        Settings::from_config(c).expect("no [vault] needed");
    }
}
