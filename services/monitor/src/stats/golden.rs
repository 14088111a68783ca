//! Golden figures: a synthetic region whose expected figures the test computes on its own,
//! from the scenario it generated (not from the log), on three peildata, with facts that
//! arrive late.

use jiff::civil::{date, Date};
use jiff::Timestamp;
use schakel_core::domain::dates::DatePrecision;
use schakel_core::domain::events::{
    ChildRef, LeerplichtData, LeerplichtEvent, SchoolEvent, SchoolRef, SourceEvent,
};
use schakel_core::domain::ids::ChildKey;

use super::figures::{thuiszitters_by_duration, thuiszitters_by_kind, vrijstellingen, AsOf, Scope};
use super::log::Log;

/// The end of a day in the Netherlands (a fact received by then is known on that day).
fn end_of(d: Date) -> Timestamp {
    d.tomorrow()
        .unwrap()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap())
        .unwrap()
        .timestamp()
        .checked_sub(jiff::SignedDuration::from_secs(1))
        .unwrap()
}

fn at(d: Date) -> Timestamp {
    d.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap())
        .unwrap()
        .timestamp()
        .checked_add(jiff::SignedDuration::from_hours(10))
        .unwrap()
}

/// One generated child: a thuiszitter registration (since, when it was received), maybe a
/// passend aanbod (from, when received), maybe a vrijstelling 5 onder b from a day.
struct Kid {
    municipality: &'static str,
    since: Date,
    received: Date,
    aanbod: Option<(Date, Date)>,
    vrijstelling: Option<(Date, Date)>,
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

fn plus(d: Date, n: u64) -> Date {
    d.saturating_add(jiff::Span::new().days(n as i64))
}

fn region() -> (Vec<Kid>, Log) {
    let mut rng = Lcg(7);
    let mut kids = Vec::new();
    let mut log = Log::default();
    let base = date(2025, 6, 1);
    for i in 0..400u64 {
        let since = plus(base, rng.next(400));
        // most registrations arrive within a week; one in five a month or more late
        let late = if rng.next(5) == 0 {
            30 + rng.next(60)
        } else {
            rng.next(7)
        };
        let received = plus(since, late);
        let aanbod = (rng.next(2) == 0).then(|| {
            let from = plus(since, 20 + rng.next(200));
            (from, plus(from, rng.next(3) * 20))
        });
        let vrijstelling = (rng.next(6) == 0).then(|| {
            let from = plus(base, rng.next(400));
            (from, plus(from, rng.next(2) * 45))
        });
        let municipality = ["0392", "0377", "0453"][i as usize % 3];
        let child = ChildRef {
            child_key: ChildKey::parse(&format!("{i:064x}")).unwrap(),
            birth_date: date(2012, 3, 1),
            birth_date_precision: DatePrecision::Day,
            residence_municipality: Some(municipality.into()),
        };
        let ev = |n: &str, data| {
            SourceEvent::new(
                format!("{n}-{i}"),
                "urn:test".into(),
                Timestamp::UNIX_EPOCH,
                child.clone(),
                data,
            )
        };
        let reg: LeerplichtEvent = ev(
            "t",
            LeerplichtData::ThuiszitterRegistered {
                since,
                school: None::<SchoolRef>,
            },
        );
        log.leerplicht(&reg, at(received));
        if let Some((from, got)) = aanbod {
            let e: LeerplichtEvent = ev(
                "a",
                LeerplichtData::ThuiszitterResolved {
                    date: from,
                    offer: "onderwijs".into(),
                },
            );
            log.leerplicht(&e, at(got));
        }
        if let Some((from, got)) = vrijstelling {
            let e: LeerplichtEvent = ev(
                "v",
                LeerplichtData::VrijstellingGranted {
                    kind: "5-onder-b".into(),
                    from,
                    until: None,
                },
            );
            log.leerplicht(&e, at(got));
        }
        kids.push(Kid {
            municipality,
            since,
            received,
            aanbod,
            vrijstelling,
        });
    }
    (kids, log)
}

/// Expected: thuiszitters on `p` by municipality and duration, known at `known` (None: all).
fn expected(kids: &[Kid], p: Date, known: Option<Date>) -> Vec<(String, [u64; 3])> {
    let knows = |d: Date| known.is_none_or(|k| d <= k);
    let mut out: std::collections::BTreeMap<String, [u64; 3]> = Default::default();
    for k in kids {
        let row = out.entry(k.municipality.into()).or_default();
        if !knows(k.received) || k.since > p {
            continue;
        }
        let ended = k
            .aanbod
            .filter(|(_, got)| knows(*got))
            .map(|(from, _)| from)
            .filter(|f| *f >= k.since);
        if ended.is_some_and(|e| e <= p) {
            continue;
        }
        let out_days = (p - k.since).get_days();
        if out_days < 28 {
            continue;
        }
        let b = if p <= k.since.saturating_add(jiff::Span::new().months(3)) {
            0
        } else if p <= k.since.saturating_add(jiff::Span::new().months(6)) {
            1
        } else {
            2
        };
        row[b] += 1;
    }
    out.into_iter().collect()
}

#[test]
fn thuiszitters_on_three_peildata_as_then_known_and_as_now_known() {
    let (kids, log) = region();
    let mut late_changed = 0;
    for p in [date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)] {
        for known in [Some(p), None] {
            let as_of = AsOf {
                peildatum: p,
                known_at: known.map(end_of),
            };
            let f = thuiszitters_by_duration(&log, &Scope::default(), as_of);
            let got: Vec<(String, [u64; 3])> = f
                .rows
                .iter()
                .cloned()
                .zip(f.counts.cells.iter().map(|r| [r[0], r[1], r[2]]))
                .collect();
            assert_eq!(got, expected(&kids, p, known), "{p} known at {known:?}");
            // every one of them is a registration
            let by_kind = thuiszitters_by_kind(&log, &Scope::default(), as_of);
            for (r, row) in by_kind.counts.cells.iter().enumerate() {
                assert_eq!(row[2], f.counts.row_total(r));
            }
            // one municipality alone gives its row
            let one = thuiszitters_by_duration(
                &log,
                &Scope {
                    municipality: Some("0377".into()),
                    ..Default::default()
                },
                as_of,
            );
            assert_eq!(one.rows, ["0377"]);
            let r = f.rows.iter().position(|m| m == "0377").unwrap();
            assert_eq!(one.counts.cells[0], f.counts.cells[r]);
        }
        let then = thuiszitters_by_duration(
            &log,
            &Scope::default(),
            AsOf {
                peildatum: p,
                known_at: Some(end_of(p)),
            },
        );
        let now = thuiszitters_by_duration(
            &log,
            &Scope::default(),
            AsOf {
                peildatum: p,
                known_at: None,
            },
        );
        late_changed += usize::from(then.counts != now.counts);
        // computed again, the same
        assert_eq!(
            then,
            thuiszitters_by_duration(
                &log,
                &Scope::default(),
                AsOf {
                    peildatum: p,
                    known_at: Some(end_of(p))
                }
            )
        );
    }
    assert!(
        late_changed > 0,
        "late facts change some peildatum's figures"
    );
}

#[test]
fn vrijstellingen_in_force_count_as_known() {
    let (kids, log) = region();
    for p in [date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)] {
        for known in [Some(p), None] {
            let f = vrijstellingen(
                &log,
                &Scope::default(),
                AsOf {
                    peildatum: p,
                    known_at: known.map(end_of),
                },
            );
            let total: u64 = f.counts.total();
            let want = kids
                .iter()
                .filter(|k| {
                    k.vrijstelling
                        .is_some_and(|(from, got)| from <= p && known.is_none_or(|kd| got <= kd))
                })
                .count() as u64;
            assert_eq!(total, want, "{p} {known:?}");
            assert_eq!(f.counts.col_total(1), want, "all 5 onder b");
            // new in the school year to the peildatum
            let from = date(2025, 8, 1);
            let all = super::figures::child_figures(
                &log,
                &Scope::default(),
                AsOf {
                    peildatum: p,
                    known_at: known.map(end_of),
                },
                from,
            );
            let new = all.iter().find(|f| f.id == "vrijstellingen-nieuw").unwrap();
            let want_new = kids
                .iter()
                .filter(|k| {
                    k.vrijstelling.is_some_and(|(f, got)| {
                        from <= f && f <= p && known.is_none_or(|kd| got <= kd)
                    })
                })
                .count() as u64;
            assert_eq!(new.counts.col_total(1), want_new, "{p} {known:?}: new");
            assert!(want_new > 0 && want_new <= want);
        }
    }
}

/// Expected: thuiszitters in and out over the school year to `p`, known at `known`, by
/// municipality: [inflow, outflow, aanbod within 3 months, without], and the days to aanbod.
fn expected_flow(
    kids: &[Kid],
    p: Date,
    known: Option<Date>,
) -> std::collections::BTreeMap<String, ([u64; 4], Vec<i64>)> {
    let knows = |d: Date| known.is_none_or(|k| d <= k);
    let from = date(
        if p.month() >= 8 {
            p.year()
        } else {
            p.year() - 1
        },
        8,
        1,
    );
    let mut out: std::collections::BTreeMap<String, ([u64; 4], Vec<i64>)> = Default::default();
    for k in kids {
        let (row, days) = out.entry(k.municipality.into()).or_default();
        if !knows(k.received) {
            continue;
        }
        let aanbod = k
            .aanbod
            .filter(|(f, got)| knows(*got) && *f >= k.since)
            .map(|(f, _)| f);
        let became = plus(k.since, 28);
        if from <= became && became <= p && aanbod.is_none_or(|a| a > became) {
            row[0] += 1;
            match aanbod.filter(|a| *a <= p) {
                Some(a) if a <= k.since.saturating_add(jiff::Span::new().months(3)) => {
                    row[2] += 1;
                    days.push((a - k.since).get_days().into());
                }
                _ => row[3] += 1,
            }
        }
        if let Some(a) = aanbod {
            if from <= a && a <= p && (a - k.since).get_days() >= 28 {
                row[1] += 1;
            }
        }
    }
    out
}

#[test]
fn thuiszitters_in_and_out_with_their_aanbod_on_three_peildata() {
    use super::figures::{thuiszitters_flow, Measure};
    let (kids, log) = region();
    for p in [date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)] {
        for known in [Some(p), None] {
            let as_of = AsOf {
                peildatum: p,
                known_at: known.map(end_of),
            };
            let f = thuiszitters_flow(&log, &Scope::default(), as_of, date(2025, 8, 1));
            let want = expected_flow(&kids, p, known);
            let Measure::Median { days, .. } = &f.measures[1] else {
                panic!("the days to aanbod")
            };
            assert!(f.rows.len() == want.len() && want.values().any(|(r, _)| r[0] > 0));
            for (r, m) in f.rows.iter().enumerate() {
                let (row, d) = &want[m];
                assert_eq!(&f.counts.cells[r][..], &row[..], "{p} {known:?} {m}");
                let (mut got, mut d) = (days[r].clone(), d.clone());
                got.sort_unstable();
                d.sort_unstable();
                assert_eq!(got, d, "{p} {known:?} {m}: days to aanbod");
            }
        }
    }
}

/// One generated signal: its rule, municipality, the day it opened and its due date, and
/// the days of what followed (acknowledgement, completion, overdue, escalation and to whom,
/// closing).
struct Sig {
    rule: &'static str,
    municipality: &'static str,
    opened: Date,
    due: Date,
    ack: Option<Date>,
    completed: Option<Date>,
    overdue: bool,
    escalated: Option<(Date, &'static str)>,
    closed: Option<Date>,
}

fn signals() -> (Vec<Sig>, crate::view::State) {
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
    use super::figures::{signal_figures, Measure, HANDOFFS, OUT_OF_VIEW};
    let (sigs, s) = signals();
    let from = date(2025, 8, 1);
    let by = |f: &super::figures::Figure, m: &str| {
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

#[test]
fn rows_by_school_and_by_samenwerkingsverband_count_the_same_children() {
    use super::figures::{RowsBy, Swvs, NO_SCHOOL, NO_SWV};
    let mut log = Log::default();
    let mut rng = Lcg(5);
    let schools = ["12AB", "34CD", "56EF"];
    // expected thuiszitters on 1 April per school and per SWV, Haarlem residents only
    let mut by_school: std::collections::BTreeMap<String, u64> = Default::default();
    for i in 0..90u64 {
        let municipality = if i % 3 == 0 { "0377" } else { "0392" };
        let child = ChildRef {
            child_key: ChildKey::parse(&format!("{:064x}", 10_000 + i)).unwrap(),
            birth_date: date(2013, 3, 1),
            birth_date_precision: DatePrecision::Day,
            residence_municipality: Some(municipality.into()),
        };
        // an old school, then maybe a newer one (the newer counts), or none at all
        let first = rng.next(3) as usize;
        let second = (rng.next(2) == 0).then(|| rng.next(3) as usize);
        let mut school = None;
        if i % 10 != 0 {
            for (n, (s, start)) in [
                (Some(first), date(2022, 8, 20)),
                (second, date(2025, 8, 20)),
            ]
            .into_iter()
            .filter_map(|(s, d)| Some((s?, d)))
            .enumerate()
            {
                let e = SchoolEvent::new(
                    format!("s{n}-{i}"),
                    "urn:test".into(),
                    Timestamp::UNIX_EPOCH,
                    child.clone(),
                    schakel_core::domain::events::SchoolData::EnrolmentRegistered {
                        school: SchoolRef {
                            brin: schools[s].into(),
                            vestiging: "00".into(),
                        },
                        sector: "po".into(),
                        grade: 6,
                        start_date: start,
                    },
                );
                log.school(&e, at(start));
                school = Some(format!("school:{}", schools[s]));
            }
        }
        let out = rng.next(2) == 0;
        if out {
            let e: LeerplichtEvent = SourceEvent::new(
                format!("t-{i}"),
                "urn:test".into(),
                Timestamp::UNIX_EPOCH,
                child.clone(),
                LeerplichtData::ThuiszitterRegistered {
                    since: date(2026, 1, 10),
                    school: None,
                },
            );
            log.leerplicht(&e, at(date(2026, 1, 12)));
            if municipality == "0392" {
                *by_school
                    .entry(school.unwrap_or_else(|| NO_SCHOOL.into()))
                    .or_default() += 1;
            }
        }
    }
    let swv = Swvs {
        region: Some("swv:PO2702".into()),
        schools: [("school:12AB".to_owned(), "swv:PO2701".to_owned())].into(),
    };
    let as_of = AsOf {
        peildatum: date(2026, 4, 1),
        known_at: None,
    };
    let scope = |rows| Scope {
        municipality: Some("0392".into()),
        rows,
        swv: std::sync::Arc::new(swv.clone()),
        ..Default::default()
    };
    // the thuiszitters per row, rows without any left out
    let per_row = |rows| -> std::collections::BTreeMap<String, u64> {
        let f = thuiszitters_by_duration(&log, &scope(rows), as_of);
        f.rows
            .iter()
            .enumerate()
            .map(|(r, s)| (s.clone(), f.counts.row_total(r)))
            .filter(|(_, n)| *n > 0)
            .collect()
    };
    let got = per_row(RowsBy::School);
    assert_eq!(got, by_school);
    assert!(
        got.len() == 4,
        "three schools and children without one: {got:?}"
    );
    let mut by_swv: std::collections::BTreeMap<String, u64> = Default::default();
    for (s, n) in &by_school {
        let key = match s.as_str() {
            "school:12AB" => "swv:PO2701",
            x if x == NO_SCHOOL => NO_SWV,
            _ => "swv:PO2702",
        };
        *by_swv.entry(key.into()).or_default() += n;
    }
    assert_eq!(per_row(RowsBy::Swv), by_swv);
    // the same children as the municipality's row
    let m = thuiszitters_by_duration(&log, &scope(RowsBy::Municipality), as_of);
    assert_eq!(m.counts.total(), by_school.values().sum::<u64>());
    // a school filter takes that school's children
    let one = thuiszitters_by_duration(
        &log,
        &Scope {
            school: Some("school:34CD".into()),
            ..scope(RowsBy::Municipality)
        },
        as_of,
    );
    assert_eq!(one.counts.total(), by_school["school:34CD"]);
}
