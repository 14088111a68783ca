//! R5: a school change without a new school.
//!
//! An uitschrijving (enrolment-ended) of a child who is leerplichtig on its end date, with no
//! new inschrijving known `school_change_days` (7) later: `leerplicht` of residence. A new
//! inschrijving is any other enrolment that had not ended by the uitschrijving, even if it
//! starts later (a pupil who changes school over the summer is not lost). Resolved when one
//! becomes known, or a vrijstelling is granted.

use schakel_core::domain::dates::to_epoch_days;

use super::{Cx, Plan, Rule, Want};
use crate::state::plus_days;

pub fn wants(cx: &mut Cx<'_>, out: &mut Vec<Want>) {
    let day = cx.day;
    let p = &cx.policy.leerplicht;
    let ended: Vec<_> = cx
        .state
        .enrolments()
        .filter_map(|e| Some((e.end?, e)))
        .collect();
    for (end, e) in ended {
        let check = plus_days(end, p.school_change_days);
        let window_end = plus_days(check, p.late_window_days);
        cx.wake(check);
        if day < check || !cx.leerplichtig_on(end) {
            continue;
        }
        let episode = to_epoch_days(end);
        if day > window_end && cx.state.track(Rule::R5, episode).is_none() {
            continue;
        }
        let new_school = cx
            .state
            .enrolments()
            .any(|f| f.id != e.id && f.start >= e.start && f.end.is_none_or(|x| x > end));
        let covered = new_school || cx.state.exempt_on(day);
        out.push(cx.want(
            Rule::R5,
            episode,
            day <= window_end && !covered,
            covered,
            || Plan {
                to: Rule::R5.recipients(),
                institution: Some(e.school.institution()),
                facts: vec![e.id.to_owned()],
                policy: &[
                    "leerplicht.school_change_days",
                    "leerplicht.late_window_days",
                ],
                ..Plan::default()
            },
        ));
    }
}
