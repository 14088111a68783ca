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

mod care;
mod episodes;
mod signals;
mod telling;
mod thuiszitters;
pub use care::*;
pub use episodes::*;
pub use signals::*;
pub use telling::*;
pub use thuiszitters::*;

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
