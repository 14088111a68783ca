//! R2: from primary to secondary school, per school year of groep 8.
//!
//! - R2a: a groep-8 pupil has no VO aanmelding on the deadline (15 April): school `ib` and
//!   `leerplicht`; escalated to the `swv-consulent` on 1 June if there is still none;
//!   resolved when an aanmelding becomes known.
//! - R2b: a VO toelating or inschrijving is known for a groep-8 pupil with a support context
//!   (OPP, arrangement, TLV, OZA, kernteam case, or active youth care): handoff task PO `ib` →
//!   VO `zorgcoordinator`, due 1 July, escalated to the `swv-consulent` after the policy delay.
//! - R2c: on 1 October of the next school year the former groep-8 pupil is enrolled nowhere:
//!   `leerplicht`; resolved by an enrolment or a vrijstelling.
//!
//! The groep of a pupil is the grade of the PO enrolment plus the school years since it
//! started, so a pupil enrolled in groep 5 three years ago is in groep 8 now. A VO aanmelding
//! is an aanmelding, toelating or secondary inschrijving at another school than the PO school,
//! dated in the groep-8 school year.

use crate::policy::{SchoolYear, SchoolYearDates};
use jiff::civil::Date;

use super::{Cx, Plan, Rule, Want};
use crate::state::{plus_days, Enrolment, Fact, School, Sector};

/// The PO enrolment in which the pupil is in groep 8 during school year `sy`.
fn groep8<'a>(cx: &Cx<'a>, sy: SchoolYear) -> Option<Enrolment<'a>> {
    let mut primary = cx
        .state
        .enrolments()
        .filter(|e| e.sector == Sector::Primary)
        .peekable();
    primary.peek()?;
    let (start, next_start) = (
        cx.policy.school_year_start(sy),
        cx.policy.school_year_start(sy.next()),
    );
    primary.find(|e| {
        let years = sy.0 - cx.policy.school_year_of(e.start).0;
        e.start < next_start
            && e.end.is_none_or(|end| end >= start)
            && i32::from(e.grade) + i32::from(years) == 8
    })
}

/// The first VO aanmelding (or toelating, or inschrijving) of the year: (school, date, id).
fn vo_application<'a>(
    cx: &Cx<'a>,
    po: &School,
    dates: &SchoolYearDates,
    admitted_only: bool,
) -> Option<(School, Date, &'a str)> {
    let mut best: Option<(School, Date, &'a str)> = None;
    let rejected_later = |s: &School, after: Date| {
        cx.state.facts.iter().any(|f| {
            matches!(f, Fact::Admission { school, accepted: false, date, .. }
                if school.same_school(s) && *date >= after)
        })
    };
    for f in &cx.state.facts {
        let cand = match f {
            Fact::Application { school, date, id } if !admitted_only => {
                Some((*school, *date, &**id))
            }
            Fact::Admission {
                school,
                date,
                accepted: true,
                id,
            } => Some((*school, *date, &**id)),
            Fact::Enrolment {
                school,
                sector: Sector::Secondary,
                start,
                end,
                id,
                ..
            } if end.is_none_or(|e| e > *start) => Some((*school, *start, &**id)),
            _ => None,
        };
        let Some((school, date, id)) = cand else {
            continue;
        };
        if school.same_school(po) || date < dates.start || rejected_later(&school, date) {
            continue;
        }
        if best.as_ref().is_none_or(|b| date < b.1) {
            best = Some((school, date, id));
        }
    }
    best
}

/// The support context of the pupil on `d`: the fact that establishes it.
fn support_context<'a>(cx: &Cx<'a>, d: Date) -> Option<&'a str> {
    cx.state.facts.iter().find_map(|f| match f {
        Fact::Support { start, end, id, .. } if *start <= d && end.is_none_or(|e| e >= d) => {
            Some(&**id)
        }
        Fact::Assignment(a) if a.active_on(d) => Some(&*a.id),
        _ => None,
    })
}

pub fn wants(cx: &mut Cx<'_>, out: &mut Vec<Want>) {
    let now = cx.policy.school_year_of(cx.day);
    for sy in [SchoolYear(now.0 - 1), now, now.next()] {
        let Some(g8) = groep8(cx, sy) else {
            continue;
        };
        let dates = cx.policy.school_year_dates(sy);
        for d in [
            dates.vo_application_deadline,
            dates.vo_escalation,
            dates.vo_enrolled_check,
        ] {
            cx.wake(d);
        }
        if sy == now.next() {
            continue; // only to be woken in time
        }
        let mut wake = Vec::new();
        school_year_wants(cx, sy, &dates, &g8, out, &mut wake);
        for d in wake {
            cx.wake(d);
        }
    }
}

fn school_year_wants(
    cx: &Cx<'_>,
    sy: SchoolYear,
    dates: &SchoolYearDates,
    g8: &Enrolment<'_>,
    out: &mut Vec<Want>,
    wake: &mut Vec<Date>,
) {
    let day = cx.day;
    let episode = i32::from(sy.0);
    let next_start = cx.policy.school_year_start(sy.next());
    let po = g8.school;
    let exempt = cx.state.exempt_on(day);

    // R2a
    let application = vo_application(cx, &po, dates, false);
    let on_deadline = g8.end.is_none_or(|e| e >= dates.vo_application_deadline);
    // the primary school's ib'er and its samenwerkingsverband's consulent
    let routes = || {
        let mut routes = vec![("ib", po.institution())];
        let swv = cx.policy.routing.swv_of(&po.institution());
        routes.extend(swv.map(|s| ("swv-consulent", s)));
        routes
    };
    if day >= dates.vo_application_deadline {
        let open = day < next_start && on_deadline && application.is_none() && !exempt;
        let moot = application.is_some() || exempt;
        out.push(cx.want(Rule::R2a, episode, open, moot, || Plan {
            escalate: Some(dates.vo_escalation),
            to: Rule::R2a.recipients(),
            escalate_to: &["swv-consulent", "ib", "leerplicht"],
            institution: Some(po.institution()),
            routes: routes(),
            facts: vec![g8.id.to_owned()],
            policy: &[
                "school_year.vo_application_deadline",
                "school_year.vo_escalation",
            ],
            ..Plan::default()
        }));
    }

    // R2b
    let admission = vo_application(cx, &po, dates, true);
    if let Some((vo, admitted_on, adm_id)) = admission {
        wake.push(admitted_on);
        for f in &cx.state.facts {
            if let Fact::Support { start, .. } = f {
                wake.push(*start);
            }
        }
        let support = support_context(cx, day.min(next_start));
        let due = dates.vo_handoff_due;
        let open = support.is_some() && admitted_on <= day && day < dates.vo_enrolled_check;
        out.push(cx.want(Rule::R2b, episode, open, cx.moved_away(), || {
            let mut facts = vec![g8.id.to_owned(), adm_id.to_owned()];
            facts.extend(support.map(str::to_owned));
            let mut routes = routes();
            routes.push(("zorgcoordinator", vo.institution()));
            Plan {
                remind: Some(plus_days(due, -cx.policy.handoff.remind_days_before_due)),
                due: Some(due),
                overdue: true,
                escalate: Some(plus_days(
                    due,
                    cx.policy.school_year.vo_handoff_escalation_days,
                )),
                to: Rule::R2b.recipients(),
                escalate_to: &["swv-consulent", "ib", "zorgcoordinator"],
                institution: Some(vo.institution()),
                routes,
                facts,
                policy: &[
                    "school_year.vo_handoff_due",
                    "school_year.vo_handoff_escalation_days",
                    "handoff.remind_days_before_due",
                ],
            }
        }));
    } else if cx.state.track(Rule::R2b, episode).is_some() {
        // the toelating was withdrawn (turned down after all)
        out.push(Want {
            rule: Rule::R2b,
            episode,
            open: false,
            moot: true,
            plan: Plan {
                to: Rule::R2b.recipients(),
                routes: routes(),
                ..Plan::default()
            },
        });
    }

    // R2c
    let check = dates.vo_enrolled_check;
    let window_end = plus_days(check, cx.policy.leerplicht.late_window_days);
    if day >= check {
        let covered = cx.state.enrolled_from(day) || exempt;
        let open = day <= window_end && !covered && cx.leerplichtig_on(check);
        out.push(cx.want(Rule::R2c, episode, open, covered, || Plan {
            to: Rule::R2c.recipients(),
            institution: Some(po.institution()),
            facts: vec![g8.id.to_owned()],
            policy: &["school_year.vo_enrolled_check"],
            ..Plan::default()
        }));
    }
}
