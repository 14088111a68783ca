//! The Leerplein's figures, counted from the log (pure: the same log gives the same figures).
//!
//! Every figure is counted for a peildatum (or a period ending on it) and "as known" at a
//! moment: only the facts the log had received by then count. "As known now" counts every
//! fact, late ones included, so a figure that changed because facts arrived late can be shown
//! both ways. The definitions are in `docs/monitoring.md`.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::Timestamp;

use super::log::{day_of, ChildLog, Fact, Log};
use super::suppress::Counts;
use crate::view::{SignalView, State};

/// When a figure is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsOf {
    pub peildatum: Date,
    /// the facts received by this moment count; None: every fact received so far
    pub known_at: Option<Timestamp>,
}

impl AsOf {
    fn knows(&self, at: Timestamp) -> bool {
        self.known_at.is_none_or(|k| at <= k)
    }
}

/// Which children a figure counts (by municipality of residence and by school), and what its
/// rows are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub municipality: Option<String>,
    pub school: Option<String>,
    pub rows: RowsBy,
    /// the samenwerkingsverband of each school, for rows by SWV
    pub swv: std::sync::Arc<Swvs>,
}

/// What a table's rows are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RowsBy {
    /// the municipality of residence (of the signal, for figures from signals)
    #[default]
    Municipality,
    /// the school of the child's newest enrolment that began by the peildatum (of the signal)
    School,
    /// that school's samenwerkingsverband passend onderwijs
    Swv,
}

/// The row of a child without a known school, or of a school without a known SWV.
pub const NO_SCHOOL: &str = "geen school bekend";
pub const NO_SWV: &str = "geen samenwerkingsverband bekend";

/// Which samenwerkingsverband each school belongs to (`[policy.routing]`: `school_swv`, else
/// the region's `swv`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Swvs {
    pub region: Option<String>,
    pub schools: BTreeMap<String, String>,
}

impl Swvs {
    pub fn of(&self, school: &str) -> Option<&str> {
        self.schools
            .get(school)
            .or(self.region.as_ref())
            .map(String::as_str)
    }
}

/// The school of the child's newest enrolment that began by the peildatum, as known (its last
/// school if it has left it since).
pub fn school_on(c: &ChildLog, as_of: AsOf) -> Option<&str> {
    c.facts
        .iter()
        .filter(|k| as_of.knows(k.at))
        .filter_map(|k| match &k.fact {
            Fact::Enrolled { school, start } if *start <= as_of.peildatum => {
                Some((*start, school.as_str()))
            }
            _ => None,
        })
        .max_by_key(|(start, _)| *start)
        .map(|(_, school)| school)
}

impl Scope {
    /// Whether the scope takes a child (its residence known and in the chosen municipality, at
    /// the chosen school), and the row it counts in.
    fn takes<'a>(&'a self, c: &'a ChildLog, as_of: AsOf) -> Option<&'a str> {
        let m = c.residence.as_deref()?;
        if self.municipality.as_deref().is_some_and(|s| s != m) {
            return None;
        }
        if let Some(school) = &self.school {
            if school_on(c, as_of) != Some(school.as_str()) {
                return None;
            }
        }
        Some(match self.rows {
            RowsBy::Municipality => m,
            RowsBy::School => school_on(c, as_of).unwrap_or(NO_SCHOOL),
            RowsBy::Swv => school_on(c, as_of)
                .and_then(|s| self.swv.of(s))
                .unwrap_or(NO_SWV),
        })
    }

    /// The row a signal counts in.
    fn row_of_signal<'a>(
        &'a self,
        first: &'a schakel_core::domain::events::SignalEvent,
    ) -> Option<&'a str> {
        let m = first.municipality.as_deref()?;
        let school = first
            .institution
            .as_deref()
            .filter(|i| i.starts_with("school:"));
        Some(match self.rows {
            RowsBy::Municipality => m,
            RowsBy::School => school.unwrap_or(NO_SCHOOL),
            RowsBy::Swv => school.and_then(|s| self.swv.of(s)).unwrap_or(NO_SWV),
        })
    }
}

/// A table of figures: its rows and columns named, the counts, and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub id: &'static str,
    pub title: &'static str,
    pub definition: &'static str,
    pub rows: Vec<String>,
    pub cols: Vec<String>,
    pub counts: Counts,
    /// a care category (rounded, small ones hidden)
    pub care: bool,
    /// shares and medians per row beside the counts
    pub measures: Vec<Measure>,
}

/// A measure per row beside a figure's counts (rows in the figure's order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    /// a part of a whole, shown as a percentage
    Share {
        label: &'static str,
        part: Vec<u64>,
        of: Vec<u64>,
    },
    /// days, shown as their median
    Median {
        label: &'static str,
        days: Vec<Vec<i64>>,
    },
}

impl Measure {
    /// The measure of row `r` only.
    pub fn row(&self, r: Option<usize>) -> Measure {
        fn pick<T: Clone + Default>(v: &[T], r: Option<usize>) -> Vec<T> {
            vec![r.and_then(|r| v.get(r).cloned()).unwrap_or_default()]
        }
        match self {
            Measure::Share { label, part, of } => Measure::Share {
                label,
                part: pick(part, r),
                of: pick(of, r),
            },
            Measure::Median { label, days } => Measure::Median {
                label,
                days: pick(days, r),
            },
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            Measure::Share { label, .. } | Measure::Median { label, .. } => label,
        }
    }
}

fn days(from: Date, to: Date) -> i64 {
    (to - from).get_days().into()
}

/// A thuiszitter's kind of episode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// langdurig relatief verzuim: an LRV melding
    Lrv,
    /// leerplichtig and enrolled nowhere
    AbsoluutVerzuim,
    /// registered as thuiszitter by leerplicht
    Registratie,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Lrv, Kind::AbsoluutVerzuim, Kind::Registratie];

    pub fn dutch(self) -> &'static str {
        match self {
            Kind::Lrv => "Langdurig relatief verzuim",
            Kind::AbsoluutVerzuim => "Absoluut verzuim",
            Kind::Registratie => "Registratie thuiszitter",
        }
    }
}

/// A stretch out of school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Episode {
    pub kind: Kind,
    pub start: Date,
    /// the first day back (or with a passend aanbod), as known
    pub end: Option<Date>,
    /// the day a passend aanbod began, if one did
    pub aanbod: Option<Date>,
}

/// Whether the child is leerplichtig on `d` (from the month after its 5th birthday to the end
/// of the school year in which it turns 16).
fn leerplichtig(birth: Date, d: Date) -> bool {
    let five = birth.saturating_add(jiff::Span::new().years(5));
    let start = five
        .first_of_month()
        .saturating_add(jiff::Span::new().months(1));
    let sixteen = birth.saturating_add(jiff::Span::new().years(16));
    let end_year = if sixteen.month() >= 8 {
        sixteen.year() + 1
    } else {
        sixteen.year()
    };
    d >= start && d <= jiff::civil::date(end_year, 7, 31)
}

/// The child's episodes out of school as known at `as_of`.
pub fn episodes(c: &ChildLog, as_of: AsOf) -> Vec<Episode> {
    // most children never leave school: nothing to gather for them
    if !c.facts.iter().any(|k| {
        matches!(
            k.fact,
            Fact::Thuiszitter { .. } | Fact::Verzuim { .. } | Fact::Unenrolled { .. }
        )
    }) {
        return Vec::new();
    }
    let known: Vec<&Fact> = c
        .facts
        .iter()
        .filter(|k| as_of.knows(k.at))
        .map(|k| &k.fact)
        .collect();
    let aanbod: Vec<Date> = known
        .iter()
        .filter_map(|f| match f {
            Fact::ThuiszitterResolved { date, .. } => Some(*date),
            _ => None,
        })
        .collect();
    let first_aanbod = |start: Date| aanbod.iter().copied().filter(|d| *d >= start).min();
    let mut out = Vec::new();
    for f in &known {
        match f {
            Fact::Thuiszitter { since } => {
                let a = first_aanbod(*since);
                out.push(Episode {
                    kind: Kind::Registratie,
                    start: *since,
                    end: a,
                    aanbod: a,
                });
            }
            Fact::Verzuim {
                nr,
                kind,
                first_absence,
                ..
            } if kind == "lrv" => {
                // closed on the day the melding was closed or withdrawn, as the log knew it
                let closed =
                    c.facts
                        .iter()
                        .filter(|k| as_of.knows(k.at))
                        .find_map(|k| match &k.fact {
                            Fact::VerzuimStatus { nr: n, status }
                                if n == nr
                                    && matches!(status.as_str(), "afgesloten" | "ingetrokken") =>
                            {
                                Some(day_of(k.at))
                            }
                            _ => None,
                        });
                let a = first_aanbod(*first_absence);
                out.push(Episode {
                    kind: Kind::Lrv,
                    start: *first_absence,
                    end: [closed, a].into_iter().flatten().min(),
                    aanbod: a,
                });
            }
            _ => {}
        }
    }
    // absoluut verzuim: from the day after an unenrolment, until an enrolment begins
    let mut spans: Vec<(Date, bool)> = known
        .iter()
        .filter_map(|f| match f {
            Fact::Enrolled { start, .. } => Some((*start, true)),
            Fact::Unenrolled { end, .. } => Some((end.tomorrow().unwrap_or(*end), false)),
            _ => None,
        })
        .collect();
    spans.sort();
    let mut open: Option<Date> = None;
    for (d, enrolled) in spans {
        match (enrolled, open) {
            (false, None) => open = Some(d),
            (true, Some(s)) => {
                out.push(Episode {
                    kind: Kind::AbsoluutVerzuim,
                    start: s,
                    end: Some(d),
                    aanbod: first_aanbod(s).filter(|a| *a <= d),
                });
                open = None;
            }
            _ => {}
        }
    }
    if let Some(s) = open {
        if leerplichtig(c.birth, s) || leerplichtig(c.birth, as_of.peildatum) {
            let a = first_aanbod(s);
            out.push(Episode {
                kind: Kind::AbsoluutVerzuim,
                start: s,
                end: a,
                aanbod: a,
            });
        }
    }
    out.retain(|e| e.kind != Kind::AbsoluutVerzuim || leerplichtig(c.birth, e.start));
    out
}

/// Out of school for at least four weeks on `d`.
fn thuiszitter_on(e: &Episode, d: Date) -> bool {
    e.start <= d && e.end.is_none_or(|end| end > d) && days(e.start, d) >= 28
}

/// The duration buckets of a thuiszitter on the peildatum.
pub const DURATIONS: [&str; 3] = [
    "4 weken tot 3 maanden",
    "3 tot 6 maanden",
    "langer dan 6 maanden",
];

fn bucket(start: Date, d: Date) -> usize {
    let three = start.saturating_add(jiff::Span::new().months(3));
    let six = start.saturating_add(jiff::Span::new().months(6));
    if d <= three {
        0
    } else if d <= six {
        1
    } else {
        2
    }
}

/// The children a scope takes, with the row each counts in.
fn children<'a>(
    log: &'a Log,
    scope: &'a Scope,
    as_of: AsOf,
) -> impl Iterator<Item = (&'a str, &'a ChildLog)> + 'a {
    log.children
        .values()
        .filter_map(move |c| Some((scope.takes(c, as_of)?, c)))
}

/// The row of municipality `m`, made on first use (without a new string for every child).
fn row_of<'a>(rows: &'a mut BTreeMap<String, Vec<u64>>, m: &str, width: usize) -> &'a mut Vec<u64> {
    if !rows.contains_key(m) {
        rows.insert(m.to_owned(), vec![0; width]);
    }
    rows.get_mut(m).expect("just inserted")
}

/// A table with one row per municipality seen, in order.
fn by_municipality(rows: BTreeMap<String, Vec<u64>>, width: usize) -> (Vec<String>, Counts) {
    let names: Vec<String> = rows.keys().cloned().collect();
    let cells = rows
        .into_values()
        .map(|mut r| {
            r.resize(width, 0);
            r
        })
        .collect();
    (names, Counts { cells })
}

/// A child's thuiszitter row of the duration table: its longest current episode's bucket.
fn add_duration(eps: &[Episode], d: Date, row: &mut [u64]) {
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

fn duration_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
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

fn add_kind(eps: &[Episode], d: Date, row: &mut [u64]) {
    for (i, k) in Kind::ALL.iter().enumerate() {
        if eps.iter().any(|e| e.kind == *k && thuiszitter_on(e, d)) {
            row[i] += 1;
        }
    }
}

fn kind_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
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

fn add_flow(eps: &[Episode], from: Date, to: Date, row: &mut [u64], to_aanbod: &mut Vec<i64>) {
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

fn flow_figure(rows: BTreeMap<String, Vec<u64>>, to_aanbod: BTreeMap<String, Vec<i64>>) -> Figure {
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

/// The kinds of vrijstelling.
pub const VRIJSTELLINGEN: [(&str, &str); 5] = [
    ("5-onder-a", "5 onder a (lichamelijk of psychisch)"),
    ("5-onder-b", "5 onder b (richting)"),
    ("5-onder-c", "5 onder c (school in het buitenland)"),
    ("art-15", "Artikel 15"),
    ("art-3a", "Artikel 3a"),
];

fn add_vrijstellingen(c: &ChildLog, as_of: AsOf, row: &mut [u64]) {
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
fn add_new_vrijstellingen(c: &ChildLog, as_of: AsOf, from: Date, row: &mut [u64]) {
    for (i, (kind, _)) in VRIJSTELLINGEN.iter().enumerate() {
        let began = c.facts.iter().filter(|k| as_of.knows(k.at)).any(|k| {
            matches!(&k.fact, Fact::Vrijstelling { kind: kd, from: f, ended: false, .. }
                if kd == kind && *f >= from && *f <= as_of.peildatum)
        });
        row[i] += u64::from(began);
    }
}

fn new_vrijstellingen_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
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

fn vrijstellingen_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
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
fn status_on<'a>(known: &[&'a super::log::Known], nr: &str, d: Date) -> &'a str {
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

fn add_verzuim(c: &ChildLog, as_of: AsOf, by_kind: &mut [u64], by_status: &mut [u64]) {
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

fn verzuim_figure(rows: BTreeMap<String, Vec<u64>>, by_status: bool) -> Figure {
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

fn add_youth_care(c: &ChildLog, as_of: AsOf, row: &mut [u64]) {
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

fn youth_care_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
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

/// Every figure counted per child, in one pass over the children: thuiszitters by duration,
/// by kind and their flow, vrijstellingen in force and new in the period, verzuim by kind and
/// by status, youth care by age.
pub fn child_figures(log: &Log, scope: &Scope, as_of: AsOf, from: Date) -> Vec<Figure> {
    const WIDTHS: [usize; 8] = [3, 3, 4, 5, 5, VERZUIM.len(), STATUSES.len(), 18];
    let mut rows = Rows::new(&WIDTHS, 1);
    let d = as_of.peildatum;
    for (m, c) in children(log, scope, as_of) {
        let eps = episodes(c, as_of);
        let ([dur, kind, flow, vrij, nieuw, vk, vs, care], [to_aanbod]) = rows.of(m) else {
            unreachable!("eight tables and one list")
        };
        add_duration(&eps, d, dur);
        add_kind(&eps, d, kind);
        add_flow(&eps, from, d, flow, to_aanbod);
        add_vrijstellingen(c, as_of, vrij);
        add_new_vrijstellingen(c, as_of, from, nieuw);
        add_verzuim(c, as_of, vk, vs);
        add_youth_care(c, as_of, care);
    }
    let (tables, mut lists) = rows.into_tables();
    let [dur, kind, flow, vrij, nieuw, vk, vs, care] = tables.try_into().expect("eight tables");
    vec![
        duration_figure(dur),
        kind_figure(kind),
        flow_figure(flow, lists.remove(0)),
        vrijstellingen_figure(vrij),
        new_vrijstellingen_figure(nieuw),
        verzuim_figure(vk, false),
        verzuim_figure(vs, true),
        youth_care_figure(care),
    ]
}

/// Several tables with a row per municipality, filled in one pass: a municipality's rows are
/// found once per child (not once per table); beside them, lists of days per municipality.
struct Rows<'a> {
    widths: &'a [usize],
    lists: usize,
    index: std::collections::HashMap<&'a str, usize>,
    /// per municipality, in order of first sight
    rows: Vec<Of<'a>>,
}

/// A municipality's row of every table and its lists.
struct Of<'a> {
    name: &'a str,
    rows: Vec<Vec<u64>>,
    lists: Vec<Vec<i64>>,
}

type Tables = Vec<BTreeMap<String, Vec<u64>>>;
type Lists = Vec<BTreeMap<String, Vec<i64>>>;

impl<'a> Rows<'a> {
    fn new(widths: &'a [usize], lists: usize) -> Self {
        Rows {
            widths,
            lists,
            index: Default::default(),
            rows: Vec::new(),
        }
    }

    fn of(&mut self, m: &'a str) -> (&mut [Vec<u64>], &mut [Vec<i64>]) {
        let i = *self.index.entry(m).or_insert_with(|| {
            self.rows.push(Of {
                name: m,
                rows: self.widths.iter().map(|w| vec![0; *w]).collect(),
                lists: vec![Vec::new(); self.lists],
            });
            self.rows.len() - 1
        });
        let of = &mut self.rows[i];
        (&mut of.rows, &mut of.lists)
    }

    fn into_tables(self) -> (Tables, Lists) {
        let mut tables = vec![BTreeMap::new(); self.widths.len()];
        let mut lists = vec![BTreeMap::new(); self.lists];
        for of in self.rows {
            for (t, row) in tables.iter_mut().zip(of.rows) {
                t.insert(of.name.to_owned(), row);
            }
            for (l, d) in lists.iter_mut().zip(of.lists) {
                l.insert(of.name.to_owned(), d);
            }
        }
        (tables, lists)
    }
}

/// The transitions with a warm handoff.
pub const HANDOFFS: [(&str, &str); 4] = [
    ("R1a", "Voorschool → basisschool"),
    ("R2b", "Basisschool → voortgezet onderwijs"),
    ("R3b", "18-/18+: jeugdteam → volwassenenzorg"),
    ("R3d", "18+: leerplicht → RMC"),
];

/// The steps a handoff is counted by.
pub const HANDOFF_STEPS: [&str; 6] = [
    "Geopend",
    "Ontvangst bevestigd",
    "Afgerond",
    "Termijn verstreken",
    "Geëscaleerd",
    "Vervallen",
];

/// Counts one signal into the handoff table of its transition: how far it got by `d`; then
/// whether it was completed by its due date and whether it was due (two columns the figure
/// turns into a share); and the days to its acknowledgement.
fn add_handoff(v: &SignalView, d: Date, row: &mut [u64], to_ack: &mut Vec<i64>) {
    use schakel_core::domain::catalogue::EventType as E;
    let Some(first) = v.first() else { return };
    let step = |w: &str| v.steps.iter().any(|x| x.step == w && x.fired_on <= d);
    let answered = |k: E| {
        v.answers
            .iter()
            .filter(|a| a.kind == k && day_of(a.at) <= d)
            .map(|a| day_of(a.at))
            .min()
    };
    let ack = answered(E::HandoffAcknowledged);
    let completed_on = v
        .steps
        .iter()
        .filter(|x| x.step == "completed" && x.fired_on <= d)
        .map(|x| x.fired_on)
        .min();
    row[0] += 1;
    row[1] += u64::from(ack.is_some() || step("acknowledged"));
    row[2] += u64::from(completed_on.is_some());
    row[3] += u64::from(step("overdue"));
    row[4] += u64::from(step("escalated"));
    row[5] += u64::from(step("cancelled") || answered(E::HandoffCancelled).is_some());
    if let Some(a) = ack {
        to_ack.push(days(first.fired_on, a));
    }
    if let (Some(c), Some(due)) = (completed_on, first.due_date) {
        row[6] += u64::from(c <= due);
    }
    if first.due_date.is_some_and(|due| due <= d) || completed_on.is_some() {
        row[7] += 1;
    }
}

fn handoff_figure(
    rule: &str,
    rows: BTreeMap<String, Vec<u64>>,
    to_ack: BTreeMap<String, Vec<i64>>,
) -> Figure {
    let (names, mut counts) = by_municipality(rows, HANDOFF_STEPS.len() + 2);
    let (on_time, due) = counts
        .cells
        .iter_mut()
        .map(|r| {
            let due = r.pop().unwrap_or(0);
            (r.pop().unwrap_or(0), due)
        })
        .unzip();
    let days = names
        .iter()
        .map(|n| to_ack.get(n).cloned().unwrap_or_default())
        .collect();
    let title = HANDOFFS
        .iter()
        .find(|(r, _)| *r == rule)
        .map_or("Warme overdracht", |(_, t)| t);
    Figure {
        id: match rule {
            "R1a" => "overdracht-r1a",
            "R2b" => "overdracht-r2b",
            "R3b" => "overdracht-r3b",
            _ => "overdracht-r3d",
        },
        title,
        definition: "Warme overdrachten die in de periode werden geopend, met hoe ver ze op de peildatum waren gekomen; een taak telt in elke stap die ze bereikte. Tijdig afgerond: van de taken waarvan de termijn op de peildatum verstreken was of die afgerond waren, het deel dat uiterlijk op de termijn werd afgerond. Rijen: gemeente van het signaal.",
        rows: names,
        cols: HANDOFF_STEPS.iter().map(|s| s.to_string()).collect(),
        counts,
        care: false,
        measures: vec![
            Measure::Share {
                label: "Tijdig afgerond",
                part: on_time,
                of: due,
            },
            Measure::Median {
                label: "Mediaan aantal dagen tot ontvangstbevestiging",
                days,
            },
        ],
    }
}

/// The signals of children out of view at a transition.
pub const OUT_OF_VIEW: [(&str, &str); 5] = [
    ("R1b", "Peuter met VVE-indicatie niet aangemeld"),
    ("R1c", "Leerplichtig en nergens ingeschreven"),
    ("R2a", "Groep 8 zonder aanmelding VO"),
    ("R2c", "Oud-leerling groep 8 nergens ingeschreven"),
    ("R5", "Uitgeschreven zonder nieuwe inschrijving"),
];

fn out_of_view_figure(rows: BTreeMap<String, Vec<u64>>, opened: bool) -> Figure {
    let (names, counts) = by_municipality(rows, OUT_OF_VIEW.len());
    Figure {
        id: if opened { "uit-beeld-nieuw" } else { "uit-beeld" },
        title: if opened {
            "Kinderen uit beeld: nieuw in de periode"
        } else {
            "Kinderen uit beeld op de peildatum"
        },
        definition: "Signalen van kinderen die bij een overgang uit beeld raken, naar regel. Rijen: gemeente van het signaal.",
        rows: names,
        cols: OUT_OF_VIEW.iter().map(|(_, t)| t.to_string()).collect(),
        counts,
        care: false,
        measures: Vec::new(),
    }
}

/// The columns of the doorbraak table.
pub const DOORBRAAK: [&str; 6] = [
    "Open op de peildatum",
    "Nieuw in de periode",
    "Gesloten in de periode",
    "Open korter dan 1 maand",
    "Open 1 tot 3 maanden",
    "Open 3 maanden of langer",
];

/// Counts one signal into the doorbraak table if it was escalated to the doorbraakaanpak by
/// `d`: open or closed, new in the period, and the age of an open case.
fn add_doorbraak(v: &SignalView, from: Date, d: Date, row: &mut [u64]) {
    use schakel_core::domain::catalogue::EventType as E;
    let Some(since) = v
        .steps
        .iter()
        .filter(|x| {
            x.step == "escalated"
                && x.fired_on <= d
                && x.recipients.iter().any(|r| r == "doorbraak")
        })
        .map(|x| x.fired_on)
        .min()
    else {
        return;
    };
    let stepped = v
        .steps
        .iter()
        .filter(|x| matches!(x.step.as_str(), "resolved" | "completed" | "cancelled"))
        .map(|x| x.fired_on);
    let answered = v
        .answers
        .iter()
        .filter(|a| matches!(a.kind, E::HandoffCompleted | E::HandoffCancelled))
        .map(|a| day_of(a.at));
    let closed = stepped
        .chain(answered)
        .filter(|c| *c >= since && *c <= d)
        .min();
    row[1] += u64::from(since >= from);
    match closed {
        Some(c) => row[2] += u64::from(c >= from),
        None => {
            row[0] += 1;
            let one = since.saturating_add(jiff::Span::new().months(1));
            let three = since.saturating_add(jiff::Span::new().months(3));
            row[if d < one {
                3
            } else if d < three {
                4
            } else {
                5
            }] += 1;
        }
    }
}

fn doorbraak_figure(rows: BTreeMap<String, Vec<u64>>) -> Figure {
    let (names, counts) = by_municipality(rows, DOORBRAAK.len());
    Figure {
        id: "doorbraak",
        title: "Casussen in de doorbraakaanpak",
        definition: "Signalen die naar de doorbraakaanpak zijn geëscaleerd (thuiszitters zonder passend aanbod, 18-/18+ zonder overdracht): open op de peildatum en hoe lang al, nieuw en gesloten in de periode. Raakt aan zorg: afgerond op vijftallen, kleine aantallen verborgen. Rijen: gemeente van het signaal.",
        rows: names,
        cols: DOORBRAAK.iter().map(|s| s.to_string()).collect(),
        counts,
        care: true,
        measures: Vec::new(),
    }
}

/// The figures counted per signal, in one pass over the signals: the warm handoffs of each
/// transition opened in the period (how far each got by the peildatum, and how timely), the
/// children out of view at a transition (open on the peildatum, new in the period), and the
/// cases in the doorbraakaanpak. Figures in the order of `HANDOFFS`, then out of view open,
/// new, then doorbraak.
pub fn signal_figures(s: &State, scope: &Scope, from: Date, as_of: AsOf) -> Vec<Figure> {
    let d = as_of.peildatum;
    let h = HANDOFFS.len();
    let mut widths = vec![HANDOFF_STEPS.len() + 2; h];
    widths.extend([OUT_OF_VIEW.len(), OUT_OF_VIEW.len(), DOORBRAAK.len()]);
    let mut rows = Rows::new(&widths, h);
    let at_school = |first: &schakel_core::domain::events::SignalEvent| {
        scope.school.as_deref().is_none_or(|sc| {
            first.institution.as_deref() == Some(sc) || first.routes.values().any(|i| i == sc)
        })
    };
    for v in s.signals.values() {
        let Some(first) = v.first() else { continue };
        if first.fired_on > d
            || first.municipality.is_none()
            || scope.municipality.is_some() && first.municipality != scope.municipality
        {
            continue;
        }
        let Some(m) = scope.row_of_signal(first) else {
            continue;
        };
        if let Some(k) = HANDOFFS.iter().position(|(r, _)| *r == first.rule) {
            if at_school(first) {
                let (row, lists) = rows.of(m);
                if first.fired_on >= from {
                    add_handoff(v, d, &mut row[k], &mut lists[k]);
                }
                add_doorbraak(v, from, d, &mut row[h + 2]);
            }
        } else if let Some(c) = OUT_OF_VIEW.iter().position(|(r, _)| *r == first.rule) {
            let closed = v
                .steps
                .iter()
                .any(|x| x.fired_on <= d && matches!(x.step.as_str(), "resolved" | "cancelled"));
            let (row, _) = rows.of(m);
            row[h][c] += u64::from(!closed);
            row[h + 1][c] += u64::from(first.fired_on >= from);
        } else if at_school(first) {
            add_doorbraak(v, from, d, &mut rows.of(m).0[h + 2]);
        }
    }
    let (tables, lists) = rows.into_tables();
    let mut tables = tables.into_iter();
    let mut figures: Vec<Figure> = HANDOFFS
        .iter()
        .zip(tables.by_ref())
        .zip(lists)
        .map(|(((rule, _), t), l)| handoff_figure(rule, t, l))
        .collect();
    figures.extend(
        tables
            .by_ref()
            .take(2)
            .zip([false, true])
            .map(|(t, opened)| out_of_view_figure(t, opened)),
    );
    figures.extend(tables.map(doorbraak_figure));
    figures
}

/// The warm handoffs of transition `rule` opened in the period, by municipality: how far each
/// got by the peildatum, with how timely they were as measures.
pub fn handoffs(s: &State, scope: &Scope, from: Date, as_of: AsOf, rule: &str) -> Figure {
    let i = HANDOFFS.iter().position(|(r, _)| *r == rule).unwrap_or(0);
    signal_figures(s, scope, from, as_of).swap_remove(i)
}

/// Children out of view at a transition, by municipality: signals open on the peildatum
/// (`opened`: false) or opened in the period (`opened`: true).
pub fn out_of_view(s: &State, scope: &Scope, from: Date, as_of: AsOf, opened: bool) -> Figure {
    signal_figures(s, scope, from, as_of).swap_remove(HANDOFFS.len() + usize::from(opened))
}

/// Cases escalated to the doorbraakaanpak, by municipality.
pub fn doorbraak(s: &State, scope: &Scope, from: Date, as_of: AsOf) -> Figure {
    signal_figures(s, scope, from, as_of).swap_remove(HANDOFFS.len() + 2)
}

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
