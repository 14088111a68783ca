//! The log: the Avro codec and the topics' schemas, the Kafka client with its producer,
//! consumer groups and per-partition merge, and the W3C trace context carried in headers.
//! It depends on the domain only.

pub mod codec;
pub mod group;
pub mod kafka;
pub mod merge;
pub mod schemas;
pub mod trace;
