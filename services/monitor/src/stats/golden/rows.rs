//! Rows by school and by samenwerkingsverband count the same children as their municipality.

use super::*;

#[test]
fn rows_by_school_and_by_samenwerkingsverband_count_the_same_children() {
    use crate::stats::figures::{RowsBy, Swvs, NO_SCHOOL, NO_SWV};
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
