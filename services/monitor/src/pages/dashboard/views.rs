//! Who looks and what they may see: every figure counted for the region, then each protected
//! (or exact for a municipality's own residents) as the viewer may see it.

use super::*;

/// Who looks, and what they may see.
#[derive(Debug, Clone)]
pub struct Access {
    /// the municipality whose residents the viewer may see exactly (leerplicht, rmc)
    pub own: Option<String>,
}

impl Access {
    /// Exact counts only for one's own residents, and only when the view is limited to them.
    pub fn exact(&self, scope: &Scope) -> bool {
        self.own.is_some() && scope.municipality == self.own
    }

    /// What this viewer may see of `c`: a school, or rows by school or SWV, only exactly (a
    /// school's or an SWV's small table beside its municipality's would give children away).
    pub fn limit(&self, c: &mut Chosen, swv: &std::sync::Arc<figures::Swvs>) -> bool {
        let exact = self.exact(&c.scope);
        if !exact {
            c.scope.school = None;
            c.scope.rows = RowsBy::Municipality;
        }
        c.scope.swv = swv.clone();
        exact
    }
}

pub(super) fn access(s: &MonitorState, contact: &str) -> Option<Access> {
    let c = s.contact(contact)?;
    if !c.roles.iter().any(|r| ROLES.contains(&r.as_str())) {
        return None;
    }
    let own = c
        .roles
        .iter()
        .any(|r| r == "leerplicht" || r == "rmc")
        .then(|| c.institution.strip_prefix("gemeente:").map(str::to_owned))
        .flatten();
    Some(Access { own })
}

/// Every figure of the dashboard for `c`, over every municipality (the rows; a filter on one
/// municipality selects its row after protection, so no two views can be subtracted to give
/// away a small count).
pub fn all(s: &MonitorState, c: &Chosen, now: bool) -> Vec<Figure> {
    let as_of = c.as_of(now);
    let scope = Scope {
        // rows by school or SWV (exact viewers only) count their own residents
        municipality: c.limited_to(),
        ..c.scope.clone()
    };
    let mut out = figures::child_figures(&s.stats, &scope, as_of, c.from);
    let care = out.pop().expect("youth care is counted per child");
    out.extend(figures::signal_figures(s, &scope, c.from, as_of));
    out.push(care);
    out
}

/// The figures as chosen and the other way (as known then, as known now), computed side by
/// side on two threads.
pub fn both(s: &MonitorState, c: &Chosen) -> (Vec<Figure>, Vec<Figure>) {
    std::thread::scope(|t| {
        let other = t.spawn(|| all(s, c, !c.now_known));
        let chosen = all(s, c, c.now_known);
        (chosen, other.join().expect("the figures"))
    })
}

/// The figure and its protected table as a view shows them: the whole region, or the row of
/// one municipality (protected as part of the region's table).
pub fn view(
    f: Figure,
    exact: bool,
    p: &Suppression,
    municipality: Option<&str>,
) -> (Figure, Masked) {
    let m = shown(&f, exact, p);
    let Some(only) = municipality else {
        return (f, m);
    };
    let r = f.rows.iter().position(|x| x == only);
    let row = |cells: Vec<Vec<suppress::Cell>>| match r {
        Some(r) => vec![cells[r].clone()],
        None => vec![vec![suppress::Cell::Exact(0); f.cols.len()]],
    };
    let total = r.map_or(suppress::Cell::Exact(0), |r| m.row_totals[r]);
    let masked = Masked {
        col_totals: row(m.cells.clone()).remove(0),
        cells: row(m.cells),
        row_totals: vec![total],
        total,
        rule: m.rule,
    };
    let counts = suppress::Counts {
        cells: vec![r.map_or_else(|| vec![0; f.cols.len()], |r| f.counts.cells[r].clone())],
    };
    (
        Figure {
            rows: vec![only.to_owned()],
            counts,
            measures: f.measures.iter().map(|x| x.row(r)).collect(),
            ..f
        },
        masked,
    )
}

/// A figure's measures as the viewer may see them: each one's label, its value per row and
/// over all rows ("×" where it is not shown). The value over all rows is shown only when
/// every row's is, so that the rows cannot be taken from it.
pub fn measures(
    f: &Figure,
    exact: bool,
    p: &Suppression,
) -> Vec<(&'static str, Vec<String>, String)> {
    let hidden = || "×".to_owned();
    f.measures
        .iter()
        .map(|x| match x {
            figures::Measure::Share { label, part, of } => {
                let pct = |a: u64, b: u64| {
                    suppress::percentage(a, b, p, exact).map(|v| format!("{v:.0}%"))
                };
                let rows: Vec<Option<String>> =
                    part.iter().zip(of).map(|(a, b)| pct(*a, *b)).collect();
                let total = rows
                    .iter()
                    .all(|r| r.is_some() || exact)
                    .then(|| pct(part.iter().sum(), of.iter().sum()))
                    .flatten();
                (
                    *label,
                    rows.into_iter().map(|r| r.unwrap_or_else(hidden)).collect(),
                    total.unwrap_or_else(hidden),
                )
            }
            figures::Measure::Median { label, days } => {
                let med = |d: &[i64]| suppress::median(d, p, exact).map(|m| m.to_string());
                let all: Vec<i64> = days.iter().flatten().copied().collect();
                (
                    *label,
                    days.iter().map(|d| med(d).unwrap_or_else(hidden)).collect(),
                    med(&all).unwrap_or_else(hidden),
                )
            }
        })
        .collect()
}

/// The table of a figure's measures, with how they are protected.
pub(super) fn measures_table(
    f: &Figure,
    shown: &[(&'static str, Vec<String>, String)],
    p: &Suppression,
    exact: bool,
) -> String {
    if shown.is_empty() {
        return String::new();
    }
    let mut t = format!(
        r#"<div class="schakel-table-wrap"><table class="utrecht-table utrecht-table--html-table"><caption class="utrecht-table__caption">{}: aandeel en mediaan</caption><thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col"></th>"#,
        esc(f.title)
    );
    for (label, _, _) in shown {
        t.push_str(&format!(
            r#"<th class="utrecht-table__header-cell" scope="col">{}</th>"#,
            esc(label)
        ));
    }
    t.push_str(r#"</tr></thead><tbody class="utrecht-table__body">"#);
    let mut lines: Vec<(&str, Vec<&str>)> = f
        .rows
        .iter()
        .enumerate()
        .map(|(r, name)| {
            (
                name.as_str(),
                shown.iter().map(|(_, v, _)| v[r].as_str()).collect(),
            )
        })
        .collect();
    if f.rows.len() > 1 {
        lines.push(("Totaal", shown.iter().map(|(_, _, t)| t.as_str()).collect()));
    }
    for (name, values) in lines {
        t.push_str(&format!(
            r#"<tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="row">{}</th>"#,
            esc(name)
        ));
        for v in values {
            t.push_str(&format!(
                r#"<td class="utrecht-table__cell utrecht-table__cell--numeric-data">{}</td>"#,
                esc(v)
            ));
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table></div>");
    if !exact {
        t.push_str(&format!(
            r#"<p class="utrecht-paragraph utrecht-paragraph--small">× = niet getoond: een percentage of mediaan vraagt minstens {} taken of kinderen, en een percentage toont geen deel of rest van 1 tot {}; het totaal alleen als elke rij getoond is.</p>"#,
            p.min_denominator,
            p.min_count.saturating_sub(1)
        ));
    }
    t
}

/// A figure as the viewer may see it.
pub fn shown(f: &Figure, exact: bool, p: &Suppression) -> Masked {
    if exact {
        suppress::exact(&f.counts)
    } else {
        suppress::mask(&f.counts, if f.care { Kind::Care } else { Kind::Count }, p)
    }
}
