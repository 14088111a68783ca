//! R1: from voorschool to primary school, and the start of leerplicht.
//!
//! - R1a: a VVE child reaches 3y6m and a PO aanmelding or inschrijving is known: handoff task
//!   `vve-mentor` → school `ib`, due at the PO start (the enrolment's start date, else the
//!   4th birthday), escalated to `vve-coordinator` 10 school days after it.
//! - R1b: a VVE child reaches 3y10m with no PO aanmelding or inschrijving: `vve-mentor` and
//!   `vve-coordinator`; resolved when one becomes known.
//! - R1c: the child is leerplichtig (first of the month after the 5th birthday) and enrolled
//!   nowhere: `leerplicht` of residence; resolved by an enrolment or a vrijstelling.
//!
//! A toddler's aanmelding is a PO aanmelding; one that its school turned down
//! (admission-decided `afgewezen`) no longer counts.

use jiff::civil::Date;

use super::{Cx, Plan, Rule, Want};
use crate::state::{plus_days, plus_school_days, Fact, School, Sector};

/// The VVE placement the child is in (or was in on `on`).
fn vve_placement<'a>(cx: &Cx<'a>, on: Date) -> Option<(u32, &'a str)> {
    cx.state.facts.iter().find_map(|f| match f {
        Fact::Placement {
            lrk,
            vve: true,
            start,
            end,
            id,
        } if *start <= on && end.is_none_or(|e| e >= on) => Some((*lrk, &**id)),
        _ => None,
    })
}

/// The earliest PO aanmelding or inschrijving that still stands: (school, its start date if
/// it is an inschrijving, fact id).
fn po_application<'a>(cx: &Cx<'a>) -> Option<(School, Option<Date>, &'a str)> {
    let rejected = |s: &School| {
        cx.state.facts.iter().any(|f| {
            matches!(f, Fact::Admission { school, accepted: false, .. } if school.same_school(s))
        })
    };
    let mut best: Option<(Date, School, Option<Date>, &'a str)> = None;
    for f in &cx.state.facts {
        let cand = match f {
            Fact::Application { school, date, id } if !rejected(school) => {
                Some((*date, *school, None, &**id))
            }
            Fact::Enrolment {
                school,
                sector: Sector::Primary,
                start,
                id,
                ..
            } => Some((*start, *school, Some(*start), &**id)),
            _ => None,
        };
        if let Some(c) = cand {
            if best.as_ref().is_none_or(|b| c.0 < b.0) {
                best = Some(c);
            }
        }
    }
    // an inschrijving at the school of the aanmelding gives the start date
    best.map(|(_, school, start, id)| {
        let start = start.or_else(|| {
            cx.state
                .enrolments()
                .find(|e| e.sector == Sector::Primary && e.school.same_school(&school))
                .map(|e| e.start)
        });
        (school, start, id)
    })
}

pub fn wants(cx: &mut Cx<'_>, out: &mut Vec<Want>) {
    let p = &cx.policy.voorschool;
    let day = cx.day;
    let has_placement = cx
        .state
        .facts
        .iter()
        .any(|f| matches!(f, Fact::Placement { vve: true, .. }));
    if has_placement {
        let (t_handoff, t_none, t_start) = (
            cx.age(p.handoff_age),
            cx.age(p.no_application_age),
            cx.age(p.po_start_age),
        );
        let starts: Vec<Date> = cx
            .state
            .facts
            .iter()
            .filter_map(|f| match f {
                Fact::Placement { start, .. } => Some(*start),
                _ => None,
            })
            .collect();
        for d in [t_handoff, t_none, t_start].into_iter().chain(starts) {
            cx.wake(d);
        }
        let application = po_application(cx);
        let vve_on = |d: Date| vve_placement(cx, d.min(day));

        // R1a
        if let Some((school, start, app_id)) = application {
            let due = start.unwrap_or(t_start);
            let vve = vve_on(day);
            let open = vve.is_some() && t_handoff <= day && day < due;
            let plan = || {
                let mut facts = vec![app_id.to_owned()];
                let mut routes = vec![("ib", school.institution())];
                if let Some((lrk, id)) = vve.or_else(|| vve_on(t_handoff)) {
                    facts.insert(0, id.to_owned());
                    routes.push(("vve-mentor", format!("lrk:{lrk}")));
                }
                Plan {
                    remind: Some(plus_days(due, -cx.policy.handoff.remind_days_before_due)),
                    due: Some(due),
                    overdue: true,
                    escalate: Some(plus_school_days(due, p.escalation_school_days)),
                    to: Rule::R1a.recipients(),
                    escalate_to: &["vve-coordinator", "vve-mentor", "ib"],
                    institution: Some(school.institution()),
                    routes,
                    facts,
                    policy: &[
                        "voorschool.handoff_age",
                        "voorschool.po_start_age",
                        "handoff.remind_days_before_due",
                        "voorschool.escalation_school_days",
                    ],
                }
            };
            out.push(cx.want(Rule::R1a, 0, open, cx.moved_away(), plan));
        } else if cx.state.has_open_track(Rule::R1a) {
            // the aanmelding was turned down: the task is moot
            out.push(Want {
                rule: Rule::R1a,
                episode: 0,
                open: false,
                moot: true,
                plan: Plan {
                    to: Rule::R1a.recipients(),
                    ..Plan::default()
                },
            });
        }

        // R1b
        let vve = vve_on(t_none);
        let open = vve.is_some() && t_none <= day && day < t_start && application.is_none();
        out.push(cx.want(Rule::R1b, 0, open, application.is_some(), || {
            let lrk = vve.map(|(lrk, _)| format!("lrk:{lrk}"));
            Plan {
                to: Rule::R1b.recipients(),
                institution: lrk.clone(),
                routes: lrk.into_iter().map(|l| ("vve-mentor", l)).collect(),
                facts: vve.map(|(_, id)| id.to_owned()).into_iter().collect(),
                policy: &["voorschool.no_application_age"],
                ..Plan::default()
            }
        }));
    }

    // R1c
    let lp = cx.leerplicht_start();
    let window_end = plus_days(lp, cx.policy.leerplicht.late_window_days);
    if day < lp {
        cx.wake(lp);
    }
    for v in &cx.state.facts {
        if let Fact::Vrijstelling { until: Some(u), .. } = v {
            cx.wake(plus_days(*u, 1));
        }
    }
    let covered = cx.state.enrolled_from(day) || cx.state.exempt_on(day);
    let in_window = lp <= day && day <= window_end;
    if in_window || cx.state.track(Rule::R1c, 0).is_some() {
        out.push(cx.want(Rule::R1c, 0, in_window && !covered, covered, || {
            Plan {
                to: Rule::R1c.recipients(),
                facts: cx
                    .state
                    .first_fact()
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
                policy: &["leerplicht.start_age", "leerplicht.late_window_days"],
                ..Plan::default()
            }
        }));
    }
}
