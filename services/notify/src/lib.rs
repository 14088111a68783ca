//! The notify service of Schakel: routes signals to contact persons and delivers them by
//! webhook and e-mail.

pub mod clock;
pub mod commits;
pub mod config;
pub mod config_signals;
pub mod delivery;
pub mod deps;
pub use schakel_core::domain::directory;
pub mod digest;
pub mod digest_send;
pub mod email;
pub mod endpoints;
pub mod ledger;
pub mod ledger_writer;
pub mod lifecycle;
pub mod message;
pub mod notificaties;
pub mod plan;
pub mod redrive;
pub mod restore;
pub mod service;
pub mod webhook;
