//! The identity vault. A child's BSN or onderwijsnummer and name never enter the log in plain
//! text: ingest seals them with the child's own data key into `hub.identities.v1`, and the data
//! keys live in a key store outside the log, each wrapped by the region's master key.
//!
//! Destroying a child's data key (`schakel vault erase`, or the retention term passing) makes
//! every identity record of that child unreadable for good, wherever copies of the log went:
//! crypto-shredding. A later fact about the same child gets a new key with a new id, so records
//! sealed before the erasure stay unreadable.
//!
//! The key store is a directory with one small file per child (sharded by the first two hex
//! digits of the ChildKey). A key is created with an atomic link, so two writers never create
//! two keys for one child; erasure overwrites the file before unlinking it. The file's mtime is
//! the last day an identity of the child arrived, which is what the retention term counts from.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::catalogue::{EventType, Topic};
use crate::domain::events::{AuditEvent, IdentityRecord};
use crate::domain::ids::{hex, ChildId, ChildKey};

mod audited;
mod config;
mod keystore;
pub use audited::*;
pub use config::*;

const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

/// What the vault keeps about a child, sealed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bsn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onderwijsnummer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

impl Identity {
    pub fn new(id: &ChildId, given: Option<String>, family: Option<String>) -> Self {
        let (bsn, onderwijsnummer) = match id {
            ChildId::Bsn(b) => (Some(b.expose().to_owned()), None),
            ChildId::Onderwijsnummer(o) => (None, Some(o.expose().to_owned())),
        };
        Self {
            bsn,
            onderwijsnummer,
            given,
            family,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("vault.master_key must be 64 hexadecimal characters (32 bytes)")]
    MasterKey,
    #[error("this child's data key was erased: the identity can no longer be read")]
    Erased,
    #[error("the identity record does not open with its data key (tampered or wrong master key)")]
    Corrupt,
    #[error(transparent)]
    Config(#[from] crate::runtime::config::ConfigError),
    #[error("key store {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |source| VaultError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A wrapped data key as stored in the key store.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyFile {
    key_id: String,
    nonce: String,
    wrapped: String,
}

/// The key store and the master key that wraps its keys.
pub struct Vault {
    dir: PathBuf,
    master: XChaCha20Poly1305,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("dir", &self.dir).finish()
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).expect("the OS has randomness");
    b
}

impl Vault {
    pub fn open(dir: impl Into<PathBuf>, master_key_hex: &str) -> Result<Self, VaultError> {
        let key = parse_master_key(master_key_hex)?;
        Ok(Self {
            dir: dir.into(),
            master: XChaCha20Poly1305::new(&key.into()),
        })
    }

    /// The vault of a region's config.
    pub fn from_config(cfg: &crate::Config) -> Result<Self, VaultError> {
        let v: VaultConfig = cfg.section("vault")?;
        Self::open(&v.key_dir, v.master_key.expose())
    }

    /// Seals one identity with the child's data key (created when it has none, durable
    /// before the record is returned).
    pub fn seal(
        &self,
        child: &ChildKey,
        identity: &Identity,
        source: &str,
        now: Timestamp,
    ) -> Result<IdentityRecord, VaultError> {
        let mut one = self.seal_all([(child, identity)], source, now)?;
        Ok(one.pop().expect("one record for one identity"))
    }

    /// Seals identities in order, each with its child's data key; the keys created for them
    /// are made durable together, before any record is returned.
    pub fn seal_all<'a>(
        &self,
        items: impl IntoIterator<Item = (&'a ChildKey, &'a Identity)>,
        source: &str,
        now: Timestamp,
    ) -> Result<Vec<IdentityRecord>, VaultError> {
        let mut created = Vec::new();
        let mut out = Vec::new();
        for (child, identity) in items {
            let (key_id, key, new) = self.data_key_deferred(child)?;
            created.extend(new);
            let nonce: [u8; NONCE_LEN] = random();
            let aad = format!("{}:{key_id}", child.as_str());
            let plain = serde_json::to_vec(identity).expect("identity serialises");
            let ciphertext = XChaCha20Poly1305::new(&key.into())
                .encrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &plain,
                        aad: aad.as_bytes(),
                    },
                )
                .expect("encryption cannot fail");
            out.push(IdentityRecord {
                child_key: child.clone(),
                key_id,
                nonce: B64.encode(nonce),
                ciphertext: B64.encode(ciphertext),
                source: source.to_owned(),
                recorded_at: now,
            });
        }
        self.durable(&created)?;
        Ok(out)
    }

    /// Opens a sealed record: the bare decryption. Whoever shows an identity to a person
    /// goes through [`reveal`], which writes the audit event first.
    pub fn open_record(&self, rec: &IdentityRecord) -> Result<Identity, VaultError> {
        let (key_id, key) = self.read_key(&rec.child_key)?.ok_or(VaultError::Erased)?;
        if key_id != rec.key_id {
            // sealed with a key that was erased before the current one was made
            return Err(VaultError::Erased);
        }
        let nonce = B64.decode(&rec.nonce).map_err(|_| VaultError::Corrupt)?;
        let ct = B64
            .decode(&rec.ciphertext)
            .map_err(|_| VaultError::Corrupt)?;
        if nonce.len() != NONCE_LEN {
            return Err(VaultError::Corrupt);
        }
        let aad = format!("{}:{key_id}", rec.child_key.as_str());
        let plain = XChaCha20Poly1305::new(&key.into())
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Corrupt)?;
        serde_json::from_slice(&plain).map_err(|_| VaultError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{Bsn, Pseudonymizer};

    const MASTER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    fn setup() -> (Vault, ChildKey, Identity, PathBuf) {
        let dir = std::env::temp_dir().join(format!("vault-test-{}", hex(&random::<6>())));
        let vault = Vault::open(&dir, MASTER).unwrap();
        let id = ChildId::Bsn(Bsn::parse("111222333").unwrap());
        let child = Pseudonymizer::new(b"test-secret-0123456789").child_key(&id);
        let identity = Identity::new(&id, Some("Anna".into()), Some("Testachternaam".into()));
        (vault, child, identity, dir)
    }

    #[test]
    fn sealed_identities_open_and_hide_the_bsn() {
        let (vault, child, identity, dir) = setup();
        let rec = vault
            .seal(&child, &identity, "events", Timestamp::now())
            .unwrap();
        let wire = serde_json::to_string(&rec).unwrap();
        assert!(!wire.contains("111222333") && !wire.contains("Testachternaam"));
        assert_eq!(vault.open_record(&rec).unwrap(), identity);
        // the same child keeps its key; the key file holds no plain key or BSN
        let again = vault
            .seal(&child, &identity, "events", Timestamp::now())
            .unwrap();
        assert_eq!(again.key_id, rec.key_id);
        assert_ne!(again.nonce, rec.nonce);
        let file = fs::read_to_string(vault.path(&child)).unwrap();
        assert!(!file.contains("111222333"));
        // another master key cannot open it
        let other = Vault::open(&dir, &MASTER.replace("00", "ff")).unwrap();
        assert!(matches!(other.open_record(&rec), Err(VaultError::Corrupt)));
        // a record moved to another child does not open
        let mut moved = rec.clone();
        moved.child_key = ChildKey::parse(&"a".repeat(64)).unwrap();
        assert!(vault.open_record(&moved).is_err());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_batch_seals_in_order_with_one_key_per_child() {
        let (vault, child, identity, dir) = setup();
        let other_id = ChildId::Bsn(Bsn::parse("123456782").unwrap());
        let other = Pseudonymizer::new(b"test-secret-0123456789").child_key(&other_id);
        let other_identity = Identity::new(&other_id, None, Some("Tweede".into()));
        let recs = vault
            .seal_all(
                [
                    (&child, &identity),
                    (&other, &other_identity),
                    (&child, &identity),
                ],
                "import",
                Timestamp::now(),
            )
            .unwrap();
        let children: Vec<&ChildKey> = recs.iter().map(|r| &r.child_key).collect();
        assert_eq!(children, [&child, &other, &child]);
        assert_eq!(
            recs[0].key_id, recs[2].key_id,
            "the child's key is made once"
        );
        assert_ne!(recs[0].key_id, recs[1].key_id);
        assert_eq!(vault.open_record(&recs[1]).unwrap(), other_identity);
        assert_eq!(vault.open_record(&recs[2]).unwrap(), identity);
        assert!(vault.has_key(&child) && vault.has_key(&other));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn erasure_makes_old_records_unreadable_for_good() {
        let (vault, child, identity, dir) = setup();
        let old = vault
            .seal(&child, &identity, "events", Timestamp::now())
            .unwrap();
        assert!(vault.erase(&child).unwrap());
        assert!(!vault.has_key(&child));
        assert!(matches!(vault.open_record(&old), Err(VaultError::Erased)));
        assert!(!vault.erase(&child).unwrap(), "erasing twice is harmless");
        // a new fact about the child makes a new key; the old record stays unreadable
        let new = vault
            .seal(&child, &identity, "events", Timestamp::now())
            .unwrap();
        assert_ne!(new.key_id, old.key_id);
        assert_eq!(vault.open_record(&new).unwrap(), identity);
        assert!(matches!(vault.open_record(&old), Err(VaultError::Erased)));
        // nothing left on disk opens the old record: no file holds its key id
        for shard in fs::read_dir(&dir).unwrap().flatten() {
            for f in fs::read_dir(shard.path()).unwrap().flatten() {
                let text = fs::read_to_string(f.path()).unwrap_or_default();
                assert!(!text.contains(&old.key_id));
            }
        }
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn the_retention_term_counts_from_the_last_identity() {
        let (vault, child, identity, dir) = setup();
        vault
            .seal(&child, &identity, "import", Timestamp::now())
            .unwrap();
        let year = Duration::from_secs(365 * 86_400);
        let now = SystemTime::now();
        assert!(vault.expired(5 * year, now).unwrap().is_empty());
        assert_eq!(
            vault.expired(5 * year, now + 6 * year).unwrap(),
            vec![child.clone()]
        );
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn a_bad_master_key_is_refused() {
        assert!(matches!(
            Vault::open("/tmp/x", "abc"),
            Err(VaultError::MasterKey)
        ));
        assert!(Vault::open("/tmp/x", &"g".repeat(64)).is_err());
    }
}
