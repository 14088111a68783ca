//! What if the policy changed: the same inputs folded under the region's policy and under
//! another, side by side in one pass, and what differs between the signal steps they fire, as
//! counts only (no child ever appears), with small numbers suppressed.
//!
//! A step is matched across the two sides by (child, rule, step): the n-th occurrence on one
//! side with the n-th on the other. One on one side only *appeared* (under the other policy)
//! or *disappeared*; a matched pair on different days *moved* earlier or later. Counts go by
//! rule, step, municipality and month (of the day under the other policy, or of the base
//! day for what disappeared), and the workload by role: tasks opened and escalations.
//!
//! Folding only notes each step as it fires, in order, per side; the matching waits for the
//! report, where sorting both lists once is cheaper than keeping a table up to date per step.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use jiff::civil::Date;
use schakel_core::domain::events::SignalEvent;
pub use schakel_core::domain::whatif::{Change, ChangeRow, Report, Shown, Suppress, WorkloadRow};

use crate::engine::{key_of, Key};
use crate::policy::Policy;
use crate::{Engine, Input};

/// What a step adds to the workload of its recipients.
#[derive(Debug, Clone, Copy)]
enum Work {
    TaskOpened = 0,
    Escalation = 1,
}

impl Work {
    fn of(s: &SignalEvent) -> Option<Self> {
        match s.step.as_str() {
            "opened" if s.task => Some(Work::TaskOpened),
            "escalated" => Some(Work::Escalation),
            _ => None,
        }
    }
}

/// One step as fired: its identity across the sides (child, rule, step), its day, and where
/// it counts (names as [`Names`] ids).
#[derive(Debug, Clone, Copy)]
struct Fired {
    child: Key,
    rule: u32,
    step: u32,
    on: Date,
    municipality: u32,
    /// the workload it adds to, and the roles it adds it to (an index into `WhatIf::lists`)
    work: Option<(Work, u32)>,
}

impl Fired {
    fn id(&self) -> (&Key, u32, u32) {
        (&self.child, self.rule, self.step)
    }
}

/// Names of one kind (rules, steps, municipalities or roles), each kept once and named by its
/// number. The policy and the region bound them to a few dozen: a scan finds one sooner than
/// hashing the name would.
#[derive(Default)]
struct Names(Vec<String>);

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.0.iter().position(|n| n == name) {
            return id as u32;
        }
        self.0.push(name.to_owned());
        (self.0.len() - 1) as u32
    }

    fn name(&self, id: u32) -> &str {
        &self.0[id as usize]
    }

    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Both folds, side by side.
pub struct WhatIf {
    base: Engine,
    other: Engine,
    from: Date,
    to: Date,
    rules: Names,
    steps: Names,
    municipalities: Names,
    roles: Names,
    /// the distinct lists of recipients (role ids) of the steps that count as workload
    lists: Vec<Box<[u32]>>,
    /// the steps each side fired from `from` to `to`, in order
    fired: [Vec<Fired>; 2],
    inputs: u64,
    /// a list of role ids being looked up
    scratch: Vec<u32>,
}

impl WhatIf {
    /// Compares `other` with `base` for the steps fired from `from` to `to` (both included).
    pub fn new(base: Policy, other: Policy, from: Date, to: Date) -> Self {
        Self {
            base: Engine::new(base),
            other: Engine::new(other),
            from,
            to,
            rules: Names::default(),
            steps: Names::default(),
            municipalities: Names::default(),
            roles: Names::default(),
            lists: Vec::new(),
            fired: [Vec::new(), Vec::new()],
            inputs: 0,
            scratch: Vec::new(),
        }
    }

    /// Folds one input into both sides (a refused answer changes neither).
    pub fn apply(&mut self, input: &Input) {
        self.apply_all(std::slice::from_ref(input));
    }

    /// Folds inputs in order into both sides: all of them into one, then all into the other.
    /// Each side's steps keep their order, so the report is that of input by input; and an
    /// engine that takes a long turn finds more of its own state still in the cache.
    pub fn apply_all(&mut self, inputs: &[Input]) {
        self.inputs += inputs.len() as u64;
        for input in inputs {
            let fired = self.base.apply(input).unwrap_or_default();
            self.note(0, &fired);
        }
        for input in inputs {
            let fired = self.other.apply(input).unwrap_or_default();
            self.note(1, &fired);
        }
    }

    /// Notes the steps one side fired.
    fn note(&mut self, side: usize, fired: &[SignalEvent]) {
        for s in fired {
            if s.fired_on < self.from || s.fired_on > self.to {
                continue;
            }
            let work = Work::of(s).map(|w| (w, self.list(&s.recipients)));
            let f = Fired {
                child: key_of(&s.child_key),
                rule: self.rules.id(&s.rule),
                step: self.steps.id(&s.step),
                on: s.fired_on,
                municipality: self
                    .municipalities
                    .id(s.municipality.as_deref().unwrap_or("onbekend")),
                work,
            };
            self.fired[side].push(f);
        }
    }

    /// The index of a list of recipients in `lists` (there are few distinct ones).
    fn list(&mut self, recipients: &[String]) -> u32 {
        self.scratch.clear();
        for r in recipients {
            self.scratch.push(self.roles.id(r));
        }
        if let Some(i) = self.lists.iter().position(|l| **l == *self.scratch) {
            return i as u32;
        }
        self.lists.push(self.scratch.as_slice().into());
        (self.lists.len() - 1) as u32
    }

    /// How many inputs were folded.
    pub fn inputs(&self) -> u64 {
        self.inputs
    }

    /// Exact counts per (rule, step, change), before any suppression: for callers that
    /// aggregate further (and tests); never show them as they are.
    pub fn exact_changes(&self) -> BTreeMap<(String, String, Change), u64> {
        let mut out = BTreeMap::new();
        for row in self.rows() {
            *out.entry((row.0, row.1, row.4)).or_default() += row.5;
        }
        out
    }

    /// Calls `pair` with the n-th step on each side of every (child, rule, step), for every n
    /// (`None` where one side fired fewer).
    fn pairs(&self, mut pair: impl FnMut(Option<&Fired>, Option<&Fired>)) {
        // each side's steps by identity; a stable sort keeps those of one identity in the
        // order they fired
        let by_id = |side: &[Fired]| {
            let mut order: Vec<u32> = (0..side.len() as u32).collect();
            order.sort_by(|a, b| side[*a as usize].id().cmp(&side[*b as usize].id()));
            order
        };
        let [base, other] = &self.fired;
        let (a, b) = (by_id(base), by_id(other));
        let (mut i, mut j) = (0, 0);
        loop {
            let (x, y) = (
                a.get(i).map(|k| &base[*k as usize]),
                b.get(j).map(|k| &other[*k as usize]),
            );
            let order = match (x, y) {
                (Some(x), Some(y)) => x.id().cmp(&y.id()),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => return,
            };
            match order {
                Ordering::Less => {
                    pair(x, None);
                    i += 1;
                }
                Ordering::Greater => {
                    pair(None, y);
                    j += 1;
                }
                Ordering::Equal => {
                    pair(x, y);
                    i += 1;
                    j += 1;
                }
            }
        }
    }

    /// (rule, step, municipality, month, change, count) of every change.
    fn rows(&self) -> Vec<(String, String, String, String, Change, u64)> {
        // by ids first, by names once at the end
        let mut counts: BTreeMap<(u32, u32, u32, i16, i8, Change), u64> = BTreeMap::new();
        self.pairs(|base, other| {
            let (change, at) = match (base, other) {
                (Some(a), Some(b)) if a.on == b.on => return,
                (Some(a), Some(b)) if b.on < a.on => (Change::MovedEarlier, b),
                (Some(_), Some(b)) => (Change::MovedLater, b),
                (None, Some(b)) => (Change::Appeared, b),
                (Some(a), None) => (Change::Disappeared, a),
                (None, None) => return,
            };
            let key = (
                at.rule,
                at.step,
                at.municipality,
                at.on.year(),
                at.on.month(),
                change,
            );
            *counts.entry(key).or_default() += 1;
        });
        let mut changes: BTreeMap<(String, String, String, String, Change), u64> = BTreeMap::new();
        for ((rule, step, municipality, year, month, change), n) in counts {
            *changes
                .entry((
                    self.rules.name(rule).to_owned(),
                    self.steps.name(step).to_owned(),
                    self.municipalities.name(municipality).to_owned(),
                    format!("{year:04}-{month:02}"),
                    change,
                ))
                .or_default() += n;
        }
        changes
            .into_iter()
            .map(|((r, s, m, mo, c), n)| (r, s, m, mo, c, n))
            .collect()
    }

    /// What differs.
    pub fn report(&self) -> Report {
        // role id → [tasks opened, escalations] × [base, other]
        let mut by_role = vec![[[0u64; 2]; 2]; self.roles.len()];
        for (side, fired) in self.fired.iter().enumerate() {
            for (work, list) in fired.iter().filter_map(|f| f.work) {
                for role in self.lists[list as usize].iter() {
                    by_role[*role as usize][work as usize][side] += 1;
                }
            }
        }
        let workload: BTreeMap<&str, [[u64; 2]; 2]> = by_role
            .into_iter()
            .enumerate()
            .map(|(role, counts)| (self.roles.name(role as u32), counts))
            .collect();
        // the region's threshold for small counts, as its dashboard uses it
        let s = Suppress(self.base.policy().monitoring.suppression.min_count);
        Report {
            from: self.from,
            to: self.to,
            inputs: self.inputs,
            suppressed_below: s.0,
            steps_base: s.count(self.fired[0].len() as u64),
            steps_other: s.count(self.fired[1].len() as u64),
            changes: self
                .rows()
                .into_iter()
                .map(|(rule, step, municipality, month, change, n)| ChangeRow {
                    rule,
                    step,
                    municipality,
                    month,
                    change,
                    count: s.count(n),
                })
                .collect(),
            workload: workload
                .into_iter()
                .filter(|(_, [o, e])| o[0] != o[1] || e[0] != e[1])
                .map(|(role, [opened, escalated])| WorkloadRow {
                    role: role.to_owned(),
                    tasks_opened_base: s.count(opened[0]),
                    tasks_opened_other: s.count(opened[1]),
                    tasks_opened_difference: s.diff(opened[0], opened[1]),
                    escalations_base: s.count(escalated[0]),
                    escalations_other: s.count(escalated[1]),
                    escalations_difference: s.diff(escalated[0], escalated[1]),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn golden() -> Vec<Scenario> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| Scenario::load(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
            .collect()
    }

    fn compare(s: &Scenario, other: Policy) -> Report {
        let mut w = WhatIf::new(
            s.policy.clone(),
            other,
            jiff::civil::date(1900, 1, 1),
            jiff::civil::date(2199, 12, 31),
        );
        for i in &s.inputs {
            w.apply(i);
        }
        w.report()
    }

    #[test]
    fn the_same_policy_changes_nothing_in_any_golden_scenario() {
        let all = golden();
        assert!(all.len() > 40, "every rule's scenarios: {}", all.len());
        let mut rules = std::collections::BTreeSet::new();
        for s in &all {
            let r = compare(s, s.policy.clone());
            assert!(r.is_empty(), "{}: {}", s.description, r.text());
            assert_eq!(r.steps_base, r.steps_other);
            rules.extend(s.expect.iter().map(|e| e.rule.clone()));
        }
        for rule in [
            "R1a", "R1b", "R1c", "R2a", "R2b", "R2c", "R3a", "R3b", "R3c", "R4", "R5", "R6",
        ] {
            assert!(
                rules.iter().any(|r| r.starts_with(rule)),
                "a scenario fires {rule}"
            );
        }
    }

    /// Six youths in care turning 17y6m from September 2025 to February 2026, ticked daily.
    fn six_youths() -> Scenario {
        let mut text = String::from("description = \"six youths in care\"\n");
        for m in 3..=8 {
            text.push_str(&format!(
                "[[child]]\nname = \"y{m}\"\nbirth_date = \"2008-{m:02}-10\"\nresidence = \"0392\"\n\
                 [[input]]\nassignment = {{ child = \"y{m}\", id = \"e{m}\", nummer = \"T{m}\", ingang = \"2024-01-01\", stamp = \"2024-01-01T09:00:00Z\", gemeente = \"0392\" }}\n"
            ));
        }
        text.push_str("[[input]]\nticks = { from = \"2024-06-01\", to = \"2026-12-31\" }\n");
        Scenario::parse(&text).unwrap()
    }

    #[test]
    fn a_month_earlier_handoff_moves_exactly_the_r3b_openings() {
        let s = six_youths();
        let mut other = s.policy.clone();
        other.adulthood.handoff_age = crate::policy::Age::new(17, 5);
        let mut w = WhatIf::new(
            s.policy.clone(),
            other,
            jiff::civil::date(2025, 1, 1),
            jiff::civil::date(2026, 12, 31),
        );
        for i in &s.inputs {
            w.apply(i);
        }
        let exact = w.exact_changes();
        assert_eq!(
            exact.into_iter().collect::<Vec<_>>(),
            [(
                ("R3b".to_owned(), "opened".to_owned(), Change::MovedEarlier),
                6
            )],
            "{}",
            w.report().text()
        );
        let r = w.report();
        // one youth a month: each month's count is small
        assert_eq!(r.changes.len(), 6);
        assert!(r.changes.iter().all(|c| c.count == Shown::Small(5)));
        assert!(r.workload.is_empty(), "as many tasks, a month earlier");
        assert!(!r.text().contains("y3") && !r.csv().contains("2008"));

        // a region that hides counts below 10 on its dashboard hides them here too
        let mut strict = s.policy.clone();
        strict.monitoring.suppression.min_count = 10;
        let mut other = strict.clone();
        other.adulthood.handoff_age = crate::policy::Age::new(17, 5);
        let mut w = WhatIf::new(
            strict,
            other,
            jiff::civil::date(2025, 1, 1),
            jiff::civil::date(2026, 12, 31),
        );
        for i in &s.inputs {
            w.apply(i);
        }
        let r = w.report();
        assert_eq!(r.suppressed_below, 10);
        assert!(r.changes.iter().all(|c| c.count == Shown::Small(10)));
        assert!(r.text().contains("<10"), "{}", r.text());
    }

    #[test]
    fn switching_r6_on_adds_exactly_its_signals() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
        let on = Scenario::load(&dir.join("r6_enabled_fires_once_per_melding.toml")).unwrap();
        assert!(on.policy.verzuim_jeugdhulp.enabled);
        let mut off = on.policy.clone();
        off.verzuim_jeugdhulp.enabled = false;
        let mut w = WhatIf::new(
            off,
            on.policy.clone(),
            jiff::civil::date(1900, 1, 1),
            jiff::civil::date(2199, 12, 31),
        );
        for i in &on.inputs {
            w.apply(i);
        }
        let mut want: BTreeMap<(String, String, Change), u64> = BTreeMap::new();
        for e in on.expect.iter().filter(|e| e.rule == "R6") {
            *want
                .entry((e.rule.clone(), e.step.clone(), Change::Appeared))
                .or_default() += 1;
        }
        assert!(!want.is_empty());
        assert_eq!(w.exact_changes(), want, "{}", w.report().text());
    }

    #[test]
    fn small_counts_and_differences_are_hidden() {
        assert_eq!(Shown::of(0).to_string(), "0");
        assert_eq!(Shown::of(4).to_string(), "<5");
        assert_eq!(Shown::of(5).to_string(), "5");
        assert_eq!(Shown::diff(10, 13).to_string(), "<5");
        assert_eq!(Shown::diff(13, 10).to_string(), "<5");
        assert_eq!(Shown::diff(10, 20).to_string(), "10");
        assert_eq!(Shown::diff(20, 10).to_string(), "-10");
        assert_eq!(Shown::diff(7, 7).to_string(), "0");
        // beside a small count a difference would give it away
        assert_eq!(Shown::diff(20, 3), Shown::Hidden);
        assert_eq!(Shown::diff(2, 30), Shown::Hidden);
        assert_eq!(Shown::diff(0, 3), Shown::Hidden);
        assert_eq!(Shown::diff(0, 0).to_string(), "0");
        // a region that hides counts below 10
        let s = Suppress(10);
        assert_eq!(s.count(9).to_string(), "<10");
        assert_eq!(s.count(10).to_string(), "10");
        assert_eq!(s.diff(30, 37).to_string(), "<10");
        assert_eq!(s.diff(30, 7), Shown::Hidden);
    }
}
