//! The domain: who a child is to Schakel (ids, dates), what sources and the hub say about them
//! (events, and their catalogue of types and topics), who may act (roles, directory) and the rule vocabulary (handoff, verzuim). It knows
//! nothing of Kafka, configuration or processes.

pub mod catalogue;
pub mod dates;
pub mod directory;
pub mod events;
pub mod handoff;
pub mod ids;
pub mod links;
pub mod monitoring;
pub mod roles;
pub mod tasks;
pub mod verzuim;
pub mod whatif;
pub mod wording;
