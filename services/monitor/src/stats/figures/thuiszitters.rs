//! Thuiszitters by duration, by kind and their in- and outflow with the days to a passend
//! aanbod.

use super::*;

/// A child's thuiszitter row of the duration table: its longest current episode's bucket.
pub(super) fn add_duration(eps: &[Episode], d: Date, row: &mut [u64]) {
    // a child counts once, in its longest current episode
    if let Some(start) = eps
        .iter()
        .filter(|e| thuiszitter_on(e, d))
        .map(|e| e.start)
        .min()
    {
        row[bucket(start, d)] += 1;
    }
}

pub(super) fn duration_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
    let (names, counts) = by_municipality(rows, 3);
    Figure {
        id: "thuiszitters-duur",
        title: "Thuiszitters op de peildatum, naar duur",
        definition: "Kinderen van 5 tot 18 jaar die op de peildatum minstens vier weken niet naar school gaan zonder vrijstelling: met een lopende LRV-melding, een registratie als thuiszitter of leerplichtig en nergens ingeschreven. Een kind telt één keer, met zijn langste lopende periode. Rijen: woongemeente.",
        rows: names,
        cols: DURATIONS.iter().map(|s| s.to_string()).collect(),
        counts,
        care: false,
        measures: Vec::new(),
    }
}

/// Thuiszitters on the peildatum by municipality and duration.
pub fn thuiszitters_by_duration(log: &Log, scope: &Scope, as_of: AsOf) -> Figure {
    let mut rows: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (m, c) in children(log, scope, as_of) {
        add_duration(
            &episodes(c, as_of),
            as_of.peildatum,
            row_of(&mut rows, m, 3),
        );
    }
    duration_figure(rows)
}

/// The children behind a cell of the duration table: (ChildKey, birth date, first day out of
/// school), oldest episode first.
pub fn thuiszitters_in_bucket(
    log: &Log,
    scope: &Scope,
    as_of: AsOf,
    col: usize,
) -> Vec<(String, Date, Date)> {
    let mut out: Vec<(String, Date, Date)> = log
        .children
        .iter()
        .filter(|(_, c)| scope.takes(c, as_of).is_some())
        .filter_map(|(key, c)| {
            let start = episodes(c, as_of)
                .iter()
                .filter(|e| thuiszitter_on(e, as_of.peildatum))
                .map(|e| e.start)
                .min()?;
            (bucket(start, as_of.peildatum) == col).then(|| (key.clone(), c.birth, start))
        })
        .collect();
    out.sort_by_key(|(k, _, start)| (*start, k.clone()));
    out
}

pub(super) fn add_kind(eps: &[Episode], d: Date, row: &mut [u64]) {
    for (i, k) in Kind::ALL.iter().enumerate() {
        if eps.iter().any(|e| e.kind == *k && thuiszitter_on(e, d)) {
            row[i] += 1;
        }
    }
}

pub(super) fn kind_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
    let (names, counts) = by_municipality(rows, 3);
    Figure {
        id: "thuiszitters-soort",
        title: "Thuiszitters op de peildatum, naar soort",
        definition: "Dezelfde kinderen naar de soort van hun lopende periode; een kind met een LRV-melding én een registratie telt in beide kolommen.",
        rows: names,
        cols: Kind::ALL.iter().map(|k| k.dutch().to_owned()).collect(),
        counts,
        care: false,
        measures: Vec::new(),
    }
}

/// Thuiszitters on the peildatum by municipality and kind (a child may count in more kinds).
pub fn thuiszitters_by_kind(log: &Log, scope: &Scope, as_of: AsOf) -> Figure {
    let mut rows: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (m, c) in children(log, scope, as_of) {
        add_kind(
            &episodes(c, as_of),
            as_of.peildatum,
            row_of(&mut rows, m, 3),
        );
    }
    kind_figure(rows)
}

pub(super) fn add_flow(
    eps: &[Episode],
    from: Date,
    to: Date,
    row: &mut [u64],
    to_aanbod: &mut Vec<i64>,
) {
    for e in eps {
        // a thuiszitter from its 28th day out of school, if it was still out then
        let became = e.start.saturating_add(jiff::Span::new().days(28));
        if became >= from && became <= to && e.end.is_none_or(|end| end > became) {
            row[0] += 1;
            match e.aanbod.filter(|a| *a <= to) {
                Some(a) if a <= e.start.saturating_add(jiff::Span::new().months(3)) => {
                    row[2] += 1;
                    to_aanbod.push(days(e.start, a));
                }
                _ => row[3] += 1,
            }
        }
        if let Some(end) = e.end {
            if end >= from && end <= to && days(e.start, end) >= 28 {
                row[1] += 1;
            }
        }
    }
}

pub(super) fn flow_figure(
    rows: BTreeMap<String, Vec<u64>>,
    to_aanbod: BTreeMap<String, Vec<i64>>,
) -> Figure {
    let (names, counts) = by_municipality(rows, 4);
    let days = names
        .iter()
        .map(|n| to_aanbod.get(n).cloned().unwrap_or_default())
        .collect();
    Figure {
        id: "thuiszitters-stroom",
        title: "Thuiszitters in en uit in de periode",
        definition: "Instroom: perioden die in de periode vier weken duurden. Uitstroom: perioden van minstens vier weken die in de periode eindigden. Van de instroom: met een passend aanbod binnen drie maanden na de eerste dag thuis, en zonder (nog).",
        rows: names,
        cols: vec![
            "Instroom".into(),
            "Uitstroom".into(),
            "Aanbod binnen 3 maanden".into(),
            "Geen aanbod binnen 3 maanden".into(),
        ],
        measures: vec![
            Measure::Share {
                label: "Deel van de instroom met passend aanbod binnen 3 maanden",
                part: counts.cells.iter().map(|r| r[2]).collect(),
                of: counts.cells.iter().map(|r| r[0]).collect(),
            },
            Measure::Median {
                label: "Mediaan aantal dagen tot passend aanbod",
                days,
            },
        ],
        counts,
        care: false,
    }
}

/// Thuiszitters in and out over the period: who became one (four weeks out) and who stopped
/// being one, and of those who started, who had a passend aanbod within three months (with
/// the share and the median days to that aanbod as measures).
pub fn thuiszitters_flow(log: &Log, scope: &Scope, as_of: AsOf, from: Date) -> Figure {
    let mut rows = Rows::new(&[4], 1);
    for (m, c) in children(log, scope, as_of) {
        let ([flow], [to_aanbod]) = rows.of(m) else {
            unreachable!("one table and one list")
        };
        add_flow(&episodes(c, as_of), from, as_of.peildatum, flow, to_aanbod);
    }
    let (mut tables, mut lists) = rows.into_tables();
    flow_figure(tables.remove(0), lists.remove(0))
}
