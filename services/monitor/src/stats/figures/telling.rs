//! The Leerplichttelling: a school year in the national telling's categories.

use super::*;

/// The first day of the school year (1 August) that `d` falls in.
pub fn school_year_start(d: Date) -> Date {
    let y = if d.month() >= 8 {
        d.year()
    } else {
        d.year() - 1
    };
    jiff::civil::date(y, 8, 1)
}

/// The school-year count in the categories of the national Leerplichttelling, by
/// municipality: LRV at the start of the school year (1 September), new LRV cases after it,
/// LRV longer than three months in the year, absoluut verzuim in the year (children), and
/// vrijstellingen granted in the year per article.
pub fn leerplichttelling(
    log: &Log,
    scope: &Scope,
    year_start: Date,
    known_at: Option<Timestamp>,
) -> Figure {
    let year_end = year_start
        .saturating_add(jiff::Span::new().years(1))
        .yesterday()
        .unwrap_or(year_start);
    let sept = jiff::civil::date(year_start.year(), 9, 1);
    let as_of = AsOf {
        peildatum: year_end,
        known_at,
    };
    let cols = 4 + VRIJSTELLINGEN.len();
    let mut rows: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (m, c) in children(log, scope, as_of) {
        let eps = episodes(c, as_of);
        let row = row_of(&mut rows, m, cols);
        let lrv: Vec<&Episode> = eps.iter().filter(|e| e.kind == Kind::Lrv).collect();
        row[0] += u64::from(lrv.iter().any(|e| thuiszitter_on(e, sept)));
        row[1] += u64::from(lrv.iter().any(|e| {
            let became = e.start.saturating_add(jiff::Span::new().days(28));
            became > sept && became <= year_end
        }));
        row[2] += u64::from(lrv.iter().any(|e| {
            let three = e.start.saturating_add(jiff::Span::new().months(3));
            three >= year_start && three <= year_end && e.end.is_none_or(|end| end > three)
        }));
        row[3] += u64::from(eps.iter().any(|e| {
            e.kind == Kind::AbsoluutVerzuim
                && e.start <= year_end
                && e.end.is_none_or(|end| end >= year_start)
        }));
        for (i, (kind, _)) in VRIJSTELLINGEN.iter().enumerate() {
            let granted = c.facts.iter().filter(|k| as_of.knows(k.at)).any(|k| {
                matches!(&k.fact, Fact::Vrijstelling { kind: kd, from, ended: false, .. }
                    if kd == kind && *from >= year_start && *from <= year_end)
            });
            row[4 + i] += u64::from(granted);
        }
    }
    let (names, counts) = by_municipality(rows, cols);
    let mut col_names = vec![
        "LRV bij aanvang schooljaar (1 september)".to_owned(),
        "Nieuwe LRV-gevallen".to_owned(),
        "LRV langer dan 3 maanden".to_owned(),
        "Absoluut verzuim".to_owned(),
    ];
    col_names.extend(
        VRIJSTELLINGEN
            .iter()
            .map(|(_, t)| format!("Vrijstelling {t}")),
    );
    Figure {
        id: "leerplichttelling",
        title: "Leerplichttelling",
        definition: "Per schooljaar (1 augustus tot en met 31 juli), unieke kinderen per categorie van de landelijke telling: langdurig relatief verzuim op 1 september, nieuwe gevallen daarna, langer dan drie maanden aaneen; absoluut verzuim in het schooljaar; vrijstellingen verleend in het schooljaar per artikel. Bevat 5 onder a, dat aan zorg raakt: wie de kinderen niet mag zien krijgt de hele tabel afgerond op vijftallen.",
        rows: names,
        cols: col_names,
        counts,
        care: true,
        measures: Vec::new(),
    }
}
