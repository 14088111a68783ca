//! Local accounts, the embedded default without an identity provider: a TOML file of
//! `[[account]]` tables, each a login (a contact id of the directory) and an argon2id hash of
//! its password. `schakel accounts add|remove` keeps the file; the monitor reads it at every
//! login, so a change needs no restart.

use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// the contact id this account logs in as
    pub login: String,
    /// argon2id PHC string
    pub hash: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    account: Vec<Account>,
}

/// A password shorter than this is refused.
pub const MIN_PASSWORD: usize = 12;

/// The argon2id hash of `password` with a fresh salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))?
        .to_string())
}

/// Whether `password` matches `hash`.
pub fn verify(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The accounts in `path`; an absent file holds none.
pub fn load(path: &Path) -> anyhow::Result<Vec<Account>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let f: File =
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Ok(f.account)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}

fn save(path: &Path, accounts: Vec<Account>) -> anyhow::Result<()> {
    let text = format!(
        "# Local accounts of the Schakel monitor: `schakel accounts add|remove` keeps this file.\n\
         # Each login is a contact id of the directory; the hash is argon2id.\n\n{}",
        toml::to_string(&File { account: accounts })?
    );
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Adds `login` with `password`, or sets its password when it exists. True when it was new.
pub fn add(path: &Path, login: &str, password: &str) -> anyhow::Result<bool> {
    anyhow::ensure!(
        password.chars().count() >= MIN_PASSWORD,
        "a password needs at least {MIN_PASSWORD} characters"
    );
    let mut all = load(path)?;
    let hash = hash(password)?;
    let new = match all.iter_mut().find(|a| a.login == login) {
        Some(a) => {
            a.hash = hash;
            false
        }
        None => {
            all.push(Account {
                login: login.to_owned(),
                hash,
            });
            true
        }
    };
    save(path, all)?;
    Ok(new)
}

/// Removes `login`. True when it was there.
pub fn remove(path: &Path, login: &str) -> anyhow::Result<bool> {
    let mut all = load(path)?;
    let before = all.len();
    all.retain(|a| a.login != login);
    let removed = all.len() != before;
    if removed {
        save(path, all)?;
    }
    Ok(removed)
}

/// The login whose password matches, checked against a hash even for an unknown login, so
/// the answer takes as long whether or not the login exists.
pub fn check(path: &Path, login: &str, password: &str) -> anyhow::Result<bool> {
    static DECOY: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| hash("a decoy password nobody has").expect("hash"));
    let all = load(path)?;
    Ok(match all.iter().find(|a| a.login == login) {
        Some(a) => verify(&a.hash, password),
        None => {
            let _ = verify(&DECOY, password);
            false
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_added_checked_changed_and_removed() {
        let dir = std::env::temp_dir().join(format!("accounts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("accounts.toml");
        let _ = std::fs::remove_file(&f);
        assert!(add(&f, "jeugdteam", "kort").is_err(), "too short");
        assert!(add(&f, "jeugdteam", "een lang wachtwoord").unwrap());
        assert!(check(&f, "jeugdteam", "een lang wachtwoord").unwrap());
        assert!(!check(&f, "jeugdteam", "een ander wachtwoord").unwrap());
        assert!(!check(&f, "niemand", "een lang wachtwoord").unwrap());
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(text.contains("$argon2id$") && !text.contains("een lang wachtwoord"));
        assert!(!add(&f, "jeugdteam", "nog een ander wachtwoord").unwrap());
        assert!(check(&f, "jeugdteam", "nog een ander wachtwoord").unwrap());
        assert!(remove(&f, "jeugdteam").unwrap());
        assert!(!remove(&f, "jeugdteam").unwrap());
        assert!(!check(&f, "jeugdteam", "nog een ander wachtwoord").unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
