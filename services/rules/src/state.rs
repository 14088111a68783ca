//! What the rules engine remembers of one child.

use jiff::civil::Date;
use jiff::Timestamp;
use schakel_core::dates::BirthDate;
use schakel_core::events::ChildRef;

/// One youth-care toewijzing, in its current version (latest `toewijzingTijdstip` wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub nummer: String,
    pub ingang: Date,
    pub eind: Option<Date>,
    pub stamp: Timestamp,
    pub verlengd: bool,
    pub gemeente: String,
    pub withdrawn: bool,
    /// Care stopped (JW307) on this date.
    pub stopped: Option<Date>,
    /// The event ids this version rests on, for explanations.
    pub fact: String,
}

impl Assignment {
    /// The last day of care, if known.
    pub fn last_day(&self) -> Option<Date> {
        match (self.eind, self.stopped) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether the assignment is in force on `d`.
    pub fn active_on(&self, d: Date) -> bool {
        !self.withdrawn && self.ingang <= d && self.last_day().is_none_or(|e| e >= d)
    }

    /// Whether the assignment is in force on some day of `[from, to]`.
    pub fn active_between(&self, from: Date, to: Date) -> bool {
        !self.withdrawn && self.ingang <= to && self.last_day().is_none_or(|e| e >= from)
    }
}

/// A signal step that has fired, so it never fires twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired {
    pub rule: crate::rules::Rule,
    pub step: crate::signal::Step,
}

/// Everything the engine knows about one child.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildState {
    pub birth: BirthDate,
    pub residence: Option<String>,
    /// Hashes of (source, id) of every fact folded in, to ignore duplicates.
    pub seen: Vec<u64>,
    pub assignments: Vec<Assignment>,
    pub fired: Vec<Fired>,
}

impl ChildState {
    pub fn new(child: &ChildRef) -> Self {
        Self {
            birth: child.birth(),
            residence: child.residence_municipality.clone(),
            seen: Vec::new(),
            assignments: Vec::new(),
            fired: Vec::new(),
        }
    }

    /// Takes the newest birth date and residence a source reported.
    pub fn update_child(&mut self, child: &ChildRef) {
        self.birth = child.birth();
        if child.residence_municipality.is_some() {
            self.residence = child.residence_municipality.clone();
        }
    }

    pub fn has_fired(&self, rule: crate::rules::Rule, step: crate::signal::Step) -> bool {
        self.fired.iter().any(|f| f.rule == rule && f.step == step)
    }
}
