//! The rules engine of Schakel: folds facts and clock ticks into transition signals and
//! warm-handoff tasks, deterministically, so a replay gives the same signals.

pub mod config;
pub mod engine;
pub mod input;
pub mod partition;
pub mod policy;
pub mod replay;
pub mod rules;
pub mod scenario;
pub mod service;
pub mod signal;
pub mod snapshot;
pub mod state;
pub mod whatif;

pub use engine::Engine;
pub use input::Input;
