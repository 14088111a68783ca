//! The dashboard page: the filter form, and per figure its chart, its table and its measures.

use super::*;

/// The page to come back to after a login: the one asked for, with its filters.
pub(super) fn back_to(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| "/dashboard".to_owned(), |p| p.as_str().to_owned())
}

pub(super) fn forbidden(st: &AppState, v: &Viewer) -> Response {
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
pub(super) fn chart(f: &Figure, m: &Masked) -> String {
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

pub(super) fn table(f: &Figure, m: &Masked, list: Option<&str>) -> String {
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

pub(super) fn select(
    name: &str,
    label: &str,
    options: &[(String, String)],
    chosen: &str,
) -> String {
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
            esc(&crate::pages::detail::when(*at))
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
