//! What if the policy changed: the same inputs folded under the region's policy and under
//! another, side by side in one pass, and what differs between the signal steps they fire, as
//! counts only (no child ever appears), with small numbers suppressed.
//!
//! A step is matched across the two sides by (child, rule, step): the n-th occurrence on one
//! side with the n-th on the other. One on one side only *appeared* (under the other policy)
//! or *disappeared*; a matched pair on different days *moved* earlier or later. Counts go by
//! rule, step, municipality and month (of the day under the other policy, or of the base
//! day for what disappeared), and the workload by role: tasks opened and escalations.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
pub use schakel_core::domain::whatif::{Change, ChangeRow, Report, Shown, WorkloadRow};

use crate::policy::Policy;
use crate::{Engine, Input};

/// One step as fired: what is compared, and where it counts (names as [`Names`] ids).
#[derive(Debug, Clone)]
struct Fired {
    on: Date,
    municipality: u32,
    task: bool,
    recipients: Box<[u32]>,
}

/// Rules, steps, municipalities and roles are few: each is kept once and named by its number.
#[derive(Default)]
struct Names {
    all: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Names {
    fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.ids.get(name) {
            return *id;
        }
        let id = self.all.len() as u32;
        self.all.push(name.to_owned());
        self.ids.insert(name.to_owned(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        &self.all[id as usize]
    }
}

/// A step's identity across the sides: (a hash of the child key, rule, step).
type StepKey = (u64, u32, u32);

/// Both folds, side by side.
pub struct WhatIf {
    base: Engine,
    other: Engine,
    from: Date,
    to: Date,
    names: Names,
    /// (child, rule, step) → the steps each side fired, in order
    fired: HashMap<StepKey, [Vec<Fired>; 2]>,
    inputs: u64,
}

impl WhatIf {
    /// Compares `other` with `base` for the steps fired from `from` to `to` (both included).
    pub fn new(base: Policy, other: Policy, from: Date, to: Date) -> Self {
        Self {
            base: Engine::new(base),
            other: Engine::new(other),
            from,
            to,
            names: Names::default(),
            fired: HashMap::new(),
            inputs: 0,
        }
    }

    /// Folds one input into both sides (a refused answer changes neither).
    pub fn apply(&mut self, input: &Input) {
        self.inputs += 1;
        for (side, engine) in [&mut self.base, &mut self.other].into_iter().enumerate() {
            for s in engine.apply(input).unwrap_or_default() {
                if s.fired_on < self.from || s.fired_on > self.to {
                    continue;
                }
                let key = (
                    crate::state::fnv64(&[s.child_key.as_str().as_bytes()]),
                    self.names.id(&s.rule),
                    self.names.id(&s.step),
                );
                let f = Fired {
                    on: s.fired_on,
                    municipality: self
                        .names
                        .id(s.municipality.as_deref().unwrap_or("onbekend")),
                    task: s.task,
                    recipients: s.recipients.iter().map(|r| self.names.id(r)).collect(),
                };
                self.fired.entry(key).or_default()[side].push(f);
            }
        }
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

    /// (rule, step, municipality, month, change, count) of every change.
    fn rows(&self) -> Vec<(String, String, String, String, Change, u64)> {
        let mut changes: BTreeMap<(String, String, String, String, Change), u64> = BTreeMap::new();
        for ((_, rule, step), [base, other]) in &self.fired {
            let (rule, step) = (self.names.name(*rule), self.names.name(*step));
            let n = base.len().max(other.len());
            for i in 0..n {
                let (change, at) = match (base.get(i), other.get(i)) {
                    (Some(a), Some(b)) if a.on == b.on => continue,
                    (Some(a), Some(b)) if b.on < a.on => (Change::MovedEarlier, b),
                    (Some(_), Some(b)) => (Change::MovedLater, b),
                    (None, Some(b)) => (Change::Appeared, b),
                    (Some(a), None) => (Change::Disappeared, a),
                    (None, None) => continue,
                };
                let month = format!("{:04}-{:02}", at.on.year(), at.on.month());
                *changes
                    .entry((
                        rule.to_owned(),
                        step.to_owned(),
                        self.names.name(at.municipality).to_owned(),
                        month,
                        change,
                    ))
                    .or_default() += 1;
            }
        }
        changes
            .into_iter()
            .map(|((r, s, m, mo, c), n)| (r, s, m, mo, c, n))
            .collect()
    }

    /// What differs.
    pub fn report(&self) -> Report {
        let mut workload: BTreeMap<String, [[u64; 2]; 2]> = BTreeMap::new();
        let mut totals = [0u64; 2];
        for ((_, _, step), [base, other]) in &self.fired {
            let step = self.names.name(*step);
            totals[0] += base.len() as u64;
            totals[1] += other.len() as u64;
            for (side, list) in [base, other].into_iter().enumerate() {
                for f in list {
                    let kind = match step {
                        "opened" if f.task => 0,
                        "escalated" => 1,
                        _ => continue,
                    };
                    for role in f.recipients.iter() {
                        workload
                            .entry(self.names.name(*role).to_owned())
                            .or_default()[kind][side] += 1;
                    }
                }
            }
        }
        Report {
            from: self.from,
            to: self.to,
            inputs: self.inputs,
            steps_base: totals[0],
            steps_other: totals[1],
            changes: self
                .rows()
                .into_iter()
                .map(|(rule, step, municipality, month, change, n)| ChangeRow {
                    rule,
                    step,
                    municipality,
                    month,
                    change,
                    count: Shown::of(n),
                })
                .collect(),
            workload: workload
                .into_iter()
                .filter(|(_, [o, e])| o[0] != o[1] || e[0] != e[1])
                .map(|(role, [opened, escalated])| WorkloadRow {
                    role,
                    tasks_opened_base: Shown::of(opened[0]),
                    tasks_opened_other: Shown::of(opened[1]),
                    tasks_opened_difference: Shown::diff(opened[0], opened[1]),
                    escalations_base: Shown::of(escalated[0]),
                    escalations_other: Shown::of(escalated[1]),
                    escalations_difference: Shown::diff(escalated[0], escalated[1]),
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
        assert!(r.changes.iter().all(|c| c.count == Shown::Small));
        assert!(r.workload.is_empty(), "as many tasks, a month earlier");
        assert!(!r.text().contains("y3") && !r.csv().contains("2008"));
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
    }
}
