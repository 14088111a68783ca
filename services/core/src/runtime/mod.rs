//! The runtime of a service process: configuration, startup and graceful shutdown, telemetry
//! and the operations endpoints (`/livez`, `/readyz`, `/metrics`).

pub mod config;
pub mod ops;
pub mod service;
pub mod shutdown;
pub mod telemetry;
