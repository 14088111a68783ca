//! The transition rules of DOMAIN.md, one module per family.

pub mod r3_adulthood;

/// A rule id, as it appears in signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    R3a,
    R3b,
    R3c,
}

impl Rule {
    pub fn id(&self) -> &'static str {
        match self {
            Rule::R3a => "R3a",
            Rule::R3b => "R3b",
            Rule::R3c => "R3c",
        }
    }
}
