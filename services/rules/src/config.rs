//! The rules service's own configuration: `[rules]` and `[policy]` of the region's config.

use std::time::Duration;

use schakel_core::domain::dates::de_duration;
use schakel_core::runtime::config::ConfigError;
use schakel_core::Config;
use serde::Deserialize;

use crate::policy::Policy;

/// What rules reads of the region's config besides the common parts.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rules: RulesConfig,
    pub policy: Policy,
}

impl Settings {
    /// Reads and checks `[rules]` and `[policy]`.
    pub fn from_config(cfg: &Config) -> Result<Self, ConfigError> {
        let rules = cfg.section("rules")?;
        let policy: Policy = cfg.section("policy")?;
        policy.check().map_err(ConfigError::Invalid)?;
        Ok(Self { rules, policy })
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
    /// While another input topic of its partition has nothing waiting, a record is released
    /// in merged order once that topic's leader, asked at least this long after the record's
    /// append time, names an end that was read: the time a record appended just before it
    /// may need to be committed, plus the difference between this host's and the broker's
    /// clocks. Unset: 50 ms when the inputs have one replica, 500 ms when they are replicated.
    #[serde(default, deserialize_with = "de_opt_duration")]
    pub order_grace: Option<Duration>,
}

fn default_true() -> bool {
    true
}
fn de_opt_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    de_duration(d).map(Some)
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
            order_grace: None,
            snapshot_every: default_snapshot_every(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_config_spells_out_the_policy_of_domain_md() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/demo/region.toml");
        let cfg = Config::load_from(&path, []).expect("infra/demo/region.toml loads");
        let own = Settings::from_config(&cfg).expect("its [rules] and [policy] are valid");
        // the demo region's own: its samenwerkingsverbanden; every other value as DOMAIN.md
        assert_eq!(
            own.policy.routing.swv_of("school:15EE").as_deref(),
            Some("swv:VO2702")
        );
        assert_eq!(
            own.policy.routing.swv_of("school:11AA").as_deref(),
            Some("swv:PO2701")
        );
        let mut rest = own.policy.clone();
        rest.routing = Default::default();
        assert_eq!(rest, Policy::default());
        assert_eq!(own.rules.group, "schakel-rules");
    }
}
