//! `GET /inbox`: everything addressed to the roles a contact holds, as one queue per role and
//! institution (work belongs to a role, not a person): overdue and escalated first, then open
//! tasks by due date, then notices; `?gesloten=1` lists the closed ones. No child data: the
//! signal's page shows that, audited.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::civil::Date;
use schakel_core::domain::handoff::{task_sides, Sides};
use schakel_core::domain::wording::dutch_date;
use serde::Deserialize;

use super::detail::possible;
use super::layout::{badge, button_form, esc, html, page, Who};
use super::{login_first, who};
use crate::auth::viewer;
use crate::view::{SignalView, State as MonitorState};
use crate::AppState;

#[derive(Deserialize)]
pub struct Filter {
    gesloten: Option<String>,
    /// one queue only, paged
    rol: Option<String>,
    pagina: Option<usize>,
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
    /// the answers the queue's role may give now (`acknowledge`, `complete`)
    pub actions: Vec<&'static str>,
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

/// Where a row stands in its queue: not urgent, not a task, due date, fired on.
pub(crate) type Order = (bool, bool, Date, Date);

/// How many rows of a queue the inbox shows at once.
pub const PAGE: usize = 50;

/// One page of a queue: its rows, and how many the queue holds in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueuePage {
    pub items: Vec<Item>,
    pub total: usize,
    /// the page shown, from 1
    pub page: usize,
}

/// Page `page` (from 1) of the queue of `role` at `institution`: open (or, `closed`, closed)
/// signals, urgent first, then tasks by due date, then notices. Only the rows of the page are
/// built; the rest is ordered by keys read in place.
pub fn queue(
    s: &MonitorState,
    role: &str,
    institution: &str,
    closed: bool,
    page: usize,
) -> QueuePage {
    let Some(ids) = s.queues.get(&(role.to_owned(), institution.to_owned())) else {
        return QueuePage {
            page: 1,
            ..QueuePage::default()
        };
    };
    let mut keyed: Vec<(Order, &str)> = ids
        .iter()
        .filter_map(|id| {
            let (order, is_closed) = place(s, id)?;
            (is_closed == closed).then_some((order, id.as_str()))
        })
        .collect();
    keyed.sort_unstable();
    let total = keyed.len();
    let page = page.clamp(1, total.div_ceil(PAGE).max(1));
    let items = keyed
        .iter()
        .skip((page - 1) * PAGE)
        .take(PAGE)
        .filter_map(|(_, id)| item(s, id, role))
        .collect();
    QueuePage { items, total, page }
}

/// Where signal `id` stands in a queue, and whether it is closed (resolved, completed or
/// cancelled).
pub(crate) fn place(s: &MonitorState, id: &str) -> Option<(Order, bool)> {
    let v = s.signals.get(id)?;
    let first = v.first()?;
    let closed = v.is_closed()
        || s.tasks
            .tasks
            .get(id)
            .is_some_and(|t| t.progress.is_closed());
    let due = v.last().and_then(|l| l.due_date).or(first.due_date);
    let order = (
        !v.is_urgent(),
        !first.task,
        due.unwrap_or(Date::MAX),
        first.fired_on,
    );
    Some((order, closed))
}

/// The row of signal `id`.
fn item(s: &MonitorState, id: &str, role: &str) -> Option<Item> {
    let v = s.signals.get(id)?;
    let first = v.first()?;
    let actions = match (s.tasks.tasks.get(id), task_sides(&first.rule)) {
        (Some(t), Some((sender, receiver))) if !v.is_closed() => {
            let sides = Sides::of(&[role.to_owned()], sender, receiver);
            possible(t.progress, sides)
                .into_iter()
                .filter(|a| *a != "cancel")
                .collect()
        }
        _ => Vec::new(),
    };
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
        signal_id: id.to_owned(),
        title: v.title(),
        task: first.task,
        urgent: v.is_urgent(),
        state: state_word(v, s, id),
        due: v.last().and_then(|l| l.due_date).or(first.due_date),
        fired_on: first.fired_on,
        out_since,
        steps: v.steps.iter().map(|x| x.step.clone()).collect(),
        actions,
    })
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
            .filter(|r| f.rol.as_deref().is_none_or(|only| only == r.as_str()))
            .map(|r| {
                let page = if f.rol.is_some() {
                    f.pagina.unwrap_or(1)
                } else {
                    1
                };
                let q = queue(s, r, &c.institution, closed, page);
                (r.clone(), inst_name.clone(), q)
            })
            .collect::<Vec<_>>()
    });
    st.health.metrics.inc(
        "schakel_monitor_pages_total",
        "page=\"inbox\",outcome=\"shown\"",
    );
    let mut name = String::new();
    let w = who(&st, &v, &mut name);
    html(
        StatusCode::OK,
        render(st.theme(), &queues, closed, today, &w),
    )
}

/// The queues of one contact: (role, institution's name, the page shown).
pub type Queues = Vec<(String, String, QueuePage)>;

/// The inbox page.
pub fn render(theme: &str, queues: &Queues, closed: bool, today: Date, w: &Who<'_>) -> String {
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
    for (role, inst, q) in queues {
        let items = &q.items;
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
            r#"<table class="utrecht-table utrecht-table--html-table"><caption class="utrecht-table__caption">{} signalen voor {}{}</caption><thead class="utrecht-table__header"><tr class="utrecht-table__row"><th class="utrecht-table__header-cell" scope="col">Signaal</th><th class="utrecht-table__header-cell" scope="col">Stand</th><th class="utrecht-table__header-cell" scope="col">Uiterlijk</th><th class="utrecht-table__header-cell" scope="col">Gesignaleerd</th></tr></thead><tbody class="utrecht-table__body">"#,
            q.total,
            esc(role),
            if q.total > items.len() {
                format!(
                    " (nummer {} tot en met {})",
                    (q.page - 1) * PAGE + 1,
                    (q.page - 1) * PAGE + items.len()
                )
            } else {
                String::new()
            }
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
            for a in &i.actions {
                let label = match *a {
                    "acknowledge" => "Ontvangst bevestigen",
                    _ => "Overdracht afgerond",
                };
                extra.push_str("<br>");
                extra.push_str(&button_form(
                    &format!("/v1/signals/{}/{a}", i.signal_id),
                    w.csrf,
                    label,
                    false,
                    &[("terug", "/inbox")],
                ));
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
        main.push_str("</tbody></table>");
        if q.total > items.len() {
            let gesloten = if closed { "&amp;gesloten=1" } else { "" };
            let link = |page: usize, text: &str| {
                format!(
                    r#"<a class="utrecht-link utrecht-link--html-a" href="/inbox?rol={}{gesloten}&amp;pagina={page}">{text}</a>"#,
                    esc(role)
                )
            };
            let mut nav = Vec::new();
            if q.page > 1 {
                nav.push(link(q.page - 1, "Vorige"));
            }
            if q.page * PAGE < q.total {
                nav.push(link(q.page + 1, &format!("Volgende {PAGE}")));
            }
            main.push_str(&format!(
                r#"<nav aria-label="Pagina's van {}"><p class="utrecht-paragraph">{}</p></nav>"#,
                esc(role),
                nav.join(" · ")
            ));
        }
        main.push_str("</section>");
    }
    if queues.is_empty() {
        main.push_str(
            r#"<p class="utrecht-paragraph">U staat niet (meer) in het adresboek van Schakel.</p>"#,
        );
    }
    page(theme, "Inbox", Some(w), &main)
}

#[cfg(test)]
mod tests {
    use super::*;
    use schakel_core::domain::catalogue::EventType;
    use schakel_core::domain::events::SignalEvent;
    use schakel_core::domain::ids::ChildKey;

    fn signal(i: usize, step: &str, due_day: i8) -> SignalEvent {
        SignalEvent {
            id: format!("s{i}-{step}"),
            kind: EventType::parse(&format!("nl.schakel.signal.{step}.v1")).unwrap(),
            step: step.into(),
            signal_id: format!("s{i:03}"),
            rule: "R3b".into(),
            child_key: ChildKey::parse(&format!("{i:064x}")).unwrap(),
            institution: Some("gemeente:0392".into()),
            municipality: Some("0392".into()),
            due_date: Some(jiff::civil::date(2026, 7, due_day)),
            recipients: vec!["jeugdteam".into(), "volwassenen".into()],
            task: true,
            fired_on: jiff::civil::date(2026, 1, 12),
            birth_date_uncertain: false,
            facts: vec![],
            policy: Default::default(),
            routes: Default::default(),
            residence_derived_from: None,
        }
    }

    #[test]
    fn a_queue_is_paged_with_the_overdue_first_then_by_due_date() {
        let mut s = MonitorState::default();
        for i in 0..120 {
            s.fold_signal(signal(i, "opened", 1 + (i % 28) as i8));
        }
        s.fold_signal(signal(119, "overdue", 28));
        let first = queue(&s, "jeugdteam", "gemeente:0392", false, 1);
        assert_eq!((first.total, first.items.len(), first.page), (120, PAGE, 1));
        assert_eq!(first.items[0].signal_id, "s119", "overdue on top");
        assert!(first.items[1..].windows(2).all(|w| w[0].due <= w[1].due));
        let last = queue(&s, "jeugdteam", "gemeente:0392", false, 9);
        assert_eq!(
            (last.items.len(), last.page),
            (20, 3),
            "past the end: the last page"
        );
        assert!(queue(&s, "jeugdteam", "gemeente:0392", true, 1)
            .items
            .is_empty());
        assert_eq!(queue(&s, "ib", "gemeente:0392", false, 1).total, 0);
    }
}
