//! `GET /dashboard`: the Leerplein's figures on a peildatum, for the roles that monitor the
//! region (`leerplicht`, `rmc`, `doorbraak`, `beleid`), and `GET /v1/stats/{figure}` (JSON)
//! and `/v1/stats/{figure}.csv`, with the same protection. A `leerplicht` or `rmc` contact
//! sees exact counts for the residents of its own municipality; every other view is masked
//! (`stats::suppress`). Filters are a plain form; charts are inline SVG with the same data as
//! the table beside them.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::civil::Date;
use schakel_core::domain::wording::dutch_date;
use serde::Deserialize;

use super::layout::{esc, html, message, page, secure_headers, Who};
use super::{login_first, problem, who};
use crate::auth::{viewer, Viewer};
use crate::stats::figures::{self, AsOf, Figure, RowsBy, Scope};
use crate::stats::log::day_of;
use crate::stats::suppress::{self, Kind, Masked, Suppression};
use crate::view::State as MonitorState;
use crate::AppState;

/// The roles that see the dashboard.
pub const ROLES: [&str; 4] = ["leerplicht", "rmc", "doorbraak", "beleid"];

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Filters {
    /// YYYY-MM-DD
    pub peildatum: Option<String>,
    /// `nu` (every fact known now, the default) or `toen` (as known at the end of the
    /// peildatum: the figure a report of that day gave)
    pub bekend: Option<String>,
    /// a CBS code
    pub gemeente: Option<String>,
    /// an institution id (`school:12AB`)
    pub school: Option<String>,
    /// the start of the period (default: the school year's 1 August)
    pub vanaf: Option<String>,
    /// the rows: `gemeente` (default), `school` or `swv` (the latter two for exact viewers)
    pub rijen: Option<String>,
}

/// The filters, read.
#[derive(Debug, Clone)]
pub struct Chosen {
    pub peildatum: Date,
    pub now_known: bool,
    pub scope: Scope,
    pub from: Date,
}

fn today() -> Date {
    day_of(jiff::Timestamp::now())
}

/// The peildata (`days` of the year) up to `today`, newest first (two years' worth).
pub fn recent_peildata(days: &[(i8, i8)], today: Date) -> Vec<Date> {
    let mut out: Vec<Date> = (today.year() - 2..=today.year())
        .flat_map(|y| days.iter().map(move |(m, d)| jiff::civil::date(y, *m, *d)))
        .filter(|d| *d <= today)
        .collect();
    out.sort_unstable_by(|a, b| b.cmp(a));
    out.truncate(8);
    out
}

/// A date from a form or query, in the years a monitoring report can be about (1900–2199):
/// anything else is ignored like a malformed date.
fn plausible_date(s: &str) -> Option<Date> {
    s.parse::<Date>()
        .ok()
        .filter(|d| (1900..=2199).contains(&d.year()))
}

impl Filters {
    pub fn chosen(&self, days: &[(i8, i8)], today: Date) -> Chosen {
        let peildatum = self
            .peildatum
            .as_deref()
            .and_then(plausible_date)
            .unwrap_or_else(|| {
                recent_peildata(days, today)
                    .first()
                    .copied()
                    .unwrap_or(today)
            });
        let nonempty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Chosen {
            peildatum,
            now_known: self.bekend.as_deref() != Some("toen"),
            scope: Scope {
                municipality: nonempty(&self.gemeente),
                school: nonempty(&self.school),
                rows: match self.rijen.as_deref() {
                    Some("school") => RowsBy::School,
                    Some("swv") => RowsBy::Swv,
                    _ => RowsBy::Municipality,
                },
                swv: Default::default(),
            },
            from: self
                .vanaf
                .as_deref()
                .and_then(plausible_date)
                .filter(|d| *d <= peildatum)
                .unwrap_or_else(|| figures::school_year_start(peildatum)),
        }
    }
}

impl Chosen {
    /// The municipality the figures are counted for: none for rows by municipality (a
    /// municipality's view is its row of the region's table), the chosen one otherwise.
    fn limited_to(&self) -> Option<String> {
        match self.scope.rows {
            RowsBy::Municipality => None,
            _ => self.scope.municipality.clone(),
        }
    }

    /// The municipality row a view cuts from the region's table, if it shows one.
    fn only(&self) -> Option<String> {
        match self.scope.rows {
            RowsBy::Municipality => self.scope.municipality.clone(),
            _ => None,
        }
    }

    fn as_of(&self, now: bool) -> AsOf {
        let end = self
            .peildatum
            .tomorrow()
            .ok()
            .and_then(|d| {
                d.to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").ok()?)
                    .ok()
            })
            .map(|z| z.timestamp());
        AsOf {
            peildatum: self.peildatum,
            known_at: if now { None } else { end },
        }
    }

    /// The query string of these filters.
    fn query(&self) -> String {
        let mut q = format!(
            "peildatum={}&bekend={}&vanaf={}",
            self.peildatum,
            if self.now_known { "nu" } else { "toen" },
            self.from
        );
        if let Some(m) = &self.scope.municipality {
            q.push_str(&format!("&gemeente={}", super::encode(m)));
        }
        if let Some(s) = &self.scope.school {
            q.push_str(&format!("&school={}", super::encode(s)));
        }
        match self.scope.rows {
            RowsBy::Municipality => {}
            RowsBy::School => q.push_str("&rijen=school"),
            RowsBy::Swv => q.push_str("&rijen=swv"),
        }
        q
    }
}

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

fn access(s: &MonitorState, contact: &str) -> Option<Access> {
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
fn measures_table(
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

/// The page to come back to after a login: the one asked for, with its filters.
fn back_to(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| "/dashboard".to_owned(), |p| p.as_str().to_owned())
}

fn forbidden(st: &AppState, v: &Viewer) -> Response {
    let mut name = String::new();
    let w = who(st, v, &mut name);
    message(
        st.theme(),
        StatusCode::FORBIDDEN,
        "Geen toegang",
        "De cijfers van de regio zijn voor leerplicht, RMC, de doorbraakaanpak en beleid.",
        Some(&w),
    )
}

/// An SVG bar chart of a figure's column totals, with the numbers as labels beside the bars
/// (the table beside it has the same data).
fn chart(f: &Figure, m: &Masked) -> String {
    let max = m
        .col_totals
        .iter()
        .filter_map(|c| c.value())
        .max()
        .unwrap_or(0)
        .max(1);
    let (bar_h, gap, label_w, width) = (22, 10, 260, 620);
    let height = f.cols.len() * (bar_h + gap) + gap;
    let mut bars = String::new();
    for (i, (name, cell)) in f.cols.iter().zip(&m.col_totals).enumerate() {
        let y = gap + i * (bar_h + gap);
        let w = cell
            .value()
            .map_or(0, |v| (v as usize * (width - label_w - 70)) / max as usize);
        bars.push_str(&format!(
            r##"<text x="0" y="{ty}" class="schakel-chart__label">{name}</text><rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" class="schakel-chart__bar"></rect><text x="{tx}" y="{ty}" class="schakel-chart__value">{value}</text>"##,
            ty = y + bar_h - 6,
            name = esc(name),
            tx = label_w + w + 6,
            value = esc(&cell.text()),
        ));
    }
    format!(
        r##"<figure class="schakel-chart"><svg role="img" aria-labelledby="grafiek-{id}" viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet"><title id="grafiek-{id}">{title}: totalen per kolom, dezelfde cijfers als de tabel</title>{bars}</svg></figure>"##,
        id = f.id,
        title = esc(f.title),
    )
}

fn table(f: &Figure, m: &Masked, list: Option<&str>) -> String {
    let mut t = format!(
        r#"<div class="schakel-table-wrap"><table class="utrecht-table utrecht-table--html-table"><caption class="utrecht-table__caption">{}</caption><thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col"></th>"#,
        esc(f.title)
    );
    for c in &f.cols {
        t.push_str(&format!(
            r#"<th class="utrecht-table__header-cell" scope="col">{}</th>"#,
            esc(c)
        ));
    }
    t.push_str(r#"<th class="utrecht-table__header-cell" scope="col">Totaal</th></tr></thead><tbody class="utrecht-table__body">"#);
    for (r, name) in f.rows.iter().enumerate() {
        t.push_str(&format!(
            r#"<tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="row">{}</th>"#,
            esc(name)
        ));
        for (col, cell) in m.cells[r].iter().enumerate() {
            let text = esc(&cell.text());
            let shown = match list {
                Some(q) if cell.value().is_some_and(|v| v > 0) => format!(
                    r#"<a class="utrecht-link utrecht-link--html-a" href="/dashboard/lijst?{}&amp;kolom={col}">{text}<span class="schakel-visually-hidden"> kinderen, {}</span></a>"#,
                    esc(q),
                    esc(&f.cols[col])
                ),
                _ => text,
            };
            t.push_str(&format!(
                r#"<td class="utrecht-table__cell utrecht-table__cell--numeric-data">{shown}</td>"#
            ));
        }
        t.push_str(&format!(
            r#"<td class="utrecht-table__cell utrecht-table__cell--numeric-data">{}</td></tr>"#,
            esc(&m.row_totals[r].text())
        ));
    }
    if f.rows.len() > 1 {
        t.push_str(r#"<tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="row">Totaal</th>"#);
        for cell in &m.col_totals {
            t.push_str(&format!(
                r#"<td class="utrecht-table__cell utrecht-table__cell--numeric-data">{}</td>"#,
                esc(&cell.text())
            ));
        }
        t.push_str(&format!(
            r#"<td class="utrecht-table__cell utrecht-table__cell--numeric-data">{}</td></tr>"#,
            esc(&m.total.text())
        ));
    }
    t.push_str("</tbody></table></div>");
    t
}

fn select(name: &str, label: &str, options: &[(String, String)], chosen: &str) -> String {
    let opts: String = options
        .iter()
        .map(|(v, t)| {
            format!(
                r#"<option value="{}"{}>{}</option>"#,
                esc(v),
                if v == chosen { " selected" } else { "" },
                esc(t)
            )
        })
        .collect();
    format!(
        r#"<div class="utrecht-form-field schakel-form-row"><div class="utrecht-form-field__label"><label class="utrecht-form-label" for="{name}">{label}</label></div><div class="utrecht-form-field__input"><select class="utrecht-select utrecht-select--html-select" id="{name}" name="{name}">{opts}</select></div></div>"#
    )
}

/// The dashboard page.
#[allow(clippy::too_many_arguments)]
pub fn render(
    theme: &str,
    days: &[(i8, i8)],
    w: &Who<'_>,
    c: &Chosen,
    municipalities: &[String],
    sources: &[(String, jiff::Timestamp)],
    figures: &[(Figure, Masked, Option<Masked>)],
    today: Date,
    exact: bool,
    p: &Suppression,
) -> String {
    let peildata: Vec<(String, String)> = recent_peildata(days, today)
        .into_iter()
        .chain(std::iter::once(c.peildatum))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .rev()
        .map(|d| (d.to_string(), dutch_date(d)))
        .collect();
    let mut gemeenten = vec![(String::new(), "De hele regio".to_owned())];
    gemeenten.extend(
        municipalities
            .iter()
            .map(|m| (m.clone(), format!("Gemeente {m}"))),
    );
    let bekend = [
        ("nu".to_owned(), "Alles wat nu bekend is".to_owned()),
        ("toen".to_owned(), "Zoals bekend op de peildatum".to_owned()),
    ];
    let mut main = format!(
        r#"<h1 class="utrecht-heading-1">Monitor Leerplein</h1>
<p class="utrecht-paragraph utrecht-paragraph--lead">Thuiszitters kennen, tellen en volgen: de cijfers van de regio op peildatum {peil}, over de periode vanaf {from}.</p>
<form method="get" action="/dashboard" class="schakel-filters">
{f1}{f2}{f3}
{school}
<div class="utrecht-form-field schakel-form-row"><div class="utrecht-form-field__label"><label class="utrecht-form-label" for="vanaf">Periode vanaf</label></div><div class="utrecht-form-field__input"><input class="utrecht-textbox utrecht-textbox--html-input" id="vanaf" name="vanaf" type="date" value="{from_iso}"></div></div>
<button class="utrecht-button utrecht-button--primary-action" type="submit" id="toon">Toon cijfers</button>
</form>"#,
        peil = dutch_date(c.peildatum),
        from = dutch_date(c.from),
        f1 = select(
            "peildatum",
            "Peildatum",
            &peildata,
            &c.peildatum.to_string()
        ),
        f2 = select(
            "bekend",
            "Welke feiten",
            &bekend,
            if c.now_known { "nu" } else { "toen" }
        ),
        f3 = select(
            "gemeente",
            "Woongemeente",
            &gemeenten,
            c.scope.municipality.as_deref().unwrap_or("")
        ),
        school = if exact {
            format!(
                r#"<div class="utrecht-form-field schakel-form-row"><div class="utrecht-form-field__label"><label class="utrecht-form-label" for="school">School (instellingscode, bijvoorbeeld school:12AB)</label></div><div class="utrecht-form-field__input"><input class="utrecht-textbox utrecht-textbox--html-input" id="school" name="school" type="text" value="{}"></div></div>{}"#,
                esc(c.scope.school.as_deref().unwrap_or("")),
                select(
                    "rijen",
                    "Rijen",
                    &[
                        ("gemeente".to_owned(), "Woongemeente".to_owned()),
                        ("school".to_owned(), "School".to_owned()),
                        ("swv".to_owned(), "Samenwerkingsverband".to_owned()),
                    ],
                    match c.scope.rows {
                        RowsBy::Municipality => "gemeente",
                        RowsBy::School => "school",
                        RowsBy::Swv => "swv",
                    }
                )
            )
        } else {
            String::new()
        },
        from_iso = c.from,
    );
    if !exact {
        main.push_str(r#"<p class="utrecht-paragraph utrecht-paragraph--small">Per school of samenwerkingsverband kijken kan alleen wie de kinderen van de eigen gemeente mag zien (leerplicht en RMC, met de eigen gemeente gekozen): de kinderen van één school zijn te herkenbaar.</p>"#);
    }
    match c.scope.rows {
        RowsBy::Municipality => {}
        RowsBy::School => main.push_str(r#"<p class="utrecht-paragraph">Rijen: de school van de nieuwste inschrijving die uiterlijk op de peildatum begon (ook als het kind daar inmiddels is uitgeschreven); bij signalen de school van het signaal. Alleen de inwoners van de gekozen gemeente.</p>"#),
        RowsBy::Swv => main.push_str(r#"<p class="utrecht-paragraph">Rijen: het samenwerkingsverband passend onderwijs van die school (uit de regionale afspraken, <code>policy.routing</code>). Alleen de inwoners van de gekozen gemeente.</p>"#),
    }
    main.push_str(r#"<h2 class="utrecht-heading-2">Volledigheid van de bronnen</h2><p class="utrecht-paragraph">Tot wanneer elk bronsysteem gegevens heeft aangeleverd. Een bron die achterloopt maakt de cijfers te laag.</p><ul class="utrecht-unordered-list">"#);
    for (src, at) in sources {
        main.push_str(&format!(
            r#"<li class="utrecht-unordered-list__item">{}: tot {}</li>"#,
            esc(src),
            esc(&super::detail::when(*at))
        ));
    }
    if sources.is_empty() {
        main.push_str(
            r#"<li class="utrecht-unordered-list__item">Nog geen gegevens ontvangen.</li>"#,
        );
    }
    main.push_str("</ul>");
    let q = c.query();
    for (f, m, other) in figures {
        main.push_str(&format!(
            r#"<section class="schakel-queue" aria-labelledby="fig-{id}"><h2 class="utrecht-heading-2" id="fig-{id}">{title}</h2><p class="utrecht-paragraph">{def}</p>"#,
            id = f.id,
            title = esc(f.title),
            def = esc(f.definition),
        ));
        main.push_str(&chart(f, m));
        let list = (exact && f.id == "thuiszitters-duur" && c.scope.rows == RowsBy::Municipality)
            .then_some(q.as_str());
        main.push_str(&table(f, m, list));
        main.push_str(&format!(
            r#"<p class="utrecht-paragraph utrecht-paragraph--small">{}</p>"#,
            esc(&m.rule)
        ));
        main.push_str(&measures_table(f, &measures(f, exact, p), p, exact));
        if let Some(o) = other {
            if o.total != m.total {
                let (now, then) = if c.now_known { (m, o) } else { (o, m) };
                main.push_str(&format!(
                    r#"<p class="utrecht-paragraph utrecht-paragraph--small">Feiten die na de peildatum binnenkwamen veranderden dit cijfer: op de peildatum was het totaal {}, met alles wat nu bekend is {}.</p>"#,
                    esc(&then.total.text()),
                    esc(&now.total.text())
                ));
            }
        }
        main.push_str(&format!(
            r#"<p class="utrecht-paragraph"><a class="utrecht-link utrecht-link--html-a" href="/v1/stats/{id}.csv?{q}">{title} als CSV</a></p></section>"#,
            id = f.id,
            q = esc(&q),
            title = esc(f.title),
        ));
    }
    let year = figures::school_year_start(c.peildatum);
    main.push_str(&format!(
        r#"<h2 class="utrecht-heading-2">Leerplichttelling</h2><p class="utrecht-paragraph"><a class="utrecht-link utrecht-link--html-a" href="/v1/stats/leerplichttelling.csv?peildatum={}&amp;bekend={}">Leerplichttelling schooljaar {}/{} als CSV</a> (categorieën van de landelijke telling, zie de toelichting).</p>"#,
        c.peildatum,
        if c.now_known { "nu" } else { "toen" },
        year.year(),
        year.year() + 1
    ));
    page(theme, "Monitor Leerplein", Some(w), &main)
}

pub async fn dashboard(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(f): Query<Filters>,
) -> Response {
    let Some(v) = viewer(&st.settings, &st.sessions, &headers) else {
        return login_first(&headers, &back_to(&uri));
    };
    let today = today();
    let mut c = f.chosen(&st.settings.peildata, today);
    let p = st.settings.monitoring.suppression;
    let out = st.view.read(|s| {
        let a = access(s, &v.contact)?;
        // a leerplicht contact starts at its own residents
        if f.gemeente.is_none() {
            c.scope.municipality = a.own.clone();
        }
        let exact = a.limit(&mut c, &st.settings.swv);
        let only = c.only();
        // the figures as chosen, and the other way (known then / known now) beside them
        let (chosen, other) = both(s, &c);
        let figures: Vec<(Figure, Masked, Option<Masked>)> = chosen
            .into_iter()
            .zip(other)
            .map(|(f, o)| {
                let (f, m) = view(f, exact, &p, only.as_deref());
                let o = view(o, exact, &p, only.as_deref()).1;
                (f, m, Some(o))
            })
            .collect();
        let mut municipalities: Vec<String> = s
            .stats
            .children
            .values()
            .filter_map(|c| c.residence.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        municipalities.sort();
        let sources: Vec<(String, jiff::Timestamp)> = s
            .stats
            .sources
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        Some((figures, municipalities, sources, exact))
    });
    let Some((figures, municipalities, sources, exact)) = out else {
        return forbidden(&st, &v);
    };
    st.health.metrics.inc(
        "schakel_monitor_pages_total",
        "page=\"dashboard\",outcome=\"shown\"",
    );
    let mut name = String::new();
    let w = who(&st, &v, &mut name);
    html(
        StatusCode::OK,
        render(
            st.theme(),
            &st.settings.peildata,
            &w,
            &c,
            &municipalities,
            &sources,
            &figures,
            today,
            exact,
            &st.settings.monitoring.suppression,
        ),
    )
}

/// `GET /v1/stats/{figure}` (JSON) and `/v1/stats/{figure}.csv`.
pub async fn stats(
    State(st): State<AppState>,
    Path(figure): Path<String>,
    headers: HeaderMap,
    Query(f): Query<Filters>,
) -> Response {
    let Some(v) = viewer(&st.settings, &st.sessions, &headers) else {
        return login_first(&headers, "/dashboard");
    };
    let (id, csv) = match figure.strip_suffix(".csv") {
        Some(id) => (id.to_owned(), true),
        None => (figure.clone(), false),
    };
    let today = today();
    let mut c = f.chosen(&st.settings.peildata, today);
    let p = st.settings.monitoring.suppression;
    let out = st.view.read(|s| {
        let a = access(s, &v.contact)?;
        let exact = a.limit(&mut c, &st.settings.swv);
        if id == "leerplichttelling" {
            // the telling is by municipality of residence
            c.scope.rows = RowsBy::Municipality;
        }
        let only = c.only();
        let fig = if id == "leerplichttelling" {
            let region = Scope {
                municipality: None,
                ..c.scope.clone()
            };
            Some(figures::leerplichttelling(
                &s.stats,
                &region,
                figures::school_year_start(c.peildatum),
                c.as_of(c.now_known).known_at,
            ))
        } else {
            all(s, &c, c.now_known).into_iter().find(|f| f.id == id)
        };
        Some((fig.map(|f| view(f, exact, &p, only.as_deref())), exact))
    });
    let Some((found, exact)) = out else {
        return forbidden(&st, &v);
    };
    let Some((f, m)) = found else {
        return problem(
            StatusCode::NOT_FOUND,
            "onbekend cijfer",
            "no figure with this id",
        );
    };
    if csv {
        let mut r = to_csv(&f, &m, &measures(&f, exact, &p), &c).into_response();
        let h = r.headers_mut();
        secure_headers(h);
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(v) = HeaderValue::from_str(&format!(
            "attachment; filename=\"{}-{}.csv\"",
            f.id, c.peildatum
        )) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
        return r;
    }
    let measured: Vec<serde_json::Value> = measures(&f, exact, &p)
        .into_iter()
        .map(|(label, rows, total)| serde_json::json!({"label": label, "rows": rows, "total": total}))
        .collect();
    let mut r = Json(serde_json::json!({
        "figure": f.id, "title": f.title, "definition": f.definition,
        "peildatum": c.peildatum, "from": c.from,
        "known": if c.now_known { "now" } else { "at-peildatum" },
        "rows": f.rows, "cols": f.cols, "table": m, "measures": measured,
    }))
    .into_response();
    secure_headers(r.headers_mut());
    r
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(flatten)]
    filters: Filters,
    /// the duration bucket (column) of the thuiszitters table
    kolom: Option<usize>,
}

/// `GET /dashboard/lijst`: the children behind a cell of the thuiszitters table, for the
/// leerplicht of their municipality only; every child on it is recorded in the audit log
/// before the list is shown.
pub async fn list(
    State(st): State<AppState>,
    schakel_core::runtime::ops::RequestTrace(trace): schakel_core::runtime::ops::RequestTrace,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let Some(v) = viewer(&st.settings, &st.sessions, &headers) else {
        return login_first(&headers, &back_to(&uri));
    };
    let today = today();
    let mut c = q.filters.chosen(&st.settings.peildata, today);
    let found = st.view.read(|s| {
        let a = access(s, &v.contact)?;
        if q.filters.gemeente.is_none() {
            c.scope.municipality = a.own.clone();
        }
        if !a.exact(&c.scope) {
            return Some(None);
        }
        let as_of = c.as_of(c.now_known);
        let col = q.kolom.unwrap_or(0).min(figures::DURATIONS.len() - 1);
        let contact = s.contact(&v.contact)?.clone();
        let rows: Vec<(
            String,
            Option<schakel_core::domain::events::IdentityRecord>,
            Date,
            Date,
        )> = figures::thuiszitters_in_bucket(&s.stats, &c.scope, as_of, col)
            .into_iter()
            .map(|(key, birth, since)| {
                let sealed = s.identities.get(&key).cloned();
                (key, sealed, birth, since)
            })
            .collect();
        Some(Some((rows, col, contact)))
    });
    let Some(found) = found else {
        return forbidden(&st, &v);
    };
    let Some((rows, col, contact)) = found else {
        return forbidden(&st, &v);
    };
    let role = if contact.roles.iter().any(|r| r == "leerplicht") {
        "leerplicht"
    } else {
        "rmc"
    };
    for (key, _, _, _) in &rows {
        let Ok(child) = schakel_core::domain::ids::ChildKey::parse(key) else {
            continue;
        };
        let read = crate::audit::Read {
            actor: &v.contact,
            role,
            organisation: &contact.institution,
            child: &child,
            signal_id: None,
            categories: vec!["identity".into(), "verzuim".into()],
            channel: "lijst thuiszitters",
        };
        if crate::audit::record(&st, read, &trace).await.is_err() {
            return message(
                st.theme(),
                StatusCode::SERVICE_UNAVAILABLE,
                "Nu niet beschikbaar",
                "Uw inzage kan nu niet worden vastgelegd, en zonder vastlegging toont Schakel geen gegevens van een kind. Probeer het over enkele minuten opnieuw.",
                None,
            );
        }
    }
    let mut main = format!(
        r#"<h1 class="utrecht-heading-1">Thuiszitters: {}</h1><p class="utrecht-paragraph">Op peildatum {}, woongemeente {}. Uw inzage is vastgelegd.</p><table class="utrecht-table utrecht-table--html-table"><caption class="utrecht-table__caption">{} kinderen</caption><thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col">Naam</th><th class="utrecht-table__header-cell" scope="col">BSN</th><th class="utrecht-table__header-cell" scope="col">Geboortedatum</th><th class="utrecht-table__header-cell" scope="col">Thuis sinds</th></tr></thead><tbody class="utrecht-table__body">"#,
        esc(figures::DURATIONS[col]),
        dutch_date(c.peildatum),
        esc(c.scope.municipality.as_deref().unwrap_or("")),
        rows.len()
    );
    for (_, sealed, birth, since) in &rows {
        let id = sealed.as_ref().and_then(|r| st.vault.open_record(r).ok());
        let name = id
            .as_ref()
            .map(|i| {
                [i.given.as_deref(), i.family.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_else(|| "(niet beschikbaar)".into());
        let bsn = id
            .as_ref()
            .and_then(|i| i.bsn.clone().or(i.onderwijsnummer.clone()))
            .unwrap_or_default();
        main.push_str(&format!(
            r#"<tr class="utrecht-table__row"><td class="utrecht-table__cell">{}</td><td class="utrecht-table__cell">{}</td><td class="utrecht-table__cell">{}</td><td class="utrecht-table__cell">{}</td></tr>"#,
            esc(&name),
            esc(&bsn),
            dutch_date(*birth),
            dutch_date(*since)
        ));
    }
    main.push_str("</tbody></table>");
    let mut name = String::new();
    let w = who(&st, &v, &mut name);
    html(
        StatusCode::OK,
        page(st.theme(), "Thuiszitters", Some(&w), &main),
    )
}

fn csv_field(s: &str) -> String {
    if s.contains([';', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// A figure as CSV (`;`-separated, as Dutch spreadsheets read it), with the rule and the
/// peildatum under it.
pub fn to_csv(
    f: &Figure,
    m: &Masked,
    measures: &[(&'static str, Vec<String>, String)],
    c: &Chosen,
) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&csv_field(f.title));
    for col in f.cols.iter().map(String::as_str).chain(["Totaal"]) {
        out.push(';');
        out.push_str(&csv_field(col));
    }
    for (label, _, _) in measures {
        out.push(';');
        out.push_str(&csv_field(label));
    }
    out.push_str("\r\n");
    for (r, name) in f.rows.iter().enumerate() {
        out.push_str(&csv_field(name));
        for cell in m.cells[r].iter().chain([&m.row_totals[r]]) {
            out.push(';');
            out.push_str(&cell.text());
        }
        for (_, rows, _) in measures {
            out.push(';');
            out.push_str(&rows[r]);
        }
        out.push_str("\r\n");
    }
    out.push_str("Totaal");
    for cell in m.col_totals.iter().chain([&m.total]) {
        out.push(';');
        out.push_str(&cell.text());
    }
    for (_, _, total) in measures {
        out.push(';');
        out.push_str(total);
    }
    out.push_str("\r\n");
    out.push_str(&format!(
        "Peildatum {};Periode vanaf {};{}\r\n{}\r\n",
        c.peildatum,
        c.from,
        if c.now_known {
            "zoals nu bekend"
        } else {
            "zoals bekend op de peildatum"
        },
        csv_field(&m.rule)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use schakel_core::domain::dates::DatePrecision;
    use schakel_core::domain::events::{ChildRef, LeerplichtData, SourceEvent};
    use schakel_core::domain::ids::ChildKey;

    /// A small region: children of three municipalities, each a thuiszitter registration, an
    /// LRV melding or a vrijstelling on some day.
    fn region(kids: &[(u8, u8, u16)]) -> MonitorState {
        let mut s = MonitorState::default();
        let base = jiff::civil::date(2025, 9, 1);
        for (i, (m, what, day)) in kids.iter().enumerate() {
            let child = ChildRef {
                child_key: ChildKey::parse(&format!("{i:064x}")).unwrap(),
                birth_date: jiff::civil::date(2013, 5, 1),
                birth_date_precision: DatePrecision::Day,
                residence_municipality: Some(["0392", "0377", "0453"][*m as usize % 3].into()),
            };
            let d = base.saturating_add(jiff::Span::new().days(i64::from(*day)));
            if what % 4 == 3 {
                // a thuiszitter with a passend aanbod some days later
                for (n, data) in [
                    LeerplichtData::ThuiszitterRegistered {
                        since: d,
                        school: None,
                    },
                    LeerplichtData::ThuiszitterResolved {
                        date: d.saturating_add(jiff::Span::new().days(i64::from(*day % 120))),
                        offer: "maatwerk".into(),
                    },
                ]
                .into_iter()
                .enumerate()
                {
                    let e = SourceEvent::new(
                        format!("e{i}-{n}"),
                        "urn:test".into(),
                        jiff::Timestamp::UNIX_EPOCH,
                        child.clone(),
                        data,
                    );
                    s.stats.leerplicht(&e, jiff::Timestamp::UNIX_EPOCH);
                }
                continue;
            }
            let data = match what % 3 {
                0 => LeerplichtData::ThuiszitterRegistered {
                    since: d,
                    school: None,
                },
                1 => LeerplichtData::VerzuimReported {
                    school: schakel_core::domain::events::SchoolRef {
                        brin: "12AB".into(),
                        vestiging: "00".into(),
                    },
                    meldingsnummer: format!("M{i}"),
                    kind: "lrv".into(),
                    first_absence_date: d,
                },
                _ => LeerplichtData::VrijstellingGranted {
                    kind: "5-onder-a".into(),
                    from: d,
                    until: None,
                },
            };
            let e = SourceEvent::new(
                format!("e{i}"),
                "urn:test".into(),
                jiff::Timestamp::UNIX_EPOCH,
                child,
                data,
            );
            s.stats.leerplicht(&e, jiff::Timestamp::UNIX_EPOCH);
        }
        s
    }

    fn chosen(m: Option<&str>) -> Chosen {
        Chosen {
            peildatum: jiff::civil::date(2026, 4, 1),
            now_known: true,
            scope: Scope {
                municipality: m.map(str::to_owned),
                ..Default::default()
            },
            from: jiff::civil::date(2025, 8, 1),
        }
    }

    proptest! {
        /// Whatever the region and whichever municipality a viewer without the right to see
        /// the children picks: no published figure is a count below the threshold, and a
        /// municipality's view is exactly its row of the region's protected table (so the
        /// difference of two views is a difference the region's table already protects).
        #[test]
        fn no_filter_or_export_gives_away_a_small_count(
            kids in prop::collection::vec((0u8..3, 0u8..4, 0u16..200), 0..120)
        ) {
            let s = region(&kids);
            let p = Suppression::default();
            let region_view: Vec<(Figure, Masked)> = all(&s, &chosen(None), true)
                .into_iter()
                .map(|f| view(f, false, &p, None))
                .collect();
            for (f, m) in &region_view {
                for c in m.cells.iter().flatten().chain(&m.row_totals).chain(&m.col_totals).chain([&m.total]) {
                    if let Some(v) = c.value() {
                        prop_assert!(v == 0 || v >= p.min_count, "{}: {:?}", f.id, c);
                    }
                }
                // a share or median is shown only over enough children, and a share gives
                // away no small part or rest
                let shown = measures(f, false, &p);
                for (x, (_, rows, total)) in f.measures.iter().zip(&shown) {
                    let (shown_rows, part_of): (Vec<bool>, Vec<(u64, u64)>) = match x {
                        figures::Measure::Share { part, of, .. } => (
                            rows.iter().map(|r| r != "×").collect(),
                            part.iter().copied().zip(of.iter().copied()).collect(),
                        ),
                        figures::Measure::Median { days, .. } => (
                            rows.iter().map(|r| r != "×").collect(),
                            days.iter().map(|d| (d.len() as u64, d.len() as u64)).collect(),
                        ),
                    };
                    for (shown, (part, of)) in shown_rows.iter().zip(&part_of) {
                        if *shown {
                            prop_assert!(*of >= p.min_denominator, "{}: {:?}", f.id, (part, of));
                            let small = |n: u64| n > 0 && n < p.min_count;
                            prop_assert!(!small(*part) && !small(of - part), "{}: {:?}", f.id, (part, of));
                        }
                    }
                    if matches!(x, figures::Measure::Share { .. }) && total != "×" {
                        prop_assert!(shown_rows.iter().all(|s| *s), "{}: a total beside a hidden row", f.id);
                    }
                }
                let csv = to_csv(f, m, &shown, &chosen(None));
                for line in csv.lines().skip(1) {
                    for field in line.split(';').skip(1).take(f.cols.len() + 1) {
                        if let Ok(v) = field.parse::<u64>() {
                            prop_assert!(v == 0 || v >= p.min_count, "{} csv: {line}", f.id);
                        }
                    }
                }
            }
            for m in ["0392", "0377", "0453"] {
                for (i, f) in all(&s, &chosen(Some(m)), true).into_iter().enumerate() {
                    let (one_f, one) = view(f, false, &p, Some(m));
                    let (rf, rm) = &region_view[i];
                    match rf.rows.iter().position(|x| x == m) {
                        Some(r) => {
                            prop_assert_eq!(&one.cells[0], &rm.cells[r]);
                            prop_assert_eq!(one.total, rm.row_totals[r]);
                            let mine = measures(&one_f, false, &p);
                            for (a, b) in mine.iter().zip(measures(rf, false, &p)) {
                                prop_assert_eq!(&a.1[0], &b.1[r], "{}: a municipality's share is its row's", rf.id);
                            }
                        }
                        None => prop_assert_eq!(one.total, suppress::Cell::Exact(0)),
                    }
                }
            }
        }
    }

    #[test]
    fn the_leerplicht_of_a_municipality_sees_its_residents_exactly() {
        let kids: Vec<(u8, u8, u16)> = (0..12).map(|i| (i % 3, 0, 10 + i as u16)).collect();
        let s = region(&kids);
        let a = Access {
            own: Some("0392".into()),
        };
        assert!(a.exact(&chosen(Some("0392")).scope));
        assert!(!a.exact(&chosen(None).scope), "the region is protected");
        assert!(
            !a.exact(&chosen(Some("0377")).scope),
            "another municipality is protected"
        );
        let p = Suppression::default();
        let f = all(&s, &chosen(Some("0392")), true).remove(0);
        let (_, exact) = view(f.clone(), true, &p, Some("0392"));
        let (_, masked) = view(f, false, &p, Some("0392"));
        assert_eq!(exact.total, suppress::Cell::Exact(4));
        assert_eq!(masked.total, suppress::Cell::Below(5));
    }
}
