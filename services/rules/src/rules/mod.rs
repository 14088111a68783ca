//! The transition rules of DOMAIN.md, one module per family.
//!
//! A rule does not emit anything itself. For a child on a day it says, per episode, whether
//! the signal should be open ([`Want::open`]), whether an open one has become moot
//! ([`Want::moot`]), and the [`Plan`] of the signal (dates, roles, routes, facts, policy).
//! The engine turns that into steps, once each, and remembers them in [`crate::state::Track`]s.
//! Every rule also names the days on which its answer may change, so the engine knows when to
//! look again ([`Cx::wake`]).

pub mod r1_voorschool;
pub mod r2_po_vo;
pub mod r3_adulthood;
pub mod r4_thuiszitter;
pub mod r5_school_change;
pub mod r6_verzuim_jeugdhulp;

use crate::policy::Policy;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::state::ChildState;

/// A rule id, as it appears in signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Rule {
    R1a,
    R1b,
    R1c,
    R2a,
    R2b,
    R2c,
    R3a,
    R3b,
    R3c,
    R3d,
    R4,
    R5,
    R6,
}

impl Rule {
    pub const ALL: [Rule; 13] = [
        Rule::R1a,
        Rule::R1b,
        Rule::R1c,
        Rule::R2a,
        Rule::R2b,
        Rule::R2c,
        Rule::R3a,
        Rule::R3b,
        Rule::R3c,
        Rule::R3d,
        Rule::R4,
        Rule::R5,
        Rule::R6,
    ];

    pub fn id(&self) -> &'static str {
        match self {
            Rule::R1a => "R1a",
            Rule::R1b => "R1b",
            Rule::R1c => "R1c",
            Rule::R2a => "R2a",
            Rule::R2b => "R2b",
            Rule::R2c => "R2c",
            Rule::R3a => "R3a",
            Rule::R3b => "R3b",
            Rule::R3c => "R3c",
            Rule::R3d => "R3d",
            Rule::R4 => "R4",
            Rule::R5 => "R5",
            Rule::R6 => "R6",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == s)
    }

    /// The roles that receive this rule's signal (opened, reminded, overdue, resolved or
    /// cancelled); escalations add the escalation role.
    pub fn recipients(&self) -> &'static [&'static str] {
        match self {
            Rule::R1a => &["vve-mentor", "ib"],
            Rule::R1b => &["vve-mentor", "vve-coordinator"],
            Rule::R1c | Rule::R2c | Rule::R5 => &["leerplicht"],
            Rule::R2a => &["ib", "leerplicht"],
            Rule::R2b => &["ib", "zorgcoordinator"],
            Rule::R3a | Rule::R6 => &["jeugdteam"],
            Rule::R3b | Rule::R3c => &["jeugdteam", "volwassenen"],
            Rule::R3d => &["leerplicht", "rmc"],
            Rule::R4 => &["leerplicht", "kernteam"],
        }
    }

    /// The sending and receiving roles of a handoff task; None for a notice.
    pub fn task_sides(&self) -> Option<(&'static [&'static str], &'static [&'static str])> {
        schakel_core::domain::handoff::task_sides(self.id())
    }

    /// The episode as it enters the signal id: stable across replays and versions.
    pub fn episode_label(&self, episode: i32) -> String {
        match self {
            Rule::R1a | Rule::R1b => "voorschool".into(),
            Rule::R1c => "leerplicht-start".into(),
            Rule::R2a | Rule::R2b | Rule::R2c => format!("schooljaar-{episode}"),
            Rule::R3a | Rule::R3b | Rule::R3c => "adulthood".into(),
            Rule::R3d => "adulthood-education".into(),
            Rule::R4 => format!("thuiszitter-{}", day_label(episode)),
            Rule::R5 => format!("uitschrijving-{}", day_label(episode)),
            Rule::R6 => format!("verzuim-{episode:08x}"),
        }
    }
}

fn day_label(epoch_days: i32) -> String {
    schakel_core::domain::dates::from_epoch_days(epoch_days)
        .map_or_else(|| epoch_days.to_string(), |d| d.to_string())
}

/// The dates and addressees of a signal.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub remind: Option<Date>,
    pub due: Option<Date>,
    /// whether an `overdue` step fires at the due date
    pub overdue: bool,
    pub escalate: Option<Date>,
    /// roles that receive opened, reminded, overdue and resolved/cancelled
    pub to: &'static [&'static str],
    pub escalate_to: &'static [&'static str],
    /// the institution the signal is about
    pub institution: Option<String>,
    /// role → institution, for roles not held at the municipality of residence
    pub routes: Vec<(&'static str, String)>,
    pub facts: Vec<String>,
    pub policy: &'static [&'static str],
}

/// What a rule says about one episode of one child on one day.
#[derive(Debug, Clone)]
pub struct Want {
    pub rule: Rule,
    pub episode: i32,
    pub open: bool,
    pub moot: bool,
    pub plan: Plan,
}

/// The child, day and policy a rule looks at, and the days it asks to be woken on.
pub struct Cx<'a> {
    pub state: &'a ChildState,
    pub day: Date,
    pub policy: &'a Policy,
    pub wake: Vec<Date>,
}

impl Cx<'_> {
    /// Asks to be evaluated again on `d` (only future days matter).
    pub fn wake(&mut self, d: Date) {
        if d > self.day {
            self.wake.push(d);
        }
    }

    /// What a rule says about one episode. The plan is made only when the engine will read
    /// it: when the signal is to open, or when the child has a track of the episode. For most
    /// children on most days neither holds, and the plan's names and fact ids are not made.
    pub fn want(
        &self,
        rule: Rule,
        episode: i32,
        open: bool,
        moot: bool,
        plan: impl FnOnce() -> Plan,
    ) -> Want {
        let read = open || self.state.track(rule, episode).is_some();
        Want {
            rule,
            episode,
            open,
            moot,
            plan: if read { plan() } else { Plan::default() },
        }
    }

    /// Whether the child lives outside the region on the day looked at.
    pub fn moved_away(&self) -> bool {
        self.state
            .residence_on(self.day)
            .is_some_and(|g| !self.policy.in_region(g))
    }

    pub fn age(&self, a: crate::policy::Age) -> Date {
        self.state.birth.reaches(a.years, a.months)
    }

    /// The first day of leerplicht: the first of the month after the start-age birthday.
    pub fn leerplicht_start(&self) -> Date {
        let b = self.age(self.policy.leerplicht.start_age);
        b.last_of_month().tomorrow().unwrap_or(b)
    }

    /// The last day of leerplicht: the end of the school year in which the child reaches
    /// the end age.
    pub fn leerplicht_end(&self) -> Date {
        let b = self.age(self.policy.leerplicht.end_age);
        let next = self.policy.school_year_of(b).next();
        let start = self.policy.school_year_start(next);
        start.yesterday().unwrap_or(start)
    }

    pub fn leerplichtig_on(&self, d: Date) -> bool {
        self.leerplicht_start() <= d && d <= self.leerplicht_end()
    }
}

/// Every rule's wants for the child on `cx.day`, in rule order.
pub fn evaluate(cx: &mut Cx<'_>) -> Vec<Want> {
    let mut out = Vec::new();
    r1_voorschool::wants(cx, &mut out);
    r2_po_vo::wants(cx, &mut out);
    r3_adulthood::wants(cx, &mut out);
    r5_school_change::wants(cx, &mut out);
    // R4 after R1c, R2c and R5: their open signals are absoluut-verzuim findings
    r4_thuiszitter::wants(cx, &mut out);
    r6_verzuim_jeugdhulp::wants(cx, &mut out);
    out
}

/// Why a rule fires, in Dutch (`nl`) or English (`en`), for `schakel explain`.
pub fn describe(rule: Rule, lang: &str) -> &'static str {
    schakel_core::domain::wording::explain(rule.id(), lang == "en")
        .expect("every rule is explained")
}
