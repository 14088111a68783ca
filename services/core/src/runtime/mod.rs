//! The runtime of a service process: configuration, startup and graceful shutdown, telemetry
//! the operations endpoints (`/livez`, `/readyz`, `/metrics`) and following topics for a view.

pub mod config;
pub mod follow;
pub mod metrics;
pub mod ops;
pub mod service;
pub mod shutdown;
pub mod telemetry;
