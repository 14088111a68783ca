//! The monitor's own configuration: `[monitor]` of the region's config, with `[links]`.

use std::time::Duration;

use schakel_core::domain::dates::de_duration;
use schakel_core::domain::links::Links;
use schakel_core::domain::monitoring::MonitoringPolicy;
use schakel_core::runtime::config::{ConfigError, LinksConfig, Secret};
use schakel_core::Config;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonitorConfig {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Local accounts (the embedded default, without an OpenID provider): a TOML file of
    /// `[[account]]` with `login` (a contact id of the directory) and an argon2id `hash`, kept
    /// by `schakel accounts add|remove`.
    #[serde(default)]
    pub accounts_file: Option<String>,
    /// A session unused this long is ended.
    #[serde(default = "default_session_idle", deserialize_with = "de_duration")]
    pub session_idle: Duration,
    /// The NL Design System CSS (`components.css`, `theme.css`), as `infra/monitor/assets.sh`
    /// leaves it; without it pages are served with the monitor's own minimal styles.
    #[serde(default)]
    pub assets_dir: Option<String>,
    /// The class of the design-token theme on `<html>` (the region's theme).
    #[serde(default = "default_theme")]
    pub theme: String,
    /// Why a child's data is shown, written in every audit record of a read.
    #[serde(default)]
    pub audit: AuditPolicy,
    /// Production login: an OpenID Connect provider (NL GOV profile).
    #[serde(default)]
    pub oidc: Option<OidcConfig>,
    /// Where `schakel whatif --save` leaves its reports; the what-if page (`/whatif`) shows
    /// the last one.
    #[serde(default)]
    pub whatif_dir: Option<String>,
}

impl MonitorConfig {
    /// `whatif_dir`, with a leading `~/` taken from `$HOME`.
    pub fn whatif_dir(&self) -> Option<std::path::PathBuf> {
        self.whatif_dir.as_deref().map(crate::home)
    }
}

/// The purpose and legal ground recorded with every read of a child (Logboek
/// Dataverwerkingen); regional policy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditPolicy {
    #[serde(default = "default_purpose")]
    pub purpose: String,
    #[serde(default = "default_legal_ground")]
    pub legal_ground: String,
}

impl Default for AuditPolicy {
    fn default() -> Self {
        Self {
            purpose: default_purpose(),
            legal_ground: default_legal_ground(),
        }
    }
}

/// An OpenID Connect provider the monitor logs users in with (authorization code flow with
/// PKCE).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// the issuer URL; its discovery document is read at start
    pub issuer: String,
    pub client_id: String,
    /// client authentication by secret (`client_secret_basic`)
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// or by `private_key_jwt`: a PEM file with the client's EC P-256 private key
    #[serde(default)]
    pub private_key_file: Option<String>,
    /// the claim that names the user: `email` (matched to a contact's e-mail) or a claim
    /// holding the contact id
    #[serde(default = "default_claim")]
    pub claim: String,
}

fn default_listen() -> String {
    "127.0.0.1:8083".into()
}
fn default_session_idle() -> Duration {
    Duration::from_secs(30 * 60)
}
fn default_theme() -> String {
    "voorbeeld-theme".into()
}
fn default_purpose() -> String {
    "warme overdracht en signalering (OOGO-afspraken over doorgaande lijnen)".into()
}
fn default_legal_ground() -> String {
    "Jeugdwet art. 7.4.0 en Leerplichtwet art. 25 (regionale afspraken)".into()
}
fn default_claim() -> String {
    "email".into()
}

impl MonitorConfig {
    /// Reads and checks `[monitor]`.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let m: Self = cfg.section("monitor")?;
        if let Some(o) = &m.oidc {
            if o.client_secret.is_none() == o.private_key_file.is_none() {
                return Err(ConfigError::Invalid(
                    "monitor.oidc needs exactly one of client_secret and private_key_file".into(),
                ));
            }
        }
        if m.oidc.is_none() && m.accounts_file.is_none() {
            return Err(ConfigError::Invalid(
                "[monitor] needs accounts_file (local accounts) or [monitor.oidc]".into(),
            ));
        }
        Ok(m)
    }
}

/// The monitor's settings, read and checked once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    pub common: Config,
    pub monitor: MonitorConfig,
    /// checks action links; without a `[links]` secret the links carry no token
    pub links: Option<Links>,
    /// the contact tokens of `[[ingest.tokens]]` (token → contact id), for systems that read
    /// the JSON of a signal
    pub contact_tokens: Vec<(Secret, String)>,
    /// `[policy.monitoring]`: peildata and small-number thresholds
    pub monitoring: MonitoringPolicy,
    /// the peildata as (month, day)
    pub peildata: Vec<(i8, i8)>,
    /// `[policy.routing]`: the samenwerkingsverband of each school, for the dashboard's rows
    pub swv: std::sync::Arc<crate::stats::figures::Swvs>,
}

impl Settings {
    pub fn from_config(cfg: Config) -> Result<Self, ConfigError> {
        let monitor = MonitorConfig::from_config(&cfg)?;
        let links = LinksConfig::from_config(&cfg)?.links();
        let monitoring = monitoring(&cfg)?;
        let peildata = monitoring
            .days()
            .map_err(|e| ConfigError::Invalid(format!("policy.monitoring.peildata: {e}")))?;
        Ok(Self {
            contact_tokens: contact_tokens(&cfg)?,
            swv: std::sync::Arc::new(swvs(&cfg)?),
            monitoring,
            peildata,
            monitor,
            links,
            common: cfg,
        })
    }
}

/// The monitoring policy: rules checks `[policy]` as a whole; the monitor takes its part.
fn monitoring(cfg: &Config) -> Result<MonitoringPolicy, ConfigError> {
    let table: toml::Table = cfg.section("policy")?;
    match table.get("monitoring") {
        None => Ok(MonitoringPolicy::default()),
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(format!("[policy.monitoring] {e}"))),
    }
}

/// The samenwerkingsverbanden of `[policy.routing]` (rules checks the section; the monitor
/// takes these two keys).
fn swvs(cfg: &Config) -> Result<crate::stats::figures::Swvs, ConfigError> {
    #[derive(Deserialize)]
    struct Routing {
        #[serde(default)]
        swv: Option<String>,
        #[serde(default)]
        school_swv: std::collections::BTreeMap<String, String>,
    }
    let table: toml::Table = cfg.section("policy")?;
    let Some(routing) = table.get("routing") else {
        return Ok(Default::default());
    };
    let r: Routing = routing
        .clone()
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Invalid(format!("[policy.routing] {e}")))?;
    Ok(crate::stats::figures::Swvs {
        region: r.swv,
        schools: r.school_swv,
    })
}

/// The contact tokens of ingest's section: ingest checks the section as a whole; the monitor
/// only takes the pairs of token and contact from it.
fn contact_tokens(cfg: &Config) -> Result<Vec<(Secret, String)>, ConfigError> {
    #[derive(Deserialize)]
    struct Token {
        token: Secret,
        #[serde(default)]
        contact: Option<String>,
    }
    #[derive(Deserialize)]
    struct Ingest {
        #[serde(default)]
        tokens: Vec<Token>,
    }
    let table: toml::Table = cfg.section("ingest")?;
    let ingest: Ingest = toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Invalid(format!("[ingest] {e}")))?;
    Ok(ingest
        .tokens
        .into_iter()
        .filter_map(|t| t.contact.map(|c| (t.token, c)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use schakel_core::runtime::config::MINIMAL;

    #[test]
    fn local_accounts_or_oidc_and_never_both_client_credentials() {
        let c = Config::parse(MINIMAL, "t", []).unwrap();
        assert!(MonitorConfig::from_config(&c).is_err(), "no way to log in");
        let c = Config::parse(
            &format!("{MINIMAL}[monitor]\naccounts_file = \"a.toml\"\n"),
            "t",
            [],
        )
        .unwrap();
        let m = MonitorConfig::from_config(&c).unwrap();
        assert_eq!(m.session_idle, Duration::from_secs(1800));
        assert_eq!(m.listen, "127.0.0.1:8083");
        let both = format!(
            "{MINIMAL}[monitor.oidc]\nissuer = \"http://op\"\nclient_id = \"m\"\n\
             client_secret = \"s\"\nprivate_key_file = \"k.pem\"\n"
        );
        let c = Config::parse(&both, "t", []).unwrap();
        assert!(MonitorConfig::from_config(&c).is_err());
    }

    #[test]
    fn the_contact_tokens_come_from_ingest() {
        let text = format!(
            "{MINIMAL}[monitor]\naccounts_file = \"a.toml\"\n\
             [[ingest.tokens]]\nname = \"las\"\ntoken = \"t-las\"\nkinds = [\"school\"]\ninstitutions = [\"school:12AB\"]\n\
             [[ingest.tokens]]\nname = \"jt\"\ntoken = \"t-jt\"\ncontact = \"jeugdteam\"\n"
        );
        let s = Settings::from_config(Config::parse(&text, "t", []).unwrap()).unwrap();
        assert_eq!(s.contact_tokens.len(), 1);
        assert_eq!(s.contact_tokens[0].0.expose(), "t-jt");
        assert_eq!(s.contact_tokens[0].1, "jeugdteam");
    }
}
