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

use crate::state::{gemeente_code, ChildState};

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

    /// Whether the child lives outside the region on the day looked at.
    pub fn moved_away(&self) -> bool {
        self.state
            .residence_on(self.day)
            .is_some_and(|g| !self.policy.in_region(&gemeente_code(g)))
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
        let start = self.policy.school_year_dates(next).start;
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
    let en = lang == "en";
    match (rule, en) {
        (Rule::R1a, false) => "Een peuter met VVE-indicatie bereikte de overdrachtsleeftijd en er is een aanmelding of inschrijving bij een basisschool bekend: warme overdracht van de VVE-mentor naar de intern begeleider, uiterlijk bij de start op de basisschool.",
        (Rule::R1a, true) => "A toddler with a VVE indication reached the handoff age and a PO aanmelding or inschrijving is known: warm handoff from the VVE mentor to the school's IB, due at the start in primary school.",
        (Rule::R1b, false) => "Een peuter met VVE-indicatie bereikte de signaleringsleeftijd zonder bekende aanmelding bij een basisschool.",
        (Rule::R1b, true) => "A toddler with a VVE indication reached the signalling age with no known aanmelding at a primary school.",
        (Rule::R1c, false) => "Het kind is leerplichtig (eerste dag van de maand na de 5e verjaardag) en nergens ingeschreven: vermoeden van absoluut verzuim.",
        (Rule::R1c, true) => "The child is leerplichtig (first day of the month after the 5th birthday) and enrolled nowhere: absoluut verzuim suspected.",
        (Rule::R2a, false) => "Een leerling in groep 8 heeft op de peildatum geen aanmelding bij het voortgezet onderwijs; zonder aanmelding op de escalatiedatum gaat het signaal naar het samenwerkingsverband.",
        (Rule::R2a, true) => "A groep-8 pupil has no VO aanmelding on the deadline; still none on the escalation date, the signal goes to the samenwerkingsverband.",
        (Rule::R2b, false) => "Een leerling met een ondersteuningscontext (OPP, arrangement, TLV, OZA, kernteam of jeugdhulp) is toegelaten of ingeschreven in het voortgezet onderwijs: warme overdracht van de intern begeleider naar de zorgcoördinator.",
        (Rule::R2b, true) => "A pupil with a support context (OPP, arrangement, TLV, OZA, kernteam or youth care) was admitted to or enrolled in secondary school: warm handoff from the PO IB to the VO zorgcoördinator.",
        (Rule::R2c, false) => "Op de peildatum in het nieuwe schooljaar is de oud-leerling van groep 8 nergens ingeschreven: vermoeden van absoluut verzuim.",
        (Rule::R2c, true) => "On the check date of the new school year the former groep-8 pupil is enrolled nowhere: absoluut verzuim suspected.",
        (Rule::R3a, false) => "Een jongere met actieve jeugdhulp bereikte de planningsleeftijd: het jeugdteam plant de overgang naar 18+.",
        (Rule::R3a, true) => "A youth with active youth care reached the planning age: the jeugdteam plans the transition to 18+.",
        (Rule::R3b, false) => "Een jongere met actieve jeugdhulp bereikte de overdrachtsleeftijd: warme overdracht van het jeugdteam naar de volwassenenzorg, uiterlijk op de 18e verjaardag.",
        (Rule::R3b, true) => "A youth with active youth care reached the handoff age: warm handoff from the jeugdteam to adult care, due on the 18th birthday.",
        (Rule::R3c, false) => "De 18e verjaardag is voorbij terwijl de jeugdhulp op 18 eindigt zonder vervolg, of doorloopt zonder besluit over verlengde jeugdhulp.",
        (Rule::R3c, true) => "The 18th birthday passed while youth care ends at 18 without follow-up, or runs on without a verlengde-jeugdhulp decision.",
        (Rule::R3d, false) => "Een jongere in het onderwijs zonder startkwalificatie bereikte de overdrachtsleeftijd: warme overdracht van leerplicht naar RMC, uiterlijk op de 18e verjaardag.",
        (Rule::R3d, true) => "A youth in education without a startkwalificatie reached the handoff age: warm handoff from leerplicht to RMC, due on the 18th birthday.",
        (Rule::R4, false) => "Een thuiszitterperiode (LRV-melding, registratie of absoluut verzuim) duurt de minimale periode: herinnering na de herinneringstermijn, escalatie naar de doorbraaktafel zonder passend aanbod.",
        (Rule::R4, true) => "A thuiszitter episode (LRV melding, registration or absoluut verzuim) lasted the minimum period: reminder after the reminder term, escalation to the doorbraak table without passend aanbod.",
        (Rule::R5, false) => "Een leerplichtige leerling is uitgeschreven zonder bekende nieuwe inschrijving binnen de termijn.",
        (Rule::R5, true) => "A leerplichtig pupil was uitgeschreven with no new inschrijving known within the term.",
        (Rule::R6, false) => "Een verzuimmelding voor een jongere met actieve jeugdhulp (alleen waar het regionale beleid deze uitwisseling toestaat).",
        (Rule::R6, true) => "A verzuim melding for a youth with active youth care (only where the regional policy allows this exchange).",
    }
}
