//! Thuiszitters by duration and kind, their in- and outflow with the aanbod, and vrijstellingen,
//! on three peildata as then known and as now known.

use super::*;

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
            let all = crate::stats::figures::child_figures(
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
pub(super) fn expected_flow(
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
    use crate::stats::figures::{thuiszitters_flow, Measure};
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
