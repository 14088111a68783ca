//! `GET /v1/signals`: the signals addressed to the roles a contact holds, as JSON, for a
//! system that works the queue with its contact token (or a person's session). Filters:
//! `status` (`open`, default; `closed`; `all`), `rule`, `institution`, `municipality`,
//! `dueBefore`, `dueAfter` (dates, both included), `page` (from 1; 50 a page). No child
//! data: the signal's own page (`dataref`) shows that, audited. Order as the inbox: urgent
//! first, then tasks by due date, then notices.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jiff::civil::Date;
use schakel_core::domain::handoff::{task_sides, Sides};
use serde::{Deserialize, Serialize};

use super::detail::{possible, state_of};
use super::inbox::{place, Order, PAGE};
use super::layout::secure_headers;
use super::login_first;
use crate::auth::viewer;
use crate::view::State as MonitorState;
use crate::AppState;

/// The query, every value as text: a wrong one is named in the answer, not refused by the
/// framework.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    status: Option<String>,
    rule: Option<String>,
    institution: Option<String>,
    municipality: Option<String>,
    due_before: Option<String>,
    due_after: Option<String>,
    page: Option<String>,
}

/// The filters, checked.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// None: open and closed
    closed: Option<bool>,
    rule: Option<String>,
    institution: Option<String>,
    municipality: Option<String>,
    due_before: Option<Date>,
    due_after: Option<Date>,
    page: usize,
}

impl ListQuery {
    /// The filters, or every wrong field with what is wrong with it.
    pub fn check(&self) -> Result<Filters, Vec<(&'static str, String)>> {
        let mut errors = Vec::new();
        let closed = match self.status.as_deref() {
            None | Some("open") => Some(false),
            Some("closed") => Some(true),
            Some("all") => None,
            Some(_) => {
                errors.push(("status", "must be open, closed or all".to_owned()));
                None
            }
        };
        let text = |v: &Option<String>, field: &'static str, errors: &mut Vec<_>| {
            let v = v.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
            if v.len() > 64 || !v.bytes().all(|b| b.is_ascii_graphic()) {
                errors.push((field, "must be at most 64 visible characters".to_owned()));
                return None;
            }
            Some(v.to_owned())
        };
        let rule = text(&self.rule, "rule", &mut errors);
        let institution = text(&self.institution, "institution", &mut errors);
        let municipality = self.municipality.as_deref().filter(|s| !s.is_empty());
        if municipality.is_some_and(|m| m.len() != 4 || !m.bytes().all(|b| b.is_ascii_digit())) {
            errors.push((
                "municipality",
                "must be a CBS code of four digits".to_owned(),
            ));
        }
        let date = |v: &Option<String>, field: &'static str, errors: &mut Vec<_>| {
            let v = v.as_deref().filter(|s| !s.is_empty())?;
            match v.parse::<Date>() {
                Ok(d) if (1900..=2199).contains(&d.year()) => Some(d),
                _ => {
                    errors.push((field, "must be a date (YYYY-MM-DD) in 1900-2199".to_owned()));
                    None
                }
            }
        };
        let due_before = date(&self.due_before, "dueBefore", &mut errors);
        let due_after = date(&self.due_after, "dueAfter", &mut errors);
        let page = match self.page.as_deref().filter(|s| !s.is_empty()) {
            None => 1,
            Some(p) => match p.parse::<usize>() {
                Ok(n) if (1..=100_000).contains(&n) => n,
                _ => {
                    errors.push(("page", "must be a whole number from 1".to_owned()));
                    1
                }
            },
        };
        if errors.is_empty() {
            Ok(Filters {
                closed,
                rule,
                institution,
                municipality: municipality.map(str::to_owned),
                due_before,
                due_after,
                page,
            })
        } else {
            Err(errors)
        }
    }
}

/// One signal in the list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub signal_id: String,
    pub rule: String,
    pub title: String,
    /// the newest step
    pub step: String,
    /// `open`, `acknowledged`, `completed`, `cancelled`, `overdue`, `escalated`, `resolved`
    pub state: &'static str,
    pub task: bool,
    pub urgent: bool,
    pub fired_on: Date,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_date: Option<Date>,
    pub institution: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub municipality: Option<String>,
    /// the contact's roles the signal is addressed to
    pub your_roles: Vec<String>,
    /// the answers the contact may give now: `acknowledge`, `complete`, `cancel`
    pub actions: Vec<&'static str>,
    /// the signal's page (HTML after a login, JSON with a token)
    pub dataref: String,
}

/// One page of the list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    pub signals: Vec<Row>,
    pub total: usize,
    pub page: usize,
    pub page_size: usize,
}

/// The page of `contact`'s signals that `f` asks for.
pub fn listing(s: &MonitorState, contact: &str, f: &Filters, base: &str) -> Listing {
    let Some(c) = s.contact(contact) else {
        return Listing {
            signals: Vec::new(),
            total: 0,
            page: 1,
            page_size: PAGE,
        };
    };
    // every signal in one of the contact's queues, with the roles it is there for
    let mut roles_of: BTreeMap<&str, (Vec<String>, &str)> = BTreeMap::new();
    for (role, inst) in c.roles.iter().map(|r| (r, c.institution.as_str())) {
        if f.institution.as_deref().is_some_and(|i| i != inst) {
            continue;
        }
        let Some(ids) = s.queues.get(&(role.clone(), inst.to_owned())) else {
            continue;
        };
        for id in ids {
            roles_of
                .entry(id.as_str())
                .or_insert_with(|| (Vec::new(), inst))
                .0
                .push(role.clone());
        }
    }
    let mut keyed: Vec<(Order, &str)> = roles_of
        .keys()
        .filter_map(|id| {
            let (order, closed) = place(s, id)?;
            let first = s.signals.get(*id)?.first()?;
            let due = order.2;
            let keep = f.closed.is_none_or(|want| want == closed)
                && f.rule.as_deref().is_none_or(|r| r == first.rule)
                && f.municipality
                    .as_deref()
                    .is_none_or(|m| first.municipality.as_deref() == Some(m))
                && f.due_before.is_none_or(|d| due != Date::MAX && due <= d)
                && f.due_after.is_none_or(|d| due != Date::MAX && due >= d);
            keep.then_some((order, *id))
        })
        .collect();
    keyed.sort_unstable();
    let total = keyed.len();
    let page = f.page.clamp(1, total.div_ceil(PAGE).max(1));
    let base = base.trim_end_matches('/');
    let signals = keyed
        .iter()
        .skip((page - 1) * PAGE)
        .take(PAGE)
        .filter_map(|(_, id)| {
            let v = s.signals.get(*id)?;
            let first = v.first()?;
            let last = v.last()?;
            let (roles, inst) = roles_of.get(id)?;
            let progress = s.tasks.tasks.get(*id).map(|t| t.progress);
            let actions = match (progress, task_sides(&first.rule)) {
                (Some(p), Some((sender, receiver))) if !v.is_closed() => {
                    possible(p, Sides::of(roles, sender, receiver))
                }
                _ => Vec::new(),
            };
            Some(Row {
                signal_id: (*id).to_owned(),
                rule: first.rule.clone(),
                title: v.title(),
                step: last.step.clone(),
                state: state_of(v, progress).0,
                task: first.task,
                urgent: v.is_urgent(),
                fired_on: first.fired_on,
                due_date: last.due_date.or(first.due_date),
                institution: (*inst).to_owned(),
                municipality: first.municipality.clone(),
                your_roles: roles.clone(),
                actions,
                dataref: format!("{base}/v1/signals/{id}"),
            })
        })
        .collect();
    Listing {
        signals,
        total,
        page,
        page_size: PAGE,
    }
}

/// `GET /v1/signals`.
pub async fn list(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let Some(v) = viewer(&st.settings, &st.sessions, &headers) else {
        return login_first(&headers, "/inbox");
    };
    let f = match q.check() {
        Ok(f) => f,
        Err(errors) => return invalid(&errors),
    };
    let base = st.settings.common.region.api_base_url.clone();
    let listing = st.view.read(|s| listing(s, &v.contact, &f, &base));
    st.health.metrics.inc(
        "schakel_monitor_pages_total",
        "page=\"signals\",outcome=\"shown\"",
    );
    let mut r = (StatusCode::OK, Json(listing)).into_response();
    secure_headers(r.headers_mut());
    r
}

/// 400 with a problem document naming every wrong field.
fn invalid(errors: &[(&'static str, String)]) -> Response {
    let mut r = (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({
            "type": "urn:nl:schakel:problem:400",
            "title": "ongeldige filters",
            "status": 400,
            "detail": errors.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("; "),
            "errors": errors.iter().map(|(f, m)| serde_json::json!({"field": f, "message": m})).collect::<Vec<_>>(),
        })),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    secure_headers(r.headers_mut());
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wrong_filter_is_named() {
        let q = ListQuery {
            status: Some("half".into()),
            municipality: Some("392".into()),
            due_before: Some("2026-13-01".into()),
            due_after: Some("-009999-01-01".into()),
            page: Some("0".into()),
            ..ListQuery::default()
        };
        let fields: Vec<&str> = q.check().unwrap_err().iter().map(|e| e.0).collect();
        assert_eq!(
            fields,
            ["status", "municipality", "dueBefore", "dueAfter", "page"]
        );
        let ok = ListQuery {
            status: Some("all".into()),
            rule: Some("R3b".into()),
            due_before: Some("2026-02-01".into()),
            ..ListQuery::default()
        }
        .check()
        .unwrap();
        assert_eq!(ok.closed, None);
        assert_eq!(ok.rule.as_deref(), Some("R3b"));
        assert_eq!(ok.page, 1);
    }
}
