//! Golden figures: a synthetic region whose expected figures the test computes on its own,
//! from the scenario it generated (not from the log), on three peildata, with facts that
//! arrive late.

use jiff::civil::{date, Date};
use jiff::Timestamp;
use schakel_core::domain::dates::DatePrecision;
use schakel_core::domain::events::{
    ChildRef, LeerplichtData, LeerplichtEvent, SchoolRef, SourceEvent,
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
                    school: None,
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
        }
    }
}
