//! The core of Schakel: domain types, the Avro codec, Kafka wrappers, config, telemetry and
//! shutdown, shared by every service.

pub mod avro;
pub mod config;
pub mod dates;
pub mod deliveries;
pub mod directory;
pub mod events;
pub mod group;
pub mod handoff;
pub mod ids;
pub mod kafka;
pub mod merge;
pub mod ops;
pub mod policy;
pub mod roles;
pub mod schemas;
pub mod service;
pub mod shutdown;
pub mod telemetry;
pub mod trace;
pub mod vault;
pub mod verzuim;

pub use config::Config;
pub use shutdown::Shutdown;
