//! Hands the BSN or onderwijsnummer and name of every accepted child to the identity vault:
//! sealed with the child's data key into `hub.identities.v1`, before the facts are written.
//! Nothing else in ingest keeps them.

use schakel_core::domain::catalogue::EventType;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use schakel_core::domain::events::IdentityRecord;
use schakel_core::domain::ids::ChildKey;
use schakel_core::log::kafka::{CloudEvent, Outgoing, Producer};
use schakel_core::log::trace::TraceParent;
use schakel_core::vault::{Identity, Vault};
use sha2::{Digest, Sha256};

use crate::problem::ApiError;

/// Identities already sealed by this process, so a child named in every event of a long
/// import is written once, not once per event. Bounded: cleared when full.
const RECENT_MAX: usize = 1_000_000;

/// Identity records sealed and not yet written, with their fingerprints.
pub struct Sealed(Vec<([u8; 16], IdentityRecord)>);

#[derive(Clone)]
pub struct IdentityWriter {
    vault: Arc<Vault>,
    recent: Arc<Mutex<HashSet<[u8; 16]>>>,
}

fn fingerprint(child: &ChildKey, identity: &Identity) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(child.as_str().as_bytes());
    h.update(serde_json::to_vec(identity).expect("identity serialises"));
    h.finalize()[..16].try_into().expect("16 bytes")
}

impl IdentityWriter {
    pub fn new(vault: Vault) -> Self {
        Self {
            vault: Arc::new(vault),
            recent: Arc::default(),
        }
    }

    /// Seals the identities that are new to the vault (their children's keys durable before
    /// it returns); nothing is written to the log yet. A child already in the vault is
    /// written again only when a name came with it (a later record without a name must not
    /// hide the name the vault has).
    pub async fn seal(
        &self,
        items: Vec<(ChildKey, Identity)>,
        source: &'static str,
    ) -> Result<Sealed, ApiError> {
        let vault = self.vault.clone();
        let recent = self.recent.clone();
        let sealed = tokio::task::spawn_blocking(move || {
            let mut seen = HashSet::new();
            let mut todo = Vec::new();
            for (child, identity) in items {
                let fp = fingerprint(&child, &identity);
                if !seen.insert(fp) {
                    continue;
                }
                let known = vault.has_key(&child);
                let named = identity.given.is_some() || identity.family.is_some();
                if known && (!named || recent.lock().expect("recent lock").contains(&fp)) {
                    continue;
                }
                todo.push((fp, child, identity));
            }
            // the batch's new keys become durable together, before any record is written
            let sealed = vault.seal_all(
                todo.iter().map(|(_, c, i)| (c, i)),
                source,
                Timestamp::now(),
            )?;
            Ok::<_, schakel_core::vault::VaultError>(
                todo.into_iter()
                    .map(|(fp, ..)| fp)
                    .zip(sealed)
                    .collect::<Vec<_>>(),
            )
        })
        .await
        .map_err(|_| ApiError::Unavailable)?
        .map_err(|e| {
            tracing::error!(error = %e, "identity vault unavailable");
            ApiError::Unavailable
        })?;
        Ok(Sealed(sealed))
    }

    /// Writes sealed identities; returns once the broker has them.
    pub async fn send(
        &self,
        producer: &Producer,
        Sealed(sealed): Sealed,
        trace: &TraceParent,
    ) -> Result<usize, ApiError> {
        let n = sealed.len();
        let mut sends = tokio::task::JoinSet::new();
        for (fp, rec) in sealed {
            let producer = producer.clone();
            let trace = trace.clone();
            sends.spawn(async move {
                let ce = CloudEvent {
                    id: format!("identity-{}", schakel_core::domain::ids::hex(&fp)),
                    source: "urn:nl:schakel:ingest".into(),
                    kind: EventType::IdentityRecorded,
                    time: rec.recorded_at,
                    trace,
                };
                producer
                    .send(Outgoing {
                        key: rec.child_key.as_str(),
                        value: &rec,
                        event: &ce,
                        partition: None,
                    })
                    .await
                    .map(|_| fp)
            });
        }
        let mut failed = false;
        while let Some(r) = sends.join_next().await {
            match r {
                Ok(Ok(fp)) => {
                    let mut recent = self.recent.lock().expect("recent lock");
                    if recent.len() >= RECENT_MAX {
                        recent.clear();
                    }
                    recent.insert(fp);
                }
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "write of an identity record failed");
                    failed = true;
                }
                Err(_) => failed = true,
            }
        }
        if failed {
            return Err(ApiError::Unavailable);
        }
        Ok(n)
    }
}
