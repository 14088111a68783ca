//! Generated signals: warm handoffs, children out of view and doorbraak cases on three
//! peildata.

use super::*;

/// One generated signal: its rule, municipality, the day it opened and its due date, and
/// the days of what followed (acknowledgement, completion, overdue, escalation and to whom,
/// closing).
pub(super) struct Sig {
    pub(super) rule: &'static str,
    pub(super) municipality: &'static str,
    pub(super) opened: Date,
    pub(super) due: Date,
    pub(super) ack: Option<Date>,
    pub(super) completed: Option<Date>,
    pub(super) overdue: bool,
    pub(super) escalated: Option<(Date, &'static str)>,
    pub(super) closed: Option<Date>,
}

pub(super) fn signals() -> (Vec<Sig>, crate::view::State) {
    use schakel_core::domain::catalogue::EventType as E;
    use schakel_core::domain::events::{ResponseEvent, SignalEvent};
    let mut rng = Lcg(11);
    let mut sigs = Vec::new();
    let mut s = crate::view::State::default();
    let rules = ["R1a", "R2b", "R3b", "R3d", "R4", "R1c", "R5", "R2a"];
    for i in 0..600u64 {
        let rule = rules[rng.next(rules.len() as u64) as usize];
        let municipality = ["0392", "0377", "0453"][rng.next(3) as usize];
        let opened = plus(date(2025, 6, 1), rng.next(400));
        let due = plus(opened, 30 + rng.next(60));
        let task = ["R1a", "R2b", "R3b", "R3d"].contains(&rule);
        let ack = (task && rng.next(3) > 0).then(|| plus(opened, rng.next(40)));
        let completed = ack
            .filter(|_| rng.next(2) == 0)
            .map(|a| plus(a, rng.next(60)));
        let overdue = completed.is_none_or(|c| c > due) && rng.next(2) == 0;
        let to = if matches!(rule, "R3b" | "R4") {
            "doorbraak"
        } else {
            "swv-consulent"
        };
        let escalated = (rng.next(3) == 0).then(|| (plus(due, 10), to));
        let closed = (!task && rng.next(2) == 0).then(|| plus(opened, rng.next(120)));
        let step = |n: &str, day: Date, recipients: &[&str]| SignalEvent {
            id: format!("{i}-{n}"),
            kind: E::SignalOpened,
            step: n.into(),
            signal_id: format!("s{i}"),
            rule: rule.into(),
            child_key: ChildKey::parse(&format!("{i:064x}")).unwrap(),
            institution: Some("school:12AB".into()),
            municipality: Some(municipality.into()),
            due_date: Some(due),
            recipients: recipients.iter().map(|r| r.to_string()).collect(),
            task,
            fired_on: day,
            birth_date_uncertain: false,
            facts: Vec::new(),
            policy: Default::default(),
            routes: Default::default(),
            residence_derived_from: None,
        };
        s.fold_signal(step("opened", opened, &["leerplicht"]));
        if let Some(a) = ack {
            s.fold_response(ResponseEvent {
                id: format!("{i}-ack"),
                source: "urn:test".into(),
                kind: E::HandoffAcknowledged,
                time: at(a),
                child_key: ChildKey::parse(&format!("{i:064x}")).unwrap(),
                signal_id: format!("s{i}"),
                contact: "c".into(),
                at: at(a),
                note: None,
                roles: Vec::new(),
            });
        }
        if let Some(c) = completed {
            s.fold_signal(step("completed", c, &["leerplicht"]));
        }
        if overdue {
            s.fold_signal(step("overdue", due, &["leerplicht"]));
        }
        if let Some((d, to)) = escalated {
            s.fold_signal(step("escalated", d, &[to]));
        }
        if let Some(c) = closed {
            s.fold_signal(step("resolved", c, &["leerplicht"]));
        }
        sigs.push(Sig {
            rule,
            municipality,
            opened,
            due,
            ack,
            completed,
            overdue,
            escalated,
            closed,
        });
    }
    (sigs, s)
}

#[test]
fn handoffs_out_of_view_and_doorbraak_on_three_peildata() {
    use crate::stats::figures::{signal_figures, Measure, HANDOFFS, OUT_OF_VIEW};
    let (sigs, s) = signals();
    let from = date(2025, 8, 1);
    let by = |f: &crate::stats::figures::Figure, m: &str| {
        f.rows
            .iter()
            .position(|r| r == m)
            .map_or_else(|| vec![0; f.cols.len()], |r| f.counts.cells[r].clone())
    };
    for p in [date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)] {
        let as_of = AsOf {
            peildatum: p,
            known_at: None,
        };
        let figures = signal_figures(&s, &Scope::default(), from, as_of);
        let on = |d: Option<Date>| d.filter(|d| *d <= p);
        for m in ["0392", "0377", "0453"] {
            let mine = || sigs.iter().filter(|x| x.municipality == m && x.opened <= p);
            for (k, (rule, _)) in HANDOFFS.iter().enumerate() {
                let of_rule: Vec<&Sig> = mine()
                    .filter(|x| x.rule == *rule && x.opened >= from)
                    .collect();
                let count =
                    |f: &dyn Fn(&Sig) -> bool| of_rule.iter().filter(|x| f(x)).count() as u64;
                let want = vec![
                    of_rule.len() as u64,
                    count(&|x| on(x.ack).is_some()),
                    count(&|x| on(x.completed).is_some()),
                    count(&|x| x.overdue && x.due <= p),
                    count(&|x| on(x.escalated.map(|e| e.0)).is_some()),
                    0,
                ];
                assert_eq!(by(&figures[k], m), want, "{p} {rule} {m}");
                let r = figures[k].rows.iter().position(|x| x == m);
                let Measure::Share { part, of, .. } = &figures[k].measures[0] else {
                    panic!("timeliness")
                };
                let row = |v: &Vec<u64>| r.map_or(0, |r| v[r]);
                assert_eq!(
                    (row(part), row(of)),
                    (
                        count(&|x| on(x.completed).is_some_and(|c| c <= x.due)),
                        count(&|x| x.due <= p || on(x.completed).is_some()),
                    ),
                    "{p} {rule} {m}: completed by the due date"
                );
                let Measure::Median { days, .. } = &figures[k].measures[1] else {
                    panic!("days to acknowledgement")
                };
                let mut got = r.map_or_else(Vec::new, |r| days[r].clone());
                let mut want: Vec<i64> = of_rule
                    .iter()
                    .filter_map(|x| on(x.ack).map(|a| (a - x.opened).get_days().into()))
                    .collect();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{p} {rule} {m}: days to acknowledgement");
            }
            let ov = |opened: bool| -> Vec<u64> {
                OUT_OF_VIEW
                    .iter()
                    .map(|(rule, _)| {
                        mine()
                            .filter(|x| x.rule == *rule)
                            .filter(|x| {
                                if opened {
                                    x.opened >= from
                                } else {
                                    on(x.closed).is_none()
                                }
                            })
                            .count() as u64
                    })
                    .collect()
            };
            assert_eq!(by(&figures[4], m), ov(false), "{p} {m}: out of view");
            assert_eq!(by(&figures[5], m), ov(true), "{p} {m}: out of view, new");
            // doorbraak: escalated to it by p; closed by completion or resolution after
            let mut want = vec![0u64; 6];
            for x in mine() {
                let Some((since, _)) = x.escalated.filter(|(d, to)| *d <= p && *to == "doorbraak")
                else {
                    continue;
                };
                want[1] += u64::from(since >= from);
                let closed = [x.completed, x.closed]
                    .into_iter()
                    .flatten()
                    .filter(|c| *c >= since && *c <= p)
                    .min();
                match closed {
                    Some(c) => want[2] += u64::from(c >= from),
                    None => {
                        want[0] += 1;
                        let age = if p < since.saturating_add(jiff::Span::new().months(1)) {
                            3
                        } else if p < since.saturating_add(jiff::Span::new().months(3)) {
                            4
                        } else {
                            5
                        };
                        want[age] += 1;
                    }
                }
            }
            assert_eq!(by(&figures[6], m), want, "{p} {m}: doorbraak");
        }
        assert!(
            figures[6].counts.total() > 0 && figures[0].counts.total() > 0,
            "the region has cases"
        );
    }
}
