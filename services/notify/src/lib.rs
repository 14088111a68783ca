//! The notify service of Schakel: routes signals to contact persons and delivers them.

pub use schakel_core::directory;
pub mod ledger;
pub mod message;
pub mod service;
pub mod webhook;
