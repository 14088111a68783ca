//! The end-to-end harness: a real Apache Kafka broker (the run's shared one, or a node or a
//! cluster of the test's own), the real service binaries as child processes, a real HTTP
//! webhook receiver, and per-test topic names.
//!
//! A test starts its region with [`Region`] (what differs from the test region as named
//! options), gets an [`Env`], starts services from it and waits for positive markers
//! ([`wait`]) rather than sleeping.

pub mod bench;
pub mod broker;
pub mod browser;
mod cleanup;
mod data;
mod env;
pub mod notificaties;
pub mod oidc;
pub mod otlp;
pub mod privacy;
mod proc;
pub mod receiver;
pub mod region;
pub mod rss;
mod session;
pub mod smtp;
pub mod wait;

pub use data::{assignment_event, bsns, handoff_desks, thuiszitter_event, DASHBOARD_DIRECTORY};
pub use env::{Env, Services};
pub use proc::{bin, bin_dir, free_port, scrape, wait_for_port, Proc};
pub use region::{
    Region, JEUGDHULP_TOKEN, LAS_TOKEN, LEERPLICHT_TOKEN, LINK_SECRET, SHARED_BROKER,
    VAULT_MASTER_KEY,
};
pub use session::Session;
pub use wait::{await_ready_status, during, eventually, eventually_async, ready_status};

fn random_suffix() -> String {
    schakel_core::log::trace::random_hex(4)
}
