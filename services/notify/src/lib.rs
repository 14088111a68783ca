//! The notify service of Schakel: routes signals to contact persons and delivers them by
//! webhook and e-mail.

pub mod clock;
pub use schakel_core::directory;
pub mod digest;
pub mod email;
pub use schakel_core::deliveries as ledger;
pub mod message;
pub mod service;
pub mod webhook;
