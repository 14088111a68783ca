//! R4: thuiszitters.
//!
//! An episode is opened by an LRV melding (from its `firstAbsenceDate`), a leerplicht
//! thuiszitter registration (from `since`) or an absoluut-verzuim finding (an open R1c, R2c or
//! R5 signal, from the first day the child was enrolled nowhere). Once the child has been out
//! of school for `min_days_out` days, `leerplicht` and the school's `kernteam` are signalled;
//! a reminder follows `reminder_days` after the start and an escalation to `doorbraak`
//! `escalation_months` after it, unless the episode closed first. An episode closes with a
//! `thuiszitter-resolved` (passend aanbod), an enrolment that starts after the episode start,
//! or the LRV melding being closed (afgesloten); a withdrawn melding opens nothing.
//! A vrijstelling means the child is not a thuiszitter.

use jiff::civil::Date;
use schakel_core::domain::dates::to_epoch_days;

use super::{Cx, Plan, Rule, Want};
use crate::state::{plus_days, Fact, MeldingStatus, School};

struct Opener<'a> {
    start: Date,
    school: Option<School>,
    id: &'a str,
    /// an LRV melding closes its own episode when it is afgesloten
    closes: Option<Date>,
}

pub fn wants(cx: &mut Cx<'_>, out: &mut Vec<Want>) {
    let day = cx.day;
    let mut openers: Vec<Opener<'_>> = Vec::new();
    for f in &cx.state.facts {
        match f {
            Fact::Verzuim {
                lrv: true,
                school,
                first_absence,
                status,
                id,
                ..
            } if *status != MeldingStatus::Withdrawn => openers.push(Opener {
                start: *first_absence,
                school: Some(*school),
                id,
                closes: match status {
                    MeldingStatus::Closed(d) => Some(*d),
                    _ => None,
                },
            }),
            Fact::Thuiszitter { since, school, id } => openers.push(Opener {
                start: *since,
                school: *school,
                id,
                closes: None,
            }),
            _ => {}
        }
    }
    // an open absoluut-verzuim finding
    let finding = out.iter().any(|w| {
        matches!(w.rule, Rule::R1c | Rule::R2c | Rule::R5)
            && !w.moot
            && (w.open || cx.state.track(w.rule, w.episode).is_some_and(|t| !t.closed))
    });
    if finding {
        if let Some((start, school, id)) = not_enrolled_since(cx) {
            openers.push(Opener {
                start,
                school,
                id,
                closes: None,
            });
        }
    }
    if openers.is_empty() {
        return;
    }
    openers.sort_by_key(|o| o.start);

    // closers that do not belong to one opener
    let mut closers: Vec<Date> = Vec::new();
    for f in &cx.state.facts {
        match f {
            Fact::PassendAanbod { date, .. } => closers.push(*date),
            Fact::Enrolment { start, .. } => closers.push(*start),
            _ => {}
        }
    }

    let p = &cx.policy.thuiszitter;
    let exempt = cx.state.exempt_on(day);
    let mut i = 0;
    while i < openers.len() {
        let first = &openers[i];
        let start = first.start;
        if start > day {
            cx.wake(plus_days(start, p.min_days_out));
            break;
        }
        // the episode ends at the first closer after its start that is known by now
        let mut end = closers
            .iter()
            .copied()
            .filter(|c| *c > start && *c <= day)
            .min();
        let mut school = None;
        let mut j = i;
        while j < openers.len()
            && openers[j].start <= day
            && end.is_none_or(|e| openers[j].start < e)
        {
            school = school.or(openers[j].school);
            j += 1;
        }
        // LRV meldingen close their episode when every opener of it was closed
        let group = &openers[i..j];
        if end.is_none() && group.iter().all(|o| o.closes.is_some_and(|c| c <= day)) {
            end = group.iter().filter_map(|o| o.closes).max();
        }
        let signal_from = plus_days(start, p.min_days_out);
        let escalate = start
            .checked_add(
                jiff::Span::new()
                    .try_months(i64::from(p.escalation_months))
                    .unwrap_or_default(),
            )
            .unwrap_or(Date::MAX);
        cx.wake(signal_from);
        let closed = end.is_some();
        let open = !closed && !exempt && signal_from <= day;
        let moot = closed || exempt;
        out.push(cx.want(Rule::R4, to_epoch_days(start), open, moot, || {
            Plan {
                remind: Some(plus_days(start, p.reminder_days)),
                due: Some(escalate),
                overdue: false,
                escalate: Some(escalate),
                to: Rule::R4.recipients(),
                escalate_to: &["doorbraak", "leerplicht", "kernteam"],
                institution: school.map(|s| s.institution()),
                routes: school
                    .map(|s| ("kernteam", s.institution()))
                    .into_iter()
                    .collect(),
                facts: group.iter().map(|o| o.id.to_owned()).collect(),
                policy: &[
                    "thuiszitter.min_days_out",
                    "thuiszitter.reminder_days",
                    "thuiszitter.escalation_months",
                ],
            }
        }));
        i = j.max(i + 1);
    }
}

/// The first day of the current run of days on which the child was enrolled nowhere, the
/// school it last attended and the fact that says so.
fn not_enrolled_since<'a>(cx: &Cx<'a>) -> Option<(Date, Option<School>, &'a str)> {
    let last = cx
        .state
        .enrolments()
        .filter(|e| e.end.is_some_and(|end| end < cx.day))
        .max_by_key(|e| e.end);
    match last {
        Some(e) => Some((plus_days(e.end?, 1), Some(e.school), e.id)),
        None => Some((cx.leerplicht_start(), None, cx.state.first_fact()?)),
    }
}
