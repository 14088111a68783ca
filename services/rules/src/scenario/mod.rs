//! Golden scenarios: files of input facts and ticks with the signals they must produce.
//!
//! A scenario is TOML: `[[child]]` declares children by name, `[[input]]` lists facts and ticks
//! in log order, `[[expect]]` lists every signal step that must fire, and nothing else may
//! fire; `[[refusal]]` lists every handoff answer that must be refused. See
//! `tests/golden/README.md` for the format.
//!
//! `read` reads a file into a [`Scenario`] (with `facts` for each fact), `run` runs it through
//! the engine, and `expect` compares what it produced with what the file expects.

mod expect;
mod facts;
mod read;
mod run;

use schakel_core::domain::ids::{hex, ChildKey};
use sha2::{Digest, Sha256};

pub use expect::{Expected, ExpectedRefusal};

use crate::policy::Policy;
use crate::Input;

/// A loaded scenario, its inputs expanded into log order.
#[derive(Debug)]
pub struct Scenario {
    pub description: String,
    pub policy: Policy,
    pub inputs: Vec<Input>,
    pub expect: Vec<Expected>,
    pub refusals: Vec<ExpectedRefusal>,
    children: Vec<(String, ChildKey)>,
}

/// The ChildKey a scenario uses for a child name.
pub fn key_for(name: &str) -> ChildKey {
    ChildKey::parse(&hex(&Sha256::digest(name.as_bytes()))).expect("64 hex")
}
