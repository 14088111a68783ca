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

fn default_key_dir() -> String {
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

    fn path(&self, child: &ChildKey) -> PathBuf {
        let k = child.as_str();
        self.dir.join(&k[..2]).join(format!("{k}.key"))
    }

    fn read_key(&self, child: &ChildKey) -> Result<Option<(String, [u8; KEY_LEN])>, VaultError> {
        let path = self.path(child);
        let text = match fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&path)(e)),
        };
        let kf: KeyFile = serde_json::from_slice(&text).map_err(|_| VaultError::Corrupt)?;
        let nonce = B64.decode(&kf.nonce).map_err(|_| VaultError::Corrupt)?;
        let wrapped = B64.decode(&kf.wrapped).map_err(|_| VaultError::Corrupt)?;
        if nonce.len() != NONCE_LEN {
            return Err(VaultError::Corrupt);
        }
        let aad = format!("{}:{}", child.as_str(), kf.key_id);
        let key = self
            .master
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &wrapped,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| VaultError::Corrupt)?;
        let key: [u8; KEY_LEN] = key.try_into().map_err(|_| VaultError::Corrupt)?;
        Ok(Some((kf.key_id, key)))
    }

    /// The child's data key, created when it has none. Marks the child as seen today.
    fn data_key(&self, child: &ChildKey) -> Result<(String, [u8; KEY_LEN]), VaultError> {
        if let Some(k) = self.read_key(child)? {
            self.touch(child);
            return Ok(k);
        }
        let key: [u8; KEY_LEN] = random();
        let key_id = hex(&random::<16>());
        let nonce: [u8; NONCE_LEN] = random();
        let aad = format!("{}:{key_id}", child.as_str());
        let wrapped = self
            .master
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &key,
                    aad: aad.as_bytes(),
                },
            )
            .expect("encryption of 32 bytes cannot fail");
        let kf = KeyFile {
            key_id: key_id.clone(),
            nonce: B64.encode(nonce),
            wrapped: B64.encode(wrapped),
        };
        let path = self.path(child);
        let shard = path.parent().expect("sharded path");
        fs::create_dir_all(shard).map_err(io(shard))?;
        let tmp = shard.join(format!(".{}.tmp", hex(&random::<8>())));
        {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(&serde_json::to_vec(&kf).expect("key file serialises"))
                .map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        // link fails when another writer created the child's key first: then use theirs
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Ok(()) => {
                sync_dir(shard);
                Ok((key_id, key))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                self.read_key(child)?.ok_or(VaultError::Erased)
            }
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Sets the key file's mtime to now when it is older than a day (never re-creates it).
    fn touch(&self, child: &ChildKey) {
        let path = self.path(child);
        let stale = fs::metadata(&path)
            .and_then(|m| m.modified())
            .map(|m| m.elapsed().unwrap_or_default() > Duration::from_secs(86_400))
            .unwrap_or(false);
        if stale {
            if let Ok(f) = OpenOptions::new().write(true).open(&path) {
                let _ = f.set_modified(SystemTime::now());
            }
        }
    }

    /// Seals a child's identity into a record for `hub.identities.v1`.
    pub fn seal(
        &self,
        child: &ChildKey,
        identity: &Identity,
        source: &str,
        now: Timestamp,
    ) -> Result<IdentityRecord, VaultError> {
        let (key_id, key) = self.data_key(child)?;
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
        Ok(IdentityRecord {
            child_key: child.clone(),
            key_id,
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(ciphertext),
            source: source.to_owned(),
            recorded_at: now,
        })
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

    /// Whether the child has a data key.
    pub fn has_key(&self, child: &ChildKey) -> bool {
        self.path(child).exists()
    }

    /// Destroys the child's data key: overwritten, synced, unlinked. True when there was one.
    pub fn erase(&self, child: &ChildKey) -> Result<bool, VaultError> {
        let path = self.path(child);
        let len = match fs::metadata(&path) {
            Ok(m) => m.len() as usize,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io(&path)(e)),
        };
        {
            let mut f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io(&path))?;
            f.write_all(&vec![0u8; len]).map_err(io(&path))?;
            f.sync_all().map_err(io(&path))?;
        }
        fs::remove_file(&path).map_err(io(&path))?;
        if let Some(shard) = path.parent() {
            sync_dir(shard);
        }
        Ok(true)
    }

    /// The children whose last identity arrived longer than `term` before `now`.
    pub fn expired(&self, term: Duration, now: SystemTime) -> Result<Vec<ChildKey>, VaultError> {
        let mut out = Vec::new();
        let shards = match fs::read_dir(&self.dir) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(io(&self.dir)(e)),
        };
        for shard in shards.flatten() {
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            for f in files.flatten() {
                let name = f.file_name();
                let Some(stem) = name.to_str().and_then(|n| n.strip_suffix(".key")) else {
                    continue;
                };
                let Ok(child) = ChildKey::parse(stem) else {
                    continue;
                };
                let modified = f.metadata().and_then(|m| m.modified()).ok();
                if modified.is_some_and(|m| now.duration_since(m).unwrap_or_default() > term) {
                    out.push(child);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Who acts on a child's identity, and why.
#[derive(Debug, Clone)]
pub struct Actor {
    pub actor: String,
    pub on_behalf_of: Option<String>,
    pub reason: String,
}

/// Writes an audit event to `hub.audit.v1`; returns once the broker has it.
pub async fn audit(
    producer: &crate::log::kafka::Producer,
    kind: EventType,
    child: &ChildKey,
    who: &Actor,
) -> Result<(), crate::log::kafka::KafkaError> {
    let ev = AuditEvent {
        id: crate::log::trace::random_hex(16),
        kind,
        child_key: child.clone(),
        actor: who.actor.clone(),
        on_behalf_of: who.on_behalf_of.clone(),
        reason: who.reason.clone(),
        at: Timestamp::now(),
        role: None,
        organisation: None,
        signal_id: None,
        categories: vec!["identity".into()],
        purpose: None,
        legal_ground: None,
        trace_id: None,
    };
    record(
        producer,
        &ev,
        "urn:nl:schakel:vault",
        crate::log::trace::TraceParent::new_root(),
    )
    .await
}

/// Writes an audit record to `hub.audit.v1`, keyed by its child; returns once the broker has
/// it, so what it records may happen.
pub async fn record(
    producer: &crate::log::kafka::Producer,
    ev: &AuditEvent,
    source: &str,
    trace: crate::log::trace::TraceParent,
) -> Result<(), crate::log::kafka::KafkaError> {
    let ce = crate::log::kafka::CloudEvent {
        id: ev.id.clone(),
        source: source.to_owned(),
        kind: ev.kind,
        time: ev.at,
        trace,
    };
    producer
        .send(crate::log::kafka::Outgoing {
            key: ev.child_key.as_str(),
            value: ev,
            event: &ce,
            partition: None,
        })
        .await
        .map(drop)
}

/// Opens a child's identity for someone entitled to see it: the audit event is written first,
/// so no identity is ever shown without a record of who saw it and why.
pub async fn reveal(
    vault: &Vault,
    producer: &crate::log::kafka::Producer,
    rec: &IdentityRecord,
    who: &Actor,
) -> anyhow::Result<Identity> {
    audit(producer, EventType::IdentityRevealed, &rec.child_key, who).await?;
    Ok(vault.open_record(rec)?)
}

/// Erases a child's identity: audit event, key destroyed, tombstone on `hub.identities.v1` so
/// compaction drops the (now unreadable) records too. True when the child had a key.
pub async fn erase(
    vault: &Vault,
    producer: &crate::log::kafka::Producer,
    child: &ChildKey,
    kind: EventType,
    who: &Actor,
) -> anyhow::Result<bool> {
    audit(producer, kind, child, who).await?;
    let had = vault.erase(child)?;
    producer
        .send_tombstone(Topic::IDENTITIES, child.as_str())
        .await?;
    Ok(had)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
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
