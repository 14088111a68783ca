//! Kafka wrappers: an acks=all idempotent producer that writes CloudEvents binary-mode headers
//! (`produce`), consumers that never auto-commit (`consume`), and one-off reads of positions,
//! ranges and whole topics (`read`). This file holds the connection settings and the errors.

mod consume;
mod produce;
mod read;

pub use consume::*;
pub use produce::*;
pub use read::*;

use std::time::Duration;

use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::ClientConfig;
use serde::Deserialize;

use crate::log::codec::CodecError;

/// Why a Kafka operation failed, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    #[error("broker refused the request: {0}")]
    Refused(String),
    #[error(transparent)]
    Codec(#[from] CodecError),
}

impl KafkaError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, KafkaError::Unavailable(_))
    }
}

fn classify_ref(e: &RdError) -> KafkaError {
    classify(e.clone())
}

fn classify(e: RdError) -> KafkaError {
    let code = e.rdkafka_error_code();
    let transient = matches!(
        code,
        Some(
            RDKafkaErrorCode::MessageTimedOut
                | RDKafkaErrorCode::AllBrokersDown
                | RDKafkaErrorCode::BrokerTransportFailure
                | RDKafkaErrorCode::RequestTimedOut
                | RDKafkaErrorCode::NotEnoughReplicas
                | RDKafkaErrorCode::LeaderNotAvailable
                | RDKafkaErrorCode::NotLeaderForPartition
                | RDKafkaErrorCode::QueueFull
        )
    );
    if transient {
        KafkaError::Unavailable(e.to_string())
    } else {
        KafkaError::Refused(e.to_string())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    pub bootstrap: String,
    /// Prepended to every topic name, for test isolation or several regions on one cluster.
    #[serde(default)]
    pub topic_prefix: String,
    /// Extra librdkafka properties (e.g. `security.protocol`, `sasl.mechanism`).
    #[serde(default)]
    pub properties: std::collections::BTreeMap<String, String>,
    /// How long a produce may wait for the broker before the request fails.
    #[serde(
        default = "default_produce_timeout",
        deserialize_with = "crate::domain::dates::de_duration"
    )]
    pub produce_timeout: Duration,
    /// How long a consumer-group member may be silent before its partitions go to the others
    /// (an instance that died is noticed after this).
    #[serde(
        default = "default_session_timeout",
        deserialize_with = "crate::domain::dates::de_duration"
    )]
    pub session_timeout: Duration,
}

fn default_produce_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_session_timeout() -> Duration {
    Duration::from_secs(10)
}

impl KafkaConfig {
    /// The full name of a topic, with the configured prefix.
    pub fn topic(&self, topic: crate::domain::catalogue::Topic) -> String {
        format!("{}{}", self.topic_prefix, topic.name())
    }
}

impl AsRef<KafkaConfig> for KafkaConfig {
    fn as_ref(&self) -> &KafkaConfig {
        self
    }
}

/// librdkafka settings shared by every client.
pub fn client_config(cfg: &impl AsRef<KafkaConfig>) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", &cfg.as_ref().bootstrap)
        // the local broker listens on IPv4; `localhost` may resolve to ::1 first
        .set("broker.address.family", "v4")
        .set("client.id", "schakel");
    for (k, v) in &cfg.as_ref().properties {
        c.set(k, v);
    }
    c
}
