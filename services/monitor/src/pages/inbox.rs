//! `GET /inbox`: everything addressed to the roles a contact holds, as one queue per role and
//! institution (work belongs to a role, not a person): overdue and escalated first, then open
//! tasks by due date, then notices; `?gesloten=1` lists the closed ones. No child data: the
//! signal's page shows that, audited.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::civil::Date;
use schakel_core::domain::wording::dutch_date;
use serde::Deserialize;

use super::layout::{badge, esc, html, page};
use super::{login_first, who};
use crate::auth::viewer;
use crate::view::{SignalView, State as MonitorState};
use crate::AppState;

#[derive(Deserialize)]
pub struct Filter {
    gesloten: Option<String>,
}

/// One row of a queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub signal_id: String,
    pub title: String,
    pub task: bool,
    pub urgent: bool,
    pub state: &'static str,
    pub due: Option<Date>,
    pub fired_on: Date,
    /// R4: the day the child's time out of school began
    pub out_since: Option<Date>,
    /// the steps so far, for the doorbraak queue
    pub steps: Vec<String>,
}

fn state_word(v: &SignalView, s: &MonitorState, id: &str) -> &'static str {
    let p = s.tasks.tasks.get(id).map(|t| t.progress);
    let has = |w: &str| v.steps.iter().any(|x| x.step == w);
    match p {
        Some(p) if p.completed => "Afgerond",
        Some(p) if p.cancelled => "Vervallen",
        _ if has("resolved") => "Opgelost",
        _ if has("escalated") => "Geëscaleerd",
        _ if has("overdue") => "Termijn verstreken",
        Some(p) if p.acknowledged => "Ontvangst bevestigd",
        _ => "Open",
    }
}

/// The queue of `role` at `institution`: open (or, `closed`, closed) signals, in order.
pub fn queue(s: &MonitorState, role: &str, institution: &str, closed: bool) -> Vec<Item> {
    let Some(ids) = s.queues.get(&(role.to_owned(), institution.to_owned())) else {
        return Vec::new();
    };
    let mut items: Vec<Item> = ids
        .iter()
        .filter_map(|id| {
            let v = s.signals.get(id)?;
            let first = v.first()?;
            let is_closed = v.is_closed()
                || s.tasks
                    .tasks
                    .get(id)
                    .is_some_and(|t| t.progress.is_closed());
            if is_closed != closed {
                return None;
            }
            let out_since = (first.rule == "R4")
                .then(|| {
                    let months = first
                        .policy
                        .get("thuiszitter.escalation_months")
                        .and_then(|m| m.parse::<i64>().ok())
                        .unwrap_or(3);
                    first
                        .due_date?
                        .checked_sub(jiff::Span::new().months(months))
                        .ok()
                })
                .flatten();
            Some(Item {
                signal_id: id.clone(),
                title: v.title(),
                task: first.task,
                urgent: v.is_urgent(),
                state: state_word(v, s, id),
                due: v.last().and_then(|l| l.due_date).or(first.due_date),
                fired_on: first.fired_on,
                out_since,
                steps: v.steps.iter().map(|x| x.step.clone()).collect(),
            })
        })
        .collect();
    items.sort_by(|a, b| {
        (
            !a.urgent,
            !a.task,
            a.due.unwrap_or(Date::MAX),
            a.fired_on,
            &a.signal_id,
        )
            .cmp(&(
                !b.urgent,
                !b.task,
                b.due.unwrap_or(Date::MAX),
                b.fired_on,
                &b.signal_id,
            ))
    });
    items
}

fn today() -> Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
}

pub async fn inbox(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(f): Query<Filter>,
) -> Response {
    let Some(v) = viewer(&st.settings, &st.sessions, &headers) else {
        return login_first(&headers, "/inbox");
    };
    let closed = f.gesloten.as_deref() == Some("1");
    let today = today();
    let queues = st.view.read(|s| {
        let Some(c) = s.contact(&v.contact) else {
            return Vec::new();
        };
        let inst_name = s
            .tasks
            .directory
            .institution_name(&c.institution)
            .unwrap_or(&c.institution)
            .to_owned();
        c.roles
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    inst_name.clone(),
                    queue(s, r, &c.institution, closed),
                )
            })
            .collect::<Vec<_>>()
    });
    st.health.metrics.inc(
        "schakel_monitor_pages_total",
        "page=\"inbox\",outcome=\"shown\"",
    );
    let mut main = format!(
        r#"<h1 class="utrecht-heading-1">{}</h1>
<p class="utrecht-paragraph">{} <a class="utrecht-link utrecht-link--html-a" href="{}">{}</a></p>"#,
        if closed {
            "Afgesloten signalen"
        } else {
            "Inbox"
        },
        if closed {
            "Signalen die zijn afgerond, vervallen of opgelost."
        } else {
            "Alles wat aan uw rollen is gericht, per rol en instelling. Termijn verstreken en geëscaleerd staan bovenaan."
        },
        if closed {
            "/inbox"
        } else {
            "/inbox?gesloten=1"
        },
        if closed {
            "Terug naar de open signalen"
        } else {
            "Toon afgesloten signalen"
        },
    );
    for (role, inst, items) in &queues {
        main.push_str(&format!(
            r#"<section class="schakel-queue" aria-labelledby="rol-{r}"><h2 class="utrecht-heading-2" id="rol-{r}">{} bij {}</h2>"#,
            esc(role),
            esc(inst),
            r = esc(role)
        ));
        if items.is_empty() {
            main.push_str(r#"<p class="utrecht-paragraph">Geen signalen.</p></section>"#);
            continue;
        }
        main.push_str(&format!(
            r#"<table class="utrecht-table utrecht-table--html-table"><caption class="utrecht-table__caption">{} signalen voor {}</caption><thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col">Signaal</th><th class="utrecht-table__header-cell" scope="col">Stand</th><th class="utrecht-table__header-cell" scope="col">Uiterlijk</th><th class="utrecht-table__header-cell" scope="col">Gesignaleerd</th></tr></thead><tbody class="utrecht-table__body">"#,
            items.len(),
            esc(role)
        ));
        for i in items {
            let mut extra = String::new();
            if let Some(since) = i.out_since {
                extra.push_str(&format!(
                    "<br>Thuis sinds {} ({} dagen)",
                    dutch_date(since),
                    (today - since).get_days()
                ));
            }
            if role == "doorbraak" {
                extra.push_str(&format!("<br>Verloop: {}", esc(&i.steps.join(" → "))));
            }
            let kind = if i.urgent {
                "danger"
            } else if closed {
                "neutral"
            } else {
                "warning"
            };
            main.push_str(&format!(
                r#"<tr class="utrecht-table__row"><td class="utrecht-table__cell"><a class="utrecht-link utrecht-link--html-a" href="/v1/signals/{id}">{title}</a>{extra}</td><td class="utrecht-table__cell">{state}</td><td class="utrecht-table__cell">{due}</td><td class="utrecht-table__cell">{fired}</td></tr>"#,
                id = esc(&i.signal_id),
                title = esc(&i.title),
                state = badge(kind, i.state),
                due = i.due.map_or("—".into(), dutch_date),
                fired = dutch_date(i.fired_on),
            ));
        }
        main.push_str("</tbody></table></section>");
    }
    if queues.is_empty() {
        main.push_str(
            r#"<p class="utrecht-paragraph">U staat niet (meer) in het adresboek van Schakel.</p>"#,
        );
    }
    let mut name = String::new();
    let w = who(&st, &v, &mut name);
    html(StatusCode::OK, page(st.theme(), "Inbox", Some(&w), &main))
}
