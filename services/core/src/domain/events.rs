//! The records on Schakel's topics, mirroring the Avro schemas in `schemas/`.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::dates::{BirthDate, DatePrecision};
use crate::domain::ids::ChildKey;

/// The pseudonymous child carried by every source record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRef {
    pub child_key: ChildKey,
    pub birth_date: Date,
    pub birth_date_precision: DatePrecision,
    pub residence_municipality: Option<String>,
}

impl ChildRef {
    pub fn birth(&self) -> BirthDate {
        BirthDate::new(self.birth_date, self.birth_date_precision)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchoolRef {
    pub brin: String,
    pub vestiging: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationRef {
    pub lrk: String,
}

/// A source fact: the CloudEvents envelope, the child and the type-specific data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceEvent<D> {
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub time: Timestamp,
    pub child: ChildRef,
    pub data: D,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SchoolData {
    #[serde(rename_all = "camelCase")]
    EnrolmentRegistered {
        school: SchoolRef,
        sector: String,
        grade: i32,
        start_date: Date,
    },
    #[serde(rename_all = "camelCase")]
    EnrolmentEnded {
        school: SchoolRef,
        end_date: Date,
        reason: String,
        destination: Option<SchoolRef>,
        #[serde(default)]
        startkwalificatie: Option<bool>,
    },
    ApplicationRegistered {
        school: SchoolRef,
        date: Date,
    },
    AdmissionDecided {
        school: SchoolRef,
        date: Date,
        decision: String,
    },
    AdviceGiven {
        kind: String,
        level: String,
        date: Date,
    },
    SupportStarted {
        school: SchoolRef,
        support: String,
        date: Date,
    },
    SupportEnded {
        school: SchoolRef,
        support: String,
        date: Date,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum VoorschoolData {
    #[serde(rename_all = "camelCase")]
    PlacementStarted {
        location: LocationRef,
        vve_indication: bool,
        date: Date,
        mentor: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    PlacementEnded {
        location: LocationRef,
        vve_indication: bool,
        date: Date,
        mentor: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LeerplichtData {
    #[serde(rename_all = "camelCase")]
    VerzuimReported {
        school: SchoolRef,
        meldingsnummer: String,
        kind: String,
        first_absence_date: Date,
    },
    VerzuimStatusChanged {
        meldingsnummer: String,
        status: String,
    },
    VrijstellingGranted {
        kind: String,
        from: Date,
        until: Option<Date>,
    },
    VrijstellingEnded {
        kind: String,
        from: Date,
        until: Option<Date>,
    },
    ThuiszitterRegistered {
        since: Date,
        school: Option<SchoolRef>,
    },
    ThuiszitterResolved {
        date: Date,
        offer: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub categorie: String,
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JeugdhulpData {
    #[serde(rename_all = "camelCase")]
    AssignmentIssued {
        toewijzing_nummer: String,
        product: Product,
        ingangsdatum: Date,
        einddatum: Option<Date>,
        toewijzing_tijdstip: Timestamp,
        verlengde_jeugdhulp: Option<bool>,
        gemeente: String,
    },
    #[serde(rename_all = "camelCase")]
    AssignmentWithdrawn {
        toewijzing_nummer: String,
        date: Date,
    },
    #[serde(rename_all = "camelCase")]
    CareStarted {
        toewijzing_nummer: String,
        begindatum: Date,
    },
    #[serde(rename_all = "camelCase")]
    CareStopped {
        toewijzing_nummer: String,
        begindatum: Date,
        einddatum: Date,
        reden_beeindiging: Option<String>,
    },
    /// An iJw start (`record` = "start") or stop ("stop") record withdrawn.
    #[serde(rename_all = "camelCase")]
    CareWithdrawn {
        toewijzing_nummer: String,
        record: String,
        begindatum: Date,
    },
    #[serde(rename_all = "camelCase")]
    AssignmentRequested {
        referentie_aanbieder: String,
        product: Product,
        ingangsdatum: Option<Date>,
        einddatum: Option<Date>,
        gemeente: String,
    },
}

pub type SchoolEvent = SourceEvent<SchoolData>;
pub type VoorschoolEvent = SourceEvent<VoorschoolData>;
pub type LeerplichtEvent = SourceEvent<LeerplichtData>;
pub type JeugdhulpEvent = SourceEvent<JeugdhulpData>;

/// A day has begun (Europe/Amsterdam).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClockTick {
    pub id: String,
    pub date: Date,
    pub produced_at: Timestamp,
}

impl ClockTick {
    /// Ticks for the same date share their id, so a repeated tick is recognised.
    pub fn id_for(date: Date) -> String {
        format!("tick-{date}")
    }
}

/// One step of a signal: `opened`, `reminded`, `overdue`, `escalated` or `resolved`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignalEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub step: String,
    pub signal_id: String,
    pub rule: String,
    pub child_key: ChildKey,
    pub institution: Option<String>,
    pub municipality: Option<String>,
    pub due_date: Option<Date>,
    pub recipients: Vec<String>,
    pub task: bool,
    pub fired_on: Date,
    pub birth_date_uncertain: bool,
    pub facts: Vec<String>,
    pub policy: std::collections::BTreeMap<String, String>,
    /// role → the institution that holds it for this signal; other roles route by default
    #[serde(default)]
    pub routes: std::collections::BTreeMap<String, String>,
    /// `school` when no source reported the child's residence and `municipality` is that of
    /// the child's school; None when a source reported it
    #[serde(default)]
    pub residence_derived_from: Option<String>,
}

/// A contact person's answer to a handoff task (`nl.schakel.hub.handoff-*.v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseEvent {
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub time: Timestamp,
    pub child_key: ChildKey,
    pub signal_id: String,
    pub contact: String,
    pub at: Timestamp,
    pub note: Option<String>,
    /// the roles of the task the contact answered for
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub url: String,
    pub secret: String,
}

/// How a contact wants to be notified (see docs/directory.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preferences {
    /// `webhook` and/or `email`; None: every channel the contact has an address for
    pub channels: Option<Vec<String>>,
    /// a daily digest at this hour (Europe/Amsterdam) instead of immediate delivery
    pub digest_hour: Option<i32>,
    /// the rules to be notified of; None: all
    pub rules: Option<Vec<String>>,
}

/// An entry in the directory topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    pub entry: DirectoryItem,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirectoryItem {
    Institution {
        id: String,
        name: String,
    },
    Contact {
        id: String,
        name: String,
        organisation: Option<String>,
        institution: String,
        roles: Vec<String>,
        email: Option<String>,
        webhook: Option<Webhook>,
        #[serde(default)]
        preferences: Option<Preferences>,
    },
}

impl DirectoryEntry {
    /// The compaction key: `institution:<id>` or `contact:<id>`.
    pub fn key(&self) -> String {
        match &self.entry {
            DirectoryItem::Institution { id, .. } => format!("institution:{id}"),
            DirectoryItem::Contact { id, .. } => format!("contact:{id}"),
        }
    }
}

/// The word a ledger record says. On the topic it is a string (the schema's `status`); a word
/// not listed here does not decode: an unknown status is an error, never taken for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryStatus {
    Queued,
    InFlight,
    Succeeded,
    /// an attempt failed; the record's `nextAttemptAt` says when the next one is
    Failed,
    DeadLettered,
    /// an operator asked for one more attempt of a dead letter
    RetryRequested,
    /// waits for the contact's daily digest
    DigestScheduled,
    /// no contact holds the role the step is for
    Unroutable,
    /// an unroutable step handed to the role's contacts once the directory was fixed
    Rerouted,
    /// about an endpoint, not a delivery: disabled after failing too long
    EndpointDisabled,
    /// about an endpoint: enabled again after its directory entry changed
    EndpointEnabled,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 11] = [
        DeliveryStatus::Queued,
        DeliveryStatus::InFlight,
        DeliveryStatus::Succeeded,
        DeliveryStatus::Failed,
        DeliveryStatus::DeadLettered,
        DeliveryStatus::RetryRequested,
        DeliveryStatus::DigestScheduled,
        DeliveryStatus::Unroutable,
        DeliveryStatus::Rerouted,
        DeliveryStatus::EndpointDisabled,
        DeliveryStatus::EndpointEnabled,
    ];

    /// The word on the topic.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::InFlight => "in-flight",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::DeadLettered => "dead-lettered",
            DeliveryStatus::RetryRequested => "retry-requested",
            DeliveryStatus::DigestScheduled => "digest-scheduled",
            DeliveryStatus::Unroutable => "unroutable",
            DeliveryStatus::Rerouted => "rerouted",
            DeliveryStatus::EndpointDisabled => "endpoint-disabled",
            DeliveryStatus::EndpointEnabled => "endpoint-enabled",
        }
    }

    /// The CloudEvents type of a record with this status.
    pub fn event_type(self) -> String {
        format!("nl.schakel.delivery.{}.v1", self.as_str())
    }

    /// Whether the record is about an endpoint rather than one delivery.
    pub fn is_endpoint(self) -> bool {
        matches!(
            self,
            DeliveryStatus::EndpointDisabled | DeliveryStatus::EndpointEnabled
        )
    }
}

impl std::fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl PartialEq<&str> for DeliveryStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        DeliveryStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown delivery status {s:?}"))
    }
}

/// One outcome of a delivery attempt, in the delivery ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryEvent {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub signal_id: String,
    pub signal_event_id: String,
    pub step: String,
    pub contact: String,
    pub channel: String,
    pub attempt: i32,
    pub status: DeliveryStatus,
    pub error: Option<String>,
    pub at: Timestamp,
    pub next_attempt_at: Option<Timestamp>,
    /// where the signal step is in `hub.signals.v1` (to re-drive a dead letter)
    #[serde(default)]
    pub signal_partition: Option<i32>,
    #[serde(default)]
    pub signal_offset: Option<i64>,
}

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
    pub kind: String,
    pub child_key: ChildKey,
    pub actor: String,
    pub on_behalf_of: Option<String>,
    pub reason: String,
    pub at: Timestamp,
}
