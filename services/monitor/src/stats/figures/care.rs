//! Vrijstellingen in force and new, verzuim meldingen by kind and status, and youths with
//! youth care by age month.

use super::*;

/// The kinds of vrijstelling.
pub const VRIJSTELLINGEN: [(&str, &str); 5] = [
    ("5-onder-a", "5 onder a (lichamelijk of psychisch)"),
    ("5-onder-b", "5 onder b (richting)"),
    ("5-onder-c", "5 onder c (school in het buitenland)"),
    ("art-15", "Artikel 15"),
    ("art-3a", "Artikel 3a"),
];

pub(super) fn add_vrijstellingen(c: &ChildLog, as_of: AsOf, row: &mut [u64]) {
    let d = as_of.peildatum;
    for (i, (kind, _)) in VRIJSTELLINGEN.iter().enumerate() {
        let mut in_force = false;
        for k in c.facts.iter().filter(|k| as_of.knows(k.at)) {
            if let Fact::Vrijstelling {
                kind: kd,
                from,
                until,
                ended,
            } = &k.fact
            {
                if kd != kind || *from > d {
                    continue;
                }
                if *ended {
                    if until.is_none_or(|u| u <= d) {
                        in_force = false;
                    }
                } else if until.is_none_or(|u| u >= d) {
                    in_force = true;
                }
            }
        }
        if in_force {
            row[i] += 1;
        }
    }
}

/// A child's vrijstellingen that began in the period, by kind (a kind counts once).
pub(super) fn add_new_vrijstellingen(c: &ChildLog, as_of: AsOf, from: Date, row: &mut [u64]) {
    for (i, (kind, _)) in VRIJSTELLINGEN.iter().enumerate() {
        let began = c.facts.iter().filter(|k| as_of.knows(k.at)).any(|k| {
            matches!(&k.fact, Fact::Vrijstelling { kind: kd, from: f, ended: false, .. }
                if kd == kind && *f >= from && *f <= as_of.peildatum)
        });
        row[i] += u64::from(began);
    }
}

pub(super) fn new_vrijstellingen_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
    let (names, counts) = by_municipality(rows, VRIJSTELLINGEN.len());
    Figure {
        id: "vrijstellingen-nieuw",
        title: "Vrijstellingen: nieuw in de periode",
        definition: "Kinderen met een vrijstelling die in de periode (standaard: het schooljaar tot de peildatum) inging, naar artikel. Raakt aan zorg: afgerond op vijftallen, kleine aantallen verborgen.",
        rows: names,
        cols: VRIJSTELLINGEN.iter().map(|(_, t)| t.to_string()).collect(),
        counts,
        care: true,
        measures: Vec::new(),
    }
}

pub(super) fn vrijstellingen_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
    let (names, counts) = by_municipality(rows, 5);
    Figure {
        id: "vrijstellingen",
        title: "Vrijstellingen op de peildatum",
        definition: "Kinderen met een vrijstelling die op de peildatum geldt, naar artikel. 5 onder a raakt aan zorg: afgerond op vijftallen, kleine aantallen verborgen.",
        rows: names,
        cols: VRIJSTELLINGEN.iter().map(|(_, t)| t.to_string()).collect(),
        counts,
        care: true,
        measures: Vec::new(),
    }
}

/// Vrijstellingen in force on the peildatum, by municipality and kind.
pub fn vrijstellingen(log: &Log, scope: &Scope, as_of: AsOf) -> Figure {
    let mut rows: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (m, c) in children(log, scope, as_of) {
        add_vrijstellingen(c, as_of, row_of(&mut rows, m, 5));
    }
    vrijstellingen_figure(rows)
}

/// The statuses of a verzuim melding, in their order.
pub const STATUSES: [&str; 5] = [
    "geregistreerd",
    "in-behandeling",
    "afgesloten",
    "ingetrokken",
    "ter-kennisgeving-aangenomen",
];

/// The kinds of verzuim.
pub const VERZUIM: [&str; 5] = ["16-uur", "lrv", "luxe", "18-plus", "overig"];

/// The status of melding `nr` on day `d`, as known.
pub(super) fn status_on<'a>(known: &[&'a crate::stats::log::Known], nr: &str, d: Date) -> &'a str {
    known
        .iter()
        .filter(|s| day_of(s.at) <= d)
        .filter_map(|s| match &s.fact {
            Fact::VerzuimStatus { nr: n, status } if n == nr => Some(status.as_str()),
            _ => None,
        })
        .next_back()
        .unwrap_or("geregistreerd")
}

pub(super) fn add_verzuim(c: &ChildLog, as_of: AsOf, by_kind: &mut [u64], by_status: &mut [u64]) {
    if !c
        .facts
        .iter()
        .any(|k| matches!(k.fact, Fact::Verzuim { .. }))
    {
        return;
    }
    let known: Vec<_> = c.facts.iter().filter(|k| as_of.knows(k.at)).collect();
    for k in &known {
        if let Fact::Verzuim {
            nr,
            kind,
            first_absence,
            ..
        } = &k.fact
        {
            if *first_absence > as_of.peildatum {
                continue;
            }
            if let Some(col) = VERZUIM.iter().position(|x| x == kind) {
                by_kind[col] += 1;
            }
            let st = status_on(&known, nr, as_of.peildatum);
            if let Some(col) = STATUSES.iter().position(|x| *x == st) {
                by_status[col] += 1;
            }
        }
    }
}

pub(super) fn verzuim_figure(rows: BTreeMap<String, Vec<u64>>, by_status: bool) -> Figure {
    if by_status {
        let (names, counts) = by_municipality(rows, STATUSES.len());
        Figure {
            id: "verzuim-status",
            title: "Verzuimmeldingen naar status",
            definition: "Meldingen met een eerste verzuimdag tot en met de peildatum, naar de status die ze op de peildatum hadden. Rijen: woongemeente.",
            rows: names,
            cols: STATUSES.iter().map(|s| s.to_string()).collect(),
            counts,
            care: false,
            measures: Vec::new(),
        }
    } else {
        let (names, counts) = by_municipality(rows, VERZUIM.len());
        Figure {
            id: "verzuim-soort",
            title: "Verzuimmeldingen naar soort",
            definition: "Meldingen met een eerste verzuimdag tot en met de peildatum, naar soort verzuim. Rijen: woongemeente.",
            rows: names,
            cols: VERZUIM.iter().map(|s| s.to_string()).collect(),
            counts,
            care: false,
            measures: Vec::new(),
        }
    }
}

/// Verzuim meldingen up to the peildatum by municipality: by kind (`by_status`: false) or by
/// the status they had on the peildatum.
pub fn verzuim(log: &Log, scope: &Scope, as_of: AsOf, by_status: bool) -> Figure {
    let (mut kinds, mut statuses): (BTreeMap<String, Vec<u64>>, BTreeMap<String, Vec<u64>>) =
        Default::default();
    for (m, c) in children(log, scope, as_of) {
        add_verzuim(
            c,
            as_of,
            row_of(&mut kinds, m, VERZUIM.len()),
            row_of(&mut statuses, m, STATUSES.len()),
        );
    }
    verzuim_figure(if by_status { statuses } else { kinds }, by_status)
}

pub(super) fn add_youth_care(c: &ChildLog, as_of: AsOf, row: &mut [u64]) {
    let d = as_of.peildatum;
    let months = i64::from((d.year() - c.birth.year()) as i32) * 12
        + i64::from(d.month() - c.birth.month())
        - i64::from(d.day() < c.birth.day());
    if !(198..216).contains(&months) {
        return;
    }
    let active =
        c.facts.iter().filter(|k| as_of.knows(k.at)).any(|k| {
            match &k.fact {
        Fact::Care { nr, from, until } => {
            *from <= d
                && until.is_none_or(|u| u >= d)
                && !c.facts.iter().filter(|w| as_of.knows(w.at)).any(|w| {
                    matches!(&w.fact, Fact::CareWithdrawn { nr: n, date } if n == nr && *date <= d)
                })
        }
        _ => false,
    }
        });
    if active {
        row[(months - 198) as usize] += 1;
    }
}

pub(super) fn youth_care_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
    let (names, counts) = by_municipality(rows, 18);
    Figure {
        id: "jeugdhulp-18",
        title: "Jongeren met jeugdhulp op weg naar 18",
        definition: "Jongeren met een lopende toewijzing jeugdhulp op de peildatum, naar leeftijd in maanden van 16 jaar en 6 maanden tot 18 jaar. Raakt aan zorg: afgerond op vijftallen, kleine aantallen verborgen.",
        rows: names,
        cols: (198..216).map(|m| format!("{}j{}m", m / 12, m % 12)).collect(),
        counts,
        care: true,
        measures: Vec::new(),
    }
}

/// Youths with active youth care on the peildatum, by age in months from 16y6m to 17y11m.
pub fn youth_care_by_age(log: &Log, scope: &Scope, as_of: AsOf) -> Figure {
    let mut rows: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (m, c) in children(log, scope, as_of) {
        add_youth_care(c, as_of, row_of(&mut rows, m, 18));
    }
    youth_care_figure(rows)
}
