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

mod csv;
mod drilldown;
mod filters;
mod html;
mod views;
pub use csv::*;
pub use drilldown::*;
pub use filters::*;
pub use html::*;
pub use views::*;

/// The roles that see the dashboard.
pub const ROLES: [&str; 4] = ["leerplicht", "rmc", "doorbraak", "beleid"];

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
