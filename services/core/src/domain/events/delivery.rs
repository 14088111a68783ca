//! The delivery ledger's records (`hub.deliveries.v1`) and the word each one says.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::domain::catalogue::EventType;

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
    pub fn event_type(self) -> EventType {
        match self {
            DeliveryStatus::Queued => EventType::DeliveryQueued,
            DeliveryStatus::InFlight => EventType::DeliveryInFlight,
            DeliveryStatus::Succeeded => EventType::DeliverySucceeded,
            DeliveryStatus::Failed => EventType::DeliveryFailed,
            DeliveryStatus::DeadLettered => EventType::DeliveryDeadLettered,
            DeliveryStatus::RetryRequested => EventType::DeliveryRetryRequested,
            DeliveryStatus::DigestScheduled => EventType::DeliveryDigestScheduled,
            DeliveryStatus::Unroutable => EventType::DeliveryUnroutable,
            DeliveryStatus::Rerouted => EventType::DeliveryRerouted,
            DeliveryStatus::EndpointDisabled => EventType::EndpointDisabled,
            DeliveryStatus::EndpointEnabled => EventType::EndpointEnabled,
        }
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
    pub kind: EventType,
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
