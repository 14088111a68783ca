//! Properties of the fold over random logs: replays are identical, duplicates change nothing,
//! and a clock that was down for a week catches up with exactly the steps of daily ticks.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use schakel_core::domain::dates::DatePrecision;
use schakel_core::domain::events::{
    ChildRef, JeugdhulpData, LeerplichtData, LocationRef, Product, SchoolData, SchoolRef,
    SignalEvent, SourceEvent, VoorschoolData,
};
use schakel_rules::policy::Policy;
use schakel_rules::scenario::key_for;
use schakel_rules::{Engine, Input};

const START: Date = Date::constant(2025, 8, 1);
const DAYS: i32 = 420;

fn day(n: i32) -> Date {
    START.saturating_add(i64::from(n).days())
}

fn school(i: u8) -> SchoolRef {
    SchoolRef {
        brin: ["12AB", "34CD", "56EF"][usize::from(i % 3)].into(),
        vestiging: "00".into(),
    }
}

/// One random fact about child `c`, its dates in days relative to the simulation start.
#[derive(Debug, Clone)]
enum F {
    Enrol {
        s: u8,
        vo: bool,
        grade: u8,
        start: i32,
    },
    Ended {
        s: u8,
        end: i32,
        kwal: bool,
    },
    Apply {
        s: u8,
        date: i32,
    },
    Admit {
        s: u8,
        date: i32,
        ok: bool,
    },
    Support {
        s: u8,
        date: i32,
    },
    Vve {
        date: i32,
    },
    Lrv {
        s: u8,
        since: i32,
    },
    Thuis {
        since: i32,
    },
    Aanbod {
        date: i32,
    },
    Vrij {
        from: i32,
    },
    Assign {
        n: u8,
        ingang: i32,
        stamp: i32,
    },
    Withdraw {
        n: u8,
    },
}

fn fact() -> impl Strategy<Value = F> {
    let d = -900..DAYS;
    prop_oneof![
        (0u8..3, any::<bool>(), 1u8..9, d.clone()).prop_map(|(s, vo, grade, start)| F::Enrol {
            s,
            vo,
            grade,
            start
        }),
        (0u8..3, d.clone(), any::<bool>()).prop_map(|(s, end, kwal)| F::Ended { s, end, kwal }),
        (0u8..3, d.clone()).prop_map(|(s, date)| F::Apply { s, date }),
        (0u8..3, d.clone(), any::<bool>()).prop_map(|(s, date, ok)| F::Admit { s, date, ok }),
        (0u8..3, d.clone()).prop_map(|(s, date)| F::Support { s, date }),
        d.clone().prop_map(|date| F::Vve { date }),
        (0u8..3, d.clone()).prop_map(|(s, since)| F::Lrv { s, since }),
        d.clone().prop_map(|since| F::Thuis { since }),
        d.clone().prop_map(|date| F::Aanbod { date }),
        d.clone().prop_map(|from| F::Vrij { from }),
        (0u8..2, d.clone(), d.clone()).prop_map(|(n, ingang, stamp)| F::Assign {
            n,
            ingang,
            stamp
        }),
        (0u8..2).prop_map(|n| F::Withdraw { n }),
    ]
}

fn to_input(child: usize, birth: Date, id: usize, f: &F) -> Input {
    let cref = ChildRef {
        child_key: key_for(&format!("child-{child}")),
        birth_date: birth,
        birth_date_precision: DatePrecision::Day,
        residence_municipality: Some("0392".into()),
    };
    macro_rules! ev {
        ($data:expr) => {
            SourceEvent::new(
                format!("f{id}"),
                "urn:nld:test".into(),
                Timestamp::UNIX_EPOCH,
                cref.clone(),
                $data,
            )
        };
    }
    match f.clone() {
        F::Enrol {
            s,
            vo,
            grade,
            start,
        } => Input::School(ev!(SchoolData::EnrolmentRegistered {
            school: school(s),
            sector: if vo { "vo" } else { "po" }.into(),
            grade: i32::from(grade),
            start_date: day(start),
        })),
        F::Ended { s, end, kwal } => Input::School(ev!(SchoolData::EnrolmentEnded {
            school: school(s),
            end_date: day(end),
            reason: "overig".into(),
            destination: None,
            startkwalificatie: Some(kwal),
        })),
        F::Apply { s, date } => Input::School(ev!(SchoolData::ApplicationRegistered {
            school: school(s),
            date: day(date),
        })),
        F::Admit { s, date, ok } => Input::School(ev!(SchoolData::AdmissionDecided {
            school: school(s),
            date: day(date),
            decision: if ok { "toegelaten" } else { "afgewezen" }.into(),
        })),
        F::Support { s, date } => Input::School(ev!(SchoolData::SupportStarted {
            school: school(s),
            support: "opp".into(),
            date: day(date),
        })),
        F::Vve { date } => Input::Voorschool(ev!(VoorschoolData::PlacementStarted {
            location: LocationRef {
                lrk: "123456789".into(),
            },
            vve_indication: true,
            date: day(date),
            mentor: None,
        })),
        F::Lrv { s, since } => Input::Leerplicht(ev!(LeerplichtData::VerzuimReported {
            school: school(s),
            meldingsnummer: format!("M{id}"),
            kind: "lrv".into(),
            first_absence_date: day(since),
        })),
        F::Thuis { since } => Input::Leerplicht(ev!(LeerplichtData::ThuiszitterRegistered {
            since: day(since),
            school: None,
        })),
        F::Aanbod { date } => Input::Leerplicht(ev!(LeerplichtData::ThuiszitterResolved {
            date: day(date),
            offer: "onderwijs".into(),
        })),
        F::Vrij { from } => Input::Leerplicht(ev!(LeerplichtData::VrijstellingGranted {
            kind: "5-onder-a".into(),
            from: day(from),
            until: Some(day(from + 120)),
        })),
        F::Assign { n, ingang, stamp } => Input::Jeugdhulp(ev!(JeugdhulpData::AssignmentIssued {
            toewijzing_nummer: format!("T{n}"),
            product: Product {
                categorie: "45".into(),
                code: None,
            },
            ingangsdatum: day(ingang),
            einddatum: None,
            toewijzing_tijdstip: Timestamp::from_second(1_700_000_000 + i64::from(stamp) * 86_400)
                .unwrap(),
            verlengde_jeugdhulp: None,
            gemeente: "0392".into(),
        })),
        F::Withdraw { n } => Input::Jeugdhulp(ev!(JeugdhulpData::AssignmentWithdrawn {
            toewijzing_nummer: format!("T{n}"),
            date: START,
        })),
    }
}

/// A random log: children, facts placed before given ticks, and a tick for every day.
#[derive(Debug, Clone)]
struct Log {
    /// (tick index before which the fact is folded, fact)
    facts: Vec<(i32, Input)>,
}

impl Log {
    fn inputs(&self, skip: Option<(i32, i32)>) -> Vec<Input> {
        let mut out = Vec::new();
        for t in 0..DAYS {
            for (at, f) in &self.facts {
                if *at == t {
                    out.push(f.clone());
                }
            }
            if skip.is_none_or(|(from, to)| t < from || t > to) {
                out.push(Input::Tick(day(t)));
            }
        }
        out
    }
}

fn log() -> impl Strategy<Value = Log> {
    // birth dates that put children near the ages the rules care about in the window
    let birth = prop_oneof![
        (-1500..-1200i32), // toddlers: 3y6m–4y
        (-1900..-1700i32), // leerplicht start
        (-4500..-4300i32), // groep 8
        (-6400..-6200i32), // 17y6m
    ];
    let child = (birth, prop::collection::vec((0..DAYS, fact()), 1..8));
    prop::collection::vec(child, 1..4).prop_map(|children| {
        let mut facts = Vec::new();
        let mut id = 0;
        for (c, (b, fs)) in children.into_iter().enumerate() {
            for (at, f) in fs {
                id += 1;
                facts.push((at, to_input(c, day(b), id, &f)));
            }
        }
        Log { facts }
    })
}

fn run(inputs: &[Input]) -> Vec<SignalEvent> {
    let mut e = Engine::new(Policy::default());
    inputs
        .iter()
        .flat_map(|i| e.apply(i).unwrap_or_default())
        .collect()
}

/// Signals without the day they fired on, in id order.
fn content(mut s: Vec<SignalEvent>) -> Vec<SignalEvent> {
    for x in &mut s {
        x.fired_on = START;
    }
    s.sort_by(|a, b| a.id.cmp(&b.id));
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn replaying_the_same_log_twice_gives_identical_signals(log in log()) {
        let inputs = log.inputs(None);
        prop_assert_eq!(run(&inputs), run(&inputs));
    }

    #[test]
    fn duplicates_anywhere_after_the_original_change_nothing(
        log in log(),
        dups in prop::collection::vec((any::<prop::sample::Index>(), 0..DAYS), 1..6),
    ) {
        let plain = run(&log.inputs(None));
        let mut with_dups = log.clone();
        for (which, delay) in dups {
            let (at, f) = which.get(&log.facts).clone();
            with_dups.facts.push(((at + delay).min(DAYS - 1), f));
        }
        prop_assert_eq!(run(&with_dups.inputs(None)), plain);
    }

    #[test]
    fn a_clock_down_for_a_week_catches_up_with_the_same_signals_once(
        log in log(),
        from in 1..(DAYS - 8),
    ) {
        let to = from + 6;
        // no facts arrive while the clock is down (after tick from-1, before tick to+1): they
        // come after the resume tick in both runs. (A fact that does arrive while the clock is
        // down is evaluated from the first missed day: it may have been known then.)
        let mut moved = log.clone();
        for (at, _) in &mut moved.facts {
            if *at >= from && *at <= to + 1 {
                *at = to + 2;
            }
        }
        let daily = run(&moved.inputs(None));
        let skipped = run(&moved.inputs(Some((from, to))));
        let ids: std::collections::BTreeSet<&String> = skipped.iter().map(|s| &s.id).collect();
        prop_assert_eq!(ids.len(), skipped.len(), "each step once");
        prop_assert_eq!(content(skipped), content(daily));
    }
}

#[test]
fn random_logs_do_make_rules_fire() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut rules = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let log = log().new_tree(&mut runner).unwrap().current();
        for s in run(&log.inputs(None)) {
            rules.insert(format!("{} {}", s.rule, s.step));
        }
    }
    eprintln!("{rules:?}");
    assert!(
        rules.len() >= 12,
        "the generator exercises too few rules: {rules:?}"
    );
}
