//! The core of Schakel, shared by every service, in three layers that only look down:
//!
//! - [`domain`]: ids, dates, events, roles, the directory and the rule vocabulary;
//! - [`log`]: the Avro codec, the topics' schemas, Kafka and the trace context;
//! - [`runtime`]: configuration, service startup and shutdown, telemetry and operations.
//!
//! [`vault`], the identity vault of ingest and the CLI, sits on the log.

pub mod domain;
pub mod log;
pub mod runtime;
pub mod vault;

pub use runtime::config::Config;
pub use runtime::shutdown::Shutdown;
