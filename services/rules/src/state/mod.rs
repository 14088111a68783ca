//! What the rules engine remembers of one child, kept small: a region of a million children
//! must fit in a few hundred megabytes (see `make bench-rules`).

use jiff::civil::Date;
use schakel_core::domain::dates::BirthDate;
use schakel_core::domain::events::ChildRef;
use schakel_core::domain::handoff::Progress;
use serde::{Deserialize, Serialize};

use crate::rules::Rule;
use crate::signal::Step;

mod days;
mod fact;
mod fact_id;
mod slim;
pub use days::*;
pub use fact::*;
pub use fact_id::FactId;
pub use slim::Slim;

/// A signal that has opened, with the dates fixed when it opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Track {
    pub rule: Rule,
    pub episode: i32,
    /// bit per [`Step`] that fired
    pub steps: u16,
    pub remind: Option<Date>,
    pub due: Option<Date>,
    pub escalate: Option<Date>,
    pub progress: Progress,
    /// the first day of an unbroken run of days on which the signal was moot
    pub moot_since: Option<Date>,
    pub closed: bool,
}

impl Track {
    pub fn has(&self, step: Step) -> bool {
        self.steps & step.bit() != 0
    }

    pub fn mark(&mut self, step: Step) {
        self.steps |= step.bit();
    }
}

/// Everything the engine knows about one child.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildState {
    pub birth: BirthDate,
    /// residence as first reported (0: unknown)
    pub residence: Gemeente,
    /// later residences, from the day a source reported them
    pub moves: Slim<(Date, Gemeente)>,
    /// the next day rules must look at this child
    pub wakeup: Option<Date>,
    /// hashes of (source, id) of every fact folded in, to ignore duplicates
    pub seen: Slim<u64>,
    pub facts: Slim<Fact>,
    pub tracks: Slim<Track>,
    /// the span that wrote the newest fact: the signals a tick fires for the child continue
    /// its trace
    pub cause: Option<schakel_core::log::trace::SpanRef>,
}

impl ChildState {
    pub fn new(child: &ChildRef) -> Self {
        Self {
            birth: child.birth(),
            residence: child
                .residence_municipality
                .as_deref()
                .and_then(gemeente)
                .unwrap_or(0),
            moves: Slim::default(),
            wakeup: None,
            seen: Slim::default(),
            facts: Slim::default(),
            tracks: Slim::default(),
            cause: None,
        }
    }

    /// Takes the newest birth date a source reported, and the residence from `at` on.
    pub fn update_child(&mut self, child: &ChildRef, at: Date) {
        self.birth = child.birth();
        let Some(g) = child.residence_municipality.as_deref().and_then(gemeente) else {
            return;
        };
        if self.residence == 0 {
            self.residence = g;
        } else if self.residence_on(at) != Some(g) {
            let pos = self.moves.partition_point(|(d, _)| *d <= at);
            self.moves.insert(pos, (at, g));
        }
    }

    /// The municipality of residence on `d`.
    pub fn residence_on(&self, d: Date) -> Option<Gemeente> {
        self.moves
            .iter()
            .rev()
            .find(|(from, _)| *from <= d)
            .map(|(_, g)| *g)
            .or((self.residence != 0).then_some(self.residence))
    }

    pub fn track(&self, rule: Rule, episode: i32) -> Option<&Track> {
        self.tracks
            .iter()
            .find(|t| t.rule == rule && t.episode == episode)
    }

    pub fn has_open_track(&self, rule: Rule) -> bool {
        self.tracks.iter().any(|t| t.rule == rule && !t.closed)
    }

    pub fn assignments(&self) -> impl Iterator<Item = &Assignment> {
        self.facts.iter().filter_map(|f| match f {
            Fact::Assignment(a) => Some(&**a),
            _ => None,
        })
    }

    pub fn assignments_mut(&mut self) -> impl Iterator<Item = &mut Assignment> {
        self.facts.iter_mut().filter_map(|f| match f {
            Fact::Assignment(a) => Some(&mut **a),
            _ => None,
        })
    }

    /// Enrolments: (school, sector, grade, start, end, startkwalificatie, id).
    pub fn enrolments(&self) -> impl Iterator<Item = Enrolment<'_>> {
        self.facts.iter().filter_map(|f| match f {
            Fact::Enrolment {
                school,
                sector,
                grade,
                start,
                end,
                startkwalificatie,
                id,
            } => Some(Enrolment {
                school: *school,
                sector: *sector,
                grade: *grade,
                start: *start,
                end: *end,
                startkwalificatie: *startkwalificatie,
                id,
            }),
            _ => None,
        })
    }

    /// Whether some enrolment covers `d` or starts after it (a known inschrijving counts
    /// from the day it is known, even if the pupil starts later).
    pub fn enrolled_from(&self, d: Date) -> bool {
        self.enrolments().any(|e| e.end.is_none_or(|end| end >= d))
    }

    /// Whether a vrijstelling covers `d`.
    pub fn exempt_on(&self, d: Date) -> bool {
        self.facts.iter().any(|f| {
            matches!(f, Fact::Vrijstelling { from, until, .. }
                if *from <= d && until.is_none_or(|u| u >= d))
        })
    }

    /// Whether the child has youth care (an active toewijzing) on `d`.
    pub fn care_on(&self, d: Date) -> bool {
        self.assignments().any(|a| a.active_on(d))
    }

    /// The id of the oldest fact the engine keeps: the source of the child's data, cited by
    /// rules that fire on an absence (no enrolment, no aanmelding).
    pub fn first_fact(&self) -> Option<&str> {
        self.facts.first().map(Fact::id)
    }
}

/// A view of one enrolment fact.
#[derive(Debug, Clone, Copy)]
pub struct Enrolment<'a> {
    pub school: School,
    pub sector: Sector,
    pub grade: u8,
    pub start: Date,
    pub end: Option<Date>,
    pub startkwalificatie: bool,
    pub id: &'a str,
}
