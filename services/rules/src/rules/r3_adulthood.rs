//! R3: the transition from youth care to adulthood.
//!
//! - R3a: a child with an active toewijzing reaches the planning age (16y6m): `jeugdteam`
//!   plans the transition.
//! - R3b: a child with an active toewijzing reaches the handoff age (17y6m): a warm-handoff
//!   task `jeugdteam` → `volwassenen`, due on the 18th birthday; `reminded` before it, `overdue`
//!   at it and `escalated` to `doorbraak` after the escalation delay.
//! - R3c: the 18th birthday passes while care ends at 18 with no follow-up, or runs past 18
//!   without a verlengde-jeugdhulp decision.
//!
//! Each fires once per child (the episode is the child's coming of age), on the first tick in
//! its window; a fact that arrives late fires on the next tick.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::ToSpan;
use schakel_core::policy::Policy;

use super::Rule;
use crate::signal::{Emit, Step};
use crate::state::{Assignment, ChildState};

const EPISODE: &str = "adulthood";

/// The dates R3 works with for one child.
struct Dates {
    planning: Date,
    handoff: Date,
    adult: Date,
    remind: Date,
    escalate: Date,
    grace_end: Date,
}

fn dates(state: &ChildState, policy: &Policy) -> Dates {
    let p = &policy.adulthood;
    let adult = state.birth.reaches(p.adult_age.years, p.adult_age.months);
    Dates {
        planning: state
            .birth
            .reaches(p.planning_age.years, p.planning_age.months),
        handoff: state
            .birth
            .reaches(p.handoff_age.years, p.handoff_age.months),
        adult,
        remind: adult.saturating_sub(i64::from(policy.handoff.remind_days_before_due).days()),
        escalate: adult.saturating_add(i64::from(p.escalation_days).days()),
        grace_end: adult.saturating_add(i64::from(p.follow_up_grace_days).days()),
    }
}

fn policy_values(policy: &Policy, keys: &[&str]) -> BTreeMap<String, String> {
    let p = &policy.adulthood;
    let all = [
        ("adulthood.planning_age", p.planning_age.to_string()),
        ("adulthood.handoff_age", p.handoff_age.to_string()),
        ("adulthood.adult_age", p.adult_age.to_string()),
        ("adulthood.escalation_days", p.escalation_days.to_string()),
        (
            "adulthood.follow_up_grace_days",
            p.follow_up_grace_days.to_string(),
        ),
        (
            "handoff.remind_days_before_due",
            policy.handoff.remind_days_before_due.to_string(),
        ),
    ];
    all.into_iter()
        .filter(|(k, _)| keys.contains(k))
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
}

/// The municipality that routes a signal: residence when known, else the one that assigned care.
fn municipality(state: &ChildState, care: &[&Assignment]) -> Option<String> {
    state
        .residence
        .clone()
        .or_else(|| care.first().map(|a| a.gemeente.clone()))
}

/// The child and policy a step is emitted for.
struct Ctx<'a> {
    state: &'a ChildState,
    policy: &'a Policy,
}

impl Ctx<'_> {
    fn emit(
        &self,
        (rule, step): (Rule, Step),
        care: &[&Assignment],
        due: Option<Date>,
        recipients: Vec<&'static str>,
        policy_keys: &[&str],
    ) -> Emit {
        Emit {
            rule,
            step,
            episode: EPISODE.to_owned(),
            institution: care.first().map(|a| format!("gemeente:{}", a.gemeente)),
            municipality: municipality(self.state, care),
            due,
            recipients,
            task: rule == Rule::R3b,
            facts: care.iter().map(|a| a.fact.clone()).collect(),
            policy: policy_values(self.policy, policy_keys),
        }
    }
}

/// Everything R3 should emit on day `today`, in order.
pub fn evaluate(state: &ChildState, today: Date, policy: &Policy) -> Vec<Emit> {
    let d = dates(state, policy);
    let cx = Ctx { state, policy };
    let mut out = Vec::new();
    let active: Vec<&Assignment> = state
        .assignments
        .iter()
        .filter(|a| a.active_on(today))
        .collect();

    if !state.has_fired(Rule::R3a, Step::Opened)
        && d.planning <= today
        && today < d.handoff
        && !active.is_empty()
    {
        out.push(cx.emit(
            (Rule::R3a, Step::Opened),
            &active,
            None,
            vec!["jeugdteam"],
            &["adulthood.planning_age"],
        ));
    }

    let handoff_opened = state.has_fired(Rule::R3b, Step::Opened);
    if !handoff_opened && d.handoff <= today && today < d.adult && !active.is_empty() {
        out.push(cx.emit(
            (Rule::R3b, Step::Opened),
            &active,
            Some(d.adult),
            vec!["jeugdteam", "volwassenen"],
            &["adulthood.handoff_age", "adulthood.adult_age"],
        ));
    }
    if handoff_opened || out.iter().any(|e| e.rule == Rule::R3b) {
        let care: Vec<&Assignment> = state
            .assignments
            .iter()
            .filter(|a| a.active_between(d.handoff, d.adult))
            .collect();
        let steps = [
            (
                Step::Reminded,
                d.remind,
                vec!["jeugdteam", "volwassenen"],
                "handoff.remind_days_before_due",
            ),
            (
                Step::Overdue,
                d.adult,
                vec!["jeugdteam", "volwassenen"],
                "adulthood.adult_age",
            ),
            (
                Step::Escalated,
                d.escalate,
                vec!["doorbraak", "jeugdteam"],
                "adulthood.escalation_days",
            ),
        ];
        for (step, when, recipients, key) in steps {
            // a reminder after the due date is noise; the overdue step says more
            let late_reminder = step == Step::Reminded && today >= d.adult;
            if when <= today && !late_reminder && !state.has_fired(Rule::R3b, step) {
                out.push(cx.emit((Rule::R3b, step), &care, Some(d.adult), recipients, &[key]));
            }
        }
    }

    if !state.has_fired(Rule::R3c, Step::Opened) && d.adult <= today && today <= d.grace_end {
        let last_day_minor = d.adult.saturating_sub(1.day());
        let care: Vec<&Assignment> = state
            .assignments
            .iter()
            .filter(|a| a.active_between(d.handoff, last_day_minor))
            .collect();
        let follow_up = care
            .iter()
            .any(|a| a.verlengd && a.last_day().is_none_or(|e| e > d.adult));
        if !care.is_empty() && !follow_up {
            out.push(cx.emit(
                (Rule::R3c, Step::Opened),
                &care,
                None,
                vec!["jeugdteam", "volwassenen"],
                &["adulthood.adult_age", "adulthood.follow_up_grace_days"],
            ));
        }
    }
    out
}

/// The next day after `today` on which R3 may have something to say for this child.
pub fn next_wakeup(state: &ChildState, today: Date, policy: &Policy) -> Option<Date> {
    if state.assignments.is_empty() {
        return None;
    }
    let d = dates(state, policy);
    let starts = state.assignments.iter().map(|a| a.ingang);
    [d.planning, d.handoff, d.remind, d.adult, d.escalate]
        .into_iter()
        .chain(starts)
        .filter(|x| *x > today && *x <= d.grace_end)
        .min()
}
