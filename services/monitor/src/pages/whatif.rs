//! `GET /whatif`: the last report of `schakel whatif --save`, what another policy would have
//! done to the region's signals, for the roles that see the region's figures. Counts only,
//! suppressed as the report was saved (no child appears in it); as JSON for a policy system.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use schakel_core::domain::whatif::{Change, Saved};
use schakel_core::domain::wording::{dutch_date, dutch_month, title};

use super::dashboard::ROLES;
use super::layout::{esc, html, page, secure_headers};
use super::{login_first, problem, wants_json, who};
use crate::auth::viewer;
use crate::AppState;

pub async fn whatif(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let Some(v) = viewer(&st.settings, &st.sessions, &headers) else {
        return login_first(&headers, "/whatif");
    };
    let entitled = st.view.read(|s| {
        s.contact(&v.contact)
            .is_some_and(|c| c.roles.iter().any(|r| ROLES.contains(&r.as_str())))
    });
    let json = wants_json(&headers);
    let mut name = String::new();
    let w = who(&st, &v, &mut name);
    if !entitled {
        if json {
            return problem(
                StatusCode::FORBIDDEN,
                "geen toegang",
                "the what-if report is for leerplicht, rmc, doorbraak and beleid",
            );
        }
        return super::layout::message(
            st.theme(),
            StatusCode::FORBIDDEN,
            "Geen toegang",
            "Het wat-als-rapport is voor leerplicht, RMC, de doorbraakaanpak en beleid.",
            Some(&w),
        );
    }
    let last = match st.settings.monitor.whatif_dir() {
        Some(dir) => Saved::load_last(&dir),
        None => Ok(None),
    };
    let saved = match last {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "the last what-if report cannot be read");
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "rapport onleesbaar",
                "the last what-if report cannot be read; see the monitor's log",
            );
        }
    };
    st.health.metrics.inc(
        "schakel_monitor_pages_total",
        "page=\"whatif\",outcome=\"shown\"",
    );
    if json {
        let Some(saved) = saved else {
            return problem(
                StatusCode::NOT_FOUND,
                "geen rapport",
                "no what-if report saved yet (schakel whatif --policy FILE --save)",
            );
        };
        let mut r = Json(saved).into_response();
        secure_headers(r.headers_mut());
        return r;
    }
    html(
        StatusCode::OK,
        page(
            st.theme(),
            "Wat als het beleid verandert?",
            Some(&w),
            &render(saved.as_ref()),
        ),
    )
}

/// A table: a caption, column headers, and rows whose first cell heads the row; cells after
/// the first are numeric when `numeric` says so.
fn table(caption: &str, cols: &[&str], numeric: usize, rows: &[Vec<String>]) -> String {
    let mut t = format!(
        r#"<div class="schakel-table-wrap"><table class="utrecht-table utrecht-table--html-table"><caption class="utrecht-table__caption">{}</caption><thead class="utrecht-table__header"><tr class="utrecht-table__row">"#,
        esc(caption)
    );
    for c in cols {
        t.push_str(&format!(
            r#"<th class="utrecht-table__header-cell" scope="col">{}</th>"#,
            esc(c)
        ));
    }
    t.push_str(r#"</tr></thead><tbody class="utrecht-table__body">"#);
    for row in rows {
        t.push_str(r#"<tr class="utrecht-table__row">"#);
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                t.push_str(&format!(
                    r#"<th class="utrecht-table__header-cell" scope="row">{}</th>"#,
                    esc(cell)
                ));
            } else if i >= cols.len() - numeric {
                t.push_str(&format!(
                    r#"<td class="utrecht-table__cell utrecht-table__cell--numeric-data">{}</td>"#,
                    esc(cell)
                ));
            } else {
                t.push_str(&format!(
                    r#"<td class="utrecht-table__cell">{}</td>"#,
                    esc(cell)
                ));
            }
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table></div>");
    t
}

fn change(c: Change) -> &'static str {
    match c {
        Change::Appeared => "komt erbij",
        Change::Disappeared => "vervalt",
        Change::MovedEarlier => "eerder",
        Change::MovedLater => "later",
    }
}

fn month(m: &str) -> String {
    match m.split_once('-').map(|(y, m)| (y.parse(), m.parse())) {
        Some((Ok(y), Ok(m))) => dutch_month(y, m),
        _ => m.to_owned(),
    }
}

fn role(r: &str) -> String {
    match r {
        "ib" => "intern begeleider".into(),
        "leerplicht" => "leerplichtambtenaar".into(),
        "jeugdteam" => "jeugdteam".into(),
        "volwassenen" => "volwassenenzorg".into(),
        "rmc" => "RMC-consulent".into(),
        "doorbraak" => "doorbraakaanpak".into(),
        "swv-consulent" => "consulent samenwerkingsverband".into(),
        "zorgcoordinator" => "zorgcoördinator".into(),
        "vve-coordinator" => "VVE-coördinator".into(),
        "vve-mentor" => "VVE-mentor".into(),
        other => other.to_owned(),
    }
}

fn render(saved: Option<&Saved>) -> String {
    let mut out =
        String::from(r#"<h1 class="utrecht-heading-1">Wat als het beleid verandert?</h1>"#);
    let Some(s) = saved else {
        out.push_str(
            r#"<p class="utrecht-paragraph">Er is nog geen wat-als-rapport. Functioneel beheer maakt er een met <code>schakel whatif --policy ANDER-BELEID.toml --save</code>: Schakel rekent dan het logboek van de regio opnieuw door met het huidige en met het andere beleid, en dit scherm toont wat er anders zou gaan.</p>"#,
        );
        return out;
    };
    let r = &s.report;
    let made = s
        .made
        .to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC));
    out.push_str(&format!(
        r#"<p class="utrecht-paragraph">Schakel heeft het logboek van de regio opnieuw doorgerekend met het huidige beleid en met het beleid uit <code>{file}</code>, en vergelijkt de signalen van {from} tot en met {to}. Alleen aantallen: een kind staat nooit in dit rapport, aantallen van 1 tot en met {last} staan er als &lt;{min}, en een verschil naast zo'n klein aantal als -.</p>
<p class="utrecht-paragraph">Gemaakt op {made} om {time}. Doorgerekend: {inputs} feiten en dagen. Signaalstappen met het huidige beleid: {base}; met het andere beleid: {other}.</p>"#,
        file = esc(&s.policy_file),
        from = dutch_date(r.from),
        to = dutch_date(r.to),
        made = dutch_date(made.date()),
        time = made.strftime("%H:%M"),
        inputs = r.inputs,
        last = r.suppressed_below.saturating_sub(1),
        min = r.suppressed_below,
        base = esc(&r.steps_base.to_string()),
        other = esc(&r.steps_other.to_string()),
    ));
    let policy: Vec<Vec<String>> = s
        .policy_changes
        .iter()
        .map(|p| {
            vec![
                p.key.clone(),
                p.current.clone().unwrap_or_else(|| "standaard".into()),
                p.other.clone().unwrap_or_else(|| "standaard".into()),
            ]
        })
        .collect();
    out.push_str(r#"<h2 class="utrecht-heading-2">Wat er in het beleid anders is</h2>"#);
    if policy.is_empty() {
        out.push_str(r#"<p class="utrecht-paragraph">Het andere beleid noemt geen andere waarden dan het huidige.</p>"#);
    } else {
        out.push_str(&table(
            "Instellingen die verschillen",
            &["Instelling", "Huidig beleid", "Ander beleid"],
            0,
            &policy,
        ));
    }
    out.push_str(r#"<h2 class="utrecht-heading-2">Werklast per rol</h2>"#);
    if r.workload.is_empty() {
        out.push_str(r#"<p class="utrecht-paragraph">Geen rol krijgt meer of minder taken of escalaties.</p>"#);
    } else {
        let rows: Vec<Vec<String>> = r
            .workload
            .iter()
            .map(|w| {
                vec![
                    role(&w.role),
                    w.tasks_opened_base.to_string(),
                    w.tasks_opened_other.to_string(),
                    w.tasks_opened_difference.to_string(),
                    w.escalations_base.to_string(),
                    w.escalations_other.to_string(),
                    w.escalations_difference.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            "Taken en escalaties per rol, huidig en ander beleid",
            &[
                "Rol",
                "Taken nu",
                "Taken ander beleid",
                "Verschil taken",
                "Escalaties nu",
                "Escalaties ander beleid",
                "Verschil escalaties",
            ],
            6,
            &rows,
        ));
    }
    out.push_str(r#"<h2 class="utrecht-heading-2">Signalen die veranderen</h2>"#);
    if r.changes.is_empty() {
        out.push_str(r#"<p class="utrecht-paragraph">Geen verschil: met het andere beleid gaan dezelfde signalen op dezelfde dagen uit.</p>"#);
    } else {
        let rows: Vec<Vec<String>> = r
            .changes
            .iter()
            .map(|c| {
                vec![
                    format!("{} ({})", title(&c.rule, &c.step), c.rule),
                    c.municipality.clone(),
                    month(&c.month),
                    change(c.change).to_owned(),
                    c.count.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(
            "Signaalstappen die erbij komen, vervallen of verschuiven, per gemeente en maand",
            &["Signaal", "Gemeente", "Maand", "Verandering", "Aantal"],
            1,
            &rows,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use schakel_core::domain::whatif::{ChangeRow, PolicyChange, Report, Shown, WorkloadRow};

    fn saved() -> Saved {
        Saved {
            made: jiff::Timestamp::from_second(1_780_000_000).unwrap(),
            policy_file: "ander-beleid.toml".into(),
            policy_changes: vec![PolicyChange {
                key: "adulthood.handoff_age".into(),
                current: Some("17y6m".into()),
                other: None,
            }],
            report: Report {
                from: jiff::civil::date(2026, 1, 1),
                to: jiff::civil::date(2026, 12, 31),
                inputs: 1000,
                suppressed_below: 5,
                steps_base: Shown::of(40),
                steps_other: Shown::of(3),
                changes: vec![ChangeRow {
                    rule: "R3b".into(),
                    step: "opened".into(),
                    municipality: "0392".into(),
                    month: "2026-03".into(),
                    change: Change::MovedEarlier,
                    count: Shown::of(2),
                }],
                workload: vec![WorkloadRow {
                    role: "volwassenen".into(),
                    tasks_opened_base: Shown::of(20),
                    tasks_opened_other: Shown::of(3),
                    tasks_opened_difference: Shown::diff(20, 3),
                    escalations_base: Shown::of(0),
                    escalations_other: Shown::of(0),
                    escalations_difference: Shown::diff(0, 0),
                }],
            },
        }
    }

    #[test]
    fn the_page_names_the_change_in_dutch_with_small_counts_hidden() {
        let page = render(Some(&saved()));
        assert!(page.contains("maart 2026"), "{page}");
        assert!(page.contains("Warme overdracht 18-/18+"), "{page}");
        assert!(page.contains(">eerder<"), "{page}");
        assert!(page.contains(">&lt;5<"), "a count of 2 is hidden: {page}");
        // 20 → <5 with its difference would tell the small count: the difference is hidden
        assert!(!page.contains("-17"), "{page}");
        assert!(page.contains(">-<"), "{page}");
        assert!(page.contains(">standaard<"), "{page}");
        assert!(page.contains("volwassenenzorg"), "{page}");
        assert!(!page.contains(">2<"), "{page}");
        // the other side's three steps are a small count too
        assert!(page.contains("met het andere beleid: &lt;5"), "{page}");
    }

    #[test]
    fn without_a_report_the_page_says_how_to_make_one() {
        let page = render(None);
        assert!(page.contains("schakel whatif --policy"), "{page}");
    }
}
