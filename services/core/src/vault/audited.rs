//! Acting on a child's identity with a record of who did it and why: the audit event goes to
//! `hub.audit.v1` before the identity is shown or erased.

use super::*;

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
