//! `[vault]` and `[pseudonym]` of a region's config, and the master key they name.

use super::*;

/// Parses a master key written as 64 hexadecimal characters.
pub fn parse_master_key(hex_key: &str) -> Result<[u8; KEY_LEN], VaultError> {
    let h = hex_key.trim();
    if h.len() != KEY_LEN * 2 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(VaultError::MasterKey);
    }
    let mut out = [0u8; KEY_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).map_err(|_| VaultError::MasterKey)?;
    }
    Ok(out)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PseudonymConfig {
    /// The HMAC key for ChildKeys. Changing it changes every child's key: never rotate it
    /// without re-keying the log.
    pub secret: crate::runtime::config::Secret,
}

/// The identity vault: where the children's data keys are kept and the key that wraps them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaultConfig {
    /// 64 hexadecimal characters (32 bytes). Losing it makes every identity unreadable;
    /// keep it in a secret store, not in the config file (`SCHAKEL_VAULT__MASTER_KEY`).
    pub master_key: crate::runtime::config::Secret,
    /// The key store directory (one file per child). Shared by every ingest instance and
    /// the CLI; back it up separately from the log, and never restore erased keys.
    #[serde(default = "default_key_dir")]
    pub key_dir: String,
}

pub(super) fn default_key_dir() -> String {
    ".run/vault".into()
}

/// Checks `[vault]` and `[pseudonym]`, for the parts that need them (ingest, the CLI).
pub fn check_config(cfg: &crate::Config) -> Result<(), crate::runtime::config::ConfigError> {
    let v: VaultConfig = cfg.section("vault")?;
    parse_master_key(v.master_key.expose())
        .map_err(|e| crate::runtime::config::ConfigError::Invalid(e.to_string()))?;
    pseudonymizer(cfg).map(drop)
}

/// The pseudonymizer of a region's config (`[pseudonym]`), for ingest and the CLI: the only
/// parts that see a BSN.
pub fn pseudonymizer(
    cfg: &crate::Config,
) -> Result<crate::domain::ids::Pseudonymizer, crate::runtime::config::ConfigError> {
    let p: PseudonymConfig = cfg.section("pseudonym")?;
    if p.secret.expose().len() < 16 {
        return Err(crate::runtime::config::ConfigError::Invalid(
            "pseudonym.secret must be at least 16 characters".into(),
        ));
    }
    Ok(crate::domain::ids::Pseudonymizer::new(
        p.secret.expose().as_bytes(),
    ))
}
