//! R3: the transition to adulthood.
//!
//! - R3a: a child with an active toewijzing reaches the planning age (16y6m): `jeugdteam`
//!   plans the transition.
//! - R3b: a child with an active toewijzing reaches the handoff age (17y6m): a warm-handoff
//!   task `jeugdteam` → `volwassenen`, due on the 18th birthday, escalated to `doorbraak` after
//!   the escalation delay; cancelled when care ends before 18.
//! - R3c: the 18th birthday passes while care ends at 18 with no follow-up, or runs past 18
//!   without a verlengde-jeugdhulp decision.
//! - R3d: a youth in education without a startkwalificatie reaches the handoff age: task
//!   `leerplicht` → `rmc`, due on the 18th birthday; cancelled when a startkwalificatie is
//!   obtained before then.
//!
//! Each fires once per child (the episode is the child's coming of age).

use super::{Cx, Plan, Rule, Want};
use crate::state::{gemeente_code, plus_days, Assignment};

pub fn wants(cx: &mut Cx<'_>, out: &mut Vec<Want>) {
    let p = &cx.policy.adulthood;
    let (planning, handoff, adult) = (
        cx.age(p.planning_age),
        cx.age(p.handoff_age),
        cx.age(p.adult_age),
    );
    let day = cx.day;
    let remind = plus_days(adult, -cx.policy.handoff.remind_days_before_due);
    let escalate = plus_days(adult, p.escalation_days);
    let grace_end = plus_days(adult, p.follow_up_grace_days);
    let in_education = cx.state.enrolments().next().is_some();
    let has_care = cx.state.assignments().next().is_some();
    if !has_care && !in_education {
        return;
    }
    for d in [planning, handoff, remind, adult, escalate] {
        cx.wake(d);
    }

    if has_care {
        let starts: Vec<_> = cx.state.assignments().map(|a| a.ingang).collect();
        for s in starts {
            if s <= grace_end {
                cx.wake(s);
            }
        }
        let active: Vec<&Assignment> = cx
            .state
            .assignments()
            .filter(|a| a.active_on(day))
            .collect();
        let care_plan = |care: &[&Assignment], to, escalate_to, policy| Plan {
            to,
            escalate_to,
            institution: care
                .first()
                .map(|a| format!("gemeente:{}", gemeente_code(a.gemeente))),
            facts: care.iter().map(|a| a.id.to_string()).collect(),
            policy,
            ..Plan::default()
        };

        // R3a
        let open = planning <= day && day < handoff && !active.is_empty();
        out.push(cx.want(Rule::R3a, 0, open, false, || {
            care_plan(
                &active,
                Rule::R3a.recipients(),
                &[],
                &["adulthood.planning_age"],
            )
        }));

        // R3b
        let last_minor_day = adult.yesterday().unwrap_or(adult);
        let handoff_care: Vec<&Assignment> = cx
            .state
            .assignments()
            .filter(|a| a.active_between(handoff, adult))
            .collect();
        let care_ended = day < adult
            && !cx
                .state
                .assignments()
                .any(|a| a.active_between(day, last_minor_day));
        let open = handoff <= day && day < adult && !active.is_empty();
        let moot = care_ended || cx.moved_away();
        out.push(cx.want(Rule::R3b, 0, open, moot, || Plan {
            remind: Some(remind),
            due: Some(adult),
            overdue: true,
            escalate: Some(escalate),
            ..care_plan(
                if active.is_empty() {
                    &handoff_care
                } else {
                    &active
                },
                Rule::R3b.recipients(),
                &["doorbraak", "jeugdteam", "volwassenen"],
                &[
                    "adulthood.handoff_age",
                    "adulthood.adult_age",
                    "handoff.remind_days_before_due",
                    "adulthood.escalation_days",
                ],
            )
        }));

        // R3c
        let minor_care: Vec<&Assignment> = cx
            .state
            .assignments()
            .filter(|a| a.active_between(handoff, last_minor_day))
            .collect();
        let follow_up = minor_care
            .iter()
            .any(|a| a.verlengd && a.last_day().is_none_or(|e| e > adult));
        let open = adult <= day && day <= grace_end && !minor_care.is_empty() && !follow_up;
        out.push(cx.want(Rule::R3c, 0, open, false, || {
            care_plan(
                &minor_care,
                Rule::R3c.recipients(),
                &[],
                &["adulthood.adult_age", "adulthood.follow_up_grace_days"],
            )
        }));
    }

    // R3d
    if in_education {
        let qualified = cx
            .state
            .enrolments()
            .find(|e| e.startkwalificatie && e.end.is_none_or(|end| end <= day));
        let last = cx.state.enrolments().max_by_key(|e| e.start);
        let open = handoff <= day && day < adult && qualified.is_none();
        let moot = qualified.is_some() || cx.moved_away();
        out.push(cx.want(Rule::R3d, 0, open, moot, || {
            let mut facts: Vec<String> = last.iter().map(|e| e.id.to_owned()).collect();
            facts.extend(qualified.map(|e| e.id.to_owned()));
            Plan {
                remind: Some(remind),
                due: Some(adult),
                overdue: true,
                to: Rule::R3d.recipients(),
                institution: last.map(|e| e.school.institution()),
                facts,
                policy: &[
                    "adulthood.handoff_age",
                    "adulthood.adult_age",
                    "handoff.remind_days_before_due",
                ],
                ..Plan::default()
            }
        }));
    }
}
