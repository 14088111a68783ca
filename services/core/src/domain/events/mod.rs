//! The records on Schakel's topics, mirroring the Avro schemas in `schemas/`: what sources
//! say, what the hub says, the delivery ledger and the hub's other records.

mod delivery;
mod hub;
mod records;
mod source;

pub use delivery::*;
pub use hub::*;
pub use records::*;
pub use source::*;
