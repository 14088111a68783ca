//! The hub's other records: dead letters, sealed identities, import progress, audit.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::catalogue::EventType;
use crate::domain::ids::ChildKey;

/// A record that failed after it was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub id: String,
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub service: String,
    pub reason: String,
    pub at: Timestamp,
    /// base64 of the original value
    pub payload: String,
}

/// A child's identity, encrypted with its data key (`hub.identities.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRecord {
    pub child_key: ChildKey,
    pub key_id: String,
    /// base64
    pub nonce: String,
    /// base64
    pub ciphertext: String,
    pub source: String,
    pub recorded_at: Timestamp,
}

/// How far a CSV import has durably come (`hub.imports.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportProgress {
    pub import_id: String,
    pub kind: String,
    pub lines_done: i64,
    pub accepted: i64,
    pub rejected: i64,
    pub finished: bool,
    pub at: Timestamp,
}

/// Who did what with a child's identity (`hub.audit.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub child_key: ChildKey,
    pub actor: String,
    pub on_behalf_of: Option<String>,
    pub reason: String,
    pub at: Timestamp,
    /// the role in which the actor acted
    #[serde(default)]
    pub role: Option<String>,
    /// the institution the actor acted for
    #[serde(default)]
    pub organisation: Option<String>,
    /// the signal whose page showed the child
    #[serde(default)]
    pub signal_id: Option<String>,
    /// the categories of data shown (identity, education, verzuim, jeugdhulp, …)
    #[serde(default)]
    pub categories: Vec<String>,
    /// the purpose of the processing, from policy
    #[serde(default)]
    pub purpose: Option<String>,
    /// the legal ground of the processing, from policy
    #[serde(default)]
    pub legal_ground: Option<String>,
    /// the W3C trace id of the request that read
    #[serde(default)]
    pub trace_id: Option<String>,
}
