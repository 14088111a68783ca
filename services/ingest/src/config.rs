//! The ingest service's own configuration: `[ingest]` of the region's config, with the
//! source systems' tokens.

use std::time::Duration;

use schakel_core::domain::dates::de_duration;
use schakel_core::domain::ids::InstitutionId;
use schakel_core::runtime::config::{ConfigError, Secret};
use schakel_core::Config;
use serde::Deserialize;

impl IngestConfig {
    /// Reads and checks `[ingest]`.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let c: Self = cfg.section("ingest")?;
        for t in &c.tokens {
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
                    InstitutionId::parse(i).map_err(|e| {
                        ConfigError::Invalid(format!(
                            "ingest.tokens {:?}: institution {i:?} {e}",
                            t.name
                        ))
                    })?;
                }
            }
        }
        Ok(c)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    use schakel_core::runtime::config::MINIMAL as MIN;

    #[test]
    fn the_demo_config_has_a_contact_token_and_a_vault() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/demo/region.toml");
        let cfg = Config::load_from(&path, []).expect("infra/demo/region.toml loads");
        let own = IngestConfig::from_config(&cfg).expect("its [ingest] is valid");
        assert!(own.tokens.iter().any(|t| t.contact.is_some()));
        schakel_core::vault::check_config(&cfg).expect("its vault and pseudonym are valid");
    }

    #[test]
    fn defaults_overrides_and_checks() {
        let c = Config::parse(MIN, "t", []).unwrap();
        assert_eq!(
            IngestConfig::from_config(&c).unwrap().max_batch_events,
            1000
        );
        let e = schakel_core::vault::check_config(&c)
            .unwrap_err()
            .to_string();
        assert!(e.contains("[vault]") && e.contains("master_key"), "{e}");
        let env = [(
            "SCHAKEL_INGEST__MAX_BATCH_EVENTS".to_owned(),
            "10".to_owned(),
        )];
        let c = Config::parse(MIN, "t", env).unwrap();
        assert_eq!(IngestConfig::from_config(&c).unwrap().max_batch_events, 10);
        let bad = format!(
            "{MIN}\n[[ingest.tokens]]\nname = \"x\"\ntoken = \"t\"\nkinds = [\"kapper\"]\n"
        );
        let c = Config::parse(&bad, "t", []).unwrap();
        let e = IngestConfig::from_config(&c).unwrap_err().to_string();
        assert!(e.contains("unknown kind"), "{e}");
    }

    #[test]
    fn tokens_are_never_printed() {
        let text = format!(
            "{MIN}\n[[ingest.tokens]]\nname = \"x\"\ntoken = \"0123456789abcdef-secret\"\n"
        );
        let c = Config::parse(&text, "t", []).unwrap();
        let dump = format!("{:?}", IngestConfig::from_config(&c).unwrap());
        assert!(!dump.contains("0123456789abcdef-secret"));
        assert!(dump.contains("***"));
    }
}
